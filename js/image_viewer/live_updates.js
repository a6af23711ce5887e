/**
 * Live updates of the gallery from `holaf.images.changed` pushes (the index sends
 * `{added, removed, updated, added_paths, removed_paths, change_token, scanning}`, the
 * file actions `{reason, count, items: [{path, new_path}]}`), so nothing polls.
 *
 * * Deleted or moved-away files vanish at once (their rows are removed locally).
 * * At the top of the list (or when it is empty) the list reloads in place and the new
 *   images slide in.
 * * Further down nothing moves under the user: a probe of the first page counts the
 *   images that arrived above, the list's server offset shifts by that many, and a
 *   "N new images" pill offers to jump to them.
 * * Anything the probe cannot explain (a file restored in the middle, another sort)
 *   reloads the loaded pages in place, keeping the scroll position.
 *
 * No DOM: the viewer passes `isAtTop()` and the visible range. Tests:
 * tests/js/image_viewer_live.test.mjs.
 * @module image_viewer/live_updates
 */
import { Eventable } from "../common/events.js";

export const CHANGE_EVENT = "holaf.images.changed";
export const PROBE_SIZE = 200;

/**
 * @typedef {object} ChangeSummary
 * @property {string[]} removed paths that left the index (or moved away)
 * @property {string[]} added paths that appeared (or moved in)
 * @property {number} addedCount may exceed `added.length` (the index lists at most 100)
 * @property {number} removedCount
 * @property {number} updated rows whose fields changed
 * @property {boolean} scanning the first scan is still running
 */

/**
 * One shape for both kinds of change events.
 * @param {any} data
 * @returns {ChangeSummary}
 */
export function summarizeChange(data) {
  const out = { removed: [], added: [], addedCount: 0, removedCount: 0, updated: 0, scanning: false };
  if (!data || typeof data !== "object") return out;
  if (Array.isArray(data.items)) {
    for (const item of data.items) {
      if (!item || typeof item.path !== "string") continue;
      out.removed.push(item.path);
      if (typeof item.new_path === "string" && item.new_path) out.added.push(item.new_path);
    }
    out.removedCount = out.removed.length;
    out.addedCount = out.added.length;
    if (typeof data.count === "number" && data.count > out.removedCount) out.removedCount = data.count;
    return out;
  }
  const list = (v) => (Array.isArray(v) ? v.filter((p) => typeof p === "string") : []);
  out.added = list(data.added_paths);
  out.removed = list(data.removed_paths);
  out.addedCount = Math.max(out.added.length, Number(data.added) || 0);
  out.removedCount = Math.max(out.removed.length, Number(data.removed) || 0);
  out.updated = Number(data.updated) || 0;
  out.scanning = !!data.scanning;
  return out;
}

/**
 * Merges summaries received during one debounce window.
 * @param {ChangeSummary} a
 * @param {ChangeSummary} b
 * @returns {ChangeSummary}
 */
export function mergeSummaries(a, b) {
  return {
    removed: [...a.removed, ...b.removed],
    added: [...a.added, ...b.added],
    addedCount: a.addedCount + b.addedCount,
    removedCount: a.removedCount + b.removedCount,
    updated: a.updated + b.updated,
    scanning: b.scanning,
  };
}

/**
 * Decides what to do with a change (pure).
 * @param {ChangeSummary} change
 * @param {{atTop: boolean, sort: string, trashcan: boolean, empty: boolean}} view
 * @returns {"reload" | "probe" | "refresh" | "none"}
 *   reload: reload in place (new ones slide in); probe: count new ones above and show the pill;
 *   refresh: re-read the visible rows; none: only the removals apply
 */
export function planChange(change, view) {
  const arrivals = change.addedCount > 0 || change.removedCount > change.removed.length;
  if (arrivals || change.added.length) {
    if (view.atTop || view.empty) return "reload";
    if (view.sort === "newest" && !view.trashcan) return "probe";
    return "reload";
  }
  if (change.updated > 0) return "refresh";
  return "none";
}

/**
 * Given the fresh first page and the path that was first before, how many images
 * arrived above it (null when that path is not in the page: too many, or it moved).
 * @param {Array<{path: string}>} firstPage
 * @param {string} previousFirstPath
 */
export function arrivalsAbove(firstPage, previousFirstPath) {
  const index = firstPage.findIndex((item) => item.path === previousFirstPath);
  return index < 0 ? null : index;
}

