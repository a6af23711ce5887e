/**
 * The Image Viewer's composition root: builds the state store, the paged list, the grid,
 * the stages (zoom view and fullscreen overlay), the panes, the status bar, live updates
 * and the actions, wires them through the store's events, and owns the keyboard. It
 * works inside a floating panel, as a full page, and in "picker" mode (choosing an image
 * for a ComfyUI node). Everything reaches the server and ComfyUI through the host.
 *
 * ```js
 * const viewer = new ImageViewer({ host, container });   // builds and starts loading
 * await viewer.ready;
 * viewer.showPath("2024-03-01/ComfyUI_00012_.png");       // open on one image
 * viewer.applyFilters({ model: "sdxl.safetensors" });      // e.g. from a node's menu
 * const item = await viewer.pick("Load Image #12");        // picker mode
 * viewer.destroy();
 * ```
 * No side effects at import.
 * @module image_viewer/viewer
 */
import { Eventable, ListenerPool } from "../common/events.js";
import { el, ensureStylesheet, isTextInput } from "../common/dom.js";
import { confirmDialog } from "../common/dialog.js";
import { ViewerActions } from "./actions.js";
import { FilterPane } from "./filter_pane.js";
import { changedSettings, filtersFromSettings, listBody, resetFilters, matchModelName } from "./filters.js";
import { GalleryGrid } from "./gallery.js";
import { icon } from "./icons.js";
import { InfoPane } from "./info_pane.js";
import { KEY_TABLE, MOVEMENTS, keyAction, moveIndex } from "./keyboard.js";
import { CHANGE_EVENT, LiveUpdater } from "./live_updates.js";
import { PagedList } from "./paging.js";
import { clickKind, rangeBounds } from "./selection.js";
import { FullImageCache, MediaStage, mediaKind } from "./stage.js";
import { ViewerState } from "./state.js";
import { StatusBar } from "./status_bar.js";
import { ThumbnailLoader } from "./thumbs.js";

/**
 * @typedef {import("./paging.js").ListItem} ListItem
 * @typedef {import("./filters.js").Filters} Filters
 * @typedef {import("../common/host.js").HolafHost} HolafHost
 */

export const SECTION = "ImageViewerUI";
export const DRAG_MIME = "application/x-holaf-image";
/** Pushed by the edits feature after a save or reset: `{path, has_edits, hash, thumbnail_version}`. */
export const EDITS_EVENT = "holaf.images.edits-changed";
const OPTIONS_DEBOUNCE_MS = 800;
const SELECT_ALL_WARN = 5000;

/** URL of the viewer's stylesheet, next to the shell's. */
export function viewerStylesheetUrl() {
  return new URL("../css/holaf_image_viewer.css", import.meta.url).href;
}

export class ImageViewer extends Eventable {
  /**
   * Events: `picked` {item}; `mode` (forwarded from the state).
   * @param {object} options
   * @param {HolafHost} options.host
   * @param {HTMLElement} options.container where the viewer is built (a panel body or the page)
   * @param {"panel" | "page"} [options.layout]
   * @param {(options: {path?: string}) => void} [options.openInNewTab] shows an "Open in new tab" button
   */
  constructor(options) {
    super();
    this.host = options.host;
    this.layout = options.layout || "panel";
    this._openInNewTab = options.openInNewTab || null;
    this.pool = new ListenerPool();
    this.state = new ViewerState();
    this.list = new PagedList({ fetchPage: (body, signal) => this.host.fetchJson("/holaf/images/list", { method: "POST", body, signal }) });
    this.thumbs = new ThumbnailLoader({ apiUrl: (p) => this.host.apiUrl(p) });
    this.fullCache = new FullImageCache((item) => this.fullUrl(item));
    /** @type {{folders: Array<{path: string, count: number}>, formats: Array<{name: string, count: number}>, [key: string]: any}} */
    this.options = { folders: [], formats: [], tags: [], models: [], loras: [], trashcan_count: 0 };
    /** @type {Set<string>} new arrivals (slide in) */
    this._fresh = new Set();
    this._optionsTimer = /** @type {any} */ (null);
    this._slideTimer = /** @type {any} */ (null);
    this._bandBase = /** @type {Set<string> | null} */ (null);
    /** @type {((item: ListItem | null) => void) | null} */
    this._pickResolve = null;
    this._destroyed = false;
    this._features = /** @type {string[]} */ ([]);
    ensureStylesheet(viewerStylesheetUrl(), "image-viewer");
    this._build(options.container);
    this._wire();
    /** Resolves when settings, filter options and the first page are in. */
    this.ready = this._start();
  }

  // ------------------------------------------------------------------ URLs
  /** @param {{path: string, version?: string}} item */
  fullUrl(item) {
    const v = item.version ? `&v=${encodeURIComponent(item.version)}` : "";
    return this.host.apiUrl(`/holaf/images/full?path=${encodeURIComponent(item.path)}${v}`);
  }

