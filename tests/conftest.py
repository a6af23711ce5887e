"""Shared fixtures: the package loaded the way ``python .`` loads it, and app factories.

The repository root is the package (ComfyUI imports it from ``custom_nodes``), so
tests import it under the name ``holaf_utilities``, exactly as ``__main__.py`` does.
"""
from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
if "holaf_utilities" not in sys.modules:
    _spec = importlib.util.spec_from_file_location(
        "holaf_utilities", ROOT / "__init__.py", submodule_search_locations=[str(ROOT)]
    )
    _module = importlib.util.module_from_spec(_spec)
    sys.modules["holaf_utilities"] = _module
    _spec.loader.exec_module(_module)

from holaf_utilities import holaf_app  # noqa: E402
from holaf_utilities.holaf_context import HostPaths  # noqa: E402
from holaf_utilities.holaf_security import hash_password  # noqa: E402

TEST_PASSWORD = "correct horse battery"
# Fewer PBKDF2 rounds keep the suite fast; the stored string carries the count.
TEST_PASSWORD_HASH = hash_password(TEST_PASSWORD, iterations=2000)


@pytest.fixture
def output_dir(tmp_path: Path) -> Path:
    out = tmp_path / "output"
    out.mkdir()
    return out


@pytest.fixture
def host_paths(tmp_path: Path, output_dir: Path) -> HostPaths:
    return HostPaths(output_dir=output_dir, data_dir=tmp_path / "data", input_dir=tmp_path / "input")


@pytest.fixture
def make_app(host_paths: HostPaths):
    """``make_app(password=None, **settings)`` → a standalone aiohttp app over temp folders."""

    def factory(*, password: str | None = None, settings: dict | None = None):
        host_paths.data_dir.mkdir(parents=True, exist_ok=True)
        if password or settings:
            lines = []
            for section, values in (settings or {}).items():
                lines.append(f"[{section}]")
                lines.extend(f"{k} = {v}" for k, v in values.items())
            if password:
                lines += ["[Security]", f"password_hash = {TEST_PASSWORD_HASH if password == TEST_PASSWORD else hash_password(password, iterations=2000)}"]
            (host_paths.data_dir / "config.ini").write_text("\n".join(lines) + "\n", encoding="utf-8")
        return holaf_app.create_standalone_app(host_paths)

    return factory


@pytest.fixture
async def client(aiohttp_client, make_app):
    """A test client for a standalone app with no password set."""
    return await aiohttp_client(make_app())


@pytest.fixture
async def authed_client(aiohttp_client, make_app):
    """A client already logged in with ``TEST_PASSWORD``."""
    cli = await aiohttp_client(make_app(password=TEST_PASSWORD))
    resp = await cli.post("/holaf/auth/login", json={"password": TEST_PASSWORD})
    assert resp.status == 200, await resp.text()
    return cli


# ======================================================================================
# Browser test fixtures (UI shell). Real standalone server subprocess + real Chromium.
# Helpers live in tests/browser_support.py; keep this block together for easy merges.
# ======================================================================================
import browser_support  # noqa: E402


@pytest.fixture
def standalone_server_factory(tmp_path_factory):
    """``factory(extra_args=(), config=None, password=None|TEST_PASSWORD, env=None, …)`` → a
    running :class:`browser_support.StandaloneServer`; every server stops at teardown."""
    servers = []

    def factory(*, password: str | None = None, **options):
        if password:
            options.setdefault("password_hash", TEST_PASSWORD_HASH if password == TEST_PASSWORD else hash_password(password, iterations=2000))
        server = browser_support.start_standalone_server(tmp_path_factory.mktemp("standalone"), **options)
        servers.append(server)
        return server

    yield factory
    for server in servers:
        server.stop()


@pytest.fixture
def standalone_server(standalone_server_factory):
    """A standalone server with no password and default settings."""
    return standalone_server_factory()


@pytest.fixture(scope="module")
def playwright_driver():
    """The sync Playwright driver, started once per test module (starting it costs ~0.7 s)."""
    sync_api = browser_support.require_playwright()
    browser_support.require_chromium()
    manager = sync_api.sync_playwright()
    playwright = manager.start()
    try:
        yield playwright
    finally:
        manager.__exit__(None, None, None)


@pytest.fixture
def browser_context_factory(tmp_path_factory, playwright_driver, standalone_server_factory):
    """``factory(viewport=None, **context_options)`` → a Playwright persistent context in a fresh
    ``--user-data-dir`` (Chromium at /usr/bin/chromium with the project's flags), closed after the
    test. Depends on the server factory only so that browsers close before the servers stop."""
    contexts = []

    def factory(**options):
        context = browser_support.launch_context(playwright_driver, tmp_path_factory.mktemp("chromium-profile"), **options)
        contexts.append(context)
        return context

    try:
        yield factory
    finally:
        for context in contexts:
            try:
                context.close()
            except Exception:
                pass


@pytest.fixture
def browser_context(browser_context_factory):
    return browser_context_factory()


@pytest.fixture
def standalone_page(browser_context, standalone_server):
    """``(page, problems)``: the standalone page, shell started; ``problems.assert_none()``
    checks for console errors."""
    return browser_support.open_standalone_page(browser_context, standalone_server)
