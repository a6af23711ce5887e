"""Which files the viewer indexes, and what they really are.

The extension decides whether a file is listed at all (cheap, no I/O); the
first bytes decide the real container, because users rename files and some
tools write JPEG data into ``.png`` names.
"""
from __future__ import annotations

import os

IMAGE_FORMATS = {
    ".png": "PNG", ".apng": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG", ".jpe": "JPEG", ".jfif": "JPEG",
    ".webp": "WEBP", ".gif": "GIF", ".bmp": "BMP", ".tif": "TIFF", ".tiff": "TIFF", ".avif": "AVIF",
}
VIDEO_FORMATS = {
    ".mp4": "MP4", ".webm": "WEBM", ".mov": "MOV", ".mkv": "MKV", ".m4v": "M4V", ".avi": "AVI",
}
AUDIO_FORMATS = {
    ".wav": "WAV", ".mp3": "MP3", ".flac": "FLAC", ".ogg": "OGG", ".opus": "OGG", ".m4a": "M4A",
    ".aac": "AAC",
}
_EXT_FORMAT = {**IMAGE_FORMATS, **VIDEO_FORMATS, **AUDIO_FORMATS}

IMAGE_EXTENSIONS = frozenset(IMAGE_FORMATS)
VIDEO_EXTENSIONS = frozenset(VIDEO_FORMATS)
AUDIO_EXTENSIONS = frozenset(AUDIO_FORMATS)
SUPPORTED_EXTENSIONS = IMAGE_EXTENSIONS | VIDEO_EXTENSIONS | AUDIO_EXTENSIONS

_FORMAT_KIND = {
    **{f: "image" for f in IMAGE_FORMATS.values()},
    **{f: "video" for f in VIDEO_FORMATS.values()},
    **{f: "audio" for f in AUDIO_FORMATS.values()},
}
# Containers that share one byte layout: a brand or DocType difference inside
# one family is not worth an "extension mismatch" warning.
_FAMILY = {"MP4": "isobmff", "M4V": "isobmff", "MOV": "isobmff", "M4A": "isobmff",
           "MKV": "matroska", "WEBM": "matroska", "OGG": "ogg"}

# Bytes needed by sniff_format().
SNIFF_BYTES = 64


def extension_of(path_or_name) -> str:
    """Lower-case extension with its dot ('' when none)."""
    return os.path.splitext(os.fspath(path_or_name))[1].lower()


def media_kind(path_or_name) -> str | None:
    """'image', 'video', 'audio' or None, from the extension only (no I/O)."""
    fmt = _EXT_FORMAT.get(extension_of(path_or_name))
    return _FORMAT_KIND.get(fmt) if fmt else None


def format_for_extension(path_or_name) -> str | None:
    """The format an extension promises ('JPEG' for '.jpg'), or None."""
    return _EXT_FORMAT.get(extension_of(path_or_name))


def kind_of_format(fmt: str | None) -> str | None:
    return _FORMAT_KIND.get(fmt) if fmt else None


def same_family(a: str | None, b: str | None) -> bool:
    if a is None or b is None:
        return False
    return a == b or (_FAMILY.get(a) is not None and _FAMILY.get(a) == _FAMILY.get(b))


_ISO_BRANDS = {
    b"avif": "AVIF", b"avis": "AVIF",
    b"qt  ": "MOV",
    b"M4A ": "M4A", b"M4B ": "M4A", b"M4P ": "M4A", b"F4A ": "M4A",
    b"M4V ": "M4V", b"M4VH": "M4V", b"M4VP": "M4V",
}


def sniff_format(head: bytes) -> str | None:
    """The real container from the first bytes of a file, or None if unknown."""
    if len(head) < 4:
        return None
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "PNG"
    if head.startswith(b"\xff\xd8\xff"):
        return "JPEG"
    if head[:4] == b"RIFF" and len(head) >= 12:
        sub = head[8:12]
        if sub == b"WEBP":
            return "WEBP"
        if sub == b"WAVE":
            return "WAV"
        if sub == b"AVI ":
            return "AVI"
        return None
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "GIF"
    if head[:4] in (b"II*\x00", b"MM\x00*"):
        return "TIFF"
    if head[:2] == b"BM" and len(head) >= 18 and int.from_bytes(head[14:18], "little") in (12, 40, 52, 56, 64, 108, 124):
        return "BMP"
    if len(head) >= 12 and head[4:8] == b"ftyp":
        major = head[8:12]
        if major in _ISO_BRANDS:
            return _ISO_BRANDS[major]
        # compatible brands may still say AVIF (e.g. major 'mif1')
        size = int.from_bytes(head[:4], "big")
        compat = head[16:min(size, len(head))]
        for i in range(0, len(compat) - 3, 4):
            if compat[i:i + 4] in (b"avif", b"avis"):
                return "AVIF"
        if major in (b"heic", b"heix", b"mif1", b"msf1", b"heim", b"heis", b"hevc", b"hevx"):
            return None  # HEIF stills: not supported
        return "MP4"
    if len(head) >= 8 and head[4:8] in (b"moov", b"mdat", b"wide", b"free", b"skip", b"pnot"):
        return "MOV"
    if head[:4] == b"\x1a\x45\xdf\xa3":
        return "WEBM" if b"webm" in head[:SNIFF_BYTES] else "MKV"
    if head[:4] == b"fLaC":
        return "FLAC"
    if head[:4] == b"OggS":
        return "OGG"
    if head[:3] == b"ID3":
        return "MP3"
    b0, b1 = head[0], head[1]
    if b0 == 0xFF and (b1 & 0xF6) == 0xF0:  # ADTS AAC sync (layer bits 00)
        return "AAC"
    if b0 == 0xFF and (b1 & 0xE0) == 0xE0 and len(head) >= 3:  # MPEG audio frame header
        version, layer = (b1 >> 3) & 3, (b1 >> 1) & 3
        bitrate, rate = head[2] >> 4, (head[2] >> 2) & 3
        if version != 1 and layer != 0 and bitrate not in (0, 15) and rate != 3:
            return "MP3"
    return None
