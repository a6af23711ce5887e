"""Records the Image Viewer screenshots of the README (docs/screenshots/).

    python scripts/screenshots_image_viewer.py [--out docs/screenshots]

Makes a small corpus of generated pictures with ComfyUI metadata in a temp folder, starts
the standalone server on it, drives Chromium (/usr/bin/chromium) through the gallery, the
zoom view and the selection, and writes palette PNGs (small files). Nothing of the user's is
touched; the temp folder is removed at the end.
"""
from __future__ import annotations

import argparse
import json
import logging
import math
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

from PIL import Image, ImageDraw, ImageFilter, PngImagePlugin

ROOT = Path(__file__).resolve().parents[1]
log = logging.getLogger("holaf.screenshots")
SUBJECTS = [
    "a lighthouse on a cliff at dusk", "a koi pond under paper lanterns", "a cat astronaut floating over earth",
    "a misty pine forest at sunrise", "a red fox in fresh snow", "a glass greenhouse full of orchids",
    "a neon street market in the rain", "a sailing ship in a storm", "a desert canyon at golden hour",
    "an old library with floating books",
]
MODELS = ["juggernautXL_v9.safetensors", "sd_xl_base_1.0.safetensors", "flux1-dev.safetensors"]


def picture(seed: int, size=(512, 512)) -> Image.Image:
    """A soft landscape-like picture: sky gradient, sun, hills (compresses well, reads well)."""
    rng = random.Random(seed)
    w, h = size
    top = [rng.randint(20, 120) for _ in range(3)]
    bottom = [rng.randint(120, 255) for _ in range(3)]
    img = Image.new("RGB", size)
    draw = ImageDraw.Draw(img)
    for y in range(h):
        t = y / h
        draw.line([(0, y), (w, y)], fill=tuple(int(a + (b - a) * t) for a, b in zip(top, bottom)))
    sun = (rng.randint(60, w - 60), rng.randint(40, h // 2))
    r = rng.randint(30, 70)
    draw.ellipse([sun[0] - r, sun[1] - r, sun[0] + r, sun[1] + r], fill=(255, rng.randint(180, 240), rng.randint(80, 160)))
    for layer in range(3):
        base = h * (0.55 + 0.15 * layer)
        amp = rng.randint(20, 60)
        phase = rng.random() * 6
        color = tuple(max(0, c - 40 * (layer + 1)) for c in bottom)
        points = [(x, base - amp * math.sin(x / w * (2 + layer) * math.pi + phase)) for x in range(0, w + 8, 8)]
        draw.polygon([(0, h)] + points + [(w, h)], fill=color)
    return img.filter(ImageFilter.GaussianBlur(1.2))


def api_prompt(text: str, seed: int, model: str) -> dict:
    return {
        "4": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": model}},
        "6": {"class_type": "CLIPTextEncode", "inputs": {"text": text, "clip": ["4", 1]}},
        "7": {"class_type": "CLIPTextEncode", "inputs": {"text": "blurry, lowres", "clip": ["4", 1]}},
        "5": {"class_type": "EmptyLatentImage", "inputs": {"width": 1024, "height": 1024, "batch_size": 1}},
        "3": {"class_type": "KSampler", "inputs": {"seed": seed, "steps": 28, "cfg": 6.5, "sampler_name": "dpmpp_2m",
                                                   "scheduler": "karras", "denoise": 1.0, "model": ["4", 0],
                                                   "positive": ["6", 0], "negative": ["7", 0], "latent_image": ["5", 0]}},
        "8": {"class_type": "VAEDecode", "inputs": {"samples": ["3", 0], "vae": ["4", 2]}},
        "9": {"class_type": "SaveImage", "inputs": {"filename_prefix": "ComfyUI", "images": ["8", 0]}},
    }


def make_corpus(out: Path, count: int = 64) -> None:
    t = time.time() - count * 600
    for i in range(count):
        folder = ["2024-06-01", "2024-06-02", "portraits", ""][i % 4]
        subject = SUBJECTS[i % len(SUBJECTS)]
        model = MODELS[i % len(MODELS)]
        info = PngImagePlugin.PngInfo()
        prompt = api_prompt(f"{subject}, highly detailed, cinematic light", 1000 + i, model)
        info.add_text("prompt", json.dumps(prompt))
        info.add_text("workflow", json.dumps({"nodes": [{"id": int(k), "type": v["class_type"]} for k, v in prompt.items()], "links": []}))
        path = out / folder / f"ComfyUI_{i:05d}_.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        size = (512, 512) if i % 3 else (512, 704)
        picture(i, size).save(path, pnginfo=info)
        os.utime(path, (t + i * 600, t + i * 600))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_json(url: str, predicate, timeout: float = 60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as resp:
                data = json.loads(resp.read())
            if predicate(data):
                return data
        except OSError:
            pass
        time.sleep(0.3)
    raise RuntimeError(f"{url} never became ready")


def shrink(path: Path) -> None:
    """Palette PNG: a fraction of the size, no visible loss for UI shots."""
    Image.open(path).convert("RGB").quantize(colors=192, method=Image.Quantize.MEDIANCUT).save(path, optimize=True)


def main() -> int:
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    work = Path(tempfile.mkdtemp(prefix="holaf-shots-"))
    port = free_port()
    server = None
    try:
        make_corpus(work / "output")
        server = subprocess.Popen([sys.executable, str(ROOT), "--output-dir", str(work / "output"), "--data-dir", str(work / "data"),
                                   "--port", str(port), "--log-level", "WARNING"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        base = f"http://127.0.0.1:{port}"
        wait_json(f"{base}/holaf/images/scan-status", lambda d: d.get("state") == "idle" and d.get("done", 0) >= 64)
        wait_json(f"{base}/holaf/images/thumbnail-stats", lambda d: d.get("pending", 1) == 0, timeout=120)
        args.out.mkdir(parents=True, exist_ok=True)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=["--headless", "--no-sandbox", "--disable-gpu"])
            page = browser.new_page(viewport={"width": 1280, "height": 760})
            page.goto(base + "/")
            page.locator('[data-testid="holaf-tile"]').first.wait_for()
            time.sleep(1.5)
            tiles = page.locator('[data-testid="holaf-tile"]')
            tiles.nth(1).click()
            tiles.nth(4).click(modifiers=["Control"])
            tiles.nth(6).click(modifiers=["Control"])
            tiles.nth(2).click(modifiers=["Control"])
            page.locator('[data-testid="holaf-info-positive"]').wait_for()
            time.sleep(0.8)
            page.screenshot(path=str(args.out / "image_viewer_gallery.png"))
            page.keyboard.press("Escape")
            tiles.nth(5).click()
            page.keyboard.press("Enter")
            page.locator('[data-testid="holaf-zoom"] img[data-testid="holaf-stage-media"]').wait_for()
            time.sleep(0.8)
            page.screenshot(path=str(args.out / "image_viewer_zoom.png"))
            page.keyboard.press("Escape")
            search = page.locator('[data-testid="holaf-search"]')
            search.fill("koi")
            search.press("Enter")
            time.sleep(1.5)
            page.screenshot(path=str(args.out / "image_viewer_search.png"))
            browser.close()
        for name in ("image_viewer_gallery.png", "image_viewer_zoom.png", "image_viewer_search.png"):
            shrink(args.out / name)
            log.info("%s: %d KB", args.out / name, (args.out / name).stat().st_size // 1024)
        return 0
    finally:
        if server is not None:
            server.terminate()
            try:
                server.wait(10)
            except subprocess.TimeoutExpired:
                server.kill()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
