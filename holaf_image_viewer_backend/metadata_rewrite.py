"""Lossless metadata surgery on PNG, JPEG and WEBP files.

Reads, removes and adds the generation metadata (prompt, workflow, A1111
parameters) by editing the container only: PNG chunks are re-listed with every
other chunk (IDAT included) copied byte for byte; JPEG segments before the scan
are edited and the scan data is copied untouched; WEBP RIFF chunks are edited and
the VP8/VP8L/ALPH/ANMF payloads copied untouched. Nothing is decoded or
re-encoded. Pure functions over ``bytes``; the caller does the atomic write.

Where things live (see ``docs/metadata-formats.md`` in the shared notes):

* PNG: ``tEXt``/``zTXt``/``iTXt`` chunks ``prompt`` and ``workflow`` (ComfyUI),
  ``parameters`` (A1111); APNG's private ``comf`` chunk (``key\\0json``).
* WEBP (ComfyUI) and JPEG: EXIF IFD0 ``0x0110`` = ``"prompt:" + json``,
  ``0x010F`` = ``"workflow:" + json``; A1111: EXIF ``UserComment`` (``0x9286``).
"""
from __future__ import annotations

import json
import struct
import zlib
from dataclasses import dataclass, field

from PIL import Image

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
TEXT_CHUNKS = (b"tEXt", b"zTXt", b"iTXt")
GENERATION_KEYS = ("prompt", "workflow", "parameters")
EXIF_COMFY_TAGS = (0x0110, 0x010F, 0x010E, 0x010D)
EXIF_IFD = 0x8769
USER_COMMENT = 0x9286
JPEG_MAX_SEGMENT = 65533  # payload of one APPn segment
MAX_TEXT_BYTES = 64 * 1024 * 1024


class MetadataError(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass
class Generation:
    """The generation metadata found in a file (``None`` = absent)."""

    prompt: str | None = None
    workflow: str | None = None
    prompt_key: str | None = None  # "prompt" (ComfyUI API graph) or "parameters" (A1111 text)
    other_text_keys: list[str] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return self.prompt is None and self.workflow is None


def detect_format(data: bytes) -> str | None:
    if data.startswith(PNG_SIGNATURE):
        return "png"
    if data[:3] == b"\xff\xd8\xff":
        return "jpeg"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    return None


def is_json_object(text: str) -> bool:
    try:
        return isinstance(json.loads(text), dict)
    except ValueError:
        return False


# --------------------------------------------------------------------------- PNG
@dataclass
class Chunk:
    kind: bytes
    payload: bytes
    raw: bytes  # length + type + payload + CRC, exactly as in the file


def png_chunks(data: bytes) -> list[Chunk]:
    if not data.startswith(PNG_SIGNATURE):
        raise MetadataError("not_png", "not a PNG file")
    chunks, pos = [], len(PNG_SIGNATURE)
    while True:
        if pos + 12 > len(data):
            raise MetadataError("truncated", "the PNG ends before its IEND chunk")
        length, kind = struct.unpack_from(">I4s", data, pos)
        end = pos + 12 + length
        if end > len(data):
            raise MetadataError("truncated", f"the PNG chunk {kind!r} is cut short")
        chunks.append(Chunk(kind, data[pos + 8:pos + 8 + length], data[pos:end]))
        pos = end
        if kind == b"IEND":
            return chunks


def _png_text(chunk: Chunk) -> tuple[str, str] | None:
    """(key, value) of a text chunk, or None if it is not one we can read."""
    payload = chunk.payload
    try:
        if chunk.kind == b"tEXt":
            key, _, value = payload.partition(b"\0")
            return key.decode("latin-1"), value.decode("latin-1")
        if chunk.kind == b"zTXt":
            key, _, rest = payload.partition(b"\0")
            return key.decode("latin-1"), zlib.decompressobj().decompress(rest[1:], MAX_TEXT_BYTES).decode("latin-1")
        if chunk.kind == b"iTXt":
            key, _, rest = payload.partition(b"\0")
            compressed, _method = rest[0], rest[1]
            _lang, _, rest = rest[2:].partition(b"\0")
            _translated, _, text = rest.partition(b"\0")
            if compressed:
                text = zlib.decompressobj().decompress(text, MAX_TEXT_BYTES)
            return key.decode("latin-1"), text.decode("utf-8")
        if chunk.kind == b"comf":  # ComfyUI animated PNG
            key, _, value = payload.partition(b"\0")
            return key.decode("latin-1"), value.decode("latin-1")
    except (zlib.error, UnicodeDecodeError, IndexError):
        return None
    return None


def make_png_text_chunk(key: str, value: str) -> bytes:
    """tEXt when Latin-1 can hold the value (what Pillow and ComfyUI write), iTXt otherwise."""
    try:
        payload, kind = key.encode("latin-1") + b"\0" + value.encode("latin-1"), b"tEXt"
    except UnicodeEncodeError:
        payload, kind = key.encode("latin-1") + b"\0\0\0\0\0" + value.encode("utf-8"), b"iTXt"
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload) & 0xFFFFFFFF)


