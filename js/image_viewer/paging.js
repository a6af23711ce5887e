/**
 * The gallery's result list, loaded by windows: a sparse array as long as the total,
 * filled page by page (`offset` + `limit`) as the grid asks for ranges. Pages that the
 * user scrolled past are aborted (AbortController per page), at most a few requests run
 * at once (visible pages first), and every answer carries the generation it was asked
 * for: a response to an older query, or one that started before a local change shifted
 * the indices (a deletion), is dropped instead of being written in the wrong place.
 *
 * Events (`on`): `reset` {generation}; `items` {start, end} (items arrived or changed);
 * `total` {total, previous}; `removed` {paths, indices} (local removals); `error` {error, offset};
 * `loading` {active}.
 * No DOM; tests: tests/js/image_viewer_paging.test.mjs.
 * @module image_viewer/paging
 */
import { Eventable } from "../common/events.js";

export const PAGE_SIZE = 200;
export const MAX_PAGE = 1000;

/**
 * @typedef {object} ListItem  one row of `POST /holaf/images/list`
 * @property {string} path relative, "/" separators
 * @property {string} name
 * @property {string} folder
 * @property {string} [format]
 * @property {string} [kind] image | video | audio
 * @property {number} [mtime]
 * @property {number} [size]
 * @property {string} [version] mtime+size, used as a cache key in URLs
 * @property {string} [ext]
 * @property {number | null} [width]
 * @property {number | null} [height]
 * @property {number | null} [duration]
 * @property {boolean} [has_workflow]
 * @property {boolean} [has_prompt]
 * @property {boolean} [has_edits]
 * @property {boolean} [has_tags]
 * @property {string[]} [tags] known after a tag edit
 * @property {number} [rating] 0-5
 * @property {string | null} [model]
 * @property {boolean} [is_trashed]
 * @property {string | null} [original_path] where a trashed file came from
 * @property {string | null} [error] why the index could not read it
 */

/**
 * @typedef {(body: Record<string, any>, signal: AbortSignal) => Promise<{images: ListItem[], total?: number | null, [key: string]: any}>} PageFetcher
 */

export class PagedList extends Eventable {
  /**
   * @param {{fetchPage: PageFetcher, pageSize?: number, maxConcurrent?: number}} options
   */
  constructor(options) {
    super();
    this._fetchPage = options.fetchPage;
    this.pageSize = options.pageSize ?? PAGE_SIZE;
    this.maxConcurrent = options.maxConcurrent ?? 3;
    /** @type {Array<ListItem | undefined>} */
    this.items = [];
    /** @type {number | null} null until the first answer */
    this.total = null;
    /** Query body without paging (null = nothing can match). */
    this.query = /** @type {Record<string, any> | null} */ (null);
    this.generation = 0;
    /** Bumped by local edits that shift indices; older in-flight answers are dropped. */
    this.mutation = 0;
    /** Items added at the top on the server but not shown yet (the "N new" pill): server offset = local + shift. */
    this.offsetShift = 0;
    /** @type {Map<number, {controller: AbortController, generation: number, mutation: number}>} page → request */
    this._inFlight = new Map();
    /** @type {number[]} pages waiting for a free slot, most wanted first */
    this._queue = [];
    /** @type {Set<number>} loaded pages to fetch again (fresh fields) without clearing them */
    this._stale = new Set();
    /** @type {Map<string, number> | null} path → index, rebuilt lazily */
    this._index = null;
    /** Last response (change token, scan state…) for the status bar. */
    this.lastResponse = /** @type {any} */ (null);
    /** @type {Promise<void> | null} resolves when the first page of the current query arrived */
    this.firstPage = null;
    this._firstResolve = /** @type {(() => void) | null} */ (null);
  }

  get length() {
    return this.items.length;
  }

  /** @param {number} index */
  get(index) {
    return this.items[index];
  }

  /**
   * Starts a new query: aborts everything, clears the items and loads the first page.
   * @param {Record<string, any> | null} query the `/list` body without limit/offset; null = empty result
   */
  reset(query) {
    this.generation++;
    this.mutation++;
    this._abortAll();
    this.query = query;
    this.items = [];
    this._stale.clear();
    this._index = null;
    this.offsetShift = 0;
    const previous = this.total;
    this.total = query ? null : 0;
    this.firstPage = new Promise((resolve) => { this._firstResolve = resolve; });
    this.dispatch("reset", { generation: this.generation });
    if (!query) {
      this._resolveFirst();
      this.dispatch("total", { total: 0, previous });
      return this.firstPage;
    }
    this.ensure(0, this.pageSize);
    return this.firstPage;
  }

  _resolveFirst() {
    const resolve = this._firstResolve;
    this._firstResolve = null;
    resolve?.();
  }

