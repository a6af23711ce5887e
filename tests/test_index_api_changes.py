"""The Image Viewer index over HTTP, write side: tags, ratings and their ``.xmp``
sidecars, rescans (changed, new, vanished and renamed files), forced and
background syncs, and the change token — each test on its own fresh gallery.
"""
from __future__ import annotations

import os

import pytest

from index_gallery import GALLERY, QUIET, build_gallery, listing, make_video_bytes, paths, synced
from index_helpers import comfy_prompt, wait_for, write_png


@pytest.fixture(scope="module")
def video_template(tmp_path_factory) -> bytes:
    return make_video_bytes(tmp_path_factory.mktemp("video"))


@pytest.fixture
async def gallery(aiohttp_client, make_app, output_dir, video_template):
    build_gallery(output_dir, video_template)
    cli = await aiohttp_client(make_app(settings=QUIET))
    await synced(cli)
    return cli


async def test_tags_all_required_and_minimum_rating(gallery):
    await gallery.post("/holaf/images/tags", json={"paths": ["r1.png", "portraits/p1.png"], "add": ["winter"]})
    await gallery.post("/holaf/images/tags", json={"paths": ["r1.png"], "add": ["best"]})
    await gallery.post("/holaf/images/rating", json={"paths": ["portraits/p1.png"], "rating": 4})
    await gallery.post("/holaf/images/rating", json={"paths": ["r1.png"], "rating": 2})
    assert set(await paths(gallery, tags=["winter"])) == {"r1.png", "portraits/p1.png"}
    assert await paths(gallery, tags=["winter", "best"]) == ["r1.png"]
    assert set(await paths(gallery, has_tags=True)) == {"r1.png", "portraits/p1.png"}
    assert await paths(gallery, min_rating=3) == ["portraits/p1.png"]
    assert set(await paths(gallery, min_rating=1)) == {"r1.png", "portraits/p1.png"}


async def test_filter_options_list_folders_formats_models_samplers_loras_and_tags(gallery):
    await gallery.post("/holaf/images/tags", json={"paths": ["r1.png"], "set": ["winter"]})
    resp = await gallery.get("/holaf/images/filter-options")
    data = await resp.json()
    assert {f["path"]: f["count"] for f in data["folders"]} == {"root": 2, "portraits": 3, "landscapes": 3, "videos": 1}
    assert {f["path"] for f in data["folder_tree"]} >= {"", "portraits/sub", "portraits/sub/deeper"}
    assert {f["name"] for f in data["formats"]} == {"PNG", "JPEG", "WEBP", "MP4"}
    assert "juggernaut.safetensors" in {m["name"] for m in data["models"]}
    assert "dpmpp_2m" in {s["name"] for s in data["samplers"]}
    assert [lo["name"] for lo in data["loras"]] == ["detail_tweaker.safetensors"]
    assert data["tags"] == [{"name": "winter", "count": 1}]
    assert data["trashcan_count"] == 2 and data["error_count"] == 1


async def test_metadata_of_a_file_not_indexed_yet_is_read_live(gallery, output_dir):
    write_png(output_dir / "fresh.png", prompt=comfy_prompt("a freshly saved owl"))
    data = await (await gallery.get("/holaf/images/metadata", params={"path": "fresh.png"})).json()
    assert data["indexed"] is False and data["parameters"]["positive"] == "a freshly saved owl"


