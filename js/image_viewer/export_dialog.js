/**
 * The export dialog and the export job flow: choose formats and metadata, start a server
 * job, follow its progress in a toast (click it to cancel), then download the one file or
 * the one ZIP through a plain link (the browser streams it to disk: no in-memory blobs).
 *
 * ```js
 * import { openExportDialog } from "./image_viewer/export_dialog.js";
 * const status = await openExportDialog(host, {
 *   paths: selectedPaths,                       // output-relative paths
 *   beforeExport: () => editor.confirmLeave(),  // optional: save or discard unsaved edits first
 * });                                           // → the finished job status, or null if cancelled
 * ```
 *
 * The dialog is keyboard-driven: ↑/↓ move between its rows, ←/→ and Space inside a row,
 * Enter exports, Esc closes. Choices are remembered in `[ImageViewerUI] export_*`.
 * No side effects at import.
 * @module image_viewer/export_dialog
 */
import { openDialog } from "../common/dialog.js";
import { el, ensureStylesheet } from "../common/dom.js";

export const IMAGE_FORMATS = Object.freeze([
  { value: "png", label: "PNG" }, { value: "jpeg", label: "JPEG" }, { value: "webp", label: "WEBP" }, { value: "tiff", label: "TIFF" },
]);
export const VIDEO_FORMATS = Object.freeze([{ value: "mp4", label: "MP4 (H.264)" }, { value: "gif", label: "GIF" }]);
export const METADATA_MODES = Object.freeze([
  { value: "embed", label: "Embed in the file" }, { value: "sidecar", label: ".txt / .json beside it" }, { value: "strip", label: "Remove it" },
]);
export const MP4_PRESETS = Object.freeze(["ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow", "slower", "veryslow"]);
const VIDEO_EXTS = new Set(["mp4", "webm", "mkv", "mov", "avi", "m4v"]);
const FINISHED = new Set(["done", "failed", "cancelled", "downloaded"]);

/**
 * @typedef {object} ExportChoices
 * @property {string} imageFormat
 * @property {string} videoFormat
 * @property {"embed" | "sidecar" | "strip"} metadata
 * @property {boolean} applyEdits
 * @property {number} jpegQuality
 * @property {number} webpQuality
 * @property {boolean} webpLossless
 * @property {number} crf
 * @property {string} preset
 * @property {number} gifFps
 * @property {number} gifWidth 0 = the video's width
 */

/** Defaults, matching the server's settings. @returns {ExportChoices} */
export function defaultChoices() {
  return { imageFormat: "png", videoFormat: "mp4", metadata: "embed", applyEdits: true, jpegQuality: 95, webpQuality: 90,
    webpLossless: false, crf: 23, preset: "fast", gifFps: 15, gifWidth: 480 };
}

const SETTING_KEYS = /** @type {const} */ ({
  imageFormat: "export_image_format", videoFormat: "export_video_format", metadata: "export_metadata", applyEdits: "export_apply_edits",
  jpegQuality: "export_jpeg_quality", webpQuality: "export_webp_quality", webpLossless: "export_webp_lossless", crf: "export_mp4_crf",
  preset: "export_mp4_preset", gifFps: "export_gif_fps", gifWidth: "export_gif_width",
});

/** Remembered choices from the settings store (defaults where unknown). @param {any} settings */
export function choicesFromSettings(settings) {
  const choices = /** @type {any} */ (defaultChoices());
  for (const [name, key] of Object.entries(SETTING_KEYS)) {
    const value = settings?.get?.("ImageViewerUI", key);
    if (value !== undefined && value !== null) choices[name] = value;
  }
  return /** @type {ExportChoices} */ (choices);
}

/** @param {ExportChoices} choices */
export function choicesToSettings(choices) {
  /** @type {Record<string, any>} */
  const out = {};
  for (const [name, key] of Object.entries(SETTING_KEYS)) out[key] = /** @type {any} */ (choices)[name];
  return out;
}

/** "image" or "video" from a path's extension. @param {string} path */
export function kindOf(path) {
  const ext = path.split(".").pop()?.toLowerCase() || "";
  return VIDEO_EXTS.has(ext) ? "video" : "image";
}

/**
 * The body of `POST /holaf/images/export` for these paths and choices.
 * @param {string[]} paths @param {ExportChoices} choices
 */
