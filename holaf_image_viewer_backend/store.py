"""Every SQL statement of the index, as functions of a connection.

Writers are called through ``ctx.db`` (one writer thread, one transaction per
call); readers through ``ctx.db.execute_fn`` / ``read_sync`` (read-only
connections). Nothing here opens a connection.

Invariant kept by the writers: a row has an ``image_fts`` entry exactly when its
``metadata_at`` is set (a row whose file changed loses its search text until the
new metadata is read). One exception: a migration that needs every file read again
(``schema._m002_samplers``) keeps the old search text until the new one replaces it.
"""
from __future__ import annotations

import sqlite3
import time
from typing import Any, Iterable, Sequence

from . import logic
from .metadata import media_kind
from .metadata.media_types import format_for_extension

CHUNK = 500  # SQLite variable limit is 32766 here, but big IN lists plan worse


def _chunks(items: Sequence, size: int = CHUNK) -> Iterable[Sequence]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


# --------------------------------------------------------------------------- reads for the scanner
def load_state(conn: sqlite3.Connection, *, folder: str | None = None, recursive: bool = True,
               paths: Sequence[str] | None = None) -> dict[str, tuple]:
    """Stored facts ``path → (id, size, mtime_ns, sidecar_sig, has_edits, pending)`` for a scope.

    ``folder=None`` and ``paths=None``: every row (a full scan). ``folder``: the rows in
    that folder ('' = root), and below it when ``recursive``.
    """
    sql = "SELECT path, id, size, mtime_ns, sidecar_sig, has_edits, metadata_at IS NULL FROM images"
    out: dict[str, tuple] = {}
    if paths is not None:
        for chunk in _chunks(list(paths)):
            marks = ",".join("?" * len(chunk))
            for row in conn.execute(f"{sql} WHERE path IN ({marks})", tuple(chunk)):
                out[row[0]] = tuple(row[1:])
        return out
    if folder is None:
        rows = conn.execute(sql)
    elif recursive and folder:
        rows = conn.execute(f"{sql} WHERE folder = ? OR (folder >= ? AND folder < ?)",
                            (folder, folder + "/", folder + "0"))
    elif recursive:
        rows = conn.execute(sql)
    else:
        rows = conn.execute(f"{sql} WHERE folder = ?", (folder,))
    for row in rows:
        out[row[0]] = tuple(row[1:])
    return out


def pending_metadata(conn: sqlite3.Connection, limit: int = 1_000_000) -> list[tuple[int, str, bool]]:
    """Rows whose metadata stage is still to do, newest first (what the user looks at first):
    ``(id, path, may_have_sidecars)``."""
    return [(r[0], r[1], bool(r[2])) for r in conn.execute(
        "SELECT id, path, sidecar_sig != 0 FROM images WHERE metadata_at IS NULL ORDER BY mtime_ns DESC LIMIT ?",
        (limit,))]


def count_pending(conn: sqlite3.Connection) -> int:
    return conn.execute("SELECT count(*) FROM images WHERE metadata_at IS NULL").fetchone()[0]


# --------------------------------------------------------------------------- writes for the scanner
_INSERT = (
    "INSERT INTO images (path, folder, top_folder, name, ext, kind, format, size, mtime_ns, sidecar_sig, "
    "has_edits, is_trashed, original_path, trashed_at, discovered_at) "
    "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?) "
    "ON CONFLICT(path) DO UPDATE SET size = excluded.size, mtime_ns = excluded.mtime_ns, "
    "sidecar_sig = excluded.sidecar_sig, has_edits = excluded.has_edits, metadata_at = NULL"
)


def discovered_row(facts: tuple, now: float) -> tuple:
    """The ``images`` insert values for a file known only by its stat facts."""
    rel, size, mtime_ns, sig, has_edits = facts
    folder, name, top = logic.split_path(rel)
    ext = logic.ext_of(name)
    trashed = rel.startswith(logic.TRASH_DIR + "/")
    original = rel[len(logic.TRASH_DIR) + 1:] if trashed else None
    kind = media_kind(name) or "image"
    fmt = format_for_extension(name) or ext.upper()
    return (rel, folder, top, name, ext, kind, fmt, size, mtime_ns, sig,
            has_edits, 1 if trashed else 0, original, now if trashed else None, now)


