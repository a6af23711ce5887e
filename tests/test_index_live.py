"""Live updates of the index with a real watcher, in both watch modes.

A new file appears (``holaf.images.changed`` on the event socket, then in
``/list``), a deleted one disappears, a renamed one keeps its tags, a
half-written file is listed only once complete; and the observer falls back
to polling when inotify cannot start (a real EMFILE in a child process).
"""
from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import textwrap
import time

import pytest

from conftest import ROOT
from index_gallery import listing, paths, synced
from index_helpers import comfy_prompt, png_bytes, wait_for, write_png

MODES = ["inotify", "poll"]


def settings(mode: str) -> dict:
    return {"ImageViewer": {"scan_in_process": "true", "watch_mode": mode, "poll_interval_s": "0.25",
                            "rescan_interval_min": "0"}}


async def open_events(cli):
    ws = await cli.ws_connect("/holaf/events")
    return ws


async def next_change(ws, predicate, timeout: float = 10.0) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise AssertionError("no matching holaf.images.changed event")
        msg = await ws.receive_json(timeout=remaining)
        if msg.get("type") == "holaf.images.changed" and predicate(msg["data"]):
            return msg["data"]


@pytest.fixture(params=MODES)
async def live(request, aiohttp_client, make_app, output_dir):
    write_png(output_dir / "seed.png")
    cli = await aiohttp_client(make_app(settings=settings(request.param)))
    await synced(cli)

    async def watching():
        status = await (await cli.get("/holaf/images/scan-status")).json()
        return status["watch"]["mode"] == request.param

    await wait_for(watching, timeout=10)
    await asyncio.sleep(0.6 if request.param == "poll" else 0.1)  # the poller's first pass is its baseline
    cli.mode = request.param
    return cli


async def test_a_new_file_is_pushed_to_clients_and_listed(live, output_dir):
    ws = await open_events(live)
    started = time.monotonic()
    write_png(output_dir / "shots" / "new.png", prompt=comfy_prompt("a live heron"))
    event = await next_change(ws, lambda d: "shots/new.png" in d["added_paths"])
    assert event["added"] >= 1 and event["change_token"]
    assert await paths(live, search="heron") == ["shots/new.png"] or await wait_for(
        lambda: _listed(live, "heron", ["shots/new.png"]), timeout=5)
    assert time.monotonic() - started < 5
    await ws.close()


async def _listed(cli, search, expected):
    return await paths(cli, search=search) == expected


async def test_a_deleted_file_disappears(live, output_dir):
    write_png(output_dir / "doomed.png")
    await wait_for(lambda: _in_list(live, "doomed.png"), timeout=10)
    ws = await open_events(live)
    (output_dir / "doomed.png").unlink()
    event = await next_change(ws, lambda d: "doomed.png" in d["removed_paths"])
    assert event["removed"] >= 1
    assert "doomed.png" not in await paths(live)
    await ws.close()


async def _in_list(cli, path):
    return path in await paths(cli)


async def test_a_renamed_file_keeps_its_tags(live, output_dir):
    write_png(output_dir / "before.png", prompt=comfy_prompt("a renamed otter"))
    await wait_for(lambda: _in_list(live, "before.png"), timeout=10)
    await live.post("/holaf/images/tags", json={"paths": ["before.png"], "set": ["otters"]})
    os.rename(output_dir / "before.png", output_dir / "after.png")
    os.rename(output_dir / "before.xmp", output_dir / "after.xmp")
    await wait_for(lambda: _tagged(live, "otters", ["after.png"]), timeout=10)


async def _tagged(cli, tag, expected):
    return await paths(cli, tags=[tag]) == expected


