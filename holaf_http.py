"""HTTP plumbing every route module shares: one error envelope, JSON parsing, and
a route registrar that applies the security rules so no handler can forget them.

Every error answers ``{"ok": false, "error": "<human message>", "code": "<slug>"}``
with a 4xx/5xx status (plus optional details). Handlers raise :class:`HolafError`
(or let :class:`~holaf_security.UnsafePathError` bubble) and stay thin.

The registrar wraps each handler:

* POST/PUT/PATCH/DELETE and WebSocket upgrades get the Origin check first;
* ``auth=True`` routes need a valid session cookie;
* exceptions become the envelope instead of aiohttp's HTML pages.

It registers onto any ``web.RouteTableDef``: ComfyUI's
``PromptServer.instance.routes`` inside ComfyUI, our own table standalone.
"""
from __future__ import annotations

import asyncio
import json
import logging
import math
from dataclasses import dataclass
from typing import Any, Awaitable, Callable

from aiohttp import web

from .holaf_security import LoginRateLimited, UnsafePathError

log = logging.getLogger("holaf.http")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
MAX_JSON_BYTES = 16 * 1024 * 1024
MISSING = object()


class HolafError(Exception):
    """An expected failure with an HTTP status and a message the user can act on."""

    def __init__(self, status: int, message: str, *, code: str | None = None, headers: dict | None = None, **extra: Any) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code or _default_code(status)
        self.headers = headers
        self.extra = extra


def _default_code(status: int) -> str:
    return {
        400: "bad_request", 401: "auth_required", 403: "forbidden", 404: "not_found", 409: "conflict",
        413: "too_large", 422: "unprocessable", 429: "rate_limited", 503: "unavailable",
    }.get(status, "error" if status < 500 else "internal_error")


def error_response(status: int, message: str, *, code: str | None = None, headers: dict | None = None, **extra: Any) -> web.Response:
    body = {"ok": False, "error": message, "code": code or _default_code(status), **extra}
    return web.json_response(body, status=status, headers=headers, dumps=json_dumps)


def json_dumps(value: Any) -> str:
    """Compact JSON; NaN/Infinity (which ComfyUI graphs contain) become null so browsers can parse it."""
    try:
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    except ValueError:
        return json.dumps(_strip_nan(value), separators=(",", ":"), ensure_ascii=False)


def _strip_nan(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _strip_nan(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_strip_nan(v) for v in value]
    return value


def json_ok(data: Any = None, *, status: int = 200, headers: dict | None = None) -> web.Response:
    return web.json_response(data if data is not None else {"ok": True}, status=status, headers=headers, dumps=json_dumps)


async def read_json(request: web.Request, *, max_bytes: int = MAX_JSON_BYTES, allow_empty: bool = False) -> dict:
    """The request body as a JSON object, or a 400/413 envelope explaining what is wrong."""
    if request.content_length is not None and request.content_length > max_bytes:
        raise HolafError(413, f"request body too large (max {max_bytes} bytes)")
    raw = await request.content.read(max_bytes + 1)
    if len(raw) > max_bytes:
        raise HolafError(413, f"request body too large (max {max_bytes} bytes)")
    if not raw.strip():
        if allow_empty:
            return {}
        raise HolafError(400, "request body must be a JSON object", code="invalid_json")
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise HolafError(400, f"request body is not valid JSON: {exc}", code="invalid_json") from None
    if not isinstance(data, dict):
        raise HolafError(400, "request body must be a JSON object", code="invalid_json")
    return data


def field(body: dict, name: str, kind: type | tuple, default: Any = MISSING, *, max_items: int | None = None) -> Any:
    """Fetch ``body[name]`` checking its type; a clear 400 when missing or wrong.

    ``kind`` may be a type or tuple of types; ``bool`` is never accepted as an int.
    For lists, ``max_items`` caps the length.
    """
    if name not in body or body[name] is None:
        if default is MISSING:
            raise HolafError(400, f"missing field '{name}'", code="missing_field")
        return default
    value = body[name]
    kinds = kind if isinstance(kind, tuple) else (kind,)
    if isinstance(value, bool) and bool not in kinds:
        raise HolafError(400, f"field '{name}' has the wrong type", code="invalid_field")
    if not isinstance(value, kinds):
        names = "/".join(k.__name__ for k in kinds)
        raise HolafError(400, f"field '{name}' must be of type {names}", code="invalid_field")
    if max_items is not None and isinstance(value, (list, dict)) and len(value) > max_items:
        raise HolafError(400, f"field '{name}' has too many items (max {max_items})", code="invalid_field")
    return value


@dataclass(frozen=True)
class RouteInfo:
    method: str
    path: str
    auth: bool
    origin_checked: bool
    handler_name: str


class Routes:
    """Registers handlers on a RouteTableDef with the security wrapper applied."""

    MUTATING = frozenset({"POST", "PUT", "PATCH", "DELETE"})

    def __init__(self, table: web.RouteTableDef, security) -> None:
        self.table = table
        self.security = security
        self.registered: list[RouteInfo] = []

    def get(self, path: str, *, auth: bool = False):
        return self._decorator("GET", path, auth=auth)

    def post(self, path: str, *, auth: bool = False):
        return self._decorator("POST", path, auth=auth)

    def put(self, path: str, *, auth: bool = False):
        return self._decorator("PUT", path, auth=auth)

    def delete(self, path: str, *, auth: bool = False):
        return self._decorator("DELETE", path, auth=auth)

    def websocket(self, path: str, *, auth: bool = False):
        """A GET route that upgrades to a WebSocket: Origin is checked before the handler runs."""
        return self._decorator("GET", path, auth=auth, websocket=True)

    def _decorator(self, method: str, path: str, *, auth: bool, websocket: bool = False):
        def register(handler: Handler) -> Handler:
            origin_checked = websocket or method in self.MUTATING
            wrapped = self.wrap(handler, origin_checked=origin_checked, auth=auth)
            self.table.route(method, path)(wrapped)
            self.registered.append(RouteInfo(method, path, auth, origin_checked, handler.__qualname__))
            return handler

        return register

    def wrap(self, handler: Handler, *, origin_checked: bool, auth: bool) -> Handler:
        security = self.security

        async def guarded(request: web.Request) -> web.StreamResponse:
            try:
                if origin_checked:
                    problem = security.origin_problem(request)
                    if problem:
                        log.warning("Refused %s %s: %s", request.method, request.path, problem)
                        return error_response(403, problem, code="cross_site")
                if auth and not security.is_authenticated(request):
                    return error_response(
                        401, "log in with the Holaf Utilities password first", code="auth_required",
                        password_configured=security.password_configured,
                    )
                return await handler(request)
            except HolafError as exc:
                return error_response(exc.status, exc.message, code=exc.code, headers=exc.headers, **exc.extra)
            except LoginRateLimited as exc:
                return error_response(429, str(exc), code="rate_limited",
                                      headers={"Retry-After": str(exc.retry_after)}, retry_after=exc.retry_after)
            except UnsafePathError as exc:
                return error_response(exc.status, f"invalid path: {exc}", code="invalid_path")
            except (web.HTTPException, asyncio.CancelledError, ConnectionResetError):
                raise
            except Exception as exc:  # the envelope, never a stack trace page
                log.exception("Unhandled error in %s %s", request.method, request.path)
                return error_response(500, f"internal error: {type(exc).__name__}: {exc}")

        guarded.__name__ = getattr(handler, "__name__", "handler")
        guarded.__qualname__ = getattr(handler, "__qualname__", guarded.__name__)
        guarded.__doc__ = handler.__doc__
        return guarded
