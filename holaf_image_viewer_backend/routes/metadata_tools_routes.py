"""Metadata tool routes (paths kept from the earlier tool): extract, inject, strip.

``{"paths": [...], "force": false}`` → one result per file: ``ok``, ``conflict``
(an existing sidecar or embedded value, left alone without ``force``) or
``error``. HTTP 200 when every file succeeded, 207 otherwise.
"""
from __future__ import annotations

from aiohttp import web

from ...holaf_http import HolafError, field, read_json
from ..metadata_tools import MetadataTools
from .file_ops_routes import MAX_PATHS, answer


def _paths(body: dict) -> list:
    key = "paths" if "paths" in body or "paths_canon" not in body else "paths_canon"
    paths = field(body, key, list, max_items=MAX_PATHS)
    if not paths:
        raise HolafError(400, "'paths' is empty", code="invalid_field")
    return paths


def add_routes(routes, ctx, tools: MetadataTools, on_changed) -> None:
    async def run(op: str, fn, *args, **kwargs) -> web.Response:
        results = await ctx.run_blocking(lambda: fn(*args, **kwargs))
        on_changed(op, [r for r in results if r.get("changed")])
        conflicts = sum(1 for r in results if r.get("status") == "conflict")
        return answer(op, results, conflicts=conflicts)

    @routes.post("/holaf/images/extract-metadata")
    async def extract_metadata(request: web.Request) -> web.Response:
        """Embedded prompt/workflow → ``<base>.txt``/``<base>.json``, removed from the file (lossless)."""
        body = await read_json(request)
        return await run("extract-metadata", tools.extract, _paths(body), force=field(body, "force", bool, False))

    @routes.post("/holaf/images/inject-metadata")
    async def inject_metadata(request: web.Request) -> web.Response:
        """``<base>.txt``/``<base>.json`` → embedded in the file (lossless); the sidecars are removed."""
        body = await read_json(request)
        return await run("inject-metadata", tools.inject, _paths(body), force=field(body, "force", bool, False))

    @routes.post("/holaf/images/strip-metadata")
    async def strip_metadata(request: web.Request) -> web.Response:
        """Remove embedded prompt/workflow/parameters (``all_text``: every PNG text chunk) without sidecars."""
        body = await read_json(request)
        return await run("strip-metadata", tools.strip, _paths(body), all_text=field(body, "all_text", bool, False))
