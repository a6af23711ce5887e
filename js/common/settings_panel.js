/**
 * The Settings panel, drawn from the server's `schema` (only entries with `ui !== false`):
 * choice → select, bool → checkbox, int/float → number with min/max, str → text.
 * Grouped by section; Save sends only what changed through `save-all-settings` and shows
 * the server's per-key errors next to the fields. Also password and login controls,
 * and Restart where the host allows it. No side effects at import.
 * @module common/settings_panel
 */
import { HolafApiError } from "./api.js";
import { changePassword, ensureAuthenticated, logout, authStatus } from "./auth.js";
import { el } from "./dom.js";
import { createPanel, getPanel } from "./panel_manager.js";
import { restartComfyUI } from "./restart.js";
import { THEMES } from "./themes.js";

/**
 * @typedef {import("./host.js").HolafHost} HolafHost
 * @typedef {import("./settings_store.js").SchemaEntry} SchemaEntry
 */

export const SETTINGS_PANEL_ID = "settings";

/** Display names and order of the sections. Unknown sections follow, in schema order. */
export const SECTION_TITLES = {
  UtilitiesUI: "General",
  ImageViewerUI: "Image Viewer",
  TerminalUI: "Terminal",
  SystemMonitor: "System Monitor",
  ModelManagerUI: "Model Manager",
  NodesManagerUI: "Nodes Manager",
};

const THEME_LABELS = Object.fromEntries(THEMES.map((t) => [t.id, t.label]));

/**
 * "font_size" → "Font size".
 * @param {string} key
 */
export function labelForKey(key) {
  const text = key.replace(/_/g, " ").trim();
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/**
 * Splits the server's `errors` list ("[Section] key: message") by field.
 * @param {string[]} errors
 * @returns {{fields: Record<string, Record<string, string>>, general: string[]}}
 */
export function parseSettingsErrors(errors) {
  /** @type {Record<string, Record<string, string>>} */
  const fields = {};
  /** @type {string[]} */
  const general = [];
  for (const error of errors || []) {
    const match = /^\[([^\]]+)\]\s+([A-Za-z0-9_.-]+):\s*(.*)$/.exec(String(error));
    if (match) (fields[match[1]] ||= {})[match[2]] = match[3];
    else general.push(String(error));
  }
  return { fields, general };
}

/**
 * The value a control holds, typed for the API. Unparseable numbers are sent as typed so
 * the server's message explains the problem; an empty number field means "default" (null).
 * @param {SchemaEntry} entry
 * @param {HTMLInputElement | HTMLSelectElement} control
 */
export function readControl(entry, control) {
  if (entry.type === "bool") return /** @type {HTMLInputElement} */ (control).checked;
  if (entry.type === "int" || entry.type === "float") {
    const text = control.value.trim();
    if (text === "") return null;
    const value = Number(text);
    return Number.isFinite(value) ? value : text;
  }
  return control.value;
}

/**
 * Sections to show, in display order, with only their UI entries.
 * @param {Record<string, SchemaEntry[]>} schema
 * @returns {Array<[string, SchemaEntry[]]>}
 */
export function visibleSections(schema) {
  const known = Object.keys(SECTION_TITLES);
  const names = Object.keys(schema).sort((a, b) => {
    const ia = known.indexOf(a);
    const ib = known.indexOf(b);
    return (ia < 0 ? 99 : ia) - (ib < 0 ? 99 : ib);
  });
  return names
    .map((name) => /** @type {[string, SchemaEntry[]]} */ ([name, (schema[name] || []).filter((e) => e.ui !== false && e.type !== "json")]))
    .filter(([, entries]) => entries.length > 0);
}

/**
 * Opens the Settings panel (or brings it to front).
 * @param {HolafHost} host
 */
export function openSettingsPanel(host) {
  const existing = getPanel(SETTINGS_PANEL_ID);
  if (existing) {
    existing.show();
    return existing;
  }
  const panel = createPanel({
    id: SETTINGS_PANEL_ID, title: "Holaf Utilities · Settings", section: "UtilitiesUI", host, icon: "⚙",
    className: "holaf-settings-panel",
  });
  const view = new SettingsView(host, panel);
  panel.listeners.track(() => view.destroy());
  view.render();
  return panel;
}

