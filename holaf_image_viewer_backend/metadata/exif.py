"""Minimal TIFF/EXIF reader for the tags that carry generation metadata.

Only a handful of tags matter here: ComfyUI's ``key:{json}`` strings in
IFD0 (0x0110 Model = prompt, 0x010F Make = workflow, then 0x010E, 0x010D...),
A1111's ``UserComment`` (0x9286, in the Exif sub-IFD or, for some savers, in
IFD0), ``ImageDescription``, the Windows ``XPComment``, the orientation, and
the image size of TIFF files.  Offsets are bounds-checked and IFD loops are
cut, so a broken EXIF block yields fewer tags, never an exception.
"""
from __future__ import annotations

import re
import struct

from .limits import MAX_CHUNK_BYTES

TAG_DOCUMENT_NAME = 0x010D
TAG_IMAGE_DESCRIPTION = 0x010E
TAG_MAKE = 0x010F
TAG_MODEL = 0x0110
TAG_ORIENTATION = 0x0112
TAG_SOFTWARE = 0x0131
TAG_ARTIST = 0x013B
TAG_EXIF_IFD = 0x8769
TAG_USER_COMMENT = 0x9286
TAG_XP_COMMENT = 0x9C9C
TAG_WIDTH = 0x0100
TAG_HEIGHT = 0x0101

