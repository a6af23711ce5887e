"""The Terminal panel in a real Chromium against a real standalone server (a subprocess with a real
PTY): first-time password setup, login, typing a command and seeing its output in xterm.js,
reattaching after a reload, the shell exiting, font size, and reconnecting after a server restart."""
from __future__ import annotations

import re
import time

import psutil
import pytest

from browser_support import open_standalone_page, poll, start_standalone_server
from conftest import TEST_PASSWORD

pytestmark = pytest.mark.timeout(120)

PLAIN_BASH = {"Terminal": {"shell_command": "/bin/bash --noprofile --norc"}}


@pytest.fixture
def terminal_server(standalone_server_factory, tmp_path):
    """A server whose terminal runs a predictable bash with an empty home."""
    home = tmp_path / "home"
    home.mkdir()

    def factory(*, password=None, config=None):
        return standalone_server_factory(password=password, config=config or PLAIN_BASH, env={"HOME": str(home)})

    return factory


def open_terminal(page):
    page.click('[data-testid="holaf-tool-terminal"]')
    panel = page.locator('[data-testid="holaf-panel-terminal"]')
    panel.wait_for(state="visible")
    return panel


def state(panel):
    return panel.locator('[data-testid="holaf-terminal"]').get_attribute("data-state")


def screen_text(panel):
    return panel.locator(".xterm-rows").inner_text()


def wait_state(panel, wanted, timeout=15):
    return poll(lambda: state(panel), lambda s: s == wanted, timeout=timeout, message=f"terminal state {wanted}")


def wait_screen(panel, pattern, timeout=15):
    regex = re.compile(pattern)
    return poll(lambda: screen_text(panel), lambda text: bool(regex.search(text)), timeout=timeout,
                message=f"{pattern!r} on the terminal screen")


def type_command(page, panel, command):
    panel.locator('[data-testid="holaf-terminal-screen"]').click()
    page.keyboard.type(command)
    page.keyboard.press("Enter")


def test_setting_a_password_opens_a_shell_that_runs_what_is_typed(browser_context, terminal_server):
    server = terminal_server()
    page, problems = open_standalone_page(browser_context, server)
    panel = open_terminal(page)
    wait_state(panel, "setup")
    assert panel.locator('[data-testid="holaf-terminal-screen"]').is_hidden() or state(panel) == "setup"
    panel.locator('[data-testid="holaf-terminal-password"]').fill("short")
    panel.locator('[data-testid="holaf-terminal-password-repeat"]').fill("short")
    panel.locator('[data-testid="holaf-terminal-auth-submit"]').click()
    assert "at least 8" in panel.locator('[data-testid="holaf-terminal-auth-status"]').inner_text()
    panel.locator('[data-testid="holaf-terminal-password"]').fill(TEST_PASSWORD)
    panel.locator('[data-testid="holaf-terminal-password-repeat"]').fill(TEST_PASSWORD)
    panel.locator('[data-testid="holaf-terminal-auth-submit"]').click()
    wait_state(panel, "open")
    assert server.read_config()["Security"]["password_hash"].startswith("pbkdf2_sha256$")

    type_command(page, panel, "echo BROWSER-$((6*7))")
    wait_screen(panel, r"BROWSER-42")
    # Pasted-looking JSON typed into the shell is just text.
    type_command(page, panel, """echo '{"type":"resize","rows":2,"cols":2}' | tr -d '"'""")
    wait_screen(panel, r"\{type:resize,rows:2,cols:2\}")
    problems.assert_none()


