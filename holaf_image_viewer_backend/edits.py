"""Image Viewer edits and export: a feature module (listed in ``holaf_app.FEATURES``).

It builds the :class:`EditsService` (sidecars) and the :class:`ExportManager`
(jobs), registers their routes, and plugs the edits into the other Image Viewer
parts when they are loaded: the thumbnail service gets a variant provider (the
edit hash joins the cache key and the edit transform is applied to the small
image), saving marks the file as edited in the index and remakes its thumbnail,
(``images.has_edits``, with a change notice so open galleries refresh), and the
sidecar follows the image through the file operations (done by them).
Other features reach the services through ``ctx.state["holaf.edits"]`` and
``ctx.state["holaf.export"]``. No table of its own: export jobs live in memory
and their files in ``<data dir>/temp_exports``, wiped at start-up.
"""
from __future__ import annotations

import logging
from typing import Any

from ..holaf_config import Setting
from .edit_service import EditsService
from .export_jobs import ExportManager
from .export_metadata import read_generation_metadata
from .routes import edit_routes, export_routes

log = logging.getLogger("holaf.edits")

SECTION = "ImageViewer"
UI_SECTION = "ImageViewerUI"
SETTINGS = [
    Setting(SECTION, "export_concurrency", "int", 1, "Export jobs that run at once (each video export already uses every core through ffmpeg).", minimum=1, maximum=4),
    Setting(SECTION, "export_keep_minutes", "int", 60, "An export nobody downloaded is deleted after this many minutes.", minimum=5, maximum=1440),
    Setting(UI_SECTION, "editor_autosave", "bool", True, "Save edits automatically half a second after the last change."),
    # The export dialog remembers its choices here (not shown in the Settings panel).
    Setting(UI_SECTION, "export_image_format", "choice", "png", "Last image export format.", choices=("png", "jpeg", "webp", "tiff"), ui=False),
    Setting(UI_SECTION, "export_video_format", "choice", "mp4", "Last video export format.", choices=("mp4", "gif"), ui=False),
    Setting(UI_SECTION, "export_metadata", "choice", "embed", "Last export metadata choice.", choices=("embed", "sidecar", "strip"), ui=False),
    Setting(UI_SECTION, "export_apply_edits", "bool", True, "Last export 'apply edits' choice.", ui=False),
    Setting(UI_SECTION, "export_jpeg_quality", "int", 95, "JPEG export quality.", minimum=1, maximum=100, ui=False),
    Setting(UI_SECTION, "export_webp_quality", "int", 90, "WEBP export quality.", minimum=1, maximum=100, ui=False),
    Setting(UI_SECTION, "export_webp_lossless", "bool", False, "WEBP lossless export.", ui=False),
    Setting(UI_SECTION, "export_mp4_crf", "int", 23, "MP4 export CRF (lower = better, larger).", minimum=0, maximum=51, ui=False),
    Setting(UI_SECTION, "export_mp4_preset", "choice", "fast", "MP4 export x264 preset.", choices=("ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow", "slower", "veryslow"), ui=False),
    Setting(UI_SECTION, "export_gif_fps", "int", 15, "GIF export frames per second.", minimum=1, maximum=50, ui=False),
    Setting(UI_SECTION, "export_gif_width", "int", 480, "GIF export width in px (0 = the video's width).", minimum=0, maximum=4096, ui=False),
]


def setup(ctx, routes) -> None:
    def file_lock():
        ops = ctx.state.get("holaf.file_ops")
        return getattr(ops, "lock", None)

    service = EditsService(ctx.paths.output_dir, file_lock=file_lock)
    manager = ExportManager(
        output_dir=ctx.paths.output_dir,
        data_dir=ctx.paths.data_dir,
        load_edits=service.edits_for,
        read_metadata=read_generation_metadata,
        publish=ctx.events.publish,
        concurrency=ctx.config.get(SECTION, "export_concurrency"),
        keep_minutes=ctx.config.get(SECTION, "export_keep_minutes"),
    )
    ctx.state["holaf.edits"] = service
    ctx.state["holaf.export"] = manager

    async def after_change(rel: str, has_edits: bool) -> dict[str, Any]:
        """Index flag and thumbnail, when those features are loaded; what the UI needs to refresh the tile."""
        out: dict[str, Any] = {"index_updated": False, "thumbnail": None, "thumbnail_version": None}
        index = ctx.state.get("image_index")
        if index is not None:
            # The scanner also notices the sidecar, on its next pass; this makes the flag exact now.
            try:
                changed = await ctx.db.execute_write(
                    "UPDATE images SET has_edits = ? WHERE path = ? AND has_edits != ?",
                    (int(has_edits), rel, int(has_edits)))
                out["index_updated"] = True
                if changed:
                    index.note_external_change(updated=changed)
            except Exception:
                log.exception("could not record the edit flag of %s in the index", rel)
        thumbs = ctx.state.get("holaf.thumbnails")
        if thumbs is not None:
            try:
                answer = await thumbs.regenerate(rel, wait_s=15.0)
                out["thumbnail"] = answer.state
                out["thumbnail_version"] = answer.inspection.key.version
            except Exception as exc:
                log.warning("could not remake the thumbnail of %s: %s", rel, exc)
                out["thumbnail"] = "failed"
        return out

    thumbs = ctx.state.get("holaf.thumbnails")  # set up before us when listed earlier in FEATURES
    if thumbs is not None:
        thumbs.set_variant_provider(service.thumbnail_variant)

    edit_routes.add_routes(routes, ctx, service, after_change=after_change)
    export_routes.add_routes(routes, ctx, manager)

    async def start() -> None:
        thumbs = ctx.state.get("holaf.thumbnails")
        if thumbs is not None:
            thumbs.set_variant_provider(service.thumbnail_variant)
        await manager.start()

    async def stop() -> None:
        await manager.stop()

    ctx.add_service("Image Viewer edits and export", start, stop)
