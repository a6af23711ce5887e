"""Hard-bake overhead: our video export vs the same ffmpeg command typed by hand, on the same clip.

    python bench/bench_export.py [--seconds 20] [--size 1280x720] [--fps 30] [--runs 5] [--preset veryfast]

Generates one clip (test pattern + tone) and bakes it with brightness, contrast,
saturation, hue and 1.5x speed three ways, alternating the order each run:

* ``plain``: ``ffmpeg -i clip -filter_complex <same graph> … out.mp4`` run directly;
* ``export_video``: our function (probe, graph built with ffmpeg-python, ``-progress``
  parsing, metadata handling, partial-file rename);
* ``http job``: ``POST /holaf/images/export`` on a real standalone app until the job is
  done (adds the edit sidecar, metadata read, job bookkeeping).

Prints each run and the medians of wall time and of CPU time (this process plus its
children: ffprobe, ffmpeg), and the overhead of ours over plain (target: at most
5 %). On a shared machine wall time swings with the neighbours' load; CPU time is
the steadier measure of what our layer adds.
"""
from __future__ import annotations

import argparse
import asyncio
import importlib.util
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

EDITS = {"controls": [{"type": "brightness", "value": 1.15}, {"type": "contrast", "value": 1.1},
                      {"type": "saturation", "value": 1.3}, {"type": "hue", "value": 15}], "playbackRate": 1.5}


def load_package():
    if "holaf_utilities" in sys.modules:
        return
    spec = importlib.util.spec_from_file_location("holaf_utilities", ROOT / "__init__.py", submodule_search_locations=[str(ROOT)])
    module = importlib.util.module_from_spec(spec)
    sys.modules["holaf_utilities"] = module
    spec.loader.exec_module(module)


def make_clip(path: Path, seconds: float, size: str, fps: int, ffmpeg: str) -> None:
    subprocess.run([ffmpeg, "-hide_banner", "-loglevel", "error", "-y",
                    "-f", "lavfi", "-i", f"testsrc2=s={size}:r={fps}:d={seconds}",
                    "-f", "lavfi", "-i", f"sine=frequency=440:sample_rate=48000:duration={seconds}",
                    "-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest",
                    str(path)], check=True)


def cpu_seconds() -> float:
    """CPU time of this process and of its finished children (ffprobe, ffmpeg; children count on POSIX)."""
    import psutil

    times = psutil.Process().cpu_times()
    return times.user + times.system + getattr(times, "children_user", 0.0) + getattr(times, "children_system", 0.0)