def insert_discovered(conn: sqlite3.Connection, rows: Sequence[tuple]) -> int:
    conn.executemany(_INSERT, rows)
    return len(rows)


def mark_changed(conn: sqlite3.Connection, changes: Sequence[tuple[int, int, int, int, int]]) -> int:
    """``(id, size, mtime_ns, sidecar_sig, has_edits)``: the file must be read again."""
    ids = [(c[0],) for c in changes]
    conn.executemany("DELETE FROM image_fts WHERE rowid = ?", ids)
    conn.executemany(
        "UPDATE images SET size = ?, mtime_ns = ?, sidecar_sig = ?, has_edits = ?, metadata_at = NULL WHERE id = ?",
        [(c[1], c[2], c[3], c[4], c[0]) for c in changes],
    )
    return len(changes)


def set_edit_flags(conn: sqlite3.Connection, flags: Sequence[tuple[int, int]]) -> int:
    """``(id, has_edits)`` for files whose ``.edt`` appeared or went away."""
    conn.executemany("UPDATE images SET has_edits = ? WHERE id = ?", [(f[1], f[0]) for f in flags])
    return len(flags)


def delete_ids(conn: sqlite3.Connection, ids: Sequence[int]) -> int:
    total = 0
    for chunk in _chunks(list(ids)):
        marks = ",".join("?" * len(chunk))
        conn.execute(f"DELETE FROM image_fts WHERE rowid IN ({marks})", tuple(chunk))
        total += conn.execute(f"DELETE FROM images WHERE id IN ({marks})", tuple(chunk)).rowcount
    return total


def paths_under(conn: sqlite3.Connection, folder: str) -> list[str]:
    """Paths of the non-trashed rows in ``folder`` and below."""
    return [r[0] for r in conn.execute(
        "SELECT path FROM images WHERE is_trashed = 0 AND (folder = ? OR (folder >= ? AND folder < ?))",
        (folder, folder + "/", folder + "0"))]


def child_folders(conn: sqlite3.Connection, folder: str) -> list[str]:
    """Names of the folders directly below ``folder`` ('' = root) that hold indexed files."""
    if folder:
        rows = conn.execute("SELECT DISTINCT folder FROM images WHERE is_trashed = 0 AND folder >= ? AND folder < ?",
                            (folder + "/", folder + "0"))
        cut = len(folder) + 1
    else:
        rows = conn.execute("SELECT DISTINCT folder FROM images WHERE is_trashed = 0 AND folder != ''")
        cut = 0
    return sorted({r[0][cut:].split("/", 1)[0] for r in rows})


def move_row(conn: sqlite3.Connection, image_id: int, new_path: str, *, trashed: bool | None = None,
             original_path: str | None = None) -> None:
    """Point a row at a new path, keeping its id, tags, rating and metadata.

    Used for files that moved (detected by the scanner) and by file actions
    (rename, move, trash, restore). Keeps the search text's name/folder in step.
    """
    folder, name, top = logic.split_path(new_path)
    ext = logic.ext_of(name)
    sets = ["path = ?", "folder = ?", "top_folder = ?", "name = ?", "ext = ?"]
    params: list[Any] = [new_path, folder, top, name, ext]
    if trashed is not None:
        sets += ["is_trashed = ?", "original_path = ?", "trashed_at = ?"]
        params += [1 if trashed else 0, original_path if trashed else None, time.time() if trashed else None]
    conn.execute(f"UPDATE images SET {', '.join(sets)} WHERE id = ?", (*params, image_id))
    conn.execute("UPDATE image_fts SET name = ?, folder = ? WHERE rowid = ?", (name, folder, image_id))


