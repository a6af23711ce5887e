"""Schema of the media index (component ``images``), as numbered forward migrations.

Why it looks like this:

* ``images`` is the hot table every listing walks: short columns only (no prompt
  text, no JSON), so a page or a count touches few pages. ``path`` is relative to
  the output root with ``/`` separators; ``top_folder`` is its first segment or
  ``root``. Trashed rows stay here (``is_trashed`` = 1, ``path`` under
  ``trashcan/``, ``original_path`` = where the file came from).
* ``metadata_at`` is the per-file stage stamp (Immich style): NULL means "facts
  known from ``stat`` only, metadata still to read". A scan killed half-way
  resumes by picking up the NULL rows; a changed file gets NULL again.
* The raw prompt/workflow JSON is not stored at all: the metadata route reads
  it from the file (about a millisecond), while storing it cost a quarter of
  the per-file indexing time and ~1.5 KB per row. Only the short parsed fields
  used by filters live in ``images``; prompts live in the search index.
* ``image_fts`` (FTS5) indexes name, folder, prompts, model, LoRAs and a bounded
  workflow text; its rowid is ``images.id``.
* Every listing order has an index ``(is_trashed, sort key, id…)``:
  ``ORDER BY key, id LIMIT n`` is an index walk and the keyset condition
  ``(key, id) > (?, ?)`` is a seek. The date and random indexes also hold the
  flag/kind/format/rating columns, so those filters and their counts are
  evaluated inside the index, never on table rows.
* ``rand_key`` is a random number drawn once per row: the "random" order walks
  its index from a point chosen by the seed (then wraps around), so a shuffled
  page costs the same as a date-sorted one at any library size.
"""
from __future__ import annotations

import sqlite3