  // ------------------------------------------------------------------ DOM
  /** @param {HTMLElement} container */
  _build(container) {
    const state = this.state;
    this.filterPane = new FilterPane({
      state,
      onReset: () => this._resetFilters(),
      onEmptyTrash: () => this.actions.emptyTrash(this.options.trashcan_count || 0),
    });
    this.gallery = new GalleryGrid({
      list: this.list, state, thumbs: this.thumbs,
      prioritize: (paths) => {
        this.host.fetchJson("/holaf/images/prioritize-thumbnails", { method: "POST", body: { paths } }).catch(() => {});
      },
      fullUrl: (item) => this.fullUrl(item),
      isFresh: (path) => this._fresh.has(path),
    });
    const placeholder = (/** @type {ListItem} */ item) => {
      const known = this.thumbs.peek(item);
      return known && "url" in known ? known.url : null;
    };
    this.zoomStage = new MediaStage({ cache: this.fullCache, fullUrl: (i) => this.fullUrl(i), placeholder, testid: "holaf-zoom", className: "holaf-iv-zoom" });
    this.fullStage = new MediaStage({ cache: this.fullCache, fullUrl: (i) => this.fullUrl(i), placeholder, testid: "holaf-fullscreen-stage" });
    this.info = new InfoPane({
      fetchMetadata: (path, signal) => this.host.fetchJson(`/holaf/images/metadata?path=${encodeURIComponent(path)}`, { signal }),
      onLoadWorkflow: (meta, item, opts) => this.loadWorkflow(meta, item, opts),
      onQueuePrompt: (meta, item) => this.queuePrompt(meta, item),
      onRate: (item, rating) => this.actions.setRating(this._targetsFor(item), rating),
      onTags: async (item, change) => {
        const tags = await this.actions.changeTags([item.path], change);
        if (tags && tags[item.path]) this.info.setTags(tags[item.path]);
      },
      notify: (message, type = "success") => this.host.toasts.show(message, { type }),
      canUseComfy: true,
    });
    this.status = new StatusBar({ host: this.host, isVisible: () => !this._destroyed && this.root.isConnected && !document.hidden });
    this.actions = new ViewerActions({
      host: this.host, list: this.list, state,
      afterChange: () => this._scheduleOptions(),
      onItemChanged: (item) => {
        this.gallery.refresh();
        if (this.info.item?.path === item.path) this.info.update(item);
      },
    });
    this.pill = el("button", { className: "holaf-iv-pill", testid: "holaf-new-pill", attrs: { type: "button", hidden: true } });
    this.picker = el("div", { className: "holaf-iv-picker-bar", testid: "holaf-picker-bar", attrs: { hidden: true } });
    this.stageWrap = el("div", { className: "holaf-iv-stagewrap", children: [this.gallery.element, this.zoomStage.element, this.pill] });
    this.toolbar = this._buildToolbar();
    const center = el("section", { className: "holaf-iv-center", children: [this.picker, this.toolbar, this.stageWrap] });
    this.root = el("div", {
      className: ["holaf-iv", `holaf-iv-layout-${this.layout}`, "holaf-iv-mode-gallery"], testid: "holaf-image-viewer",
      attrs: { tabindex: "0", "aria-label": "Image Viewer" },
      children: [this.filterPane.element, center, this.info.element, this.status.element],
    });
    this.fullscreen = el("div", {
      className: "holaf-iv-fullscreen", testid: "holaf-fullscreen",
      attrs: { tabindex: "-1", role: "dialog", "aria-label": "Fullscreen image", hidden: true },
    });
    this._buildFullscreen();
    container.appendChild(this.root);
  }

  /**
   * A toolbar button: an icon, an optional short label, a tooltip.
   * @param {import("./icons.js").ICONS[number] | null} iconName
   * @param {string} label "" for icon-only
   * @param {string} testid
   * @param {string} title
   * @param {() => void} action
   * @param {string} [className]
   */
  _button(iconName, label, testid, title, action, className = "") {
    const button = el("button", {
      className: ["holaf-iv-button", label ? "" : "holaf-iv-icon-button", className], testid,
      attrs: { type: "button", title, "aria-label": title },
      children: [iconName ? icon(/** @type {any} */ (iconName)) : null, label ? el("span", { text: label }) : null],
    });
    this.pool.add(button, "click", () => action());
    return button;
  }

  _buildToolbar() {
    const state = this.state;
    this.sizeSlider = el("input", { className: "holaf-iv-size", testid: "holaf-size", attrs: { type: "range", min: "80", max: "400", step: "10", "aria-label": "Thumbnail size", title: "Thumbnail size" } });
    this.pool.add(this.sizeSlider, "input", () => state.setView({ tileSize: Number(this.sizeSlider.value) }));
    this.fitButton = this._button("fill", "", "holaf-fit", "Tiles: crop to fill (cover) or show the whole image (contain)", () => state.setView({ fit: state.fit === "cover" ? "contain" : "cover" }));
    const b = (/** @type {any} */ iconName, /** @type {string} */ label, /** @type {string} */ id, /** @type {string} */ title, /** @type {() => void} */ fn, cls = "") => this._button(iconName, label, `holaf-action-${id}`, title, fn, cls);
    this.buttons = {
      back: b("back", "Gallery", "back", "Back to the gallery (Esc)", () => this.back()),
      open: b("open", "Open", "open", "Open the active image (Enter)", () => this.open()),
      full: b("fullscreen", "", "fullscreen", "Fullscreen (Ctrl+Enter, or double-click the image)", () => this.enterFullscreen()),
      compare: b("compare", "", "compare", "A/B compare the two selected images", () => this.compareSelection()),
      slideshow: b("play", "", "slideshow", "Slideshow (interval in Settings)", () => this.toggleSlideshow()),
      trash: b("trash", "Trash", "trash", "Move to the trashcan (Delete)", () => this.actions.trash(this.targets())),
      restore: b("restore", "Restore", "restore", "Put trashed files back where they were", () => this.actions.restore(this.targets())),
      remove: b("remove", "", "delete", "Delete permanently (Shift+Delete)", () => this.actions.deletePermanently(this.targets()), "holaf-iv-danger-button"),
      tags: b("tag", "", "tags", "Add or remove tags", () => this.actions.tagDialog(this.targets())),
      rate: b("star", "", "rate", "Set the rating", () => this.actions.ratingDialog(this.targets())),
      exportFiles: b("download", "", "export", "Export the selection (or the image on screen)", () => this.actions.exportFiles(this.targets(), {
        beforeExport: () => (this._editor ? this._editor.confirmLeave() : true),
      })),
      edit: b("edit", "", "edit", "Non-destructive edits of this image", () => this.toggleEditor()),
      move: b("folder", "Move…", "move", "Move to another folder", () => this.actions.move(this.targets())),
      rename: b(null, "Rename…", "rename", "Rename the active image", () => { const item = this.activeItem(); if (item) this.actions.rename(item); }),
      extract: b(null, "Extract metadata", "extract", "Move the embedded prompt/workflow into .txt/.json sidecars", () => this.actions.metadataTool("extract", this.targets())),
      inject: b(null, "Inject metadata", "inject", "Embed the .txt/.json sidecars into the files", () => this.actions.metadataTool("inject", this.targets())),
      selectAll: b(null, "Select all", "select-all", "Select everything that matches the filters (Ctrl+A)", () => this.selectAll()),
    };
    this.buttons.edit.hidden = true;
    this.moreMenu = el("div", {
      className: "holaf-iv-menu", testid: "holaf-more-menu", attrs: { hidden: true, role: "menu" },
      children: [this.buttons.move, this.buttons.rename, this.buttons.extract, this.buttons.inject, this.buttons.selectAll],
    });
    this.moreButton = this._button("more", "", "holaf-action-more", "More actions", () => this._toggleMenu());
    this.pool.add(this.moreMenu, "click", () => this._toggleMenu(false));
    this.pool.add(document, "pointerdown", (event) => {
      const t = /** @type {Node} */ (event.target);
      if (!this.moreMenu.hidden && !this.moreMenu.contains(t) && !this.moreButton.contains(t)) this._toggleMenu(false);
    }, true);
    this.infoToggle = this._button("info", "", "holaf-toggle-info", "Show or hide the information pane", () => this._togglePane("info"));
    this.filterToggle = this._button("filters", "", "holaf-toggle-filters", "Show or hide the filters", () => this._togglePane("filters"));
    const help = el("span", {
      className: "holaf-iv-help", testid: "holaf-keys-help",
      attrs: { title: KEY_TABLE.map(([k, v]) => `${k}: ${v}`).join("\n"), "aria-label": "Keyboard shortcuts", tabindex: "0" },
      children: [icon("keyboard")],
    });
    const newTab = this._openInNewTab
      ? this._button("external", "", "holaf-open-new-tab", "Open the Image Viewer in a new browser tab", () => this._openInNewTab?.({ path: this.state.activePath || undefined }))
      : null;
    const group = (/** @type {Array<Node | null>} */ children, cls = "") => el("div", { className: ["holaf-iv-tool-group", cls], children });
    return el("div", {
      className: "holaf-iv-toolbar", testid: "holaf-toolbar",
      children: [
        group([this.filterToggle, this.buttons.back, this.buttons.open, this.buttons.full, this.buttons.compare, this.buttons.slideshow]),
        group([this.buttons.trash, this.buttons.restore, this.buttons.remove, this.buttons.tags, this.buttons.rate, this.buttons.exportFiles, this.buttons.edit,
          el("div", { className: "holaf-iv-menu-wrap", children: [this.moreButton, this.moreMenu] })], "holaf-iv-actions"),
        group([this.sizeSlider, this.fitButton, help, newTab, this.infoToggle], "holaf-iv-tool-right"),
      ],
    });
  }