_APPLY_SET = (
    "width = :width, height = :height, duration = :duration, fps = :fps, animated = :animated, "
    "has_audio = :has_audio, has_workflow = :has_workflow, has_prompt = :has_prompt, model = :model, "
    "sampler = :sampler, seed = :seed, steps = :steps, cfg = :cfg, error = :error, metadata_at = :now"
)
_APPLY_WHERE = " WHERE id = :id AND metadata_at IS NULL AND size = :size AND mtime_ns = :mtime_ns"
# kind/format sit in several indexes: set them only when the content disagrees with the extension.
_APPLY = "UPDATE images SET " + _APPLY_SET + _APPLY_WHERE
_APPLY_WITH_TYPE = "UPDATE images SET kind = :kind, format = :format, " + _APPLY_SET + _APPLY_WHERE


def apply_metadata(conn: sqlite3.Connection, results: Sequence[tuple[int, int, int, dict]], now: float,
                   paths: dict[int, str] | None = None, tag_cache: dict[str, int] | None = None) -> dict:
    """Store extraction results. Returns ``{"applied": [ids], "removed": [paths], "retry": n}``.

    ``paths`` (id → relative path of the rows read) spares a lookup per row. A
    result is applied only if the row still waits for metadata with the stat the
    worker saw. If the file changed meanwhile, the row adopts the newer stat and
    stays pending (read again next round); if it vanished, the row goes.
    """
    tag_cache = {} if tag_cache is None else tag_cache
    applied: list[int] = []
    removed_ids: list[int] = []
    retry = 0
    fts_rows, lora_rows, sampler_rows = [], [], []
    for image_id, size, mtime_ns, record in results:
        if record.get("missing"):
            removed_ids.append(image_id)
            continue
        values = {
            "id": image_id, "size": size, "mtime_ns": mtime_ns, "now": now,
            "kind": record.get("kind"), "format": record.get("format"), "width": record.get("width"),
            "height": record.get("height"), "duration": record.get("duration"), "fps": record.get("fps"),
            "animated": record.get("animated", 0), "has_audio": record.get("has_audio", 0),
            "has_workflow": record.get("has_workflow", 0), "has_prompt": record.get("has_prompt", 0),
            "model": record.get("model"), "sampler": record.get("sampler"), "seed": record.get("seed"),
            "steps": record.get("steps"), "cfg": record.get("cfg"), "error": record.get("error"),
        }
        rel = paths.get(image_id) if paths else None
        typed = rel is None or (values["kind"], values["format"]) != (media_kind(rel), format_for_extension(rel))
        if values["kind"] is None or values["format"] is None:
            typed = False
        if conn.execute(_APPLY_WITH_TYPE if typed else _APPLY, values).rowcount != 1:
            cur = conn.execute(
                "UPDATE images SET size = ?, mtime_ns = ? WHERE id = ? AND metadata_at IS NULL", (size, mtime_ns, image_id))
            retry += cur.rowcount
            continue
        applied.append(image_id)
        if rel is not None:
            folder, name, _ = logic.split_path(rel)
        else:
            name, folder = conn.execute("SELECT name, folder FROM images WHERE id = ?", (image_id,)).fetchone()
        loras = record.get("loras") or []
        fts_rows.append((image_id, name, folder, record.get("positive") or "", record.get("negative") or "",
                         record.get("model") or "", " ".join(loras), record.get("workflow_text") or ""))
        lora_rows.extend((image_id, lora) for lora in loras)
        if record.get("samplers"):
            sampler_rows.append((image_id, record["samplers"]))
        if record.get("tags") is not None:
            _replace_tags(conn, image_id, record["tags"], tag_cache)
        if record.get("rating") is not None:
            conn.execute("UPDATE images SET rating = ? WHERE id = ?", (max(0, min(5, record["rating"])), image_id))
    if applied:
        conn.executemany("DELETE FROM image_fts WHERE rowid = ?", [(i,) for i in applied])
        conn.executemany(
            "INSERT INTO image_fts(rowid, name, folder, positive, negative, model, loras, workflow) "
            "VALUES (?,?,?,?,?,?,?,?)", fts_rows)
        conn.executemany("DELETE FROM image_loras WHERE image_id = ?", [(i,) for i in applied])
        conn.executemany("INSERT OR IGNORE INTO image_loras(image_id, lora) VALUES (?, ?)", lora_rows)
        conn.executemany("DELETE FROM image_samplers WHERE image_id = ?", [(i,) for i in applied])
        conn.executemany("INSERT INTO image_samplers(image_id, samplers) VALUES (?, ?)", sampler_rows)
    removed_paths: list[str] = []
    if removed_ids:
        for chunk in _chunks(removed_ids):
            marks = ",".join("?" * len(chunk))
            removed_paths += [r[0] for r in conn.execute(f"SELECT path FROM images WHERE id IN ({marks})", tuple(chunk))]
        delete_ids(conn, removed_ids)
    return {"applied": applied, "removed": removed_paths, "retry": retry}


