/**
 * The ONE bridge between Holaf tools and whatever hosts them. `createComfyHost(app, api)`
 * (inside ComfyUI; only holaf_main.js calls it) and `createStandaloneHost()` (the
 * standalone page and `/holaf/view`) return the same {@link HolafHost} interface, so
 * a tool never imports ComfyUI's scripts and runs unchanged in both places.
 * No side effects at import.
 * @module common/host
 */
import { HolafApiError, requestJson } from "./api.js";
import { requestViaBridge } from "./bridge.js";
import { ServerEventSocket } from "./server_events.js";
import { SettingsStore } from "./settings_store.js";
import { ToastManager } from "./toast.js";
import { normalizeTheme } from "./themes.js";

export { HolafApiError };

/**
 * @typedef {import("./api.js").FetchJsonOptions} FetchJsonOptions
 * @typedef {import("./bridge.js").BridgeResult} BridgeResult
 * @typedef {import("./toast.js").ToastOptions} ToastOptions
 */

/**
 * `GET /holaf/utilities/info`.
 * @typedef {object} ServerInfo
 * @property {"comfyui" | "standalone"} mode
 * @property {string} version
 * @property {number} pid
 * @property {number} started_at changes when the server restarts
 * @property {boolean} can_restart
 * @property {boolean} password_configured
 * @property {boolean} authenticated
 * @property {string[]} features
 * @property {string} data_dir
 */

/**
 * @typedef {object} HolafHost
 * @property {"comfyui" | "standalone"} mode which page we are in: inside ComfyUI's app, or a
 *   Holaf page of its own (the standalone server, or `/holaf/view` opened from ComfyUI)
 * @property {"comfyui" | "standalone"} serverMode which server answers (`/holaf/view` served by
 *   ComfyUI is mode "standalone" with serverMode "comfyui")
 * @property {string} jsBase absolute URL of the extension's js/ folder, ending in "/"
 * @property {boolean} canRestart the Restart ComfyUI action makes sense here
 * @property {(path: string) => string} apiUrl URL of a Holaf API route ("/holaf/…"); inside ComfyUI it
 *   goes through `api.apiURL` (the `/api` prefix, reverse-proxy base paths)
 * @property {(path: string) => string} pageUrl URL of a server page (e.g. "/holaf/view"), never under `/api`
 * @property {(path: string, options?: FetchJsonOptions) => Promise<any>} fetchJson JSON request to a Holaf
 *   route; throws HolafApiError (status, code, message, errors, retryAfter)
 * @property {(path: string) => string} wsUrl ws:// or wss:// URL of a Holaf WebSocket route
 * @property {(type: string, callback: (data: any) => void) => () => void} onServerEvent
 *   server push (`ctx.events.publish`, and ComfyUI execution events inside ComfyUI); returns unsubscribe
 * @property {(workflow: object, options?: {newTab?: boolean, name?: string}) => Promise<BridgeResult>} loadWorkflow
 *   loads a UI-format workflow into ComfyUI (here, or in a ComfyUI tab of the same origin)
 * @property {(apiGraph: object, options?: {workflow?: object}) => Promise<BridgeResult>} queuePrompt
 *   queues an API-format graph in ComfyUI (here, or through a ComfyUI tab)
 * @property {(message: string, options?: ToastOptions) => string} notify shows a Holaf toast; returns its id
 * @property {ToastManager} toasts the toast manager (update/dismiss/progress)
 * @property {SettingsStore} settings config.ini for the UI (load/get/save/queue)
 * @property {(options?: {force?: boolean}) => Promise<ServerInfo>} getInfo
 * @property {{app: any, api: any} | null} comfy ComfyUI's app/api objects inside ComfyUI, else null.
 *   Last resort for ComfyUI-only features (graph access); prefer the methods above.
 * @property {() => void} destroy
 */

/**
 * Parts shared by both hosts.
 * @param {object} base
 * @param {HolafHost["mode"]} base.mode
 * @param {HolafHost["serverMode"]} base.serverMode
 * @param {string} base.jsBase
 * @param {boolean} base.canRestart
 * @param {(path: string) => string} base.apiUrl
 * @param {(path: string) => string} base.pageUrl
 * @param {(path: string) => string} base.wsUrl
 * @param {HolafHost["onServerEvent"]} base.onServerEvent
 * @param {HolafHost["loadWorkflow"]} base.loadWorkflow
 * @param {HolafHost["queuePrompt"]} base.queuePrompt
 * @param {{app: any, api: any} | null} base.comfy
 * @param {() => void} [base.destroy]
 * @returns {HolafHost}
 */
function assembleHost(base) {
  /** @type {Promise<ServerInfo> | null} */
  let info = null;
  /** @type {HolafHost} */
  const host = /** @type {any} */ ({ ...base });
  host.fetchJson = (path, options) => requestJson(base.apiUrl(path), options);
  host.settings = new SettingsStore(host);
  host.toasts = new ToastManager({
    theme: () => normalizeTheme(host.settings.get("UtilitiesUI", "default_theme")),
  });
  host.settings.onQueuedSaveError = (error) => {
    console.error("[Holaf] saving panel settings failed", error);
    host.toasts.error(`Could not save panel settings: ${error?.message || error}`, { id: "holaf-settings-save-failed" });
  };
  host.notify = (message, options) => host.toasts.show(message, options);
  host.getInfo = ({ force = false } = {}) => {
    if (!info || force) {
      const pending = host.fetchJson("/holaf/utilities/info");
      info = pending;
      pending.catch(() => { if (info === pending) info = null; });
    }
    return info;
  };
  const unwatch = base.onServerEvent("holaf.settings.changed", () => {
    if (host.settings.loaded) host.settings.load({ force: true }).catch(() => {});
  });
  host.destroy = () => {
    unwatch();
    host.settings.flush();
    host.settings.destroy();
    host.toasts.destroy();
    base.destroy?.();
  };
  return host;
}

