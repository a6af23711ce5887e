"""Trashcan and file operations on real folders: sidecars and ``edit/`` files travel
with their image, collisions get ``_<n>``, restore refuses an occupied place, a
failing move leaves everything where it was, permanent deletion needs a
confirmation, destructive routes are Origin-checked, and the intent journal is
empty after every batch."""
from __future__ import annotations

from pathlib import Path

import pytest

from holaf_utilities.holaf_database import Database
from holaf_utilities.holaf_image_viewer_backend import file_ops, thumb_service
from holaf_utilities.holaf_image_viewer_backend.file_ops import FileOps
from media_factory import comfy_png


@pytest.fixture
def db(tmp_path):
    database = Database(tmp_path / "data" / "t.sqlite",
                        migrations={"file_ops": file_ops.MIGRATIONS, "thumbnails": thumb_service.MIGRATIONS})
    database.open()
    yield database
    database.close()


@pytest.fixture
def ops(db, output_dir) -> FileOps:
    return FileOps(db, output_dir)


def with_sidecars(root: Path, rel: str) -> list[Path]:
    """An image with every kind of companion; returns all of them (image first)."""
    image = comfy_png(root / rel)
    stem, folder = image.stem, image.parent
    files = [image]
    for ext in (".txt", ".json", ".xmp"):
        (folder / f"{stem}{ext}").write_text(f"{ext} of {stem}")
        files.append(folder / f"{stem}{ext}")
    (folder / "edit").mkdir(exist_ok=True)
    for name in (f"{stem}.edt", f"{stem}_proc.mp4"):
        (folder / "edit" / name).write_text(f"{name}")
        files.append(folder / "edit" / name)
    return files


def journal(db) -> int:
    return db.read_sync(lambda c: c.execute("SELECT count(*) FROM file_ops_journal").fetchone()[0])


def test_trash_moves_the_image_and_every_sidecar_into_the_mirrored_trash_folder(ops, db, output_dir):
    files = with_sidecars(output_dir, "2024-05-01/a.png")
    [result] = ops.trash(["2024-05-01/a.png"])
    assert result["ok"] and result["new_path"] == "trashcan/2024-05-01/a.png"
    assert sorted(result["sidecars"]) == sorted([".txt", ".json", ".xmp", "edt", "proc"])
    assert not any(f.exists() for f in files)
    trash = output_dir / "trashcan" / "2024-05-01"
    for name in ("a.png", "a.txt", "a.json", "a.xmp", "edit/a.edt", "edit/a_proc.mp4"):
        assert (trash / name).is_file(), name
    assert not (output_dir / "2024-05-01" / "edit").exists()  # the emptied edit/ folder is removed
    assert journal(db) == 0


def test_name_collisions_in_the_trash_get_a_suffix_and_the_sidecars_follow_the_new_name(ops, output_dir):
    with_sidecars(output_dir, "a.png")
    ops.trash(["a.png"])
    with_sidecars(output_dir, "a.png")
    (output_dir / "trashcan" / "a_1.txt").write_text("someone else's stray sidecar")
    [result] = ops.trash(["a.png"])
    assert result["new_path"] == "trashcan/a_2.png"
    for name in ("a_2.png", "a_2.txt", "a_2.json", "edit/a_2.edt", "edit/a_2_proc.mp4"):
        assert (output_dir / "trashcan" / name).is_file(), name
    assert (output_dir / "trashcan" / "a_1.txt").read_text() == "someone else's stray sidecar"


def test_restore_puts_the_file_and_sidecars_back_under_their_original_names(ops, output_dir):
    originals = with_sidecars(output_dir, "sub/b.png")
    contents = {p: p.read_bytes() for p in originals}
    ops.trash(["sub/b.png"])
    [result] = ops.restore(["trashcan/sub/b.png"])
    assert result["ok"] and result["new_path"] == "sub/b.png"
    assert {p: p.read_bytes() for p in originals} == contents
    assert not (output_dir / "trashcan" / "sub").exists()


def test_restore_refuses_per_file_when_the_original_place_is_taken_and_keeps_the_trashed_copy(ops, output_dir):
    comfy_png(output_dir / "c.png")
    comfy_png(output_dir / "d.png")
    ops.trash(["c.png", "d.png"])
    (output_dir / "c.png").write_bytes(b"a new file with the same name")
    results = ops.restore(["trashcan/c.png", "trashcan/d.png"])
    assert [r["ok"] for r in results] == [False, True]
    assert results[0]["code"] == "exists" and "c.png" in results[0]["error"]
    assert (output_dir / "trashcan" / "c.png").is_file()
    assert (output_dir / "c.png").read_bytes() == b"a new file with the same name"
    assert (output_dir / "d.png").is_file()


