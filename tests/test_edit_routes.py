"""Edit sidecars through a real server: round trips, both earlier layouts, the legacy file moved into
``edit/``, validation errors, stale-tab conflicts, edited thumbnails, and the sidecar following its
image through trash, restore, move and rename."""
from __future__ import annotations

import asyncio
import json

import pytest
from PIL import Image

from media_factory import comfy_png, open_bytes

STACKED = {"controls": [{"id": "c_1", "type": "brightness", "value": 1.25, "range": "all"},
                        {"id": "c_2", "type": "hue", "value": -45, "range": "highlights"}],
           "targetFps": None, "playbackRate": 1.0}


async def _save(client, path, edits, **extra):
    return await client.post("/holaf/images/save-edits", json={"path": path, "edits": edits, **extra})


async def _load(client, path):
    resp = await client.get("/holaf/images/load-edits", params={"path": path})
    assert resp.status == 200, await resp.text()
    return await resp.json()


async def test_saved_edits_come_back_identical_and_are_stored_stacked_in_the_edit_folder(client, output_dir):
    comfy_png(output_dir / "day/a.png")
    resp = await _save(client, "day/a.png", STACKED)
    assert resp.status == 200, await resp.text()
    saved = await resp.json()
    assert saved["has_edits"] is True and saved["sidecar"] == "day/edit/a.edt"
    on_disk = json.loads((output_dir / "day/edit/a.edt").read_text(encoding="utf-8"))
    assert on_disk["controls"] == STACKED["controls"] and on_disk["version"] == 2
    loaded = await _load(client, "day/a.png")
    assert loaded["edits"]["controls"] == STACKED["controls"]
    assert loaded["source"] == "edit" and loaded["layout"] == "stacked" and loaded["hash"] == saved["hash"]


async def test_the_flat_layout_of_the_first_version_is_read(client, output_dir):
    comfy_png(output_dir / "b.png")
    (output_dir / "edit").mkdir()
    (output_dir / "edit/b.edt").write_text(json.dumps({"brightness": 0.8, "contrast": 1.3, "saturation": 1.0,
                                                        "playbackRate": 1.0}), encoding="utf-8")
    loaded = await _load(client, "b.png")
    assert loaded["layout"] == "flat"
    assert [(c["type"], c["value"]) for c in loaded["edits"]["controls"]] == [("brightness", 0.8), ("contrast", 1.3)]


async def test_a_legacy_sidecar_beside_the_image_is_read_then_moved_into_edit_on_save(client, output_dir):
    comfy_png(output_dir / "old/c.png")
    legacy = output_dir / "old/c.edt"
    legacy.write_text(json.dumps({"controls": [{"id": "c_1", "type": "saturation", "value": 0.2, "range": "all"}],
                                  "targetFps": None, "playbackRate": 1, "interpolate": False}), encoding="utf-8")
    loaded = await _load(client, "old/c.png")
    assert loaded["source"] == "legacy" and loaded["edits"]["controls"][0]["value"] == 0.2
    edits = loaded["edits"]
    edits["controls"][0]["value"] = 0.4
    resp = await _save(client, "old/c.png", edits)
    assert (await resp.json())["moved_legacy"] is True
    assert not legacy.exists()
    assert json.loads((output_dir / "old/edit/c.edt").read_text())["controls"][0]["value"] == 0.4
    assert (await _load(client, "old/c.png"))["source"] == "edit"


async def test_numbers_are_clamped_and_reported(client, output_dir):
    comfy_png(output_dir / "d.png")
    resp = await _save(client, "d.png", {"controls": [{"type": "contrast", "value": 7}], "playbackRate": 0})
    body = await resp.json()
    assert resp.status == 200
    assert body["edits"]["controls"][0]["value"] == 2.0 and body["edits"]["playbackRate"] == 0.1
    assert len(body["warnings"]) == 2


@pytest.mark.parametrize("payload, status, code", [
    ({"path": "e.png", "edits": {"controls": [{"type": "vignette", "value": 1}]}}, 400, "invalid_edits"),
    ({"path": "e.png", "edits": {"controls": [{"type": "hue", "value": 3, "range": "reds"}]}}, 400, "invalid_edits"),
    ({"path": "e.png", "edits": {"controls": [{"type": "hue", "value": "3"}]}}, 400, "invalid_edits"),
    ({"path": "e.png", "edits": "bright"}, 400, "invalid_edits"),
    ({"path": "e.png"}, 400, "missing_field"),
    ({"edits": {}}, 400, "missing_field"),
    ({"path": "../outside.png", "edits": {}}, 403, "invalid_path"),
    ({"path": "nothere.png", "edits": {}}, 404, "invalid_path"),
    ({"path": "notes.txt", "edits": {}}, 415, "unsupported_type"),
])
async def test_bad_save_requests_get_a_clear_error_and_write_nothing(client, output_dir, payload, status, code):
    comfy_png(output_dir / "e.png")
    (output_dir / "notes.txt").write_text("hi")
    resp = await client.post("/holaf/images/save-edits", json=payload)
    body = await resp.json()
    assert resp.status == status, body
    assert body["ok"] is False and body["code"] == code and body["error"]
    assert not (output_dir / "edit").exists()


async def test_a_save_from_a_stale_tab_is_refused_with_the_current_edits(client, output_dir):
    comfy_png(output_dir / "f.png")
    first = await (await _save(client, "f.png", STACKED)).json()
    newer = dict(STACKED, playbackRate=2.0)
    second = await (await _save(client, "f.png", newer, base_hash=first["hash"])).json()
    stale = await _save(client, "f.png", dict(STACKED, playbackRate=0.5), base_hash=first["hash"])
    body = await stale.json()
    assert stale.status == 409 and body["code"] == "edit_conflict" and body["current"]["playbackRate"] == 2.0
    assert (await _load(client, "f.png"))["hash"] == second["hash"]


