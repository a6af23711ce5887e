"""FFmpeg filter graphs that bake edits into MP4 and GIF, built with ``ffmpeg-python``.

CSS to FFmpeg
-------------
The preview applies CSS filters to the gamma-encoded RGB of each frame. FFmpeg's
``eq`` works on the YUV planes: luma ``Y' = contrast * (Y - 0.5) + 0.5 + brightness``
(Y in 0..1) and chroma ``(U, V) * saturation`` around neutral. Since Y is a weighted
sum of R'G'B' whose weights add up to 1, and U/V are differences of them:

* CSS ``brightness(b)`` (``C * b``) is ``Y * b`` and ``UV * b``;
* CSS ``contrast(c)`` (``(C - 0.5) * c + 0.5``) is the same map on Y and ``UV * c``;
* CSS ``saturate(s)`` keeps the Rec. 709 luma and scales the difference: ``UV * s``;
* CSS ``hue-rotate(θ)`` keeps luma and rotates the chroma plane: FFmpeg ``hue=h=θ``
  (same direction; the spec's matrix is an approximation of that rotation, so
  strongly saturated colours can differ by a few percent).

So any run of whole-image controls is one affine map on luma, ``Y → αY + δ``, a
chroma scale ``k`` and a hue angle, and becomes exactly one ``eq`` with
``contrast=α``, ``brightness=δ - 0.5 + 0.5α`` (solving ``α(Y-0.5)+0.5+β = αY+δ``),
``saturation=k``, followed by ``hue=h=Σθ``. For example brightness 1.2 alone is
``eq=contrast=1.2:brightness=0.1:saturation=1.2`` (the earlier tool used only
``brightness=(b-1)/2``, which left the chroma and the contrast slope unscaled).
Approximations, documented rather than hidden: ``eq`` treats limited-range luma
as if it were full range (mid-grey 126 instead of 128), clamping happens once
instead of after each control, and tonal ranges (shadows/midtones/highlights)
are not applied to videos; the job reports a warning for them.

Speed: ``setpts=PTS/speed`` for the video and a chain of ``atempo`` links (each
within 0.5..2.0) for the audio, so sound stays in sync. ``speed`` is
``playbackRate`` times ``targetFps / native fps`` (a 16 fps clip with target 24
plays 1.5x faster, every frame kept).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import ffmpeg

from .edit_model import Edits
from .media_probe import VideoInfo

MAX_OUTPUT_FPS = 60.0
MP4_PRESETS = ("ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow", "slower", "veryslow")
AUDIO_BITRATE = "160k"


@dataclass
class VideoPlan:
    """What to do to one clip: speed, the output frame rate and the colour filters."""

    speed: float = 1.0
    out_fps: float | None = None  # None: keep the source timing
    eq: dict = field(default_factory=dict)  # contrast / brightness / saturation, only when not neutral
    hue: float = 0.0
    warnings: list[str] = field(default_factory=list)

    @property
    def duration_factor(self) -> float:
        return 1.0 / self.speed


def atempo_chain(speed: float) -> list[float]:
    """Factors whose product is ``speed``, each inside ``atempo``'s classic 0.5..2.0 range."""
    if speed <= 0:
        raise ValueError("speed must be positive")
    factors: list[float] = []
    while speed > 2.0 + 1e-9:
        factors.append(2.0)
        speed /= 2.0
    while speed < 0.5 - 1e-9:
        factors.append(0.5)
        speed /= 0.5
    factors.append(speed)
    return [round(f, 6) for f in factors if abs(f - 1.0) > 1e-9] or []