class SettingsView {
  /**
   * @param {HolafHost} host
   * @param {import("./panel_manager.js").Panel} panel
   */
  constructor(host, panel) {
    this.host = host;
    this.panel = panel;
    /** @type {Map<string, {section: string, entry: SchemaEntry, control: HTMLInputElement | HTMLSelectElement, error: HTMLElement, row: HTMLElement}>} */
    this.fields = new Map();
    this.form = el("form", { className: "holaf-settings-form", testid: "holaf-settings-form", attrs: { novalidate: true } });
    this.form.addEventListener("submit", (event) => { event.preventDefault(); this.save(); });
    this.status = el("div", { className: "holaf-settings-status", testid: "holaf-settings-status", attrs: { role: "status" } });
    this.saveButton = el("button", { className: "holaf-button holaf-button-primary", text: "Save", testid: "holaf-settings-save", attrs: { type: "submit" } });
    this.revertButton = el("button", { className: "holaf-button", text: "Revert", testid: "holaf-settings-revert", attrs: { type: "button" } });
    this.revertButton.addEventListener("click", () => this.revert());
    this.securityBox = el("div", { className: "holaf-settings-security", testid: "holaf-settings-security" });
    this.scroll = el("div", { className: "holaf-settings-scroll" });
    const footer = el("div", { className: "holaf-settings-footer", children: [this.status, this.revertButton, this.saveButton] });
    this.form.append(this.scroll, footer);
    panel.body.appendChild(this.form);
    this.destroyed = false;
    panel.listeners.track(host.settings.on("change", (event) => this.onStoreChange(event.detail)));
    panel.listeners.add(this.form, "input", () => this.updateDirty());
    panel.listeners.add(this.form, "change", () => this.updateDirty());
  }

  async render() {
    this.scroll.replaceChildren(el("p", { className: "holaf-muted", text: "Loading settings…" }));
    try {
      await this.host.settings.load();
    } catch (error) {
      if (this.destroyed) return;
      this.scroll.replaceChildren(el("p", { className: "holaf-error-text", text: `Cannot load the settings: ${error?.message || error}` }));
      return;
    }
    if (this.destroyed) return;
    this.scroll.replaceChildren();
    this.fields.clear();
    for (const [section, entries] of visibleSections(this.host.settings.schema)) {
      const fieldset = el("fieldset", {
        className: "holaf-settings-section", testid: `holaf-settings-section-${section}`,
        children: [el("legend", { text: SECTION_TITLES[/** @type {keyof typeof SECTION_TITLES} */ (section)] || section })],
      });
      for (const entry of entries) fieldset.appendChild(this.renderField(section, entry));
      this.scroll.appendChild(fieldset);
    }
    this.scroll.appendChild(this.securityBox);
    await this.renderSecurity();
    this.updateDirty();
  }

