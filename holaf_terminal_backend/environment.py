"""What the terminal starts: which shell, in which folder, with which environment.

Pure functions over plain values (the environment dict, ``sys.prefix`` …) so
they are tested without spawning anything. The goal is that ``python`` and
``pip`` typed in the terminal are ComfyUI's own: a venv's ``bin``/``Scripts``
comes first on ``PATH``; a conda env is activated (variables + ``PATH``, and a
real ``conda activate`` for bash); a portable interpreter's folder is put on
``PATH`` when it is not there yet.

For bash, a small rc file sources the user's ``~/.bashrc`` first and then puts
ComfyUI's environment back in front, because a ``.bashrc`` that runs
``conda activate base`` would otherwise silently shadow it.
"""
from __future__ import annotations

import os
import shlex
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path, PureWindowsPath

#: Login "shells" of service accounts that must never be offered as a terminal.
NOT_A_SHELL = frozenset({"nologin", "false", "true"})
STALE_CONDA_VARS = ("CONDA_PREFIX", "CONDA_DEFAULT_ENV", "CONDA_PROMPT_MODIFIER", "CONDA_SHLVL")
UTF8_FALLBACK_LINUX = "C.UTF-8"
UTF8_FALLBACK_MACOS = "en_US.UTF-8"

BASH_RC = r"""# Written by Holaf Utilities for its terminal; rewritten at every start, do not edit.
# Your own ~/.bashrc runs first, then ComfyUI's Python environment is put back in front.
if [ -f "$HOME/.bashrc" ]; then . "$HOME/.bashrc"; fi
if [ -n "$HOLAF_CONDA_PREFIX" ] && [ "$CONDA_PREFIX" != "$HOLAF_CONDA_PREFIX" ]; then
  if ! declare -F conda >/dev/null 2>&1 && [ -n "$CONDA_EXE" ] && [ -x "$CONDA_EXE" ]; then
    eval "$("$CONDA_EXE" shell.bash hook 2>/dev/null)"
  fi
  if declare -F conda >/dev/null 2>&1; then conda activate "$HOLAF_CONDA_PREFIX" >/dev/null 2>&1; fi
fi
if [ -n "$HOLAF_PATH_PREFIX" ]; then PATH="$HOLAF_PATH_PREFIX:$PATH"; export PATH; fi
if [ -n "$HOLAF_VIRTUAL_ENV" ]; then VIRTUAL_ENV="$HOLAF_VIRTUAL_ENV"; export VIRTUAL_ENV; fi
hash -r 2>/dev/null
"""


class ShellNotFound(RuntimeError):
    """The configured or default shell does not exist; the message says what to fix."""


@dataclass
class PythonEnv:
    """How ComfyUI's interpreter is installed, and what that means for the shell."""

    kind: str  # "venv" | "conda" | "system"
    prefix: str
    path_entries: list[str] = field(default_factory=list)
    name: str = ""


@dataclass
class LaunchSpec:
    """Everything needed to start one shell."""

    argv: list[str]
    cwd: str
    env: dict[str, str]
    python: PythonEnv


# --------------------------------------------------------------------------- python environment
def detect_python_env(prefix: str, base_prefix: str, executable: str, *, windows: bool) -> PythonEnv:
    """Classify the interpreter ComfyUI runs on and list the folders to put first on ``PATH``."""
    root = Path(prefix)
    if (root / "conda-meta").is_dir():
        name = root.name if root.parent.name == "envs" else "base"
        if windows:
            entries = [root, root / "Library" / "mingw-w64" / "bin", root / "Library" / "usr" / "bin",
                       root / "Library" / "bin", root / "Scripts", root / "bin"]
        else:
            entries = [root / "bin"]
        return PythonEnv("conda", prefix, [str(p) for p in entries], name)
    if prefix != base_prefix:
        scripts = root / ("Scripts" if windows else "bin")
        return PythonEnv("venv", prefix, [str(scripts)], root.name)
    folder = Path(executable).parent if executable else None
    entries = []
    if folder is not None and str(folder) not in ("", "."):
        entries.append(str(folder))
        if windows and (folder / "Scripts").is_dir():
            entries.append(str(folder / "Scripts"))
    return PythonEnv("system", prefix, entries)


