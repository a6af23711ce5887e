"""The index service: one thread that owns every change to the media index.

Work arrives from three places and is done in one order, so nothing races:

* scan requests (start-up, the sync-database route, the periodic reconcile):
  walk → compare with the stored ``stat`` facts → write changed/moved/vanished
  rows in batches → read the new files' metadata with the extraction pool, newest
  first, storing each new file once with it (every 256 files committed, so the UI
  lists the newest at once) → read the rows still pending (changed files, or left
  by an interrupted scan);
* stable file notices from the debouncer (watcher, ComfyUI "executed" events);
* folders to compare with the index (watcher folder events, the folder poller).

Between metadata batches of a long scan the thread serves the notices, so a new
file shows up in seconds even during a first scan of 100k files. Every commit
that changed rows bumps the change token; a debounced ``holaf.images.changed``
event tells clients what changed. Nothing is published when nothing changed.
"""
from __future__ import annotations

import concurrent.futures
import logging
import os
import secrets
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable

from . import logic, store
from .extraction import ExtractionPool
from .records import extract_item
from .scanner import Walker, WalkStats
from .watcher import Debouncer

log = logging.getLogger("holaf.images.index")

EVENT_CHANGED = "holaf.images.changed"
WRITE_BATCH = 500            # rows per transaction while discovering
APPLY_BATCH = 256            # metadata results per transaction
EXTRACT_BATCH = 32           # files per worker round trip
INLINE_LIMIT = 24            # fewer pending files than this: read them in this thread
PUBLISH_DEBOUNCE_S = 0.15
PUBLISH_MIN_INTERVAL_SCAN_S = 1.0
YOUNG_WINDOW_NS = 10_000_000_000   # files modified within 10 s are watched for a while after indexing
YOUNG_WATCH_S = 30.0
MAX_YOUNG = 2000
POOL_IDLE_CLOSE_S = 30.0


@dataclass
class ScanTicket:
    full: bool = True
    force: bool = False
    reason: str = "manual"
    started: bool = False
    done: concurrent.futures.Future = field(default_factory=concurrent.futures.Future)


@dataclass
class ScanStatus:
    state: str = "idle"
    phase: str | None = None
    done: int = 0
    found: int = 0
    started_at: float | None = None
    finished_at: float | None = None
    reason: str | None = None
    last_result: dict | None = None


