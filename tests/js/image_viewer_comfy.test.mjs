// ComfyUI node integration, the pure parts: which nodes get which menu items, the filters for
// "what this node wrote", output paths from node outputs, and one menu path per frontend.
import { test } from "node:test";
import assert from "node:assert/strict";
import { classifyNode, outputFilters, outputPaths, createComfyIntegration } from "../../js/image_viewer/comfy_integration.js";

const w = (name, value) => ({ name, value });

test("save, preview, load-image and model-loader nodes are told apart", () => {
  assert.deepEqual(classifyNode({ comfyClass: "SaveImage", widgets: [w("filename_prefix", "ComfyUI")] }), { output: true, preview: false, loadImage: false, model: null });
  assert.equal(classifyNode({ comfyClass: "PreviewImage" }).preview, true);
  assert.equal(classifyNode({ comfyClass: "PreviewImage" }).output, false);
  assert.equal(classifyNode({ comfyClass: "VHS_VideoCombine", widgets: [w("filename_prefix", "AnimateDiff")] }).output, true);
  assert.equal(classifyNode({ comfyClass: "SomeCustomSaver", widgets: [w("filename_prefix", "x")] }).output, true, "any node with filename_prefix saves files");
  assert.equal(classifyNode({ comfyClass: "LoadImage", widgets: [w("image", "a.png"), w("upload", "image")] }).loadImage, true);
  assert.deepEqual(classifyNode({ comfyClass: "CheckpointLoaderSimple", widgets: [w("ckpt_name", "sdxl.safetensors")] }).model, { field: "model", value: "sdxl.safetensors" });
  assert.deepEqual(classifyNode({ comfyClass: "LoraLoader", widgets: [w("lora_name", "detail.safetensors")] }).model, { field: "lora", value: "detail.safetensors" });
  assert.equal(classifyNode({ comfyClass: "UNETLoader", widgets: [w("unet_name", "None")] }).model, null);
  assert.deepEqual(classifyNode({ comfyClass: "KSampler", widgets: [w("seed", 1)] }), { output: false, preview: false, loadImage: false, model: null });
});

test("a filename prefix becomes a folder and a name search; date tokens are cut off", () => {
  assert.deepEqual(outputFilters("ComfyUI"), { folderPrefix: "", search: "ComfyUI" });
  assert.deepEqual(outputFilters("portraits/hero_"), { folderPrefix: "portraits", search: "hero" });
  assert.deepEqual(outputFilters("%date:yyyy-MM-dd%/img"), { folderPrefix: "", search: "" });
  assert.deepEqual(outputFilters("video\\AnimateDiff"), { folderPrefix: "video", search: "AnimateDiff" });
});

test("node outputs give relative output paths; temp previews are left out", () => {
  const outputs = { images: [{ filename: "a.png", subfolder: "", type: "output" }, { filename: "b.png", subfolder: "x/y", type: "output" }, { filename: "t.png", subfolder: "", type: "temp" }], gifs: [{ filename: "c.mp4", subfolder: "vid", type: "output" }] };
  assert.deepEqual(outputPaths(outputs), ["a.png", "x/y/b.png", "vid/c.mp4"]);
  assert.deepEqual(outputPaths([{ filename: "z.png", subfolder: "", type: "output" }]), ["z.png"]);
  assert.deepEqual(outputPaths(null), []);
});

function fakeNodeType() {
  const calls = [];
  class Node {
    constructor() { this.comfyClass = "SaveImage"; this.widgets = [w("filename_prefix", "ComfyUI")]; }
    getExtraMenuOptions(canvas, options) { calls.push("original"); options.push({ content: "Open Image" }); }
  }
  return { Node, calls };
}

test("old frontends get the items through the chained getExtraMenuOptions, after the original", () => {
  const integration = createComfyIntegration({ app: {}, host: /** @type {any} */ ({}) });
  assert.equal(integration.usesNodeMenuHook, false);
  const { Node, calls } = fakeNodeType();
  integration.wrapNodeMenu(Node);
  const options = [];
  new Node().getExtraMenuOptions(null, options);
  assert.deepEqual(calls, ["original"]);
  assert.deepEqual(options.map((o) => o && o.content), ["Open Image", null, "Show outputs in Image Viewer"]);
});

test("new frontends get them only from getNodeMenuItems, never twice", () => {
  const integration = createComfyIntegration({ app: { collectNodeMenuItems() {} }, host: /** @type {any} */ ({}) });
  assert.equal(integration.usesNodeMenuHook, true);
  const { Node } = fakeNodeType();
  integration.wrapNodeMenu(Node);
  const options = [];
  new Node().getExtraMenuOptions(null, options);
  assert.deepEqual(options.map((o) => o.content), ["Open Image"], "the legacy hook is left alone");
  assert.deepEqual(integration.nodeMenuItems(new Node()).map((o) => o && o.content), [null, "Show outputs in Image Viewer"]);
});
