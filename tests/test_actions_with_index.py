"""Actions with the real media index (issue 3) switched on: index rows follow trash,
restore, move, rename and permanent deletion (same id, so tags and ratings stay),
the trash view lists trashed files, the thumbnail backfill works newest first from
the index without any request, and a kill -9 in the middle of a 1,000-file trash
leaves the index matching the disk after start-up."""
from __future__ import annotations

import asyncio
import importlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from holaf_utilities import holaf_app
from media_factory import comfy_png

FEATURE_NAMES = ["holaf_server_management", "holaf_image_viewer_backend.actions", "holaf_image_viewer_backend.image_index"]


def features():
    return [importlib.import_module(f"holaf_utilities.{name}") for name in FEATURE_NAMES]


@pytest.fixture
def make_indexed_app(host_paths):
    def factory():
        host_paths.data_dir.mkdir(parents=True, exist_ok=True)
        return holaf_app.create_standalone_app(host_paths, features=features())
    return factory


async def sync(client) -> None:
    resp = await client.post("/holaf/images/maintenance/sync-database", json={"wait": True})
    assert resp.status == 200, await resp.text()


def rows(client) -> dict[str, dict]:
    ctx = client.app[holaf_app.CTX_KEY]
    return ctx.db.read_sync(lambda c: {r["path"]: dict(r) for r in c.execute(
        "SELECT id, path, is_trashed, original_path FROM images")})


async def test_index_rows_follow_trash_restore_move_rename_and_delete(aiohttp_client, make_indexed_app, output_dir):
    comfy_png(output_dir / "2024/a.png")
    comfy_png(output_dir / "2024/b.png")
    comfy_png(output_dir / "c.png")
    client = await aiohttp_client(make_indexed_app())
    await sync(client)
    before = rows(client)
    assert set(before) == {"2024/a.png", "2024/b.png", "c.png"}

    resp = await client.post("/holaf/images/delete", json={"paths": ["2024/a.png"]})
    assert resp.status == 200
    after = rows(client)
    trashed = after["trashcan/2024/a.png"]
    assert trashed["id"] == before["2024/a.png"]["id"] and trashed["is_trashed"] == 1
    assert trashed["original_path"] == "2024/a.png" and "2024/a.png" not in after
    listing = await (await client.post("/holaf/images/list", json={"trashcan": True})).json()
    assert [i["path"] for i in listing["images"]] == ["trashcan/2024/a.png"]

    resp = await client.post("/holaf/images/restore", json={"paths": ["trashcan/2024/a.png"]})
    assert resp.status == 200
    assert rows(client)["2024/a.png"] == {**before["2024/a.png"], "is_trashed": 0, "original_path": None}

    await client.post("/holaf/images/move", json={"paths": ["2024/b.png"], "destination": "kept"})
    await client.post("/holaf/images/rename", json={"path": "c.png", "new_name": "lighthouse"})
    now = rows(client)
    assert now["kept/b.png"]["id"] == before["2024/b.png"]["id"]
    assert now["lighthouse.png"]["id"] == before["c.png"]["id"]

    resp = await client.post("/holaf/images/delete-permanently", json={"paths": ["kept/b.png"], "confirm": True})
    assert resp.status == 200 and "kept/b.png" not in rows(client)
    await sync(client)  # a full reconcile finds nothing to fix
    assert set(rows(client)) == {"2024/a.png", "lighthouse.png"}


async def test_a_file_not_yet_indexed_still_shows_in_the_trash(aiohttp_client, make_indexed_app, output_dir):
    client = await aiohttp_client(make_indexed_app())
    await sync(client)
    comfy_png(output_dir / "fresh.png")  # saved a moment ago; trashed before any scan saw it
    resp = await client.post("/holaf/images/delete", json={"paths": ["fresh.png"]})
    assert resp.status == 200
    row = rows(client)["trashcan/fresh.png"]
    assert row["is_trashed"] == 1 and row["original_path"] == "fresh.png"