class IndexService:
    def __init__(self, *, db, output_dir: str, exclude_dirs: Iterable[str], extensions: Iterable[str],
                 publish: Callable[[str, Any], None], workers: int, ffprobe_resolver: Callable[[], str | None],
                 quiet_s: float = 0.4, is_busy: Callable[[str], bool] | None = None) -> None:
        self.db = db
        # A path a file operation is moving right now belongs to that operation: it moves the
        # row itself (keeping id, tags, rating), so the watcher's notice waits until it is done.
        self.is_busy = is_busy
        self.root = os.path.realpath(output_dir)
        self.walker = Walker(self.root, extensions, exclude_dirs=[os.fspath(p) for p in exclude_dirs])
        self.publish_event = publish
        self.workers = workers
        self._ffprobe_resolver = ffprobe_resolver
        self._ffprobe: str | None | bool = False
        self.debouncer = Debouncer(self._stat_rel, quiet=quiet_s)
        self.status = ScanStatus()
        self.boot = secrets.token_hex(4)
        self.generation = 0
        self.last_update = time.time()
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._lock = threading.Lock()
        self._tickets: list[ScanTicket] = []
        self._dirs: set[str] = set()
        self._moves: dict[str, str] = {}
        self._young: dict[str, tuple[tuple[int, int], float]] = {}
        self._pool: ExtractionPool | None = None
        self._pending_metadata = False
        self._applied_total = 0
        self._paths: dict[int, str] = {}  # id → path of the rows whose metadata is being read
        self._changes = {"added": [], "removed": [], "updated": 0, "n_added": 0, "n_removed": 0}
        self._first_change: float | None = None
        self._last_publish = 0.0
        self.count_cache: dict[tuple, int] = {}

    # ================================================================== public API (any thread)
    @property
    def change_token(self) -> str:
        return f"{self.boot}.{self.generation}"

    @property
    def ffprobe(self) -> str | None:
        if self._ffprobe is False:
            try:
                self._ffprobe = self._ffprobe_resolver()
            except Exception:
                log.exception("could not resolve ffprobe")
                self._ffprobe = None
            if not self._ffprobe:
                log.warning("ffprobe not found (PATH or imageio-ffmpeg): videos are indexed without duration or tags")
        return self._ffprobe or None

    def start(self) -> None:
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="holaf-images-index", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 15.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=timeout)
        if self._pool is not None:
            self._pool.close()
            self._pool = None
        with self._lock:
            tickets, self._tickets = self._tickets, []
        for ticket in tickets:
            if not ticket.done.done():
                ticket.done.set_exception(RuntimeError("the index service stopped"))

    def request_scan(self, *, force: bool = False, reason: str = "manual") -> ScanTicket:
        """Queue a full reconcile (``force``: read every file's metadata again)."""
        with self._lock:
            for ticket in self._tickets:
                if ticket.force == force and not ticket.started:
                    return ticket  # one already queued (not started yet) does the same work
            ticket = ScanTicket(force=force, reason=reason)
            self._tickets.append(ticket)
        self._wake.set()
        return ticket

    def notify_file(self, rel: str, closed: bool = False) -> None:
        """A file may have changed (watcher thread, host events)."""
        self.debouncer.add(rel, closed=closed)
        self._wake.set()

    def notify_move(self, src: str, dest: str) -> None:
        with self._lock:
            self._moves[dest] = src
        self.notify_file(src)
        self.notify_file(dest)

    def notify_dir(self, rel: str) -> None:
        """A folder to compare with the index ('' = the root folder itself)."""
        with self._lock:
            self._dirs.add(rel)
        self._wake.set()

    def note_external_change(self, *, added: list[str] = (), removed: list[str] = (), updated: int = 0) -> None:
        """Routes that wrote to the index themselves (tags, ratings, file actions) announce it here."""
        self._note_change(added=list(added), removed=list(removed), updated=updated)
        self._wake.set()

    def scan_status(self) -> dict:
        s = self.status
        return {
            "state": s.state, "phase": s.phase, "done": s.done, "found": s.found, "started_at": s.started_at,
            "finished_at": s.finished_at, "reason": s.reason, "last_result": s.last_result,
            "change_token": self.change_token, "last_update": self.last_update,
        }

    # ================================================================== the index thread
    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(self._sleep_time())
            self._wake.clear()
            if self._stop.is_set():
                break
            try:
                self._serve_notices()
                ticket = self._next_ticket()
                if ticket is not None:
                    self._run_scan(ticket)
                elif self._pending_metadata:
                    self._run_metadata()
                self._check_young()
                self._maybe_publish()
                self._maybe_close_pool()
            except Exception as exc:
                if self._stop.is_set():
                    break
                log.exception("Index service error; retrying shortly")
                self.status.state, self.status.phase = "idle", None
                self._stop.wait(1.0)
                del exc
        self._maybe_publish(force=True)

    def _sleep_time(self) -> float:
        waits = [5.0]
        due = self.debouncer.next_check_in()
        if due is not None:
            waits.append(due + 0.01)
        if self._young:
            waits.append(0.5)
        if self._first_change is not None:
            waits.append(PUBLISH_DEBOUNCE_S)
        return max(0.02, min(waits))

    def _next_ticket(self) -> ScanTicket | None:
        with self._lock:
            return self._tickets[0] if self._tickets else None

    def _finish_ticket(self, ticket: ScanTicket, result: dict | None, error: BaseException | None = None) -> None:
        with self._lock:
            if ticket in self._tickets:
                self._tickets.remove(ticket)
        if not ticket.done.done():
            if error is not None:
                ticket.done.set_exception(error)
            else:
                ticket.done.set_result(result)

    # ------------------------------------------------------------------ full scan
    def _run_scan(self, ticket: ScanTicket) -> None:
        ticket.started = True
        started = time.time()
        t0 = time.perf_counter()
        status = self.status
        status.state, status.phase, status.done, status.found = "scanning", "walking", 0, 0
        status.started_at, status.finished_at, status.reason = started, None, ticket.reason
        result: dict[str, Any] = {"added": 0, "changed": 0, "moved": 0, "removed": 0, "edit_flags": 0, "unchanged": 0}
        try:
            if ticket.force:
                self.db.write_sync(self._reset_all_metadata)
            stored = self.db.read_sync(store.load_state)
            walk_stats = WalkStats()
            diff = _Diff(stored, now=started, defer_new=True)
            for facts in self.walker.walk("", include_trash=True, stats=walk_stats):
                diff.add_many(facts)
                status.found = diff.seen_count
                status.done = diff.unchanged_ready
                if diff.buffered >= WRITE_BATCH:
                    self._write_diff(diff, result, final=False)
                    self._serve_notices()
                if self._stop.is_set():
                    raise _Stopped
            diff.finish(vanished_scope=None)
            self._write_diff(diff, result, final=True)
            result["unchanged"] = diff.unchanged
            result["walk"] = walk_stats.as_dict()
            result["walk_seconds"] = round(time.perf_counter() - t0, 3)
            status.found = diff.seen_count
            self._read_new(diff.take_new(), result)
            self._run_metadata(result=result)
            self._check_trash_rows()
            try:
                self.db.write_sync(lambda conn: conn.execute("PRAGMA optimize"))
            except Exception:
                log.debug("PRAGMA optimize failed", exc_info=True)
        except _Stopped:
            self._finish_ticket(ticket, None, RuntimeError("the index service stopped"))
            return
        except Exception as exc:
            log.exception("Scan of %s failed", self.root)
            status.state, status.phase, status.finished_at = "idle", None, time.time()
            self._finish_ticket(ticket, None, exc)
            return
        result["seconds"] = round(time.perf_counter() - t0, 3)
        result["files"] = status.found
        status.state, status.phase, status.finished_at = "idle", None, time.time()
        status.done = status.found
        status.last_result = result
        log.info("Index of %s up to date: %d files (%d added, %d changed, %d moved, %d removed) in %.2f s",
                 self.root, result["files"], result["added"], result["changed"], result["moved"], result["removed"],
                 result["seconds"])
        self._finish_ticket(ticket, result)
        self._maybe_publish(force=True)

    @staticmethod
    def _reset_all_metadata(conn) -> None:
        conn.execute("DELETE FROM image_fts")
        conn.execute("UPDATE images SET metadata_at = NULL")

    def _write_diff(self, diff: "_Diff", result: dict, *, final: bool) -> None:
        work = diff.take(final=final)
        if not any(work.values()):
            return

        def write(conn):
            if work["inserts"]:
                store.insert_discovered(conn, work["inserts"])
            if work["changes"]:
                store.mark_changed(conn, work["changes"])
            if work["flags"]:
                store.set_edit_flags(conn, work["flags"])
            for image_id, new_path, _old in work["moves"]:
                store.move_row(conn, image_id, new_path)
            if work["deletes"]:
                store.delete_ids(conn, [d[0] for d in work["deletes"]])

        self.db.write_sync(write)
        result["added"] += len(work["inserts"])
        result["changed"] += len(work["changes"])
        result["edit_flags"] += len(work["flags"])
        result["moved"] += len(work["moves"])
        result["removed"] += len(work["deletes"])
        if work["inserts"] or work["changes"]:
            self._pending_metadata = True
        self._note_change(
            added=[r[0] for r in work["inserts"]] + [m[1] for m in work["moves"]],
            removed=[d[1] for d in work["deletes"]] + [m[2] for m in work["moves"]],
            updated=len(work["changes"]) + len(work["flags"]),
        )

    def _check_trash_rows(self) -> None:
        """Trashed rows whose file is gone (trash emptied by hand) leave the index."""
        rows = self.db.read_sync(lambda c: c.execute("SELECT id, path FROM images WHERE is_trashed = 1").fetchall())
        gone = [(r[0], r[1]) for r in rows if not os.path.exists(os.path.join(self.root, *r[1].split("/")))]
        if gone:
            self.db.write_sync(lambda c: store.delete_ids(c, [g[0] for g in gone]))
            self._note_change(removed=[g[1] for g in gone])

    # ------------------------------------------------------------------ metadata stage
    def _get_pool(self) -> ExtractionPool:
        if self._pool is None:
            self._pool = ExtractionPool(self.root, workers=self.workers, ffprobe=self.ffprobe)
        return self._pool

    def _maybe_close_pool(self) -> None:
        pool = self._pool
        if pool is not None and time.monotonic() - pool.last_used > POOL_IDLE_CLOSE_S:
            self._pool = None
            pool.close()

    def _run_metadata(self, result: dict | None = None) -> None:
        """Read metadata for every pending row (newest first) until none is left."""
        status = self.status
        was_scanning = status.state == "scanning"
        rounds = 0
        started = time.perf_counter()
        applied_before = self._applied_total
        while not self._stop.is_set():
            self._pending_metadata = False
            pending = self.db.read_sync(store.pending_metadata)
            if not pending:
                break
            rounds += 1
            if rounds > 5:
                log.warning("%d files keep changing while their metadata is read; trying again later", len(pending))
                break
            self._paths = {item[0]: item[1] for item in pending}
            if len(pending) <= INLINE_LIMIT:
                self._apply(self._extract_inline(pending))
                continue
            if not was_scanning:
                status.state, status.done, status.found = "scanning", 0, len(pending)
                status.started_at, status.reason = time.time(), "new files"
            status.phase = "metadata"
            self._extract_with_pool(pending, self._submit_apply, self._applied)
        if not was_scanning and status.state == "scanning":
            status.state, status.phase, status.finished_at = "idle", None, time.time()
            status.done = status.found
        if result is not None:
            result["metadata_seconds"] = round(time.perf_counter() - started, 3)
            result["metadata_read"] = result.get("metadata_read", 0) + self._applied_total - applied_before

    def _extract_inline(self, items: list[tuple]) -> list:
        return [extract_item(self.root, item, ffprobe=self.ffprobe) for item in items]

    def _read_new(self, new_files: list[tuple], result: dict) -> None:
        """Read the metadata of files a scan found new, storing each with it in one insert."""
        if not new_files or self._stop.is_set():
            return
        started = time.perf_counter()
        self.status.phase = "metadata"
        items = [(k, facts[0], facts[3] != 0) for k, facts in enumerate(new_files)]
        if len(items) <= INLINE_LIMIT:
            outcome = self.db.write_sync(self._insert_read_fn(new_files, self._extract_inline(items)))
            self._inserted(outcome, result)
        else:
            def submit(results):
                return self.db.submit_write(self._insert_read_fn(new_files, results))

            def done(future, _results):
                self._inserted(future.result(), result)

            self._extract_with_pool(items, submit, done)
        result["new_files_seconds"] = round(time.perf_counter() - started, 3)

    @staticmethod
    def _insert_read_fn(new_files: list[tuple], results: list):
        now = time.time()
        rows = [(new_files[k], size, mtime_ns, record) for k, size, mtime_ns, record in results]
        return lambda conn: store.insert_read(conn, rows, now)

    def _inserted(self, outcome: dict, result: dict) -> None:
        added = outcome["added"]
        self._applied_total += len(added)
        result["added"] += len(added)
        result["metadata_read"] = result.get("metadata_read", 0) + len(added)
        if self.status.state == "scanning":
            self.status.done += len(added)
        self._note_change(added=added)
        self._watch_young(outcome["stats"])

    def _extract_with_pool(self, pending: list[tuple[int, str]], submit_write, after_write) -> None:
        """Keep every worker busy while the writer stores the previous results.

        One batch of results is written in the background (``submit_write(results)``
        returns the write's future; ``after_write(future, results)`` runs once it is done)
        while the workers read the next files; waiting for each write in this thread left
        the workers idle for about a third of a first scan.
        """
        pool = self._get_pool()
        window = max(2, 2 * max(1, pool.workers))
        batches = [pending[i:i + EXTRACT_BATCH] for i in range(0, len(pending), EXTRACT_BATCH)]
        in_flight: set[concurrent.futures.Future] = set()
        ready: list = []
        writing = None  # (future of the write, its results)
        last_apply = time.monotonic()
        next_batch = 0
        while (next_batch < len(batches) or in_flight) and not self._stop.is_set():
            while next_batch < len(batches) and len(in_flight) < window:
                in_flight.add(pool.submit(batches[next_batch]))
                next_batch += 1
            done, in_flight = concurrent.futures.wait(in_flight, timeout=0.25,
                                                      return_when=concurrent.futures.FIRST_COMPLETED)
            for future in done:
                ready.extend(future.result())
            if writing is not None and writing[0].done():
                after_write(*writing)
                writing = None
            if ready and writing is None and (len(ready) >= APPLY_BATCH or time.monotonic() - last_apply > 0.5
                                              or not in_flight):
                writing = (submit_write(ready), ready)
                ready = []
                last_apply = time.monotonic()
            if self.debouncer.next_check_in() == 0 or self._dirs:
                self._serve_notices()
            self._maybe_publish()
        for future in in_flight:
            future.cancel()
        if writing is not None:
            after_write(*writing)
        if ready:
            after_write(submit_write(ready), ready)

    def _submit_apply(self, results: list) -> concurrent.futures.Future:
        now, paths = time.time(), self._paths
        return self.db.submit_write(lambda conn: store.apply_metadata(conn, results, now, paths))

    def _applied(self, future: concurrent.futures.Future, results: list) -> None:
        self._after_apply(future.result(), results)

    def _apply(self, results: list) -> None:
        if not results:
            return
        now = time.time()
        paths = self._paths
        self._after_apply(self.db.write_sync(lambda conn: store.apply_metadata(conn, results, now, paths)), results)

    def _after_apply(self, outcome: dict, results: list) -> None:
        self._applied_total += len(outcome["applied"])
        if outcome["retry"]:
            self._pending_metadata = True
        if self.status.state == "scanning":
            self.status.done += len(outcome["applied"])
        self._note_change(removed=outcome["removed"], updated=len(outcome["applied"]))
        self._watch_young_results(results)

    def _watch_young(self, stats: list[tuple[str, int, int]]) -> None:
        """``(path, size, mtime_ns)`` of files just stored: the fresh ones are watched a while."""
        if len(self._young) > MAX_YOUNG:
            return
        cutoff = time.time_ns() - YOUNG_WINDOW_NS
        deadline = time.monotonic() + YOUNG_WATCH_S
        for rel, size, mtime_ns in stats:
            if mtime_ns >= cutoff:
                self._young[rel] = ((size, mtime_ns), deadline)

    # ------------------------------------------------------------------ live notices
    def _serve_notices(self) -> None:
        with self._lock:
            dirs, self._dirs = self._dirs, set()
        for rel_dir in sorted(dirs):
            self._reconcile_dir(rel_dir)
        due = self.debouncer.pop_due()
        is_busy = self.is_busy
        if due and is_busy is not None:
            busy = [rel for rel in due if is_busy(rel)]
            for rel in busy:
                self.debouncer.add(rel)
            due = [rel for rel in due if rel not in busy] if busy else due
        if due:
            self._reconcile_files(due)

    def _stat_rel(self, rel: str) -> tuple[int, int] | None:
        try:
            st = os.stat(os.path.join(self.root, *rel.split("/")))
        except OSError:
            return None
        return (st.st_size, st.st_mtime_ns)

    def _reconcile_dir(self, rel_dir: str) -> None:
        """Compare one folder with the index; whatever differs goes through the debouncer.

        Files of a folder that vanished are handed over too (they will be found
        missing), so a folder renamed in one step becomes row moves, not deletes.
        """
        abs_dir = os.path.join(self.root, *rel_dir.split("/")) if rel_dir else self.root
        if not os.path.isdir(abs_dir):
            if rel_dir:
                for path in self.db.read_sync(lambda c: store.paths_under(c, rel_dir)):
                    self.debouncer.add(path)
            return
        stored = self.db.read_sync(lambda c: store.load_state(c, folder=rel_dir, recursive=False))
        seen: set[str] = set()
        for facts_list in self.walker.walk(rel_dir, recursive=False):
            for facts in facts_list:
                seen.add(facts[0])
                row = stored.get(facts[0])
                if logic.classify(facts[1:], row[1:5] if row else None) != logic.UNCHANGED:
                    self.debouncer.add(facts[0])
        for path in stored:
            if path not in seen and not path.startswith(logic.TRASH_DIR + "/"):
                self.debouncer.add(path)
        on_disk = set(self.walker.subfolders(rel_dir))
        indexed = set(self.db.read_sync(lambda c: store.child_folders(c, rel_dir)))
        for name in indexed - on_disk:
            self.notify_dir(f"{rel_dir}/{name}" if rel_dir else name)
        for name in on_disk - indexed:
            child = f"{rel_dir}/{name}" if rel_dir else name
            for facts_list in self.walker.walk(child):
                for facts in facts_list:
                    self.debouncer.add(facts[0])

    def _reconcile_files(self, rels: list[str]) -> None:
        """Bring the rows of these exact paths in line with the files (stable by now)."""
        rels = list(dict.fromkeys(r for r in rels if r and not r.startswith(logic.TRASH_DIR + "/")))
        if not rels:
            return
        with self._lock:
            moves = {dest: self._moves.pop(dest) for dest in rels if dest in self._moves}
        lookup = set(rels) | set(moves.values())
        stored = self.db.read_sync(lambda c: store.load_state(c, paths=sorted(lookup)))
        now = time.time()
        diff = _Diff(stored, now=now)
        for rel in rels:
            facts = self.walker.stat_file(rel)
            if facts is not None:
                diff.add(facts, hinted_source=moves.get(rel))
        diff.finish(vanished_scope=set(rels) | set(moves.values()))
        result = {"added": 0, "changed": 0, "moved": 0, "removed": 0, "edit_flags": 0}
        self._write_diff(diff, result, final=True)
        if self._pending_metadata and self.status.state != "scanning":
            self._run_metadata()

    # ------------------------------------------------------------------ young files
    def _watch_young_results(self, results: list) -> None:
        cutoff = time.time_ns() - YOUNG_WINDOW_NS
        deadline = time.monotonic() + YOUNG_WATCH_S
        if len(self._young) > MAX_YOUNG:
            return
        young = [r for r in results if r[2] >= cutoff and not r[3].get("missing")]
        if not young:
            return
        paths = self.db.read_sync(lambda c: {row[0]: row[1] for row in c.execute(
            f"SELECT id, path FROM images WHERE id IN ({','.join('?' * len(young))})", [r[0] for r in young])})
        for image_id, size, mtime_ns, _ in young:
            rel = paths.get(image_id)
            if rel:
                self._young[rel] = ((size, mtime_ns), deadline)

    def _check_young(self) -> None:
        """Files indexed while still fresh are re-checked for a while: a writer that paused
        long enough to look finished (or a poller that cannot see appends) is caught."""
        if not self._young:
            return
        now = time.monotonic()
        for rel, (seen, deadline) in list(self._young.items()):
            current = self._stat_rel(rel)
            if current != seen:
                del self._young[rel]
                self.debouncer.add(rel)
            elif now > deadline:
                del self._young[rel]

    # ------------------------------------------------------------------ change notices
    def _note_change(self, *, added: list[str] = (), removed: list[str] = (), updated: int = 0) -> None:
        if not (added or removed or updated):
            return
        with self._lock:
            self.generation += 1
            self.last_update = time.time()
            self.count_cache.clear()
            c = self._changes
            c["n_added"] += len(added)
            c["n_removed"] += len(removed)
            c["updated"] += updated
            if len(c["added"]) < 100:
                c["added"].extend(added[: 100 - len(c["added"])])
            if len(c["removed"]) < 100:
                c["removed"].extend(removed[: 100 - len(c["removed"])])
            if self._first_change is None:
                self._first_change = time.monotonic()

    def _maybe_publish(self, *, force: bool = False) -> None:
        first = self._first_change
        if first is None:
            return
        now = time.monotonic()
        min_gap = PUBLISH_MIN_INTERVAL_SCAN_S if self.status.state == "scanning" else 0.0
        if not force and (now - first < PUBLISH_DEBOUNCE_S or now - self._last_publish < min_gap):
            return
        with self._lock:
            c = self._changes
            payload = {
                "change_token": self.change_token, "added": c["n_added"], "removed": c["n_removed"],
                "updated": c["updated"], "added_paths": c["added"], "removed_paths": c["removed"],
                "scanning": self.status.state == "scanning", "last_update": self.last_update,
            }
            self._changes = {"added": [], "removed": [], "updated": 0, "n_added": 0, "n_removed": 0}
            self._first_change = None
            self._last_publish = now
        try:
            self.publish_event(EVENT_CHANGED, payload)
        except Exception:
            log.exception("publishing %s failed", EVENT_CHANGED)