_INSERT_READ = (
    "INSERT INTO images (path, folder, top_folder, name, ext, kind, format, size, mtime_ns, sidecar_sig, "
    "has_edits, is_trashed, original_path, trashed_at, discovered_at, width, height, duration, fps, animated, "
    "has_audio, has_workflow, has_prompt, model, sampler, seed, steps, cfg, error, rating, metadata_at) "
    "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?) ON CONFLICT(path) DO NOTHING"
)


def insert_read(conn: sqlite3.Connection, results: Sequence[tuple[tuple, int, int, dict]], now: float,
                tag_cache: dict[str, int] | None = None) -> dict:
    """Insert files found by a scan together with their metadata: one write per file.

    ``results`` are ``(walk facts, size, mtime_ns, record)``, the stat being the one the
    reader saw. A first scan used to insert each file at discovery and update it with its
    metadata later, which rewrote every sort index twice; this halves the writer's work.
    A file that vanished is skipped; a path that got a row meanwhile (a live notice during
    the scan) keeps it, and that row's metadata is read by the pending stage.
    Returns ``{"applied": [ids], "added": [paths], "stats": [(path, size, mtime_ns)]}``.
    """
    tag_cache = {} if tag_cache is None else tag_cache
    applied: list[int] = []
    added: list[str] = []
    stats: list[tuple[str, int, int]] = []
    fts_rows, lora_rows, sampler_rows = [], [], []
    for facts, size, mtime_ns, record in results:
        if record.get("missing"):
            continue
        row = discovered_row((facts[0], size, mtime_ns, facts[3], facts[4]), now)
        kind, fmt = record.get("kind"), record.get("format")
        if kind and fmt:
            row = row[:5] + (kind, fmt) + row[7:]
        rating = record.get("rating")
        cur = conn.execute(_INSERT_READ, row + (
            record.get("width"), record.get("height"), record.get("duration"), record.get("fps"),
            record.get("animated", 0), record.get("has_audio", 0), record.get("has_workflow", 0),
            record.get("has_prompt", 0), record.get("model"), record.get("sampler"), record.get("seed"),
            record.get("steps"), record.get("cfg"), record.get("error"),
            0 if rating is None else max(0, min(5, rating)), now))
        if cur.rowcount != 1:
            continue
        image_id = cur.lastrowid
        applied.append(image_id)
        added.append(row[0])
        stats.append((row[0], size, mtime_ns))
        loras = record.get("loras") or []
        fts_rows.append((image_id, row[3], row[1], record.get("positive") or "", record.get("negative") or "",
                         record.get("model") or "", " ".join(loras), record.get("workflow_text") or ""))
        lora_rows.extend((image_id, lora) for lora in loras)
        if record.get("samplers"):
            sampler_rows.append((image_id, record["samplers"]))
        if record.get("tags"):
            _replace_tags(conn, image_id, record["tags"], tag_cache)
    if fts_rows:
        conn.executemany(
            "INSERT INTO image_fts(rowid, name, folder, positive, negative, model, loras, workflow) "
            "VALUES (?,?,?,?,?,?,?,?)", fts_rows)
        conn.executemany("INSERT OR IGNORE INTO image_loras(image_id, lora) VALUES (?, ?)", lora_rows)
        conn.executemany("INSERT OR REPLACE INTO image_samplers(image_id, samplers) VALUES (?, ?)", sampler_rows)
    return {"applied": applied, "added": added, "stats": stats}


