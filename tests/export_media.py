"""Media for the edit and export tests: clips with sound made by a real ffmpeg, and ffprobe read-backs."""
from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

from media_factory import FFMPEG

FFPROBE = shutil.which("ffprobe")


def clip_with_audio(path: Path, *, seconds: float = 2.0, fps: int = 16, size: str = "160x120", audio: bool = True,
                    codec: str = "libx264") -> Path:
    """A moving test pattern (so frames differ) with a 440 Hz tone."""
    path.parent.mkdir(parents=True, exist_ok=True)
    cmd = [FFMPEG, "-hide_banner", "-loglevel", "error", "-y",
           "-f", "lavfi", "-i", f"testsrc2=s={size}:r={fps}:d={seconds}"]
    if audio:
        cmd += ["-f", "lavfi", "-i", f"sine=frequency=440:sample_rate=44100:duration={seconds}"]
    if codec == "libx264":
        cmd += ["-c:v", "libx264", "-pix_fmt", "yuv420p", "-preset", "ultrafast"]
    else:
        cmd += ["-c:v", codec, "-b:v", "300k"]
    if audio:
        cmd += ["-c:a", "libopus" if path.suffix == ".webm" else "aac", "-shortest"]
    cmd.append(str(path))
    subprocess.run(cmd, check=True, timeout=60, stdin=subprocess.DEVNULL)
    return path


def ffprobe(path: Path, *, count_frames: bool = False) -> dict:
    """Streams and format of a file, as ffprobe reports them (frames decoded and counted on request)."""
    assert FFPROBE, "ffprobe is needed for these checks"
    cmd = [FFPROBE, "-v", "error", "-print_format", "json", "-show_streams", "-show_format"]
    if count_frames:
        cmd.append("-count_frames")
    proc = subprocess.run([*cmd, str(path)], capture_output=True, check=True, timeout=60)
    return json.loads(proc.stdout)


def stream(info: dict, kind: str) -> dict | None:
    return next((s for s in info["streams"] if s["codec_type"] == kind), None)
