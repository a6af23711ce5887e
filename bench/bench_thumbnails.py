"""Thumbnails per second on the generated corpus, with the real worker (helper processes).

    python bench/bench_thumbnails.py [--corpus DIR] [--images 1000] [--videos 60] [--runs 3] [--lanes N]

Without ``--corpus`` a corpus is generated once with ``../shared/corpus/make_corpus.py``
into ``$TMPDIR/holaf-bench-corpus``. Each run starts from an empty cache and
submits every still image (then every video) to a fresh worker sized to the
cores; it prints thumbnails/s, CPU ms per thumbnail and failures, then the best
and the median over the runs (this machine is shared: timings are noisy).
"""
from __future__ import annotations

import argparse
import importlib.util
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"


def load_package():
    if "holaf_utilities" in sys.modules:
        return
    spec = importlib.util.spec_from_file_location("holaf_utilities", ROOT / "__init__.py", submodule_search_locations=[str(ROOT)])
    module = importlib.util.module_from_spec(spec)
    sys.modules["holaf_utilities"] = module
    spec.loader.exec_module(module)


def ensure_corpus(path: Path | None, images: int, videos: int) -> Path:
    if path is not None:
        return path
    target = Path(tempfile.gettempdir()) / f"holaf-bench-corpus-{images}-{videos}"
    if not target.is_dir():
        script = SHARED / "corpus" / "make_corpus.py"
        if not script.is_file():
            sys.exit(f"no --corpus given and {script} is missing")
        subprocess.run([sys.executable, str(script), str(target), "--images", str(images), "--videos", str(videos),
                        "--seed", "1"], check=True)
    return target


def media(corpus: Path, kind: str) -> list[Path]:
    from holaf_utilities.holaf_image_viewer_backend.thumbnails import media_kind

    found = [Path(d) / f for d, _dirs, files in os.walk(corpus) for f in files if media_kind(f) == kind]
    return sorted(found)


def children_cpu(worker) -> float:
    import psutil

    total = 0.0
    for runner in worker._runners:
        if runner.pid:
            try:
                t = psutil.Process(runner.pid).cpu_times()
                total += t.user + t.system
            except psutil.Error:
                pass
    return total


def run_once(files: list[Path], corpus: Path, lanes: int, size: int) -> dict:
    from holaf_utilities.holaf_image_viewer_backend import thumbnails
    from holaf_utilities.holaf_image_viewer_backend.thumb_cache import ThumbCache, ThumbKey
    from holaf_utilities.holaf_image_viewer_backend.worker import JobSettings, Priority, ThumbJob, ThumbnailWorker

    cache_dir = Path(tempfile.mkdtemp(prefix="holaf-bench-thumbs-"))
    outcomes = []
    settings = JobSettings(size=size, ffmpeg=thumbnails.find_ffmpeg())
    worker = ThumbnailWorker(settings, lambda job, outcome: outcomes.append(outcome), lanes=lanes)
    worker.start()
    try:
        # start the helpers before the clock (a server keeps them warm)
        warm_jobs = [worker.submit(ThumbJob(key=ThumbKey(f"warm{i}", 0, 0), src=files[0], dst=cache_dir / f"w{i}.webp",
                                            kind=thumbnails.media_kind(files[0]))) for i in range(lanes * 2)]
        for job in warm_jobs:
            job.future.result()
        outcomes.clear()
        cache = ThumbCache(cache_dir, size)
        cpu0 = time.process_time() + children_cpu(worker)
        start = time.perf_counter()
        jobs = []
        for path in files:
            st = path.stat()
            key = ThumbKey(path.relative_to(corpus).as_posix(), st.st_mtime_ns, st.st_size)
            jobs.append(worker.submit(ThumbJob(key=key, src=path, dst=cache.file_for(key),
                                               kind=thumbnails.media_kind(path), priority=Priority.DEMAND)))
        for job in jobs:
            job.future.result()
        elapsed = time.perf_counter() - start
        cpu = time.process_time() + children_cpu(worker) - cpu0
    finally:
        worker.stop()
        shutil.rmtree(cache_dir, ignore_errors=True)
    failed = [o for o in outcomes if not o.ok]
    return {
        "n": len(files), "seconds": elapsed, "per_s": len(files) / elapsed, "cpu_ms": 1000 * cpu / len(files),
        "failed": len(failed), "reasons": Counter(o.code for o in failed),
        "decoders": Counter((o.result or {}).get("decoder") for o in outcomes if o.ok),
    }


def report(label: str, runs: list[dict]) -> None:
    rates = [r["per_s"] for r in runs]
    print(f"{label}: best {max(rates):.1f}/s, median {statistics.median(rates):.1f}/s over {len(runs)} runs "
          f"({runs[0]['n']} files; CPU {statistics.median(r['cpu_ms'] for r in runs):.1f} ms each; "
          f"failed {runs[0]['failed']} {dict(runs[0]['reasons'])}; decoders {dict(runs[0]['decoders'])})")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path)
    parser.add_argument("--images", type=int, default=1000)
    parser.add_argument("--videos", type=int, default=60)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--lanes", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--size", type=int, default=384)
    args = parser.parse_args()
    load_package()
    corpus = ensure_corpus(args.corpus, args.images, args.videos)
    print(f"corpus {corpus}; {args.lanes} lanes; {os.cpu_count()} cores; {args.size} px WebP")
    for kind in ("image", "video"):
        files = media(corpus, kind)
        if not files:
            continue
        runs = []
        for index in range(args.runs):
            result = run_once(files, corpus, args.lanes, args.size)
            print(f"  {kind} run {index + 1}: {result['per_s']:.1f}/s ({result['seconds']:.2f} s, CPU {result['cpu_ms']:.1f} ms each)")
            runs.append(result)
        report("still images" if kind == "image" else "video covers", runs)
    return 0


if __name__ == "__main__":
    sys.exit(main())
