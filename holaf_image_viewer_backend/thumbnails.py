"""Make one thumbnail from one media file: the pure part of the thumbnail pipeline.

No database, no aiohttp, no package-relative imports: the worker runs this module
both in its own threads and inside small helper processes (``thumb_child.py``)
that load it by file path, so a decoder crash or a huge allocation never takes
ComfyUI down with it.

Speed comes from never touching more pixels than needed: JPEG ``draft()`` decodes
at 1/2, 1/4 or 1/8 scale inside libjpeg; PNG is decoded by libspng (``pyspng``,
when installed) straight into a buffer Pillow maps without copying; then an
integer ``reduce()`` (box filter) and one bilinear pass to the exact size. Only
then are orientation, the optional edit ``transform`` and the encoder applied,
on a few hundred pixels. Decompression bombs are refused from the header, before
any pixel is decoded.
"""
from __future__ import annotations

import io
import os
import re
import shutil
import stat
import struct
import subprocess
import tempfile
import zlib
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable

from PIL import Image, ImageDraw, UnidentifiedImageError, features

try:  # optional accelerator: about twice as fast as Pillow on PNG, see bench/
    import pyspng as _pyspng
except Exception:  # pragma: no cover - depends on the platform's wheels
    _pyspng = None
try:  # optional: inflates IDAT ~2.5x faster than the zlib inside libspng
    from zlib_ng import zlib_ng as _zng
except Exception:  # pragma: no cover
    _zng = None

DEFAULT_SIZE = 384
DEFAULT_QUALITY = 80
DEFAULT_MAX_PIXELS = 150_000_000  # ~12k x 12k; more is refused, never decoded
DEFAULT_VIDEO_TIMEOUT_S = 20.0

IMAGE_EXTS = frozenset({".png", ".jpg", ".jpeg", ".jfif", ".webp", ".gif", ".bmp", ".tif", ".tiff", ".avif", ".apng"})
VIDEO_EXTS = frozenset({".mp4", ".webm", ".mov", ".mkv", ".m4v", ".avi"})
AUDIO_EXTS = frozenset({".wav", ".mp3", ".flac", ".ogg", ".m4a", ".aac", ".opus"})

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_ORIENTATION_OPS = {
    2: (Image.Transpose.FLIP_LEFT_RIGHT,),
    3: (Image.Transpose.ROTATE_180,),
    4: (Image.Transpose.FLIP_TOP_BOTTOM,),
    5: (Image.Transpose.TRANSPOSE,),
    6: (Image.Transpose.ROTATE_270,),
    7: (Image.Transpose.TRANSVERSE,),
    8: (Image.Transpose.ROTATE_90,),
}
_DURATION_RE = re.compile(rb"Duration:\s*(\d+):(\d+):(\d+(?:\.\d+)?)")
NO_WINDOW = getattr(subprocess, "CREATE_NO_WINDOW", 0)  # no console flashing on Windows

Transform = Callable[[Image.Image], Image.Image]


