/**
 * The virtualized gallery grid. Only the visible rows plus a small buffer exist in the
 * DOM, taken from a pool of recycled tile elements, however many images match; a sizer
 * gives the scrollbar the full height (scaled past the browser's limit, see
 * grid_layout.js). Rendering runs once per animation frame and skips DOM writes that
 * would change nothing. Loaded rows come from the {@link PagedList}; missing ones show
 * skeleton tiles while their page loads. Thumbnails are asked for when scrolling
 * settles, visible ones first, after telling the server which ones are on screen
 * (`POST /holaf/images/prioritize-thumbnails`).
 *
 * Events (`on`): `tileclick` {index, item, event, checkbox}; `tileopen` {index, item};
 * `band` {indices, additive} (rubber-band selection); `scrolled` {atTop, range};
 * `tiledrag` {index, item, event}. No side effects at import.
 * @module image_viewer/gallery
 */
import { Eventable, ListenerPool } from "../common/events.js";
import { el } from "../common/dom.js";
import {
  computeLayout, visibleRange, tilePlacement, scrollTopToReveal, indicesInBand, contentTop, anchorIndex,
  itemPosition, scrollTopForContent,
} from "./grid_layout.js";

/**
 * @typedef {import("./paging.js").ListItem} ListItem
 * @typedef {import("./grid_layout.js").GridLayout} GridLayout
 */

const BUFFER_ROWS = 2;
const SETTLE_MS = 90;
const VIDEO_HOVER_MS = 180;
const VIDEO_FORMATS = new Set(["MP4", "WEBM", "MOV", "MKV", "M4V"]);

/**
 * @typedef {object} Tile
 * @property {HTMLDivElement} el
 * @property {HTMLImageElement} img
 * @property {HTMLSpanElement} format
 * @property {HTMLSpanElement} edit
 * @property {HTMLSpanElement} rating
 * @property {HTMLSpanElement} check
 * @property {HTMLDivElement} broken
 * @property {number} index
 * @property {ListItem | undefined} item
 * @property {string} thumbKey
 * @property {(() => void) | null} cancel
 * @property {string} flags
 */

export class GalleryGrid extends Eventable {
  /**
   * @param {object} options
   * @param {import("./paging.js").PagedList} options.list
   * @param {import("./state.js").ViewerState} options.state
   * @param {import("./thumbs.js").ThumbnailLoader} options.thumbs
   * @param {(paths: string[]) => void} options.prioritize posts the visible paths
   * @param {(item: ListItem) => string} options.fullUrl URL of the original file (video hover)
   * @param {(path: string) => boolean} [options.isFresh] a new arrival (slides in)
   */
  constructor(options) {
    super();
    this.list = options.list;
    this.state = options.state;
    this.thumbs = options.thumbs;
    this._prioritize = options.prioritize;
    this._fullUrl = options.fullUrl;
    this._isFresh = options.isFresh || (() => false);
    this.pool = new ListenerPool();
    this.element = el("div", {
      className: "holaf-iv-gallery", testid: "holaf-gallery",
      attrs: { role: "grid", "aria-label": "Images", tabindex: "-1" },
    });
    this.sizer = el("div", { className: "holaf-iv-sizer" });
    this.band = el("div", { className: "holaf-iv-band", attrs: { hidden: true } });
    this.emptyNote = el("div", { className: "holaf-iv-empty", testid: "holaf-gallery-empty", attrs: { hidden: true } });
    this.element.append(this.sizer, this.band, this.emptyNote);
    /** @type {Tile[]} */
    this._free = [];
    /** @type {Map<number, Tile>} */
    this._tiles = new Map();
    this._width = 0;
    this._height = 0;
    /** @type {GridLayout} */
    this.layout = computeLayout({ width: 1, viewportHeight: 1, tileSize: this.state.tileSize, count: 0 });
    this._frame = 0;
    this._settleTimer = /** @type {any} */ (null);
    /** Painted tiles wait for a thumbnail request. */
    this._needsThumbs = false;
    this._inSettle = false;
    this._lastScroll = 0;
    this._lastPriority = "";
    this._hoverTimer = /** @type {any} */ (null);
    /** @type {HTMLVideoElement | null} */
    this._hoverVideo = null;
    this._hoverTile = /** @type {Tile | null} */ (null);
    this._emptyText = "No images match the current filters.";
    this._bind();
  }

