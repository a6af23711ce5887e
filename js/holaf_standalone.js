/**
 * The standalone page (`/` of `python . --output-dir DIR`, and `/holaf/view`): a top bar
 * listing the same tools as ComfyUI's Holaf Utilities menu, the toasts and the themes.
 * Exports `startStandalone()`; nothing runs at import (ComfyUI imports this file too).
 * @module holaf_standalone
 */
import { el, ensureShellStyles, isTextInput } from "./common/dom.js";
import { createStandaloneHost } from "./common/host.js";
import { listPanels } from "./common/panel_manager.js";
import { restartComfyUI } from "./common/restart.js";
import { applyTheme } from "./common/themes.js";
import { comboId, comboLabel, loadTools, openTool, toggleTool } from "./common/tools.js";
import { ListenerPool } from "./common/events.js";

/**
 * @typedef {object} StandaloneApp
 * @property {import("./common/host.js").HolafHost} host
 * @property {import("./common/tools.js").ToolDescriptor[]} tools
 * @property {() => void} destroy
 */

/**
 * Builds the page inside `root` (default `#holaf-root`).
 * @param {{root?: HTMLElement}} [options]
 * @returns {Promise<StandaloneApp>}
 */
export async function startStandalone(options = {}) {
  const root = options.root || document.getElementById("holaf-root") || document.body;
  ensureShellStyles();
  const host = createStandaloneHost();
  const pool = new ListenerPool();
  const [tools, info] = await Promise.all([
    loadTools({ hostMode: "standalone" }),
    host.getInfo().catch((error) => {
      host.toasts.error(`The server does not answer: ${error?.message || error}`);
      return null;
    }),
  ]);
  const applyPageTheme = () => applyTheme(document.body, host.settings.get("UtilitiesUI", "default_theme"));
  applyTheme(document.body, undefined);
  host.settings.load().then(applyPageTheme, (error) => host.toasts.error(`Cannot load the settings: ${error?.message || error}`));
  pool.track(host.settings.on("change", (event) => {
    if (event.detail.section === "UtilitiesUI" && "default_theme" in event.detail.values) applyPageTheme();
  }));

  /** @type {Map<string, HTMLButtonElement>} */
  const buttons = new Map();
  const toolBar = el("nav", { className: "holaf-topbar-tools", attrs: { "aria-label": "Tools" } });
  for (const tool of tools) {
    const button = el("button", {
      className: "holaf-topbar-button", testid: `holaf-tool-${tool.id}`,
      attrs: { type: "button", title: tool.keybinding ? `${tool.tooltip || tool.title} (${comboLabel(tool.keybinding)})` : tool.tooltip || tool.title },
      children: [tool.icon ? el("span", { text: tool.icon, attrs: { "aria-hidden": "true" } }) : null, tool.title],
    });
    pool.add(button, "click", () => { openTool(tool, host); });
    buttons.set(tool.id, button);
    toolBar.appendChild(button);
  }
  const right = el("div", { className: "holaf-topbar-right" });
  if (host.canRestart) {
    const restart = el("button", { className: "holaf-topbar-button", testid: "holaf-restart", text: "Restart ComfyUI", attrs: { type: "button" } });
    pool.add(restart, "click", () => { restartComfyUI(host); });
    right.appendChild(restart);
  }
  const topbar = el("header", {
    className: "holaf-topbar", testid: "holaf-topbar",
    children: [
      el("div", {
        className: "holaf-topbar-brand",
        children: [el("span", { className: "holaf-accent-dot" }), "Holaf Utilities", el("span", { className: "holaf-topbar-version", text: info ? `v${info.version}` : "" })],
      }),
      toolBar, right,
    ],
  });
  const shortcuts = tools.filter((t) => t.keybinding);
  const hint = el("div", {
    className: "holaf-standalone-hint", testid: "holaf-standalone-hint",
    children: [
      el("h1", { text: "Holaf Utilities" }),
      el("p", { text: info?.mode === "comfyui" ? "Served by ComfyUI." : "Running without ComfyUI." }),
      el("p", { text: "Open a tool from the bar above. Panels can be dragged, resized from any edge and made fullscreen with a double-click on their title." }),
      shortcuts.length
        ? el("p", { children: shortcuts.flatMap((t, i) => [i ? " · " : "", el("span", { className: "holaf-kbd", text: comboLabel(/** @type {any} */ (t.keybinding)) }), ` ${t.title}`]) })
        : null,
    ],
  });
  const shell = el("div", {
    className: "holaf-standalone-shell",
    children: [topbar, el("main", { className: "holaf-standalone-main", children: [hint] })],
  });
  root.replaceChildren(shell);

  // Mark the buttons of open tools.
  const refreshOpen = () => {
    const open = new Set(listPanels().map((p) => p.id));
    for (const [id, button] of buttons) button.classList.toggle("holaf-open", open.has(id));
  };
  const observer = new MutationObserver(refreshOpen);
  observer.observe(document.body, { childList: true });
  pool.track(() => observer.disconnect());

  // Same shortcuts as inside ComfyUI.
  const byCombo = new Map(shortcuts.map((t) => [comboId(/** @type {any} */ (t.keybinding)), t]));
  pool.add(window, "keydown", (event) => {
    const e = /** @type {KeyboardEvent} */ (event);
    if (e.repeat || (isTextInput(e.target) && !(e.altKey || e.ctrlKey || e.metaKey))) return;
    const tool = byCombo.get(comboId({ key: e.key, ctrl: e.ctrlKey, alt: e.altKey, shift: e.shiftKey, meta: e.metaKey }));
    if (!tool) return;
    e.preventDefault();
    toggleTool(tool, host);
  });
  pool.add(window, "pagehide", () => host.settings.flush({ keepalive: true }));

  return {
    host,
    tools,
    destroy() {
      pool.removeAll();
      host.destroy();
      shell.remove();
    },
  };
}