class ThumbnailError(Exception):
    """The file cannot be thumbnailed; ``code`` is a stable slug for the UI and the DB."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass
class ThumbnailResult:
    width: int
    height: int
    bytes: int
    format: str  # "webp" | "jpeg"
    source_width: int | None
    source_height: int | None
    decoder: str  # "spng" | "pillow" | "pillow-draft" | "ffmpeg" | "placeholder"

    def to_dict(self) -> dict:
        return asdict(self)


def media_kind(path: str | Path) -> str | None:
    """``"image"``, ``"video"``, ``"audio"`` or None, from the extension."""
    ext = os.path.splitext(str(path))[1].lower()
    if ext in IMAGE_EXTS:
        return "image"
    if ext in VIDEO_EXTS:
        return "video"
    if ext in AUDIO_EXTS:
        return "audio"
    return None


def output_format(preferred: str = "webp") -> str:
    """WebP when this Pillow can write it, JPEG otherwise."""
    if preferred == "webp" and features.check("webp"):
        return "webp"
    return "jpeg"


def find_ffmpeg(*, prefer_bundled: bool = True) -> str | None:
    """The ffmpeg binary for thumbnails.

    The static binary bundled by ``imageio-ffmpeg`` comes first: it starts in
    ~20 ms where a distribution's dynamically linked ffmpeg takes ~110 ms (it
    loads a hundred libraries), and a cover costs two launches at most. PATH is
    the fallback (and the choice when the package is missing).
    """
    bundled = None
    try:
        import imageio_ffmpeg

        bundled = imageio_ffmpeg.get_ffmpeg_exe()
    except Exception:
        bundled = None
    on_path = shutil.which("ffmpeg")
    if prefer_bundled:
        return bundled or on_path
    return on_path or bundled


def fit_size(width: int, height: int, size: int) -> tuple[int, int]:
    """The long side becomes ``size`` (never upscaled), aspect ratio kept, at least 1 px."""
    longest = max(width, height)
    if longest <= size:
        return max(1, width), max(1, height)
    scale = size / longest
    return max(1, round(width * scale)), max(1, round(height * scale))


# --------------------------------------------------------------------------- entry point
def generate_thumbnail(
    src: str | Path,
    dst: str | Path,
    size: int = DEFAULT_SIZE,
    *,
    transform: Transform | None = None,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    fmt: str = "webp",
    quality: int = DEFAULT_QUALITY,
    ffmpeg: str | None = None,
    duration: float | None = None,
    timeout: float = DEFAULT_VIDEO_TIMEOUT_S,
) -> ThumbnailResult:
    """Write a thumbnail of ``src`` to ``dst`` (atomically) and describe it.

    ``transform`` (used by edits) receives the small, upright image and returns
    the image to encode. Raises :class:`ThumbnailError` for files that cannot be
    thumbnailed (a permanent failure until the file changes); ``OSError`` for
    problems writing ``dst``.
    """
    src = Path(src)
    kind = media_kind(src)
    try:
        st = src.stat()
    except FileNotFoundError:
        raise ThumbnailError("missing", "the file does not exist") from None
    except OSError as exc:
        raise ThumbnailError("unreadable", f"cannot read the file: {exc}") from None
    if not stat.S_ISREG(st.st_mode):  # never open a FIFO or a device: it could block forever
        raise ThumbnailError("unsupported", "not a regular file")
    if st.st_size == 0:
        raise ThumbnailError("empty", "the file is empty (0 bytes)")
    if kind == "video":
        image, source_size, decoder = _video_frame(src, size, ffmpeg=ffmpeg, duration=duration, timeout=timeout)
    elif kind == "audio":
        image, source_size, decoder = audio_placeholder(size), None, "placeholder"
    elif kind == "image":
        image, source_size, decoder = _load_image_small(src, size, max_pixels)
    else:
        raise ThumbnailError("unsupported", f"unsupported file type {src.suffix or '(none)'}")
    if transform is not None:
        if image.mode not in ("RGB", "RGBA"):
            image = image.convert("RGB")
        image = transform(image)
        if not isinstance(image, Image.Image):
            raise TypeError("the thumbnail transform must return a PIL image")
    fmt = output_format(fmt)
    data = encode(image, fmt, quality)
    _atomic_write(Path(dst), data)
    return ThumbnailResult(
        width=image.width, height=image.height, bytes=len(data), format=fmt,
        source_width=source_size[0] if source_size else None,
        source_height=source_size[1] if source_size else None,
        decoder=decoder,
    )


# --------------------------------------------------------------------------- still images
def _load_image_small(src: Path, size: int, max_pixels: int) -> tuple[Image.Image, tuple[int, int], str]:
    with open(src, "rb") as handle:
        head = handle.read(33)
        if head.startswith(PNG_SIGNATURE) and len(head) >= 33 and head[12:16] == b"IHDR":
            width, height, depth, colour, _c, _f, interlace = struct.unpack(">IIBBBBB", head[16:29])
            _check_pixels(width, height, max_pixels)
            if _pyspng is not None and depth == 8 and colour in (2, 6):
                handle.seek(0)
                data = handle.read()
                fast = _png_with_spng(data, width, height, colour, size)
                if fast is not None:
                    return fast, (width, height), "spng"
    return _pillow_small(src, size, max_pixels)


def _png_with_spng(data: bytes, width: int, height: int, colour: int, size: int) -> Image.Image | None:
    """libspng decode into RGBA, mapped by Pillow without a copy. None = let Pillow do it."""
    pos = 8
    while pos + 8 <= len(data):  # only the chunk headers before the pixels
        length, kind = struct.unpack_from(">I4s", data, pos)
        if kind == b"IDAT":
            break
        if kind in (b"acTL", b"eXIf"):  # APNG and EXIF orientation: Pillow knows those
            return None
        pos += 12 + length
    try:
        pixels = _pyspng.load(_pre_inflated(data) if _zng is not None else data, "RGBA")
    except Exception:
        return None  # Pillow gives the precise error (truncated, bad CRC…)
    mode = "RGBA" if colour == 6 else "RGBX"
    image = Image.frombuffer(mode, (width, height), pixels, "raw", mode, 0, 1)
    return _shrink(image, size)  # RGBX goes to the WebP encoder as is


def _pre_inflated(data: bytes) -> bytes:
    """The same PNG with its pixel stream inflated by zlib-ng and stored uncompressed.

    libspng then only copies and unfilters (its own inflate is the slow part). The
    result is an equivalent, valid PNG; checksums are recomputed and verified.
    """
    pos, idat, head = 8, [], []
    while pos + 12 <= len(data):
        length, kind = struct.unpack_from(">I4s", data, pos)
        end = pos + 12 + length
        if kind == b"IDAT":
            idat.append(memoryview(data)[pos + 8:end - 4])
        elif kind == b"IEND":
            break
        elif not idat and kind in (b"IHDR", b"PLTE", b"tRNS"):
            head.append(data[pos:end])
        pos = end
    raw = _zng.decompress(b"".join(idat))
    view, parts = memoryview(raw), [b"\x78\x01"]
    for start in range(0, len(raw), 65535):
        block = view[start:start + 65535]
        final = 1 if start + 65535 >= len(raw) else 0
        parts.append(struct.pack("<BHH", final, len(block), 0xFFFF ^ len(block)))
        parts.append(block)
    if not raw:
        parts.append(b"\x01\x00\x00\xff\xff")
    parts.append(struct.pack(">I", _zng.adler32(raw)))
    length = sum(len(p) for p in parts)
    crc = _zng.crc32(b"IDAT")
    for part in parts:  # checksum the pieces: the stream is assembled only once, below
        crc = _zng.crc32(part, crc)
    return b"".join([PNG_SIGNATURE, *head, struct.pack(">I", length), b"IDAT", *parts,
                     struct.pack(">I", crc), b"\x00\x00\x00\x00IEND\xaeB`\x82"])


def _pillow_small(src: Path, size: int, max_pixels: int) -> tuple[Image.Image, tuple[int, int], str]:
    try:
        image = Image.open(src)
    except Image.DecompressionBombError as exc:
        raise ThumbnailError("too_large", f"image too large to decode safely ({exc})") from None
    except (UnidentifiedImageError, SyntaxError, ValueError, struct.error) as exc:
        raise ThumbnailError("unreadable", f"not a readable image: {exc}") from None
    except OSError as exc:
        raise ThumbnailError("unreadable", f"cannot read the image: {exc}") from None
    with image:
        source_size = image.size
        decoder = "pillow"
        try:
            if image.format == "JPEG":
                target = fit_size(*image.size, size)
                image.draft("RGB" if image.mode not in ("L", "CMYK") else image.mode, target)
                decoder = "pillow-draft"
            _check_pixels(image.width, image.height, max_pixels)
            orientation = _orientation(image)
            image.load()
            small = _normalise_mode(image)
            small = _shrink(small, size)
            if small is image:  # closing the source must not close the result
                small = image.copy()
        except ThumbnailError:
            raise
        except Image.DecompressionBombError as exc:
            raise ThumbnailError("too_large", f"image too large to decode safely ({exc})") from None
        except (OSError, SyntaxError, ValueError, EOFError, zlib.error, struct.error, IndexError) as exc:
            raise ThumbnailError("unreadable", f"truncated or corrupt image: {exc}") from None
        except MemoryError:
            raise ThumbnailError("too_large", "not enough memory to decode this image") from None
    for op in _ORIENTATION_OPS.get(orientation, ()):
        small = small.transpose(op)
    return small, source_size, decoder


def _check_pixels(width: int, height: int, max_pixels: int) -> None:
    if width <= 0 or height <= 0:
        raise ThumbnailError("unreadable", f"invalid image size {width}x{height}")
    if width * height > max_pixels:
        raise ThumbnailError(
            "too_large",
            f"image is {width}x{height} ({width * height / 1e6:.0f} MP), above the "
            f"{max_pixels / 1e6:.0f} MP limit; refused without decoding",
        )


def _orientation(image: Image.Image) -> int:
    try:
        value = image.getexif().get(0x0112, 1)
        return int(value) if value else 1
    except Exception:
        return 1


def _normalise_mode(image: Image.Image) -> Image.Image:
    """RGB, or RGBA when the image has any kind of transparency."""
    mode = image.mode
    if mode in ("RGB", "RGBA"):
        return image
    if mode in ("I;16", "I;16L", "I;16B", "I;16N", "I"):
        return image.convert("I").point(lambda v: v * (1 / 256)).convert("L").convert("RGB")
    if mode == "F":
        return image.convert("L").convert("RGB")
    has_alpha = mode in ("LA", "La", "PA", "RGBa") or "transparency" in image.info
    return image.convert("RGBA" if has_alpha else "RGB")


def _shrink(image: Image.Image, size: int) -> Image.Image:
    """Integer box reduce (cheap), then one area-averaging pass to the exact size.

    Both steps average every source pixel, so nothing aliases; the second one
    only covers a ratio below 2.
    """
    target = fit_size(image.width, image.height, size)
    if target == image.size:
        return image
    factor = min(image.width // target[0], image.height // target[1])
    if factor >= 2:
        image = image.reduce(factor)
    if image.size != target:
        image = image.resize(target, Image.Resampling.BOX)
    return image


def encode(image: Image.Image, fmt: str, quality: int) -> bytes:
    buffer = io.BytesIO()
    if fmt == "webp":
        if image.mode not in ("RGB", "RGBA", "RGBX"):
            image = image.convert("RGBA" if "A" in image.mode else "RGB")
        image.save(buffer, "WEBP", quality=quality, method=0)
    else:
        if image.mode in ("RGBA", "LA", "PA"):
            backdrop = Image.new("RGB", image.size, (128, 128, 128))
            backdrop.paste(image, mask=image.getchannel("A"))
            image = backdrop
        elif image.mode != "RGB":
            image = image.convert("RGB")
        image.save(buffer, "JPEG", quality=quality)
    return buffer.getvalue()


def _atomic_write(dst: Path, data: bytes) -> None:
    dst.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=dst.suffix, dir=dst.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, dst)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


# --------------------------------------------------------------------------- audio
def audio_placeholder(size: int) -> Image.Image:
    """A neutral square with a music note, drawn (nothing shipped, nothing decoded)."""
    image = Image.new("RGB", (size, size), (38, 42, 52))
    draw = ImageDraw.Draw(image)
    u = size / 16
    colour = (170, 180, 200)
    draw.ellipse([4 * u, 10 * u, 7.5 * u, 13 * u], fill=colour)
    draw.ellipse([9.5 * u, 9 * u, 13 * u, 12 * u], fill=colour)
    draw.rectangle([6.6 * u, 3.5 * u, 7.5 * u, 11.5 * u], fill=colour)
    draw.rectangle([12.1 * u, 2.5 * u, 13 * u, 10.5 * u], fill=colour)
    draw.polygon([(6.6 * u, 3.5 * u), (13 * u, 2.5 * u), (13 * u, 4.3 * u), (6.6 * u, 5.3 * u)], fill=colour)
    return image


# --------------------------------------------------------------------------- video
def _video_frame(src: Path, size: int, *, ffmpeg: str | None, duration: float | None,
                 timeout: float) -> tuple[Image.Image, tuple[int, int] | None, str]:
    """One frame at ~10 % of the clip, scaled by ffmpeg itself (fast seek, one thread)."""
    exe = ffmpeg or find_ffmpeg()
    if not exe:
        raise ThumbnailError("no_ffmpeg", "ffmpeg is not available (install it or the imageio-ffmpeg package)")
    if duration is None:
        duration = video_duration(src, exe, timeout=timeout)
    seek = max(0.0, (duration or 0.0) * 0.10)
    frame = _ffmpeg_frame(exe, src, size, seek, timeout)
    if frame is None and seek > 0:
        frame = _ffmpeg_frame(exe, src, size, 0.0, timeout)
    if frame is None:
        raise ThumbnailError("video_unreadable", "ffmpeg could not decode a frame from this video")
    return frame, None, "ffmpeg"


def _ffmpeg_frame(exe: str, src: Path, size: int, seek: float, timeout: float) -> Image.Image | None:
    command = [
        exe, "-hide_banner", "-loglevel", "error", "-nostdin", "-threads", "1",
        "-ss", f"{seek:.3f}", "-i", str(src), "-frames:v", "1", "-an", "-sn", "-dn",
        "-vf", f"scale=w='min(iw,{size})':h='min(ih,{size})':force_original_aspect_ratio=decrease:flags=bilinear",
        "-pix_fmt", "rgb24", "-c:v", "ppm", "-f", "image2pipe", "-",
    ]
    try:
        proc = subprocess.run(command, capture_output=True, timeout=timeout, stdin=subprocess.DEVNULL,
                              creationflags=NO_WINDOW)
    except subprocess.TimeoutExpired:
        raise ThumbnailError("timeout", f"ffmpeg took longer than {timeout:.0f} s") from None
    except OSError as exc:
        raise ThumbnailError("no_ffmpeg", f"cannot run ffmpeg: {exc}") from None
    if not proc.stdout:
        return None
    try:
        image = Image.open(io.BytesIO(proc.stdout))
        image.load()
        return image.convert("RGB")
    except Exception:
        return None


def video_duration(src: Path, ffmpeg: str | None = None, *, timeout: float = DEFAULT_VIDEO_TIMEOUT_S) -> float | None:
    """Seconds, from the MP4/MOV ``mvhd`` box when possible, else from ffmpeg's banner."""
    if src.suffix.lower() in (".mp4", ".mov", ".m4v"):
        value = mp4_duration(src)
        if value is not None:
            return value
    exe = ffmpeg or find_ffmpeg()
    if not exe:
        return None
    try:
        proc = subprocess.run([exe, "-hide_banner", "-nostdin", "-i", str(src)], capture_output=True,
                              timeout=timeout, stdin=subprocess.DEVNULL, creationflags=NO_WINDOW)
    except (subprocess.TimeoutExpired, OSError):
        return None
    match = _DURATION_RE.search(proc.stderr)
    if not match:
        return None
    h, m, s = match.groups()
    return int(h) * 3600 + int(m) * 60 + float(s)


