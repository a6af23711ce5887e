#!/usr/bin/env python3
"""Benchmark ``extract_metadata`` on a generated ComfyUI-like output tree.

    python bench/bench_metadata.py [--corpus DIR] [--images N] [--seed S] [--repeat R]

Without ``--corpus`` a corpus is generated with ``shared/corpus/make_corpus.py``
into ``bench/out/corpus-<N>-<S>`` (reused on later runs).  Every image file is
read once to warm the OS cache, then timed on one thread.  Prints files/s
over all images, PNG-only files/s, and the p50/p95 microseconds per PNG,
plus the cost of the PNG chunk walk alone for comparison.
"""
from __future__ import annotations

import argparse
import gc
import importlib.util
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def load_package():
    if "holaf_utilities" not in sys.modules:
        spec = importlib.util.spec_from_file_location("holaf_utilities", ROOT / "__init__.py",
                                                      submodule_search_locations=[str(ROOT)])
        mod = importlib.util.module_from_spec(spec)
        sys.modules["holaf_utilities"] = mod
        spec.loader.exec_module(mod)
    from holaf_utilities.holaf_image_viewer_backend import metadata
    return metadata


def build_corpus(images: int, seed: int) -> Path:
    out = ROOT / "bench" / "out" / f"corpus-{images}-{seed}"
    if (out.parent / (out.name + ".manifest.jsonl")).is_file():
        return out
    gen = ROOT.parent / "shared" / "corpus" / "make_corpus.py"
    if not gen.is_file():
        sys.exit(f"no --corpus given and {gen} is missing")
    out.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run([sys.executable, str(gen), str(out), "--images", str(images), "--videos", "0", "--seed", str(seed),
                    "--png-level", "1", "--force"], check=True)
    return out


def percentile(values, q):
    values = sorted(values)
    if not values:
        return float("nan")
    k = (len(values) - 1) * q
    lo = int(k)
    hi = min(lo + 1, len(values) - 1)
    return values[lo] + (values[hi] - values[lo]) * (k - lo)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--corpus", type=Path, help="existing output tree to read (default: generate one)")
    ap.add_argument("--images", type=int, default=2000, help="images to generate when --corpus is not given")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--repeat", type=int, default=3, help="timed passes; the best pass is reported")
    ap.add_argument("--no-sidecars", action="store_true", help="read_sidecars=False")
    ap.add_argument("--no-orjson", action="store_true", help="decode JSON with the standard library only")
    a = ap.parse_args(argv)
    if a.no_orjson:
        sys.modules["orjson"] = None  # makes "import orjson" fail inside the package

    md = load_package()
    from holaf_utilities.holaf_image_viewer_backend.metadata.png_chunks import scan_png

    corpus = a.corpus or build_corpus(a.images, a.seed)
    files = []
    for dirpath, dirnames, filenames in os.walk(corpus):
        dirnames[:] = [d for d in dirnames if not d.startswith(".")]
        for fn in filenames:
            if md.media_kind(fn) == "image":
                files.append(os.path.join(dirpath, fn))
    files.sort()
    pngs = [f for f in files if f.lower().endswith(".png")]
    if not files:
        sys.exit(f"no images under {corpus}")
    sidecars = not a.no_sidecars

    for f in files:  # warm the OS cache and the code paths
        md.extract_metadata(f, read_sidecars=sidecars)

    gc.disable()
    best_all = best_all_cpu = float("inf")
    for _ in range(a.repeat):
        t0, c0 = time.perf_counter(), time.process_time()
        for f in files:
            md.extract_metadata(f, read_sidecars=sidecars)
        best_all = min(best_all, time.perf_counter() - t0)
        best_all_cpu = min(best_all_cpu, time.process_time() - c0)

    per_png = per_png_cpu = []
    best_png = best_png_cpu = float("inf")
    for _ in range(a.repeat):
        times, cpu_times = [], []
        t0, c0 = time.perf_counter(), time.process_time()
        for f in pngs:
            s, sc = time.perf_counter(), time.process_time()
            md.extract_metadata(f, read_sidecars=sidecars)
            times.append(time.perf_counter() - s)
            cpu_times.append(time.process_time() - sc)
        total, total_cpu = time.perf_counter() - t0, time.process_time() - c0
        if total < best_png:
            best_png, per_png = total, times
        if total_cpu < best_png_cpu:
            best_png_cpu, per_png_cpu = total_cpu, cpu_times

    best_walk = best_walk_cpu = float("inf")
    for _ in range(a.repeat):
        t0, c0 = time.perf_counter(), time.process_time()
        for f in pngs:
            with open(f, "rb") as fh:
                scan_png(fh, os.fstat(fh.fileno()).st_size)
        best_walk = min(best_walk, time.perf_counter() - t0)
        best_walk_cpu = min(best_walk_cpu, time.process_time() - c0)
    gc.enable()

    from holaf_utilities.holaf_image_viewer_backend.metadata import jsonutil
    decoder = "orjson" if jsonutil._orjson is not None else "json (stdlib)"
    print(f"corpus: {corpus}  images: {len(files)}  PNG: {len(pngs)}  sidecars: {sidecars}  JSON: {decoder}")
    print("                               wall clock          CPU time (robust when the machine is busy)")
    print(f"extract_metadata, all images : {len(files) / best_all:8.0f} files/s   {len(files) / best_all_cpu:8.0f} files/s"
          "   (1 thread, warm cache)")
    if pngs:
        us = [t * 1e6 for t in per_png]
        cus = [t * 1e6 for t in per_png_cpu]
        print(f"extract_metadata, PNG only   : {len(pngs) / best_png:8.0f} files/s   {len(pngs) / best_png_cpu:8.0f} files/s")
        print(f"  per PNG, wall              : p50 {statistics.median(us):6.0f} us   p95 {percentile(us, 0.95):6.0f} us")
        print(f"  per PNG, CPU               : p50 {statistics.median(cus):6.0f} us   p95 {percentile(cus, 0.95):6.0f} us")
        print(f"PNG chunk walk only          : {len(pngs) / best_walk:8.0f} files/s   {len(pngs) / best_walk_cpu:8.0f} files/s")


if __name__ == "__main__":
    main()
