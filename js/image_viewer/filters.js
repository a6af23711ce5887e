/**
 * The gallery's filter state as plain data: defaults, the `POST /holaf/images/list`
 * body it stands for, its `[ImageViewerUI]` settings form (so it survives reloads),
 * and the folder-list operations (All / None / Invert that respect locks, Reset).
 * Pure (tests/js/image_viewer_filters.test.mjs).
 *
 * Folders and formats are stored as what the user *excluded*, not what is ticked, so a
 * fresh install (nothing excluded) shows everything and a folder created tomorrow
 * shows up ticked. An empty exclusion list sends no folder filter at all.
 * @module image_viewer/filters
 */

export const SORTS = Object.freeze(["newest", "oldest", "name", "size", "random"]);
export const SCOPES = Object.freeze(["name", "prompt", "workflow"]);
export const FLAG_FILTERS = Object.freeze(["hasWorkflow", "hasPrompt", "hasEdits", "hasTags"]);
/** @typedef {"any" | "yes" | "no"} Tristate */

/**
 * @typedef {object} Filters
 * @property {string} search
 * @property {{name: boolean, prompt: boolean, workflow: boolean}} scopes combined with OR
 * @property {string} dateFrom YYYY-MM-DD or ""
 * @property {string} dateTo YYYY-MM-DD or "" (inclusive)
 * @property {string[]} excludedFolders top-level folders unticked ("root" = files at the top)
 * @property {string[]} lockedFolders folders All/None/Invert/Reset leave alone
 * @property {boolean} trashcan list the trashcan instead of the gallery
 * @property {string[]} excludedFormats formats unticked (upper case: PNG, JPEG, MP4…)
 * @property {Tristate} hasWorkflow
 * @property {Tristate} hasPrompt
 * @property {Tristate} hasEdits
 * @property {Tristate} hasTags
 * @property {string[]} tags every one required
 * @property {number} minRating 0 = any
 * @property {string} model exact model name, "" = any
 * @property {string} lora exact LoRA name, "" = any
 * @property {string} folderPrefix a sub-folder ("a/b") the list is limited to, "" = none
 * @property {string} sort one of SORTS
 */

/** @returns {Filters} */
export function defaultFilters() {
  return {
    search: "",
    scopes: { name: true, prompt: true, workflow: false },
    dateFrom: "",
    dateTo: "",
    excludedFolders: [],
    lockedFolders: [],
    trashcan: false,
    excludedFormats: [],
    hasWorkflow: "any",
    hasPrompt: "any",
    hasEdits: "any",
    hasTags: "any",
    tags: [],
    minRating: 0,
    model: "",
    lora: "",
    folderPrefix: "",
    sort: "newest",
  };
}

/** `[ImageViewerUI]` key of each filter field (declared in holaf_image_viewer_backend/gallery_ui.py). */
export const SETTING_KEYS = Object.freeze({
  search: "search_text",
  "scopes.name": "search_scope_name",
  "scopes.prompt": "search_scope_prompt",
  "scopes.workflow": "search_scope_workflow",
  dateFrom: "startdate",
  dateTo: "enddate",
  excludedFolders: "excluded_folders",
  lockedFolders: "locked_folders",
  trashcan: "show_trashcan",
  excludedFormats: "excluded_formats",
  hasWorkflow: "filter_has_workflow",
  hasPrompt: "filter_has_prompt",
  hasEdits: "filter_has_edits",
  hasTags: "filter_has_tags",
  tags: "tags_filter",
  minRating: "min_rating",
  model: "model_filter",
  lora: "lora_filter",
  folderPrefix: "folder_prefix",
  sort: "sort_order",
});

const DATE_RE = /^\d{4}-\d{2}-\d{2}$/;

/** @param {unknown} v */
function strings(v) {
  return Array.isArray(v) ? [...new Set(v.filter((x) => typeof x === "string" && x.length > 0 && x.length <= 1000))] : [];
}

/** @param {unknown} v @returns {Tristate} */
function tristate(v) {
  return v === "yes" || v === "no" ? v : "any";
}

/** @param {unknown} v */
function date(v) {
  return typeof v === "string" && DATE_RE.test(v) ? v : "";
}

/**
 * Filters from a saved `[ImageViewerUI]` section; anything missing or malformed falls
 * back to its default (a hand-edited config.ini never breaks the viewer).
 * @param {Record<string, any>} section
 * @returns {Filters}
 */
