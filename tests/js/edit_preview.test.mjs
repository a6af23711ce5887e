// The editor's preview math (js/image_viewer/edit_preview.js) against the vectors the Python
// reference wrote (tests/js/edit_vectors.json, checked by tests/test_edit_math.py), so the
// canvas preview, the CSS filter and the exported file agree pixel for pixel.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";

import {
  applyToPixels, cssFilter, editsEqual, effectivePlaybackRate, elementFilter, hasRangedControls, isEmptyEdits,
  nextControlId, normalizeEdits, previewSize, toneMask,
} from "../../js/image_viewer/edit_preview.js";

const vectors = JSON.parse(readFileSync(new URL("./edit_vectors.json", import.meta.url), "utf8"));

test("the canvas math gives exactly the reference pixels for every case", () => {
  assert.ok(vectors.cases.length >= 5);
  for (const c of vectors.cases) {
    const data = new Uint8ClampedArray(vectors.pixels.flatMap(([r, g, b]) => [r, g, b, 200]));
    applyToPixels(data, c.controls.map((control, i) => ({ id: `c_${i}`, ...control })));
    const got = [];
    for (let i = 0; i < data.length; i += 4) got.push([data[i], data[i + 1], data[i + 2]]);
    assert.deepEqual(got, c.expected, c.name);
    for (let i = 3; i < data.length; i += 4) assert.equal(data[i], 200, "alpha untouched");
  }
});

test("the tone masks match the documented ramps", () => {
  assert.equal(toneMask(0, "shadows"), 1);
  assert.equal(toneMask(127, "shadows"), 0);
  assert.equal(toneMask(64, "midtones"), 0);
  assert.equal(toneMask(127, "midtones"), 1);
  assert.equal(toneMask(191, "midtones"), 0);
  assert.equal(toneMask(128, "highlights"), 0);
  assert.equal(toneMask(255, "highlights"), 1);
  assert.equal(toneMask(10, "all"), 1);
});

test("the CSS filter lists whole-image controls in order and leaves ranged ones to the canvas", () => {
  const controls = [
    { id: "c_1", type: "brightness", value: 1.2, range: "all" },
    { id: "c_2", type: "hue", value: -30, range: "all" },
    { id: "c_3", type: "contrast", value: 1.5, range: "shadows" },
    { id: "c_4", type: "saturation", value: 1, range: "all" },
  ];
  assert.equal(cssFilter(controls), "brightness(1.2) hue-rotate(-30deg)");
  assert.ok(hasRangedControls(controls));
  assert.equal(elementFilter(controls), "none");
  assert.equal(elementFilter(controls.slice(0, 2)), "brightness(1.2) hue-rotate(-30deg)");
  assert.equal(cssFilter([]), "none");
});

test("both earlier layouts normalise to the stacked one with unique ids and clamped values", () => {
  const flat = normalizeEdits({ brightness: 1.3, contrast: 1, saturation: 5, playbackRate: 9, saturationRange: "highlights" });
  assert.deepEqual(flat.controls, [
    { id: "c_1", type: "brightness", value: 1.3, range: "all" },
    { id: "c_2", type: "saturation", value: 2, range: "highlights" },
  ]);
  assert.equal(flat.playbackRate, 4);
  const stacked = normalizeEdits({ controls: [{ id: "c_2", type: "hue", value: 10 }, { id: "c_2", type: "hue", value: 20 }, { type: "blur" }], targetFps: 24 });
  assert.deepEqual(stacked.controls.map((c) => c.id), ["c_2", "c_1"]);
  assert.equal(stacked.targetFps, 24);
  assert.equal(nextControlId(stacked.controls), "c_3");
  assert.ok(isEmptyEdits(normalizeEdits(null)));
  assert.ok(editsEqual(normalizeEdits({ brightness: 1.3 }), { controls: [{ id: "c_1", type: "brightness", value: 1.3, range: "all" }], playbackRate: 1 }));
});

test("the preview canvas never exceeds 1920 px and video speed includes the frame-rate change", () => {
  assert.deepEqual(previewSize(4000, 3000), { width: 1920, height: 1440 });
  assert.deepEqual(previewSize(800, 600), { width: 800, height: 600 });
  assert.equal(effectivePlaybackRate({ controls: [], playbackRate: 1, targetFps: 24 }, 16), 1.5);
  assert.equal(effectivePlaybackRate({ controls: [], playbackRate: 2, targetFps: null }, 16), 2);
});
