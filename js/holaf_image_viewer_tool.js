/**
 * Tool descriptor of the Image Viewer (see common/tools.js): a floating panel inside
 * ComfyUI (menu, Alt+Shift+I), the whole page on the standalone server and `/holaf/view`,
 * plus the entry points the ComfyUI integrations use (open on an image, filter by a
 * model, pick an image for a node). No side effects at import.
 * @module holaf_image_viewer_tool
 */
import { createPanel, getPanel } from "./common/panel_manager.js";
import { ImageViewer } from "./image_viewer/viewer.js";

export const PANEL_ID = "image-viewer";
const SECTION = "ImageViewerUI";

/** @typedef {import("./common/host.js").HolafHost} HolafHost */

/** @type {WeakMap<object, ImageViewer>} panel → its viewer */
const viewers = new WeakMap();
/** @type {ImageViewer | null} the full-page viewer, when the page is the viewer */
let pageViewer = null;

/**
 * @typedef {object} OpenOptions
 * @property {string} [path] open on this image (zoom view)
 * @property {Partial<import("./image_viewer/filters.js").Filters>} [filters] filters to apply first
 * @property {{field: "model" | "lora", value: string}} [byModel] filter by a model/LoRA name as a node shows it
 */

/**
 * Opens (or focuses) the viewer and applies the options.
 * @param {HolafHost} host
 * @param {OpenOptions} [options]
 * @returns {Promise<ImageViewer>}
 */
export async function openImageViewer(host, options = {}) {
  let viewer = pageViewer && !pageViewer._destroyed ? pageViewer : null;
  if (!viewer) {
    const panel = createPanel({
      id: PANEL_ID, title: "Image Viewer", section: SECTION, host, icon: "▦",
      minSize: { width: 480, height: 320 }, className: "holaf-iv-panel",
    });
    viewer = viewers.get(panel) || null;
    if (!viewer) {
      const created = new ImageViewer({
        host, container: panel.body, layout: "panel",
        openInNewTab: host.mode === "comfyui" ? ({ path }) => openViewerTab(host, path) : undefined,
      });
      viewers.set(panel, created);
      panel.on("closed", () => created.destroy());
      viewer = created;
    }
  }
  await viewer.ready;
  if (options.filters) viewer.applyFilters(options.filters);
  if (options.byModel) await viewer.filterByModel(options.byModel.field, options.byModel.value);
  if (options.path) await viewer.showPath(options.path, { open: true });
  viewer.focus();
  return viewer;
}

/**
 * Opens the full-page viewer in a new browser tab (`/holaf/view`), on an image if given.
 * @param {HolafHost} host
 * @param {string} [path]
 */
export function openViewerTab(host, path) {
  const url = new URL(host.pageUrl("/holaf/view"), location.href);
  if (path) url.hash = `path=${encodeURIComponent(path)}`;
  window.open(url.href, "_blank", "noopener");
}

/**
 * Lets the user choose one image (picker mode of the viewer).
 * @param {HolafHost} host
 * @param {string} label what it is for ("Load Image #12")
 */
export async function pickImage(host, label) {
  const viewer = await openImageViewer(host);
  return viewer.pick(label);
}

/** The open viewer (panel or page), if any. */
export function currentViewer() {
  if (pageViewer && !pageViewer._destroyed) return pageViewer;
  const panel = getPanel(PANEL_ID);
  return panel ? viewers.get(panel) || null : null;
}

/** @type {import("./common/tools.js").ToolDescriptor & {mountFullPage: (host: HolafHost, element: HTMLElement) => ImageViewer}} */
const imageViewerTool = {
  id: PANEL_ID,
  title: "Image Viewer",
  section: SECTION,
  order: 10,
  icon: "▦",
  comfyIcon: "pi pi-images",
  tooltip: "Browse, search and manage everything ComfyUI wrote",
  keybinding: { key: "I", alt: true, shift: true },
  open: (host, options) => openImageViewer(host, options || {}),
  toggle(host) {
    if (pageViewer && !pageViewer._destroyed) {
      pageViewer.focus();
      return pageViewer;
    }
    const panel = getPanel(PANEL_ID);
    if (panel && panel.isVisible && panel.element.classList.contains("holaf-panel-active")) {
      panel.close();
      return null;
    }
    return openImageViewer(host);
  },
  /**
   * The standalone page and `/holaf/view` are the viewer: it fills `element`.
   * `#path=<relative path>` in the address opens that image.
   */
  mountFullPage(host, element) {
    pageViewer = new ImageViewer({ host, container: element, layout: "page" });
    const match = /(?:^#|&)path=([^&]+)/.exec(location.hash);
    if (match) {
      const path = decodeURIComponent(match[1]);
      pageViewer.ready.then(() => pageViewer?.showPath(path, { open: true }));
    }
    pageViewer.ready.then(() => {
      // Only take the keyboard if nothing else has it by now (a dialog, the search box…).
      const active = document.activeElement;
      if (!active || active === document.body) pageViewer?.focus();
    });
    return pageViewer;
  },
};

export default imageViewerTool;
