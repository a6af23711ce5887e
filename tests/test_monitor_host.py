"""System Monitor host readings with the real psutil, and the history rings fed point by point."""
from __future__ import annotations

import os
import time

import psutil
import pytest

from holaf_utilities.holaf_system_monitor_backend.history import MonitorHistory, history_columns, history_values
from holaf_utilities.holaf_system_monitor_backend.host import (
    HostSampler,
    cpu_percent_between,
    disk_groups,
    disk_targets,
    rate,
)


def _burn_cpu(seconds: float) -> None:
    end = time.process_time() + seconds
    while time.process_time() < end:
        sum(i * i for i in range(1000))


# -- host sampler --------------------------------------------------------------
def test_a_sample_has_every_field_with_sane_values(tmp_path):
    sampler = HostSampler(disk_targets(tmp_path, {}))
    sampler.prime()
    started = time.monotonic()
    _burn_cpu(0.2)
    sample = sampler.sample()
    wall = time.monotonic() - started
    cpu = sample["cpu"]
    assert cpu["count"] == psutil.cpu_count() == len(cpu["per_core"])
    assert all(0.0 <= v <= 100.0 for v in cpu["per_core"]) and 0.0 <= cpu["percent"] <= 100.0
    assert cpu["percent"] > 0, "we just kept one core busy"
    ram = sample["ram"]
    assert ram["total"] == psutil.virtual_memory().total and 0 < ram["used"] < ram["total"] and 0 < ram["percent"] < 100
    assert set(sample["swap"]) == {"percent", "used", "total"}
    (disk,) = sample["disks"]
    assert disk["roles"] == ["output"] and disk["label"] == "output" and 0 < disk["used"] <= disk["total"]
    process = sample["process"]
    assert process["pid"] == os.getpid() and process["rss"] == pytest.approx(psutil.Process().memory_info().rss, rel=0.5)
    # 0.2 s of our CPU over `wall` seconds (longer on a busy machine); 100 = one core
    assert process["cpu_percent"] >= 0.6 * 100 * 0.2 / wall, (process["cpu_percent"], wall)
    if sample["disk_io"] is not None:
        assert sample["disk_io"]["read_bps"] >= 0 and sample["disk_io"]["write_bps"] >= 0


def test_sampling_never_sleeps_to_measure():
    sampler = HostSampler([])
    started = time.perf_counter()
    for _ in range(10):  # the first call has no previous snapshot: it must not wait for one either
        sampler.sample()
    assert time.perf_counter() - started < 0.9, "cpu_percent(interval=0.1) would sleep at least 1 s here"


def test_the_first_sample_without_a_previous_snapshot_reports_zero_not_garbage():
    sample = HostSampler([]).sample()
    assert sample["cpu"]["per_core"] == [0.0] * sample["cpu"]["count"]
    assert sample["process"]["cpu_percent"] == 0.0


def test_cpu_percent_between_two_snapshots_counts_iowait_as_idle():
    times = psutil.cpu_times(percpu=True)[0]
    zero = times._replace(**{f: 0.0 for f in times._fields})
    before = [zero, zero]
    fields = set(times._fields)
    busy = zero._replace(user=3.0, system=1.0, idle=4.0)
    waiting = zero._replace(idle=2.0, **({"iowait": 6.0, "user": 2.0} if "iowait" in fields else {"user": 6.0}))
    result = cpu_percent_between(before, [busy, waiting])
    assert result[0] == 50.0
    assert result[1] == (20.0 if "iowait" in fields else 75.0)
    assert cpu_percent_between([busy], [busy]) == [0.0], "no time passed: no division by zero"


def test_rates_refuse_counter_resets_and_missing_counters():
    assert rate(100, 300, 2.0) == 100.0
    assert rate(300, 100, 2.0) is None
    assert rate(None, 100, 2.0) is None and rate(1, 2, 0) is None


def test_folders_on_one_filesystem_are_one_disk_and_missing_ones_are_skipped(tmp_path):
    (tmp_path / "out").mkdir()
    (tmp_path / "models" / "loras").mkdir(parents=True)
    (tmp_path / "models" / "checkpoints").mkdir()
    targets = disk_targets(tmp_path / "out", {
        "loras": [tmp_path / "models" / "loras"], "checkpoints": [tmp_path / "models" / "checkpoints"],
        "vae": [tmp_path / "missing"], "custom_nodes": [tmp_path / "custom_nodes"],
    })
    assert [role for role, _ in targets] == ["output", "models", "models", "models"]
    (group,) = disk_groups(targets)
    assert group.roles == ["output", "models"] and group.path == tmp_path / "out"


