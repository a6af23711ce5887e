/**
 * Tool descriptor of the Settings panel (see common/tools.js). No side effects at import.
 * @module holaf_settings_tool
 */
import { openSettingsPanel, SETTINGS_PANEL_ID } from "./common/settings_panel.js";

/** @type {import("./common/tools.js").ToolDescriptor} */
const settingsTool = {
  id: SETTINGS_PANEL_ID,
  title: "Settings",
  section: "UtilitiesUI",
  order: 900,
  icon: "⚙",
  comfyIcon: "pi pi-cog",
  tooltip: "Holaf Utilities settings, password and server",
  open: (host) => openSettingsPanel(host),
};

export default settingsTool;
