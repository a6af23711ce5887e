"""Helpers shared by the index routes."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from aiohttp import web

from ...holaf_http import HolafError, json_dumps
from ...holaf_security import resolve_user_path

MAX_PATHS = 5000


def clean_rel(raw: Any) -> str:
    """A request path in the index's spelling: ``/`` separators, no ``.`` or empty parts."""
    return "/".join(p for p in str(raw).replace("\\", "/").split("/") if p not in ("", "."))


def checked_rel_path(ctx, raw: Any, *, must_exist: bool = False) -> tuple[str, Path]:
    """Validate a path from a request (4xx on anything unsafe); returns (relative, absolute)."""
    if raw is None or raw == "":
        raise HolafError(400, "missing 'path'", code="missing_field")
    absolute = resolve_user_path(ctx.paths.output_dir, raw, must_exist=must_exist)
    return clean_rel(raw), absolute


def path_list(ctx, body: dict, name: str = "paths") -> list[str]:
    value = body.get(name)
    if not isinstance(value, list) or not value:
        raise HolafError(400, f"'{name}' must be a non-empty list of relative paths", code="invalid_field")
    if len(value) > MAX_PATHS:
        raise HolafError(400, f"'{name}' has too many items (max {MAX_PATHS})", code="invalid_field")
    out = []
    for raw in value:
        rel, _ = checked_rel_path(ctx, raw)
        out.append(rel)
    return list(dict.fromkeys(out))


def json_bytes(payload: Any, *, status: int = 200, headers: dict | None = None) -> web.Response:
    """A JSON response from a payload already built (and possibly encoded) off the loop."""
    body = payload if isinstance(payload, (bytes, bytearray)) else json_dumps(payload).encode("utf-8")
    return web.Response(body=body, status=status, content_type="application/json", headers=headers)