def read_png(data: bytes) -> Generation:
    found = Generation()
    for chunk in png_chunks(data):
        if chunk.kind not in TEXT_CHUNKS and chunk.kind != b"comf":
            continue
        text = _png_text(chunk)
        if text is None:
            continue
        key, value = text
        if key == "prompt":
            found.prompt, found.prompt_key = value, "prompt"
        elif key == "workflow":
            found.workflow = value
        elif key == "parameters" and found.prompt_key != "prompt":
            found.prompt, found.prompt_key = value, "parameters"
        else:
            found.other_text_keys.append(key)
    return found


def rewrite_png(data: bytes, *, remove: set[str] | None = None, remove_all_text: bool = False,
                add: dict[str, str] | None = None) -> bytes:
    """Drop text chunks by key (or all of them) and add new ones before the first IDAT."""
    remove = remove or set()
    out = [PNG_SIGNATURE]
    inserted = False
    for chunk in png_chunks(data):
        if chunk.kind in TEXT_CHUNKS or chunk.kind == b"comf":
            text = _png_text(chunk)
            key = text[0] if text else None
            if remove_all_text or (key is not None and key in remove):
                continue
        if chunk.kind in (b"IDAT", b"fdAT", b"IEND") and not inserted:
            out.extend(make_png_text_chunk(k, v) for k, v in (add or {}).items())
            inserted = True
        out.append(chunk.raw)
    return b"".join(out)


# --------------------------------------------------------------------------- EXIF (JPEG and WEBP)
def decode_user_comment(raw) -> str | None:
    if isinstance(raw, str):
        return raw
    if not isinstance(raw, (bytes, bytearray)) or len(raw) < 8:
        return None
    head, body = bytes(raw[:8]), bytes(raw[8:])
    if head == b"UNICODE\0":
        if body[:2] in (b"\xff\xfe", b"\xfe\xff"):
            return body.decode("utf-16")
        zeros_even = body[0::2].count(0)
        zeros_odd = body[1::2].count(0)
        return body.decode("utf-16-be" if zeros_even >= zeros_odd else "utf-16-le").rstrip("\0")
    if head in (b"ASCII\0\0\0", b"\0" * 8):
        return body.decode("utf-8", "replace").rstrip("\0")
    return bytes(raw).decode("utf-8", "replace").rstrip("\0")


def encode_user_comment(text: str) -> bytes:
    return b"UNICODE\0" + text.encode("utf-16-be")


def load_exif(raw: bytes | None) -> Image.Exif:
    exif = Image.Exif()
    if raw:
        if raw.startswith(b"Exif\0\0"):
            raw = raw[6:]
        try:
            exif.load(b"Exif\0\0" + raw)
        except Exception as exc:
            raise MetadataError("bad_exif", f"the EXIF block cannot be parsed: {exc}") from None
    return exif


def read_exif_generation(exif: Image.Exif) -> Generation:
    found = Generation()
    for tag in EXIF_COMFY_TAGS:
        value = exif.get(tag)
        if isinstance(value, bytes):
            value = value.decode("utf-8", "replace")
        if not isinstance(value, str) or ":" not in value:
            continue
        key, _, rest = value.partition(":")
        if key == "prompt":
            found.prompt, found.prompt_key = rest, "prompt"
        elif key == "workflow":
            found.workflow = rest
    if found.prompt is None:
        comment = decode_user_comment(exif.get_ifd(EXIF_IFD).get(USER_COMMENT))
        if comment:
            found.prompt, found.prompt_key = comment, "parameters"
    return found


