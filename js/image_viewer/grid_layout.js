/**
 * Pure geometry of the virtualized gallery grid: columns from the width and the tile
 * size, which rows are visible for a scroll position, where each tile goes, which
 * tiles a rubber band covers, and where to scroll to show an index. No DOM, so
 * `node --test` checks it (tests/js/image_viewer_grid.test.mjs).
 *
 * Browsers cap an element's height (Chromium: about 33.5 million px). A grid taller
 * than {@link MAX_SCROLL_PX} is *scaled*: the scrollable height stays at the cap and a
 * scroll position maps linearly onto the real content, so 1,000,000 tiles of 400 px
 * still scroll end to end. Tile positions are always computed in scroll-space
 * (`tileTop`), which equals content space when nothing is scaled.
 * @module image_viewer/grid_layout
 */

export const MAX_SCROLL_PX = 8_000_000;
export const MIN_TILE = 80;
export const MAX_TILE = 400;

/**
 * @typedef {object} GridLayout
 * @property {number} count number of items
 * @property {number} columns
 * @property {number} gap px between tiles
 * @property {number} padding px around the grid
 * @property {number} cellWidth width of one tile (stretched so the row fills the width)
 * @property {number} cellHeight height of one tile (square tiles: = cellWidth)
 * @property {number} rowHeight cellHeight + gap
 * @property {number} rows
 * @property {number} contentHeight the real height of all rows
 * @property {number} scrollHeight the height given to the scroll sizer (≤ MAX_SCROLL_PX)
 * @property {number} viewportHeight
 * @property {boolean} scaled true when scroll positions are mapped onto a taller content
 */

/** @param {number} value @param {number} lo @param {number} hi */
export function clamp(value, lo, hi) {
  return Math.min(hi, Math.max(lo, value));
}

/**
 * Grid geometry for a container.
 * @param {{width: number, viewportHeight: number, tileSize: number, count: number, gap?: number, padding?: number, maxScrollPx?: number}} input
 * @returns {GridLayout}
 */
export function computeLayout(input) {
  const gap = input.gap ?? 6;
  const padding = input.padding ?? 6;
  const tile = clamp(Math.round(Number(input.tileSize) || 150), MIN_TILE, MAX_TILE);
  const inner = Math.max(1, Math.floor((Number(input.width) || 0) - padding * 2));
  const columns = Math.max(1, Math.floor((inner + gap) / (tile + gap)));
  const cellWidth = Math.max(1, Math.floor((inner - gap * (columns - 1)) / columns));
  const cellHeight = cellWidth;
  const rowHeight = cellHeight + gap;
  const count = Math.max(0, Math.floor(Number(input.count) || 0));
  const rows = Math.ceil(count / columns);
  const contentHeight = rows ? padding * 2 + rows * rowHeight - gap : 0;
  const viewportHeight = Math.max(1, Number(input.viewportHeight) || 1);
  const max = input.maxScrollPx ?? MAX_SCROLL_PX;
  const scaled = contentHeight > max;
  return {
    count, columns, gap, padding, cellWidth, cellHeight, rowHeight, rows, contentHeight,
    scrollHeight: scaled ? max : contentHeight, viewportHeight, scaled,
  };
}

/**
 * The content offset shown at the top of the viewport for a scroll position.
 * @param {GridLayout} layout
 * @param {number} scrollTop
 */
export function contentTop(layout, scrollTop) {
  if (!layout.scaled) return Math.max(0, scrollTop);
  const scrollRange = Math.max(1, layout.scrollHeight - layout.viewportHeight);
  const contentRange = Math.max(0, layout.contentHeight - layout.viewportHeight);
  return clamp(scrollTop, 0, scrollRange) * (contentRange / scrollRange);
}

/**
 * Inverse of {@link contentTop}: the scroll position that shows `offset` at the top.
 * @param {GridLayout} layout
 * @param {number} offset
 */
export function scrollTopForContent(layout, offset) {
  const contentRange = Math.max(0, layout.contentHeight - layout.viewportHeight);
  const target = clamp(offset, 0, contentRange);
  if (!layout.scaled) return target;
  const scrollRange = Math.max(1, layout.scrollHeight - layout.viewportHeight);
  return contentRange ? target * (scrollRange / contentRange) : 0;
}

/**
 * Items to render for a scroll position: the visible rows plus `bufferRows` above and below.
 * @param {GridLayout} layout
 * @param {number} scrollTop
 * @param {number} [bufferRows]
 * @returns {{start: number, end: number, firstRow: number, lastRow: number, firstVisible: number, lastVisible: number}}
 *   `start`/`end`: item range to render (end exclusive); `firstVisible`/`lastVisible`: fully or partly visible items
 */
