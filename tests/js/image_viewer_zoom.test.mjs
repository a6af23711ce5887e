// Zoom view maths: fit, wheel zoom around the cursor within 1-30x, pan bounds.
import { test } from "node:test";
import assert from "node:assert/strict";
import { fitSize, initialState, zoomAt, panBy, clampPan, wheelFactor, MAX_SCALE } from "../../js/image_viewer/zoom_math.js";

const vp = { width: 800, height: 600 };

test("media is contained in the viewport with its aspect ratio", () => {
  assert.deepEqual(fitSize({ width: 1600, height: 900 }, vp), { width: 800, height: 450 });
  assert.deepEqual(fitSize({ width: 512, height: 1024 }, vp), { width: 300, height: 600 });
  assert.deepEqual(fitSize({ width: 0, height: 0 }, vp), vp);
});

test("the fitted media starts centred at scale 1", () => {
  const fitted = fitSize({ width: 1600, height: 900 }, vp);
  assert.deepEqual(initialState(fitted, vp), { scale: 1, x: 0, y: 75 });
});

test("zooming keeps the point under the cursor still", () => {
  const fitted = { width: 800, height: 600 };
  const start = initialState(fitted, vp);
  const point = { x: 200, y: 150 };
  const z = zoomAt(start, 2, point, fitted, vp);
  assert.equal(z.scale, 2);
  const mediaX = (point.x - z.x) / z.scale;
  const mediaY = (point.y - z.y) / z.scale;
  assert.deepEqual([mediaX, mediaY], [200, 150]);
});

test("zoom stays between 1x and 30x", () => {
  const fitted = { width: 800, height: 600 };
  let s = initialState(fitted, vp);
  for (let i = 0; i < 100; i++) s = zoomAt(s, 1.5, { x: 400, y: 300 }, fitted, vp);
  assert.equal(s.scale, MAX_SCALE);
  for (let i = 0; i < 100; i++) s = zoomAt(s, 0.5, { x: 10, y: 10 }, fitted, vp);
  assert.deepEqual(s, initialState(fitted, vp));
});

test("panning never uncovers empty space and a small axis stays centred", () => {
  const fitted = { width: 800, height: 450 };
  let s = zoomAt(initialState(fitted, vp), 2, { x: 400, y: 300 }, fitted, vp);
  s = panBy(s, 5000, 5000, fitted, vp);
  assert.deepEqual([s.x, s.y], [0, 0]);
  s = panBy(s, -5000, -5000, fitted, vp);
  assert.deepEqual([s.x, s.y], [800 - 1600, 600 - 900]);
  const one = clampPan({ scale: 1, x: 123, y: -40 }, fitted, vp);
  assert.deepEqual([one.x, one.y], [0, 75]);
});

test("a wheel notch zooms in when scrolling up and the step is bounded", () => {
  assert.ok(wheelFactor(-100) > 1);
  assert.ok(wheelFactor(100) < 1);
  assert.equal(wheelFactor(-100000), wheelFactor(-500));
});