# --------------------------------------------------------------------------- tags and ratings
def _tag_id(conn: sqlite3.Connection, name: str, cache: dict[str, int]) -> int:
    tag_id = cache.get(name)
    if tag_id is None:
        row = conn.execute("SELECT id FROM tags WHERE name = ?", (name,)).fetchone()
        tag_id = row[0] if row else conn.execute("INSERT INTO tags(name) VALUES (?)", (name,)).lastrowid
        cache[name] = tag_id
    return tag_id


def _replace_tags(conn: sqlite3.Connection, image_id: int, names: Sequence[str], cache: dict[str, int]) -> None:
    conn.execute("DELETE FROM image_tags WHERE image_id = ?", (image_id,))
    ids = {_tag_id(conn, n, cache) for n in names}
    conn.executemany("INSERT OR IGNORE INTO image_tags(image_id, tag_id) VALUES (?, ?)", [(image_id, t) for t in ids])
    conn.execute("UPDATE images SET has_tags = ? WHERE id = ?", (1 if ids else 0, image_id))


def tags_of(conn: sqlite3.Connection, ids: Sequence[int]) -> dict[int, list[str]]:
    out: dict[int, list[str]] = {i: [] for i in ids}
    for chunk in _chunks(list(ids)):
        marks = ",".join("?" * len(chunk))
        for image_id, name in conn.execute(
                f"SELECT it.image_id, t.name FROM image_tags it JOIN tags t ON t.id = it.tag_id "
                f"WHERE it.image_id IN ({marks}) ORDER BY t.name", tuple(chunk)):
            out[image_id].append(name)
    return out


def change_tags(conn: sqlite3.Connection, ids: Sequence[int], *, set_to: Sequence[str] | None,
                add: Sequence[str], remove: Sequence[str]) -> dict[int, list[str]]:
    """Set, or add and remove, tags on many images; returns each image's tags afterwards."""
    cache: dict[str, int] = {}
    current = tags_of(conn, ids)
    for image_id in ids:
        names = list(set_to) if set_to is not None else list(current[image_id])
        names += [t for t in add if t not in names]
        names = [t for t in names if t not in set(remove)]
        if sorted(names) != sorted(current[image_id]):
            _replace_tags(conn, image_id, names, cache)
    conn.execute("DELETE FROM tags WHERE id NOT IN (SELECT tag_id FROM image_tags)")
    return tags_of(conn, ids)


def set_rating(conn: sqlite3.Connection, ids: Sequence[int], rating: int) -> int:
    total = 0
    for chunk in _chunks(list(ids)):
        marks = ",".join("?" * len(chunk))
        total += conn.execute(f"UPDATE images SET rating = ? WHERE id IN ({marks})", (rating, *chunk)).rowcount
    return total


def ids_for_paths(conn: sqlite3.Connection, paths: Sequence[str]) -> dict[str, int]:
    out: dict[str, int] = {}
    for chunk in _chunks(list(paths)):
        marks = ",".join("?" * len(chunk))
        out.update({r[0]: r[1] for r in conn.execute(f"SELECT path, id FROM images WHERE path IN ({marks})", tuple(chunk))})
    return out


# --------------------------------------------------------------------------- listing
def walk_threshold(table_rows: int, limit: int) -> int:
    """Above this many matches, walking the sort index (about ``limit × rows / matches``
    probes at ~0.3 µs) beats looking every match up by id and sorting (~2 µs each)."""
    return max(200, int((0.15 * limit * max(table_rows, 1)) ** 0.5))


