"""``GET /holaf/images/metadata?path=``: prompt, workflow, parsed parameters and where each came from.

The graphs are read from the file itself (about a millisecond with the header
walkers) rather than stored in the database; the row adds what only the index
knows: tags, rating, trash state.
"""
from __future__ import annotations

import os

from aiohttp import web

from ...holaf_http import HolafError, json_dumps
from .. import logic, records, store
from .common import checked_rel_path, json_bytes

PARAMETER_KEYS = ("positive", "negative", "seed", "steps", "cfg", "sampler", "scheduler", "model", "loras",
                  "denoise", "width", "height", "samplers")


def describe(rel: str, info, detail: dict | None, size: int, mtime_ns: int) -> dict:
    """The JSON answer from the library's ``MediaInfo`` plus the stored row (when indexed)."""
    params = info.params.to_dict()
    row = (detail or {}).get("row") or {}
    sources = dict(info.sources)
    folder, name, _ = logic.split_path(rel)
    return {
        "path": rel,
        "indexed": detail is not None,
        "prompt": info.prompt,
        "workflow": info.workflow,
        "parameters": {key: params.get(key) for key in PARAMETER_KEYS},
        "parameters_text": info.parameters,
        "sources": sources,
        "error": info.error,
        "tags": (detail or {}).get("tags") or [],
        "rating": row.get("rating", info.rating or 0),
        "generator": info.generator,
        "companion_png": info.companion_png,
        "extension_mismatch": bool(info.extension_mismatch),
        "warnings": list(info.warnings),
        "file": {
            "name": name, "folder": folder, "kind": info.kind, "format": info.format, "size": size,
            "mtime": mtime_ns / 1e9, "width": info.width, "height": info.height, "duration": info.duration,
            "fps": info.fps, "frame_count": info.frame_count, "animated": bool(info.animated),
            "has_audio": bool(info.has_audio), "is_trashed": bool(row.get("is_trashed")),
            "original_path": row.get("original_path"),
        },
        # Names the earlier tool's clients read.
        "prompt_source": sources.get("prompt"),
        "workflow_source": sources.get("workflow"),
    }


def add_routes(ctx, routes, index) -> None:
    extensions = index.walker.extensions

    def read(rel: str, absolute: str, detail: dict | None) -> bytes:
        """Read and encode off the event loop (a workflow can be megabytes of JSON)."""
        try:
            st = os.stat(absolute)
        except OSError:
            raise HolafError(404, f"not found: {rel}")
        info = records.read_info(index.root, rel, ffprobe=index.ffprobe)
        return json_dumps(describe(rel, info, detail, st.st_size, st.st_mtime_ns)).encode("utf-8")

    @routes.get("/holaf/images/metadata")
    async def image_metadata(request: web.Request) -> web.Response:
        """Full metadata of one file, indexed or not (yet)."""
        raw = request.query.get("path")
        if raw is None and "filename" in request.query:  # the earlier tool's parameters
            raw = "/".join(p for p in (request.query.get("subfolder", ""), request.query["filename"]) if p)
        rel, absolute = checked_rel_path(ctx, raw)
        if logic.ext_of(rel.rpartition("/")[2]) not in extensions:
            raise HolafError(415, "not a media file this viewer indexes", code="unsupported_type")
        detail = await ctx.db.execute_fn(lambda conn: store.image_detail(conn, rel))
        if not os.path.isfile(absolute):
            raise HolafError(404, f"not found: {rel}")
        payload = await ctx.run_blocking(read, rel, str(absolute), detail)
        if detail is None and not rel.startswith(logic.TRASH_DIR + "/"):
            index.notify_file(rel)  # not indexed yet: let the index catch up
        return json_bytes(payload)
