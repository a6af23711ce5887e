"""CPU, memory, disks and our own process, read with psutil without ever sleeping.

Rates (CPU %, disk I/O, process CPU) are differences between two counter snapshots, so a
sample costs a few ``/proc`` reads and no ``cpu_percent(interval=…)`` wait. We keep our own
previous snapshot instead of psutil's module-level one, so another extension calling
``psutil.cpu_percent()`` cannot skew our numbers (or we theirs).

``HostSampler.sample`` does file I/O (``/proc``, ``statvfs`` on possibly slow network
disks): the monitor runs it on a worker thread.
"""
from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import psutil

DISK_REFRESH_S = 15.0
SWAP_REFRESH_S = 5.0
#: ``folder_paths`` entries that are not model folders.
NOT_MODEL_FOLDERS = frozenset({"custom_nodes"})


@dataclass
class Counters:
    """Cumulative counters at one instant (monotonic seconds)."""

    at: float
    cpu: list[Any]  # psutil.cpu_times(percpu=True)
    process_cpu: float  # user + system seconds of our process
    disk_read: int | None
    disk_write: int | None


def _busy_and_total(times: Any) -> tuple[float, float]:
    """Like psutil: guest time is already inside user/nice on Linux; iowait counts as idle."""
    values = times._asdict()
    total = sum(values.values()) - values.get("guest", 0.0) - values.get("guest_nice", 0.0)
    idle = values.get("idle", 0.0) + values.get("iowait", 0.0)
    return total - idle, total


def cpu_percent_between(before: list[Any], after: list[Any]) -> list[float]:
    """Per-core busy % between two ``cpu_times(percpu=True)`` snapshots (0–100, one decimal)."""
    out = []
    for old, new in zip(before, after):
        busy_old, total_old = _busy_and_total(old)
        busy_new, total_new = _busy_and_total(new)
        span = total_new - total_old
        share = (busy_new - busy_old) / span if span > 0 else 0.0
        out.append(round(min(100.0, max(0.0, share * 100.0)), 1))
    return out


def rate(before: float | None, after: float | None, seconds: float) -> float | None:
    """Units per second between two cumulative counters; None when unknown or reset."""
    if before is None or after is None or seconds <= 0 or after < before:
        return None
    return (after - before) / seconds


@dataclass
class DiskGroup:
    """Folders that live on one filesystem, shown as one disk ("output, models")."""

    roles: list[str]
    path: Path
    device: Any


def disk_groups(targets: list[tuple[str, Path]], stat: Callable[[Path], os.stat_result] = os.stat) -> list[DiskGroup]:
    """Group ``(role, folder)`` pairs by filesystem (``st_dev``) so a disk is listed once."""
    groups: dict[Any, DiskGroup] = {}
    for role, path in targets:
        try:
            device = stat(path).st_dev
        except OSError:
            continue  # a configured models folder that does not exist: nothing to show
        group = groups.get(device)
        if group is None:
            groups[device] = DiskGroup([role], path, device)
        elif role not in group.roles:
            group.roles.append(role)
    return list(groups.values())


def disk_targets(output_dir: Path | None, models_dirs: dict[str, list[Path]] | None) -> list[tuple[str, Path]]:
    targets: list[tuple[str, Path]] = []
    if output_dir is not None:
        targets.append(("output", Path(output_dir)))
    for name, paths in (models_dirs or {}).items():
        if name in NOT_MODEL_FOLDERS:
            continue
        targets.extend(("models", Path(p)) for p in paths)
    return targets


class HostSampler:
    """Reads the machine and our process. Not thread-safe: one sampler calls it at a time."""

    def __init__(self, targets: list[tuple[str, Path]], *, process: psutil.Process | None = None) -> None:
        self.targets = targets
        self.process = process or psutil.Process()
        self.cpu_count = psutil.cpu_count(logical=True) or 1
        self._previous: Counters | None = None
        self._groups: list[DiskGroup] | None = None
        self._disks: list[dict] = []
        self._disks_at = float("-inf")
        self._swap_cache: tuple[float, Any] | None = None

    # -- counters -------------------------------------------------------------
    def _counters(self) -> Counters:
        try:
            io = psutil.disk_io_counters(perdisk=False)
        except (OSError, RuntimeError):  # some containers and VMs expose no disk statistics
            io = None
        try:
            times = self.process.cpu_times()
            process_cpu = times.user + times.system
        except psutil.Error:
            process_cpu = 0.0
        return Counters(
            at=time.monotonic(), cpu=psutil.cpu_times(percpu=True), process_cpu=process_cpu,
            disk_read=io.read_bytes if io else None, disk_write=io.write_bytes if io else None,
        )

    def prime(self) -> None:
        """Take the first snapshot so the next ``sample`` has something to compare against."""
        self._previous = self._counters()

    def counters_age(self) -> float:
        return float("inf") if self._previous is None else time.monotonic() - self._previous.at

    # -- disks ---------------------------------------------------------------
    def _disk_usage(self, now: float) -> list[dict]:
        if now - self._disks_at < DISK_REFRESH_S:
            return self._disks
        if self._groups is None or now - self._disks_at > 10 * DISK_REFRESH_S:
            self._groups = disk_groups(self.targets)  # drives can be mounted later: re-check now and then
        disks = []
        for group in self._groups:
            try:
                usage = psutil.disk_usage(str(group.path))
            except OSError:
                continue
            disks.append({"label": ", ".join(group.roles), "roles": list(group.roles), "used": usage.used,
                          "total": usage.total, "free": usage.free, "percent": round(usage.percent, 1)})
        self._disks, self._disks_at = disks, now
        return disks

    def _swap(self, now: float) -> Any:
        # Swap moves slowly and psutil reads all of /proc/vmstat for it: refresh every few seconds.
        if self._swap_cache is None or now - self._swap_cache[0] >= SWAP_REFRESH_S:
            self._swap_cache = (now, psutil.swap_memory())
        return self._swap_cache[1]

    # -- one sample ----------------------------------------------------------
    def sample(self) -> dict:
        """Everything but the GPUs, as the ``sample`` message carries it."""
        current = self._counters()
        previous = self._previous or current
        self._previous = current
        seconds = current.at - previous.at
        per_core = cpu_percent_between(previous.cpu, current.cpu) if previous is not current else [0.0] * len(current.cpu)
        memory = psutil.virtual_memory()
        swap = self._swap(current.at)
        try:
            rss = self.process.memory_info().rss
        except psutil.Error:
            rss = None
        process_rate = rate(previous.process_cpu, current.process_cpu, seconds) if previous is not current else 0.0
        read_rate = rate(previous.disk_read, current.disk_read, seconds)
        write_rate = rate(previous.disk_write, current.disk_write, seconds)
        return {
            "cpu": {"percent": round(sum(per_core) / len(per_core), 1) if per_core else 0.0,
                    "per_core": per_core, "count": len(per_core)},
            "ram": {"percent": round(memory.percent, 1), "used": memory.total - memory.available,
                    "total": memory.total, "available": memory.available},
            "swap": {"percent": round(swap.percent, 1), "used": swap.used, "total": swap.total},
            "disks": self._disk_usage(current.at),
            "disk_io": None if read_rate is None or write_rate is None
            else {"read_bps": round(read_rate), "write_bps": round(write_rate)},
            "process": {"pid": self.process.pid, "rss": rss,
                        # like top: 100 = one full core
                        "cpu_percent": round(process_rate * 100.0, 1) if process_rate is not None else None},
        }
