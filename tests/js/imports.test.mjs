// ComfyUI imports every *.js under js/ as an entry module: importing any of them (except the
// ComfyUI entry holaf_main.js) must do nothing: no DOM access, no globals, no timers.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const JS_DIR = fileURLToPath(new URL("../../js/", import.meta.url));

function listModules(dir) {
  const out = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) {
      if (name !== "vendor") out.push(...listModules(path));
    } else if (name.endsWith(".js")) {
      out.push(path);
    }
  }
  return out.sort();
}

const modules = listModules(JS_DIR).filter((path) => relative(JS_DIR, path) !== "holaf_main.js");

test("there are modules to check", () => {
  assert.ok(modules.length >= 10, String(modules.length));
});

for (const path of modules) {
  test(`importing ${relative(JS_DIR, path)} has no side effects`, async () => {
    const before = new Set(Object.keys(globalThis));
    // No window/document here: a module that touches the DOM at import throws.
    await import(pathToFileURL(path).href);
    const added = Object.keys(globalThis).filter((key) => !before.has(key));
    assert.deepEqual(added, [], `new globals: ${added.join(", ")}`);
  });
}