def test_logging_in_reattaches_after_a_reload_and_replays_the_output(browser_context, terminal_server):
    server = terminal_server(password=TEST_PASSWORD)
    page, problems = open_standalone_page(browser_context, server, ignore_errors=["status of 401"])  # the wrong password
    panel = open_terminal(page)
    wait_state(panel, "login")
    panel.locator('[data-testid="holaf-terminal-password"]').fill("not the password")
    panel.locator('[data-testid="holaf-terminal-auth-submit"]').click()
    poll(lambda: panel.locator('[data-testid="holaf-terminal-auth-status"]').inner_text(), lambda t: "Wrong password" in t)
    panel.locator('[data-testid="holaf-terminal-password"]').fill(TEST_PASSWORD)
    panel.locator('[data-testid="holaf-terminal-auth-submit"]').click()
    wait_state(panel, "open")
    session = panel.locator('[data-testid="holaf-terminal"]').get_attribute("data-session")
    type_command(page, panel, "echo BEFORE-RELOAD-$((2+3))")
    wait_screen(panel, r"BEFORE-RELOAD-5")

    page.reload()
    page.locator("html[data-holaf-ready='1']").wait_for(state="attached")
    panel = open_terminal(page)
    wait_state(panel, "open")
    assert panel.locator('[data-testid="holaf-terminal"]').get_attribute("data-session") == session
    wait_screen(panel, r"BEFORE-RELOAD-5")  # replayed by the server
    status, body = server.request("GET", "/holaf/terminal/sessions")
    assert status == 401, "the list needs a login; the browser has one, this script does not"
    problems.assert_none()


def test_an_exited_shell_offers_a_new_session(browser_context, terminal_server):
    server = terminal_server(password=TEST_PASSWORD)
    page, problems = open_standalone_page(browser_context, server)
    page.evaluate("body => fetch('/holaf/auth/login', {method: 'POST', headers: {'Content-Type': 'application/json'}, body})",
                  f'{{"password": "{TEST_PASSWORD}"}}')
    panel = open_terminal(page)
    wait_state(panel, "open")
    first = panel.locator('[data-testid="holaf-terminal"]').get_attribute("data-session")
    type_command(page, panel, "exit 4")
    wait_state(panel, "exited")
    assert "code 4" in panel.locator('[data-testid="holaf-terminal-exited"]').inner_text()
    panel.locator('[data-testid="holaf-terminal-new-session"]').click()
    wait_state(panel, "open")
    second = panel.locator('[data-testid="holaf-terminal"]').get_attribute("data-session")
    assert second and second != first
    type_command(page, panel, "echo AGAIN-$((1+1))")
    wait_screen(panel, r"AGAIN-2")
    problems.assert_none()


def test_font_size_buttons_resize_the_terminal_and_are_saved(browser_context, terminal_server):
    server = terminal_server(password=TEST_PASSWORD)
    page, problems = open_standalone_page(browser_context, server)
    page.evaluate("body => fetch('/holaf/auth/login', {method: 'POST', headers: {'Content-Type': 'application/json'}, body})",
                  f'{{"password": "{TEST_PASSWORD}"}}')
    panel = open_terminal(page)
    wait_state(panel, "open")
    type_command(page, panel, "echo SIZE=$(stty size)=")
    before = wait_screen(panel, r"SIZE=\d+ \d+=")
    def rows_cols(text):
        return [tuple(map(int, m)) for m in re.findall(r"SIZE=(\d+) (\d+)=", text)]

    (first,) = rows_cols(before)[-1:]
    for _ in range(4):
        panel.locator('[data-testid="holaf-terminal-font-up"]').click()
    assert panel.locator('[data-testid="holaf-terminal-font-size"]').inner_text() == "18"
    poll(lambda: server.settings()["TerminalUI"]["font_size"], lambda v: v == 18, message="font size saved")
    page.wait_for_timeout(300)
    type_command(page, panel, "echo LARGER=$(stty size)=")
    text = wait_screen(panel, r"LARGER=\d+ \d+=")
    rows, cols = map(int, re.search(r"LARGER=(\d+) (\d+)=", text).groups())
    assert rows < first[0] and cols < first[1], f"bigger font, fewer cells: {first} -> {(rows, cols)}"
    problems.assert_none()


