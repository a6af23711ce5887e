"""End to end on a generated ComfyUI-like output tree (``../shared/corpus/make_corpus.py``).

A small corpus is generated, scanned by a real standalone app, and for a sample
of manifest entries of every kind the metadata route must give back the ground
truth (prompt, seed, steps, cfg, sampler, model, size); corrupt files must be
error rows, hidden folders must stay out, and every other media file must be
listed exactly once. (The parser's own corpus test belongs to the metadata
library; this one checks the whole path scanner → index → routes.)
"""
from __future__ import annotations

import json
import subprocess
import sys
from collections import defaultdict

import pytest

from conftest import SHARED
from index_gallery import synced

MAKE_CORPUS = SHARED / "corpus" / "make_corpus.py"
pytestmark = pytest.mark.skipif(not MAKE_CORPUS.is_file(), reason="../shared/corpus is not available")

MEDIA_KINDS_WITH_PARAMS = ("comfy_png", "a1111_png", "a1111_jpg", "a1111_webp", "comfy_webp", "comfy_png_sidecar",
                           "a1111_jpg_sidecar", "vhs_mp4", "savevideo_mp4")
NOT_INDEXED = ("junk", "text", "latent", "workflow_json")


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    base = tmp_path_factory.mktemp("corpus")
    out = base / "out"
    manifest = base / "manifest.jsonl"
    subprocess.run([sys.executable, str(MAKE_CORPUS), str(out), "--images", "50", "--videos", "3", "--seed", "11",
                    "--jobs", "2", "--png-level", "1", "--manifest", str(manifest)], check=True, capture_output=True, timeout=600)
    entries = [json.loads(line) for line in manifest.read_text().splitlines() if line.strip()]
    return out, entries


@pytest.fixture
async def corpus_client(corpus, aiohttp_client, host_paths):
    out, entries = corpus
    host_paths.output_dir = out
    host_paths.data_dir.mkdir(parents=True, exist_ok=True)
    (host_paths.data_dir / "config.ini").write_text(
        "[ImageViewer]\nwatch_mode = off\nscan_workers = 2\nrescan_interval_min = 0\n")
    from holaf_utilities import holaf_app

    cli = await aiohttp_client(holaf_app.create_standalone_app(host_paths))
    result = await synced(cli)
    return cli, entries, result


def hidden(path: str) -> bool:
    return any(part.startswith(".") for part in path.split("/"))


async def test_every_media_file_is_listed_once_corrupt_ones_as_errors_and_prompts_are_searchable(corpus_client):
    cli, entries, result = corpus_client
    expected = {e["path"] for e in entries if e["kind"] not in NOT_INDEXED and not hidden(e["path"])
                and not e["path"].lower().endswith((".json", ".txt", ".latent", ".md", ".db", ".ds_store"))}
    data = await (await cli.post("/holaf/images/list", json={"limit": 1000})).json()
    listed = [i["path"] for i in data["images"]]
    assert len(listed) == len(set(listed)) == data["total"]
    assert set(listed) == expected
    # the sync either was the start-up scan or came after it
    assert result["files"] == len(expected) and result["metadata_read"] in (0, len(expected))

    # corrupt files are error rows
    errors = {i["path"] for i in (await (await cli.post("/holaf/images/list", json={
        "limit": 1000, "has_error": True})).json())["images"]}
    for entry in entries:
        if entry["kind"] in ("zero_png", "garbage_png", "truncated_png", "truncated_jpg") and not hidden(entry["path"]):
            assert entry["path"] in errors, entry

    # a prompt of the corpus is found by the search
    entry = next(e for e in entries if e["kind"] == "comfy_png" and not hidden(e["path"]))
    words = [w for w in entry["positive"].replace(",", " ").split() if w.isalpha() and len(w) > 4][:3]
    data = await (await cli.post("/holaf/images/list", json={
        "limit": 1000, "search": " ".join(words), "search_scopes": ["prompt"]})).json()
    assert entry["path"] in [i["path"] for i in data["images"]]


async def test_the_metadata_route_returns_the_ground_truth_for_every_kind(corpus_client):
    cli, entries, _ = corpus_client
    by_kind = defaultdict(list)
    for entry in entries:
        if entry["kind"] in MEDIA_KINDS_WITH_PARAMS and not hidden(entry["path"]) and "corrupt" not in entry:
            by_kind[entry["kind"]].append(entry)
    sample = [e for kind in sorted(by_kind) for e in by_kind[kind][:4]]
    assert len({e["kind"] for e in sample}) >= 6
    for entry in sample:
        resp = await cli.get("/holaf/images/metadata", params={"path": entry["path"]})
        assert resp.status == 200, (entry["path"], await resp.text())
        data = await resp.json()
        params = data["parameters"]
        assert data["error"] is None, entry["path"]
        assert params["positive"] == entry["positive"], entry["path"]
        assert params["seed"] == entry["seed"], entry["path"]
        assert params["steps"] == entry["steps"], entry["path"]
        # Flux graphs: the library reports FluxGuidance as the top-level cfg; the sampler keeps the manifest's cfg.
        cfgs = [params["cfg"]] + [s.get("cfg") for s in params["samplers"] or []]
        assert any(c == pytest.approx(entry["cfg"]) for c in cfgs if c is not None), entry["path"]
        assert params["sampler"] == entry["sampler_name"], entry["path"]
        assert (params["negative"] or "") == (entry.get("negative") or ""), entry["path"]
        assert entry["ckpt_name"] in (params["model"] or ""), entry["path"]
        assert (data["file"]["width"], data["file"]["height"]) == (entry["width"], entry["height"]), entry["path"]
