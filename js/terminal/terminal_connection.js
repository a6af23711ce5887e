/**
 * The terminal's WebSocket: typed JSON control, binary output, reconnect with back-off, flow control.
 *
 * No DOM and no side effects at import (ComfyUI imports every js file as an entry module).
 * The panel gives it a URL builder and callbacks; it reports its state through `onEvent`:
 *   {type: "status", state: "connecting" | "open" | "reconnecting" | "exited" | "auth-required" |
 *          "setup-required" | "failed" | "closed", ...details}
 *   {type: "session", info}      first message of every (re)attachment (reset the screen before the replay)
 *   {type: "notice", text}       something the user should know, e.g. "the previous session ended"
 */
import { backoffDelay } from "../common/api.js";

export const CLOSE_CODES = Object.freeze({
  NORMAL: 1000,
  GOING_AWAY: 1001,
  ABNORMAL: 1006,
  SPAWN_FAILED: 1011,
  AUTH_EXPIRED: 4401,
  SESSION_NOT_FOUND: 4404,
  TOO_MANY_CLIENTS: 4409,
  TOO_MANY_SESSIONS: 4429,
});

const INPUT_CHUNK_CHARS = 32 * 1024;
const PING_INTERVAL_MS = 25_000;
const SILENCE_LIMIT_MS = 2 * PING_INTERVAL_MS + 10_000;
const BACKOFF = { startMs: 300, factor: 2, maxMs: 5000 };
// Flow control: pause the shell when xterm.js has this much output still to render.
const PENDING_HIGH = 2 * 1024 * 1024;
const PENDING_LOW = 256 * 1024;

/** Delay before reconnect attempt `attempt` (0-based): the shell's back-off, ±20 % so tabs do not stampede. */
export function reconnectDelay(attempt, random = Math.random) {
  return Math.round(backoffDelay(attempt, BACKOFF) * (0.8 + random() * 0.4));
}

export class TerminalConnection {
  /**
   * @param {object} options
   * @param {(params: URLSearchParams) => string} options.socketUrl absolute ws:// or wss:// URL
   * @param {(bytes: Uint8Array, done: () => void) => void} options.onOutput call `done` once rendered
   * @param {(event: object) => void} options.onEvent
   * @param {() => Promise<"auth"|"setup"|"ok"|"offline">} options.diagnose why a handshake was refused
   * @param {(id: string|null) => void} [options.rememberSession]
   */
  constructor({ socketUrl, onOutput, onEvent, diagnose, rememberSession = () => {} }) {
    this.socketUrl = socketUrl;
    this.onOutput = onOutput;
    this.onEvent = onEvent;
    this.diagnose = diagnose;
    this.rememberSession = rememberSession;
    this.ws = null;
    this.sessionId = null;
    this.state = "closed";
    this.size = { rows: 24, cols: 80 };
    this.attempt = 0;
    this.pending = 0;
    this.pausedByUs = false;
    this._timer = null;
    this._pingTimer = null;
    this._lastMessageAt = 0;
    this._exited = null;
    this._lastError = null;
    this._wanted = false;
    this._onlineHandler = () => {
      if (this.state === "reconnecting") this._open();
    };
  }

  /**
   * Attach to `sessionId` (or start a new shell when null). `token` is a one-time token, if any.
   * @param {{sessionId?: string | null, token?: string | null, rows?: number, cols?: number}} [options]
   */
  connect({ sessionId = null, token = null, rows = 0, cols = 0 } = {}) {
    this.sessionId = sessionId;
    if (rows && cols) this.size = { rows, cols };
    this.attempt = 0;
    this._wanted = true;
    globalThis.addEventListener?.("online", this._onlineHandler);
    this._open(token);
  }

  /** Start a fresh shell (after "exited", or from a "New session" button). */
  newSession() {
    this.disconnect();
    this.sessionId = null;
    this.rememberSession(null);
    this.connect({ sessionId: null });
  }

  /** Detach: the shell keeps running on the server and can be reattached. */
  disconnect() {
    this._wanted = false;
    globalThis.removeEventListener?.("online", this._onlineHandler);
    clearTimeout(this._timer);
    clearInterval(this._pingTimer);
    const ws = this.ws;
    this.ws = null;
    if (ws && ws.readyState <= 1) ws.close(1000, "detached");
    this._setState("closed");
  }

  get isOpen() {
    return this.ws !== null && this.ws.readyState === 1 && this.state === "open";
  }

  sendInput(text) {
    if (!this.isOpen || !text) return false;
    for (let i = 0; i < text.length; i += INPUT_CHUNK_CHARS) {
      this._send({ type: "input", data: text.slice(i, i + INPUT_CHUNK_CHARS) });
    }
    return true;
  }

  /** Raw bytes (xterm's `onBinary`, e.g. some mouse reports): a binary frame, never re-encoded. */
  sendBinary(binaryString) {
    if (!this.isOpen || !binaryString) return false;
    const bytes = new Uint8Array(binaryString.length);
    for (let i = 0; i < binaryString.length; i += 1) bytes[i] = binaryString.charCodeAt(i) & 255;
    try {
      this.ws.send(bytes);
    } catch {
      return false;
    }
    return true;
  }

  resize(rows, cols) {
    if (!(rows > 0 && cols > 0)) return;
    const changed = rows !== this.size.rows || cols !== this.size.cols;
    this.size = { rows, cols };
    if (changed && this.isOpen) this._send({ type: "resize", rows, cols });
  }

