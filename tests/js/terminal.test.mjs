// Pure logic of the Terminal panel: reconnect delays, colours, the session list's wording, exit messages.
import { test } from "node:test";
import assert from "node:assert/strict";
import { CLOSE_CODES, reconnectDelay } from "../../js/terminal/terminal_connection.js";
import { brightness, parseColor, DARK_ANSI, LIGHT_ANSI } from "../../js/terminal/terminal_themes.js";
import { ago, sessionState } from "../../js/terminal/session_list.js";
import terminalTool, { exitText } from "../../js/holaf_terminal.js";
import { validateTool } from "../../js/common/tools.js";

test("reconnect delays grow to a 5 s cap, then get a ±20 % jitter", () => {
  const low = [0, 1, 2, 3, 4, 10].map((n) => reconnectDelay(n, () => 0));
  const high = [0, 1, 2, 3, 4, 10].map((n) => reconnectDelay(n, () => 1));
  assert.deepEqual(low, [240, 480, 960, 1920, 3840, 4000]);
  assert.deepEqual(high, [360, 720, 1440, 2880, 5760, 6000]);
  for (let i = 1; i < low.length; i += 1) assert.ok(low[i] >= low[i - 1]);
});

test("close codes match the server's", () => {
  assert.equal(CLOSE_CODES.SESSION_NOT_FOUND, 4404);
  assert.equal(CLOSE_CODES.TOO_MANY_SESSIONS, 4429);
  assert.equal(CLOSE_CODES.AUTH_EXPIRED, 4401);
});

test("theme colours are parsed from hex and rgb() and classed as light or dark", () => {
  assert.deepEqual(parseColor("#fff"), { r: 255, g: 255, b: 255 });
  assert.deepEqual(parseColor("#141517"), { r: 20, g: 21, b: 23 });
  assert.deepEqual(parseColor("rgba(216, 112, 13, 0.28)"), { r: 216, g: 112, b: 13 });
  assert.equal(parseColor("not a colour"), null);
  assert.ok(brightness(parseColor("#ffffff")) > 0.5 && brightness(parseColor("#1e1f21")) < 0.5);
  assert.equal(Object.keys(DARK_ANSI).length, 16);
  assert.deepEqual(Object.keys(LIGHT_ANSI), Object.keys(DARK_ANSI));
});

test("the session list says who watches a session and when an idle one closes", () => {
  const base = { id: "a", clients: 0, expires_in_s: 1500 };
  assert.equal(sessionState({ ...base, clients: 1 }, "a"), "this window");
  assert.equal(sessionState({ ...base, clients: 3 }, "a"), "this window + 2 other");
  assert.equal(sessionState({ ...base, clients: 2 }, "b"), "open in 2 windows");
  assert.equal(sessionState(base, "b"), "detached, closes in 25 min if idle");
  assert.equal(sessionState({ ...base, expires_in_s: 7200 }, "b"), "detached, closes in 2 h if idle");
  assert.equal(sessionState({ ...base, expires_in_s: null }, "b"), "detached");
  assert.equal(ago(1000, 1030), "30 s ago");
  assert.equal(ago(1000, 1000 + 600), "10 min ago");
  assert.equal(ago(1000, 1000 + 3 * 86400), "3 d ago");
});

test("the exit message explains how the session ended", () => {
  assert.equal(exitText({ code: 0, reason: "exited" }), "The shell has exited.");
  assert.equal(exitText({ code: 3, reason: "exited" }), "The shell exited with code 3.");
  assert.equal(exitText({ code: -9, reason: "exited" }), "The shell was ended by signal 9.");
  assert.match(exitText({ code: -1, reason: "killed" }), /killed from the session list/);
});

test("the terminal tool descriptor is valid and its shortcut is free in ComfyUI", () => {
  assert.deepEqual(validateTool(terminalTool), []);
  assert.equal(terminalTool.section, "TerminalUI");
  assert.deepEqual(terminalTool.keybinding, { key: "T", alt: true, shift: true });
});
