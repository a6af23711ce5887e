/**
 * Restart ComfyUI from the browser: confirm → password → `POST /holaf/utilities/restart`
 * → a modal that polls `/holaf/utilities/info` (with backoff, shrugging off connection
 * errors while the server is down) until `started_at` changes, then offers a reload.
 * Only where `host.canRestart` (never on the standalone server). No side effects at import.
 * @module common/restart
 */
import { HolafApiError, backoffDelay, sleep } from "./api.js";
import { ensureAuthenticated, describeAuthError } from "./auth.js";
import { confirmDialog, openDialog } from "./dialog.js";
import { el } from "./dom.js";

/** @typedef {import("./host.js").HolafHost} HolafHost */

/**
 * @typedef {object} WaitProgress
 * @property {"down" | "waiting" | "back"} phase down = no answer; waiting = same server still answering
 * @property {number} elapsedMs
 * @property {number} attempt
 */

/**
 * Polls `fetchInfo()` until it answers with a `started_at` different from `previousStartedAt`.
 * Errors (server down) are expected and only reported through `onProgress`.
 * @param {object} options
 * @param {() => Promise<{started_at: number}>} options.fetchInfo
 * @param {number} options.previousStartedAt
 * @param {(progress: WaitProgress) => void} [options.onProgress]
 * @param {AbortSignal} [options.signal]
 * @param {number} [options.timeoutMs] give up (resolve null) after this long; default 300 s
 * @param {(ms: number, signal?: AbortSignal) => Promise<void>} [options.wait]
 * @param {() => number} [options.now]
 * @returns {Promise<{started_at: number, elapsedMs: number} | null>} the new info, or null on timeout
 */
export async function waitForRestart(options) {
  const { fetchInfo, previousStartedAt, onProgress, signal, timeoutMs = 300000, wait = sleep, now = Date.now } = options;
  const start = now();
  for (let attempt = 0; ; attempt++) {
    if (signal?.aborted) throw new DOMException("aborted", "AbortError");
    const elapsedMs = now() - start;
    if (elapsedMs > timeoutMs) return null;
    let phase = /** @type {WaitProgress["phase"]} */ ("down");
    try {
      const info = await fetchInfo();
      if (info && typeof info.started_at === "number" && info.started_at !== previousStartedAt) {
        onProgress?.({ phase: "back", elapsedMs: now() - start, attempt });
        return { ...info, elapsedMs: now() - start };
      }
      phase = "waiting";
    } catch (error) {
      if (error instanceof DOMException && error.name === "AbortError") throw error;
      phase = "down";
    }
    onProgress?.({ phase, elapsedMs, attempt });
    await wait(backoffDelay(attempt, { startMs: 500, factor: 1.4, maxMs: 2500 }), signal);
  }
}

/**
 * The whole restart flow. Resolves true when the server came back.
 * @param {HolafHost} host
 * @param {{confirm?: boolean, timeoutMs?: number}} [options]
 */
export async function restartComfyUI(host, options = {}) {
  if (!host.canRestart) {
    host.toasts.error("Restart is only available inside ComfyUI.");
    return false;
  }
  if (options.confirm !== false) {
    const ok = await confirmDialog({
      title: "Restart ComfyUI?",
      message: "The ComfyUI server restarts with the same command line. Running and queued jobs stop. This page loses its connection for a moment.",
      confirmLabel: "Restart", danger: true,
    });
    if (!ok) return false;
  }
  if (!(await ensureAuthenticated(host, { reason: "Restarting ComfyUI needs the Holaf Utilities password." }))) return false;

  let previousStartedAt;
  try {
    previousStartedAt = (await host.getInfo({ force: true })).started_at;
    const reply = await host.fetchJson("/holaf/utilities/restart", { method: "POST", body: {} });
    if (typeof reply?.previous_started_at === "number") previousStartedAt = reply.previous_started_at;
  } catch (error) {
    host.toasts.error(`Restart refused: ${describeAuthError(error)}`);
    return false;
  }

  const controller = new AbortController();
  const statusLine = el("p", { className: "holaf-restart-status", testid: "holaf-restart-status", text: "Restart requested…" });
  const elapsedLine = el("p", { className: "holaf-muted", testid: "holaf-restart-elapsed", text: "0 s" });
  const dialog = openDialog({
    title: "Restarting ComfyUI", testid: "holaf-dialog", className: "holaf-restart-dialog",
    content: el("div", { children: [statusLine, elapsedLine] }), cancelable: false,
    buttons: [
      { label: "Close", value: "close", kind: "cancel", testid: "holaf-dialog-cancel" },
      { label: "Reload page", value: "reload", kind: "primary", testid: "holaf-restart-reload" },
    ],
  });
  const reload = /** @type {HTMLButtonElement} */ (dialog.element.querySelector('[data-testid="holaf-restart-reload"]'));
  reload.disabled = true;
  const started = Date.now();
  const ticker = setInterval(() => { elapsedLine.textContent = `${Math.round((Date.now() - started) / 1000)} s`; }, 1000);
  dialog.result.then((choice) => {
    controller.abort();
    clearInterval(ticker);
    if (choice === "reload") location.reload();
  });

  try {
    const back = await waitForRestart({
      fetchInfo: () => host.fetchJson("/holaf/utilities/info", { timeoutMs: 4000, signal: controller.signal }),
      previousStartedAt,
      signal: controller.signal,
      timeoutMs: options.timeoutMs,
      onProgress: ({ phase }) => {
        statusLine.textContent = phase === "down" ? "Waiting for ComfyUI to come back…" : "ComfyUI is shutting down…";
      },
    });
    clearInterval(ticker);
    if (!back) {
      statusLine.textContent = "ComfyUI has not come back yet. Check its console window, then reload this page.";
      reload.disabled = false;
      return false;
    }
    host.getInfo({ force: true }).catch(() => {});
    statusLine.textContent = `ComfyUI is back (after ${Math.max(1, Math.round(back.elapsedMs / 1000))} s). Reload the page to reconnect.`;
    reload.disabled = false;
    reload.focus();
    return true;
  } catch (error) {
    if (error instanceof DOMException && error.name === "AbortError") return false;
    if (error instanceof HolafApiError) statusLine.textContent = describeAuthError(error);
    throw error;
  }
}