  /**
   * Asks for items [start, end): missing pages are queued (the ones nearest `start`
   * first); pages far from the range are aborted.
   * @param {number} start
   * @param {number} end exclusive
   * @param {{keepPages?: number}} [options] pages beyond the range that may keep loading
   */
  ensure(start, end, options = {}) {
    if (!this.query) return;
    const size = this.pageSize;
    const limit = this.total === null ? end : Math.min(end, this.total);
    const firstPage = Math.max(0, Math.floor(start / size));
    const lastPage = Math.max(firstPage, Math.floor((Math.max(start, limit) - 1) / size));
    const keep = options.keepPages ?? 1;
    for (const [page, request] of this._inFlight) {
      if (page < firstPage - keep || page > lastPage + keep) {
        request.controller.abort();
        this._inFlight.delete(page);
      }
    }
    /** @type {number[]} */
    const wanted = [];
    for (let page = firstPage; page <= lastPage; page++) {
      if (this._inFlight.has(page)) continue;
      if (this.total !== null && page * size >= this.total) break;
      if (this._pageComplete(page)) continue;
      wanted.push(page);
    }
    this._queue = wanted;
    this._pump();
  }

  /** @param {number} page */
  _pageComplete(page) {
    if (this._stale.has(page)) return false;
    const size = this.pageSize;
    const end = this.total === null ? (page + 1) * size : Math.min((page + 1) * size, this.total);
    for (let i = page * size; i < end; i++) if (this.items[i] === undefined) return false;
    return this.total !== null;
  }

  _pump() {
    while (this._inFlight.size < this.maxConcurrent && this._queue.length) {
      const page = /** @type {number} */ (this._queue.shift());
      if (this._inFlight.has(page)) continue;
      this._load(page);
    }
    this.dispatch("loading", { active: this._inFlight.size });
  }

  /** @param {number} page */
  async _load(page) {
    const controller = new AbortController();
    const request = { controller, generation: this.generation, mutation: this.mutation };
    this._inFlight.set(page, request);
    const offset = page * this.pageSize;
    const body = { ...this.query, limit: this.pageSize, offset: offset + this.offsetShift, include_total: this.total === null || page === 0 };
    try {
      const answer = await this._fetchPage(body, controller.signal);
      if (this._inFlight.get(page) === request) this._inFlight.delete(page);
      if (request.generation !== this.generation) return;
      if (request.mutation !== this.mutation) {
        // indices moved while this page was on its way: ask again
        if (!this._queue.includes(page)) this._queue.unshift(page);
        return;
      }
      this.lastResponse = answer;
      this._stale.delete(page);
      this._store(offset, answer);
    } catch (error) {
      if (this._inFlight.get(page) === request) this._inFlight.delete(page);
      if (controller.signal.aborted || request.generation !== this.generation) return;
      this.dispatch("error", { error, offset });
      if (page === 0) this._resolveFirst();
    } finally {
      if (request.generation === this.generation) this._pump();
    }
  }

  /**
   * @param {number} offset local index of the first row
   * @param {{images: ListItem[], total?: number | null}} answer
   */
  _store(offset, answer) {
    const rows = Array.isArray(answer.images) ? answer.images : [];
    if (typeof answer.total === "number") {
      this._setTotal(Math.max(0, answer.total - this.offsetShift));
    } else if (this.total === null) {
      this._setTotal(offset + rows.length);
    }
    const end = Math.min(offset + rows.length, this.total ?? offset + rows.length);
    for (let i = offset; i < end; i++) this.items[i] = rows[i - offset];
    this._index = null;
    if (end > offset) this.dispatch("items", { start: offset, end });
    if (offset === 0) this._resolveFirst();
  }

  /** @param {number} total */
  _setTotal(total) {
    if (total === this.total) return;
    const previous = this.total;
    this.total = total;
    this.items.length = total;
    this._index = null;
    this.dispatch("total", { total, previous });
  }

  _abortAll() {
    for (const request of this._inFlight.values()) request.controller.abort();
    this._inFlight.clear();
    this._queue = [];
  }

  /**
   * Loads the current query again without clearing what is shown: in-flight pages are
   * dropped, every loaded page is marked stale and replaced when its fresh answer
   * arrives (the caller then calls {@link ensure} for the visible range).
   * @param {{offsetShift?: number}} [options] new server offset of local index 0
   */
  reload(options = {}) {
    if (!this.query) return;
    this.generation++;
    this._abortAll();
    if (options.offsetShift !== undefined) this.offsetShift = options.offsetShift;
    const pages = Math.ceil(this.items.length / this.pageSize);
    for (let page = 0; page < pages; page++) this._stale.add(page);
    if (!pages) this.total = null;
  }

  /**
   * Marks the pages of [start, end) stale: they load again on the next {@link ensure}
   * and replace their rows in place (rating or metadata changed on the server).
   * @param {number} start
   * @param {number} end
   */
  refresh(start, end) {
    for (let page = Math.floor(start / this.pageSize); page * this.pageSize < end; page++) this._stale.add(page);
  }

