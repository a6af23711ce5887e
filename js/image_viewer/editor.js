/**
 * The edit panel of the Image Viewer (right column of the zoom view), as a component the
 * gallery mounts. It owns the controls and the saving ({@link EditSession}); the gallery owns
 * the media elements and tells the editor which ones show the active image.
 *
 * ```js
 * import { mountEditor } from "./image_viewer/editor.js";
 * const editor = mountEditor(rightColumn, {
 *   host,                                   // the HolafHost
 *   getPreviewTargets: () => [zoomImg, fullscreenImg].filter(Boolean), // <img>/<video> of the active file
 *   getSelection: () => selectedPaths,      // for "Apply to selection" (optional)
 *   onSaved: (path, reply) => refreshTile(path, reply.thumbnail_version, reply.has_edits),
 * });
 * await editor.setImage({ path: "2024/a.png", kind: "image" });   // flushes the previous image first
 * editor.refreshPreview();                  // after the gallery swapped a media element
 * if (await editor.confirmLeave()) navigate(); // unsaved-change prompt when auto-save is off
 * editor.destroy();
 * ```
 *
 * Preview: whole-image controls become the element's CSS `filter`; with tonal-range controls
 * an image shows a canvas render (at most 1920 px, same math as export) through a blob URL
 * while the original `src` is kept in `data-holaf-edit-original`; videos get `playbackRate`
 * (speed × target/native fps). "Compare" lays the untouched image over the left part of the
 * edited one, split at the mouse. Double-click a control row to reset it.
 * No side effects at import.
 * @module image_viewer/editor
 */
import { alertDialog, openDialog } from "../common/dialog.js";
import { el, ensureStylesheet } from "../common/dom.js";
import {
  CONTROL_TYPES, PLAYBACK_RATE, TARGET_FPS, TONE_LABELS, TONE_RANGES, applyToPixels, cloneEdits, effectivePlaybackRate,
  elementFilter, emptyEdits, formatControlValue, hasRangedControls, isNeutral, nextControlId, normalizeEdits, previewSize,
} from "./edit_preview.js";
import { EditSession, changeFps } from "./edit_session.js";

/**
 * @typedef {import("./edit_preview.js").Edits} Edits
 * @typedef {import("./edit_preview.js").EditControl} EditControl
 * @typedef {{path: string, kind?: string, url?: string}} EditorImage
 * @typedef {object} EditorOptions
 * @property {any} host HolafHost
 * @property {() => Array<HTMLImageElement | HTMLVideoElement>} [getPreviewTargets]
 * @property {() => string[]} [getSelection]
 * @property {(path: string, reply: any) => void} [onSaved]
 * @property {(path: string, newPath: string) => void} [onFileCreated] after "change frame rate"
 * @property {boolean} [autosave] default: the `ImageViewerUI.editor_autosave` setting (true)
 * @property {number} [autosaveDelayMs] default 500
 * @typedef {object} EditorHandle
 * @property {HTMLElement} element
 * @property {EditSession} session
 * @property {(image: EditorImage | null) => Promise<void>} setImage
 * @property {() => void} refreshPreview
 * @property {() => Promise<void>} flush
 * @property {() => Promise<boolean>} confirmLeave true when the caller may navigate
 * @property {() => Edits} getEdits
 * @property {() => boolean} isDirty
 * @property {() => void} copy
 * @property {(paths?: string[]) => Promise<void>} paste to the active image, or to `paths`
 * @property {() => void} destroy restores the media elements and sends a pending save
 */

const ORIGINAL_SRC = "holafEditOriginal";
/** Edits copied with Copy, shared by every editor of the page. @type {Edits | null} */
let clipboard = null;

/** @param {HTMLElement} node */
function stylesheetFor(node) {
  ensureStylesheet(new URL("../css/holaf_image_editor.css", import.meta.url).href, "image-editor", node.ownerDocument);
}

/**
 * @param {HTMLElement} container
 * @param {EditorOptions} options
 * @returns {EditorHandle}
 */