async def test_background_thumbnails_come_from_the_index_without_any_request(aiohttp_client, make_indexed_app, output_dir):
    for i in range(8):
        comfy_png(output_dir / f"bg{i}.png", 300, 200)
    client = await aiohttp_client(make_indexed_app())
    await sync(client)
    ctx = client.app[holaf_app.CTX_KEY]
    ctx.state["holaf.thumbnails"].wake_backfill()
    deadline = time.monotonic() + 60
    while True:
        stats = await (await client.get("/holaf/images/thumbnail-stats")).json()
        if stats["done"] == 8:
            break
        assert time.monotonic() < deadline, stats
        await asyncio.sleep(0.2)
    assert stats["total"] == 8 and stats["pending"] == 0 and stats["failed"] == 0


# --------------------------------------------------------------------------- kill -9 with the index
CHILD = Path(__file__).with_name("crash_child_trash.py")


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="SIGKILL is POSIX")
async def test_kill_9_mid_trash_leaves_the_index_matching_the_disk(tmp_path, host_paths, output_dir, aiohttp_client, make_indexed_app):
    png = (output_dir / "seed.png")
    comfy_png(png, 8, 8)
    data = png.read_bytes()
    png.unlink()
    rels = []
    for i in range(1000):
        rel = f"{('a', 'b/c')[i % 2]}/img_{i:04d}.png"
        (output_dir / rel).parent.mkdir(parents=True, exist_ok=True)
        (output_dir / rel).write_bytes(data)
        if i % 5 == 0:
            (output_dir / rel).with_suffix(".txt").write_text("prompt")
        rels.append(rel)
    client = await aiohttp_client(make_indexed_app())
    await sync(client)
    ids_before = {p: r["id"] for p, r in rows(client).items()}
    assert len(ids_before) == 1000
    await client.close()

    paths_file = tmp_path / "paths.txt"
    paths_file.write_text("\n".join(rels), encoding="utf-8")
    child = subprocess.Popen([sys.executable, str(CHILD), str(output_dir), str(host_paths.data_dir), str(paths_file),
                              ",".join(FEATURE_NAMES)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    moved = 0
    try:
        for line in child.stdout:
            moved += line.startswith("moved")
            if moved == 500 or line.startswith("finished"):
                break
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.wait(timeout=30)
    assert child.returncode == -signal.SIGKILL, child.stderr.read()

    client = await aiohttp_client(make_indexed_app())  # start-up: reconcile, then the index's own scan
    await sync(client)
    after = rows(client)
    in_trash = 0
    for rel in rels:
        original, trashed = output_dir / rel, output_dir / "trashcan" / rel
        assert original.exists() != trashed.exists(), rel
        if trashed.exists():
            in_trash += 1
            row = after[f"trashcan/{rel}"]
            assert row["is_trashed"] == 1 and row["original_path"] == rel and row["id"] == ids_before[rel]
            assert f"{rel}" not in after
        else:
            assert after[rel]["is_trashed"] == 0 and after[rel]["id"] == ids_before[rel]
            assert f"trashcan/{rel}" not in after
    assert 0 < in_trash < 1000 and len(after) == 1000


async def test_after_extracting_metadata_the_index_reads_the_file_again(aiohttp_client, make_indexed_app, output_dir):
    comfy_png(output_dir / "meta.png")
    client = await aiohttp_client(make_indexed_app())
    await sync(client)
    ctx = client.app[holaf_app.CTX_KEY]

    def flags():
        return ctx.db.read_sync(lambda c: tuple(c.execute(
            "SELECT size, has_prompt, has_workflow FROM images WHERE path = 'meta.png'").fetchone()))

    size_before = flags()[0]
    resp = await client.post("/holaf/images/extract-metadata", json={"paths": ["meta.png"]})
    assert resp.status == 200
    resp = await client.post("/holaf/images/strip-metadata", json={"paths": ["meta.png"]})  # nothing left: no change
    assert (await resp.json())["results"][0]["changed"] is False
    deadline = time.monotonic() + 20
    while flags()[0] == size_before:
        assert time.monotonic() < deadline, "the index never saw the rewritten file"
        await asyncio.sleep(0.2)
    await sync(client)
    assert flags()[0] == (output_dir / "meta.png").stat().st_size


async def test_backfill_goes_newest_first(aiohttp_client, host_paths, output_dir):
    host_paths.data_dir.mkdir(parents=True, exist_ok=True)
    (host_paths.data_dir / "config.ini").write_text("[ImageViewer]\nthumbnail_workers = 1\nthumbnail_busy_rate = 20\n")
    for i in range(6):
        path = comfy_png(output_dir / f"n{i}.png", 200, 200)
        os.utime(path, ns=(1_700_000_000_000_000_000 + i * 10**9,) * 2)
    client = await aiohttp_client(holaf_app.create_standalone_app(host_paths, features=features()))
    await sync(client)
    ctx = client.app[holaf_app.CTX_KEY]
    ctx.state["holaf.thumbnails"].wake_backfill()
    deadline = time.monotonic() + 60
    while (await (await client.get("/holaf/images/thumbnail-stats")).json())["done"] < 6:
        assert time.monotonic() < deadline
        await asyncio.sleep(0.2)
    order = ctx.db.read_sync(lambda c: [r[0] for r in c.execute("SELECT path FROM thumbnails ORDER BY updated_at, rowid")])
    assert order == [f"n{i}.png" for i in reversed(range(6))]


async def test_the_watcher_leaves_a_file_being_trashed_to_the_file_operation(aiohttp_client, host_paths, output_dir):
    """A trash that is slow between the move on disk and its index update (a busy disk) must
    not let the watcher drop the row in between: the row keeps its id, so tags survive."""
    host_paths.data_dir.mkdir(parents=True, exist_ok=True)
    (host_paths.data_dir / "config.ini").write_text(
        "[ImageViewer]\nscan_in_process = true\nwatch_mode = poll\npoll_interval_s = 0.25\nrescan_interval_min = 0\n", encoding="utf-8")
    comfy_png(output_dir / "slow.png")
    client = await aiohttp_client(holaf_app.create_standalone_app(host_paths, features=features()))
    await sync(client)
    comfy_png(output_dir / "later.png")  # a higher row id, so a re-created row could not reuse the old id
    await sync(client)
    before = rows(client)["slow.png"]
    assert rows(client)["later.png"]["id"] > before["id"]
    ctx = client.app[holaf_app.CTX_KEY]
    watcher_saw_it = []
    # Hold the operation after each transfer for well over the watcher's quiet period.
    ctx.state["holaf.file_ops"].on_progress = lambda _n: (time.sleep(1.5), watcher_saw_it.append("slow.png" in rows(client)))

    resp = await client.post("/holaf/images/delete", json={"paths": ["slow.png"]})
    assert resp.status == 200, await resp.text()
    assert watcher_saw_it and all(watcher_saw_it), "the row left the index while the file was being moved"
    await asyncio.sleep(1.0)  # let the deferred watcher notices run
    after = rows(client)
    assert "slow.png" not in after
    assert after["trashcan/slow.png"]["id"] == before["id"]


async def test_background_thumbnails_hold_back_while_the_index_reads_a_scan(aiohttp_client, make_indexed_app, output_dir):
    """A scan is short and every view waits on it: the backfill is not 'idle' meanwhile."""
    template = comfy_png(output_dir / "t.png", 64, 64).read_bytes()
    for i in range(1500):
        (output_dir / f"s{i:04d}.png").write_bytes(template)
    client = await aiohttp_client(make_indexed_app())
    await sync(client)
    assert (await (await client.get("/holaf/images/thumbnail-stats")).json())["total"] == 1501
    await client.post("/holaf/images/maintenance/sync-database", json={"force": True})  # read everything again
    seen_while_scanning = []
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        before = await (await client.get("/holaf/images/scan-status")).json()
        stats = await (await client.get("/holaf/images/thumbnail-stats")).json()
        after = await (await client.get("/holaf/images/scan-status")).json()
        if before["state"] == after["state"] == "scanning":
            seen_while_scanning.append(stats["idle"])
        elif after["state"] == "idle" and seen_while_scanning:
            break
    assert seen_while_scanning and not any(seen_while_scanning)
