"""The index service end to end: resumable scans (a real server killed with SIGKILL),
corrupt files as error rows, the worker-process pool and its crash handling,
keyset paging under concurrent inserts, and ComfyUI execution events.
"""
from __future__ import annotations

import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from conftest import ROOT
from holaf_utilities.holaf_database import Database
from holaf_utilities.holaf_image_viewer_backend import records, schema, store
from holaf_utilities.holaf_image_viewer_backend.extraction import ExtractionPool
from holaf_utilities.holaf_image_viewer_backend.metadata import SUPPORTED_EXTENSIONS  # noqa: F401

from index_gallery import QUIET, listing, paths, synced
from index_helpers import comfy_prompt, png_bytes, wait_for, write_png, write_truncated_png


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def get_json(url: str, timeout: float = 5) -> dict:
    with urllib.request.urlopen(url, timeout=timeout) as resp:
        return json.loads(resp.read())


def start_server(out: Path, data: Path, port: int) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, str(ROOT / "__main__.py"), "--output-dir", str(out), "--data-dir", str(data),
         "--port", str(port), "--log-level", "WARNING"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=str(ROOT))


def wait_status(port: int, predicate, timeout: float = 60) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            status = get_json(f"http://127.0.0.1:{port}/holaf/images/scan-status", timeout=2)
            if predicate(status):
                return status
        except OSError:
            pass
        time.sleep(0.01)
    raise AssertionError("the server never reached the expected scan state")


def metadata_rows(data: Path) -> tuple[int, int]:
    """(rows, rows with metadata) straight from the database file (read-only)."""
    uri = (data / "holaf_utilities.sqlite").resolve().as_uri() + "?mode=ro"
    conn = sqlite3.connect(uri, uri=True)
    try:
        return conn.execute("SELECT count(*), count(metadata_at) FROM images").fetchone()
    finally:
        conn.close()


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX")
def test_a_scan_killed_half_way_resumes_where_it_stopped(tmp_path):
    out, data = tmp_path / "out", tmp_path / "data"
    data.mkdir()
    (data / "config.ini").write_text("[ImageViewer]\nscan_in_process = true\nwatch_mode = off\n")
    template = png_bytes(prompt=comfy_prompt("resumable scans of a lighthouse"))
    for folder in range(10):
        (out / f"f{folder:02d}").mkdir(parents=True)
        for index in range(60):
            (out / f"f{folder:02d}" / f"img_{index:03d}.png").write_bytes(template)
    total = 10 * 60
    port = free_port()
    server = start_server(out, data, port)
    try:
        wait_status(port, lambda s: s["state"] == "scanning" and 0 < s["done"] < s["found"] == total)
        server.send_signal(signal.SIGKILL)
        server.wait(timeout=10)
    finally:
        if server.poll() is None:
            server.kill()
    rows, with_metadata = metadata_rows(data)
    # Half done, and every stored row is complete: a new file is stored with its metadata.
    assert 0 < rows < total and with_metadata == rows

    server = start_server(out, data, port)
    try:
        status = wait_status(port, lambda s: s["state"] == "idle" and s["last_result"] is not None)
        result = status["last_result"]
        assert (result["added"], result["changed"], result["removed"]) == (total - rows, 0, 0)
        assert result["metadata_read"] == total - rows  # only what was left
        assert metadata_rows(data) == (total, total)
        found = get_json(f"http://127.0.0.1:{port}/holaf/images/scan-status")
        assert found["found"] == total
    finally:
        server.terminate()
        server.wait(timeout=20)


def test_a_scan_stores_a_new_file_with_its_metadata_in_one_row_and_never_twice(tmp_path):
    out = tmp_path / "out"
    (out / "day").mkdir(parents=True)
    for name in ("live.png", "scanned.png"):
        (out / "day" / name).write_bytes(png_bytes(prompt=comfy_prompt("a lighthouse at dusk")))
    db = Database(tmp_path / "index.sqlite", migrations={"images": schema.MIGRATIONS})
    db.open()
    try:
        read = []
        for name in ("live.png", "scanned.png", "gone.png"):
            size, mtime_ns, record = records.extract_record(str(out), f"day/{name}", ffprobe=None)
            read.append(((f"day/{name}", size, mtime_ns, 0, 0), size, mtime_ns, record))
        # A live notice stored live.png (pending metadata) while the scan was reading it.
        db.write_sync(lambda c: store.insert_discovered(c, [store.discovered_row(read[0][0], 1.0)]))

        outcome = db.write_sync(lambda c: store.insert_read(c, read, 2.0))

        assert outcome["added"] == ["day/scanned.png"]  # gone.png vanished; live.png kept its row
        rows = db.read_sync(lambda c: c.execute(
            "SELECT path, metadata_at IS NOT NULL, has_prompt, width FROM images ORDER BY path").fetchall())
        assert [tuple(r) for r in rows] == [("day/live.png", 0, 0, None), ("day/scanned.png", 1, 1, 32)]
        found = db.read_sync(lambda c: [r[0] for r in c.execute(
            "SELECT i.path FROM image_fts JOIN images i ON i.id = image_fts.rowid WHERE image_fts MATCH 'lighthouse'")])
        assert found == ["day/scanned.png"]  # search text exactly for the rows whose metadata is stored
        assert db.read_sync(store.pending_metadata)[0][1] == "day/live.png"  # read by the pending stage
    finally:
        db.close()


