"""The thumbnail worker: a priority queue, a fixed number of lanes, no storms.

* **Priorities** (few, like immich): ``DEMAND`` (a request is waiting for this
  tile), ``VISIBLE`` (the gallery says these tiles are on screen; the newest call
  first, in screen order), ``BACKGROUND`` (newest-first backfill).
* **Bounded**: ``lanes`` threads (sized to the cores) run jobs; however many HTTP
  requests arrive, at most ``lanes`` thumbnails are generated at once.
* **De-duplicated**: one job per thumbnail name; ten requests for one file share
  one job (and can raise its priority while it waits).
* **Polite**: background jobs run at full speed only while the machine is idle
  (no ComfyUI prompt executing and little CPU used by others); otherwise one at a
  time, at ``busy_rate`` per second.
* **Isolated**: each lane owns a helper process (``thumb_child.py``) that does
  the decoding. A crash or a hang kills that process only; the job is recorded as
  failed and the lane starts a fresh helper. Jobs with an edit ``transform`` (a
  Python callable) run in the lane's thread instead.
"""
from __future__ import annotations

import concurrent.futures
import heapq
import itertools
import json
import logging
import os
import queue
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from enum import IntEnum
from pathlib import Path
from typing import Any, Callable

from . import thumbnails
from .thumb_cache import ThumbKey

log = logging.getLogger("holaf.thumbnails")

CHILD_SCRIPT = Path(__file__).with_name("thumb_child.py")
CHILD_START_TIMEOUT_S = 20.0
CHILD_MAX_JOBS = 2000  # recycle helpers now and then (fragmented memory after huge images)
CHILD_IDLE_EXIT_S = 120.0


class Priority(IntEnum):
    DEMAND = 0
    VISIBLE = 1
    BACKGROUND = 2


@dataclass(eq=False)
class ThumbJob:
    """One thumbnail to make. ``id`` (the destination file) is the dedupe key."""

    key: ThumbKey
    src: Path
    dst: Path
    kind: str
    priority: int = Priority.BACKGROUND
    rank: tuple = ()
    transform: Callable | None = None
    duration: float | None = None
    future: concurrent.futures.Future = field(default_factory=concurrent.futures.Future)
    running: bool = False
    version: int = 0

    @property
    def id(self) -> str:
        return str(self.dst)


@dataclass
class JobOutcome:
    """What happened to one job: ``ok`` with ``result``, or ``code``/``error``."""

    key: ThumbKey
    ok: bool
    result: dict | None = None
    code: str | None = None
    error: str | None = None
    permanent: bool = True
    elapsed_s: float = 0.0
    dst: Path | None = None


