/**
 * The edit model and the preview math, with no DOM: the same numbers as the server's
 * `edit_math.py`, so what the editor shows is what export writes.
 *
 * Whole-image controls become a CSS `filter` (brightness, contrast, saturate, hue-rotate:
 * affine maps of the sRGB channels fixed by the Filter Effects spec). Tonal-range controls
 * (shadows / midtones / highlights) cannot be a CSS filter; {@link applyToPixels} renders
 * them on canvas pixels with the spec's matrices, clamping after each control and blending
 * through the luminance mask of the running result, rounding like the server.
 * No side effects at import.
 * @module image_viewer/edit_preview
 */

/**
 * @typedef {"brightness" | "contrast" | "saturation" | "hue"} ControlType
 * @typedef {"all" | "shadows" | "midtones" | "highlights"} ToneRange
 * @typedef {{id: string, type: ControlType, value: number, range: ToneRange}} EditControl
 * @typedef {{version?: number, controls: EditControl[], playbackRate: number, targetFps: number | null, interpolate?: boolean}} Edits
 */

/** Limits and labels of each control type (the server clamps to the same ranges). */
export const CONTROL_TYPES = Object.freeze({
  brightness: Object.freeze({ label: "Brightness", min: 0, max: 2, neutral: 1, step: 0.01, css: "brightness", unit: "%" }),
  contrast: Object.freeze({ label: "Contrast", min: 0, max: 2, neutral: 1, step: 0.01, css: "contrast", unit: "%" }),
  saturation: Object.freeze({ label: "Saturation", min: 0, max: 2, neutral: 1, step: 0.01, css: "saturate", unit: "%" }),
  hue: Object.freeze({ label: "Hue", min: -180, max: 180, neutral: 0, step: 1, css: "hue-rotate", unit: "°" }),
});

export const TONE_RANGES = Object.freeze(["all", "shadows", "midtones", "highlights"]);
export const TONE_LABELS = Object.freeze({ all: "Whole image", shadows: "Shadows", midtones: "Midtones", highlights: "Highlights" });
export const PLAYBACK_RATE = Object.freeze({ min: 0.1, max: 4, step: 0.1 });
export const TARGET_FPS = Object.freeze({ min: 1, max: 144 });
export const PREVIEW_MAX_SIDE = 1920;
const LUMA = [0.2126, 0.7152, 0.0722];
const FLAT_KEYS = ["brightness", "contrast", "saturation", "hue"];

/** @param {number} value @param {number} lo @param {number} hi */
export function clamp(value, lo, hi) {
  return Math.min(hi, Math.max(lo, value));
}

/** @returns {Edits} */
export function emptyEdits() {
  return { version: 2, controls: [], playbackRate: 1, targetFps: null, interpolate: false };
}

/**
 * Either layout of the earlier tool (flat factors or stacked controls) → stacked, clamped.
 * Unknown types are dropped; a missing range is "all". Never throws for odd input.
 * @param {any} raw
 * @returns {Edits}
 */
export function normalizeEdits(raw) {
  const edits = emptyEdits();
  if (!raw || typeof raw !== "object") return edits;
  /** @type {EditControl[]} */
  const controls = [];
  if (Array.isArray(raw.controls)) {
    for (const item of raw.controls) {
      if (!item || !(item.type in CONTROL_TYPES)) continue;
      const spec = CONTROL_TYPES[/** @type {ControlType} */ (item.type)];
      const value = Number(item.value ?? spec.neutral);
      if (!Number.isFinite(value)) continue;
      const range = TONE_RANGES.includes(item.range) ? item.range : "all";
      controls.push({ id: typeof item.id === "string" ? item.id : "", type: item.type, value: clamp(value, spec.min, spec.max), range });
    }
  } else {
    for (const type of FLAT_KEYS) {
      if (!(type in raw)) continue;
      const spec = CONTROL_TYPES[/** @type {ControlType} */ (type)];
      const value = Number(raw[type]);
      const range = TONE_RANGES.includes(raw[`${type}Range`]) ? raw[`${type}Range`] : "all";
      if (!Number.isFinite(value) || (value === spec.neutral && range === "all")) continue;
      controls.push({ id: "", type: /** @type {ControlType} */ (type), value: clamp(value, spec.min, spec.max), range });
    }
  }
  const seen = new Set();
  for (const control of controls) {
    if (!control.id || seen.has(control.id)) {
      let n = 1;
      while (seen.has(`c_${n}`) || controls.some((other) => other !== control && other.id === `c_${n}`)) n += 1;
      control.id = `c_${n}`;
    }
    seen.add(control.id);
  }
  edits.controls = controls;
  const rate = Number(raw.playbackRate ?? 1);
  edits.playbackRate = Number.isFinite(rate) ? clamp(rate, PLAYBACK_RATE.min, PLAYBACK_RATE.max) : 1;
  const fps = raw.targetFps === null || raw.targetFps === undefined ? null : Number(raw.targetFps);
  edits.targetFps = fps !== null && Number.isFinite(fps) ? clamp(fps, TARGET_FPS.min, TARGET_FPS.max) : null;
  edits.interpolate = raw.interpolate === true;
  return edits;
}

