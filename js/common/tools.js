/**
 * The tool registry: each tool is a module whose default export (or `tool` export) is a
 * {@link ToolDescriptor}. Both entry points (holaf_main.js inside ComfyUI, holaf_standalone.js)
 * load the static list {@link TOOL_MODULES}; a tool that is not built yet is simply not in
 * the list, and one that fails to load is logged and skipped. No side effects at import.
 * @module common/tools
 */
import { getPanel } from "./panel_manager.js";

/**
 * @typedef {import("./host.js").HolafHost} HolafHost
 */

/**
 * @typedef {object} KeyCombo
 * @property {string} key KeyboardEvent.key, e.g. "T" with shift, "t" without (compared case-insensitively)
 * @property {boolean} [ctrl]
 * @property {boolean} [alt]
 * @property {boolean} [shift]
 * @property {boolean} [meta]
 */

/**
 * @typedef {object} ToolDescriptor
 * @property {string} id stable id; also the id of the tool's panel (`holaf-panel-<id>`) and of its ComfyUI
 *   command (`Holaf.Utilities.Tool.<id>`)
 * @property {string} title menu label
 * @property {string} section config.ini section of the tool (geometry, theme)
 * @property {number} order position in menus (Settings is 900)
 * @property {string} [icon] emoji/short text for the standalone bar and panel header
 * @property {string} [comfyIcon] PrimeIcons class for ComfyUI menus, e.g. "pi pi-image"
 * @property {string} [tooltip]
 * @property {KeyCombo} [keybinding] default shortcut inside ComfyUI; use Alt+Shift+<letter> (free in ComfyUI,
 *   and passed through by Holaf panels)
 * @property {Array<"comfyui" | "standalone">} [hosts] where the tool is offered (default both)
 * @property {(host: HolafHost, options?: Record<string, any>) => any} open opens (or focuses) the tool
 * @property {(host: HolafHost) => any} [toggle] default: close if in front, else open/focus
 */

/** Tool modules, relative to this file. Add one line per tool when it lands. */
export const TOOL_MODULES = Object.freeze([
  "../holaf_terminal.js",
  "../holaf_monitor.js",
  "../holaf_settings_tool.js",
]);

/**
 * ComfyUI's default shortcuts (frontend 1.27/1.58 core keybindings) that a Holaf tool must not take.
 * Written as comboId() strings.
 */
export const COMFY_CORE_COMBOS = Object.freeze([
  "ctrl+enter", "ctrl+shift+enter", "ctrl+alt+enter", "ctrl+z", "ctrl+y", "ctrl+shift+z", "ctrl+s", "ctrl+o",
  "ctrl+a", "ctrl+c", "ctrl+v", "ctrl+shift+v", "ctrl+b", "ctrl+m", "ctrl+g", "ctrl+,", "ctrl+`", "ctrl+shift+k",
  "ctrl+shift+e", "alt+=", "alt++", "alt+shift++", "alt+-", "alt+c", "alt+m", "r", "q", "w", "f", "p", "h", "n",
  "m", "v", ".", "escape", "delete", "backspace", "space",
]);

/**
 * Canonical text of a combo: "ctrl+alt+shift+meta+key", lower case.
 * @param {KeyCombo} combo
 */
export function comboId(combo) {
  const key = String(combo.key || "").toLowerCase();
  return [combo.ctrl && "ctrl", combo.alt && "alt", combo.shift && "shift", combo.meta && "meta", key === " " ? "space" : key]
    .filter(Boolean).join("+");
}

/**
 * Human label, e.g. "Alt+Shift+T".
 * @param {KeyCombo} combo
 */
export function comboLabel(combo) {
  const key = String(combo.key || "");
  return [combo.ctrl && "Ctrl", combo.alt && "Alt", combo.shift && "Shift", combo.meta && "Meta", key.length === 1 ? key.toUpperCase() : key]
    .filter(Boolean).join("+");
}

/**
 * Problems with a descriptor (empty = valid).
 * @param {any} tool
 * @returns {string[]}
 */
