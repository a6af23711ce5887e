// Tool registry: descriptor validation, ordering, keybinding rules, tolerant loading.
import { test } from "node:test";
import assert from "node:assert/strict";
import { validateTool, registerTools, comboId, comboLabel, loadTools, TOOL_MODULES, COMFY_CORE_COMBOS } from "../../js/common/tools.js";

const tool = (over = {}) => ({ id: "demo", title: "Demo", section: "UtilitiesUI", order: 10, open() {}, ...over });

test("a complete descriptor is valid", () => {
  assert.deepEqual(validateTool(tool()), []);
  assert.deepEqual(validateTool(tool({ keybinding: { key: "T", alt: true, shift: true } })), []);
});

test("missing fields and bad ids are reported", () => {
  const problems = validateTool({ id: "Bad Id", order: "x" });
  assert.ok(problems.some((p) => p.startsWith("id ")));
  assert.ok(problems.some((p) => p.startsWith("title")));
  assert.ok(problems.some((p) => p.startsWith("section")));
  assert.ok(problems.some((p) => p.startsWith("order")));
  assert.ok(problems.some((p) => p.startsWith("open")));
});

test("a keybinding that ComfyUI already uses is refused", () => {
  for (const combo of [{ key: "s", ctrl: true }, { key: "Enter", ctrl: true }, { key: "r" }, { key: "`", ctrl: true }]) {
    assert.ok(validateTool(tool({ keybinding: combo })).some((p) => p.includes("taken by ComfyUI")), comboLabel(combo));
  }
});

test("combos are compared case-insensitively and labelled for people", () => {
  assert.equal(comboId({ key: "T", alt: true, shift: true }), "alt+shift+t");
  assert.equal(comboLabel({ key: "t", alt: true, shift: true }), "Alt+Shift+T");
  assert.ok(COMFY_CORE_COMBOS.includes(comboId({ key: "S", ctrl: true })));
});

test("tools are ordered, deduplicated and filtered by host", () => {
  const errors = [];
  const original = console.error;
  console.error = (msg) => errors.push(String(msg));
  try {
    const list = registerTools([
      tool({ id: "b", order: 20 }), tool({ id: "a", order: 5 }), tool({ id: "b", order: 1 }),
      tool({ id: "comfy-only", order: 1, hosts: ["comfyui"] }), { id: "broken" },
    ], "standalone");
    assert.deepEqual(list.map((t) => t.id), ["a", "b"]);
    assert.equal(errors.length, 2, errors.join("\n"));
  } finally {
    console.error = original;
  }
});

test("a tool module that fails to import is skipped and the others load", async () => {
  const original = console.error;
  console.error = () => {};
  try {
    const tools = await loadTools({
      modules: ["./good.js", "./missing.js"],
      base: "file:///x/common/tools.js",
      importer: async (url) => {
        if (url.endsWith("missing.js")) throw new Error("404");
        return { default: tool({ id: "good" }) };
      },
    });
    assert.deepEqual(tools.map((t) => t.id), ["good"]);
  } finally {
    console.error = original;
  }
});

test("the static tool list resolves to modules that exist and describe valid tools", async () => {
  const tools = await loadTools({ modules: TOOL_MODULES });
  assert.equal(tools.length, TOOL_MODULES.length);
  assert.ok(tools.some((t) => t.id === "settings"));
});