WALK_THRESHOLD = 2000  # for callers that do not know the table size


def subquery_size(conn: sqlite3.Connection, q: logic.ListQuery) -> int | None:
    """How many rows the most selective sub-select filter matches (None: there is none)."""
    sizes = []
    if q.search:
        match = logic.fts_query(q.search, q.search_scopes)
        if match is not None:
            sizes.append(conn.execute("SELECT count(*) FROM image_fts WHERE image_fts MATCH ?", (match,)).fetchone()[0])
    if q.lora:
        sizes.append(conn.execute("SELECT count(*) FROM image_loras WHERE lora = ?", (q.lora,)).fetchone()[0])
    for tag in q.tags:
        sizes.append(conn.execute("SELECT count(*) FROM image_tags it JOIN tags t ON t.id = it.tag_id WHERE t.name = ?",
                                  (tag,)).fetchone()[0])
    return min(sizes) if sizes else None


def _access_hint(q: logic.ListQuery, sub_size: int | None, threshold: int = WALK_THRESHOLD) -> str:
    """How to drive a query with a sub-select filter (search, LoRA, tags), by its size:
    few matches → look them up by id and sort them (``NOT INDEXED`` keeps SQLite from
    walking a whole index to probe a handful); many → walk the sort order's index and
    probe the matches, unless a folder, model or sampler filter has a better index."""
    if sub_size is None:
        return ""
    if sub_size <= threshold:
        return "NOT INDEXED"
    if q.folders or q.folder_prefix or q.model or q.sampler:
        return ""
    return f"INDEXED BY {logic.sort_index(q.sort)}"


def _bool_json(column: str) -> str:
    return f"CASE WHEN {column} THEN json('true') ELSE json('false') END"


#: One listing item as JSON, built by SQLite: no Python
#: dict per row and no json.dumps of 200 rows on every page.
ITEM_JSON_SQL = "json_object(" + ", ".join([
    "'id', images.id", "'path', images.path", "'name', images.name", "'folder', images.folder",
    "'top_folder', images.top_folder", "'ext', images.ext", "'kind', images.kind", "'format', images.format",
    "'size', images.size", "'mtime', images.mtime_ns / 1000000000.0", "'width', images.width",
    "'height', images.height", "'duration', images.duration", f"'animated', {_bool_json('images.animated')}",
    f"'has_audio', {_bool_json('images.has_audio')}", f"'has_workflow', {_bool_json('images.has_workflow')}",
    f"'has_prompt', {_bool_json('images.has_prompt')}", f"'has_edits', {_bool_json('images.has_edits')}",
    f"'has_tags', {_bool_json('images.has_tags')}", "'rating', images.rating", "'model', images.model",
    "'error', images.error", f"'is_trashed', {_bool_json('images.is_trashed')}",
    "'original_path', images.original_path",
    f"'metadata_ready', {_bool_json('images.metadata_at IS NOT NULL')}",
    "'version', printf('%x-%x', images.mtime_ns, images.size)",
]) + ")"


def page_json(conn: sqlite3.Connection, keyed: list[tuple[int, Any]]) -> list[str]:
    """The JSON text of each listing item for ``(id, key)`` pairs, in that order."""
    if not keyed:
        return []
    ids = [k[0] for k in keyed]
    texts: dict[int, str] = {}
    for chunk in _chunks(ids):
        marks = ",".join("?" * len(chunk))
        texts.update(conn.execute(f"SELECT images.id, {ITEM_JSON_SQL} FROM images WHERE images.id IN ({marks})",
                                  tuple(chunk)).fetchall())
    return [texts[i] for i in ids if i in texts]


