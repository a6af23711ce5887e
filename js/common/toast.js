/**
 * Toasts that work in both hosts: info / success / warning / error, optional progress
 * bar updated in place, persistent toasts, click or × to dismiss, hover pauses the timer.
 * Text always goes in through textContent. No side effects at import.
 * @module common/toast
 */
import { el, ensureShellStyles } from "./dom.js";
import { applyTheme } from "./themes.js";

/**
 * @typedef {"info" | "success" | "warning" | "error"} ToastType
 */

/**
 * @typedef {object} ToastOptions
 * @property {ToastType} [type] default "info"
 * @property {string} [title] bold first line
 * @property {number} [duration] ms before it goes away; 0 = persistent (stays until dismissed).
 *   Default 4000, errors 8000, 0 while a progress bar is shown.
 * @property {number | null} [progress] 0..1 shows a bar; -1 an indeterminate bar; null none
 * @property {boolean} [dismissible] default true (click or ×)
 * @property {string} [id] reuse an id to replace that toast
 * @property {() => void} [onClick] instead of dismissing on click
 */

const DEFAULT_DURATION = { info: 4000, success: 4000, warning: 6000, error: 8000 };
const MAX_TOASTS = 6;

export class ToastManager {
  /**
   * @param {{theme?: () => string, doc?: Document}} [options] `theme()` gives the theme of the stack
   */
  constructor(options = {}) {
    this._theme = options.theme || (() => "graphite-orange");
    this._doc = options.doc || document;
    /** @type {HTMLElement | null} */
    this._container = null;
    /** @type {Map<string, {node: HTMLElement, options: ToastOptions & {message: string}, timer: any, remaining: number, started: number}>} */
    this._toasts = new Map();
    this._counter = 0;
  }

  _ensureContainer() {
    if (this._container && this._container.isConnected) return this._container;
    ensureShellStyles();
    this._container = el("div", {
      className: "holaf-toast-stack",
      testid: "holaf-toast-stack",
      attrs: { "aria-live": "polite", role: "status" },
    });
    this._doc.body.appendChild(this._container);
    return this._container;
  }

  /**
   * Shows a toast and returns its id (for `update`/`dismiss`).
   * @param {string} message
   * @param {ToastOptions} [options]
   */
  show(message, options = {}) {
    const id = options.id || `holaf-toast-${++this._counter}`;
    if (this._toasts.has(id)) {
      this.update(id, { ...options, message });
      return id;
    }
    const container = this._ensureContainer();
    applyTheme(container, this._theme());
    const node = el("div", { className: "holaf-toast", testid: "holaf-toast", attrs: { role: "alert" } });
    node.dataset.toastId = id;
    /** @type {{node: HTMLElement, options: ToastOptions & {message: string}, timer: any, remaining: number, started: number}} */
    const entry = { node, options: { type: "info", dismissible: true, ...options, message }, timer: null, remaining: 0, started: 0 };
    this._toasts.set(id, entry);
    node.addEventListener("click", (event) => {
      const opts = entry.options;
      if (opts.onClick) opts.onClick();
      else if (opts.dismissible !== false && !(event.target instanceof HTMLButtonElement)) this.dismiss(id);
    });
    node.addEventListener("mouseenter", () => this._pause(entry));
    node.addEventListener("mouseleave", () => this._resume(id, entry));
    this._render(id, entry);
    container.appendChild(node);
    this._trim();
    this._schedule(id, entry);
    return id;
  }

  /** @param {string} message @param {ToastOptions} [options] */
  info(message, options) { return this.show(message, { ...options, type: "info" }); }
  /** @param {string} message @param {ToastOptions} [options] */
  success(message, options) { return this.show(message, { ...options, type: "success" }); }
  /** @param {string} message @param {ToastOptions} [options] */
  warning(message, options) { return this.show(message, { ...options, type: "warning" }); }
  /** @param {string} message @param {ToastOptions} [options] */
  error(message, options) { return this.show(message, { ...options, type: "error" }); }

