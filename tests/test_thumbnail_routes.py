"""Thumbnail routes through a real server and worker: cold generation, ETag/304 and
immutable caching with a version, 202 + Retry-After while queued, a recorded
permanent failure (422) retried only on demand, stale thumbnails never served,
thumbnails following a trashed file, prioritisation, stats and maintenance."""
from __future__ import annotations

import asyncio
import os

from PIL import Image

from index_gallery import synced
from media_factory import bomb_png, comfy_png, make_video, open_bytes


async def _get_until_ready(client, path, *, tries=50, **params):
    for _ in range(tries):
        resp = await client.get("/holaf/images/thumbnail", params={"path": path, **params})
        if resp.status != 202:
            return resp
        assert int(resp.headers["Retry-After"]) >= 0
        await asyncio.sleep(0.1)
    raise AssertionError("never ready")


async def test_a_cold_thumbnail_is_made_and_served_with_an_etag_then_revalidated(client, output_dir):
    comfy_png(output_dir / "2024/a.png", 1200, 900)
    resp = await _get_until_ready(client, "2024/a.png")
    assert resp.status == 200 and resp.content_type == "image/webp"
    assert resp.headers["Cache-Control"] == "no-cache"
    assert open_bytes(await resp.read()).size == (384, 288)
    etag = resp.headers["ETag"]
    again = await client.get("/holaf/images/thumbnail", params={"path": "2024/a.png"}, headers={"If-None-Match": etag})
    assert again.status == 304
    versioned = await client.get("/holaf/images/thumbnail", params={"path": "2024/a.png", "v": "123"})
    assert "immutable" in versioned.headers["Cache-Control"] and versioned.headers["ETag"] == etag


async def test_a_queued_thumbnail_answers_202_with_retry_after(aiohttp_client, make_app, output_dir):
    client = await aiohttp_client(make_app(settings={"ImageViewer": {"thumbnail_wait_ms": 0}}))
    comfy_png(output_dir / "b.png", 800, 600)
    first = await client.get("/holaf/images/thumbnail", params={"path": "b.png"})
    body = await first.json()
    assert first.status == 202 and body["status"] == "queued"
    assert first.headers["Retry-After"] == str(body["retry_after"]) == "0"  # little work ahead: ask again now
    assert (await _get_until_ready(client, "b.png")).status == 200


async def test_a_changed_file_gets_a_new_thumbnail_never_the_stale_one(client, output_dir):
    path = comfy_png(output_dir / "c.png", 400, 400)
    old = await _get_until_ready(client, "c.png")
    Image.new("RGB", (400, 200), "red").save(path)
    os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 10_000_000))
    new = await _get_until_ready(client, "c.png")
    assert new.headers["ETag"] != old.headers["ETag"]
    assert open_bytes(await new.read()).size == (384, 192)


async def test_an_unreadable_file_is_recorded_and_retried_only_on_demand(client, output_dir):
    bomb_png(output_dir / "bomb.png")
    first = await _get_until_ready(client, "bomb.png")
    body = await first.json()
    assert first.status == 422 and body["code"] == "thumbnail_failed" and body["reason"] == "too_large"
    second = await client.get("/holaf/images/thumbnail", params={"path": "bomb.png"})
    assert second.status == 422  # answered from the record, not regenerated
    await synced(client)  # the stats count the index's files: let it list bomb.png first
    stats = await (await client.get("/holaf/images/thumbnail-stats")).json()
    assert stats["failed"] == 1
    resp = await client.post("/holaf/images/regenerate-thumbnail", json={"path": "bomb.png"})
    assert resp.status == 422
    resp = await client.post("/holaf/images/regenerate-failed", json={})
    assert (await resp.json())["reset_count"] == 1


async def test_regenerate_thumbnail_remakes_a_good_one(client, output_dir):
    comfy_png(output_dir / "d.png", 300, 300)
    await _get_until_ready(client, "d.png")
    resp = await client.post("/holaf/images/regenerate-thumbnail", json={"path": "d.png"})
    body = await resp.json()
    assert resp.status == 200 and body["status"] == "ok" and body["path"] == "d.png"


async def test_video_thumbnails_come_through_the_route(client, output_dir):
    make_video(output_dir / "clips/v.mp4", seconds=1.0)
    resp = await _get_until_ready(client, "clips/v.mp4")
    assert resp.status == 200 and open_bytes(await resp.read()).size == (160, 120)


