"""Export one image: optional edits, a new format, and its generation metadata kept, moved or dropped.

Metadata goes where the tools that read it look:

* PNG: text chunks named after the key (``prompt``, ``workflow``, ``parameters``),
  the strings written as they were read: never JSON-encoded a second time (the
  earlier tool's quoted-string bug);
* WEBP and JPEG: EXIF the way ComfyUI writes it, 0x0110 (Model) = ``prompt:`` +
  JSON and 0x010F (Make) = ``workflow:`` + JSON, plus A1111 ``parameters`` as a
  Unicode ``UserComment``. JPEG keeps EXIF under 64 KB: a bigger workflow goes to
  sidecars and the file gets a warning;
* TIFF: the same Make/Model tags (no UserComment: Pillow's TIFF writer has no
  EXIF sub-IFD), else sidecars;
* ``sidecar``: ``<name>.txt`` (prompt, or the A1111 parameters) and ``<name>.json``
  (workflow, indented), the convention the scanner reads back;
* ``strip``: nothing but the pixels and the colour profile (the ICC profile is
  not generation data; dropping it would shift colours).

EXIF orientation is applied to the pixels first, so stripping it never turns a
photo sideways. Output is written under a temporary name and renamed at the end;
on any failure everything this call wrote is removed. Blocking.
"""
from __future__ import annotations

import json
import logging
import os
import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from PIL import Image, ImageOps, PngImagePlugin

from .edit_math import _as_rgb_and_alpha, apply_edits
from .edit_model import Edits

log = logging.getLogger("holaf.export")

IMAGE_FORMATS = {"png": ".png", "jpeg": ".jpg", "webp": ".webp", "tiff": ".tif"}
FORMAT_ALIASES = {"jpg": "jpeg", "tif": "tiff"}
JPEG_EXIF_LIMIT = 65533
EXIF_MODEL, EXIF_MAKE, EXIF_IFD, USER_COMMENT = 0x0110, 0x010F, 0x8769, 0x9286


@dataclass
class GenerationMetadata:
    """The texts to carry over; each is the string as found in the source (JSON text for ComfyUI)."""

    prompt: str | None = None
    workflow: str | None = None
    parameters: str | None = None

    @property
    def empty(self) -> bool:
        return not (self.prompt or self.workflow or self.parameters)


@dataclass
class ImageOptions:
    quality: int | None = None  # JPEG default 95, WEBP default 90
    lossless: bool = False  # WEBP only


@dataclass
class FileResult:
    files: list[Path] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def _exif_json(text: str) -> str:
    """EXIF ASCII tags cannot hold UTF-8: JSON is re-serialised with \\u escapes (same value)."""
    try:
        return json.dumps(json.loads(text))
    except (ValueError, TypeError):
        return json.dumps(text)


def comfy_exif(meta: GenerationMetadata, *, user_comment: bool = True) -> bytes:
    """``Exif\\0\\0`` + a big-endian TIFF block: IFD0 Make/Model as ComfyUI writes them, and the
    A1111 text as a Unicode UserComment in the Exif sub-IFD.

    Built by hand because Pillow writes an unknown-to-it UserComment as BYTE, where
    the EXIF spec (and readers such as ours) expect UNDEFINED.
    """
    ifd0: list[tuple[int, int, bytes]] = []  # (tag, type, value bytes)
    if meta.workflow:
        ifd0.append((EXIF_MAKE, 2, ("workflow:" + _exif_json(meta.workflow)).encode("ascii") + b"\0"))
    if meta.prompt:
        ifd0.append((EXIF_MODEL, 2, ("prompt:" + _exif_json(meta.prompt)).encode("ascii") + b"\0"))
    sub: list[tuple[int, int, bytes]] = []
    if meta.parameters and user_comment:
        sub.append((USER_COMMENT, 7, b"UNICODE\0" + meta.parameters.encode("utf-16-be")))
    return b"Exif\0\0" + _tiff_block(ifd0, sub)


def _tiff_block(ifd0: list[tuple[int, int, bytes]], sub: list[tuple[int, int, bytes]]) -> bytes:
    def layout(entries, start: int, extra_pointer: int | None) -> tuple[bytes, bytes]:
        """IFD bytes at ``start`` (entries sorted by tag), then its out-of-line values."""
        entries = sorted(entries)
        count = len(entries) + (1 if extra_pointer is not None else 0)
        data_at = start + 2 + 12 * count + 4
        table, values = [struct.pack(">H", count)], []
        rows = [(tag, typ, value) for tag, typ, value in entries]
        if extra_pointer is not None:
            rows.append((EXIF_IFD, 4, struct.pack(">I", extra_pointer)))
            rows.sort(key=lambda r: r[0])
        for tag, typ, value in rows:
            count_items = len(value) if typ in (2, 7) else 1
            if len(value) <= 4:
                table.append(struct.pack(">HHI", tag, typ, count_items) + value.ljust(4, b"\0"))
            else:
                offset = data_at + sum(len(v) + (len(v) & 1) for v in values)
                table.append(struct.pack(">HHII", tag, typ, count_items, offset))
                values.append(value)
        table.append(b"\0\0\0\0")
        return b"".join(table), b"".join(v + b"\0" * (len(v) & 1) for v in values)

    header = b"MM\0\x2a" + struct.pack(">I", 8)
    if not sub:
        table, values = layout(ifd0, 8, None)
        return header + table + values
    # The Exif sub-IFD goes after IFD0 and its values; its offset is known once IFD0 is laid out.
    probe_table, probe_values = layout(ifd0, 8, 0)
    sub_at = 8 + len(probe_table) + len(probe_values)
    table, values = layout(ifd0, 8, sub_at)
    sub_table, sub_values = layout(sub, sub_at, None)
    return header + table + values + sub_table + sub_values


