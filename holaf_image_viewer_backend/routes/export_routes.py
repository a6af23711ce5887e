"""Export routes.

* ``POST /holaf/images/export`` ``{paths, format, options, metadata, apply_edits}`` → 202
  ``{job, status_url}``. ``format`` is one name (``png``/``jpeg``/``webp``/``tiff`` for
  the images, ``mp4``/``gif`` for the videos; the other kind uses ``options.image_format``
  / ``options.video_format``) or ``{"image": …, "video": …}``. Options: ``quality``
  (JPEG/WEBP 1-100), ``lossless`` (WEBP), ``crf`` (0-51), ``preset`` (x264), ``fps``
  (GIF 1-50), ``width`` (GIF, px).
* ``GET /holaf/images/export`` → the jobs this server still knows.
* ``GET /holaf/images/export/{job}`` → state, progress 0..1, per-file errors and warnings.
* ``GET /holaf/images/export/{job}/download`` → the single file, or one ZIP; the job's
  temporary folder is removed once the whole file has been sent.
* ``DELETE /holaf/images/export/{job}`` → cancels (or discards a finished job's files).
"""
from __future__ import annotations

import logging
import re
from urllib.parse import quote

from aiohttp import web

from ...holaf_http import HolafError, json_ok, read_json
from ..export_jobs import ExportManager, ExportRequestError, JobNotFound, parse_spec

log = logging.getLogger("holaf.export")

_JOB_ID = re.compile(r"^[0-9a-f]{32}$")
CONTENT_TYPES = {".zip": "application/zip", ".png": "image/png", ".jpg": "image/jpeg", ".webp": "image/webp",
                 ".tif": "image/tiff", ".mp4": "video/mp4", ".gif": "image/gif", ".txt": "text/plain; charset=utf-8",
                 ".json": "application/json"}


def _content_disposition(name: str) -> str:
    ascii_name = name.encode("ascii", "replace").decode().replace('"', "_").replace("?", "_")
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name)}"


class _DownloadResponse(web.FileResponse):
    """A file response that reports when the whole file went out (aiohttp ends every response with
    ``write_eof``); a partial (206) or interrupted transfer never gets there with status 200."""

    def __init__(self, path, on_complete, **kwargs) -> None:
        super().__init__(path, **kwargs)
        self._on_complete = on_complete

    async def write_eof(self, data: bytes = b"") -> None:
        await super().write_eof(data)
        if self.status == 200 and self._on_complete is not None:
            callback, self._on_complete = self._on_complete, None
            await callback()


def add_routes(routes, ctx, manager: ExportManager) -> None:
    def job_of(request: web.Request):
        job_id = request.match_info["job"]
        if not _JOB_ID.match(job_id):
            raise HolafError(404, "no such export job", code="not_found")
        try:
            return manager.get(job_id)
        except JobNotFound:
            raise HolafError(404, "no such export job (finished jobs are forgotten after a while)", code="not_found")

    @routes.post("/holaf/images/export")
    async def start_export(request: web.Request) -> web.Response:
        """Queue an export; follow it with the status route or the ``holaf.export.progress`` event."""
        body = await read_json(request)
        try:
            spec = await ctx.run_blocking(parse_spec, body, ctx.paths.output_dir)
        except ExportRequestError as exc:
            raise HolafError(exc.status, str(exc), code="invalid_export", **exc.extra)
        job = manager.create(spec)
        status = job.status()
        return json_ok({**status, "status_url": f"/holaf/images/export/{job.id}"}, status=202)

    @routes.get("/holaf/images/export")
    async def list_exports(request: web.Request) -> web.Response:
        jobs = sorted(manager.jobs.values(), key=lambda j: j.created_at, reverse=True)
        return json_ok({"ok": True, "jobs": [j.status() for j in jobs]})

    @routes.get("/holaf/images/export/{job}")
    async def export_status(request: web.Request) -> web.Response:
        return json_ok(job_of(request).status())

    @routes.get("/holaf/images/export/{job}/download")
    async def export_download(request: web.Request) -> web.StreamResponse:
        """Streams the file from disk (sendfile); a complete 200 transfer cleans the job up."""
        job = job_of(request)
        if job.state == "downloaded":
            raise HolafError(410, "this export was already downloaded and its files removed", code="gone")
        if job.state != "done" or job.download is None:
            raise HolafError(409, f"the export is not ready (state: {job.state})", code="not_ready", state=job.state)
        path = job.download
        if not await ctx.run_blocking(path.is_file):
            raise HolafError(410, "the exported files are gone", code="gone")
        name = job.download_name or path.name
        async def sent() -> None:
            await ctx.run_blocking(manager.downloaded, job)

        return _DownloadResponse(path, sent if request.method == "GET" else None, headers={
            "Content-Disposition": _content_disposition(name),
            "Content-Type": CONTENT_TYPES.get(path.suffix.lower(), "application/octet-stream"),
            "Cache-Control": "no-store",
            "X-Content-Type-Options": "nosniff",
        })

    @routes.delete("/holaf/images/export/{job}")
    async def cancel_export(request: web.Request) -> web.Response:
        job = await manager.cancel(job_of(request).id)
        return json_ok(job.status())