async def test_a_trashed_file_keeps_its_thumbnail(client, output_dir, host_paths):
    comfy_png(output_dir / "e.png", 500, 500)
    before = await _get_until_ready(client, "e.png")
    resp = await client.post("/holaf/images/delete", json={"paths": ["e.png"]})
    assert resp.status == 200
    after = await client.get("/holaf/images/thumbnail", params={"path": "trashcan/e.png"}, headers={"If-None-Match": "x"})
    assert after.status == 200 and await after.read() == await before.read()


async def test_prioritize_queues_visible_tiles_and_reports_bad_paths(client, output_dir):
    for i in range(5):
        comfy_png(output_dir / f"p{i}.png", 300, 200)
    resp = await client.post("/holaf/images/prioritize-thumbnails", json={"paths": [f"p{i}.png" for i in range(5)] + ["nope.png", "../x.png"]})
    body = await resp.json()
    assert resp.status == 202 and body["queued"] + body["ready"] == 5 and len(body["errors"]) == 2
    for i in range(5):
        assert (await _get_until_ready(client, f"p{i}.png")).status == 200


async def test_thumbnail_route_errors_are_json(client, output_dir):
    (output_dir / "notes.txt").write_text("hi")
    (output_dir / "dir.png").mkdir()
    expectations = {"../secret.png": 403, "/etc/passwd": 403, "missing.png": 404, "notes.txt": 415, "dir.png": 400}
    for path, status in expectations.items():
        resp = await client.get("/holaf/images/thumbnail", params={"path": path})
        body = await resp.json()
        assert resp.status == status and body["ok"] is False, path
    resp = await client.get("/holaf/images/thumbnail")
    assert resp.status == 400


async def test_stats_and_clean_thumbnails_remove_orphans(client, output_dir, host_paths):
    comfy_png(output_dir / "f.png", 300, 300)
    await _get_until_ready(client, "f.png")
    await synced(client)  # the stats count the index's files
    stats = await (await client.get("/holaf/images/thumbnail-stats")).json()
    assert stats["done"] >= 1 and stats["size"] == 384
    orphan = host_paths.data_dir / "thumbnails" / "384" / "ab" / ("ab" + "0" * 22 + "-" + "1" * 16 + ".webp")
    orphan.parent.mkdir(parents=True, exist_ok=True)
    orphan.write_bytes(b"old")
    resp = await client.post("/holaf/images/maintenance/clean-thumbnails", json={})
    details = (await resp.json())["details"]
    assert resp.status == 200 and details["deleted_orphans"] >= 1 and not orphan.exists()
    assert (await client.get("/holaf/images/thumbnail", params={"path": "f.png"})).status == 200


async def test_edits_plug_in_a_variant_and_a_transform_that_change_the_cached_thumbnail(client, output_dir):
    from holaf_utilities import holaf_app

    service = client.app[holaf_app.CTX_KEY].state["holaf.thumbnails"]
    Image.new("RGB", (400, 400), "white").save(output_dir / "edited.png")
    plain = await _get_until_ready(client, "edited.png")
    edits = {"edited.png": "dark-v1"}

    def provider(abs_path, rel_path):
        if rel_path not in edits:
            return None
        return edits[rel_path], lambda image: image.point(lambda v: v // 4)

    service.set_variant_provider(provider)
    answer = await service.regenerate("edited.png")
    assert answer.state == "ready"
    dark = await _get_until_ready(client, "edited.png")
    assert dark.headers["ETag"] != plain.headers["ETag"]
    assert open_bytes(await dark.read()).convert("RGB").getpixel((10, 10))[0] < 80
    edits["edited.png"] = "dark-v2"  # the .edt changed: a new cache name, never the old image
    again = await _get_until_ready(client, "edited.png")
    assert again.headers["ETag"] not in (plain.headers["ETag"], dark.headers["ETag"])
    service.set_variant_provider(None)


async def test_changing_the_thumbnail_size_in_settings_takes_effect_at_once(client, output_dir):
    comfy_png(output_dir / "sized.png", 1000, 500)
    assert open_bytes(await (await _get_until_ready(client, "sized.png")).read()).size == (384, 192)
    resp = await client.post("/holaf/utilities/save-all-settings", json={"ImageViewer": {"thumbnail_size": 128}})
    assert resp.status == 200, await resp.text()
    assert open_bytes(await (await _get_until_ready(client, "sized.png")).read()).size == (128, 64)
