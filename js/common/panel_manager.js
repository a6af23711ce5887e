/**
 * Floating panels shared by every tool: drag by the header (kept inside the viewport,
 * also when the window shrinks), resize from all edges and corners, double-click the
 * header for fullscreen, bring to front on pointer-down, close, optional theme menu.
 * Geometry, fullscreen and theme persist per tool section in config.ini (debounced
 * through the settings store) and come back on the next open, also after a reload.
 *
 * Panel events (`panel.on(type, e => …)`): `close` (cancelable with preventDefault),
 * `closed`, `move` / `resize` (`{rect}`, after the gesture), `fullscreen` (`{fullscreen}`),
 * `theme` (`{theme}`), `front`. No side effects at import.
 * @module common/panel_manager
 */
import { Eventable, ListenerPool } from "./events.js";
import { el, ensureShellStyles, isTextInput, svgIcon } from "./dom.js";
import { EDGES, clampRect, dragRect, resizeRect, restoreRect, rectToSettings, sameRect } from "./geometry.js";
import { THEMES, applyTheme, normalizeTheme } from "./themes.js";

/**
 * @typedef {import("./geometry.js").Rect} Rect
 * @typedef {import("./host.js").HolafHost} HolafHost
 */

/**
 * @typedef {object} PanelOptions
 * @property {string} id unique; the element gets data-testid `holaf-panel-<id>`
 * @property {string} title header text
 * @property {string} section config.ini section holding `panel_*` and `theme` (e.g. "TerminalUI")
 * @property {HolafHost} host
 * @property {{width: number, height: number}} [defaultSize] default: the section's schema defaults
 * @property {{width: number, height: number}} [minSize] default 280 x 160
 * @property {boolean} [themeMenu] theme select in the header (default: when the section has a `theme` key)
 * @property {Node[]} [headerControls] extra header buttons (placed before the theme menu)
 * @property {string} [icon] a short text/emoji before the title
 * @property {string} [className] extra class on the panel
 * @property {boolean} [persist] save geometry/fullscreen/theme (default true)
 * @property {boolean} [isolateKeys] stop key/clipboard/drop events at the panel so ComfyUI's
 *   shortcuts and paste handler do not act on them (default true; Alt+Shift+… combos still pass)
 * @property {(panel: Panel) => void} [onClose] called once after the panel closed
 */

const BASE_Z = 1000;
const FALLBACK_SIZE = { width: 800, height: 560 };
const FOCUSABLE = "button, input, select, textarea, a[href], [tabindex]:not(.holaf-panel), [contenteditable=''], [contenteditable='true']";
const INTERACTIVE = "button, input, select, textarea, a, [contenteditable=''], [contenteditable='true'], [data-holaf-no-drag]";

/** @type {Map<string, Panel>} open panels by id, in stacking order (last = front) */
const panels = new Map();
/** @type {ListenerPool | null} window listeners shared by all panels */
let globalPool = null;

function viewport() {
  const doc = document.documentElement;
  return { width: doc.clientWidth || window.innerWidth, height: doc.clientHeight || window.innerHeight };
}

function ensureGlobalListeners() {
  if (globalPool) return;
  globalPool = new ListenerPool();
  let frame = 0;
  globalPool.add(window, "resize", () => {
    if (frame) return;
    frame = requestAnimationFrame(() => {
      frame = 0;
      for (const panel of panels.values()) panel._fitToViewport();
    });
  });
  // Do not lose a drag that ended a moment before the page went away.
  globalPool.add(window, "pagehide", () => {
    const stores = new Set([...panels.values()].map((p) => p.host.settings));
    for (const store of stores) store.flush({ keepalive: true });
  });
}

function releaseGlobalListeners() {
  if (panels.size || !globalPool) return;
  globalPool.removeAll();
  globalPool = null;
}

/** Re-stacks open panels so z-indexes stay small, finite and ordered (BASE_Z + position). */
function restack() {
  let z = BASE_Z;
  const list = [...panels.values()];
  list.forEach((panel, index) => {
    panel.element.style.zIndex = String(z++);
    panel.element.classList.toggle("holaf-panel-active", index === list.length - 1);
  });
}

export class Panel extends Eventable {
  /** @param {PanelOptions} options */
  constructor(options) {
    super();
    this.id = options.id;
    this.section = options.section;
    this.host = options.host;
    this.options = options;
    this.persist = options.persist !== false;
    this.pool = new ListenerPool();
    /** Listeners and cleanups of the tool living in this panel; removed when the panel closes. */
    this.listeners = new ListenerPool();
    this.isOpen = true;
    this.fullscreen = false;
    /** @type {Rect} */
    this.rect = { x: 0, y: 0, width: 0, height: 0 };
    this.theme = normalizeTheme(undefined);
    this._userMoved = false;
    this._build();
    /** Resolves once the saved geometry and theme are applied. */
    this.ready = this._restore();
  }

