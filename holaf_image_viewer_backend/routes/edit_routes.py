"""Edit-sidecar routes (paths kept from the earlier tool), plus the frame-rate change.

* ``GET  /holaf/images/load-edits?path=…`` → ``{edits (stacked layout) | null, has_edits,
  source: "edit"|"legacy"|null, hash, variant, warnings, error, video?}``
* ``POST /holaf/images/save-edits`` ``{path, edits, base_hash?}`` → the stored edits, the
  thumbnail state and its new version. ``base_hash`` (the ``hash`` last loaded) makes
  a save from a stale tab fail with 409 instead of overwriting newer edits.
* ``POST /holaf/images/delete-edits`` ``{path}``
* ``POST /holaf/images/change-fps`` ``{path, fps, audio: "drop"|"retime"}`` → a new file.

Every path goes through ``resolve_user_path``; the registrar Origin-checks the POSTs.
"""
from __future__ import annotations

import logging

from aiohttp import web

from ...holaf_http import HolafError, field, json_ok, read_json
from ...holaf_security import relative_to_root
from ..change_fps import AUDIO_MODES, FPS_RANGE, ChangeFpsError, change_fps
from ..edit_model import EditValidationError
from ..edit_service import EditConflict, EditsService
from ..ffmpeg_run import FfmpegError
from ..media_probe import ProbeError, probe_video
from ..thumbnails import media_kind

log = logging.getLogger("holaf.edits")

CHANGE_EVENT = "holaf.images.changed"
EDITS_EVENT = "holaf.images.edits-changed"


def _path_of(source) -> str:
    value = source.get("path")
    if value is None:
        value = source.get("path_canon")  # the earlier tool's name
    if value is None:
        raise HolafError(400, "missing field 'path'", code="missing_field")
    if not isinstance(value, str):
        raise HolafError(400, "field 'path' must be a string", code="invalid_field")
    return value


def add_routes(routes, ctx, service: EditsService, *, after_change) -> None:
    async def resolve(rel: str):
        try:
            return await ctx.run_blocking(service.resolve, rel)
        except EditValidationError as exc:
            raise HolafError(415, str(exc), code="unsupported_type")

    @routes.get("/holaf/images/load-edits")
    async def load_edits(request: web.Request) -> web.Response:
        """The edits of one image or video, in the stacked layout whatever is on disk."""
        rel, image = await resolve(_path_of(request.query))
        body = await ctx.run_blocking(service.load, image)
        if media_kind(image) == "video":
            try:
                info = await ctx.run_blocking(probe_video, image)
                body["video"] = {"fps": float(info.fps), "duration": info.duration, "width": info.width,
                                 "height": info.height, "has_audio": info.has_audio, "codec": info.video_codec}
            except ProbeError as exc:
                body["video"] = {"error": str(exc)}
        return json_ok({"ok": True, "status": "ok", "path": rel, **body})

    @routes.post("/holaf/images/save-edits")
    async def save_edits(request: web.Request) -> web.Response:
        """Validate (clamping numbers, refusing unknown types/ranges), write ``edit/<base>.edt`` atomically."""
        body = await read_json(request, max_bytes=256 * 1024)
        rel, image = await resolve(_path_of(body))
        if "edits" not in body:
            raise HolafError(400, "missing field 'edits'", code="missing_field")
        base_hash = field(body, "base_hash", str, None)
        try:
            saved = await ctx.run_blocking(lambda: service.save(image, body["edits"], base_hash=base_hash))
        except EditValidationError as exc:
            raise HolafError(400, f"invalid edits: {exc}", code="invalid_edits")
        except EditConflict as exc:
            raise HolafError(409, str(exc), code="edit_conflict", current=exc.current)
        except FileNotFoundError:
            raise HolafError(404, "the file is gone (moved or deleted meanwhile)", code="not_found")
        extra = await after_change(rel, saved["has_edits"])
        ctx.events.publish(EDITS_EVENT, {"path": rel, "has_edits": saved["has_edits"], "hash": saved["hash"],
                                         "thumbnail_version": extra.get("thumbnail_version")})
        return json_ok({"ok": True, "status": "ok", "path": rel, **saved, **extra})

    @routes.post("/holaf/images/delete-edits")
    async def delete_edits(request: web.Request) -> web.Response:
        """Back to the original: removes the sidecar (both places) and remakes the thumbnail."""
        body = await read_json(request)
        rel, image = await resolve(_path_of(body))
        result = await ctx.run_blocking(service.delete, image)
        extra = await after_change(rel, False)
        ctx.events.publish(EDITS_EVENT, {"path": rel, "has_edits": False, "hash": None,
                                         "thumbnail_version": extra.get("thumbnail_version")})
        return json_ok({"ok": True, "status": "ok", "path": rel, "message": "Edits reset", **result, **extra})

    @routes.post("/holaf/images/change-fps")
    async def change_frame_rate(request: web.Request) -> web.Response:
        """Remux at a new frame rate (video stream copied) into a new file beside the original."""
        body = await read_json(request)
        rel, source = await resolve(_path_of(body))
        if media_kind(source) != "video":
            raise HolafError(415, "only videos have a frame rate to change", code="unsupported_type")
        fps = field(body, "fps", (int, float))
        if not FPS_RANGE[0] <= fps <= FPS_RANGE[1]:
            raise HolafError(400, f"'fps' must be between {FPS_RANGE[0]:g} and {FPS_RANGE[1]:g}", code="invalid_field")
        audio = field(body, "audio", str, "drop")
        if audio not in AUDIO_MODES:
            raise HolafError(400, f"'audio' must be one of {', '.join(AUDIO_MODES)}", code="invalid_field")
        try:
            result = await ctx.run_blocking(lambda: change_fps(source, float(fps), audio))
        except ChangeFpsError as exc:
            raise HolafError(400, str(exc), code="change_fps_refused")
        except (FfmpegError, ProbeError) as exc:
            raise HolafError(422, f"ffmpeg could not remux this file: {exc}", code="ffmpeg_failed")
        new_rel = relative_to_root(ctx.paths.output_dir, result.pop("file"))
        ctx.events.publish(CHANGE_EVENT, {"reason": "change-fps", "count": 1, "items": [{"path": rel, "new_path": new_rel}]})
        return json_ok({"ok": True, "status": "ok", "path": rel, "new_path": new_rel, **result})
