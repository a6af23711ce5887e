/**
 * xterm.js colours that follow the panel theme. No side effects at import.
 *
 * Background, foreground, cursor and selection come from the panel's computed style (so a theme
 * tweak in the shell's CSS is followed automatically); the 16 ANSI colours come from a dark or a
 * light palette, chosen by the background's brightness, tuned to stay readable on it.
 */

const DARK_ANSI = {
  black: "#1d1f21", red: "#e06c75", green: "#98c379", yellow: "#e5c07b",
  blue: "#61afef", magenta: "#c678dd", cyan: "#56b6c2", white: "#d7dae0",
  brightBlack: "#7f848e", brightRed: "#ff7b86", brightGreen: "#b5e890", brightYellow: "#ffd68a",
  brightBlue: "#7cc3ff", brightMagenta: "#de93f5", brightCyan: "#6fd6e3", brightWhite: "#ffffff",
};

const LIGHT_ANSI = {
  black: "#2e3436", red: "#c4262e", green: "#2f7d32", yellow: "#a0730a",
  blue: "#1c5fb8", magenta: "#8e3ba8", cyan: "#0f7b86", white: "#6f7478",
  brightBlack: "#55595c", brightRed: "#e0353d", brightGreen: "#3c9a40", brightYellow: "#b8860b",
  brightBlue: "#2a73d6", brightMagenta: "#a64ac2", brightCyan: "#13909c", brightWhite: "#1d1f21",
};

/** Fallbacks per theme name (used when the panel exposes no usable colours). */
const THEME_BASE = {
  "graphite-orange": { background: "#1e1e1e", foreground: "#e0e0e0", accent: "#ff8c00" },
  "midnight-purple": { background: "#1a1625", foreground: "#e2dcf0", accent: "#a970ff" },
  "forest-green": { background: "#17201a", foreground: "#dcebdc", accent: "#4caf50" },
  "steel-blue": { background: "#1a2230", foreground: "#dbe4f0", accent: "#4a90d9" },
  "ashy-light": { background: "#f4f4f2", foreground: "#2b2b2b", accent: "#c0622b" },
};

function parseColor(text) {
  const match = /rgba?\(\s*(\d+)[ ,]+(\d+)[ ,]+(\d+)(?:[ ,/]+([\d.]+))?\s*\)/.exec(text || "");
  if (!match) return null;
  const alpha = match[4] === undefined ? 1 : Number(match[4]);
  return { r: +match[1], g: +match[2], b: +match[3], a: alpha };
}

function toHex({ r, g, b }) {
  return "#" + [r, g, b].map((v) => v.toString(16).padStart(2, "0")).join("");
}

function luminance({ r, g, b }) {
  return (0.2126 * r + 0.7152 * g + 0.0722 * b) / 255;
}

/** The first opaque background colour from `element` up through its ancestors. */
function opaqueBackground(element) {
  for (let node = element; node && node.nodeType === 1; node = node.parentElement) {
    const color = parseColor(getComputedStyle(node).backgroundColor);
    if (color && color.a > 0.9) return color;
  }
  return null;
}

function cssVar(element, names) {
  const style = getComputedStyle(element);
  for (const name of names) {
    const value = style.getPropertyValue(name).trim();
    if (value) return value;
  }
  return "";
}

/**
 * @param {string} themeName one of the panel theme names
 * @param {Element|null} element the element the terminal sits in (its computed colours win)
 */
export function xtermTheme(themeName, element = null) {
  const base = THEME_BASE[themeName] || THEME_BASE["graphite-orange"];
  let background = base.background;
  let foreground = base.foreground;
  let accent = base.accent;
  let light = luminance(parseColor(hexToRgb(background))) > 0.5;
  if (element) {
    const bg = opaqueBackground(element);
    const fg = parseColor(getComputedStyle(element).color);
    if (bg) {
      background = toHex(bg);
      light = luminance(bg) > 0.5;
    }
    if (fg && Math.abs(luminance(fg) - (light ? 0 : 1)) < 0.6) foreground = toHex(fg);
    accent = cssVar(element, ["--holaf-accent", "--holaf-accent-color", "--accent-color"]) || accent;
  }
  return {
    background,
    foreground,
    cursor: accent,
    cursorAccent: background,
    selectionBackground: light ? "rgba(0, 0, 0, 0.22)" : "rgba(255, 255, 255, 0.28)",
    ...(light ? LIGHT_ANSI : DARK_ANSI),
  };
}

function hexToRgb(hex) {
  const value = parseInt(hex.slice(1), 16);
  return `rgb(${(value >> 16) & 255}, ${(value >> 8) & 255}, ${value & 255})`;
}
