"""The System Monitor's memory of the past: two ring buffers and the job markers.

Charted values only (CPU, RAM, swap, our process, each GPU's load/VRAM/temperature), as
columns, so an hour at one point per second is a few hundred kilobytes and the ``history``
message stays small. The fine ring keeps one point per ``fine_step`` seconds (default one
hour at 1 s); every completed ``coarse_step`` bucket is averaged into the coarse ring
(default 24 hours at 1 minute), so a newly opened overlay can show the whole day.
"""
from __future__ import annotations

import math
from collections import deque
from typing import Any, Iterable

BASE_COLUMNS = ("cpu", "ram", "swap", "proc_cpu")
GPU_COLUMNS = ("util", "vram", "temp")
MAX_JOBS = 2000


def history_columns(gpu_count: int) -> list[str]:
    columns = list(BASE_COLUMNS)
    for index in range(gpu_count):
        columns.extend(f"gpu{index}_{name}" for name in GPU_COLUMNS)
    return columns


def history_values(sample: dict, gpu_count: int) -> list[float | None]:
    """The charted numbers of one ``sample`` message, in ``history_columns`` order."""
    process = sample.get("process") or {}
    values: list[float | None] = [
        sample["cpu"]["percent"], sample["ram"]["percent"], (sample.get("swap") or {}).get("percent"),
        process.get("cpu_percent"),
    ]
    gpus = sample.get("gpus") or []
    for index in range(gpu_count):
        gpu = gpus[index] if index < len(gpus) else {}
        values.extend([gpu.get("util"), gpu.get("vram_percent"), gpu.get("temp_c")])
    return values


def _mean(total: float, count: int) -> float | None:
    return round(total / count, 1) if count else None


class MonitorHistory:
    """Ring buffers of ``[t, v1, v2, …]`` points plus job start/end markers."""

    def __init__(self, columns: Iterable[str], *, fine_seconds: float = 3600, fine_step: float = 1.0,
                 coarse_seconds: float = 86400, coarse_step: float = 60.0) -> None:
        self.columns = list(columns)
        self.fine_step = fine_step
        self.coarse_step = coarse_step
        self.fine: deque[list] = deque(maxlen=max(1, int(fine_seconds / fine_step)))
        self.coarse: deque[list] = deque(maxlen=max(1, int(coarse_seconds / coarse_step)))
        self.jobs: deque[dict] = deque(maxlen=MAX_JOBS)
        self._bucket: int | None = None
        self._sums = [0.0] * len(self.columns)
        self._counts = [0] * len(self.columns)

    def resize(self, *, fine_seconds: float, coarse_seconds: float) -> None:
        """Apply new lengths from the settings, keeping the newest points."""
        fine_len = max(1, int(fine_seconds / self.fine_step))
        coarse_len = max(1, int(coarse_seconds / self.coarse_step))
        if fine_len != self.fine.maxlen:
            self.fine = deque(self.fine, maxlen=fine_len)
        if coarse_len != self.coarse.maxlen:
            self.coarse = deque(self.coarse, maxlen=coarse_len)

    def add(self, t: float, values: list[float | None]) -> bool:
        """Record one point; returns False when it came sooner than ``fine_step`` after the last one
        (the sampler may run at 250 ms for a fast client, history stays at its own step)."""
        if len(values) != len(self.columns):
            raise ValueError(f"expected {len(self.columns)} values, got {len(values)}")
        if self.fine and t - self.fine[-1][0] < self.fine_step * 0.9:
            return False
        self.fine.append([round(t, 3), *values])
        bucket = math.floor(t / self.coarse_step)
        if self._bucket is not None and bucket != self._bucket:
            self._flush_bucket()
        self._bucket = bucket
        for i, value in enumerate(values):
            if value is not None:
                self._sums[i] += value
                self._counts[i] += 1
        return True

    def _flush_bucket(self) -> None:
        if self._bucket is not None and any(self._counts):
            middle = (self._bucket + 0.5) * self.coarse_step
            self.coarse.append([middle, *(_mean(s, c) for s, c in zip(self._sums, self._counts))])
        self._sums = [0.0] * len(self.columns)
        self._counts = [0] * len(self.columns)

    def add_job(self, marker: dict) -> None:
        self.jobs.append(marker)

    def snapshot(self) -> dict[str, Any]:
        """Copies for the ``history`` message. Coarse points are only those older than the fine ring,
        so the client can draw ``coarse + fine`` as one line."""
        fine = [list(p) for p in self.fine]
        first_fine = fine[0][0] if fine else float("inf")
        coarse = [list(p) for p in self.coarse if p[0] + self.coarse_step / 2 <= first_fine]
        oldest = coarse[0][0] - self.coarse_step if coarse else (first_fine if fine else float("-inf"))
        jobs = [dict(j) for j in self.jobs if j["t"] >= oldest - self.coarse_step]
        return {
            "columns": ["t", *self.columns],
            "step_s": self.fine_step,
            "points": fine,
            "coarse": {"step_s": self.coarse_step, "points": coarse},
            "jobs": jobs,
        }
