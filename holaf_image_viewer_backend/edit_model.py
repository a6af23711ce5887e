"""The content of an ``.edt`` sidecar: parsing both earlier layouts, validation, hashing.

Two layouts exist on disk (kept so earlier edits keep working):

* **flat** (first version): ``{"brightness": 1.2, "contrast": 1.0, "saturation": 0.8,
  "playbackRate": 1.5}``; factors where 1.0 is unchanged, optional ``<type>Range``.
* **stacked** (later, and what we write): ``{"controls": [{"id", "type", "value",
  "range"}, …], "targetFps", "playbackRate", "interpolate"}``; controls apply in
  order and a type may repeat.

:func:`normalize` turns either into the stacked form. From a request it is strict
(unknown keys, types or ranges, and non-numbers raise :class:`EditValidationError`,
a 400); numbers outside their range are clamped and reported as warnings. From a
file it is lenient (a bad control is skipped with a warning) so one damaged entry
never hides the rest of a user's work.
"""
from __future__ import annotations

import hashlib
import json
import math
import re
from dataclasses import dataclass, field
from typing import Any

FORMAT_VERSION = 2
#: Bumped whenever the pixel math changes, so cached edited thumbnails are remade.
MATH_VERSION = 1

CONTROL_TYPES: dict[str, tuple[float, float, float]] = {
    # type: (minimum, maximum, neutral). Factors 0-2 are the earlier sliders' 0-200 %.
    "brightness": (0.0, 2.0, 1.0),
    "contrast": (0.0, 2.0, 1.0),
    "saturation": (0.0, 2.0, 1.0),
    "hue": (-180.0, 180.0, 0.0),
}
TONAL_RANGES = ("all", "shadows", "midtones", "highlights")
PLAYBACK_RATE = (0.1, 4.0)
TARGET_FPS = (1.0, 144.0)
MAX_CONTROLS = 64
TOP_LEVEL_KEYS = frozenset({"version", "controls", "playbackRate", "targetFps", "interpolate"})
FLAT_KEYS = ("brightness", "contrast", "saturation", "hue")
_ID_RE = re.compile(r"^[A-Za-z0-9_.:-]{1,40}$")


class EditValidationError(ValueError):
    """The edits in a request cannot be accepted as they are (answered as a 400)."""

    def __init__(self, message: str, *, where: str = "") -> None:
        super().__init__(f"{where}: {message}" if where else message)
        self.where = where


@dataclass
class Control:
    id: str
    type: str
    value: float
    range: str = "all"

    def to_dict(self) -> dict:
        return {"id": self.id, "type": self.type, "value": self.value, "range": self.range}

    @property
    def is_neutral(self) -> bool:
        return self.value == CONTROL_TYPES[self.type][2]


@dataclass
class Edits:
    controls: list[Control] = field(default_factory=list)
    playback_rate: float = 1.0
    target_fps: float | None = None
    interpolate: bool = False

    def to_dict(self) -> dict:
        """The stacked layout, as written to disk and answered by the API."""
        return {
            "version": FORMAT_VERSION,
            "controls": [c.to_dict() for c in self.controls],
            "playbackRate": self.playback_rate,
            "targetFps": self.target_fps,
            "interpolate": self.interpolate,
        }

    @property
    def is_empty(self) -> bool:
        """Nothing at all to apply (no controls, normal speed, native frame rate)."""
        return not self.controls and self.playback_rate == 1.0 and self.target_fps is None and not self.interpolate

    @property
    def changes_pixels(self) -> bool:
        return any(not c.is_neutral for c in self.controls)

    def pixel_hash(self) -> str:
        """Identifies what the edits do to pixels (thumbnails' cache variant); speed does not count."""
        canonical = [(c.type, round(c.value, 4), c.range) for c in self.controls if not c.is_neutral]
        digest = hashlib.sha1(json.dumps(canonical, separators=(",", ":")).encode()).hexdigest()[:16]
        return f"edits{MATH_VERSION}-{digest}"

    def content_hash(self) -> str:
        """Identifies the whole sidecar (for optimistic concurrency between tabs)."""
        return hashlib.sha1(json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":")).encode()).hexdigest()[:16]


@dataclass
class Normalized:
    edits: Edits
    layout: str  # "stacked" | "flat"
    warnings: list[str] = field(default_factory=list)


def _number(value: Any, where: str, *, strict: bool) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        if not strict and isinstance(value, str):
            try:
                value = float(value)
            except ValueError:
                return None
        else:
            if strict:
                raise EditValidationError("must be a number", where=where)
            return None
    value = float(value)
    if not math.isfinite(value):
        if strict:
            raise EditValidationError("must be a finite number", where=where)
        return None
    return value


def _clamp(value: float, lo: float, hi: float, where: str, warnings: list[str]) -> float:
    if value < lo or value > hi:
        clamped = min(hi, max(lo, value))
        warnings.append(f"{where}: {value:g} is outside {lo:g}..{hi:g}; clamped to {clamped:g}")
        return clamped
    return value


