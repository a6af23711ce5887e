"""Read-side answers of the index, built on a read connection (off the event loop).

They add the cheap parts around :mod:`store`'s queries: the total count (cached
per change token, so paging through one filter counts once, and the unfiltered
total is a dictionary lookup), the next keyset cursor, and the JSON encoding
itself, so a 1000-row page is serialised on a worker thread.
"""
from __future__ import annotations

import sqlite3

from ..holaf_http import json_dumps
from . import logic, store

COUNT_CACHE_LIMIT = 256


def cached_count(conn: sqlite3.Connection, index, q: logic.ListQuery, sub_size: int | None = None) -> int:
    key = (index.generation, "all", q.trashcan) if q.is_unfiltered else (index.generation, q.filter_signature())
    cache = index.count_cache
    value = cache.get(key)
    if value is None:
        value = store.count_all(conn, q.trashcan) if q.is_unfiltered else store.count(conn, q, sub_size=sub_size)
        if len(cache) >= COUNT_CACHE_LIMIT:
            cache.clear()
        cache[key] = value
    return value


def cached_subquery_size(conn: sqlite3.Connection, index, q: logic.ListQuery) -> int | None:
    if not (q.search or q.lora or q.tags):
        return None
    key = (index.generation, "sub", q.search, q.search_scopes, q.lora, q.tags)
    cache = index.count_cache
    if key not in cache:
        if len(cache) >= COUNT_CACHE_LIMIT:
            cache.clear()
        cache[key] = store.subquery_size(conn, q)
    return cache[key]


def list_response(conn: sqlite3.Connection, q: logic.ListQuery, index) -> bytes:
    token = index.change_token
    sub_size = cached_subquery_size(conn, index, q)
    unfiltered = q if q.is_unfiltered else logic.ListQuery(trashcan=q.trashcan)
    total_all = cached_count(conn, index, unfiltered)
    keyed = store.list_ids(conn, q, sub_size=sub_size, table_rows=total_all)
    items = store.page_json(conn, keyed)
    if not q.include_total:
        total = None
    elif q.cursor is None and not q.offset and len(keyed) < q.limit:
        total = len(keyed)  # the whole result fits in this page: no count needed
    else:
        total = cached_count(conn, index, q, sub_size)
    next_cursor = logic.encode_cursor(q, keyed[-1][1], keyed[-1][0]) if keyed and len(keyed) == q.limit else None
    notes = []
    if logic.folder_filter_for_trash_note(q):
        notes.append("folder filters do not apply to the trashcan view")
    status = index.status
    payload = {
        "total": total,
        "filtered_count": total,
        "total_db_count": total_all,
        "limit": q.limit,
        "offset": q.offset or 0,
        "next_cursor": next_cursor,
        "sort": q.sort,
        "seed": q.seed if q.sort == "random" else None,
        "trashcan": q.trashcan,
        "change_token": token,
        "last_update": index.last_update,
        "scan": {"state": status.state, "done": status.done, "found": status.found},
        "notes": notes,
    }
    # The items are JSON already (built by SQLite): splice them in rather than re-encoding.
    rest = json_dumps(payload)
    return ('{"images":[' + ",".join(items) + "]," + rest[1:]).encode("utf-8")


def filter_options_response(conn: sqlite3.Connection, index) -> bytes:
    cached = getattr(index, "_options_cache", None)
    if cached is not None and cached[0] == index.generation:
        return cached[1]
    generation = index.generation
    payload = store.filter_options(conn)
    payload["change_token"] = index.change_token
    payload["last_update_time"] = index.last_update
    body = json_dumps(payload).encode("utf-8")
    index._options_cache = (generation, body)
    return body