export function mountEditor(container, options) {
  const { host } = options;
  stylesheetFor(container);
  const getTargets = options.getPreviewTargets || (() => []);
  const autosaveSetting = host.settings?.get?.("ImageViewerUI", "editor_autosave", true);
  const session = new EditSession(host, {
    autosave: options.autosave ?? autosaveSetting !== false,
    delayMs: options.autosaveDelayMs ?? 500,
    onSaved: (path, reply) => options.onSaved?.(path, reply),
    onError: (path, error) => {
      const conflict = error?.status === 409;
      host.notify?.(conflict ? `Edits of ${path} were changed elsewhere; reload them to continue.` : `Could not save the edits of ${path}: ${error?.message || error}`,
        { type: "error", id: `holaf-edit-save-${path}` });
    },
    onChange: () => renderStatus(),
  });
  /** @type {EditorImage | null} */
  let image = null;
  let rangedJob = 0;
  /** @type {Map<HTMLImageElement, string>} blob URLs we put on images */
  const blobUrls = new Map();
  /** @type {(() => void) | null} */
  let detachCompare = null;

  const root = el("div", { className: "holaf-editor", testid: "holaf-editor" });
  const status = el("span", { className: "holaf-editor-status", testid: "holaf-editor-status" });
  const list = el("div", { className: "holaf-editor-controls", testid: "holaf-editor-controls" });
  const addType = el("select", { className: "holaf-input", testid: "holaf-editor-add-type", attrs: { "aria-label": "Control to add" } });
  for (const [type, spec] of Object.entries(CONTROL_TYPES)) addType.appendChild(el("option", { text: spec.label, attrs: { value: type } }));
  const addRange = el("select", { className: "holaf-input", testid: "holaf-editor-add-range", attrs: { "aria-label": "Tonal range" } });
  for (const range of TONE_RANGES) addRange.appendChild(el("option", { text: TONE_LABELS[range], attrs: { value: range } }));
  const addButton = el("button", { className: "holaf-button", text: "+ Add", testid: "holaf-editor-add", attrs: { type: "button" } });
  const videoBox = el("div", { className: "holaf-editor-video", testid: "holaf-editor-video", attrs: { hidden: true } });
  const speed = el("input", { testid: "holaf-editor-speed", attrs: { type: "range", min: PLAYBACK_RATE.min, max: PLAYBACK_RATE.max, step: PLAYBACK_RATE.step, "aria-label": "Playback speed" } });
  const speedValue = el("span", { className: "holaf-editor-value" });
  const fps = el("input", { className: "holaf-input", testid: "holaf-editor-fps", attrs: { type: "number", min: TARGET_FPS.min, max: TARGET_FPS.max, step: 1, placeholder: "native", "aria-label": "Target frame rate" } });
  const nativeFps = el("span", { className: "holaf-editor-muted", testid: "holaf-editor-native-fps" });
  const changeFpsButton = el("button", { className: "holaf-button", text: "New file at this frame rate…", testid: "holaf-editor-change-fps", attrs: { type: "button" } });
  videoBox.append(
    el("div", { className: "holaf-editor-row", children: [el("label", { text: "Speed" }), speed, speedValue] }),
    el("div", { className: "holaf-editor-row", children: [el("label", { text: "Play at" }), fps, el("span", { text: "fps" }), nativeFps] }),
    el("div", { className: "holaf-editor-row", children: [changeFpsButton] }),
  );
  const compare = el("input", { testid: "holaf-editor-compare", attrs: { type: "checkbox" } });
  const compareLabel = el("label", { className: "holaf-editor-check", children: [compare, " Compare before / after"] });
  const autosave = el("input", { testid: "holaf-editor-autosave", attrs: { type: "checkbox" } });
  autosave.checked = session.autosave;
  const saveButton = el("button", { className: "holaf-button holaf-button-primary", text: "Save", testid: "holaf-editor-save", attrs: { type: "button" } });
  const revertButton = el("button", { className: "holaf-button", text: "Revert", testid: "holaf-editor-revert", attrs: { type: "button" } });
  const resetButton = el("button", { className: "holaf-button", text: "Reset all", testid: "holaf-editor-reset", attrs: { type: "button" } });
  const copyButton = el("button", { className: "holaf-button", text: "Copy", testid: "holaf-editor-copy", attrs: { type: "button" } });
  const pasteButton = el("button", { className: "holaf-button", text: "Paste", testid: "holaf-editor-paste", attrs: { type: "button" } });
  const applyButton = el("button", { className: "holaf-button", text: "Apply to selection", testid: "holaf-editor-apply-selection", attrs: { type: "button" } });
  // One fieldset: disabling it while an image's edits load disables every control at once.
  const fields = el("fieldset", { className: "holaf-editor-fields", testid: "holaf-editor-fields", children: [
    list,
    el("div", { className: "holaf-editor-row holaf-editor-add-row", children: [addType, addRange, addButton] }),
    videoBox,
    el("div", { className: "holaf-editor-row", children: [compareLabel] }),
    el("div", { className: "holaf-editor-buttons", children: [resetButton, copyButton, pasteButton, applyButton] }),
    el("div", { className: "holaf-editor-buttons", children: [revertButton, saveButton] }),
  ] });
  root.append(
    el("div", { className: "holaf-editor-header", children: [el("strong", { text: "Edits" }), status] }),
    fields,
    el("div", { className: "holaf-editor-row", children: [el("label", { className: "holaf-editor-check", children: [autosave, " Auto-save"] })] }),
  );
  container.appendChild(root);

  // ------------------------------------------------------------------ rendering
  function renderStatus() {
    const loading = session.loading;
    root.classList.toggle("holaf-editor-loading", loading || !image);
    fields.disabled = loading || !image;
    saveButton.hidden = session.autosave;
    revertButton.hidden = session.autosave;
    saveButton.disabled = revertButton.disabled = !session.dirty;
    pasteButton.disabled = !clipboard;
    const selection = options.getSelection?.() || [];
    applyButton.hidden = !options.getSelection;
    applyButton.disabled = selection.length === 0;
    applyButton.textContent = `Apply to selection (${selection.length})`;
    let text = "";
    if (!image) text = "No image";
    else if (loading) text = "Loading…";
    else if (session.saving) text = "Saving…";
    else if (session.dirty) text = session.autosave ? "Saving soon…" : "Unsaved changes";
    else text = session.edits.controls.length || session.edits.playbackRate !== 1 || session.edits.targetFps ? "Saved" : "Original";
    status.textContent = text;
    status.dataset.state = session.saving ? "saving" : session.dirty ? "dirty" : "clean";
  }

  function renderControls() {
    list.replaceChildren();
    const edits = session.edits;
    if (!edits.controls.length) list.appendChild(el("div", { className: "holaf-editor-muted", text: "No adjustments. Add one below." }));
    edits.controls.forEach((control, index) => list.appendChild(controlRow(control, index)));
    const isVideo = image?.kind === "video";
    videoBox.hidden = !isVideo;
    compareLabel.hidden = isVideo;
    speed.value = String(edits.playbackRate);
    speedValue.textContent = `${edits.playbackRate.toFixed(1)}×`;
    fps.value = edits.targetFps ? String(edits.targetFps) : "";
    const native = session.info?.video?.fps;
    nativeFps.textContent = native ? `(native ${Math.round(native * 100) / 100})` : "";
    renderStatus();
  }

  /** @param {EditControl} control @param {number} index */
  function controlRow(control, index) {
    const spec = CONTROL_TYPES[control.type];
    const slider = el("input", {
      testid: `holaf-editor-slider-${control.id}`,
      attrs: { type: "range", min: spec.min, max: spec.max, step: spec.step, "aria-label": `${spec.label} (${TONE_LABELS[control.range]})` },
    });
    slider.value = String(control.value);
    const value = el("span", { className: "holaf-editor-value", text: formatControlValue(control.type, control.value) });
    const range = el("select", { className: "holaf-input holaf-editor-range", testid: `holaf-editor-range-${control.id}`, attrs: { "aria-label": "Tonal range" } });
    for (const name of TONE_RANGES) range.appendChild(el("option", { text: TONE_LABELS[name], attrs: { value: name } }));
    range.value = control.range;
    const up = el("button", { className: "holaf-icon-button", text: "↑", attrs: { type: "button", title: "Move up", "aria-label": "Move up", disabled: index === 0 } });
    const down = el("button", { className: "holaf-icon-button", text: "↓", attrs: { type: "button", title: "Move down", "aria-label": "Move down", disabled: index === session.edits.controls.length - 1 } });
    const remove = el("button", { className: "holaf-icon-button", text: "×", testid: `holaf-editor-remove-${control.id}`, attrs: { type: "button", title: "Remove", "aria-label": "Remove" } });
    const row = el("div", {
      className: ["holaf-editor-control", isNeutral(control) ? "holaf-editor-neutral" : ""],
      testid: `holaf-editor-control-${control.id}`,
      attrs: { title: "Double-click to reset" },
      children: [
        el("div", { className: "holaf-editor-control-head", children: [el("span", { text: spec.label }), range, up, down, remove] }),
        el("div", { className: "holaf-editor-row", children: [slider, value] }),
      ],
    });
    slider.addEventListener("input", () => {
      const next = Number(slider.value);
      value.textContent = formatControlValue(control.type, next);
      change((edits) => { edits.controls[index].value = next; }, { rerender: false });
      row.classList.toggle("holaf-editor-neutral", next === spec.neutral);
    });
    range.addEventListener("change", () => change((edits) => { edits.controls[index].range = /** @type {any} */ (range.value); }));
    up.addEventListener("click", () => change((edits) => { edits.controls.splice(index - 1, 0, ...edits.controls.splice(index, 1)); }));
    down.addEventListener("click", () => change((edits) => { edits.controls.splice(index + 1, 0, ...edits.controls.splice(index, 1)); }));
    remove.addEventListener("click", () => change((edits) => { edits.controls.splice(index, 1); }));
    row.addEventListener("dblclick", (event) => {
      if (event.target instanceof HTMLSelectElement || event.target instanceof HTMLButtonElement) return;
      change((edits) => { edits.controls[index].value = spec.neutral; });
    });
    return row;
  }

  /**
   * One user change: edit a copy, hand it to the session (which saves THIS image), preview.
   * @param {(edits: Edits) => void} mutate
   */
  function change(mutate, { rerender = true } = {}) {
    if (!image || session.loading) return;
    const edits = cloneEdits(session.edits);
    mutate(edits);
    session.update(edits);
    if (rerender) renderControls();
    else renderStatus();
    refreshPreview();
  }

  // ------------------------------------------------------------------ preview
  function targets() {
    return getTargets().filter((node) => node instanceof HTMLImageElement || node instanceof HTMLVideoElement);
  }

  /** @param {HTMLImageElement} img */
  function restoreImage(img) {
    const original = img.dataset[ORIGINAL_SRC];
    if (original !== undefined) {
      if (img.src === blobUrls.get(img)) img.src = original;
      delete img.dataset[ORIGINAL_SRC];
    }
    const url = blobUrls.get(img);
    if (url) URL.revokeObjectURL(url);
    blobUrls.delete(img);
  }

  function refreshPreview() {
    const edits = session.edits;
    const ranged = hasRangedControls(edits.controls);
    for (const node of targets()) {
      node.style.filter = elementFilter(edits.controls);
      if (node instanceof HTMLVideoElement) {
        node.playbackRate = effectivePlaybackRate(edits, session.info?.video?.fps);
      } else if (!ranged) {
        restoreImage(node);
      }
    }
    if (ranged && image?.kind !== "video") renderRanged(edits);
    if (compare.checked && image?.kind !== "video") attachCompare();
  }

  /** Tonal ranges: a ≤1920 px canvas render of the original, shown through a blob URL. @param {Edits} edits */
  async function renderRanged(edits) {
    const job = ++rangedJob;
    const images = /** @type {HTMLImageElement[]} */ (targets().filter((n) => n instanceof HTMLImageElement));
    if (!images.length) return;
    const first = images[0];
    const source = first.dataset[ORIGINAL_SRC] ?? first.currentSrc ?? first.src;
    const picture = new Image();
    picture.decoding = "async";
    picture.src = source;
    try {
      await picture.decode();
    } catch {
      return;
    }
    if (job !== rangedJob) return;
    const size = previewSize(picture.naturalWidth, picture.naturalHeight);
    const canvas = document.createElement("canvas");
    canvas.width = size.width;
    canvas.height = size.height;
    const ctx = canvas.getContext("2d", { willReadFrequently: true });
    if (!ctx) return;
    ctx.drawImage(picture, 0, 0, size.width, size.height);
    const pixels = ctx.getImageData(0, 0, size.width, size.height);
    applyToPixels(pixels.data, edits.controls);
    ctx.putImageData(pixels, 0, 0);
    const blob = await new Promise((resolve) => canvas.toBlob(resolve));
    if (job !== rangedJob || !blob) return;
    for (const img of images) {
      if (img.dataset[ORIGINAL_SRC] === undefined) img.dataset[ORIGINAL_SRC] = img.currentSrc || img.src;
      const previous = blobUrls.get(img);
      const url = URL.createObjectURL(/** @type {Blob} */ (blob));
      blobUrls.set(img, url);
      img.src = url;
      if (previous) URL.revokeObjectURL(previous);
    }
  }

  function attachCompare() {
    detachCompare?.();
    detachCompare = null;
    const target = targets().find((n) => n instanceof HTMLImageElement);
    const parent = target?.parentElement;
    if (!target || !parent) return;
    const before = /** @type {HTMLImageElement} */ (target.cloneNode(false));
    before.removeAttribute("id");
    before.src = target.dataset[ORIGINAL_SRC] ?? target.currentSrc ?? target.src;
    before.style.filter = "none";
    before.dataset.testid = "holaf-editor-compare-before";
    before.classList.add("holaf-editor-compare-before");
    Object.assign(before.style, {
      position: "absolute", left: `${target.offsetLeft}px`, top: `${target.offsetTop}px`,
      width: `${target.offsetWidth}px`, height: `${target.offsetHeight}px`, pointerEvents: "none", margin: "0",
    });
    const line = el("div", { className: "holaf-editor-compare-line", testid: "holaf-editor-compare-line" });
    if (getComputedStyle(parent).position === "static") parent.style.position = "relative";
    parent.append(before, line);
    /** @param {number} fraction */
    const split = (fraction) => {
      const f = Math.min(1, Math.max(0, fraction));
      before.style.clipPath = `inset(0 ${(1 - f) * 100}% 0 0)`;
      line.style.left = `${target.offsetLeft + target.offsetWidth * f}px`;
      line.style.top = `${target.offsetTop}px`;
      line.style.height = `${target.offsetHeight}px`;
    };
    split(0.5);
    /** @param {MouseEvent} event */
    const follow = (event) => {
      const box = target.getBoundingClientRect();
      if (box.width) split((event.clientX - box.left) / box.width);
    };
    parent.addEventListener("mousemove", follow);
    detachCompare = () => {
      parent.removeEventListener("mousemove", follow);
      before.remove();
      line.remove();
    };
  }

  function clearPreview() {
    rangedJob += 1;
    detachCompare?.();
    detachCompare = null;
    for (const node of targets()) {
      node.style.filter = "";
      if (node instanceof HTMLVideoElement) node.playbackRate = 1;
      else restoreImage(node);
    }
    for (const img of [...blobUrls.keys()]) restoreImage(img);
  }

  // ------------------------------------------------------------------ actions
  addButton.addEventListener("click", () => change((edits) => {
    const type = /** @type {keyof typeof CONTROL_TYPES} */ (addType.value);
    edits.controls.push({ id: nextControlId(edits.controls), type, value: CONTROL_TYPES[type].neutral, range: /** @type {any} */ (addRange.value) });
  }));
  speed.addEventListener("input", () => {
    speedValue.textContent = `${Number(speed.value).toFixed(1)}×`;
    change((edits) => { edits.playbackRate = Number(speed.value); }, { rerender: false });
  });
  fps.addEventListener("change", () => change((edits) => {
    const value = fps.value === "" ? null : Number(fps.value);
    edits.targetFps = value === null || !Number.isFinite(value) ? null : Math.min(TARGET_FPS.max, Math.max(TARGET_FPS.min, value));
  }));
  compare.addEventListener("change", () => {
    if (compare.checked) attachCompare();
    else { detachCompare?.(); detachCompare = null; }
  });
  autosave.addEventListener("change", () => {
    session.autosave = autosave.checked;
    host.settings?.queue?.("ImageViewerUI", { editor_autosave: autosave.checked });
    if (autosave.checked && session.dirty) session.save().catch(() => {});
    renderStatus();
  });
  saveButton.addEventListener("click", () => session.save().catch(() => {}));
  revertButton.addEventListener("click", () => { session.revert(); renderControls(); refreshPreview(); });
  resetButton.addEventListener("click", () => {
    session.reset().catch(() => {});
    renderControls();
    refreshPreview();
  });
  copyButton.addEventListener("click", () => handle.copy());
  pasteButton.addEventListener("click", () => handle.paste());
  applyButton.addEventListener("click", async () => {
    const paths = (options.getSelection?.() || []).filter((p) => p !== image?.path);
    await session.flush().catch(() => {}); // the active image's own edits are saved too
    const results = await session.applyTo(paths, session.edits);
    const failed = results.filter((r) => r.status === "rejected").length;
    host.notify?.(failed ? `Edits applied to ${paths.length - failed} file(s); ${failed} failed.` : `Edits applied to ${paths.length} file(s).`,
      { type: failed ? "warning" : "success" });
  });
  changeFpsButton.addEventListener("click", () => askChangeFps());

  async function askChangeFps() {
    if (!image) return;
    const path = image.path;
    const fpsInput = el("input", { className: "holaf-input", testid: "holaf-change-fps-value", attrs: { type: "number", min: 1, max: 240, step: 1 } });
    fpsInput.value = String(session.edits.targetFps || 24);
    const audio = el("select", { className: "holaf-input", testid: "holaf-change-fps-audio" });
    audio.append(el("option", { text: "Drop the sound", attrs: { value: "drop" } }), el("option", { text: "Re-time the sound (re-encodes the audio only)", attrs: { value: "retime" } }));
    const content = el("div", { className: "holaf-editor-form", children: [
      el("label", { children: ["Frames per second ", fpsInput] }),
      el("label", { children: ["Sound ", audio] }),
    ] });
    const dialog = openDialog({
      title: "Change frame rate", testid: "holaf-change-fps-dialog",
      message: "Writes a new file beside this one with the same frames played at another rate (the video is not re-encoded).",
      content,
      buttons: [
        { label: "Cancel", value: null, kind: "cancel" },
        { label: "Create file", value: true, kind: "primary", testid: "holaf-change-fps-confirm", action: async (d) => {
          const value = Number(fpsInput.value);
          if (!Number.isFinite(value) || value < 1 || value > 240) { d.setStatus("Enter a frame rate between 1 and 240."); return false; }
          const reply = await changeFps(host, path, value, audio.value);
          host.notify?.(`Created ${reply.new_path}`, { type: "success" });
          options.onFileCreated?.(path, reply.new_path);
          return true;
        } },
      ],
    });
    await dialog.result;
  }

  // ------------------------------------------------------------------ handle
  /** @type {EditorHandle} */
  const handle = {
    element: root,
    session,
    async setImage(next) {
      clearPreview();
      compare.checked = false;
      image = next ? { ...next } : null;
      if (!image) {
        await session.flush().catch(() => {});
        session.target = null;
        renderControls();
        return;
      }
      const opening = session.open({ path: image.path, kind: image.kind });
      renderControls();
      try {
        const reply = await opening;
        if (reply === null) return; // another image was shown meanwhile
        if (reply.error) host.notify?.(`The edit file of ${image.path} is damaged: ${reply.error}`, { type: "warning" });
      } catch (error) {
        host.notify?.(`Could not load the edits of ${next?.path}: ${/** @type {any} */ (error)?.message || error}`, { type: "error" });
        return;
      }
      renderControls();
      refreshPreview();
    },
    refreshPreview,
    flush: () => session.flush().then(() => undefined),
    async confirmLeave() {
      if (session.autosave) {
        await session.flush().catch(() => {});
        return true;
      }
      if (!session.dirty) return true;
      const choice = await openDialog({
        title: "Unsaved edits", testid: "holaf-editor-leave-dialog",
        message: `The edits of ${image?.path} are not saved.`,
        cancelValue: "cancel",
        buttons: [
          { label: "Cancel", value: "cancel", kind: "cancel" },
          { label: "Discard changes", value: "discard", kind: "danger", testid: "holaf-editor-discard" },
          { label: "Save & continue", value: "save", kind: "primary", testid: "holaf-editor-save-continue" },
        ],
      }).result;
      if (choice === "save") {
        try {
          await session.save();
        } catch (error) {
          await alertDialog({ title: "Not saved", message: String(/** @type {any} */ (error)?.message || error) });
          return false;
        }
        return true;
      }
      if (choice === "discard") {
        session.revert();
        renderControls();
        refreshPreview();
        return true;
      }
      return false;
    },
    getEdits: () => cloneEdits(session.edits),
    isDirty: () => session.dirty,
    copy() {
      clipboard = cloneEdits(session.edits);
      host.notify?.("Edits copied.", { type: "info", duration: 1500 });
      renderStatus();
    },
    async paste(paths) {
      if (!clipboard) return;
      const copied = normalizeEdits(clipboard);
      if (!paths) {
        change((edits) => {
          edits.controls = copied.controls.map((c) => ({ ...c }));
          edits.playbackRate = copied.playbackRate;
          edits.targetFps = copied.targetFps;
        });
        return;
      }
      await session.applyTo(paths, copied);
    },
    destroy() {
      clearPreview();
      session.destroy();
      root.remove();
    },
  };
  renderControls();
  return handle;
}

/** For tests and the gallery: the edits currently on the shared clipboard. */
export function copiedEdits() {
  return clipboard ? cloneEdits(clipboard) : null;
}

export { emptyEdits };
