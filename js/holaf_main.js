/**
 * Holaf Utilities inside ComfyUI: the ONLY module that imports ComfyUI's app/api and the
 * only one that registers an extension. It builds the host bridge, loads the tools, and
 * gives ComfyUI a "Holaf Utilities" menu (Extensions → Holaf Utilities), commands,
 * keybindings and one setting, all through `app.registerExtension` (no DOM surgery).
 * It also answers LOAD_WORKFLOW / QUEUE_PROMPT requests from Holaf pages opened in other
 * tabs of the same origin (BroadcastChannel `holaf_comfy_bridge`).
 */
// @ts-ignore ComfyUI serves this shim at runtime (no types for 1.27)
import { app } from "../../scripts/app.js";
// @ts-ignore ComfyUI serves this shim at runtime
import { api } from "../../scripts/api.js";
import { serveBridge } from "./common/bridge.js";
import { createComfyHost, loadWorkflowInComfy, queuePromptInComfy } from "./common/host.js";
import { restartComfyUI } from "./common/restart.js";
import { loadTools, toggleTool } from "./common/tools.js";

const EXTENSION_NAME = "Holaf.Utilities";
const MENU_PATH = ["Extensions", "Holaf Utilities"];
const COMMAND_PREFIX = "Holaf.Utilities";
const SETTING_CONFIRM_RESTART = "Holaf.Utilities.ConfirmRestart";
const VERSION = "0.1.0";

const host = createComfyHost(app, api, { jsBase: new URL("./", import.meta.url).href });
const tools = await loadTools({ hostMode: "comfyui" });

/** A ComfyUI setting value, or the fallback on frontends without the setting store. */
function comfySetting(id, fallback) {
  try {
    const value = app.extensionManager?.setting?.get?.(id);
    return value === undefined || value === null ? fallback : value;
  } catch {
    return fallback;
  }
}

const toolCommands = tools.map((tool) => ({
  id: `${COMMAND_PREFIX}.Tool.${tool.id}`,
  label: tool.title,
  menubarLabel: tool.title,
  icon: tool.comfyIcon || "pi pi-box",
  tooltip: tool.tooltip || `Open or close ${tool.title}`,
  function: () => {
    try {
      return toggleTool(tool, host);
    } catch (error) {
      console.error(`[Holaf] ${tool.title} failed`, error);
      host.toasts.error(`${tool.title}: ${error?.message || error}`);
      return null;
    }
  },
}));

const shellCommands = [
  {
    id: `${COMMAND_PREFIX}.OpenPage`,
    label: "Open Holaf page in a new tab",
    menubarLabel: "Open in New Tab",
    icon: "pi pi-external-link",
    tooltip: "The Holaf Utilities page on its own (same server); workflows load back into this tab",
    function: () => window.open(host.pageUrl("/holaf/view"), "_blank", "noopener"),
  },
  {
    id: `${COMMAND_PREFIX}.Restart`,
    label: "Restart ComfyUI",
    menubarLabel: "Restart ComfyUI",
    icon: "pi pi-refresh",
    tooltip: "Restart the ComfyUI server with the same command line (needs the Holaf password)",
    function: () => restartComfyUI(host, { confirm: comfySetting(SETTING_CONFIRM_RESTART, true) !== false }),
  },
];

app.registerExtension({
  name: EXTENSION_NAME,
  commands: [...toolCommands, ...shellCommands],
  menuCommands: [
    { path: MENU_PATH, commands: [...toolCommands.map((c) => c.id), ...shellCommands.map((c) => c.id)] },
  ],
  keybindings: tools
    .filter((tool) => tool.keybinding)
    .map((tool) => ({ commandId: `${COMMAND_PREFIX}.Tool.${tool.id}`, combo: { ...tool.keybinding } })),
  settings: [
    {
      id: SETTING_CONFIRM_RESTART,
      category: ["Holaf Utilities", "Server", "Confirm restart"],
      name: "Ask for confirmation before restarting ComfyUI",
      type: "boolean",
      defaultValue: true,
    },
  ],
  aboutPageBadges: [
    { label: `Holaf Utilities ${VERSION}`, url: "https://github.com/holaf/ComfyUI-Holaf-Utilities", icon: "pi pi-github" },
  ],
  setup() {
    serveBridge({
      LOAD_WORKFLOW: async (payload) => {
        await loadWorkflowInComfy(app, payload?.workflow, { newTab: !!payload?.newTab, name: payload?.name || undefined });
        host.toasts.success(payload?.name ? `Workflow "${payload.name}" loaded from the Holaf tab.` : "Workflow loaded from the Holaf tab.");
        return { loaded: true };
      },
      QUEUE_PROMPT: (payload) => queuePromptInComfy(api, payload?.output, { workflow: payload?.workflow }),
    });
    window.addEventListener("pagehide", () => host.settings.flush({ keepalive: true }));
  },
});

