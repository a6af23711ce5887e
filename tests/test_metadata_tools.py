"""Lossless metadata tools on real PNG, JPEG and WEBP files: extract → inject round
trips keep PNG IDAT chunks, JPEG scan data and WEBP image chunks byte for byte and
keep the file's mtime; the metadata itself survives exactly; conflicts are
reported per file without ``force``; broken inputs get clear errors."""
from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from PIL import Image

from holaf_utilities.holaf_image_viewer_backend import metadata_rewrite as mr
from holaf_utilities.holaf_image_viewer_backend.metadata_tools import MetadataTools
from media_factory import PROMPT, WORKFLOW, a1111_jpeg, comfy_png, comfy_webp, gradient, truncated_copy

OLD_MTIME_NS = 1_600_000_000_123_456_789


def _age(path: Path) -> Path:
    os.utime(path, ns=(OLD_MTIME_NS, OLD_MTIME_NS))
    return path


def idat(data: bytes) -> list[bytes]:
    return [c.raw for c in mr.png_chunks(data) if c.kind == b"IDAT"]


def jpeg_scan(data: bytes) -> bytes:
    return mr.jpeg_segments(data)[1]


def jpeg_tables(data: bytes) -> list[bytes]:
    return [raw for marker, raw in mr.jpeg_segments(data)[0] if marker in (0xC0, 0xC2, 0xC4, 0xDB, 0xDD)]


def webp_image(data: bytes) -> list[tuple[bytes, bytes]]:
    return [c for c in mr.riff_chunks(data) if c[0] in (b"VP8 ", b"VP8L", b"ALPH", b"ANMF", b"ANIM")]


@pytest.fixture
def tools(output_dir):
    import threading

    return MetadataTools(output_dir, threading.Lock())


def test_png_extract_then_inject_keeps_idat_bytes_mtime_and_the_metadata(tools, output_dir):
    src = _age(comfy_png(output_dir / "a.png", 300, 200))
    before = src.read_bytes()
    [result] = tools.extract(["a.png"])
    assert result["ok"] and result["written"] == ["a.txt", "a.json"]
    stripped = src.read_bytes()
    assert idat(stripped) == idat(before)
    assert mr.read_png(stripped).empty
    assert src.stat().st_mtime_ns == OLD_MTIME_NS
    assert json.loads((output_dir / "a.txt").read_text()) == PROMPT
    assert json.loads((output_dir / "a.json").read_text()) == WORKFLOW
    [result] = tools.inject(["a.png"])
    assert result["ok"] and result["sidecars_removed"] == ["a.txt", "a.json"]
    after = src.read_bytes()
    assert idat(after) == idat(before)
    found = mr.read_png(after)
    assert json.loads(found.prompt) == PROMPT and json.loads(found.workflow) == WORKFLOW
    assert src.stat().st_mtime_ns == OLD_MTIME_NS
    assert not (output_dir / "a.txt").exists() and not (output_dir / "a.json").exists()
    Image.open(src).load()  # still a valid PNG


def test_non_latin1_text_goes_into_an_itxt_chunk_and_comes_back_unchanged(tools, output_dir):
    src = comfy_png(output_dir / "u.png", prompt=None, workflow=None)
    (output_dir / "u.txt").write_text("portrait, 灯台, émoji 🙂", encoding="utf-8")
    tools.inject(["u.png"])
    kinds = [c.kind for c in mr.png_chunks(src.read_bytes())]
    assert b"iTXt" in kinds
    assert Image.open(src).text["parameters"] == "portrait, 灯台, émoji 🙂"
    tools.extract(["u.png"])
    assert (output_dir / "u.txt").read_text(encoding="utf-8") == "portrait, 灯台, émoji 🙂"


def test_jpeg_round_trip_keeps_scan_data_and_tables_byte_for_byte(tools, output_dir):
    text = "a cat\nNegative prompt: dog\nSteps: 20, Seed: 1"
    src = _age(a1111_jpeg(output_dir / "j.jpg", text, size=(320, 240)))
    before = src.read_bytes()
    [result] = tools.extract(["j.jpg"])
    assert result["ok"] and result["removed"] == ["parameters"]
    assert (output_dir / "j.txt").read_text() == text
    middle = src.read_bytes()
    assert jpeg_scan(middle) == jpeg_scan(before) and jpeg_tables(middle) == jpeg_tables(before)
    assert mr.read_jpeg(middle).empty
    tools.inject(["j.jpg"])
    after = src.read_bytes()
    assert jpeg_scan(after) == jpeg_scan(before) and jpeg_tables(after) == jpeg_tables(before)
    assert mr.read_jpeg(after).prompt == text
    assert src.stat().st_mtime_ns == OLD_MTIME_NS
    with Image.open(src) as image:
        assert image.size == (320, 240)


def test_jpeg_keeps_its_orientation_tag_when_the_prompt_goes(tools, output_dir):
    src = a1111_jpeg(output_dir / "o.jpg", orientation=6)
    tools.extract(["o.jpg"])
    with Image.open(src) as image:
        assert image.getexif()[0x0112] == 6


