/**
 * The media stage of the zoom view and of the fullscreen overlay: one image (or video
 * with controls) fitted to the stage, wheel zoom around the cursor (1–30×), drag to pan,
 * double-click for fullscreen, and an A/B compare of two images with a slider split.
 *
 * Full-size images go through a small shared cache ({@link FullImageCache}) of decoded
 * images: the current one is shown over its thumbnail as soon as it decodes, and the
 * neighbours in the direction of travel are preloaded. A request counter drops a load
 * that finishes after the user already moved on. No side effects at import.
 * @module image_viewer/stage
 */
import { Eventable, ListenerPool } from "../common/events.js";
import { el } from "../common/dom.js";
import { LruCache } from "./lru.js";
import { clampPan, fitSize, initialState, panBy, transformCss, wheelFactor, zoomAt } from "./zoom_math.js";

/** @typedef {import("./paging.js").ListItem} ListItem */

const VIDEO_KINDS = new Set(["video"]);
const AUDIO_KINDS = new Set(["audio"]);

/** Decoded full-size images, bounded, shared by both stages. */
export class FullImageCache {
  /** @param {(item: ListItem) => string} urlOf @param {number} [limit] */
  constructor(urlOf, limit = 8) {
    this.urlOf = urlOf;
    /** @type {LruCache<string, {img: HTMLImageElement, ready: Promise<HTMLImageElement>}>} */
    this.cache = new LruCache(limit, (_key, entry) => { entry.img.src = ""; });
  }

  /** @param {ListItem} item */
  key(item) {
    return `${item.path}\u0000${item.version || ""}`;
  }

  /**
   * The decoded image (cached or loading).
   * @param {ListItem} item
   * @returns {{img: HTMLImageElement, ready: Promise<HTMLImageElement>}}
   */
  load(item) {
    const key = this.key(item);
    const hit = this.cache.get(key);
    if (hit) return hit;
    const img = new Image();
    img.decoding = "async";
    img.draggable = false;
    img.src = this.urlOf(item);
    const ready = img.decode().then(() => img, () => {
      if (img.complete && img.naturalWidth) return img; // decode() can reject for huge images that did load
      throw new Error(`cannot load ${item.name}`);
    });
    const entry = { img, ready };
    this.cache.set(key, entry);
    ready.catch(() => { if (this.cache.get(key) === entry) this.cache.delete(key); });
    return entry;
  }

  /** @param {ListItem} item */
  has(item) {
    return this.cache.has(this.key(item));
  }

  clear() {
    this.cache.clear();
  }
}

/**
 * @param {ListItem | undefined | null} item
 */
export function mediaKind(item) {
  if (!item) return "none";
  if (VIDEO_KINDS.has(String(item.kind))) return "video";
  if (AUDIO_KINDS.has(String(item.kind))) return "audio";
  return "image";
}

export class MediaStage extends Eventable {
  /**
   * Events: `dblclick` {}, `loaded` {item}, `error` {item, error}.
   * @param {object} options
   * @param {FullImageCache} options.cache
   * @param {(item: ListItem) => string} options.fullUrl
   * @param {(item: ListItem) => string | null} options.placeholder a cached thumbnail URL
   * @param {string} options.testid
   * @param {string} [options.className]
   */
  constructor(options) {
    super();
    this.cache = options.cache;
    this._fullUrl = options.fullUrl;
    this._placeholder = options.placeholder;
    this.pool = new ListenerPool();
    this.viewport = el("div", { className: "holaf-iv-stage-viewport" });
    this.status = el("div", { className: "holaf-iv-stage-status", testid: "holaf-stage-status", attrs: { hidden: true } });
    this.element = el("div", {
      className: ["holaf-iv-stage", options.className || ""], testid: options.testid,
      children: [this.viewport, this.status],
    });
    /** @type {ListItem | null} */
    this.item = null;
    /** @type {HTMLElement | null} the media element on screen */
    this.media = null;
    this.natural = { width: 0, height: 0 };
    this.fitted = { width: 1, height: 1 };
    this.zoom = { scale: 1, x: 0, y: 0 };
    this._request = 0;
    this._box = { width: 1, height: 1 };
    /** @type {string} */
    this.filterCss = "";
    this.compare = /** @type {{split: number, top: HTMLImageElement, bottom: HTMLImageElement, handle: HTMLElement} | null} */ (null);
    this._comparePool = new ListenerPool();
    this._bind();
  }