  /**
   * Changes a toast in place (message, title, type, progress, duration). Returns false if it is gone.
   * @param {string} id
   * @param {Partial<ToastOptions> & {message?: string}} changes
   */
  update(id, changes) {
    const entry = this._toasts.get(id);
    if (!entry) return false;
    entry.options = { ...entry.options, ...changes };
    this._render(id, entry);
    if ("duration" in changes || "progress" in changes || "type" in changes) this._schedule(id, entry);
    return true;
  }

  /** @param {string} id */
  dismiss(id) {
    const entry = this._toasts.get(id);
    if (!entry) return;
    clearTimeout(entry.timer);
    this._toasts.delete(id);
    entry.node.remove();
  }

  /** Removes every toast. */
  clear() {
    for (const id of [...this._toasts.keys()]) this.dismiss(id);
  }

  /** @param {string} id */
  has(id) {
    return this._toasts.has(id);
  }

  destroy() {
    this.clear();
    this._container?.remove();
    this._container = null;
  }

  _render(id, entry) {
    const { node, options } = entry;
    const type = options.type || "info";
    node.className = `holaf-toast holaf-toast-${type}`;
    node.dataset.type = type;
    node.replaceChildren();
    const icon = el("span", { className: "holaf-toast-icon", attrs: { "aria-hidden": "true" }, text: { info: "i", success: "✓", warning: "!", error: "✕" }[type] || "i" });
    const text = el("div", { className: "holaf-toast-text" });
    if (options.title) text.appendChild(el("div", { className: "holaf-toast-title", text: options.title }));
    text.appendChild(el("div", { className: "holaf-toast-message", text: options.message }));
    const progress = options.progress;
    if (typeof progress === "number") {
      const bar = el("div", { className: "holaf-toast-progress", testid: "holaf-toast-progress", attrs: { role: "progressbar" } });
      const fill = el("div", { className: "holaf-toast-progress-fill" });
      if (progress < 0) {
        bar.classList.add("holaf-indeterminate");
      } else {
        const pct = Math.round(Math.min(1, Math.max(0, progress)) * 100);
        fill.style.width = `${pct}%`;
        bar.setAttribute("aria-valuenow", String(pct));
        bar.setAttribute("aria-valuemin", "0");
        bar.setAttribute("aria-valuemax", "100");
      }
      bar.appendChild(fill);
      text.appendChild(bar);
    }
    node.append(icon, text);
    if (options.dismissible !== false) {
      node.appendChild(el("button", {
        className: "holaf-icon-button holaf-toast-close", testid: "holaf-toast-close", text: "×",
        attrs: { type: "button", "aria-label": "Dismiss", title: "Dismiss" },
        on: { click: (event) => { event.stopPropagation(); this.dismiss(id); } },
      }));
    }
  }

  _duration(entry) {
    const { options } = entry;
    if (typeof options.duration === "number") return options.duration;
    if (typeof options.progress === "number") return 0;
    return DEFAULT_DURATION[options.type || "info"] ?? 4000;
  }

  _schedule(id, entry) {
    clearTimeout(entry.timer);
    entry.timer = null;
    const duration = this._duration(entry);
    entry.remaining = duration;
    if (duration > 0) {
      entry.started = Date.now();
      entry.timer = setTimeout(() => this.dismiss(id), duration);
    }
  }

  _pause(entry) {
    if (!entry.timer) return;
    clearTimeout(entry.timer);
    entry.timer = null;
    entry.remaining = Math.max(800, entry.remaining - (Date.now() - entry.started));
  }

  _resume(id, entry) {
    if (entry.timer || !(this._duration(entry) > 0) || !this._toasts.has(id)) return;
    entry.started = Date.now();
    entry.timer = setTimeout(() => this.dismiss(id), entry.remaining);
  }

  _trim() {
    if (this._toasts.size <= MAX_TOASTS) return;
    // Drop the oldest toasts that would expire anyway; persistent ones stay.
    for (const [id, entry] of this._toasts) {
      if (this._toasts.size <= MAX_TOASTS) break;
      if (this._duration(entry) > 0) this.dismiss(id);
    }
  }
}
