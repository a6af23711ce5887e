"""Real media files for the index tests: PNG/JPEG/WEBP written with Pillow, videos with ffmpeg.

The ComfyUI graphs are small but shaped like ComfyUI's own (API prompt with
linked node inputs, UI workflow with nodes/links), so the metadata library
parses them the way it parses real outputs.
"""
from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import time
from pathlib import Path

from PIL import Image, PngImagePlugin


def comfy_prompt(positive: str, negative: str = "blurry", *, seed: int = 42, steps: int = 20, cfg: float = 7.0,
                 sampler: str = "euler", scheduler: str = "normal", ckpt: str = "sd_xl_base_1.0.safetensors",
                 lora: str | None = None) -> dict:
    """An API-format prompt graph: checkpoint → (LoRA) → two text encoders → KSampler."""
    model_ref, clip_ref = ["4", 0], ["4", 1]
    graph = {
        "4": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": ckpt}},
        "5": {"class_type": "EmptyLatentImage", "inputs": {"width": 64, "height": 64, "batch_size": 1}},
        "6": {"class_type": "CLIPTextEncode", "inputs": {"text": positive, "clip": clip_ref}},
        "7": {"class_type": "CLIPTextEncode", "inputs": {"text": negative, "clip": clip_ref}},
        "3": {"class_type": "KSampler", "inputs": {
            "seed": seed, "steps": steps, "cfg": cfg, "sampler_name": sampler, "scheduler": scheduler,
            "denoise": 1.0, "model": model_ref, "positive": ["6", 0], "negative": ["7", 0], "latent_image": ["5", 0]}},
        "8": {"class_type": "VAEDecode", "inputs": {"samples": ["3", 0], "vae": ["4", 2]}},
        "9": {"class_type": "SaveImage", "inputs": {"filename_prefix": "ComfyUI", "images": ["8", 0]}},
    }
    if lora:
        graph["10"] = {"class_type": "LoraLoader", "inputs": {
            "lora_name": lora, "strength_model": 0.8, "strength_clip": 1.0, "model": ["4", 0], "clip": ["4", 1]}}
        graph["3"]["inputs"]["model"] = ["10", 0]
        graph["6"]["inputs"]["clip"] = ["10", 1]
        graph["7"]["inputs"]["clip"] = ["10", 1]
    return graph


def ui_workflow(positive: str, *, note: str = "") -> dict:
    """A UI-format workflow (what the ComfyUI editor saves)."""
    nodes = [
        {"id": 6, "type": "CLIPTextEncode", "title": "Positive", "widgets_values": [positive]},
        {"id": 3, "type": "KSampler", "widgets_values": [42, "fixed", 20, 7.0, "euler", "normal", 1.0]},
    ]
    if note:
        nodes.append({"id": 20, "type": "Note", "title": "Notes", "widgets_values": [note]})
    return {"last_node_id": 20, "last_link_id": 9, "nodes": nodes, "links": [], "groups": [], "version": 0.4}


def write_png(path: Path, *, size=(32, 24), color=(200, 30, 30), prompt: dict | None = None,
              workflow: dict | None = None, parameters: str | None = None, mtime: float | None = None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    info = PngImagePlugin.PngInfo()
    if parameters is not None:
        info.add_text("parameters", parameters)
    if prompt is not None:
        info.add_text("prompt", json.dumps(prompt))
    if workflow is not None:
        info.add_text("workflow", json.dumps(workflow))
    Image.new("RGB", size, color).save(path, "PNG", pnginfo=info)
    if mtime is not None:
        os.utime(path, (mtime, mtime))
    return path


def png_bytes(**kwargs) -> bytes:
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        target = write_png(Path(tmp) / "x.png", **kwargs)
        return target.read_bytes()


def write_jpeg(path: Path, *, size=(40, 30), user_comment: str | None = None, mtime: float | None = None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    image = Image.new("RGB", size, (20, 120, 220))
    exif = Image.Exif()
    if user_comment is not None:
        exif_ifd = exif.get_ifd(0x8769)
        exif_ifd[0x9286] = b"UNICODE\x00" + user_comment.encode("utf-16-be")
    image.save(path, "JPEG", exif=exif.tobytes(), quality=80)
    if mtime is not None:
        os.utime(path, (mtime, mtime))
    return path


def write_webp_comfy(path: Path, *, prompt: dict, workflow: dict | None = None, size=(30, 30)) -> Path:
    """WEBP the way ComfyUI's SaveAnimatedWEBP stores metadata (EXIF Model/Make)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    exif = Image.Exif()
    exif[0x0110] = "prompt:" + json.dumps(prompt)
    if workflow is not None:
        exif[0x010F] = "workflow:" + json.dumps(workflow)
    Image.new("RGB", size, (10, 200, 10)).save(path, "WEBP", exif=exif.tobytes(), quality=70)
    return path


def ffmpeg() -> str | None:
    found = shutil.which("ffmpeg")
    if found:
        return found
    try:
        import imageio_ffmpeg

        return imageio_ffmpeg.get_ffmpeg_exe()
    except Exception:
        return None


def write_video(path: Path, *, seconds: float = 1.0, size="64x48", prompt: dict | None = None,
                workflow: dict | None = None) -> Path:
    """An H.264 MP4 with ComfyUI SaveVideo-style ``prompt``/``workflow`` container tags."""
    exe = ffmpeg()
    assert exe, "ffmpeg is needed for video tests"
    path.parent.mkdir(parents=True, exist_ok=True)
    cmd = [exe, "-v", "error", "-y", "-f", "lavfi", "-i", f"testsrc=size={size}:rate=10", "-t", str(seconds),
           "-pix_fmt", "yuv420p", "-c:v", "libx264", "-preset", "ultrafast"]
    if prompt is not None:
        cmd += ["-metadata", f"prompt={json.dumps(prompt)}"]
    if workflow is not None:
        cmd += ["-metadata", f"workflow={json.dumps(workflow)}"]
    cmd += ["-movflags", "use_metadata_tags", str(path)]
    subprocess.run(cmd, check=True, timeout=60)
    return path


def write_truncated_png(path: Path) -> Path:
    data = png_bytes(prompt=comfy_prompt("truncated cat"))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data[: len(data) // 2])
    return path


async def wait_for(predicate, *, timeout: float = 10.0, interval: float = 0.05):
    """Poll an async or sync predicate until it returns something truthy (bounded)."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if asyncio.iscoroutine(value):
            value = await value
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s")
        await asyncio.sleep(interval)
