"""Sidecar files next to a media file: ``<base>.txt``, ``<base>.json``, ``<base>.xmp``.

The earlier system (and its users' folders) keep the prompt in ``.txt``, the
workflow in ``.json`` and keywords/rating in ``.xmp``.  Those files win over
what is embedded in the media file.  A ``.json`` may hold either a UI
workflow or an API prompt graph; a ``.txt`` may hold A1111 text or, as the
earlier system's "extract" tool wrote it, the raw API prompt JSON.
"""
from __future__ import annotations

import logging
import os

from .jsonutil import loads_json
from .limits import MAX_SIDECAR_BYTES, MAX_XMP_BYTES
from .xmp import parse_xmp

log = logging.getLogger("holaf.metadata")


class Sidecars:
    __slots__ = ("txt", "txt_json", "json", "json_error", "tags", "rating", "warnings")

    def __init__(self):
        self.txt: str | None = None          # text of <base>.txt
        self.txt_json = None                 # parsed JSON when the .txt holds a JSON object
        self.json = None                     # parsed <base>.json (dict) or None
        self.json_error: str | None = None   # why <base>.json could not be used
        self.tags: list = []
        self.rating: int | None = None
        self.warnings: list = []


def _read_capped(path: str, cap: int, warnings: list) -> bytes | None:
    try:
        with open(path, "rb") as f:
            data = f.read(cap + 1)
    except OSError as e:
        warnings.append(f"cannot read sidecar {os.path.basename(path)}: {e.strerror or e}")
        return None
    if len(data) > cap:
        warnings.append(f"sidecar {os.path.basename(path)} is larger than {cap // 2**20} MB: ignored")
        return None
    return data


def decode_text_file(data: bytes) -> str:
    if data.startswith(b"\xff\xfe") or data.startswith(b"\xfe\xff"):
        return data.decode("utf-16", "replace")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252", "replace")


def read_sidecars(path: str) -> Sidecars:
    """Read whichever of the three sidecars exist next to ``path``."""
    sc = Sidecars()
    base = os.path.splitext(path)[0]
    txt = base + ".txt"
    if os.path.isfile(txt):
        data = _read_capped(txt, MAX_SIDECAR_BYTES, sc.warnings)
        if data is not None:
            text = decode_text_file(data)
            sc.txt = text
            s = text.lstrip()
            if s.startswith("{"):
                obj = loads_json(s)
                if isinstance(obj, dict):
                    sc.txt_json = obj
    js = base + ".json"
    if os.path.isfile(js):
        data = _read_capped(js, MAX_SIDECAR_BYTES, sc.warnings)
        if data is not None:
            obj = loads_json(decode_text_file(data))
            if isinstance(obj, dict):
                sc.json = obj
            else:
                sc.json_error = f"sidecar {os.path.basename(js)} is not a JSON object"
                sc.warnings.append(sc.json_error)
    xmp = base + ".xmp"
    if os.path.isfile(xmp):
        data = _read_capped(xmp, MAX_XMP_BYTES, sc.warnings)
        if data is not None:
            parsed = parse_xmp(decode_text_file(data))
            if parsed is None:
                sc.warnings.append(f"sidecar {os.path.basename(xmp)} is not valid XMP")
            else:
                sc.tags = parsed.tags
                sc.rating = parsed.rating
    return sc
