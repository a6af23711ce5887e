/**
 * JSON over HTTP with the server's error envelope turned into a typed error, and small
 * async helpers (sleep, backoff). Used by both hosts; no side effects at import.
 * @module common/api
 */

/**
 * The server's `{"ok": false, "error", "code", ...}` envelope (or a network failure) as an Error.
 * `status` 0 means the server could not be reached (connection refused, aborted, timed out).
 */
export class HolafApiError extends Error {
  /**
   * @param {number} status HTTP status, 0 for network errors
   * @param {string} code machine-readable slug from the envelope ("auth_required", "invalid_settings", "network_error"…)
   * @param {string} message human message from the envelope
   * @param {any} [body] the whole parsed body (e.g. `errors` list, `retry_after`)
   * @param {number | null} [retryAfter] seconds from `Retry-After` (429)
   */
  constructor(status, code, message, body = null, retryAfter = null) {
    super(message);
    this.name = "HolafApiError";
    this.status = status;
    this.code = code;
    this.body = body;
    this.retryAfter = retryAfter;
  }

  /** Per-key problems sent with a 400 (e.g. `["[TerminalUI] font_size: must be at most 48"]`). */
  get errors() {
    return Array.isArray(this.body?.errors) ? this.body.errors.map(String) : [];
  }

  get isNetworkError() {
    return this.status === 0;
  }
}

/**
 * @typedef {object} FetchJsonOptions
 * @property {string} [method] default GET, or POST when a body is given
 * @property {any} [body] serialised as JSON (a FormData/Blob/string is sent as is)
 * @property {AbortSignal} [signal]
 * @property {number} [timeoutMs] abort after this long (status 0, code "timeout")
 * @property {Record<string, string>} [headers]
 * @property {boolean} [keepalive] lets a save finish while the page unloads
 */

/**
 * Fetches `url` and returns its parsed JSON, or throws {@link HolafApiError}.
 * @param {string} url
 * @param {FetchJsonOptions} [options]
 * @param {typeof fetch} [fetchImpl]
 */
export async function requestJson(url, options = {}, fetchImpl = globalThis.fetch) {
  const { body, signal, timeoutMs, keepalive } = options;
  const method = options.method || (body !== undefined ? "POST" : "GET");
  /** @type {Record<string, string>} */
  const headers = { Accept: "application/json", ...(options.headers || {}) };
  let payload;
  if (body !== undefined) {
    if (typeof body === "string" || body instanceof Blob || body instanceof FormData || body instanceof ArrayBuffer) {
      payload = body;
    } else {
      payload = JSON.stringify(body);
      headers["Content-Type"] = "application/json";
    }
  }
  const controller = new AbortController();
  let timedOut = false;
  const timer = timeoutMs ? setTimeout(() => { timedOut = true; controller.abort(); }, timeoutMs) : null;
  const onAbort = () => controller.abort();
  if (signal) {
    if (signal.aborted) controller.abort();
    else signal.addEventListener("abort", onAbort, { once: true });
  }
  let response;
  try {
    response = await fetchImpl(url, {
      method, headers, body: payload, signal: controller.signal, credentials: "same-origin", keepalive,
    });
  } catch (error) {
    if (signal?.aborted) throw error; // the caller cancelled: let AbortError through
    const code = timedOut ? "timeout" : "network_error";
    const message = timedOut ? `no answer from the server within ${Math.round(timeoutMs / 1000)} s` : "cannot reach the server";
    throw new HolafApiError(0, code, message, null);
  } finally {
    if (timer) clearTimeout(timer);
    signal?.removeEventListener("abort", onAbort);
  }
  const text = await response.text();
  let data = null;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = null;
    }
  }
  if (!response.ok) {
    const retryHeader = response.headers.get("Retry-After");
    const retryAfter = retryHeader !== null && retryHeader !== "" && Number.isFinite(Number(retryHeader))
      ? Number(retryHeader)
      : (typeof data?.retry_after === "number" ? data.retry_after : null);
    const message = typeof data?.error === "string" ? data.error : `${response.status} ${response.statusText || "error"}`;
    const code = typeof data?.code === "string" ? data.code : `http_${response.status}`;
    throw new HolafApiError(response.status, code, message, data, retryAfter);
  }
  if (data === null && text) throw new HolafApiError(response.status, "invalid_json", "the server sent something that is not JSON", text);
  return data;
}

/**
 * @param {number} ms
 * @param {AbortSignal} [signal] rejects with an AbortError when aborted
 * @returns {Promise<void>}
 */
export function sleep(ms, signal) {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(abortError());
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(abortError());
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

function abortError() {
  return new DOMException("aborted", "AbortError");
}

/**
 * Exponential backoff delays: start, start*factor, … capped at max.
 * @param {number} attempt 0-based
 * @param {{startMs?: number, factor?: number, maxMs?: number}} [options]
 */
export function backoffDelay(attempt, { startMs = 500, factor = 1.5, maxMs = 3000 } = {}) {
  return Math.min(maxMs, Math.round(startMs * factor ** Math.max(0, attempt)));
}
