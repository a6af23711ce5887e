// The editor's save logic (js/image_viewer/edit_session.js) with a scripted fake server: auto-save
// debounced, a navigation mid-save never writes one image's edits onto another, saves of one image
// are serialised with base hashes, empty edits delete the sidecar, stale answers are ignored.
import { test } from "node:test";
import assert from "node:assert/strict";

import { EditSession } from "../../js/image_viewer/edit_session.js";

/** A fake host whose replies we release by hand, recording every request. */
function fakeServer(initial = {}) {
  const files = new Map(Object.entries(initial)); // path -> {edits, hash}
  const requests = [];
  const gates = [];
  let counter = 0;
  const host = {
    async fetchJson(url, options = {}) {
      const body = options.body;
      requests.push({ url, body: body ? JSON.parse(JSON.stringify(body)) : undefined });
      await new Promise((resolve) => gates.push(resolve));
      if (url.startsWith("/holaf/images/load-edits")) {
        const path = decodeURIComponent(url.split("path=")[1]);
        const file = files.get(path);
        return { path, edits: file ? file.edits : null, hash: file ? file.hash : null };
      }
      if (url === "/holaf/images/save-edits") {
        const current = files.get(body.path);
        if (body.base_hash !== undefined && (current ? current.hash : "") !== body.base_hash) {
          const error = new Error("conflict"); error.status = 409; throw error;
        }
        const hash = `h${++counter}`;
        files.set(body.path, { edits: body.edits, hash });
        return { path: body.path, edits: body.edits, hash, has_edits: true };
      }
      if (url === "/holaf/images/delete-edits") {
        files.delete(body.path);
        return { path: body.path, has_edits: false };
      }
      throw new Error(`unexpected ${url}`);
    },
  };
  const release = async (n = 1) => {
    for (let i = 0; i < n; i += 1) {
      while (!gates.length) await new Promise((r) => setImmediate(r));
      gates.shift()();
      await new Promise((r) => setImmediate(r));
    }
  };
  const drain = async () => { for (let i = 0; i < 50; i += 1) { while (gates.length) gates.shift()(); await new Promise((r) => setImmediate(r)); } };
  return { host, files, requests, release, drain };
}

/** Timers we fire by hand. */
function manualTimers() {
  const timers = new Map();
  let id = 0;
  return {
    setTimer: (fn) => { id += 1; timers.set(id, fn); return id; },
    clearTimer: (t) => timers.delete(t),
    fire() { const all = [...timers.values()]; timers.clear(); all.forEach((fn) => fn()); },
    get count() { return timers.size; },
  };
}

const bright = (v) => ({ controls: [{ id: "c_1", type: "brightness", value: v, range: "all" }], playbackRate: 1, targetFps: null });

test("changes are saved once, after the debounce, to the image they were made on", async () => {
  const server = fakeServer();
  const timers = manualTimers();
  const session = new EditSession(server.host, timers);
  const opening = session.open({ path: "a.png" });
  await server.release();
  await opening;
  session.update(bright(1.1));
  session.update(bright(1.2));
  assert.equal(timers.count, 1);
  assert.ok(session.dirty);
  timers.fire();
  await server.drain();
  const saves = server.requests.filter((r) => r.url === "/holaf/images/save-edits");
  assert.equal(saves.length, 1);
  assert.equal(saves[0].body.path, "a.png");
  assert.equal(saves[0].body.edits.controls[0].value, 1.2);
  assert.equal(saves[0].body.base_hash, "");
  assert.ok(!session.dirty);
});

