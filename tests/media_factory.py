"""Real media files for the action tests: images by Pillow, clips by a real ffmpeg."""
from __future__ import annotations

import io
import json
import struct
import subprocess
import zlib
from pathlib import Path

from PIL import Image, PngImagePlugin

from holaf_utilities.holaf_image_viewer_backend.thumbnails import find_ffmpeg

FFMPEG = find_ffmpeg()

PROMPT = {"3": {"class_type": "KSampler", "inputs": {"seed": 42, "steps": 20, "cfg": 7.0}},
          "6": {"class_type": "CLIPTextEncode", "inputs": {"text": "a lighthouse at dusk, 灯台"}}}
WORKFLOW = {"nodes": [{"id": 6, "type": "CLIPTextEncode", "widgets_values": ["a lighthouse at dusk, 灯台"]}],
            "links": [], "version": 0.4}


def gradient(width: int, height: int, mode: str = "RGB") -> Image.Image:
    """A non-flat picture (so compression and resizing do real work)."""
    image = Image.linear_gradient("L").resize((width, height))
    other = image.transpose(Image.Transpose.ROTATE_90).resize((width, height))
    rgb = Image.merge("RGB", (image, other, Image.new("L", (width, height), 90)))
    if mode == "RGBA":
        alpha = Image.new("L", (width, height), 255)
        alpha.paste(0, (0, 0, width // 2, height))
        rgb.putalpha(alpha)
    return rgb


def comfy_png(path: Path, width: int = 96, height: int = 64, *, prompt=PROMPT, workflow=WORKFLOW) -> Path:
    info = PngImagePlugin.PngInfo()
    if prompt is not None:
        info.add_text("prompt", json.dumps(prompt))
    if workflow is not None:
        info.add_text("workflow", json.dumps(workflow))
    path.parent.mkdir(parents=True, exist_ok=True)
    gradient(width, height).save(path, pnginfo=info, compress_level=1)
    return path


def comfy_webp(path: Path, width: int = 96, height: int = 64) -> Path:
    exif = Image.Exif()
    exif[0x0110] = "prompt:" + json.dumps(PROMPT)
    exif[0x010F] = "workflow:" + json.dumps(WORKFLOW)
    path.parent.mkdir(parents=True, exist_ok=True)
    gradient(width, height).save(path, "WEBP", exif=exif, quality=90)
    return path


def a1111_jpeg(path: Path, text: str = "a cat\nNegative prompt: dog\nSteps: 20, Seed: 1", *, orientation: int | None = None,
               size=(120, 80)) -> Path:
    exif = Image.Exif()
    exif.get_ifd(0x8769)[0x9286] = b"UNICODE\0" + text.encode("utf-16-be")
    if orientation:
        exif[0x0112] = orientation
    path.parent.mkdir(parents=True, exist_ok=True)
    gradient(*size).save(path, "JPEG", exif=exif, quality=90)
    return path


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def bomb_png(path: Path, width: int = 20000, height: int = 20000) -> Path:
    """A tiny file whose header claims a huge image (the pixels would need ~1.6 GB)."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    row = b"\x00" + b"\x00" * (width * 3)
    idat = zlib.compress(row * 4, 9)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr) + png_chunk(b"IDAT", idat) + png_chunk(b"IEND", b""))
    return path


def truncated_copy(source: Path, path: Path, keep: float = 0.5) -> Path:
    data = source.read_bytes()
    path.write_bytes(data[: int(len(data) * keep)])
    return path


def make_video(path: Path, *, seconds: float = 2.0, size: str = "160x120", first_colour: str = "red",
               later_colour: str = "blue", switch_at: float = 0.1, fps: int = 10) -> Path:
    """A clip that is ``first_colour`` for ``switch_at`` seconds, then ``later_colour``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    codec = ["-c:v", "libvpx-vp9", "-b:v", "200k"] if path.suffix == ".webm" else ["-c:v", "libx264", "-pix_fmt", "yuv420p"]
    command = [
        FFMPEG, "-hide_banner", "-loglevel", "error", "-y",
        "-f", "lavfi", "-i", f"color=c={first_colour}:s={size}:d={switch_at}:r={fps}",
        "-f", "lavfi", "-i", f"color=c={later_colour}:s={size}:d={seconds - switch_at}:r={fps}",
        "-filter_complex", "[0:v][1:v]concat=n=2:v=1:a=0[v]", "-map", "[v]", *codec, str(path),
    ]
    subprocess.run(command, check=True, timeout=60, stdin=subprocess.DEVNULL)
    return path


def dominant(image: Image.Image) -> tuple[int, int, int]:
    """Average colour of the middle of an image."""
    rgb = image.convert("RGB")
    w, h = rgb.size
    centre = rgb.crop((w // 4, h // 4, max(w // 4 + 1, 3 * w // 4), max(h // 4 + 1, 3 * h // 4))).resize((1, 1), Image.Resampling.BOX)
    return centre.getpixel((0, 0))


def open_bytes(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image