def test_the_panel_shows_reconnecting_when_the_server_goes_away_and_comes_back(browser_context, terminal_server, tmp_path):
    server = terminal_server(password=TEST_PASSWORD)
    page, problems = open_standalone_page(browser_context, server, ignore_errors=["WebSocket", "Failed to load resource", "ERR_CONNECTION_REFUSED"])
    page.evaluate("body => fetch('/holaf/auth/login', {method: 'POST', headers: {'Content-Type': 'application/json'}, body})",
                  f'{{"password": "{TEST_PASSWORD}"}}')
    panel = open_terminal(page)
    wait_state(panel, "open")
    listed = page.evaluate("fetch('/holaf/terminal/sessions').then((r) => r.json())")
    (shell_pid,) = [s["pid"] for s in listed["sessions"]]
    started = time.monotonic()
    server.stop()
    assert time.monotonic() - started < 5, "an open terminal held up the server's shutdown"
    wait_state(panel, "reconnecting")
    assert "reconnecting" in panel.locator('[data-testid="holaf-terminal-status"]').inner_text()
    restarted = start_standalone_server(tmp_path / "again", output_dir=server.output_dir, data_dir=server.data_dir,
                                        port=server.port, env={"HOME": str(tmp_path / "home")})
    try:
        wait_state(panel, "open", timeout=40)
        type_command(page, panel, "echo BACK-$((5+5))")
        wait_screen(panel, r"BACK-10")
    finally:
        restarted.stop()
    assert not psutil.pid_exists(shell_pid), "stopping the server ended its shells"
    problems.assert_none()


def test_selecting_copies_and_a_right_click_pastes(browser_context_factory, terminal_server):
    context = browser_context_factory(permissions=["clipboard-read", "clipboard-write"])
    server = terminal_server(password=TEST_PASSWORD)
    page, problems = open_standalone_page(context, server)
    page.evaluate("body => fetch('/holaf/auth/login', {method: 'POST', headers: {'Content-Type': 'application/json'}, body})",
                  f'{{"password": "{TEST_PASSWORD}"}}')
    panel = open_terminal(page)
    wait_state(panel, "open")
    type_command(page, panel, "clear; echo COPY-$((30+3))-ME")
    wait_screen(panel, r"COPY-33-ME")

    # Drag across the output line: the selection lands in the clipboard by itself.
    row = panel.locator(".xterm-rows > div", has_text=re.compile(r"^COPY-33-ME")).first
    b = row.bounding_box()
    page.mouse.move(b["x"] + 2, b["y"] + b["height"] / 2)
    page.mouse.down()
    page.mouse.move(b["x"] + b["width"] * 0.6, b["y"] + b["height"] / 2, steps=5)
    page.mouse.up()
    poll(lambda: page.evaluate("navigator.clipboard.readText()"), lambda text: text.strip() == "COPY-33-ME",
         message="selection copied")

    # Right-click with no selection pastes the clipboard into the shell.
    page.evaluate("navigator.clipboard.writeText('echo PASTED-$((4+4))')")
    panel.locator('[data-testid="holaf-terminal-screen"]').click()  # clears the selection
    panel.locator('[data-testid="holaf-terminal-screen"]').click(button="right")
    wait_screen(panel, r"echo PASTED-\$\(\(4\+4\)\)")  # the paste reads the clipboard asynchronously
    page.keyboard.press("Enter")
    wait_screen(panel, r"PASTED-8")
    problems.assert_none()


def test_the_session_list_kills_a_session_after_confirmation(browser_context, terminal_server):
    server = terminal_server(password=TEST_PASSWORD)
    page, problems = open_standalone_page(browser_context, server)
    page.evaluate("body => fetch('/holaf/auth/login', {method: 'POST', headers: {'Content-Type': 'application/json'}, body})",
                  f'{{"password": "{TEST_PASSWORD}"}}')
    panel = open_terminal(page)
    wait_state(panel, "open")
    session = panel.locator('[data-testid="holaf-terminal"]').get_attribute("data-session")
    panel.locator('[data-testid="holaf-terminal-sessions-toggle"]').click()
    row = panel.locator(f'[data-testid="holaf-terminal-session-row"][data-session-id="{session}"]')
    row.wait_for()
    assert "this window" in row.inner_text()
    pid = int(re.search(r"pid (\d+)", row.inner_text()).group(1))
    row.locator('[data-testid="holaf-terminal-session-kill"]').click()
    page.locator('[data-testid="holaf-dialog-confirm"]').click()
    wait_state(panel, "exited")
    assert "killed from the session list" in panel.locator('[data-testid="holaf-terminal-exited"]').inner_text()
    poll(lambda: psutil.pid_exists(pid), lambda alive: not alive, message="the shell is gone")
    poll(lambda: panel.locator('[data-testid="holaf-terminal-session-row"]').count(), lambda n: n == 0,
         message="the list is empty")
    problems.assert_none()
