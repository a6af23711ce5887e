/**
 * Actions on the selection (or on the image open in the zoom view): trash, restore,
 * permanent delete, empty the trashcan, move, rename, extract / inject metadata, rating,
 * tags and export. Destructive ones ask first. Removals are optimistic (the tiles go at
 * once) and roll back, per file, with a toast saying why when the server refuses; big
 * batches run in chunks behind a progress toast. Routes and shapes: the actions feature
 * (`{paths}` → per-file `results`, 207 on partial failure) and the index's tags/rating.
 * No side effects at import.
 * @module image_viewer/actions
 */
import { confirmDialog, openDialog, promptDialog } from "../common/dialog.js";

/**
 * @typedef {import("./paging.js").ListItem} ListItem
 * @typedef {{path: string, ok: boolean, status?: string, error?: string, new_path?: string | null}} FileResult
 */

export const CHUNK = 500;
const PROGRESS_FROM = 200;

/**
 * Splits per-file results into successes and failures; a missing result counts as failed.
 * @param {string[]} paths
 * @param {FileResult[]} results
 */
export function splitResults(paths, results) {
  const byPath = new Map(results.map((r) => [r.path, r]));
  const ok = [];
  const failed = [];
  for (const path of paths) {
    const r = byPath.get(path);
    if (r && r.ok) ok.push(r);
    else failed.push(r || { path, ok: false, error: "no answer for this file" });
  }
  return { ok, failed };
}

/**
 * A short human summary of failures: "2 files failed: a.png (exists), b.png (locked)…".
 * @param {FileResult[]} failed
 * @param {number} [max]
 */
export function failureSummary(failed, max = 3) {
  const names = failed.slice(0, max).map((r) => `${r.path.split("/").pop()} (${r.error || r.status || "failed"})`);
  const more = failed.length > max ? ` and ${failed.length - max} more` : "";
  return `${failed.length} file${failed.length > 1 ? "s" : ""} failed: ${names.join(", ")}${more}`;
}

export class ViewerActions {
  /**
   * @param {object} options
   * @param {import("../common/host.js").HolafHost} options.host
   * @param {import("./paging.js").PagedList} options.list
   * @param {import("./state.js").ViewerState} options.state
   * @param {() => void} options.afterChange refresh filter options / counts
   * @param {(item: ListItem) => void} [options.onItemChanged]
   */
  constructor(options) {
    this.host = options.host;
    this.list = options.list;
    this.state = options.state;
    this._afterChange = options.afterChange;
    this._onItemChanged = options.onItemChanged || (() => {});
  }

  _confirmTrash() {
    return this.host.settings.get("ImageViewerUI", "confirm_trash", true) !== false;
  }

  /** @param {number} n */
  _files(n) {
    return `${n} file${n === 1 ? "" : "s"}`;
  }

  /**
   * Posts `paths` to a per-file route in chunks, with a progress toast for big batches.
   * @param {string} route
   * @param {string[]} paths
   * @param {Record<string, any>} extra
   * @param {string} verb for the progress toast ("Moving to the trashcan")
   * @returns {Promise<FileResult[]>} throws only if the first chunk fails entirely
   */
  async _post(route, paths, extra, verb) {
    const toasts = this.host.toasts;
    const progressId = paths.length >= PROGRESS_FROM ? toasts.show(`${verb}: 0 / ${paths.length}`, { progress: 0, dismissible: false, duration: 0 }) : null;
    /** @type {FileResult[]} */
    const results = [];
    try {
      for (let i = 0; i < paths.length; i += CHUNK) {
        const chunk = paths.slice(i, i + CHUNK);
        try {
          const answer = await this.host.fetchJson(route, { method: "POST", body: { paths: chunk, ...extra } });
          results.push(...(answer?.results || []));
        } catch (error) {
          // a 207 is not an error for fetchJson; anything here failed the whole chunk
          const reason = /** @type {any} */ (error)?.message || String(error);
          if (i === 0 && paths.length <= CHUNK) throw error;
          results.push(...chunk.map((path) => ({ path, ok: false, error: reason })));
        }
        if (progressId) toasts.update(progressId, { message: `${verb}: ${Math.min(paths.length, i + CHUNK)} / ${paths.length}`, progress: Math.min(1, (i + CHUNK) / paths.length) });
      }
    } finally {
      if (progressId) toasts.dismiss(progressId);
    }
    return results;
  }

