"""``GET /holaf/images/scan-status`` and ``POST /holaf/images/maintenance/sync-database``."""
from __future__ import annotations

import asyncio

from aiohttp import web

from ...holaf_http import HolafError, field, json_ok, read_json

MAX_WAIT_S = 600


def add_routes(ctx, routes, index, watcher) -> None:
    @routes.get("/holaf/images/scan-status")
    async def scan_status(request: web.Request) -> web.Response:
        """``{"state": "scanning"|"idle", "done", "found", …}`` plus how live updates are received."""
        status = index.scan_status()
        status["watch"] = watcher.describe()
        return json_ok(status)

    @routes.post("/holaf/images/maintenance/sync-database")
    async def sync_database(request: web.Request) -> web.Response:
        """Reconcile the index with the disk now. ``wait``: answer when done; ``force``: re-read all metadata."""
        body = await read_json(request, allow_empty=True)
        wait = field(body, "wait", bool, False)
        force = field(body, "force", bool, False)
        timeout = field(body, "timeout_s", (int, float), MAX_WAIT_S)
        if not 0 < timeout <= MAX_WAIT_S:
            raise HolafError(400, f"'timeout_s' must be between 0 and {MAX_WAIT_S}", code="invalid_field")
        ticket = index.request_scan(force=force, reason="sync-database")
        if not wait:
            return json_ok({"ok": True, "status": "started", "scan": index.scan_status()}, status=202)
        try:
            result = await asyncio.wait_for(asyncio.shield(asyncio.wrap_future(ticket.done)), timeout)
        except asyncio.TimeoutError:
            return json_ok({"ok": True, "status": "running", "scan": index.scan_status()}, status=202)
        except RuntimeError as exc:
            raise HolafError(503, f"the scan did not finish: {exc}", code="scan_failed")
        return json_ok({"ok": True, "status": "ok", "result": result, "scan": index.scan_status()})
