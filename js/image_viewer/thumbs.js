/**
 * Thumbnail loading for the gallery tiles: a few fetches at a time (the ones asked for
 * last, i.e. what is on screen now, first), aborted when a tile scrolls away, kept as
 * object URLs in a bounded LRU (revoked on eviction), `202 + Retry-After` answered by
 * waiting and asking again, and permanent failures (`422` with the reason) remembered
 * so a broken file shows its reason without being asked for again while scrolling.
 * The URL carries the file's version, so the browser may also cache it for good.
 * No side effects at import.
 * @module image_viewer/thumbs
 */
import { LruCache } from "./lru.js";

/**
 * @typedef {{path: string, version?: string, has_edits?: boolean}} ThumbItem
 * @typedef {{url: string} | {error: string, code: string}} ThumbResult
 */

const MAX_RETRIES = 40;

export class ThumbnailLoader {
  /**
   * @param {object} options
   * @param {(path: string) => string} options.apiUrl host.apiUrl
   * @param {number} [options.concurrency]
   * @param {number} [options.cacheLimit]
   * @param {typeof fetch} [options.fetchImpl]
   */
  constructor(options) {
    this._apiUrl = options.apiUrl;
    this.concurrency = options.concurrency ?? 6;
    this._fetch = options.fetchImpl || ((...args) => globalThis.fetch(...args));
    /** @type {LruCache<string, string>} key → object URL */
    this.cache = new LruCache(options.cacheLimit ?? 1500, (_key, url) => URL.revokeObjectURL(url));
    /** @type {Map<string, {error: string, code: string}>} */
    this.failures = new Map();
    /** @type {Map<string, {item: ThumbItem, callbacks: Set<(r: ThumbResult) => void>, controller: AbortController | null, timer: any, attempts: number, high: boolean}>} */
    this._jobs = new Map();
    /** @type {string[]} keys waiting for a slot (last = next) */
    this._waiting = [];
    this._active = 0;
    /** @type {Map<string, string>} path → tag of its latest edits */
    this._editTags = new Map();
    /** Thumbnails the server is still making (202s being waited for). */
    this.queuedOnServer = 0;
  }

  /**
   * Cache key: the file's version, plus its edit state (an edited image's thumbnail
   * shows the edits, and changes when they do).
   * @param {ThumbItem} item
   */
  key(item) {
    const edit = item.has_edits ? `\u0000e${this._editTags.get(item.path) || ""}` : "";
    return `${item.path}\u0000${item.version || ""}${edit}`;
  }

  /**
   * The thumbnail URL. An unedited file's carries its version (`v`), so the server lets
   * the browser keep it for good; an edited one's is revalidated (its edits can change
   * without the file changing) and carries the last edit tag to bust older copies.
   * @param {ThumbItem} item
   */
  url(item) {
    const query = item.has_edits
      ? `&e=${encodeURIComponent(this._editTags.get(item.path) || "1")}`
      : item.version ? `&v=${encodeURIComponent(item.version)}` : "";
    return this._apiUrl(`/holaf/images/thumbnail?path=${encodeURIComponent(item.path)}${query}`);
  }

  /**
   * A file's edits changed (`holaf.images.edits-changed`): its next thumbnail is a new one.
   * @param {string} path
   * @param {string | number | null | undefined} tag the new thumbnail version or edit hash
   */
  noteEdit(path, tag) {
    this.forget(path);
    this._editTags.set(path, String(tag ?? Date.now()));
  }

  /**
   * A result already known (cached URL or remembered failure), else null.
   * @param {ThumbItem} item
   * @returns {ThumbResult | null}
   */
  peek(item) {
    const key = this.key(item);
    const url = this.cache.get(key);
    if (url) return { url };
    return this.failures.get(key) || null;
  }

