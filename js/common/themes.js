/**
 * The five panel themes. A theme is a class on a panel (or dialog, toast stack, page)
 * that sets the `--holaf-*` CSS variables defined in css/holaf_shell.css.
 * No side effects at import.
 * @module common/themes
 */

/**
 * @typedef {object} ThemeInfo
 * @property {string} id value stored in config.ini (`theme = …`)
 * @property {string} label
 * @property {string} accent for swatches
 * @property {boolean} light
 */

/** @type {readonly ThemeInfo[]} */
export const THEMES = Object.freeze([
  { id: "graphite-orange", label: "Graphite Orange", accent: "#d8700d", light: false },
  { id: "midnight-purple", label: "Midnight Purple", accent: "#8a2be2", light: false },
  { id: "forest-green", label: "Forest Green", accent: "#2e9b4f", light: false },
  { id: "steel-blue", label: "Steel Blue", accent: "#4682b4", light: false },
  { id: "ashy-light", label: "Ashy Light", accent: "#546e7a", light: true },
]);

export const DEFAULT_THEME = "graphite-orange";
const THEME_IDS = new Set(THEMES.map((t) => t.id));

/**
 * A known theme id, or the default for anything else (old names, typos, null).
 * @param {unknown} value
 */
export function normalizeTheme(value) {
  return typeof value === "string" && THEME_IDS.has(value) ? value : DEFAULT_THEME;
}

/**
 * Puts `theme` on `element` (class `holaf-theme-<id>` + `data-holaf-theme`), replacing any other.
 * Skips the DOM write when nothing changes.
 * @param {HTMLElement} element
 * @param {unknown} theme
 * @returns {string} the theme applied
 */
export function applyTheme(element, theme) {
  const id = normalizeTheme(theme);
  if (element.dataset.holafTheme === id) return id;
  for (const t of THEMES) element.classList.remove(`holaf-theme-${t.id}`);
  element.classList.add(`holaf-theme-${id}`);
  element.dataset.holafTheme = id;
  return id;
}