export function validateTool(tool) {
  const problems = [];
  if (!tool || typeof tool !== "object") return ["not an object"];
  if (typeof tool.id !== "string" || !/^[a-z][a-z0-9-]*$/.test(tool.id)) problems.push("id must be lower-case letters, digits and dashes");
  if (typeof tool.title !== "string" || !tool.title) problems.push("title is required");
  if (typeof tool.section !== "string" || !tool.section) problems.push("section is required");
  if (typeof tool.order !== "number" || !Number.isFinite(tool.order)) problems.push("order must be a number");
  if (typeof tool.open !== "function") problems.push("open(host) is required");
  if (tool.toggle !== undefined && typeof tool.toggle !== "function") problems.push("toggle must be a function");
  if (tool.keybinding !== undefined) {
    if (!tool.keybinding || typeof tool.keybinding.key !== "string" || !tool.keybinding.key) problems.push("keybinding.key is required");
    else if (COMFY_CORE_COMBOS.includes(comboId(tool.keybinding))) problems.push(`keybinding ${comboLabel(tool.keybinding)} is taken by ComfyUI`);
  }
  return problems;
}

/**
 * Orders tools and drops invalid or duplicate ones (logged).
 * @param {any[]} candidates
 * @param {"comfyui" | "standalone"} [hostMode]
 * @returns {ToolDescriptor[]}
 */
export function registerTools(candidates, hostMode) {
  /** @type {Map<string, ToolDescriptor>} */
  const byId = new Map();
  for (const tool of candidates) {
    const problems = validateTool(tool);
    if (problems.length) {
      console.error(`[Holaf] tool ${tool?.id ?? "?"} ignored: ${problems.join("; ")}`);
      continue;
    }
    if (byId.has(tool.id)) {
      console.error(`[Holaf] tool ${tool.id} is listed twice; the first one is kept`);
      continue;
    }
    if (hostMode && Array.isArray(tool.hosts) && !tool.hosts.includes(hostMode)) continue;
    byId.set(tool.id, tool);
  }
  return [...byId.values()].sort((a, b) => a.order - b.order || a.title.localeCompare(b.title));
}

/**
 * Imports the tool modules (in parallel); a module that fails is logged and skipped.
 * @param {{modules?: readonly string[], base?: string, hostMode?: "comfyui" | "standalone", importer?: (url: string) => Promise<any>}} [options]
 * @returns {Promise<ToolDescriptor[]>}
 */
export async function loadTools(options = {}) {
  const { modules = TOOL_MODULES, base = import.meta.url, hostMode, importer = (url) => import(url) } = options;
  const loaded = await Promise.all(modules.map(async (path) => {
    const url = new URL(path, base).href;
    try {
      const module = await importer(url);
      const tool = module.default || module.tool;
      if (!tool) console.error(`[Holaf] ${path} exports no tool descriptor`);
      return tool || null;
    } catch (error) {
      console.error(`[Holaf] tool module ${path} failed to load; the others keep working`, error);
      return null;
    }
  }));
  return registerTools(loaded.filter(Boolean), hostMode);
}

/**
 * The default toggle: close the tool's panel when it is in front, otherwise open/focus it.
 * @param {ToolDescriptor} tool
 * @param {HolafHost} host
 */
export function toggleTool(tool, host) {
  if (tool.toggle) return tool.toggle(host);
  const panel = getPanel(tool.id);
  if (panel && panel.isVisible && panel.element.classList.contains("holaf-panel-active")) {
    panel.close();
    return null;
  }
  return tool.open(host);
}

/**
 * Opens a tool, turning a failure into a toast instead of an unhandled rejection.
 * @param {ToolDescriptor} tool
 * @param {HolafHost} host
 * @param {Record<string, any>} [options]
 */
export async function openTool(tool, host, options) {
  try {
    return await tool.open(host, options);
  } catch (error) {
    console.error(`[Holaf] opening ${tool.title} failed`, error);
    host.toasts.error(`${tool.title} could not open: ${/** @type {any} */ (error)?.message || error}`);
    return null;
  }
}
