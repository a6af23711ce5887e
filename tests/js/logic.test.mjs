// Pure logic of the shell: events, JSON errors, settings errors, restart polling, the cross-tab bridge.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Eventable, ListenerPool } from "../../js/common/events.js";
import { HolafApiError, requestJson, backoffDelay } from "../../js/common/api.js";
import { parseSettingsErrors, readControl, visibleSections, labelForKey } from "../../js/common/settings_panel.js";
import { waitForRestart } from "../../js/common/restart.js";
import { newPasswordProblem, describeAuthError } from "../../js/common/auth.js";
import { requestViaBridge, serveBridge } from "../../js/common/bridge.js";
import { normalizeTheme, THEMES, DEFAULT_THEME } from "../../js/common/themes.js";
import { escapeHtml } from "../../js/common/dom.js";

test("listeners run in order, can veto the default, and can be removed", () => {
  const bus = new Eventable();
  const seen = [];
  const off = bus.on("close", (e) => seen.push(["a", e.detail]));
  bus.on("close", (e) => { seen.push(["b"]); e.preventDefault(); });
  const event = bus.dispatch("close", 7);
  assert.deepEqual(seen, [["a", 7], ["b"]]);
  assert.equal(event.defaultPrevented, true);
  off();
  bus.dispatch("close", 8);
  assert.equal(seen.length, 3);
});

test("a failing listener does not stop the others", () => {
  const bus = new Eventable();
  let reached = false;
  const original = console.error;
  console.error = () => {};
  try {
    bus.on("x", () => { throw new Error("boom"); });
    bus.on("x", () => { reached = true; });
    bus.dispatch("x");
  } finally {
    console.error = original;
  }
  assert.ok(reached);
});

test("the listener pool removes every DOM listener and cleanup in one call", () => {
  const target = new EventTarget();
  const pool = new ListenerPool();
  let hits = 0;
  let cleaned = 0;
  pool.add(target, "ping", () => hits++);
  pool.add(target, "ping", () => hits++);
  pool.track(() => cleaned++);
  target.dispatchEvent(new Event("ping"));
  assert.equal(hits, 2);
  pool.removeAll();
  target.dispatchEvent(new Event("ping"));
  assert.equal(hits, 2);
  assert.equal(cleaned, 1);
  assert.equal(pool.size, 0);
});

function fakeFetch(status, body, headers = {}) {
  return async () => new Response(typeof body === "string" ? body : JSON.stringify(body), { status, headers });
}

test("the server's error envelope becomes a HolafApiError with code, message, errors and Retry-After", async () => {
  await assert.rejects(
    requestJson("/x", { method: "POST", body: {} }, fakeFetch(400, { ok: false, error: "nothing saved", code: "invalid_settings", errors: ["[A] b: bad"] })),
    (error) => error instanceof HolafApiError && error.status === 400 && error.code === "invalid_settings"
      && error.message === "nothing saved" && error.errors[0] === "[A] b: bad",
  );
  await assert.rejects(
    requestJson("/x", {}, fakeFetch(429, { ok: false, error: "slow down", code: "rate_limited" }, { "Retry-After": "7" })),
    (error) => error.retryAfter === 7 && error.code === "rate_limited",
  );
  await assert.rejects(
    requestJson("/x", {}, async () => { throw new TypeError("Failed to fetch"); }),
    (error) => error.status === 0 && error.code === "network_error" && error.isNetworkError,
  );
  assert.deepEqual(await requestJson("/x", {}, fakeFetch(200, { ok: true })), { ok: true });
});

test("a request that takes too long fails with the timeout code", async () => {
  const hanging = (url, init) => new Promise((_, reject) => init.signal.addEventListener("abort", () => reject(new DOMException("aborted", "AbortError"))));
  await assert.rejects(requestJson("/x", { timeoutMs: 30 }, hanging), (error) => error.code === "timeout" && error.status === 0);
});

test("backoff grows and stops at the cap", () => {
  assert.deepEqual([0, 1, 2, 3, 10].map((n) => backoffDelay(n, { startMs: 100, factor: 2, maxMs: 500 })), [100, 200, 400, 500, 500]);
});

test("per-key server errors are split by field", () => {
  const { fields, general } = parseSettingsErrors([
    "[TerminalUI] font_size: must be at most 48",
    "[UtilitiesUI] theme: expected one of a, b",
    "section [Security] cannot be changed through the settings API",
  ]);
  assert.deepEqual(fields, { TerminalUI: { font_size: "must be at most 48" }, UtilitiesUI: { theme: "expected one of a, b" } });
  assert.deepEqual(general, ["section [Security] cannot be changed through the settings API"]);
});

test("controls are read with the type the server expects", () => {
  assert.equal(readControl({ type: "int" }, { value: "18" }), 18);
  assert.equal(readControl({ type: "float" }, { value: " 1.5 " }), 1.5);
  assert.equal(readControl({ type: "int" }, { value: "" }), null);
  assert.equal(readControl({ type: "int" }, { value: "12px" }), "12px", "sent as typed so the server explains");
  assert.equal(readControl({ type: "bool" }, { checked: true }), true);
  assert.equal(readControl({ type: "choice" }, { value: "ashy-light" }), "ashy-light");
});

