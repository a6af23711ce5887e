"""The thumbnail worker with real helper processes: de-duplication, the bound on
parallel generations, priority order, the background gate while ComfyUI works,
and recovery when a helper hangs or dies."""
from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path

import pytest
from PIL import Image

from holaf_utilities.holaf_image_viewer_backend.thumb_cache import ThumbCache, ThumbKey
from holaf_utilities.holaf_image_viewer_backend.worker import (JobSettings, LoadMonitor, Priority, ThumbJob,
                                                               ThumbnailWorker)
from media_factory import comfy_png


def _job(cache: ThumbCache, src: Path, priority=Priority.DEMAND, transform=None, rank=()) -> ThumbJob:
    st = src.stat()
    key = ThumbKey(src.name, st.st_mtime_ns, st.st_size)
    return ThumbJob(key=key, src=src, dst=cache.file_for(key), kind="image", priority=priority,
                    transform=transform, rank=rank)


@pytest.fixture
def cache(tmp_path) -> ThumbCache:
    return ThumbCache(tmp_path / "data", 128)


def _worker(outcomes, **kwargs) -> ThumbnailWorker:
    worker = ThumbnailWorker(JobSettings(size=128), lambda job, outcome: outcomes.append((job, outcome)), **kwargs)
    worker.start()
    return worker


def test_helper_processes_make_thumbnails_outside_this_process(tmp_path, cache):
    outcomes = []
    worker = _worker(outcomes, lanes=2)
    try:
        jobs = [worker.submit(_job(cache, comfy_png(tmp_path / f"{i}.png", 300, 200))) for i in range(6)]
        results = [job.future.result(timeout=60) for job in jobs]
    finally:
        worker.stop()
    assert all(r.ok for r in results)
    assert {r.result["pid"] for r in results} - {os.getpid()} == {r.result["pid"] for r in results}
    assert all(Image.open(job.dst).size == (128, 85) for job in jobs)


def test_ten_requests_for_one_file_make_one_thumbnail(tmp_path, cache):
    outcomes = []
    src = comfy_png(tmp_path / "a.png", 300, 200)
    gate = threading.Event()

    def slow(image):
        gate.wait(10)
        return image

    worker = _worker(outcomes, lanes=2, use_processes=False)
    try:
        first = worker.submit(_job(cache, src, transform=slow))
        others = [worker.submit(_job(cache, src)) for _ in range(9)]
        gate.set()
        first.future.result(timeout=30)
    finally:
        worker.stop()
    assert all(job is first for job in others)
    assert len(outcomes) == 1


def test_never_more_generations_at_once_than_lanes(tmp_path, cache):
    outcomes = []
    active = []
    peak = [0]
    lock = threading.Lock()

    def tracked(image):
        with lock:
            active.append(1)
            peak[0] = max(peak[0], len(active))
        time.sleep(0.05)
        with lock:
            active.pop()
        return image

    worker = _worker(outcomes, lanes=2, use_processes=False)
    try:
        jobs = [worker.submit(_job(cache, comfy_png(tmp_path / f"{i}.png"), transform=tracked)) for i in range(12)]
        for job in jobs:
            job.future.result(timeout=30)
    finally:
        worker.stop()
    assert peak[0] == 2 and len(outcomes) == 12


def test_demand_beats_visible_which_beats_background_and_the_newest_visible_call_goes_first(tmp_path, cache):
    order = []
    release = threading.Event()

    def blocker(image):
        release.wait(10)
        return image

    def recorder(name):
        def transform(image):
            order.append(name)
            return image
        return transform

    worker = _worker([], lanes=1, use_processes=False)
    try:
        blocking = worker.submit(_job(cache, comfy_png(tmp_path / "block.png"), transform=blocker))
        time.sleep(0.2)  # the only lane is now busy
        jobs = [
            worker.submit(_job(cache, comfy_png(tmp_path / "bg.png"), Priority.BACKGROUND, recorder("background"))),
            worker.submit(_job(cache, comfy_png(tmp_path / "old.png"), Priority.VISIBLE, recorder("visible-old"), rank=(-1, 0))),
            worker.submit(_job(cache, comfy_png(tmp_path / "new.png"), Priority.VISIBLE, recorder("visible-new"), rank=(-2, 0))),
            worker.submit(_job(cache, comfy_png(tmp_path / "demand.png"), Priority.DEMAND, recorder("demand"))),
        ]
        release.set()
        for job in [blocking, *jobs]:
            job.future.result(timeout=30)
    finally:
        worker.stop()
    assert order == ["demand", "visible-new", "visible-old", "background"]


def test_a_waiting_request_raises_a_queued_background_job_to_the_front(tmp_path, cache):
    order = []
    release = threading.Event()
    worker = _worker([], lanes=1, use_processes=False)

    def recorder(name):
        def transform(image):
            order.append(name)
            return image
        return transform

    try:
        blocking = worker.submit(_job(cache, comfy_png(tmp_path / "block.png"), transform=lambda im: (release.wait(10), im)[1]))
        time.sleep(0.2)
        a = worker.submit(_job(cache, comfy_png(tmp_path / "a.png"), Priority.BACKGROUND, recorder("a"), rank=(1,)))
        b = worker.submit(_job(cache, comfy_png(tmp_path / "b.png"), Priority.BACKGROUND, recorder("b"), rank=(2,)))
        again = worker.submit(_job(cache, tmp_path / "b.png", Priority.DEMAND))
        assert again is b and b.priority == Priority.DEMAND
        release.set()
        for job in (blocking, a, b):
            job.future.result(timeout=30)
    finally:
        worker.stop()
    assert order == ["b", "a"]