/**
 * Applies changes to a {@link import("./paging.js").PagedList}.
 * Events: `removed` {paths}; `pending` {count} (the pill); `fresh` {paths} (slide-in).
 */
export class LiveUpdater extends Eventable {
  /**
   * @param {object} options
   * @param {import("./paging.js").PagedList} options.list
   * @param {(body: Record<string, any>, signal: AbortSignal) => Promise<any>} options.fetchPage
   * @param {() => {atTop: boolean, sort: string, trashcan: boolean, start: number, end: number}} options.view
   * @param {number} [options.debounceMs]
   */
  constructor(options) {
    super();
    this.list = options.list;
    this._fetchPage = options.fetchPage;
    this._view = options.view;
    this.debounceMs = options.debounceMs ?? 250;
    /** Images that arrived above the visible part and are not shown yet. */
    this.pending = 0;
    /** @type {ChangeSummary | null} */
    this._queued = null;
    this._timer = /** @type {ReturnType<typeof setTimeout> | null} */ (null);
    this._probe = /** @type {AbortController | null} */ (null);
    this._busy = Promise.resolve();
  }

  /**
   * Feeds one `holaf.images.changed` payload; removals apply at once, the rest is debounced.
   * @param {any} data
   */
  handle(data) {
    const change = summarizeChange(data);
    if (change.removed.length) {
      const removed = this.list.removePaths(change.removed);
      if (removed.length) this.dispatch("removed", { paths: removed.map((r) => r.item.path) });
    }
    this._queued = this._queued ? mergeSummaries(this._queued, change) : change;
    if (this._timer) clearTimeout(this._timer);
    this._timer = setTimeout(() => {
      this._timer = null;
      const queued = this._queued;
      this._queued = null;
      if (queued) this._busy = this._busy.then(() => this._apply(queued)).catch((error) => console.warn("[Holaf] live update failed", error));
    }, this.debounceMs);
  }

  /** @param {ChangeSummary} change */
  async _apply(change) {
    const view = this._view();
    const plan = planChange(change, { ...view, empty: !this.list.length });
    if (plan === "none") return;
    if (plan === "refresh") {
      this.list.refresh(view.start, view.end);
      this.list.ensure(view.start, view.end);
      return;
    }
    if (plan === "reload") {
      this.pending = 0;
      this.dispatch("pending", { count: 0 });
      if (change.added.length) this.dispatch("fresh", { paths: change.added });
      this.list.reload({ offsetShift: view.atTop ? 0 : undefined });
      this.list.ensure(view.start, view.end);
      return;
    }
    await this._probeArrivals(change, view);
  }

  /**
   * @param {ChangeSummary} change
   * @param {{start: number, end: number}} view
   */
  async _probeArrivals(change, view) {
    const list = this.list;
    const first = list.get(0);
    if (!list.query || !first) {
      list.reload();
      list.ensure(view.start, view.end);
      return;
    }
    this._probe?.abort();
    const controller = new AbortController();
    this._probe = controller;
    const generation = list.generation;
    const mutation = list.mutation;
    const answer = await this._fetchPage({ ...list.query, limit: PROBE_SIZE, offset: 0, include_total: true }, controller.signal);
    if (this._probe === controller) this._probe = null;
    if (generation !== list.generation || mutation !== list.mutation) return; // something newer took over
    const above = arrivalsAbove(answer.images || [], first.path);
    const serverTotal = typeof answer.total === "number" ? answer.total : null;
    if (above === null) {
      // more arrived than the probe holds (or the first image moved): keep the view, count from the totals
      const shift = serverTotal === null ? list.offsetShift : Math.max(0, serverTotal - list.length);
      const arrived = Math.max(0, shift - list.offsetShift);
      list.reload({ offsetShift: shift });
      this._setPending(this.pending + arrived);
      list.ensure(view.start, view.end);
      return;
    }
    const arrived = above - list.offsetShift;
    list.offsetShift = above;
    if (arrived > 0) this._setPending(this.pending + arrived);
    if (serverTotal !== null && serverTotal - above !== list.length) {
      // something also changed further down: re-read the loaded pages in place
      list.reload({ offsetShift: above });
      list.ensure(view.start, view.end);
    }
  }

  /** @param {number} count */
  _setPending(count) {
    this.pending = count;
    this.dispatch("pending", { count });
  }

  /** The user took the pill (or scrolled to the top): show the new images. */
  takePending() {
    this._setPending(0);
  }

  destroy() {
    if (this._timer) clearTimeout(this._timer);
    this._probe?.abort();
    this.removeAllListeners();
  }
}
