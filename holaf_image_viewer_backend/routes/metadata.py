"""``GET /holaf/images/metadata?path=``: prompt, workflow, parsed parameters and where each came from."""
from __future__ import annotations

import json
import os

from aiohttp import web

from ...holaf_http import HolafError
from .. import logic, records, store
from ..metadata import media_kind
from ..metadata.media_types import format_for_extension
from .common import checked_rel_path, json_bytes

PARAMETER_KEYS = ("positive", "negative", "seed", "steps", "cfg", "sampler", "scheduler", "model", "loras",
                  "denoise", "width", "height", "samplers")


def _shape(rel: str, detail: dict, *, indexed: bool) -> dict:
    row = detail["row"]
    params = detail["params"] or {}
    extra = detail["extra"] or {}
    return {
        "path": rel,
        "indexed": indexed,
        "prompt": detail["prompt"],
        "workflow": detail["workflow"],
        "parameters": {key: params.get(key) for key in PARAMETER_KEYS},
        "parameters_text": detail["parameters_text"],
        "sources": detail["sources"],
        "error": row.get("error"),
        "tags": detail["tags"],
        "rating": row.get("rating", 0),
        "generator": extra.get("generator"),
        "companion_png": extra.get("companion_png"),
        "extension_mismatch": extra.get("extension_mismatch", False),
        "warnings": extra.get("warnings", []),
        "file": {
            "name": row.get("name"), "folder": row.get("folder"), "kind": row.get("kind"),
            "format": row.get("format"), "size": row.get("size"),
            "mtime": (row.get("mtime_ns") or 0) / 1e9, "width": row.get("width"), "height": row.get("height"),
            "duration": row.get("duration"), "fps": row.get("fps"), "frame_count": extra.get("frame_count"),
            "animated": bool(row.get("animated")), "has_audio": bool(row.get("has_audio")),
            "is_trashed": bool(row.get("is_trashed")), "original_path": row.get("original_path"),
        },
        # Earlier clients read these two names.
        "prompt_source": (detail["sources"] or {}).get("prompt"),
        "workflow_source": (detail["sources"] or {}).get("workflow"),
    }


def _live_detail(index, rel: str) -> dict:
    """Read a file that is not (yet) in the index, the same way the scanner would."""
    size, mtime_ns, record = records.extract_record(index.root, rel, ffprobe=index.ffprobe)
    if record.get("missing"):
        raise HolafError(404, f"not found: {rel}")
    folder, name, _ = logic.split_path(rel)
    row = {
        "name": name, "folder": folder, "kind": record.get("kind") or media_kind(name),
        "format": record.get("format") or format_for_extension(name), "size": size, "mtime_ns": mtime_ns,
        "width": record.get("width"), "height": record.get("height"), "duration": record.get("duration"),
        "fps": record.get("fps"), "animated": record.get("animated"), "has_audio": record.get("has_audio"),
        "error": record.get("error"), "rating": record.get("rating") or 0,
    }
    params = json.loads(record["params_json"]) if record.get("params_json") else {}
    params.setdefault("positive", record.get("positive") or None)
    params.setdefault("negative", record.get("negative") or None)
    return {
        "row": row, "prompt": records.decompress_json(record.get("prompt_z")),
        "workflow": records.decompress_json(record.get("workflow_z")), "parameters_text": record.get("parameters"),
        "params": params, "sources": json.loads(record["sources_json"]) if record.get("sources_json") else {},
        "extra": json.loads(record["extra_json"]) if record.get("extra_json") else {}, "tags": record.get("tags") or [],
    }


def add_routes(ctx, routes, index) -> None:
    extensions = index.walker.extensions

    @routes.get("/holaf/images/metadata")
    async def image_metadata(request: web.Request) -> web.Response:
        """Full metadata of one file: from the index, or read live when it is not indexed yet."""
        raw = request.query.get("path")
        if raw is None and "filename" in request.query:  # the earlier tool's parameters
            raw = "/".join(p for p in (request.query.get("subfolder", ""), request.query["filename"]) if p)
        rel, absolute = checked_rel_path(ctx, raw)
        if logic.ext_of(rel.rpartition("/")[2]) not in extensions:
            raise HolafError(415, "not a media file this viewer indexes", code="unsupported_type")
        detail = await ctx.db.execute_fn(lambda conn: store.metadata_detail(conn, rel))
        if detail is not None and detail["row"].get("metadata_at") is not None:
            return json_bytes(await ctx.run_blocking(lambda: _shape(rel, detail, indexed=True)))
        if not os.path.isfile(absolute):
            raise HolafError(404, f"not found: {rel}")
        live = await ctx.run_blocking(_live_detail, index, rel)
        if detail is not None:
            live["tags"] = detail["tags"]
            live["row"]["rating"] = detail["row"].get("rating", 0)
        index.notify_file(rel)
        return json_bytes(await ctx.run_blocking(lambda: _shape(rel, live, indexed=detail is not None)))