  _build() {
    const o = this.options;
    ensureShellStyles();
    this.element = el("div", {
      className: ["holaf-panel", o.className || ""],
      testid: `holaf-panel-${o.id}`,
      attrs: { role: "dialog", "aria-label": o.title, tabindex: "-1" },
    });
    this.element.dataset.panelId = o.id;
    this.element.style.visibility = "hidden";
    this.titleEl = el("span", { className: "holaf-panel-title", text: o.title, testid: "holaf-panel-title" });
    this.controls = el("div", { className: "holaf-panel-controls" });
    if (o.headerControls) this.controls.append(...o.headerControls);
    this.header = el("div", {
      className: "holaf-panel-header", testid: "holaf-panel-header",
      children: [o.icon ? el("span", { className: "holaf-panel-icon", text: o.icon, attrs: { "aria-hidden": "true" } }) : null, this.titleEl, this.controls],
    });
    const schemaHasTheme = (this.host.settings.schema[this.section] || []).some((e) => e.key === "theme");
    this._themeMenuWanted = o.themeMenu;
    this.themeSelect = el("select", {
      className: "holaf-theme-select", testid: "holaf-theme-select",
      attrs: { title: "Theme", "aria-label": `${o.title} theme` },
    });
    for (const theme of THEMES) this.themeSelect.appendChild(el("option", { text: theme.label, attrs: { value: theme.id } }));
    this.themeSelect.hidden = o.themeMenu === false || (o.themeMenu === undefined && this.host.settings.loaded && !schemaHasTheme);
    this.fullscreenButton = el("button", {
      className: "holaf-icon-button", testid: "holaf-panel-fullscreen",
      attrs: { type: "button", title: "Fullscreen (double-click the header)", "aria-label": "Toggle fullscreen", "aria-pressed": "false" },
      children: [svgIcon("maximize")],
    });
    this.closeButton = el("button", {
      className: "holaf-icon-button holaf-panel-close", testid: "holaf-panel-close",
      attrs: { type: "button", title: "Close", "aria-label": `Close ${o.title}` },
      children: [svgIcon("close")],
    });
    this.header.append(this.themeSelect, this.fullscreenButton, this.closeButton);
    this.body = el("div", { className: "holaf-panel-body", testid: "holaf-panel-body" });
    this.element.append(this.header, this.body);
    for (const edge of EDGES) {
      const handle = el("div", { className: ["holaf-panel-resize", `holaf-resize-${edge}`], testid: `holaf-panel-resize-${edge}` });
      handle.dataset.edge = edge;
      this.element.appendChild(handle);
      this.pool.add(handle, "pointerdown", (event) => this._startResize(/** @type {PointerEvent} */ (event), edge));
    }
    this._bindEvents();
    ensureGlobalListeners();
    panels.set(this.id, this);
    document.body.appendChild(this.element);
    this.bringToFront();
  }

  _bindEvents() {
    const pool = this.pool;
    pool.add(this.element, "pointerdown", (event) => {
      this.bringToFront();
      // A click on a non-focusable part still gives the panel the keyboard focus, so keys
      // typed next land here (and stop here) instead of on ComfyUI's page.
      const target = /** @type {HTMLElement} */ (event.target);
      if (!target.closest(FOCUSABLE) && document.activeElement !== this.element) {
        this.element.focus({ preventScroll: true });
      }
    }, true);
    pool.add(this.element, "focusin", () => this.bringToFront());
    pool.add(this.header, "pointerdown", (event) => this._startDrag(/** @type {PointerEvent} */ (event)));
    pool.add(this.header, "dblclick", (event) => {
      if (/** @type {HTMLElement} */ (event.target).closest(INTERACTIVE)) return;
      this.toggleFullscreen();
    });
    pool.add(this.fullscreenButton, "click", () => this.toggleFullscreen());
    pool.add(this.closeButton, "click", () => this.close());
    pool.add(this.themeSelect, "change", () => this.setTheme(this.themeSelect.value));
    if (this.options.isolateKeys !== false) {
      const stop = (/** @type {Event} */ event) => event.stopPropagation();
      pool.add(this.element, "keydown", (event) => {
        const e = /** @type {KeyboardEvent} */ (event);
        if (e.altKey && e.shiftKey) return; // Holaf tool shortcuts (Alt+Shift+…) still reach the host
        if (e.key === "Escape" && !isTextInput(e.target) && this.fullscreen) {
          this.setFullscreen(false);
        }
        e.stopPropagation();
      });
      for (const type of ["keyup", "keypress", "paste", "copy", "cut", "drop", "dragover"]) pool.add(this.element, type, stop);
    }
    pool.track(this.host.settings.on("change", (event) => {
      const { section, values, source } = event.detail;
      if (section === this.section && "theme" in values) this._applyTheme(values.theme);
      else if (section === "UtilitiesUI" && "default_theme" in values && !this._hasOwnTheme()) this._applyTheme(values.default_theme);
      if (source === "server" && section === this.section && "panel_is_fullscreen" in values) {
        // another tab toggled fullscreen: follow it only if this tab did not move the panel
        if (!this._userMoved) this._setFullscreenState(!!values.panel_is_fullscreen, false);
      }
    }));
  }

