// Selection: click kinds, ranges from the anchor, renames, and the bounded LRU cache.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Selection, clickKind, rangeBounds } from "../../js/image_viewer/selection.js";
import { LruCache } from "../../js/image_viewer/lru.js";

test("modifier keys choose the kind of click", () => {
  assert.equal(clickKind({}), "only");
  assert.equal(clickKind({ ctrlKey: true }), "toggle");
  assert.equal(clickKind({ metaKey: true }), "toggle");
  assert.equal(clickKind({}, { checkbox: true }), "toggle");
  assert.equal(clickKind({ shiftKey: true }), "range");
  assert.equal(clickKind({ shiftKey: true, ctrlKey: true }), "addRange");
});

test("ranges run from the anchor in either direction", () => {
  assert.deepEqual(rangeBounds(5, 2), [2, 5]);
  assert.deepEqual(rangeBounds(2, 9), [2, 9]);
  assert.deepEqual(rangeBounds(-1, 4), [4, 4]);
});

test("click, ctrl+click, shift+click and ctrl+shift+click build the expected sets", () => {
  const s = new Selection();
  s.click("only", 2, "c");
  assert.deepEqual(s.list(), ["c"]);
  assert.equal(s.anchor, 2);
  s.click("toggle", 4, "e");
  assert.deepEqual(s.list().sort(), ["c", "e"]);
  s.click("range", 6, "g", ["e", "f", "g"]);
  assert.deepEqual(s.list().sort(), ["e", "f", "g"]);
  assert.equal(s.anchor, 4, "a range keeps its anchor");
  s.click("addRange", 0, "a", ["a", "b", "c", "d", "e"]);
  assert.equal(s.size, 7);
  s.click("toggle", 0, "a");
  assert.equal(s.has("a"), false);
});

test("moved files stay selected under their new path", () => {
  const s = new Selection();
  s.set(["a.png", "b.png"]);
  s.rename([{ path: "a.png", new_path: "trashcan/a.png" }, { path: "x.png", new_path: "y.png" }]);
  assert.deepEqual(s.list().sort(), ["b.png", "trashcan/a.png"]);
  assert.equal(s.set(["b.png", "trashcan/a.png"]), false, "same set: no change");
});

test("the LRU cache keeps the most recently used entries and reports evictions", () => {
  const evicted = [];
  const cache = new LruCache(3, (key) => evicted.push(key));
  for (const k of ["a", "b", "c"]) cache.set(k, k.toUpperCase());
  cache.get("a");
  cache.set("d", "D");
  assert.deepEqual(evicted, ["b"]);
  assert.equal(cache.size, 3);
  cache.set("a", "A2");
  assert.deepEqual(evicted, ["b", "a"], "a replaced value is released");
  cache.clear();
  assert.equal(cache.size, 0);
  assert.equal(evicted.length, 5);
});
