/**
 * One shared, reconnecting WebSocket for server push outside ComfyUI (standalone
 * `/holaf/events`, or ComfyUI's `/ws` when the full page is opened from ComfyUI).
 * Messages are `{"type", "data"}`; subscribers get `data`. The socket opens on the
 * first subscription and closes when the last one leaves. No side effects at import.
 * @module common/server_events
 */
import { Eventable } from "./events.js";
import { backoffDelay } from "./api.js";

export class ServerEventSocket extends Eventable {
  /**
   * @param {() => string} urlFactory WebSocket URL (called at each (re)connect)
   * @param {{WebSocketImpl?: typeof WebSocket, maxDelayMs?: number}} [options]
   */
  constructor(urlFactory, options = {}) {
    super();
    this._urlFactory = urlFactory;
    this._WebSocket = options.WebSocketImpl || globalThis.WebSocket;
    this._maxDelayMs = options.maxDelayMs ?? 10000;
    /** @type {WebSocket | null} */
    this._ws = null;
    this._attempt = 0;
    /** @type {ReturnType<typeof setTimeout> | null} */
    this._retryTimer = null;
    this._subscriptions = 0;
    /** "idle" | "connecting" | "open" | "closed" */
    this.state = "idle";
  }

  /**
   * Calls `callback(data)` for each message of `type`; opens the socket if needed.
   * @param {string} type
   * @param {(data: any) => void} callback
   * @returns {() => void} unsubscribe (idempotent)
   */
  subscribe(type, callback) {
    const off = this.on(`message:${type}`, (event) => callback(event.detail));
    this._subscriptions += 1;
    this._ensureOpen();
    let active = true;
    return () => {
      if (!active) return;
      active = false;
      off();
      this._subscriptions -= 1;
      if (this._subscriptions <= 0) this.close();
    };
  }

  _setState(state) {
    if (this.state === state) return;
    this.state = state;
    this.dispatch("state", state);
  }

  _ensureOpen() {
    if (this._ws || this._retryTimer) return;
    let ws;
    try {
      ws = new this._WebSocket(this._urlFactory());
    } catch (error) {
      console.warn("[Holaf] cannot open the event socket", error);
      this._scheduleRetry();
      return;
    }
    this._ws = ws;
    this._setState("connecting");
    ws.addEventListener("open", () => {
      this._attempt = 0;
      this._setState("open");
    });
    ws.addEventListener("message", (event) => {
      if (typeof event.data !== "string") return; // ComfyUI also sends binary previews
      let message;
      try {
        message = JSON.parse(event.data);
      } catch {
        return;
      }
      if (message && typeof message.type === "string") this.dispatch(`message:${message.type}`, message.data);
    });
    ws.addEventListener("close", () => {
      if (this._ws !== ws) return;
      this._ws = null;
      this._setState("closed");
      if (this._subscriptions > 0) this._scheduleRetry();
    });
  }

  _scheduleRetry() {
    const delay = backoffDelay(this._attempt++, { startMs: 500, factor: 2, maxMs: this._maxDelayMs });
    this._retryTimer = setTimeout(() => {
      this._retryTimer = null;
      if (this._subscriptions > 0) this._ensureOpen();
    }, delay);
  }

  /** Closes the socket and stops reconnecting (subscribers stay registered but idle). */
  close() {
    if (this._retryTimer) clearTimeout(this._retryTimer);
    this._retryTimer = null;
    const ws = this._ws;
    this._ws = null;
    if (ws && ws.readyState <= 1) ws.close();
    this._setState("idle");
  }

  destroy() {
    this._subscriptions = 0;
    this.close();
    this.removeAllListeners();
  }
}