async def test_tags_are_set_added_removed_for_many_images_and_mirrored_to_xmp(gallery, output_dir):
    resp = await gallery.post("/holaf/images/tags", json={"paths": ["r1.png", "portraits/p1.png", "nope.png"],
                                                          "set": ["Winter", "best  shot"]})
    data = await resp.json()
    assert data["tags"] == {"r1.png": ["best shot", "winter"], "portraits/p1.png": ["best shot", "winter"]}
    assert data["missing"] == ["nope.png"] and data["xmp"]["enabled"] and data["xmp"]["written"] == 2
    xmp = (output_dir / "r1.xmp").read_text()
    assert "winter" in xmp and "best shot" in xmp
    data = await (await gallery.post("/holaf/images/tags", json={"paths": ["r1.png"], "add": ["night"],
                                                                 "remove": ["winter"]})).json()
    assert data["tags"] == {"r1.png": ["best shot", "night"]}
    assert "winter" not in (output_dir / "r1.xmp").read_text()
    meta = await (await gallery.get("/holaf/images/metadata", params={"path": "r1.png"})).json()
    assert meta["tags"] == ["best shot", "night"]


async def test_tags_and_ratings_survive_a_rescan_through_their_xmp_sidecar(gallery, output_dir):
    await gallery.post("/holaf/images/tags", json={"paths": ["r1.png"], "set": ["keeper"]})
    await gallery.post("/holaf/images/rating", json={"paths": ["r1.png"], "rating": 5})
    assert "Rating" in (output_dir / "r1.xmp").read_text()
    result = await synced(gallery)
    assert result["changed"] == 1  # the new sidecar changed r1's signature: read again, from the xmp
    item = (await listing(gallery, tags=["keeper"]))["images"][0]
    assert item["path"] == "r1.png" and item["rating"] == 5


async def test_rescan_reads_only_changed_files_drops_vanished_ones_and_bumps_the_token_only_on_change(gallery, output_dir):
    token = (await listing(gallery))["change_token"]
    result = await synced(gallery)
    assert (result["added"], result["changed"], result["removed"], result["moved"]) == (0, 0, 0, 0)
    assert result["unchanged"] == len(GALLERY) + 2
    assert (await listing(gallery))["change_token"] == token  # nothing changed: no bump, no refresh loop
    write_png(output_dir / "portraits" / "p1.png", size=(60, 60), prompt=comfy_prompt("portrait of a young sailor"))
    write_png(output_dir / "new" / "n1.png", prompt=comfy_prompt("a new lighthouse"))
    (output_dir / "r2.jpg").unlink()
    result = await synced(gallery)
    assert (result["added"], result["changed"], result["removed"]) == (1, 1, 1)
    assert (await listing(gallery))["change_token"] != token
    assert await paths(gallery, search="lighthouse") == ["new/n1.png"]
    assert await paths(gallery, search="young sailor") == ["portraits/p1.png"]
    assert "r2.jpg" not in await paths(gallery)


async def test_a_renamed_file_keeps_its_tags_and_rating(gallery, output_dir):
    await gallery.post("/holaf/images/tags", json={"paths": ["portraits/sub/deeper/p3.png"], "set": ["kept"]})
    os.rename(output_dir / "portraits" / "sub" / "deeper" / "p3.png", output_dir / "landscapes" / "renamed.png")
    result = await synced(gallery)
    assert result["moved"] == 1 and result["removed"] == 0
    assert await paths(gallery, tags=["kept"]) == ["landscapes/renamed.png"]


async def test_a_forced_sync_reads_every_file_again(gallery):
    resp = await gallery.post("/holaf/images/maintenance/sync-database", json={"wait": True, "force": True})
    assert resp.status == 200
    assert await paths(gallery, search="fox") == ["r1.png"]


async def test_sync_without_waiting_answers_at_once_and_scan_status_reports_progress(gallery):
    resp = await gallery.post("/holaf/images/maintenance/sync-database", json={})
    assert resp.status == 202 and (await resp.json())["status"] == "started"

    async def idle():
        status = await (await gallery.get("/holaf/images/scan-status")).json()
        return status if status["state"] == "idle" else None

    status = await wait_for(idle, timeout=20)
    assert status["done"] == status["found"] == len(GALLERY) + 2  # the trashed files are indexed too
    assert status["watch"]["mode"] == "off"
    bad = await gallery.post("/holaf/images/maintenance/sync-database", json={"wait": "yes"})
    assert bad.status == 400
