"""Assembles Holaf Utilities for either host from the same parts.

``mount_in_comfyui`` (called by ``__init__.py``) and ``create_standalone_app``
(called by ``__main__.py`` and the tests) both build one :class:`HolafContext`,
register every feature's routes through the same :class:`Routes` registrar and
tie the background services to the aiohttp app's lifetime. The core routes that
belong to no single tool (settings, login, info, the standalone page and event
socket) live here too.

A feature is a module listed in ``FEATURES`` that defines ``setup(ctx, routes)``
and optionally ``SETTINGS`` (extra :class:`Setting` rows) and ``MIGRATIONS``
(``{component: [migration, …]}``). A feature that fails to import is logged and
skipped, so one broken optional dependency never takes the others down.
"""
from __future__ import annotations

import atexit
import html
import importlib
import logging
import os
from pathlib import Path
from types import ModuleType
from typing import Any
from urllib.parse import quote

from aiohttp import web

from . import holaf_config
from .holaf_config import ConfigNotWritable, SettingsError, load_config
from .holaf_context import ComfyEventHub, EventHub, HolafContext, HostPaths, StandaloneEventHub
from .holaf_database import DB_FILENAME, Database
from .holaf_http import HolafError, Routes, field, json_ok, read_json
from .holaf_security import (
    Security,
    hash_password,
    is_loopback,
    password_problem,
)

log = logging.getLogger("holaf")

__version__ = "0.1.0"
EXTENSION_DIR = Path(__file__).resolve().parent
JS_DIR = EXTENSION_DIR / "js"
#: ComfyUI serves ``js/`` at ``/extensions/<name>`` where ``<name>`` is the folder *or link*
#: name inside ``custom_nodes`` (it does not resolve symlinks), so take it unresolved too.
WEB_NAME = Path(os.path.abspath(__file__)).parent.name
STANDALONE_PAGE = JS_DIR / "holaf_standalone.html"
DATA_DIR_NAME = "__holaf_utilities"
CTX_KEY = web.AppKey("holaf_ctx", HolafContext)

#: Feature modules, relative to this package. Order = start order of their services.
FEATURES: list[str] = [
    "holaf_server_management",
    "holaf_terminal",
    "holaf_system_monitor",
    "holaf_image_viewer_backend.image_index",
]

#: Per-tool settings routes kept from the earlier tool (its frontend saved geometry there).
LEGACY_SAVE_ROUTES = {
    "/holaf/terminal/save-settings": "TerminalUI",
    "/holaf/image-viewer/save-settings": "ImageViewerUI",
    "/holaf/model-manager/save-settings": "ModelManagerUI",
    "/holaf/nodes-manager/save-settings": "NodesManagerUI",
    "/holaf/monitor/save-settings": "SystemMonitor",
    "/holaf/utilities/save-ui-settings": "UtilitiesUI",
}


# --------------------------------------------------------------------------- building blocks
def load_features() -> list[ModuleType]:
    modules = []
    for name in FEATURES:
        try:
            modules.append(importlib.import_module(f"{__package__}.{name}"))
        except Exception:
            log.exception("Holaf Utilities: the %s feature failed to load and is disabled", name)
    return modules


def build_context(mode: str, paths: HostPaths, events: EventHub, *, features: list[ModuleType] | None = None) -> HolafContext:
    """Config, database and security for one host. Opens nothing yet (see ``start_services``)."""
    features = load_features() if features is None else features
    settings = list(holaf_config.SETTINGS)
    migrations: dict[str, list] = {}
    for module in features:
        settings.extend(getattr(module, "SETTINGS", []))
        for component, items in getattr(module, "MIGRATIONS", {}).items():
            migrations.setdefault(component, []).extend(items)
    paths.data_dir.mkdir(parents=True, exist_ok=True)
    config = load_config(paths.data_dir, legacy_dir=EXTENSION_DIR, settings=settings)
    db = Database(paths.data_dir / DB_FILENAME, migrations=migrations)
    ctx = HolafContext(
        mode=mode,
        paths=paths,
        extension_dir=EXTENSION_DIR,
        config=config,
        db=db,
        security=Security(config),
        events=events,
        js_base_url=f"/extensions/{quote(WEB_NAME)}",
        version=__version__,
    )
    ctx.state["feature_modules"] = features
    return ctx


def register_routes(ctx: HolafContext, routes: Routes) -> None:
    """Core routes, then each feature's ``setup``."""
    _add_core_routes(ctx, routes)
    for module in ctx.state.get("feature_modules", []):
        try:
            module.setup(ctx, routes)
            ctx.features[module.__name__.rsplit(".", 1)[-1]] = True
        except Exception:
            log.exception("Holaf Utilities: setting up %s failed; it is disabled", module.__name__)
    ctx.state["routes"] = routes