test("only UI entries are shown, sections in a fixed order", () => {
  const sections = visibleSections({
    TerminalUI: [{ key: "theme", ui: true, type: "choice" }, { key: "panel_x", ui: false, type: "float" }],
    UtilitiesUI: [{ key: "theme", ui: true, type: "choice" }],
    SystemMonitor: [{ key: "panel_x", ui: false, type: "float" }],
    Custom: [{ key: "thing", ui: true, type: "str" }],
  });
  assert.deepEqual(sections.map(([name, entries]) => [name, entries.map((e) => e.key)]), [
    ["UtilitiesUI", ["theme"]], ["TerminalUI", ["theme"]], ["Custom", ["thing"]],
  ]);
  assert.equal(labelForKey("panel_is_fullscreen"), "Panel is fullscreen");
});

test("waiting for a restart survives a down server and ends when started_at changes", async () => {
  let clock = 0;
  const answers = [{ started_at: 1 }, "down", "down", { started_at: 1 }, { started_at: 2 }];
  const phases = [];
  const result = await waitForRestart({
    fetchInfo: async () => {
      const next = answers.shift();
      if (next === "down") throw new HolafApiError(0, "network_error", "cannot reach the server");
      return next;
    },
    previousStartedAt: 1,
    onProgress: (p) => phases.push(p.phase),
    wait: async (ms) => { clock += ms; },
    now: () => clock,
  });
  assert.equal(result.started_at, 2);
  assert.deepEqual(phases, ["waiting", "down", "down", "waiting", "back"]);
});

test("waiting for a restart gives up after the timeout", async () => {
  let clock = 0;
  const result = await waitForRestart({
    fetchInfo: async () => { throw new HolafApiError(0, "network_error", "down"); },
    previousStartedAt: 1, timeoutMs: 5000,
    wait: async (ms) => { clock += ms; }, now: () => clock,
  });
  assert.equal(result, null);
  assert.ok(clock >= 5000);
});

test("new passwords follow the server's rule and must match", () => {
  assert.match(newPasswordProblem("short", "short"), /at least 8/);
  assert.match(newPasswordProblem("long enough", "long enougH"), /differ/);
  assert.equal(newPasswordProblem("long enough", "long enough"), null);
  assert.match(describeAuthError(new HolafApiError(429, "rate_limited", "x", null, 4)), /Try again in 4 s/);
  assert.match(describeAuthError(new HolafApiError(403, "setup_requires_local", "x")), /machine that runs the server/);
});

test("unknown theme names fall back to Graphite Orange", () => {
  assert.equal(DEFAULT_THEME, "graphite-orange");
  assert.equal(THEMES.length, 5);
  assert.equal(normalizeTheme("Dark"), "graphite-orange");
  assert.equal(normalizeTheme("ashy-light"), "ashy-light");
  assert.equal(THEMES.filter((t) => t.light).map((t) => t.id).join(), "ashy-light");
});

test("escapeHtml neutralises markup", () => {
  assert.equal(escapeHtml(`<img src=x onerror="a">&'`), "&lt;img src=x onerror=&quot;a&quot;&gt;&amp;&#39;");
});

function fakeWindow(visible) {
  return { document: { visibilityState: visible ? "visible" : "hidden", hasFocus: () => false }, addEventListener() {}, removeEventListener() {} };
}

test("over the BroadcastChannel exactly one ComfyUI tab (the visible one) loads the workflow", async () => {
  const loads = [];
  const stopHidden = serveBridge({ LOAD_WORKFLOW: (p) => { loads.push(["hidden", p.workflow.id]); } }, { win: fakeWindow(false) });
  const stopVisible = serveBridge({ LOAD_WORKFLOW: (p) => { loads.push(["visible", p.workflow.id]); return { loaded: true }; } }, { win: fakeWindow(true) });
  try {
    const result = await requestViaBridge("LOAD_WORKFLOW", { workflow: { id: 42 } });
    assert.equal(result.ok, true);
    assert.deepEqual(result.data, { loaded: true });
    assert.deepEqual(loads, [["visible", 42]]);
  } finally {
    stopHidden();
    stopVisible();
  }
});

test("the bridge reports a failure from the ComfyUI tab, and the absence of any tab", async () => {
  const stop = serveBridge({ LOAD_WORKFLOW: () => { throw new Error("missing nodes"); } }, { win: fakeWindow(true) });
  try {
    const failed = await requestViaBridge("LOAD_WORKFLOW", { workflow: {} });
    assert.equal(failed.ok, false);
    assert.equal(failed.reason, "failed");
    assert.equal(failed.error, "missing nodes");
    const unsupported = await requestViaBridge("QUEUE_PROMPT", {});
    assert.equal(unsupported.reason, "unsupported");
  } finally {
    stop();
  }
  const nobody = await requestViaBridge("LOAD_WORKFLOW", { workflow: {} }, { helloMs: 100 });
  assert.deepEqual(nobody, { ok: false, reason: "no_comfyui_tab" });
});
