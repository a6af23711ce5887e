"""Trashcan and file-operation routes (paths kept from the earlier tool).

Every operation takes ``{"paths": [relative paths]}`` plus its own options and
answers one result per file (``ok`` or ``error`` with a reason): HTTP 200 when
every file succeeded, 207 when some did not. Permanent deletion needs
``"confirm": true``. The registrar Origin-checks all of them.
"""
from __future__ import annotations

from aiohttp import web

from ...holaf_http import HolafError, field, json_ok, read_json
from ..file_ops import FileOpError, FileOps

MAX_PATHS = 20_000


def _paths(body: dict) -> list:
    key = "paths" if "paths" in body or "paths_canon" not in body else "paths_canon"
    paths = field(body, key, list, max_items=MAX_PATHS)
    if not paths:
        raise HolafError(400, "'paths' is empty", code="invalid_field")
    return paths


def _confirmed(body: dict) -> None:
    if body.get("confirm") is not True:
        raise HolafError(400, "permanent deletion needs \"confirm\": true in the request", code="confirmation_required")


def answer(op: str, results: list[dict], **extra) -> web.Response:
    failed = sum(1 for r in results if not r["ok"])
    status = "ok" if not failed else ("partial" if failed < len(results) else "error")
    body = {"ok": not failed, "status": status, "operation": op, "results": results,
            "counts": {"ok": len(results) - failed, "error": failed}, **extra}
    return json_ok(body, status=200 if not failed else 207)


def add_routes(routes, ctx, ops: FileOps, on_changed) -> None:
    async def run(op: str, fn, *args, **kwargs) -> list[dict]:
        try:
            results = await ctx.run_blocking(lambda: fn(*args, **kwargs))
        except FileOpError as exc:
            raise HolafError(400, exc.message, code=exc.code)
        on_changed(op, results)
        return results

    @routes.post("/holaf/images/delete")
    async def trash(request: web.Request) -> web.Response:
        """Move files (and their sidecars) to ``trashcan/<their folder>/``."""
        body = await read_json(request)
        return answer("trash", await run("trash", ops.trash, _paths(body)))

    @routes.post("/holaf/images/restore")
    async def restore(request: web.Request) -> web.Response:
        """Put trashed files back where they were; refused per file when that place is taken."""
        body = await read_json(request)
        return answer("restore", await run("restore", ops.restore, _paths(body)))

    @routes.post("/holaf/images/delete-permanently")
    async def delete_permanently(request: web.Request) -> web.Response:
        """Remove files and their sidecars for good (trashed or not). Needs ``confirm: true``."""
        body = await read_json(request)
        paths = _paths(body)
        _confirmed(body)
        return answer("delete", await run("delete", ops.delete, paths))

    @routes.post("/holaf/images/empty-trashcan")
    async def empty_trashcan(request: web.Request) -> web.Response:
        """Delete everything in the trashcan. Needs ``confirm: true``."""
        body = await read_json(request, allow_empty=True)
        _confirmed(body)
        outcome = await ctx.run_blocking(ops.empty_trash)
        on_changed("delete", outcome["results"])
        return answer("empty-trashcan", outcome["results"], other_files_removed=outcome["other_files_removed"])

    @routes.post("/holaf/images/move")
    async def move(request: web.Request) -> web.Response:
        """``{"paths", "destination": "<folder under the output root>", "on_conflict": "error"|"rename"}``."""
        body = await read_json(request)
        paths = _paths(body)
        destination = field(body, "destination", str)
        on_conflict = field(body, "on_conflict", str, "error")
        if on_conflict not in ("error", "rename"):
            raise HolafError(400, "'on_conflict' must be 'error' or 'rename'", code="invalid_field")
        return answer("move", await run("move", ops.move, paths, destination, on_conflict=on_conflict))

    @routes.post("/holaf/images/rename")
    async def rename(request: web.Request) -> web.Response:
        """``{"paths": [p], "new_names": [n]}`` (or ``{"path", "new_name"}``); the extension stays."""
        body = await read_json(request)
        if "path" in body or "new_name" in body:
            paths = [field(body, "path", str)]
            names = [field(body, "new_name", str)]
        else:
            paths = _paths(body)
            names = field(body, "new_names", list, max_items=MAX_PATHS)
            if len(names) != len(paths):
                raise HolafError(400, "'new_names' must have one name per path", code="invalid_field")
        on_conflict = field(body, "on_conflict", str, "error")
        if on_conflict not in ("error", "rename"):
            raise HolafError(400, "'on_conflict' must be 'error' or 'rename'", code="invalid_field")
        return answer("rename", await run("rename", ops.rename, paths, names, on_conflict=on_conflict))
