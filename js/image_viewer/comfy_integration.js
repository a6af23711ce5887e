/**
 * The Image Viewer's places inside ComfyUI, given ComfyUI's `app` by holaf_main.js (the
 * only module that imports it): the sidebar tab, the node right-click actions, and
 * dropping a gallery tile on the canvas or on a Load Image node.
 *
 * Node menus: decided once, when this is created. If the frontend collects extension
 * items (`app.collectNodeMenuItems`, frontend ≥ 1.3x), the items come from the
 * `getNodeMenuItems` hook only; otherwise, and only then, each node type's
 * `getExtraMenuOptions` is chained in `beforeRegisterNodeDef` (never both, so an item
 * never shows twice). Everything ComfyUI-specific is feature-detected.
 *
 * No side effects at import.
 * @module image_viewer/comfy_integration
 */
import { ListenerPool } from "../common/events.js";
import { confirmDialog } from "../common/dialog.js";
import { openImageViewer, pickImage } from "../holaf_image_viewer_tool.js";
import { mountSidebar } from "./sidebar.js";
import { DRAG_MIME, bridgeProblem } from "./viewer.js";

/** @typedef {import("../common/host.js").HolafHost} HolafHost */

export const SIDEBAR_ID = "holaf-image-viewer";

/** Nodes that save (or preview) images and videos. */
export const OUTPUT_NODES = Object.freeze(new Set([
  "SaveImage", "PreviewImage", "SaveAnimatedWEBP", "SaveAnimatedPNG", "VHS_VideoCombine", "SaveVideo", "SaveWEBM",
  "SaveImageWebsocket", "Image Save", "SaveImageExtended",
]));
/** Nodes whose `image` widget names a file of ComfyUI's input folder. */
export const LOAD_IMAGE_NODES = Object.freeze(new Set(["LoadImage", "LoadImageMask", "LoadImageOutput", "VHS_LoadImagePath"]));
/** Widget name → which filter a loader's value feeds. */
export const MODEL_WIDGETS = Object.freeze({ ckpt_name: "model", unet_name: "model", model_name: "model", lora_name: "lora" });

/**
 * What a node offers, from its class and widgets (pure: tests/js/image_viewer_comfy.test.mjs).
 * @param {{comfyClass?: string, type?: string, widgets?: Array<{name: string, value: any}>}} node
 * @returns {{output: boolean, preview: boolean, loadImage: boolean, model: {field: "model" | "lora", value: string} | null}}
 */
export function classifyNode(node) {
  const type = String(node?.comfyClass || node?.type || "");
  const widgets = Array.isArray(node?.widgets) ? node.widgets : [];
  const named = (/** @type {string} */ name) => widgets.find((w) => w && w.name === name);
  let model = null;
  for (const [name, field] of Object.entries(MODEL_WIDGETS)) {
    const widget = named(name);
    if (widget && typeof widget.value === "string" && widget.value && !/^none$/i.test(widget.value)) {
      model = { field: /** @type {"model" | "lora"} */ (field), value: widget.value };
      break;
    }
  }
  const saves = OUTPUT_NODES.has(type) || (!!named("filename_prefix") && !LOAD_IMAGE_NODES.has(type));
  return {
    output: saves && type !== "PreviewImage",
    preview: type === "PreviewImage",
    loadImage: LOAD_IMAGE_NODES.has(type) || (!!named("image") && !!named("upload")),
    model,
  };
}

/**
 * The gallery filters for "what this node wrote", from its `filename_prefix`
 * ("portraits/hero" → folder "portraits", names starting with "hero"). ComfyUI's
 * `%date:…%`-style tokens are cut off (they change every day).
 * @param {string | undefined} prefix
 * @returns {{folderPrefix: string, search: string}}
 */
export function outputFilters(prefix) {
  const clean = String(prefix || "").split("%")[0].replace(/\\/g, "/").replace(/^\/+/, "");
  const slash = clean.lastIndexOf("/");
  const folder = slash >= 0 ? clean.slice(0, slash) : "";
  const base = (slash >= 0 ? clean.slice(slash + 1) : clean).replace(/[_\-\s]+$/, "");
  return { folderPrefix: folder.replace(/\/+$/, ""), search: base };
}

/**
 * Relative output paths of the files a node showed last (its `images`/`gifs` outputs).
 * @param {any} outputs `app.nodeOutputs[id]` or `node.images`
 * @returns {string[]}
 */
