"""Export one video: hard-bake edits into MP4 (libx264) or GIF (two-pass palette).

Metadata: ``embed`` writes ``prompt``/``workflow`` container tags (ComfyUI's own
SaveVideo layout, kept in MP4 by ``use_metadata_tags``) through an
``;FFMETADATA1`` file, so a megabyte of workflow never meets a command-line
length limit; ``sidecar`` and ``strip`` drop the container tags (sidecar then
writes ``.txt``/``.json``). GIF has no place for them: ``embed`` falls back to
sidecars with a warning. Output goes to a ``.partial`` name renamed at the end;
every file this call made is removed when it fails or is cancelled. Blocking.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from . import video_bake
from .edit_model import Edits
from .ffmpeg_run import CancelToken, run_ffmpeg
from .image_export import FileResult, GenerationMetadata, sidecar_texts
from .media_probe import VideoInfo

VIDEO_FORMATS = {"mp4": ".mp4", "gif": ".gif"}


@dataclass
class VideoOptions:
    crf: int = 23
    preset: str = "fast"
    fps: float = 15.0  # GIF
    width: int | None = None  # GIF; None = source width


def export_video(ffmpeg_exe: str, src: Path, out_stem: Path, fmt: str, info: VideoInfo, options: VideoOptions, *,
                 metadata_mode: str, meta: GenerationMetadata | None, edits: Edits | None, apply_edits: bool,
                 on_progress: Callable[[float], None] = lambda p: None, cancel: CancelToken | None = None) -> FileResult:
    result = FileResult()
    plan = video_bake.plan_video(edits, info, apply_edits=apply_edits)
    result.warnings.extend(plan.warnings)
    final = out_stem.with_name(out_stem.name + VIDEO_FORMATS[fmt])
    partial = final.with_name(f".{final.name}.partial")
    scratch: list[Path] = [partial]
    written: list[Path] = []
    duration = video_bake.output_duration(info, plan)
    has_meta = bool(meta and not meta.empty)
    try:
        if fmt == "mp4":
            metadata_file = None
            if metadata_mode == "embed" and has_meta:
                metadata_file = final.with_name(f".{final.name}.ffmeta")
                scratch.append(metadata_file)
                tags = {k: v for k, v in (("prompt", meta.prompt), ("workflow", meta.workflow),
                                          ("comment", meta.parameters)) if v}
                metadata_file.write_text(video_bake.ffmetadata_text(tags), encoding="utf-8")
            args = video_bake.mp4_args(ffmpeg_exe, src, partial, info, plan, crf=options.crf, preset=options.preset,
                                       metadata_file=metadata_file, strip=metadata_mode != "embed")
            run_ffmpeg(args, total_seconds=duration, on_progress=on_progress, cancel=cancel)
        elif fmt == "gif":
            palette = final.with_name(f".{final.name}.palette.png")
            scratch.append(palette)
            pass1 = video_bake.gif_palette_args(ffmpeg_exe, src, palette, info, plan, fps=options.fps, width=options.width)
            run_ffmpeg(pass1, total_seconds=duration, on_progress=lambda p: on_progress(0.4 * p), cancel=cancel)
            pass2 = video_bake.gif_encode_args(ffmpeg_exe, src, palette, partial, info, plan, fps=options.fps,
                                               width=options.width)
            run_ffmpeg(pass2, total_seconds=duration, on_progress=lambda p: on_progress(0.4 + 0.6 * p), cancel=cancel)
        else:
            raise ValueError(f"unknown video format {fmt!r}")
        os.replace(partial, final)
        written.append(final)
        result.files.append(final)
        sidecars = metadata_mode == "sidecar" or (metadata_mode == "embed" and fmt == "gif")
        if fmt == "gif" and metadata_mode == "embed" and has_meta:
            result.warnings.append("GIF cannot hold generation metadata; saved as .txt/.json sidecars instead")
        if sidecars and has_meta:
            for ext, text in sidecar_texts(meta).items():
                path = out_stem.with_name(out_stem.name + ext)
                written.append(path)
                path.write_text(text, encoding="utf-8")
                result.files.append(path)
        return result
    except BaseException:
        for path in written:
            _unlink(path)
        raise
    finally:
        for path in scratch:
            _unlink(path)


def _unlink(path: Path) -> None:
    try:
        path.unlink()
    except FileNotFoundError:
        pass
