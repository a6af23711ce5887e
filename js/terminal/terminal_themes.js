/**
 * xterm.js colours that follow the panel theme. No side effects at import.
 *
 * Background, foreground, cursor and selection are the panel's own `--holaf-*` variables
 * (css/holaf_shell.css), read from the element the terminal sits in, so a theme change or a
 * tweak of the shell's palette is followed without a second colour table. The 16 ANSI colours
 * come from a dark or a light palette, chosen by the background's brightness.
 */

export const DARK_ANSI = Object.freeze({
  black: "#1d1f21", red: "#e06c75", green: "#98c379", yellow: "#e5c07b",
  blue: "#61afef", magenta: "#c678dd", cyan: "#56b6c2", white: "#d7dae0",
  brightBlack: "#7f848e", brightRed: "#ff7b86", brightGreen: "#b5e890", brightYellow: "#ffd68a",
  brightBlue: "#7cc3ff", brightMagenta: "#de93f5", brightCyan: "#6fd6e3", brightWhite: "#ffffff",
});

export const LIGHT_ANSI = Object.freeze({
  black: "#2e3436", red: "#c4262e", green: "#2f7d32", yellow: "#8a6100",
  blue: "#1c5fb8", magenta: "#8e3ba8", cyan: "#0f7480", white: "#6f7478",
  brightBlack: "#55595c", brightRed: "#d8323a", brightGreen: "#35903a", brightYellow: "#a27200",
  brightBlue: "#2a6cc9", brightMagenta: "#a03fba", brightCyan: "#12858f", brightWhite: "#1d1f21",
});

const FALLBACK = { background: "#141517", foreground: "#e8e6e3", accent: "#d8700d" };

/**
 * `#rgb`, `#rrggbb` or `rgb()/rgba()` text → {r, g, b}, or null.
 * @param {string} text
 */
export function parseColor(text) {
  const value = String(text || "").trim();
  let match = /^#([0-9a-f]{3}|[0-9a-f]{6})$/i.exec(value);
  if (match) {
    const hex = match[1].length === 3 ? match[1].replace(/./g, "$&$&") : match[1];
    const n = parseInt(hex, 16);
    return { r: (n >> 16) & 255, g: (n >> 8) & 255, b: n & 255 };
  }
  match = /^rgba?\(\s*(\d+)[\s,]+(\d+)[\s,]+(\d+)/i.exec(value);
  return match ? { r: +match[1], g: +match[2], b: +match[3] } : null;
}

/** Relative brightness 0 (black) … 1 (white). */
export function brightness(color) {
  return color ? (0.2126 * color.r + 0.7152 * color.g + 0.0722 * color.b) / 255 : 0;
}

/**
 * The xterm.js `theme` option for a terminal inside `element`.
 * @param {Element | null} element
 */
export function xtermTheme(element) {
  const style = element ? getComputedStyle(element) : null;
  const read = (name) => (style ? style.getPropertyValue(name).trim() : "");
  const background = read("--holaf-input-bg") || read("--holaf-bg") || FALLBACK.background;
  const foreground = read("--holaf-text") || FALLBACK.foreground;
  const accent = read("--holaf-accent") || FALLBACK.accent;
  const light = brightness(parseColor(background)) > 0.5;
  return {
    background,
    foreground,
    cursor: accent,
    cursorAccent: background,
    selectionBackground: read("--holaf-selection") || (light ? "rgba(0, 0, 0, 0.2)" : "rgba(255, 255, 255, 0.25)"),
    ...(light ? LIGHT_ANSI : DARK_ANSI),
  };
}
