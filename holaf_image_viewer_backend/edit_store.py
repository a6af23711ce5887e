"""Where ``.edt`` sidecars live and how they are read, written and removed.

An image ``<folder>/<base>.<ext>`` keeps its edits in ``<folder>/edit/<base>.edt``.
The first version of the earlier tool kept them beside the image
(``<folder>/<base>.edt``); that file is still read when ``edit/`` has none, and is
removed by the next save or delete, so it moves into ``edit/`` on its own.

Writes are atomic (temporary file in ``edit/`` + ``os.replace``): a crash leaves
the old edits or the new ones, never half a file. A sidecar that no longer
parses is kept as ``<base>.edt.bad`` before a save replaces it, so nothing the
user made is silently lost. All functions block: call them off the event loop.
"""
from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from pathlib import Path

from ..holaf_utils import atomic_write_text
from .edit_model import Edits, from_json_text, to_json_text

log = logging.getLogger("holaf.edits")

EDIT_DIR = "edit"
EDIT_EXT = ".edt"
MAX_SIDECAR_BYTES = 1024 * 1024


def sidecar_path(image: Path) -> Path:
    return image.parent / EDIT_DIR / f"{image.stem}{EDIT_EXT}"


def legacy_sidecar_path(image: Path) -> Path:
    return image.parent / f"{image.stem}{EDIT_EXT}"


@dataclass
class Loaded:
    """What :func:`load` found for one image."""

    edits: Edits | None
    source: str | None  # "edit" | "legacy" | None
    file: Path | None
    layout: str | None = None  # "stacked" | "flat"
    warnings: list[str] = field(default_factory=list)
    error: str | None = None  # the sidecar exists but cannot be read

    @property
    def exists(self) -> bool:
        return self.file is not None


def _stat_key(path: Path) -> tuple[int, int] | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return st.st_mtime_ns, st.st_size


def find_sidecar(image: Path) -> tuple[Path, str] | None:
    """The sidecar that applies to ``image`` (``edit/`` first, then the legacy sibling)."""
    for path, source in ((sidecar_path(image), "edit"), (legacy_sidecar_path(image), "legacy")):
        if path.is_file():
            return path, source
    return None


def load(image: Path) -> Loaded:
    found = find_sidecar(image)
    if found is None:
        return Loaded(None, None, None)
    path, source = found
    try:
        if path.stat().st_size > MAX_SIDECAR_BYTES:
            return Loaded(None, source, path, error="the edit file is too large to be an edit file")
        text = path.read_text(encoding="utf-8-sig")
        normalized = from_json_text(text)
    except (OSError, UnicodeDecodeError) as exc:
        return Loaded(None, source, path, error=f"the edit file cannot be read: {exc}")
    except ValueError as exc:
        return Loaded(None, source, path, error=f"the edit file is not valid: {exc}")
    return Loaded(normalized.edits, source, path, normalized.layout, normalized.warnings)


class SidecarCache:
    """Parsed sidecars keyed by their (mtime, size), for the thumbnail path (called per tile)."""

    def __init__(self, limit: int = 4096) -> None:
        self.limit = limit
        self._entries: dict[Path, tuple[tuple[int, int], Edits | None]] = {}

    def get(self, image: Path) -> Edits | None:
        found = find_sidecar(image)
        if found is None:
            self._entries.pop(image, None)
            return None
        key = _stat_key(found[0])
        if key is None:
            return None
        entry = self._entries.get(image)
        if entry is not None and entry[0] == key:
            return entry[1]
        loaded = load(image)
        if len(self._entries) >= self.limit:
            self._entries.pop(next(iter(self._entries)))
        self._entries[image] = (key, loaded.edits)
        return loaded.edits

    def forget(self, image: Path) -> None:
        self._entries.pop(image, None)


def save(image: Path, edits: Edits) -> Path:
    """Write the stacked layout atomically into ``edit/``; the legacy sibling goes away."""
    target = sidecar_path(image)
    target.parent.mkdir(exist_ok=True)
    if target.is_file():
        try:
            from_json_text(target.read_text(encoding="utf-8-sig"))
        except (OSError, ValueError, UnicodeDecodeError):
            backup = target.with_name(target.name + ".bad")
            os.replace(target, backup)
            log.warning("Kept an unreadable edit file as %s before saving new edits", backup)
    atomic_write_text(target, to_json_text(edits))
    legacy = legacy_sidecar_path(image)
    if legacy.is_file():
        try:
            legacy.unlink()
            log.info("Moved legacy edits of %s into %s/", image.name, EDIT_DIR)
        except OSError as exc:  # the new file wins anyway: it is read first
            log.warning("Could not remove the legacy edit file %s: %s", legacy, exc)
    return target


def delete(image: Path) -> bool:
    """Remove the sidecar (both places); drop ``edit/`` when it is left empty. True if one existed."""
    removed = False
    for path in (sidecar_path(image), legacy_sidecar_path(image)):
        try:
            path.unlink()
            removed = True
        except FileNotFoundError:
            continue
        if path.parent.name == EDIT_DIR and path.parent != image.parent:
            try:
                path.parent.rmdir()  # only succeeds when empty (other images' edits keep it)
            except OSError:
                pass
    return removed