def list_ids(conn: sqlite3.Connection, q: logic.ListQuery, *, sub_size: int | None = None,
             table_rows: int | None = None) -> list[tuple[int, Any]]:
    """``(id, cursor key)`` of one page, from an index walk that reads no table row."""
    if sub_size == 0:
        return []  # a search (LoRA, tag) that matches nothing
    where, params = logic.build_where(q)
    threshold = walk_threshold(table_rows, q.limit) if table_rows is not None else WALK_THRESHOLD
    hint = _access_hint(q, sub_size, threshold)
    if q.sort == "random":
        keyed = _random_ids(conn, q, where, params, hint)
    else:
        key = logic.key_select_sql(q.sort)
        if q.cursor is not None:
            where += " AND " + logic.keyset_condition(q.sort)
            params.update(cursor_key=q.cursor["key"], cursor_id=q.cursor["id"])
        sql = f"SELECT images.id, {key} FROM images {hint} WHERE {where} {logic.order_by_sql(q.sort)} LIMIT :limit"
        params["limit"] = q.limit
        if q.offset:
            sql += " OFFSET :offset"
            params["offset"] = q.offset
        keyed = conn.execute(sql, params).fetchall()
    return keyed


def _random_ids(conn: sqlite3.Connection, q: logic.ListQuery, where: str, params: dict, hint: str) -> list[tuple]:
    """The seeded shuffle: walk ``rand_key`` from the seed's start point, then wrap around.

    Rows with ``rand_key >= start`` come first (segment A), then the others (B);
    the cursor key is the row's rotated position, so paging is a seek either way.
    """
    start = logic.random_start(q.seed)
    span = logic.RAND_SPAN
    order = "ORDER BY images.rand_key, images.id"
    base = f"SELECT images.id, images.rand_key FROM images {hint} WHERE {where}"
    params = dict(params, start=start)
    want = q.limit
    out: list[tuple] = []
    seg_a, seg_b = "images.rand_key >= :start", "images.rand_key < :start"
    after_a = after_b = None
    skip_a = skip_b = 0
    use_a = True
    if q.cursor is not None:
        r0, i0 = q.cursor["key"], q.cursor["id"]
        if r0 < span - start:
            after_a = (r0 + start, i0)
        else:
            after_b, use_a = (r0 + start - span, i0), False
    elif q.offset:
        in_a = conn.execute(f"SELECT count(*) FROM images WHERE {where} AND {seg_a}", params).fetchone()[0]
        if q.offset < in_a:
            skip_a = q.offset
        else:
            skip_b, use_a = q.offset - in_a, False
    if use_a:
        cond = seg_a + (" AND (images.rand_key, images.id) > (:ak, :ai)" if after_a else "")
        extra = {"ak": after_a[0], "ai": after_a[1]} if after_a else {}
        out += conn.execute(f"{base} AND {cond} {order} LIMIT :n OFFSET :o",
                            dict(params, **extra, n=want, o=skip_a)).fetchall()
    if len(out) < want:
        cond = seg_b + (" AND (images.rand_key, images.id) > (:bk, :bi)" if after_b else "")
        extra = {"bk": after_b[0], "bi": after_b[1]} if after_b else {}
        out += conn.execute(f"{base} AND {cond} {order} LIMIT :n OFFSET :o",
                            dict(params, **extra, n=want - len(out), o=skip_b)).fetchall()
    return [(image_id, logic.rotated_key(rand_key, start)) for image_id, rand_key in out]


def count(conn: sqlite3.Connection, q: logic.ListQuery, *, sub_size: int | None = None) -> int:
    """Rows matching the filter. A pure search is its match count minus the matches on the
    other side of the trash (a small range); anything else lets SQLite count (measured: for
    a sub-select, looking up its matches by id beats walking an index and probing them)."""
    if sub_size == 0:
        return 0
    if sub_size is not None and q.search and _only_search(q):
        other = logic.ListQuery(search=q.search, search_scopes=q.search_scopes, trashcan=not q.trashcan)
        where, params = logic.build_where(other)
        return sub_size - conn.execute(
            f"SELECT count(*) FROM images INDEXED BY idx_images_mtime WHERE {where}", params).fetchone()[0]
    where, params = logic.build_where(q)
    return conn.execute(f"SELECT count(*) FROM images WHERE {where}", params).fetchone()[0]