  /**
   * Removes paths from the list now; returns a rollback for the ones that failed.
   * @param {string[]} paths
   */
  _removeOptimistically(paths) {
    const removed = this.list.removePaths(paths);
    const selectionChanged = this.state.selection.remove(paths);
    if (selectionChanged) this.state.selectionChanged();
    return (/** @type {string[]} */ failedPaths) => {
      const failed = new Set(failedPaths);
      const back = removed.filter((r) => failed.has(r.item.path));
      if (back.length) this.list.restore(back);
    };
  }

  /**
   * Moves files to the trashcan (asks first unless the setting says not to).
   * @param {string[]} paths
   * @param {{ask?: boolean}} [options]
   * @returns {Promise<boolean>} false when cancelled
   */
  async trash(paths, options = {}) {
    if (!paths.length) return false;
    if (this.state.filters.trashcan) return this.deletePermanently(paths);
    if (options.ask !== false && this._confirmTrash()) {
      const ok = await confirmDialog({
        title: "Move to the trashcan",
        message: paths.length === 1 ? `Move "${paths[0].split("/").pop()}" to the trashcan?` : `Move ${this._files(paths.length)} to the trashcan?`,
        confirmLabel: "Move to trashcan",
      });
      if (!ok) return false;
    }
    const rollback = this._removeOptimistically(paths);
    let results;
    try {
      results = await this._post("/holaf/images/delete", paths, {}, "Moving to the trashcan");
    } catch (error) {
      rollback(paths);
      this.host.toasts.error(`Nothing was moved to the trashcan: ${/** @type {any} */ (error)?.message || error}`);
      return true;
    }
    const { ok, failed } = splitResults(paths, results);
    rollback(failed.map((r) => r.path));
    if (failed.length) this.host.toasts.error(`Some files stayed where they were. ${failureSummary(failed)}`);
    if (ok.length) {
      const trashed = ok.map((r) => r.new_path).filter(Boolean);
      this.host.toasts.success(`${this._files(ok.length)} moved to the trashcan.`, {
        duration: 6000,
        title: "Click to undo",
        onClick: () => { this.restore(/** @type {string[]} */ (trashed), { silentRemoval: true }); },
      });
    }
    this._afterChange();
    return true;
  }

  /**
   * Puts trashed files back where they were.
   * @param {string[]} paths paths inside trashcan/
   * @param {{silentRemoval?: boolean}} [options]
   */
  async restore(paths, options = {}) {
    if (!paths.length) return false;
    const rollback = this.state.filters.trashcan ? this._removeOptimistically(paths) : () => {};
    let results;
    try {
      results = await this._post("/holaf/images/restore", paths, {}, "Restoring");
    } catch (error) {
      rollback(paths);
      this.host.toasts.error(`Nothing was restored: ${/** @type {any} */ (error)?.message || error}`);
      return true;
    }
    const { ok, failed } = splitResults(paths, results);
    rollback(failed.map((r) => r.path));
    if (failed.length) this.host.toasts.error(`Some files could not be restored. ${failureSummary(failed)}`);
    if (ok.length && !options.silentRemoval) this.host.toasts.success(`${this._files(ok.length)} restored.`);
    else if (ok.length) this.host.toasts.success(`Undone: ${this._files(ok.length)} restored.`);
    this._afterChange();
    return true;
  }

  /**
   * Deletes files for good (asks first, always).
   * @param {string[]} paths
   */
  async deletePermanently(paths) {
    if (!paths.length) return false;
    const ok = await confirmDialog({
      title: "Delete permanently",
      message: `${paths.length === 1 ? `"${paths[0].split("/").pop()}"` : this._files(paths.length)} and ${paths.length === 1 ? "its" : "their"} sidecars will be deleted for good. This cannot be undone.`,
      confirmLabel: "Delete forever", danger: true,
    });
    if (!ok) return false;
    const rollback = this._removeOptimistically(paths);
    let results;
    try {
      results = await this._post("/holaf/images/delete-permanently", paths, { confirm: true }, "Deleting");
    } catch (error) {
      rollback(paths);
      this.host.toasts.error(`Nothing was deleted: ${/** @type {any} */ (error)?.message || error}`);
      return true;
    }
    const split = splitResults(paths, results);
    rollback(split.failed.map((r) => r.path));
    if (split.failed.length) this.host.toasts.error(`Some files were not deleted. ${failureSummary(split.failed)}`);
    if (split.ok.length) this.host.toasts.success(`${this._files(split.ok.length)} deleted.`);
    this._afterChange();
    return true;
  }

