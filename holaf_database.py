"""The one owner of ``holaf_utilities.sqlite``.

Modelled on Datasette's ``Database``: every write goes through a single writer
thread (so there is never a "database is locked" race between our own writers),
reads run on a small pool of read-only connections, and nothing else in the
package calls ``sqlite3.connect``. Callers hand over a function that receives a
connection; they never keep one.

Schema changes are numbered forward migrations, grouped by component (``core``,
``images``, …) so that each tool owns its own list. Each migration is a small
function run in its own transaction; a non-empty database is backed up first.
"""
from __future__ import annotations

import asyncio
import concurrent.futures
import datetime as _dt
import logging
import queue
import sqlite3
import threading
import time
from pathlib import Path
from typing import Callable, Iterable, Mapping, Sequence, TypeVar

log = logging.getLogger("holaf.database")

DB_FILENAME = "holaf_utilities.sqlite"
BUSY_TIMEOUT_MS = 10_000
DEFAULT_READ_TIME_LIMIT_MS = 5_000
BACKUPS_TO_KEEP = 3

T = TypeVar("T")
Migration = Callable[[sqlite3.Connection], None]


class QueryInterrupted(RuntimeError):
    """A read ran past its time limit and was stopped by SQLite's progress handler."""


class DatabaseClosed(RuntimeError):
    pass


def _m001_core(conn: sqlite3.Connection) -> None:
    """Key/value table for small bits of server state (e.g. last scan time)."""
    conn.execute(
        "CREATE TABLE IF NOT EXISTS holaf_state (key TEXT PRIMARY KEY, value TEXT, updated_at REAL NOT NULL)"
    )


CORE_MIGRATIONS: list[Migration] = [_m001_core]


def _prepare_connection(conn: sqlite3.Connection) -> None:
    """The single place where pragmas and the row factory are set."""
    conn.row_factory = sqlite3.Row
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    conn.execute("PRAGMA foreign_keys = ON")
    conn.execute("PRAGMA temp_store = MEMORY")
    conn.execute("PRAGMA cache_size = -32000")
    conn.execute("PRAGMA mmap_size = 268435456")


