// Gallery filters: the /list body they stand for, settings round trip, folder locks and reset.
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  defaultFilters, listBody, filtersFromSettings, filtersToSettings, changedSettings, applyFolderAction,
  setFolderIncluded, setFolderLocked, resetFilters, activeFilterCount, matchModelName, activeScopes,
} from "../../js/image_viewer/filters.js";

const known = { folders: ["2024-01-01", "portraits", "root"], formats: ["JPEG", "MP4", "PNG"] };

test("a fresh install shows everything: the default body has no filter at all", () => {
  assert.deepEqual(listBody(defaultFilters(), known), { sort: "newest" });
  assert.equal(activeFilterCount(defaultFilters()), 0);
});

test("unticked folders and formats become inclusion lists; all unticked means nothing can match", () => {
  const f = { ...defaultFilters(), excludedFolders: ["portraits"], excludedFormats: ["MP4"] };
  assert.deepEqual(listBody(f, known), { sort: "newest", folders: ["2024-01-01", "root"], formats: ["JPEG", "PNG"] });
  assert.equal(listBody({ ...f, excludedFolders: known.folders }, known), null);
  assert.equal(listBody({ ...f, excludedFormats: known.formats }, known), null);
});

test("a folder that no longer exists does not hide a new one", () => {
  const f = { ...defaultFilters(), excludedFolders: ["gone"] };
  assert.deepEqual(listBody(f, known), { sort: "newest" });
});

test("search scopes are sent as an OR list, name when none is ticked", () => {
  const f = { ...defaultFilters(), search: "  astronaut  ", scopes: { name: false, prompt: true, workflow: true } };
  assert.deepEqual(listBody(f, known), { sort: "newest", search: "astronaut", search_scopes: ["prompt", "workflow"] });
  assert.deepEqual(activeScopes({ ...f, scopes: { name: false, prompt: false, workflow: false } }), ["name"]);
});

test("every other filter maps to its /list field", () => {
  const f = {
    ...defaultFilters(), dateFrom: "2024-03-01", dateTo: "2024-03-05", hasWorkflow: "yes", hasPrompt: "no",
    hasEdits: "yes", hasTags: "no", tags: ["cat", "sky"], minRating: 3, model: "sdxl.safetensors", lora: "detail",
    folderPrefix: "a/b", sort: "oldest",
  };
  assert.deepEqual(listBody(f, known), {
    sort: "oldest", folder_prefix: "a/b", date_from: "2024-03-01", date_to: "2024-03-05", has_workflow: true,
    has_prompt: false, has_edits: true, has_tags: false, tags: ["cat", "sky"], min_rating: 3, model: "sdxl.safetensors",
    lora: "detail",
  });
});

test("the trashcan view ignores folder filters", () => {
  const f = { ...defaultFilters(), trashcan: true, excludedFolders: ["portraits"], folderPrefix: "x" };
  assert.deepEqual(listBody(f, known), { sort: "newest", trashcan: true });
});

test("filters survive a save and a reload through the settings section", () => {
  const f = { ...defaultFilters(), search: "cat", excludedFolders: ["root"], lockedFolders: ["root"], tags: ["a"], minRating: 2, sort: "size", hasEdits: "yes" };
  assert.deepEqual(filtersFromSettings(filtersToSettings(f)), f);
  assert.deepEqual(changedSettings(defaultFilters(), { ...defaultFilters(), search: "x" }), { search_text: "x" });
});

test("malformed saved values fall back to defaults", () => {
  const f = filtersFromSettings({ search_text: 5, excluded_folders: "root", min_rating: 9, sort_order: "weird", startdate: "yesterday", filter_has_tags: true });
  assert.deepEqual(f, defaultFilters());
});

test("All / None / Invert leave locked folders as they are", () => {
  let f = { ...defaultFilters(), excludedFolders: ["portraits"], lockedFolders: ["portraits", "root"] };
  assert.deepEqual(applyFolderAction(f, "all", known.folders).excludedFolders, ["portraits"]);
  assert.deepEqual(applyFolderAction(f, "none", known.folders).excludedFolders.sort(), ["2024-01-01", "portraits"]);
  f = { ...f, excludedFolders: ["2024-01-01"], lockedFolders: ["root"] };
  assert.deepEqual(applyFolderAction(f, "invert", known.folders).excludedFolders.sort(), ["portraits"]);
  assert.equal(applyFolderAction({ ...f, trashcan: true }, "all", known.folders).trashcan, false);
});

test("ticking, unticking and locking one folder", () => {
  let f = setFolderIncluded(defaultFilters(), "root", false);
  assert.deepEqual(f.excludedFolders, ["root"]);
  f = setFolderLocked(f, "root", true);
  assert.deepEqual(f.lockedFolders, ["root"]);
  assert.deepEqual(setFolderIncluded(f, "root", true).excludedFolders, []);
});

test("Reset keeps locked folders only when asked to", () => {
  const f = { ...defaultFilters(), search: "x", excludedFolders: ["root", "portraits"], lockedFolders: ["root"], minRating: 4 };
  const kept = resetFilters(f, { keepLocks: true });
  assert.deepEqual([kept.search, kept.minRating, kept.excludedFolders, kept.lockedFolders], ["", 0, ["root"], ["root"]]);
  assert.deepEqual(resetFilters(f), defaultFilters());
});

test("a node's model name finds the index's spelling", () => {
  const options = [{ name: "juggernautXL_v9.safetensors", count: 5 }, { name: "add_detail", count: 3 }, { name: "add_detail.safetensors", count: 9 }];
  assert.equal(matchModelName("juggernautXL_v9.safetensors", options), "juggernautXL_v9.safetensors");
  assert.equal(matchModelName("SDXL/juggernautXL_v9.safetensors", options), "juggernautXL_v9.safetensors");
  assert.equal(matchModelName("loras\\add_detail.pt", options), "add_detail.safetensors");
  assert.equal(matchModelName("nothing.safetensors", options), null);
});
