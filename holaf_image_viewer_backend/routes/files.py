"""``GET /holaf/images/full?path=``: the original file, streamed, cacheable, with Range support."""
from __future__ import annotations

import os
import stat as _stat
from urllib.parse import quote

from aiohttp import web

from ...holaf_http import HolafError
from .. import logic
from .common import checked_rel_path

CONTENT_TYPES = {
    "png": "image/png", "apng": "image/apng", "jpg": "image/jpeg", "jpeg": "image/jpeg", "jpe": "image/jpeg",
    "jfif": "image/jpeg", "webp": "image/webp", "gif": "image/gif", "bmp": "image/bmp", "tif": "image/tiff",
    "tiff": "image/tiff", "avif": "image/avif", "mp4": "video/mp4", "m4v": "video/mp4", "webm": "video/webm",
    "mov": "video/quicktime", "mkv": "video/x-matroska", "wav": "audio/wav", "mp3": "audio/mpeg",
    "flac": "audio/flac", "ogg": "audio/ogg", "oga": "audio/ogg", "opus": "audio/ogg", "m4a": "audio/mp4",
}
REVALIDATE = "private, max-age=60"
IMMUTABLE = "private, max-age=31536000, immutable"


def add_routes(ctx, routes, index) -> None:
    extensions = index.walker.extensions

    @routes.get("/holaf/images/full")
    async def full_file(request: web.Request) -> web.StreamResponse:
        """Stream a media file. ETag = mtime+size; with ``v=<version>`` from /list the answer is immutable."""
        rel, absolute = checked_rel_path(ctx, request.query.get("path"), must_exist=True)
        ext = logic.ext_of(rel.rpartition("/")[2])
        if ext not in extensions:
            raise HolafError(415, f"not a media file this viewer serves: .{ext}", code="unsupported_type")
        try:
            st = await ctx.run_blocking(os.stat, absolute)
        except OSError:
            raise HolafError(404, f"not found: {rel}")
        if not _stat.S_ISREG(st.st_mode):
            raise HolafError(404, f"not a file: {rel}")
        version = f"{st.st_mtime_ns:x}-{st.st_size:x}"
        name = rel.rpartition("/")[2]
        headers = {
            "Content-Type": CONTENT_TYPES.get(ext, "application/octet-stream"),
            "Cache-Control": IMMUTABLE if request.query.get("v") == version else REVALIDATE,
            "Content-Disposition": f"inline; filename*=UTF-8''{quote(name)}",
            "X-Content-Type-Options": "nosniff",
            "Accept-Ranges": "bytes",
        }
        return web.FileResponse(absolute, headers=headers)
