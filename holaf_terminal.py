"""Terminal: a real shell over a WebSocket, password-protected, surviving page reloads.

Routes (the registrar checks ``Origin`` on the POSTs and on the WebSocket upgrade
before any handler runs, so a cross-site page can neither open a shell nor burn
a token):

* ``POST /holaf/terminal/auth`` ``{"password"}`` → ``{"session_token"}``: a
  one-time token for the WebSocket (60 s, single use); also sets the login
  cookie. Failed attempts are rate-limited with the login limiter.
* ``GET /holaf/terminal`` (WebSocket) ``?token=…`` (or the login cookie),
  ``&session=<id>`` to reattach, ``&rows=&cols=`` for a new shell's size.
  Refused *before the upgrade* while no password is set or without valid
  credentials. Protocol: PTY output as binary frames; everything else as typed
  JSON text (``input``, ``resize``, ``ping``, ``pause``/``resume`` from the client; ``session``,
  ``pong``, ``exit``, ``error`` from the server), so typed or pasted text that
  happens to be JSON is always just input.
* ``GET /holaf/terminal/sessions`` and ``POST /holaf/terminal/sessions/{id}/kill``
  (login required).
"""
from __future__ import annotations

import json
import logging
import re

from aiohttp import WSMsgType, web

from .holaf_config import Setting
from .holaf_http import HolafError, field, json_ok, read_json
from .holaf_terminal_backend.environment import ShellNotFound, build_launch_spec
from .holaf_terminal_backend.pty_process import MAX_DIMENSION, PtyUnavailable
from .holaf_terminal_backend.session import (
    CLOSE_SESSION_NOT_FOUND,
    CLOSE_SPAWN_FAILED,
    CLOSE_TOO_MANY_CLIENTS,
    CLOSE_TOO_MANY_SESSIONS,
    MAX_CLIENTS_PER_SESSION,
    Limits,
    SessionManager,
    TooManySessions,
    receive_loop,
)

log = logging.getLogger("holaf.terminal")

TOKEN_PURPOSE = "terminal"
SESSION_ID_RE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
DEFAULT_ROWS, DEFAULT_COLS = 24, 80
HEARTBEAT_S = 30.0
MAX_MESSAGE_BYTES = 4 * 1024 * 1024
CLOSE_TIMEOUT_S = 3.0

# ``[Terminal]`` is never writable through the settings API: these live in config.ini only.
SETTINGS = [
    Setting("Terminal", "max_sessions", "int", 8, "Most terminal sessions running at once.",
            api_writable=False, minimum=1, maximum=64),
    Setting("Terminal", "idle_timeout_s", "int", 3600,
            "Seconds a session with no open panel and no output keeps running before it is closed (0 = never).",
            api_writable=False, minimum=0, maximum=30 * 24 * 3600),
    Setting("Terminal", "replay_buffer_kb", "int", 256,
            "Recent output kept per session and replayed when a panel reattaches (KiB).",
            api_writable=False, minimum=16, maximum=16384),
]


def _limits(config) -> Limits:
    return Limits(
        max_sessions=config.get("Terminal", "max_sessions"),
        idle_timeout_s=config.get("Terminal", "idle_timeout_s"),
        replay_bytes=config.get("Terminal", "replay_buffer_kb") * 1024,
    )


