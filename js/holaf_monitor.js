/**
 * System Monitor tool: a compact floating overlay (a shell panel) with live value chips and
 * one small chart per metric family, fed by `/holaf/monitor/ws`. Opening it subscribes, closing
 * it unsubscribes, and with nobody subscribed the server samples nothing. The collapse button
 * folds it to the chips; position, collapsed state and chart window persist in `[SystemMonitor]`.
 * No side effects at import.
 * @module holaf_monitor
 */
import { el, ensureStylesheet } from "./common/dom.js";
import { createPanel, getPanel } from "./common/panel_manager.js";
import { MonitorClient } from "./monitor/client.js";
import { MonitorView } from "./monitor/view.js";

export const MONITOR_PANEL_ID = "monitor";
export const MONITOR_SECTION = "SystemMonitor";
export const MONITOR_WS_PATH = "/holaf/monitor/ws";
const DEFAULT_SIZE = { width: 380, height: 320 };
const MIN_SIZE = { width: 240, height: 120 };
const EDGE_MARGIN = 16;
const TOP_MARGIN = 48;

/** @type {{panel: any, view: MonitorView, client: MonitorClient} | null} */
let session = null;

/**
 * @param {HTMLButtonElement} button
 * @param {boolean} collapsed
 */
function setCollapseButton(button, collapsed) {
  button.textContent = collapsed ? "▸" : "▾";
  button.title = collapsed ? "Show the charts" : "Fold to the values";
  button.setAttribute("aria-expanded", String(!collapsed));
}

/** Top-right corner the first time (a monitor should not sit over the middle of the graph). */
function placeFirstTime(panel, host) {
  const saved = host.settings.get(MONITOR_SECTION, "panel_x", null);
  if (saved !== null && saved !== undefined) return;
  const rect = panel.getRect();
  const width = document.documentElement.clientWidth || window.innerWidth;
  panel.setRect({ x: Math.max(0, width - rect.width - EDGE_MARGIN), y: TOP_MARGIN });
}

/**
 * Opens the monitor, or shows and focuses the open one.
 * @param {import("./common/host.js").HolafHost} host
 */
export async function openMonitor(host) {
  if (session && session.panel.isOpen) {
    session.panel.show();
    session.view.setVisible(true);
    return session.panel;
  }
  ensureStylesheet(new URL("monitor/monitor.css", host.jsBase).href, "monitor");
  try {
    await host.settings.load();
  } catch (error) {
    console.warn("[Holaf] settings unavailable; the monitor opens with defaults", error);
  }
  const setting = (key, fallback) => host.settings.get(MONITOR_SECTION, key, fallback);
  let collapsed = Boolean(setting("collapsed", false));
  const collapseButton = el("button", {
    className: "holaf-icon-button holaf-monitor-collapse", testid: "holaf-monitor-collapse",
    attrs: { type: "button", "aria-label": "Fold or unfold the System Monitor" },
  });
  setCollapseButton(collapseButton, collapsed);

  const panel = createPanel({
    id: MONITOR_PANEL_ID,
    title: "System Monitor",
    section: MONITOR_SECTION,
    host,
    icon: "∿",
    className: "holaf-monitor-panel",
    defaultSize: DEFAULT_SIZE,
    minSize: MIN_SIZE,
    headerControls: [collapseButton],
    onClose: () => {
      if (session?.panel === panel) {
        session.client.close();
        session.view.destroy();
        session = null;
      }
    },
  });
  panel.element.classList.toggle("holaf-monitor-collapsed", collapsed);

  const view = new MonitorView(panel.body, {
    window: setting("window", "10m"),
    collapsed,
    onWindowChange: (windowKey) => host.settings.queue(MONITOR_SECTION, { window: windowKey }),
  });
  const client = new MonitorClient(() => host.wsUrl(MONITOR_WS_PATH), {
    onHistory: (message) => view.loadHistory(message),
    onSample: (message) => view.addSample(message),
    onJob: (message) => view.addJob(message),
    onState: (state, detail) => view.setConnection(state, detail),
    onError: (message) => console.warn("[Holaf] System Monitor:", message.error),
  });
  session = { panel, view, client };

  panel.listeners.add(collapseButton, "click", () => {
    collapsed = !collapsed;
    setCollapseButton(collapseButton, collapsed);
    panel.element.classList.toggle("holaf-monitor-collapsed", collapsed);
    view.setCollapsed(collapsed);
    host.settings.queue(MONITOR_SECTION, { collapsed });
  });
  panel.listeners.track(panel.on("theme", () => view.refreshColors()));
  panel.listeners.track(host.settings.on("change", (event) => {
    const { section, values } = event.detail;
    if (section === "UtilitiesUI" && "default_theme" in values) view.refreshColors();
    if (section === MONITOR_SECTION && "update_interval_ms" in values) client.setInterval(values.update_interval_ms);
  }));

  client.open(setting("update_interval_ms", 1000));
  panel.ready.then(() => {
    if (panel.isOpen) placeFirstTime(panel, host);
  });
  return panel;
}

/**
 * Close when it is the front panel, otherwise open/show it (the menu entry and shortcut).
 * @param {import("./common/host.js").HolafHost} host
 */
export function toggleMonitor(host) {
  const panel = getPanel(MONITOR_PANEL_ID);
  if (panel && panel.isVisible && panel.element.classList.contains("holaf-panel-active")) {
    panel.close();
    return null;
  }
  return openMonitor(host);
}

/** @type {import("./common/tools.js").ToolDescriptor} */
const monitorTool = {
  id: MONITOR_PANEL_ID,
  title: "System Monitor",
  section: MONITOR_SECTION,
  order: 400,
  icon: "∿",
  comfyIcon: "pi pi-chart-line",
  tooltip: "CPU, RAM, disks and GPUs with history (samples only while open)",
  keybinding: { key: "M", alt: true, shift: true },
  open: (host) => openMonitor(host),
  toggle: (host) => toggleMonitor(host),
};

export default monitorTool;
