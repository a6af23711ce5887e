/**
 * DOM helpers that keep user data out of `innerHTML`: every text goes in through
 * `textContent`, attributes through `setAttribute`. No side effects at import.
 * @module common/dom
 */

/**
 * @typedef {object} ElementOptions
 * @property {string | string[]} [className]
 * @property {string} [text] set as textContent (never parsed as HTML)
 * @property {Record<string, string | number | boolean | null | undefined>} [attrs] null/undefined/false are skipped, true gives ""
 * @property {Record<string, string>} [dataset]
 * @property {Partial<CSSStyleDeclaration> | Record<string, string>} [style]
 * @property {string} [testid] shortcut for data-testid
 * @property {Record<string, EventListener>} [on] event listeners (use a ListenerPool for long-lived ones)
 * @property {Array<Node | string | null | undefined | false>} [children] strings become text nodes
 */

/**
 * Creates an element. Strings given as text or children are always text, never markup.
 * @template {keyof HTMLElementTagNameMap} K
 * @param {K} tag
 * @param {ElementOptions} [options]
 * @returns {HTMLElementTagNameMap[K]}
 */
export function el(tag, options = {}) {
  const node = document.createElement(tag);
  const { className, text, attrs, dataset, style, testid, on, children } = options;
  if (className) node.className = Array.isArray(className) ? className.filter(Boolean).join(" ") : className;
  if (text !== undefined && text !== null) node.textContent = String(text);
  if (attrs) {
    for (const [name, value] of Object.entries(attrs)) {
      if (value === null || value === undefined || value === false) continue;
      node.setAttribute(name, value === true ? "" : String(value));
    }
  }
  if (dataset) Object.assign(node.dataset, dataset);
  if (style) Object.assign(node.style, style);
  if (testid) node.dataset.testid = testid;
  if (on) for (const [type, handler] of Object.entries(on)) node.addEventListener(type, handler);
  if (children) append(node, children);
  return node;
}

/**
 * Appends nodes or text (strings become text nodes); falsy entries are skipped.
 * @param {Node} parent
 * @param {Array<Node | string | null | undefined | false>} children
 */
export function append(parent, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    parent.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
  }
  return parent;
}

/** Removes every child of `node`. */
export function clear(node) {
  while (node.firstChild) node.removeChild(node.firstChild);
  return node;
}

const HTML_ESCAPES = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };

/**
 * Escapes text for the rare place where markup must be built as a string.
 * Prefer `el(..., {text})`.
 * @param {unknown} value
 */
export function escapeHtml(value) {
  return String(value ?? "").replace(/[&<>"']/g, (ch) => HTML_ESCAPES[/** @type {keyof typeof HTML_ESCAPES} */ (ch)]);
}

/**
 * Adds `<link rel="stylesheet">` once per key (the standalone page may already have it).
 * @param {string} href absolute or page-relative URL
 * @param {string} key identifies the sheet (data-holaf-css)
 * @param {Document} [doc]
 * @returns {HTMLLinkElement}
 */
export function ensureStylesheet(href, key, doc = document) {
  const existing = /** @type {HTMLLinkElement | null} */ (doc.querySelector(`link[data-holaf-css="${key}"]`));
  if (existing) return existing;
  const link = doc.createElement("link");
  link.rel = "stylesheet";
  link.href = href;
  link.dataset.holafCss = key;
  doc.head.appendChild(link);
  return link;
}

/** URL of the shell stylesheet, resolved from this module (works in both hosts and behind proxies). */
export function shellStylesheetUrl() {
  return new URL("../css/holaf_shell.css", import.meta.url).href;
}

/** Loads the shell stylesheet once. Called lazily by the panel, toast and dialog modules. */
export function ensureShellStyles() {
  return ensureStylesheet(shellStylesheetUrl(), "shell");
}

/**
 * True when the event target is a text field where keys belong to the user.
 * @param {EventTarget | null} target
 */
export function isTextInput(target) {
  if (!(target instanceof HTMLElement)) return false;
  if (target.isContentEditable) return true;
  if (target instanceof HTMLTextAreaElement) return true;
  if (target instanceof HTMLSelectElement) return true;
  if (target instanceof HTMLInputElement) {
    return !["button", "checkbox", "radio", "submit", "reset", "range", "color", "file"].includes(target.type);
  }
  return false;
}

const SVG_NS = "http://www.w3.org/2000/svg";
/** Stroke paths of the few icons the shell draws (24 x 24 viewBox). */
const ICON_PATHS = {
  maximize: ["M4 9V4h5", "M20 9V4h-5", "M4 15v5h5", "M20 15v5h-5"],
  minimize: ["M9 4v5H4", "M15 4v5h5", "M9 20v-5H4", "M15 20v-5h5"],
  close: ["M6 6l12 12", "M18 6L6 18"],
};

/**
 * A small inline SVG icon (no font needed, no markup parsing).
 * @param {keyof typeof ICON_PATHS} name
 * @param {number} [size]
 */
export function svgIcon(name, size = 14) {
  const svg = document.createElementNS(SVG_NS, "svg");
  svg.setAttribute("viewBox", "0 0 24 24");
  svg.setAttribute("width", String(size));
  svg.setAttribute("height", String(size));
  svg.setAttribute("fill", "none");
  svg.setAttribute("stroke", "currentColor");
  svg.setAttribute("stroke-width", "2.2");
  svg.setAttribute("stroke-linecap", "round");
  svg.setAttribute("stroke-linejoin", "round");
  svg.setAttribute("aria-hidden", "true");
  svg.setAttribute("focusable", "false");
  for (const d of ICON_PATHS[name] || []) {
    const path = document.createElementNS(SVG_NS, "path");
    path.setAttribute("d", d);
    svg.appendChild(path);
  }
  return svg;
}