async def test_delete_edits_removes_both_places_and_the_empty_edit_folder(client, output_dir):
    comfy_png(output_dir / "g.png")
    await _save(client, "g.png", STACKED)
    (output_dir / "g.edt").write_text("{}")
    resp = await client.post("/holaf/images/delete-edits", json={"path": "g.png"})
    assert resp.status == 200 and (await resp.json())["removed"] is True
    assert not (output_dir / "edit").exists() and not (output_dir / "g.edt").exists()
    assert (await _load(client, "g.png"))["edits"] is None


async def test_saving_an_empty_edit_set_removes_the_sidecar(client, output_dir):
    comfy_png(output_dir / "h.png")
    await _save(client, "h.png", STACKED)
    body = await (await _save(client, "h.png", {"controls": []})).json()
    assert body["has_edits"] is False and not (output_dir / "edit/h.edt").exists()


async def test_an_unreadable_sidecar_is_reported_and_kept_aside_by_the_next_save(client, output_dir):
    comfy_png(output_dir / "i.png")
    (output_dir / "edit").mkdir()
    (output_dir / "edit/i.edt").write_text("{not json")
    loaded = await _load(client, "i.png")
    assert loaded["edits"] is None and loaded["has_edits"] is True and "not valid" in loaded["error"]
    assert (await _save(client, "i.png", STACKED)).status == 200
    assert (output_dir / "edit/i.edt.bad").read_text() == "{not json"


async def test_cross_site_edit_writes_are_refused(client, output_dir):
    comfy_png(output_dir / "j.png")
    resp = await client.post("/holaf/images/save-edits", json={"path": "j.png", "edits": STACKED},
                             headers={"Origin": "http://evil.example"})
    assert resp.status == 403 and not (output_dir / "edit").exists()


async def _thumbnail(client, path):
    for _ in range(100):
        resp = await client.get("/holaf/images/thumbnail", params={"path": path})
        if resp.status != 202:
            assert resp.status == 200, await resp.text()
            return resp.headers["ETag"], open_bytes(await resp.read()).convert("RGB")
        await asyncio.sleep(0.1)
    raise AssertionError("thumbnail never ready")


async def test_saving_remakes_the_thumbnail_with_the_edits_and_deleting_restores_it(client, output_dir):
    Image.new("RGB", (300, 200), (220, 30, 30)).save(output_dir / "red.png")
    etag_before, before = await _thumbnail(client, "red.png")
    assert before.getpixel((10, 10))[0] > 200
    body = await (await _save(client, "red.png", {"controls": [{"type": "saturation", "value": 0}]})).json()
    assert body["thumbnail"] == "ready" and body["thumbnail_version"]
    etag_after, after = await _thumbnail(client, "red.png")
    assert etag_after != etag_before
    r, g, b = after.getpixel((10, 10))
    expected = round((0.213 * 220 + 0.715 * 30 + 0.072 * 30))  # saturate(0): every channel becomes the luma
    assert max(abs(r - expected), abs(g - expected), abs(b - expected)) <= 4
    await client.post("/holaf/images/delete-edits", json={"path": "red.png"})
    etag_reset, reset = await _thumbnail(client, "red.png")
    assert etag_reset == etag_before and reset.getpixel((10, 10))[0] > 200


async def test_the_sidecar_follows_its_image_through_trash_restore_move_and_rename(client, output_dir):
    comfy_png(output_dir / "set/k.png")
    await _save(client, "set/k.png", STACKED)

    async def ok(route, payload):
        resp = await client.post(route, json=payload)
        assert resp.status == 200, await resp.text()
        return await resp.json()

    await ok("/holaf/images/delete", {"paths": ["set/k.png"]})
    assert not (output_dir / "set/edit/k.edt").exists()
    await ok("/holaf/images/restore", {"paths": ["trashcan/set/k.png"]})
    assert (await _load(client, "set/k.png"))["edits"]["controls"] == STACKED["controls"]
    (output_dir / "other").mkdir()
    await ok("/holaf/images/move", {"paths": ["set/k.png"], "destination": "other"})
    assert (await _load(client, "other/k.png"))["edits"]["controls"] == STACKED["controls"]
    await ok("/holaf/images/rename", {"path": "other/k.png", "new_name": "renamed"})
    loaded = await _load(client, "other/renamed.png")
    assert loaded["edits"]["controls"] == STACKED["controls"] and loaded["source"] == "edit"
    assert (output_dir / "other/edit/renamed.edt").is_file()


async def test_saving_and_deleting_set_the_index_flag_at_once(aiohttp_client, make_app, output_dir):
    from index_gallery import QUIET, paths, synced

    comfy_png(output_dir / "idx/m.png")
    comfy_png(output_dir / "idx/n.png")
    client = await aiohttp_client(make_app(settings=QUIET))  # no watcher, no periodic scan: only our update counts
    await synced(client)
    assert await paths(client, has_edits=True) == []
    token = (await (await client.get("/holaf/images/last-update-time")).json())["change_token"]
    body = await (await _save(client, "idx/m.png", STACKED)).json()
    assert body["index_updated"] is True
    assert await paths(client, has_edits=True) == ["idx/m.png"]
    assert (await (await client.get("/holaf/images/last-update-time")).json())["change_token"] != token
    await client.post("/holaf/images/delete-edits", json={"path": "idx/m.png"})
    assert await paths(client, has_edits=True) == []
    await _save(client, "idx/n.png", STACKED)
    await synced(client)  # a full rescan agrees with what the save recorded
    assert await paths(client, has_edits=True) == ["idx/n.png"]
