"""Walking the output folder: which files are media, and their ``stat`` facts.

An iterative ``os.scandir`` walk (no recursion limit, one ``stat`` per media file,
nothing opened). The skip rules live here and nowhere else:

* ``trashcan/`` at the root is walked only on purpose (``include_trash``) and its
  files are reported as trashed;
* hidden entries (``.name``), temp/partial names (``*.tmp``, ``*.part``,
  ``*_temp_*`` …) and names that are not valid text are skipped;
* directory symlinks are never followed, so the walk cannot leave the root or
  loop; a directory reached twice through a bind mount is walked once; file
  symlinks are indexed only when their target is inside the root;
* inside a folder called ``edit``: ``*.edt`` is never media and
  ``<base>_proc.mp4`` is the editor's preview of ``<base>`` (skipped), but any
  other media file there is the user's own and is indexed;
* the data folder (database, thumbnails) is skipped if it lives under the root.

Each media file also gets a *sidecar signature* (its ``.txt``/``.json``/``.xmp``
neighbours' mtimes and sizes) and an *edited* flag (``edit/<base>.edt`` or the
older ``<base>.edt`` beside it), so a stat-only rescan notices sidecar changes.
"""
from __future__ import annotations

import logging
import os
import stat as _stat
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Iterator

from . import logic

log = logging.getLogger("holaf.images.scanner")

_SIDECAR_EXTS_NODOT = frozenset(e.lstrip(".") for e in logic.SIDECAR_EXTS)

#: (relative path, size, mtime_ns, sidecar signature, has_edits)
FileFacts = tuple[str, int, int, int, int]


@dataclass
class WalkStats:
    dirs: int = 0
    files_seen: int = 0
    media: int = 0
    skipped_hidden: int = 0
    skipped_temp: int = 0
    skipped_sidecar: int = 0
    skipped_symlinks: int = 0
    skipped_bad_names: int = 0
    errors: list[str] = field(default_factory=list)

    def merge(self, other: "WalkStats") -> None:
        self.dirs += other.dirs
        self.files_seen += other.files_seen
        self.media += other.media
        self.skipped_hidden += other.skipped_hidden
        self.skipped_temp += other.skipped_temp
        self.skipped_sidecar += other.skipped_sidecar
        self.skipped_symlinks += other.skipped_symlinks
        self.skipped_bad_names += other.skipped_bad_names
        self.errors.extend(other.errors[: max(0, 50 - len(self.errors))])

    def as_dict(self) -> dict:
        return {
            "dirs": self.dirs, "files_seen": self.files_seen, "media": self.media,
            "skipped_hidden": self.skipped_hidden, "skipped_temp": self.skipped_temp,
            "skipped_sidecar": self.skipped_sidecar, "skipped_symlinks": self.skipped_symlinks,
            "skipped_bad_names": self.skipped_bad_names, "errors": self.errors[:20],
        }


class _WalkContext:
    """What one walk shares between its folder visits."""

    def __init__(self, rel_start: str, recursive: bool, include_trash: bool) -> None:
        self.rel_start = rel_start
        self.recursive = recursive
        self.include_trash = include_trash
        self.trashed = rel_start == logic.TRASH_DIR or rel_start.startswith(logic.TRASH_DIR + "/")
        self._visited: set[tuple[int, int]] = set()
        self._lock = threading.Lock()

    def first_visit(self, key: tuple[int, int]) -> bool:
        """False for a folder already walked (bind mounts, hard-linked trees): never loop."""
        with self._lock:
            if key in self._visited:
                return False
            self._visited.add(key)
            return True


def _valid_text(name: str) -> bool:
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:  # undecodable bytes on POSIX (surrogate escapes)
        return False
    return True


