/**
 * Cross-tab bridge between a Holaf page opened in its own tab (`/holaf/view`) and the
 * ComfyUI tab(s) of the same origin, over the BroadcastChannel `holaf_comfy_bridge`.
 *
 * Protocol (every message carries a request `id`):
 * 1. requester → `{type: "HELLO", id}`
 * 2. each ComfyUI tab → `{type: "HELLO_ACK", id, tabId, visible, focusedAt, accepts: [...]}`
 * 3. requester picks one tab (visible first, then the most recently focused) and sends
 *    `{type: "LOAD_WORKFLOW" | "QUEUE_PROMPT", id, target: tabId, payload}`
 * 4. that tab → `{type: "RESULT", id, tabId, ok, error?, data?}`
 * So exactly one ComfyUI tab acts, even when several are open. BroadcastChannel is
 * same-origin only: a standalone server on another port has no ComfyUI tab to talk to.
 * No side effects at import.
 * @module common/bridge
 */

export const BRIDGE_CHANNEL = "holaf_comfy_bridge";

/**
 * @typedef {object} BridgeResult
 * @property {boolean} ok
 * @property {string} [tabId] the ComfyUI tab that acted
 * @property {string} [reason] "no_comfyui_tab" | "no_answer" | "failed" | "unsupported"
 * @property {string} [error] message from the ComfyUI tab when it failed
 * @property {any} [data]
 */

function randomId() {
  return globalThis.crypto?.randomUUID?.() ?? `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;
}

/**
 * Asks one ComfyUI tab to run `type` with `payload`.
 * @param {string} type e.g. "LOAD_WORKFLOW"
 * @param {any} payload
 * @param {{helloMs?: number, collectMs?: number, resultMs?: number, ChannelImpl?: typeof BroadcastChannel}} [options]
 * @returns {Promise<BridgeResult>}
 */
export function requestViaBridge(type, payload, options = {}) {
  const { helloMs = 800, collectMs = 150, resultMs = 15000 } = options;
  const Channel = options.ChannelImpl || globalThis.BroadcastChannel;
  if (typeof Channel !== "function") return Promise.resolve({ ok: false, reason: "unsupported" });
  const channel = new Channel(BRIDGE_CHANNEL);
  const id = randomId();
  /** @type {Array<{tabId: string, visible: boolean, focusedAt: number, accepts?: string[]}>} */
  const acks = [];
  return new Promise((resolve) => {
    let target = null;
    let timer = setTimeout(() => finish({ ok: false, reason: "no_comfyui_tab" }), helloMs);
    const finish = (/** @type {BridgeResult} */ result) => {
      clearTimeout(timer);
      channel.close();
      resolve(result);
    };
    const choose = () => {
      const usable = acks.filter((a) => !a.accepts || a.accepts.includes(type));
      if (!usable.length) return finish({ ok: false, reason: acks.length ? "unsupported" : "no_comfyui_tab" });
      usable.sort((a, b) => Number(b.visible) - Number(a.visible) || (b.focusedAt || 0) - (a.focusedAt || 0));
      target = usable[0].tabId;
      channel.postMessage({ type, id, target, payload });
      timer = setTimeout(() => finish({ ok: false, reason: "no_answer", tabId: target }), resultMs);
    };
    channel.onmessage = (event) => {
      const msg = event.data;
      if (!msg || msg.id !== id) return;
      if (msg.type === "HELLO_ACK" && target === null) {
        acks.push(msg);
        if (acks.length === 1) {
          clearTimeout(timer);
          timer = setTimeout(choose, collectMs);
        }
      } else if (msg.type === "RESULT" && msg.tabId === target) {
        finish({ ok: !!msg.ok, tabId: target, error: msg.error, data: msg.data, reason: msg.ok ? undefined : "failed" });
      }
    };
    channel.postMessage({ type: "HELLO", id });
  });
}

/**
 * Inside a ComfyUI tab: answers bridge requests with `handlers[type](payload)`.
 * @param {Record<string, (payload: any) => any>} handlers
 * @param {{ChannelImpl?: typeof BroadcastChannel, win?: Window}} [options]
 * @returns {() => void} stop listening
 */
export function serveBridge(handlers, options = {}) {
  const Channel = options.ChannelImpl || globalThis.BroadcastChannel;
  if (typeof Channel !== "function") return () => {};
  const win = options.win || globalThis.window;
  const channel = new Channel(BRIDGE_CHANNEL);
  const tabId = randomId();
  let focusedAt = win?.document?.hasFocus?.() ? Date.now() : 0;
  const onFocus = () => { focusedAt = Date.now(); };
  win?.addEventListener?.("focus", onFocus);
  channel.onmessage = async (event) => {
    const msg = event.data;
    if (!msg || typeof msg.id !== "string") return;
    if (msg.type === "HELLO") {
      channel.postMessage({
        type: "HELLO_ACK", id: msg.id, tabId,
        visible: win?.document?.visibilityState === "visible",
        focusedAt, accepts: Object.keys(handlers),
      });
      return;
    }
    if (msg.target !== tabId || !Object.prototype.hasOwnProperty.call(handlers, msg.type)) return;
    try {
      const data = await handlers[msg.type](msg.payload);
      channel.postMessage({ type: "RESULT", id: msg.id, tabId, ok: true, data: data ?? null });
    } catch (error) {
      channel.postMessage({ type: "RESULT", id: msg.id, tabId, ok: false, error: String(error?.message || error) });
    }
  };
  return () => {
    win?.removeEventListener?.("focus", onFocus);
    channel.close();
  };
}