def test_a_sidecar_shared_with_another_file_of_the_same_name_stays_with_the_file_that_remains(ops, output_dir):
    comfy_png(output_dir / "clip.png")
    (output_dir / "clip.mp4").write_bytes(b"\x00" * 100)
    (output_dir / "clip.json").write_text("{}")
    [result] = ops.trash(["clip.mp4"])
    assert result["ok"] and "sidecars" not in result and "note" in result
    assert (output_dir / "clip.json").is_file()
    [a, b] = ops.trash(["clip.png", "trashcan/clip.mp4"])  # the second is refused: already trashed
    assert a["ok"] and a["sidecars"] == [".json"] and b["code"] == "in_trash"


def test_move_to_another_folder_with_and_without_renaming_on_conflict(ops, output_dir):
    with_sidecars(output_dir, "in/e.png")
    comfy_png(output_dir / "out/e.png")
    [refused] = ops.move(["in/e.png"], "out")
    assert refused["code"] == "exists" and (output_dir / "in/e.png").is_file()
    [moved] = ops.move(["in/e.png"], "out", on_conflict="rename")
    assert moved["new_path"] == "out/e_1.png"
    assert (output_dir / "out/e_1.txt").is_file() and (output_dir / "out/edit/e_1.edt").is_file()
    [created] = ops.move(["out/e_1.png"], "brand/new/folder")
    assert created["ok"] and (output_dir / "brand/new/folder/e_1.png").is_file()


def test_move_refuses_the_trashcan_and_paths_outside_the_output_folder(ops, output_dir):
    comfy_png(output_dir / "f.png")
    with pytest.raises(file_ops.FileOpError):
        ops.move(["f.png"], "trashcan/x")
    with pytest.raises(Exception) as info:
        ops.move(["f.png"], "../elsewhere")
    assert "leaves" in str(info.value) or "'..'" in str(info.value)
    assert (output_dir / "f.png").is_file()


def test_rename_keeps_the_extension_and_renames_the_sidecars(ops, output_dir):
    with_sidecars(output_dir, "g.png")
    [result] = ops.rename(["g.png"], ["lighthouse"])
    assert result["new_path"] == "lighthouse.png"
    for name in ("lighthouse.png", "lighthouse.txt", "edit/lighthouse.edt", "edit/lighthouse_proc.mp4"):
        assert (output_dir / name).is_file(), name
    bad = ops.rename(["lighthouse.png"] * 1, ["x.jpg"])[0]
    assert bad["code"] == "extension_change"
    for name in ("a/b", "..", "CON", "con.png", "what?.png", "", ".hidden"):
        assert not ops.rename(["lighthouse.png"], [name])[0]["ok"], name
    comfy_png(output_dir / "taken.png")
    assert ops.rename(["lighthouse.png"], ["taken"])[0]["code"] == "exists"
    assert (output_dir / "lighthouse.png").is_file()


def test_bad_missing_and_duplicate_paths_get_per_file_errors(ops, output_dir):
    comfy_png(output_dir / "h.png")
    (output_dir / "folder").mkdir()
    results = ops.trash(["../etc/passwd", "/etc/passwd", "missing.png", "folder", 42, "h.png", "h.png"])
    codes = [r.get("code") if not r["ok"] else "ok" for r in results]
    assert codes == ["invalid_path", "invalid_path", "not_found", "not_a_file", "invalid_path", "ok", "duplicate"]


def test_a_failing_move_leaves_the_original_and_all_its_sidecars_in_place(ops, output_dir, db):
    files = with_sidecars(output_dir, "sub/i.png")
    (output_dir / "trashcan").mkdir()
    (output_dir / "trashcan" / "sub").write_text("a file in the way of the folder")
    [result] = ops.trash(["sub/i.png"])
    assert not result["ok"] and result["code"] == "move_failed"
    assert all(f.is_file() for f in files)
    assert journal(db) == 0


def test_a_sidecar_that_cannot_follow_rolls_the_whole_file_back(ops, output_dir):
    files = with_sidecars(output_dir, "sub/j.png")
    (output_dir / "trashcan" / "sub").mkdir(parents=True)
    (output_dir / "trashcan" / "sub" / "edit").write_text("a file where the edit folder must go")
    [result] = ops.trash(["sub/j.png"])
    assert not result["ok"] and "sidecar" in result["error"]
    assert all(f.is_file() for f in files)
    assert not (output_dir / "trashcan" / "sub" / "j.png").exists()


def test_permanent_delete_removes_the_file_and_its_sidecars_trashed_or_not(ops, output_dir):
    live = with_sidecars(output_dir, "k.png")
    trashed = with_sidecars(output_dir, "l.png")
    ops.trash(["l.png"])
    results = ops.delete(["k.png", "trashcan/l.png"])
    assert all(r["ok"] for r in results)
    assert not any(p.exists() for p in live + trashed)
    assert not list((output_dir / "trashcan").rglob("*"))


