"""Export jobs through a real server: one ZIP for several files and the file itself for one, edits
applied with the preview's math, temporary folders removed after the download, on cancel, on failure
and at start-up, per-file errors that never touch the originals, and request validation."""
from __future__ import annotations

import asyncio
import hashlib
import io
import zipfile

import pytest
from PIL import Image

from export_media import clip_with_audio
from media_factory import comfy_png, truncated_copy
from test_edit_math import ref_pixel
from test_video_export import download, export_and_wait


def _sha(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _temp_root(host_paths):
    return host_paths.data_dir / "temp_exports"


async def test_one_exported_file_is_downloaded_directly_and_its_folder_removed_afterwards(client, output_dir, host_paths):
    comfy_png(output_dir / "one.png", 64, 48)
    status = await export_and_wait(client, {"paths": ["one.png"], "format": "jpeg", "options": {"quality": 80},
                                            "metadata": "strip"})
    assert status["state"] == "done" and status["outputs"] == ["one.jpg"] and status["download_size"] > 0
    job_dir = _temp_root(host_paths) / status["job"]
    assert job_dir.is_dir()
    head = await client.head(status["download_url"])
    assert head.status == 200 and job_dir.is_dir()  # a HEAD sends no file: nothing is cleaned yet
    partial = await client.get(status["download_url"], headers={"Range": "bytes=0-9"})
    assert partial.status == 206 and len(await partial.read()) == 10 and job_dir.is_dir()
    data, disposition = await download(client, status)
    assert 'filename="one.jpg"' in disposition
    image = Image.open(io.BytesIO(data))
    assert image.format == "JPEG" and image.size == (64, 48) and not image.getexif()
    after = await (await client.get(f"/holaf/images/export/{status['job']}")).json()
    assert after["state"] == "downloaded" and not job_dir.exists()
    again = await client.get(status["download_url"])
    assert again.status == 410


async def test_several_files_become_one_zip_keeping_their_folders_and_distinct_names(client, output_dir):
    comfy_png(output_dir / "a/x.png", 40, 30)
    Image.new("RGB", (20, 10), "blue").save(output_dir / "a/x.jpg")
    comfy_png(output_dir / "b/x.png", 16, 16)
    clip_with_audio(output_dir / "b/clip.mp4", seconds=1.0, fps=10)
    status = await export_and_wait(client, {"paths": ["a/x.png", "a/x.jpg", "b/x.png", "b/clip.mp4"],
                                            "format": {"image": "webp", "video": "mp4"},
                                            "options": {"lossless": True, "preset": "ultrafast"}, "metadata": "strip"})
    assert status["state"] == "done" and not status["errors"], status
    data, disposition = await download(client, status)
    assert ".zip" in disposition
    archive = zipfile.ZipFile(io.BytesIO(data))
    assert archive.testzip() is None
    assert sorted(archive.namelist()) == ["a/x.webp", "a/x_1.webp", "b/clip.mp4", "b/x.webp"]
    assert Image.open(io.BytesIO(archive.read("a/x_1.webp"))).size == (20, 10)
    lossless = Image.open(io.BytesIO(archive.read("a/x.webp"))).convert("RGB")
    assert lossless.tobytes() == Image.open(output_dir / "a/x.png").convert("RGB").tobytes()
    assert archive.getinfo("b/clip.mp4").compress_type == zipfile.ZIP_STORED


async def test_exported_pixels_are_the_edits_rendered_with_the_preview_math(client, output_dir):
    pixels = [(200, 40, 40), (30, 160, 90), (12, 20, 200), (240, 230, 100)]
    image = Image.new("RGB", (4, 1))
    image.putdata(pixels)
    image.save(output_dir / "px.png")
    controls = [("brightness", 1.2, "all"), ("hue", 40, "all"), ("saturation", 1.6, "shadows")]
    await client.post("/holaf/images/save-edits", json={"path": "px.png", "edits": {
        "controls": [{"type": t, "value": v, "range": r} for t, v, r in controls]}})
    status = await export_and_wait(client, {"paths": ["px.png"], "format": "png", "metadata": "strip"})
    data, _ = await download(client, status)
    out = Image.open(io.BytesIO(data)).convert("RGB")
    assert [out.getpixel((x, 0)) for x in range(4)] == [ref_pixel(p, controls) for p in pixels]
    original = await export_and_wait(client, {"paths": ["px.png"], "format": "png", "metadata": "strip",
                                              "apply_edits": False})
    data, _ = await download(client, original)
    assert [Image.open(io.BytesIO(data)).convert("RGB").getpixel((x, 0)) for x in range(4)] == pixels


async def test_a_file_that_fails_is_reported_while_the_others_are_exported_and_originals_stay_untouched(client, output_dir, host_paths):
    good = comfy_png(output_dir / "good.png", 32, 32)
    broken = truncated_copy(good, output_dir / "broken.png", keep=0.3)
    bad_clip = output_dir / "bad.mp4"
    bad_clip.write_bytes(b"\x00\x00\x00\x18ftypisom" + b"\x00" * 500)
    hashes = {p: _sha(p) for p in (good, broken, bad_clip)}
    status = await export_and_wait(client, {"paths": ["good.png", "broken.png", "bad.mp4"], "format": "tiff",
                                            "metadata": "strip"})
    assert status["state"] == "done"
    assert sorted(e["path"] for e in status["errors"]) == ["bad.mp4", "broken.png"]
    assert status["outputs"] == ["good.tif"]
    job_dir = _temp_root(host_paths) / status["job"]
    assert sorted(p.name for p in job_dir.rglob("*") if p.is_file()) == ["good.tif"]  # no partial leftovers
    assert {p: _sha(p) for p in hashes} == hashes


async def test_an_export_where_everything_fails_is_failed_and_leaves_no_folder(client, output_dir, host_paths):
    good = comfy_png(output_dir / "g.png", 32, 32)
    truncated_copy(good, output_dir / "t.png", keep=0.2)
    status = await export_and_wait(client, {"paths": ["t.png"], "format": "png"})
    assert status["state"] == "failed" and status["errors"][0]["path"] == "t.png"
    assert not (_temp_root(host_paths) / status["job"]).exists()
    resp = await client.get(f"/holaf/images/export/{status['job']}/download")
    assert resp.status == 409 and (await resp.json())["code"] == "not_ready"


async def test_a_running_export_can_be_cancelled_and_its_files_are_removed(client, output_dir, host_paths):
    for i in range(3):
        clip_with_audio(output_dir / f"long{i}.mp4", seconds=6.0, fps=30, size="640x360", audio=False)
    resp = await client.post("/holaf/images/export", json={"paths": [f"long{i}.mp4" for i in range(3)], "format": "mp4",
                                                            "options": {"crf": 0, "preset": "veryslow"}})
    job = (await resp.json())["job"]
    for _ in range(200):
        status = await (await client.get(f"/holaf/images/export/{job}")).json()
        if status["state"] == "running" and status["current"]:
            break
        await asyncio.sleep(0.02)
    await asyncio.sleep(0.3)
    cancelled = await client.delete(f"/holaf/images/export/{job}")
    body = await cancelled.json()
    assert cancelled.status == 200 and body["state"] == "cancelled" and body["files_done"] < 3
    assert not (_temp_root(host_paths) / job).exists()
    assert sorted(p.name for p in output_dir.iterdir()) == ["long0.mp4", "long1.mp4", "long2.mp4"]


async def test_a_finished_export_can_be_discarded_without_downloading(client, output_dir, host_paths):
    comfy_png(output_dir / "d.png")
    status = await export_and_wait(client, {"paths": ["d.png"], "format": "png"})
    resp = await client.delete(f"/holaf/images/export/{status['job']}")
    assert (await resp.json())["state"] == "cancelled"
    assert not (_temp_root(host_paths) / status["job"]).exists()


async def test_leftover_export_folders_are_removed_at_start_up(aiohttp_client, make_app, host_paths):
    stale = _temp_root(host_paths) / "0123456789abcdef0123456789abcdef"
    stale.mkdir(parents=True)
    (stale / "holaf_export.zip.partial").write_bytes(b"x" * 1000)
    client = await aiohttp_client(make_app())
    assert not stale.exists() and _temp_root(host_paths).is_dir()
    assert (await client.get("/holaf/images/export")).status == 200


async def test_unclaimed_exports_expire(client, output_dir, host_paths):
    comfy_png(output_dir / "e.png")
    status = await export_and_wait(client, {"paths": ["e.png"], "format": "png"})
    manager = client.app[__import__("holaf_utilities").holaf_app.CTX_KEY].state["holaf.export"]
    assert await manager.expire(now=status["finished_at"] + 10) == 0
    assert await manager.expire(now=status["finished_at"] + manager.keep_s + 1) == 1
    assert not (_temp_root(host_paths) / status["job"]).exists()
    assert (await client.get(f"/holaf/images/export/{status['job']}")).status == 404


async def test_missing_files_are_listed_and_the_rest_exported(client, output_dir):
    comfy_png(output_dir / "here.png")
    status = await export_and_wait(client, {"paths": ["here.png", "gone.png"], "format": "png"})
    assert status["state"] == "done" and status["missing"] == ["gone.png"] and status["outputs"] == ["here.png"]


@pytest.mark.parametrize("payload, status, fragment", [
    ({"paths": [], "format": "png"}, 400, "non-empty"),
    ({"paths": "x.png", "format": "png"}, 400, "non-empty"),
    ({"paths": ["x.png"], "format": "bmp"}, 400, "unknown format"),
    ({"paths": ["x.png"], "format": {"image": "png", "video": "avi"}}, 400, "unknown video format"),
    ({"paths": ["x.png"], "format": "png", "metadata": "xmp"}, 400, "'metadata'"),
    ({"paths": ["x.png"], "format": "png", "apply_edits": "yes"}, 400, "apply_edits"),
    ({"paths": ["x.png"], "format": "jpeg", "options": {"quality": 101}}, 400, "between 1 and 100"),
    ({"paths": ["x.png"], "format": "mp4", "options": {"crf": 2.5}}, 400, "whole number"),
    ({"paths": ["x.png"], "format": "mp4", "options": {"preset": "turbo"}}, 400, "preset"),
    ({"paths": ["x.png"], "format": "gif", "options": {"fps": 0}}, 400, "fps"),
    ({"paths": ["x.png"], "format": "png", "options": {"dpi": 300}}, 400, "unknown options"),
    ({"paths": ["../x.png"], "format": "png"}, 403, "invalid path"),
    ({"paths": ["notes.txt"], "format": "png"}, 415, "only images and videos"),
    ({"paths": ["nope.png"], "format": "png"}, 404, "none of the files"),
])
async def test_bad_export_requests_are_refused_before_any_work(client, output_dir, host_paths, payload, status, fragment):
    comfy_png(output_dir / "x.png")
    (output_dir / "notes.txt").write_text("hello")
    resp = await client.post("/holaf/images/export", json=payload)
    body = await resp.json()
    assert resp.status == status, body
    assert body["ok"] is False and fragment in body["error"]
    assert list(_temp_root(host_paths).iterdir()) == []


async def test_unknown_jobs_and_cross_site_cancels_are_refused(client, output_dir):
    assert (await client.get("/holaf/images/export/not-a-job")).status == 404
    assert (await client.get("/holaf/images/export/" + "0" * 32 + "/download")).status == 404
    comfy_png(output_dir / "c.png")
    status = await export_and_wait(client, {"paths": ["c.png"], "format": "png"})
    resp = await client.delete(f"/holaf/images/export/{status['job']}", headers={"Origin": "http://evil.example"})
    assert resp.status == 403
    assert (await (await client.get(f"/holaf/images/export/{status['job']}")).json())["state"] == "done"


async def test_a_queued_export_is_cancelled_at_once_even_behind_a_long_one(client, output_dir, host_paths):
    clip_with_audio(output_dir / "slow.mp4", seconds=6.0, fps=30, size="640x360", audio=False)
    comfy_png(output_dir / "quick.png")
    first = await (await client.post("/holaf/images/export", json={"paths": ["slow.mp4"], "format": "mp4",
                                                                  "options": {"crf": 0, "preset": "veryslow"}})).json()
    second = await (await client.post("/holaf/images/export", json={"paths": ["quick.png"], "format": "png"})).json()
    assert second["state"] == "queued"  # export_concurrency is 1
    started = asyncio.get_running_loop().time()
    body = await (await client.delete(f"/holaf/images/export/{second['job']}")).json()
    assert body["state"] == "cancelled" and asyncio.get_running_loop().time() - started < 5
    assert (await (await client.delete(f"/holaf/images/export/{first['job']}")).json())["state"] == "cancelled"
    assert list(_temp_root(host_paths).iterdir()) == []
