// WebSocket client of /holaf/monitor/ws: subscribe, reconnect with back-off, slow down while the
// page is hidden. The server samples only while someone is subscribed, so close() really stops
// the cost. No side effects at import.

export const MIN_INTERVAL_MS = 250;
export const MAX_INTERVAL_MS = 10000;
export const HIDDEN_INTERVAL_MS = 5000;
const RETRY_MIN_MS = 1000;
const RETRY_MAX_MS = 30000;

export function clampInterval(ms) {
  const value = Math.round(Number(ms));
  if (!Number.isFinite(value)) return 1000;
  return Math.min(MAX_INTERVAL_MS, Math.max(MIN_INTERVAL_MS, value));
}

export class MonitorClient {
  /**
   * @param {() => string} urlFor  returns the ws:// or wss:// URL (the host bridge knows the base path)
   * @param {{onHistory?: Function, onSample?: Function, onJob?: Function, onState?: Function, onError?: Function}} [handlers]
   */
  constructor(urlFor, handlers = {}, { documentRef = globalThis.document } = {}) {
    this.urlFor = urlFor;
    this.handlers = handlers;
    this.document = documentRef;
    this.intervalMs = 1000;
    this.ws = null;
    this.wanted = false;
    this.retryMs = RETRY_MIN_MS;
    this.retryTimer = null;
    this.state = "closed";
    this._onVisibility = () => this._resubscribe(!this._hidden());
  }

  _hidden() {
    return Boolean(this.document && this.document.visibilityState === "hidden");
  }

  _setState(state, detail) {
    this.state = state;
    this.handlers.onState?.(state, detail);
  }

  open(intervalMs) {
    this.intervalMs = clampInterval(intervalMs ?? this.intervalMs);
    this.wanted = true;
    this.document?.addEventListener?.("visibilitychange", this._onVisibility);
    if (!this.ws) this._connect();
  }

  close() {
    this.wanted = false;
    this.document?.removeEventListener?.("visibilitychange", this._onVisibility);
    clearTimeout(this.retryTimer);
    this.retryTimer = null;
    const ws = this.ws;
    this.ws = null;
    if (ws) {
      try {
        if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify({ type: "unsubscribe" }));
        ws.close(1000, "closed");
      } catch (_) {
        /* already gone */
      }
    }
    this._setState("closed");
  }

  setInterval(intervalMs) {
    this.intervalMs = clampInterval(intervalMs);
    this._resubscribe(false);
  }

  _send(message) {
    if (this.ws && this.ws.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify(message));
  }

  _resubscribe(withHistory) {
    const interval = this._hidden() ? Math.max(this.intervalMs, HIDDEN_INTERVAL_MS) : this.intervalMs;
    this._send({ type: "subscribe", interval_ms: interval, history: withHistory });
  }

  _connect() {
    let ws;
    try {
      ws = new WebSocket(this.urlFor());
    } catch (err) {
      this._scheduleRetry(String(err));
      return;
    }
    this.ws = ws;
    this._setState("connecting");
    ws.onopen = () => {
      this.retryMs = RETRY_MIN_MS;
      this._setState("open");
      this._resubscribe(true);
    };
    ws.onmessage = (event) => {
      let message;
      try {
        message = JSON.parse(event.data);
      } catch (_) {
        return;
      }
      if (message.type === "sample") this.handlers.onSample?.(message);
      else if (message.type === "history") this.handlers.onHistory?.(message);
      else if (message.type === "job") this.handlers.onJob?.(message);
      else if (message.type === "error") this.handlers.onError?.(message);
    };
    ws.onclose = (event) => {
      if (this.ws !== ws) return;
      this.ws = null;
      if (this.wanted) this._scheduleRetry(event.code === 1006 ? "connection lost" : `closed (${event.code})`);
    };
  }

  _scheduleRetry(reason) {
    clearTimeout(this.retryTimer);
    const wait = this.retryMs;
    this.retryMs = Math.min(RETRY_MAX_MS, this.retryMs * 2);
    this._setState("retrying", { reason, inMs: wait });
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      if (this.wanted && !this.ws) this._connect();
    }, wait);
  }
}