  /** @param {boolean} [open] */
  _toggleMenu(open) {
    const show = open ?? this.moreMenu.hidden;
    this.moreMenu.hidden = !show;
    this.moreButton.setAttribute("aria-expanded", String(show));
  }

  _buildFullscreen() {
    const prev = this._button(null, "‹", "holaf-fs-prev", "Previous (←)", () => this._move("prev"), "holaf-iv-fs-nav holaf-iv-fs-prev");
    const next = this._button(null, "›", "holaf-fs-next", "Next (→)", () => this._move("next"), "holaf-iv-fs-nav holaf-iv-fs-next");
    const close = this._button("remove", "", "holaf-fs-close", "Close (Esc)", () => this.back(), "holaf-iv-fs-close");
    this.fsCaption = el("div", { className: "holaf-iv-fs-caption", testid: "holaf-fs-caption" });
    this.fullscreen.append(this.fullStage.element, prev, next, close, this.fsCaption);
  }

  // ------------------------------------------------------------------ wiring
  _wire() {
    const { state, list, pool, gallery } = this;
    pool.track(state.on("filters", (e) => {
      this._saveSettings(changedSettings(e.detail.previous, e.detail.filters));
      this._runQuery();
    }));
    pool.track(state.on("view", (e) => {
      this._saveSettings({ thumbnail_size: e.detail.tileSize, thumbnail_fit: e.detail.fit });
      this._syncToolbar();
    }));
    pool.track(state.on("mode", (e) => this._onMode(e.detail.mode, e.detail.previous)));
    pool.track(state.on("active", () => this._onActive()));
    pool.track(state.on("selection", () => {
      this.status.setSelection(state.selection.size);
      this._syncToolbar();
    }));
    pool.track(list.on("total", () => this._updateCount()));
    pool.track(list.on("reset", () => this._updateCount()));
    pool.track(list.on("items", (e) => this._onItems(e.detail)));
    pool.track(list.on("removed", (e) => this._onRemoved(e.detail.paths, e.detail.indices)));
    pool.track(list.on("error", (e) => {
      const error = /** @type {any} */ (e.detail.error);
      this.host.toasts.error(`The gallery could not load: ${error?.message || error}`, { id: "holaf-iv-list-error" });
    }));
    pool.track(gallery.on("tileclick", (e) => this._onTileClick(e.detail)));
    pool.track(gallery.on("tileopen", (e) => {
      this._setActive(e.detail.index);
      if (state.picker.active) this._finishPick(e.detail.item);
      else this.open();
    }));
    pool.track(gallery.on("band", (e) => this._onBand(e.detail)));
    pool.track(gallery.on("tiledrag", (e) => this._onDrag(e.detail)));
    pool.track(gallery.on("scrolled", (e) => {
      if (e.detail.atTop && this.live.pending) this.showNewImages();
    }));
    for (const stage of [this.zoomStage, this.fullStage]) pool.track(stage.on("loaded", () => this._editor?.refreshPreview()));
    pool.track(this.zoomStage.on("dblclick", () => this.enterFullscreen()));
    pool.track(this.fullStage.on("dblclick", () => this.back()));

    this.live = new LiveUpdater({
      list,
      fetchPage: (body, signal) => this.host.fetchJson("/holaf/images/list", { method: "POST", body, signal }),
      view: () => ({ atTop: gallery.isAtTop(), sort: state.filters.sort, trashcan: state.filters.trashcan, ...gallery.range() }),
    });
    pool.track(() => this.live.destroy());
    pool.track(this.live.on("pending", (e) => {
      this._showPill(e.detail.count);
      this._updateCount();
    }));
    pool.track(this.live.on("fresh", (e) => {
      for (const path of e.detail.paths) this._fresh.add(path);
      setTimeout(() => {
        for (const path of e.detail.paths) this._fresh.delete(path);
        gallery.refresh();
      }, 1600);
    }));
    pool.track(this.host.onServerEvent(CHANGE_EVENT, (data) => {
      this.live.handle(data);
      this._scheduleOptions();
      this.status.wakeThumbs();
      if (data?.scanning) this.status.setScan({ state: "scanning" }); // numbers come from the next poll
    }));
    pool.track(this.host.onServerEvent(EDITS_EVENT, (data) => this._onEditsChanged(data?.path, data)));
    pool.add(this.pill, "click", () => this.showNewImages());

    // keyboard: the viewer root (panel or page) and the fullscreen overlay
    pool.add(this.root, "keydown", (e) => this._onKey(/** @type {KeyboardEvent} */ (e)));
    pool.add(this.fullscreen, "keydown", (event) => {
      const e = /** @type {KeyboardEvent} */ (event);
      if (e.altKey && e.shiftKey) return;
      this._onKey(e);
      e.stopPropagation(); // the overlay lives on <body>: keep keys away from ComfyUI
    });
    for (const type of ["keyup", "keypress", "paste", "copy"]) pool.add(this.fullscreen, type, (e) => e.stopPropagation());
    pool.add(this.root, "pointerdown", (event) => {
      const target = /** @type {HTMLElement} */ (event.target);
      if (!target.closest("input, select, textarea, button, [contenteditable]") && document.activeElement !== this.root) {
        this.root.focus({ preventScroll: true });
      }
    });
    if (this.layout === "page") {
      // keys typed while nothing in particular has the focus belong to the full-page viewer
      pool.add(window, "keydown", (event) => {
        const e = /** @type {KeyboardEvent} */ (event);
        if (e.defaultPrevented || (e.target !== document.body && e.target !== document.documentElement)) return;
        this._onKey(e);
      });
    }
    pool.track(this.host.settings.on("change", (e) => {
      const { section, values, source } = e.detail;
      if (section !== SECTION || source !== "server") return;
      if ("thumbnail_size" in values || "thumbnail_fit" in values) {
        state.setView({ tileSize: values.thumbnail_size, fit: values.thumbnail_fit });
      }
    }));
  }