def test_comfy_webp_round_trip_keeps_the_image_chunks(tools, output_dir):
    src = _age(comfy_webp(output_dir / "w.webp", 200, 120))
    before = src.read_bytes()
    tools.extract(["w.webp"])
    middle = src.read_bytes()
    assert webp_image(middle) == webp_image(before) and mr.read_webp(middle).empty
    tools.inject(["w.webp"])
    after = src.read_bytes()
    assert webp_image(after) == webp_image(before)
    found = mr.read_webp(after)
    assert json.loads(found.prompt) == PROMPT and json.loads(found.workflow) == WORKFLOW
    assert src.stat().st_mtime_ns == OLD_MTIME_NS
    with Image.open(src) as image:
        image.load()
        assert image.getexif()[0x0110].startswith("prompt:")


def test_injecting_into_a_simple_webp_adds_a_vp8x_header(tools, output_dir):
    src = output_dir / "simple.webp"
    gradient(64, 48).save(src, "WEBP", quality=80)
    assert mr.riff_chunks(src.read_bytes())[0][0] == b"VP8 "
    (output_dir / "simple.json").write_text(json.dumps(WORKFLOW))
    [result] = tools.inject(["simple.webp"])
    assert result["ok"]
    chunks = mr.riff_chunks(src.read_bytes())
    assert chunks[0][0] == b"VP8X" and chunks[0][1][0] & 0x08
    with Image.open(src) as image:
        image.load()
        assert image.size == (64, 48)


def test_conflicts_are_reported_per_file_and_force_overwrites(tools, output_dir):
    comfy_png(output_dir / "c1.png")
    comfy_png(output_dir / "c2.png")
    (output_dir / "c1.txt").write_text("my notes")
    results = tools.extract(["c1.png", "c2.png"])
    assert [r["status"] for r in results] == ["conflict", "ok"]
    assert results[0]["details"] == ["c1.txt"] and (output_dir / "c1.txt").read_text() == "my notes"
    assert not mr.read_png((output_dir / "c1.png").read_bytes()).empty
    [forced] = tools.extract(["c1.png"], force=True)
    assert forced["ok"] and json.loads((output_dir / "c1.txt").read_text()) == PROMPT
    comfy_png(output_dir / "c3.png")
    (output_dir / "c3.txt").write_text('{"1": {"class_type": "X", "inputs": {}}}')
    [clash] = tools.inject(["c3.png"])
    assert clash["status"] == "conflict" and clash["details"] == ["prompt"]
    [forced] = tools.inject(["c3.png"], force=True)
    assert forced["ok"] and json.loads(mr.read_png((output_dir / "c3.png").read_bytes()).prompt) == {"1": {"class_type": "X", "inputs": {}}}


def test_strip_removes_generation_data_and_keeps_the_pixels(tools, output_dir):
    src = _age(comfy_png(output_dir / "s.png"))
    before = src.read_bytes()
    [result] = tools.strip(["s.png"])
    assert result["changed"] and idat(src.read_bytes()) == idat(before)
    assert mr.read_png(src.read_bytes()).empty and not (output_dir / "s.txt").exists()
    assert src.stat().st_mtime_ns == OLD_MTIME_NS
    [again] = tools.strip(["s.png"])
    assert again["ok"] and not again["changed"]


def test_broken_and_unsupported_inputs_get_clear_errors(tools, output_dir):
    full = comfy_png(output_dir / "full.png", 300, 300)
    truncated_copy(full, output_dir / "cut.png", keep=0.5)
    (output_dir / "zero.png").write_bytes(b"")
    (output_dir / "clip.mp4").write_bytes(b"\x00" * 64)
    comfy_png(output_dir / "plain.png", prompt=None, workflow=None)
    results = tools.extract(["cut.png", "zero.png", "clip.mp4", "missing.png", "../x.png", "plain.png"])
    assert [r["code"] for r in results] == ["truncated", "unsupported_format", "unsupported_format", "not_found",
                                            "invalid_path", "no_metadata"]
    assert (output_dir / "cut.png").stat().st_size == full.stat().st_size // 2  # untouched
    assert tools.inject(["plain.png"])[0]["code"] == "no_sidecar"


def test_jpeg_metadata_too_large_for_exif_is_refused_and_the_file_untouched(tools, output_dir):
    src = a1111_jpeg(output_dir / "big.jpg")
    tools.extract(["big.jpg"])
    before = src.read_bytes()
    (output_dir / "big.json").write_text(json.dumps({"nodes": ["x" * 100] * 1000}))
    [result] = tools.inject(["big.jpg"])
    assert result["code"] == "too_large" and src.read_bytes() == before
    assert (output_dir / "big.json").exists()


async def test_metadata_routes_answer_per_file_and_are_origin_checked(client, output_dir):
    comfy_png(output_dir / "r.png")
    resp = await client.post("/holaf/images/extract-metadata", json={"paths": ["r.png"]},
                             headers={"Origin": "http://evil.example"})
    assert resp.status == 403
    resp = await client.post("/holaf/images/extract-metadata", json={"paths": ["r.png", "nope.png"]})
    body = await resp.json()
    assert resp.status == 207 and [r["ok"] for r in body["results"]] == [True, False]
    resp = await client.post("/holaf/images/inject-metadata", json={"paths": ["r.png"], "force": "yes"})
    assert resp.status == 400
    resp = await client.post("/holaf/images/inject-metadata", json={"paths": ["r.png"]})
    assert resp.status == 200 and (await resp.json())["results"][0]["embedded"] == ["prompt", "workflow"]
    resp = await client.post("/holaf/images/strip-metadata", json={"paths": ["r.png"]})
    assert resp.status == 200 and (await resp.json())["results"][0]["changed"] is True