  /** Empties the trashcan (asks first). @param {number} count files in it */
  async emptyTrash(count) {
    const ok = await confirmDialog({
      title: "Empty the trashcan",
      message: `Delete the ${this._files(count)} in the trashcan for good? This cannot be undone.`,
      confirmLabel: "Empty trashcan", danger: true,
    });
    if (!ok) return false;
    const id = this.host.toasts.show("Emptying the trashcan…", { progress: -1, dismissible: false });
    try {
      const answer = await this.host.fetchJson("/holaf/images/empty-trashcan", { method: "POST", body: { confirm: true } });
      const failed = (answer?.results || []).filter((r) => !r.ok);
      if (this.state.filters.trashcan) this.list.reset(this.list.query);
      if (failed.length) this.host.toasts.error(`The trashcan was not emptied completely. ${failureSummary(failed)}`);
      else this.host.toasts.success("The trashcan is empty.");
    } catch (error) {
      this.host.toasts.error(`Could not empty the trashcan: ${/** @type {any} */ (error)?.message || error}`);
    } finally {
      this.host.toasts.dismiss(id);
      this._afterChange();
    }
    return true;
  }

  /**
   * Moves files to another folder under the output root.
   * @param {string[]} paths
   */
  async move(paths) {
    if (!paths.length) return false;
    const destination = await promptDialog({
      title: `Move ${this._files(paths.length)}`,
      label: "Destination folder (relative to the output folder; created if needed)",
      placeholder: "e.g. keep/best",
      confirmLabel: "Move",
      validate: (value) => (/(^|[\\/])\.\.([\\/]|$)/.test(value) || /^[\\/]|^[A-Za-z]:/.test(value) ? "Use a folder inside the output folder" : null),
    });
    if (destination === null) return false;
    const rollback = this._removeOptimistically(paths);
    let results;
    try {
      results = await this._post("/holaf/images/move", paths, { destination: destination.trim().replace(/^\/+|\/+$/g, ""), on_conflict: "rename" }, "Moving");
    } catch (error) {
      rollback(paths);
      this.host.toasts.error(`Nothing was moved: ${/** @type {any} */ (error)?.message || error}`);
      return true;
    }
    const { ok, failed } = splitResults(paths, results);
    rollback(failed.map((r) => r.path));
    if (failed.length) this.host.toasts.error(`Some files were not moved. ${failureSummary(failed)}`);
    if (ok.length) this.host.toasts.success(`${this._files(ok.length)} moved to ${destination || "the output folder"}.`);
    this._afterChange();
    return true;
  }

  /**
   * Renames one file (the extension stays).
   * @param {ListItem} item
   */
  async rename(item) {
    const dot = item.name.lastIndexOf(".");
    const stem = dot > 0 ? item.name.slice(0, dot) : item.name;
    const name = await promptDialog({
      title: "Rename", label: "New name (without the extension)", value: stem, confirmLabel: "Rename",
      validate: (value) => (!value.trim() ? "Type a name" : /[\\/]/.test(value) ? "A name cannot contain / or \\" : null),
    });
    if (name === null || name.trim() === stem) return false;
    try {
      const answer = await this.host.fetchJson("/holaf/images/rename", { method: "POST", body: { paths: [item.path], new_names: [name.trim()] } });
      const result = (answer?.results || [])[0];
      if (!result?.ok) throw new Error(result?.error || "refused");
      this.host.toasts.success(`Renamed to ${String(result.new_path || name).split("/").pop()}.`);
    } catch (error) {
      this.host.toasts.error(`Could not rename ${item.name}: ${/** @type {any} */ (error)?.message || error}`);
    }
    this._afterChange();
    return true;
  }

  /**
   * Extract (file → .txt/.json sidecars) or inject (sidecars → file) metadata; conflicts
   * (existing sidecars or embedded data) are listed and can be overwritten.
   * @param {"extract" | "inject"} kind
   * @param {string[]} paths
   */
  async metadataTool(kind, paths) {
    if (!paths.length) return false;
    const route = kind === "extract" ? "/holaf/images/extract-metadata" : "/holaf/images/inject-metadata";
    const verb = kind === "extract" ? "Extracting metadata" : "Injecting metadata";
    let results;
    try {
      results = await this._post(route, paths, { force: false }, verb);
    } catch (error) {
      this.host.toasts.error(`${verb} failed: ${/** @type {any} */ (error)?.message || error}`);
      return true;
    }
    const conflicts = results.filter((r) => r.status === "conflict");
    const failed = results.filter((r) => !r.ok && r.status !== "conflict");
    let done = results.filter((r) => r.ok).length;
    if (conflicts.length) {
      const overwrite = await confirmDialog({
        title: "Overwrite?",
        message: kind === "extract"
          ? `${this._files(conflicts.length)} already have .txt/.json sidecars. Overwrite them with the embedded metadata?`
          : `${this._files(conflicts.length)} already hold embedded metadata. Replace it with their sidecars?`,
        confirmLabel: "Overwrite", danger: true,
      });
      if (overwrite) {
        const again = await this._post(route, conflicts.map((r) => r.path), { force: true }, verb);
        done += again.filter((r) => r.ok).length;
        failed.push(...again.filter((r) => !r.ok));
      }
    }
    if (failed.length) this.host.toasts.error(`${verb}: ${failureSummary(failed)}`);
    if (done) this.host.toasts.success(`${verb}: ${this._files(done)} done.`);
    this._afterChange();
    return true;
  }