  async _start() {
    try {
      await this.host.settings.load();
    } catch (error) {
      console.warn("[Holaf] settings unavailable; the viewer starts with defaults", error);
    }
    const saved = this.host.settings.section(SECTION);
    this.state.filters = filtersFromSettings(saved);
    this.state.tileSize = Math.min(400, Math.max(80, Number(saved.thumbnail_size) || 150));
    this.state.fit = saved.thumbnail_fit === "contain" ? "contain" : "cover";
    this.root.classList.toggle("holaf-iv-no-info", saved.show_info_pane === false);
    this.root.classList.toggle("holaf-iv-no-filters", saved.show_filter_pane === false);
    this.filterPane.sync();
    this._syncToolbar();
    this.gallery.refresh();
    this.host.getInfo().then((info) => {
      this._features = Array.isArray(info?.features) ? info.features : [];
      this.buttons.edit.hidden = !this._features.includes("edits");
    }, () => {});
    await this.loadOptions();
    await this._runQuery();
    this.status.wakeThumbs();
    this.status.setScan(this.list.lastResponse?.scan);
  }

  /** Reloads folders, formats, tags and models (counts change with every new image). */
  async loadOptions() {
    try {
      const options = await this.host.fetchJson("/holaf/images/filter-options");
      if (this._destroyed) return;
      const before = JSON.stringify(this._known());
      this.options = options;
      this.filterPane.setOptions(options);
      // a new folder or format changes what "everything but the unticked ones" means
      if (JSON.stringify(this._known()) !== before && (this.state.filters.excludedFolders.length || this.state.filters.excludedFormats.length) && this._queried) {
        this._runQuery();
      }
    } catch (error) {
      this.host.toasts.error(`Cannot read the filter options: ${/** @type {any} */ (error)?.message || error}`, { id: "holaf-iv-options-error" });
    }
  }

  _known() {
    return {
      folders: (this.options.folders || []).map((f) => f.path),
      formats: (this.options.formats || []).map((f) => f.name),
    };
  }

  _scheduleOptions() {
    clearTimeout(this._optionsTimer);
    this._optionsTimer = setTimeout(() => this.loadOptions(), OPTIONS_DEBOUNCE_MS);
  }

  /** Runs the query of the current filters (keeps the active image if it still matches). */
  _runQuery() {
    this._queried = true;
    const body = listBody(this.state.filters, this._known());
    const keep = this.state.activePath;
    this.live.takePending();
    this._showPill(0);
    this.gallery.setEmptyText(!body
      ? "Nothing is ticked: tick a folder or a format in the left pane."
      : this.state.filters.trashcan ? "The trashcan is empty." : "No images match the current filters.");
    this.root.classList.toggle("holaf-iv-trash", this.state.filters.trashcan);
    this._syncToolbar();
    const first = this.list.reset(body);
    return first.then(() => {
      if (this._destroyed) return;
      this.status.setScan(this.list.lastResponse?.scan);
      const index = keep ? this.list.indexOf(keep) : -1;
      if (index >= 0) this._setActive(index);
      else {
        this.state.setActive(-1, null);
        if (this.state.mode !== "gallery" && !this.state.compare) this.state.setMode("gallery");
      }
      this.emit("loaded");
    });
  }

  /** @param {string} type */
  emit(type) {
    this.dispatch(type, {});
  }

  /** @param {Record<string, any>} values */
  _saveSettings(values) {
    if (Object.keys(values).length) this.host.settings.queue(SECTION, values);
  }

  _updateCount() {
    const r = this.list.lastResponse;
    // images that arrived above a scrolled-down view are not in the list yet, but they match
    const shown = this.list.total === null ? null : this.list.total + this.list.offsetShift;
    this.status.setCounts({
      shown,
      total: this.state.filters.trashcan ? null : (typeof r?.total_db_count === "number" ? Math.max(r.total_db_count, shown ?? 0) : shown),
      trashcan: this.state.filters.trashcan,
    });
  }

  /** @param {{start: number, end: number}} range */
  _onItems(range) {
    this._updateCount();
    const { activeIndex, activePath } = this.state;
    if (activePath) {
      const index = this.list.indexOf(activePath);
      if (index >= 0 && index !== activeIndex) this.state.setActive(index, activePath);
    } else if (activeIndex >= range.start && activeIndex < range.end) {
      const item = this.list.get(activeIndex);
      if (item) this.state.setActive(activeIndex, item.path);
    }
  }

  /**
   * Rows left the list: the selection drops them, and if the active image went, its
   * neighbour takes its place (Delete in the zoom view moves on).
   * @param {string[]} paths
   * @param {number[]} indices
   */
  _onRemoved(paths, indices) {
    if (this.state.selection.remove(paths)) this.state.selectionChanged();
    const active = this.state.activePath;
    if (!active || !paths.includes(active)) return;
    const at = indices[paths.indexOf(active)] ?? this.state.activeIndex;
    const count = this.list.length;
    if (!count) {
      this.state.setActive(-1, null);
      if (this.state.mode !== "gallery") this.state.setMode("gallery");
      return;
    }
    const index = Math.min(at, count - 1);
    const item = this.list.get(index);
    this.state.setActive(index, item ? item.path : null);
  }

