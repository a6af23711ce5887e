"""Reusable support for browser tests: a real standalone server in a subprocess and a
real Chromium driven by Playwright.

Other test modules use it through the fixtures in ``conftest.py`` (block "browser test
fixtures"): ``standalone_server_factory`` / ``standalone_server`` start ``python <repo>
--output-dir … --data-dir … --port <free>`` and wait until ``/holaf/utilities/info``
answers; ``browser_context_factory`` / ``browser_context`` launch ``/usr/bin/chromium``
with a fresh ``--user-data-dir``; ``standalone_page`` opens the standalone page and waits
until the shell is up. Chromium missing: the tests fail on CI (``CI=true``) and skip with
the reason elsewhere.

The page's Content-Security-Policy forbids ``eval``, so Playwright's ``wait_for_function``
does not work on our pages: use locators/``expect`` or :func:`poll`.
"""
from __future__ import annotations

import configparser
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping

import pytest

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
DEFAULT_VIEWPORT = {"width": 1280, "height": 800}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def require_chromium() -> str:
    """Path of Chromium; fails on CI when it is missing, skips (with the reason) elsewhere."""
    if CHROMIUM.exists():
        return str(CHROMIUM)
    message = f"{CHROMIUM} is missing: install Debian's 'chromium' (scripts/install_system_deps.sh does)"
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(message)
    pytest.skip(message)


def require_playwright():
    """The sync Playwright API (a dev dependency); same CI rule as Chromium."""
    try:
        from playwright import sync_api
    except ImportError:  # pragma: no cover - requirements-dev.txt installs it
        message = "the 'playwright' package is missing (pip install -r requirements-dev.txt)"
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(message)
        pytest.skip(message)
    return sync_api


def write_config(data_dir: Path, config: Mapping[str, Mapping[str, Any]] | str | None = None, *, password_hash: str | None = None) -> Path:
    """Writes ``config.ini`` before the server starts: a dict of sections or raw text."""
    data_dir.mkdir(parents=True, exist_ok=True)
    path = data_dir / "config.ini"
    if isinstance(config, str):
        text = config
    else:
        parser = configparser.ConfigParser(interpolation=None)
        parser.optionxform = str
        for section, values in (config or {}).items():
            parser[section] = {k: _ini_value(v) for k, v in values.items()}
        if password_hash:
            if not parser.has_section("Security"):
                parser.add_section("Security")
            parser["Security"]["password_hash"] = password_hash
        from io import StringIO

        buffer = StringIO()
        parser.write(buffer)
        text = buffer.getvalue()
    path.write_text(text, encoding="utf-8")
    return path


def _ini_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, dict)):
        return json.dumps(value)
    return str(value)


@dataclass
class StandaloneServer:
    """A running ``python <repo> --output-dir …`` process on 127.0.0.1."""

    output_dir: Path
    data_dir: Path
    port: int
    process: subprocess.Popen
    log_path: Path
    args: list[str] = field(default_factory=list)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def url(self, path: str = "/") -> str:
        return self.base_url + path

    @property
    def config_path(self) -> Path:
        return self.data_dir / "config.ini"

    def request(self, method: str, path: str, body: Any = None, headers: Mapping[str, str] | None = None, timeout: float = 10) -> tuple[int, Any]:
        """One HTTP request; returns (status, parsed JSON or text). Never raises for 4xx/5xx."""
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.url(path), data=data, method=method)
        if data is not None:
            req.add_header("Content-Type", "application/json")
        for key, value in (headers or {}).items():
            req.add_header(key, value)
        try:
            with urllib.request.urlopen(req, timeout=timeout) as resp:
                status, raw = resp.status, resp.read()
        except urllib.error.HTTPError as exc:
            status, raw = exc.code, exc.read()
        try:
            return status, json.loads(raw)
        except ValueError:
            return status, raw.decode("utf-8", "replace")

    def get_json(self, path: str) -> Any:
        status, body = self.request("GET", path)
        assert status == 200, f"GET {path} → {status}: {body}"
        return body

    def post_json(self, path: str, body: Any) -> tuple[int, Any]:
        return self.request("POST", path, body)

    def settings(self) -> dict:
        """``GET /holaf/utilities/settings``."""
        return self.get_json("/holaf/utilities/settings")

    def read_config(self) -> configparser.ConfigParser:
        parser = configparser.ConfigParser(interpolation=None, strict=False)
        parser.optionxform = str
        if self.config_path.exists():
            parser.read_string(self.config_path.read_text(encoding="utf-8"))
        return parser

    def logs(self) -> str:
        try:
            return self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""

    def is_running(self) -> bool:
        return self.process.poll() is None

    def stop(self, timeout: float = 10) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout)