def test_background_work_is_one_at_a_time_and_rate_limited_while_comfyui_runs(tmp_path, cache):
    starts = []
    lock = threading.Lock()
    active = [0]
    peak = [0]

    def tracked(image):
        with lock:
            starts.append(time.monotonic())
            active[0] += 1
            peak[0] = max(peak[0], active[0])
        time.sleep(0.02)
        with lock:
            active[0] -= 1
        return image

    monitor = LoadMonitor()
    monitor.on_host_event("execution_start", {"prompt_id": "x"})
    worker = _worker([], lanes=2, use_processes=False, monitor=monitor, busy_rate=10.0)
    try:
        jobs = [worker.submit(_job(cache, comfy_png(tmp_path / f"{i}.png"), Priority.BACKGROUND, tracked)) for i in range(6)]
        for job in jobs:
            job.future.result(timeout=30)
        busy_span = starts[-1] - starts[0]
        monitor.on_host_event("execution_success", {"prompt_id": "x"})
        time.sleep(1.1)
        starts.clear()
        peak_busy, peak[0] = peak[0], 0
        jobs = [worker.submit(_job(cache, comfy_png(tmp_path / f"idle{i}.png"), Priority.BACKGROUND,
                                   lambda im: (tracked(im), time.sleep(0.1))[0])) for i in range(6)]
        for job in jobs:
            job.future.result(timeout=30)
    finally:
        worker.stop()
    assert peak_busy == 1
    assert busy_span >= 5 * 0.1 * 0.9  # 10 per second at most
    assert peak[0] == 2  # idle again: both lanes


def test_background_work_waits_when_disabled_but_requests_still_run(tmp_path, cache):
    worker = _worker([], lanes=1, use_processes=False, background_enabled=False)
    try:
        background = worker.submit(_job(cache, comfy_png(tmp_path / "bg.png"), Priority.BACKGROUND))
        demand = worker.submit(_job(cache, comfy_png(tmp_path / "fg.png"), Priority.DEMAND))
        assert demand.future.result(timeout=30).ok
        time.sleep(0.3)
        assert not background.future.done()
    finally:
        worker.stop()


@pytest.mark.skipif(not hasattr(signal, "SIGSTOP"), reason="freezes a helper with SIGSTOP to make it hang")
def test_a_hung_helper_is_killed_and_a_crashed_one_replaced(tmp_path, cache):
    outcomes = []
    worker = ThumbnailWorker(JobSettings(size=128, timeout_s=0.5, hang_grace_s=0.5),
                             lambda j, o: outcomes.append(o), lanes=1)
    worker.start()
    try:
        first = worker.submit(_job(cache, comfy_png(tmp_path / "first.png"))).future.result(timeout=30)
        os.kill(worker._runners[0].pid, signal.SIGSTOP)  # the helper stops answering
        hung = worker.submit(_job(cache, comfy_png(tmp_path / "hang.png"))).future.result(timeout=30)
        good = worker.submit(_job(cache, comfy_png(tmp_path / "ok.png"))).future.result(timeout=30)
        pid = worker._runners[0].pid
        os.kill(pid, signal.SIGSTOP)
        victim = worker.submit(_job(cache, comfy_png(tmp_path / "victim.png")))
        deadline = time.monotonic() + 10
        while not victim.running:
            assert time.monotonic() < deadline
            time.sleep(0.01)
        os.kill(pid, signal.SIGKILL)  # dies in the middle of a job
        crashed = victim.future.result(timeout=30)
        after = worker.submit(_job(cache, comfy_png(tmp_path / "after.png"))).future.result(timeout=30)
    finally:
        worker.stop()
    assert first.ok and good.ok and after.ok
    assert (hung.ok, hung.code) == (False, "timeout")
    assert (crashed.ok, crashed.code) == (False, "crashed")
    assert good.result["pid"] != first.result["pid"] != after.result["pid"]


def test_fifos_and_devices_are_never_opened(tmp_path, cache):
    if not hasattr(os, "mkfifo"):
        pytest.skip("no named pipes on this platform")
    os.mkfifo(tmp_path / "pipe.png")
    worker = _worker([], lanes=1)
    try:
        key = ThumbKey("pipe.png", 1, 1)
        outcome = worker.submit(ThumbJob(key=key, src=tmp_path / "pipe.png", dst=cache.file_for(key), kind="image")).future.result(timeout=30)
    finally:
        worker.stop()
    assert (outcome.ok, outcome.code) == (False, "unsupported")


def test_the_retry_estimate_grows_with_the_work_ahead(tmp_path, cache):
    release = threading.Event()
    worker = _worker([], lanes=1, use_processes=False)
    try:
        blocking = worker.submit(_job(cache, comfy_png(tmp_path / "block.png"), transform=lambda im: (release.wait(10), im)[1]))
        time.sleep(0.2)
        jobs = [worker.submit(_job(cache, comfy_png(tmp_path / f"q{i}.png", 16, 16), Priority.VISIBLE, rank=(0, i)))
                for i in range(60)]
        assert worker.seconds_until(blocking) < worker.seconds_until(jobs[0]) < worker.seconds_until(jobs[-1])
        assert worker.seconds_until(jobs[-1]) >= 60 * 0.05  # no history yet: 50 ms a thumbnail
        release.set()
        for job in jobs:
            job.future.result(timeout=30)
    finally:
        worker.stop()