def _same_dir(a: str, b: str) -> bool:
    return os.path.normcase(os.path.normpath(a)) == os.path.normcase(os.path.normpath(b))


def _prepend_path(current: str, entries: list[str], sep: str) -> str:
    """``entries`` first, each once; the rest of ``PATH`` keeps its order."""
    kept = [p for p in current.split(sep) if p and not any(_same_dir(p, e) for e in entries)]
    return sep.join([*entries, *kept])


def _find_conda_exe(prefix: Path, windows: bool) -> str | None:
    names = ["conda.exe", "conda.bat"] if windows else ["conda"]
    roots = [prefix, prefix.parent.parent] if prefix.parent.name == "envs" else [prefix]
    for root in roots:
        for sub in (("Scripts",) if windows else ("bin", "condabin")):
            for name in names:
                candidate = root / sub / name
                if candidate.is_file():
                    return str(candidate)
    return None


def _is_utf8(value: str | None) -> bool:
    return bool(value) and ("utf-8" in value.lower() or "utf8" in value.lower())


def shell_environment(
    base: dict[str, str],
    python: PythonEnv,
    *,
    windows: bool,
    platform: str = sys.platform,
) -> dict[str, str]:
    """The shell's environment: the server's own, with ComfyUI's Python first and a UTF-8 xterm."""
    env = dict(base)
    path_key = next((k for k in env if k.upper() == "PATH"), "PATH") if windows else "PATH"
    sep = ";" if windows else ":"
    current_path = env.get(path_key, "")
    entries = list(python.path_entries)
    if python.kind == "system":
        # Only add the interpreter's folder when it is missing: never reorder a system PATH.
        entries = [e for e in entries if not any(_same_dir(p, e) for p in current_path.split(sep) if p)]
    if entries:
        env[path_key] = _prepend_path(current_path, entries, sep)
    if python.kind == "venv":
        env["VIRTUAL_ENV"] = python.prefix
        env["VIRTUAL_ENV_PROMPT"] = python.name
        env.pop("PYTHONHOME", None)
        env["HOLAF_VIRTUAL_ENV"] = python.prefix
    elif python.kind == "conda":
        env.pop("PYTHONHOME", None)
        env.pop("VIRTUAL_ENV", None)
        env["CONDA_PREFIX"] = python.prefix
        env["CONDA_DEFAULT_ENV"] = python.name
        env["CONDA_PROMPT_MODIFIER"] = f"({python.name}) "
        env["CONDA_SHLVL"] = "1"
        env["HOLAF_CONDA_PREFIX"] = python.prefix
        conda_exe = env.get("CONDA_EXE") or _find_conda_exe(Path(python.prefix), windows)
        if conda_exe:
            env["CONDA_EXE"] = conda_exe
    else:
        # ComfyUI is on a plain interpreter: conda variables inherited from the launching shell would lie.
        for key in (*STALE_CONDA_VARS, "VIRTUAL_ENV"):
            env.pop(key, None)
    if entries and python.kind != "system":
        env["HOLAF_PATH_PREFIX"] = sep.join(entries)
    env["HOLAF_TERMINAL"] = "1"
    # Stale sizes from the server's own terminal would override the PTY's real size.
    env.pop("COLUMNS", None)
    env.pop("LINES", None)
    if not windows:
        env["TERM"] = "xterm-256color"
        env["COLORTERM"] = "truecolor"
        if not _is_utf8(env.get("LC_ALL") or env.get("LC_CTYPE") or env.get("LANG")):
            fallback = UTF8_FALLBACK_MACOS if platform == "darwin" else UTF8_FALLBACK_LINUX
            if env.get("LC_ALL"):
                env["LC_ALL"] = fallback
            else:
                env["LC_CTYPE"] = fallback
                env.setdefault("LANG", fallback)
    else:
        env.setdefault("PYTHONIOENCODING", "utf-8")
    return env