# --------------------------------------------------------------------------- load
class LoadMonitor:
    """Is the machine idle enough for full-speed background work?

    Busy while ComfyUI runs a prompt (its execution events), while a busy check
    says so (the index reading a scan's metadata: short, and every view waits on
    it), or while other processes use more than ``cpu_busy_percent`` of the
    machine. Our own helpers' CPU is excluded, so full speed does not turn itself off.
    """

    def __init__(self, *, cpu_busy_percent: float = 50.0, sample_every_s: float = 2.0) -> None:
        self.cpu_busy_percent = cpu_busy_percent
        self.sample_every_s = sample_every_s
        self.host_busy = False
        self._host_busy_until = 0.0
        self._others_busy = False
        self._last_sample = 0.0
        self._last_times: tuple[float, float] | None = None
        self._own_pids: Callable[[], list[int]] = lambda: []
        self._busy_checks: list[Callable[[], bool]] = []
        self._lock = threading.Lock()

    def set_own_pids(self, fn: Callable[[], list[int]]) -> None:
        self._own_pids = fn

    def add_busy_check(self, fn: Callable[[], bool]) -> None:
        """``fn()`` true means: not idle now (called from any thread, must be cheap)."""
        self._busy_checks.append(fn)

    def on_host_event(self, event: str, data: Any) -> None:
        """ComfyUI execution events (called from any thread)."""
        if event in ("execution_start", "executing", "progress", "execution_cached"):
            self.host_busy = True
            self._host_busy_until = time.monotonic() + 3.0
        elif event in ("execution_success", "execution_error", "execution_interrupted"):
            self.host_busy = False
            self._host_busy_until = time.monotonic() + 1.0
        elif event == "status":
            try:
                remaining = data["status"]["exec_info"]["queue_remaining"]
                self.host_busy = bool(remaining)
            except (KeyError, TypeError):
                pass

    def idle(self) -> bool:
        if self.host_busy or time.monotonic() < self._host_busy_until:
            return False
        for check in self._busy_checks:
            try:
                if check():
                    return False
            except Exception:
                pass
        self._sample()
        return not self._others_busy

    def _sample(self) -> None:
        now = time.monotonic()
        with self._lock:
            if now - self._last_sample < self.sample_every_s:
                return
            self._last_sample = now
            try:
                import psutil

                cpu = psutil.cpu_times()
                total = sum(cpu)
                idle = getattr(cpu, "idle", 0.0) + getattr(cpu, "iowait", 0.0)
                ours = 0.0
                for pid in [os.getpid(), *self._own_pids()]:
                    try:
                        t = psutil.Process(pid).cpu_times()
                        ours += t.user + t.system
                    except psutil.Error:
                        pass
            except Exception:
                self._others_busy = False
                return
            busy_others = total - idle - ours
            if self._last_times is not None:
                d_total = total - self._last_times[0]
                d_busy = busy_others - self._last_times[1]
                if d_total > 0:
                    self._others_busy = 100.0 * d_busy / d_total > self.cpu_busy_percent
            self._last_times = (total, busy_others)


class BackgroundGate:
    """Token bucket + idle check for background jobs. ``wait()`` = seconds until one may start."""

    def __init__(self, monitor: LoadMonitor, *, enabled: bool = True, busy_rate: float = 2.0) -> None:
        self.monitor = monitor
        self.enabled = enabled
        self.busy_rate = max(0.05, busy_rate)
        self._next_allowed = 0.0

    def wait(self, running_background: int) -> float:
        if not self.enabled:
            return 5.0
        if self.monitor.idle():
            return 0.0
        if running_background > 0:
            return 0.25
        now = time.monotonic()
        if now < self._next_allowed:
            return self._next_allowed - now
        return 0.0

    def started(self) -> None:
        if not self.monitor.idle():
            self._next_allowed = time.monotonic() + 1.0 / self.busy_rate


