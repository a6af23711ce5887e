"""Trash, restore, move, rename and delete files with their sidecars, never losing one.

Conventions kept from the earlier tool: the trash is ``<output>/trashcan/`` and
mirrors the original subfolders; a name collision becomes ``<base>_<n><ext>``;
``<base>.txt/.json/.xmp`` next to a file and ``edit/<base>.edt`` +
``edit/<base>_proc.mp4`` travel with it (renamed with it when its base changes).
A sidecar shared with another media file of the same base (a VideoHelperSuite
``clip.mp4`` and its ``clip.png``) stays for the file that remains.

Crash safety is an intent journal in the database: each chunk of moves is
written as intents in one transaction *before* anything moves on disk, and
removed in the same transaction that updates the index *after* the moves. A
kill -9 in between leaves intents behind; :meth:`FileOps.reconcile` (run at
start-up) compares them with the disk and finishes or rolls back each file, so
every file ends up in its old place or at its destination, never both, never
neither, with the index in step. Transactions are one per chunk, so the write
lock is held for milliseconds even during a 1,000-file batch.
"""
from __future__ import annotations

import errno
import logging
import os
import shutil
import sqlite3
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Callable, Iterable

from ..holaf_security import UnsafePathError, resolve_user_path
from ..holaf_utils import is_windows_reserved_name
from .thumbnails import media_kind

log = logging.getLogger("holaf.file_ops")

TRASH_DIR = "trashcan"
EDIT_DIR = "edit"
SIDECAR_EXTS = (".txt", ".json", ".xmp")
PARTIAL_SUFFIX = ".holaf-partial"
CHUNK = 100
CONFIRM_EVERY_S = 0.15  # well under the index watcher's 0.4 s quiet period
CONFIRM_MAX_ITEMS = 25  # index rows are ~1-2 ms each to move (full-text rows included): short write locks
MOVE_OPS = frozenset({"trash", "restore", "move", "rename"})


def _m001_journal(conn: sqlite3.Connection) -> None:
    """Intents of file operations in flight (empty whenever nothing is moving)."""
    conn.execute(
        """CREATE TABLE IF NOT EXISTS file_ops_journal (
            id INTEGER PRIMARY KEY,
            batch TEXT NOT NULL,
            item INTEGER NOT NULL,
            seq INTEGER NOT NULL,
            op TEXT NOT NULL,
            role TEXT NOT NULL,
            src TEXT NOT NULL,
            dst TEXT,
            created_at REAL NOT NULL
        )"""
    )
    conn.execute("CREATE INDEX IF NOT EXISTS file_ops_journal_item ON file_ops_journal(batch, item)")


def _m002_trash_origins(conn: sqlite3.Connection) -> None:
    """Where each trashed file came from (restore works even for files the index never saw)."""
    conn.execute("CREATE TABLE IF NOT EXISTS trash_origins (path TEXT PRIMARY KEY, original_path TEXT NOT NULL, trashed_at REAL NOT NULL)")


MIGRATIONS = [_m001_journal, _m002_trash_origins]


