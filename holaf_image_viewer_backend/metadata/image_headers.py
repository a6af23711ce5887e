"""Header walkers for JPEG, WEBP, GIF, BMP, TIFF and AVIF.

Each walker reads only structure (segment / chunk / box headers) and the
small blocks that can carry text (EXIF, XMP, comments); pixel data is skipped
by seeking.  All of them fill a :class:`ScanResult` and never raise on bad
input: problems become ``error`` (unreadable) or ``warnings``.
"""
from __future__ import annotations

import logging
import struct

from . import exif as _exif
from .limits import MAX_BLOCKS, MAX_CHUNK_BYTES, SAFE_DECODE_PIXELS
from .png_chunks import decode_text
from .scan_result import ScanResult

log = logging.getLogger("holaf.metadata")

_XMP_JPEG = b"http://ns.adobe.com/xap/1.0/\0"
_SOF_MARKERS = frozenset((0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF))


def _size_warning(res: ScanResult) -> None:
    w, h = res.width, res.height
    if w and h and w * h > SAFE_DECODE_PIXELS:
        res.warnings.append(f"image is {w}x{h} ({w * h / 1e6:.0f} MP): above the safe decode limit, "
                            "never decode it at full size")


def _apply_exif(res: ScanResult, tiff: bytes, *, orientation: bool = False) -> None:
    ex = _exif.parse_tiff(tiff)
    if ex is None:
        res.warnings.append("EXIF block is not a valid TIFF structure")
        return
    for k, v in _exif.exif_texts(ex).items():
        res.add_text(k, v)
    if orientation:
        o = ex.ifd0.get(_exif.TAG_ORIENTATION)
        if o in (5, 6, 7, 8) and res.width and res.height:
            res.width, res.height = res.height, res.width


# --------------------------------------------------------------------- JPEG
def scan_jpeg(f, size: int) -> ScanResult:
    """Walk JPEG segments up to the first SOS: size from SOFn, EXIF/XMP from
    APP1, comments from COM.  Width/height follow the EXIF orientation (what
    a browser shows)."""
    res = ScanResult(format="JPEG")
    f.seek(0)
    if f.read(2) != b"\xff\xd8":
        res.error = "not a JPEG file (no SOI marker)"
        return res
    pos = 2
    exif_block = None
    sos_at = None
    comments = []
    for _ in range(MAX_BLOCKS):
        b = f.read(1)
        if not b:
            break
        if b != b"\xff":
            res.warnings.append(f"JPEG: junk byte before a marker at offset {pos}")
            pos += 1
            continue
        m = f.read(1)
        while m == b"\xff":  # fill bytes
            m = f.read(1)
            pos += 1
        if not m:
            break
        marker = m[0]
        pos += 2
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:
            continue
        if marker == 0xD9:  # EOI before any scan
            sos_at = pos
            break
        lb = f.read(2)
        if len(lb) < 2:
            break
        seglen = int.from_bytes(lb, "big")
        if seglen < 2:
            res.error = "JPEG is corrupt: bad segment length"
            return res
        body_len = seglen - 2
        if pos + seglen > size:
            pos += seglen
            break
        if marker == 0xDA:
            sos_at = pos
            break
        if marker in _SOF_MARKERS:
            body = f.read(body_len)
            if len(body) >= 5:
                res.height, res.width = struct.unpack(">HH", body[1:5])
        elif marker == 0xE1:
            body = f.read(body_len)
            if body.startswith(b"Exif\0\0") and exif_block is None:
                exif_block = body[6:]
            elif body.startswith(_XMP_JPEG):
                res.add_text("XMP", body[len(_XMP_JPEG):].decode("utf-8", "replace"))
        elif marker == 0xFE:
            comments.append(f.read(body_len))
        else:
            f.seek(body_len, 1)
        pos += seglen
    if sos_at is None:
        res.error = (f"JPEG is truncated before its image data ({size} bytes on disk)"
                     if res.width is None or pos >= size else "JPEG is corrupt: no image data found")
    else:
        # entropy-coded data cannot contain FFD9, so a missing EOI near the end means a cut file
        tail_from = max(sos_at, size - 4096)
        f.seek(tail_from)
        if b"\xff\xd9" not in f.read(size - tail_from):
            res.error = f"JPEG is truncated: no end-of-image marker ({size} bytes on disk)"
    if res.width is None and res.error is None:
        res.error = "JPEG has no frame header (SOF)"
    if exif_block:
        _apply_exif(res, exif_block, orientation=True)
    if comments:
        res.add_text("Comment", "\n".join(decode_text(c.rstrip(b"\0")) for c in comments))
    _size_warning(res)
    res.frame_count = 1
    return res