  _bind() {
    const observer = new ResizeObserver(() => this._measure());
    observer.observe(this.viewport);
    this.pool.track(() => observer.disconnect());
    this.pool.add(this.viewport, "wheel", (event) => {
      const e = /** @type {WheelEvent} */ (event);
      if (!this.media || this.compare || this.media.tagName !== "IMG") return;
      e.preventDefault();
      const box = this.viewport.getBoundingClientRect();
      const delta = e.deltaMode === 1 ? e.deltaY * 33 : e.deltaMode === 2 ? e.deltaY * box.height : e.deltaY;
      this._setZoom(zoomAt(this.zoom, wheelFactor(delta), { x: e.clientX - box.left, y: e.clientY - box.top }, this.fitted, this._box));
    }, { passive: false });
    this.pool.add(this.viewport, "pointerdown", (event) => this._startPan(/** @type {PointerEvent} */ (event)));
    this.pool.add(this.viewport, "dblclick", (event) => {
      if (/** @type {HTMLElement} */ (event.target).closest("video, .holaf-iv-compare-handle")) return;
      this.dispatch("dblclick", {});
    });
  }

  _measure() {
    const width = this.viewport.clientWidth;
    const height = this.viewport.clientHeight;
    if (!width || !height) return;
    this._box = { width, height };
    this._layout(false);
  }

  /** @param {boolean} reset back to fit */
  _layout(reset) {
    if (!this.media) return;
    this.fitted = fitSize(this.natural, this._box);
    const style = this.media.style;
    style.width = `${this.fitted.width}px`;
    style.height = `${this.fitted.height}px`;
    this._setZoom(reset ? initialState(this.fitted, this._box) : clampPan(this.zoom, this.fitted, this._box));
  }

  /** @param {import("./zoom_math.js").ZoomState} state */
  _setZoom(state) {
    this.zoom = state;
    if (!this.media) return;
    const css = transformCss(state);
    if (this.media.style.transform !== css) this.media.style.transform = css;
    this.element.classList.toggle("holaf-iv-zoomed", state.scale > 1.001);
    this.element.dataset.zoom = state.scale.toFixed(2);
  }

  /** Back to the fitted view. */
  resetZoom() {
    this._layout(true);
  }

  /** @param {PointerEvent} event */
  _startPan(event) {
    if (event.button !== 0 || !this.media || this.zoom.scale <= 1.001 || this.compare) return;
    if (/** @type {HTMLElement} */ (event.target).closest("video")) return;
    event.preventDefault();
    const gesture = new ListenerPool();
    let last = { x: event.clientX, y: event.clientY };
    let frame = 0;
    let pending = { dx: 0, dy: 0 };
    try { this.viewport.setPointerCapture(event.pointerId); } catch { /* synthetic */ }
    this.element.classList.add("holaf-iv-panning");
    gesture.add(this.viewport, "pointermove", (e) => {
      const pe = /** @type {PointerEvent} */ (e);
      pending.dx += pe.clientX - last.x;
      pending.dy += pe.clientY - last.y;
      last = { x: pe.clientX, y: pe.clientY };
      if (!frame) frame = requestAnimationFrame(() => {
        frame = 0;
        this._setZoom(panBy(this.zoom, pending.dx, pending.dy, this.fitted, this._box));
        pending = { dx: 0, dy: 0 };
      });
    });
    const end = () => {
      gesture.removeAll();
      if (frame) cancelAnimationFrame(frame);
      this._setZoom(panBy(this.zoom, pending.dx, pending.dy, this.fitted, this._box));
      this.element.classList.remove("holaf-iv-panning");
    };
    gesture.add(this.viewport, "pointerup", end);
    gesture.add(this.viewport, "pointercancel", end);
  }