def _only_search(q: logic.ListQuery) -> bool:
    bare = logic.ListQuery(search=q.search, search_scopes=q.search_scopes, trashcan=q.trashcan, sort=q.sort,
                           seed=q.seed)
    return q.filter_signature() == bare.filter_signature()


def count_all(conn: sqlite3.Connection, trashed: bool) -> int:
    return conn.execute("SELECT count(*) FROM images WHERE is_trashed = ?", (1 if trashed else 0,)).fetchone()[0]


def filter_options(conn: sqlite3.Connection) -> dict:
    """Everything the filter panel offers, with counts, for the gallery (not the trash)."""
    folders = [{"path": r[0], "count": r[1]} for r in conn.execute(
        "SELECT top_folder, count(*) FROM images WHERE is_trashed = 0 GROUP BY top_folder ORDER BY top_folder")]
    folder_tree = [{"path": r[0], "count": r[1]} for r in conn.execute(
        "SELECT folder, count(*) FROM images WHERE is_trashed = 0 GROUP BY folder ORDER BY folder")]
    formats = [{"name": r[0], "count": r[1]} for r in conn.execute(
        "SELECT format, count(*) FROM images WHERE is_trashed = 0 GROUP BY format ORDER BY format")]
    kinds = [{"name": r[0], "count": r[1]} for r in conn.execute(
        "SELECT kind, count(*) FROM images WHERE is_trashed = 0 GROUP BY kind ORDER BY kind")]
    models = [{"name": r[0], "count": r[1]} for r in conn.execute(
        "SELECT model, count(*) FROM images WHERE model IS NOT NULL AND is_trashed = 0 GROUP BY model "
        "ORDER BY count(*) DESC, model LIMIT 500")]
    samplers = [{"name": r[0], "count": r[1]} for r in conn.execute(
        "SELECT sampler, count(*) FROM images WHERE sampler IS NOT NULL AND is_trashed = 0 GROUP BY sampler "
        "ORDER BY count(*) DESC, sampler LIMIT 200")]
    loras = [{"name": r[0], "count": r[1]} for r in conn.execute(
        "SELECT l.lora, count(*) FROM image_loras l JOIN images i ON i.id = l.image_id WHERE i.is_trashed = 0 "
        "GROUP BY l.lora ORDER BY count(*) DESC, l.lora LIMIT 500")]
    tags = [{"name": r[0], "count": r[1]} for r in conn.execute(
        "SELECT t.name, count(it.image_id) FROM tags t LEFT JOIN image_tags it ON it.tag_id = t.id "
        "GROUP BY t.id ORDER BY t.name")]
    trashed = conn.execute("SELECT count(*) FROM images WHERE is_trashed = 1").fetchone()[0]
    ratings = {str(r[0]): r[1] for r in conn.execute(
        "SELECT rating, count(*) FROM images WHERE is_trashed = 0 AND rating > 0 GROUP BY rating")}
    errors = conn.execute("SELECT count(*) FROM images WHERE is_trashed = 0 AND error IS NOT NULL").fetchone()[0]
    return {
        "folders": folders, "folder_tree": folder_tree, "formats": formats, "kinds": kinds, "models": models,
        "samplers": samplers, "loras": loras, "tags": tags, "ratings": ratings, "trashcan_count": trashed,
        "error_count": errors,
    }


def image_row(conn: sqlite3.Connection, path: str) -> sqlite3.Row | None:
    return conn.execute("SELECT * FROM images WHERE path = ?", (path,)).fetchone()


def image_detail(conn: sqlite3.Connection, path: str) -> dict | None:
    """The stored row of one file and its tags, or None when the path is not indexed."""
    row = image_row(conn, path)
    if row is None:
        return None
    return {"row": dict(row), "tags": tags_of(conn, [row["id"]])[row["id"]]}
