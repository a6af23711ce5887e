"""Edits applied to pixels, with exactly the math the browser uses for the live preview.

The preview is CSS ``filter: brightness() contrast() saturate() hue-rotate()``,
whose meaning the Filter Effects spec fixes (https://drafts.fxtf.org/filter-effects/
§ "Filter Functions" and the ``feColorMatrix``/``feComponentTransfer`` equivalents):
each function is an affine map of the gamma-encoded sRGB channels in 0..1,
clamped to 0..1 after each function. We use the same matrices here, in float64,
rounding to 8 bits only at the end (``floor(x * 255 + 0.5)``, which is what
``Math.round`` does in ``js/image_viewer/edit_preview.js``). So an exported image
looks like the preview, and the hue rotation is the spec's matrix rather than an
HSV shift (which the browser could never show).

Tonal ranges (shadows / midtones / highlights) blend the adjusted pixels into the
running result through a luminance mask computed from that running result (Rec.
709 weights, L in 0..255)::

    shadows     1 - L/127                   (0 from 127 up)
    midtones    (L-64)/63 on 64..127, (191-L)/64 on 127..191, else 0
    highlights  (L-128)/127                 (0 below 128)

The canvas preview computes the same masks. Work is done in strips of rows so a
large image never needs more than a few tens of MB of floats.
"""
from __future__ import annotations

import math
from typing import Iterable, Sequence

import numpy as np
from PIL import Image

from .edit_model import Control

LUMA = (0.2126, 0.7152, 0.0722)
STRIP_ROWS = 256


def control_affine(kind: str, value: float) -> tuple[np.ndarray, np.ndarray]:
    """``(M, offset)`` such that ``out = clamp(M @ rgb + offset)`` for one CSS filter function."""
    if kind == "brightness":  # feComponentTransfer linear, slope = amount
        return np.eye(3) * value, np.zeros(3)
    if kind == "contrast":  # linear, slope = amount, intercept = -(0.5 * amount) + 0.5
        return np.eye(3) * value, np.full(3, 0.5 - 0.5 * value)
    if kind == "saturation":  # feColorMatrix type="saturate"
        s = value
        return np.array([
            [0.213 + 0.787 * s, 0.715 - 0.715 * s, 0.072 - 0.072 * s],
            [0.213 - 0.213 * s, 0.715 + 0.285 * s, 0.072 - 0.072 * s],
            [0.213 - 0.213 * s, 0.715 - 0.715 * s, 0.072 + 0.928 * s],
        ]), np.zeros(3)
    if kind == "hue":  # feColorMatrix type="hueRotate", angle in degrees
        a = math.radians(value)
        c, s = math.cos(a), math.sin(a)
        return np.array([
            [0.213 + c * 0.787 - s * 0.213, 0.715 - c * 0.715 - s * 0.715, 0.072 - c * 0.072 + s * 0.928],
            [0.213 - c * 0.213 + s * 0.143, 0.715 + c * 0.285 + s * 0.140, 0.072 - c * 0.072 - s * 0.283],
            [0.213 - c * 0.213 - s * 0.787, 0.715 - c * 0.715 + s * 0.715, 0.072 + c * 0.928 + s * 0.072],
        ]), np.zeros(3)
    raise ValueError(f"unknown control type {kind!r}")


def tonal_mask(luma255: np.ndarray, tonal: str) -> np.ndarray:
    """Weight 0..1 of each pixel for a tonal range (``luma255`` is L in 0..255)."""
    if tonal == "shadows":
        return np.clip(1.0 - luma255 / 127.0, 0.0, 1.0)
    if tonal == "highlights":
        return np.clip((luma255 - 128.0) / 127.0, 0.0, 1.0)
    if tonal == "midtones":
        rising = np.clip((luma255 - 64.0) / 63.0, 0.0, 1.0)
        falling = np.clip((191.0 - luma255) / 64.0, 0.0, 1.0)
        return np.where(luma255 <= 127.0, rising, falling)
    return np.ones_like(luma255)


def apply_controls(rgb: np.ndarray, controls: Sequence[Control]) -> np.ndarray:
    """``rgb``: float array (..., 3) in 0..1 → the edited array, same shape (a new array)."""
    out = np.array(rgb, dtype=np.float64, copy=True)
    for control in controls:
        if control.is_neutral:
            continue
        matrix, offset = control_affine(control.type, control.value)
        adjusted = np.clip(out @ matrix.T + offset, 0.0, 1.0)
        if control.range == "all":
            out = adjusted
        else:
            luma = (out @ np.array(LUMA)) * 255.0
            mask = tonal_mask(luma, control.range)[..., None]
            out = out + (adjusted - out) * mask
    return out


def to_uint8(values: np.ndarray) -> np.ndarray:
    """0..1 floats → bytes, rounding half up like JavaScript's ``Math.round``."""
    return np.floor(np.clip(values, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)


def _as_rgb_and_alpha(image: Image.Image) -> tuple[Image.Image, Image.Image | None]:
    """An 8-bit RGB image (16-bit greys scaled, palettes expanded) and its alpha, if any."""
    mode = image.mode
    if mode in ("I;16", "I;16B", "I;16L", "I;16N", "I"):
        arr = np.asarray(image, dtype=np.float64)
        grey = Image.fromarray(to_uint8(arr / 65535.0), "L")
        return grey.convert("RGB"), None
    if mode == "P":
        image = image.convert("RGBA" if "transparency" in image.info else "RGB")
        mode = image.mode
    if mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        rgba = image.convert("RGBA")
        return rgba.convert("RGB"), rgba.getchannel("A")
    if mode != "RGB":
        return image.convert("RGB"), None
    return image, None


def apply_edits(image: Image.Image, controls: Iterable[Control]) -> Image.Image:
    """A new image with the edits applied (RGB, or RGBA when the source had alpha)."""
    controls = [c for c in controls if not c.is_neutral]
    rgb, alpha = _as_rgb_and_alpha(image)
    if not controls:
        result = rgb.copy()
    else:
        pixels = np.asarray(rgb, dtype=np.uint8)
        height = pixels.shape[0]
        out = np.empty_like(pixels)
        for top in range(0, height, STRIP_ROWS):
            strip = pixels[top:top + STRIP_ROWS].astype(np.float64) / 255.0
            out[top:top + STRIP_ROWS] = to_uint8(apply_controls(strip, controls))
        result = Image.fromarray(out, "RGB")
    if alpha is not None:
        result.putalpha(alpha)
    for key in ("icc_profile",):
        if key in image.info:
            result.info[key] = image.info[key]
    return result


def css_filter(controls: Iterable[Control]) -> str:
    """The CSS ``filter`` value of the whole-image controls (the ranged ones need a canvas)."""
    names = {"brightness": "brightness", "contrast": "contrast", "saturation": "saturate", "hue": "hue-rotate"}
    parts = []
    for c in controls:
        if c.range != "all" or c.is_neutral:
            continue
        parts.append(f"{names[c.type]}({c.value:g}deg)" if c.type == "hue" else f"{names[c.type]}({c.value:g})")
    return " ".join(parts) or "none"