  /**
   * Shows an item: the thumbnail at once, the full image when decoded.
   * @param {ListItem | null} item
   */
  show(item) {
    this.exitCompare();
    const request = ++this._request;
    this._stopMedia();
    this.item = item;
    this.status.hidden = true;
    this.element.dataset.path = item ? item.path : "";
    if (!item) {
      this.viewport.replaceChildren();
      this.media = null;
      return;
    }
    this._measure();
    const kind = mediaKind(item);
    if (kind === "video" || kind === "audio") {
      const video = /** @type {HTMLVideoElement} */ (el(kind === "audio" ? "audio" : "video", {
        className: "holaf-iv-stage-media holaf-iv-stage-video", testid: "holaf-stage-media",
        attrs: { controls: true, autoplay: true, playsinline: true, preload: "auto", loop: kind === "video" },
      }));
      video.src = this._fullUrl(item);
      video.addEventListener("loadedmetadata", () => {
        if (request !== this._request) return;
        this.natural = { width: video.videoWidth || item.width || 640, height: video.videoHeight || item.height || 360 };
        this._layout(true);
        this.dispatch("loaded", { item });
      }, { once: true });
      video.addEventListener("error", () => {
        if (request === this._request) this._fail(item, "the browser cannot play this file");
      }, { once: true });
      this.natural = { width: item.width || 640, height: item.height || 360 };
      this._swap(video);
      this._applyFilter();
      return;
    }
    const placeholderUrl = this._placeholder(item);
    const entry = this.cache.load(item);
    if (entry.img.complete && entry.img.naturalWidth) {
      this._showImage(entry.img, item);
      this.dispatch("loaded", { item });
      return;
    }
    if (placeholderUrl) {
      const ph = el("img", { className: "holaf-iv-stage-media holaf-iv-placeholder", attrs: { src: placeholderUrl, alt: "", draggable: "false" } });
      this.natural = { width: item.width || 1, height: item.height || 1 };
      if (!item.width) ph.addEventListener("load", () => {
        if (request === this._request && this.media === ph) {
          this.natural = { width: ph.naturalWidth, height: ph.naturalHeight };
          this._layout(true);
        }
      }, { once: true });
      this._swap(ph);
    } else {
      this.viewport.replaceChildren(el("div", { className: "holaf-iv-spinner" }));
      this.media = null;
    }
    entry.ready.then((img) => {
      if (request !== this._request) return;
      this._showImage(img, item);
      this.dispatch("loaded", { item });
    }, (error) => {
      if (request === this._request) this._fail(item, error?.message || "cannot load the image");
    });
  }

  /**
   * @param {HTMLImageElement} img
   * @param {ListItem} item
   */
  _showImage(img, item) {
    const keepZoom = this.media?.classList.contains("holaf-iv-placeholder") && this.zoom.scale > 1.001;
    // a copy: the cached (decoded) original may be on show in the other stage too
    const node = /** @type {HTMLImageElement} */ (img.cloneNode(false));
    node.className = "holaf-iv-stage-media";
    node.dataset.testid = "holaf-stage-media";
    node.alt = item.name;
    node.draggable = false;
    this.natural = { width: img.naturalWidth, height: img.naturalHeight };
    this._swap(node);
    this._layout(!keepZoom);
    this._applyFilter();
  }

  /** @param {HTMLElement} node */
  _swap(node) {
    this.viewport.replaceChildren(node);
    this.media = node;
    this._layout(true);
  }

  /**
   * @param {ListItem} item
   * @param {string} message
   */
  _fail(item, message) {
    this.status.hidden = false;
    this.status.textContent = `${item.name}: ${message}`;
    this.dispatch("error", { item, error: message });
  }

  _stopMedia() {
    const media = this.media;
    if (media && (media.tagName === "VIDEO" || media.tagName === "AUDIO")) {
      const video = /** @type {HTMLVideoElement} */ (media);
      video.pause();
      video.removeAttribute("src");
      video.load();
    }
  }

  /** Pauses a playing video (the stage is hidden). */
  pause() {
    const media = this.media;
    if (media && (media.tagName === "VIDEO" || media.tagName === "AUDIO")) /** @type {HTMLVideoElement} */ (media).pause();
  }

  /**
   * Starts loading items the user is likely to open next.
   * @param {ListItem[]} items
   */
  preload(items) {
    for (const item of items) if (item && mediaKind(item) === "image") this.cache.load(item);
  }