# --------------------------------------------------------------------------- queue
class JobQueue:
    """Priority heap with dedupe and priority raising; thread-safe."""

    def __init__(self, gate: BackgroundGate) -> None:
        self.gate = gate
        self._heap: list = []
        self._jobs: dict[str, ThumbJob] = {}
        self._cond = threading.Condition()
        self._seq = itertools.count()
        self._closed = False
        self.running_background = 0
        self.running = 0

    def submit(self, job: ThumbJob) -> tuple[ThumbJob, bool]:
        """Queue ``job`` or join the identical one already queued. Returns (job, created)."""
        with self._cond:
            existing = self._jobs.get(job.id)
            if existing is not None:
                if not existing.running and (job.priority, job.rank) < (existing.priority, existing.rank):
                    existing.priority, existing.rank = job.priority, job.rank
                    if job.transform is not None:
                        existing.transform = job.transform
                    self._push(existing)
                    self._cond.notify()
                return existing, False
            self._jobs[job.id] = job
            self._push(job)
            self._cond.notify()
            return job, True

    def _push(self, job: ThumbJob) -> None:
        job.version += 1
        heapq.heappush(self._heap, (int(job.priority), job.rank, next(self._seq), job.version, job.id))

    def take(self, stop: threading.Event, *, idle_s: float | None = None) -> ThumbJob | None:
        """The next job to run, or None when stopping (or after ``idle_s`` without work)."""
        give_up = None if idle_s is None else time.monotonic() + idle_s
        with self._cond:
            while not (self._closed or stop.is_set()):
                if give_up is not None and time.monotonic() > give_up:
                    return None
                while self._heap:
                    _p, _r, _s, version, job_id = self._heap[0]
                    job = self._jobs.get(job_id)
                    if job is None or job.running or job.version != version:
                        heapq.heappop(self._heap)
                        continue
                    break
                else:
                    self._cond.wait(timeout=1.0)
                    continue
                if job.priority >= Priority.BACKGROUND:
                    delay = self.gate.wait(self.running_background)
                    if delay > 0:
                        self._cond.wait(timeout=min(delay, 1.0))
                        continue
                    self.gate.started()
                    self.running_background += 1
                heapq.heappop(self._heap)
                job.running = True
                self.running += 1
                return job
            return None

    def done(self, job: ThumbJob) -> None:
        with self._cond:
            if self._jobs.get(job.id) is job:
                del self._jobs[job.id]
            self.running -= 1
            if job.priority >= Priority.BACKGROUND:
                self.running_background -= 1
            self._cond.notify_all()

    def counts(self) -> dict[str, int]:
        with self._cond:
            queued = [j for j in self._jobs.values() if not j.running]
            return {
                "queued": len(queued),
                "queued_background": sum(1 for j in queued if j.priority >= Priority.BACKGROUND),
                "running": self.running,
            }

    def ahead_of(self, job: ThumbJob) -> int:
        """How many jobs run or will start before ``job`` (0 when it is running)."""
        with self._cond:
            if job.running:
                return 0
            key = (int(job.priority), job.rank)
            return self.running + sum(1 for j in self._jobs.values() if not j.running and (int(j.priority), j.rank) < key)

    def queued_background(self) -> int:
        with self._cond:
            return sum(1 for j in self._jobs.values() if not j.running and j.priority >= Priority.BACKGROUND)

    def drop_background(self) -> int:
        """Forget queued backfill (e.g. the thumbnail size changed)."""
        with self._cond:
            victims = [j for j in self._jobs.values() if not j.running and j.priority >= Priority.BACKGROUND]
            for job in victims:
                del self._jobs[job.id]
                job.future.cancel()
            return len(victims)

    def wake(self) -> None:
        with self._cond:
            self._cond.notify_all()

    def close(self) -> list[ThumbJob]:
        with self._cond:
            self._closed = True
            pending = [j for j in self._jobs.values() if not j.running]
            self._cond.notify_all()
            return pending


# --------------------------------------------------------------------------- runners
@dataclass
class JobSettings:
    size: int = thumbnails.DEFAULT_SIZE
    fmt: str = "webp"
    quality: int = thumbnails.DEFAULT_QUALITY
    max_pixels: int = thumbnails.DEFAULT_MAX_PIXELS
    timeout_s: float = 30.0  # ffmpeg's own limit inside a job
    hang_grace_s: float = 5.0  # a helper silent for timeout_s + this is killed
    ffmpeg: str | None = None


def run_inline(job: ThumbJob, settings: JobSettings) -> JobOutcome:
    """Generate in this thread (edit transforms; or when helpers cannot start)."""
    start = time.perf_counter()
    try:
        result = thumbnails.generate_thumbnail(
            job.src, job.dst, settings.size, transform=job.transform, max_pixels=settings.max_pixels,
            fmt=settings.fmt, quality=settings.quality, ffmpeg=settings.ffmpeg, duration=job.duration,
            timeout=settings.timeout_s,
        )
        return JobOutcome(job.key, True, result=result.to_dict(), elapsed_s=time.perf_counter() - start, dst=job.dst)
    except thumbnails.ThumbnailError as exc:
        return JobOutcome(job.key, False, code=exc.code, error=exc.message, elapsed_s=time.perf_counter() - start)
    except MemoryError:
        return JobOutcome(job.key, False, code="too_large", error="out of memory while decoding")
    except Exception as exc:
        log.exception("thumbnail of %s failed", job.key.rel_path)
        return JobOutcome(job.key, False, code="error", error=f"{type(exc).__name__}: {exc}", permanent=False,
                          elapsed_s=time.perf_counter() - start)


