/**
 * The UI's copy of `config.ini` (`GET /holaf/utilities/settings`) and the only writer
 * (`POST /holaf/utilities/save-all-settings`). Panels queue geometry/theme changes,
 * which are merged and saved after a short pause; the Settings panel saves at once.
 *
 * Events (via `on`): `change` → `{section, values, source: "local" | "server"}`.
 * No side effects at import.
 * @module common/settings_store
 */
import { Eventable } from "./events.js";

export const SETTINGS_PATH = "/holaf/utilities/settings";
export const SAVE_PATH = "/holaf/utilities/save-all-settings";

/**
 * @typedef {object} SchemaEntry
 * @property {string} key
 * @property {"str" | "int" | "float" | "bool" | "choice" | "json"} type
 * @property {any} default
 * @property {string} help
 * @property {boolean} ui false for keys the UI keeps itself (panel geometry)
 * @property {string[]} [choices]
 * @property {number} [min]
 * @property {number} [max]
 */

/**
 * @typedef {Record<string, Record<string, any>>} SectionValues  `{Section: {key: value}}`
 */

export class SettingsStore extends Eventable {
  /**
   * @param {{fetchJson: (path: string, options?: any) => Promise<any>}} transport the host (only `fetchJson` is used)
   * @param {{debounceMs?: number}} [options]
   */
  constructor(transport, options = {}) {
    super();
    this._transport = transport;
    this.debounceMs = options.debounceMs ?? 400;
    /** @type {SectionValues} */
    this.values = {};
    /** @type {Record<string, SchemaEntry[]>} */
    this.schema = {};
    this.passwordIsSet = false;
    /** @type {Promise<SettingsStore> | null} */
    this._loading = null;
    this.loaded = false;
    /** @type {SectionValues} */
    this._pending = {};
    /** @type {ReturnType<typeof setTimeout> | null} */
    this._timer = null;
    /** @type {Promise<void>} */
    this._inFlight = Promise.resolve();
    this._reportedFailure = false;
    /** Called with an error when a queued save fails (the host shows a toast). */
    this.onQueuedSaveError = /** @type {(error: any) => void} */ ((error) => console.error("[Holaf] saving settings failed", error));
  }

  /**
   * Loads settings once (or again with `force`). Unsaved queued values stay on top.
   * @param {{force?: boolean}} [options]
   * @returns {Promise<SettingsStore>}
   */
  load({ force = false } = {}) {
    if (this._loading && !force) return this._loading;
    const loading = this._transport.fetchJson(SETTINGS_PATH).then((body) => {
      const { schema, password_is_set: passwordIsSet, ...sections } = body || {};
      this.schema = schema || {};
      this.passwordIsSet = !!passwordIsSet;
      /** @type {SectionValues} */
      const values = {};
      for (const [name, section] of Object.entries(sections)) {
        if (section && typeof section === "object" && !Array.isArray(section)) values[name] = { ...section };
      }
      for (const [name, pending] of Object.entries(this._pending)) values[name] = { ...(values[name] || {}), ...pending };
      const previous = this.values;
      this.values = values;
      this.loaded = true;
      if (force) {
        for (const [name, section] of Object.entries(values)) {
          const changed = Object.fromEntries(Object.entries(section).filter(([k, v]) => previous[name]?.[k] !== v));
          if (Object.keys(changed).length) this.dispatch("change", { section: name, values: changed, source: "server" });
        }
      }
      return this;
    });
    this._loading = loading;
    loading.catch(() => { if (this._loading === loading) this._loading = null; });
    return loading;
  }

  /**
   * @param {string} section
   * @param {string} key
   * @param {any} [fallback] when unknown or not loaded
   */
  get(section, key, fallback = undefined) {
    const value = this.values[section]?.[key];
    return value === undefined ? fallback : value;
  }

  /** @param {string} section */
  section(section) {
    return { ...(this.values[section] || {}) };
  }

  /**
   * Default of a key from the schema.
   * @param {string} section
   * @param {string} key
   */
  defaultOf(section, key) {
    return (this.schema[section] || []).find((entry) => entry.key === key)?.default;
  }

  _apply(/** @type {SectionValues} */ updates, /** @type {"local" | "server"} */ source) {
    for (const [section, values] of Object.entries(updates)) {
      const target = (this.values[section] ||= {});
      /** @type {Record<string, any>} */
      const shown = {};
      for (const [key, value] of Object.entries(values)) {
        const effective = value === null ? this.defaultOf(section, key) ?? null : value;
        target[key] = effective;
        shown[key] = effective;
      }
      this.dispatch("change", { section, values: shown, source });
    }
  }

  /**
   * Saves now (all or nothing on the server). `null` resets a key to its default.
   * Throws HolafApiError; a 400 carries the per-key `errors`.
   * @param {SectionValues} updates
   */
  async save(updates) {
    await this.flush();
    const result = await this._transport.fetchJson(SAVE_PATH, { method: "POST", body: updates });
    this._apply(updates, "local");
    return result;
  }

  /**
   * Queues values for a debounced background save (panel geometry, theme).
   * The local copy changes at once.
   * @param {string} section
   * @param {Record<string, any>} values
   */
  queue(section, values) {
    this._pending[section] = { ...(this._pending[section] || {}), ...values };
    this._apply({ [section]: values }, "local");
    if (this._timer) clearTimeout(this._timer);
    this._timer = setTimeout(() => { this._timer = null; this.flush(); }, this.debounceMs);
  }

  /** True while queued values wait to be saved. */
  get hasPending() {
    return Object.keys(this._pending).length > 0;
  }

  /**
   * Sends queued values now. With `keepalive` the request survives a page unload.
   * @param {{keepalive?: boolean}} [options]
   * @returns {Promise<void>}
   */
  flush({ keepalive = false } = {}) {
    if (this._timer) {
      clearTimeout(this._timer);
      this._timer = null;
    }
    if (!this.hasPending) return this._inFlight;
    const updates = this._pending;
    this._pending = {};
    const send = async () => {
      try {
        await this._transport.fetchJson(SAVE_PATH, { method: "POST", body: updates, keepalive });
        this._reportedFailure = false;
      } catch (error) {
        if (!this._reportedFailure) this.onQueuedSaveError(error);
        this._reportedFailure = true;
      }
    };
    this._inFlight = this._inFlight.then(send, send);
    return this._inFlight;
  }

  destroy() {
    if (this._timer) clearTimeout(this._timer);
    this._timer = null;
    this.removeAllListeners();
  }
}
