/**
 * The Image Viewer's state store: filters, view options, mode, the active image and the
 * selection. Modules read it and subscribe to its events instead of calling each other.
 *
 * Every event and its `detail`:
 * - `filters` `{filters: Filters, previous: Filters, reason: string}`: the filter state changed
 *   (reason: "pane", "reset", "open", "settings"…); the viewer runs a new query.
 * - `view` `{tileSize: number, fit: "cover" | "contain"}`: tile size or fit changed (instant, no query).
 * - `mode` `{mode: ViewMode, previous: ViewMode}`: gallery ↔ zoom view ↔ fullscreen.
 * - `active` `{index: number, path: string | null, previous: number}`: the active image moved.
 * - `selection` `{size: number}`: the selection changed.
 * - `compare` `{paths: [string, string] | null}`: the A/B compare opened or closed.
 * - `slideshow` `{running: boolean}`.
 * - `picker` `{active: boolean, label: string}`: the viewer is (not) choosing an image for a node.
 * No side effects at import.
 * @module image_viewer/state
 */
import { Eventable } from "../common/events.js";
import { defaultFilters } from "./filters.js";
import { Selection } from "./selection.js";

/**
 * @typedef {import("./filters.js").Filters} Filters
 * @typedef {import("./keyboard.js").ViewMode} ViewMode
 */

export const MIN_TILE_SIZE = 80;
export const MAX_TILE_SIZE = 400;

export class ViewerState extends Eventable {
  constructor() {
    super();
    /** @type {Filters} */
    this.filters = defaultFilters();
    this.tileSize = 150;
    /** @type {"cover" | "contain"} */
    this.fit = "cover";
    /** @type {ViewMode} */
    this.mode = "gallery";
    /** Mode fullscreen returns to with Esc. @type {ViewMode} */
    this.fullscreenFrom = "gallery";
    this.activeIndex = -1;
    /** @type {string | null} */
    this.activePath = null;
    this.selection = new Selection();
    /** @type {[string, string] | null} */
    this.compare = null;
    this.slideshow = false;
    this.picker = { active: false, label: "" };
  }

  /**
   * @param {Filters} filters
   * @param {string} [reason]
   */
  setFilters(filters, reason = "pane") {
    const previous = this.filters;
    if (JSON.stringify(previous) === JSON.stringify(filters)) return false;
    this.filters = filters;
    this.dispatch("filters", { filters, previous, reason });
    return true;
  }

  /** @param {Partial<Filters>} patch @param {string} [reason] */
  patchFilters(patch, reason) {
    return this.setFilters({ ...this.filters, ...patch }, reason);
  }

  /**
   * @param {{tileSize?: number, fit?: "cover" | "contain"}} view
   */
  setView(view) {
    const tileSize = view.tileSize === undefined ? this.tileSize : Math.min(MAX_TILE_SIZE, Math.max(MIN_TILE_SIZE, Math.round(view.tileSize)));
    const fit = view.fit === "contain" || view.fit === "cover" ? view.fit : this.fit;
    if (tileSize === this.tileSize && fit === this.fit) return false;
    this.tileSize = tileSize;
    this.fit = fit;
    this.dispatch("view", { tileSize, fit });
    return true;
  }

  /** @param {ViewMode} mode */
  setMode(mode) {
    if (mode === this.mode) return false;
    const previous = this.mode;
    if (mode === "fullscreen") this.fullscreenFrom = previous;
    this.mode = mode;
    this.dispatch("mode", { mode, previous });
    return true;
  }

  /**
   * @param {number} index
   * @param {string | null} path
   */
  setActive(index, path) {
    if (index === this.activeIndex && path === this.activePath) return false;
    const previous = this.activeIndex;
    this.activeIndex = index;
    this.activePath = path;
    this.dispatch("active", { index, path, previous });
    return true;
  }

  /** Tells listeners the selection changed (after editing `state.selection`). */
  selectionChanged() {
    this.dispatch("selection", { size: this.selection.size });
  }

  /** @param {[string, string] | null} paths */
  setCompare(paths) {
    this.compare = paths;
    this.dispatch("compare", { paths });
  }

  /** @param {boolean} running */
  setSlideshow(running) {
    if (running === this.slideshow) return;
    this.slideshow = running;
    this.dispatch("slideshow", { running });
  }

  /** @param {boolean} active @param {string} [label] */
  setPicker(active, label = "") {
    this.picker = { active, label };
    this.dispatch("picker", { active, label });
  }
}
