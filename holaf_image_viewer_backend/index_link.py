"""How the actions keep the media index (the ``images`` table, issue 3) in step.

* File operations update index rows **in the transaction that confirms the
  moves** (``IndexFollower``): a row keeps its id, tags and rating through
  trash, restore, move and rename (``store.move_row``), and goes away with a
  permanent delete. A file the index had not seen yet gets a row at its new
  place, so a just-saved file that is trashed at once still shows in the trash.
* The thumbnail backfill asks the index for the newest files without a fresh
  thumbnail (``candidates``), and the progress figures count against it.
* After a metadata rewrite the index is told to read the file again.

Only this module knows the index's table and store functions.
"""
from __future__ import annotations

import logging
import os
import sqlite3
import time
from pathlib import Path

from . import logic, store
from .file_ops import Change, FileOpsListener

log = logging.getLogger("holaf.actions")

CANDIDATES_SQL = """
    SELECT i.path AS path, i.mtime_ns AS mtime_ns, i.size AS size, i.duration AS duration, i.has_edits AS has_edits
    FROM images AS i LEFT JOIN thumbnails AS t ON t.path = i.path
    WHERE i.is_trashed = 0
      AND (t.path IS NULL OR t.mtime_ns != i.mtime_ns OR t.size != i.size
           OR (t.status = 'done' AND t.thumb_px != :px))
    ORDER BY i.mtime_ns DESC
    LIMIT :limit
"""
INDEX_SQL = {
    "stats": """
        SELECT count(*),
               sum(CASE WHEN t.status = 'done' AND t.mtime_ns = i.mtime_ns AND t.size = i.size AND t.thumb_px = :px THEN 1 ELSE 0 END),
               sum(CASE WHEN t.status = 'failed' AND t.mtime_ns = i.mtime_ns AND t.size = i.size THEN 1 ELSE 0 END)
        FROM images AS i LEFT JOIN thumbnails AS t ON t.path = i.path
        WHERE i.is_trashed = 0
    """,
    "paths": "SELECT path FROM images",
}


def thumbnail_candidates(size_px: int):
    """``candidate_source`` for the thumbnail backfill: newest first, not trashed, no fresh thumbnail."""

    def candidates(conn: sqlite3.Connection, limit: int) -> list[dict]:
        return [dict(r) for r in conn.execute(CANDIDATES_SQL, {"px": size_px(), "limit": limit})]

    return candidates


class IndexFollower(FileOpsListener):
    """Index rows follow their files through every file operation."""

    def __init__(self, ctx) -> None:
        self.ctx = ctx
        self.root = Path(os.path.realpath(ctx.paths.output_dir))

    @property
    def index(self):
        return self.ctx.state.get("image_index")

    def lookup(self, conn: sqlite3.Connection, rels: list[str]) -> dict[str, dict]:
        out = {}
        for start in range(0, len(rels), 500):
            part = rels[start:start + 500]
            marks = ",".join("?" * len(part))
            for row in conn.execute(
                    f"SELECT path, original_path FROM images WHERE is_trashed = 1 AND original_path IS NOT NULL AND path IN ({marks})",
                    part):
                out[row[0]] = {"original_path": row[1]}
        return out

    def on_commit(self, conn: sqlite3.Connection, changes: list[Change]) -> None:
        ids = store.ids_for_paths(conn, [c.old for c in changes])
        gone: list[int] = []
        now = time.time()
        for change in changes:
            image_id = ids.get(change.old)
            if change.op in ("delete", "vanished"):
                if image_id is not None:
                    gone.append(image_id)
                continue
            # a row the scanner may already have made for the destination is the same file
            conn.execute("DELETE FROM image_fts WHERE rowid IN (SELECT id FROM images WHERE path = ?)", (change.new,))
            conn.execute("DELETE FROM images WHERE path = ?", (change.new,))
            if image_id is None:
                self._insert_unseen(conn, change, now)
                continue
            if change.op == "trash":
                store.move_row(conn, image_id, change.new, trashed=True, original_path=change.old)
            elif change.op == "restore":
                store.move_row(conn, image_id, change.new, trashed=False)
            else:
                store.move_row(conn, image_id, change.new)
        if gone:
            store.delete_ids(conn, gone)

    def _insert_unseen(self, conn: sqlite3.Connection, change: Change, now: float) -> None:
        """A file the index had not listed yet: give it a row where it now is (metadata read later)."""
        path = self.root.joinpath(*change.new.split("/"))
        try:
            st = path.stat()
        except OSError:
            return
        edit = path.parent / "edit" / f"{path.stem}.edt"
        row = store.discovered_row((change.new, st.st_size, st.st_mtime_ns, 0, 1 if edit.exists() else 0), now)
        store.insert_discovered(conn, [row])
        if change.op == "trash":
            conn.execute("UPDATE images SET original_path = ? WHERE path = ?", (change.old, change.new))

    def after_commit(self, changes: list[Change]) -> None:
        index = self.index
        if index is None or not changes:
            return
        trash = logic.TRASH_DIR + "/"
        added = [c.new for c in changes if c.new and not c.new.startswith(trash) and c.op not in ("delete", "vanished")]
        removed = [c.old for c in changes if not c.old.startswith(trash)]
        index.note_external_change(added=added, removed=removed, updated=len(changes))


def refresh_files(ctx, rels: list[str]) -> None:
    """After a metadata rewrite: the index reads these files again (their size changed)."""
    index = ctx.state.get("image_index")
    if index is None:
        return
    for rel in rels:
        index.notify_file(rel, closed=True)