test("navigating mid-save writes the old edits to the old image and never to the new one", async () => {
  const server = fakeServer({ "b.png": { edits: bright(0.5), hash: "hb" } });
  const timers = manualTimers();
  const saved = [];
  const session = new EditSession(server.host, { ...timers, onSaved: (path) => saved.push(path) });
  const first = session.open({ path: "a.png" });
  await server.release();
  await first;
  session.update(bright(1.7));          // pending, timer not fired yet
  const second = session.open({ path: "b.png" }); // the user presses → before the auto-save
  session.update(bright(0.9));          // a change made while b is still loading is refused
  await server.drain();
  await second;
  timers.fire();
  await server.drain();
  const saves = server.requests.filter((r) => r.url === "/holaf/images/save-edits");
  assert.deepEqual(saves.map((s) => [s.body.path, s.body.edits.controls[0].value]), [["a.png", 1.7]]);
  assert.equal(server.files.get("b.png").edits.controls[0].value, 0.5);
  assert.equal(session.target.path, "b.png");
  assert.equal(session.edits.controls[0].value, 0.5, "b shows its own edits once loaded");
  assert.deepEqual(saved, ["a.png"]);
});

test("a load answer for an image the user already left is ignored", async () => {
  const server = fakeServer({ "a.png": { edits: bright(1.3), hash: "ha" }, "b.png": { edits: bright(0.4), hash: "hb" } });
  const session = new EditSession(server.host, manualTimers());
  const first = session.open({ path: "a.png" });
  const second = session.open({ path: "b.png" });
  await server.drain();
  assert.equal(await first, null);
  assert.equal((await second).path, "b.png");
  assert.equal(session.edits.controls[0].value, 0.4);
});

test("saves of one image run in order, each with the hash the previous one returned", async () => {
  const server = fakeServer();
  const session = new EditSession(server.host, { ...manualTimers(), autosave: false });
  const opening = session.open({ path: "c.png" });
  await server.release();
  await opening;
  session.update(bright(1.1));
  const one = session.save();
  session.update(bright(1.2));
  const two = session.save();
  await server.drain();
  await Promise.all([one, two]);
  const saves = server.requests.filter((r) => r.url === "/holaf/images/save-edits");
  assert.deepEqual(saves.map((s) => s.body.base_hash), ["", "h1"]);
  assert.equal(server.files.get("c.png").edits.controls[0].value, 1.2);
});

test("without auto-save nothing is sent until save, and revert restores the server's edits", async () => {
  const server = fakeServer({ "d.png": { edits: bright(1.4), hash: "hd" } });
  const timers = manualTimers();
  const session = new EditSession(server.host, { ...timers, autosave: false });
  const opening = session.open({ path: "d.png" });
  await server.release();
  await opening;
  session.update(bright(0.2));
  assert.equal(timers.count, 0);
  assert.ok(session.dirty);
  session.revert();
  assert.equal(session.edits.controls[0].value, 1.4);
  assert.ok(!session.dirty);
});

test("reset deletes the sidecar and paste applies the same edits to other images", async () => {
  const server = fakeServer({ "e.png": { edits: bright(1.4), hash: "he" } });
  const session = new EditSession(server.host, manualTimers());
  const opening = session.open({ path: "e.png" });
  await server.release();
  await opening;
  const resetting = session.reset();
  const pasting = session.applyTo(["f.png", "g.png"], bright(0.8));
  await server.drain();
  await resetting;
  await pasting;
  assert.ok(!server.files.has("e.png"));
  assert.equal(server.files.get("f.png").edits.controls[0].value, 0.8);
  assert.equal(server.files.get("g.png").edits.controls[0].value, 0.8);
  assert.ok(server.requests.some((r) => r.url === "/holaf/images/delete-edits" && r.body.path === "e.png"));
});

test("a conflicting save is reported and not retried blindly", async () => {
  const server = fakeServer({ "h.png": { edits: bright(1.4), hash: "hh" } });
  const errors = [];
  const session = new EditSession(server.host, { ...manualTimers(), autosave: false, onError: (p, e) => errors.push([p, e.status]) });
  const opening = session.open({ path: "h.png" });
  await server.release();
  await opening;
  server.files.set("h.png", { edits: bright(0.3), hash: "other-tab" });
  session.update(bright(1.9));
  const saving = session.save();
  await server.drain();
  await assert.rejects(saving);
  assert.deepEqual(errors, [["h.png", 409]]);
  assert.equal(server.files.get("h.png").edits.controls[0].value, 0.3);
});