  _syncToolbar() {
    const { state } = this;
    const sel = state.selection.size;
    const mode = state.mode;
    const trash = state.filters.trashcan;
    const hasTarget = this.targets().length > 0;
    if (this.sizeSlider.value !== String(state.tileSize)) this.sizeSlider.value = String(state.tileSize);
    const fitIcon = state.fit === "cover" ? "fill" : "fit";
    if (this.fitButton.dataset.icon !== fitIcon) {
      this.fitButton.dataset.icon = fitIcon;
      this.fitButton.replaceChildren(icon(fitIcon));
    }
    this.fitButton.setAttribute("aria-pressed", String(state.fit === "contain"));
    const bt = this.buttons;
    bt.back.hidden = mode === "gallery";
    bt.open.hidden = mode !== "gallery";
    bt.compare.disabled = sel !== 2;
    bt.trash.hidden = trash;
    bt.restore.hidden = !trash;
    for (const key of ["trash", "restore", "remove", "move", "tags", "rate", "extract", "inject", "exportFiles"]) {
      /** @type {HTMLButtonElement} */ (bt[/** @type {"trash"} */ (key)]).disabled = !hasTarget;
    }
    bt.move.hidden = trash;
    bt.rename.disabled = !this.activeItem() || trash;
    bt.rename.hidden = trash;
    bt.extract.hidden = trash;
    bt.inject.hidden = trash;
    const slideIcon = state.slideshow ? "pause" : "play";
    if (bt.slideshow.dataset.icon !== slideIcon) {
      bt.slideshow.dataset.icon = slideIcon;
      bt.slideshow.replaceChildren(icon(slideIcon));
    }
    bt.slideshow.setAttribute("aria-pressed", String(state.slideshow));
  }

  /** @param {"info" | "filters"} pane */
  _togglePane(pane) {
    const cls = pane === "info" ? "holaf-iv-no-info" : "holaf-iv-no-filters";
    const hidden = this.root.classList.toggle(cls);
    this._saveSettings({ [pane === "info" ? "show_info_pane" : "show_filter_pane"]: !hidden });
  }

  // ------------------------------------------------------------------ active image and modes
  /** The item under the active index, if loaded. */
  activeItem() {
    const { activeIndex } = this.state;
    return activeIndex >= 0 ? this.list.get(activeIndex) || null : null;
  }

  /**
   * Paths an action applies to: the image on screen in the zoom view / fullscreen,
   * otherwise the selection, otherwise the active image.
   */
  targets() {
    const { state } = this;
    if (state.mode !== "gallery" && state.activePath) return [state.activePath];
    if (state.selection.size) return state.selection.list();
    return state.activePath ? [state.activePath] : [];
  }

  /**
   * The images a rating/tag change from the info pane applies to: the selection when the
   * image is part of it, else just that image.
   * @param {ListItem} item
   */
  _targetsFor(item) {
    const sel = this.state.selection;
    return this.state.mode === "gallery" && sel.has(item.path) && sel.size > 1 ? sel.list() : [item.path];
  }

  /** @param {number} index @param {{reveal?: boolean}} [options] */
  _setActive(index, options = {}) {
    const count = this.list.length;
    if (!count || index < 0) {
      this.state.setActive(-1, null);
      return;
    }
    const i = Math.min(index, count - 1);
    const item = this.list.get(i);
    this.state.setActive(i, item ? item.path : null);
    if (!item) this.list.ensure(Math.max(0, i - 100), i + 100);
    if (options.reveal !== false) this.gallery.reveal(i);
  }

  _onActive() {
    const item = this.activeItem();
    this.gallery.refresh();
    this.info.show(item);
    this._syncToolbar();
    if (this.state.mode === "gallery") return;
    this._showOnStage(item);
  }

  /** @param {ListItem | null} item */
  _showOnStage(item) {
    const stage = this.state.mode === "fullscreen" ? this.fullStage : this.zoomStage;
    if (this.state.compare) return;
    if (stage.item?.path !== item?.path || stage.item?.version !== item?.version) stage.show(item);
    this._caption(item);
    this._preloadAround();
    this._editor?.setImage?.(item ? { path: item.path, kind: item.kind } : null);
  }

  /** @param {ListItem | null} item */
  _caption(item) {
    const total = this.list.total ?? 0;
    this.fsCaption.textContent = item ? `${item.name} · ${this.state.activeIndex + 1} / ${total}` : "";
  }

  /** Preloads the next two images in the direction of travel and the one behind. */
  _preloadAround() {
    const i = this.state.activeIndex;
    const dir = this._direction || 1;
    const stage = this.state.mode === "fullscreen" ? this.fullStage : this.zoomStage;
    const around = [i + dir, i + 2 * dir, i - dir].map((k) => this.list.get(k)).filter(Boolean);
    stage.preload(/** @type {ListItem[]} */ (around));
  }

  /**
   * @param {import("./keyboard.js").ViewMode} mode
   * @param {import("./keyboard.js").ViewMode} previous
   */
  _onMode(mode, previous) {
    const root = this.root;
    for (const m of ["gallery", "zoom", "fullscreen"]) root.classList.toggle(`holaf-iv-mode-${m}`, m === mode);
    if (mode === "fullscreen") {
      root.classList.toggle("holaf-iv-mode-zoom", this.state.fullscreenFrom === "zoom");
      this.zoomStage.pause();
      if (!this.fullscreen.isConnected) document.body.appendChild(this.fullscreen);
      this.fullscreen.hidden = false;
      const item = this.activeItem();
      if (this.state.compare) {
        const [a, b] = this._compareItems();
        if (a && b) this.fullStage.showCompare(a, b);
      } else {
        this.fullStage.show(item);
      }
      this._caption(item);
      this.fullscreen.focus({ preventScroll: true });
    } else {
      this.fullStage.show(null);
      this.fullStage.exitCompare();
      this.fullscreen.hidden = true;
      this.fullscreen.remove();
      if (mode === "zoom") {
        if (this.state.compare) {
          const [a, b] = this._compareItems();
          if (a && b) this.zoomStage.showCompare(a, b);
        } else {
          this.zoomStage.show(this.activeItem());
        }
        this._preloadAround();
      } else {
        this.zoomStage.show(null);
        this._closeEditor();
        this.stopSlideshow();
        if (this.state.compare) this.state.setCompare(null);
        if (this.state.activeIndex >= 0) requestAnimationFrame(() => this.gallery.reveal(this.state.activeIndex));
      }
      if (previous === "fullscreen" || mode === "gallery") this.root.focus({ preventScroll: true });
    }
    this._syncToolbar();
  }