def start_standalone_server(
    workdir: Path,
    *,
    extra_args: Iterable[str] = (),
    config: Mapping[str, Mapping[str, Any]] | str | None = None,
    password_hash: str | None = None,
    env: Mapping[str, str] | None = None,
    output_dir: Path | None = None,
    data_dir: Path | None = None,
    port: int | None = None,
    timeout: float = 30,
) -> StandaloneServer:
    """Starts the real standalone server (``sys.executable <repo>``) and waits until it answers.

    ``config`` (dict of sections, or raw text) and ``password_hash`` are written to
    ``<data_dir>/config.ini`` first; ``env`` is added to the environment.
    """
    workdir.mkdir(parents=True, exist_ok=True)
    output_dir = output_dir or workdir / "output"
    data_dir = data_dir or workdir / "data"
    output_dir.mkdir(parents=True, exist_ok=True)
    if config is not None or password_hash:
        write_config(data_dir, config, password_hash=password_hash)
    port = port or free_port()
    args = [sys.executable, str(ROOT), "--output-dir", str(output_dir), "--data-dir", str(data_dir),
            "--port", str(port), "--log-level", "WARNING", *extra_args]
    log_path = workdir / f"server-{port}.log"
    full_env = {**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})}
    log = open(log_path, "wb")
    try:
        process = subprocess.Popen(args, cwd=str(ROOT), stdout=log, stderr=subprocess.STDOUT, env=full_env, stdin=subprocess.DEVNULL)
    finally:
        log.close()
    server = StandaloneServer(output_dir, data_dir, port, process, log_path, args)
    deadline = time.monotonic() + timeout
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"the standalone server exited with {process.returncode}:\n{server.logs()}")
        try:
            status, _ = server.request("GET", "/holaf/utilities/info", timeout=2)
            if status == 200:
                return server
        except (OSError, urllib.error.URLError):
            pass
        if time.monotonic() > deadline:
            server.stop()
            raise RuntimeError(f"the standalone server did not answer within {timeout} s:\n{server.logs()}")
        time.sleep(0.1)


class PageProblems:
    """Collects console errors and uncaught exceptions of a page (``assert_none`` at the end)."""

    def __init__(self, page, ignore: Iterable[str] = ()) -> None:
        self.items: list[str] = []
        self.ignore = list(ignore)
        page.on("console", self._console)
        page.on("pageerror", lambda exc: self._add(f"pageerror: {exc}"))

    def _console(self, message) -> None:
        if message.type == "error":
            self._add(f"console.error: {message.text}")

    def _add(self, text: str) -> None:
        if not any(fragment in text for fragment in self.ignore):
            self.items.append(text)

    def assert_none(self) -> None:
        assert not self.items, "the page reported errors:\n" + "\n".join(self.items)


def poll(probe: Callable[[], Any], predicate: Callable[[Any], bool] = bool, *, timeout: float = 10, interval: float = 0.05, message: str = "") -> Any:
    """Calls ``probe()`` until ``predicate(value)`` holds; returns the value or fails with the last one."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if predicate(value):
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"{message or 'condition'} not met within {timeout} s; last value: {value!r}")
        time.sleep(interval)


def launch_context(playwright, user_data_dir: Path, *, viewport: Mapping[str, int] | None = None, **kwargs):
    """A persistent Chromium context on a fresh ``user_data_dir`` (our flags, our binary)."""
    executable = require_chromium()
    if user_data_dir.exists():
        shutil.rmtree(user_data_dir)
    user_data_dir.mkdir(parents=True)
    return playwright.chromium.launch_persistent_context(
        str(user_data_dir),
        executable_path=executable,
        args=CHROMIUM_ARGS,
        headless=True,
        viewport=dict(viewport or DEFAULT_VIEWPORT),
        **kwargs,
    )


def open_standalone_page(context, server: StandaloneServer, path: str = "/", *, ignore_errors: Iterable[str] = ()):
    """Opens a page of the standalone server and waits until the shell started.

    Returns ``(page, problems)``; ``problems.assert_none()`` checks for console errors.
    """
    page = context.pages[0] if context.pages and context.pages[0].url == "about:blank" else context.new_page()
    problems = PageProblems(page, ignore_errors)
    page.goto(server.url(path))
    page.locator("html[data-holaf-ready]").wait_for(state="attached", timeout=15000)
    ready = page.get_attribute("html", "data-holaf-ready")
    assert ready == "1", f"the shell did not start: {page.locator('#holaf-root').inner_text()}"
    return page, problems