def test_folders_on_different_devices_stay_separate(tmp_path):
    class FakeStat:
        def __init__(self, dev):
            self.st_dev = dev

    devices = {tmp_path / "a": 1, tmp_path / "b": 2, tmp_path / "c": 1}
    groups = disk_groups([("output", tmp_path / "a"), ("models", tmp_path / "b"), ("models", tmp_path / "c")],
                         stat=lambda p: FakeStat(devices[p]))
    assert [(g.roles, g.device) for g in groups] == [(["output", "models"], 1), (["models"], 2)]


# -- history ---------------------------------------------------------------------
def test_history_columns_and_values_follow_the_gpu_count():
    assert history_columns(1) == ["cpu", "ram", "swap", "proc_cpu", "gpu0_util", "gpu0_vram", "gpu0_temp"]
    sample = {"cpu": {"percent": 12.5}, "ram": {"percent": 40.0}, "swap": {"percent": 1.0},
              "process": {"cpu_percent": 3.0}, "gpus": [{"util": 90.0, "vram_percent": 71.2, "temp_c": 66.0}]}
    assert history_values(sample, 1) == [12.5, 40.0, 1.0, 3.0, 90.0, 71.2, 66.0]
    assert history_values(sample, 2)[-3:] == [None, None, None], "a GPU that vanished is a gap, not an error"


def test_the_fine_ring_keeps_one_point_per_step_and_drops_the_oldest():
    history = MonitorHistory(["cpu"], fine_seconds=10, coarse_seconds=600)
    t0 = 1_700_000_000.0
    for i in range(60):  # 15 s at 250 ms
        history.add(t0 + i * 0.25, [float(i)])
    snapshot = history.snapshot()
    assert snapshot["columns"] == ["t", "cpu"] and snapshot["step_s"] == 1.0
    times = [p[0] for p in snapshot["points"]]
    assert len(times) == 10, "ten seconds kept"
    assert all(0.99 <= b - a <= 1.01 for a, b in zip(times, times[1:]))
    assert times[-1] == pytest.approx(t0 + 14.0)


def test_completed_minutes_are_averaged_into_the_coarse_ring_and_do_not_overlap_the_fine_one():
    history = MonitorHistory(["cpu", "gpu"], fine_seconds=60, coarse_seconds=3600)
    t0 = 1_700_000_040.0 - (1_700_000_040.0 % 60)  # a minute boundary
    for i in range(180):  # three minutes at 1 s: minute 0 → 10, minute 1 → 20, minute 2 → 30
        history.add(t0 + i, [10.0 * (i // 60 + 1), None if i < 60 else 50.0])
    snapshot = history.snapshot()
    coarse = snapshot["coarse"]["points"]
    assert snapshot["coarse"]["step_s"] == 60.0
    assert coarse[0] == [t0 + 30, 10.0, None], "a column with no values stays null"
    assert len(snapshot["points"]) == 60 and snapshot["points"][0][0] == t0 + 120
    assert all(p[0] + 30 <= snapshot["points"][0][0] for p in coarse), "coarse points end where fine ones start"
    assert [p[1] for p in coarse] == [10.0, 20.0]


def test_a_day_of_history_stays_bounded():
    history = MonitorHistory(["cpu"], fine_seconds=3600, coarse_seconds=86400)
    t0 = 1_700_000_000.0
    for i in range(0, 26 * 3600, 1):
        history.add(t0 + i, [1.0])
    assert len(history.fine) == 3600 and len(history.coarse) == 1440


def test_resizing_keeps_the_newest_points():
    history = MonitorHistory(["cpu"], fine_seconds=100, coarse_seconds=3600)
    for i in range(100):
        history.add(1000.0 + i, [float(i)])
    history.resize(fine_seconds=10, coarse_seconds=3600)
    assert [p[1] for p in history.fine] == [float(i) for i in range(90, 100)]


def test_job_markers_are_kept_for_the_range_the_history_covers():
    history = MonitorHistory(["cpu"], fine_seconds=10, coarse_seconds=120)
    history.add_job({"t": 5.0, "phase": "start", "prompt_id": "old"})
    assert [j["prompt_id"] for j in history.snapshot()["jobs"]] == ["old"], "no points yet: every marker"
    for i in range(400):
        history.add(1000.0 + i, [1.0])
    history.add_job({"t": 1390.0, "phase": "start", "prompt_id": "new"})
    assert [j["prompt_id"] for j in history.snapshot()["jobs"]] == ["new"]


def test_a_point_with_the_wrong_number_of_values_is_refused():
    with pytest.raises(ValueError):
        MonitorHistory(["cpu", "ram"]).add(1.0, [1.0])