  _hasOwnTheme() {
    return (this.host.settings.schema[this.section] || []).some((e) => e.key === "theme");
  }

  _effectiveTheme() {
    const store = this.host.settings;
    return this._hasOwnTheme() ? store.get(this.section, "theme") : store.get("UtilitiesUI", "default_theme");
  }

  async _restore() {
    const store = this.host.settings;
    try {
      await store.load();
    } catch (error) {
      console.warn("[Holaf] settings unavailable; the panel opens with defaults", error);
    }
    if (!this.isOpen) return this;
    const saved = store.section(this.section);
    const schemaDefault = (key) => store.defaultOf(this.section, key);
    const defaultSize = this.options.defaultSize || {
      width: schemaDefault("panel_width") ?? FALLBACK_SIZE.width,
      height: schemaDefault("panel_height") ?? FALLBACK_SIZE.height,
    };
    if (this._themeMenuWanted === undefined) this.themeSelect.hidden = !this._hasOwnTheme();
    this._applyTheme(this._effectiveTheme());
    if (!this._userMoved) {
      this._setRect(restoreRect(saved, defaultSize, viewport(), this._limits()));
      this._setFullscreenState(!!saved.panel_is_fullscreen, false);
    }
    this.element.style.visibility = "";
    return this;
  }

  _limits() {
    const min = this.options.minSize;
    return min ? { minWidth: min.width, minHeight: min.height } : {};
  }

  /** @param {Rect} rect */
  _setRect(rect) {
    if (sameRect(rect, this.rect)) return;
    this.rect = rect;
    const s = this.element.style;
    s.left = `${rect.x}px`;
    s.top = `${rect.y}px`;
    s.width = `${rect.width}px`;
    s.height = `${rect.height}px`;
  }

  _fitToViewport() {
    if (!this.isOpen) return;
    const fitted = clampRect(this.rect, viewport(), this._limits());
    if (!sameRect(fitted, this.rect)) {
      this._setRect(fitted); // not saved: the saved place comes back when the window grows again
      this.dispatch("resize", { rect: this.rect, reason: "viewport" });
    }
  }

  /** @param {PointerEvent} event */
  _startDrag(event) {
    if (event.button !== 0 || this.fullscreen) return;
    if (/** @type {HTMLElement} */ (event.target).closest(INTERACTIVE)) return;
    event.preventDefault();
    const start = { ...this.rect };
    this._track(event, "holaf-dragging", (dx, dy) => dragRect(start, dx, dy, viewport()), "move");
  }

  /**
   * @param {PointerEvent} event
   * @param {string} edge
   */
  _startResize(event, edge) {
    if (event.button !== 0 || this.fullscreen) return;
    event.preventDefault();
    event.stopPropagation();
    this.bringToFront();
    const start = { ...this.rect };
    this._track(event, "holaf-resizing", (dx, dy) => resizeRect(start, edge, dx, dy, viewport(), this._limits()), "resize");
  }

  /**
   * Follows one pointer gesture, applying `compute(dx, dy)` once per frame.
   * @param {PointerEvent} event
   * @param {string} stateClass
   * @param {(dx: number, dy: number) => Rect} compute
   * @param {"move" | "resize"} kind
   */
  _track(event, stateClass, compute, kind) {
    const target = /** @type {HTMLElement} */ (event.currentTarget || event.target);
    const x0 = event.clientX;
    const y0 = event.clientY;
    let frame = 0;
    let last = { dx: 0, dy: 0 };
    const gesture = new ListenerPool();
    try { target.setPointerCapture(event.pointerId); } catch { /* synthetic events */ }
    this.element.classList.add(stateClass);
    document.documentElement.classList.add("holaf-gesture-active");
    const apply = () => {
      frame = 0;
      this._setRect(compute(last.dx, last.dy));
    };
    gesture.add(target, "pointermove", (e) => {
      const pe = /** @type {PointerEvent} */ (e);
      last = { dx: pe.clientX - x0, dy: pe.clientY - y0 };
      if (!frame) frame = requestAnimationFrame(apply);
    });
    const end = () => {
      if (frame) cancelAnimationFrame(frame);
      apply();
      gesture.removeAll();
      this.element.classList.remove(stateClass);
      document.documentElement.classList.remove("holaf-gesture-active");
      if (last.dx || last.dy) {
        this._userMoved = true;
        this._save(rectToSettings(this.rect));
        this.dispatch(kind, { rect: this.rect });
      }
    };
    gesture.add(target, "pointerup", end);
    gesture.add(target, "pointercancel", end);
    gesture.add(target, "lostpointercapture", end);
  }

