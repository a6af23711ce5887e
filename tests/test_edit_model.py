"""The ``.edt`` content model: both earlier layouts read, strict validation of requests, hashes."""
from __future__ import annotations

import json

import pytest

from holaf_utilities.holaf_image_viewer_backend.edit_model import (
    MAX_CONTROLS,
    EditValidationError,
    from_json_text,
    normalize,
    to_json_text,
)


def test_the_flat_layout_becomes_ordered_controls_without_the_unchanged_sliders():
    result = normalize({"brightness": 1.2, "contrast": 1.0, "saturation": 0.5, "playbackRate": 1.5}, strict=False)
    assert result.layout == "flat"
    assert [(c.type, c.value, c.range) for c in result.edits.controls] == [("brightness", 1.2, "all"), ("saturation", 0.5, "all")]
    assert result.edits.playback_rate == 1.5
    assert [c.id for c in result.edits.controls] == ["c_1", "c_2"]


def test_the_flat_layout_range_keys_are_understood():
    result = normalize({"brightness": 1.3, "brightnessRange": "shadows"}, strict=False)
    assert result.edits.controls[0].range == "shadows"


def test_the_stacked_layout_keeps_order_duplicates_and_ids():
    data = {"controls": [
        {"id": "c_7", "type": "hue", "value": -40, "range": "all"},
        {"id": "c_2", "type": "brightness", "value": 1.1, "range": "highlights"},
        {"id": "c_3", "type": "brightness", "value": 0.9, "range": "shadows"},
    ], "targetFps": 24, "playbackRate": 1}
    edits = normalize(data, strict=True).edits
    assert [(c.id, c.type, c.value, c.range) for c in edits.controls] == [
        ("c_7", "hue", -40.0, "all"), ("c_2", "brightness", 1.1, "highlights"), ("c_3", "brightness", 0.9, "shadows")]
    assert edits.target_fps == 24.0
    written = json.loads(to_json_text(edits))
    assert written["controls"][0] == {"id": "c_7", "type": "hue", "value": -40.0, "range": "all"}
    assert normalize(written, strict=True).edits == edits


def test_numbers_out_of_range_are_clamped_with_a_warning():
    result = normalize({"controls": [{"type": "contrast", "value": 9}, {"type": "hue", "value": -500}],
                        "playbackRate": 50, "targetFps": 0.2}, strict=True)
    assert [c.value for c in result.edits.controls] == [2.0, -180.0]
    assert result.edits.playback_rate == 4.0 and result.edits.target_fps == 1.0
    assert len(result.warnings) == 4 and "clamped" in result.warnings[0]


@pytest.mark.parametrize("bad, fragment", [
    ({"controls": [{"type": "sharpen", "value": 1}]}, "unknown type"),
    ({"controls": [{"type": "hue", "value": 10, "range": "everything"}]}, "unknown range"),
    ({"controls": [{"type": "hue", "value": "10"}]}, "must be a number"),
    ({"controls": [{"type": "hue", "value": float("nan")}]}, "finite"),
    ({"controls": [{"type": "hue", "value": True}]}, "must be a number"),
    ({"controls": "brightness"}, "must be a list"),
    ({"controls": [], "crop": [0, 0, 1, 1]}, "unknown keys"),
    ({"controls": [{"type": "hue", "value": 1, "colour": "red"}]}, "unknown keys"),
    ({"controls": [{"type": "hue", "value": 1, "id": "../../x"}]}, "id must be"),
    ({"controls": [{"type": "hue", "value": 1}] * (MAX_CONTROLS + 1)}, "at most"),
    ({"controls": [], "brightness": 1.2}, "not both"),
    ({"controls": [], "interpolate": "yes"}, "true or false"),
    ([1, 2], "JSON object"),
])
def test_a_request_with_anything_unknown_or_malformed_is_refused(bad, fragment):
    with pytest.raises(EditValidationError) as caught:
        normalize(bad, strict=True)
    assert fragment in str(caught.value)


def test_a_damaged_file_keeps_its_good_controls_and_reports_the_rest():
    text = json.dumps({"controls": [{"type": "brightness", "value": 1.4}, {"type": "blur", "value": 3},
                                    "junk", {"type": "hue", "value": "x"}], "extra": 1})
    result = from_json_text(text)
    assert [c.type for c in result.edits.controls] == ["brightness"]
    assert len(result.warnings) == 4


def test_missing_or_repeated_ids_are_made_unique():
    edits = normalize({"controls": [{"type": "hue", "value": 1, "id": "c_2"}, {"type": "hue", "value": 2, "id": "c_2"},
                                    {"type": "hue", "value": 3}]}, strict=True).edits
    ids = [c.id for c in edits.controls]
    assert ids[0] == "c_2" and len(set(ids)) == 3


def test_the_pixel_hash_ignores_speed_and_neutral_controls_but_not_values():
    a = normalize({"controls": [{"type": "brightness", "value": 1.2}], "playbackRate": 1}, strict=True).edits
    b = normalize({"controls": [{"type": "brightness", "value": 1.2}, {"type": "hue", "value": 0}],
                   "playbackRate": 2}, strict=True).edits
    c = normalize({"controls": [{"type": "brightness", "value": 1.21}]}, strict=True).edits
    assert a.pixel_hash() == b.pixel_hash() != c.pixel_hash()
    assert a.content_hash() != b.content_hash()


def test_an_empty_edit_set_is_recognised():
    assert normalize({"controls": []}, strict=True).edits.is_empty
    assert normalize({"brightness": 1.0, "contrast": 1.0, "saturation": 1.0}, strict=False).edits.is_empty
    assert not normalize({"controls": [], "playbackRate": 0.5}, strict=True).edits.is_empty
