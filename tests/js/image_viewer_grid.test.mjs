// Gallery grid geometry: columns, visible ranges, tile placement, rubber bands, scaled scrolling.
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  computeLayout, visibleRange, itemPosition, tilePlacement, scrollTopToReveal, indexAtPoint, indicesInBand,
  contentTop, scrollTopForContent, anchorIndex, MAX_SCROLL_PX,
} from "../../js/image_viewer/grid_layout.js";

const base = { width: 1000, viewportHeight: 600, tileSize: 150, gap: 6, padding: 6 };

test("columns fill the width and tiles stretch to close the row", () => {
  const l = computeLayout({ ...base, count: 100 });
  assert.equal(l.columns, 6); // (988 + 6) / 156 = 6.37
  assert.equal(l.cellWidth, Math.floor((988 - 5 * 6) / 6));
  assert.equal(l.rows, 17);
  assert.equal(l.contentHeight, 12 + 17 * l.rowHeight - 6);
  assert.equal(l.scaled, false);
});

test("the tile size is clamped to 80-400 px and a narrow pane still has one column", () => {
  assert.equal(computeLayout({ ...base, tileSize: 20, count: 1 }).columns, computeLayout({ ...base, tileSize: 80, count: 1 }).columns);
  assert.equal(computeLayout({ ...base, tileSize: 9999, count: 1 }).columns, 2);
  assert.equal(computeLayout({ ...base, width: 50, count: 3 }).columns, 1);
});

test("the visible range covers the viewport plus buffer rows and never passes the end", () => {
  const l = computeLayout({ ...base, count: 1000 });
  const r = visibleRange(l, 0, 2);
  assert.equal(r.start, 0);
  const visibleRows = Math.floor(600 / l.rowHeight) + 1;
  assert.equal(r.end, (visibleRows + 2) * l.columns);
  const bottom = visibleRange(l, l.scrollHeight - 600, 2);
  assert.equal(bottom.end, 1000);
  assert.ok(bottom.lastVisible === 999);
  assert.ok(bottom.start > 0 && bottom.start % l.columns === 0);
});

test("an empty grid renders nothing", () => {
  const l = computeLayout({ ...base, count: 0 });
  assert.deepEqual([visibleRange(l, 0).start, visibleRange(l, 0).end], [0, 0]);
  assert.equal(l.contentHeight, 0);
});

test("the number of rendered tiles does not grow with the item count", () => {
  const small = computeLayout({ ...base, count: 500 });
  const huge = computeLayout({ ...base, count: 1_000_000 });
  const bound = (Math.ceil(600 / small.rowHeight) + 1 + 4) * small.columns;
  for (const top of [0, 777, 2000, 5003]) {
    const a = visibleRange(small, top, 2);
    assert.ok(a.end - a.start <= bound, `${a.end - a.start} > ${bound}`);
  }
  for (const top of [0, 2_000_000, 12_345_678]) {
    const b = visibleRange(huge, top, 2);
    assert.ok(b.end - b.start <= bound, `${b.end - b.start} > ${bound}`);
  }
});

test("a grid taller than the browser limit is scaled and reaches its last row", () => {
  const l = computeLayout({ ...base, tileSize: 400, count: 1_000_000 });
  assert.equal(l.scaled, true);
  assert.equal(l.scrollHeight, MAX_SCROLL_PX);
  const end = visibleRange(l, l.scrollHeight - l.viewportHeight, 0);
  assert.equal(end.lastVisible, 999_999);
  const middle = scrollTopForContent(l, l.contentHeight / 2);
  assert.ok(Math.abs(contentTop(l, middle) - l.contentHeight / 2) < 1);
  // tiles are placed in scroll space: the visible ones sit inside the viewport
  const top = middle;
  const r = visibleRange(l, top, 0);
  const y = tilePlacement(l, r.firstVisible, top).y;
  assert.ok(y <= top + 1 && y + l.rowHeight >= top, `${y} vs ${top}`);
});

test("revealing an index scrolls the least and not at all when it is visible", () => {
  const l = computeLayout({ ...base, count: 1000 });
  assert.equal(scrollTopToReveal(l, 3, 0), 0);
  const below = scrollTopToReveal(l, 60, 0);
  const pos = itemPosition(l, 60);
  assert.equal(below, pos.y + l.cellHeight + l.padding - 600);
  const above = scrollTopToReveal(l, 0, 5000);
  assert.equal(above, 0);
});

test("points map to tiles, gaps and the empty end map to nothing", () => {
  const l = computeLayout({ ...base, count: 8 });
  assert.equal(indexAtPoint(l, 10, 10), 0);
  const p = itemPosition(l, 7);
  assert.equal(indexAtPoint(l, p.x + 5, p.y + 5), 7);
  assert.equal(indexAtPoint(l, 6 + l.cellWidth + 2, 10), null, "gap");
  const after = itemPosition(l, 8 % l.columns);
  assert.equal(indexAtPoint(l, after.x + 5, itemPosition(l, 8).y + 5), null, "past the last item");
});

test("a rubber band selects exactly the tiles it touches, dragged in any direction", () => {
  const l = computeLayout({ ...base, count: 100 });
  const a = itemPosition(l, 1);
  const b = itemPosition(l, l.columns + 2);
  const band = { x1: a.x + 10, y1: a.y + 10, x2: b.x + 10, y2: b.y + 10 };
  const expected = [1, 2, l.columns + 1, l.columns + 2];
  assert.deepEqual(indicesInBand(l, band), expected);
  assert.deepEqual(indicesInBand(l, { x1: band.x2, y1: band.y2, x2: band.x1, y2: band.y1 }), expected);
  assert.deepEqual(indicesInBand(l, { x1: 0, y1: 0, x2: 3, y2: 3 }), []);
});

test("the anchor keeps the top row's first item across a column change", () => {
  const l = computeLayout({ ...base, count: 1000 });
  const top = itemPosition(l, 60).y;
  const anchor = anchorIndex(l, top);
  assert.equal(anchor, 60 - (60 % l.columns));
});