/**
 * A fresh `c_<n>` id not used by `controls`.
 * @param {Array<{id: string}>} controls
 */
export function nextControlId(controls) {
  const used = new Set(controls.map((c) => c.id));
  let n = 1;
  while (used.has(`c_${n}`)) n += 1;
  return `c_${n}`;
}

/** @param {Edits} edits */
export function cloneEdits(edits) {
  return { ...edits, controls: edits.controls.map((c) => ({ ...c })) };
}

/** Same content (what would be saved)? @param {Edits | null} a @param {Edits | null} b */
export function editsEqual(a, b) {
  if (!a || !b) return a === b;
  return JSON.stringify(normalizeEdits(a)) === JSON.stringify(normalizeEdits(b));
}

/** Nothing to save at all (the server then removes the sidecar). @param {Edits} edits */
export function isEmptyEdits(edits) {
  return edits.controls.length === 0 && edits.playbackRate === 1 && edits.targetFps === null && !edits.interpolate;
}

/** @param {EditControl} control */
export function isNeutral(control) {
  return control.value === CONTROL_TYPES[control.type].neutral;
}

/** Does any control change the pixels? @param {EditControl[]} controls */
export function changesPixels(controls) {
  return controls.some((c) => !isNeutral(c));
}

/** @param {EditControl[]} controls */
export function hasRangedControls(controls) {
  return controls.some((c) => c.range !== "all" && !isNeutral(c));
}

/** @param {number} value */
function formatNumber(value) {
  return String(Math.round(value * 10000) / 10000);
}

/**
 * The CSS `filter` for the whole-image controls, in order ("none" when there are none).
 * @param {EditControl[]} controls
 */
export function cssFilter(controls) {
  const parts = [];
  for (const control of controls) {
    if (control.range !== "all" || isNeutral(control)) continue;
    const spec = CONTROL_TYPES[control.type];
    parts.push(control.type === "hue" ? `${spec.css}(${formatNumber(control.value)}deg)` : `${spec.css}(${formatNumber(control.value)})`);
  }
  return parts.length ? parts.join(" ") : "none";
}

/**
 * The CSS filter to put on the media element: with ranged controls the canvas carries every
 * control, so the element itself gets none.
 * @param {EditControl[]} controls
 */
export function elementFilter(controls) {
  return hasRangedControls(controls) ? "none" : cssFilter(controls);
}

/**
 * `{m, o}` with `out = clamp(m · rgb + o)` for one filter function (rgb in 0..1).
 * @param {ControlType} type
 * @param {number} v
 * @returns {{m: number[][], o: number[]}}
 */