def edit_exif_generation(exif: Image.Exif, *, remove: set[str], add: dict[str, str]) -> None:
    """Remove ``prompt``/``workflow``/``parameters`` and write new values the way ComfyUI/A1111 do."""
    for tag in EXIF_COMFY_TAGS:
        value = exif.get(tag)
        if isinstance(value, bytes):
            value = value.decode("utf-8", "replace")
        if isinstance(value, str) and value.partition(":")[0] in remove and ":" in value:
            del exif[tag]
    if "parameters" in remove or "prompt" in remove:
        sub = exif.get_ifd(EXIF_IFD)
        if USER_COMMENT in sub:
            del sub[USER_COMMENT]
    if "prompt" in add:
        exif[0x0110] = "prompt:" + add["prompt"]
    if "workflow" in add:
        exif[0x010F] = "workflow:" + add["workflow"]
    if "parameters" in add:
        exif.get_ifd(EXIF_IFD)[USER_COMMENT] = encode_user_comment(add["parameters"])


def _exif_is_empty(exif: Image.Exif) -> bool:
    tags = {k for k in exif if k != EXIF_IFD}
    return not tags and not exif.get_ifd(EXIF_IFD)


def _exif_bytes(exif: Image.Exif) -> bytes:
    return exif.tobytes()  # starts with b"Exif\0\0"


# --------------------------------------------------------------------------- JPEG
def jpeg_segments(data: bytes) -> tuple[list[tuple[int, bytes]], bytes]:
    """Header segments ``(marker, raw bytes)`` up to the first SOS, and the rest (scan data) untouched."""
    if data[:2] != b"\xff\xd8":
        raise MetadataError("not_jpeg", "not a JPEG file")
    segments, pos = [], 2
    while True:
        if pos + 4 > len(data) or data[pos] != 0xFF:
            raise MetadataError("truncated", "the JPEG header is damaged")
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        if marker == 0xDA:  # start of scan: everything from here on is copied as is
            return segments, data[pos:]
        if 0xD0 <= marker <= 0xD7 or marker == 0x01:
            segments.append((marker, data[pos:pos + 2]))
            pos += 2
            continue
        length = struct.unpack_from(">H", data, pos + 2)[0]
        end = pos + 2 + length
        if end > len(data):
            raise MetadataError("truncated", "a JPEG segment is cut short")
        segments.append((marker, data[pos:end]))
        pos = end


def _is_exif_segment(marker: int, raw: bytes) -> bool:
    return marker == 0xE1 and raw[4:10] == b"Exif\0\0"


def read_jpeg(data: bytes) -> Generation:
    segments, _ = jpeg_segments(data)
    for marker, raw in segments:
        if _is_exif_segment(marker, raw):
            return read_exif_generation(load_exif(raw[4:]))
    return Generation()


def rewrite_jpeg(data: bytes, *, remove: set[str], add: dict[str, str]) -> bytes:
    segments, scan = jpeg_segments(data)
    index = next((i for i, (m, raw) in enumerate(segments) if _is_exif_segment(m, raw)), None)
    exif = load_exif(segments[index][1][4:] if index is not None else None)
    edit_exif_generation(exif, remove=remove, add=add)
    if _exif_is_empty(exif):
        new_segment = None
    else:
        payload = _exif_bytes(exif)
        if len(payload) + 2 > JPEG_MAX_SEGMENT:
            raise MetadataError("too_large", f"the metadata ({len(payload) // 1024} KB) does not fit in JPEG EXIF (64 KB); keep it as sidecars")
        new_segment = b"\xff\xe1" + struct.pack(">H", len(payload) + 2) + payload
    out = [b"\xff\xd8"]
    placed = False
    for i, (marker, raw) in enumerate(segments):
        if i == index:
            if new_segment is not None:
                out.append(new_segment)
            placed = True
            continue
        if not placed and new_segment is not None and marker not in (0xE0,):  # after JFIF APP0
            out.append(new_segment)
            placed = True
        out.append(raw)
    if not placed and new_segment is not None:
        out.append(new_segment)
    out.append(scan)
    return b"".join(out)


# --------------------------------------------------------------------------- WEBP
def riff_chunks(data: bytes) -> list[tuple[bytes, bytes]]:
    if not (data[:4] == b"RIFF" and data[8:12] == b"WEBP"):
        raise MetadataError("not_webp", "not a WEBP file")
    size = struct.unpack_from("<I", data, 4)[0]
    end = min(len(data), 8 + size)
    if 8 + size > len(data):
        raise MetadataError("truncated", "the WEBP file is cut short")
    chunks, pos = [], 12
    while pos + 8 <= end:
        fourcc, length = data[pos:pos + 4], struct.unpack_from("<I", data, pos + 4)[0]
        body_end = pos + 8 + length
        if body_end > end:
            raise MetadataError("truncated", f"the WEBP chunk {fourcc!r} is cut short")
        chunks.append((fourcc, data[pos + 8:body_end]))
        pos = body_end + (length & 1)
    return chunks