export function outputPaths(outputs) {
  const lists = Array.isArray(outputs) ? [outputs] : outputs && typeof outputs === "object"
    ? Object.values(outputs).filter(Array.isArray) : [];
  const paths = [];
  for (const list of lists) {
    for (const entry of list) {
      if (!entry || typeof entry.filename !== "string" || (entry.type && entry.type !== "output")) continue;
      const sub = String(entry.subfolder || "").replace(/\\/g, "/").replace(/^\/+|\/+$/g, "");
      paths.push(sub ? `${sub}/${entry.filename}` : entry.filename);
    }
  }
  return paths;
}

/**
 * @param {object} options
 * @param {any} options.app ComfyUI's app (from holaf_main.js)
 * @param {HolafHost} options.host the ComfyUI host
 */
export function createComfyIntegration({ app, host }) {
  const usesNodeMenuHook = typeof app?.collectNodeMenuItems === "function";
  const pool = new ListenerPool();
  /** @type {(() => void) | null} */
  let destroySidebar = null;

  /** @param {any} node */
  const lastOutputs = (node) => {
    const byId = app?.nodeOutputs?.[node?.id] ?? app?.nodeOutputs?.[String(node?.id)];
    return outputPaths(byId || node?.images || []);
  };

  /** @param {any} node */
  async function showOutputs(node) {
    const kind = classifyNode(node);
    if (kind.preview) {
      host.toasts.info("Preview Image keeps its pictures in ComfyUI's temp folder, which the Image Viewer does not index. Use Save Image to keep them.");
      return;
    }
    const prefix = (node.widgets || []).find((/** @type {any} */ w) => w.name === "filename_prefix")?.value;
    const { folderPrefix, search } = outputFilters(prefix);
    const recent = lastOutputs(node);
    await openImageViewer(host, {
      filters: {
        folderPrefix, search, scopes: { name: true, prompt: false, workflow: false }, trashcan: false,
        excludedFolders: [], excludedFormats: [], sort: "newest",
      },
      path: recent[0],
    });
  }

  /** @param {any} node */
  async function pickFor(node) {
    const label = `${node.title || node.type || "Load Image"} #${node.id}`;
    const item = await pickImage(host, label);
    if (item) await useImageOnNode(node, item.path);
  }

  /**
   * Copies an output image into the input folder (when needed) and sets it on the node.
   * @param {any} node
   * @param {string} path
   */
  async function useImageOnNode(node, path) {
    let answer;
    try {
      answer = await host.fetchJson("/holaf/images/copy-to-input", { method: "POST", body: { path } });
    } catch (error) {
      host.toasts.error(`Could not use ${path.split("/").pop()}: ${/** @type {any} */ (error)?.message || error}`);
      return false;
    }
    const value = answer.subfolder ? `${answer.subfolder}/${answer.name}` : answer.name;
    const widget = (node.widgets || []).find((/** @type {any} */ w) => w.name === "image");
    if (!widget) {
      host.toasts.error(`${node.title || node.type} has no image field.`);
      return false;
    }
    const values = widget.options?.values;
    if (Array.isArray(values) && !values.includes(value)) values.push(value);
    widget.value = value;
    try { widget.callback?.(value, app?.canvas, node); } catch (error) { console.warn("[Holaf] the image widget callback failed", error); }
    node.setDirtyCanvas?.(true, true);
    app?.graph?.setDirtyCanvas?.(true, true);
    host.toasts.success(`${node.title || node.type} now uses ${value}${answer.copied ? " (copied into the input folder)" : ""}.`);
    return true;
  }

  /**
   * Menu items for a node (`null` = separator), in the shape both hooks take.
   * @param {any} node
   */
  function nodeMenuItems(node) {
    if (!node) return [];
    const kind = classifyNode(node);
    const items = [];
    if (kind.output || kind.preview) items.push({ content: "Show outputs in Image Viewer", callback: () => { showOutputs(node); } });
    if (kind.loadImage) items.push({ content: "Pick from Image Viewer", callback: () => { pickFor(node); } });
    if (kind.model) {
      const model = kind.model;
      items.push({ content: "Find images made with this model", callback: () => { openImageViewer(host, { byModel: model }); } });
    }
    return items.length ? [null, ...items] : [];
  }

  /**
   * Old frontends: chain the node type's getExtraMenuOptions (original first).
   * @param {any} nodeType
   */
  function wrapNodeMenu(nodeType) {
    if (usesNodeMenuHook || !nodeType?.prototype) return;
    const original = nodeType.prototype.getExtraMenuOptions;
    nodeType.prototype.getExtraMenuOptions = function holafViewerMenu(/** @type {any} */ canvas, /** @type {any[]} */ options) {
      const result = original ? original.apply(this, arguments) : undefined;
      try {
        if (Array.isArray(options)) options.push(...nodeMenuItems(this));
      } catch (error) {
        console.error("[Holaf] node menu items failed", error);
      }
      return result;
    };
  }

  /** The node under a drop point, if any (litegraph API, feature-detected). @param {DragEvent} event */
  function nodeAt(event) {
    const canvas = app?.canvas;
    if (!canvas || typeof canvas.convertEventToCanvasOffset !== "function") return null;
    const [x, y] = canvas.convertEventToCanvasOffset(event);
    const graph = canvas.graph || app.graph;
    return graph?.getNodeOnPos?.(x, y, canvas.visible_nodes) || null;
  }

  /** @param {DragEvent} event */
  function isOurDrag(event) {
    return !!event.dataTransfer && [...event.dataTransfer.types].includes(DRAG_MIME);
  }

  /**
   * The drop lands on the graph: the canvas itself, or something drawn over it for a
   * node (a DOM widget such as Load Image's preview, a Vue node on new frontends).
   * @param {DragEvent} event
   */
  function overCanvas(event) {
    const el = app?.canvas?.canvas || app?.canvasEl;
    const target = /** @type {HTMLElement | null} */ (event.target instanceof HTMLElement ? event.target : null);
    if (!el || !target) return false;
    if (target === el) return true;
    if (target.closest(".holaf-panel, .holaf-iv-fullscreen, .holaf-iv-sidebar, .holaf-dialog-overlay")) return false;
    return !!target.closest(".dom-widget, .comfy-img-preview, .lg-node, [data-node-id]");
  }

  /** @param {DragEvent} event */
  async function onDrop(event) {
    if (!isOurDrag(event) || !overCanvas(event)) return;
    event.preventDefault();
    event.stopImmediatePropagation();
    let data;
    try {
      data = JSON.parse(event.dataTransfer?.getData(DRAG_MIME) || "{}");
    } catch {
      return;
    }
    if (typeof data.path !== "string") return;
    const node = nodeAt(event);
    if (node && classifyNode(node).loadImage) {
      await useImageOnNode(node, data.path);
      return;
    }
    let meta;
    try {
      meta = await host.fetchJson(`/holaf/images/metadata?path=${encodeURIComponent(data.path)}`);
    } catch (error) {
      host.toasts.error(`Cannot read ${data.name || data.path}: ${/** @type {any} */ (error)?.message || error}`);
      return;
    }
    if (!meta?.workflow) {
      host.toasts.info(`${data.name || data.path} has no workflow to load.`);
      return;
    }
    const ok = await confirmDialog({
      title: "Load workflow",
      message: `Load the workflow of "${data.name || data.path}"? It replaces the current workflow (unsaved changes are lost).`,
      confirmLabel: "Load workflow",
    });
    if (!ok) return;
    try {
      const result = await host.loadWorkflow(meta.workflow, { name: data.name });
      if (!result?.ok) host.toasts.error(bridgeProblem(result));
    } catch (error) {
      host.toasts.error(`Could not load the workflow: ${/** @type {any} */ (error)?.message || error}`);
    }
  }

  function setup() {
    pool.add(window, "dragover", (event) => {
      const e = /** @type {DragEvent} */ (event);
      if (!isOurDrag(e) || !overCanvas(e)) return;
      e.preventDefault();
      if (e.dataTransfer) e.dataTransfer.dropEffect = "copy";
    }, true);
    pool.add(window, "drop", (event) => { onDrop(/** @type {DragEvent} */ (event)); }, true);
    const manager = app?.extensionManager;
    if (typeof manager?.registerSidebarTab === "function") {
      try {
        manager.registerSidebarTab({
          id: SIDEBAR_ID,
          icon: "pi pi-images",
          title: "Holaf Images",
          tooltip: "Recent outputs (Holaf Image Viewer)",
          label: "Images",
          type: "custom",
          render: (/** @type {HTMLElement} */ container) => {
            destroySidebar?.();
            destroySidebar = mountSidebar(container, host, {
              onOpen: (item) => { openImageViewer(host, { path: item.path }); },
              onOpenViewer: () => { openImageViewer(host); },
            });
          },
          destroy: () => {
            destroySidebar?.();
            destroySidebar = null;
          },
        });
      } catch (error) {
        console.error("[Holaf] the Image Viewer sidebar tab could not be registered", error);
      }
    }
  }

  return {
    usesNodeMenuHook,
    nodeMenuItems,
    wrapNodeMenu,
    setup,
    useImageOnNode,
    destroy() {
      destroySidebar?.();
      pool.removeAll();
    },
  };
}