  /**
   * Sets the rating of many images (optimistic; rolls back on failure).
   * @param {string[]} paths
   * @param {number} rating 0..5
   */
  async setRating(paths, rating) {
    if (!paths.length) return;
    const before = new Map();
    for (const path of paths) {
      const index = this.list.indexOf(path);
      if (index >= 0) before.set(path, this.list.get(index)?.rating ?? 0);
      this.list.update(path, { rating });
    }
    this._notifyItems(paths);
    try {
      await this.host.fetchJson("/holaf/images/rating", { method: "POST", body: { paths, rating } });
    } catch (error) {
      for (const [path, value] of before) this.list.update(path, { rating: value });
      this._notifyItems(paths);
      this.host.toasts.error(`The rating was not saved: ${/** @type {any} */ (error)?.message || error}`);
    }
  }

  /**
   * Adds or removes tags on many images.
   * @param {string[]} paths
   * @param {{add?: string[], remove?: string[], set?: string[]}} change
   * @returns {Promise<Record<string, string[]> | null>} each image's tags afterwards
   */
  async changeTags(paths, change) {
    if (!paths.length) return null;
    try {
      const answer = await this.host.fetchJson("/holaf/images/tags", { method: "POST", body: { paths, ...change } });
      const tags = answer?.tags || {};
      for (const [path, list] of Object.entries(tags)) this.list.update(path, { has_tags: list.length > 0, tags: list });
      this._notifyItems(Object.keys(tags));
      if (answer?.xmp && answer.xmp.enabled === false && answer.xmp.reason && !this._xmpWarned) {
        this._xmpWarned = true;
        this.host.toasts.info(`Tags are saved in the index only (${answer.xmp.reason}).`);
      }
      this._afterChange();
      return tags;
    } catch (error) {
      this.host.toasts.error(`The tags were not saved: ${/** @type {any} */ (error)?.message || error}`);
      return null;
    }
  }

  /**
   * Tag dialog for the selection: one field, "tag1, tag2" to add, "-tag" to remove.
   * @param {string[]} paths
   */
  async tagDialog(paths) {
    if (!paths.length) return;
    const text = await promptDialog({
      title: `Tags for ${this._files(paths.length)}`,
      label: "Tags to add, separated by commas (prefix with - to remove)",
      placeholder: "portrait, keeper, -draft",
      confirmLabel: "Apply",
    });
    if (text === null) return;
    const add = [];
    const remove = [];
    for (const raw of text.split(",")) {
      const tag = raw.trim().toLowerCase();
      if (!tag) continue;
      if (tag.startsWith("-")) remove.push(tag.slice(1).trim());
      else add.push(tag);
    }
    if (add.length || remove.length) await this.changeTags(paths, { add, remove });
  }

  /**
   * Rating dialog for the selection.
   * @param {string[]} paths
   */
  async ratingDialog(paths) {
    if (!paths.length) return;
    const buttons = [0, 1, 2, 3, 4, 5].map((n) => ({ label: n ? "★".repeat(n) : "None", value: n, kind: /** @type {"default"} */ ("default"), testid: `holaf-rate-${n}` }));
    const value = await openDialog({ title: `Rate ${this._files(paths.length)}`, buttons: [...buttons, { label: "Cancel", value: null, kind: "cancel" }] }).result;
    if (typeof value === "number") await this.setRating(paths, value);
  }

  /**
   * Opens the export dialog of the edits/export feature.
   * @param {string[]} paths
   * @param {{beforeExport?: () => Promise<boolean> | boolean}} [options] e.g. save pending edits first
   */
  async exportFiles(paths, options = {}) {
    if (!paths.length) return;
    const { openExportDialog } = await import("./export_dialog.js");
    await openExportDialog(this.host, { paths, beforeExport: options.beforeExport });
  }

  /** @param {string[]} paths */
  _notifyItems(paths) {
    for (const path of paths) {
      const index = this.list.indexOf(path);
      const item = index >= 0 ? this.list.get(index) : null;
      if (item) this._onItemChanged(item);
    }
  }
}