  _bind() {
    const pool = this.pool;
    pool.add(this.element, "scroll", () => {
      this._lastScroll = performance.now();
      this.schedule();
      clearTimeout(this._settleTimer);
      this._settleTimer = setTimeout(() => this._settled(), SETTLE_MS);
    }, { passive: true });
    const observer = new ResizeObserver(() => {
      const width = this.element.clientWidth;
      const height = this.element.clientHeight;
      if (width === this._width && height === this._height) return;
      const anchor = this.layout.count ? anchorIndex(this.layout, this.element.scrollTop) : 0;
      this._width = width;
      this._height = height;
      this._relayout(anchor);
    });
    observer.observe(this.element);
    pool.track(() => observer.disconnect());
    pool.track(this.list.on("items", (e) => this._onItems(e.detail)));
    pool.track(this.list.on("total", () => this._relayout(null)));
    pool.track(this.list.on("reset", () => {
      this.element.scrollTop = 0;
      this._lastPriority = "";
      this._relayout(null);
    }));
    pool.track(this.state.on("view", () => this._relayout(anchorIndex(this.layout, this.element.scrollTop))));
    pool.track(this.state.on("selection", () => this._repaintFlags()));
    pool.track(this.state.on("active", () => this._repaintFlags()));

    pool.add(this.element, "click", (event) => {
      const e = /** @type {MouseEvent} */ (event);
      const tile = this._tileFromEvent(e);
      if (!tile || !tile.item) return;
      const checkbox = !!/** @type {HTMLElement} */ (e.target).closest(".holaf-iv-check");
      this.dispatch("tileclick", { index: tile.index, item: tile.item, event: e, checkbox });
    });
    pool.add(this.element, "dblclick", (event) => {
      const tile = this._tileFromEvent(/** @type {MouseEvent} */ (event));
      if (tile?.item && !/** @type {HTMLElement} */ (event.target).closest(".holaf-iv-check")) {
        this.dispatch("tileopen", { index: tile.index, item: tile.item });
      }
    });
    pool.add(this.element, "dragstart", (event) => {
      const tile = this._tileFromEvent(/** @type {MouseEvent} */ (event));
      if (tile?.item) this.dispatch("tiledrag", { index: tile.index, item: tile.item, event });
      else event.preventDefault();
    });
    pool.add(this.element, "pointerdown", (event) => this._startBand(/** @type {PointerEvent} */ (event)));
    pool.add(this.element, "mouseover", (event) => this._hover(/** @type {MouseEvent} */ (event)));
    pool.add(this.element, "mouseleave", () => this._stopHover());
  }

  /** @param {MouseEvent} event */
  _tileFromEvent(event) {
    const node = /** @type {HTMLElement} */ (event.target).closest?.(".holaf-iv-tile");
    if (!node) return null;
    const index = Number(/** @type {HTMLElement} */ (node).dataset.index);
    return this._tiles.get(index) || null;
  }

  /** @param {number | null} anchor item to keep at the top, or null to keep the scroll position */
  _relayout(anchor) {
    const count = this.list.total ?? 0;
    const width = this._width || this.element.clientWidth;
    const height = this._height || this.element.clientHeight;
    this.layout = computeLayout({ width, viewportHeight: height, tileSize: this.state.tileSize, count });
    const h = `${this.layout.scrollHeight}px`;
    if (this.sizer.style.height !== h) this.sizer.style.height = h;
    if (anchor !== null && anchor > 0 && count) {
      this.element.scrollTop = scrollTopForContent(this.layout, itemPosition(this.layout, Math.min(anchor, count - 1)).y - this.layout.padding);
    }
    const showEmpty = this.list.total === 0;
    this.emptyNote.hidden = !showEmpty;
    if (showEmpty) this.emptyNote.textContent = this._emptyText;
    for (const tile of this._tiles.values()) tile.flags = ""; // sizes changed: repaint
    this.schedule();
  }

