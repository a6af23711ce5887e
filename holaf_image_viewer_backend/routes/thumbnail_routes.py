"""Thumbnail routes (paths kept from the earlier tool).

``GET /holaf/images/thumbnail?path=…[&v=…]`` answers the cached WebP with an ETag
(and ``Cache-Control: immutable`` when the URL carries a version ``v``, e.g. the
index's ``mtime_ns``), or makes it now (waiting up to ``thumbnail_wait_ms``), or
answers 202 + ``Retry-After`` while it is queued, or 422 with the reason after a
permanent failure (retried only through the regenerate routes).
"""
from __future__ import annotations

from aiohttp import web

from ...holaf_http import HolafError, field, json_ok, read_json
from ...holaf_security import UnsafePathError
from ..thumb_service import ThumbnailService

MAX_PRIORITY_PATHS = 1000
CONTENT_TYPES = {".webp": "image/webp", ".jpg": "image/jpeg"}


def _path_param(body_or_query, *, required: bool = True):
    value = body_or_query.get("path")
    if value is None:
        value = body_or_query.get("path_canon")  # the earlier tool's name
    if value is None and required:
        raise HolafError(400, "missing field 'path'", code="missing_field")
    if value is not None and not isinstance(value, str):
        raise HolafError(400, "field 'path' must be a string", code="invalid_field")
    return value


def _paths_field(body: dict, *, max_items: int) -> list:
    key = "paths" if "paths" in body else "paths_canon"
    paths = field(body, key if key in body else "paths", list, max_items=max_items)
    if not all(isinstance(p, str) for p in paths):
        raise HolafError(400, "every path must be a string", code="invalid_field")
    return paths


async def _inspect_errors(coro):
    try:
        return await coro
    except UnsafePathError:
        raise
    except FileNotFoundError:
        raise HolafError(404, "file not found", code="not_found")
    except IsADirectoryError:
        raise HolafError(400, "not a file", code="not_a_file")
    except ValueError as exc:
        raise HolafError(415, str(exc), code="unsupported_type")


def add_routes(routes, ctx, service: ThumbnailService) -> None:
    @routes.get("/holaf/images/thumbnail")
    async def thumbnail(request: web.Request) -> web.StreamResponse:
        """The thumbnail of one file: 200 (cached or just made), 304, 202 while queued, 422 if unreadable."""
        rel = _path_param(request.query)
        force = request.query.get("force_regen") in ("1", "true")
        answer = await _inspect_errors(service.request(rel, force=force))
        info = answer.inspection
        if answer.state == "failed":
            raise HolafError(422, f"no thumbnail: {answer.error}", code="thumbnail_failed", reason=answer.code)
        if answer.state == "queued":
            return json_ok({"ok": True, "status": "queued", "retry_after": answer.retry_after}, status=202,
                           headers={"Retry-After": str(answer.retry_after), "Cache-Control": "no-store"})
        headers = {
            "ETag": info.key.etag,
            "Cache-Control": "public, max-age=31536000, immutable" if request.query.get("v") else "no-cache",
            "X-Content-Type-Options": "nosniff",
        }
        if request.headers.get("If-None-Match") == info.key.etag:
            return web.Response(status=304, headers=headers)
        try:
            body = await ctx.run_blocking(info.file.read_bytes)
        except FileNotFoundError:  # replaced by a newer version between the two steps
            return json_ok({"ok": True, "status": "queued"}, status=202, headers={"Retry-After": "1"})
        return web.Response(body=body, content_type=CONTENT_TYPES.get(info.file.suffix, "image/webp"), headers=headers)

    @routes.post("/holaf/images/prioritize-thumbnails")
    async def prioritize(request: web.Request) -> web.Response:
        """The tiles on screen, top first: generated before anything else that is queued."""
        body = await read_json(request)
        paths = _paths_field(body, max_items=MAX_PRIORITY_PATHS)
        result = await ctx.run_blocking(service.prioritize, paths)
        return json_ok({"ok": True, "status": "accepted", **result}, status=202)

    @routes.post("/holaf/images/regenerate-thumbnail")
    async def regenerate(request: web.Request) -> web.Response:
        """Make one thumbnail again now (after an edit, or to retry an "unreadable" file)."""
        body = await read_json(request)
        rel = _path_param(body)
        answer = await _inspect_errors(service.regenerate(rel))
        if answer.state == "failed":
            raise HolafError(422, f"no thumbnail: {answer.error}", code="thumbnail_failed", reason=answer.code)
        return json_ok({"ok": True, "status": "ok" if answer.state == "ready" else "queued",
                        "path": answer.inspection.rel_path, "version": answer.inspection.key.name})

    @routes.post("/holaf/images/regenerate-failed")
    async def regenerate_failed(request: web.Request) -> web.Response:
        """Forget every recorded failure and queue those files again."""
        count = await service.regenerate_failed()
        return json_ok({"ok": True, "status": "ok", "reset_count": count})

    @routes.get("/holaf/images/thumbnail-stats")
    async def thumbnail_stats(request: web.Request) -> web.Response:
        """done / pending / failed, for the progress indicator."""
        await ctx.run_blocking(service.flush)
        stats = await ctx.db.execute_fn(service.stats)
        return json_ok({"ok": True, **stats})

    @routes.post("/holaf/images/maintenance/clean-thumbnails")
    async def clean_thumbnails(request: web.Request) -> web.Response:
        """Delete orphan and stale thumbnails; missing ones go back to the queue."""
        await ctx.run_blocking(service.flush)
        details = await ctx.run_blocking(service.clean)
        return json_ok({"ok": True, "status": "ok", "details": details})
