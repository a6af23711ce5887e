"""Parts of the Terminal: shell environment, PTY processes, sessions. ``holaf_terminal`` wires them to routes."""