  /** @param {string} text shown when the list is empty */
  setEmptyText(text) {
    this._emptyText = text;
    if (!this.emptyNote.hidden) this.emptyNote.textContent = text;
  }

  /** @param {{start: number, end: number}} range */
  _onItems(range) {
    const r = this.range();
    if (range.end < r.start || range.start > r.end) return;
    this.schedule();
    clearTimeout(this._settleTimer);
    this._settleTimer = setTimeout(() => this._settled(), performance.now() - this._lastScroll < SETTLE_MS ? SETTLE_MS : 0);
  }

  /** Schedules one render on the next animation frame. */
  schedule() {
    if (this._frame) return;
    this._frame = requestAnimationFrame(() => {
      this._frame = 0;
      this.render();
    });
  }

  /** The range of items rendered now. */
  range() {
    return visibleRange(this.layout, this.element.scrollTop, BUFFER_ROWS);
  }

  /** True when the first row is visible. */
  isAtTop() {
    return contentTop(this.layout, this.element.scrollTop) < this.layout.rowHeight * 0.5;
  }

  /** Rows that fit in the viewport (PageUp/PageDown). */
  pageRows() {
    return Math.max(1, Math.floor(this.layout.viewportHeight / this.layout.rowHeight));
  }

  render() {
    const layout = this.layout;
    const scrollTop = this.element.scrollTop;
    const range = visibleRange(layout, scrollTop, BUFFER_ROWS);
    for (const [index, tile] of this._tiles) {
      if (index < range.start || index >= range.end) this._release(tile);
    }
    for (let index = range.start; index < range.end; index++) {
      let tile = this._tiles.get(index);
      if (!tile) {
        tile = this._free.pop() || this._createTile();
        tile.index = index;
        tile.el.dataset.index = String(index);
        tile.flags = "";
        tile.item = undefined;
        tile.thumbKey = "";
        this._tiles.set(index, tile);
        if (!tile.el.isConnected) this.sizer.appendChild(tile.el);
        tile.el.hidden = false;
      }
      this._paint(tile, layout, scrollTop);
    }
    if (range.end > range.start) this.list.ensure(range.start, range.end);
    // not scrolling: tiles painted now get their thumbnails at once (scrolling waits to settle)
    if (this._needsThumbs && !this._inSettle && !this._settleTimer && performance.now() - this._lastScroll >= SETTLE_MS) {
      this._settleTimer = setTimeout(() => this._settled(), 0);
    }
    this.dispatch("scrolled", { atTop: this.isAtTop(), range });
  }

  /** @returns {Tile} */
  _createTile() {
    const img = el("img", { className: "holaf-iv-thumb", attrs: { alt: "", draggable: "false", decoding: "async" } });
    const format = el("span", { className: "holaf-iv-badge holaf-iv-format" });
    const edit = el("span", { className: "holaf-iv-badge holaf-iv-edit", text: "✎", attrs: { title: "Has edits" } });
    const rating = el("span", { className: "holaf-iv-rating" });
    const check = el("span", { className: "holaf-iv-check", attrs: { role: "checkbox", "aria-checked": "false", title: "Select" } });
    const broken = el("div", { className: "holaf-iv-broken", testid: "holaf-tile-broken" });
    const node = el("div", {
      className: "holaf-iv-tile", attrs: { role: "gridcell", draggable: "true" },
      children: [img, el("div", { className: "holaf-iv-badges", children: [format, edit] }), check, rating, broken],
    });
    return { el: node, img, format, edit, rating, check, broken, index: -1, item: undefined, thumbKey: "", cancel: null, flags: "" };
  }

  /** @param {Tile} tile */
  _release(tile) {
    this._tiles.delete(tile.index);
    tile.cancel?.();
    tile.cancel = null;
    if (this._hoverTile === tile) this._stopHover();
    tile.el.hidden = true;
    tile.el.dataset.testid = "holaf-tile-free";
    delete tile.el.dataset.path;
    delete tile.el.dataset.index;
    tile.item = undefined;
    tile.index = -1;
    this._free.push(tile);
  }

