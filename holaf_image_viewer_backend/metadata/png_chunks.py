"""PNG/APNG chunk walker: dimensions and text chunks without decoding pixels.

Reads chunk headers in order, reads only the chunks that carry text
(``tEXt``, ``zTXt``, ``iTXt``, ComfyUI's private APNG ``comf``, ``eXIf``),
seeks over ``IDAT``/``fdAT`` and stops at ``IEND``.  Text that appears after
the image data is found too.  A bad CRC is reported but the text is kept;
a truncated file keeps whatever was read before the cut.
"""
from __future__ import annotations

import logging
import os
import struct
import zlib

from .limits import MAX_BLOCKS, MAX_CHUNK_BYTES, MAX_TEXT_BYTES, SAFE_DECODE_PIXELS
from .scan_result import ScanResult

log = logging.getLogger("holaf.metadata")

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_HDR = struct.Struct(">I4s")
_TEXT_TYPES = frozenset((b"tEXt", b"zTXt", b"iTXt", b"comf", b"eXIf"))


def decode_text(raw: bytes) -> str:
    """tEXt is Latin-1 by the spec, but many tools put UTF-8 there: try UTF-8 first."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def _inflate(data: bytes, what: str, res: ScanResult) -> bytes | None:
    d = zlib.decompressobj()
    try:
        out = d.decompress(data, MAX_TEXT_BYTES)
    except zlib.error as e:
        res.warnings.append(f"{what}: compressed text is corrupt ({e})")
        return None
    if d.unconsumed_tail:
        res.warnings.append(f"{what}: text larger than {MAX_TEXT_BYTES // 2**20} MB, cut")
    return out


def _parse_text_chunk(ctype: bytes, data: bytes, res: ScanResult) -> tuple[str, str] | None:
    nul = data.find(b"\0")
    if nul <= 0:
        res.warnings.append(f"{ctype.decode('latin-1')} chunk without a keyword ignored")
        return None
    key = data[:nul].decode("latin-1")
    rest = data[nul + 1:]
    if ctype == b"tEXt" or ctype == b"comf":
        return key, decode_text(rest)
    if ctype == b"zTXt":
        if not rest:
            return key, ""
        out = _inflate(rest[1:], f"zTXt '{key}'", res)
        return (key, decode_text(out)) if out is not None else None
    # iTXt: flag, method, language\0, translated keyword\0, text
    if len(rest) < 2:
        return key, ""
    flag = rest[0]
    p1 = rest.find(b"\0", 2)
    p2 = rest.find(b"\0", p1 + 1) if p1 >= 0 else -1
    if p2 < 0:
        res.warnings.append(f"iTXt '{key}' is malformed")
        return None
    body = rest[p2 + 1:]
    if flag:
        body = _inflate(body, f"iTXt '{key}'", res)
        if body is None:
            return None
    return key, body.decode("utf-8", "replace")


HEAD_BLOCK = 65536


class _Reader:
    """Positional reads: one ``pread`` per call where the OS has it, seek+read elsewhere.
    The first block of the file is kept, since IHDR and the text chunks ComfyUI
    writes before the image data almost always fit in it."""

    __slots__ = ("f", "fd", "head", "pread")

    def __init__(self, f, head: bytes | None = None):
        self.f = f
        self.pread = getattr(os, "pread", None)
        try:
            self.fd = f.fileno()
        except (AttributeError, OSError, ValueError):
            self.fd = None
            self.pread = None
        self.head = head if head is not None else self.read_raw(0, HEAD_BLOCK)

    def read_raw(self, pos: int, n: int) -> bytes:
        if self.pread is not None:
            out = self.pread(self.fd, n, pos)
            if len(out) < n:  # pread may return short reads on some systems
                more = self.pread(self.fd, n - len(out), pos + len(out)) if out else b""
                out += more
            return out
        self.f.seek(pos)
        return self.f.read(n)

    def read(self, pos: int, n: int) -> bytes:
        end = pos + n
        if end <= len(self.head):
            return self.head[pos:end]
        return self.read_raw(pos, n)


def scan_png(f, size: int, head: bytes | None = None) -> ScanResult:
    """Walk the chunk stream of an open binary file (its position does not matter).

    ``head``: the file's first bytes when the caller already read them."""
    res = ScanResult(format="PNG")
    rd = _Reader(f, head)
    if rd.head[:8] != PNG_SIGNATURE:
        res.error = "not a PNG file (bad signature)"
        return res
    read = rd.read
    read_raw = rd.read_raw
    head = rd.head
    head_end = len(head) - 8
    pos = 8
    saw_iend = False
    blocks = 0
    unpack = _HDR.unpack
    unpack_from = _HDR.unpack_from
    while blocks < MAX_BLOCKS:
        blocks += 1
        if pos <= head_end:
            length, ctype = unpack_from(head, pos)
        else:
            hdr = read_raw(pos, 8)
            if len(hdr) < 8:
                break
            length, ctype = unpack(hdr)
        body = pos + 8
        if length > 0x7FFFFFFF:
            res.error = f"PNG is corrupt: chunk {ctype!r} claims {length} bytes"
            return res
        end = body + length + 4
        if blocks == 1 and ctype != b"IHDR":
            res.error = "PNG is corrupt: first chunk is not IHDR"
            return res
        if end > size and ctype != b"IEND":
            break  # the chunk runs past the end of the file
        if ctype == b"IDAT" or ctype == b"fdAT":
            pass
        elif ctype == b"IHDR":
            data = read(body, length)
            if length < 13 or len(data) < 13:
                res.error = "PNG is corrupt: IHDR too short"
                return res
            w, h = struct.unpack(">II", data[:8])
            res.width, res.height = w, h
            if w == 0 or h == 0:
                res.warnings.append(f"PNG header gives a zero size ({w}x{h})")
            elif w * h > SAFE_DECODE_PIXELS:
                res.warnings.append(
                    f"image is {w}x{h} ({w * h / 1e6:.0f} MP): above the safe decode limit, "
                    "never decode it at full size")
        elif ctype in _TEXT_TYPES:
            if length > MAX_CHUNK_BYTES:
                res.warnings.append(f"{ctype.decode('latin-1')} chunk of {length} bytes skipped (over the size cap)")
            else:
                data = read(body, length + 4)
                payload = data[:length]
                if zlib.crc32(ctype + payload) != int.from_bytes(data[length:], "big"):
                    res.warnings.append(f"bad CRC in {ctype.decode('latin-1')} chunk (text read anyway)")
                if ctype == b"eXIf":
                    res.add_text("\0exif", payload.decode("latin-1"))  # raw TIFF bytes, decoded later
                else:
                    kv = _parse_text_chunk(ctype, payload, res)
                    if kv:
                        res.add_text(kv[0], kv[1])
        elif ctype == b"acTL":
            data = read(body, 8)
            if length >= 8 and len(data) == 8:
                n = int.from_bytes(data[:4], "big")
                res.frame_count = n
                res.animated = n > 1
        elif ctype == b"IEND":
            saw_iend = True
            break
        pos = end
    if not saw_iend:
        if res.width is None:
            res.error = "PNG is truncated before its header"
        elif blocks >= MAX_BLOCKS:
            res.error = "PNG has too many chunks"
        else:
            res.error = f"PNG is truncated: no IEND chunk ({size} bytes on disk)"
    if res.frame_count is None:
        res.frame_count = 1
    return res
