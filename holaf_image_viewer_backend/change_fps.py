"""Play a clip at another frame rate without re-encoding it (a 16 fps render shown at 24 fps).

The video stream is copied as it is; only its timestamps are rescaled
(``-itsscale:v native/target`` on the input, ``-r`` on the output so the container
header states the new rate). Every frame is kept, so the clip gets shorter or
longer. Audio cannot be re-timed by copying (samples play at their sample rate
whatever the timestamps say), so the user chooses: ``drop`` it, or ``retime`` it,
which re-encodes only the audio through an ``atempo`` chain to stay in sync.

The result is a NEW file beside the original, ``<name>_<fps>fps<ext>`` (``_1``,
``_2``… when taken); it is written under a hidden partial name and linked into
place, which fails rather than overwrite anything. The ``.txt``/``.json``/``.xmp``
sidecars are copied so the new clip keeps its prompt. Known limit of the copy:
the last frame keeps its original duration (1/16 s instead of 1/24 s in the
example), so the clip is that much longer than ``frames / fps``. Blocking.
"""
from __future__ import annotations

import logging
import os
import shutil
from fractions import Fraction
from pathlib import Path

from .ffmpeg_run import CancelToken, run_ffmpeg
from .media_probe import export_ffmpeg, probe_video
from .video_bake import AUDIO_BITRATE, atempo_chain

log = logging.getLogger("holaf.export")

AUDIO_MODES = ("drop", "retime")
FPS_RANGE = (1.0, 240.0)
CONTAINERS = {".mp4": "mp4", ".m4v": "mp4", ".mov": "mov", ".mkv": "matroska", ".webm": "webm"}
SIDECAR_EXTS = (".txt", ".json", ".xmp")


class ChangeFpsError(ValueError):
    pass


def fps_label(fps: float) -> str:
    return f"{fps:g}".replace(".", "_") if fps != int(fps) else str(int(fps))


def _free_name(folder: Path, stem: str, suffix: str) -> Path:
    candidate, n = folder / f"{stem}{suffix}", 1
    while candidate.exists():
        candidate = folder / f"{stem}_{n}{suffix}"
        n += 1
    return candidate


def _publish_without_overwrite(partial: Path, folder: Path, stem: str, suffix: str) -> Path:
    """Give the finished file its name; never replaces a file that appeared meanwhile."""
    for _ in range(1000):
        target = _free_name(folder, stem, suffix)
        try:
            os.link(partial, target)
        except FileExistsError:
            continue
        except OSError:  # filesystems without hard links
            if target.exists():
                continue
            os.rename(partial, target) if os.name == "nt" else os.replace(partial, target)
            return target
        partial.unlink()
        return target
    raise ChangeFpsError("no free file name for the result")


def change_fps(src: Path, fps: float, audio: str, *, cancel: CancelToken | None = None) -> dict:
    if audio not in AUDIO_MODES:
        raise ChangeFpsError(f"'audio' must be one of {', '.join(AUDIO_MODES)}")
    container = CONTAINERS.get(src.suffix.lower())
    if container is None:
        raise ChangeFpsError(f"changing the frame rate without re-encoding needs MP4, MOV, MKV or WEBM, not {src.suffix}")
    exe = export_ffmpeg()
    if not exe:
        raise ChangeFpsError("ffmpeg is not installed (install it or the imageio-ffmpeg package)")
    info = probe_video(src, ffmpeg=exe)
    target = Fraction(fps).limit_denominator(1001)
    if abs(float(info.fps) - fps) < 1e-3:
        raise ChangeFpsError(f"the clip already plays at {float(info.fps):g} fps")
    speed = float(target / info.fps)
    rate_text = f"{target.numerator}/{target.denominator}" if target.denominator != 1 else str(target.numerator)
    stem = f"{src.stem}_{fps_label(fps)}fps"
    partial = src.parent / f".{stem}{src.suffix}.holaf-partial"
    args = [exe, "-itsscale:v", f"{float(info.fps / target):.12f}", "-i", str(src), "-map", "0:v:0", "-c:v", "copy"]
    kept_audio = audio == "retime" and info.has_audio
    if kept_audio:
        chain = ",".join(f"atempo={f}" for f in atempo_chain(speed)) or "anull"
        codec = "libopus" if container == "webm" else "aac"
        args += ["-map", "0:a:0", "-af", chain, "-c:a", codec, "-b:a", AUDIO_BITRATE]
    else:
        args += ["-an"]
    args += ["-map_metadata", "0", "-r", rate_text]
    if container in ("mp4", "mov"):
        args += ["-movflags", "+faststart+use_metadata_tags"]
    args += ["-f", container, "-y", str(partial)]
    try:
        total = info.duration / speed if info.duration else None
        run_ffmpeg(args, total_seconds=total, cancel=cancel, timeout_s=3600)
        result = _publish_without_overwrite(partial, src.parent, stem, src.suffix)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    copied = []
    for ext in SIDECAR_EXTS:
        sidecar = src.with_suffix(ext)
        companion = result.with_suffix(ext)
        if sidecar.is_file() and not companion.exists():
            try:
                shutil.copy2(sidecar, companion)
                copied.append(companion.name)
            except OSError as exc:
                log.warning("Could not copy %s for the new clip: %s", sidecar.name, exc)
    log.info("Wrote %s: %s fps -> %s fps (audio %s)", result.name, f"{float(info.fps):g}", f"{fps:g}",
             "re-timed" if kept_audio else "dropped")
    return {
        "file": result,
        "fps": fps,
        "source_fps": float(info.fps),
        "speed": speed,
        "audio": "retime" if kept_audio else "drop",
        "had_audio": info.has_audio,
        "video_codec": info.video_codec,
        "sidecars": copied,
    }
