// Panel geometry: clamping, dragging, resizing from every edge, restoring saved values.
import { test } from "node:test";
import assert from "node:assert/strict";
import { clampRect, dragRect, resizeRect, restoreRect, rectToSettings, centeredRect, MIN_WIDTH, MIN_HEIGHT, EDGES } from "../../js/common/geometry.js";

const VP = { width: 1280, height: 800 };

test("a rect inside the viewport is left alone", () => {
  assert.deepEqual(clampRect({ x: 100, y: 50, width: 400, height: 300 }, VP), { x: 100, y: 50, width: 400, height: 300 });
});

test("a rect past the right/bottom edges is moved back inside", () => {
  assert.deepEqual(clampRect({ x: 1200, y: 790, width: 400, height: 300 }, VP), { x: 880, y: 500, width: 400, height: 300 });
});

test("negative positions are clamped to zero", () => {
  assert.deepEqual(clampRect({ x: -50, y: -10, width: 400, height: 300 }, VP), { x: 0, y: 0, width: 400, height: 300 });
});

test("a panel larger than the viewport shrinks to fit", () => {
  assert.deepEqual(clampRect({ x: 0, y: 0, width: 3000, height: 2000 }, VP), { x: 0, y: 0, width: 1280, height: 800 });
});

test("NaN or missing values never reach the DOM", () => {
  const rect = clampRect({ x: NaN, y: undefined, width: NaN, height: Infinity }, VP);
  for (const value of Object.values(rect)) assert.ok(Number.isFinite(value), JSON.stringify(rect));
  assert.equal(rect.width, MIN_WIDTH);
  assert.equal(rect.height, MIN_HEIGHT);
});

test("dragging stops at the viewport edges", () => {
  const start = { x: 100, y: 100, width: 400, height: 300 };
  assert.deepEqual(dragRect(start, 50, 20, VP), { x: 150, y: 120, width: 400, height: 300 });
  assert.deepEqual(dragRect(start, -500, -500, VP), { x: 0, y: 0, width: 400, height: 300 });
  assert.deepEqual(dragRect(start, 5000, 5000, VP), { x: 880, y: 500, width: 400, height: 300 });
});

test("resizing from the east/south edges keeps the top-left corner", () => {
  const start = { x: 100, y: 100, width: 400, height: 300 };
  assert.deepEqual(resizeRect(start, "se", 60, 40, VP), { x: 100, y: 100, width: 460, height: 340 });
  assert.deepEqual(resizeRect(start, "e", 60, 40, VP), { x: 100, y: 100, width: 460, height: 300 });
  assert.deepEqual(resizeRect(start, "s", 60, 40, VP), { x: 100, y: 100, width: 400, height: 340 });
});

test("resizing from the west/north edges keeps the opposite edges in place", () => {
  const start = { x: 100, y: 100, width: 400, height: 300 };
  assert.deepEqual(resizeRect(start, "nw", -30, -20, VP), { x: 70, y: 80, width: 430, height: 320 });
  assert.deepEqual(resizeRect(start, "w", 50, 0, VP), { x: 150, y: 100, width: 350, height: 300 });
  assert.deepEqual(resizeRect(start, "n", 0, 50, VP), { x: 100, y: 150, width: 400, height: 250 });
});

test("resizing never goes below the minimum size nor past the viewport", () => {
  const start = { x: 100, y: 100, width: 400, height: 300 };
  const small = resizeRect(start, "se", -1000, -1000, VP);
  assert.equal(small.width, MIN_WIDTH);
  assert.equal(small.height, MIN_HEIGHT);
  const shrunkFromWest = resizeRect(start, "w", 1000, 0, VP);
  assert.equal(shrunkFromWest.width, MIN_WIDTH);
  assert.equal(shrunkFromWest.x + shrunkFromWest.width, 500, "the east edge stays");
  const big = resizeRect(start, "ne", 5000, -5000, VP);
  assert.deepEqual(big, { x: 100, y: 0, width: 1180, height: 400 });
  const custom = resizeRect(start, "e", -1000, 0, VP, { minWidth: 500 });
  assert.equal(custom.width, 500);
});

test("every edge name moves only its own edges", () => {
  const start = { x: 200, y: 200, width: 400, height: 300 };
  for (const edge of EDGES) {
    const r = resizeRect(start, edge, 10, 10, VP);
    assert.equal(r.x !== start.x, edge.includes("w"), edge);
    assert.equal(r.y !== start.y, edge.includes("n"), edge);
    assert.equal(r.x + r.width !== start.x + start.width, edge.includes("e"), edge);
    assert.equal(r.y + r.height !== start.y + start.height, edge.includes("s"), edge);
  }
});

test("saved geometry is restored and clamped; missing position means centred", () => {
  const saved = { panel_x: 40, panel_y: 60, panel_width: 500, panel_height: 400 };
  assert.deepEqual(restoreRect(saved, { width: 640, height: 560 }, VP), { x: 40, y: 60, width: 500, height: 400 });
  assert.deepEqual(restoreRect({ panel_x: null, panel_y: null }, { width: 640, height: 560 }, VP), centeredRect({ width: 640, height: 560 }, VP));
  assert.deepEqual(restoreRect(undefined, { width: 640, height: 560 }, VP), { x: 320, y: 120, width: 640, height: 560 });
  // saved on a bigger screen: still fully visible here
  const fromBigScreen = restoreRect({ panel_x: 2400, panel_y: 1300, panel_width: 900, panel_height: 700 }, { width: 640, height: 560 }, VP);
  assert.deepEqual(fromBigScreen, { x: 380, y: 100, width: 900, height: 700 });
});

test("settings values are whole pixels within the server's limits", () => {
  assert.deepEqual(rectToSettings({ x: 10.4, y: -3.6, width: 150, height: 90 }), { panel_x: 10, panel_y: -4, panel_width: 200, panel_height: 120 });
});