  /**
   * A CSS filter on the media (the edits engineer's live preview uses it).
   * @param {string} css e.g. "brightness(1.2) saturate(0.8)"
   */
  setFilter(css) {
    this.filterCss = css || "";
    this._applyFilter();
  }

  _applyFilter() {
    if (this.media && this.media.style.filter !== this.filterCss) this.media.style.filter = this.filterCss;
  }

  // ------------------------------------------------------------------ A/B compare
  /**
   * Two images on top of each other; the slider shows A on the left and B on the right.
   * @param {ListItem} a
   * @param {ListItem} b
   */
  showCompare(a, b) {
    const request = ++this._request;
    this._stopMedia();
    this.item = a;
    this.status.hidden = true;
    this.media = null;
    const bottom = el("img", { className: "holaf-iv-compare-img", testid: "holaf-compare-a", attrs: { alt: a.name, draggable: "false" } });
    const top = el("img", { className: "holaf-iv-compare-img holaf-iv-compare-top", testid: "holaf-compare-b", attrs: { alt: b.name, draggable: "false" } });
    const handle = el("div", { className: "holaf-iv-compare-handle", testid: "holaf-compare-handle", attrs: { role: "slider", "aria-label": "A/B split", "aria-valuemin": "0", "aria-valuemax": "100", tabindex: "0" } });
    const labels = el("div", {
      className: "holaf-iv-compare-labels",
      children: [el("span", { text: `A: ${a.name}` }), el("span", { text: `B: ${b.name}` })],
    });
    const frame = el("div", { className: "holaf-iv-compare", testid: "holaf-compare", children: [bottom, top, handle, labels] });
    this.viewport.replaceChildren(frame);
    this.compare = { split: 50, top, bottom, handle };
    this.element.classList.add("holaf-iv-comparing");
    const load = (/** @type {ListItem} */ item, /** @type {HTMLImageElement} */ target) => {
      this.cache.load(item).ready.then((img) => { if (request === this._request) target.src = img.src; }, () => {
        if (request === this._request) this._fail(item, "cannot load the image");
      });
    };
    load(a, bottom);
    load(b, top);
    this.setSplit(50);
    const move = (/** @type {PointerEvent} */ e) => {
      const box = frame.getBoundingClientRect();
      this.setSplit(((e.clientX - box.left) / Math.max(1, box.width)) * 100);
    };
    this._comparePool.add(frame, "pointerdown", (event) => {
      const e = /** @type {PointerEvent} */ (event);
      if (e.button !== 0) return;
      try { frame.setPointerCapture(e.pointerId); } catch { /* synthetic */ }
      move(e);
      const gesture = new ListenerPool();
      gesture.add(frame, "pointermove", (m) => move(/** @type {PointerEvent} */ (m)));
      gesture.add(frame, "pointerup", () => gesture.removeAll());
      gesture.add(frame, "pointercancel", () => gesture.removeAll());
    });
    this._comparePool.add(handle, "keydown", (event) => {
      const e = /** @type {KeyboardEvent} */ (event);
      if (e.key !== "ArrowLeft" && e.key !== "ArrowRight") return;
      e.preventDefault();
      e.stopPropagation();
      this.setSplit((this.compare?.split ?? 50) + (e.key === "ArrowLeft" ? -5 : 5));
    });
  }

  /** @param {number} percent 0..100 */
  setSplit(percent) {
    if (!this.compare) return;
    const split = Math.min(100, Math.max(0, percent));
    this.compare.split = split;
    this.compare.top.style.clipPath = `inset(0 0 0 ${split}%)`;
    this.compare.handle.style.left = `${split}%`;
    this.compare.handle.setAttribute("aria-valuenow", String(Math.round(split)));
  }

  exitCompare() {
    if (!this.compare) return;
    this.compare = null;
    this._comparePool.removeAll();
    this.element.classList.remove("holaf-iv-comparing");
    this.viewport.replaceChildren();
  }

  destroy() {
    this._request++;
    this._stopMedia();
    this._comparePool.removeAll();
    this.pool.removeAll();
    this.removeAllListeners();
    this.element.remove();
  }
}
