/**
 * Loading and saving the edits of the image on screen, without ever writing one image's
 * edits onto another (the earlier tool's auto-save did, when the user navigated mid-save).
 *
 * Every pending save carries its own path and a snapshot of the edits taken when the
 * change was made; switching images first flushes the old image's pending save to the
 * old path, and a load or save answer for an image that is no longer shown updates only
 * that image's bookkeeping. Saves of one path run one after another, each sending the
 * hash of the previous one (`base_hash`), so a stale tab gets 409 instead of overwriting
 * newer edits. No DOM, no side effects at import (unit-tested under node).
 * @module image_viewer/edit_session
 */
import { cloneEdits, editsEqual, emptyEdits, isEmptyEdits, normalizeEdits } from "./edit_preview.js";

/**
 * @typedef {import("./edit_preview.js").Edits} Edits
 * @typedef {{fetchJson: (path: string, options?: any) => Promise<any>}} ApiHost
 * @typedef {{path: string, kind?: "image" | "video" | string}} EditTarget
 */

/** @param {ApiHost} host @param {string} path */
export function loadEdits(host, path) {
  return host.fetchJson(`/holaf/images/load-edits?path=${encodeURIComponent(path)}`);
}

/** @param {ApiHost} host @param {string} path @param {Edits} edits @param {{baseHash?: string | null}} [options] */
export function saveEdits(host, path, edits, options = {}) {
  /** @type {any} */
  const body = { path, edits };
  if (options.baseHash !== undefined && options.baseHash !== null) body.base_hash = options.baseHash;
  return host.fetchJson("/holaf/images/save-edits", { method: "POST", body });
}

/** @param {ApiHost} host @param {string} path */
export function deleteEdits(host, path) {
  return host.fetchJson("/holaf/images/delete-edits", { method: "POST", body: { path } });
}

/** A new file at another frame rate (video copied, audio dropped or re-timed). @param {ApiHost} host */
export function changeFps(host, path, fps, audio = "drop") {
  return host.fetchJson("/holaf/images/change-fps", { method: "POST", body: { path, fps, audio } });
}

export class EditSession {
  /**
   * @param {ApiHost} host
   * @param {object} [options]
   * @param {number} [options.delayMs] auto-save delay after the last change (default 500)
   * @param {boolean} [options.autosave] default true
   * @param {(path: string, reply: any) => void} [options.onSaved] after every successful save/delete
   * @param {(path: string, error: any) => void} [options.onError]
   * @param {() => void} [options.onChange] state changed (dirty, saving, loaded)
   * @param {(fn: () => void, ms: number) => any} [options.setTimer]
   * @param {(id: any) => void} [options.clearTimer]
   */
  constructor(host, options = {}) {
    this.host = host;
    this.delayMs = options.delayMs ?? 500;
    this.autosave = options.autosave !== false;
    this.onSaved = options.onSaved || (() => {});
    this.onError = options.onError || (() => {});
    this.onChange = options.onChange || (() => {});
    this._setTimer = options.setTimer || ((fn, ms) => setTimeout(fn, ms));
    this._clearTimer = options.clearTimer || ((id) => clearTimeout(id));
    /** @type {EditTarget | null} */
    this.target = null;
    /** @type {Edits} */
    this.edits = emptyEdits();
    /** @type {any} the last load-edits answer of the current target */
    this.info = null;
    /** @type {Map<string, {saved: Edits, hash: string | null}>} what the server has, per path */
    this._known = new Map();
    /** @type {{path: string, edits: Edits} | null} */
    this._pending = null;
    this._timer = null;
    /** @type {Map<string, Promise<any>>} save chain per path */
    this._chains = new Map();
    this._serial = 0;
    this.saving = 0;
  }

  /** The shown image's edits are still on their way (changes are refused meanwhile). */
  get loading() {
    return this.target !== null && this.info === null;
  }

  /** True when the shown edits differ from what the server has for the shown image. */
  get dirty() {
    if (!this.target || this.loading) return false;
    const known = this._known.get(this.target.path);
    return !known || !editsEqual(known.saved, this.edits);
  }