def _dimension(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= MAX_DIMENSION


def _query_dimension(request: web.Request, name: str, default: int) -> int:
    raw = request.query.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise HolafError(400, f"'{name}' must be a whole number", code="invalid_field") from None
    if not _dimension(value):
        raise HolafError(400, f"'{name}' must be between 1 and {MAX_DIMENSION}", code="invalid_field")
    return value


def setup(ctx, routes) -> None:
    security = ctx.security

    async def launch():
        return await ctx.run_blocking(lambda: build_launch_spec(
            configured_shell=ctx.config.get("Terminal", "shell_command"),
            comfy_root=ctx.paths.comfy_root,
            rc_dir=ctx.paths.data_dir / "terminal",
        ))

    manager = SessionManager(
        launch=launch,
        limits=lambda: _limits(ctx.config),
        password_hash=lambda: security.password_hash,
    )
    ctx.state["terminal_sessions"] = manager
    # Sockets stay open as long as their shell: end the sessions as soon as shutdown begins.
    ctx.add_service("terminal sessions", manager.start, manager.stop, shutdown=manager.stop)

    async def check_password(request: web.Request, password: str) -> bool:
        """The shared, rate-limited check: guessing through this route is no faster than through login."""
        return await ctx.run_blocking(security.check_password, request.remote or "unknown", password)

    @routes.post("/holaf/terminal/auth")
    async def terminal_auth(request: web.Request) -> web.Response:
        """``{"password"}`` → a one-time WebSocket token (60 s, single use) and the login cookie."""
        body = await read_json(request)
        password = field(body, "password", str)
        if not security.password_configured:
            raise HolafError(409, "no password has been set yet: the terminal stays disabled until one is set",
                             code="password_not_set")
        if not await check_password(request, password):
            raise HolafError(401, "wrong password", code="invalid_credentials")
        response = json_ok({"ok": True, "status": "ok", "session_token": security.tokens.issue(TOKEN_PURPOSE),
                            "expires_in_s": security.tokens.ttl_s})
        security.set_session_cookie(response, request)
        return response

    def authorize_upgrade(request: web.Request) -> None:
        """Runs before ``ws.prepare``: a refused client never gets a socket, let alone a shell."""
        if not security.password_configured:
            raise HolafError(409, "no password has been set yet: the terminal stays disabled until one is set",
                             code="password_not_set")
        if security.is_authenticated(request):
            return
        if security.tokens.consume(request.query.get("token"), TOKEN_PURPOSE):
            return
        log.warning("Refused terminal connection from %s: no valid login or token", request.remote)
        raise HolafError(401, "log in first (the token is missing, already used or expired)", code="auth_required")

    @routes.websocket("/holaf/terminal")
    async def terminal_socket(request: web.Request) -> web.StreamResponse:
        authorize_upgrade(request)
        session_id = request.query.get("session") or None
        if session_id is not None and not SESSION_ID_RE.match(session_id):
            raise HolafError(400, "malformed session id", code="invalid_field")
        rows = _query_dimension(request, "rows", DEFAULT_ROWS)
        cols = _query_dimension(request, "cols", DEFAULT_COLS)

        # No permessage-deflate: zlib on every output frame costs the event loop more than it saves
        # on a LAN; a short close timeout keeps shutdown quick when a client does not answer.
        ws = web.WebSocketResponse(heartbeat=HEARTBEAT_S, max_msg_size=MAX_MESSAGE_BYTES, compress=False,
                                   timeout=CLOSE_TIMEOUT_S)
        await ws.prepare(request)

        async def refuse(code: str, message: str, close_code: int) -> web.WebSocketResponse:
            await ws.send_str(json.dumps({"type": "error", "code": code, "message": message}))
            await ws.close(code=close_code, message=code.encode())
            return ws

        created = False
        if session_id is not None:
            session = manager.get(session_id)
            if session is None:
                return await refuse("session_not_found", "that terminal session has ended", CLOSE_SESSION_NOT_FOUND)
            if len(session.clients) >= MAX_CLIENTS_PER_SESSION:
                return await refuse("too_many_clients", f"at most {MAX_CLIENTS_PER_SESSION} windows per session",
                                    CLOSE_TOO_MANY_CLIENTS)
        else:
            try:
                session = await manager.create(rows, cols)
                created = True
            except TooManySessions as exc:
                return await refuse("too_many_sessions", str(exc), CLOSE_TOO_MANY_SESSIONS)
            except (ShellNotFound, PtyUnavailable) as exc:
                return await refuse("shell_unavailable", str(exc), CLOSE_SPAWN_FAILED)
            except OSError as exc:
                log.exception("Could not start a terminal shell")
                return await refuse("shell_unavailable", f"could not start the shell: {exc}", CLOSE_SPAWN_FAILED)

        client = session.attach(ws, request.transport, password_hash=security.password_hash, created=created)
        log.debug("terminal socket from %s attached to %s", request.remote, session.id)

        async def handle(message) -> None:
            if message.type == WSMsgType.TEXT:
                await _handle_text(session, client, message.data)
            elif message.type == WSMsgType.BINARY:
                await session.write_input(message.data)  # raw bytes are input too, never control

        try:
            await receive_loop(ws, client, handle)
        finally:
            await session.detach(client)
        return ws

    @routes.get("/holaf/terminal/sessions", auth=True)
    async def list_sessions(request: web.Request) -> web.Response:
        """Running sessions, for the session list (and how long until idle ones close)."""
        limits = _limits(ctx.config)
        return json_ok({
            "sessions": manager.describe(),
            "max_sessions": limits.max_sessions,
            "idle_timeout_s": limits.idle_timeout_s,
        })

    @routes.post("/holaf/terminal/sessions/{session_id}/kill", auth=True)
    async def kill_session(request: web.Request) -> web.Response:
        """End a session's shell and everything started from it; attached windows are told."""
        session_id = request.match_info["session_id"]
        if not SESSION_ID_RE.match(session_id) or not await manager.kill(session_id, "killed"):
            raise HolafError(404, "no such terminal session", code="session_not_found")
        return json_ok({"ok": True, "killed": session_id})


async def _handle_text(session, client, text: str) -> None:
    """One control message. Anything malformed gets an ``error`` reply; nothing is silently dropped."""
    try:
        message = json.loads(text)
    except ValueError:
        message = None
    if not isinstance(message, dict) or not isinstance(message.get("type"), str):
        client.push_json({"type": "error", "code": "bad_message",
                          "message": 'text messages must be JSON objects such as {"type": "input", "data": "ls\\r"}'})
        return
    kind = message["type"]
    if kind == "input":
        data = message.get("data")
        if not isinstance(data, str):
            client.push_json({"type": "error", "code": "bad_message", "message": "'input' needs a string 'data'"})
            return
        await session.write_input(data.encode("utf-8", "replace"))
    elif kind == "resize":
        rows, cols = message.get("rows"), message.get("cols")
        if not (_dimension(rows) and _dimension(cols)):
            client.push_json({"type": "error", "code": "bad_message",
                              "message": f"'resize' needs whole 'rows' and 'cols' between 1 and {MAX_DIMENSION}"})
            return
        session.resize(rows, cols)
    elif kind in ("pause", "resume"):
        session.hold(client, kind == "pause")
    elif kind == "ping":
        stamp = message.get("t")
        client.push_json({"type": "pong", "t": stamp if isinstance(stamp, (int, float)) and not isinstance(stamp, bool) else None})
    else:
        client.push_json({"type": "error", "code": "unknown_type", "message": f"unknown message type {kind[:40]!r}"})
