"""What the terminal starts (shell, folder, environment) and its replay ring, without spawning a shell."""
from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from holaf_utilities.holaf_terminal_backend.environment import (
    BASH_RC,
    ShellNotFound,
    build_launch_spec,
    choose_shell,
    detect_python_env,
    shell_environment,
    split_command,
    working_directory,
)
from holaf_utilities.holaf_terminal_backend.session import ReplayBuffer


def _executable(path: Path, body: str = "#!/bin/sh\n") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(body)
    path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return path


# -- python environment --------------------------------------------------------------------
def test_a_venv_puts_its_bin_first_and_sets_virtual_env(tmp_path):
    venv = tmp_path / "venv"
    python = detect_python_env(str(venv), "/usr", str(venv / "bin" / "python"), windows=False)
    assert python.kind == "venv" and python.path_entries == [str(venv / "bin")]
    env = shell_environment({"PATH": f"/usr/bin:{venv / 'bin'}:/bin", "PYTHONHOME": "/x"}, python, windows=False)
    assert env["PATH"] == f"{venv / 'bin'}:/usr/bin:/bin"  # moved to the front, not duplicated
    assert env["VIRTUAL_ENV"] == str(venv) and "PYTHONHOME" not in env
    assert env["HOLAF_PATH_PREFIX"] == str(venv / "bin")


def test_a_windows_venv_uses_scripts_and_keeps_the_path_key_spelling(tmp_path):
    venv = tmp_path / "venv"
    python = detect_python_env(str(venv), "C:\\Python311", "", windows=True)
    assert python.path_entries == [str(venv / "Scripts")]
    env = shell_environment({"Path": "C:\\Windows;C:\\Windows\\System32"}, python, windows=True)
    assert env["Path"].split(";")[0] == str(venv / "Scripts") and "PATH" not in env
    assert "TERM" not in env and env["PYTHONIOENCODING"] == "utf-8"


def test_a_conda_env_is_activated_by_name_with_its_conda_executable(tmp_path):
    root = tmp_path / "miniconda3"
    env_prefix = root / "envs" / "comfy"
    (env_prefix / "conda-meta").mkdir(parents=True)
    conda = _executable(root / "bin" / "conda")
    python = detect_python_env(str(env_prefix), str(env_prefix), str(env_prefix / "bin" / "python"), windows=False)
    assert (python.kind, python.name) == ("conda", "comfy")
    env = shell_environment({"PATH": "/usr/bin", "VIRTUAL_ENV": "/old"}, python, windows=False)
    assert env["PATH"] == f"{env_prefix / 'bin'}:/usr/bin"
    assert env["CONDA_PREFIX"] == str(env_prefix) and env["CONDA_DEFAULT_ENV"] == "comfy"
    assert env["CONDA_PROMPT_MODIFIER"] == "(comfy) " and env["CONDA_SHLVL"] == "1"
    assert env["CONDA_EXE"] == str(conda) and env["HOLAF_CONDA_PREFIX"] == str(env_prefix)
    assert "VIRTUAL_ENV" not in env


def test_the_conda_base_env_on_windows_gets_all_its_library_folders(tmp_path):
    base = tmp_path / "Miniconda3"
    (base / "conda-meta").mkdir(parents=True)
    python = detect_python_env(str(base), str(base), str(base / "python.exe"), windows=True)
    assert python.name == "base"
    assert python.path_entries[:4] == [str(base), str(base / "Library" / "mingw-w64" / "bin"),
                                       str(base / "Library" / "usr" / "bin"), str(base / "Library" / "bin")]
    assert str(base / "Scripts") in python.path_entries


def test_a_portable_interpreter_folder_is_added_only_when_missing(tmp_path):
    embedded = tmp_path / "python_embeded"
    _executable(embedded / "python.exe")
    python = detect_python_env(str(embedded), str(embedded), str(embedded / "python.exe"), windows=True)
    assert python.kind == "system"
    env = shell_environment({"PATH": "C:\\Windows"}, python, windows=True)
    assert env["PATH"] == f"{embedded};C:\\Windows"
    system = detect_python_env("/usr", "/usr", "/usr/bin/python3", windows=False)
    same = shell_environment({"PATH": "/usr/local/bin:/usr/bin:/bin"}, system, windows=False)
    assert same["PATH"] == "/usr/local/bin:/usr/bin:/bin"  # a system PATH is never reordered


def test_stale_conda_variables_are_dropped_for_a_plain_interpreter():
    python = detect_python_env("/usr", "/usr", "/usr/bin/python3", windows=False)
    env = shell_environment({"PATH": "/usr/bin", "CONDA_PREFIX": "/opt/conda", "CONDA_DEFAULT_ENV": "base",
                             "CONDA_SHLVL": "1", "CONDA_PROMPT_MODIFIER": "(base) "}, python, windows=False)
    assert not any(key.startswith("CONDA_") for key in env)


@pytest.mark.parametrize(
    "given, platform, expected",
    [
        ({"LANG": "en_US.UTF-8"}, "linux", {"LANG": "en_US.UTF-8"}),
        ({"LANG": "fr_FR.utf8"}, "linux", {"LANG": "fr_FR.utf8"}),
        ({}, "linux", {"LANG": "C.UTF-8", "LC_CTYPE": "C.UTF-8"}),
        ({"LANG": "C"}, "linux", {"LANG": "C", "LC_CTYPE": "C.UTF-8"}),
        ({"LANG": "en_US.UTF-8", "LC_ALL": "C"}, "linux", {"LC_ALL": "C.UTF-8"}),
        ({}, "darwin", {"LANG": "en_US.UTF-8", "LC_CTYPE": "en_US.UTF-8"}),
    ],
)
def test_the_shell_always_gets_a_utf8_locale(given, platform, expected):
    python = detect_python_env("/usr", "/usr", "/usr/bin/python3", windows=False)
    env = shell_environment({"PATH": "/usr/bin", **given}, python, windows=False, platform=platform)
    for key, value in expected.items():
        assert env[key] == value


