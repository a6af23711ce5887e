"""Server-side pieces the UI shell relies on: the page finds ``js/`` from any path depth,
a symlinked install serves ``js/`` under the link name (as ComfyUI does), and an open page
does not hold the standalone server's shutdown hostage."""
from __future__ import annotations

import importlib.util
import os
import sys
import time

import pytest

from conftest import ROOT
from holaf_utilities import holaf_app

STANDIN = ROOT / "tests" / "comfy_standin"


@pytest.mark.parametrize("path, expected", [
    ("/", "extensions/X"),
    ("/holaf/view", "../extensions/X"),
    ("/api/holaf/view", "../../extensions/X"),
])
def test_the_page_finds_js_relative_to_its_own_path(path, expected):
    class Ctx:
        js_base_url = "/extensions/X"

    assert holaf_app.relative_js_base(Ctx(), path) == expected


async def test_the_view_page_points_at_the_served_scripts(client):
    ctx = client.app[holaf_app.CTX_KEY]
    text = await (await client.get("/holaf/view")).text()
    assert f'"./../{ctx.js_base_url.lstrip("/")}/holaf_standalone.js"' in text
    root_text = await (await client.get("/")).text()
    assert f'"./{ctx.js_base_url.lstrip("/")}/holaf_standalone.js"' in root_text
    script = await client.get(f"{ctx.js_base_url}/holaf_standalone.js")
    assert script.status == 200 and "javascript" in script.headers["Content-Type"]
    css = await client.get(f"{ctx.js_base_url}/css/holaf_shell.css")
    assert css.status == 200


@pytest.fixture
def linked_install(tmp_path, monkeypatch):
    """The package imported through a symlink in custom_nodes, the way ComfyUI imports it."""
    link = tmp_path / "custom_nodes" / "My-Holaf-Link"
    link.parent.mkdir()
    try:
        os.symlink(ROOT, link, target_is_directory=True)
    except (OSError, NotImplementedError):
        pytest.skip("this system cannot create directory symlinks")
    monkeypatch.setenv("HOLAF_STANDIN_BASE", str(tmp_path / "ComfyUI"))
    monkeypatch.syspath_prepend(str(STANDIN))
    for name in ("server", "folder_paths"):
        sys.modules.pop(name, None)
    import server

    prompt_server = server.PromptServer(None)
    name = str(link).replace(".", "_x_")  # ComfyUI's module name for a folder
    spec = importlib.util.spec_from_file_location(name, link / "__init__.py", submodule_search_locations=[str(link)])
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
        yield prompt_server, module
    finally:
        ctx = getattr(module, "HOLAF_CONTEXT", None)
        if ctx is not None:
            ctx.db.close()
        for key in [n for n in sys.modules if n == name or n.startswith(name + ".")]:
            del sys.modules[key]
        for key in ("server", "folder_paths"):
            sys.modules.pop(key, None)
        server.PromptServer.instance = None


def test_a_symlinked_install_serves_js_under_the_link_name_like_comfyui(linked_install):
    _, module = linked_install
    assert module.HOLAF_CONTEXT.js_base_url == "/extensions/My-Holaf-Link"


def test_an_open_event_socket_does_not_delay_the_standalone_shutdown(standalone_server):
    import socket

    port = standalone_server.port
    sock = socket.create_connection(("127.0.0.1", port))
    sock.sendall(
        b"GET /holaf/events HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n" % port
    )
    assert b"101" in sock.recv(1024).split(b"\r\n")[0]
    started = time.monotonic()
    standalone_server.stop(timeout=20)
    elapsed = time.monotonic() - started
    sock.close()
    assert standalone_server.process.returncode is not None
    assert elapsed < 5, f"shutdown took {elapsed:.1f} s with a page open"