def _m001_images(conn: sqlite3.Connection) -> None:
    """Index tables: images, detail, tags, LoRAs, full-text search."""
    _run_statements(conn, """
        CREATE TABLE IF NOT EXISTS images (
            id INTEGER PRIMARY KEY,
            path TEXT NOT NULL UNIQUE,
            folder TEXT NOT NULL,
            top_folder TEXT NOT NULL,
            name TEXT NOT NULL COLLATE NOCASE,
            ext TEXT NOT NULL,
            kind TEXT NOT NULL,
            format TEXT NOT NULL,
            size INTEGER NOT NULL,
            mtime_ns INTEGER NOT NULL,
            sidecar_sig INTEGER NOT NULL DEFAULT 0,
            width INTEGER,
            height INTEGER,
            duration REAL,
            fps REAL,
            animated INTEGER NOT NULL DEFAULT 0,
            has_audio INTEGER NOT NULL DEFAULT 0,
            has_workflow INTEGER NOT NULL DEFAULT 0,
            has_prompt INTEGER NOT NULL DEFAULT 0,
            has_edits INTEGER NOT NULL DEFAULT 0,
            has_tags INTEGER NOT NULL DEFAULT 0,
            rating INTEGER NOT NULL DEFAULT 0,
            model TEXT,
            sampler TEXT,
            seed INTEGER,
            steps INTEGER,
            cfg REAL,
            error TEXT,
            is_trashed INTEGER NOT NULL DEFAULT 0,
            original_path TEXT,
            trashed_at REAL,
            discovered_at REAL NOT NULL,
            metadata_at REAL,
            rand_key INTEGER NOT NULL DEFAULT (random() & 4611686018427387903)
        );

        -- One index per listing order: trash flag, sort key, id (the keyset tie-break). The date
        -- and random orders (the ones filters are combined with most) also carry the small filter
        -- columns, so a filtered page or count is a walk of that index alone.
        CREATE INDEX IF NOT EXISTS idx_images_mtime ON images(is_trashed, mtime_ns, id, kind, format, has_workflow, has_prompt, has_edits, has_tags, rating);
        CREATE INDEX IF NOT EXISTS idx_images_name ON images(is_trashed, name, id);
        CREATE INDEX IF NOT EXISTS idx_images_size ON images(is_trashed, size, id);
        CREATE INDEX IF NOT EXISTS idx_images_rand ON images(is_trashed, rand_key, id, kind, format, has_workflow, has_prompt, has_edits, has_tags, rating);
        -- Selective filters in date order; size and name ride along so the other orders sort the
        -- filtered rows from the index alone (no table row read before the page is chosen).
        CREATE INDEX IF NOT EXISTS idx_images_top_mtime ON images(is_trashed, top_folder, mtime_ns, id, size, name);
        CREATE INDEX IF NOT EXISTS idx_images_folder_mtime ON images(is_trashed, folder, mtime_ns, id, size, name);
        CREATE INDEX IF NOT EXISTS idx_images_kind_mtime ON images(is_trashed, kind, mtime_ns, id, size, name);
        CREATE INDEX IF NOT EXISTS idx_images_format_mtime ON images(is_trashed, format, mtime_ns, id, size, name);
        CREATE INDEX IF NOT EXISTS idx_images_model ON images(model, is_trashed, mtime_ns, id, size, name) WHERE model IS NOT NULL;
        CREATE INDEX IF NOT EXISTS idx_images_sampler ON images(sampler, is_trashed, mtime_ns, id, size, name) WHERE sampler IS NOT NULL;
        -- Resumable metadata stage: rows still to read, newest first.
        CREATE INDEX IF NOT EXISTS idx_images_pending ON images(mtime_ns) WHERE metadata_at IS NULL;

        CREATE TABLE IF NOT EXISTS tags (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL UNIQUE COLLATE NOCASE
        );
        CREATE TABLE IF NOT EXISTS image_tags (
            image_id INTEGER NOT NULL REFERENCES images(id) ON DELETE CASCADE,
            tag_id INTEGER NOT NULL REFERENCES tags(id) ON DELETE CASCADE,
            PRIMARY KEY (image_id, tag_id)
        ) WITHOUT ROWID;
        CREATE INDEX IF NOT EXISTS idx_image_tags_tag ON image_tags(tag_id, image_id);

        CREATE TABLE IF NOT EXISTS image_loras (
            image_id INTEGER NOT NULL REFERENCES images(id) ON DELETE CASCADE,
            lora TEXT NOT NULL COLLATE NOCASE,
            PRIMARY KEY (image_id, lora)
        ) WITHOUT ROWID;
        CREATE INDEX IF NOT EXISTS idx_image_loras_lora ON image_loras(lora, image_id);

        CREATE VIRTUAL TABLE IF NOT EXISTS image_fts USING fts5(
            name, folder, positive, negative, model, loras, workflow,
            tokenize = "unicode61 remove_diacritics 2"
        );
        """)


def _run_statements(conn: sqlite3.Connection, script: str) -> None:
    """Run a script statement by statement (``executescript`` would commit the migration's transaction)."""
    lines = [line for line in script.splitlines() if not line.strip().startswith("--")]
    for statement in "\n".join(lines).split(";"):
        if statement.strip():
            conn.execute(statement)


def _m002_samplers(conn: sqlite3.Connection) -> None:
    """Every sampling pass of a file (hires-fix, refiner, multi-stage video), as a JSON list.

    Kept in a side table so the listing rows stay short: most views never need it. Each
    pass is ``{node_id, class_type, seed, steps, cfg, sampler, scheduler, denoise, model,
    loras, width, height}`` (its prompt texts only when they differ from the file's main
    prompts, which are in the search index already). Rows indexed before this table existed
    are queued to be read again (in the background, newest first; their search text stays
    meanwhile and is replaced when they are read).
    """
    _run_statements(conn, """
        CREATE TABLE IF NOT EXISTS image_samplers (
            image_id INTEGER PRIMARY KEY REFERENCES images(id) ON DELETE CASCADE,
            samplers TEXT NOT NULL
        );
        UPDATE images SET metadata_at = NULL WHERE metadata_at IS NOT NULL AND (has_prompt = 1 OR has_workflow = 1);
        """)


MIGRATIONS = [_m001_images, _m002_samplers]
