"""The thumbnail service: cache + worker + status rows, shared by the routes and the backfill.

Immich's shape: ``queue_thumbnails`` finds work (newest first, in batches) and
``thumbnail`` handles one file; a status row per file (``thumbnails`` table)
records the version that was made or the reason it failed, which makes a restart
resume where it stopped and keeps a permanent failure from being retried until
the file changes or someone asks (``regenerate``). The cached file is the truth
for serving: a fresh file is served whatever the table says, so a busy database
can never turn a good thumbnail into "failed".

Edits plug in with :meth:`ThumbnailService.set_variant_provider`: a function
``(abs_path, rel_path) -> (variant, transform) | None`` called off the event loop;
the variant (the edit hash) becomes part of the cache key and the transform is
applied to the small upright image before encoding.
"""
from __future__ import annotations

import asyncio
import logging
import os
import sqlite3
import stat as stat_mod
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable

from ..holaf_config import Setting
from ..holaf_security import resolve_user_path
from . import thumbnails
from .thumb_cache import ThumbCache, ThumbKey, version_hash
from .worker import JobOutcome, JobSettings, LoadMonitor, Priority, ThumbJob, ThumbnailWorker

log = logging.getLogger("holaf.thumbnails")

SECTION = "ImageViewer"
SETTINGS = [
    Setting(SECTION, "thumbnail_size", "int", 384, "Thumbnail size in px (long side). 384 keeps 300 px tiles sharp on HiDPI screens.", minimum=64, maximum=1024),
    Setting(SECTION, "thumbnail_quality", "int", 80, "WebP/JPEG quality of thumbnails.", minimum=30, maximum=95),
    Setting(SECTION, "thumbnail_format", "choice", "webp", "Thumbnail file format (JPEG when this Pillow cannot write WebP).", choices=("webp", "jpeg")),
    Setting(SECTION, "thumbnail_workers", "int", 0, "Thumbnails generated at once (0 = one per CPU core).", minimum=0, maximum=16),
    Setting(SECTION, "thumbnail_background", "bool", True, "Generate thumbnails ahead of time, newest first (at full speed only while the machine is idle)."),
    Setting(SECTION, "thumbnail_busy_rate", "float", 2.0, "Background thumbnails per second while ComfyUI is working.", minimum=0.1, maximum=50),
    Setting(SECTION, "thumbnail_max_megapixels", "int", 150, "Larger images are refused without being decoded (decompression-bomb guard).", minimum=10, maximum=1000),
    Setting(SECTION, "thumbnail_wait_ms", "int", 1000, "How long a thumbnail request waits for its generation before answering 202 + Retry-After (kept short: a browser shares 6 connections per host with ComfyUI's own requests).", minimum=0, maximum=30000),
]

VariantProvider = Callable[[Path, str], "tuple[str, Callable] | None"]


def _m001_thumbnails(conn: sqlite3.Connection) -> None:
    """One status row per file: which version was made (or why it failed)."""
    conn.execute(
        """CREATE TABLE IF NOT EXISTS thumbnails (
            path TEXT PRIMARY KEY,
            mtime_ns INTEGER NOT NULL,
            size INTEGER NOT NULL,
            variant TEXT NOT NULL DEFAULT '',
            thumb_px INTEGER NOT NULL,
            status TEXT NOT NULL CHECK (status IN ('done', 'failed')),
            error_code TEXT,
            error TEXT,
            attempts INTEGER NOT NULL DEFAULT 1,
            width INTEGER,
            height INTEGER,
            bytes INTEGER,
            decoder TEXT,
            updated_at REAL NOT NULL
        )"""
    )
    conn.execute("CREATE INDEX IF NOT EXISTS thumbnails_status ON thumbnails(status)")


MIGRATIONS = [_m001_thumbnails]


@dataclass
class Inspection:
    """A request path checked against the disk and the cache (done off the event loop)."""

    rel_path: str
    abs_path: Path
    key: ThumbKey
    kind: str
    file: Path
    cached: bool
    transform: Callable | None = None