def test_the_read_ahead_hint_tolerates_vanished_files_folders_and_videos(tmp_path):
    write_png(tmp_path / "a.png")
    (tmp_path / "clip.mp4").write_bytes(b"\0" * 4096)
    (tmp_path / "folder.png").mkdir()
    records.prefetch(str(tmp_path), ["a.png", "gone.png", "clip.mp4", "folder.png"])
    assert records.extract_record(str(tmp_path), "a.png", ffprobe=None)[2]["width"] == 32


async def test_corrupt_and_empty_files_become_error_rows_that_are_not_retried(aiohttp_client, make_app, output_dir):
    write_truncated_png(output_dir / "truncated.png")
    (output_dir / "empty.png").write_bytes(b"")
    (output_dir / "garbage.jpg").write_bytes(os.urandom(2000))
    (output_dir / "bomb.png").write_bytes(_bomb_header())
    write_png(output_dir / "good.png", prompt=comfy_prompt("a good one"))
    cli = await aiohttp_client(make_app(settings=QUIET))
    await synced(cli)
    errors = {i["path"]: i["error"] for i in (await listing(cli, has_error=True))["images"]}
    assert set(errors) == {"truncated.png", "empty.png", "garbage.jpg"}
    assert all(errors.values())
    fine = {i["path"]: i for i in (await listing(cli, has_error=False))["images"]}
    assert set(fine) == {"good.png", "bomb.png"}
    assert (fine["bomb.png"]["width"], fine["bomb.png"]["height"]) == (20000, 20000)  # read from the header only
    bomb = await (await cli.get("/holaf/images/metadata", params={"path": "bomb.png"})).json()
    assert any("20000x20000" in w for w in bomb["warnings"])
    again = await synced(cli)
    assert again["metadata_read"] == 0 and again["changed"] == 0  # never an endless retry


def hires_fix_prompt() -> dict:
    """A base pass, then a second KSampler at half denoise over the upscaled latent."""
    graph = comfy_prompt("a castle on a cliff", seed=7, steps=30)
    graph["11"] = {"class_type": "LatentUpscaleBy", "inputs": {"samples": ["3", 0], "upscale_method": "nearest-exact",
                                                                "scale_by": 1.5}}
    graph["12"] = {"class_type": "KSampler", "inputs": {
        "seed": 8, "steps": 12, "cfg": 5.0, "sampler_name": "dpmpp_2m", "scheduler": "karras", "denoise": 0.45,
        "model": ["4", 0], "positive": ["6", 0], "negative": ["7", 0], "latent_image": ["11", 0]}}
    graph["8"]["inputs"]["samples"] = ["12", 0]
    return graph


async def test_every_sampling_pass_is_kept_as_json_beside_the_row_and_leaves_with_it(aiohttp_client, make_app,
                                                                                       output_dir, host_paths):
    write_png(output_dir / "hires.png", prompt=hires_fix_prompt())
    write_png(output_dir / "plain.png")
    app = make_app(settings=QUIET)
    cli = await aiohttp_client(app)
    await synced(cli)
    db_file = host_paths.data_dir / "holaf_utilities.sqlite"

    def stored() -> dict:
        conn = sqlite3.connect(db_file)
        try:
            return {path: json.loads(text) for path, text in conn.execute(
                "SELECT i.path, s.samplers FROM image_samplers s JOIN images i ON i.id = s.image_id")}
        finally:
            conn.close()

    passes = stored()["hires.png"]
    assert [(p["seed"], p["steps"], p["sampler"], p["scheduler"], p["denoise"]) for p in passes] == [
        (7, 30, "euler", "normal", 1.0), (8, 12, "dpmpp_2m", "karras", 0.45)]
    assert "positive" not in passes[0]  # the main prompt lives in the search index, not twice
    assert "plain.png" not in stored()  # no generation data, no row
    (output_dir / "hires.png").unlink()
    await synced(cli)
    assert stored() == {}