  /**
   * @param {string} section
   * @param {SchemaEntry} entry
   */
  renderField(section, entry) {
    const id = `holaf-setting-${section}-${entry.key}`;
    /** @type {HTMLInputElement | HTMLSelectElement} */
    let control;
    if (entry.type === "choice") {
      control = el("select", { className: "holaf-input", attrs: { id } });
      for (const choice of entry.choices || []) {
        control.appendChild(el("option", { text: THEME_LABELS[choice] || String(choice), attrs: { value: String(choice) } }));
      }
    } else if (entry.type === "bool") {
      control = el("input", { className: "holaf-checkbox", attrs: { id, type: "checkbox" } });
    } else if (entry.type === "int" || entry.type === "float") {
      control = el("input", {
        className: "holaf-input holaf-input-number",
        attrs: { id, type: "number", inputmode: entry.type === "int" ? "numeric" : "decimal", step: entry.type === "int" ? "1" : "any", min: entry.min ?? null, max: entry.max ?? null },
      });
    } else {
      control = el("input", { className: "holaf-input", attrs: { id, type: "text", spellcheck: "false", maxlength: "4096" } });
    }
    control.dataset.testid = id;
    control.name = `${section}.${entry.key}`;
    const error = el("div", { className: "holaf-field-error", testid: `holaf-setting-error-${section}-${entry.key}`, attrs: { hidden: true, role: "alert" } });
    const range = entry.min !== undefined || entry.max !== undefined
      ? ` (${entry.min ?? "…"}–${entry.max ?? "…"})` : "";
    const reset = el("button", {
      className: "holaf-icon-button holaf-setting-reset", text: "↺", testid: `holaf-setting-reset-${section}-${entry.key}`,
      attrs: { type: "button", title: `Back to the default (${THEME_LABELS[entry.default] || entry.default})`, "aria-label": `Reset ${labelForKey(entry.key)}` },
    });
    const row = el("div", {
      className: ["holaf-setting-row", entry.type === "bool" ? "holaf-setting-bool" : ""],
      children: [
        el("label", { className: "holaf-setting-label", text: labelForKey(entry.key), attrs: { for: id } }),
        el("div", { className: "holaf-setting-control", children: [control, reset] }),
        el("div", { className: "holaf-setting-help", text: `${entry.help || ""}${range}` }),
        error,
      ],
    });
    const field = { section, entry, control, error, row };
    this.fields.set(`${section}.${entry.key}`, field);
    reset.addEventListener("click", () => {
      this.setControl(field, entry.default);
      field.control.dataset.reset = "1";
      this.updateDirty();
    });
    this.setControl(field, this.host.settings.get(section, entry.key, entry.default));
    return row;
  }

  /**
   * @param {{entry: SchemaEntry, control: HTMLInputElement | HTMLSelectElement}} field
   * @param {any} value
   */
  setControl(field, value) {
    const { entry, control } = field;
    delete control.dataset.reset;
    if (entry.type === "bool") /** @type {HTMLInputElement} */ (control).checked = !!value;
    else control.value = value === null || value === undefined ? "" : String(value);
  }

  /** Changed fields → `{Section: {key: value}}` (null = reset to default). */
  changes() {
    /** @type {Record<string, Record<string, any>>} */
    const updates = {};
    for (const field of this.fields.values()) {
      const current = this.host.settings.get(field.section, field.entry.key, field.entry.default);
      const value = readControl(field.entry, field.control);
      const reset = field.control.dataset.reset === "1";
      if (reset && value === field.entry.default) {
        if (current !== field.entry.default || this.host.settings.values[field.section]?.[field.entry.key] !== undefined) {
          (updates[field.section] ||= {})[field.entry.key] = null;
        }
        continue;
      }
      if (value !== current && !(value === null && (current === null || current === undefined))) {
        (updates[field.section] ||= {})[field.entry.key] = value;
      }
    }
    return updates;
  }

  updateDirty() {
    const dirty = Object.keys(this.changes()).length > 0;
    this.saveButton.disabled = !dirty;
    this.revertButton.disabled = !dirty;
    this.form.classList.toggle("holaf-dirty", dirty);
    for (const field of this.fields.values()) {
      const current = this.host.settings.get(field.section, field.entry.key, field.entry.default);
      field.row.classList.toggle("holaf-changed", readControl(field.entry, field.control) !== current);
    }
  }

  clearErrors() {
    for (const field of this.fields.values()) {
      field.error.hidden = true;
      field.error.textContent = "";
      field.row.classList.remove("holaf-invalid");
      field.control.removeAttribute("aria-invalid");
    }
    this.status.textContent = "";
    this.status.dataset.kind = "";
  }

  async save() {
    const updates = this.changes();
    if (!Object.keys(updates).length) return;
    this.clearErrors();
    this.saveButton.disabled = true;
    this.status.textContent = "Saving…";
    try {
      await this.host.settings.save(updates);
      if (this.destroyed) return;
      this.status.textContent = "Saved.";
      this.status.dataset.kind = "success";
      this.host.toasts.success("Settings saved.");
      for (const field of this.fields.values()) delete field.control.dataset.reset;
    } catch (error) {
      if (this.destroyed) return;
      this.showError(error);
    } finally {
      if (!this.destroyed) this.updateDirty();
    }
  }