# --------------------------------------------------------------------- WEBP
def scan_webp(f, size: int) -> ScanResult:
    """Walk RIFF chunks: VP8/VP8L/VP8X for size, ANIM/ANMF for animation,
    EXIF (ComfyUI ``key:{json}`` tags, A1111 UserComment) and XMP."""
    res = ScanResult(format="WEBP")
    f.seek(0)
    head = f.read(12)
    if len(head) < 12 or head[:4] != b"RIFF" or head[8:12] != b"WEBP":
        res.error = "not a WEBP file"
        return res
    riff_end = min(size, 8 + int.from_bytes(head[4:8], "little"))
    if 8 + int.from_bytes(head[4:8], "little") > size:
        res.error = f"WEBP is truncated ({size} of {8 + int.from_bytes(head[4:8], 'little')} bytes)"
    pos = 12
    frames = 0
    total_ms = 0
    exif_block = None
    for _ in range(MAX_BLOCKS):
        if pos + 8 > riff_end:
            break
        f.seek(pos)
        hdr = f.read(8)
        if len(hdr) < 8:
            break
        fourcc, clen = hdr[:4], int.from_bytes(hdr[4:8], "little")
        body_at = pos + 8
        nxt = body_at + clen + (clen & 1)
        if fourcc == b"VP8X" and clen >= 10:
            d = f.read(10)
            res.animated = res.animated or bool(d[0] & 0x02)
            res.width = 1 + int.from_bytes(d[4:7], "little")
            res.height = 1 + int.from_bytes(d[7:10], "little")
        elif fourcc == b"VP8 " and clen >= 10 and res.width is None:
            d = f.read(10)
            if d[3:6] == b"\x9d\x01\x2a":
                res.width = int.from_bytes(d[6:8], "little") & 0x3FFF
                res.height = int.from_bytes(d[8:10], "little") & 0x3FFF
        elif fourcc == b"VP8L" and clen >= 5 and res.width is None:
            d = f.read(5)
            if d[0] == 0x2F:
                bits = int.from_bytes(d[1:5], "little")
                res.width = (bits & 0x3FFF) + 1
                res.height = ((bits >> 14) & 0x3FFF) + 1
        elif fourcc == b"ANIM":
            res.animated = True
        elif fourcc == b"ANMF":
            frames += 1
            if clen >= 16:
                d = f.read(16)
                total_ms += int.from_bytes(d[12:15], "little")
        elif fourcc == b"EXIF" and exif_block is None:
            if clen <= MAX_CHUNK_BYTES and body_at + clen <= size:
                exif_block = f.read(clen)
            else:
                res.warnings.append("WEBP EXIF chunk skipped (truncated or over the size cap)")
        elif fourcc == b"XMP ":
            if clen <= MAX_CHUNK_BYTES and body_at + clen <= size:
                res.add_text("XMP", f.read(clen).decode("utf-8", "replace"))
        if nxt <= pos:
            break
        pos = nxt
    if frames:
        res.frame_count = frames
        res.animated = frames > 1 or res.animated
        if total_ms and frames > 1:
            res.duration = total_ms / 1000.0
            res.fps = round(frames / res.duration, 3)
    else:
        res.frame_count = 1
    if res.width is None and res.error is None:
        res.error = "WEBP has no image header (VP8/VP8L/VP8X)"
    if exif_block:
        if exif_block.startswith(b"Exif\0\0"):
            exif_block = exif_block[6:]
        _apply_exif(res, exif_block)
    _size_warning(res)
    return res


# ---------------------------------------------------------------------- GIF
_GIF_WALK_LIMIT = 32 * 1024 * 1024