def colour_filters(edits: Edits | None) -> tuple[dict, float, list[str]]:
    """Whole-image controls → (``eq`` arguments, hue degrees, warnings); see the module docstring."""
    alpha, delta, chroma, hue = 1.0, 0.0, 1.0, 0.0
    warnings: list[str] = []
    skipped = 0
    for control in (edits.controls if edits else []):
        if control.is_neutral:
            continue
        if control.range != "all":
            skipped += 1
            continue
        v = control.value
        if control.type == "brightness":
            alpha, delta, chroma = alpha * v, delta * v, chroma * v
        elif control.type == "contrast":
            alpha, delta, chroma = alpha * v, delta * v + 0.5 - 0.5 * v, chroma * v
        elif control.type == "saturation":
            chroma *= v
        elif control.type == "hue":
            hue += v
    if skipped:
        warnings.append(f"{skipped} tonal-range control(s) (shadows/midtones/highlights) are not applied to videos")
    eq: dict = {}
    if abs(alpha - 1.0) > 1e-6 or abs(delta) > 1e-6:
        brightness = delta - 0.5 + 0.5 * alpha
        if not -1.0 <= brightness <= 1.0:
            warnings.append("brightness/contrast went beyond what ffmpeg's eq filter can do; clamped")
        eq["contrast"] = round(min(1000.0, max(-1000.0, alpha)), 6)
        eq["brightness"] = round(min(1.0, max(-1.0, brightness)), 6)
    if abs(chroma - 1.0) > 1e-6:
        if chroma > 3.0:
            warnings.append("the combined saturation is above ffmpeg's maximum of 3; clamped")
        eq["saturation"] = round(min(3.0, max(0.0, chroma)), 6)
    hue = ((hue + 180.0) % 360.0) - 180.0
    return eq, round(hue, 6) if abs(hue) > 1e-6 else 0.0, warnings


def plan_video(edits: Edits | None, info: VideoInfo, *, apply_edits: bool) -> VideoPlan:
    if not apply_edits or edits is None:
        return VideoPlan()
    eq, hue, warnings = colour_filters(edits)
    native = info.fps_float or 30.0
    speed = edits.playback_rate
    if edits.target_fps:
        speed *= edits.target_fps / native
    out_fps = None
    if abs(speed - 1.0) > 1e-6:
        out_fps = min(native * speed, max(MAX_OUTPUT_FPS, native, edits.target_fps or 0.0))
    elif edits.target_fps:
        out_fps = edits.target_fps
    if edits.interpolate:
        warnings.append("frame interpolation is not applied on export")
    return VideoPlan(speed=speed, out_fps=out_fps, eq=eq, hue=hue, warnings=warnings)


def _fps_text(value: float) -> str:
    fraction = Fraction(value).limit_denominator(1001)
    return f"{fraction.numerator}/{fraction.denominator}" if fraction.denominator != 1 else str(fraction.numerator)


def _video_chain(stream, plan: VideoPlan, *, fps: float | None):
    """setpts → fps → eq → hue. The ``fps`` filter (not ``-r``) sets the new rate: it keeps
    every re-timed frame without the duplicate last frame that output ``-r`` adds."""
    if abs(plan.speed - 1.0) > 1e-6:
        stream = stream.filter("setpts", f"PTS/{plan.speed:.6g}")
    if fps:
        stream = stream.filter("fps", fps=_fps_text(fps))
    if plan.eq:
        stream = stream.filter("eq", **plan.eq)
    if plan.hue:
        stream = stream.filter("hue", h=plan.hue)
    return stream


def _metadata_kwargs(metadata_file: Path | None, strip: bool, container: str) -> dict:
    """Output options for the chosen metadata handling (the ffmetadata file is input #1)."""
    kwargs: dict = {}
    if metadata_file is not None:
        kwargs["map_metadata"] = 1
    elif strip:
        kwargs["map_metadata"] = -1
    if container == "mp4":
        # Custom keys (prompt, workflow) survive in MP4 only with use_metadata_tags (ComfyUI SaveVideo does the same).
        kwargs["movflags"] = "+faststart+use_metadata_tags" if metadata_file is not None else "+faststart"
    return kwargs


def _with_metadata_input(args: list[str], metadata_file: Path | None) -> list[str]:
    """Add ``-f ffmetadata -i FILE`` after the media inputs: it lends its tags and no stream."""
    if metadata_file is None:
        return args
    last_input = max(i for i, arg in enumerate(args) if arg == "-i")
    at = last_input + 2
    return [*args[:at], "-f", "ffmetadata", "-i", str(metadata_file), *args[at:]]