def sidecar_texts(meta: GenerationMetadata) -> dict[str, str]:
    """``{".txt": prompt, ".json": workflow}`` in the scanner's sidecar convention."""
    out: dict[str, str] = {}
    prompt_text = meta.prompt or meta.parameters
    if prompt_text:
        out[".txt"] = prompt_text
    if meta.workflow:
        try:
            out[".json"] = json.dumps(json.loads(meta.workflow), indent=2, ensure_ascii=False) + "\n"
        except (ValueError, TypeError):
            out[".json"] = meta.workflow
    return out


def prepare_pixels(image: Image.Image, fmt: str, edits: Edits | None) -> tuple[Image.Image, list[str]]:
    """Upright pixels in a mode the target format can store, with edits applied when given."""
    warnings: list[str] = []
    if getattr(image, "n_frames", 1) > 1:
        warnings.append("animated source: only the first frame was exported")
    icc = image.info.get("icc_profile")
    image = ImageOps.exif_transpose(image)
    if edits is not None and edits.changes_pixels:
        image = apply_edits(image, edits.controls)
    mode = image.mode
    keeps = {
        "png": {"RGB", "RGBA", "L", "LA", "P", "I;16", "1"},
        "tiff": {"RGB", "RGBA", "L", "LA", "I;16", "CMYK", "1"},
        "webp": {"RGB", "RGBA"},
        "jpeg": {"RGB", "L", "CMYK"},
    }[fmt]
    if mode not in keeps:
        rgb, alpha = _as_rgb_and_alpha(image)
        if alpha is not None and fmt != "jpeg":
            rgb.putalpha(alpha)
        elif alpha is not None:  # JPEG has no alpha: flatten on white rather than keep hidden colours
            background = Image.new("RGB", rgb.size, (255, 255, 255))
            background.paste(rgb, mask=alpha)
            rgb = background
        image = rgb
    if icc:
        image.info["icc_profile"] = icc
    return image, warnings


def save_image(image: Image.Image, dst: Path, fmt: str, options: ImageOptions, meta: GenerationMetadata | None) -> list[str]:
    """Encode ``image`` to ``dst``; ``meta`` None means nothing embedded. Returns what could not be embedded."""
    params: dict = {}
    icc = image.info.get("icc_profile")
    if icc:
        params["icc_profile"] = icc
    not_embedded: list[str] = []
    if fmt == "png":
        if meta and not meta.empty:
            info = PngImagePlugin.PngInfo()
            for key in ("prompt", "workflow", "parameters"):
                value = getattr(meta, key)
                if value:
                    info.add_text(key, value)  # iTXt automatically when not Latin-1
            params["pnginfo"] = info
        params["compress_level"] = 6
    elif fmt == "jpeg":
        quality = options.quality or 95
        params.update(quality=quality, optimize=True, subsampling=0 if quality >= 90 else 2)  # 4:4:4 when asked for quality
        if meta and not meta.empty:
            exif = comfy_exif(meta)
            if len(exif) <= JPEG_EXIF_LIMIT:
                params["exif"] = exif
            else:
                not_embedded.append(f"JPEG can hold at most 64 KB of EXIF and this metadata is {len(exif) // 1024} KB")
    elif fmt == "webp":
        if options.lossless:
            params.update(lossless=True, quality=100, method=4)
        else:
            params.update(quality=options.quality or 90, method=4)
        if meta and not meta.empty:
            params["exif"] = comfy_exif(meta)
    elif fmt == "tiff":
        params["compression"] = "tiff_lzw"
        if meta and not meta.empty:
            if meta.parameters and not meta.prompt:
                not_embedded.append("TIFF cannot hold A1111 parameters text")
            else:
                params["exif"] = comfy_exif(meta, user_comment=False)
    else:
        raise ValueError(f"unknown image format {fmt!r}")
    image.save(dst, format=fmt.upper(), **params)
    return not_embedded


def export_image(src: Path, out_stem: Path, fmt: str, options: ImageOptions, *, metadata_mode: str,
                 meta: GenerationMetadata | None, edits: Edits | None,
                 check_cancel: Callable[[], None] = lambda: None) -> FileResult:
    """``out_stem`` is the output path without extension; returns the files written and warnings."""
    result = FileResult()
    written: list[Path] = []
    final = out_stem.with_name(out_stem.name + IMAGE_FORMATS[fmt])
    partial = final.with_name(f".{final.name}.partial")
    try:
        with Image.open(src) as opened:
            opened.load()
            image, warnings = prepare_pixels(opened, fmt, edits)
        result.warnings.extend(warnings)
        check_cancel()
        embed = meta if (metadata_mode == "embed" and meta and not meta.empty) else None
        written.append(partial)
        problems = save_image(image, partial, fmt, options, embed)
        os.replace(partial, final)
        written[-1] = final
        result.files.append(final)
        wants_sidecar = metadata_mode == "sidecar" or bool(problems)
        if problems:
            result.warnings.extend(f"{p}; saved as .txt/.json sidecars instead" for p in problems)
        if wants_sidecar and meta and not meta.empty:
            for ext, text in sidecar_texts(meta).items():
                path = out_stem.with_name(out_stem.name + ext)
                written.append(path)
                path.write_text(text, encoding="utf-8")
                result.files.append(path)
        return result
    except BaseException:
        for path in written:
            try:
                path.unlink()
            except FileNotFoundError:
                pass
        raise
