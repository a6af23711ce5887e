/**
 * The compact gallery of ComfyUI's left sidebar tab: the newest outputs, refreshed live
 * from `holaf.images.changed` (no polling). A click opens the Image Viewer panel on that
 * image; tiles can be dragged onto the canvas (load the workflow) or onto a Load Image
 * node, like the viewer's own tiles. No side effects at import.
 * @module image_viewer/sidebar
 */
import { ListenerPool } from "../common/events.js";
import { el, ensureStylesheet } from "../common/dom.js";
import { applyTheme } from "../common/themes.js";
import { CHANGE_EVENT } from "./live_updates.js";
import { ThumbnailLoader } from "./thumbs.js";
import { DRAG_MIME, viewerStylesheetUrl } from "./viewer.js";

export const SIDEBAR_COUNT = 60;
const REFRESH_DEBOUNCE_MS = 400;

/**
 * @typedef {import("../common/host.js").HolafHost} HolafHost
 * @typedef {import("./paging.js").ListItem} ListItem
 */

/**
 * Builds the sidebar gallery inside `container`. Returns its destroy function.
 * @param {HTMLElement} container given by ComfyUI's sidebar
 * @param {HolafHost} host
 * @param {{onOpen: (item: ListItem) => void, onOpenViewer: () => void, count?: number}} options
 * @returns {() => void}
 */
export function mountSidebar(container, host, options) {
  ensureStylesheet(viewerStylesheetUrl(), "image-viewer");
  const count = options.count ?? SIDEBAR_COUNT;
  const pool = new ListenerPool();
  const thumbs = new ThumbnailLoader({ apiUrl: (p) => host.apiUrl(p), concurrency: 4, cacheLimit: count * 3 });
  const grid = el("div", { className: "holaf-iv-sidebar-grid", testid: "holaf-sidebar-grid" });
  const note = el("span", { className: "holaf-iv-count", testid: "holaf-sidebar-count" });
  const openButton = el("button", { className: "holaf-iv-button", text: "Open viewer", testid: "holaf-sidebar-open", attrs: { type: "button" } });
  pool.add(openButton, "click", () => options.onOpenViewer());
  const root = el("div", {
    className: "holaf-iv-sidebar", testid: "holaf-sidebar",
    children: [el("div", { className: "holaf-iv-sidebar-head", children: [el("strong", { text: "Recent outputs" }), note, openButton]}), grid],
  });
  applyTheme(root, host.settings.get("ImageViewerUI", "theme") || host.settings.get("UtilitiesUI", "default_theme"));
  host.settings.load().then(() => applyTheme(root, host.settings.get("ImageViewerUI", "theme")), () => {});
  container.replaceChildren(root);

  /** @type {Map<string, {node: HTMLButtonElement, item: ListItem, cancel: () => void}>} */
  let tiles = new Map();
  let request = 0;
  let timer = /** @type {any} */ (null);

  /** @param {ListItem} item */
  const makeTile = (item) => {
    const img = el("img", { attrs: { alt: "", draggable: "false", decoding: "async" } });
    const node = el("button", {
      className: "holaf-iv-sidebar-tile", testid: "holaf-sidebar-tile",
      attrs: { type: "button", title: item.folder ? `${item.name}\n${item.folder}` : item.name, draggable: "true" },
      children: [img, item.kind === "video" ? el("span", { className: "holaf-iv-badge", text: "▶" }) : null],
    });
    node.dataset.path = item.path;
    const cancel = thumbs.request(item, (result) => {
      if ("url" in result) img.src = result.url;
      else node.classList.add("holaf-iv-broken-tile");
    }, { high: true });
    return { node, item, cancel };
  };

  const refresh = async () => {
    const mine = ++request;
    let answer;
    try {
      answer = await host.fetchJson("/holaf/images/list", { method: "POST", body: { limit: count, sort: "newest" } });
    } catch (error) {
      if (mine === request) note.textContent = "offline";
      return;
    }
    if (mine !== request) return;
    const items = /** @type {ListItem[]} */ (answer.images || []);
    const next = new Map();
    const nodes = [];
    for (const item of items) {
      const key = `${item.path}\u0000${item.version || ""}`;
      const existing = tiles.get(key);
      const tile = existing || makeTile(item);
      tiles.delete(key);
      next.set(key, tile);
      nodes.push(tile.node);
    }
    for (const old of tiles.values()) old.cancel();
    tiles = next;
    grid.replaceChildren(...nodes);
    note.textContent = typeof answer.total === "number" ? `${answer.total.toLocaleString("en-US")} in all` : "";
  };

  pool.add(grid, "click", (event) => {
    const node = /** @type {HTMLElement} */ (event.target).closest?.(".holaf-iv-sidebar-tile");
    const path = node instanceof HTMLElement ? node.dataset.path : null;
    const tile = [...tiles.values()].find((t) => t.item.path === path);
    if (tile) options.onOpen(tile.item);
  });
  pool.add(grid, "dragstart", (event) => {
    const e = /** @type {DragEvent} */ (event);
    const node = /** @type {HTMLElement} */ (e.target).closest?.(".holaf-iv-sidebar-tile");
    const path = node instanceof HTMLElement ? node.dataset.path : null;
    const tile = [...tiles.values()].find((t) => t.item.path === path);
    if (!tile || !e.dataTransfer) return;
    const v = tile.item.version ? `&v=${encodeURIComponent(tile.item.version)}` : "";
    const url = new URL(host.apiUrl(`/holaf/images/full?path=${encodeURIComponent(tile.item.path)}${v}`), location.href).href;
    e.dataTransfer.effectAllowed = "copy";
    e.dataTransfer.setData(DRAG_MIME, JSON.stringify({ path: tile.item.path, name: tile.item.name, kind: tile.item.kind, paths: [tile.item.path], url }));
    e.dataTransfer.setData("text/uri-list", url);
    e.dataTransfer.setData("text/plain", tile.item.path);
  });
  pool.track(host.onServerEvent(CHANGE_EVENT, () => {
    clearTimeout(timer);
    timer = setTimeout(refresh, REFRESH_DEBOUNCE_MS);
  }));
  refresh();

  return () => {
    request++;
    clearTimeout(timer);
    pool.removeAll();
    for (const tile of tiles.values()) tile.cancel();
    thumbs.destroy();
    root.remove();
  };
}