class FileOpError(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass
class Transfer:
    """One file on disk: moved from ``src`` to ``dst``, or deleted when ``dst`` is None."""

    role: str  # "main", ".txt", ".json", ".xmp", "edt", "proc", "edt_flat"
    src: Path
    dst: Path | None
    done: bool = False


@dataclass
class Change:
    """What the index must learn about one user-visible file."""

    op: str  # trash | restore | move | rename | delete | vanished
    old: str
    new: str | None = None


@dataclass
class Item:
    index: int
    rel: str
    op: str
    transfers: list[Transfer] = field(default_factory=list)
    new_rel: str | None = None
    error: FileOpError | None = None
    shared_sidecars: bool = False

    def result(self) -> dict:
        out: dict = {"path": self.rel}
        if self.error is not None:
            out.update(ok=False, status="error", error=self.error.message, code=self.error.code)
            return out
        out.update(ok=True, status="ok")
        if self.new_rel is not None:
            out["new_path"] = self.new_rel
        companions = [t for t in self.transfers if t.role != "main"]
        if companions:
            out["sidecars"] = [t.role for t in companions]
        if self.shared_sidecars:
            out["note"] = "sidecars shared with another file of the same name were left in place"
        return out


class FileOpsListener:
    """Things that must follow files (the index rows, thumbnail status rows and cache)."""

    def lookup(self, conn: sqlite3.Connection, rels: list[str]) -> dict[str, dict]:
        """Index facts per path: ``{"original_path": …}`` for trashed files."""
        return {}

    def on_commit(self, conn: sqlite3.Connection, changes: list[Change]) -> None:
        """Inside the transaction that confirms the moves."""

    def after_commit(self, changes: list[Change]) -> None:
        """After it (file-system side effects such as renaming cached thumbnails)."""


class TrashLedger(FileOpsListener):
    """Records the original place of every trashed file, in the same transaction as the move."""

    def lookup(self, conn: sqlite3.Connection, rels: list[str]) -> dict[str, dict]:
        out = {}
        for start in range(0, len(rels), 500):
            part = rels[start:start + 500]
            marks = ",".join("?" * len(part))
            for row in conn.execute(f"SELECT path, original_path FROM trash_origins WHERE path IN ({marks})", part):
                out[row[0]] = {"original_path": row[1]}
        return out

    def on_commit(self, conn: sqlite3.Connection, changes: list[Change]) -> None:
        now = time.time()
        conn.executemany("INSERT OR REPLACE INTO trash_origins(path, original_path, trashed_at) VALUES (?, ?, ?)",
                         [(c.new, c.old, now) for c in changes if c.op == "trash"])
        conn.executemany("DELETE FROM trash_origins WHERE path = ?",
                         [(c.old,) for c in changes if c.op in ("restore", "delete", "vanished")])


class _DirCache:
    """One ``listdir`` per folder per batch: sidecar and shared-name checks without a stat each."""

    def __init__(self) -> None:
        self._names: dict[Path, set[str]] = {}
        self._media_by_stem: dict[Path, dict[str, list[str]]] = {}

    def media_with_stem(self, folder: Path, stem: str) -> list[str]:
        """Media file names in ``folder`` whose base name is ``stem`` (indexed once per folder)."""
        index = self._media_by_stem.get(folder)
        if index is None:
            index = {}
            for name in self.names(folder):
                if media_kind(name) is not None:
                    index.setdefault(os.path.splitext(name)[0], []).append(name)
            self._media_by_stem[folder] = index
        return index.get(stem, [])

    def names(self, folder: Path) -> set[str]:
        names = self._names.get(folder)
        if names is None:
            try:
                names = set(os.listdir(folder))
            except (FileNotFoundError, NotADirectoryError):
                names = set()
            self._names[folder] = names
        return names

    def exists(self, path: Path) -> bool:
        return path.name in self.names(path.parent)

    def add(self, path: Path) -> None:
        self.names(path.parent).add(path.name)

    def discard(self, path: Path) -> None:
        self.names(path.parent).discard(path.name)


def companion_templates(folder: Path, stem: str) -> dict[str, Path]:
    """Where each kind of companion of ``<folder>/<stem>.*`` lives."""
    out = {ext: folder / f"{stem}{ext}" for ext in SIDECAR_EXTS}
    out["edt"] = folder / EDIT_DIR / f"{stem}.edt"
    out["proc"] = folder / EDIT_DIR / f"{stem}_proc.mp4"
    out["edt_flat"] = folder / f"{stem}.edt"
    return out


class FileOps:
    """The engine behind the file-operation routes. One batch at a time (a lock), chunked."""

    def __init__(self, db, output_dir: Path, *, listeners: Iterable[FileOpsListener] = (), chunk: int = CHUNK) -> None:
        self.db = db
        self.root = Path(os.path.realpath(output_dir))
        self.trash_root = self.root / TRASH_DIR
        self.listeners = [TrashLedger(), *listeners]
        self.chunk = max(1, chunk)
        self.lock = threading.Lock()
        self.on_progress: Callable[[int], None] | None = None  # called after each file moved (tests, progress)
        self._slice_start = time.perf_counter()
        self._busy: set[str] = set()
        self._busy_lock = threading.Lock()

    def is_busy(self, rel: str) -> bool:
        """True while ``rel`` is being moved and its index update is not committed yet.

        For the index's watcher: a path that vanished or appeared because of a file
        operation must be left to that operation (it keeps the row's id, tags, rating).
        """
        with self._busy_lock:
            return rel in self._busy

    def _mark_busy(self, items: list[Item], busy: bool) -> None:
        paths = {p for item in items for p in (item.rel, item.new_rel) if p}
        with self._busy_lock:
            if busy:
                self._busy |= paths
            else:
                self._busy -= paths

    def _pace(self) -> None:
        """Hand the GIL over now and then: a long batch must not slow the event loop's requests.

        A busy Python thread only lets others run every 5 ms, and each request
        needs the GIL many times; a 1 ms nap per 4 ms of work keeps answers fast.
        """
        now = time.perf_counter()
        if now - self._slice_start > 0.004:
            time.sleep(0.001)
            self._slice_start = time.perf_counter()

    # -- paths -------------------------------------------------------------------
    def rel(self, path: Path) -> str:
        return PurePosixPath(Path(os.path.relpath(path, self.root)).as_posix()).as_posix()

    def in_trash(self, rel: str) -> bool:
        return rel == TRASH_DIR or rel.startswith(TRASH_DIR + "/")

    def _resolve_file(self, rel: object) -> tuple[str, Path]:
        path = resolve_user_path(self.root, rel)
        if not path.exists():
            raise FileOpError("not_found", "file not found")
        if not path.is_file():
            raise FileOpError("not_a_file", "not a file")
        return self.rel(path), path

    # -- planning ----------------------------------------------------------------------
    def _companions(self, src: Path, batch_mains: set[Path], claimed: set[Path], dirs: _DirCache) -> tuple[list[Transfer], bool]:
        folder, stem = src.parent, src.stem
        shared = any(n != src.name and (folder / n) not in batch_mains for n in dirs.media_with_stem(folder, stem))
        if shared:
            return [], any(dirs.exists(p) for p in companion_templates(folder, stem).values())
        found = []
        for role, path in companion_templates(folder, stem).items():
            if path not in claimed and dirs.exists(path) and path.is_file():
                found.append(Transfer(role, path, None))
                claimed.add(path)
        return found, False

    def _free_stem(self, folder: Path, stem: str, ext: str, roles: list[str], reserved: set[Path], dirs: _DirCache,
                   *, allow_suffix: bool) -> str:
        """``stem`` or ``stem_<n>`` such that the file and every companion target are free."""
        n = 0
        while True:
            candidate = stem if n == 0 else f"{stem}_{n}"
            targets = [folder / f"{candidate}{ext}"] + [companion_templates(folder, candidate)[r] for r in roles]
            if not any(t in reserved or dirs.exists(t) for t in targets):
                return candidate
            if not allow_suffix:
                taken = next(t for t in targets if t in reserved or dirs.exists(t))
                raise FileOpError("exists", f"{self.rel(taken)} already exists")
            n += 1

    def _plan_move(self, item: Item, src: Path, dst_folder: Path, new_stem: str | None, ext: str,
                   batch_mains: set[Path], claimed: set[Path], reserved: set[Path], dirs: _DirCache,
                   *, allow_suffix: bool) -> None:
        companions, item.shared_sidecars = self._companions(src, batch_mains, claimed, dirs)
        roles = [c.role for c in companions]
        stem = self._free_stem(dst_folder, new_stem or src.stem, ext, roles, reserved, dirs, allow_suffix=allow_suffix)
        main_dst = dst_folder / f"{stem}{ext}"
        templates = companion_templates(dst_folder, stem)
        item.transfers = [Transfer("main", src, main_dst)] + [Transfer(c.role, c.src, templates[c.role]) for c in companions]
        for t in item.transfers:
            reserved.add(t.dst)
        item.new_rel = self.rel(main_dst)

    def _plan(self, op: str, rels: list, *, destination: str | None = None, new_names: list | None = None,
              on_conflict: str = "rename", originals: dict[str, str] | None = None) -> list[Item]:
        items: list[Item] = []
        resolved: list[tuple[Item, Path | None]] = []
        seen: set[str] = set()
        for index, rel in enumerate(rels):
            self._pace()
            item = Item(index, rel if isinstance(rel, str) else repr(rel), op)
            items.append(item)
            try:
                clean, path = self._resolve_file(rel)
                item.rel = clean
                if clean in seen:
                    raise FileOpError("duplicate", "listed twice in this request")
                seen.add(clean)
                trashed = self.in_trash(clean)
                if op in ("trash", "move", "rename") and trashed:
                    raise FileOpError("in_trash", "this file is in the trashcan: restore it first")
                if op == "restore" and not trashed:
                    raise FileOpError("not_in_trash", "this file is not in the trashcan")
                resolved.append((item, path))
            except UnsafePathError as exc:
                item.error = FileOpError("invalid_path", f"invalid path: {exc}")
            except FileOpError as exc:
                item.error = exc
        dirs = _DirCache()
        batch_mains = {p for _i, p in resolved}
        claimed: set[Path] = set()
        reserved: set[Path] = set()
        dest_folder = None
        if op == "move":
            dest_folder = resolve_user_path(self.root, destination or ".", allow_root=True)
            if self.in_trash(self.rel(dest_folder)) or dest_folder == self.trash_root:
                raise FileOpError("in_trash", "cannot move into the trashcan (use delete)")
            if dest_folder.exists() and not dest_folder.is_dir():
                raise FileOpError("not_a_folder", "the destination is not a folder")
        for item, src in resolved:
            self._pace()
            try:
                if op == "trash":
                    folder = self.trash_root / Path(item.rel).parent
                    self._plan_move(item, src, folder, None, src.suffix, batch_mains, claimed, reserved, dirs, allow_suffix=True)
                elif op == "restore":
                    original = (originals or {}).get(item.rel) or item.rel[len(TRASH_DIR) + 1:]
                    target = resolve_user_path(self.root, original)
                    if self.in_trash(self.rel(target)):
                        raise FileOpError("invalid_original", "the recorded original place is inside the trashcan")
                    original_stem = os.path.splitext(target.name)[0]
                    if os.path.splitext(target.name)[1].lower() != src.suffix.lower():
                        raise FileOpError("invalid_original", "the recorded original name has another extension")
                    self._plan_move(item, src, target.parent, original_stem, target.suffix, batch_mains, claimed,
                                    reserved, dirs, allow_suffix=False)
                elif op == "move":
                    if src.parent == dest_folder:
                        raise FileOpError("same_folder", "the file is already in that folder")
                    self._plan_move(item, src, dest_folder, None, src.suffix, batch_mains, claimed, reserved, dirs,
                                    allow_suffix=on_conflict == "rename")
                elif op == "rename":
                    new_name = (new_names or [None] * len(rels))[item.index]
                    stem, ext = self._check_new_name(new_name, src)
                    if stem == src.stem and ext == src.suffix:
                        raise FileOpError("same_name", "the new name is the current name")
                    self._plan_move(item, src, src.parent, stem, ext, batch_mains, claimed, reserved, dirs,
                                    allow_suffix=on_conflict == "rename")
                elif op == "delete":
                    companions, item.shared_sidecars = self._companions(src, batch_mains, claimed, dirs)
                    item.transfers = [Transfer("main", src, None)] + companions
            except UnsafePathError as exc:
                item.error = FileOpError("invalid_path", f"invalid path: {exc}")
            except FileOpError as exc:
                item.error = exc
        return items

    @staticmethod
    def _check_new_name(new_name: object, src: Path) -> tuple[str, str]:
        if not isinstance(new_name, str) or not new_name.strip():
            raise FileOpError("invalid_name", "a new name is required")
        name = new_name.strip()
        if "/" in name or "\\" in name or name in (".", "..") or "\x00" in name or len(name) > 200:
            raise FileOpError("invalid_name", "the new name must be a plain file name")
        if any(c in name for c in '<>:"|?*') or any(ord(c) < 32 for c in name) or name.endswith((".", " ")):
            raise FileOpError("invalid_name", "the new name has characters Windows cannot store")
        if is_windows_reserved_name(name):
            raise FileOpError("invalid_name", "this name is reserved on Windows")
        stem, ext = os.path.splitext(name)
        if not ext:
            ext = src.suffix
        if ext.lower() != src.suffix.lower():
            raise FileOpError("extension_change", f"the extension must stay {src.suffix}")
        if not stem or stem.startswith("."):
            raise FileOpError("invalid_name", "the new name needs a base name (and may not be hidden)")
        return stem, ext

    # -- the five operations --------------------------------------------------------------
    def trash(self, rels: list) -> list[dict]:
        return self._run("trash", rels)

    def restore(self, rels: list) -> list[dict]:
        return self._run("restore", rels)

    def move(self, rels: list, destination: str, *, on_conflict: str = "error") -> list[dict]:
        return self._run("move", rels, destination=destination, on_conflict=on_conflict)

    def rename(self, rels: list, new_names: list, *, on_conflict: str = "error") -> list[dict]:
        return self._run("rename", rels, new_names=new_names, on_conflict=on_conflict)

    def delete(self, rels: list) -> list[dict]:
        return self._run("delete", rels)

    def trashed_paths(self) -> list[str]:
        """Every file under the trashcan (for emptying it)."""
        out = []
        if not self.trash_root.is_dir():
            return out
        for folder, dirs, files in os.walk(self.trash_root):
            base = Path(folder)
            if base.name == EDIT_DIR:
                continue
            for name in files:
                if not name.endswith(PARTIAL_SUFFIX) and media_kind(name) is not None:
                    out.append(self.rel(base / name))
        return sorted(out)

    def empty_trash(self) -> dict:
        """Delete every media file in the trash (with sidecars), then whatever else is left there."""
        results = self._run("delete", self.trashed_paths())
        leftovers = 0
        with self.lock:
            if self.trash_root.is_dir():
                for folder, dirs, files in os.walk(self.trash_root, topdown=False):
                    for name in files:
                        try:
                            os.unlink(os.path.join(folder, name))
                            leftovers += 1
                        except OSError as exc:
                            log.warning("could not remove %s from the trash: %s", name, exc)
                    if folder != str(self.trash_root):
                        try:
                            os.rmdir(folder)
                        except OSError:
                            pass
        return {"results": results, "other_files_removed": leftovers}

    # -- execution ------------------------------------------------------------------------------
    def _run(self, op: str, rels: list, **options) -> list[dict]:
        with self.lock:
            originals = None
            if op == "restore":
                clean = [r for r in rels if isinstance(r, str)]
                originals = self.db.read_sync(lambda conn: self._lookup(conn, clean))
                originals = {k: v.get("original_path") for k, v in originals.items() if v.get("original_path")}
            items = self._plan(op, rels, originals=originals, **options)
            runnable = [i for i in items if i.error is None]
            for start in range(0, len(runnable), self.chunk):
                self._run_chunk(op, runnable[start:start + self.chunk])
            return [i.result() for i in items]

    def _lookup(self, conn, rels: list[str]) -> dict[str, dict]:
        out: dict[str, dict] = {}
        for listener in self.listeners:
            for rel, facts in listener.lookup(conn, rels).items():
                out.setdefault(rel, {}).update(facts)
        return out

    def _run_chunk(self, op: str, items: list[Item]) -> None:
        batch = uuid.uuid4().hex
        now = time.time()
        rows = [
            (batch, item.index, seq, op, t.role, self.rel(t.src), self.rel(t.dst) if t.dst is not None else None, now)
            for item in items for seq, t in enumerate(item.transfers)
        ]
        self._mark_busy(items, True)
        self.db.write_sync(lambda conn: conn.executemany(
            "INSERT INTO file_ops_journal(batch, item, seq, op, role, src, dst, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            rows))
        changes: list[Change] = []
        processed: list[int] = []
        since = time.monotonic()
        by_index = {item.index: item for item in items}
        for item in items:
            self._pace()
            processed.append(item.index)
            try:
                self._execute(item)
            except FileOpError as exc:
                item.error = exc
            else:
                changes.append(Change(op, item.rel, item.new_rel))
            if len(processed) >= CONFIRM_MAX_ITEMS or time.monotonic() - since > CONFIRM_EVERY_S:
                # keep the window between a move on disk and its index update short, even on a slow disk
                self._confirm(batch, changes, items=processed)
                self._mark_busy([by_index[i] for i in processed], False)
                changes, processed, since = [], [], time.monotonic()
        if processed:
            self._confirm(batch, changes, items=processed)
            self._mark_busy([by_index[i] for i in processed], False)

    def _execute(self, item: Item) -> None:
        """All transfers of one item, or none of them (rolled back in reverse order)."""
        done: list[Transfer] = []
        try:
            for transfer in item.transfers:
                if transfer.dst is None:
                    _delete(transfer.src)
                else:
                    _move(transfer.src, transfer.dst)
                transfer.done = True
                done.append(transfer)
                if self.on_progress is not None:
                    self.on_progress(len(done))
        except OSError as exc:
            if item.op == "delete":
                # what is gone is gone; report it and let the index learn about the main file
                if done and done[0].role == "main":
                    raise FileOpError("partial_delete", f"{transfer.role} could not be deleted: {exc}") from None
                raise FileOpError("delete_failed", f"could not delete: {exc.strerror or exc}") from None
            for moved in reversed(done):
                try:
                    _move(moved.dst, moved.src)
                except OSError as back:
                    log.error("could not move %s back to %s: %s", moved.dst, moved.src, back)
            what = "the file" if transfer.role == "main" else f"its {transfer.role} sidecar"
            code = "exists" if isinstance(exc, DestinationTaken) else "move_failed"
            raise FileOpError(code, f"could not move {what}: {exc.strerror or exc}; nothing was changed") from None
        for transfer in item.transfers:
            if transfer.role in ("edt", "proc"):
                _remove_empty_dir(transfer.src.parent)
        if item.op in ("restore", "delete") and self.in_trash(item.rel):
            _remove_empty_parents(item.transfers[0].src.parent, self.trash_root)

    def _confirm(self, batch: str, changes: list[Change], *, items: list[int] | None = None) -> None:
        def write(conn: sqlite3.Connection) -> None:
            for listener in self.listeners:
                listener.on_commit(conn, changes)
            if items is None:
                conn.execute("DELETE FROM file_ops_journal WHERE batch = ?", (batch,))
            else:
                conn.executemany("DELETE FROM file_ops_journal WHERE batch = ? AND item = ?", [(batch, i) for i in items])

        for attempt in range(3):
            try:
                self.db.write_sync(write)
                break
            except Exception as exc:  # a busy database, or a listener's bug: never lose the moves
                if attempt == 2:
                    log.error("could not record a finished file operation (%s); it will be reconciled at start-up", exc)
                    return
                time.sleep(0.2 * (attempt + 1))
        for listener in self.listeners:
            try:
                listener.after_commit(changes)
            except Exception:
                log.exception("after-commit step of a file operation failed")

    # -- crash recovery ---------------------------------------------------------------------------
    def reconcile(self) -> dict:
        """Finish or undo every intent left by an interrupted batch (call before serving)."""
        with self.lock:
            rows = self.db.read_sync(lambda conn: conn.execute(
                "SELECT batch, item, seq, op, role, src, dst FROM file_ops_journal ORDER BY batch, item, seq").fetchall())
            if not rows:
                return {"items": 0}
            groups: dict[tuple[str, int], list] = {}
            for row in rows:
                groups.setdefault((row["batch"], row["item"]), []).append(row)
            summary = {"items": len(groups), "completed": 0, "rolled_back": 0, "vanished": 0}
            by_batch: dict[str, list[tuple[int, Change | None]]] = {}
            for (batch, item), group in groups.items():
                change, outcome = self._reconcile_item(group)
                summary[outcome] += 1
                by_batch.setdefault(batch, []).append((item, change))
            for batch, entries in by_batch.items():
                self._confirm(batch, [c for _i, c in entries if c is not None])
            log.warning("Reconciled %d interrupted file operations: %s", len(groups), summary)
            return summary

    def _abs(self, rel: str | None) -> Path | None:
        return None if rel is None else self.root.joinpath(*PurePosixPath(rel).parts)

    def _reconcile_item(self, group: list) -> tuple[Change | None, str]:
        main = next((r for r in group if r["role"] == "main"), group[0])
        op = main["op"]
        src, dst = self._abs(main["src"]), self._abs(main["dst"])
        for row in group:  # half-copied files from a cross-device move are never kept
            if row["dst"]:
                partial = self._abs(row["dst"]).with_name(self._abs(row["dst"]).name + PARTIAL_SUFFIX)
                _delete(partial)
        if op == "delete":
            for row in group:
                _delete(self._abs(row["src"]))
            return Change("delete", main["src"]), "completed"
        src_exists, dst_exists = src.exists(), dst.exists()
        if src_exists and dst_exists and src.stat().st_size == dst.stat().st_size:
            _delete(src)  # a finished copy whose source was not removed yet
            src_exists = False
        if dst_exists and not src_exists:
            for row in group:
                if row["role"] == "main":
                    continue
                c_src, c_dst = self._abs(row["src"]), self._abs(row["dst"])
                if c_src.exists() and not c_dst.exists():
                    _move(c_src, c_dst)
            return Change(op, main["src"], main["dst"]), "completed"
        if src_exists:
            for row in group:
                if row["role"] == "main":
                    continue
                c_src, c_dst = self._abs(row["src"]), self._abs(row["dst"])
                if c_dst.exists() and not c_src.exists():
                    _move(c_dst, c_src)
            return None, "rolled_back"
        log.warning("%s disappeared during an interrupted %s", main["src"], op)
        return Change("vanished", main["src"]), "vanished"


# --------------------------------------------------------------------------- disk primitives
class DestinationTaken(FileExistsError):
    """Something appeared at the destination after planning: never overwrite it."""


def _move(src: Path, dst: Path) -> None:
    """Rename without ever overwriting; across devices copy to a partial name first."""
    if (dst.exists() or dst.is_symlink()) and not _same_file(src, dst):  # case-only renames are fine
        raise DestinationTaken(errno.EEXIST, "the destination already exists", str(dst))
    dst.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.rename(src, dst)
    except OSError as exc:
        if exc.errno != errno.EXDEV:
            raise
        partial = dst.with_name(dst.name + PARTIAL_SUFFIX)
        shutil.copy2(src, partial)
        os.replace(partial, dst)
        os.unlink(src)


def _same_file(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def _delete(path: Path | None) -> None:
    if path is None:
        return
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


def _remove_empty_dir(folder: Path) -> None:
    try:
        folder.rmdir()
    except OSError:
        pass


def _remove_empty_parents(folder: Path, stop: Path) -> None:
    while folder != stop and stop in folder.parents:
        try:
            folder.rmdir()
        except OSError:
            return
        folder = folder.parent
