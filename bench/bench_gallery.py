"""Image Viewer front end at scale: how fast the gallery fills and how small its DOM stays.

    python bench/bench_gallery.py [--count 20000] [--jumps 20] [--keep DIR]

Writes COUNT tiny PNGs (distinct mtimes) into a temp output folder (or reuses --keep DIR),
starts the standalone server, waits for the index, then drives Chromium (/usr/bin/chromium)
through the real viewer and prints:

* time from navigation to the first rendered tiles and to "Showing N of N";
* scroll jumps to random positions: time until every visible tile shows its row
  (no skeleton left) and until every visible thumbnail is on screen, p50 / p95;
* held-down ArrowDown through the grid: frames per second the page kept;
* DOM tile elements (max over the run) and the JS heap.

Thumbnails of tiny files are quick to make; the figures measure the viewer (paging, recycling,
priorities), not Pillow.
"""
from __future__ import annotations

import argparse
import io
import json
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def make_files(folder: Path, count: int) -> None:
    from PIL import Image

    folder.mkdir(parents=True, exist_ok=True)
    existing = sum(1 for _ in folder.glob("*.png"))
    if existing >= count:
        return
    base = 1_700_000_000
    payloads = []
    for shade in range(16):
        buffer = io.BytesIO()
        Image.new("RGB", (24, 24), (shade * 15, 80, 200 - shade * 10)).save(buffer, "PNG")
        payloads.append(buffer.getvalue())
    for i in range(existing, count):
        path = folder / f"img_{i:06d}.png"
        path.write_bytes(payloads[i % 16])
        os.utime(path, (base + i, base + i))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get_json(url: str):
    with urllib.request.urlopen(url, timeout=5) as resp:
        return json.loads(resp.read())


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


JS_VISIBLE = """() => {
  const g = document.querySelector('[data-testid=holaf-gallery]');
  const view = g.getBoundingClientRect();
  const onScreen = [...g.querySelectorAll('.holaf-iv-tile:not([hidden])')].filter(e => {
    const r = e.getBoundingClientRect(); return r.bottom > view.top + 2 && r.top < view.bottom - 2; });
  const skeletons = onScreen.filter(e => e.dataset.testid === 'holaf-tile-skeleton').length;
  const noThumb = onScreen.filter(e => { const i = e.querySelector('img'); return !(i && i.complete && i.naturalWidth); }).length;
  return [onScreen.length, skeletons, noThumb, g.querySelectorAll('.holaf-iv-tile').length];
}"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=20_000)
    parser.add_argument("--jumps", type=int, default=20)
    parser.add_argument("--keep", type=Path, help="reuse this folder for the files and the data (faster reruns)")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    work = args.keep or Path(tempfile.mkdtemp(prefix="holaf-bench-gallery-"))
    output = work / "output"
    t0 = time.perf_counter()
    make_files(output / "batch", args.count)
    print(f"files: {args.count} in {time.perf_counter() - t0:.1f} s")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = subprocess.Popen([sys.executable, str(ROOT), "--output-dir", str(output), "--data-dir", str(work / "data"),
                               "--port", str(port), "--log-level", "WARNING"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        t0 = time.perf_counter()
        while True:
            try:
                status = get_json(f"{base}/holaf/images/scan-status")
                if status.get("state") == "idle" and status.get("done", 0) >= args.count:
                    break
            except OSError:
                pass
            if time.perf_counter() - t0 > 900:
                raise RuntimeError("the index did not finish")
            time.sleep(0.5)
        print(f"index ready after {time.perf_counter() - t0:.1f} s")
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            t0 = time.perf_counter()
            page.goto(base + "/")
            page.locator('[data-testid="holaf-tile"]').first.wait_for(timeout=60000)
            first_tiles = time.perf_counter() - t0
            page.locator(f'[data-testid="holaf-count"][data-shown="{args.count}"]').wait_for(timeout=60000)
            counted = time.perf_counter() - t0
            print(f"first tiles: {first_tiles * 1000:.0f} ms, count shown: {counted * 1000:.0f} ms")
            gallery = page.locator('[data-testid="holaf-gallery"]')
            rng = random.Random(1)
            rows_ms, thumbs_ms, dom_max = [], [], 0
            for _ in range(args.jumps):
                fraction = rng.random()
                t0 = time.perf_counter()
                gallery.evaluate("(g, f) => { g.scrollTop = (g.scrollHeight - g.clientHeight) * f; }", fraction)
                rows_done = None
                while time.perf_counter() - t0 < 30:
                    visible, skeletons, missing, dom = page.evaluate(JS_VISIBLE)
                    dom_max = max(dom_max, dom)
                    if rows_done is None and visible and not skeletons:
                        rows_done = time.perf_counter() - t0
                    if rows_done is not None and not missing:
                        break
                    time.sleep(0.01)
                rows_ms.append((rows_done or 30) * 1000)
                thumbs_ms.append((time.perf_counter() - t0) * 1000)
            print(f"jump → rows on screen: p50 {pct(rows_ms, .5):.0f} ms, p95 {pct(rows_ms, .95):.0f} ms")
            print(f"jump → thumbnails on screen: p50 {pct(thumbs_ms, .5):.0f} ms, p95 {pct(thumbs_ms, .95):.0f} ms")
            gallery.evaluate("g => { g.scrollTop = 0; }")
            page.locator('[data-testid="holaf-tile"]').first.click()
            t0 = time.perf_counter()
            page.evaluate("""() => { window.__frames = 0; const tick = () => { window.__frames++; if (!window.__stopFrames) requestAnimationFrame(tick); }; requestAnimationFrame(tick); return true; }""")
            for _ in range(150):
                page.keyboard.press("ArrowDown")
            elapsed = time.perf_counter() - t0
            frames = page.evaluate("() => { window.__stopFrames = true; return window.__frames; }")
            dom_max = max(dom_max, page.evaluate(JS_VISIBLE)[3])
            print(f"150 × ArrowDown in {elapsed:.1f} s: {frames / elapsed:.0f} frames/s kept")
            heap = page.evaluate("() => performance.memory ? performance.memory.usedJSHeapSize : 0")
            print(f"DOM tile elements (max): {dom_max}; JS heap: {heap / 1e6:.1f} MB")
            browser.close()
        return 0
    finally:
        server.terminate()
        try:
            server.wait(15)
        except subprocess.TimeoutExpired:
            server.kill()
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
