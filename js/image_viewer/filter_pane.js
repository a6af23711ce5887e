/**
 * The left pane: search with scope toggles (name / prompt / workflow, OR-combined), sort,
 * date range, folders (counts, locks, All / None / Invert, Trashcan with Empty), formats,
 * has workflow / prompt / edits / tags, tags (chips, all required), rating, model, LoRA,
 * and Reset. It only edits `state.filters`; the viewer runs the query. Every label is
 * set as text (folder and tag names come from the user's disk).
 * No side effects at import.
 * @module image_viewer/filter_pane
 */
import { ListenerPool } from "../common/events.js";
import { el } from "../common/dom.js";
import { icon } from "./icons.js";
import { activeFilterCount, applyFolderAction, setFolderIncluded, setFolderLocked } from "./filters.js";

/**
 * @typedef {object} FilterOptions  `GET /holaf/images/filter-options`
 * @property {Array<{path: string, count: number}>} folders
 * @property {Array<{name: string, count: number}>} formats
 * @property {Array<{name: string, count: number}>} tags
 * @property {Array<{name: string, count: number}>} models
 * @property {Array<{name: string, count: number}>} loras
 * @property {number} trashcan_count
 */

const SEARCH_DEBOUNCE_MS = 250;
const FLAGS = [
  ["hasWorkflow", "Workflow"],
  ["hasPrompt", "Prompt"],
  ["hasEdits", "Edits"],
  ["hasTags", "Tags"],
];

/** @param {string} name */
function folderLabel(name) {
  return name === "root" ? "(root)" : name;
}

/** @param {string} text */
function slug(text) {
  return text.replace(/[^A-Za-z0-9_-]/g, "_");
}

export class FilterPane {
  /**
   * @param {object} options
   * @param {import("./state.js").ViewerState} options.state
   * @param {() => void} options.onReset asks about locks, then resets
   * @param {() => void} options.onEmptyTrash
   */
  constructor(options) {
    this.state = options.state;
    this._onReset = options.onReset;
    this._onEmptyTrash = options.onEmptyTrash;
    this.pool = new ListenerPool();
    /** @type {FilterOptions} */
    this.options = { folders: [], formats: [], tags: [], models: [], loras: [], trashcan_count: 0 };
    this._searchTimer = /** @type {any} */ (null);
    this._listId = `holaf-iv-tags-${Math.random().toString(36).slice(2, 9)}`;
    this._build();
    this.pool.track(this.state.on("filters", () => this.sync()));
    this.sync();
  }

