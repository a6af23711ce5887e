"""The Database owner: WAL, one writer thread, read-only readers, migrations, clean close."""
from __future__ import annotations

import asyncio
import os
import sqlite3
import threading

import pytest

from holaf_utilities.holaf_database import Database, QueryInterrupted


def _m1_items(conn):
    conn.execute("CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT NOT NULL)")


def _m2_items_size(conn):
    conn.execute("ALTER TABLE items ADD COLUMN size INTEGER NOT NULL DEFAULT 0")


def _m_broken(conn):
    conn.execute("CREATE TABLE half_done (x)")
    raise RuntimeError("boom")


def test_a_new_database_is_in_wal_mode_with_the_core_schema(tmp_path):
    db = Database(tmp_path / "h.sqlite")
    db.open()
    try:
        assert db.read_sync(lambda c: c.execute("PRAGMA journal_mode").fetchone()[0]) == "wal"
        assert db.schema_versions() == {"core": 1}
    finally:
        db.close()


def test_migrations_run_once_in_order_and_are_recorded_per_component(tmp_path):
    path = tmp_path / "h.sqlite"
    db = Database(path, migrations={"things": [_m1_items]})
    db.open()
    db.write_sync(lambda c: c.execute("INSERT INTO items(name) VALUES ('a')"))
    db.close()
    db = Database(path, migrations={"things": [_m1_items, _m2_items_size]})
    db.open()
    try:
        assert db.schema_versions()["things"] == 2
        rows = db.read_sync(lambda c: c.execute("SELECT name, size FROM items").fetchall())
        assert [tuple(r) for r in rows] == [("a", 0)]
        backups = list(tmp_path.glob("h.sqlite.backup_things_*"))
        assert len(backups) == 1, "a non-empty database is backed up before migrating"
    finally:
        db.close()


def test_a_failing_migration_is_rolled_back_and_leaves_the_previous_version(tmp_path):
    path = tmp_path / "h.sqlite"
    db = Database(path, migrations={"things": [_m1_items, _m_broken]})
    with pytest.raises(RuntimeError):
        db.open()
    check = sqlite3.connect(path)
    try:
        assert check.execute("SELECT version FROM holaf_schema WHERE component='things'").fetchone()[0] == 1
        assert check.execute("SELECT count(*) FROM sqlite_master WHERE name='half_done'").fetchone()[0] == 0
    finally:
        check.close()


async def test_async_reads_and_writes_go_through_the_owner(tmp_path):
    db = Database(tmp_path / "h.sqlite", migrations={"things": [_m1_items]})
    db.open()
    try:
        await db.execute_write_many("INSERT INTO items(name) VALUES (?)", [(f"n{i}",) for i in range(100)])
        rows = await db.execute("SELECT count(*) AS n FROM items")
        assert rows[0]["n"] == 100
        await db.set_state("last_scan", "123")
        assert await db.get_state("last_scan") == "123"
    finally:
        db.close()


async def test_a_failing_write_rolls_back_and_the_writer_keeps_working(tmp_path):
    db = Database(tmp_path / "h.sqlite", migrations={"things": [_m1_items]})
    db.open()
    try:
        def bad(conn):
            conn.execute("INSERT INTO items(name) VALUES ('kept?')")
            conn.execute("INSERT INTO items(name) VALUES (NULL)")  # NOT NULL violation

        with pytest.raises(sqlite3.IntegrityError):
            await db.execute_write_fn(bad)
        await db.execute_write("INSERT INTO items(name) VALUES ('after')")
        names = [r["name"] for r in await db.execute("SELECT name FROM items")]
        assert names == ["after"]
    finally:
        db.close()


async def test_reads_are_read_only(tmp_path):
    db = Database(tmp_path / "h.sqlite", migrations={"things": [_m1_items]})
    db.open()
    try:
        with pytest.raises(sqlite3.OperationalError):
            await db.execute("INSERT INTO items(name) VALUES ('x')")
    finally:
        db.close()


async def test_a_read_past_its_time_limit_is_interrupted(tmp_path):
    db = Database(tmp_path / "h.sqlite")
    db.open()
    try:
        slow = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c"
        with pytest.raises(QueryInterrupted):
            await db.execute(slow, time_limit_ms=50)
    finally:
        db.close()


async def test_concurrent_writers_never_see_database_is_locked(tmp_path):
    db = Database(tmp_path / "h.sqlite", migrations={"things": [_m1_items]})
    db.open()
    try:
        def writer(n):
            for i in range(50):
                db.write_sync(lambda c: c.execute("INSERT INTO items(name) VALUES (?)", (f"{n}-{i}",)))

        threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
        for t in threads:
            t.start()
        await asyncio.gather(*(db.execute_write("INSERT INTO items(name) VALUES ('async')") for _ in range(50)))
        for t in threads:
            t.join()
        assert (await db.execute("SELECT count(*) AS n FROM items"))[0]["n"] == 250
    finally:
        db.close()


def _open_fds() -> int:
    return len(os.listdir("/proc/self/fd")) if os.path.isdir("/proc/self/fd") else 0


async def test_opening_and_closing_fifty_times_leaks_no_threads_or_files(tmp_path):
    baseline_threads, baseline_fds = threading.active_count(), _open_fds()
    for i in range(50):
        db = Database(tmp_path / "h.sqlite")
        db.open()
        await db.execute("SELECT 1")
        db.close()
        db.close()  # idempotent
    assert threading.active_count() <= baseline_threads + 2
    assert _open_fds() <= baseline_fds + 2