def test_empty_trash_removes_everything_in_it_and_nothing_else(ops, output_dir):
    keep = comfy_png(output_dir / "keep.png")
    for name in ("m.png", "deep/n.png"):
        with_sidecars(output_dir, name)
    ops.trash(["m.png", "deep/n.png"])
    (output_dir / "trashcan" / "stray.bin").write_bytes(b"x")
    outcome = ops.empty_trash()
    assert [r["ok"] for r in outcome["results"]] == [True, True]
    assert outcome["other_files_removed"] == 1
    assert keep.is_file() and not [p for p in (output_dir / "trashcan").rglob("*") if p.is_file()]


# --------------------------------------------------------------------------- through HTTP
async def test_trash_and_restore_routes_answer_per_file_results(client, output_dir):
    comfy_png(output_dir / "p.png")
    resp = await client.post("/holaf/images/delete", json={"paths": ["p.png", "nope.png"]})
    body = await resp.json()
    assert resp.status == 207 and body["status"] == "partial" and body["counts"] == {"ok": 1, "error": 1}
    assert body["results"][1]["code"] == "not_found"
    resp = await client.post("/holaf/images/restore", json={"paths": ["trashcan/p.png"]})
    assert resp.status == 200 and (await resp.json())["results"][0]["new_path"] == "p.png"


async def test_permanent_deletion_needs_the_confirmation_flag(client, output_dir):
    comfy_png(output_dir / "q.png")
    for payload in ({"paths": ["q.png"]}, {"paths": ["q.png"], "confirm": "yes"}):
        resp = await client.post("/holaf/images/delete-permanently", json=payload)
        assert resp.status == 400 and (await resp.json())["code"] == "confirmation_required"
    resp = await client.post("/holaf/images/empty-trashcan", json={})
    assert resp.status == 400
    assert (output_dir / "q.png").is_file()
    resp = await client.post("/holaf/images/delete-permanently", json={"paths": ["q.png"], "confirm": True})
    assert resp.status == 200 and not (output_dir / "q.png").exists()


@pytest.mark.parametrize("route,payload", [
    ("/holaf/images/delete", {"paths": ["r.png"]}),
    ("/holaf/images/delete-permanently", {"paths": ["r.png"], "confirm": True}),
    ("/holaf/images/empty-trashcan", {"confirm": True}),
    ("/holaf/images/move", {"paths": ["r.png"], "destination": "x"}),
    ("/holaf/images/rename", {"path": "r.png", "new_name": "s"}),
    ("/holaf/images/restore", {"paths": ["trashcan/r.png"]}),
])
async def test_destructive_routes_refuse_cross_site_requests(client, output_dir, route, payload):
    comfy_png(output_dir / "r.png")
    resp = await client.post(route, json=payload, headers={"Origin": "http://evil.example"})
    assert resp.status == 403 and (await resp.json())["code"] == "cross_site"
    assert (output_dir / "r.png").is_file()


async def test_file_routes_validate_their_input(client, output_dir):
    cases = [
        ("/holaf/images/delete", {}),
        ("/holaf/images/delete", {"paths": "a.png"}),
        ("/holaf/images/delete", {"paths": []}),
        ("/holaf/images/move", {"paths": ["a.png"]}),
        ("/holaf/images/move", {"paths": ["a.png"], "destination": "x", "on_conflict": "overwrite"}),
        ("/holaf/images/rename", {"paths": ["a.png"], "new_names": []}),
    ]
    for route, payload in cases:
        resp = await client.post(route, json=payload)
        body = await resp.json()
        assert resp.status == 400 and body["ok"] is False and body["error"], (route, payload)
    resp = await client.post("/holaf/images/move", json={"paths": ["a.png"], "destination": "../../etc"})
    assert resp.status == 403 and (await resp.json())["code"] == "invalid_path"


def test_restore_after_a_collision_returns_the_original_name(ops, output_dir):
    comfy_png(output_dir / "t.png")
    ops.trash(["t.png"])
    with_sidecars(output_dir, "t.png")
    [second] = ops.trash(["t.png"])
    assert second["new_path"] == "trashcan/t_1.png"
    [restored] = ops.restore(["trashcan/t_1.png"])
    assert restored["new_path"] == "t.png"
    for name in ("t.png", "t.txt", "edit/t.edt"):
        assert (output_dir / name).is_file(), name
    assert ops.restore(["trashcan/t.png"])[0]["code"] == "exists"


def test_paths_are_marked_busy_only_while_their_move_is_unconfirmed(ops, output_dir):
    comfy_png(output_dir / "busy.png")
    seen = []
    ops.on_progress = lambda n: seen.append((ops.is_busy("busy.png"), ops.is_busy("trashcan/busy.png")))
    ops.trash(["busy.png"])
    assert seen == [(True, True)]
    assert not ops.is_busy("busy.png") and not ops.is_busy("trashcan/busy.png")
