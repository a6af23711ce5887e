"""Edits as the rest of the server sees them: load/save/delete for one file, thumbnails, export.

Saving and deleting hold the file-operation lock (when the actions feature is
loaded) so a sidecar is never written while its image is being trashed, moved
or renamed, and re-check under that lock that the image is still there. The
thumbnail service asks :meth:`EditsService.thumbnail_variant` for every tile:
it answers from a cache keyed by the sidecar's (mtime, size), so a folder
without edits costs two failed ``stat`` calls.
"""
from __future__ import annotations

import contextlib
import logging
import threading
from pathlib import Path
from typing import Callable

from PIL import Image

from ..holaf_security import UnsafePathError, relative_to_root, resolve_user_path
from . import edit_store
from .edit_math import apply_edits
from .edit_model import EditValidationError, Edits, normalize
from .thumbnails import media_kind

log = logging.getLogger("holaf.edits")


class EditConflict(RuntimeError):
    """The sidecar changed since the client loaded it (another tab saved)."""

    def __init__(self, current: dict | None) -> None:
        super().__init__("the edits were changed elsewhere since they were loaded")
        self.current = current


class EditsService:
    def __init__(self, output_dir: Path, *, file_lock: Callable[[], object | None] = lambda: None) -> None:
        self.output_dir = Path(output_dir)
        self.cache = edit_store.SidecarCache()
        self._file_lock = file_lock
        self._write_lock = threading.Lock()  # sidecar writes take microseconds: one lock for all

    # -- paths ---------------------------------------------------------------
    def resolve(self, rel: object) -> tuple[str, Path]:
        """A request path → (canonical relative path, absolute media file), or an error."""
        path = resolve_user_path(self.output_dir, rel, must_exist=True)
        if not path.is_file():
            raise UnsafePathError("not a file", 400)
        if media_kind(path) not in ("image", "video"):
            raise EditValidationError(f"{path.suffix or 'this file'}: only images and videos can be edited")
        return relative_to_root(self.output_dir, path), path

    @contextlib.contextmanager
    def _locked(self, image: Path):
        outer = self._file_lock()
        with (outer if outer is not None else contextlib.nullcontext()):
            with self._write_lock:
                yield

    # -- the three operations (blocking) -----------------------------------------
    def load(self, image: Path) -> dict:
        loaded = edit_store.load(image)
        edits = loaded.edits
        return {
            "edits": edits.to_dict() if edits else None,
            "has_edits": loaded.exists,
            "source": loaded.source,
            "layout": loaded.layout,
            "hash": edits.content_hash() if edits else None,
            "variant": edits.pixel_hash() if edits and edits.changes_pixels else "",
            "warnings": loaded.warnings,
            "error": loaded.error,
        }

    def save(self, image: Path, raw: object, *, base_hash: str | None = None) -> dict:
        normalized = normalize(raw, strict=True)
        with self._locked(image):
            if not image.is_file():
                raise FileNotFoundError(str(image))
            if base_hash is not None:
                current = edit_store.load(image)
                current_hash = current.edits.content_hash() if current.edits else None
                if current_hash != base_hash and not (current_hash is None and base_hash == ""):
                    raise EditConflict(current.edits.to_dict() if current.edits else None)
            moved_legacy = edit_store.legacy_sidecar_path(image).is_file()
            if normalized.edits.is_empty:
                edit_store.delete(image)
                written = None
            else:
                written = edit_store.save(image, normalized.edits)
            self.cache.forget(image)
        edits = normalized.edits
        return {
            "edits": edits.to_dict(),
            "has_edits": written is not None,
            "hash": edits.content_hash(),
            "variant": edits.pixel_hash() if edits.changes_pixels else "",
            "warnings": normalized.warnings,
            "moved_legacy": moved_legacy and written is not None,
            "sidecar": relative_to_root(self.output_dir, written) if written else None,
        }

    def delete(self, image: Path) -> dict:
        with self._locked(image):
            removed = edit_store.delete(image)
            self.cache.forget(image)
        return {"removed": removed, "has_edits": False}

    # -- for the thumbnail service and export ---------------------------------------
    def edits_for(self, image: Path) -> Edits | None:
        return self.cache.get(image)

    def thumbnail_variant(self, image: Path, rel: str):
        """``(variant, transform)`` for a file whose edits change its pixels, else None."""
        edits = self.cache.get(image)
        if edits is None or not edits.changes_pixels:
            return None
        controls = list(edits.controls)

        def transform(small: Image.Image) -> Image.Image:
            return apply_edits(small, controls)

        return edits.pixel_hash(), transform