# --------------------------------------------------------------------------- ComfyUI host
def mount_in_comfyui(prompt_server: Any, paths: HostPaths) -> HolafContext:
    """Register everything on ComfyUI's server. Called once by ``__init__.py`` at import."""
    ctx = build_context("comfyui", paths, ComfyEventHub(prompt_server))
    register_routes(ctx, Routes(prompt_server.routes, ctx.security))

    async def lifecycle(_app: web.Application):
        await ctx.start_services()
        yield
        await ctx.stop_services()

    prompt_server.app.cleanup_ctx.append(lifecycle)
    prompt_server.app.on_shutdown.append(lambda _app: ctx.shutdown_services())
    # ComfyUI does not always run aiohttp's cleanup on Ctrl+C: at least flush the DB.
    atexit.register(ctx.db.close)
    return ctx


# --------------------------------------------------------------------------- standalone host
def default_standalone_data_dir() -> Path:
    from platformdirs import user_data_dir

    return Path(user_data_dir("holaf-utilities", appauthor=False))


def create_standalone_app(paths: HostPaths, *, features: list[ModuleType] | None = None) -> web.Application:
    """The same routes on a plain aiohttp app, plus ``js/`` and the standalone page."""
    hub = StandaloneEventHub()
    ctx = build_context("standalone", paths, hub, features=features)
    app = web.Application(client_max_size=64 * 1024 * 1024)
    app[CTX_KEY] = ctx
    table = web.RouteTableDef()
    routes = Routes(table, ctx.security)
    register_routes(ctx, routes)

    @routes.websocket("/holaf/events")
    async def events_socket(request: web.Request) -> web.StreamResponse:
        """Server push for the standalone page (inside ComfyUI, ComfyUI's socket does this)."""
        return await hub.handle_socket(request)

    @routes.get("/")
    async def index_page(request: web.Request) -> web.Response:
        return _page_response(ctx, js_base=relative_js_base(ctx, request.path))

    app.add_routes(table)
    app.router.add_static(ctx.js_base_url, JS_DIR, follow_symlinks=False)
    app.on_response_prepare.append(_no_cache_for_scripts)
    app.on_shutdown.append(lambda _app: ctx.shutdown_services())  # before aiohttp waits for open sockets

    async def lifecycle(_app: web.Application):
        await ctx.start_services()
        yield
        await ctx.stop_services()

    app.cleanup_ctx.append(lifecycle)

    async def close_event_sockets(_app: web.Application) -> None:
        # aiohttp waits for open handlers before cleanup runs: without this, an open page
        # keeps Ctrl+C (or SIGTERM) waiting for the shutdown timeout.
        await hub.close_all()

    app.on_shutdown.append(close_event_sockets)
    return app


async def _no_cache_for_scripts(request: web.Request, response: web.StreamResponse) -> None:
    # Like ComfyUI: a reload always picks up edited JS/CSS.
    if request.path.startswith("/extensions/"):
        response.headers["Cache-Control"] = "no-cache"


# --------------------------------------------------------------------------- core routes
def relative_js_base(ctx: HolafContext, request_path: str) -> str:
    """``js/`` relative to the page, so it resolves under any prefix (``/api/holaf/view`` in
    ComfyUI, a reverse proxy's sub-path): one ``../`` per folder level of the page's path."""
    depth = max(0, request_path.count("/") - 1)
    return "../" * depth + ctx.js_base_url.lstrip("/")


def _page_response(ctx: HolafContext, *, js_base: str) -> web.Response:
    try:
        template = STANDALONE_PAGE.read_text(encoding="utf-8")
    except OSError as exc:
        raise HolafError(500, f"standalone page missing: {exc}")
    body = template.replace("{{JS_BASE}}", html.escape(js_base, quote=True)).replace(
        "{{MODE}}", html.escape(ctx.mode, quote=True)
    ).replace("{{VERSION}}", html.escape(ctx.version, quote=True))
    return web.Response(
        text=body,
        content_type="text/html",
        headers={
            "Cache-Control": "no-cache",
            "Content-Security-Policy": "default-src 'self'; img-src 'self' data: blob:; media-src 'self' blob:; "
            "style-src 'self' 'unsafe-inline'; script-src 'self' 'unsafe-inline'; connect-src 'self' ws: wss:; "
            "frame-ancestors 'self'",
            "X-Content-Type-Options": "nosniff",
        },
    )


def _client_id(request: web.Request) -> str:
    return request.remote or "unknown"