def scan_gif(f, size: int) -> ScanResult:
    """Logical screen size, frame count, total delay and comment extensions
    (where A1111 puts its parameters)."""
    res = ScanResult(format="GIF")
    f.seek(0)
    buf = f.read(min(size, _GIF_WALK_LIMIT))
    complete = size <= _GIF_WALK_LIMIT
    if len(buf) < 13 or buf[:6] not in (b"GIF87a", b"GIF89a"):
        res.error = "not a GIF file"
        return res
    res.width, res.height = struct.unpack("<HH", buf[6:10])
    packed = buf[10]
    p = 13 + (3 * (2 << (packed & 7)) if packed & 0x80 else 0)
    n = len(buf)
    frames = 0
    delay_cs = 0
    comments = []
    ended = False

    def skip_sub_blocks(q):
        while q < n:
            ln = buf[q]
            q += 1
            if ln == 0:
                return q
            q += ln
        return -1

    for _ in range(MAX_BLOCKS):
        if p >= n:
            break
        b = buf[p]
        if b == 0x3B:
            ended = True
            break
        if b == 0x21 and p + 1 < n:
            label = buf[p + 1]
            q = p + 2
            if label == 0xFE:
                parts = []
                while q < n and buf[q]:
                    ln = buf[q]
                    parts.append(buf[q + 1:q + 1 + ln])
                    q += 1 + ln
                q += 1
                comments.append(b"".join(parts))
                p = q
                continue
            if label == 0xF9 and q + 5 < n and buf[q] == 4:
                delay_cs += int.from_bytes(buf[q + 2:q + 4], "little")
            p = skip_sub_blocks(q)
            if p < 0:
                break
        elif b == 0x2C and p + 10 <= n:
            frames += 1
            ipacked = buf[p + 9]
            q = p + 10 + (3 * (2 << (ipacked & 7)) if ipacked & 0x80 else 0)
            p = skip_sub_blocks(q + 1)
            if p < 0:
                break
        else:
            res.warnings.append(f"GIF: unexpected byte 0x{b:02x} at offset {p}")
            break
    res.animated = frames > 1
    if complete:
        res.frame_count = frames or None
        if not ended:
            if frames == 0:
                res.error = "GIF is truncated before its first frame"
            else:
                res.error = f"GIF is truncated ({size} bytes on disk)"
        if frames > 1 and delay_cs:
            res.duration = delay_cs / 100.0
            res.fps = round(frames / res.duration, 3)
    if comments:
        res.add_text("Comment", "\n".join(decode_text(c) for c in comments))
    _size_warning(res)
    return res


# ---------------------------------------------------------------------- BMP
def scan_bmp(f, size: int) -> ScanResult:
    res = ScanResult(format="BMP", frame_count=1)
    f.seek(0)
    h = f.read(26)
    if len(h) < 26 or h[:2] != b"BM":
        res.error = "not a BMP file"
        return res
    dib = int.from_bytes(h[14:18], "little")
    if dib == 12:
        res.width, res.height = struct.unpack("<HH", h[18:22])
    else:
        w, hh = struct.unpack("<ii", h[18:26])
        res.width, res.height = abs(w), abs(hh)
    off = int.from_bytes(h[10:14], "little")
    if off > size:
        res.error = f"BMP is truncated ({size} bytes on disk)"
    _size_warning(res)
    return res


# --------------------------------------------------------------------- TIFF
def scan_tiff(f, size: int) -> ScanResult:
    res = ScanResult(format="TIFF", frame_count=1)
    view = _exif.FileView(f, size)
    ex = _exif.parse_tiff(view)
    if ex is None:
        res.error = "not a TIFF file"
        return res
    res.width = ex.ifd0.get(_exif.TAG_WIDTH)
    res.height = ex.ifd0.get(_exif.TAG_HEIGHT)
    if not res.width or not res.height:
        res.error = "TIFF has no image size in its first directory"
    for k, v in _exif.exif_texts(ex).items():
        res.add_text(k, v)
    _size_warning(res)
    return res


# --------------------------------------------------------------------- AVIF
def _boxes(buf: bytes, start: int, end: int):
    p = start
    while p + 8 <= end:
        sz = int.from_bytes(buf[p:p + 4], "big")
        typ = buf[p + 4:p + 8]
        hdr = 8
        if sz == 1:
            if p + 16 > end:
                return
            sz = int.from_bytes(buf[p + 8:p + 16], "big")
            hdr = 16
        elif sz == 0:
            sz = end - p
        if sz < hdr or p + sz > end:
            return
        yield typ, p + hdr, p + sz
        p += sz


def _uint(buf, p, n):
    return int.from_bytes(buf[p:p + n], "big"), p + n