export function visibleRange(layout, scrollTop, bufferRows = 2) {
  if (!layout.count) return { start: 0, end: 0, firstRow: 0, lastRow: -1, firstVisible: 0, lastVisible: -1 };
  const top = contentTop(layout, scrollTop) - layout.padding;
  const firstVisibleRow = clamp(Math.floor(top / layout.rowHeight), 0, layout.rows - 1);
  const lastVisibleRow = clamp(Math.floor((top + layout.viewportHeight) / layout.rowHeight), 0, layout.rows - 1);
  const firstRow = Math.max(0, firstVisibleRow - bufferRows);
  const lastRow = Math.min(layout.rows - 1, lastVisibleRow + bufferRows);
  return {
    start: firstRow * layout.columns,
    end: Math.min(layout.count, (lastRow + 1) * layout.columns),
    firstRow, lastRow,
    firstVisible: firstVisibleRow * layout.columns,
    lastVisible: Math.min(layout.count - 1, (lastVisibleRow + 1) * layout.columns - 1),
  };
}

/**
 * Top-left corner of an item in content space.
 * @param {GridLayout} layout
 * @param {number} index
 */
export function itemPosition(layout, index) {
  const row = Math.floor(index / layout.columns);
  const col = index % layout.columns;
  return { x: layout.padding + col * (layout.cellWidth + layout.gap), y: layout.padding + row * layout.rowHeight, row, col };
}

/**
 * Where to place an item's tile inside the scroll sizer for the current scroll position.
 * Equals the content position when the grid is not scaled.
 * @param {GridLayout} layout
 * @param {number} index
 * @param {number} scrollTop
 */
export function tilePlacement(layout, index, scrollTop) {
  const pos = itemPosition(layout, index);
  const shift = layout.scaled ? scrollTop - contentTop(layout, scrollTop) : 0;
  return { x: pos.x, y: pos.y + shift };
}

/**
 * The scroll position that brings `index` fully into view with the least movement
 * (unchanged when it already is).
 * @param {GridLayout} layout
 * @param {number} index
 * @param {number} scrollTop current position
 */
export function scrollTopToReveal(layout, index, scrollTop) {
  if (!layout.count) return 0;
  const { y } = itemPosition(layout, clamp(index, 0, layout.count - 1));
  const top = contentTop(layout, scrollTop);
  let target = top;
  if (y < top) target = y - layout.padding;
  else if (y + layout.cellHeight > top + layout.viewportHeight) target = y + layout.cellHeight + layout.padding - layout.viewportHeight;
  if (target === top) return scrollTop;
  return scrollTopForContent(layout, target);
}

/**
 * The item under a point given in content space (null on a gap or past the end).
 * @param {GridLayout} layout
 * @param {number} x
 * @param {number} y
 */
export function indexAtPoint(layout, x, y) {
  const cx = x - layout.padding;
  const cy = y - layout.padding;
  if (cx < 0 || cy < 0) return null;
  const col = Math.floor(cx / (layout.cellWidth + layout.gap));
  const row = Math.floor(cy / layout.rowHeight);
  if (col >= layout.columns) return null;
  if (cx - col * (layout.cellWidth + layout.gap) > layout.cellWidth) return null;
  if (cy - row * layout.rowHeight > layout.cellHeight) return null;
  const index = row * layout.columns + col;
  return index < layout.count ? index : null;
}

/**
 * Indices of the tiles a rubber band (content space, any corner order) touches.
 * @param {GridLayout} layout
 * @param {{x1: number, y1: number, x2: number, y2: number}} band
 * @returns {number[]}
 */
export function indicesInBand(layout, band) {
  if (!layout.count) return [];
  const left = Math.min(band.x1, band.x2) - layout.padding;
  const right = Math.max(band.x1, band.x2) - layout.padding;
  const top = Math.min(band.y1, band.y2) - layout.padding;
  const bottom = Math.max(band.y1, band.y2) - layout.padding;
  const step = layout.cellWidth + layout.gap;
  const colFrom = Math.max(0, Math.floor(left / step) + (left % step > layout.cellWidth ? 1 : 0));
  const colTo = Math.min(layout.columns - 1, Math.floor(right / step));
  const rowFrom = Math.max(0, Math.floor(top / layout.rowHeight) + (top % layout.rowHeight > layout.cellHeight ? 1 : 0));
  const rowTo = Math.min(layout.rows - 1, Math.floor(bottom / layout.rowHeight));
  const out = [];
  if (right < 0 || bottom < 0) return out;
  for (let row = rowFrom; row <= rowTo; row++) {
    for (let col = colFrom; col <= colTo; col++) {
      const index = row * layout.columns + col;
      if (index < layout.count) out.push(index);
    }
  }
  return out;
}

/**
 * The index that keeps the same item near the top when the column count changes
 * (resizing the panel or the tile size): the first item of the row that was at the top.
 * @param {GridLayout} before
 * @param {number} scrollTop
 */
export function anchorIndex(before, scrollTop) {
  const top = contentTop(before, scrollTop) - before.padding;
  const row = clamp(Math.floor(top / before.rowHeight), 0, Math.max(0, before.rows - 1));
  return row * before.columns;
}
