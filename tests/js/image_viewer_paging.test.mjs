// The windowed result list against a fake server: pages, aborts, stale answers, local removals.
import { test } from "node:test";
import assert from "node:assert/strict";
import { PagedList } from "../../js/image_viewer/paging.js";

/** A fake /list over an array of paths; answers can be held and released by hand. */
function fakeServer(count, { hold = false } = {}) {
  const server = {
    rows: Array.from({ length: count }, (_, i) => ({ path: `img${String(i).padStart(6, "0")}.png` })),
    calls: [],
    held: [],
    fetchPage(body, signal) {
      server.calls.push(body);
      const answer = () => ({
        images: server.rows.slice(body.offset, body.offset + body.limit),
        total: body.include_total ? server.rows.length : null,
      });
      if (!hold) return Promise.resolve(answer());
      return new Promise((resolve, reject) => {
        signal.addEventListener("abort", () => reject(new DOMException("aborted", "AbortError")));
        server.held.push({ body, release: () => resolve(answer()), signal });
      });
    },
  };
  return server;
}

const tick = () => new Promise((r) => setTimeout(r, 0));

test("the first page arrives with the total and the list is as long as the total", async () => {
  const server = fakeServer(1234);
  const list = new PagedList({ fetchPage: server.fetchPage, pageSize: 100 });
  await list.reset({ sort: "newest" });
  assert.equal(list.total, 1234);
  assert.equal(list.length, 1234);
  assert.equal(list.get(0).path, "img000000.png");
  assert.equal(list.get(100), undefined);
  assert.deepEqual(server.calls[0], { sort: "newest", limit: 100, offset: 0, include_total: true });
});

test("ensure loads only the missing pages of a range", async () => {
  const server = fakeServer(1000);
  const list = new PagedList({ fetchPage: server.fetchPage, pageSize: 100 });
  await list.reset({});
  list.ensure(250, 420);
  await tick();
  assert.deepEqual(server.calls.slice(1).map((c) => c.offset), [200, 300, 400]);
  assert.equal(list.get(419).path, "img000419.png");
  list.ensure(250, 420);
  await tick();
  assert.equal(server.calls.length, 4, "nothing is loaded twice");
});

test("pages scrolled past are aborted and their late answers are not stored", async () => {
  const server = fakeServer(5000, { hold: true });
  const list = new PagedList({ fetchPage: server.fetchPage, pageSize: 100, maxConcurrent: 3 });
  const first = list.reset({});
  server.held[0].release();
  await first;
  list.ensure(1000, 1100);
  list.ensure(4000, 4100);
  const old = server.held.find((h) => h.body.offset === 1000);
  assert.equal(old.signal.aborted, true);
  old.release();
  await tick();
  assert.equal(list.get(1000), undefined);
});

test("an answer for an older query is dropped (request counter)", async () => {
  const server = fakeServer(300, { hold: true });
  const list = new PagedList({ fetchPage: server.fetchPage, pageSize: 100 });
  list.reset({ search: "old" });
  const stale = server.held[0];
  const second = list.reset({ search: "new" });
  server.rows = [{ path: "new.png" }];
  stale.release(); // would be ignored even if it had not been aborted
  server.held[1].release();
  await second;
  assert.equal(list.total, 1);
  assert.equal(list.get(0).path, "new.png");
});

test("at most maxConcurrent pages load at once, the rest wait", async () => {
  const server = fakeServer(5000, { hold: true });
  const list = new PagedList({ fetchPage: server.fetchPage, pageSize: 100, maxConcurrent: 2 });
  const first = list.reset({});
  server.held.shift().release();
  await first;
  list.ensure(0, 1000);
  assert.equal(server.held.length, 2);
  server.held.shift().release();
  await tick();
  assert.equal(server.held.length, 2, "the next page started when a slot freed");
});

test("removing rows shifts later ones down like the server does, and a rollback puts them back", async () => {
  const server = fakeServer(10);
  const list = new PagedList({ fetchPage: server.fetchPage, pageSize: 100 });
  await list.reset({});
  const removed = list.removePaths(["img000002.png", "img000005.png", "nope.png"]);
  assert.deepEqual(removed.map((r) => r.index), [2, 5]);
  assert.equal(list.total, 8);
  assert.equal(list.get(2).path, "img000003.png");
  assert.equal(list.indexOf("img000006.png"), 4);
  list.restore(removed);
  assert.deepEqual(list.items.map((i) => i.path), server.rows.map((r) => r.path));
});

test("a page that was on its way during a local removal is asked again", async () => {
  const server = fakeServer(300, { hold: true });
  const list = new PagedList({ fetchPage: server.fetchPage, pageSize: 100 });
  const first = list.reset({});
  server.held.shift().release();
  await first;
  list.ensure(100, 200);
  const inflight = server.held.shift();
  list.removePaths(["img000000.png"]);
  server.rows.shift();
  inflight.release();
  await tick();
  assert.equal(list.get(100), undefined, "the shifted answer was not stored");
  assert.equal(server.held.length, 1, "asked again");
  server.held.shift().release();
  await tick();
  assert.equal(list.get(100).path, "img000101.png");
});

test("reload keeps showing the old rows until fresh ones replace them", async () => {
  const server = fakeServer(50);
  const list = new PagedList({ fetchPage: server.fetchPage, pageSize: 100 });
  await list.reset({});
  server.rows.unshift({ path: "brand-new.png" });
  list.reload({ offsetShift: 0 });
  assert.equal(list.get(0).path, "img000000.png");
  list.ensure(0, 100);
  await tick();
  assert.equal(list.get(0).path, "brand-new.png");
  assert.equal(list.total, 51);
});

test("itemsInRange loads what is missing with big pages", async () => {
  const server = fakeServer(2500);
  const list = new PagedList({ fetchPage: server.fetchPage, pageSize: 100 });
  await list.reset({});
  const items = await list.itemsInRange(0, 2500);
  assert.equal(items.length, 2500);
  assert.ok(server.calls.slice(1).every((c) => c.limit <= 1000));
  assert.equal(server.calls.length, 1 + 3);
});

test("a null query is an empty result without any request", async () => {
  const server = fakeServer(10);
  const list = new PagedList({ fetchPage: server.fetchPage });
  await list.reset(null);
  assert.equal(list.total, 0);
  assert.equal(server.calls.length, 0);
});
