"""Tags and ratings for many images at once, mirrored to ``.xmp`` sidecars.

``POST /holaf/images/tags``: ``{"paths": [...], "set": [...]}`` replaces the tags,
``{"paths": [...], "add": [...], "remove": [...]}`` edits them.
``POST /holaf/images/rating``: ``{"paths": [...], "rating": 0-5}``.
Both answer with what changed and an ``xmp`` block saying whether sidecars were
written (and why not when they were not).
"""
from __future__ import annotations

import logging
import time
import unicodedata
from pathlib import Path

from aiohttp import web

from ...holaf_http import HolafError, json_ok, read_json
from .. import store, xmp_sidecar
from .common import path_list

log = logging.getLogger("holaf.images.tags")

MAX_TAGS = 100
MAX_TAG_CHARS = 100


def clean_tags(body: dict, name: str) -> list[str] | None:
    value = body.get(name)
    if value is None:
        return None
    if not isinstance(value, list) or len(value) > MAX_TAGS:
        raise HolafError(400, f"'{name}' must be a list of at most {MAX_TAGS} tags", code="invalid_field")
    out = []
    for tag in value:
        if not isinstance(tag, str):
            raise HolafError(400, f"'{name}' must contain strings", code="invalid_field")
        text = unicodedata.normalize("NFC", " ".join(tag.split())).lower()
        if not text or len(text) > MAX_TAG_CHARS or any(unicodedata.category(c)[0] == "C" for c in text):
            raise HolafError(400, f"invalid tag {tag!r}: 1-{MAX_TAG_CHARS} visible characters", code="invalid_tag")
        out.append(text)
    return list(dict.fromkeys(out))


def add_routes(ctx, routes, index) -> None:
    def mirror(updates: dict[str, dict]) -> dict:
        """Write sidecars for ``{path: {"tags": [...]} or {"rating": n}}`` (worker thread)."""
        enabled = ctx.config.get("ImageViewer", "write_xmp_sidecars")
        usable, reason = xmp_sidecar.availability()
        if not enabled:
            return {"enabled": False, "written": 0, "reason": "disabled by [ImageViewer] write_xmp_sidecars"}
        if not usable:
            return {"enabled": False, "written": 0, "reason": reason}
        written, errors = 0, []
        for rel, values in updates.items():
            media = Path(ctx.paths.output_dir, *rel.split("/"))
            try:
                xmp_sidecar.write(media, **values)
                written += 1
            except Exception as exc:  # one unwritable folder must not undo the database change
                log.warning("Could not write the .xmp sidecar of %s: %s", rel, exc)
                errors.append({"path": rel, "error": f"{type(exc).__name__}: {exc}"})
        return {"enabled": True, "written": written, "errors": errors[:50]}

    async def resolve(paths: list[str]) -> tuple[dict[str, int], list[str]]:
        found = await ctx.db.execute_fn(lambda conn: store.ids_for_paths(conn, paths))
        return found, [p for p in paths if p not in found]

    @routes.post("/holaf/images/tags")
    async def change_tags(request: web.Request) -> web.Response:
        """Set, add or remove tags on many images; answers each image's tags afterwards."""
        body = await read_json(request)
        paths = path_list(ctx, body)
        set_to, add, remove = clean_tags(body, "set"), clean_tags(body, "add"), clean_tags(body, "remove")
        if set_to is None and not add and not remove:
            raise HolafError(400, "give 'set', or 'add' and/or 'remove'", code="missing_field")
        if set_to is not None and (add or remove):
            raise HolafError(400, "'set' cannot be combined with 'add'/'remove'", code="invalid_field")
        found, missing = await resolve(paths)
        ids = list(found.values())
        result = await ctx.db.execute_write_fn(
            lambda conn: store.change_tags(conn, ids, set_to=set_to, add=add or [], remove=remove or []))
        by_path = {path: result[image_id] for path, image_id in found.items()}
        xmp = await ctx.run_blocking(mirror, {p: {"tags": t} for p, t in by_path.items()})
        index.note_external_change(updated=len(ids))
        return json_ok({"ok": True, "updated": len(ids), "tags": by_path, "missing": missing, "xmp": xmp,
                        "change_token": index.change_token})

    @routes.post("/holaf/images/rating")
    async def set_rating(request: web.Request) -> web.Response:
        """Give many images the same rating (0 = none, up to 5 stars)."""
        body = await read_json(request)
        paths = path_list(ctx, body)
        rating = body.get("rating")
        if isinstance(rating, bool) or not isinstance(rating, int) or not 0 <= rating <= 5:
            raise HolafError(400, "'rating' must be a whole number from 0 to 5", code="invalid_field")
        found, missing = await resolve(paths)
        ids = list(found.values())
        await ctx.db.execute_write_fn(lambda conn: store.set_rating(conn, ids, rating))
        xmp = await ctx.run_blocking(mirror, {p: {"rating": rating} for p in found})
        index.note_external_change(updated=len(ids))
        return json_ok({"ok": True, "updated": len(ids), "rating": rating, "missing": missing, "xmp": xmp,
                        "change_token": index.change_token, "at": time.time()})