export function buildExportRequest(paths, choices) {
  const hasImages = paths.some((p) => kindOf(p) === "image");
  const hasVideos = paths.some((p) => kindOf(p) === "video");
  /** @type {Record<string, any>} */
  const options = {};
  if (hasImages && choices.imageFormat === "jpeg") options.quality = choices.jpegQuality;
  if (hasImages && choices.imageFormat === "webp") {
    options.lossless = choices.webpLossless;
    if (!choices.webpLossless) options.quality = choices.webpQuality;
  }
  if (hasVideos && choices.videoFormat === "mp4") Object.assign(options, { crf: choices.crf, preset: choices.preset });
  if (hasVideos && choices.videoFormat === "gif") {
    options.fps = choices.gifFps;
    if (choices.gifWidth > 0) options.width = choices.gifWidth;
  }
  return {
    paths: [...paths],
    format: { image: choices.imageFormat, video: choices.videoFormat },
    options,
    metadata: choices.metadata,
    apply_edits: choices.applyEdits,
  };
}

/** @param {any} host @param {any} body */
export function startExport(host, body) {
  return host.fetchJson("/holaf/images/export", { method: "POST", body });
}

/** @param {any} host @param {string} job */
export function cancelExport(host, job) {
  return host.fetchJson(`/holaf/images/export/${encodeURIComponent(job)}`, { method: "DELETE" });
}

/**
 * Follows a job until it finishes: server push (`holaf.export.progress`) for prompt updates,
 * polling as the fallback that always works.
 * @param {any} host @param {string} job
 * @param {{onUpdate?: (status: any) => void, intervalMs?: number}} [options]
 * @returns {Promise<any>} the final status
 */
export function watchExport(host, job, options = {}) {
  const { onUpdate = () => {}, intervalMs = 700 } = options;
  return new Promise((resolve) => {
    let done = false;
    /** @type {any} */
    let timer = null;
    /** @type {(() => void) | null | undefined} */
    let unsubscribe = null;
    const finish = (status) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      unsubscribe?.();
      resolve(status);
    };
    const poll = async () => {
      if (done) return;
      try {
        const status = await host.fetchJson(`/holaf/images/export/${encodeURIComponent(job)}`);
        onUpdate(status);
        if (FINISHED.has(status.state)) return finish(status);
      } catch (error) {
        if (/** @type {any} */ (error)?.status === 404) return finish({ job, state: "failed", errors: [{ path: null, error: "the job is gone" }] });
      }
      timer = setTimeout(poll, intervalMs);
    };
    unsubscribe = host.onServerEvent?.("holaf.export.progress", (data) => {
      if (done || !data || data.job !== job) return;
      onUpdate({ ...data, partial: true });
      if (FINISHED.has(data.state)) { clearTimeout(timer); poll(); }
    });
    poll();
  });
}

/**
 * Saves the finished export through a temporary `<a download>`: the browser streams the
 * response to disk. @param {string} url @param {string | null} [name] @param {Document} [doc]
 */
export function triggerDownload(url, name = null, doc = document) {
  const link = doc.createElement("a");
  link.href = url;
  link.download = name || "";
  link.rel = "noopener";
  link.style.display = "none";
  doc.body.appendChild(link);
  link.click();
  link.remove();
}

/**
 * Starts the job, shows its progress in a toast (click to cancel), downloads the result,
 * and reports errors and warnings. Resolves with the final status.
 * @param {any} host @param {any} body
 */
export async function exportWithProgress(host, body) {
  const started = await startExport(host, body);
  const job = started.job;
  const toastId = `holaf-export-${job}`;
  const count = body.paths.length;
  host.toasts.show(`Exporting ${count} file(s)…`, {
    id: toastId, type: "info", title: "Export", progress: 0, duration: 0,
    onClick: () => { cancelExport(host, job).catch(() => {}); host.toasts.update(toastId, { message: "Cancelling…" }); },
  });
  const status = await watchExport(host, job, {
    onUpdate: (s) => {
      if (FINISHED.has(s.state)) return;
      const current = s.current ? ` — ${s.current}` : "";
      const label = s.state === "packing" ? "Packing the ZIP…" : `Exporting ${s.files_done ?? 0}/${s.files_total ?? count}${current}`;
      host.toasts.update(toastId, { message: `${label} (click to cancel)`, progress: typeof s.progress === "number" ? s.progress : -1 });
    },
  });
  host.toasts.dismiss(toastId);
  const errors = status.errors || [];
  const warnings = status.warnings || [];
  if (status.state === "done") {
    triggerDownload(host.apiUrl(status.download_url), status.download_name);
    const problems = errors.length ? ` ${errors.length} file(s) failed: ${errors.slice(0, 3).map((e) => `${e.path}: ${e.error}`).join("; ")}` : "";
    const notes = warnings.length ? ` Note: ${warnings.slice(0, 3).map((w) => `${w.path}: ${w.warning}`).join("; ")}` : "";
    host.toasts.show(`Downloading ${status.download_name}.${problems}${notes}`, {
      type: errors.length ? "warning" : "success", title: "Export ready", duration: errors.length || warnings.length ? 12000 : 5000,
    });
  } else if (status.state === "cancelled") {
    host.toasts.show("Export cancelled.", { type: "info" });
  } else {
    host.toasts.show(`Export failed: ${errors.map((e) => e.path ? `${e.path}: ${e.error}` : e.error).join("; ") || status.state}`, { type: "error", title: "Export" });
  }
  return status;
}