  _build() {
    const f = () => this.state.filters;
    const set = (/** @type {Partial<import("./filters.js").Filters>} */ patch) => this.state.patchFilters(patch, "pane");

    // search
    this.search = el("input", {
      className: "holaf-iv-input", testid: "holaf-search",
      attrs: { type: "search", placeholder: "Search…", "aria-label": "Search", spellcheck: "false", maxlength: "500" },
    });
    this.pool.add(this.search, "input", () => {
      clearTimeout(this._searchTimer);
      this._searchTimer = setTimeout(() => set({ search: this.search.value }), SEARCH_DEBOUNCE_MS);
    });
    this.pool.add(this.search, "keydown", (event) => {
      const e = /** @type {KeyboardEvent} */ (event);
      if (e.key === "Enter") {
        clearTimeout(this._searchTimer);
        set({ search: this.search.value });
      } else if (e.key === "Escape" && this.search.value) {
        e.stopPropagation();
        this.search.value = "";
        clearTimeout(this._searchTimer);
        set({ search: "" });
      }
    });
    /** @type {Record<string, HTMLInputElement>} */
    this.scopes = {};
    const scopeRow = el("div", { className: "holaf-iv-scopes", attrs: { role: "group", "aria-label": "Search in" } });
    for (const scope of /** @type {const} */ (["name", "prompt", "workflow"])) {
      const box = el("input", { testid: `holaf-scope-${scope}`, attrs: { type: "checkbox" } });
      this.scopes[scope] = box;
      this.pool.add(box, "change", () => set({ scopes: { ...f().scopes, [scope]: box.checked } }));
      scopeRow.appendChild(el("label", { className: "holaf-iv-chip-toggle", children: [box, scope[0].toUpperCase() + scope.slice(1)] }));
    }
    this.sort = el("select", { className: "holaf-iv-input", testid: "holaf-sort", attrs: { "aria-label": "Sort" } });
    for (const [value, label] of [["newest", "Newest first"], ["oldest", "Oldest first"], ["name", "Name"], ["size", "Largest first"], ["random", "Random"]]) {
      this.sort.appendChild(el("option", { text: label, attrs: { value } }));
    }
    this.pool.add(this.sort, "change", () => set({ sort: /** @type {any} */ (this.sort.value) }));

    // dates
    this.dateFrom = el("input", { className: "holaf-iv-input", testid: "holaf-date-from", attrs: { type: "date", "aria-label": "From date" } });
    this.dateTo = el("input", { className: "holaf-iv-input", testid: "holaf-date-to", attrs: { type: "date", "aria-label": "To date (inclusive)" } });
    this.pool.add(this.dateFrom, "change", () => set({ dateFrom: this.dateFrom.value }));
    this.pool.add(this.dateTo, "change", () => set({ dateTo: this.dateTo.value }));

    // folders
    this.folderList = el("div", { className: "holaf-iv-folder-list", testid: "holaf-folder-list" });
    const link = (/** @type {string} */ label, /** @type {"all" | "none" | "invert"} */ action) => {
      const button = el("button", { className: "holaf-iv-link", text: label, testid: `holaf-folders-${action}`, attrs: { type: "button" } });
      this.pool.add(button, "click", () => this.state.setFilters(applyFolderAction(f(), action, this.options.folders.map((x) => x.path)), "pane"));
      return button;
    };
    this.prefixChip = el("div", { className: "holaf-iv-prefix", testid: "holaf-folder-prefix", attrs: { hidden: true } });
    this.trashBox = el("input", { testid: "holaf-trashcan-toggle", attrs: { type: "checkbox" } });
    this.pool.add(this.trashBox, "change", () => set({ trashcan: this.trashBox.checked }));
    this.trashCount = el("span", { className: "holaf-iv-count" });
    this.emptyTrash = el("button", { className: "holaf-iv-button holaf-iv-danger-button", text: "Empty", testid: "holaf-empty-trash", attrs: { type: "button", title: "Delete everything in the trashcan for good" } });
    this.pool.add(this.emptyTrash, "click", () => this._onEmptyTrash());

    // formats
    this.formatList = el("div", { className: "holaf-iv-format-list", testid: "holaf-format-list" });

    // flags
    /** @type {Record<string, HTMLSelectElement>} */
    this.flags = {};
    const flagGrid = el("div", { className: "holaf-iv-flags" });
    for (const [field, label] of FLAGS) {
      const select = el("select", { className: "holaf-iv-input", testid: `holaf-flag-${field}`, attrs: { "aria-label": `Has ${label.toLowerCase()}` } });
      for (const [value, text] of [["any", "any"], ["yes", "yes"], ["no", "no"]]) select.appendChild(el("option", { text, attrs: { value } }));
      this.flags[field] = select;
      this.pool.add(select, "change", () => set({ [field]: select.value }));
      flagGrid.append(el("label", { text: label }), select);
    }

    // tags
    this.tagInput = el("input", {
      className: "holaf-iv-input", testid: "holaf-tag-input",
      attrs: { type: "text", placeholder: "Add a tag…", list: this._listId, "aria-label": "Required tag" },
    });
    this.tagOptions = el("datalist", { attrs: { id: this._listId } });
    this.tagChips = el("div", { className: "holaf-iv-chips", testid: "holaf-tag-chips" });
    this.pool.add(this.tagInput, "keydown", (event) => {
      const e = /** @type {KeyboardEvent} */ (event);
      if (e.key !== "Enter") return;
      const tag = this.tagInput.value.trim().toLowerCase();
      if (tag && !f().tags.includes(tag)) set({ tags: [...f().tags, tag] });
      this.tagInput.value = "";
    });

    // rating, model, LoRA
    this.rating = el("select", { className: "holaf-iv-input", testid: "holaf-rating-filter", attrs: { "aria-label": "Minimum rating" } });
    this.rating.appendChild(el("option", { text: "Any rating", attrs: { value: "0" } }));
    for (let n = 1; n <= 5; n++) this.rating.appendChild(el("option", { text: `${"★".repeat(n)}${n < 5 ? " or more" : ""}`, attrs: { value: String(n) } }));
    this.pool.add(this.rating, "change", () => set({ minRating: Number(this.rating.value) }));
    this.model = el("select", { className: "holaf-iv-input", testid: "holaf-model-filter", attrs: { "aria-label": "Model" } });
    this.lora = el("select", { className: "holaf-iv-input", testid: "holaf-lora-filter", attrs: { "aria-label": "LoRA" } });
    this.pool.add(this.model, "change", () => set({ model: this.model.value }));
    this.pool.add(this.lora, "change", () => set({ lora: this.lora.value }));

    this.reset = el("button", { className: "holaf-iv-button", testid: "holaf-reset", attrs: { type: "button", title: "Show everything again" } });
    this.pool.add(this.reset, "click", () => this._onReset());

    const section = (/** @type {string} */ title, /** @type {Node[]} */ children, /** @type {Node[]} */ [extra] = []) => el("section", {
      className: "holaf-iv-section",
      children: [el("h3", { className: "holaf-iv-section-title", children: [title, extra || null] }), ...children],
    });
    this.element = el("aside", {
      className: "holaf-iv-left", testid: "holaf-filters", attrs: { "aria-label": "Filters" },
      children: [
        section("Search", [this.search, scopeRow, this.sort]),
        section("Date", [el("div", { className: "holaf-iv-dates", children: [el("label", { children: [el("span", { text: "From" }), this.dateFrom] }), el("label", { children: [el("span", { text: "To" }), this.dateTo] })] })]),
        section("Folders", [
          this.prefixChip,
          this.folderList,
          el("label", {
            className: "holaf-iv-trash-row",
            children: [this.trashBox, icon("trash", 13), el("span", { text: "Trashcan " }), this.trashCount, this.emptyTrash],
          }),
        ], [el("span", { className: "holaf-iv-links", children: [link("All", "all"), link("None", "none"), link("Invert", "invert")] })]),
        section("Formats", [this.formatList]),
        section("Has", [flagGrid]),
        section("Tags (all required)", [this.tagInput, this.tagOptions, this.tagChips]),
        section("Rating & model", [this.rating, this.model, this.lora]),
        el("div", { className: "holaf-iv-reset-row", children: [this.reset] }),
      ],
    });
  }