def _riff(chunks: list[tuple[bytes, bytes]]) -> bytes:
    body = b"".join(fourcc + struct.pack("<I", len(p)) + p + (b"\0" if len(p) & 1 else b"") for fourcc, p in chunks)
    return b"RIFF" + struct.pack("<I", 4 + len(body)) + b"WEBP" + body


def _canvas_size(chunks: list[tuple[bytes, bytes]]) -> tuple[int, int, bool]:
    for fourcc, payload in chunks:
        if fourcc == b"VP8 " and len(payload) >= 10:
            w, h = struct.unpack_from("<HH", payload, 6)
            return w & 0x3FFF, h & 0x3FFF, any(f == b"ALPH" for f, _ in chunks)
        if fourcc == b"VP8L" and len(payload) >= 5:
            bits = struct.unpack_from("<I", payload, 1)[0]
            return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1, bool((bits >> 28) & 1)
    raise MetadataError("bad_webp", "no image data found in the WEBP file")


def read_webp(data: bytes) -> Generation:
    for fourcc, payload in riff_chunks(data):
        if fourcc == b"EXIF":
            return read_exif_generation(load_exif(payload))
    return Generation()


def rewrite_webp(data: bytes, *, remove: set[str], add: dict[str, str]) -> bytes:
    chunks = riff_chunks(data)
    exif_index = next((i for i, (f, _) in enumerate(chunks) if f == b"EXIF"), None)
    exif = load_exif(chunks[exif_index][1] if exif_index is not None else None)
    edit_exif_generation(exif, remove=remove, add=add)
    new_payload = None if _exif_is_empty(exif) else _exif_bytes(exif)[6:]  # WEBP stores the TIFF block bare
    chunks = [c for c in chunks if c[0] != b"EXIF"]
    if new_payload is not None:
        if chunks[0][0] != b"VP8X":
            width, height, alpha = _canvas_size(chunks)
            flags = 0x10 if alpha else 0
            vp8x = struct.pack("<B3x", flags) + (width - 1).to_bytes(3, "little") + (height - 1).to_bytes(3, "little")
            chunks.insert(0, (b"VP8X", vp8x))
        position = next((i for i, (f, _) in enumerate(chunks) if f == b"XMP "), len(chunks))
        chunks.insert(position, (b"EXIF", new_payload))
    if chunks and chunks[0][0] == b"VP8X":
        flags = chunks[0][1][0]
        flags = flags | 0x08 if new_payload is not None else flags & ~0x08
        chunks[0] = (b"VP8X", bytes([flags]) + chunks[0][1][1:])
    return _riff(chunks)


# --------------------------------------------------------------------------- one entry point per action
def read_generation(data: bytes) -> Generation:
    fmt = detect_format(data)
    if fmt == "png":
        return read_png(data)
    if fmt == "jpeg":
        return read_jpeg(data)
    if fmt == "webp":
        return read_webp(data)
    raise MetadataError("unsupported_format", "metadata tools work on PNG, JPEG and WEBP files")


def without_generation(data: bytes, *, keys: set[str] | None = None, all_text: bool = False) -> bytes:
    """The file with its generation metadata removed (``keys`` default: all three)."""
    keys = set(GENERATION_KEYS) if keys is None else keys
    fmt = detect_format(data)
    if fmt == "png":
        return rewrite_png(data, remove=keys, remove_all_text=all_text)
    if fmt == "jpeg":
        return rewrite_jpeg(data, remove=keys, add={})
    if fmt == "webp":
        return rewrite_webp(data, remove=keys, add={})
    raise MetadataError("unsupported_format", "metadata tools work on PNG, JPEG and WEBP files")


def with_generation(data: bytes, *, prompt: str | None, workflow: str | None) -> bytes:
    """The file with ``prompt`` (ComfyUI JSON or A1111 text) and ``workflow`` embedded, replacing old values."""
    add: dict[str, str] = {}
    remove: set[str] = set()
    if prompt is not None:
        add["prompt" if is_json_object(prompt) else "parameters"] = prompt
        remove |= {"prompt", "parameters"}
    if workflow is not None:
        add["workflow"] = workflow
        remove.add("workflow")
    fmt = detect_format(data)
    if fmt == "png":
        return rewrite_png(data, remove=remove, add=add)
    if fmt == "jpeg":
        return rewrite_jpeg(data, remove=remove, add=add)
    if fmt == "webp":
        return rewrite_webp(data, remove=remove, add=add)
    raise MetadataError("unsupported_format", "metadata tools work on PNG, JPEG and WEBP files")
