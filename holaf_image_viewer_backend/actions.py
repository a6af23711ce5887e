"""Image Viewer actions: thumbnails, the trashcan and file operations, metadata tools.

A feature module (listed in ``holaf_app.FEATURES``): it declares its settings and
its own migration components (``thumbnails``, ``file_ops``), builds the
:class:`ThumbnailService` and the :class:`FileOps` engine, registers the routes
and, at start-up, reconciles any file operation a crash interrupted *before* the
thumbnail worker starts. When the index feature is on (``ctx.state["image_index"]``)
its rows follow every file operation (``index_link``); list this feature before the
index in ``FEATURES`` so the reconciliation runs before the index's start-up scan. Other features reach the services through
``ctx.state["holaf.thumbnails"]`` and ``ctx.state["holaf.file_ops"]`` (edits call
``set_variant_provider`` and ``regenerate``).
"""
from __future__ import annotations

import logging

from . import file_ops, thumb_service
from .file_ops import FileOps
from .metadata_tools import MetadataTools
from .routes import file_ops_routes, metadata_tools_routes, thumbnail_routes
from .thumb_service import ThumbnailFollower, ThumbnailService

log = logging.getLogger("holaf.actions")

SETTINGS = list(thumb_service.SETTINGS)
MIGRATIONS = {"thumbnails": thumb_service.MIGRATIONS, "file_ops": file_ops.MIGRATIONS}
CHANGE_EVENT = "holaf.images.changed"


def setup(ctx, routes) -> None:
    service = ThumbnailService(ctx)
    ops = FileOps(ctx.db, ctx.paths.output_dir, listeners=[ThumbnailFollower(service)])
    ctx.state["holaf.thumbnails"] = service
    ctx.state["holaf.file_ops"] = ops

    def on_changed(op: str, results: list[dict]) -> None:
        changed = [{"path": r["path"], "new_path": r.get("new_path")} for r in results if r.get("ok")]
        if changed:
            ctx.events.publish(CHANGE_EVENT, {"reason": op, "count": len(changed), "items": changed[:500]})
            service.wake_backfill()

    tools = MetadataTools(ctx.paths.output_dir, ops.lock)
    ctx.state["holaf.metadata_tools"] = tools
    thumbnail_routes.add_routes(routes, ctx, service)
    file_ops_routes.add_routes(routes, ctx, ops, on_changed)
    metadata_tools_routes.add_routes(routes, ctx, tools, on_changed)

    async def start() -> None:
        if ctx.state.get("image_index") is not None:  # the index feature is on: keep its rows in step
            from . import index_link

            ops.listeners.append(index_link.IndexFollower(ctx))
            service.candidate_source = index_link.thumbnail_candidates(lambda: service.size)
            index = ctx.state["image_index"]
            # Background thumbnails wait (at the bounded busy rate) while the index reads a scan:
            # the scan takes seconds and search, filters and counts wait on it; thumbnails of
            # the tiles on screen are asked for with priority and are not held back.
            service.monitor.add_busy_check(lambda: index.status.state == "scanning")
            service.index_sql = index_link.INDEX_SQL
            tools.on_rewritten = lambda rels: index_link.refresh_files(ctx, rels)
        summary = await ctx.run_blocking(ops.reconcile)
        if summary.get("items"):
            log.warning("Finished %d file operations interrupted by a crash", summary["items"])
        await service.start()

    async def stop() -> None:
        await service.stop()

    ctx.add_service("Image Viewer actions (thumbnails, file operations)", start, stop)