/**
 * @param {string} name @param {ReadonlyArray<{value: string, label: string}>} items @param {string} current
 * @param {string} legend @param {string} testid
 */
function radioRow(name, items, current, legend, testid) {
  const row = el("fieldset", { testid, children: [el("legend", { text: legend })] });
  for (const item of items) {
    const input = el("input", { testid: `${testid}-${item.value}`, attrs: { type: "radio", name, value: item.value } });
    input.checked = item.value === current;
    row.appendChild(el("label", { children: [input, item.label] }));
  }
  return row;
}

/** @param {HTMLElement} row @param {string} name */
function radioValue(row, name) {
  return /** @type {HTMLInputElement | null} */ (row.querySelector(`input[name="${name}"]:checked`))?.value;
}

/**
 * @param {string} label @param {string} testid @param {number} value @param {number} min @param {number} max
 */
function numberField(label, testid, value, min, max) {
  const input = el("input", { className: "holaf-input", testid, attrs: { type: "number", min, max, step: 1 } });
  input.value = String(value);
  return { input, label: el("label", { children: [label, input] }) };
}

/**
 * Opens the dialog; resolves with the finished job's status, or null when closed.
 * @param {any} host
 * @param {{paths: string[], beforeExport?: () => Promise<boolean> | boolean}} options
 */
