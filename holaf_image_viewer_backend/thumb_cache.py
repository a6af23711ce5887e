"""Where thumbnails live on disk and how they are named.

A thumbnail is identified by the file it shows *as it is now*: its relative path,
``mtime_ns``, size in bytes, and an optional ``variant`` (the edit hash that the
edits feature supplies). A changed file therefore gets a new name and a stale
thumbnail can never be served; the ETag is the name itself.

Layout: ``<data_dir>/thumbnails/<px>/<ab>/<path hash>-<version hash>.<ext>``.
The path hash groups every version of one file in one small folder, so a new
version removes the old ones, and a rename/trash only renames one file.
"""
from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

CACHE_DIR_NAME = "thumbnails"
EXTENSIONS = {"webp": ".webp", "jpeg": ".jpg"}


def path_hash(rel_path: str) -> str:
    return hashlib.sha1(rel_path.encode("utf-8", "surrogatepass")).hexdigest()[:24]


def version_hash(mtime_ns: int, size: int, variant: str = "") -> str:
    return hashlib.sha1(f"{mtime_ns}:{size}:{variant}".encode("utf-8", "surrogatepass")).hexdigest()[:16]


@dataclass(frozen=True)
class ThumbKey:
    """One version of one file's thumbnail."""

    rel_path: str
    mtime_ns: int
    size: int
    variant: str = ""

    @property
    def path_hash(self) -> str:
        return path_hash(self.rel_path)

    @property
    def version(self) -> str:
        return version_hash(self.mtime_ns, self.size, self.variant)

    @property
    def name(self) -> str:
        return f"{self.path_hash}-{self.version}"

    @property
    def etag(self) -> str:
        return f'"{self.name}"'

    def moved_to(self, new_rel_path: str) -> "ThumbKey":
        return ThumbKey(new_rel_path, self.mtime_ns, self.size, self.variant)


class ThumbCache:
    """Names and housekeeping for one thumbnail size and format."""

    def __init__(self, data_dir: Path, size_px: int, fmt: str = "webp") -> None:
        self.root = Path(data_dir) / CACHE_DIR_NAME
        self.size_px = int(size_px)
        self.fmt = fmt
        self.ext = EXTENSIONS.get(fmt, ".webp")
        self.dir = self.root / str(self.size_px)

    def file_for(self, key: ThumbKey) -> Path:
        h = key.path_hash
        return self.dir / h[:2] / f"{key.name}{self.ext}"

    def versions_of(self, rel_path: str) -> list[Path]:
        """Every cached version of this path (any variant)."""
        h = path_hash(rel_path)
        folder = self.dir / h[:2]
        try:
            names = os.listdir(folder)
        except FileNotFoundError:
            return []
        prefix = h + "-"
        return [folder / n for n in names if n.startswith(prefix) and not n.startswith(".tmp-")]

    def remove_other_versions(self, key: ThumbKey) -> int:
        """Delete older versions once a new one exists (idempotent handler, like immich)."""
        keep = self.file_for(key).name
        removed = 0
        for path in self.versions_of(key.rel_path):
            if path.name != keep:
                try:
                    path.unlink()
                    removed += 1
                except FileNotFoundError:
                    pass
        return removed

    def remove_all(self, rel_path: str) -> int:
        removed = 0
        for path in self.versions_of(rel_path):
            try:
                path.unlink()
                removed += 1
            except FileNotFoundError:
                pass
        return removed

    def move_all(self, old_rel_path: str, new_rel_path: str) -> int:
        """Every version of ``old`` now belongs to ``new`` (rename, trash, restore)."""
        new_hash = path_hash(new_rel_path)
        folder = self.dir / new_hash[:2]
        moved = 0
        for path in self.versions_of(old_rel_path):
            version = path.name.split("-", 1)[1]
            try:
                folder.mkdir(parents=True, exist_ok=True)
                os.replace(path, folder / f"{new_hash}-{version}")
                moved += 1
            except OSError:
                pass
        return moved

    def iter_files(self) -> Iterator[tuple[Path, str, str]]:
        """``(file, path hash, version)`` for every thumbnail of every size and format."""
        if not self.root.is_dir():
            return
        for size_dir in self.root.iterdir():
            if not size_dir.is_dir():
                continue
            for bucket in size_dir.iterdir():
                if not bucket.is_dir():
                    continue
                for entry in os.scandir(bucket):
                    stem, _, _ext = entry.name.partition(".")
                    if entry.name.startswith(".tmp-"):
                        yield Path(entry.path), "", ""
                        continue
                    h, _, version = stem.partition("-")
                    yield Path(entry.path), h, version
