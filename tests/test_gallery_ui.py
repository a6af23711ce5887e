"""The Image Viewer UI's server side on a real aiohttp app: the [ImageViewerUI] settings it
declares (a fresh install excludes nothing; the filters round-trip; bad values are refused)
and ``POST /holaf/images/copy-to-input`` (what "Pick from Image Viewer" and a tile dropped on
a Load Image node use): copy, reuse, numbered names, and every refusal."""
from __future__ import annotations

import pytest

from conftest import ROOT  # noqa: F401  (loads the package)
from holaf_utilities import holaf_app
from holaf_utilities.holaf_context import HostPaths
from index_helpers import write_png


async def test_a_fresh_install_shows_everything_and_the_filters_round_trip(client):
    settings = await (await client.get("/holaf/utilities/settings")).json()
    ui = settings["ImageViewerUI"]
    assert ui["excluded_folders"] == [] and ui["excluded_formats"] == [] and ui["show_trashcan"] is False
    assert ui["search_text"] == "" and ui["thumbnail_size"] == 150 and ui["sort_order"] == "newest"
    keys = {entry["key"]: entry for entry in settings["schema"]["ImageViewerUI"]}
    assert keys["thumbnail_size"]["ui"] is True and keys["excluded_folders"]["ui"] is False
    saved = {"excluded_folders": ["portraits"], "tags_filter": ["keeper"], "filter_has_edits": "yes", "min_rating": 3, "search_text": "koi"}
    resp = await client.post("/holaf/utilities/save-all-settings", json={"ImageViewerUI": saved})
    assert resp.status == 200, await resp.text()
    ui = (await (await client.get("/holaf/utilities/settings")).json())["ImageViewerUI"]
    assert {k: ui[k] for k in saved} == saved


@pytest.mark.parametrize("values", [
    {"thumbnail_size": 20}, {"thumbnail_fit": "stretch"}, {"filter_has_tags": "maybe"}, {"min_rating": 9}, {"sort_order": "by-mood"},
])
async def test_bad_viewer_settings_are_refused(client, values):
    resp = await client.post("/holaf/utilities/save-all-settings", json={"ImageViewerUI": values})
    assert resp.status == 400


@pytest.fixture
def output_image(output_dir):
    return write_png(output_dir / "sub" / "hero_00001_.png", size=(16, 16), color=(1, 2, 3))


async def test_an_output_image_is_copied_into_the_input_folder(client, host_paths, output_image):
    resp = await client.post("/holaf/images/copy-to-input", json={"path": "sub/hero_00001_.png"})
    body = await resp.json()
    assert resp.status == 200, body
    assert body == {"ok": True, "name": "hero_00001_.png", "subfolder": "", "type": "input", "copied": True}
    assert (host_paths.input_dir / "hero_00001_.png").read_bytes() == output_image.read_bytes()
    assert not [p for p in host_paths.input_dir.iterdir() if p.name.startswith(".holaf-copy-")], "no temp file left"


async def test_the_same_image_is_reused_and_a_different_one_gets_a_numbered_name(client, host_paths, output_image):
    host_paths.input_dir.mkdir(parents=True, exist_ok=True)
    first = await (await client.post("/holaf/images/copy-to-input", json={"path": "sub/hero_00001_.png"})).json()
    again = await (await client.post("/holaf/images/copy-to-input", json={"path": "sub/hero_00001_.png"})).json()
    assert (first["name"], again["name"], again["copied"]) == ("hero_00001_.png", "hero_00001_.png", False)
    write_png(output_image, size=(16, 16), color=(200, 0, 0))  # the output changed: same name, other bytes
    other = await (await client.post("/holaf/images/copy-to-input", json={"path": "sub/hero_00001_.png"})).json()
    assert (other["name"], other["copied"]) == ("hero_00001__1.png", True)
    assert (host_paths.input_dir / "hero_00001__1.png").read_bytes() == output_image.read_bytes()


@pytest.mark.parametrize("payload, status", [
    ({"path": "../outside.png"}, 403),
    ({"path": "/etc/passwd"}, 403),
    ({"path": "sub/missing.png"}, 404),
    ({"path": "notes.txt"}, 415),
    ({"path": 5}, 400),
    ({}, 400),
])
async def test_copy_to_input_refuses_unsafe_missing_and_unusable_paths(client, output_dir, output_image, payload, status):
    (output_dir / "notes.txt").write_text("hello")
    resp = await client.post("/holaf/images/copy-to-input", json=payload)
    body = await resp.json()
    assert resp.status == status, body
    assert body["ok"] is False and body["error"]


async def test_copy_to_input_is_refused_cross_origin(client, output_image):
    resp = await client.post("/holaf/images/copy-to-input", json={"path": "sub/hero_00001_.png"}, headers={"Origin": "http://evil.example"})
    assert resp.status == 403


async def test_without_an_input_folder_the_copy_explains_why(aiohttp_client, tmp_path):
    paths = HostPaths(output_dir=tmp_path / "out", data_dir=tmp_path / "data")
    write_png(paths.output_dir / "a.png")
    client = await aiohttp_client(holaf_app.create_standalone_app(paths))
    resp = await client.post("/holaf/images/copy-to-input", json={"path": "a.png"})
    body = await resp.json()
    assert resp.status == 409 and body["code"] == "no_input_dir"