def test_an_index_made_before_the_samplers_table_reads_its_generated_files_again(tmp_path):
    path = tmp_path / "index.sqlite"
    old = Database(path, migrations={"images": schema.MIGRATIONS[:1]})
    old.open()
    try:
        for name, has_prompt in (("made.png", 1), ("photo.jpg", 0)):
            old.write_sync(lambda c, n=name: store.insert_discovered(c, [store.discovered_row((n, 10, 1000, 0, 0), 1.0)]))
            old.write_sync(lambda c, n=name, h=has_prompt: c.execute(
                "UPDATE images SET metadata_at = 2.0, has_prompt = ? WHERE path = ?", (h, n)))
    finally:
        old.close()
    new = Database(path, migrations={"images": schema.MIGRATIONS})
    new.open()
    try:
        assert [p for _, p, _ in new.read_sync(store.pending_metadata)] == ["made.png"]
        assert new.read_sync(lambda c: c.execute("SELECT count(*) FROM image_samplers").fetchone()[0]) == 0
    finally:
        new.close()


def _bomb_header() -> bytes:
    """A PNG whose header claims 20000x20000: must be indexed from the header, never decoded."""
    import struct
    import zlib

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)

    ihdr = struct.pack(">IIBBBBB", 20000, 20000, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\x00" * 100)) + chunk(b"IEND", b"")


def test_the_worker_pool_reads_in_separate_processes(tmp_path):
    for index in range(6):
        write_png(tmp_path / f"p{index}.png", prompt=comfy_prompt(f"pool prompt {index}"))
    pool = ExtractionPool(str(tmp_path), workers=2, ffprobe=None)
    try:
        results = pool.map([[(i, f"p{i}.png") for i in range(3)], [(i, f"p{i}.png") for i in range(3, 6)]])
        assert sorted(r[0] for r in results) == list(range(6))
        assert all(r[3]["positive"] == f"pool prompt {r[0]}" for r in results)
        assert pool.process_ids and os.getpid() not in pool.process_ids
    finally:
        pool.close()
    assert not pool.process_ids


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX")
def test_a_worker_killed_mid_batch_costs_no_file(tmp_path):
    for index in range(40):
        write_png(tmp_path / f"p{index}.png", prompt=comfy_prompt(f"crash prompt {index}"))
    pool = ExtractionPool(str(tmp_path), workers=1, ffprobe=None)
    try:
        pool.map([[(0, "p0.png")]])  # start the worker
        victim = pool.process_ids[0]
        future = pool.submit([(i, f"p{i}.png") for i in range(40)])
        os.kill(victim, signal.SIGKILL)
        results = future.result(timeout=120)
        assert sorted(r[0] for r in results) == list(range(40))
        assert all(r[3].get("positive") == f"crash prompt {r[0]}" for r in results)
        assert victim not in pool.process_ids
    finally:
        pool.close()


async def test_keyset_paging_returns_every_row_exactly_once_under_concurrent_inserts(aiohttp_client, make_app, output_dir):
    base = time.time() - 10_000
    for index in range(30):
        write_png(output_dir / f"orig_{index:02d}.png", mtime=base + index * 10)
    cli = await aiohttp_client(make_app(settings=QUIET))
    await synced(cli)
    original = set(await paths(cli, limit=1000))
    seen: list[str] = []
    cursor = None
    for page in range(20):
        body = {"limit": 7}
        if cursor:
            body["cursor"] = cursor
        data = await listing(cli, **body)
        seen += [i["path"] for i in data["images"]]
        cursor = data["next_cursor"]
        # new files land above and below the page boundary before the next page is asked for
        write_png(output_dir / f"new_top_{page}.png", mtime=time.time())
        write_png(output_dir / f"new_old_{page}.png", mtime=base - 1000 + page)
        await synced(cli)
        if cursor is None:
            break
    assert len(seen) == len(set(seen))            # nothing twice
    assert original <= set(seen)                   # everything that existed at the start
    assert not any(p.startswith("new_top") for p in seen)  # newer rows do not shift the pages


async def test_a_comfyui_executed_event_indexes_the_saved_file_without_a_watcher(aiohttp_client, make_app, output_dir):
    app = make_app(settings=QUIET)
    cli = await aiohttp_client(app)
    await synced(cli)
    write_png(output_dir / "batch" / "ComfyUI_00001_.png", prompt=comfy_prompt("an executed event astronaut"))
    ctx = app[__import__("holaf_utilities").holaf_app.CTX_KEY]
    ctx.events.emit_host_event("executed", {"node": "9", "output": {
        "images": [{"filename": "ComfyUI_00001_.png", "subfolder": "batch", "type": "output"},
                   {"filename": "preview.png", "subfolder": "", "type": "temp"}]}})

    async def listed():
        return await paths(cli, search="astronaut") == ["batch/ComfyUI_00001_.png"]

    await wait_for(listed, timeout=10)