export async function openExportDialog(host, options) {
  const paths = options.paths || [];
  if (!paths.length) return null;
  ensureStylesheet(new URL("../css/holaf_image_editor.css", import.meta.url).href, "image-editor");
  try { await host.settings?.load?.(); } catch { /* defaults then */ }
  const choices = choicesFromSettings(host.settings);
  const images = paths.filter((p) => kindOf(p) === "image").length;
  const videos = paths.length - images;

  const imageRow = radioRow("holaf-export-image", IMAGE_FORMATS, choices.imageFormat, `Images (${images})`, "holaf-export-image-format");
  const jpeg = numberField("Quality ", "holaf-export-jpeg-quality", choices.jpegQuality, 1, 100);
  const webp = numberField("Quality ", "holaf-export-webp-quality", choices.webpQuality, 1, 100);
  const lossless = el("input", { testid: "holaf-export-webp-lossless", attrs: { type: "checkbox" } });
  lossless.checked = choices.webpLossless;
  const losslessLabel = el("label", { children: [lossless, "Lossless"] });
  imageRow.append(jpeg.label, webp.label, losslessLabel);
  imageRow.hidden = images === 0;

  const videoRow = radioRow("holaf-export-video", VIDEO_FORMATS, choices.videoFormat, `Videos (${videos})`, "holaf-export-video-format");
  const crf = numberField("CRF ", "holaf-export-crf", choices.crf, 0, 51);
  const preset = el("select", { className: "holaf-input", testid: "holaf-export-preset", attrs: { "aria-label": "x264 preset" } });
  for (const name of MP4_PRESETS) preset.appendChild(el("option", { text: name, attrs: { value: name } }));
  preset.value = choices.preset;
  const presetLabel = el("label", { children: ["Preset ", preset] });
  const gifFps = numberField("FPS ", "holaf-export-gif-fps", choices.gifFps, 1, 50);
  const gifWidth = numberField("Width ", "holaf-export-gif-width", choices.gifWidth, 0, 4096);
  videoRow.append(crf.label, presetLabel, gifFps.label, gifWidth.label);
  videoRow.hidden = videos === 0;

  const metaRow = radioRow("holaf-export-meta", METADATA_MODES, choices.metadata, "Prompt and workflow", "holaf-export-metadata");
  const apply = el("input", { testid: "holaf-export-apply-edits", attrs: { type: "checkbox" } });
  apply.checked = choices.applyEdits;
  const editsRow = el("fieldset", { testid: "holaf-export-edits", children: [el("legend", { text: "Edits" }), el("label", { children: [apply, "Apply edits (otherwise export the originals)"] })] });
  const note = el("div", { className: "holaf-export-note", text: "Several files download as one ZIP. JPEG keeps at most 64 KB of metadata; bigger workflows go to sidecars." });
  const content = el("div", { className: "holaf-export", testid: "holaf-export-form", children: [imageRow, videoRow, metaRow, editsRow, note] });

  const sync = () => {
    const imageFormat = radioValue(imageRow, "holaf-export-image");
    const videoFormat = radioValue(videoRow, "holaf-export-video");
    jpeg.label.hidden = imageFormat !== "jpeg";
    webp.label.hidden = imageFormat !== "webp";
    losslessLabel.hidden = imageFormat !== "webp";
    webp.input.disabled = lossless.checked;
    crf.label.hidden = presetLabel.hidden = videoFormat !== "mp4";
    gifFps.label.hidden = gifWidth.label.hidden = videoFormat !== "gif";
  };
  content.addEventListener("change", sync);
  sync();
  content.addEventListener("keydown", (event) => {
    if (event.key !== "ArrowUp" && event.key !== "ArrowDown") return;
    const target = /** @type {HTMLElement} */ (event.target);
    if (target instanceof HTMLSelectElement || (target instanceof HTMLInputElement && target.type === "number")) return;
    const rows = [...content.querySelectorAll("fieldset")].filter((row) => !row.hidden);
    const at = rows.findIndex((row) => row.contains(target));
    const next = rows[at + (event.key === "ArrowDown" ? 1 : -1)];
    if (at < 0 || !next) return;
    event.preventDefault();
    const focusable = /** @type {HTMLElement | null} */ (next.querySelector("input:checked, input:not([type=radio]):not([disabled]), select"));
    focusable?.focus();
  });

  /** @returns {ExportChoices | string} */
  const read = () => {
    const ints = [[jpeg.input, 1, 100, "JPEG quality"], [webp.input, 1, 100, "WEBP quality"], [crf.input, 0, 51, "CRF"],
      [gifFps.input, 1, 50, "GIF FPS"], [gifWidth.input, 0, 4096, "GIF width"]];
    for (const [input, min, max, label] of ints) {
      const value = Number(/** @type {HTMLInputElement} */ (input).value);
      if (!Number.isInteger(value) || value < /** @type {number} */ (min) || value > /** @type {number} */ (max)) return `${label} must be a whole number from ${min} to ${max}.`;
    }
    return {
      imageFormat: radioValue(imageRow, "holaf-export-image") || "png",
      videoFormat: radioValue(videoRow, "holaf-export-video") || "mp4",
      metadata: /** @type {any} */ (radioValue(metaRow, "holaf-export-meta") || "embed"),
      applyEdits: apply.checked,
      jpegQuality: Number(jpeg.input.value), webpQuality: Number(webp.input.value), webpLossless: lossless.checked,
      crf: Number(crf.input.value), preset: preset.value, gifFps: Number(gifFps.input.value), gifWidth: Number(gifWidth.input.value),
    };
  };

  /** @type {ExportChoices | null} */
  let chosen = null;
  const dialog = openDialog({
    title: `Export ${paths.length} file(s)`, testid: "holaf-export-dialog", content,
    buttons: [
      { label: "Cancel", value: null, kind: "cancel", testid: "holaf-export-cancel" },
      { label: "Export", value: "export", kind: "primary", testid: "holaf-export-start", action: (d) => {
        const result = read();
        if (typeof result === "string") { d.setStatus(result); return false; }
        host.settings?.queue?.("ImageViewerUI", choicesToSettings(result));
        chosen = result;
        return true;
      } },
    ],
  });
  const first = /** @type {HTMLElement | null} */ (content.querySelector("fieldset:not([hidden]) input:checked"));
  first?.focus();
  if ((await dialog.result) !== "export" || !chosen) return null;
  if (options.beforeExport && (await options.beforeExport()) === false) return null;
  return exportWithProgress(host, buildExportRequest(paths, chosen));
}
