/**
 * The status bar: "Showing X of Y", the selection count, thumbnail progress
 * (`GET /holaf/images/thumbnail-stats`) and background scan progress
 * (`GET /holaf/images/scan-status`). Both are polled only while there is something
 * to report and the viewer is on screen, and woken up by change events.
 * No side effects at import.
 * @module image_viewer/status_bar
 */
import { el } from "../common/dom.js";

const THUMB_POLL_MS = 3000;
const SCAN_POLL_MS = 1500;

/** @param {number} n */
function fmt(n) {
  return Number(n || 0).toLocaleString("en-US");
}

export class StatusBar {
  /**
   * @param {object} options
   * @param {import("../common/host.js").HolafHost} options.host
   * @param {() => boolean} options.isVisible
   */
  constructor(options) {
    this.host = options.host;
    this._isVisible = options.isVisible;
    this.count = el("span", { className: "holaf-iv-status-count", testid: "holaf-count", attrs: { "aria-live": "polite" } });
    this.selected = el("span", { className: "holaf-iv-status-selected", testid: "holaf-selection-count" });
    this.thumbs = el("span", { className: "holaf-iv-status-thumbs", testid: "holaf-thumb-progress" });
    this.scan = el("span", { className: "holaf-iv-status-scan", testid: "holaf-scan-progress" });
    this.element = el("footer", { className: "holaf-iv-status", testid: "holaf-status", children: [this.count, this.selected, this.thumbs, this.scan] });
    this._thumbTimer = /** @type {any} */ (null);
    this._scanTimer = /** @type {any} */ (null);
    this._destroyed = false;
  }

  /**
   * @param {{shown: number | null, total: number | null, trashcan: boolean, empty?: string}} counts
   */
  setCounts(counts) {
    let text;
    if (counts.shown === null) text = "Loading…";
    else if (counts.trashcan) text = `Trashcan: ${fmt(counts.shown)} file${counts.shown === 1 ? "" : "s"}`;
    else text = `Showing ${fmt(counts.shown)} of ${fmt(counts.total ?? counts.shown)}`;
    if (this.count.textContent !== text) this.count.textContent = text;
    this.count.dataset.shown = String(counts.shown ?? "");
    this.count.dataset.total = String(counts.total ?? "");
  }

  /** @param {number} n */
  setSelection(n) {
    this.selected.textContent = n ? `${fmt(n)} selected` : "";
    this.selected.hidden = !n;
  }

  /** Starts (or restarts) polling thumbnail progress. */
  wakeThumbs() {
    if (this._thumbTimer || this._destroyed) return;
    this._thumbTimer = setTimeout(() => this._pollThumbs(), 200);
  }

  async _pollThumbs() {
    this._thumbTimer = null;
    if (this._destroyed) return;
    if (!this._isVisible()) {
      this._thumbTimer = setTimeout(() => this._pollThumbs(), THUMB_POLL_MS);
      return;
    }
    try {
      const stats = await this.host.fetchJson("/holaf/images/thumbnail-stats");
      const total = Number(stats.total) || 0;
      const done = Number(stats.done) || 0;
      const failed = Number(stats.failed) || 0;
      const pending = Math.max(0, Number(stats.pending) || 0);
      if (pending > 0 && total) {
        this.thumbs.textContent = `Thumbnails: ${fmt(done)}/${fmt(total)} (${Math.floor((done / total) * 100)}%)${failed ? ` · ${fmt(failed)} unreadable` : ""}`;
        this.thumbs.hidden = false;
        this._thumbTimer = setTimeout(() => this._pollThumbs(), THUMB_POLL_MS);
      } else {
        this.thumbs.textContent = failed ? `${fmt(failed)} unreadable` : "";
        this.thumbs.hidden = !failed;
      }
    } catch {
      this.thumbs.hidden = true; // thumbnails feature missing or the server is away
    }
  }

  /**
   * Scan state from a list answer, an event or a poll.
   * @param {{state?: string, done?: number, found?: number} | null | undefined} scan
   */
  setScan(scan) {
    const scanning = scan?.state === "scanning";
    this.scan.hidden = !scanning;
    if (scanning) {
      // a push says only "scanning": keep the last figures rather than flash "0 / 0"
      if (typeof scan?.done === "number" || !this.scan.textContent) {
        this.scan.textContent = typeof scan?.done === "number" ? `Indexing: ${fmt(scan.done)} / ${fmt(scan?.found || 0)}` : "Indexing…";
      }
      if (!this._scanTimer && !this._destroyed) this._scanTimer = setTimeout(() => this._pollScan(), SCAN_POLL_MS);
    }
  }

  async _pollScan() {
    this._scanTimer = null;
    if (this._destroyed) return;
    try {
      this.setScan(await this.host.fetchJson("/holaf/images/scan-status"));
    } catch {
      this.scan.hidden = true;
    }
  }

  destroy() {
    this._destroyed = true;
    clearTimeout(this._thumbTimer);
    clearTimeout(this._scanTimer);
    this.element.remove();
  }
}