async def http_job(output_dir: Path, data_dir: Path, rel: str, options: dict) -> tuple[float, float]:
    """(wall, cpu) of one export job, from the POST to the state ``done`` (app start-up excluded)."""
    from aiohttp.test_utils import TestClient, TestServer

    from holaf_utilities import holaf_app
    from holaf_utilities.holaf_context import HostPaths

    data_dir.mkdir(parents=True, exist_ok=True)
    (data_dir / "config.ini").write_text("[ImageViewer]\nthumbnail_background = false\n", encoding="utf-8")
    app = holaf_app.create_standalone_app(HostPaths(output_dir=output_dir, data_dir=data_dir))
    async with TestClient(TestServer(app)) as client:
        resp = await client.post("/holaf/images/save-edits", json={"path": rel, "edits": EDITS})
        assert resp.status == 200, await resp.text()
        cpu_before = cpu_seconds()
        started = time.perf_counter()
        resp = await client.post("/holaf/images/export", json={"paths": [rel], "format": "mp4", "options": options,
                                                                "metadata": "strip"})
        job = (await resp.json())["job"]
        while True:
            status = await (await client.get(f"/holaf/images/export/{job}")).json()
            if status["state"] in ("done", "failed", "cancelled"):
                break
            await asyncio.sleep(0.02)
        elapsed = time.perf_counter() - started
        cpu = cpu_seconds() - cpu_before
        assert status["state"] == "done", status
        return elapsed, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--size", default="1280x720")
    parser.add_argument("--fps", type=int, default=30)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--preset", default="veryfast")
    parser.add_argument("--crf", type=int, default=23)
    args = parser.parse_args()

    load_package()
    from holaf_utilities.holaf_image_viewer_backend import video_bake
    from holaf_utilities.holaf_image_viewer_backend.edit_model import normalize
    from holaf_utilities.holaf_image_viewer_backend.media_probe import export_ffmpeg, probe_video
    from holaf_utilities.holaf_image_viewer_backend.video_export import VideoOptions, export_video

    ffmpeg = export_ffmpeg()
    work = Path(tempfile.mkdtemp(prefix="holaf-bench-export-"))
    output_dir = work / "output"
    output_dir.mkdir()
    clip = output_dir / "clip.mp4"
    make_clip(clip, args.seconds, args.size, args.fps, ffmpeg)
    edits = normalize(EDITS, strict=True).edits
    info = probe_video(clip, ffmpeg=ffmpeg)
    plan = video_bake.plan_video(edits, info, apply_edits=True)
    plain_args = video_bake.mp4_args(ffmpeg, clip, work / "plain.mp4", info, plan, crf=args.crf, preset=args.preset,
                                     strip=True)
    plain_args = [plain_args[0], "-hide_banner", "-nostdin", "-loglevel", "error", *plain_args[1:]]
    print(f"ffmpeg: {ffmpeg}")
    print(f"clip: {args.seconds:g} s {args.size} @ {args.fps} fps + AAC; edits: {json.dumps(EDITS)}")
    print("plain command:", subprocess.list2cmdline(plain_args))

    def timed(fn) -> tuple[float, float]:
        cpu_before, started = cpu_seconds(), time.perf_counter()
        fn()
        return time.perf_counter() - started, cpu_seconds() - cpu_before

    def run_plain() -> tuple[float, float]:
        return timed(lambda: subprocess.run(plain_args, check=True, stdin=subprocess.DEVNULL))

    def run_ours() -> tuple[float, float]:
        def bake() -> None:
            probed = probe_video(clip, ffmpeg=ffmpeg)
            export_video(ffmpeg, clip, work / "ours", "mp4", probed, VideoOptions(crf=args.crf, preset=args.preset),
                         metadata_mode="strip", meta=None, edits=edits, apply_edits=True)
        return timed(bake)

    def run_http() -> tuple[float, float]:
        return asyncio.run(http_job(output_dir, work / "data", "clip.mp4", {"crf": args.crf, "preset": args.preset}))

    runners = {"plain": run_plain, "export_video": run_ours, "http job": run_http}
    walls: dict[str, list[float]] = {name: [] for name in runners}
    cpus: dict[str, list[float]] = {name: [] for name in runners}
    for index in range(args.runs):
        order = list(runners) if index % 2 == 0 else list(reversed(runners))
        line = []
        for name in order:
            elapsed, cpu = runners[name]()
            walls[name].append(elapsed)
            cpus[name].append(cpu)
            line.append(f"{name} {elapsed:6.2f} s wall {cpu:6.2f} s cpu")
        print(f"run {index + 1}: " + " | ".join(line))
    plain_wall, plain_cpu = statistics.median(walls["plain"]), statistics.median(cpus["plain"])
    print(f"\nmedian plain         wall {plain_wall:6.2f} s   cpu {plain_cpu:6.2f} s")
    for name in ("export_video", "http job"):
        wall, cpu = statistics.median(walls[name]), statistics.median(cpus[name])
        print(f"median {name:<12}  wall {wall:6.2f} s ({100 * (wall - plain_wall) / plain_wall:+5.1f} %)"
              f"   cpu {cpu:6.2f} s ({100 * (cpu - plain_cpu) / plain_cpu:+5.1f} %)   target <= +5 %")
    print(f"work folder: {work}")


if __name__ == "__main__":
    main()