class _Stopped(Exception):
    pass


class _Diff:
    """Accumulates the difference between walked files and stored rows, in write batches.

    New files whose ``(size, mtime_ns)`` equals a stored row not seen (yet) are held
    back: if that row's file vanished, the new path is the same file moved, and the
    row is moved (keeping tags, rating and metadata) instead of deleted + re-read.
    """

    def __init__(self, stored: dict[str, tuple], *, now: float, defer_new: bool = False) -> None:
        self.stored = stored
        self.now = now
        # A full scan reads new files before storing them (one write per file, see
        # ``store.insert_read``); live notices insert at once so the file lists immediately.
        self.defer_new = defer_new
        self._new: list[tuple] = []
        self.seen: set[str] = set()
        self.unchanged = 0
        self.unchanged_ready = 0
        self._inserts: list[tuple] = []
        self._changes: list[tuple] = []
        self._flags: list[tuple] = []
        self._moves: list[tuple] = []
        self._deletes: list[tuple] = []
        self._held: list[tuple[tuple, str | None]] = []
        self._by_stat: dict[tuple[int, int], list[str]] | None = None

    @property
    def seen_count(self) -> int:
        return len(self.seen)

    @property
    def buffered(self) -> int:
        return len(self._inserts) + len(self._changes) + len(self._flags)

    def _stat_index(self) -> dict[tuple[int, int], list[str]]:
        if self._by_stat is None:
            index: dict[tuple[int, int], list[str]] = {}
            for path, row in self.stored.items():
                index.setdefault((row[1], row[2]), []).append(path)
            self._by_stat = index
        return self._by_stat

    def add_many(self, facts_list: list[tuple]) -> None:
        for facts in facts_list:
            self.add(facts)

    def add(self, facts: tuple, *, hinted_source: str | None = None) -> None:
        rel = facts[0]
        self.seen.add(rel)
        row = self.stored.get(rel)
        state = logic.classify(facts[1:], row[1:5] if row else None)
        if state == logic.NEW:
            if hinted_source is not None or self.stored and (facts[1], facts[2]) in self._stat_index():
                self._held.append((facts, hinted_source))
            else:
                self._add_new(facts)
        elif state == logic.CHANGED:
            self._changes.append((row[0], facts[1], facts[2], facts[3], facts[4]))
        elif state == logic.EDITS_CHANGED:
            self._flags.append((row[0], facts[4]))
        else:
            self.unchanged += 1
            if not row[5]:
                self.unchanged_ready += 1

    def finish(self, *, vanished_scope: set[str] | None) -> None:
        """Resolve held files and vanished rows (``vanished_scope``: only these paths may vanish)."""
        candidates = self.stored.keys() if vanished_scope is None else (p for p in vanished_scope if p in self.stored)
        vanished = {p for p in candidates if p not in self.seen}
        by_stat: dict[tuple[int, int], list[str]] = {}
        for path in vanished:
            row = self.stored[path]
            by_stat.setdefault((row[1], row[2]), []).append(path)
        for facts, source in self._held:
            match = None
            if source is not None and source in vanished:
                match = source
            else:
                options = by_stat.get((facts[1], facts[2]), [])
                if len(options) == 1 and options[0] in vanished:
                    match = options[0]
            if match is not None:
                vanished.discard(match)
                row = self.stored[match]
                self._moves.append((row[0], facts[0], match))
                if (facts[3], facts[4]) != (row[3], row[4]):
                    self._changes.append((row[0], facts[1], facts[2], facts[3], facts[4]))
            else:
                self._add_new(facts)
        self._held = []
        self._deletes.extend((self.stored[p][0], p) for p in sorted(vanished))

    def _add_new(self, facts: tuple) -> None:
        if self.defer_new:
            self._new.append(facts)
        else:
            self._inserts.append(store.discovered_row(facts, self.now))

    def take_new(self) -> list[tuple]:
        """The deferred new files, newest first (what the user looks at first)."""
        new, self._new = self._new, []
        new.sort(key=lambda facts: facts[2], reverse=True)
        return new

    def take(self, *, final: bool) -> dict[str, list]:
        work = {"inserts": self._inserts, "changes": self._changes, "flags": self._flags,
                "moves": self._moves if final else [], "deletes": self._deletes if final else []}
        self._inserts, self._changes, self._flags = [], [], []
        if final:
            self._moves, self._deletes = [], []
        return work
