"""The Pillow edit renderer against a per-pixel reference written straight from the CSS Filter Effects spec.

The reference below is deliberately naive (plain Python floats, one pixel at a
time, the spec's numbers typed in again) so that a mistake in the vectorised
renderer cannot hide behind shared code.
"""
from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from PIL import Image

from holaf_utilities.holaf_image_viewer_backend.edit_math import apply_edits, css_filter
from holaf_utilities.holaf_image_viewer_backend.edit_model import Control, normalize

VECTORS = Path(__file__).parent / "js" / "edit_vectors.json"


# --------------------------------------------------------------------------- the reference
def _clamp(x):
    return min(1.0, max(0.0, x))


def ref_function(kind, v, rgb):
    r, g, b = rgb
    if kind == "brightness":
        return tuple(_clamp(c * v) for c in rgb)
    if kind == "contrast":
        return tuple(_clamp((c - 0.5) * v + 0.5) for c in rgb)
    if kind == "saturation":
        m = [[0.213 + 0.787 * v, 0.715 - 0.715 * v, 0.072 - 0.072 * v],
             [0.213 - 0.213 * v, 0.715 + 0.285 * v, 0.072 - 0.072 * v],
             [0.213 - 0.213 * v, 0.715 - 0.715 * v, 0.072 + 0.928 * v]]
    else:
        cs, sn = math.cos(math.radians(v)), math.sin(math.radians(v))
        m = [[0.213 + cs * 0.787 - sn * 0.213, 0.715 - cs * 0.715 - sn * 0.715, 0.072 - cs * 0.072 + sn * 0.928],
             [0.213 - cs * 0.213 + sn * 0.143, 0.715 + cs * 0.285 + sn * 0.140, 0.072 - cs * 0.072 - sn * 0.283],
             [0.213 - cs * 0.213 - sn * 0.787, 0.715 - cs * 0.715 + sn * 0.715, 0.072 + cs * 0.928 + sn * 0.072]]
    return tuple(_clamp(row[0] * r + row[1] * g + row[2] * b) for row in m)


def ref_mask(luma, tonal):
    if tonal == "shadows":
        return _clamp(1 - luma / 127)
    if tonal == "highlights":
        return _clamp((luma - 128) / 127)
    if tonal == "midtones":
        if 64 <= luma <= 127:
            return (luma - 64) / 63
        if 127 < luma <= 191:
            return (191 - luma) / 64
        return 0.0
    return 1.0


def ref_pixel(pixel, controls):
    cur = tuple(c / 255 for c in pixel)
    for kind, value, tonal in controls:
        fx = ref_function(kind, value, cur)
        luma = (0.2126 * cur[0] + 0.7152 * cur[1] + 0.0722 * cur[2]) * 255
        m = ref_mask(luma, tonal)
        cur = tuple(c + (f - c) * m for c, f in zip(cur, fx))
    return tuple(int(math.floor(_clamp(c) * 255 + 0.5)) for c in cur)


# --------------------------------------------------------------------------- tests
SAMPLE_PIXELS = [(0, 0, 0), (255, 255, 255), (200, 40, 40), (30, 160, 90), (12, 20, 200), (128, 128, 128),
                 (70, 64, 60), (240, 230, 100), (100, 150, 200), (1, 254, 127)]

CASES = {
    "each function alone": [("brightness", 1.35, "all")],
    "contrast below one": [("contrast", 0.6, "all")],
    "saturation boost": [("saturation", 1.8, "all")],
    "desaturate": [("saturation", 0.0, "all")],
    "hue rotate": [("hue", 73, "all")],
    "hue negative": [("hue", -150, "all")],
    "stack in order": [("brightness", 1.2, "all"), ("contrast", 1.4, "all"), ("saturation", 0.7, "all"), ("hue", 30, "all")],
    "tonal ranges": [("brightness", 1.6, "shadows"), ("contrast", 1.5, "midtones"), ("hue", 90, "highlights")],
    "mixed, clipping": [("brightness", 2.0, "all"), ("saturation", 2.0, "midtones"), ("contrast", 0.3, "all")],
}


def _row(image):
    return [image.getpixel((x, 0)) for x in range(image.width)]


def _image_of(pixels):
    image = Image.new("RGB", (len(pixels), 1))
    image.putdata(pixels)
    return image


@pytest.mark.parametrize("name", list(CASES))
def test_the_pillow_render_equals_the_spec_reference_on_sample_pixels(tmp_path, name):
    controls = [Control(f"c_{i}", k, v, r) for i, (k, v, r) in enumerate(CASES[name])]
    source = tmp_path / "src.png"
    _image_of(SAMPLE_PIXELS).save(source)
    with Image.open(source) as opened:
        rendered = apply_edits(opened, controls)
    got = _row(rendered)
    expected = [ref_pixel(p, CASES[name]) for p in SAMPLE_PIXELS]
    assert got == expected


def test_the_render_changes_pixels_at_all():
    """Guards the reference test: the cases really move colours away from the input."""
    controls = [Control("a", "hue", 73, "all")]
    assert _row(apply_edits(_image_of(SAMPLE_PIXELS), controls)) != SAMPLE_PIXELS


def test_alpha_is_kept_and_palette_images_are_expanded():
    rgba = Image.new("RGBA", (4, 1), (200, 40, 40, 77))
    out = apply_edits(rgba, [Control("a", "brightness", 0.5, "all")])
    assert out.mode == "RGBA" and out.getpixel((0, 0)) == (100, 20, 20, 77)
    pal = Image.new("P", (2, 1))
    pal.putpalette([10, 200, 30] + [0] * 765)
    out = apply_edits(pal, [Control("a", "contrast", 2.0, "all")])
    assert out.mode == "RGB" and out.getpixel((0, 0)) == ref_pixel((10, 200, 30), [("contrast", 2.0, "all")])


def test_sixteen_bit_greys_are_scaled_not_clipped():
    grey = Image.new("I;16", (2, 1), 32768)
    out = apply_edits(grey, [Control("a", "brightness", 1.0 + 1e-9, "all")])
    assert out.getpixel((0, 0)) == (128, 128, 128)


def test_large_images_are_processed_in_strips_with_the_same_result():
    image = Image.radial_gradient("L").convert("RGB").resize((300, 600))
    controls = [Control("a", "saturation", 1.5, "all"), Control("b", "brightness", 1.3, "shadows")]
    out = apply_edits(image, controls)
    for y in (0, 255, 256, 257, 599):
        assert out.getpixel((123, y)) == ref_pixel(image.getpixel((123, y)), [("saturation", 1.5, "all"), ("brightness", 1.3, "shadows")])


def test_the_css_filter_string_lists_the_whole_image_controls_in_order():
    edits = normalize({"controls": [{"type": "brightness", "value": 1.2}, {"type": "hue", "value": -30},
                                    {"type": "contrast", "value": 1.5, "range": "shadows"},
                                    {"type": "saturation", "value": 1}]}, strict=True).edits
    assert css_filter(edits.controls) == "brightness(1.2) hue-rotate(-30deg)"


def test_the_shared_vectors_for_the_javascript_preview_match_this_reference():
    """``tests/js/edit_vectors.json`` feeds the node test of ``edit_preview.js``: it must be the reference's output."""
    data = json.loads(VECTORS.read_text(encoding="utf-8"))
    assert len(data["cases"]) >= 5
    for case in data["cases"]:
        controls = [(c["type"], c["value"], c["range"]) for c in case["controls"]]
        assert [list(ref_pixel(tuple(p), controls)) for p in data["pixels"]] == case["expected"], case["name"]