def _add_core_routes(ctx: HolafContext, routes: Routes) -> None:
    security = ctx.security
    config = ctx.config

    @routes.get("/holaf/utilities/info")
    async def info(request: web.Request) -> web.Response:
        """What the UI needs to know about this server before drawing anything."""
        state = security.state(request)
        return json_ok({
            "mode": ctx.mode,
            "version": ctx.version,
            "pid": os.getpid(),
            "started_at": ctx.started_at,
            "can_restart": ctx.is_comfyui,
            "password_configured": state.password_configured,
            "authenticated": state.authenticated,
            "features": sorted(ctx.features),
            "data_dir": str(ctx.paths.data_dir),
        })

    @routes.get("/holaf/utilities/settings")
    async def get_settings(request: web.Request) -> web.Response:
        """Every UI section (never ``[Security]`` or the shell command) plus the schema."""
        body: dict[str, Any] = {"password_is_set": security.password_configured}
        body.update(config.ui_settings())
        body["schema"] = config.schema()
        return json_ok(body)

    async def _save(updates: Any) -> web.Response:
        try:
            clean = config.validate_api_update(updates)
            await ctx.run_blocking(config.update, clean)
        except SettingsError as exc:
            raise HolafError(400, "some settings were refused; nothing was saved", code="invalid_settings", errors=exc.errors)
        except ConfigNotWritable as exc:
            raise HolafError(409, str(exc), code="config_read_only")
        ctx.events.publish("holaf.settings.changed", {"sections": sorted(clean)})
        return json_ok({"ok": True, "status": "ok", "saved": {s: sorted(v) for s, v in clean.items()}})

    @routes.post("/holaf/utilities/save-all-settings")
    async def save_all_settings(request: web.Request) -> web.Response:
        """``{Section: {key: value}}``; only allow-listed keys; ``null`` resets a key to its default."""
        return await _save(await read_json(request))

    def _legacy_saver(section: str):
        async def save_section(request: web.Request) -> web.Response:
            body = await read_json(request)
            aliases = {"x": "panel_x", "y": "panel_y", "width": "panel_width", "height": "panel_height"}
            return await _save({section: {aliases.get(k, k): v for k, v in body.items()}})

        save_section.__name__ = save_section.__qualname__ = f"save_{section}"
        return save_section

    for path, section in LEGACY_SAVE_ROUTES.items():
        routes.post(path)(_legacy_saver(section))

    # -- auth --------------------------------------------------------------
    @routes.get("/holaf/auth/status")
    async def auth_status(request: web.Request) -> web.Response:
        state = security.state(request)
        return json_ok({"authenticated": state.authenticated, "password_configured": state.password_configured})

    async def _check_password_rate_limited(request: web.Request, password: Any) -> bool:
        return await ctx.run_blocking(security.check_password, _client_id(request), password)

    @routes.post("/holaf/auth/login")
    async def login(request: web.Request) -> web.Response:
        """``{"password"}`` → a signed HttpOnly session cookie."""
        body = await read_json(request)
        password = field(body, "password", str)
        if not security.password_configured:
            raise HolafError(409, "no password has been set yet", code="password_not_set")
        if not await _check_password_rate_limited(request, password):
            raise HolafError(401, "wrong password", code="invalid_credentials")
        response = json_ok({"ok": True, "success": True, "authenticated": True})
        security.set_session_cookie(response, request)
        return response

    @routes.post("/holaf/auth/logout")
    async def logout(request: web.Request) -> web.Response:
        response = json_ok({"ok": True, "authenticated": False})
        security.clear_session_cookie(response)
        return response

    async def set_password(request: web.Request) -> web.Response:
        """First-time setup (from this machine only) or a change with the current password."""
        body = await read_json(request)
        new = body.get("password")
        if security.password_configured:
            current = body.get("current_password")
            if not isinstance(current, str):
                raise HolafError(403, "a password is already set: send 'current_password' to change it",
                                 code="current_password_required")
            if not await _check_password_rate_limited(request, current):
                raise HolafError(403, "the current password is wrong", code="invalid_credentials")
        elif not is_loopback(request.remote):
            raise HolafError(
                403,
                "the first password can only be set from the machine running the server "
                "(or run 'python . hash-password' in the extension folder and put the hash in config.ini)",
                code="setup_requires_local",
            )
        problem = password_problem(new)
        if problem:
            raise HolafError(400, problem, code="weak_password")
        changing = security.password_configured
        new_hash = await ctx.run_blocking(hash_password, new)
        try:
            await ctx.run_blocking(lambda: config.update({"Security": {"password_hash": new_hash}}, trusted=True))
        except ConfigNotWritable as exc:
            return json_ok({
                "ok": False,
                "status": "manual_required",
                "hash": new_hash,
                "message": f"{exc}. Add this line under [Security] in {config.path} and restart: "
                           f"password_hash = {new_hash}",
            })
        log.info("Holaf Utilities password %s", "changed" if changing else "set")
        response = json_ok({"ok": True, "status": "ok", "authenticated": True})
        security.set_session_cookie(response, request)
        return response

    routes.post("/holaf/auth/set-password")(set_password)
    routes.post("/holaf/terminal/set-password")(set_password)

    @routes.get("/holaf/view")
    async def view_page(request: web.Request) -> web.Response:
        """The full-page UI; inside ComfyUI this is the viewer's "Open in new tab"."""
        return _page_response(ctx, js_base=relative_js_base(ctx, request.path))
