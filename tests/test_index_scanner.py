"""The folder walk of the Image Viewer index on real trees (``scanner.Walker``).

Skip rules (trashcan, dot-folders, temp files, editor sidecars versus a user's
own ``edit`` folder, the data folder), symlinks (loops, links out of the root),
sidecar signatures and the edited flag.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from holaf_utilities.holaf_image_viewer_backend.metadata import SUPPORTED_EXTENSIONS
from holaf_utilities.holaf_image_viewer_backend.scanner import Walker, WalkStats

from index_helpers import write_png


def walk(root: Path, **kwargs) -> dict[str, tuple]:
    walker = Walker(root, SUPPORTED_EXTENSIONS, exclude_dirs=kwargs.pop("exclude", ()))
    return {facts[0]: facts for batch in walker.walk("", **kwargs) for facts in batch}


def test_media_files_are_found_in_nested_folders_with_their_stat_facts(tmp_path):
    write_png(tmp_path / "a.png")
    deep = tmp_path.joinpath(*[f"d{i}" for i in range(40)])
    write_png(deep / "deep.png")
    (tmp_path / "notes.md").write_text("x")
    (tmp_path / "latent.latent").write_bytes(b"x")
    found = walk(tmp_path)
    deep_rel = "/".join(f"d{i}" for i in range(40)) + "/deep.png"
    assert set(found) == {"a.png", deep_rel}
    st = (tmp_path / "a.png").stat()
    assert found["a.png"][1:3] == (st.st_size, st.st_mtime_ns)


def test_trashcan_at_the_root_is_skipped_unless_asked_for_but_a_nested_trashcan_is_content(tmp_path):
    write_png(tmp_path / "trashcan" / "old" / "gone.png")
    write_png(tmp_path / "project" / "trashcan" / "kept.png")
    assert set(walk(tmp_path)) == {"project/trashcan/kept.png"}
    assert "trashcan/old/gone.png" in walk(tmp_path, include_trash=True)


def test_hidden_folders_hidden_files_and_temp_files_are_skipped(tmp_path):
    write_png(tmp_path / ".cache" / "x.png")
    write_png(tmp_path / ".hidden.png")
    write_png(tmp_path / "writing.png.tmp")
    write_png(tmp_path / "ComfyUI_temp_abc_00001_.png")
    write_png(tmp_path / "download.png.part")
    write_png(tmp_path / "ok.png")
    stats = WalkStats()
    assert set(walk(tmp_path, stats=stats)) == {"ok.png"}
    assert stats.skipped_hidden == 2 and stats.skipped_temp == 1


def test_editor_sidecars_are_skipped_but_a_user_folder_named_edit_is_indexed(tmp_path):
    write_png(tmp_path / "shots" / "cat.png")
    (tmp_path / "shots" / "edit").mkdir()
    (tmp_path / "shots" / "edit" / "cat.edt").write_text("{}")
    (tmp_path / "shots" / "edit" / "cat_proc.mp4").write_bytes(b"\x00" * 10)
    write_png(tmp_path / "edit" / "holiday.png")                # a user's own folder called "edit"
    (tmp_path / "edit" / "holiday_proc.mp4").write_bytes(b"\x00" * 10)  # no holiday.* beside "edit": real content
    found = walk(tmp_path)
    assert set(found) == {"shots/cat.png", "edit/holiday.png", "edit/holiday_proc.mp4"}
    assert found["shots/cat.png"][4] == 1          # edited (edit/cat.edt)
    assert found["edit/holiday.png"][4] == 0


def test_an_edt_beside_the_image_also_marks_it_edited(tmp_path):
    write_png(tmp_path / "dog.png")
    (tmp_path / "dog.edt").write_text("{}")
    assert walk(tmp_path)["dog.png"][4] == 1


def test_sidecars_change_the_signature_of_their_media_file_only(tmp_path):
    write_png(tmp_path / "a.png")
    write_png(tmp_path / "b.png")
    before = walk(tmp_path)
    (tmp_path / "a.txt").write_text("a prompt")
    after = walk(tmp_path)
    assert before["a.png"][3] == 0 and after["a.png"][3] != 0
    assert after["b.png"][3] == before["b.png"][3] == 0
    (tmp_path / "a.txt").write_text("a longer prompt")
    assert walk(tmp_path)["a.png"][3] not in (0, after["a.png"][3])


@pytest.mark.skipif(sys.platform == "win32", reason="symlinks need privileges on Windows")
def test_symlink_loops_and_links_out_of_the_root_are_not_followed(tmp_path):
    root = tmp_path / "out"
    write_png(root / "real" / "x.png")
    outside = tmp_path / "elsewhere"
    write_png(outside / "secret.png")
    (root / "loop").symlink_to(root, target_is_directory=True)
    (root / "real" / "back").symlink_to(root / "real", target_is_directory=True)
    (root / "escape").symlink_to(outside, target_is_directory=True)
    (root / "escape_file.png").symlink_to(outside / "secret.png")
    (root / "inside_link.png").symlink_to(root / "real" / "x.png")
    stats = WalkStats()
    found = walk(root, stats=stats)
    assert set(found) == {"real/x.png", "inside_link.png"}
    assert stats.skipped_symlinks >= 4


def test_the_data_folder_inside_the_output_folder_is_skipped(tmp_path):
    write_png(tmp_path / "data" / "thumbs" / "t.png")
    write_png(tmp_path / "a.png")
    assert set(walk(tmp_path, exclude=[tmp_path / "data"])) == {"a.png"}


@pytest.mark.skipif(sys.platform != "linux", reason="undecodable names exist on Linux file systems")
def test_names_that_are_not_valid_text_are_skipped(tmp_path):
    write_png(tmp_path / "ok.png")
    bad = os.path.join(os.fsencode(tmp_path), b"bad\xff.png")
    with open(bad, "wb") as handle:
        handle.write((tmp_path / "ok.png").read_bytes())
    stats = WalkStats()
    assert set(walk(tmp_path, stats=stats)) == {"ok.png"}
    assert stats.skipped_bad_names == 1


def test_stat_file_applies_the_same_rules_to_one_path(tmp_path):
    walker = Walker(tmp_path, SUPPORTED_EXTENSIONS)
    write_png(tmp_path / "a.png")
    write_png(tmp_path / ".h" / "b.png")
    write_png(tmp_path / "c.png.tmp")
    assert walker.stat_file("a.png")[0] == "a.png"
    assert walker.stat_file(".h/b.png") is None
    assert walker.stat_file("c.png.tmp") is None
    assert walker.stat_file("missing.png") is None
    assert walker.stat_file("../a.png") is None