def _parse_meta(buf: bytes, start: int, end: int):
    """Items of a HEIF 'meta' box: {id: type/mime}, locations, primary id, ispe sizes."""
    items, locs, ispe, assoc, primary = {}, {}, [], {}, None
    idat_at = None
    for typ, s, e in _boxes(buf, start + 4, end):  # meta is a full box
        if typ == b"pitm":
            primary = int.from_bytes(buf[s + 4:s + 6], "big") if buf[s] == 0 else int.from_bytes(buf[s + 4:s + 8], "big")
        elif typ == b"iinf":
            ver = buf[s]
            q = s + 4 + (2 if ver == 0 else 4)
            for ityp, is_, ie in _boxes(buf, q, e):
                if ityp != b"infe":
                    continue
                iv = buf[is_]
                if iv < 2:
                    continue
                q2 = is_ + 4
                iid, q2 = _uint(buf, q2, 2 if iv == 2 else 4)
                q2 += 2
                itype = buf[q2:q2 + 4]
                q2 += 4
                name_end = buf.find(b"\0", q2, ie)
                q2 = ie if name_end < 0 else name_end + 1
                mime = None
                if itype == b"mime" and q2 < ie:
                    ct_end = buf.find(b"\0", q2, ie)
                    mime = buf[q2:ct_end if ct_end >= 0 else ie].decode("latin-1", "replace")
                items[iid] = (itype, mime)
        elif typ == b"iloc":
            ver = buf[s]
            q = s + 4
            a, b = buf[q], buf[q + 1]
            off_sz, len_sz, base_sz = a >> 4, a & 15, b >> 4
            idx_sz = (b & 15) if ver in (1, 2) else 0
            q += 2
            count, q = _uint(buf, q, 2 if ver < 2 else 4)
            for _ in range(min(count, 10000)):
                iid, q = _uint(buf, q, 2 if ver < 2 else 4)
                method = 0
                if ver in (1, 2):
                    method = int.from_bytes(buf[q:q + 2], "big") & 15
                    q += 2
                q += 2  # data_reference_index
                base, q = _uint(buf, q, base_sz)
                n_ext, q = _uint(buf, q, 2)
                exts = []
                for _ in range(min(n_ext, 1000)):
                    q += idx_sz
                    eo, q = _uint(buf, q, off_sz)
                    el, q = _uint(buf, q, len_sz)
                    exts.append((base + eo, el))
                locs[iid] = (method, exts)
        elif typ == b"iprp":
            props = []
            for ptyp, ps, pe in _boxes(buf, s, e):
                if ptyp == b"ipco":
                    props = [(t, a, b2) for t, a, b2 in _boxes(buf, ps, pe)]
                elif ptyp == b"ipma":
                    ver, flags = buf[ps], int.from_bytes(buf[ps + 1:ps + 4], "big")
                    q = ps + 4
                    cnt, q = _uint(buf, q, 4)
                    for _ in range(min(cnt, 10000)):
                        iid, q = _uint(buf, q, 2 if ver < 1 else 4)
                        na = buf[q]
                        q += 1
                        idxs = []
                        for _ in range(na):
                            if flags & 1:
                                v, q = _uint(buf, q, 2)
                                idxs.append(v & 0x7FFF)
                            else:
                                idxs.append(buf[q] & 0x7F)
                                q += 1
                        assoc[iid] = idxs
            for i, (t, a, b2) in enumerate(props, start=1):
                if t == b"ispe" and b2 - a >= 12:
                    ispe.append((i, int.from_bytes(buf[a + 4:a + 8], "big"), int.from_bytes(buf[a + 8:a + 12], "big")))
        elif typ == b"idat":
            idat_at = s
    return items, locs, primary, ispe, assoc, idat_at


def scan_avif(f, size: int) -> ScanResult:
    """ISO-BMFF boxes: size from the primary item's ``ispe`` property, XMP
    (``mime`` item ``application/rdf+xml``) and EXIF (``Exif`` item)."""
    res = ScanResult(format="AVIF", frame_count=1)
    f.seek(0)
    head = f.read(min(size, 1 << 20))
    meta = None
    for typ, s, e in _boxes(head, 0, len(head)):
        if typ == b"meta":
            meta = (s, e)
            break
    if meta is None:
        res.error = "AVIF has no readable 'meta' box"
        return res
    try:
        items, locs, primary, ispe, assoc, idat_at = _parse_meta(head, *meta)
    except (IndexError, ValueError):
        res.error = "AVIF 'meta' box is corrupt"
        return res
    sizes = {i: (w, h) for i, w, h in ispe}
    if primary in assoc:
        for idx in assoc[primary]:
            if idx in sizes:
                res.width, res.height = sizes[idx]
                break
    if res.width is None and ispe:
        res.width, res.height = ispe[0][1], ispe[0][2]
    for iid, (itype, mime) in items.items():
        if itype == b"Exif" or (itype == b"mime" and mime and "rdf+xml" in mime):
            method, exts = locs.get(iid, (0, []))
            chunks = []
            total = 0
            for off, ln in exts:
                if method == 1 and idat_at is not None:
                    data = head[idat_at + off:idat_at + off + ln]
                elif method == 0 and off + ln <= size and ln <= MAX_CHUNK_BYTES - total:
                    f.seek(off)
                    data = f.read(ln)
                else:
                    data = b""
                total += len(data)
                chunks.append(data)
            data = b"".join(chunks)
            if not data:
                continue
            if itype == b"Exif" and len(data) > 4:
                skip = int.from_bytes(data[:4], "big")
                _apply_exif(res, data[4 + skip:] if 4 + skip < len(data) else data[4:])
            elif itype == b"mime":
                res.add_text("XMP", data.decode("utf-8", "replace"))
    if res.width is None:
        res.error = "AVIF has no image size (ispe)"
    _size_warning(res)
    return res


SCANNERS = {"JPEG": scan_jpeg, "WEBP": scan_webp, "GIF": scan_gif, "BMP": scan_bmp, "TIFF": scan_tiff,
            "AVIF": scan_avif}