  /** Opens the active image (or the first) in the zoom view. */
  open() {
    if (this.state.activeIndex < 0) this._setActive(0);
    if (this.state.activeIndex < 0) return;
    this.state.setMode("zoom");
  }

  enterFullscreen() {
    if (this.state.activeIndex < 0 && !this.state.compare) this._setActive(0);
    if (this.state.activeIndex < 0 && !this.state.compare) return;
    this.state.setMode("fullscreen");
  }

  /** Esc: one level back. Returns whether something happened. */
  back() {
    const { state } = this;
    if (state.slideshow) this.stopSlideshow();
    if (state.mode === "fullscreen") {
      state.setMode(state.fullscreenFrom === "zoom" ? "zoom" : "gallery");
      return true;
    }
    if (state.mode === "zoom") {
      state.setMode("gallery");
      return true;
    }
    if (state.picker.active) {
      this._finishPick(null);
      return true;
    }
    if (state.selection.size) {
      state.selection.clear();
      state.selectionChanged();
      return true;
    }
    return false;
  }

  /**
   * Moves the active image; with unsaved edits (auto-save off) the editor asks first.
   * @param {import("./keyboard.js").KeyAction} action
   */
  _move(action) {
    const editor = this._editor;
    if (editor && editor.isDirty() && !editor.session.autosave) {
      editor.confirmLeave().then((ok) => { if (ok) this._moveNow(action); });
      return;
    }
    this._moveNow(action);
  }

  /** @param {import("./keyboard.js").KeyAction} action */
  _moveNow(action) {
    if (this.state.compare) {
      this.state.setCompare(null);
      this.zoomStage.exitCompare();
      this.fullStage.exitCompare();
    }
    const next = moveIndex(action, {
      index: this.state.activeIndex, count: this.list.length, columns: this.gallery.layout.columns, pageRows: this.gallery.pageRows(),
    });
    if (next < 0) return;
    this._direction = next < this.state.activeIndex ? -1 : 1;
    this._setActive(next);
    if (this.state.mode !== "gallery") this._showOnStage(this.activeItem());
    if (this.state.slideshow) this._scheduleSlide();
  }

  // ------------------------------------------------------------------ keyboard
  /** @param {KeyboardEvent} e */
  _onKey(e) {
    if (e.defaultPrevented) return;
    const typing = isTextInput(e.target);
    if (e.key === "Enter" && /** @type {HTMLElement} */ (e.target).closest?.("button, a, select")) return;
    const action = keyAction(e, { mode: this.state.mode, typing });
    if (!action) return;
    if (typing && action === "back") {
      /** @type {HTMLElement} */ (e.target).blur();
      this.root.focus({ preventScroll: true });
      e.preventDefault();
      e.stopPropagation();
      return;
    }
    if (action === "back") {
      if (this.back()) {
        e.preventDefault();
        e.stopPropagation();
      }
      return;
    }
    e.preventDefault();
    if (MOVEMENTS.has(action)) {
      this._move(action);
      return;
    }
    switch (action) {
      case "open":
        if (this.state.picker.active) {
          const item = this.activeItem();
          if (item) this._finishPick(item);
        } else this.open();
        break;
      case "fullscreen": this.enterFullscreen(); break;
      case "toggleSelect": {
        const item = this.activeItem();
        if (!item) break;
        this.state.selection.toggle(item.path);
        this.state.selection.anchor = this.state.activeIndex;
        this.state.selectionChanged();
        break;
      }
      case "trash": this.actions.trash(this.targets()); break;
      case "deletePermanently": this.actions.deletePermanently(this.targets()); break;
      case "selectAll": this.selectAll(); break;
      default: break;
    }
  }

  // ------------------------------------------------------------------ selection
  /** @param {{index: number, item: ListItem, event: MouseEvent, checkbox: boolean}} detail */
  async _onTileClick(detail) {
    const { index, item, event, checkbox } = detail;
    const kind = clickKind(event, { checkbox });
    const sel = this.state.selection;
    if (kind === "range" || kind === "addRange") {
      const [a, b] = rangeBounds(sel.anchor, index);
      let paths;
      try {
        paths = (await this.list.itemsInRange(a, b + 1)).map((i) => i.path);
      } catch (error) {
        this.host.toasts.error(String(/** @type {any} */ (error)?.message || error));
        return;
      }
      sel.click(kind, index, item.path, paths);
    } else {
      sel.click(kind, index, item.path);
    }
    this._direction = index < this.state.activeIndex ? -1 : 1;
    this.state.setActive(index, item.path);
    this.state.selectionChanged();
  }

  /** @param {{indices: number[], additive: boolean, final: boolean, click?: boolean}} detail */
  _onBand(detail) {
    const sel = this.state.selection;
    if (detail.click) {
      if (!detail.additive && sel.clear()) this.state.selectionChanged();
      this._bandBase = null;
      return;
    }
    if (!this._bandBase) this._bandBase = detail.additive ? new Set(sel.paths) : new Set();
    const paths = detail.indices.map((i) => this.list.get(i)?.path).filter(Boolean);
    sel.set([...this._bandBase, .../** @type {string[]} */ (paths)]);
    this.state.selectionChanged();
    if (detail.final) {
      this._bandBase = null;
      if (detail.indices.length) sel.anchor = detail.indices[0];
    }
  }

  /** Ctrl+A: everything that matches the filters (loading the paths not loaded yet). */
  async selectAll() {
    const total = this.list.length;
    if (!total) return;
    let toast = null;
    if (total > SELECT_ALL_WARN) toast = this.host.toasts.show(`Selecting ${total.toLocaleString("en-US")} images…`, { progress: 0, dismissible: false });
    try {
      const items = await this.list.itemsInRange(0, total, {
        onProgress: (done, all) => { if (toast) this.host.toasts.update(toast, { progress: done / all }); },
      });
      this.state.selection.set(items.map((i) => i.path));
      this.state.selectionChanged();
    } catch (error) {
      this.host.toasts.error(`Select all failed: ${/** @type {any} */ (error)?.message || error}`);
    } finally {
      if (toast) this.host.toasts.dismiss(toast);
    }
  }

