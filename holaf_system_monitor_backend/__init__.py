"""Parts of the System Monitor: host readings, GPU backends, history rings. ``holaf_system_monitor`` wires them to the socket."""
