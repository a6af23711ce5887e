"""Crash safety of file operations: a process trashing 1,000 files (with sidecars and
edit files) is killed with SIGKILL in the middle of a chunk; on the next start the
intent journal is reconciled and every file is either in its old place or in the
trash, never both and never neither, its sidecars beside it, and the database rows
that follow files agree with the disk."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from holaf_utilities import holaf_app
from holaf_utilities.holaf_context import StandaloneEventHub

CHILD = Path(__file__).with_name("crash_child_trash.py")
N_FILES = 1000
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
)


def _layout(i: int) -> tuple[str, list[str]]:
    folder = ("a", "b/c", "b/d/e")[i % 3]
    stem = f"img_{i:04d}"
    companions = []
    if i % 4 == 0:
        companions.append(f"{stem}.txt")
    if i % 10 == 0:
        companions.append(f"edit/{stem}.edt")
    return f"{folder}/{stem}.png", companions


def _seed(output_dir: Path) -> list[str]:
    rels = []
    for i in range(N_FILES):
        rel, companions = _layout(i)
        path = output_dir / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(PNG)
        for companion in companions:
            target = path.parent / companion
            target.parent.mkdir(exist_ok=True)
            target.write_text(f"{companion} belongs to {rel}")
        rels.append(rel)
    return rels


def _seed_rows(host_paths, rels: list[str]) -> None:
    """Status rows that must follow their files (one per file, like the index's rows)."""
    ctx = holaf_app.build_context("standalone", host_paths, StandaloneEventHub())
    ctx.db.open()
    ctx.db.write_sync(lambda conn: conn.executemany(
        "INSERT INTO thumbnails(path, mtime_ns, size, variant, thumb_px, status, updated_at) VALUES (?, 1, 1, '', 384, 'done', 0)",
        [(r,) for r in rels]))
    ctx.db.close()


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="SIGKILL is POSIX")
async def test_kill_9_in_the_middle_of_a_1000_file_trash_loses_and_duplicates_nothing(tmp_path, host_paths, output_dir, aiohttp_client, make_app):
    rels = _seed(output_dir)
    _seed_rows(host_paths, rels)
    paths_file = tmp_path / "paths.txt"
    paths_file.write_text("\n".join(rels), encoding="utf-8")
    child = subprocess.Popen([sys.executable, str(CHILD), str(output_dir), str(host_paths.data_dir), str(paths_file)],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    moved = 0
    deadline = time.monotonic() + 120
    try:
        for line in child.stdout:
            if line.startswith("moved"):
                moved += 1
            if moved == 600 or line.startswith("finished") or time.monotonic() > deadline:
                break
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.wait(timeout=30)
    assert child.returncode == -signal.SIGKILL, child.stderr.read()

    # the interrupted chunk left intents behind
    ctx = holaf_app.build_context("standalone", host_paths, StandaloneEventHub())
    ctx.db.open()
    left = ctx.db.read_sync(lambda c: c.execute("SELECT count(*) FROM file_ops_journal").fetchone()[0])
    ctx.db.close()
    assert left > 0

    client = await aiohttp_client(make_app())  # start-up runs the reconciliation
    resp = await client.get("/holaf/utilities/info")
    assert resp.status == 200

    in_place = in_trash = 0
    for i, rel in enumerate(rels):
        _rel, companions = _layout(i)
        original = output_dir / rel
        trashed = output_dir / "trashcan" / rel
        assert original.exists() != trashed.exists(), f"{rel}: original={original.exists()} trash={trashed.exists()}"
        home = original.parent if original.exists() else trashed.parent
        away = trashed.parent if original.exists() else original.parent
        for companion in companions:
            assert (home / companion).is_file(), f"{companion} of {rel} is not beside it"
            assert not (away / companion).exists(), f"{companion} of {rel} is duplicated"
        if original.exists():
            in_place += 1
        else:
            in_trash += 1
    assert 0 < in_trash < N_FILES and in_place + in_trash == N_FILES

    ctx2 = holaf_app.build_context("standalone", host_paths, StandaloneEventHub())
    ctx2.db.open()
    try:
        rows = set(ctx2.db.read_sync(lambda c: [r[0] for r in c.execute("SELECT path FROM thumbnails")]))
        journal = ctx2.db.read_sync(lambda c: c.execute("SELECT count(*) FROM file_ops_journal").fetchone()[0])
    finally:
        ctx2.db.close()
    on_disk = {rel if (output_dir / rel).exists() else f"trashcan/{rel}" for rel in rels}
    assert rows == on_disk
    assert journal == 0
    assert not list(output_dir.rglob("*.holaf-partial"))
