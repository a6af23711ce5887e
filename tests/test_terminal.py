"""Terminal over a real aiohttp server and a real PTY: security gates, protocol, sessions, cleanup."""
from __future__ import annotations

import asyncio
import os
import re
import sys
import time

import aiohttp
import psutil
import pytest
from aiohttp.test_utils import TestServer

from conftest import TEST_PASSWORD
from holaf_utilities import holaf_app
from terminal_helpers import Term, plain_shell_settings, same_origin, token

pytestmark = pytest.mark.skipif(os.name == "nt", reason="the POSIX PTY path; Windows uses pywinpty")


@pytest.fixture(autouse=True)
def private_home(tmp_path, monkeypatch):
    """Shells read ``$HOME``: give them an empty one so the developer's rc files never interfere."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("SHELL", "/bin/bash")
    return home


@pytest.fixture
def comfy_root(tmp_path, host_paths):
    root = tmp_path / "ComfyUI"
    root.mkdir()
    host_paths.comfy_root = root
    return root


@pytest.fixture
def terminal_app(make_app, comfy_root):
    def factory(**terminal):
        return make_app(password=TEST_PASSWORD, settings=plain_shell_settings(**terminal))

    return factory


@pytest.fixture
async def tcli(aiohttp_client, terminal_app):
    """A logged-in client of a server whose terminal runs a plain bash."""
    cli = await aiohttp_client(terminal_app())
    resp = await cli.post("/holaf/auth/login", json={"password": TEST_PASSWORD}, headers=same_origin(cli))
    assert resp.status == 200
    return cli


def manager_of(cli):
    return cli.server.app[holaf_app.CTX_KEY].state["terminal_sessions"]


def own_children() -> set[int]:
    return {p.pid for p in psutil.Process().children(recursive=True)}


def zombie_children() -> list[int]:
    zombies = []
    for child in psutil.Process().children(recursive=True):
        try:
            if child.status() == psutil.STATUS_ZOMBIE:
                zombies.append(child.pid)
        except psutil.NoSuchProcess:
            pass
    return zombies


async def handshake_status(cli, query: str = "", headers: dict | None = None) -> int:
    with pytest.raises(aiohttp.WSServerHandshakeError) as info:
        await cli.ws_connect(f"/holaf/terminal{query}", headers=headers if headers is not None else same_origin(cli))
    return info.value.status


# -- security gates -------------------------------------------------------------------------
async def test_no_shell_can_start_before_a_password_is_set(aiohttp_client, make_app, comfy_root):
    cli = await aiohttp_client(make_app(settings=plain_shell_settings()))
    before = own_children()
    assert await handshake_status(cli) == 409
    resp = await cli.post("/holaf/terminal/auth", json={"password": "anything at all"}, headers=same_origin(cli))
    assert resp.status == 409 and (await resp.json())["code"] == "password_not_set"
    assert own_children() - before == set()
    assert manager_of(cli).sessions == {}


async def test_a_wrong_password_gets_no_token_and_guessing_is_rate_limited(aiohttp_client, terminal_app):
    cli = await aiohttp_client(terminal_app())
    statuses = []
    for _ in range(7):
        resp = await cli.post("/holaf/terminal/auth", json={"password": "wrong guess"}, headers=same_origin(cli))
        body = await resp.json()
        assert "session_token" not in body
        statuses.append(resp.status)
    assert statuses[0] == 401 and body["code"] in ("invalid_credentials", "rate_limited")
    assert 429 in statuses
    # While locked out, even the right password waits.
    resp = await cli.post("/holaf/terminal/auth", json={"password": TEST_PASSWORD}, headers=same_origin(cli))
    assert resp.status == 429 and "Retry-After" in resp.headers


async def test_the_upgrade_needs_the_login_cookie_or_a_token(aiohttp_client, terminal_app):
    cli = await aiohttp_client(terminal_app())
    assert await handshake_status(cli) == 401
    assert await handshake_status(cli, "?token=made-up-token") == 401
    assert manager_of(cli).sessions == {}


async def test_a_foreign_origin_is_refused_before_the_token_is_spent(aiohttp_client, terminal_app):
    cli = await aiohttp_client(terminal_app())
    one_time = await token(cli)
    cli.session.cookie_jar.clear()  # only the token may authenticate from here on
    for evil in ({"Origin": "http://evil.example"}, {"Origin": "null"}, {"Origin": f"http://{cli.host}:1"}):
        assert await handshake_status(cli, f"?token={one_time}", headers=evil) == 403
    assert manager_of(cli).sessions == {}
    term = await Term.open(cli, f"?token={one_time}")  # the same token still works from the right page
    await term.run("echo OK-$((40+2))", r"OK-42")
    await term.close()


async def test_a_token_opens_one_socket_only(aiohttp_client, terminal_app):
    cli = await aiohttp_client(terminal_app())
    one_time = await token(cli)
    cli.session.cookie_jar.clear()
    term = await Term.open(cli, f"?token={one_time}")
    assert term.hello["created"] is True
    assert await handshake_status(cli, f"?token={one_time}&session={term.hello['id']}") == 401
    await term.close()


async def test_session_list_and_kill_need_a_login(aiohttp_client, terminal_app):
    cli = await aiohttp_client(terminal_app())
    assert (await cli.get("/holaf/terminal/sessions")).status == 401
    assert (await cli.post("/holaf/terminal/sessions/abc/kill", headers=same_origin(cli))).status == 401


async def test_changing_the_password_disconnects_open_terminals(tcli):
    term = await Term.open(tcli)
    resp = await tcli.post("/holaf/auth/set-password", headers=same_origin(tcli),
                           json={"password": "a brand new secret", "current_password": TEST_PASSWORD})
    assert resp.status == 200, await resp.text()
    manager_of(tcli).sweep()
    error = await term.wait_message("error")
    assert error["code"] == "auth_expired"
    assert await term.wait_closed() == 4401


# -- protocol ------------------------------------------------------------------------------
async def test_echo_output_arrives_as_binary_frames(tcli):
    term = await Term.open(tcli)
    assert term.hello["created"] is True and term.hello["shell"] == "bash"
    await term.run("echo HELLO-$((6*7))", r"HELLO-42")
    assert term.messages == []
    await term.close()


async def test_the_shell_gets_the_size_asked_for_and_follows_resizes(tcli):
    term = await Term.open(tcli, "?rows=33&cols=101")
    await term.run("echo SIZE=$(stty size)=", r"SIZE=33 101=")
    await term.send({"type": "resize", "rows": 41, "cols": 137})
    await term.run("echo SIZE=$(stty size)=", r"SIZE=41 137=")
    await term.close()


async def test_pasted_json_is_input_and_never_a_command(tcli):
    term = await Term.open(tcli, "?rows=24&cols=200")
    pasted = '{"type": "resize", "rows": 5, "cols": 5}'
    await term.type("echo '")
    await term.type(pasted)  # a separate input message whose data is itself a JSON control message
    await term.type("' | tr -d ' '; echo SIZE=$(stty size)=\r")
    await term.wait_for(r"SIZE=\d+ \d+=")
    assert '{"type":"resize","rows":5,"cols":5}' in term.text
    assert "SIZE=24 200=" in term.text
    await term.close()


async def test_unicode_round_trips_through_the_pty(tcli):
    term = await Term.open(tcli)
    await term.run("printf 'U:%s:\\n' 'héllo → 世界 🎉'", r"U:héllo → 世界 🎉:")
    await term.close()


async def test_malformed_messages_get_an_error_reply_and_the_session_keeps_working(tcli):
    term = await Term.open(tcli)
    await term.ws.send_str("ls -la")
    assert (await term.wait_message("error"))["code"] == "bad_message"
    await term.send({"type": "resize", "rows": 0, "cols": "80"})
    assert (await term.wait_message("error"))["code"] == "bad_message"
    await term.send({"type": "launch-missiles"})
    assert (await term.wait_message("error"))["code"] == "unknown_type"
    await term.send({"type": "ping", "t": 12.5})
    assert (await term.wait_message("pong"))["t"] == 12.5
    await term.ws.send_bytes(b"echo RAW-$((2+3))\r")  # binary frames are raw input
    await term.wait_for(r"RAW-5")
    await term.close()


async def test_ctrl_c_interrupts_the_foreground_program(tcli):
    term = await Term.open(tcli)
    await term.type("sleep 30; echo NOT-$((0+0))-INTERRUPTED\r")
    await asyncio.sleep(0.3)
    started = time.monotonic()
    await term.type("\x03")
    await term.run("echo AFTER-$((1+1))", r"AFTER-2", timeout=5)
    assert time.monotonic() - started < 5 and "NOT-0-INTERRUPTED" not in term.text
    await term.close()


async def test_bad_query_parameters_are_refused_before_the_upgrade(tcli):
    assert await handshake_status(tcli, "?rows=abc") == 400
    assert await handshake_status(tcli, "?cols=100000") == 400
    assert await handshake_status(tcli, "?session=../../etc") == 400


# -- sessions ------------------------------------------------------------------------------
async def test_reconnecting_replays_the_recent_output(tcli):
    term = await Term.open(tcli)
    session_id = term.hello["id"]
    await term.run("echo REPLAY-$((100+23))", r"REPLAY-123")
    await term.close()
    await asyncio.sleep(0.1)
    assert manager_of(tcli).get(session_id) is not None  # the shell outlived the socket

    again = await Term.open(tcli, f"?session={session_id}")
    assert again.hello["created"] is False and again.hello["id"] == session_id
    assert again.hello["replay_bytes"] > 0
    await again.wait_for(r"REPLAY-123")  # from the replay, before anything new was typed
    await again.run("echo STILL-$((1+1))", r"STILL-2")
    await again.close()


async def test_two_windows_on_one_session_see_the_same_output(tcli):
    first = await Term.open(tcli)
    second = await Term.open(tcli, f"?session={first.hello['id']}")
    await first.run("echo SHARED-$((3*3))", r"SHARED-9")
    await second.wait_for(r"SHARED-9")
    sessions = (await (await tcli.get("/holaf/terminal/sessions")).json())["sessions"]
    assert [s["clients"] for s in sessions] == [2]
    await first.close()
    await second.close()


async def test_an_ended_session_is_reported_to_a_reconnecting_window(tcli):
    ws = await tcli.ws_connect("/holaf/terminal?session=no-such-session", headers=same_origin(tcli))
    term = Term(ws)
    assert (await term.wait_message("error"))["code"] == "session_not_found"
    assert await term.wait_closed() == 4404


async def test_the_session_list_describes_running_shells(tcli):
    term = await Term.open(tcli, "?rows=30&cols=90")
    body = await (await tcli.get("/holaf/terminal/sessions")).json()
    assert body["max_sessions"] == 8 and body["idle_timeout_s"] == 3600
    (session,) = body["sessions"]
    assert session["id"] == term.hello["id"] and session["pid"] == term.hello["pid"]
    assert (session["rows"], session["cols"], session["clients"], session["alive"]) == (30, 90, 1, True)
    assert session["expires_in_s"] is None  # watched sessions never expire
    await term.close()


async def test_exiting_the_shell_reports_its_code_and_ends_the_session(tcli):
    term = await Term.open(tcli)
    pid = term.hello["pid"]
    await term.type("exit 3\r")
    message = await term.wait_message("exit")
    assert message == {"type": "exit", "code": 3, "reason": "exited"}
    assert await term.wait_closed() == 1000
    assert manager_of(tcli).sessions == {}
    assert not psutil.pid_exists(pid) or psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    assert pid not in own_children()


async def test_kill_ends_the_shell_and_every_process_started_from_it(tcli):
    term = await Term.open(tcli)
    shell_pid = term.hello["pid"]
    await term.run("sleep 1000 & echo BG:$!:", r"BG:(\d+):")
    await term.run("sleep 1001 & kill -STOP $!; echo STOPPED:$!:", r"STOPPED:(\d+):")
    await term.run("nohup sleep 1002 >/dev/null 2>&1 & echo NOHUP:$!:", r"NOHUP:(\d+):")
    await term.run("bash -c 'trap \"\" HUP TERM; sleep 1003' & echo STUBBORN:$!:", r"STUBBORN:(\d+):")
    await term.run("(sleep 1004 & echo ORPHAN:$!:)", r"ORPHAN:(\d+):")
    jobs = [int(x) for x in re.findall(r"(?:BG|STOPPED|NOHUP|STUBBORN):(\d+):", term.text)]
    orphan = int(re.search(r"ORPHAN:(\d+):", term.text).group(1))
    assert len(jobs) == 4 and all(psutil.pid_exists(p) for p in [*jobs, orphan])

    resp = await tcli.post(f"/holaf/terminal/sessions/{term.hello['id']}/kill", headers=same_origin(tcli))
    assert resp.status == 200, await resp.text()
    assert (await term.wait_message("exit"))["reason"] == "killed"
    assert await term.wait_closed() == 1000

    await asyncio.sleep(0.2)
    for pid in [shell_pid, *jobs]:
        assert not psutil.pid_exists(pid), f"pid {pid} survived the kill"
    # The orphan was reparented to init; it must not be running (init reaps it, or holds it as a zombie).
    assert not psutil.pid_exists(orphan) or psutil.Process(orphan).status() == psutil.STATUS_ZOMBIE
    assert zombie_children() == []
    assert manager_of(tcli).sessions == {}
    assert (await tcli.post(f"/holaf/terminal/sessions/{term.hello['id']}/kill", headers=same_origin(tcli))).status == 404


async def test_max_sessions_is_enforced(aiohttp_client, terminal_app):
    cli = await aiohttp_client(terminal_app(max_sessions=1))
    await cli.post("/holaf/auth/login", json={"password": TEST_PASSWORD}, headers=same_origin(cli))
    first = await Term.open(cli)
    ws = await cli.ws_connect("/holaf/terminal", headers=same_origin(cli))
    refused = Term(ws)
    assert (await refused.wait_message("error"))["code"] == "too_many_sessions"
    assert await refused.wait_closed() == 4429
    assert len(manager_of(cli).sessions) == 1
    await first.close()


async def test_a_detached_quiet_session_is_closed_after_the_idle_timeout(aiohttp_client, terminal_app):
    cli = await aiohttp_client(terminal_app(idle_timeout_s=1))
    await cli.post("/holaf/auth/login", json={"password": TEST_PASSWORD}, headers=same_origin(cli))
    term = await Term.open(cli)
    pid = term.hello["pid"]
    await term.run("echo READY-$((1+1))", r"READY-2")
    await asyncio.sleep(2.0)
    assert manager_of(cli).get(term.hello["id"]) is not None  # attached: never idle
    await term.close()
    deadline = time.monotonic() + 8
    while manager_of(cli).sessions and time.monotonic() < deadline:
        await asyncio.sleep(0.1)
    assert manager_of(cli).sessions == {}
    assert not psutil.pid_exists(pid) or pid not in own_children()


async def test_stopping_the_server_ends_every_session(aiohttp_client, terminal_app):
    cli = await aiohttp_client(terminal_app())
    await cli.post("/holaf/auth/login", json={"password": TEST_PASSWORD}, headers=same_origin(cli))
    attached = await Term.open(cli)
    detached = await Term.open(cli)
    pids = [attached.hello["pid"], detached.hello["pid"]]
    await detached.close()
    await cli.close()  # runs the app's cleanup: the terminal service stops
    for pid in pids:
        assert not psutil.pid_exists(pid), f"shell {pid} outlived the server"
    assert zombie_children() == []


async def test_an_open_terminal_does_not_hold_up_server_shutdown(make_app, comfy_root):
    """aiohttp waits for open handlers before cleanup: the sessions must end when shutdown begins."""
    server = TestServer(make_app(password=TEST_PASSWORD, settings=plain_shell_settings()))
    await server.start_server()
    async with aiohttp.ClientSession() as http:
        origin = {"Origin": f"http://{server.host}:{server.port}"}
        resp = await http.post(server.make_url("/holaf/terminal/auth"), json={"password": TEST_PASSWORD}, headers=origin)
        one_time = (await resp.json())["session_token"]
        ws = await http.ws_connect(server.make_url(f"/holaf/terminal?token={one_time}"), headers=origin)
        term = Term(ws)
        pid = (await term.wait_message("session"))["pid"]
        reader = asyncio.ensure_future(term.wait_closed())  # like a browser, answer the close handshake
        started = time.monotonic()
        await server.close()
        assert time.monotonic() - started < 2.5, "shutdown waited for the terminal socket"
        assert await reader == 1001
        assert (await term.wait_message("exit"))["reason"] == "server_stopping"
        assert not psutil.pid_exists(pid)


# -- environment ---------------------------------------------------------------------------
async def test_the_default_shell_starts_in_comfyui_with_its_python_first(aiohttp_client, make_app, comfy_root, private_home):
    """Even when ~/.bashrc pushes another folder with a ``python`` in front of PATH."""
    other = private_home / "other-env" / "bin"
    other.mkdir(parents=True)
    (other / "python").write_text("#!/bin/sh\necho wrong python\n")
    (other / "python").chmod(0o755)
    (private_home / ".bashrc").write_text(f'export PATH="{other}:$PATH"\nexport FROM_BASHRC=yes\n')
    cli = await aiohttp_client(make_app(password=TEST_PASSWORD))
    await cli.post("/holaf/auth/login", json={"password": TEST_PASSWORD}, headers=same_origin(cli))
    term = await Term.open(cli)
    assert term.hello["python"]["prefix"] == sys.prefix
    await term.run("echo WHERE=$(pwd)=", r"WHERE=(.*)=")
    await term.run("echo PY=$(command -v python)=", r"PY=(.*)=")
    await term.run("echo ENV=$TERM,$FROM_BASHRC,$HOLAF_TERMINAL=", r"ENV=(.*)=")
    await term.run("case $- in *m*) echo JOBS=o''n=;; *) echo JOBS=o''ff=;; esac", r"JOBS=o[nf]+=")
    assert f"WHERE={comfy_root}=" in term.text
    expected_python = os.path.join(sys.prefix, "bin", "python") if sys.prefix != sys.base_prefix else None
    if expected_python:
        assert f"PY={expected_python}=" in term.text
    assert "PY=" + str(other / "python") + "=" not in term.text
    assert "ENV=xterm-256color,yes,1=" in term.text
    assert "JOBS=on=" in term.text  # job control: the PTY is the shell's controlling terminal
    await term.close()


# -- flow control --------------------------------------------------------------------------
async def test_a_large_cat_through_a_slow_reader_completes_with_bounded_buffering(tcli, tmp_path):
    lines = 100 * 1024
    big = tmp_path / "big.txt"
    big.write_bytes((b"x" * 1023 + b"\n") * lines)  # 100 MiB
    expected = lines * 1025  # the PTY turns each \n into \r\n
    manager = manager_of(tcli)
    rss_before = psutil.Process().memory_info().rss

    term = await Term.open(tcli)
    session = manager.get(term.hello["id"])
    await term.type(f"stty -echo; printf 'BEGIN-%s\\n' go; cat {big}; echo END-$((2+2))\r")
    await term.wait_for(r"BEGIN-go\r\n")
    start = term.text.index("BEGIN-go\r\n") + len("BEGIN-go\r\n")
    received = len(term.output) - start
    term.output.clear()

    # Slow phase: one frame every 50 ms. The shell must be held back, not buffered.
    slow_until = time.monotonic() + 1.5
    while time.monotonic() < slow_until:
        msg = await term.ws.receive(timeout=5)
        received += len(msg.data)
        await asyncio.sleep(0.05)
    probe = time.monotonic()
    listed = await tcli.get("/holaf/terminal/sessions")  # the event loop is not starved
    assert listed.status == 200 and time.monotonic() - probe < 3.0
    assert session.pauses > 0, "a slow reader must pause the PTY"
    produced_during_slow_phase = session.output_bytes
    assert produced_during_slow_phase < 48 * 1024 * 1024, "the shell ran far ahead of a slow reader"
    assert session.peak_backlog <= 2 * 1024 * 1024

    # Fast phase: read everything.
    tail = b""
    started = time.monotonic()
    while True:
        msg = await term.ws.receive(timeout=30)
        assert msg.type == aiohttp.WSMsgType.BINARY, msg
        received += len(msg.data)
        tail = (tail + msg.data)[-64:]
        if b"END-4" in tail:
            break
    elapsed = time.monotonic() - started
    marker_and_prompt = len(tail) - tail.index(b"END-4")
    assert received - marker_and_prompt == expected
    assert session.peak_backlog <= 2 * 1024 * 1024, f"server buffered {session.peak_backlog} bytes for one socket"
    rss_growth = psutil.Process().memory_info().rss - rss_before
    assert rss_growth < 64 * 1024 * 1024, f"RSS grew by {rss_growth / 1e6:.0f} MB"
    print(f"\n100 MiB cat: {produced_during_slow_phase / 1e6:.1f} MB produced while slow, fast phase {elapsed:.1f} s, peak backlog {session.peak_backlog / 1024:.0f} KiB, "
          f"RSS growth {rss_growth / 1e6:.1f} MB")
    await term.close()


async def test_a_browser_can_pause_and_resume_the_output(tcli, tmp_path):
    """xterm.js falling behind sends ``pause``: the shell is held until ``resume``."""
    big = tmp_path / "ten.txt"
    big.write_bytes((b"z" * 99 + b"\n") * 100_000)  # 10 MB
    term = await Term.open(tcli)
    session = manager_of(tcli).get(term.hello["id"])
    await term.run("echo READY-$((1+1))", r"READY-2")
    await term.send({"type": "pause"})
    await term.type(f"cat {big}; echo PAUSED-$((3+4))\r")
    await asyncio.sleep(1.0)
    assert session.paused
    assert session.output_bytes < 1024 * 1024, "output kept flowing while the browser asked to pause"
    await term.send({"type": "resume"})
    await term.wait_for(r"PAUSED-7", timeout=30)
    assert not session.paused
    await term.close()