# --------------------------------------------------------------------------- shell
def split_command(command: str, *, windows: bool) -> list[str]:
    """``shell_command`` as argv. On Windows quotes are stripped but backslashes kept."""
    if windows:
        parts = shlex.split(command, posix=False)
        return [p[1:-1] if len(p) >= 2 and p[0] == p[-1] == '"' else p for p in parts]
    return shlex.split(command)


def _login_shell() -> str | None:
    try:
        import pwd  # POSIX only

        return pwd.getpwuid(os.getuid()).pw_shell or None
    except (ImportError, KeyError, OSError):
        return None


def choose_shell(configured: str, env: dict[str, str], *, windows: bool, rcfile: Path | None = None) -> list[str]:
    """argv of the shell to start: ``[Terminal] shell_command``, else a sensible default.

    Default on Linux/macOS: ``$SHELL``, the account's login shell, ``bash``, ``sh``
    (skipping ``nologin``-style service shells). On Windows: ``%COMSPEC%`` (cmd.exe).
    A bare ``bash`` gets the rc file that restores ComfyUI's environment.
    """
    path = next((v for k, v in env.items() if k.upper() == "PATH"), None) if windows else env.get("PATH")
    if configured and configured.strip():
        try:
            argv = split_command(configured.strip(), windows=windows)
        except ValueError as exc:
            raise ShellNotFound(f"[Terminal] shell_command cannot be parsed: {exc}") from None
        resolved = shutil.which(argv[0], path=path)
        if not resolved:
            raise ShellNotFound(f"[Terminal] shell_command: {argv[0]!r} was not found (check config.ini)")
        argv[0] = resolved
    elif windows:
        comspec = env.get("COMSPEC") or env.get("ComSpec")
        resolved = comspec if comspec and Path(comspec).is_file() else shutil.which("cmd.exe", path=path)
        if not resolved:
            raise ShellNotFound("no shell found: set [Terminal] shell_command in config.ini (e.g. powershell.exe)")
        argv = [resolved]
    else:
        argv = []
        for candidate in (env.get("SHELL"), _login_shell(), "bash", "sh"):
            if not candidate or Path(candidate).name in NOT_A_SHELL:
                continue
            resolved = shutil.which(candidate, path=path)
            if resolved:
                argv = [resolved]
                break
        if not argv:
            raise ShellNotFound("no shell found (tried $SHELL, the login shell, bash and sh); set [Terminal] shell_command")
    if not windows and len(argv) == 1 and Path(argv[0]).name == "bash" and rcfile is not None:
        argv += ["--rcfile", str(rcfile)]
    return argv


def shell_name(argv: list[str]) -> str:
    return PureWindowsPath(argv[0]).name if "\\" in argv[0] else Path(argv[0]).name


def working_directory(comfy_root: Path | None) -> str:
    """ComfyUI's folder, or (standalone / missing) the server's current directory."""
    if comfy_root is not None and Path(comfy_root).is_dir():
        return str(comfy_root)
    return os.getcwd()


def build_launch_spec(
    *,
    configured_shell: str,
    comfy_root: Path | None,
    rc_dir: Path | None,
    base_env: dict[str, str] | None = None,
) -> LaunchSpec:
    """Shell, folder and environment for a new session (blocking: stats files, writes the rc file)."""
    windows = os.name == "nt"
    python = detect_python_env(sys.prefix, sys.base_prefix, sys.executable, windows=windows)
    env = shell_environment(dict(os.environ if base_env is None else base_env), python, windows=windows)
    rcfile = None
    if rc_dir is not None and not windows:
        rcfile = Path(rc_dir) / "bashrc"
        try:
            rcfile.parent.mkdir(parents=True, exist_ok=True)
            if not rcfile.is_file() or rcfile.read_text(encoding="utf-8") != BASH_RC:
                rcfile.write_text(BASH_RC, encoding="utf-8")
        except OSError:
            rcfile = None  # read-only data dir: bash starts with the user's own rc only
    argv = choose_shell(configured_shell, env, windows=windows, rcfile=rcfile)
    return LaunchSpec(argv=argv, cwd=working_directory(comfy_root), env=env, python=python)