  /** Index of a loaded path, or -1. */
  indexOf(path) {
    if (!this._index) {
      this._index = new Map();
      this.items.forEach((item, i) => { if (item) /** @type {Map<string, number>} */ (this._index).set(item.path, i); });
    }
    return this._index.get(path) ?? -1;
  }

  /**
   * Removes loaded rows by path (files deleted, trashed, moved out of the filter).
   * Later indices shift down, as they do on the server. Returns what was removed, for a rollback.
   * @param {Iterable<string>} paths
   * @returns {Array<{index: number, item: ListItem}>}
   */
  removePaths(paths) {
    const indices = [];
    for (const path of new Set(paths)) {
      const index = this.indexOf(path);
      if (index >= 0) indices.push(index);
    }
    if (!indices.length) return [];
    indices.sort((a, b) => b - a);
    const removed = [];
    for (const index of indices) {
      removed.push({ index, item: /** @type {ListItem} */ (this.items[index]) });
      this.items.splice(index, 1);
    }
    removed.reverse();
    this.mutation++;
    this._index = null;
    const previous = this.total;
    this.total = this.items.length;
    this.dispatch("total", { total: this.total, previous });
    this.dispatch("removed", { paths: removed.map((r) => r.item.path), indices: removed.map((r) => r.index) });
    this.dispatch("items", { start: removed[0].index, end: this.items.length });
    return removed;
  }

  /**
   * Puts rows back where they were (rollback of {@link removePaths}), in ascending order.
   * @param {Array<{index: number, item: ListItem}>} removed
   */
  restore(removed) {
    if (!removed.length) return;
    const sorted = [...removed].sort((a, b) => a.index - b.index);
    for (const { index, item } of sorted) this.items.splice(Math.min(index, this.items.length), 0, item);
    this.mutation++;
    this._index = null;
    const previous = this.total;
    this.total = this.items.length;
    this.dispatch("total", { total: this.total, previous });
    this.dispatch("items", { start: sorted[0].index, end: this.items.length });
  }

  /**
   * Changes fields of a loaded row (rating, tags flag…).
   * @param {string} path
   * @param {Partial<ListItem>} patch
   */
  update(path, patch) {
    const index = this.indexOf(path);
    if (index < 0) return false;
    this.items[index] = { .../** @type {ListItem} */ (this.items[index]), ...patch };
    this.dispatch("items", { start: index, end: index + 1 });
    return true;
  }

  /**
   * Forgets loaded rows in [start, end) so they load again (fresh fields), without
   * clearing the rest. The caller then calls {@link ensure}.
   * @param {number} start
   * @param {number} end
   */
  invalidate(start = 0, end = this.items.length) {
    this.mutation++;
    for (const page of [...this._inFlight.keys()]) {
      const pageStart = page * this.pageSize;
      if (pageStart < end && pageStart + this.pageSize > start) {
        this._inFlight.get(page)?.controller.abort();
        this._inFlight.delete(page);
      }
    }
    for (let i = start; i < Math.min(end, this.items.length); i++) this.items[i] = undefined;
    this._index = null;
  }

  /**
   * Every item of [start, end), loading what is missing with big pages (for Shift+click
   * ranges and Ctrl+A). Throws if the query changes meanwhile.
   * @param {number} start
   * @param {number} end exclusive
   * @param {{onProgress?: (done: number, total: number) => void, signal?: AbortSignal}} [options]
   * @returns {Promise<ListItem[]>}
   */
  async itemsInRange(start, end, options = {}) {
    if (!this.query) return [];
    const generation = this.generation;
    const stop = Math.min(end, this.total ?? end);
    let i = Math.max(0, start);
    while (i < stop) {
      if (this.items[i] !== undefined) {
        i++;
        continue;
      }
      let j = i;
      while (j < stop && j - i < MAX_PAGE && this.items[j] === undefined) j++;
      const mutation = this.mutation;
      const answer = await this._fetchPage(
        { ...this.query, limit: j - i, offset: i + this.offsetShift, include_total: false },
        options.signal || new AbortController().signal,
      );
      if (generation !== this.generation || mutation !== this.mutation) throw new Error("the list changed meanwhile; try again");
      const rows = Array.isArray(answer.images) ? answer.images : [];
      rows.forEach((row, k) => { if (i + k < this.items.length) this.items[i + k] = row; });
      this._index = null;
      if (rows.length) this.dispatch("items", { start: i, end: i + rows.length });
      if (!rows.length) break;
      i += rows.length;
      options.onProgress?.(i - start, stop - start);
    }
    return /** @type {ListItem[]} */ (this.items.slice(Math.max(0, start), stop).filter(Boolean));
  }

  destroy() {
    this.generation++;
    this._abortAll();
    this.removeAllListeners();
  }
}
