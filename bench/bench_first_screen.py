"""Time to fill a first screen of 60 tiles from a cold cache, measured like a browser.

    python bench/bench_first_screen.py [--corpus DIR] [--tiles 60] [--runs 5]

Starts the real standalone server (``python . --output-dir CORPUS``) with an empty
data folder for every run, then does what the gallery does: one
``POST /holaf/images/list`` for the 60 newest files (once the index's first scan is
done: the thumbnail cache is what starts cold), ``POST /holaf/images/prioritize-thumbnails``
with them in screen order, and ``GET /holaf/images/thumbnail`` for each tile over at most 6
connections (a browser's HTTP/1.1 limit per host), honouring ``202`` +
``Retry-After``. The figure is the time until the last tile has its image.
Prints every run, then the best and the median.
"""
from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_thumbnails import ensure_corpus, load_package, media  # noqa: E402


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """The standalone server in its own process, on a fresh data folder."""

    def __init__(self, corpus: Path, *, extra_config: str = "") -> None:
        self.corpus = corpus
        self.data = Path(tempfile.mkdtemp(prefix="holaf-bench-data-"))
        if extra_config:
            (self.data / "config.ini").write_text(extra_config)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen | None = None

    async def __aenter__(self) -> "Server":
        self.proc = subprocess.Popen(
            [sys.executable, str(ROOT), "--output-dir", str(self.corpus), "--data-dir", str(self.data),
             "--port", str(self.port), "--log-level", "WARNING"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        async with aiohttp.ClientSession() as session:
            while time.monotonic() < deadline:
                try:
                    async with session.get(self.url + "/holaf/utilities/info") as resp:
                        if resp.status == 200:
                            await self._index_ready(session, deadline)
                            return self
                except aiohttp.ClientError:
                    pass
                await asyncio.sleep(0.1)
        raise RuntimeError("the server did not start")

    async def _index_ready(self, session: aiohttp.ClientSession, deadline: float) -> None:
        """Wait for the index's first scan (a cold *thumbnail* cache is what is measured)."""
        while time.monotonic() < deadline:
            async with session.get(self.url + "/holaf/images/scan-status") as resp:
                if resp.status == 404:
                    break
                status = await resp.json()
                if status.get("state") == "idle" and status.get("finished_at"):
                    break
            await asyncio.sleep(0.2)
        await asyncio.sleep(0.5)

    async def newest(self, count: int) -> list[str] | None:
        """The gallery's first page from the index (None when there is no index)."""
        async with aiohttp.ClientSession() as session:
            async with session.post(self.url + "/holaf/images/list", json={"limit": count}) as resp:
                if resp.status != 200:
                    return None
                return [item["path"] for item in (await resp.json())["images"]]

    async def cached_count(self) -> int:
        root = self.data / "thumbnails"
        return sum(1 for p in root.rglob("*") if p.is_file()) if root.is_dir() else 0

    async def __aexit__(self, *exc) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        shutil.rmtree(self.data, ignore_errors=True)


async def fill_screen(server: Server, paths: list[str]) -> tuple[float, int]:
    connector = aiohttp.TCPConnector(limit_per_host=6)
    retries = 0
    async with aiohttp.ClientSession(connector=connector) as session:
        start = time.perf_counter()
        async with session.post(server.url + "/holaf/images/prioritize-thumbnails", json={"paths": paths}) as resp:
            assert resp.status == 202, await resp.text()

        async def tile(path: str) -> None:
            nonlocal retries
            while True:
                async with session.get(server.url + "/holaf/images/thumbnail", params={"path": path}) as resp:
                    body = await resp.read()
                    if resp.status == 200 and body:
                        return
                    if resp.status == 202:
                        retries += 1
                        await asyncio.sleep(float(resp.headers.get("Retry-After", "1")))
                        continue
                    raise RuntimeError(f"{path}: HTTP {resp.status} {body[:200]!r}")

        await asyncio.gather(*(tile(p) for p in paths))
        return time.perf_counter() - start, retries


async def main_async(args) -> int:
    load_package()
    corpus = ensure_corpus(args.corpus, args.images, args.videos)
    images = media(corpus, "image")
    newest = sorted(images, key=lambda p: p.stat().st_mtime_ns, reverse=True)[: args.tiles]
    paths = [p.relative_to(corpus).as_posix() for p in newest]
    times = []
    for run in range(args.runs):
        # background generation off: nothing may be made ahead of the measured requests
        async with Server(corpus, extra_config="[ImageViewer]\nthumbnail_background = false\n") as server:
            paths = await server.newest(args.tiles) or paths
            cached = await server.cached_count()
            elapsed, retries = await fill_screen(server, paths)
        times.append(elapsed)
        print(f"  run {run + 1}: {elapsed:.3f} s for {len(paths)} tiles ({retries} answers were 202; "
              f"{cached} thumbnails existed before)")
    print(f"first screen of {len(paths)} tiles from a cold cache: best {min(times):.3f} s, "
          f"median {statistics.median(times):.3f} s over {len(times)} runs ({os.cpu_count()} cores)")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path)
    parser.add_argument("--images", type=int, default=1000)
    parser.add_argument("--videos", type=int, default=60)
    parser.add_argument("--tiles", type=int, default=60)
    parser.add_argument("--runs", type=int, default=5)
    return asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    sys.exit(main())