class Database:
    """Owns the SQLite file: one writer thread, a read pool, migrations, clean close."""

    def __init__(
        self,
        path: Path,
        *,
        migrations: Mapping[str, Sequence[Migration]] | None = None,
        read_threads: int = 2,
    ) -> None:
        self.path = Path(path)
        self.migrations: dict[str, list[Migration]] = {"core": list(CORE_MIGRATIONS)}
        for component, items in (migrations or {}).items():
            if component == "core":
                raise ValueError("the 'core' migrations belong to holaf_database")
            self.migrations[component] = list(items)
        self._read_threads = max(1, read_threads)
        self._local = threading.local()
        self._read_connections: list[sqlite3.Connection] = []
        self._read_lock = threading.Lock()
        self._write_queue: queue.Queue = queue.Queue()
        self._writer: threading.Thread | None = None
        self._reader_pool: concurrent.futures.ThreadPoolExecutor | None = None
        self._closed = False
        self._opened = False

    # -- lifecycle -----------------------------------------------------------
    def open(self) -> None:
        """Create the file, run pending migrations, start the writer thread. Blocking."""
        if self._opened:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        _prepare_connection(conn)
        mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        if str(mode).lower() != "wal":
            log.warning("SQLite refused WAL mode (got %s) for %s", mode, self.path)
        conn.execute("PRAGMA synchronous = NORMAL")
        try:
            self._migrate(conn)
        except BaseException:
            conn.close()
            raise
        self._write_conn = conn
        self._writer = threading.Thread(target=self._write_loop, name="holaf-db-writer", daemon=True)
        self._writer.start()
        self._reader_pool = concurrent.futures.ThreadPoolExecutor(
            max_workers=self._read_threads, thread_name_prefix="holaf-db-read"
        )
        self._opened = True

    def close(self) -> None:
        """Stop the writer, close every connection. Safe to call more than once."""
        if self._closed:
            return
        self._closed = True
        if self._writer is not None:
            self._write_queue.put(None)
            self._writer.join(timeout=30)
        if self._reader_pool is not None:
            self._reader_pool.shutdown(wait=True, cancel_futures=True)
        with self._read_lock:
            for conn in self._read_connections:
                try:
                    conn.close()
                except sqlite3.Error:
                    pass
            self._read_connections.clear()

    # -- migrations ------------------------------------------------------------
    def schema_versions(self) -> dict[str, int]:
        return self.read_sync(lambda c: {r["component"]: r["version"] for r in c.execute("SELECT * FROM holaf_schema")})

    def _migrate(self, conn: sqlite3.Connection) -> None:
        conn.execute(
            "CREATE TABLE IF NOT EXISTS holaf_schema (component TEXT PRIMARY KEY, version INTEGER NOT NULL, updated_at REAL NOT NULL)"
        )
        current = {row["component"]: row["version"] for row in conn.execute("SELECT component, version FROM holaf_schema")}
        pending = [
            (component, index, fn)
            for component, items in self.migrations.items()
            for index, fn in enumerate(items, start=1)
            if index > current.get(component, 0)
        ]
        for component, version in current.items():
            known = len(self.migrations.get(component, []))
            if version > known and component in self.migrations:
                log.warning(
                    "Database %s is at %s schema v%d but this version only knows v%d (downgrade?)",
                    self.path, component, version, known,
                )
        if not pending:
            return
        has_data = conn.execute(
            "SELECT count(*) FROM sqlite_master WHERE type='table' AND name NOT IN ('holaf_schema')"
        ).fetchone()[0]
        if has_data:
            self._backup(conn, "_".join(sorted({c for c, _, _ in pending})))
        for component, version, fn in pending:
            log.info("Migrating %s schema to v%d (%s)", component, version, fn.__name__)
            conn.execute("BEGIN IMMEDIATE")
            try:
                fn(conn)
                conn.execute(
                    "INSERT INTO holaf_schema(component, version, updated_at) VALUES (?, ?, ?) "
                    "ON CONFLICT(component) DO UPDATE SET version = excluded.version, updated_at = excluded.updated_at",
                    (component, version, time.time()),
                )
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                log.exception("Migration %s v%d failed; the database was left at the previous version", component, version)
                raise

    def _backup(self, conn: sqlite3.Connection, label: str) -> Path:
        stamp = _dt.datetime.now().strftime("%Y%m%d-%H%M%S")
        target = self.path.with_name(f"{self.path.name}.backup_{label}_{stamp}")
        dest = sqlite3.connect(target)
        try:
            conn.backup(dest)
        finally:
            dest.close()
        backups = sorted(self.path.parent.glob(f"{self.path.name}.backup_*"), key=lambda p: p.stat().st_mtime)
        for old in backups[:-BACKUPS_TO_KEEP]:
            old.unlink(missing_ok=True)
        log.info("Backed up the database to %s before migrating", target)
        return target

    # -- writes ----------------------------------------------------------------
    def _write_loop(self) -> None:
        conn = self._write_conn
        while True:
            task = self._write_queue.get()
            if task is None:
                break
            fn, future = task
            if not future.set_running_or_notify_cancel():
                continue
            try:
                conn.execute("BEGIN IMMEDIATE")
                try:
                    result = fn(conn)
                except BaseException:
                    conn.execute("ROLLBACK")
                    raise
                conn.execute("COMMIT")
            except BaseException as exc:  # handed to the caller, never kills the writer
                future.set_exception(exc)
            else:
                future.set_result(result)
        conn.close()

    def submit_write(self, fn: Callable[[sqlite3.Connection], T]) -> concurrent.futures.Future:
        """Queue ``fn(conn)`` on the writer thread, inside one transaction."""
        if self._closed:
            raise DatabaseClosed(str(self.path))
        if not self._opened:
            raise RuntimeError("Database.open() has not been called")
        future: concurrent.futures.Future = concurrent.futures.Future()
        self._write_queue.put((fn, future))
        return future

    def write_sync(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """Blocking write for worker threads (never call this on the event loop)."""
        if threading.current_thread() is self._writer:
            return fn(self._write_conn)
        return self.submit_write(fn).result()

    async def execute_write_fn(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        return await asyncio.wrap_future(self.submit_write(fn))

    async def execute_write(self, sql: str, params: Sequence | Mapping = ()) -> int:
        """Run one statement; returns ``rowcount``."""
        return await self.execute_write_fn(lambda conn: conn.execute(sql, params).rowcount)

    async def execute_write_many(self, sql: str, rows: Iterable[Sequence | Mapping]) -> None:
        rows = list(rows)
        await self.execute_write_fn(lambda conn: conn.executemany(sql, rows))

    # -- reads -----------------------------------------------------------------
    def _read_connection(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            if self._closed:
                raise DatabaseClosed(str(self.path))
            uri = self.path.resolve().as_uri() + "?mode=ro"
            conn = sqlite3.connect(uri, uri=True, isolation_level=None, check_same_thread=False)
            _prepare_connection(conn)
            conn.execute("PRAGMA query_only = ON")
            self._local.conn = conn
            with self._read_lock:
                self._read_connections.append(conn)
        return conn

    def read_sync(self, fn: Callable[[sqlite3.Connection], T], *, time_limit_ms: int | None = None) -> T:
        """Blocking read on the calling thread's own read-only connection."""
        conn = self._read_connection()
        if not time_limit_ms:
            return fn(conn)
        deadline = time.monotonic() + time_limit_ms / 1000
        conn.set_progress_handler(lambda: 1 if time.monotonic() > deadline else 0, 10_000)
        try:
            return fn(conn)
        except sqlite3.OperationalError as exc:
            if "interrupted" in str(exc):
                raise QueryInterrupted(f"query ran longer than {time_limit_ms} ms") from exc
            raise
        finally:
            conn.set_progress_handler(None, 0)

    async def execute_fn(self, fn: Callable[[sqlite3.Connection], T], *, time_limit_ms: int | None = DEFAULT_READ_TIME_LIMIT_MS) -> T:
        """Run ``fn(conn)`` on the read pool, off the event loop."""
        if self._reader_pool is None:
            raise RuntimeError("Database.open() has not been called")
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._reader_pool, lambda: self.read_sync(fn, time_limit_ms=time_limit_ms))

    async def execute(self, sql: str, params: Sequence | Mapping = (), *, time_limit_ms: int | None = DEFAULT_READ_TIME_LIMIT_MS) -> list[sqlite3.Row]:
        return await self.execute_fn(lambda conn: conn.execute(sql, params).fetchall(), time_limit_ms=time_limit_ms)

    # -- small shared state ------------------------------------------------------
    async def get_state(self, key: str, default: str | None = None) -> str | None:
        rows = await self.execute("SELECT value FROM holaf_state WHERE key = ?", (key,))
        return rows[0]["value"] if rows else default

    async def set_state(self, key: str, value: str) -> None:
        await self.execute_write(
            "INSERT INTO holaf_state(key, value, updated_at) VALUES (?, ?, ?) "
            "ON CONFLICT(key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
            (key, value, time.time()),
        )