_TYPE_SIZES = {1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 6: 1, 7: 1, 8: 2, 9: 4, 10: 8, 11: 4, 12: 8, 13: 4}
_INT_TYPES = {1: "B", 3: "H", 4: "I", 6: "b", 8: "h", 9: "i", 13: "I"}
_KEYED_JSON = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_ .\-]{0,63})\s*:\s*([\[{].*)\Z", re.S)


class FileView:
    """Read-only, sliceable view of a file region, so TIFF offsets can be
    followed without loading a large file."""

    def __init__(self, f, size: int, base: int = 0):
        self._f, self._size, self._base = f, size - base, base

    def __len__(self):
        return self._size

    def __getitem__(self, s):
        start, stop, _ = s.indices(self._size)
        if stop <= start:
            return b""
        self._f.seek(self._base + start)
        return self._f.read(stop - start)


class ExifData:
    """Tags found: ``ifd0`` and ``exif`` map tag ids to bytes (text/undefined) or ints."""

    __slots__ = ("ifd0", "exif", "big_endian")

    def __init__(self):
        self.ifd0: dict = {}
        self.exif: dict = {}
        self.big_endian = False

    def get(self, tag):
        v = self.exif.get(tag)
        return v if v is not None else self.ifd0.get(tag)


def parse_tiff(buf, *, max_value_bytes: int = MAX_CHUNK_BYTES) -> ExifData | None:
    """Parse a TIFF structure held in ``buf`` (starting at the byte-order mark).

    ``buf`` is ``bytes`` or anything with ``len()`` and slicing that returns
    bytes (see :class:`FileView`, used for TIFF files too big to load)."""
    if len(buf) < 8:
        return None
    bo = buf[:2]
    if bo == b"MM":
        end = ">"
    elif bo == b"II":
        end = "<"
    else:
        return None
    out = ExifData()
    out.big_endian = end == ">"
    try:
        ifd0 = struct.unpack(end + "I", buf[4:8])[0]
    except struct.error:
        return None
    _read_ifd(buf, ifd0, end, out.ifd0, max_value_bytes)
    sub = out.ifd0.get(TAG_EXIF_IFD)
    if isinstance(sub, int) and 8 <= sub < len(buf) and sub != ifd0:
        _read_ifd(buf, sub, end, out.exif, max_value_bytes)
    return out


def _read_ifd(buf: bytes, off: int, end: str, into: dict, max_value_bytes: int) -> None:
    n_buf = len(buf)
    if off <= 0 or off + 2 > n_buf:
        return
    count = struct.unpack(end + "H", buf[off:off + 2])[0]
    count = min(count, (n_buf - off - 2) // 12, 1000)
    entry = struct.Struct(end + "HHI4s")
    for i in range(count):
        p = off + 2 + 12 * i
        tag, typ, n, raw = entry.unpack(buf[p:p + 12])
        size = _TYPE_SIZES.get(typ)
        if size is None or n == 0:
            continue
        total = size * n
        if total > max_value_bytes:
            continue
        if total <= 4:
            data = raw[:total]
        else:
            voff = struct.unpack(end + "I", raw)[0]
            if voff + total > n_buf:
                data = buf[voff:n_buf]  # truncated value: keep what is there
                if not data:
                    continue
            else:
                data = buf[voff:voff + total]
        if typ in _INT_TYPES and (n == 1 or typ not in (1, 6)):
            fmt = _INT_TYPES[typ]
            k = struct.calcsize(fmt)
            if len(data) >= k:
                into[tag] = struct.unpack(end + fmt, data[:k])[0]
        elif typ in (2, 7, 1, 6):
            into[tag] = bytes(data)


def decode_ascii(raw) -> str:
    if isinstance(raw, int):
        return str(raw)
    raw = raw.rstrip(b"\0")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def _utf16_order(body: bytes, big_endian_hint: bool) -> str:
    if body[:2] == b"\xfe\xff":
        return "be-bom"
    if body[:2] == b"\xff\xfe":
        return "le-bom"
    sample = body[:2000]
    even_zero = sample[0::2].count(0)
    odd_zero = sample[1::2].count(0)
    if even_zero > odd_zero:
        return "be"
    if odd_zero > even_zero:
        return "le"
    return "be" if big_endian_hint else "le"


def decode_user_comment(raw, big_endian_hint: bool = True) -> str:
    """EXIF UserComment: 8-byte charset header (``UNICODE``, ``ASCII``, ``JIS``,
    or NULs) then the text.  UTF-16 comes in either byte order whatever the
    TIFF header says, so the order is read from a BOM or from where the zero
    bytes sit.  Text without a known header is taken as UTF-8."""
    if isinstance(raw, int):
        return str(raw)
    head = raw[:8]
    body = raw[8:]
    if head == b"UNICODE\0":
        if len(body) % 2:
            body = body[:-1]
        order = _utf16_order(body, big_endian_hint)
        if order.endswith("bom"):
            body = body[2:]
        text = body.decode("utf-16-be" if order.startswith("be") else "utf-16-le", "replace")
        return text.rstrip("\0")
    if head == b"ASCII\0\0\0" or head == b"\0" * 8:
        return decode_ascii(body)
    if head == b"JIS\0\0\0\0\0":
        try:
            return body.rstrip(b"\0").decode("shift_jis")
        except UnicodeDecodeError:
            return decode_ascii(body)
    return decode_ascii(raw)


def decode_xp(raw) -> str:
    if isinstance(raw, int):
        return str(raw)
    if len(raw) % 2:
        raw = raw[:-1]
    return raw.decode("utf-16-le", "replace").rstrip("\0")


def exif_texts(ex: ExifData) -> dict:
    """Carrier texts from parsed EXIF, keyed like PNG text chunks.

    ``key:{json}`` strings in IFD0 become ``{key: json}`` (ComfyUI's layout);
    other carriers keep fixed names: ``UserComment``, ``ImageDescription``,
    ``XPComment``, ``Make``, ``Model``, ``Software``.
    """
    out: dict = {}
    for tag, raw in ex.ifd0.items():
        if isinstance(raw, int) or tag in (TAG_USER_COMMENT, TAG_XP_COMMENT):
            continue
        text = decode_ascii(raw)
        m = _KEYED_JSON.match(text)
        if m:
            out.setdefault(m.group(1), m.group(2))
        elif tag == TAG_IMAGE_DESCRIPTION:
            out.setdefault("ImageDescription", text.lstrip("\0"))
        elif tag == TAG_MAKE:
            out.setdefault("Make", text)
        elif tag == TAG_MODEL:
            out.setdefault("Model", text)
        elif tag == TAG_SOFTWARE:
            out.setdefault("Software", text)
    uc = ex.get(TAG_USER_COMMENT)
    if uc is not None and not isinstance(uc, int):
        text = decode_user_comment(uc, ex.big_endian).strip("\0")
        if text.strip():
            out.setdefault("UserComment", text)
    xp = ex.get(TAG_XP_COMMENT)
    if xp is not None and not isinstance(xp, int):
        text = decode_xp(xp)
        if text.strip():
            out.setdefault("XPComment", text)
    return out