  /**
   * Shows another image: the previous one's pending save is sent first (to its own path).
   * Resolves with the load answer, or null when another `open` replaced this one meanwhile.
   * @param {EditTarget} target
   */
  async open(target) {
    const serial = ++this._serial;
    const flushing = this.flush();
    this.target = { ...target };
    this.edits = emptyEdits();
    this.info = null;
    this.onChange();
    await flushing.catch(() => {});
    const reply = await loadEdits(this.host, target.path);
    const edits = normalizeEdits(reply.edits);
    this._known.set(target.path, { saved: cloneEdits(edits), hash: reply.hash ?? null });
    if (serial !== this._serial) return null; // the user moved on: this answer is not for the screen
    this.info = reply;
    this.edits = edits;
    this.onChange();
    return reply;
  }

  /**
   * The user changed something: keep it and (auto-save) schedule a save of THIS path.
   * @param {Edits} edits
   */
  update(edits) {
    if (!this.target || this.loading) return; // the controls are disabled until the image's own edits arrive
    this.edits = cloneEdits(edits);
    if (this.autosave) {
      this._pending = { path: this.target.path, edits: cloneEdits(edits) };
      if (this._timer !== null) this._clearTimer(this._timer);
      this._timer = this._setTimer(() => { this._timer = null; this.flush().catch(() => {}); }, this.delayMs);
    }
    this.onChange();
  }

  /** Sends the pending auto-save now (before navigating, closing, exporting). */
  flush() {
    if (this._timer !== null) {
      this._clearTimer(this._timer);
      this._timer = null;
    }
    const pending = this._pending;
    this._pending = null;
    if (!pending) return Promise.all([...this._chains.values()]).then(() => undefined);
    return this._enqueue(pending.path, pending.edits);
  }

  /** Saves the shown edits now (the Save button when auto-save is off). */
  save() {
    if (!this.target) return Promise.resolve(null);
    this._pending = null;
    return this._enqueue(this.target.path, cloneEdits(this.edits));
  }

  /** Back to what the server has (the Revert button). */
  revert() {
    if (!this.target) return;
    this._pending = null;
    const known = this._known.get(this.target.path);
    this.edits = known ? cloneEdits(known.saved) : emptyEdits();
    this.onChange();
  }

  /** Removes the image's edits on the server (Reset all). */
  reset() {
    if (!this.target) return Promise.resolve(null);
    this._pending = null;
    this.edits = emptyEdits();
    this.onChange();
    return this._enqueue(this.target.path, emptyEdits());
  }

  /**
   * Writes `edits` to several images (paste / apply to selection); each save is its own.
   * @param {string[]} paths @param {Edits} edits
   */
  applyTo(paths, edits) {
    return Promise.allSettled(paths.map((path) => this._enqueue(path, cloneEdits(edits))));
  }

  /** @param {string} path @param {Edits} edits */
  _enqueue(path, edits) {
    const previous = this._chains.get(path) || Promise.resolve();
    const run = previous.catch(() => {}).then(() => this._send(path, edits));
    const tail = run.catch(() => {}).then(() => {
      if (this._chains.get(path) === tail) this._chains.delete(path);
    });
    this._chains.set(path, tail);
    return run;
  }

  /** @param {string} path @param {Edits} edits */
  async _send(path, edits) {
    const known = this._known.get(path);
    if (known && editsEqual(known.saved, edits)) return null; // nothing new for the server
    this.saving += 1;
    this.onChange();
    try {
      const reply = isEmptyEdits(edits)
        ? await deleteEdits(this.host, path)
        : await saveEdits(this.host, path, edits, { baseHash: known ? known.hash ?? "" : undefined });
      const saved = normalizeEdits(reply.edits ?? edits);
      this._known.set(path, { saved, hash: reply.has_edits === false ? null : reply.hash ?? null });
      this.onSaved(path, reply);
      return reply;
    } catch (error) {
      this.onError(path, error);
      throw error;
    } finally {
      this.saving -= 1;
      this.onChange();
    }
  }

  /** Stops the timer; the pending change is sent (best effort). */
  destroy() {
    this.flush().catch(() => {});
  }
}