  /**
   * New filter options (folder counts, formats, tags, models) from the server.
   * @param {Partial<FilterOptions>} options
   */
  setOptions(options) {
    this.options = {
      folders: options.folders || [], formats: options.formats || [], tags: options.tags || [],
      models: options.models || [], loras: options.loras || [], trashcan_count: options.trashcan_count || 0,
    };
    this.sync();
  }

  /** Brings every control in line with the state and the options. */
  sync() {
    const f = this.state.filters;
    if (document.activeElement !== this.search && this.search.value !== f.search) this.search.value = f.search;
    for (const [scope, box] of Object.entries(this.scopes)) box.checked = !!f.scopes[/** @type {"name"} */ (scope)];
    this.sort.value = f.sort;
    this.dateFrom.value = f.dateFrom;
    this.dateTo.value = f.dateTo;
    this._renderFolders();
    this._renderFormats();
    for (const [field, select] of Object.entries(this.flags)) select.value = f[/** @type {"hasWorkflow"} */ (field)];
    this._renderTags();
    this.rating.value = String(f.minRating);
    this._renderChoice(this.model, "Any model", this.options.models, f.model);
    this._renderChoice(this.lora, "Any LoRA", this.options.loras, f.lora);
    const n = activeFilterCount(f);
    this.reset.textContent = n ? `Reset filters (${n})` : "Reset filters";
    this.reset.classList.toggle("holaf-iv-has-filters", n > 0);
    this.trashBox.checked = f.trashcan;
    this.trashCount.textContent = `(${this.options.trashcan_count})`;
    this.emptyTrash.disabled = !this.options.trashcan_count;
    this.element.classList.toggle("holaf-iv-trash-view", f.trashcan);
    this.prefixChip.hidden = !f.folderPrefix;
    if (f.folderPrefix) {
      const clear = el("button", { className: "holaf-iv-link", text: "×", attrs: { type: "button", title: "Show every folder again", "aria-label": "Clear folder" } });
      clear.addEventListener("click", () => this.state.patchFilters({ folderPrefix: "" }, "pane"));
      this.prefixChip.replaceChildren(el("span", { text: `In ${f.folderPrefix}/` }), clear);
    }
  }