def mp4_args(ffmpeg_exe: str, src: Path, dst: Path, info: VideoInfo, plan: VideoPlan, *, crf: int = 23,
             preset: str = "fast", metadata_file: Path | None = None, strip: bool = False) -> list[str]:
    """One command: libx264 (CRF, preset), yuv420p, +faststart, audio re-timed or copied."""
    source = ffmpeg.input(str(src))
    video = _video_chain(source["v:0"], plan, fps=plan.out_fps)
    if info.width % 2 or info.height % 2:  # yuv420p needs even sizes
        video = video.filter("scale", "trunc(iw/2)*2", "trunc(ih/2)*2")
    streams = [video]
    kwargs: dict = {"vcodec": "libx264", "crf": int(crf), "preset": preset, "pix_fmt": "yuv420p"}
    if info.has_audio:
        audio = source["a:0"]
        factors = atempo_chain(plan.speed)
        for factor in factors:
            audio = audio.filter("atempo", factor)
        streams.append(audio)
        if factors or (info.audio_codec or "") != "aac":
            kwargs.update(acodec="aac", audio_bitrate=AUDIO_BITRATE)
        else:
            kwargs["acodec"] = "copy"
    kwargs.update(_metadata_kwargs(metadata_file, strip, "mp4"))
    out = ffmpeg.output(*streams, str(dst), f="mp4", **kwargs)
    return _with_metadata_input(out.overwrite_output().compile(cmd=ffmpeg_exe), metadata_file)


def gif_chain(source, plan: VideoPlan, *, fps: float, width: int | None, info: VideoInfo):
    stream = _video_chain(source["v:0"], plan, fps=fps)
    if width and width < info.width:
        stream = stream.filter("scale", int(width), -1, flags="lanczos")
    return stream


def gif_palette_args(ffmpeg_exe: str, src: Path, palette: Path, info: VideoInfo, plan: VideoPlan, *,
                     fps: float, width: int | None) -> list[str]:
    """Pass 1: one palette for the whole clip (``stats_mode=diff`` favours what moves)."""
    stream = gif_chain(ffmpeg.input(str(src)), plan, fps=fps, width=width, info=info)
    stream = stream.filter("palettegen", stats_mode="diff")
    return ffmpeg.output(stream, str(palette), vframes=1, update=1).overwrite_output().compile(cmd=ffmpeg_exe)


def gif_encode_args(ffmpeg_exe: str, src: Path, palette: Path, dst: Path, info: VideoInfo, plan: VideoPlan, *,
                    fps: float, width: int | None) -> list[str]:
    """Pass 2: the same chain mapped through the palette; loops forever like every GIF viewer expects."""
    stream = gif_chain(ffmpeg.input(str(src)), plan, fps=fps, width=width, info=info)
    palette_in = ffmpeg.input(str(palette))
    out = ffmpeg.filter([stream, palette_in], "paletteuse", dither="sierra2_4a", diff_mode="rectangle")
    return ffmpeg.output(out, str(dst), f="gif", loop=0, map_metadata=-1).overwrite_output().compile(cmd=ffmpeg_exe)


def output_duration(info: VideoInfo, plan: VideoPlan) -> float | None:
    if info.duration is None:
        return None
    return info.duration / plan.speed


def gif_frame_count(info: VideoInfo, plan: VideoPlan, fps: float) -> int | None:
    """Frames the ``fps`` filter will produce (for tests and the UI's estimate)."""
    duration = output_duration(info, plan)
    return None if duration is None else int(math.floor(duration * fps + 0.5))


def ffmetadata_text(tags: dict[str, str]) -> str:
    """An ``;FFMETADATA1`` file: keys and values with ``= ; # \\`` and newlines escaped."""
    def escape(text: str) -> str:
        out = []
        for ch in text:
            if ch in "=;#\\\n":
                out.append("\\" + ch)
            else:
                out.append(ch)
        return "".join(out)

    lines = [";FFMETADATA1"]
    for key, value in tags.items():
        lines.append(f"{escape(key)}={escape(value)}")
    return "\n".join(lines) + "\n"