  /**
   * Asks for a thumbnail; `callback` runs once with the result. Returns a cancel function.
   * @param {ThumbItem} item
   * @param {(result: ThumbResult) => void} callback
   * @param {{high?: boolean}} [options] high: on screen now
   */
  request(item, callback, options = {}) {
    const known = this.peek(item);
    if (known) {
      callback(known);
      return () => {};
    }
    const key = this.key(item);
    let job = this._jobs.get(key);
    if (!job) {
      job = { item, callbacks: new Set(), controller: null, timer: null, attempts: 0, high: !!options.high };
      this._jobs.set(key, job);
      this._waiting.push(key);
    } else {
      job.high = job.high || !!options.high;
      const at = this._waiting.indexOf(key);
      if (at >= 0) {
        this._waiting.splice(at, 1);
        this._waiting.push(key); // asked again: most wanted now
      }
    }
    job.callbacks.add(callback);
    this._pump();
    return () => this._cancel(key, callback);
  }

  /**
   * @param {string} key
   * @param {(r: ThumbResult) => void} callback
   */
  _cancel(key, callback) {
    const job = this._jobs.get(key);
    if (!job) return;
    job.callbacks.delete(callback);
    if (job.callbacks.size) return;
    this._jobs.delete(key);
    const at = this._waiting.indexOf(key);
    if (at >= 0) this._waiting.splice(at, 1);
    if (job.timer) {
      clearTimeout(job.timer);
      this.queuedOnServer = Math.max(0, this.queuedOnServer - 1);
    }
    job.controller?.abort();
  }

  _pump() {
    while (this._active < this.concurrency && this._waiting.length) {
      const key = /** @type {string} */ (this._waiting.pop());
      const job = this._jobs.get(key);
      if (job) this._run(key, job);
    }
  }

  /**
   * @param {string} key
   * @param {any} job
   */
  async _run(key, job) {
    this._active++;
    const controller = new AbortController();
    job.controller = controller;
    /** @type {ThumbResult | null} */
    let result = null;
    let retryAfter = 0;
    try {
      const response = await this._fetch(this.url(job.item), {
        signal: controller.signal, credentials: "same-origin", priority: job.high ? "high" : "low",
      });
      if (response.status === 202) {
        retryAfter = Math.min(5, Math.max(0.5, Number(response.headers.get("Retry-After")) || 1));
      } else if (response.ok) {
        const blob = await response.blob();
        const url = URL.createObjectURL(blob);
        this.cache.set(key, url);
        result = { url };
      } else {
        let body = null;
        try { body = await response.json(); } catch { /* not JSON */ }
        const error = { error: body?.error || `${response.status} ${response.statusText}`, code: body?.reason || body?.code || `http_${response.status}` };
        if (response.status === 422 || response.status === 404 || response.status === 415) this.failures.set(key, error);
        result = error;
      }
    } catch (error) {
      if (controller.signal.aborted) {
        this._active--;
        this._pump();
        return;
      }
      result = { error: "cannot reach the server", code: "network_error" };
      retryAfter = job.attempts < 3 ? 2 : 0;
      if (retryAfter) result = null;
    }
    this._active--;
    job.controller = null;
    if (this._jobs.get(key) !== job) {
      this._pump();
      return;
    }
    if (!result && retryAfter && job.attempts < MAX_RETRIES) {
      job.attempts++;
      this.queuedOnServer++;
      job.timer = setTimeout(() => {
        job.timer = null;
        this.queuedOnServer = Math.max(0, this.queuedOnServer - 1);
        if (this._jobs.get(key) === job) {
          this._waiting.push(key);
          this._pump();
        }
      }, retryAfter * 1000);
      this._pump();
      return;
    }
    this._jobs.delete(key);
    const final = result || { error: "the thumbnail is still being made", code: "timeout" };
    for (const callback of job.callbacks) {
      try { callback(final); } catch (error) { console.error("[Holaf] thumbnail callback failed", error); }
    }
    this._pump();
  }

  /**
   * Forgets a file's cached thumbnail and failure (after an edit or a regenerate).
   * @param {string} path
   */
  forget(path) {
    for (const key of [...this.failures.keys()]) if (key.startsWith(`${path}\u0000`)) this.failures.delete(key);
    // LRU keys are path + version: a new version misses the cache anyway; drop old ones eagerly
    for (const key of [...this.cache._map.keys()]) if (key.startsWith(`${path}\u0000`)) this.cache.delete(key);
  }

  destroy() {
    for (const [key, job] of [...this._jobs]) {
      job.controller?.abort();
      if (job.timer) clearTimeout(job.timer);
      this._jobs.delete(key);
    }
    this._waiting = [];
    this.cache.clear();
  }
}