  /**
   * Writes one tile; skips what did not change.
   * @param {Tile} tile
   * @param {GridLayout} layout
   * @param {number} scrollTop
   */
  _paint(tile, layout, scrollTop) {
    const item = this.list.get(tile.index);
    const place = tilePlacement(layout, tile.index, scrollTop);
    const transform = `translate(${place.x}px, ${place.y}px)`;
    const style = tile.el.style;
    if (style.transform !== transform) style.transform = transform;
    const w = `${layout.cellWidth}px`;
    if (style.width !== w) {
      style.width = w;
      style.height = `${layout.cellHeight}px`;
    }
    const selected = !!item && this.state.selection.has(item.path);
    const active = !!item && this.state.activePath === item.path;
    const fresh = !!item && this._isFresh(item.path);
    const flags = `${item ? item.path + "|" + (item.version || "") + "|" + item.rating + "|" + item.has_edits + "|" + (item.error || "") : ""}|${selected}|${active}|${this.state.fit}|${fresh}`;
    if (tile.item === item && tile.flags === flags) return;
    tile.flags = flags;
    const node = tile.el;
    if (!item) {
      tile.item = undefined;
      tile.cancel?.();
      tile.cancel = null;
      tile.thumbKey = "";
      node.className = "holaf-iv-tile holaf-iv-skeleton";
      node.dataset.testid = "holaf-tile-skeleton";
      delete node.dataset.path;
      node.removeAttribute("title");
      tile.img.removeAttribute("src");
      tile.broken.textContent = "";
      return;
    }
    const changedItem = tile.item?.path !== item.path || tile.item?.version !== item.version;
    tile.item = item;
    node.dataset.testid = "holaf-tile";
    node.dataset.path = item.path;
    const video = item.kind === "video" || VIDEO_FORMATS.has(String(item.format || "").toUpperCase());
    node.className = [
      "holaf-iv-tile", selected ? "holaf-iv-selected" : "", active ? "holaf-iv-active" : "",
      video ? "holaf-iv-video" : "", this.state.fit === "contain" ? "holaf-iv-contain" : "", fresh ? "holaf-iv-tile-new" : "",
    ].filter(Boolean).join(" ");
    node.setAttribute("aria-selected", String(selected));
    node.title = item.folder ? `${item.name}\n${item.folder}` : item.name;
    tile.check.setAttribute("aria-checked", String(selected));
    const format = video ? `▶ ${item.format || "VIDEO"}` : String(item.format || item.ext || "").toUpperCase();
    if (tile.format.textContent !== format) tile.format.textContent = format;
    tile.edit.hidden = !item.has_edits;
    const stars = item.rating ? "★".repeat(Math.min(5, item.rating)) : "";
    if (tile.rating.textContent !== stars) tile.rating.textContent = stars;
    tile.rating.hidden = !stars;
    if (changedItem) this._showThumb(tile, false);
  }