@dataclass
class Answer:
    state: str  # "ready" | "queued" | "failed"
    inspection: Inspection
    code: str | None = None
    error: str | None = None
    retry_after: int = 1


@dataclass
class Failure:
    version: str
    code: str
    error: str


class ThumbnailService:
    """Owns the worker and the ``thumbnails`` rows; every method is safe from any thread unless async."""

    def __init__(self, ctx, *, use_processes: bool = True) -> None:
        self.ctx = ctx
        self.db = ctx.db
        self.output_dir = Path(ctx.paths.output_dir)
        self.data_dir = Path(ctx.paths.data_dir)
        self.use_processes = use_processes
        self.variant_provider: VariantProvider | None = None
        self.candidate_source: Callable[[sqlite3.Connection, int], list[dict]] | None = None
        self.index_sql: dict[str, str] | None = None  # set once the index is known (stats, paths)
        self.monitor = LoadMonitor()
        self.failures: dict[str, Failure] = {}
        self._pending_rows: list[tuple] = []
        self._rows_lock = threading.Lock()
        self._last_flush = time.monotonic()
        self._caches: dict[tuple[int, str], ThumbCache] = {}
        self._backfill_task: asyncio.Task | None = None
        self._wake_backfill: asyncio.Event | None = None
        self._unsubscribe: Callable | None = None
        self.worker: ThumbnailWorker | None = None
        self._ffmpeg = thumbnails.find_ffmpeg()

    # -- settings ------------------------------------------------------------
    def _setting(self, key: str) -> Any:
        return self.ctx.config.get(SECTION, key)

    @property
    def size(self) -> int:
        return int(self._setting("thumbnail_size"))

    def job_settings(self) -> JobSettings:
        return JobSettings(
            size=self.size,
            fmt=thumbnails.output_format(self._setting("thumbnail_format")),
            quality=int(self._setting("thumbnail_quality")),
            max_pixels=int(self._setting("thumbnail_max_megapixels")) * 1_000_000,
            ffmpeg=self._ffmpeg,
        )

    @property
    def cache(self) -> ThumbCache:
        settings = self.job_settings()
        key = (settings.size, settings.fmt)
        cache = self._caches.get(key)
        if cache is None:
            cache = self._caches[key] = ThumbCache(self.data_dir, settings.size, settings.fmt)
        return cache

    def set_variant_provider(self, provider: VariantProvider | None) -> None:
        """Edits: ``provider(abs_path, rel_path) -> (variant, transform) | None``."""
        self.variant_provider = provider

    # -- lifecycle -------------------------------------------------------------
    async def start(self) -> None:
        rows = await self.db.execute(
            "SELECT path, mtime_ns, size, variant, error_code, error FROM thumbnails WHERE status = 'failed'",
            time_limit_ms=None,
        )
        self.failures = {
            r["path"]: Failure(version_hash(r["mtime_ns"], r["size"], r["variant"]), r["error_code"] or "error", r["error"] or "")
            for r in rows
        }
        workers = int(self._setting("thumbnail_workers")) or (os.cpu_count() or 1)
        self.worker = ThumbnailWorker(
            self.job_settings, self._record_outcome, lanes=workers, use_processes=self.use_processes,
            monitor=self.monitor, background_enabled=bool(self._setting("thumbnail_background")),
            busy_rate=float(self._setting("thumbnail_busy_rate")),
        )
        self.worker.start()
        self._unsubscribe = self.ctx.events.on_host_event(self.monitor.on_host_event)
        self._wake_backfill = asyncio.Event()
        self._backfill_task = asyncio.get_running_loop().create_task(self._backfill_loop())

    async def stop(self) -> None:
        if self._backfill_task is not None:
            self._backfill_task.cancel()
            try:
                await self._backfill_task
            except (asyncio.CancelledError, Exception):
                pass
            self._backfill_task = None
        if self._unsubscribe:
            self._unsubscribe()
        if self.worker is not None:
            worker, self.worker = self.worker, None
            await asyncio.get_running_loop().run_in_executor(None, worker.stop)
        await asyncio.get_running_loop().run_in_executor(None, self.flush)

    # -- inspecting a request ----------------------------------------------------
    def inspect(self, rel_path: str) -> Inspection:
        """Path gate, stat and cache lookup (blocking: call through ``run_blocking``)."""
        abs_path = resolve_user_path(self.output_dir, rel_path, must_exist=True)
        try:
            st = abs_path.stat()
        except OSError as exc:
            raise FileNotFoundError(str(exc)) from None
        if not stat_mod.S_ISREG(st.st_mode):
            raise IsADirectoryError(rel_path)
        kind = thumbnails.media_kind(abs_path)
        if kind is None:
            raise ValueError(f"no thumbnail for {abs_path.suffix or 'files without an extension'}")
        rel = rel_path.replace("\\", "/").strip("/")
        variant, transform = "", None
        if self.variant_provider is not None:
            try:
                provided = self.variant_provider(abs_path, rel)
            except Exception:
                log.exception("thumbnail variant provider failed for %s", rel)
                provided = None
            if provided:
                variant, transform = provided
        key = ThumbKey(rel, st.st_mtime_ns, st.st_size, variant or "")
        file = self.cache.file_for(key)
        return Inspection(rel, abs_path, key, kind, file, file.is_file(), transform)

    def failure_for(self, key: ThumbKey) -> Failure | None:
        failure = self.failures.get(key.rel_path)
        return failure if failure is not None and failure.version == key.version else None

    def _job(self, info: Inspection, priority: Priority, rank: tuple = (), duration: float | None = None) -> ThumbJob:
        return ThumbJob(key=info.key, src=info.abs_path, dst=info.file, kind=info.kind, priority=priority,
                        rank=rank, transform=info.transform, duration=duration)

    # -- the three ways work arrives -------------------------------------------------
    async def request(self, rel_path: str, *, wait_s: float | None = None, force: bool = False) -> Answer:
        """A tile asks for its thumbnail: served, made now (waiting a little), or refused."""
        info = await self.ctx.run_blocking(self.inspect, rel_path)
        if force:
            await self.ctx.run_blocking(self._forget, info)
        elif info.cached:
            return Answer("ready", info)
        else:
            failure = self.failure_for(info.key)
            if failure is not None:
                return Answer("failed", info, failure.code, failure.error)
        if self.worker is None:
            raise RuntimeError("the thumbnail worker is not running")
        job = self.worker.submit(self._job(info, Priority.DEMAND))
        wait = self._setting("thumbnail_wait_ms") / 1000 if wait_s is None else wait_s
        try:
            outcome: JobOutcome = await asyncio.wait_for(asyncio.shield(asyncio.wrap_future(job.future)), wait)
        except asyncio.TimeoutError:
            # 0 = ask again now and wait here again (long polling); longer only when much work is ahead
            estimate = self.worker.seconds_until(job)
            return Answer("queued", info, retry_after=0 if estimate < 1.0 else min(10, int(estimate + 0.999)))
        except asyncio.CancelledError:
            task = asyncio.current_task()
            if job.future.cancelled() and not (task is not None and task.cancelling()):
                return Answer("queued", info)  # the job was dropped (shutdown): the client will ask again
            raise
        if outcome.ok:
            return Answer("ready", info)
        return Answer("failed", info, outcome.code, outcome.error)

    def prioritize(self, rel_paths: Iterable[str]) -> dict:
        """The gallery's visible tiles, in screen order; the latest call goes first (blocking)."""
        generation = -time.monotonic_ns()
        queued = ready = failed = 0
        errors: list[dict] = []
        for index, rel in enumerate(rel_paths):
            try:
                info = self.inspect(rel)
            except Exception as exc:
                errors.append({"path": rel, "error": str(exc)})
                continue
            if info.cached:
                ready += 1
                continue
            if self.failure_for(info.key) is not None:
                failed += 1
                continue
            self.worker.submit(self._job(info, Priority.VISIBLE, rank=(generation, index)))
            queued += 1
        return {"queued": queued, "ready": ready, "failed": failed, "errors": errors}

    def enqueue_background(self, items: Iterable[dict]) -> int:
        """Backfill: ``items`` are index rows (path, mtime_ns, size, duration) newest first."""
        count = 0
        for item in items:
            rel = item["path"]
            try:
                abs_path = resolve_user_path(self.output_dir, rel)
            except Exception:
                continue
            kind = thumbnails.media_kind(rel)
            if kind is None:
                continue
            key = ThumbKey(rel, int(item["mtime_ns"]), int(item["size"]))
            if self.failure_for(key) is not None:
                continue
            variant, transform = "", None
            if self.variant_provider is not None and item.get("has_edits"):
                try:
                    provided = self.variant_provider(abs_path, rel)
                except Exception:
                    provided = None
                if provided:
                    variant, transform = provided
                    key = ThumbKey(rel, key.mtime_ns, key.size, variant)
            file = self.cache.file_for(key)
            if file.is_file():
                continue
            info = Inspection(rel, abs_path, key, kind, file, False, transform)
            self.worker.submit(self._job(info, Priority.BACKGROUND, rank=(-key.mtime_ns,), duration=item.get("duration")))
            count += 1
        return count

    def _forget(self, info: Inspection) -> None:
        self.failures.pop(info.rel_path, None)
        try:
            info.file.unlink()
        except FileNotFoundError:
            pass
        info.cached = False

    async def regenerate(self, rel_path: str, *, wait_s: float = 30.0) -> Answer:
        """Make this file's thumbnail again now (after an edit, or to retry a failure)."""
        return await self.request(rel_path, wait_s=wait_s, force=True)

    async def regenerate_failed(self) -> int:
        """Forget every recorded failure; the files are queued again."""
        paths = list(self.failures)
        self.failures.clear()
        await self.db.execute_write("DELETE FROM thumbnails WHERE status = 'failed'")
        if paths and self.worker is not None:
            def queue_again() -> None:
                for rel in paths:
                    try:
                        info = self.inspect(rel)
                    except Exception:
                        continue
                    if not info.cached:
                        self.worker.submit(self._job(info, Priority.BACKGROUND, rank=(-info.key.mtime_ns,)))
            await self.ctx.run_blocking(queue_again)
        self.wake_backfill()
        return len(paths)

    # -- outcomes -> status rows ---------------------------------------------------------
    def _record_outcome(self, job: ThumbJob, outcome: JobOutcome) -> None:
        key = job.key
        now = time.time()
        if outcome.ok:
            self.failures.pop(key.rel_path, None)
            try:
                self.cache.remove_other_versions(key)
            except OSError:
                pass
            r = outcome.result or {}
            row = (key.rel_path, key.mtime_ns, key.size, key.variant, self.size, "done", None, None,
                   r.get("width"), r.get("height"), r.get("bytes"), r.get("decoder"), now)
        elif outcome.permanent:
            self.failures[key.rel_path] = Failure(key.version, outcome.code or "error", outcome.error or "")
            log.info("No thumbnail for %s: %s", key.rel_path, outcome.error)
            row = (key.rel_path, key.mtime_ns, key.size, key.variant, self.size, "failed", outcome.code,
                   outcome.error, None, None, None, None, now)
        else:
            log.warning("Thumbnail of %s failed for now: %s", key.rel_path, outcome.error)
            return
        with self._rows_lock:
            self._pending_rows.append(row)
            due = len(self._pending_rows) >= 64 or time.monotonic() - self._last_flush > 0.5
        if due:
            self.flush()

    def flush(self) -> None:
        """Write buffered status rows in one transaction; on failure keep them for the next try."""
        with self._rows_lock:
            rows, self._pending_rows = self._pending_rows, []
            self._last_flush = time.monotonic()
        if not rows:
            return

        def write(conn: sqlite3.Connection) -> None:
            conn.executemany(
                """INSERT INTO thumbnails(path, mtime_ns, size, variant, thumb_px, status, error_code, error,
                       width, height, bytes, decoder, updated_at)
                   VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                   ON CONFLICT(path) DO UPDATE SET mtime_ns = excluded.mtime_ns, size = excluded.size,
                       variant = excluded.variant, thumb_px = excluded.thumb_px, status = excluded.status,
                       error_code = excluded.error_code, error = excluded.error,
                       attempts = CASE WHEN excluded.status = 'failed' THEN thumbnails.attempts + 1 ELSE 1 END,
                       width = excluded.width, height = excluded.height, bytes = excluded.bytes,
                       decoder = excluded.decoder, updated_at = excluded.updated_at""",
                rows,
            )

        try:
            self.db.write_sync(write)
        except Exception as exc:
            log.warning("Could not record %d thumbnail states yet (%s); will retry", len(rows), exc)
            with self._rows_lock:
                self._pending_rows[:0] = rows

    # -- progress and maintenance ------------------------------------------------------------
    def stats(self, conn: sqlite3.Connection) -> dict:
        """done / pending / failed for a progress indicator (runs on a read connection)."""
        if self.index_sql is not None:
            row = conn.execute(self.index_sql["stats"], {"px": self.size}).fetchone()
            total, done, failed = int(row[0] or 0), int(row[1] or 0), int(row[2] or 0)
        else:
            done = conn.execute("SELECT count(*) FROM thumbnails WHERE status = 'done' AND thumb_px = ?", (self.size,)).fetchone()[0]
            failed = conn.execute("SELECT count(*) FROM thumbnails WHERE status = 'failed'").fetchone()[0]
            total = done + failed + (self.worker.queue.counts()["queued"] if self.worker else 0)
        counts = self.worker.queue.counts() if self.worker else {"queued": 0, "running": 0}
        return {
            "total": total, "done": done, "failed": failed, "pending": max(0, total - done - failed),
            "queued": counts["queued"], "running": counts["running"], "size": self.size,
            "background": bool(self._setting("thumbnail_background")), "idle": self.monitor.idle(),
        }

    def clean(self) -> dict:
        """Remove orphan and stale thumbnails, forget rows whose file is gone (blocking)."""
        rows = self.db.read_sync(lambda conn: conn.execute(
            "SELECT path, mtime_ns, size, variant, thumb_px, status FROM thumbnails").fetchall())
        known_paths: set[str] | None = None
        if self.index_sql is not None:
            known_paths = set(self.db.read_sync(lambda conn: [r[0] for r in conn.execute(self.index_sql["paths"])]))
        current = self.size
        wanted: dict[str, set[str]] = {}
        row_by_hash = {}
        for r in rows:
            if known_paths is not None and r["path"] not in known_paths:
                continue
            h = ThumbKey(r["path"], 0, 0).path_hash
            row_by_hash[h] = r
            wanted.setdefault(h, set()).add(version_hash(r["mtime_ns"], r["size"], r["variant"]))
        if known_paths is not None:
            for path in known_paths:
                wanted.setdefault(ThumbKey(path, 0, 0).path_hash, set())
        removed = stale = 0
        present: set[str] = set()
        cache = self.cache
        for file, h, version in cache.iter_files():
            keep = bool(h) and file.parent.parent == cache.dir and h in wanted
            if keep and wanted[h] and version not in wanted[h]:
                keep = False
                stale += 1
            if not keep:
                try:
                    file.unlink()
                    removed += 1
                except OSError:
                    pass
            else:
                present.add(h)
        missing = [r["path"] for h, r in row_by_hash.items()
                   if r["status"] == "done" and (h not in present or r["thumb_px"] != current)]
        orphan_rows = [r["path"] for r in rows if known_paths is not None and r["path"] not in known_paths]
        forget = missing + orphan_rows
        if forget:
            self.db.write_sync(lambda conn: conn.executemany("DELETE FROM thumbnails WHERE path = ?", [(p,) for p in forget]))
        self.wake_backfill()
        return {"deleted_orphans": removed - stale, "deleted_stale": stale, "requeued_missing": len(missing),
                "forgotten_rows": len(orphan_rows)}

    # -- file operations keep the cache in step ---------------------------------------------
    @staticmethod
    def sql_paths_moved(conn: sqlite3.Connection, moves: list[tuple[str, str]]) -> None:
        """Inside a file-operation transaction: status rows follow their files."""
        conn.executemany("DELETE FROM thumbnails WHERE path = ?", [(new,) for _old, new in moves])
        conn.executemany("UPDATE thumbnails SET path = ? WHERE path = ?", [(new, old) for old, new in moves])

    @staticmethod
    def sql_paths_deleted(conn: sqlite3.Connection, paths: list[str]) -> None:
        conn.executemany("DELETE FROM thumbnails WHERE path = ?", [(p,) for p in paths])

    def files_moved(self, moves: list[tuple[str, str]]) -> None:
        """After the disk moves: rename cached thumbnails (the files did not change)."""
        for old, new in moves:
            failure = self.failures.pop(old, None)
            if failure is not None:
                self.failures[new] = failure
            for cache in list(self._caches.values()) or [self.cache]:
                cache.move_all(old, new)

    def files_deleted(self, paths: list[str]) -> None:
        for rel in paths:
            self.failures.pop(rel, None)
            for cache in list(self._caches.values()) or [self.cache]:
                cache.remove_all(rel)

    # -- backfill (queue_thumbnails) ----------------------------------------------------------
    def wake_backfill(self) -> None:
        if self._wake_backfill is not None:
            self._wake_backfill.set()

    async def _backfill_loop(self) -> None:
        await asyncio.sleep(1.0)
        while True:
            delay = 15.0
            try:
                await asyncio.get_running_loop().run_in_executor(None, self.flush)
                if self.candidate_source is not None and self.worker is not None and self._setting("thumbnail_background"):
                    lanes = self.worker.lanes
                    if self.worker.queue.queued_background() < 8 * lanes:
                        batch = await self.db.execute_fn(lambda conn: self.candidate_source(conn, 200), time_limit_ms=None)
                        added = await self.ctx.run_blocking(self.enqueue_background, batch)
                        if batch:
                            delay = 2.0 if added or self.worker.queue.queued_background() else 15.0
                    else:
                        delay = 2.0
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("thumbnail backfill pass failed")
            try:
                await asyncio.wait_for(self._wake_backfill.wait(), delay)
            except asyncio.TimeoutError:
                pass
            self._wake_backfill.clear()


class ThumbnailFollower:
    """File operations move, rename and drop thumbnail status rows and cached files with their files."""

    def __init__(self, service: ThumbnailService) -> None:
        self.service = service

    @staticmethod
    def _split(changes) -> tuple[list[tuple[str, str]], list[str]]:
        moves = [(c.old, c.new) for c in changes if c.new and c.op != "delete"]
        gone = [c.old for c in changes if c.op in ("delete", "vanished")]
        return moves, gone

    def lookup(self, conn, rels):
        return {}

    def on_commit(self, conn: sqlite3.Connection, changes) -> None:
        moves, gone = self._split(changes)
        if moves:
            ThumbnailService.sql_paths_moved(conn, moves)
        if gone:
            ThumbnailService.sql_paths_deleted(conn, gone)

    def after_commit(self, changes) -> None:
        moves, gone = self._split(changes)
        if moves:
            self.service.files_moved(moves)
        if gone:
            self.service.files_deleted(gone)