  // ------------------------------------------------------------------ drag to ComfyUI
  /** @param {{item: ListItem, event: DragEvent}} detail */
  _onDrag(detail) {
    const { item, event } = detail;
    const dt = event.dataTransfer;
    if (!dt) return;
    const sel = this.state.selection;
    const paths = sel.has(item.path) && sel.size > 1 ? sel.list().slice(0, 1000) : [item.path];
    const url = new URL(this.fullUrl(item), location.href).href;
    dt.effectAllowed = "copy";
    dt.setData(DRAG_MIME, JSON.stringify({ path: item.path, name: item.name, kind: item.kind, paths, url }));
    dt.setData("text/uri-list", url);
    dt.setData("text/plain", item.path);
    const img = /** @type {HTMLElement} */ (event.target).closest?.(".holaf-iv-tile")?.querySelector("img");
    if (img && /** @type {HTMLImageElement} */ (img).complete) dt.setDragImage(img, 20, 20);
  }

  // ------------------------------------------------------------------ pill, compare, slideshow
  /** @param {number} count */
  _showPill(count) {
    this.pill.hidden = !count;
    this.pill.textContent = count ? `↑ ${count.toLocaleString("en-US")} new image${count === 1 ? "" : "s"}` : "";
  }

  /** Jumps to the top and shows the images that arrived meanwhile. */
  showNewImages() {
    this.live.takePending();
    this._showPill(0);
    this.list.reload({ offsetShift: 0 });
    this.gallery.scrollToTop();
    const r = this.gallery.range();
    this.list.ensure(r.start, Math.max(r.end, 1));
  }

  /** @returns {[ListItem | null, ListItem | null]} */
  _compareItems() {
    const paths = this.state.compare || [];
    const find = (/** @type {string | undefined} */ p) => {
      if (!p) return null;
      const i = this.list.indexOf(p);
      if (i >= 0) return /** @type {ListItem} */ (this.list.get(i));
      return { path: p, name: p.split("/").pop() || p, folder: "" };
    };
    return [find(paths[0]), find(paths[1])];
  }

  /** A/B compare of the two selected images. */
  compareSelection() {
    const paths = this.state.selection.list();
    if (paths.length !== 2) {
      this.host.toasts.info("Select exactly two images to compare them.");
      return;
    }
    const items = paths.map((p) => this.list.get(this.list.indexOf(p)));
    if (items.some((i) => i && mediaKind(i) !== "image")) {
      this.host.toasts.info("A/B compare works with images.");
      return;
    }
    this.state.setCompare(/** @type {[string, string]} */ (paths));
    if (this.state.mode === "gallery") this.state.setMode("zoom");
    else {
      const [a, b] = this._compareItems();
      const stage = this.state.mode === "fullscreen" ? this.fullStage : this.zoomStage;
      if (a && b) stage.showCompare(a, b);
    }
  }

  toggleSlideshow() {
    if (this.state.slideshow) this.stopSlideshow();
    else this.startSlideshow();
  }

  startSlideshow() {
    if (this.state.activeIndex < 0) this._setActive(0);
    if (this.state.activeIndex < 0) return;
    if (this.state.mode === "gallery") this.state.setMode("zoom");
    this.state.setSlideshow(true);
    this._syncToolbar();
    this._scheduleSlide();
  }

  stopSlideshow() {
    clearTimeout(this._slideTimer);
    this._slideTimer = null;
    if (this.state.slideshow) {
      this.state.setSlideshow(false);
      this._syncToolbar();
    }
  }

  _scheduleSlide() {
    clearTimeout(this._slideTimer);
    const seconds = Number(this.host.settings.get(SECTION, "slideshow_interval_s", 4)) || 4;
    this._slideTimer = setTimeout(() => {
      if (!this.state.slideshow) return;
      if (this.state.activeIndex >= this.list.length - 1) {
        this.stopSlideshow();
        return;
      }
      this._move("next");
    }, Math.max(500, seconds * 1000));
  }

  // ------------------------------------------------------------------ editor (edits feature)
  async toggleEditor() {
    if (this._editor) {
      this._closeEditor();
      return;
    }
    if (this.state.mode === "gallery") this.open();
    if (this.state.mode === "gallery") return;
    const { mountEditor } = await import("./editor.js");
    const slot = el("div", { className: "holaf-iv-editor-slot", testid: "holaf-editor-slot" });
    this.info.element.prepend(slot);
    this.root.classList.add("holaf-iv-editing");
    this._editorSlot = slot;
    this._editor = mountEditor(slot, {
      host: this.host,
      getPreviewTargets: () => /** @type {Array<HTMLImageElement | HTMLVideoElement>} */ (
        [this.zoomStage.media, this.fullStage.media].filter((m) => m && !m.classList.contains("holaf-iv-placeholder"))),
      getSelection: () => this.state.selection.list(),
      onSaved: (path, reply) => this._onEditsChanged(path, reply),
    });
    const item = this.activeItem();
    await this._editor.setImage(item ? { path: item.path, kind: item.kind } : null);
  }

  /**
   * Edits of a file were saved or reset (here or in another tab): new thumbnail, edit badge.
   * @param {string | undefined} path
   * @param {{has_edits?: boolean, thumbnail_version?: any, hash?: any} | null | undefined} reply
   */
  _onEditsChanged(path, reply) {
    if (!path) return;
    this.thumbs.noteEdit(path, reply?.thumbnail_version ?? reply?.hash);
    if (typeof reply?.has_edits === "boolean") this.list.update(path, { has_edits: reply.has_edits });
    this.gallery.refresh();
  }

  _closeEditor() {
    if (!this._editor) return;
    try { this._editor.destroy?.(); } catch (error) { console.error(error); }
    this._editor = null;
    this._editorSlot?.remove();
    this._editorSlot = null;
    this.root.classList.remove("holaf-iv-editing");
  }

  // ------------------------------------------------------------------ workflow bridge
  /**
   * Loads an image's workflow into ComfyUI (this tab, or the ComfyUI tab through the bridge).
   * @param {{workflow: any}} meta
   * @param {ListItem} item
   * @param {{newTab: boolean}} options
   */
  async loadWorkflow(meta, item, options) {
    if (!meta?.workflow) return;
    const ok = await confirmDialog({
      title: "Load workflow",
      message: options.newTab
        ? `Open the workflow of "${item.name}" in a new workflow tab?`
        : `Load the workflow of "${item.name}"? It replaces the workflow in the current ComfyUI tab (unsaved changes there are lost).`,
      confirmLabel: "Load workflow",
    });
    if (!ok) return;
    try {
      const result = await this.host.loadWorkflow(meta.workflow, { newTab: options.newTab, name: item.name });
      if (result?.ok) this.host.toasts.success(`Workflow of ${item.name} loaded.`);
      else this.host.toasts.error(bridgeProblem(result));
    } catch (error) {
      this.host.toasts.error(`Could not load the workflow: ${/** @type {any} */ (error)?.message || error}`);
    }
  }