/** @param {string} url */
function toWebSocketUrl(url) {
  const absolute = new URL(url, location.href);
  absolute.protocol = absolute.protocol === "https:" ? "wss:" : "ws:";
  return absolute.href;
}

/**
 * The host inside ComfyUI. Only holaf_main.js calls this, with ComfyUI's `app` and `api`.
 * @param {any} app `import { app } from "../../scripts/app.js"`
 * @param {any} api `import { api } from "../../scripts/api.js"`
 * @param {{jsBase?: string}} [options] jsBase defaults to this module's js/ folder
 * @returns {HolafHost}
 */
export function createComfyHost(app, api, options = {}) {
  const jsBase = options.jsBase || new URL("../", import.meta.url).href;
  const root = new URL("../../", jsBase); // js/ is served at <root>/extensions/<folder>/
  const apiUrl = (/** @type {string} */ path) => (typeof api?.apiURL === "function" ? api.apiURL(path) : `/api${path}`);
  return assembleHost({
    mode: "comfyui",
    serverMode: "comfyui",
    jsBase,
    canRestart: true,
    comfy: { app, api },
    apiUrl,
    pageUrl: (path) => new URL(path.replace(/^\//, ""), root).href,
    wsUrl: (path) => toWebSocketUrl(apiUrl(path)),
    onServerEvent(type, callback) {
      const listener = (/** @type {CustomEvent} */ event) => callback(event.detail);
      api.addEventListener(type, listener);
      return () => api.removeEventListener(type, listener);
    },
    async loadWorkflow(workflow, opts = {}) {
      await loadWorkflowInComfy(app, workflow, opts);
      return { ok: true, tabId: "self" };
    },
    async queuePrompt(apiGraph, opts = {}) {
      const data = await queuePromptInComfy(api, apiGraph, opts);
      return { ok: true, tabId: "self", data };
    },
  });
}

/**
 * `app.loadGraphData` with a tab name; frontends open it as a workflow tab.
 * @param {any} app
 * @param {object} workflow
 * @param {{newTab?: boolean, name?: string}} [options]
 */
export async function loadWorkflowInComfy(app, workflow, options = {}) {
  if (!workflow || typeof workflow !== "object") throw new TypeError("workflow must be an object");
  const name = options.name || (options.newTab ? "Holaf workflow" : null);
  await app.loadGraphData(workflow, true, true, name);
}

/**
 * `api.queuePrompt(0, {output, workflow})`: the API-format graph, with the UI workflow as metadata.
 * @param {any} api
 * @param {object} apiGraph
 * @param {{workflow?: object}} [options]
 */
export async function queuePromptInComfy(api, apiGraph, options = {}) {
  if (!apiGraph || typeof apiGraph !== "object") throw new TypeError("the API graph must be an object");
  return api.queuePrompt(0, { output: apiGraph, workflow: options.workflow ?? null });
}

/**
 * The host of a Holaf page of its own: the standalone server's `/`, or `/holaf/view`
 * (served by the standalone server or by ComfyUI, see `<meta name="holaf-mode">`).
 * @param {{jsBase?: string, serverMode?: "comfyui" | "standalone"}} [options]
 * @returns {HolafHost}
 */
export function createStandaloneHost(options = {}) {
  const jsBase = options.jsBase || new URL("../", import.meta.url).href;
  const root = new URL("../../", jsBase);
  const meta = /** @type {HTMLMetaElement | null} */ (document.querySelector('meta[name="holaf-mode"]'));
  const serverMode = options.serverMode || (meta?.content === "comfyui" ? "comfyui" : "standalone");
  const absolute = (/** @type {string} */ path) => new URL(path.replace(/^\//, ""), root).href;
  // ComfyUI pushes events on its own socket (/ws); the standalone server on /holaf/events.
  const socket = new ServerEventSocket(() => toWebSocketUrl(absolute(serverMode === "comfyui" ? "/ws" : "/holaf/events")));
  return assembleHost({
    mode: "standalone",
    serverMode,
    jsBase,
    canRestart: serverMode === "comfyui",
    comfy: null,
    apiUrl: absolute,
    pageUrl: absolute,
    wsUrl: (path) => toWebSocketUrl(absolute(path)),
    onServerEvent: (type, callback) => socket.subscribe(type, callback),
    loadWorkflow(workflow, opts = {}) {
      if (!workflow || typeof workflow !== "object") return Promise.reject(new TypeError("workflow must be an object"));
      return requestViaBridge("LOAD_WORKFLOW", { workflow, newTab: !!opts.newTab, name: opts.name || null });
    },
    queuePrompt(apiGraph, opts = {}) {
      if (!apiGraph || typeof apiGraph !== "object") return Promise.reject(new TypeError("the API graph must be an object"));
      return requestViaBridge("QUEUE_PROMPT", { output: apiGraph, workflow: opts.workflow ?? null });
    },
    destroy: () => socket.destroy(),
  });
}
