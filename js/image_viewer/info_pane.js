/**
 * The right pane: what the active image is (name, folder, size, dimensions or duration,
 * date, generator), the parsed generation parameters with copy buttons (positive and
 * negative prompt, model, LoRAs, seed, steps, cfg, sampler…), its workflow (Load into
 * the current tab or a new workflow tab, Copy, Queue this prompt again), and its tags
 * and rating, editable. Metadata is fetched per image with an AbortController; an
 * answer for an image the user already left is dropped. Every value is set as text.
 * No side effects at import.
 * @module image_viewer/info_pane
 */
import { ListenerPool } from "../common/events.js";
import { el } from "../common/dom.js";
import { icon } from "./icons.js";

/**
 * @typedef {import("./paging.js").ListItem} ListItem
 * @typedef {object} ImageMetadata  `GET /holaf/images/metadata`
 * @property {object | null} prompt API graph
 * @property {object | null} workflow UI graph
 * @property {Record<string, any>} parameters
 * @property {Record<string, string>} sources
 * @property {string | null} error
 * @property {string[]} tags
 * @property {number} rating
 * @property {string | null} generator
 * @property {Record<string, any>} file
 */

/**
 * @param {number | null | undefined} bytes
 */
export function formatBytes(bytes) {
  if (typeof bytes !== "number" || !Number.isFinite(bytes)) return "";
  if (bytes < 1024) return `${bytes} B`;
  const units = ["KB", "MB", "GB", "TB"];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(value < 10 ? 2 : 1)} ${units[unit]}`;
}

/** @param {number | null | undefined} seconds */
export function formatDuration(seconds) {
  if (typeof seconds !== "number" || !Number.isFinite(seconds)) return "";
  const total = Math.round(seconds * 10) / 10;
  const m = Math.floor(total / 60);
  const s = total - m * 60;
  return m ? `${m}:${s.toFixed(1).padStart(4, "0")}` : `${s.toFixed(1)} s`;
}

/**
 * Copies text to the clipboard (also on plain-http LAN pages, where the async API is missing).
 * @param {string} text
 */
export async function copyText(text) {
  if (navigator.clipboard?.writeText && window.isSecureContext) {
    try {
      await navigator.clipboard.writeText(text);
      return true;
    } catch { /* fall back */ }
  }
  const area = el("textarea", { attrs: { readonly: true }, style: { position: "fixed", top: "-1000px", opacity: "0" } });
  area.value = text;
  document.body.appendChild(area);
  area.select();
  let ok = false;
  try { ok = document.execCommand("copy"); } catch { ok = false; }
  area.remove();
  return ok;
}

const SOURCE_LABELS = { embedded: "embedded", sidecar_txt: "from .txt", sidecar_json: "from .json", none: "", error: "unreadable" };

export class InfoPane {
  /**
   * @param {object} options
   * @param {(path: string, signal: AbortSignal) => Promise<ImageMetadata>} options.fetchMetadata
   * @param {(meta: ImageMetadata, item: ListItem, options: {newTab: boolean}) => void} options.onLoadWorkflow
   * @param {(meta: ImageMetadata, item: ListItem) => void} options.onQueuePrompt
   * @param {(item: ListItem, rating: number) => void} options.onRate
   * @param {(item: ListItem, change: {add?: string[], remove?: string[]}) => void} options.onTags
   * @param {(message: string, type?: "success" | "error") => void} options.notify
   * @param {boolean} options.canUseComfy Load/Queue buttons make sense (inside ComfyUI or with a ComfyUI tab)
   */
  constructor(options) {
    this.o = options;
    this.pool = new ListenerPool();
    /** @type {ListItem | null} */
    this.item = null;
    /** @type {ImageMetadata | null} */
    this.meta = null;
    this._request = 0;
    this._controller = /** @type {AbortController | null} */ (null);
    this.body = el("div", { className: "holaf-iv-info-body" });
    this.element = el("aside", {
      className: "holaf-iv-right", testid: "holaf-info", attrs: { "aria-label": "Image information" },
      children: [el("h3", { className: "holaf-iv-section-title", text: "Information" }), this.body],
    });
    this.showNothing();
  }

  showNothing(text = "Select an image to see its details.") {
    this._request++;
    this._controller?.abort();
    this.item = null;
    this.meta = null;
    this.body.replaceChildren(el("p", { className: "holaf-iv-muted", text }));
  }

  /**
   * Shows an image: its list fields at once, the metadata when it arrives.
   * @param {ListItem | null} item
   */
  show(item) {
    if (!item) return this.showNothing();
    if (this.item?.path === item.path && this.item.version === item.version && this.meta) {
      this.item = item;
      this._render();
      return;
    }
    this._request++;
    const request = this._request;
    this._controller?.abort();
    const controller = new AbortController();
    this._controller = controller;
    this.item = item;
    this.meta = null;
    this._render();
    this.o.fetchMetadata(item.path, controller.signal).then((meta) => {
      if (request !== this._request) return;
      this.meta = meta;
      this._render();
    }, (error) => {
      if (request !== this._request || controller.signal.aborted) return;
      this.meta = null;
      this._render(error?.message || String(error));
    });
  }

  /** Re-renders after the item's fields changed (rating, tags). */
  update(item) {
    if (!this.item || item.path !== this.item.path) return;
    this.item = item;
    this._render();
  }

  /**
   * @param {string} [error]
   */
  _render(error) {
    const item = /** @type {ListItem} */ (this.item);
    const meta = this.meta;
    const file = meta?.file || {};
    const width = file.width ?? item.width;
    const height = file.height ?? item.height;
    const duration = file.duration ?? item.duration;
    const rows = [
      ["Name", item.name, "name"],
      ["Folder", item.folder || "(root)", "folder"],
      item.original_path ? ["Was in", item.original_path, "original"] : null,
      ["Size", formatBytes(item.size), "size"],
      ["Format", String(item.format || item.ext || "").toUpperCase(), "format"],
      width && height ? ["Dimensions", `${width} × ${height}`, "dimensions"] : null,
      duration ? ["Duration", `${formatDuration(duration)}${file.fps ? ` · ${Math.round(file.fps * 100) / 100} fps` : ""}`, "duration"] : null,
      ["Date", item.mtime ? new Date(item.mtime * 1000).toLocaleString() : "", "date"],
      meta?.generator ? ["Generator", meta.generator, "generator"] : null,
    ].filter(Boolean);
    const fileTable = el("dl", {
      className: "holaf-iv-fields",
      children: rows.flatMap((row) => {
        const [label, value, key] = /** @type {[string, string, string]} */ (row);
        return [el("dt", { text: label }), el("dd", { text: value, testid: `holaf-info-${key}` })];
      }),
    });
    /** @type {HTMLElement[]} */
    const parts = [fileTable];
    if (item.error || meta?.error) {
      parts.push(el("p", { className: "holaf-iv-warning", testid: "holaf-info-error", text: `⚠ ${meta?.error || item.error}` }));
    }
    parts.push(this._ratingRow(item, meta));
    parts.push(this._tagsBlock(item, meta));
    if (error) {
      parts.push(el("p", { className: "holaf-iv-warning", text: `Metadata unavailable: ${error}` }));
    } else if (!meta) {
      parts.push(el("p", { className: "holaf-iv-muted", testid: "holaf-info-loading", text: "Reading metadata…" }));
    } else {
      parts.push(this._parameters(meta));
      parts.push(this._workflow(meta, item));
    }
    this.body.replaceChildren(...parts);
  }

  /**
   * @param {string} label
   * @param {string} value
   * @param {string} key testid suffix
   * @param {{multiline?: boolean, source?: string}} [options]
   */
  _copyField(label, value, key, options = {}) {
    const copy = el("button", { className: "holaf-iv-copy", children: [icon("copy", 12)], testid: `holaf-copy-${key}`, attrs: { type: "button", title: `Copy ${label.toLowerCase()}`, "aria-label": `Copy ${label.toLowerCase()}` } });
    copy.addEventListener("click", async () => {
      const ok = await copyText(value);
      this.o.notify(ok ? `${label} copied.` : `Could not copy the ${label.toLowerCase()}.`, ok ? "success" : "error");
    });
    const source = options.source && SOURCE_LABELS[/** @type {"embedded"} */ (options.source)];
    return el("div", {
      className: ["holaf-iv-param", options.multiline ? "holaf-iv-param-long" : ""],
      children: [
        el("div", { className: "holaf-iv-param-head", children: [el("span", { className: "holaf-iv-param-label", text: label }), source ? el("span", { className: "holaf-iv-source", text: `(${source})` }) : null, copy] }),
        el("div", { className: "holaf-iv-param-value", text: value, testid: `holaf-info-${key}` }),
      ],
    });
  }

  /** @param {ImageMetadata} meta */
  _parameters(meta) {
    const p = meta.parameters || {};
    const block = el("section", { className: "holaf-iv-params", testid: "holaf-info-parameters" });
    const promptSource = meta.sources?.prompt;
    if (p.positive) block.appendChild(this._copyField("Positive prompt", String(p.positive), "positive", { multiline: true, source: promptSource }));
    if (p.negative) block.appendChild(this._copyField("Negative prompt", String(p.negative), "negative", { multiline: true }));
    const loras = Array.isArray(p.loras) ? p.loras.map((l) => (typeof l === "string" ? l : `${l.name ?? l.lora ?? "?"}${l.strength !== undefined && l.strength !== null ? ` (${l.strength})` : l.strength_model !== undefined ? ` (${l.strength_model})` : ""}`)).join(", ") : "";
    const simple = [
      ["Model", p.model, "model"],
      ["LoRAs", loras, "loras"],
      ["Seed", p.seed, "seed"],
      ["Steps", p.steps, "steps"],
      ["CFG", p.cfg, "cfg"],
      ["Sampler", p.sampler, "sampler"],
      ["Scheduler", p.scheduler, "scheduler"],
      ["Denoise", p.denoise, "denoise"],
      ["Size", p.width && p.height ? `${p.width} × ${p.height}` : "", "gensize"],
    ];
    for (const [label, value, key] of simple) {
      if (value === null || value === undefined || value === "") continue;
      block.appendChild(this._copyField(String(label), String(value), String(key)));
    }
    if (!block.childElementCount) {
      block.appendChild(el("p", { className: "holaf-iv-muted", testid: "holaf-info-no-parameters", text: "No generation parameters found in this file." }));
    }
    return block;
  }

  /**
   * @param {ImageMetadata} meta
   * @param {ListItem} item
   */
  _workflow(meta, item) {
    const hasWorkflow = !!meta.workflow && typeof meta.workflow === "object";
    const hasPrompt = !!meta.prompt && typeof meta.prompt === "object";
    const button = (/** @type {string} */ text, /** @type {string} */ testid, /** @type {boolean} */ enabled, /** @type {() => void} */ action, /** @type {string} */ title) => {
      const b = el("button", { className: "holaf-iv-button", text, testid, attrs: { type: "button", title } });
      b.disabled = !enabled;
      b.addEventListener("click", action);
      return b;
    };
    const comfy = this.o.canUseComfy;
    const source = meta.sources?.workflow && SOURCE_LABELS[/** @type {"embedded"} */ (meta.sources.workflow)];
    const nodes = hasWorkflow && Array.isArray(/** @type {any} */ (meta.workflow).nodes) ? /** @type {any} */ (meta.workflow).nodes.length : null;
    return el("section", {
      className: "holaf-iv-workflow", testid: "holaf-info-workflow",
      children: [
        el("div", {
          className: "holaf-iv-param-head",
          children: [el("span", { className: "holaf-iv-param-label", text: "Workflow" }), source ? el("span", { className: "holaf-iv-source", text: `(${source})` }) : null],
        }),
        el("p", { className: "holaf-iv-muted", text: hasWorkflow ? `${nodes ?? "?"} nodes` : hasPrompt ? "Only the API graph is stored (no UI workflow)." : "No workflow in this file." }),
        el("div", {
          className: "holaf-iv-button-row",
          children: [
            button("Load workflow", "holaf-load-workflow", hasWorkflow && comfy, () => this.o.onLoadWorkflow(meta, item, { newTab: false }), "Load this workflow into the ComfyUI tab (asks first)"),
            button("In new tab", "holaf-load-workflow-new", hasWorkflow && comfy, () => this.o.onLoadWorkflow(meta, item, { newTab: true }), "Open it as a new workflow tab in ComfyUI"),
            button("Copy", "holaf-copy-workflow", hasWorkflow, async () => {
              const ok = await copyText(JSON.stringify(meta.workflow, null, 2));
              this.o.notify(ok ? "Workflow copied (paste it on the ComfyUI canvas or save it as .json)." : "Could not copy the workflow.", ok ? "success" : "error");
            }, "Copy the workflow JSON"),
            button("Queue again", "holaf-queue-prompt", hasPrompt && comfy, () => this.o.onQueuePrompt(meta, item), "Queue this exact prompt (API graph) in ComfyUI"),
          ],
        }),
      ],
    });
  }

  /**
   * @param {ListItem} item
   * @param {ImageMetadata | null} meta
   */
  _ratingRow(item, meta) {
    const rating = Number(item.rating ?? meta?.rating ?? 0);
    const stars = [];
    for (let n = 1; n <= 5; n++) {
      const star = el("button", {
        className: ["holaf-iv-star", n <= rating ? "holaf-iv-star-on" : ""], text: n <= rating ? "★" : "☆",
        testid: "holaf-rating-star", dataset: { value: String(n) },
        attrs: { type: "button", title: n === rating ? "Clear the rating" : `${n} star${n > 1 ? "s" : ""}`, "aria-label": `${n} stars` },
      });
      star.addEventListener("click", () => this.o.onRate(item, n === rating ? 0 : n));
      stars.push(star);
    }
    return el("div", { className: "holaf-iv-rating-row", testid: "holaf-info-rating", dataset: { rating: String(rating) }, children: [el("span", { className: "holaf-iv-param-label", text: "Rating" }), ...stars] });
  }

  /**
   * @param {ListItem} item
   * @param {ImageMetadata | null} meta
   */
  _tagsBlock(item, meta) {
    const tags = /** @type {string[]} */ ((/** @type {any} */ (item).tags) || meta?.tags || []);
    const input = el("input", { className: "holaf-iv-input", testid: "holaf-info-tag-input", attrs: { type: "text", placeholder: "Add tag…", "aria-label": "Add a tag" } });
    input.addEventListener("keydown", (event) => {
      if (event.key !== "Enter") return;
      const tag = input.value.trim().toLowerCase();
      input.value = "";
      if (tag && !tags.includes(tag)) this.o.onTags(item, { add: [tag] });
    });
    const chips = tags.map((tag) => {
      const x = el("button", { className: "holaf-iv-chip-x", text: "×", attrs: { type: "button", "aria-label": `Remove tag ${tag}` } });
      x.addEventListener("click", () => this.o.onTags(item, { remove: [tag] }));
      return el("span", { className: "holaf-iv-chip", testid: "holaf-info-tag", dataset: { tag }, children: [tag, x] });
    });
    return el("div", { className: "holaf-iv-tags", children: [el("span", { className: "holaf-iv-param-label", text: "Tags" }), el("div", { className: "holaf-iv-chips", children: chips }), input] });
  }

  /** Tags changed on the server for the shown image. @param {string[]} tags */
  setTags(tags) {
    if (!this.item) return;
    /** @type {any} */ (this.item).tags = tags;
    if (this.meta) this.meta.tags = tags;
    this._render();
  }

  destroy() {
    this._request++;
    this._controller?.abort();
    this.pool.removeAll();
    this.element.remove();
  }
}