  /**
   * @param {Tile} tile
   * @param {boolean} request ask the server (after scrolling settled)
   * @param {boolean} [high]
   */
  _showThumb(tile, request, high = false) {
    const item = /** @type {ListItem} */ (tile.item);
    const key = this.thumbs.key(item);
    if (tile.thumbKey === key && (tile.img.getAttribute("src") || tile.cancel)) return;
    const known = this.thumbs.peek(item);
    if (!known && !request) {
      this._needsThumbs = true;
      if (tile.thumbKey !== key) {
        tile.cancel?.();
        tile.cancel = null;
        tile.img.removeAttribute("src");
        tile.el.classList.add("holaf-iv-loading");
        tile.el.classList.remove("holaf-iv-broken-tile");
        tile.thumbKey = key;
      }
      return;
    }
    tile.thumbKey = key;
    tile.cancel?.();
    tile.cancel = null;
    const apply = (/** @type {import("./thumbs.js").ThumbResult} */ result) => {
      // The key names the file and its version: a list reload hands the tile a new row
      // object for the same file while this thumbnail is on its way, and it still belongs.
      if (tile.thumbKey !== key || tile.item?.path !== item.path) return;
      const shown = tile.item; // the row now on the tile (its error text may be newer)
      tile.cancel = null;
      tile.el.classList.remove("holaf-iv-loading");
      if ("url" in result) {
        tile.el.classList.remove("holaf-iv-broken-tile");
        if (tile.img.getAttribute("src") !== result.url) tile.img.src = result.url;
        tile.broken.textContent = "";
        if (shown.error) tile.el.title = `${shown.name}\n⚠ ${shown.error}`;
      } else {
        tile.img.removeAttribute("src");
        tile.el.classList.add("holaf-iv-broken-tile");
        const reason = shown.error || result.error;
        tile.broken.textContent = result.code === "network_error" ? "Offline" : "Unreadable";
        tile.el.title = `${shown.name}\nUnreadable: ${reason}`;
        tile.broken.title = reason;
      }
    };
    const cancel = this.thumbs.request(item, apply, { high });
    if (tile.thumbKey === key && tile.el.classList.contains("holaf-iv-loading")) tile.cancel = cancel;
  }

  /** Scrolling stopped: prioritize and request the thumbnails of what is on screen. */
  _settled() {
    this._settleTimer = null;
    if (this._frame) {
      // a render is due: paint first so the tiles know their items
      cancelAnimationFrame(this._frame);
      this._frame = 0;
      this._inSettle = true;
      try { this.render(); } finally { this._inSettle = false; }
    }
    this._needsThumbs = false;
    const range = this.range();
    const tiles = [...this._tiles.values()].filter((t) => t.item).sort((a, b) => a.index - b.index);
    const visible = tiles.filter((t) => t.index >= range.firstVisible && t.index <= range.lastVisible);
    const buffer = tiles.filter((t) => t.index < range.firstVisible || t.index > range.lastVisible);
    const missing = visible.filter((t) => !this.thumbs.peek(/** @type {ListItem} */ (t.item))).map((t) => /** @type {ListItem} */ (t.item).path);
    const key = missing.join("\n");
    if (missing.length && key !== this._lastPriority) {
      this._lastPriority = key;
      this._prioritize(missing);
    }
    // the loader serves the most recent request first: buffer rows, then visible bottom-up
    for (const tile of buffer.reverse()) this._showThumb(tile, true, false);
    for (const tile of visible.reverse()) this._showThumb(tile, true, true);
  }

  _repaintFlags() {
    const layout = this.layout;
    const top = this.element.scrollTop;
    for (const tile of this._tiles.values()) this._paint(tile, layout, top);
  }

  /** Repaints every tile (items or flags changed outside the list events). */
  refresh() {
    for (const tile of this._tiles.values()) tile.flags = "";
    this.schedule();
  }

  /**
   * Scrolls as little as needed to show `index`.
   * @param {number} index
   */
  reveal(index) {
    const target = scrollTopToReveal(this.layout, index, this.element.scrollTop);
    if (Math.abs(target - this.element.scrollTop) >= 1) this.element.scrollTop = target;
  }

  /** @param {number} delta px, e.g. ± a page */
  scrollByPx(delta) {
    this.element.scrollTop += delta;
  }

  scrollToTop() {
    this.element.scrollTop = 0;
  }

  /** The tile element of a path, when it is rendered. */
  tileElement(path) {
    for (const tile of this._tiles.values()) if (tile.item?.path === path) return tile.el;
    return null;
  }

  /** Number of tile elements in the DOM (bounded by the viewport, never by the item count). */
  get domTileCount() {
    return this._tiles.size + this._free.length;
  }

