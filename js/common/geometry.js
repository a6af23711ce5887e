/**
 * Pure panel geometry: clamping to the viewport, dragging, resizing from any edge,
 * restoring saved values. No DOM, so `node --test` checks it (tests/js/geometry.test.mjs).
 * @module common/geometry
 */

/**
 * @typedef {object} Rect
 * @property {number} x left edge in CSS px
 * @property {number} y top edge in CSS px
 * @property {number} width
 * @property {number} height
 */

/**
 * @typedef {object} Viewport
 * @property {number} width
 * @property {number} height
 */

/**
 * @typedef {object} SizeLimits
 * @property {number} [minWidth]
 * @property {number} [minHeight]
 */

/** Smallest panel the resize handles allow (the server refuses < 200 x 120). */
export const MIN_WIDTH = 280;
export const MIN_HEIGHT = 160;

/** Resize handle names: the letters say which edges move. */
export const EDGES = /** @type {const} */ (["n", "s", "e", "w", "ne", "nw", "se", "sw"]);

/**
 * @param {number} value
 * @param {number} lo
 * @param {number} hi
 */
export function clamp(value, lo, hi) {
  if (!Number.isFinite(value)) return lo;
  if (hi < lo) return lo;
  return Math.min(hi, Math.max(lo, value));
}

/** @param {unknown} value */
function finite(value) {
  return typeof value === "number" && Number.isFinite(value);
}

/**
 * Keeps a panel fully inside the viewport: it shrinks to fit first, then moves.
 * Non-finite input (NaN from a corrupt setting) falls back to a safe value.
 * @param {Rect} rect
 * @param {Viewport} viewport
 * @param {SizeLimits} [limits]
 * @returns {Rect}
 */
export function clampRect(rect, viewport, limits = {}) {
  const vw = Math.max(1, Math.floor(viewport.width));
  const vh = Math.max(1, Math.floor(viewport.height));
  const minW = Math.min(limits.minWidth ?? MIN_WIDTH, vw);
  const minH = Math.min(limits.minHeight ?? MIN_HEIGHT, vh);
  const width = Math.round(clamp(finite(rect.width) ? rect.width : minW, minW, vw));
  const height = Math.round(clamp(finite(rect.height) ? rect.height : minH, minH, vh));
  const x = Math.round(clamp(finite(rect.x) ? rect.x : (vw - width) / 2, 0, vw - width));
  const y = Math.round(clamp(finite(rect.y) ? rect.y : (vh - height) / 2, 0, vh - height));
  return { x, y, width, height };
}

/**
 * A rect of the given size centred in the viewport (then clamped).
 * @param {{width: number, height: number}} size
 * @param {Viewport} viewport
 * @param {SizeLimits} [limits]
 */
export function centeredRect(size, viewport, limits) {
  return clampRect(
    { x: (viewport.width - size.width) / 2, y: (viewport.height - size.height) / 2, width: size.width, height: size.height },
    viewport,
    limits,
  );
}

/**
 * Where a panel goes while its header is dragged by (dx, dy) from `start`.
 * @param {Rect} start
 * @param {number} dx
 * @param {number} dy
 * @param {Viewport} viewport
 * @returns {Rect}
 */
export function dragRect(start, dx, dy, viewport) {
  return clampRect({ ...start, x: start.x + dx, y: start.y + dy }, viewport, { minWidth: 1, minHeight: 1 });
}

/**
 * The rect after dragging resize handle `edge` by (dx, dy). The opposite edges stay put;
 * the moving edges stop at the viewport and at the minimum size.
 * @param {Rect} start
 * @param {string} edge one of EDGES
 * @param {number} dx
 * @param {number} dy
 * @param {Viewport} viewport
 * @param {SizeLimits} [limits]
 * @returns {Rect}
 */
export function resizeRect(start, edge, dx, dy, viewport, limits = {}) {
  const minW = Math.min(limits.minWidth ?? MIN_WIDTH, viewport.width);
  const minH = Math.min(limits.minHeight ?? MIN_HEIGHT, viewport.height);
  let left = start.x;
  let top = start.y;
  let right = start.x + start.width;
  let bottom = start.y + start.height;
  if (edge.includes("e")) right = clamp(right + dx, left + minW, viewport.width);
  if (edge.includes("w")) left = clamp(left + dx, 0, right - minW);
  if (edge.includes("s")) bottom = clamp(bottom + dy, top + minH, viewport.height);
  if (edge.includes("n")) top = clamp(top + dy, 0, bottom - minH);
  return {
    x: Math.round(left),
    y: Math.round(top),
    width: Math.round(right - left),
    height: Math.round(bottom - top),
  };
}

/**
 * @typedef {object} PanelSettings
 * @property {number | null} [panel_x]
 * @property {number | null} [panel_y]
 * @property {number | null} [panel_width]
 * @property {number | null} [panel_height]
 * @property {boolean} [panel_is_fullscreen]
 */

/**
 * The rect to open a panel with: the saved one if any (clamped to this viewport),
 * else the default size centred. `panel_x`/`panel_y` null means "centred".
 * @param {PanelSettings | undefined} saved
 * @param {{width: number, height: number}} defaultSize
 * @param {Viewport} viewport
 * @param {SizeLimits} [limits]
 * @returns {Rect}
 */
export function restoreRect(saved, defaultSize, viewport, limits) {
  const s = saved || {};
  const width = finite(s.panel_width) ? /** @type {number} */ (s.panel_width) : defaultSize.width;
  const height = finite(s.panel_height) ? /** @type {number} */ (s.panel_height) : defaultSize.height;
  if (!finite(s.panel_x) || !finite(s.panel_y)) return centeredRect({ width, height }, viewport, limits);
  return clampRect({ x: /** @type {number} */ (s.panel_x), y: /** @type {number} */ (s.panel_y), width, height }, viewport, limits);
}

/**
 * The settings keys that persist a rect (whole pixels, as the server stores them).
 * @param {Rect} rect
 * @returns {{panel_x: number, panel_y: number, panel_width: number, panel_height: number}}
 */
export function rectToSettings(rect) {
  return {
    panel_x: Math.round(rect.x),
    panel_y: Math.round(rect.y),
    panel_width: Math.max(200, Math.round(rect.width)),
    panel_height: Math.max(120, Math.round(rect.height)),
  };
}

/**
 * Whether two rects are the same to the pixel (skip redundant DOM writes and saves).
 * @param {Rect | null | undefined} a
 * @param {Rect | null | undefined} b
 */
export function sameRect(a, b) {
  return !!a && !!b && a.x === b.x && a.y === b.y && a.width === b.width && a.height === b.height;
}
