"""Does trashing 1,000 files freeze the server or hold the database write lock?

    python bench/bench_trash_latency.py [--files 1000] [--runs 3]

Seeds an output folder with N small PNGs (a quarter with a ``.txt``, a tenth with
``edit/<base>.edt``), starts the real standalone server, then sends one
``POST /holaf/images/delete`` for all of them while three probes run every 20 ms:
``GET /holaf/utilities/info`` (event loop), ``GET /holaf/images/thumbnail-stats``
(a database read) and ``POST /holaf/images/regenerate-failed`` (a database
write, which waits for the write lock). Prints the trash time and each probe's
p50 / p95 / max latency during the batch next to a quiet baseline.
"""
from __future__ import annotations

import argparse
import asyncio
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_first_screen import Server  # noqa: E402

PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
)
PROBES = {
    "info (event loop)": ("GET", "/holaf/utilities/info"),
    "thumbnail-stats (DB read)": ("GET", "/holaf/images/thumbnail-stats"),
    "regenerate-failed (DB write)": ("POST", "/holaf/images/regenerate-failed"),
}


def seed(root: Path, count: int) -> list[str]:
    rels = []
    for i in range(count):
        folder = root / ("2024-05-0%d" % (i % 7 + 1))
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"ComfyUI_{i:05d}_.png").write_bytes(PNG)
        if i % 4 == 0:
            (folder / f"ComfyUI_{i:05d}_.txt").write_text("a prompt")
        if i % 10 == 0:
            (folder / "edit").mkdir(exist_ok=True)
            (folder / "edit" / f"ComfyUI_{i:05d}_.edt").write_text("{}")
        rels.append(f"{folder.name}/ComfyUI_{i:05d}_.png")
    return rels


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))] if values else float("nan")


async def probe(session: aiohttp.ClientSession, url: str, method: str, stop: asyncio.Event, out: list[float]) -> None:
    headers = {"Origin": url.split("/holaf")[0]}
    while not stop.is_set():
        start = time.perf_counter()
        async with session.request(method, url, json={} if method == "POST" else None, headers=headers) as resp:
            await resp.read()
            assert resp.status < 300, resp.status
        out.append((time.perf_counter() - start) * 1000)
        await asyncio.sleep(0.02)


async def measure(server: Server, rels: list[str]) -> tuple[float, dict, dict]:
    async with aiohttp.ClientSession() as session:
        baseline = {name: [] for name in PROBES}
        stop = asyncio.Event()
        tasks = [asyncio.create_task(probe(session, server.url + path, method, stop, baseline[name]))
                 for name, (method, path) in PROBES.items()]
        await asyncio.sleep(1.0)
        stop.set()
        await asyncio.gather(*tasks)
        during = {name: [] for name in PROBES}
        stop = asyncio.Event()
        tasks = [asyncio.create_task(probe(session, server.url + path, method, stop, during[name]))
                 for name, (method, path) in PROBES.items()]
        await asyncio.sleep(0.1)
        start = time.perf_counter()
        async with session.post(server.url + "/holaf/images/delete", json={"paths": rels},
                                headers={"Origin": server.url}) as resp:
            body = await resp.json()
        elapsed = time.perf_counter() - start
        stop.set()
        await asyncio.gather(*tasks)
        assert body["counts"]["ok"] == len(rels), body["counts"]
        return elapsed, baseline, during


async def main_async(args) -> int:
    elapsed_all = []
    worst = {name: [] for name in PROBES}
    for run in range(args.runs):
        root = Path(tempfile.mkdtemp(prefix="holaf-bench-trash-"))
        try:
            rels = seed(root, args.files)
            async with Server(root) as server:
                elapsed, baseline, during = await measure(server, rels)
        finally:
            shutil.rmtree(root, ignore_errors=True)
        elapsed_all.append(elapsed)
        print(f"run {run + 1}: trashed {len(rels)} files (+ sidecars) in {elapsed * 1000:.0f} ms")
        for name in PROBES:
            b, d = baseline[name], during[name]
            worst[name].append(max(d))
            print(f"  {name:30s} quiet p50 {pct(b, .5):5.1f} ms | during the batch p50 {pct(d, .5):5.1f} ms, "
                  f"p95 {pct(d, .95):5.1f} ms, max {max(d):5.1f} ms ({len(d)} probes)")
    print(f"trash of {args.files} files: best {min(elapsed_all) * 1000:.0f} ms, median {statistics.median(elapsed_all) * 1000:.0f} ms")
    for name, values in worst.items():
        print(f"  worst {name} latency during the batch: best run {min(values):.1f} ms, median {statistics.median(values):.1f} ms")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=3)
    return asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    sys.exit(main())
