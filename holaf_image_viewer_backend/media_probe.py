"""What export needs to know about a video before building its FFmpeg graph.

``ffprobe`` (JSON) when it is on PATH or beside ffmpeg; otherwise the banner of
``ffmpeg -i``, which carries the same facts in text (the ``imageio-ffmpeg``
bundle ships ffmpeg without ffprobe). Blocking; call off the event loop.
"""
from __future__ import annotations

import json
import logging
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

from .thumbnails import find_ffmpeg

log = logging.getLogger("holaf.export")

PROBE_TIMEOUT_S = 30
NO_WINDOW = 0x08000000 if sys.platform == "win32" else 0


@dataclass
class VideoInfo:
    width: int
    height: int
    fps: Fraction
    duration: float | None
    video_codec: str
    has_audio: bool
    audio_codec: str | None = None
    frames: int | None = None

    @property
    def fps_float(self) -> float:
        return float(self.fps)


class ProbeError(RuntimeError):
    pass


def export_ffmpeg() -> str | None:
    """ffmpeg for exports: the one on PATH first (it is what users configure), then the bundled one."""
    return find_ffmpeg(prefer_bundled=False)


def find_ffprobe(ffmpeg: str | None = None) -> str | None:
    on_path = shutil.which("ffprobe")
    if on_path:
        return on_path
    if ffmpeg:
        sibling = Path(ffmpeg).with_name("ffprobe" + (".exe" if os.name == "nt" else ""))
        if sibling.is_file():
            return str(sibling)
    return None


def _fraction(text: str | None) -> Fraction | None:
    if not text:
        return None
    try:
        value = Fraction(text)
    except (ValueError, ZeroDivisionError):
        return None
    return value if value > 0 else None


def probe_video(path: Path, *, ffmpeg: str | None = None) -> VideoInfo:
    ffmpeg = ffmpeg or export_ffmpeg()
    ffprobe = find_ffprobe(ffmpeg)
    if ffprobe:
        return _with_ffprobe(ffprobe, path)
    if not ffmpeg:
        raise ProbeError("ffmpeg is not installed (install it or the imageio-ffmpeg package)")
    return _with_banner(ffmpeg, path)


def _with_ffprobe(ffprobe: str, path: Path) -> VideoInfo:
    cmd = [ffprobe, "-v", "error", "-print_format", "json", "-show_streams", "-show_format", str(path)]
    try:
        proc = subprocess.run(cmd, capture_output=True, timeout=PROBE_TIMEOUT_S, stdin=subprocess.DEVNULL,
                              creationflags=NO_WINDOW)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise ProbeError(f"ffprobe failed: {exc}") from None
    if proc.returncode != 0:
        raise ProbeError(proc.stderr.decode("utf-8", "replace").strip()[-500:] or "ffprobe could not read the file")
    data = json.loads(proc.stdout or b"{}")
    streams = data.get("streams", [])
    video = next((s for s in streams if s.get("codec_type") == "video"
                  and not (s.get("disposition") or {}).get("attached_pic")), None)
    if video is None:
        raise ProbeError("the file has no video stream")
    audio = next((s for s in streams if s.get("codec_type") == "audio"), None)
    fps = _fraction(video.get("avg_frame_rate")) or _fraction(video.get("r_frame_rate")) or Fraction(30)
    duration = None
    for source in (data.get("format", {}).get("duration"), video.get("duration")):
        try:
            duration = float(source)
            break
        except (TypeError, ValueError):
            continue
    frames = None
    try:
        frames = int(video["nb_frames"])
    except (KeyError, TypeError, ValueError):
        pass
    return VideoInfo(int(video.get("width") or 0), int(video.get("height") or 0), fps, duration,
                     video.get("codec_name") or "?", audio is not None, audio.get("codec_name") if audio else None, frames)


_DURATION = re.compile(r"Duration:\s*(\d+):(\d+):(\d+(?:\.\d+)?)")
_VIDEO = re.compile(r"Stream #\S+.*?: Video: (\w+)[^\n]*?, (\d{2,5})x(\d{2,5})[^\n]*")
_FPS = re.compile(r"([\d.]+(?:k)?) (?:fps|tbr)")
_AUDIO = re.compile(r"Stream #\S+.*?: Audio: (\w+)")


def _with_banner(ffmpeg: str, path: Path) -> VideoInfo:
    try:
        proc = subprocess.run([ffmpeg, "-hide_banner", "-nostdin", "-i", str(path)], capture_output=True,
                              timeout=PROBE_TIMEOUT_S, stdin=subprocess.DEVNULL, creationflags=NO_WINDOW)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise ProbeError(f"ffmpeg failed: {exc}") from None
    text = proc.stderr.decode("utf-8", "replace")
    video = _VIDEO.search(text)
    if not video:
        raise ProbeError("the file has no video stream")
    fps_match = _FPS.search(video.group(0))
    fps = Fraction(30)
    if fps_match:
        raw = fps_match.group(1)
        value = float(raw[:-1]) * 1000 if raw.endswith("k") else float(raw)
        fps = Fraction(value).limit_denominator(1001)
    duration = None
    match = _DURATION.search(text)
    if match:
        h, m, s = match.groups()
        duration = int(h) * 3600 + int(m) * 60 + float(s)
    audio = _AUDIO.search(text)
    return VideoInfo(int(video.group(2)), int(video.group(3)), fps, duration, video.group(1), audio is not None,
                     audio.group(1) if audio else None)