def mp4_duration(src: Path) -> float | None:
    """Walk the top-level boxes to ``moov/mvhd`` without reading the media data."""
    try:
        with open(src, "rb") as handle:
            end = os.fstat(handle.fileno()).st_size
            return _find_mvhd(handle, 0, end, depth=0)
    except (OSError, struct.error, ValueError):
        return None


def _find_mvhd(handle, start: int, end: int, depth: int) -> float | None:
    pos = start
    while pos + 8 <= end and depth < 3:
        handle.seek(pos)
        header = handle.read(16)
        if len(header) < 8:
            return None
        box_size, box_type = struct.unpack(">I4s", header[:8])
        offset = 8
        if box_size == 1:
            box_size = struct.unpack(">Q", header[8:16])[0]
            offset = 16
        elif box_size == 0:
            box_size = end - pos
        if box_size < offset:
            return None
        if box_type == b"moov":
            return _find_mvhd(handle, pos + offset, pos + box_size, depth + 1)
        if box_type == b"mvhd":
            handle.seek(pos + offset)
            body = handle.read(32)
            if body[0] == 1:
                timescale, length = struct.unpack(">IQ", body[20:32])
            else:
                timescale, length = struct.unpack(">II", body[12:20])
            return length / timescale if timescale else None
        pos += box_size
    return None