export function filtersFromSettings(section = {}) {
  const d = defaultFilters();
  const k = SETTING_KEYS;
  const get = (key) => (section && key in section ? section[key] : undefined);
  const bool = (key, fallback) => (typeof get(key) === "boolean" ? get(key) : fallback);
  const rating = Number(get(k.minRating));
  return {
    search: typeof get(k.search) === "string" ? get(k.search).slice(0, 500) : d.search,
    scopes: {
      name: bool(k["scopes.name"], d.scopes.name),
      prompt: bool(k["scopes.prompt"], d.scopes.prompt),
      workflow: bool(k["scopes.workflow"], d.scopes.workflow),
    },
    dateFrom: date(get(k.dateFrom)),
    dateTo: date(get(k.dateTo)),
    excludedFolders: strings(get(k.excludedFolders)),
    lockedFolders: strings(get(k.lockedFolders)),
    trashcan: bool(k.trashcan, false),
    excludedFormats: strings(get(k.excludedFormats)).map((f) => f.toUpperCase()),
    hasWorkflow: tristate(get(k.hasWorkflow)),
    hasPrompt: tristate(get(k.hasPrompt)),
    hasEdits: tristate(get(k.hasEdits)),
    hasTags: tristate(get(k.hasTags)),
    tags: strings(get(k.tags)).map((t) => t.toLowerCase()),
    minRating: Number.isInteger(rating) && rating >= 0 && rating <= 5 ? rating : 0,
    model: typeof get(k.model) === "string" ? get(k.model) : "",
    lora: typeof get(k.lora) === "string" ? get(k.lora) : "",
    folderPrefix: typeof get(k.folderPrefix) === "string" ? get(k.folderPrefix).replace(/^\/+|\/+$/g, "") : "",
    sort: SORTS.includes(get(k.sort)) ? get(k.sort) : d.sort,
  };
}

/**
 * The `[ImageViewerUI]` values for these filters.
 * @param {Filters} f
 * @returns {Record<string, any>}
 */
export function filtersToSettings(f) {
  const k = SETTING_KEYS;
  return {
    [k.search]: f.search,
    [k["scopes.name"]]: !!f.scopes.name,
    [k["scopes.prompt"]]: !!f.scopes.prompt,
    [k["scopes.workflow"]]: !!f.scopes.workflow,
    [k.dateFrom]: f.dateFrom,
    [k.dateTo]: f.dateTo,
    [k.excludedFolders]: [...f.excludedFolders],
    [k.lockedFolders]: [...f.lockedFolders],
    [k.trashcan]: !!f.trashcan,
    [k.excludedFormats]: [...f.excludedFormats],
    [k.hasWorkflow]: f.hasWorkflow,
    [k.hasPrompt]: f.hasPrompt,
    [k.hasEdits]: f.hasEdits,
    [k.hasTags]: f.hasTags,
    [k.tags]: [...f.tags],
    [k.minRating]: f.minRating,
    [k.model]: f.model,
    [k.lora]: f.lora,
    [k.folderPrefix]: f.folderPrefix,
    [k.sort]: f.sort,
  };
}

/**
 * The settings values that differ between two filter states (for a minimal save).
 * @param {Filters} before
 * @param {Filters} after
 */
export function changedSettings(before, after) {
  const a = filtersToSettings(before);
  const b = filtersToSettings(after);
  /** @type {Record<string, any>} */
  const out = {};
  for (const [key, value] of Object.entries(b)) {
    if (JSON.stringify(a[key]) !== JSON.stringify(value)) out[key] = value;
  }
  return out;
}

/**
 * Search scopes to send: the ticked ones, or "name" when none is ticked.
 * @param {Filters} f
 */
export function activeScopes(f) {
  const scopes = SCOPES.filter((s) => f.scopes[s]);
  return scopes.length ? scopes : ["name"];
}

/**
 * The `/list` body for these filters (without paging), or null when nothing can match
 * (every folder or every format unticked), so the viewer skips the request.
 * @param {Filters} f
 * @param {{folders?: string[], formats?: string[]}} [known] folders/formats from filter-options
 * @returns {Record<string, any> | null}
 */
export function listBody(f, known = {}) {
  /** @type {Record<string, any>} */
  const body = { sort: f.sort };
  if (f.trashcan) {
    body.trashcan = true;
  } else {
    const folders = known.folders || [];
    const excluded = new Set(f.excludedFolders);
    if (excluded.size && folders.length) {
      const included = folders.filter((name) => !excluded.has(name));
      if (!included.length) return null;
      if (included.length < folders.length) body.folders = included;
    }
    if (f.folderPrefix) body.folder_prefix = f.folderPrefix;
  }
  const formats = known.formats || [];
  const noFormats = new Set(f.excludedFormats);
  if (noFormats.size && formats.length) {
    const included = formats.filter((name) => !noFormats.has(name));
    if (!included.length) return null;
    if (included.length < formats.length) body.formats = included;
  }
  const search = f.search.trim();
  if (search) {
    body.search = search;
    body.search_scopes = activeScopes(f);
  }
  if (f.dateFrom) body.date_from = f.dateFrom;
  if (f.dateTo) body.date_to = f.dateTo;
  const flagNames = { hasWorkflow: "has_workflow", hasPrompt: "has_prompt", hasEdits: "has_edits", hasTags: "has_tags" };
  for (const [field, name] of Object.entries(flagNames)) {
    const value = f[/** @type {"hasWorkflow"} */ (field)];
    if (value !== "any") body[name] = value === "yes";
  }
  if (f.tags.length) body.tags = [...f.tags];
  if (f.minRating > 0) body.min_rating = f.minRating;
  if (f.model) body.model = f.model;
  if (f.lora) body.lora = f.lora;
  return body;
}