  // ------------------------------------------------------------------ rubber band
  /** @param {PointerEvent} event */
  _startBand(event) {
    if (event.button !== 0 || /** @type {HTMLElement} */ (event.target).closest(".holaf-iv-tile")) return;
    const box = this.element.getBoundingClientRect();
    if (event.clientX > box.left + this.element.clientWidth) return; // the scrollbar
    const toContent = (/** @type {number} */ x, /** @type {number} */ y) => ({
      x: x - box.left + this.element.scrollLeft,
      y: contentTop(this.layout, this.element.scrollTop) + (y - box.top),
    });
    const start = toContent(event.clientX, event.clientY);
    const additive = event.ctrlKey || event.metaKey || event.shiftKey;
    const gesture = new ListenerPool();
    let last = { x: event.clientX, y: event.clientY };
    let moved = false;
    let autoscroll = 0;
    const update = () => {
      const now = toContent(last.x, last.y);
      const left = Math.min(start.x, now.x);
      const topContent = Math.min(start.y, now.y);
      const shift = this.element.scrollTop - contentTop(this.layout, this.element.scrollTop);
      Object.assign(this.band.style, {
        transform: `translate(${left}px, ${topContent + shift}px)`,
        width: `${Math.abs(now.x - start.x)}px`,
        height: `${Math.abs(now.y - start.y)}px`,
      });
      this.band.hidden = false;
      const indices = indicesInBand(this.layout, { x1: start.x, y1: start.y, x2: now.x, y2: now.y });
      this.dispatch("band", { indices, additive, final: false });
    };
    const tick = () => {
      autoscroll = 0;
      const edge = 30;
      let dy = 0;
      if (last.y < box.top + edge) dy = -Math.ceil((box.top + edge - last.y) / 2);
      else if (last.y > box.bottom - edge) dy = Math.ceil((last.y - box.bottom + edge) / 2);
      if (dy) {
        this.element.scrollTop += dy;
        update();
        autoscroll = requestAnimationFrame(tick);
      }
    };
    try { this.element.setPointerCapture(event.pointerId); } catch { /* synthetic */ }
    gesture.add(this.element, "pointermove", (e) => {
      const pe = /** @type {PointerEvent} */ (e);
      last = { x: pe.clientX, y: pe.clientY };
      if (!moved && Math.hypot(pe.clientX - event.clientX, pe.clientY - event.clientY) < 4) return;
      moved = true;
      update();
      if (!autoscroll) autoscroll = requestAnimationFrame(tick);
    });
    const end = () => {
      gesture.removeAll();
      if (autoscroll) cancelAnimationFrame(autoscroll);
      this.band.hidden = true;
      if (moved) {
        const now = toContent(last.x, last.y);
        this.dispatch("band", { indices: indicesInBand(this.layout, { x1: start.x, y1: start.y, x2: now.x, y2: now.y }), additive, final: true });
      } else {
        this.dispatch("band", { indices: [], additive, final: true, click: true });
      }
    };
    gesture.add(this.element, "pointerup", end);
    gesture.add(this.element, "pointercancel", end);
  }

  // ------------------------------------------------------------------ video hover
  /** @param {MouseEvent} event */
  _hover(event) {
    const tile = this._tileFromEvent(event);
    if (tile === this._hoverTile) return;
    this._stopHover();
    if (!tile?.item || !tile.el.classList.contains("holaf-iv-video")) return;
    this._hoverTile = tile;
    const item = tile.item;
    this._hoverTimer = setTimeout(() => {
      if (this._hoverTile !== tile || tile.item !== item) return;
      const video = this._hoverVideo || (this._hoverVideo = el("video", {
        className: "holaf-iv-hover-video", attrs: { muted: true, loop: true, playsinline: true, preload: "metadata" },
      }));
      video.muted = true;
      video.src = this._fullUrl(item);
      tile.el.appendChild(video);
      video.play().catch(() => {});
    }, VIDEO_HOVER_MS);
  }

  _stopHover() {
    clearTimeout(this._hoverTimer);
    this._hoverTile = null;
    const video = this._hoverVideo;
    if (video && video.isConnected) {
      video.pause();
      video.removeAttribute("src");
      video.load();
      video.remove();
    }
  }

  destroy() {
    cancelAnimationFrame(this._frame);
    clearTimeout(this._settleTimer);
    this._stopHover();
    for (const tile of this._tiles.values()) tile.cancel?.();
    this.pool.removeAll();
    this.removeAllListeners();
    this.element.remove();
  }
}
