"""Turning one file into the values the index stores (runs inside extraction workers).

:func:`extract_record` calls the metadata library and flattens its ``MediaInfo``
into plain values: the short columns of ``images`` and the texts for full-text
search. Everything here runs in the worker processes, so the database writer
only copies a few short values per file.

A file that cannot be read never raises: the record carries ``error`` (the
reason) and the row is stored with it, so it is not retried until it changes.
"""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

from . import logic

#: Bound on the workflow text sent to full-text search (the library bounds it too).
MAX_WORKFLOW_TEXT = 20_000
MAX_PROMPT_TEXT = 20_000
MAX_ERROR = 500


def _metadata():
    from . import metadata  # imported lazily: the worker pays for it, not the route modules

    return metadata


def _short(value: Any, limit: int = 300) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text[:limit] or None


def _int_or_none(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if -(2**63) <= value < 2**63 else None
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        number = int(value.strip())
        return number if -(2**63) <= number < 2**63 else None
    return None


def _float_or_none(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if number == number and abs(number) != float("inf") else None


def error_record(message: str) -> dict:
    """What is stored for a file nobody could read (e.g. it crashed the reader)."""
    return {"error": message[:MAX_ERROR], "missing": False}


def read_info(root: str, rel: str, *, ffprobe: str | None):
    """The library's full ``MediaInfo`` for one file (the metadata route uses it)."""
    return _metadata().extract_metadata(Path(os.path.join(root, *rel.split("/"))), ffprobe=ffprobe,
                                        read_sidecars=True)


_FADVISE = getattr(os, "posix_fadvise", None)  # Linux and most Unixes; not Windows or macOS
_WILLNEED = getattr(os, "POSIX_FADV_WILLNEED", 3)
PREFETCH_OTHER_BYTES = 1 << 20


def prefetch(root: str, rels: list[str]) -> None:
    """Ask the kernel to start reading a batch's files before they are parsed.

    Parsing reads a file with a few small reads spread over it (PNG chunk headers
    sit between the image data); on a cold cache each one waited for the disk in
    turn. A ``WILLNEED`` hint per file lets the kernel read the whole batch at once
    while the first files are parsed: a cold first index of the 20k corpus went
    from ~2,000 to 2,700–3,800 files/s, for ~3 % of the warm speed. Images are hinted
    whole; videos and audio only their first megabyte (their headers; never a
    multi-gigabyte read). Where the OS has no such call this does nothing.
    """
    if _FADVISE is None:
        return
    media_kind = _metadata().media_kind
    for rel in rels:
        try:
            fd = os.open(os.path.join(root, *rel.split("/")), os.O_RDONLY)
        except OSError:
            continue
        try:
            _FADVISE(fd, 0, 0 if media_kind(rel) == "image" else PREFETCH_OTHER_BYTES, _WILLNEED)
        except OSError:
            pass
        finally:
            os.close(fd)


def extract_record(root: str, rel: str, *, ffprobe: str | None, sidecars: bool = True) -> tuple[int, int, dict]:
    """``(size, mtime_ns, record)`` for one file; ``record["missing"]`` when it is gone.

    ``sidecars=False``: the scanner saw no ``.txt``/``.json``/``.xmp`` beside the file
    (its sidecar signature is 0), so the four lookups for them are skipped."""
    path = os.path.join(root, *rel.split("/"))
    try:
        st = os.stat(path)
    except OSError:
        return 0, 0, {"missing": True}
    try:
        info = _metadata().extract_metadata(path, ffprobe=ffprobe, read_sidecars=sidecars)
    except Exception as exc:  # the library should not raise, but one file must never stop a scan
        return st.st_size, st.st_mtime_ns, error_record(f"metadata reader failed: {type(exc).__name__}: {exc}")
    xmp_present = sidecars and os.path.exists(os.path.splitext(path)[0] + ".xmp")
    return st.st_size, st.st_mtime_ns, record_from_info(info, xmp_present=xmp_present)


#: The scanner matches sidecar names exactly; Windows and macOS folders usually ignore case,
#: where a ``IMG.txt`` beside ``img.png`` is still a sidecar: always look there.
_TRUST_SCANNER_SIDECARS = os.name != "nt" and sys.platform != "darwin"


def extract_item(root: str, item: tuple, *, ffprobe: str | None) -> tuple[int, int, int, dict]:
    """``(id, size, mtime_ns, record)`` for an extraction item ``(id, rel[, may_have_sidecars])``."""
    sidecars = item[2] if len(item) > 2 and _TRUST_SCANNER_SIDECARS else True
    size, mtime_ns, record = extract_record(root, item[1], ffprobe=ffprobe, sidecars=sidecars)
    return item[0], size, mtime_ns, record


MAX_SAMPLERS = 16
MAX_SAMPLERS_JSON = 16_000


def samplers_json(samplers: Any, positive: str, negative: str) -> str | None:
    """The file's sampling passes as compact JSON for ``image_samplers`` (None without any).

    A pass's prompts are left out when they are the file's main prompts (stored for search
    already); a pass with other prompts (a refiner's, a second stage's) keeps them, cut short.
    At most 16 passes and 16 KB (a generated graph with more stores none rather than a part).
    """
    if not samplers:
        return None
    passes = []
    for sampler in list(samplers)[:MAX_SAMPLERS]:
        if not isinstance(sampler, dict):
            continue
        entry = {k: v for k, v in sampler.items() if k not in ("positive", "negative")}
        for key, main in (("positive", positive), ("negative", negative)):
            text = sampler.get(key)
            if isinstance(text, str) and text and text[:MAX_PROMPT_TEXT] != main:
                entry[key] = text[:2000]
        passes.append(entry)
    if not passes:
        return None
    text = json.dumps(passes, ensure_ascii=False, separators=(",", ":"), default=str)
    return text if len(text) <= MAX_SAMPLERS_JSON else None


def record_from_info(info: Any, *, xmp_present: bool = False) -> dict:
    """Flatten a ``MediaInfo`` (see the metadata package) into the values the index stores."""
    params = info.params
    loras = []
    for lora in getattr(params, "loras", None) or []:
        name = lora.get("name") if isinstance(lora, dict) else None
        if isinstance(name, str) and name.strip():
            loras.append(name.strip()[:300])
    try:
        workflow_text = _metadata().workflow_search_text(info.workflow, info.prompt) or ""
    except Exception:
        workflow_text = ""
    positive = (getattr(params, "positive", None) or "")[:MAX_PROMPT_TEXT]
    error = getattr(info, "error", None)
    tags = [str(t).strip().lower()[:200] for t in (getattr(info, "tags", None) or []) if str(t).strip()]
    return {
        "missing": False,
        "kind": info.kind if info.kind in logic.KINDS else None,
        "format": _short(info.format, 16),
        "width": _int_or_none(info.width),
        "height": _int_or_none(info.height),
        "duration": _float_or_none(info.duration),
        "fps": _float_or_none(info.fps),
        "animated": 1 if info.animated else 0,
        "has_audio": 1 if info.has_audio else 0,
        "has_workflow": 1 if info.workflow else 0,
        "has_prompt": 1 if (info.prompt or info.parameters or positive) else 0,
        "model": _short(getattr(params, "model", None)),
        "sampler": _short(getattr(params, "sampler", None), 100),
        "seed": _int_or_none(getattr(params, "seed", None)),
        "steps": _int_or_none(getattr(params, "steps", None)),
        "cfg": _float_or_none(getattr(params, "cfg", None)),
        "error": _short(error, MAX_ERROR) if error else None,
        "positive": positive,
        "negative": (getattr(params, "negative", None) or "")[:MAX_PROMPT_TEXT],
        "loras": list(dict.fromkeys(loras)),
        "workflow_text": workflow_text[:MAX_WORKFLOW_TEXT],
        "samplers": samplers_json(getattr(params, "samplers", None), positive,
                                  getattr(params, "negative", None) or ""),
        # Tags/rating from an .xmp sidecar replace the stored ones; without a sidecar the
        # index keeps what users set through the API.
        "tags": list(dict.fromkeys(tags)) if xmp_present else None,
        "rating": _int_or_none(getattr(info, "rating", None)) if xmp_present else None,
    }


