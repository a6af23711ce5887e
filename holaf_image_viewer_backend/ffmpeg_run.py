"""Run one ffmpeg command with progress and cancellation.

Progress comes from ``-progress pipe:1`` (``out_time_us=…`` lines, ``progress=end``)
read on the calling thread; stderr is drained by a helper thread into a short
tail used for the error message. The process is a plain ``subprocess.Popen`` run
from a worker thread, not an asyncio subprocess: ComfyUI on Windows may run a
selector event loop, which cannot start subprocesses. Cancelling (from any
thread) kills the process.
"""
from __future__ import annotations

import collections
import logging
import subprocess
import sys
import threading
import time
from typing import Callable

log = logging.getLogger("holaf.export")

NO_WINDOW = 0x08000000 if sys.platform == "win32" else 0


class FfmpegError(RuntimeError):
    pass


class FfmpegCancelled(RuntimeError):
    pass


class CancelToken:
    """Set by the job when the user cancels; kills whatever process is registered."""

    def __init__(self) -> None:
        self._event = threading.Event()
        self._lock = threading.Lock()
        self._process: subprocess.Popen | None = None

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    def cancel(self) -> None:
        self._event.set()
        with self._lock:
            process = self._process
        if process is not None and process.poll() is None:
            try:
                process.kill()
            except OSError:
                pass

    def attach(self, process: subprocess.Popen | None) -> None:
        with self._lock:
            self._process = process
        if process is not None and self.cancelled:
            process.kill()

    def check(self) -> None:
        if self.cancelled:
            raise FfmpegCancelled("cancelled")


def with_progress_args(args: list[str]) -> list[str]:
    """Insert the progress/quiet flags right after the executable."""
    return [args[0], "-hide_banner", "-nostdin", "-loglevel", "error", "-nostats", "-progress", "pipe:1", *args[1:]]


def run_ffmpeg(args: list[str], *, total_seconds: float | None, on_progress: Callable[[float], None] | None = None,
               cancel: CancelToken | None = None, timeout_s: float = 6 * 3600) -> float:
    """Run ``args`` (already including the executable) to completion; returns the wall time.

    ``on_progress`` receives 0..1 (from ``out_time_us`` / ``total_seconds``).
    Raises :class:`FfmpegCancelled` or :class:`FfmpegError` with ffmpeg's last words.
    """
    cancel = cancel or CancelToken()
    cancel.check()
    command = with_progress_args(args)
    log.debug("ffmpeg: %s", subprocess.list2cmdline(command))
    started = time.perf_counter()
    try:
        process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                   creationflags=NO_WINDOW)
    except OSError as exc:
        raise FfmpegError(f"could not start ffmpeg: {exc}") from None
    cancel.attach(process)
    tail: collections.deque[str] = collections.deque(maxlen=40)

    def drain() -> None:
        for raw in iter(process.stderr.readline, b""):
            tail.append(raw.decode("utf-8", "replace").rstrip())

    reader = threading.Thread(target=drain, name="holaf-ffmpeg-stderr", daemon=True)
    reader.start()
    timed_out = threading.Event()

    def stop_overdue() -> None:
        timed_out.set()
        process.kill()

    watchdog = threading.Timer(timeout_s, stop_overdue)
    watchdog.daemon = True
    watchdog.start()
    try:
        for raw in iter(process.stdout.readline, b""):
            line = raw.decode("ascii", "replace").strip()
            if on_progress is None or "=" not in line:
                continue
            key, _, value = line.partition("=")
            if key in ("out_time_us", "out_time_ms") and total_seconds:
                try:
                    seconds = int(value) / 1_000_000
                except ValueError:
                    continue
                on_progress(max(0.0, min(1.0, seconds / total_seconds)))
            elif key == "progress" and value == "end":
                on_progress(1.0)
        code = process.wait()
    finally:
        watchdog.cancel()
        if process.poll() is None:
            process.kill()
            process.wait()
        reader.join(timeout=5)
        cancel.attach(None)
        for stream in (process.stdout, process.stderr):
            try:
                stream.close()
            except OSError:
                pass
    if cancel.cancelled:
        raise FfmpegCancelled("cancelled")
    if timed_out.is_set():
        raise FfmpegError(f"ffmpeg ran longer than {timeout_s:g} s and was stopped")
    if code != 0:
        message = " | ".join(line for line in tail if line) or f"ffmpeg exited with code {code}"
        raise FfmpegError(message[-1500:])
    return time.perf_counter() - started