export function controlAffine(type, v) {
  if (type === "brightness") return { m: [[v, 0, 0], [0, v, 0], [0, 0, v]], o: [0, 0, 0] };
  if (type === "contrast") {
    const o = 0.5 - 0.5 * v;
    return { m: [[v, 0, 0], [0, v, 0], [0, 0, v]], o: [o, o, o] };
  }
  if (type === "saturation") {
    return {
      m: [
        [0.213 + 0.787 * v, 0.715 - 0.715 * v, 0.072 - 0.072 * v],
        [0.213 - 0.213 * v, 0.715 + 0.285 * v, 0.072 - 0.072 * v],
        [0.213 - 0.213 * v, 0.715 - 0.715 * v, 0.072 + 0.928 * v],
      ],
      o: [0, 0, 0],
    };
  }
  if (type === "hue") {
    const a = (v * Math.PI) / 180;
    const c = Math.cos(a);
    const s = Math.sin(a);
    return {
      m: [
        [0.213 + c * 0.787 - s * 0.213, 0.715 - c * 0.715 - s * 0.715, 0.072 - c * 0.072 + s * 0.928],
        [0.213 - c * 0.213 + s * 0.143, 0.715 + c * 0.285 + s * 0.14, 0.072 - c * 0.072 - s * 0.283],
        [0.213 - c * 0.213 - s * 0.787, 0.715 - c * 0.715 + s * 0.715, 0.072 + c * 0.928 + s * 0.072],
      ],
      o: [0, 0, 0],
    };
  }
  throw new Error(`unknown control type ${type}`);
}

/**
 * Weight 0..1 of a pixel of luminance `luma` (0..255) for a tonal range.
 * @param {number} luma
 * @param {ToneRange} range
 */
export function toneMask(luma, range) {
  if (range === "shadows") return clamp(1 - luma / 127, 0, 1);
  if (range === "highlights") return clamp((luma - 128) / 127, 0, 1);
  if (range === "midtones") return luma <= 127 ? clamp((luma - 64) / 63, 0, 1) : clamp((191 - luma) / 64, 0, 1);
  return 1;
}

/**
 * Applies every control to RGBA bytes in place (alpha untouched): the canvas preview.
 * @param {Uint8ClampedArray | number[]} data RGBA, 4 bytes per pixel
 * @param {EditControl[]} controls
 */
export function applyToPixels(data, controls) {
  const active = controls.filter((c) => !isNeutral(c)).map((c) => ({ ...controlAffine(c.type, c.value), range: c.range }));
  if (!active.length) return data;
  for (let i = 0; i < data.length; i += 4) {
    let r = data[i] / 255;
    let g = data[i + 1] / 255;
    let b = data[i + 2] / 255;
    for (const { m, o, range } of active) {
      const nr = clamp(m[0][0] * r + m[0][1] * g + m[0][2] * b + o[0], 0, 1);
      const ng = clamp(m[1][0] * r + m[1][1] * g + m[1][2] * b + o[1], 0, 1);
      const nb = clamp(m[2][0] * r + m[2][1] * g + m[2][2] * b + o[2], 0, 1);
      if (range === "all") {
        r = nr; g = ng; b = nb;
      } else {
        const w = toneMask((LUMA[0] * r + LUMA[1] * g + LUMA[2] * b) * 255, range);
        r += (nr - r) * w;
        g += (ng - g) * w;
        b += (nb - b) * w;
      }
    }
    data[i] = Math.round(clamp(r, 0, 1) * 255);
    data[i + 1] = Math.round(clamp(g, 0, 1) * 255);
    data[i + 2] = Math.round(clamp(b, 0, 1) * 255);
  }
  return data;
}

/**
 * Canvas size for the ranged preview: the image fitted inside `maxSide` (never enlarged).
 * @param {number} width @param {number} height @param {number} [maxSide]
 */
export function previewSize(width, height, maxSide = PREVIEW_MAX_SIDE) {
  const longest = Math.max(width, height, 1);
  const scale = Math.min(1, maxSide / longest);
  return { width: Math.max(1, Math.round(width * scale)), height: Math.max(1, Math.round(height * scale)) };
}

/**
 * What `<video>.playbackRate` shows the edit at: the speed, times target / native fps.
 * @param {Edits} edits
 * @param {number | null | undefined} nativeFps
 */
export function effectivePlaybackRate(edits, nativeFps) {
  let rate = edits.playbackRate || 1;
  if (edits.targetFps && nativeFps) rate *= edits.targetFps / nativeFps;
  return clamp(rate, 0.0625, 16); // the range browsers accept
}

/**
 * Slider text for a value ("120 %", "-30°", "1.5×").
 * @param {ControlType} type @param {number} value
 */
export function formatControlValue(type, value) {
  if (type === "hue") return `${Math.round(value)}°`;
  return `${Math.round(value * 100)} %`;
}