def test_the_terminal_type_is_xterm_256color_and_stale_sizes_are_removed():
    python = detect_python_env("/usr", "/usr", "/usr/bin/python3", windows=False)
    env = shell_environment({"PATH": "/usr/bin", "TERM": "dumb", "COLUMNS": "80", "LINES": "24"}, python, windows=False)
    assert env["TERM"] == "xterm-256color" and env["COLORTERM"] == "truecolor"
    assert "COLUMNS" not in env and "LINES" not in env and env["HOLAF_TERMINAL"] == "1"


# -- shell choice ----------------------------------------------------------------------------
def test_a_configured_shell_command_keeps_its_arguments(tmp_path):
    fish = _executable(tmp_path / "bin" / "fish")
    argv = choose_shell("fish --private -l", {"PATH": str(tmp_path / "bin")}, windows=False, rcfile=tmp_path / "rc")
    assert argv == [str(fish), "--private", "-l"]


def test_a_missing_configured_shell_is_a_clear_error(tmp_path):
    with pytest.raises(ShellNotFound, match="not found"):
        choose_shell("/nowhere/zsh", {"PATH": str(tmp_path)}, windows=False)
    with pytest.raises(ShellNotFound, match="cannot be parsed"):
        choose_shell("bash -c 'unterminated", {"PATH": str(tmp_path)}, windows=False)


def test_the_default_skips_service_account_shells_and_gives_bash_its_rc_file(tmp_path):
    bindir = tmp_path / "bin"
    bash = _executable(bindir / "bash")
    _executable(bindir / "nologin")
    env = {"PATH": str(bindir), "SHELL": str(bindir / "nologin")}
    argv = choose_shell("", env, windows=False, rcfile=tmp_path / "bashrc")
    if argv[0] == str(bash):
        assert argv == [str(bash), "--rcfile", str(tmp_path / "bashrc")]
    else:  # the account's login shell (from the password database) came first
        assert Path(argv[0]).name not in ("nologin", "false")


def test_a_non_bash_default_shell_gets_no_rc_file(tmp_path):
    zsh = _executable(tmp_path / "bin" / "zsh")
    argv = choose_shell("", {"PATH": str(tmp_path / "bin"), "SHELL": str(zsh)}, windows=False, rcfile=tmp_path / "rc")
    assert argv == [str(zsh)]


def test_windows_commands_keep_backslashes_and_lose_quotes():
    assert split_command('"C:\\Program Files\\PowerShell\\7\\pwsh.exe" -NoLogo', windows=True) == [
        "C:\\Program Files\\PowerShell\\7\\pwsh.exe", "-NoLogo"]
    assert split_command("cmd.exe /K echo hi", windows=True) == ["cmd.exe", "/K", "echo", "hi"]


def test_windows_defaults_to_comspec(tmp_path):
    cmd = _executable(tmp_path / "cmd.exe")
    assert choose_shell("", {"PATH": "", "COMSPEC": str(cmd)}, windows=True) == [str(cmd)]


def test_the_working_directory_is_comfyui_or_the_current_folder(tmp_path):
    assert working_directory(tmp_path) == str(tmp_path)
    assert working_directory(None) == os.getcwd()
    assert working_directory(tmp_path / "missing") == os.getcwd()


@pytest.mark.skipif(os.name == "nt", reason="bash rc file is POSIX only")
def test_the_launch_spec_writes_the_bash_rc_file_and_reuses_it(tmp_path):
    bindir = tmp_path / "bin"
    bash = _executable(bindir / "bash")
    base = {"PATH": str(bindir), "SHELL": str(bash), "HOME": str(tmp_path)}
    spec = build_launch_spec(configured_shell="", comfy_root=tmp_path, rc_dir=tmp_path / "rc", base_env=base)
    rc = tmp_path / "rc" / "bashrc"
    assert rc.read_text() == BASH_RC
    if spec.argv[0] == str(bash):
        assert spec.argv[1:] == ["--rcfile", str(rc)]
    assert spec.cwd == str(tmp_path) and spec.env["TERM"] == "xterm-256color"
    mtime = rc.stat().st_mtime_ns
    build_launch_spec(configured_shell="", comfy_root=tmp_path, rc_dir=tmp_path / "rc", base_env=base)
    assert rc.stat().st_mtime_ns == mtime  # unchanged content is not rewritten


# -- replay ring -------------------------------------------------------------------------------
def test_the_replay_keeps_only_the_most_recent_bytes():
    ring = ReplayBuffer(100)
    for i in range(50):
        ring.append(f"{i:03d}|".encode())
    data = ring.snapshot()
    assert ring.size == len(data) <= 100
    assert data.endswith(b"049|") and b"000|" not in data


def test_the_replay_starts_on_a_line_boundary_when_one_is_near():
    ring = ReplayBuffer(1000)
    ring.append(b"".join(b"line %04d\n" % i for i in range(300)))
    data = ring.snapshot()
    assert data.startswith(b"line ") and data.endswith(b"line 0299\n")
    assert len(data) <= 1000


def test_the_replay_is_sent_in_bounded_frames():
    ring = ReplayBuffer(10_000)
    ring.append(b"a" * 7000)
    ring.append(b"b" * 2000)
    frames = list(ring.chunks(max_size=3000))
    assert all(len(f) <= 3000 for f in frames) and b"".join(frames) == ring.snapshot()