  /**
   * @param {{prompt: any, workflow: any}} meta
   * @param {ListItem} item
   */
  async queuePrompt(meta, item) {
    if (!meta?.prompt) return;
    try {
      const result = await this.host.queuePrompt(meta.prompt, { workflow: meta.workflow || undefined });
      if (result?.ok) this.host.toasts.success(`Queued the prompt of ${item.name} again.`);
      else this.host.toasts.error(bridgeProblem(result));
    } catch (error) {
      this.host.toasts.error(`Could not queue the prompt: ${/** @type {any} */ (error)?.message || error}`);
    }
  }

  // ------------------------------------------------------------------ public API
  /**
   * Changes filters from outside (node menus): `reason` tells persistence it was not typed.
   * @param {Partial<Filters>} patch
   */
  applyFilters(patch) {
    this.state.setFilters({ ...this.state.filters, ...patch }, "open");
  }

  /**
   * Picks the index's spelling of a model or LoRA name and filters by it.
   * @param {"model" | "lora"} field
   * @param {string} value
   * @returns {Promise<boolean>} false when no indexed image uses it
   */
  async filterByModel(field, value) {
    await this.ready;
    await this.loadOptions();
    const options = field === "model" ? this.options.models || [] : this.options.loras || [];
    const name = matchModelName(value, options);
    if (!name) {
      this.host.toasts.info(`No indexed image was made with ${value}.`);
      return false;
    }
    this.applyFilters({ [field]: name, trashcan: false });
    return true;
  }

  /**
   * Makes `path` the active image (loading pages until it is found, up to `limit` rows)
   * and opens it in the zoom view when `open` is set.
   * @param {string} path
   * @param {{open?: boolean, limit?: number}} [options]
   */
  async showPath(path, options = {}) {
    await this.ready;
    let index = this.list.indexOf(path);
    const limit = Math.min(this.list.length, options.limit ?? 3000);
    for (let start = 0; index < 0 && start < limit; start += 1000) {
      await this.list.itemsInRange(start, Math.min(limit, start + 1000));
      index = this.list.indexOf(path);
    }
    if (index < 0) {
      this.host.toasts.info(`${path.split("/").pop()} is not shown with the current filters.`);
      return false;
    }
    this._setActive(index);
    if (options.open) this.open();
    return true;
  }

  /**
   * Picker mode: the user chooses one image (double-click or Enter); Esc cancels.
   * @param {string} label what the image is for, e.g. "Load Image #12"
   * @returns {Promise<ListItem | null>}
   */
  pick(label) {
    this._finishPick(null);
    this.state.setPicker(true, label);
    this.root.classList.add("holaf-iv-picking");
    const cancel = el("button", { className: "holaf-iv-button", text: "Cancel", testid: "holaf-picker-cancel", attrs: { type: "button" } });
    const choose = el("button", { className: "holaf-iv-button holaf-iv-primary", text: "Use this image", testid: "holaf-picker-choose", attrs: { type: "button" } });
    cancel.addEventListener("click", () => this._finishPick(null));
    choose.addEventListener("click", () => {
      const item = this.activeItem();
      if (item) this._finishPick(item);
    });
    this.picker.replaceChildren(el("span", { text: `Choose an image for ${label}: double-click it, or select it and press Enter.` }), choose, cancel);
    this.picker.hidden = false;
    return new Promise((resolve) => { this._pickResolve = resolve; });
  }

  /** @param {ListItem | null} item */
  _finishPick(item) {
    const resolve = this._pickResolve;
    this._pickResolve = null;
    if (!resolve) return;
    this.state.setPicker(false);
    this.root.classList.remove("holaf-iv-picking");
    this.picker.hidden = true;
    resolve(item);
    if (item) this.dispatch("picked", { item });
  }

  /** Asks about locked folders, then resets the filters. */
  async _resetFilters() {
    const f = this.state.filters;
    let keepLocks = false;
    if (f.lockedFolders.length) {
      const { openDialog } = await import("../common/dialog.js");
      const choice = await openDialog({
        title: "Reset filters",
        message: `${f.lockedFolders.length} folder${f.lockedFolders.length > 1 ? "s are" : " is"} locked. Keep ${f.lockedFolders.length > 1 ? "their" : "its"} state?`,
        buttons: [
          { label: "Cancel", value: null, kind: "cancel", testid: "holaf-dialog-cancel" },
          { label: "Unlock & reset all", value: "all", testid: "holaf-reset-all" },
          { label: "Reset (keep locks)", value: "keep", kind: "primary", testid: "holaf-reset-keep", autofocus: true },
        ],
      }).result;
      if (!choice) return;
      keepLocks = choice === "keep";
    }
    this.state.setFilters(resetFilters(f, { keepLocks }), "reset");
  }

  /** Keyboard focus to the grid (so the keys work at once). */
  focus() {
    this.root.focus({ preventScroll: true });
  }

  destroy() {
    if (this._destroyed) return;
    this._destroyed = true;
    this._finishPick(null);
    this.stopSlideshow();
    this._closeEditor();
    clearTimeout(this._optionsTimer);
    this.pool.removeAll();
    this.host.settings.flush();
    this.gallery.destroy();
    this.zoomStage.destroy();
    this.fullStage.destroy();
    this.fullscreen.remove();
    this.filterPane.destroy();
    this.info.destroy();
    this.status.destroy();
    this.list.destroy();
    this.thumbs.destroy();
    this.fullCache.clear();
    this.root.remove();
    this.removeAllListeners();
  }
}

/**
 * A sentence for a failed bridge request (no ComfyUI tab, no answer…).
 * @param {import("../common/bridge.js").BridgeResult | undefined} result
 */
export function bridgeProblem(result) {
  switch (result?.reason) {
    case "no_comfyui_tab": return "No ComfyUI tab is open in this browser (same address). Open ComfyUI, then try again.";
    case "no_answer": return "The ComfyUI tab did not answer.";
    case "unsupported": return "The open ComfyUI tab does not have Holaf Utilities loaded.";
    default: return `ComfyUI refused: ${result?.error || "unknown error"}`;
  }
}
