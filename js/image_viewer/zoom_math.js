/**
 * Pure zoom and pan maths of the zoom view and the fullscreen overlay (no DOM):
 * the media is laid out at its "fit" size (contained in the viewport) and transformed
 * by `translate(x, y) scale(scale)` with the origin at its top-left corner. Wheel zoom
 * keeps the point under the cursor still; panning never shows empty space beside an
 * image larger than the viewport, and an image smaller than the viewport stays centred.
 * Tests: tests/js/image_viewer_zoom.test.mjs.
 * @module image_viewer/zoom_math
 */

export const MIN_SCALE = 1;
export const MAX_SCALE = 30;
/** Zoom factor of one wheel notch (deltaY = ±100). */
export const WHEEL_STEP = 1.15;

/**
 * @typedef {object} ZoomState
 * @property {number} scale 1 = fit
 * @property {number} x translation in px
 * @property {number} y
 */

/**
 * @typedef {object} Box
 * @property {number} width
 * @property {number} height
 */

/**
 * The media's size when it is contained in the viewport (aspect ratio kept).
 * @param {Box} natural the media's own size (0 = unknown: the viewport is used)
 * @param {Box} viewport
 * @returns {Box}
 */
export function fitSize(natural, viewport) {
  const vw = Math.max(1, viewport.width);
  const vh = Math.max(1, viewport.height);
  const w = natural.width > 0 ? natural.width : vw;
  const h = natural.height > 0 ? natural.height : vh;
  const ratio = Math.min(vw / w, vh / h);
  return { width: Math.max(1, Math.round(w * ratio)), height: Math.max(1, Math.round(h * ratio)) };
}

/**
 * The fitted, centred state (scale 1).
 * @param {Box} fitted
 * @param {Box} viewport
 * @returns {ZoomState}
 */
export function initialState(fitted, viewport) {
  return { scale: 1, x: (viewport.width - fitted.width) / 2, y: (viewport.height - fitted.height) / 2 };
}

/** @param {number} v @param {number} lo @param {number} hi */
function clamp(v, lo, hi) {
  return Math.min(hi, Math.max(lo, v));
}

/**
 * Keeps the media on screen: centred on an axis where it is smaller than the viewport,
 * edge to edge (no empty band) where it is larger.
 * @param {ZoomState} state
 * @param {Box} fitted
 * @param {Box} viewport
 * @returns {ZoomState}
 */
export function clampPan(state, fitted, viewport) {
  const w = fitted.width * state.scale;
  const h = fitted.height * state.scale;
  const x = w <= viewport.width ? (viewport.width - w) / 2 : clamp(state.x, viewport.width - w, 0);
  const y = h <= viewport.height ? (viewport.height - h) / 2 : clamp(state.y, viewport.height - h, 0);
  return { scale: state.scale, x, y };
}

/**
 * Zooms by `factor` keeping the viewport point (px, py) over the same spot of the media.
 * @param {ZoomState} state
 * @param {number} factor >1 zooms in
 * @param {{x: number, y: number}} point in viewport coordinates
 * @param {Box} fitted
 * @param {Box} viewport
 * @returns {ZoomState}
 */
export function zoomAt(state, factor, point, fitted, viewport) {
  const scale = clamp(state.scale * factor, MIN_SCALE, MAX_SCALE);
  if (scale === state.scale) return clampPan(state, fitted, viewport);
  const mediaX = (point.x - state.x) / state.scale;
  const mediaY = (point.y - state.y) / state.scale;
  return clampPan({ scale, x: point.x - mediaX * scale, y: point.y - mediaY * scale }, fitted, viewport);
}

/**
 * The zoom factor for a wheel event's deltaY (pixels; lines are converted by the caller).
 * @param {number} deltaY
 */
export function wheelFactor(deltaY) {
  const notches = clamp(-deltaY / 100, -5, 5);
  return WHEEL_STEP ** notches;
}

/**
 * Moves the media by a drag of (dx, dy).
 * @param {ZoomState} state
 * @param {number} dx
 * @param {number} dy
 * @param {Box} fitted
 * @param {Box} viewport
 */
export function panBy(state, dx, dy, fitted, viewport) {
  return clampPan({ scale: state.scale, x: state.x + dx, y: state.y + dy }, fitted, viewport);
}

/**
 * CSS transform for a state.
 * @param {ZoomState} state
 */
export function transformCss(state) {
  return `translate(${state.x.toFixed(2)}px, ${state.y.toFixed(2)}px) scale(${state.scale.toFixed(4)})`;
}
