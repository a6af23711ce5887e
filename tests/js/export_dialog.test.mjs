// The export dialog's pure parts (js/image_viewer/export_dialog.js): the request it sends for a
// mixed selection, remembered choices, and following a job through progress events and polling.
import { test } from "node:test";
import assert from "node:assert/strict";

import {
  buildExportRequest, choicesFromSettings, choicesToSettings, defaultChoices, kindOf, watchExport,
} from "../../js/image_viewer/export_dialog.js";

test("a mixed selection sends one format per kind and only the options that apply", () => {
  const choices = { ...defaultChoices(), imageFormat: "webp", webpLossless: true, videoFormat: "gif", gifFps: 12, gifWidth: 0, metadata: "sidecar" };
  const body = buildExportRequest(["a/x.png", "b/clip.MP4"], choices);
  assert.deepEqual(body, {
    paths: ["a/x.png", "b/clip.MP4"], format: { image: "webp", video: "gif" },
    options: { lossless: true, fps: 12 }, metadata: "sidecar", apply_edits: true,
  });
  const jpegOnly = buildExportRequest(["x.jpg"], { ...defaultChoices(), imageFormat: "jpeg", jpegQuality: 80, videoFormat: "mp4" });
  assert.deepEqual(jpegOnly.options, { quality: 80 });
  const mp4 = buildExportRequest(["v.webm"], { ...defaultChoices(), crf: 30, preset: "slow" });
  assert.deepEqual(mp4.options, { crf: 30, preset: "slow" });
  assert.equal(kindOf("v.webm"), "video");
  assert.equal(kindOf("p.webp"), "image");
});

test("choices round-trip through the ImageViewerUI settings", () => {
  const saved = choicesToSettings({ ...defaultChoices(), imageFormat: "tiff", crf: 18 });
  const settings = { get: (section, key) => (section === "ImageViewerUI" ? saved[key] : undefined) };
  const back = choicesFromSettings(settings);
  assert.equal(back.imageFormat, "tiff");
  assert.equal(back.crf, 18);
  assert.deepEqual(choicesFromSettings(null), defaultChoices());
});

test("a job is followed through push events and polling until it finishes", async () => {
  let polls = 0;
  let push = null;
  const states = ["queued", "running", "running", "done"];
  const host = {
    async fetchJson(url) {
      assert.equal(url, "/holaf/images/export/j1");
      const state = states[Math.min(polls, states.length - 1)];
      polls += 1;
      return { job: "j1", state, progress: state === "done" ? 1 : 0.5, download_url: "/holaf/images/export/j1/download" };
    },
    onServerEvent(type, callback) {
      assert.equal(type, "holaf.export.progress");
      push = callback;
      return () => { push = null; };
    },
  };
  const seen = [];
  const waiting = watchExport(host, "j1", { intervalMs: 5, onUpdate: (s) => seen.push(s.state) });
  push({ job: "other", state: "running" });
  push({ job: "j1", state: "running", progress: 0.3 });
  const final = await waiting;
  assert.equal(final.state, "done");
  assert.ok(seen.includes("running"));
  assert.equal(push, null, "the event subscription is released");
});

test("a job the server forgot ends as failed instead of polling forever", async () => {
  const host = {
    async fetchJson() { const error = new Error("gone"); error.status = 404; throw error; },
  };
  const final = await watchExport(host, "zz", { intervalMs: 5 });
  assert.equal(final.state, "failed");
});
