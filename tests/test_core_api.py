"""Core HTTP API on a real aiohttp server: settings, login, info, errors, Origin checks."""
from __future__ import annotations

import pytest
from aiohttp import web

from conftest import TEST_PASSWORD
from holaf_utilities import holaf_app

SAME_ORIGIN = {"Origin": "http://127.0.0.1"}


def _remote_override(app: web.Application) -> web.Application:
    """Lets a test pretend to be a remote browser (the test server only listens on loopback)."""

    @web.middleware
    async def fake_remote(request, handler):
        remote = request.headers.get("X-Test-Remote")
        return await handler(request.clone(remote=remote) if remote else request)

    app.middlewares.append(fake_remote)
    return app


async def _json(resp):
    return resp.status, await resp.json()


# -- info and settings ---------------------------------------------------------
async def test_info_describes_a_standalone_server(client):
    status, body = await _json(await client.get("/holaf/utilities/info"))
    assert status == 200
    assert body["mode"] == "standalone" and body["can_restart"] is False
    assert body["password_configured"] is False and body["authenticated"] is False
    assert body["version"] == holaf_app.__version__


async def test_settings_lists_ui_sections_and_never_the_secrets(client):
    status, body = await _json(await client.get("/holaf/utilities/settings"))
    assert status == 200
    assert body["password_is_set"] is False
    assert body["TerminalUI"]["font_size"] == 14
    assert "Security" not in body and "Terminal" not in body
    assert "shell_command" not in str(body)
    assert any(item["key"] == "theme" for item in body["schema"]["TerminalUI"])


async def test_saved_settings_are_read_back(client):
    resp = await client.post("/holaf/utilities/save-all-settings", json={"TerminalUI": {"font_size": 17, "panel_x": 12.5}})
    assert resp.status == 200, await resp.text()
    body = await (await client.get("/holaf/utilities/settings")).json()
    assert body["TerminalUI"]["font_size"] == 17 and body["TerminalUI"]["panel_x"] == 12.5


@pytest.mark.parametrize(
    "payload, fragment",
    [
        ({"Terminal": {"shell_command": "/bin/sh -c evil"}}, "cannot be changed"),
        ({"Security": {"password_hash": "x"}}, "cannot be changed"),
        ({"TerminalUI": {"nope": 1}}, "unknown or protected"),
        ({"TerminalUI": {"font_size": "big"}}, "expected a number"),
    ],
)
async def test_bad_settings_get_a_400_listing_every_problem(client, payload, fragment):
    status, body = await _json(await client.post("/holaf/utilities/save-all-settings", json=payload))
    assert status == 400 and body["ok"] is False and body["code"] == "invalid_settings"
    assert any(fragment in e for e in body["errors"])


async def test_the_earlier_tools_per_panel_save_routes_still_work(client):
    resp = await client.post("/holaf/terminal/save-settings", json={"x": 5, "width": 640, "theme": "steel-blue"})
    assert resp.status == 200, await resp.text()
    body = await (await client.get("/holaf/utilities/settings")).json()
    assert body["TerminalUI"]["panel_x"] == 5 and body["TerminalUI"]["panel_width"] == 640
    assert body["TerminalUI"]["theme"] == "steel-blue"


# -- error envelope --------------------------------------------------------------
@pytest.mark.parametrize("data", [b"{not json", b"[1, 2]", b"", b'"text"'])
async def test_malformed_json_bodies_get_a_clear_400(client, data):
    resp = await client.post("/holaf/utilities/save-all-settings", data=data, headers={"Content-Type": "application/json"})
    status, body = await _json(resp)
    assert status == 400 and body == {"ok": False, "error": body["error"], "code": "invalid_json"}
    assert "JSON" in body["error"]


async def test_a_cross_site_post_is_refused_with_403_and_nothing_changes(client):
    resp = await client.post(
        "/holaf/utilities/save-all-settings", json={"TerminalUI": {"font_size": 30}},
        headers={"Origin": "http://evil.example"},
    )
    status, body = await _json(resp)
    assert status == 403 and body["code"] == "cross_site"
    assert (await (await client.get("/holaf/utilities/settings")).json())["TerminalUI"]["font_size"] == 14