  /** @param {unknown} error */
  showError(error) {
    const apiError = error instanceof HolafApiError ? error : null;
    const { fields, general } = parseSettingsErrors(apiError?.errors || []);
    let first = null;
    for (const [section, keys] of Object.entries(fields)) {
      for (const [key, message] of Object.entries(keys)) {
        const field = this.fields.get(`${section}.${key}`);
        if (!field) {
          general.push(`[${section}] ${key}: ${message}`);
          continue;
        }
        field.error.hidden = false;
        field.error.textContent = message;
        field.row.classList.add("holaf-invalid");
        field.control.setAttribute("aria-invalid", "true");
        first ||= field;
      }
    }
    const summary = apiError?.code === "invalid_settings" ? "Nothing was saved: fix the highlighted fields." : `Not saved: ${apiError?.message || error}`;
    this.status.textContent = general.length ? `${summary} ${general.join("; ")}` : summary;
    this.status.dataset.kind = "error";
    if (first) {
      first.row.scrollIntoView({ block: "nearest" });
      first.control.focus({ preventScroll: true });
    }
  }

  revert() {
    this.clearErrors();
    for (const field of this.fields.values()) {
      this.setControl(field, this.host.settings.get(field.section, field.entry.key, field.entry.default));
    }
    this.updateDirty();
  }

  /** Keeps untouched fields in sync with changes made elsewhere (theme menus, other tabs). */
  onStoreChange({ section, values }) {
    for (const [key, value] of Object.entries(values)) {
      const field = this.fields.get(`${section}.${key}`);
      if (!field || field.row.classList.contains("holaf-changed")) continue;
      this.setControl(field, value);
    }
    this.updateDirty();
  }

  async renderSecurity() {
    const box = this.securityBox;
    let status;
    try {
      status = await authStatus(this.host);
    } catch (error) {
      if (this.destroyed) return;
      box.replaceChildren(el("p", { className: "holaf-error-text", text: `Cannot read the login state: ${error?.message || error}` }));
      return;
    }
    if (this.destroyed) return;
    const state = !status.password_configured ? "No password is set yet." : status.authenticated ? "Password set; this browser is logged in." : "Password set; this browser is not logged in.";
    const buttons = [];
    const button = (/** @type {string} */ label, /** @type {string} */ testid, /** @type {() => Promise<any>} */ action) => {
      const node = el("button", { className: "holaf-button", text: label, testid, attrs: { type: "button" } });
      node.addEventListener("click", async () => {
        node.disabled = true;
        try {
          await action();
        } catch (error) {
          this.host.toasts.error(String(/** @type {any} */ (error)?.message || error));
        } finally {
          node.disabled = false;
          if (!this.destroyed) this.renderSecurity();
        }
      });
      buttons.push(node);
    };
    if (!status.password_configured) {
      button("Set password…", "holaf-settings-set-password", () => ensureAuthenticated(this.host));
    } else {
      button("Change password…", "holaf-settings-change-password", () => changePassword(this.host));
      if (status.authenticated) button("Log out", "holaf-settings-logout", () => logout(this.host));
      else button("Log in…", "holaf-settings-login", () => ensureAuthenticated(this.host));
    }
    if (this.host.canRestart) button("Restart ComfyUI…", "holaf-settings-restart", () => restartComfyUI(this.host));
    let about = "";
    try {
      const info = await this.host.getInfo();
      about = `Holaf Utilities ${info.version} · ${info.mode === "comfyui" ? "inside ComfyUI" : "standalone"} · data folder: ${info.data_dir}`;
    } catch { /* the about line is optional */ }
    if (this.destroyed) return;
    box.replaceChildren(
      el("fieldset", {
        className: "holaf-settings-section",
        children: [
          el("legend", { text: "Password and server" }),
          el("p", { className: "holaf-auth-state", testid: "holaf-auth-state", text: state }),
          el("div", { className: "holaf-row", children: buttons }),
          about ? el("p", { className: "holaf-muted holaf-small holaf-about", text: about }) : null,
        ],
      }),
    );
  }

  destroy() {
    this.destroyed = true;
  }
}