def _control(raw: Any, index: int, *, strict: bool, warnings: list[str]) -> Control | None:
    where = f"controls[{index}]"
    if not isinstance(raw, dict):
        if strict:
            raise EditValidationError("must be an object", where=where)
        warnings.append(f"{where}: skipped (not an object)")
        return None
    unknown = set(raw) - {"id", "type", "value", "range"}
    if unknown and strict:
        raise EditValidationError(f"unknown keys {sorted(unknown)}", where=where)
    kind = raw.get("type")
    if kind not in CONTROL_TYPES:
        if strict:
            raise EditValidationError(f"unknown type {kind!r} (known: {', '.join(CONTROL_TYPES)})", where=where)
        warnings.append(f"{where}: skipped (unknown type {kind!r})")
        return None
    lo, hi, neutral = CONTROL_TYPES[kind]
    value = raw.get("value", neutral)
    number = _number(value, f"{where}.value", strict=strict)
    if number is None:
        warnings.append(f"{where}: skipped (value {value!r} is not a number)")
        return None
    number = _clamp(number, lo, hi, f"{where}.value", warnings)
    tonal = raw.get("range", "all")
    if tonal is None:
        tonal = "all"
    if tonal not in TONAL_RANGES:
        if strict:
            raise EditValidationError(f"unknown range {tonal!r} (known: {', '.join(TONAL_RANGES)})", where=where)
        warnings.append(f"{where}: unknown range {tonal!r}, using 'all'")
        tonal = "all"
    ident = raw.get("id")
    if ident is not None and (not isinstance(ident, str) or not _ID_RE.match(ident)):
        if strict:
            raise EditValidationError("id must be 1-40 letters, digits or _.:-", where=where)
        ident = None
    return Control(ident or "", kind, number, tonal)


def _assign_ids(controls: list[Control]) -> None:
    """Every control gets a unique ``c_<n>`` id (the earlier editor's scheme) when missing or repeated."""
    seen: set[str] = set()
    counter = 1
    for control in controls:
        if control.id and control.id not in seen:
            seen.add(control.id)
            continue
        while f"c_{counter}" in seen or any(c.id == f"c_{counter}" for c in controls):
            counter += 1
        control.id = f"c_{counter}"
        seen.add(control.id)


def _flat_controls(data: dict, *, strict: bool, warnings: list[str]) -> list[Control]:
    controls: list[Control] = []
    for kind in FLAT_KEYS:
        if kind not in data:
            continue
        lo, hi, neutral = CONTROL_TYPES[kind]
        number = _number(data[kind], kind, strict=strict)
        if number is None:
            warnings.append(f"{kind}: skipped (not a number)")
            continue
        number = _clamp(number, lo, hi, kind, warnings)
        tonal = data.get(f"{kind}Range", "all") or "all"
        if tonal not in TONAL_RANGES:
            if strict:
                raise EditValidationError(f"unknown range {tonal!r}", where=f"{kind}Range")
            tonal = "all"
        if number == neutral and tonal == "all":
            continue  # the flat layout stored every slider; unchanged ones are not edits
        controls.append(Control("", kind, number, tonal))
    return controls


def normalize(data: Any, *, strict: bool) -> Normalized:
    """Either layout → :class:`Edits` in the stacked form (see the module docstring)."""
    if not isinstance(data, dict):
        raise EditValidationError("edits must be a JSON object")
    warnings: list[str] = []
    flat_keys = {k for k in data if k in FLAT_KEYS or (k.endswith("Range") and k[:-5] in FLAT_KEYS)}
    if "controls" in data:
        layout = "stacked"
        raw_controls = data["controls"]
        if raw_controls is None:
            raw_controls = []
        if not isinstance(raw_controls, list):
            raise EditValidationError("must be a list", where="controls")
        if len(raw_controls) > MAX_CONTROLS:
            if strict:
                raise EditValidationError(f"at most {MAX_CONTROLS} controls", where="controls")
            warnings.append(f"controls: only the first {MAX_CONTROLS} are kept")
            raw_controls = raw_controls[:MAX_CONTROLS]
        controls = [c for i, raw in enumerate(raw_controls) if (c := _control(raw, i, strict=strict, warnings=warnings))]
        if flat_keys and not strict:
            warnings.append("flat keys beside 'controls' were ignored")
    else:
        layout = "flat" if flat_keys else "stacked"
        controls = _flat_controls(data, strict=strict, warnings=warnings)
    unknown = set(data) - TOP_LEVEL_KEYS - flat_keys
    if unknown:
        if strict:
            raise EditValidationError(f"unknown keys {sorted(unknown)}")
        warnings.append(f"ignored unknown keys {sorted(unknown)}")
    if strict and "controls" in data and flat_keys:
        raise EditValidationError(f"send either 'controls' or the flat keys, not both ({sorted(flat_keys)})")
    _assign_ids(controls)

    rate = 1.0
    if data.get("playbackRate") is not None:
        number = _number(data["playbackRate"], "playbackRate", strict=strict)
        if number is not None:
            rate = _clamp(number, *PLAYBACK_RATE, "playbackRate", warnings)
    fps = None
    if data.get("targetFps") is not None:
        number = _number(data["targetFps"], "targetFps", strict=strict)
        if number is not None:
            fps = _clamp(number, *TARGET_FPS, "targetFps", warnings)
    interpolate = data.get("interpolate", False)
    if not isinstance(interpolate, bool):
        if strict and interpolate is not None:
            raise EditValidationError("must be true or false", where="interpolate")
        interpolate = bool(interpolate)
    version = data.get("version")
    if strict and version is not None and version not in (1, FORMAT_VERSION):
        raise EditValidationError(f"unsupported version {version!r}", where="version")
    return Normalized(Edits(controls, rate, fps, interpolate), layout, warnings)


def from_json_text(text: str) -> Normalized:
    """A sidecar's text (lenient); raises ValueError when it is not JSON at all."""
    return normalize(json.loads(text), strict=False)


def to_json_text(edits: Edits) -> str:
    return json.dumps(edits.to_dict(), indent=2, ensure_ascii=False) + "\n"
