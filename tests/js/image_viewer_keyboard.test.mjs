// The viewer's keyboard: key → action per mode, typing rules, and where the active image moves.
import { test } from "node:test";
import assert from "node:assert/strict";
import { keyAction, moveIndex } from "../../js/image_viewer/keyboard.js";

const k = (key, mods = {}) => ({ key, ...mods });

test("arrows move left/right in every mode and up/down only in the gallery", () => {
  for (const mode of ["gallery", "zoom", "fullscreen"]) {
    assert.equal(keyAction(k("ArrowLeft"), { mode }), "prev");
    assert.equal(keyAction(k("ArrowRight"), { mode }), "next");
  }
  assert.equal(keyAction(k("ArrowUp"), { mode: "gallery" }), "up");
  assert.equal(keyAction(k("ArrowDown"), { mode: "zoom" }), null);
});

test("Enter opens, Ctrl+Enter goes fullscreen, Esc backs out", () => {
  assert.equal(keyAction(k("Enter")), "open");
  assert.equal(keyAction(k("Enter", { ctrlKey: true })), "fullscreen");
  assert.equal(keyAction(k("Enter", { metaKey: true }), { mode: "zoom" }), "fullscreen");
  assert.equal(keyAction(k("Escape"), { mode: "fullscreen" }), "back");
});

test("Delete trashes, Shift+Delete deletes for good, Space selects, Ctrl+A selects all", () => {
  assert.equal(keyAction(k("Delete")), "trash");
  assert.equal(keyAction(k("Delete", { shiftKey: true })), "deletePermanently");
  assert.equal(keyAction(k(" ")), "toggleSelect");
  assert.equal(keyAction(k("a", { ctrlKey: true })), "selectAll");
  assert.equal(keyAction(k("a")), null);
});

test("keys typed in a text field are ignored except Esc", () => {
  for (const key of ["ArrowLeft", "Delete", " ", "Enter", "Home", "a"]) {
    assert.equal(keyAction(k(key, { ctrlKey: key === "a" }), { typing: true }), null, key);
  }
  assert.equal(keyAction(k("Escape"), { typing: true }), "back");
});

test("Alt combinations are left to the host (tool shortcuts)", () => {
  assert.equal(keyAction(k("ArrowLeft", { altKey: true })), null);
  assert.equal(keyAction(k("I", { altKey: true, shiftKey: true })), null);
});

test("page and home/end keys belong to the gallery", () => {
  assert.equal(keyAction(k("PageDown")), "pageDown");
  assert.equal(keyAction(k("Home")), "first");
  assert.equal(keyAction(k("End"), { mode: "zoom" }), null);
});

const grid = (index, count = 23, columns = 5, pageRows = 2) => ({ index, count, columns, pageRows });

test("left/right step one image and stop at the ends (no wrap)", () => {
  assert.equal(moveIndex("next", grid(3)), 4);
  assert.equal(moveIndex("prev", grid(0)), 0);
  assert.equal(moveIndex("next", grid(22)), 22);
});

test("up/down move one row; down from above a short last row lands on the last image", () => {
  assert.equal(moveIndex("down", grid(2)), 7);
  assert.equal(moveIndex("up", grid(7)), 2);
  assert.equal(moveIndex("up", grid(2)), 2);
  assert.equal(moveIndex("down", grid(19)), 22); // row 3 → last row holds 20..22
  assert.equal(moveIndex("down", grid(21)), 21);
});

test("page keys move by whole screens and home/end jump to the ends", () => {
  assert.equal(moveIndex("pageDown", grid(1)), 11);
  assert.equal(moveIndex("pageDown", grid(16)), 21);
  assert.equal(moveIndex("pageUp", grid(13)), 3);
  assert.equal(moveIndex("pageUp", grid(8)), 3);
  assert.equal(moveIndex("first", grid(13)), 0);
  assert.equal(moveIndex("last", grid(0)), 22);
});

test("with nothing active, movement starts at the first image; an empty list has none", () => {
  assert.equal(moveIndex("next", grid(-1)), 0);
  assert.equal(moveIndex("last", grid(-1)), 22);
  assert.equal(moveIndex("next", grid(-1, 0)), -1);
});