  // -- internals -------------------------------------------------------------------------------
  _setState(state, details = {}) {
    this.state = state;
    this.onEvent({ type: "status", state, ...details });
  }

  _send(message) {
    try {
      this.ws.send(JSON.stringify(message));
    } catch {
      /* the close handler deals with it */
    }
  }

  _open(token = null) {
    clearTimeout(this._timer);
    if (!this._wanted) return;
    const params = new URLSearchParams();
    if (this.sessionId) params.set("session", this.sessionId);
    if (token) params.set("token", token);
    params.set("rows", String(this.size.rows));
    params.set("cols", String(this.size.cols));
    this._exited = null;
    this._lastError = null;
    this.pending = 0;
    this.pausedByUs = false;
    if (this.state !== "reconnecting") this._setState("connecting");
    let opened = false;
    let ws;
    try {
      ws = new WebSocket(this.socketUrl(params));
    } catch (error) {
      this._setState("failed", { message: `cannot open the terminal socket: ${error.message}` });
      return;
    }
    ws.binaryType = "arraybuffer";
    this.ws = ws;
    ws.onopen = () => {
      opened = true;
      this._lastMessageAt = Date.now();
      clearInterval(this._pingTimer);
      this._pingTimer = setInterval(() => this._ping(), PING_INTERVAL_MS);
    };
    ws.onmessage = (event) => {
      if (ws !== this.ws) return;
      this._lastMessageAt = Date.now();
      if (typeof event.data === "string") this._control(event.data);
      else this._output(new Uint8Array(event.data));
    };
    ws.onclose = (event) => {
      if (ws !== this.ws) return;
      this.ws = null;
      clearInterval(this._pingTimer);
      this._closed(event, opened);
    };
  }

  _ping() {
    if (!this.isOpen) return;
    if (Date.now() - this._lastMessageAt > SILENCE_LIMIT_MS) {
      this.ws.close(4000, "no answer"); // a dead connection the browser has not noticed: reconnect
      return;
    }
    this._send({ type: "ping", t: Date.now() });
  }

  _output(bytes) {
    this.pending += bytes.length;
    if (!this.pausedByUs && this.pending > PENDING_HIGH) {
      this.pausedByUs = true;
      this._send({ type: "pause" });
    }
    this.onOutput(bytes, () => {
      this.pending -= bytes.length;
      if (this.pausedByUs && this.pending < PENDING_LOW) {
        this.pausedByUs = false;
        if (this.isOpen) this._send({ type: "resume" });
      }
    });
  }

  _control(text) {
    let message;
    try {
      message = JSON.parse(text);
    } catch {
      return;
    }
    switch (message.type) {
      case "session":
        this.sessionId = message.id;
        this.rememberSession(message.id);
        this.attempt = 0;
        this._setState("open", { info: message });
        this.onEvent({ type: "session", info: message });
        // The server started the shell with the size we asked for; an existing one may differ.
        if (message.rows !== this.size.rows || message.cols !== this.size.cols) {
          this._send({ type: "resize", rows: this.size.rows, cols: this.size.cols });
        }
        break;
      case "exit":
        this._exited = message;
        break;
      case "error":
        this._lastError = message;
        if (!["session_not_found", "too_many_sessions", "too_many_clients", "shell_unavailable", "auth_expired"].includes(message.code)) {
          this.onEvent({ type: "notice", text: message.message || message.code });
        }
        break;
      default:
        break; // pong and future message types
    }
  }

  async _closed(event, opened) {
    if (!this._wanted) return;
    const code = event.code;
    const exited = this._exited;
    const error = this._lastError;
    if (exited && exited.reason !== "server_stopping") {
      this.sessionId = null;
      this.rememberSession(null);
      this._wanted = false;
      this._setState("exited", { code: exited.code, reason: exited.reason });
      return;
    }
    if (code === CLOSE_CODES.SESSION_NOT_FOUND) {
      this.sessionId = null;
      this.rememberSession(null);
      this.onEvent({ type: "notice", text: "The previous terminal session has ended; this is a new one." });
      this._open();
      return;
    }
    if (code === CLOSE_CODES.AUTH_EXPIRED) {
      this._wanted = false;
      this._setState("auth-required", { message: error?.message || "log in again" });
      return;
    }
    if ([CLOSE_CODES.TOO_MANY_SESSIONS, CLOSE_CODES.TOO_MANY_CLIENTS, CLOSE_CODES.SPAWN_FAILED].includes(code)) {
      this._wanted = false;
      this._setState("failed", { code: error?.code, message: error?.message || `the server refused (${code})` });
      return;
    }
    if (!opened) {
      // The handshake itself failed: the browser does not say why, so ask the server.
      let verdict = "offline";
      try {
        verdict = await this.diagnose();
      } catch {
        verdict = "offline";
      }
      if (!this._wanted) return;
      if (verdict === "auth" || verdict === "setup") {
        this._wanted = false;
        this._setState(verdict === "auth" ? "auth-required" : "setup-required", {});
        return;
      }
    }
    if (exited?.reason === "server_stopping") {
      this.onEvent({ type: "notice", text: "The server is restarting." });
    }
    const delay = reconnectDelay(this.attempt);
    this.attempt += 1;
    this._setState("reconnecting", { inMs: delay, attempt: this.attempt });
    this._timer = setTimeout(() => this._open(), delay);
  }
}