class Walker:
    """Lists media files under ``root`` (its real path) with the skip rules above."""

    def __init__(self, root: Path, extensions: Iterable[str], *, exclude_dirs: Iterable[Path] = ()) -> None:
        self.root = os.path.realpath(root)
        self.extensions = frozenset(e.lower().lstrip(".") for e in extensions)
        self.exclude = {os.path.realpath(p) for p in exclude_dirs}
        self.trash_dir = os.path.join(self.root, logic.TRASH_DIR)

    # -- public entry points -------------------------------------------------------
    def walk(self, rel_start: str = "", *, recursive: bool = True, include_trash: bool = False,
             stats: WalkStats | None = None) -> Iterator[list[FileFacts]]:
        """Yield one list of facts per folder, starting at ``rel_start`` ('' = root).

        (Listing folders on several threads was measured: the GIL makes it slower.)
        """
        stats = stats if stats is not None else WalkStats()
        start_abs = os.path.join(self.root, *rel_start.split("/")) if rel_start else self.root
        ctx = _WalkContext(rel_start, recursive, include_trash)
        start = (start_abs, rel_start, frozenset())
        stack = [start]
        while stack:
            result = self._visit(*stack.pop(), ctx)
            if result is None:
                continue
            facts, children, local = result
            stats.merge(local)
            stack.extend(children)
            if facts:
                yield facts

    def _visit(self, abs_dir: str, rel_dir: str, parent_stems: frozenset, ctx: "_WalkContext"):
        """List one folder: (facts, child folders to enter, its own stats), or None to skip it."""
        local = WalkStats()
        try:
            st = os.stat(abs_dir, follow_symlinks=False)
        except OSError as exc:
            if not (rel_dir == ctx.rel_start and getattr(exc, "errno", None) == 2):  # gone: nothing to list
                local.errors.append(f"{rel_dir or '.'}: {exc.strerror or exc}")
                return [], [], local
            return None
        if not _stat.S_ISDIR(st.st_mode) or not ctx.first_visit((st.st_dev, st.st_ino)):
            return None
        facts, subdirs = self._list_dir(abs_dir, rel_dir, parent_stems, local)
        local.dirs += 1
        local.media += len(facts)
        children = []
        for name, child_stems in (subdirs if ctx.recursive else ()):
            child_abs = os.path.join(abs_dir, name)
            if not rel_dir and name == logic.TRASH_DIR and not ctx.trashed and not ctx.include_trash:
                continue
            if child_abs in self.exclude:
                continue
            children.append((child_abs, f"{rel_dir}/{name}" if rel_dir else name, child_stems))
        return facts, children, local

    def subfolders(self, rel_dir: str) -> list[str]:
        """Names of the folders directly inside ``rel_dir`` that the walk would enter."""
        abs_dir = os.path.join(self.root, *rel_dir.split("/")) if rel_dir else self.root
        names = []
        try:
            with os.scandir(abs_dir) as iterator:
                for entry in iterator:
                    if entry.name.startswith(".") or not entry.is_dir(follow_symlinks=False):
                        continue
                    if not rel_dir and entry.name == logic.TRASH_DIR:
                        continue
                    if os.path.join(abs_dir, entry.name) in self.exclude or not _valid_text(entry.name):
                        continue
                    names.append(entry.name)
        except OSError:
            pass
        return sorted(names)

    def stat_file(self, rel: str) -> FileFacts | None:
        """Facts for one file (watcher path), or None when it is gone or not indexable."""
        folder, name, _ = logic.split_path(rel)
        if not self.is_indexable_rel(rel):
            return None
        abs_path = os.path.join(self.root, *rel.split("/"))
        try:
            st = os.stat(abs_path, follow_symlinks=False)
            if _stat.S_ISLNK(st.st_mode):
                if not self._link_inside_root(abs_path):
                    return None
                st = os.stat(abs_path)
        except OSError:
            return None
        if not _stat.S_ISREG(st.st_mode):
            return None
        abs_dir = os.path.dirname(abs_path)
        stem = logic.stem_of(name)
        if os.path.basename(abs_dir) == logic.EDIT_DIR and name.lower().endswith(logic.PROC_SUFFIX):
            edit_stems = {stem[: -len("_proc")]} if os.path.exists(
                os.path.join(abs_dir, name[: -len(logic.PROC_SUFFIX)] + logic.EDIT_EXT)) else set()
            parent_stems = self._stems_in(os.path.dirname(abs_dir))
            if logic.is_edit_sidecar_name(name, edit_stems, parent_stems):
                return None
        sidecars = []
        for ext in logic.SIDECAR_EXTS:
            try:
                side = os.stat(os.path.join(abs_dir, stem + ext))
                sidecars.append((ext, side.st_mtime_ns, side.st_size))
            except OSError:
                pass
        has_edits = int(
            os.path.isfile(os.path.join(abs_dir, logic.EDIT_DIR, stem + logic.EDIT_EXT))
            or os.path.isfile(os.path.join(abs_dir, stem + logic.EDIT_EXT))
        )
        return (rel, st.st_size, st.st_mtime_ns, logic.sidecar_signature(sidecars), has_edits)

    def is_indexable_rel(self, rel: str) -> bool:
        """The name-only skip rules for a relative path (no filesystem access)."""
        parts = rel.split("/")
        if not rel or any(p in ("", ".", "..") for p in parts):
            return False
        if any(p.startswith(".") for p in parts):
            return False
        name = parts[-1]
        if logic.is_temp_name(name) or not _valid_text(rel):
            return False
        if logic.ext_of(name) not in self.extensions:
            return False
        abs_dir = os.path.join(self.root, *parts[:-1])
        return not any(abs_dir == ex or abs_dir.startswith(ex + os.sep) for ex in self.exclude)

    def rel_of(self, abs_path: str) -> str | None:
        """Relative ``/`` path of an absolute path under the root, or None when outside."""
        path = os.path.abspath(abs_path)
        if path == self.root:
            return ""
        if not path.startswith(self.root + os.sep):
            return None
        return path[len(self.root) + 1:].replace(os.sep, "/")

    # -- one folder ------------------------------------------------------------------
    def _list_dir(self, abs_dir: str, rel_dir: str, parent_stems: frozenset,
                  stats: WalkStats) -> tuple[list[FileFacts], list[tuple[str, frozenset]]]:
        """One folder: media facts and the subfolders to enter. This loop is the rescan's hot
        path (100k files in about a second), hence the local names and the ASCII fast path."""
        try:
            with os.scandir(abs_dir) as iterator:
                entries = list(iterator)
        except OSError as exc:
            stats.errors.append(f"{rel_dir or '.'}: {exc.strerror or exc}")
            return [], []
        extensions = self.extensions
        sidecar_exts = _SIDECAR_EXTS_NODOT
        in_edit_dir = bool(rel_dir) and os.path.basename(abs_dir) == logic.EDIT_DIR
        media: list[tuple[str, os.DirEntry, str]] = []
        sidecars: dict[str, list[tuple[str, int, int]]] = {}
        edt_here: set[str] = set()
        subdirs: list[str] = []
        hidden = bad_names = symlinks = temp = files = 0
        for entry in entries:
            name = entry.name
            if name[0] == ".":
                hidden += 1
                continue
            try:
                is_dir = entry.is_dir(follow_symlinks=False)
            except OSError:
                continue
            if not name.isascii() and not _valid_text(name):
                bad_names += 1
                continue
            if is_dir:
                subdirs.append(name)
                continue
            files += 1
            dot = name.rfind(".")
            ext = name[dot + 1:].lower() if dot > 0 else ""
            if ext in extensions:
                if ("_temp_" in name.lower() or name[0] == "~") and logic.is_temp_name(name):
                    temp += 1
                    continue
                media.append((name, entry, ext))
            elif entry.is_symlink():
                symlinks += 1  # a linked folder (never followed) or a linked non-media file
            elif ext in sidecar_exts:
                try:
                    st = entry.stat(follow_symlinks=False)
                except OSError:
                    continue
                sidecars.setdefault(name[:dot], []).append(("." + ext, st.st_mtime_ns, st.st_size))
            elif ext == "edt":
                edt_here.add(name[:dot])
        stats.files_seen += files
        stats.skipped_hidden += hidden
        stats.skipped_bad_names += bad_names
        stats.skipped_temp += temp
        stems_here = frozenset(name[:name.rfind(".")] for name, _, _ in media)
        edited = edt_here
        if logic.EDIT_DIR in subdirs:
            edited = edt_here | self._edt_stems(os.path.join(abs_dir, logic.EDIT_DIR))
        facts: list[FileFacts] = []
        prefix = rel_dir + "/" if rel_dir else ""
        signature = logic.sidecar_signature
        for name, entry, ext in media:
            if in_edit_dir and logic.is_edit_sidecar_name(name, edt_here, parent_stems):
                stats.skipped_sidecar += 1
                continue
            try:
                if entry.is_symlink():
                    if not self._link_inside_root(entry.path):
                        symlinks += 1
                        continue
                    st = os.stat(entry.path)
                    if not _stat.S_ISREG(st.st_mode):
                        continue
                else:
                    st = entry.stat(follow_symlinks=False)
            except OSError:
                continue
            stem = name[:len(name) - len(ext) - 1]
            side = sidecars.get(stem) if sidecars else None
            facts.append((prefix + name, st.st_size, st.st_mtime_ns, signature(side) if side else 0,
                          1 if edited and stem in edited else 0))
        stats.skipped_symlinks += symlinks
        children = [(name, stems_here if name == logic.EDIT_DIR else frozenset()) for name in subdirs]
        return facts, children

    @staticmethod
    def _edt_stems(edit_dir: str) -> set[str]:
        try:
            with os.scandir(edit_dir) as iterator:
                return {logic.stem_of(e.name) for e in iterator if e.name.endswith(logic.EDIT_EXT)}
        except OSError:
            return set()

    def _stems_in(self, abs_dir: str) -> set[str]:
        try:
            with os.scandir(abs_dir) as iterator:
                return {logic.stem_of(e.name) for e in iterator if logic.ext_of(e.name) in self.extensions}
        except OSError:
            return set()

    def _link_inside_root(self, path: str) -> bool:
        target = os.path.realpath(path)
        return target.startswith(self.root + os.sep)


def list_dirs(root: str, *, exclude: set[str], include_trash: bool = False,
              should_stop: Callable[[], bool] = lambda: False) -> dict[str, int]:
    """Every folder under ``root`` (walk rules above) → its mtime_ns (for the poller)."""
    out: dict[str, int] = {}
    trash = os.path.join(root, logic.TRASH_DIR)
    stack = [root]
    visited: set[tuple[int, int]] = set()
    while stack and not should_stop():
        current = stack.pop()
        try:
            st = os.stat(current, follow_symlinks=False)
            if (st.st_dev, st.st_ino) in visited:
                continue
            visited.add((st.st_dev, st.st_ino))
            out[current] = st.st_mtime_ns
            with os.scandir(current) as iterator:
                for entry in iterator:
                    if entry.name.startswith("."):
                        continue
                    try:
                        if not entry.is_dir(follow_symlinks=False):
                            continue
                    except OSError:
                        continue
                    if entry.path in exclude or (entry.path == trash and not include_trash):
                        continue
                    stack.append(entry.path)
        except OSError:
            continue
    return out