/**
 * A stable key of everything that changes the result list (not the paging).
 * @param {Filters} f
 * @param {{folders?: string[], formats?: string[]}} [known]
 */
export function queryKey(f, known) {
  return JSON.stringify(listBody(f, known));
}

/**
 * All / None / Invert on the folder checkboxes; locked folders keep their state.
 * @param {Filters} f
 * @param {"all" | "none" | "invert"} action
 * @param {string[]} folders every known top-level folder
 * @returns {Filters}
 */
export function applyFolderAction(f, action, folders) {
  const locked = new Set(f.lockedFolders);
  const excluded = new Set(f.excludedFolders);
  const next = new Set([...excluded].filter((name) => locked.has(name) || !folders.includes(name)));
  for (const name of folders) {
    if (locked.has(name)) continue;
    const wasExcluded = excluded.has(name);
    const exclude = action === "none" ? true : action === "all" ? false : !wasExcluded;
    if (exclude) next.add(name);
  }
  return { ...f, trashcan: false, excludedFolders: [...next] };
}

/**
 * Ticks or unticks one folder.
 * @param {Filters} f
 * @param {string} folder
 * @param {boolean} included
 * @returns {Filters}
 */
export function setFolderIncluded(f, folder, included) {
  const excluded = new Set(f.excludedFolders);
  if (included) excluded.delete(folder);
  else excluded.add(folder);
  return { ...f, excludedFolders: [...excluded] };
}

/**
 * Locks or unlocks one folder.
 * @param {Filters} f
 * @param {string} folder
 * @param {boolean} locked
 * @returns {Filters}
 */
export function setFolderLocked(f, folder, locked) {
  const set = new Set(f.lockedFolders);
  if (locked) set.add(folder);
  else set.delete(folder);
  return { ...f, lockedFolders: [...set] };
}

/**
 * Reset: everything back to its default. With `keepLocks`, locked folders keep both
 * their lock and their ticked state (the dialog "Reset (keep locks)").
 * @param {Filters} f
 * @param {{keepLocks?: boolean}} [options]
 * @returns {Filters}
 */
export function resetFilters(f, { keepLocks = false } = {}) {
  const d = defaultFilters();
  if (!keepLocks) return d;
  const locked = new Set(f.lockedFolders);
  return {
    ...d,
    sort: f.sort,
    lockedFolders: [...locked],
    excludedFolders: f.excludedFolders.filter((name) => locked.has(name)),
  };
}

/**
 * How many filters narrow the list (for the "Reset" badge); sort and locks do not count.
 * @param {Filters} f
 */
export function activeFilterCount(f) {
  let n = 0;
  if (f.search.trim()) n++;
  if (f.dateFrom || f.dateTo) n++;
  if (f.excludedFolders.length) n++;
  if (f.trashcan) n++;
  if (f.excludedFormats.length) n++;
  for (const flag of FLAG_FILTERS) if (f[/** @type {"hasWorkflow"} */ (flag)] !== "any") n++;
  if (f.tags.length) n++;
  if (f.minRating) n++;
  if (f.model) n++;
  if (f.lora) n++;
  if (f.folderPrefix) n++;
  return n;
}

/**
 * Picks the index's spelling of a model/LoRA name for a value a ComfyUI node shows
 * ("SDXL/juggernaut.safetensors" vs "juggernaut.safetensors" vs "juggernaut").
 * Exact match first, then the same file name, then the same name without extension;
 * among several, the most used. Null when none matches.
 * @param {string} value
 * @param {Array<{name: string, count?: number}>} options
 * @returns {string | null}
 */
export function matchModelName(value, options) {
  if (!value) return null;
  const base = (/** @type {string} */ s) => s.replace(/\\/g, "/").split("/").pop() || "";
  const stem = (/** @type {string} */ s) => base(s).replace(/\.(safetensors|ckpt|pt|pth|bin|sft|gguf|pkl|pt2)$/i, "").toLowerCase();
  const byCount = (/** @type {any[]} */ list) => list.sort((a, b) => (b.count || 0) - (a.count || 0))[0]?.name ?? null;
  const exact = options.find((o) => o.name === value);
  if (exact) return exact.name;
  const sameFile = options.filter((o) => base(o.name).toLowerCase() === base(value).toLowerCase());
  if (sameFile.length) return byCount(sameFile);
  const sameStem = options.filter((o) => stem(o.name) === stem(value));
  return sameStem.length ? byCount(sameStem) : null;
}