class ChildRunner:
    """One helper process, used by one lane at a time."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.proc: subprocess.Popen | None = None
        self._replies: queue.Queue = queue.Queue()
        self._jobs_done = 0
        self._ids = itertools.count(1)
        self.last_used = 0.0

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc is not None and self.proc.poll() is None else None

    def _start(self) -> None:
        self._replies = queue.Queue()
        proc = subprocess.Popen(
            [sys.executable, "-u", str(CHILD_SCRIPT)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=None,
            creationflags=thumbnails.NO_WINDOW, close_fds=True,
        )
        replies = self._replies

        def read_replies() -> None:
            for line in proc.stdout:
                try:
                    replies.put(json.loads(line))
                except ValueError:
                    continue
            replies.put(None)  # EOF: the helper exited

        threading.Thread(target=read_replies, name=f"{self.name}-reader", daemon=True).start()
        try:
            ready = replies.get(timeout=CHILD_START_TIMEOUT_S)
        except queue.Empty:
            ready = None
        if not ready or not ready.get("ready"):
            self._kill(proc)
            raise RuntimeError("the thumbnail helper process did not start")
        self.proc = proc
        self._jobs_done = 0

    def run(self, job: ThumbJob, settings: JobSettings) -> JobOutcome:
        if self.proc is None or self.proc.poll() is not None or self._jobs_done >= CHILD_MAX_JOBS:
            self.stop()
            self._start()
        request_id = next(self._ids)
        request = {
            "id": request_id, "src": str(job.src), "dst": str(job.dst), "size": settings.size,
            "max_pixels": settings.max_pixels, "fmt": settings.fmt, "quality": settings.quality,
            "ffmpeg": settings.ffmpeg, "duration": job.duration, "timeout": settings.timeout_s,
        }
        start = time.perf_counter()
        self.last_used = time.monotonic()
        try:
            self.proc.stdin.write(json.dumps(request).encode("utf-8") + b"\n")
            self.proc.stdin.flush()
        except (OSError, ValueError):
            self.stop()
            return JobOutcome(job.key, False, code="error", error="the thumbnail helper process exited", permanent=False)
        deadline = time.monotonic() + settings.timeout_s + settings.hang_grace_s
        while True:
            try:
                reply = self._replies.get(timeout=max(0.05, deadline - time.monotonic()))
            except queue.Empty:
                self.stop()
                return JobOutcome(job.key, False, code="timeout",
                                  error=f"gave up after {settings.timeout_s + settings.hang_grace_s:.0f} s (the decoder hung)",
                                  elapsed_s=time.perf_counter() - start)
            if reply is None:  # the helper died on this file (segfault, OOM kill)
                self.stop()
                return JobOutcome(job.key, False, code="crashed", error="the decoder crashed on this file",
                                  elapsed_s=time.perf_counter() - start)
            if reply.get("id") == request_id:
                break
        self._jobs_done += 1
        elapsed = time.perf_counter() - start
        if reply.get("ok"):
            return JobOutcome(job.key, True, result=reply.get("result"), elapsed_s=elapsed, dst=job.dst)
        return JobOutcome(job.key, False, code=reply.get("code"), error=reply.get("error"),
                          permanent=bool(reply.get("permanent", True)), elapsed_s=elapsed)

    def stop_if_idle(self, idle_s: float) -> None:
        if self.proc is not None and time.monotonic() - self.last_used > idle_s:
            self.stop()

    def stop(self) -> None:
        proc, self.proc = self.proc, None
        if proc is None:
            return
        try:
            proc.stdin.close()
        except OSError:
            pass
        try:
            proc.wait(timeout=2)
        except subprocess.TimeoutExpired:
            self._kill(proc)

    @staticmethod
    def _kill(proc: subprocess.Popen) -> None:
        try:
            proc.kill()
            proc.wait(timeout=5)
        except Exception:
            pass


# --------------------------------------------------------------------------- worker
class ThumbnailWorker:
    """Lanes that pull from a :class:`JobQueue` and hand each outcome to ``on_outcome``."""

    def __init__(
        self,
        settings: JobSettings | Callable[[], JobSettings],
        on_outcome: Callable[[ThumbJob, JobOutcome], None],
        *,
        lanes: int | None = None,
        use_processes: bool = True,
        monitor: LoadMonitor | None = None,
        background_enabled: bool = True,
        busy_rate: float = 2.0,
    ) -> None:
        self.settings = settings
        self.on_outcome = on_outcome
        self.lanes = max(1, lanes or os.cpu_count() or 1)
        self.use_processes = use_processes
        self.monitor = monitor or LoadMonitor()
        self.gate = BackgroundGate(self.monitor, enabled=background_enabled, busy_rate=busy_rate)
        self.queue = JobQueue(self.gate)
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._runners = [ChildRunner(f"holaf-thumb-{i}") for i in range(self.lanes)]
        self.monitor.set_own_pids(lambda: [p for r in self._runners if (p := r.pid)])
        self.stats = {"done": 0, "failed": 0, "seconds": 0.0}
        self._stats_lock = threading.Lock()

    def start(self) -> None:
        if self._threads:
            return
        self._stop.clear()
        for index in range(self.lanes):
            thread = threading.Thread(target=self._lane, args=(index,), name=f"holaf-thumb-lane-{index}", daemon=True)
            thread.start()
            self._threads.append(thread)

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        for job in self.queue.close():
            job.future.cancel()
        for thread in self._threads:
            thread.join(timeout=timeout)
        self._threads.clear()
        for runner in self._runners:
            runner.stop()

    def submit(self, job: ThumbJob) -> ThumbJob:
        shared, _created = self.queue.submit(job)
        return shared

    def seconds_until(self, job: ThumbJob) -> float:
        """A rough estimate of when ``job`` will be finished (for Retry-After)."""
        with self._stats_lock:
            count = self.stats["done"] + self.stats["failed"]
            average = self.stats["seconds"] / count if count else 0.05
        return (self.queue.ahead_of(job) / self.lanes + 1) * average

    def _lane(self, index: int) -> None:
        runner = self._runners[index]
        while not self._stop.is_set():
            job = self.queue.take(self._stop, idle_s=CHILD_IDLE_EXIT_S)
            if job is None:  # nothing to do for a while: let the helper process go
                runner.stop_if_idle(CHILD_IDLE_EXIT_S)
                continue
            try:
                outcome = self._run(job, runner)
            except Exception as exc:  # never lose a lane
                log.exception("thumbnail lane %d failed on %s", index, job.key.rel_path)
                outcome = JobOutcome(job.key, False, code="error", error=str(exc), permanent=False)
            with self._stats_lock:
                self.stats["done" if outcome.ok else "failed"] += 1
                self.stats["seconds"] += outcome.elapsed_s
            try:
                self.on_outcome(job, outcome)
            except Exception:
                log.exception("recording the thumbnail outcome of %s failed", job.key.rel_path)
            self.queue.done(job)
            if not job.future.done():
                try:
                    job.future.set_result(outcome)
                except concurrent.futures.InvalidStateError:  # cancelled meanwhile
                    pass

    def _run(self, job: ThumbJob, runner: ChildRunner) -> JobOutcome:
        settings = self.settings() if callable(self.settings) else self.settings  # settings may change live
        if job.transform is None and self.use_processes:
            try:
                return runner.run(job, settings)
            except (OSError, RuntimeError) as exc:
                log.warning("thumbnail helper process unavailable (%s); generating in-process", exc)
                self.use_processes = False
        return run_inline(job, settings)