async def test_a_same_origin_browser_post_is_accepted(client):
    origin = f"http://{client.server.host}:{client.server.port}"
    resp = await client.post("/holaf/utilities/save-all-settings", json={"TerminalUI": {"font_size": 15}}, headers={"Origin": origin})
    assert resp.status == 200


async def test_allowed_origins_from_config_are_accepted(aiohttp_client, make_app):
    cli = await aiohttp_client(make_app(settings={"Security": {"allowed_origins": "comfy.example.org"}}))
    resp = await cli.post("/holaf/utilities/save-all-settings", json={"TerminalUI": {"font_size": 15}},
                          headers={"Origin": "http://comfy.example.org"})
    assert resp.status == 200


async def test_a_cross_site_websocket_upgrade_is_refused(client):
    resp = await client.get("/holaf/events", headers={
        "Origin": "http://evil.example", "Connection": "Upgrade", "Upgrade": "websocket",
        "Sec-WebSocket-Version": "13", "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
    })
    assert resp.status == 403


async def test_every_mutating_route_and_websocket_is_origin_checked(client):
    routes = client.app[holaf_app.CTX_KEY].state["routes"].registered
    assert routes, "the registrar recorded the routes"
    for info in routes:
        if info.method in ("POST", "PUT", "PATCH", "DELETE"):
            assert info.origin_checked, f"{info.method} {info.path} lacks the Origin check"
    paths = {(r.method, r.path) for r in routes}
    for expected in [("GET", "/holaf/utilities/settings"), ("POST", "/holaf/utilities/save-all-settings"),
                     ("POST", "/holaf/auth/login"), ("POST", "/holaf/auth/logout"), ("GET", "/holaf/auth/status"),
                     ("POST", "/holaf/auth/set-password"), ("POST", "/holaf/terminal/set-password"),
                     ("POST", "/holaf/utilities/restart"), ("GET", "/holaf/utilities/info")]:
        assert expected in paths, expected


# -- auth --------------------------------------------------------------------------
async def test_first_password_setup_logs_the_user_in(client):
    resp = await client.post("/holaf/auth/set-password", json={"password": TEST_PASSWORD})
    status, body = await _json(resp)
    assert status == 200 and body["authenticated"] is True
    set_cookie = resp.headers["Set-Cookie"]
    assert set_cookie.startswith("holaf_session=") and "HttpOnly" in set_cookie and "SameSite=Strict" in set_cookie
    status, body = await _json(await client.get("/holaf/auth/status"))
    assert body == {"authenticated": True, "password_configured": True}


async def test_a_weak_first_password_is_refused(client):
    status, body = await _json(await client.post("/holaf/auth/set-password", json={"password": "short"}))
    assert status == 400 and body["code"] == "weak_password"


async def test_the_first_password_cannot_be_set_from_another_machine(aiohttp_client, make_app):
    cli = await aiohttp_client(_remote_override(make_app()))
    status, body = await _json(await cli.post("/holaf/auth/set-password", json={"password": TEST_PASSWORD},
                                              headers={"X-Test-Remote": "203.0.113.9"}))
    assert status == 403 and body["code"] == "setup_requires_local"
    assert "hash-password" in body["error"]


async def test_changing_the_password_needs_the_current_one(authed_client):
    status, body = await _json(await authed_client.post("/holaf/auth/set-password", json={"password": "a brand new pass"}))
    assert status == 403 and body["code"] == "current_password_required"
    status, body = await _json(await authed_client.post(
        "/holaf/auth/set-password", json={"password": "a brand new pass", "current_password": "wrong password"}))
    assert status == 403 and body["code"] == "invalid_credentials"
    status, body = await _json(await authed_client.post(
        "/holaf/auth/set-password", json={"password": "a brand new pass", "current_password": TEST_PASSWORD}))
    assert status == 200
    authed_client.session.cookie_jar.clear()
    assert (await authed_client.post("/holaf/auth/login", json={"password": TEST_PASSWORD})).status == 401
    assert (await authed_client.post("/holaf/auth/login", json={"password": "a brand new pass"})).status == 200