  /** @param {Record<string, any>} values */
  _save(values) {
    if (this.persist) this.host.settings.queue(this.section, values);
  }

  _applyTheme(theme) {
    this.theme = applyTheme(this.element, theme);
    if (this.themeSelect.value !== this.theme) this.themeSelect.value = this.theme;
  }

  // ------------------------------------------------------------------ public API
  /** Raises this panel above the other Holaf panels. */
  bringToFront() {
    if (!this.isOpen) return;
    const list = [...panels.keys()];
    if (list[list.length - 1] === this.id && this.element.style.zIndex) return;
    panels.delete(this.id);
    panels.set(this.id, this);
    restack();
    this.dispatch("front", {});
  }

  /** @param {string} text */
  setTitle(text) {
    this.titleEl.textContent = text;
    this.element.setAttribute("aria-label", text);
  }

  /**
   * Changes and saves the theme of this panel's section.
   * @param {string} theme
   */
  setTheme(theme) {
    const id = normalizeTheme(theme);
    this._applyTheme(id);
    if (this._hasOwnTheme()) this._save({ theme: id });
    this.dispatch("theme", { theme: id });
  }

  /** @param {boolean} on */
  setFullscreen(on) {
    this._setFullscreenState(on, true);
  }

  toggleFullscreen() {
    this.setFullscreen(!this.fullscreen);
  }

  /**
   * @param {boolean} on
   * @param {boolean} save
   */
  _setFullscreenState(on, save) {
    if (this.fullscreen === on) return;
    this.fullscreen = on;
    this.element.classList.toggle("holaf-panel-fullscreen", on);
    this.fullscreenButton.setAttribute("aria-pressed", String(on));
    this.fullscreenButton.replaceChildren(svgIcon(on ? "minimize" : "maximize"));
    this.fullscreenButton.title = on ? "Leave fullscreen (double-click the header, or Esc)" : "Fullscreen (double-click the header)";
    if (save) {
      this._userMoved = true;
      this._save({ panel_is_fullscreen: on });
    }
    this.dispatch("fullscreen", { fullscreen: on });
  }

  /** The panel's current rect (the floating one, also while fullscreen). */
  getRect() {
    return { ...this.rect };
  }

  /**
   * Moves/resizes the panel (clamped) and saves it.
   * @param {Partial<Rect>} rect
   */
  setRect(rect) {
    this._userMoved = true;
    this._setRect(clampRect({ ...this.rect, ...rect }, viewport(), this._limits()));
    this._save(rectToSettings(this.rect));
  }

  /** Hides without destroying (tools that keep state while hidden). */
  hide() {
    this.element.hidden = true;
  }

  /** Shows a hidden panel and brings it to front. */
  show() {
    this.element.hidden = false;
    this._fitToViewport();
    this.bringToFront();
  }

  get isVisible() {
    return this.isOpen && !this.element.hidden;
  }

  /**
   * Closes the panel unless a `close` listener calls preventDefault. Returns whether it closed.
   */
  close() {
    if (!this.isOpen) return true;
    if (this.dispatch("close", {}).defaultPrevented) return false;
    this.destroy();
    return true;
  }

  /** Removes the panel and every listener it or its tool registered (no `close` veto). */
  destroy() {
    if (!this.isOpen) return;
    this.isOpen = false;
    this.host.settings.flush();
    this.listeners.removeAll();
    this.pool.removeAll();
    this.element.remove();
    panels.delete(this.id);
    restack();
    releaseGlobalListeners();
    try {
      this.options.onClose?.(this);
    } finally {
      this.dispatch("closed", {});
      this.removeAllListeners();
    }
  }
}

/**
 * Opens a panel, or returns the open one with the same id (shown and brought to front).
 * @param {PanelOptions} options
 * @returns {Panel}
 */
export function createPanel(options) {
  if (!options || typeof options.id !== "string" || !options.id) throw new TypeError("createPanel needs an id");
  if (!options.host?.settings) throw new TypeError("createPanel needs the host");
  const existing = panels.get(options.id);
  if (existing) {
    existing.show();
    return existing;
  }
  return new Panel(options);
}

/**
 * The open panel with this id, if any.
 * @param {string} id
 */
export function getPanel(id) {
  return panels.get(id) || null;
}

/** Open panels, back to front. */
export function listPanels() {
  return [...panels.values()];
}

/** Closes every panel (no veto); used when the page tears the shell down. */
export function closeAllPanels() {
  for (const panel of [...panels.values()]) panel.destroy();
}
