"""Loading Holaf Utilities the way ComfyUI loads a custom node (with a stand-in host).

``tests/comfy_standin`` provides ``server.PromptServer`` and ``folder_paths``; the
package is imported under its folder name, its routes are mounted and mirrored
under ``/api`` exactly like ComfyUI does, and a real subprocess checks restart.
"""
from __future__ import annotations

import importlib.util
import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest

from conftest import ROOT, TEST_PASSWORD

STANDIN = ROOT / "tests" / "comfy_standin"
FOLDER_NAME = "ComfyUI-Holaf-Utilities"


@pytest.fixture
def comfy(tmp_path, monkeypatch):
    """Import the package as ComfyUI would, with the stand-in modules on sys.path."""
    monkeypatch.setenv("HOLAF_STANDIN_BASE", str(tmp_path / "ComfyUI"))
    monkeypatch.syspath_prepend(str(STANDIN))
    for name in ("server", "folder_paths"):
        sys.modules.pop(name, None)
    import folder_paths
    import server

    prompt_server = server.PromptServer(None)
    spec = importlib.util.spec_from_file_location(FOLDER_NAME, ROOT / "__init__.py", submodule_search_locations=[str(ROOT)])
    module = importlib.util.module_from_spec(spec)
    sys.modules[FOLDER_NAME] = module
    try:
        spec.loader.exec_module(module)
        yield prompt_server, module, folder_paths
    finally:
        for name in [n for n in sys.modules if n == FOLDER_NAME or n.startswith(FOLDER_NAME + ".")]:
            del sys.modules[name]
        for name in ("server", "folder_paths"):
            sys.modules.pop(name, None)
        server.PromptServer.instance = None


def test_importing_outside_comfyui_starts_nothing():
    import holaf_utilities

    assert holaf_utilities.HOLAF_CONTEXT is None
    assert holaf_utilities.NODE_CLASS_MAPPINGS == {}
    assert holaf_utilities.WEB_DIRECTORY == "./js"
    assert not [t for t in threading.enumerate() if t.name.startswith("holaf")]


def test_inside_comfyui_routes_are_registered_on_the_prompt_server_at_import(comfy):
    prompt_server, module, folder_paths = comfy
    ctx = module.HOLAF_CONTEXT
    assert ctx is not None and ctx.mode == "comfyui"
    paths = {route.path for route in prompt_server.routes}
    assert {"/holaf/utilities/settings", "/holaf/auth/login", "/holaf/utilities/restart", "/holaf/view"} <= paths
    assert ctx.paths.output_dir == Path(folder_paths.get_output_directory())
    assert ctx.paths.data_dir == Path(folder_paths.get_user_directory()) / "__holaf_utilities"
    assert ctx.paths.custom_nodes_dir == Path(folder_paths.get_folder_paths("custom_nodes")[0])
    assert "loras" in ctx.paths.models_dirs
    assert ctx.js_base_url == f"/extensions/{ROOT.name}"


async def test_mounted_routes_answer_under_their_path_and_under_api(comfy, aiohttp_client):
    prompt_server, module, _ = comfy
    prompt_server.add_routes()
    client = await aiohttp_client(prompt_server.app)
    for prefix in ("", "/api"):
        body = await (await client.get(f"{prefix}/holaf/utilities/info")).json()
        assert body["mode"] == "comfyui" and body["can_restart"] is True
    resp = await client.post("/api/holaf/utilities/save-all-settings", json={"TerminalUI": {"font_size": 19}},
                             headers={"Origin": "http://evil.example"})
    assert resp.status == 403, "the Origin check also guards the /api mirror"
    data_dir = module.HOLAF_CONTEXT.paths.data_dir
    assert (data_dir / "holaf_utilities.sqlite").exists(), "services started with the app"


async def test_events_go_through_comfyuis_websocket_and_execution_events_are_relayed(comfy, aiohttp_client):
    prompt_server, module, _ = comfy
    ctx = module.HOLAF_CONTEXT
    seen = []
    ctx.events.on_host_event(lambda event, data: seen.append(event))
    ctx.events.publish("holaf.images.changed", {"added": 1})
    assert ("holaf.images.changed", {"added": 1}, None) in prompt_server.sent
    prompt_server.send_sync("executing", {"node": "3"}, "client-1")
    prompt_server.send_sync("execution_success", {"prompt_id": "p"})
    prompt_server.send_sync("b_preview", b"raw")
    assert seen == ["executing", "execution_success"]
    assert ("executing", {"node": "3"}, "client-1") in prompt_server.sent, "ComfyUI's own messages still go out"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _request(port, path, body=None, cookie=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=data, method="POST" if data else "GET")
    req.add_header("Content-Type", "application/json")
    if cookie:
        req.add_header("Cookie", cookie)
    with urllib.request.urlopen(req, timeout=10) as resp:
        return json.loads(resp.read()), resp.headers


def _wait_for_info(port, timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            return _request(port, "/holaf/utilities/info")[0]
        except OSError:
            time.sleep(0.2)
    raise AssertionError("server did not come up")


@pytest.mark.skipif(os.name == "nt", reason="the stand-in restart test uses POSIX exec semantics")
def test_restart_brings_the_same_server_back_with_its_command_line(tmp_path):
    base = tmp_path / "ComfyUI"
    (base / "custom_nodes").mkdir(parents=True)
    (base / "custom_nodes" / FOLDER_NAME).symlink_to(ROOT, target_is_directory=True)
    port = _free_port()
    env = {**os.environ, "HOLAF_STANDIN_BASE": str(base), "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen([sys.executable, str(STANDIN / "main.py"), "--port", str(port)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        first = _wait_for_info(port)
        assert first["mode"] == "comfyui"
        _, headers = _request(port, "/holaf/auth/set-password", {"password": TEST_PASSWORD})
        cookie = headers["Set-Cookie"].split(";")[0]
        answer, _ = _request(port, "/holaf/utilities/restart", {}, cookie=cookie)
        assert answer["status"] == "restarting"
        deadline = time.time() + 40
        second = first
        while time.time() < deadline and second["started_at"] == first["started_at"]:
            time.sleep(0.3)
            try:
                second = _request(port, "/holaf/utilities/info")[0]
            except OSError:
                continue
        assert second["started_at"] > first["started_at"], "a new server process answered"
        assert second["password_configured"] is True
        assert proc.poll() is None, "exec keeps the same process (its parent still sees it)"
    finally:
        proc.kill()
        proc.wait(timeout=10)
