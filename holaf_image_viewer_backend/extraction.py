"""Bounded, crash-proof metadata extraction for many files at once.

``ExtractionPool(workers=N)`` keeps up to N worker *processes*
(:mod:`extract_worker`), each driven by one thread here, so reading JSON-heavy
metadata scales past one core and never holds the host's GIL. ``workers=0``
reads in one background thread instead (no extra processes).

A worker that crashes or hangs on a file is killed; its batch is retried file
by file in a fresh worker, and the one file that still fails gets an error
record ("crashed"/"timed out"). So one bad file costs one error row, never a
stuck scan and never an endless retry.
"""
from __future__ import annotations

import concurrent.futures
import logging
import os
import queue
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Iterable

from . import records
from .extract_worker import read_frame, write_frame

log = logging.getLogger("holaf.images.extract")

PACKAGE_ROOT = str(Path(__file__).resolve().parents[1])
WORKER_SCRIPT = str(Path(__file__).resolve().with_name("extract_worker.py"))
START_TIMEOUT_S = 60.0
BATCH_TIMEOUT_BASE_S = 30.0
PER_FILE_TIMEOUT_S = 10.0

#: (id, size, mtime_ns, record)
Result = tuple[int, int, int, dict]


class WorkerUnavailable(RuntimeError):
    pass


class WorkerProcess:
    """One ``extract_worker.py`` child and its pipes."""

    def __init__(self) -> None:
        kwargs = {}
        if os.name == "nt":
            kwargs["creationflags"] = getattr(subprocess, "CREATE_NO_WINDOW", 0)
        self.proc = subprocess.Popen(
            [sys.executable, WORKER_SCRIPT, PACKAGE_ROOT],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=None, close_fds=True, **kwargs,
        )
        hello = self._read(START_TIMEOUT_S)
        if not (isinstance(hello, tuple) and hello and hello[0] == "ready"):
            self.kill()
            raise WorkerUnavailable("the metadata worker process did not start")
        self.pid = hello[1]

    def _read(self, timeout: float):
        timer = threading.Timer(timeout, self.kill)
        timer.daemon = True
        timer.start()
        try:
            return read_frame(self.proc.stdout)
        except Exception:
            return None
        finally:
            timer.cancel()

    def run(self, output_root: str, items: list[tuple[int, str]], ffprobe: str | None) -> list[Result] | None:
        """The batch's results, or None if the worker died or ran out of time (it is then dead)."""
        try:
            write_frame(self.proc.stdin, ("extract", output_root, items, ffprobe))
        except (OSError, ValueError):
            self.kill()
            return None
        result = self._read(BATCH_TIMEOUT_BASE_S + PER_FILE_TIMEOUT_S * len(items))
        if not isinstance(result, list) or len(result) != len(items):
            self.kill()
            return None
        return result

    @property
    def alive(self) -> bool:
        return self.proc.poll() is None

    def kill(self) -> None:
        try:
            if self.proc.poll() is None:
                self.proc.kill()
        except OSError:
            pass

    def close(self) -> None:
        if self.proc.poll() is None:
            try:
                write_frame(self.proc.stdin, ("quit",))
                self.proc.stdin.close()
                self.proc.wait(timeout=5)
            except (OSError, ValueError, subprocess.TimeoutExpired):
                self.kill()
        for stream in (self.proc.stdin, self.proc.stdout):
            try:
                stream.close()
            except Exception:
                pass
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass


class ExtractionPool:
    """Submit batches of ``(id, rel_path[, may_have_sidecars])``; get futures of ``[(id, size, mtime_ns, record)]``."""

    def __init__(self, output_root: str, *, workers: int, ffprobe: str | None) -> None:
        self.output_root = output_root
        self.workers = max(0, workers)
        self.ffprobe = ffprobe
        self._executor = concurrent.futures.ThreadPoolExecutor(
            max_workers=max(1, self.workers), thread_name_prefix="holaf-extract"
        )
        self._idle: queue.SimpleQueue[WorkerProcess] = queue.SimpleQueue()
        self._all: list[WorkerProcess] = []
        self._lock = threading.Lock()
        self._closed = False
        self._process_failures = 0
        self.last_used = time.monotonic()

    @property
    def uses_processes(self) -> bool:
        return self.workers > 0 and self._process_failures < 3

    def submit(self, items: list[tuple[int, str]]) -> concurrent.futures.Future:
        self.last_used = time.monotonic()
        return self._executor.submit(self._run_batch, items)

    def map(self, batches: Iterable[list[tuple[int, str]]]) -> list[Result]:
        out: list[Result] = []
        for future in [self.submit(b) for b in batches]:
            out.extend(future.result())
        return out

    # -- internals ---------------------------------------------------------------------
    def _run_inline(self, items: list[tuple[int, str]]) -> list[Result]:
        records.prefetch(self.output_root, [item[1] for item in items])
        return [records.extract_item(self.output_root, item, ffprobe=self.ffprobe) for item in items]

    def _take_worker(self) -> WorkerProcess | None:
        while True:
            try:
                worker = self._idle.get_nowait()
            except queue.Empty:
                break
            if worker.alive:
                return worker
            worker.close()
        if self._closed or not self.uses_processes:
            return None
        try:
            worker = WorkerProcess()
        except (OSError, WorkerUnavailable) as exc:
            self._process_failures += 1
            log.warning("Metadata worker process unavailable (%s); reading in-process instead", exc)
            return None
        with self._lock:
            self._all.append(worker)
        return worker

    def _run_batch(self, items: list[tuple[int, str]], *, retry_single: bool = True) -> list[Result]:
        self.last_used = time.monotonic()
        worker = self._take_worker()
        if worker is None:
            return self._run_inline(items)
        started = time.monotonic()
        result = worker.run(self.output_root, items, self.ffprobe)
        if result is not None:
            if self._closed:
                worker.close()
            else:
                self._idle.put(worker)
            return result
        worker.close()
        timed_out = time.monotonic() - started >= BATCH_TIMEOUT_BASE_S
        if len(items) > 1 and retry_single:
            log.warning("A metadata worker died on a batch of %d files; retrying them one by one", len(items))
            out: list[Result] = []
            for item in items:
                out.extend(self._run_batch([item], retry_single=False))
            return out
        image_id, rel = items[0][0], items[0][1]
        reason = "timed out" if timed_out else "crashed"
        log.warning("Reading metadata of %s %s the worker; stored as an error", rel, reason)
        size, mtime_ns = _stat(self.output_root, rel)
        return [(image_id, size, mtime_ns, records.error_record(f"reading this file {reason} the metadata reader"))]

    def close(self) -> None:
        """Stop every worker process; safe to call more than once."""
        self._closed = True
        self._executor.shutdown(wait=True, cancel_futures=True)
        with self._lock:
            workers, self._all = self._all, []
        for worker in workers:
            worker.close()

    @property
    def process_ids(self) -> list[int]:
        with self._lock:
            return [w.proc.pid for w in self._all if w.alive]


def _stat(root: str, rel: str) -> tuple[int, int]:
    try:
        st = os.stat(os.path.join(root, *rel.split("/")))
        return st.st_size, st.st_mtime_ns
    except OSError:
        return 0, 0