async def test_the_terminal_set_password_alias_behaves_the_same(client):
    resp = await client.post("/holaf/terminal/set-password", json={"password": TEST_PASSWORD})
    assert resp.status == 200
    assert (await (await client.get("/holaf/auth/status")).json())["password_configured"] is True


async def test_login_without_a_password_configured_says_so(client):
    status, body = await _json(await client.post("/holaf/auth/login", json={"password": "whatever"}))
    assert status == 409 and body["code"] == "password_not_set"


async def test_login_with_the_wrong_password_is_refused_then_rate_limited(aiohttp_client, make_app):
    cli = await aiohttp_client(make_app(password=TEST_PASSWORD))
    statuses = [(await cli.post("/holaf/auth/login", json={"password": f"wrong {i}"})).status for i in range(6)]
    assert statuses[:5] == [401] * 5
    resp = await cli.post("/holaf/auth/login", json={"password": TEST_PASSWORD})
    status, body = await _json(resp)
    assert status == 429, "even the right password waits while the client is locked out"
    assert int(resp.headers["Retry-After"]) >= 1 and body["code"] == "rate_limited"


async def test_logout_clears_the_session(authed_client):
    assert (await (await authed_client.get("/holaf/auth/status")).json())["authenticated"] is True
    await authed_client.post("/holaf/auth/logout")
    assert (await (await authed_client.get("/holaf/auth/status")).json())["authenticated"] is False


async def test_a_forged_session_cookie_is_not_accepted(aiohttp_client, make_app):
    cli = await aiohttp_client(make_app(password=TEST_PASSWORD))
    cli.session.cookie_jar.update_cookies({"holaf_session": "eyJpYXQiOjF9.deadbeef"})
    assert (await (await cli.get("/holaf/auth/status")).json())["authenticated"] is False


# -- restart -----------------------------------------------------------------------
async def test_restart_needs_a_login(aiohttp_client, make_app):
    cli = await aiohttp_client(make_app(password=TEST_PASSWORD))
    status, body = await _json(await cli.post("/holaf/utilities/restart"))
    assert status == 401 and body["code"] == "auth_required"


async def test_restart_is_not_offered_standalone(authed_client):
    status, body = await _json(await authed_client.post("/holaf/utilities/restart"))
    assert status == 409 and body["code"] == "not_supported"


# -- pages -------------------------------------------------------------------------
async def test_the_standalone_page_and_scripts_are_served(client):
    resp = await client.get("/")
    assert resp.status == 200 and "text/html" in resp.headers["Content-Type"]
    text = await resp.text()
    assert "{{" not in text and "holaf" in text
    assert "Content-Security-Policy" in resp.headers
    view = await client.get("/holaf/view")
    assert view.status == 200
    ctx = client.app[holaf_app.CTX_KEY]
    asset = await client.get(f"{ctx.js_base_url}/holaf_standalone.html")
    assert asset.status == 200 and asset.headers["Cache-Control"] == "no-cache"


async def test_the_static_route_does_not_serve_files_outside_js(client):
    ctx = client.app[holaf_app.CTX_KEY]
    for probe in ("/../holaf_app.py", "/%2e%2e/holaf_app.py", "/..%2fholaf_app.py"):
        resp = await client.get(ctx.js_base_url + probe)
        assert resp.status in (403, 404), probe


async def test_the_standalone_event_socket_delivers_published_events(client):
    ctx = client.app[holaf_app.CTX_KEY]
    async with client.ws_connect("/holaf/events") as ws:
        for _ in range(50):
            if ctx.events.client_count:
                break
            import asyncio
            await asyncio.sleep(0.02)
        ctx.events.publish("holaf.test", {"n": 1})
        msg = await ws.receive_json(timeout=5)
        assert msg == {"type": "holaf.test", "data": {"n": 1}}