  _renderFolders() {
    const f = this.state.filters;
    const excluded = new Set(f.excludedFolders);
    const locked = new Set(f.lockedFolders);
    const rows = this.options.folders.map(({ path, count }) => {
      const box = el("input", { attrs: { type: "checkbox", "aria-label": folderLabel(path) } });
      box.checked = !excluded.has(path);
      box.disabled = f.trashcan;
      box.dataset.folder = path;
      box.dataset.testid = "holaf-folder-checkbox";
      box.addEventListener("change", () => this.state.setFilters(setFolderIncluded(this.state.filters, path, box.checked), "pane"));
      const isLocked = locked.has(path);
      const lock = el("button", {
        className: ["holaf-iv-lock", isLocked ? "holaf-iv-locked" : ""], children: [icon(isLocked ? "lock" : "unlock", 12)],
        testid: "holaf-folder-lock",
        attrs: { type: "button", title: isLocked ? "Unlock: All / None / Invert / Reset change it again" : "Lock: All / None / Invert / Reset leave it alone", "aria-pressed": String(isLocked) },
      });
      lock.dataset.folder = path;
      lock.addEventListener("click", () => this.state.setFilters(setFolderLocked(this.state.filters, path, !isLocked), "pane"));
      return el("div", {
        className: "holaf-iv-folder-row", dataset: { folder: path },
        children: [el("label", { children: [box, el("span", { className: "holaf-iv-folder-name", text: folderLabel(path) }), el("span", { className: "holaf-iv-count", text: `(${count})` })] }), lock],
      });
    });
    this.folderList.replaceChildren(...rows);
  }

  _renderFormats() {
    const f = this.state.filters;
    const excluded = new Set(f.excludedFormats);
    const rows = this.options.formats.map(({ name, count }) => {
      const box = el("input", { testid: `holaf-format-${slug(name)}`, attrs: { type: "checkbox" } });
      box.checked = !excluded.has(name);
      box.addEventListener("change", () => {
        const next = new Set(this.state.filters.excludedFormats);
        if (box.checked) next.delete(name);
        else next.add(name);
        this.state.patchFilters({ excludedFormats: [...next] }, "pane");
      });
      return el("label", { className: "holaf-iv-format-row", children: [box, `${name} `, el("span", { className: "holaf-iv-count", text: `(${count})` })] });
    });
    this.formatList.replaceChildren(...rows);
  }

  _renderTags() {
    const f = this.state.filters;
    this.tagChips.replaceChildren(...f.tags.map((tag) => {
      const remove = el("button", { className: "holaf-iv-chip-x", text: "×", attrs: { type: "button", "aria-label": `Remove tag ${tag}` } });
      remove.addEventListener("click", () => this.state.patchFilters({ tags: this.state.filters.tags.filter((t) => t !== tag) }, "pane"));
      return el("span", { className: "holaf-iv-chip", testid: "holaf-tag-chip", dataset: { tag }, children: [tag, remove] });
    }));
    this.tagOptions.replaceChildren(...this.options.tags.map((t) => el("option", { attrs: { value: t.name } })));
  }

  /**
   * @param {HTMLSelectElement} select
   * @param {string} anyLabel
   * @param {Array<{name: string, count: number}>} options
   * @param {string} value
   */
  _renderChoice(select, anyLabel, options, value) {
    const names = options.map((o) => o.name);
    const key = JSON.stringify([names, options.map((o) => o.count), value]);
    if (select.dataset.key === key) return;
    select.dataset.key = key;
    const children = [el("option", { text: anyLabel, attrs: { value: "" } })];
    if (value && !names.includes(value)) children.push(el("option", { text: `${value} (0)`, attrs: { value } }));
    for (const o of options) children.push(el("option", { text: `${o.name} (${o.count})`, attrs: { value: o.name } }));
    select.replaceChildren(...children);
    select.value = value;
  }

  /** Puts the keyboard focus in the search box. */
  focusSearch() {
    this.search.focus();
    this.search.select();
  }

  destroy() {
    clearTimeout(this._searchTimer);
    this.pool.removeAll();
    this.element.remove();
  }
}