async def test_a_half_written_file_is_listed_only_once_complete(live, output_dir):
    data = png_bytes(size=(300, 200), prompt=comfy_prompt("a slowly written crane"))
    target = output_dir / "slow.png"
    chunks = [data[i:i + len(data) // 8 + 1] for i in range(0, len(data), len(data) // 8 + 1)]
    with open(target, "wb") as handle:
        for chunk in chunks:
            handle.write(chunk)
            handle.flush()
            os.fsync(handle.fileno())
            await asyncio.sleep(0.15)
            assert "slow.png" not in await paths(live)  # never listed while still growing
    item = await wait_for(lambda: _item(live, "slow.png"), timeout=10)
    assert item["error"] is None or await wait_for(lambda: _item_ok(live, "slow.png"), timeout=10)
    final = await _item(live, "slow.png")
    assert (final["width"], final["height"], final["has_prompt"], final["error"]) == (300, 200, True, None)


async def test_a_writer_that_pauses_mid_file_ends_up_indexed_correctly(live, output_dir):
    data = png_bytes(size=(120, 90), prompt=comfy_prompt("a paused pelican"))
    target = output_dir / "paused.png"
    with open(target, "wb") as handle:
        handle.write(data[: len(data) // 2])
        handle.flush()
        await asyncio.sleep(1.5)  # long enough to look finished
        handle.write(data[len(data) // 2:])
    await wait_for(lambda: _item_ok(live, "paused.png"), timeout=15)
    item = await _item(live, "paused.png")
    assert (item["width"], item["has_prompt"]) == (120, True)


async def _item(cli, path):
    for item in (await listing(cli, limit=1000))["images"]:
        if item["path"] == path:
            return item
    return None


async def _item_ok(cli, path):
    item = await _item(cli, path)
    return item if item and item["error"] is None and item["metadata_ready"] else None


async def test_a_new_folder_full_of_files_is_picked_up(live, output_dir):
    folder = output_dir / "batch_2024"
    (folder / "nested").mkdir(parents=True)
    for index in range(5):
        write_png(folder / f"b{index}.png")
    write_png(folder / "nested" / "deep.png")
    await wait_for(lambda: _count_prefix(live, "batch_2024", 6), timeout=10)
    os.rename(folder, output_dir / "renamed_batch")
    await wait_for(lambda: _count_prefix(live, "renamed_batch", 6), timeout=10)
    assert await paths(live, folder_prefix="batch_2024") == []


async def _count_prefix(cli, prefix, expected):
    return len(await paths(cli, folder_prefix=prefix)) == expected


async def test_an_idle_index_sends_no_events(live):
    ws = await open_events(live)
    with pytest.raises(asyncio.TimeoutError):
        await ws.receive_json(timeout=1.5)  # no periodic "bump" when nothing changed
    await ws.close()


@pytest.mark.skipif(sys.platform != "linux", reason="inotify limits are a Linux matter")
def test_when_inotify_cannot_start_the_watcher_polls_folders_instead(tmp_path):
    """A child process uses up its file descriptors, so inotify_init really fails with EMFILE."""
    script = textwrap.dedent(f"""
        import importlib.util, os, sys, threading, time
        spec = importlib.util.spec_from_file_location("holaf_utilities", {str(ROOT / "__init__.py")!r},
                                                      submodule_search_locations=[{str(ROOT)!r}])
        module = importlib.util.module_from_spec(spec); sys.modules["holaf_utilities"] = module
        spec.loader.exec_module(module)
        from holaf_utilities.holaf_image_viewer_backend.watcher import Watcher
        root = {str(tmp_path)!r}
        seen = threading.Event()
        dirs = []
        def on_dir(rel):
            dirs.append(rel); seen.set()
        watcher = Watcher(root, mode="auto", poll_interval=0.2, exclude=set(),
                          on_file=lambda rel, closed: None, on_dir=on_dir)
        hogs = []
        try:
            while True:
                hogs.append(os.open(os.devnull, os.O_RDONLY))
        except OSError:
            pass
        watcher.start()
        for fd in hogs:
            os.close(fd)
        print("MODE", watcher.active_mode, "|", watcher.fallback_reason, flush=True)
        time.sleep(0.6)
        os.mkdir(os.path.join(root, "new_folder"))
        print("EVENT", seen.wait(10), dirs, flush=True)
        watcher.stop()
    """)
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert "MODE poll | inotify instance or file limit reached (EMFILE)" in proc.stdout, proc.stdout + proc.stderr
    assert "EVENT True" in proc.stdout and "''" in proc.stdout  # the root folder changed: compared with the index


def _debouncer(root):
    from holaf_utilities.holaf_image_viewer_backend.watcher import Debouncer

    def stat(rel):
        try:
            st = os.stat(root / rel)
        except OSError:
            return None
        return (st.st_size, st.st_mtime_ns)

    return Debouncer(stat, quiet=0.3)


def test_the_debouncer_hands_over_an_already_settled_file_at_first_look(tmp_path):
    (tmp_path / "old.png").write_bytes(b"x" * 10)
    os.utime(tmp_path / "old.png", (time.time() - 60, time.time() - 60))
    debouncer = _debouncer(tmp_path)
    debouncer.add("old.png")
    assert debouncer.next_check_in() == 0
    assert debouncer.pop_due() == ["old.png"]


def test_the_debouncer_waits_while_a_file_grows_and_hands_it_over_once_quiet(tmp_path):
    debouncer = _debouncer(tmp_path)
    target = tmp_path / "growing.png"
    target.write_bytes(b"x")
    debouncer.add("growing.png")
    assert debouncer.pop_due() == []  # just written
    deadline = time.monotonic() + 1.0
    while time.monotonic() < deadline:  # keeps growing: never due
        with open(target, "ab") as handle:
            handle.write(b"x" * 100)
        debouncer.add("growing.png")
        assert debouncer.pop_due() == []
        time.sleep(0.05)
    time.sleep(0.35)
    assert debouncer.pop_due() == ["growing.png"]
    assert len(debouncer) == 0


def test_the_debouncer_hands_over_a_closed_file_quickly_and_a_deleted_one_after_the_quiet_period(tmp_path):
    debouncer = _debouncer(tmp_path)
    (tmp_path / "done.png").write_bytes(b"x")
    debouncer.add("done.png", closed=True)
    debouncer.add("gone.png")
    assert debouncer.pop_due() == []
    time.sleep(0.12)
    assert debouncer.pop_due() == ["done.png"]
    time.sleep(0.25)
    assert debouncer.pop_due() == ["gone.png"]
