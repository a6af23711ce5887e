// Live updates: both event shapes, the plan for each situation, the "N new" probe, removals.
import { test } from "node:test";
import assert from "node:assert/strict";
import { summarizeChange, planChange, arrivalsAbove, LiveUpdater } from "../../js/image_viewer/live_updates.js";
import { PagedList } from "../../js/image_viewer/paging.js";

test("the index's and the file actions' payloads read the same way", () => {
  const index = summarizeChange({ added: 3, removed: 1, updated: 2, added_paths: ["a.png"], removed_paths: ["b.png"], scanning: true });
  assert.deepEqual(index, { removed: ["b.png"], added: ["a.png"], addedCount: 3, removedCount: 1, updated: 2, scanning: true });
  const moves = summarizeChange({ reason: "trash", count: 2, items: [{ path: "x.png", new_path: "trashcan/x.png" }, { path: "y.png", new_path: null }] });
  assert.deepEqual(moves.removed, ["x.png", "y.png"]);
  assert.deepEqual(moves.added, ["trashcan/x.png"]);
  assert.deepEqual(summarizeChange(null).removed, []);
});

test("new images reload at the top and are counted further down in the newest order", () => {
  const change = summarizeChange({ added: 1, added_paths: ["n.png"] });
  const view = { atTop: true, sort: "newest", trashcan: false, empty: false };
  assert.equal(planChange(change, view), "reload");
  assert.equal(planChange(change, { ...view, atTop: false }), "probe");
  assert.equal(planChange(change, { ...view, atTop: false, sort: "name" }), "reload");
  assert.equal(planChange(summarizeChange({ updated: 4 }), view), "refresh");
  assert.equal(planChange(summarizeChange({ removed: 1, removed_paths: ["a"] }), view), "none");
});

test("arrivals above are counted from where the old first image now is", () => {
  assert.equal(arrivalsAbove([{ path: "n2" }, { path: "n1" }, { path: "old" }], "old"), 2);
  assert.equal(arrivalsAbove([{ path: "n" }], "old"), null);
});

function server(count) {
  const s = {
    rows: Array.from({ length: count }, (_, i) => ({ path: `p${i}` })),
    fetchPage: async (body) => ({ images: s.rows.slice(body.offset, body.offset + body.limit), total: body.include_total ? s.rows.length : null }),
  };
  return s;
}

const wait = (ms) => new Promise((r) => setTimeout(r, ms));

test("scrolled down, new images shift the offsets and raise the pill instead of moving the view", async () => {
  const s = server(1000);
  const list = new PagedList({ fetchPage: s.fetchPage, pageSize: 100 });
  await list.reset({});
  list.ensure(500, 600);
  await wait(0);
  const live = new LiveUpdater({ list, fetchPage: s.fetchPage, debounceMs: 1, view: () => ({ atTop: false, sort: "newest", trashcan: false, start: 500, end: 600 }) });
  const pending = [];
  live.on("pending", (e) => pending.push(e.detail.count));
  s.rows.unshift({ path: "new1" }, { path: "new2" });
  live.handle({ added: 2, added_paths: ["new1", "new2"] });
  await wait(20);
  assert.deepEqual(pending, [2]);
  assert.equal(list.offsetShift, 2);
  assert.equal(list.get(0).path, "p0", "what the user sees did not move");
  list.ensure(700, 800);
  await wait(0);
  assert.equal(list.get(700).path, "p700", "later pages still line up");
  live.destroy();
});

test("at the top the list reloads in place and announces the fresh paths", async () => {
  const s = server(30);
  const list = new PagedList({ fetchPage: s.fetchPage, pageSize: 100 });
  await list.reset({});
  const live = new LiveUpdater({ list, fetchPage: s.fetchPage, debounceMs: 1, view: () => ({ atTop: true, sort: "newest", trashcan: false, start: 0, end: 100 }) });
  const fresh = [];
  live.on("fresh", (e) => fresh.push(...e.detail.paths));
  s.rows.unshift({ path: "hot.png" });
  live.handle({ added: 1, added_paths: ["hot.png"] });
  await wait(20);
  assert.deepEqual(fresh, ["hot.png"]);
  assert.equal(list.get(0).path, "hot.png");
  assert.equal(list.total, 31);
  live.destroy();
});

test("deleted files vanish at once, before any debounce", async () => {
  const s = server(10);
  const list = new PagedList({ fetchPage: s.fetchPage, pageSize: 100 });
  await list.reset({});
  const live = new LiveUpdater({ list, fetchPage: s.fetchPage, debounceMs: 1000, view: () => ({ atTop: true, sort: "newest", trashcan: false, start: 0, end: 10 }) });
  const removed = [];
  live.on("removed", (e) => removed.push(...e.detail.paths));
  live.handle({ reason: "trash", count: 1, items: [{ path: "p3", new_path: "trashcan/p3" }] });
  assert.deepEqual(removed, ["p3"]);
  assert.equal(list.total, 9);
  live.destroy();
});
