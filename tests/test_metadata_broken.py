"""Broken inputs never crash and never hang: each gets a clear error or warning,
and whatever could still be read is kept."""
import json
import random
import struct
import time
import zlib

import pytest

from metadata_fixtures import (graph_basic, metadata_api, png_bytes, png_chunk, save_jpeg, save_png_pillow,
                               usercomment_exif)

M = metadata_api()
A1111 = "a cat\nSteps: 20, Sampler: Euler, CFG scale: 7, Seed: 5, Size: 64x48, Model: m"


def test_a_zero_byte_file_is_an_error_not_an_exception(tmp_path):
    p = tmp_path / "empty.png"
    p.write_bytes(b"")
    m = M.extract_metadata(p)
    assert m.error == "file is empty (0 bytes)"
    assert (m.kind, m.format, m.width) == ("image", "PNG", None)


def test_garbage_with_an_image_extension_is_reported_as_unrecognised(tmp_path):
    p = tmp_path / "garbage.png"
    p.write_bytes(b"garbage!" + random.Random(3).randbytes(3000))
    m = M.extract_metadata(p)
    assert m.error.startswith("not a valid PNG file: unrecognised content")
    assert m.prompt is None and m.sources["prompt"] == "none"


def test_a_missing_file_is_an_error(tmp_path):
    m = M.extract_metadata(tmp_path / "gone.png")
    assert m.error.startswith("cannot open file")


def test_a_jpeg_named_png_is_read_as_jpeg_with_a_mismatch_flag(tmp_path):
    p = save_jpeg(tmp_path / "x.jpg", exif=usercomment_exif(A1111))
    q = tmp_path / "photo.png"
    p.rename(q)
    m = M.extract_metadata(q)
    assert (m.format, m.extension_mismatch, m.width, m.kind) == ("JPEG", True, 64, "image")
    assert m.params.seed == 5 and m.error is None
    assert any("not PNG" in w for w in m.warnings)


def test_a_png_named_jpg_keeps_its_comfyui_metadata(tmp_path):
    p = save_png_pillow(tmp_path / "x.png", {"prompt": json.dumps(graph_basic())})
    q = tmp_path / "x.jpg"
    p.rename(q)
    m = M.extract_metadata(q)
    assert (m.format, m.extension_mismatch) == ("PNG", True)
    assert m.params.positive == "a red fox in the snow, watercolor"


def test_a_bad_crc_keeps_the_text_and_warns(tmp_path):
    p = tmp_path / "crc.png"
    p.write_bytes(png_bytes(before=[png_chunk(b"tEXt", b"prompt\0" + json.dumps(graph_basic()).encode(), bad_crc=True)]))
    m = M.extract_metadata(p)
    assert m.prompt == graph_basic() and m.error is None
    assert any("bad CRC" in w for w in m.warnings)


def test_invalid_json_in_the_prompt_chunk_marks_the_source_as_error(tmp_path):
    raw = json.dumps(graph_basic())
    p = save_png_pillow(tmp_path / "bad.png", {"prompt": raw[: len(raw) // 2], "workflow": "{}"})
    m = M.extract_metadata(p)
    assert m.prompt is None and m.sources["prompt"] == "error" and m.sources["workflow"] == "embedded"
    assert "embedded prompt is not valid JSON" in m.warnings and m.error is None


def test_a_truncated_png_keeps_the_text_read_before_the_cut(tmp_path):
    p = save_png_pillow(tmp_path / "t.png", {"prompt": json.dumps(graph_basic())}, size=(256, 256))
    data = p.read_bytes()
    p.write_bytes(data[: len(data) - 300])
    m = M.extract_metadata(p)
    assert m.error.startswith("PNG is truncated")
    assert (m.width, m.height) == (256, 256)
    assert m.params.seed == 1234


def test_a_png_cut_inside_its_header_is_an_error(tmp_path):
    p = tmp_path / "h.png"
    p.write_bytes(png_bytes()[:20])
    m = M.extract_metadata(p)
    assert m.error is not None and m.width is None


def test_a_truncated_jpeg_is_flagged_and_keeps_its_exif(tmp_path):
    p = save_jpeg(tmp_path / "t.jpg", exif=usercomment_exif(A1111), size=(300, 200))
    data = p.read_bytes()
    p.write_bytes(data[: int(len(data) * 0.7)])
    m = M.extract_metadata(p)
    assert m.error.startswith("JPEG is truncated") and m.params.seed == 5 and m.width == 300


def test_a_decompression_bomb_header_is_reported_with_its_size_and_never_decoded(tmp_path):
    p = tmp_path / "bomb.png"
    ihdr = struct.pack(">IIBBBBB", 20000, 20000, 8, 2, 0, 0, 0)
    p.write_bytes(b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr) + png_chunk(b"IDAT", zlib.compress(b"\0" * 240004))
                  + png_chunk(b"IEND", b""))
    t0 = time.perf_counter()
    m = M.extract_metadata(p)
    assert time.perf_counter() - t0 < 0.5
    assert (m.width, m.height) == (20000, 20000) and m.error is None
    assert any("safe decode limit" in w for w in m.warnings)


def test_a_chunk_claiming_a_huge_length_does_not_allocate_it(tmp_path):
    p = tmp_path / "huge.png"
    p.write_bytes(png_bytes()[:33] + struct.pack(">I", 0x7FFFFFF0) + b"tEXt" + b"prompt\0{")
    m = M.extract_metadata(p)
    assert m.error is not None and m.width == 2


def test_a_ztxt_bomb_is_cut_at_the_text_cap(tmp_path):
    from holaf_utilities.holaf_image_viewer_backend.metadata import limits
    p = tmp_path / "z.png"
    c = zlib.compressobj(1)
    bomb = c.compress(b"A" * (limits.MAX_TEXT_BYTES + 1000)) + c.flush()
    p.write_bytes(png_bytes(before=[png_chunk(b"zTXt", b"Comment\0\0" + bomb)]))
    m = M.extract_metadata(p)
    assert any("cut" in w for w in m.warnings)


def test_corrupt_exif_and_bogus_offsets_are_survived(tmp_path):
    exif = bytearray(usercomment_exif(A1111))
    exif[6 + 26 + 10:6 + 26 + 14] = struct.pack(">I", 0xFFFFFF00)  # UserComment offset far past the end
    p = save_jpeg(tmp_path / "e.jpg", exif=bytes(exif))
    m = M.extract_metadata(p)
    assert m.error is None and m.width == 64


def test_invalid_json_in_a_webp_exif_prompt_is_an_error_source(tmp_path):
    from PIL import Image
    ex = Image.Exif()
    ex[0x0110] = "prompt:{not json"
    p = tmp_path / "w.webp"
    Image.new("RGB", (8, 8)).save(p, "WEBP", exif=ex.tobytes())
    m = M.extract_metadata(p)
    assert m.sources["prompt"] == "error" and m.width == 8


@pytest.mark.filterwarnings("ignore::UserWarning")  # Pillow, tried last on broken TIFFs, warns about them
def test_garbage_after_valid_magic_bytes_never_raises(tmp_path):
    rnd = random.Random(1)
    heads = [b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff\xe1", b"RIFF\x10\x00\x00\x00WEBPVP8X", b"GIF89a", b"BM",
             b"II*\x00", b"MM\x00*", b"\x00\x00\x00\x1cftypavif"]
    for i, h in enumerate(heads):
        for j in range(25):
            p = tmp_path / f"f{i}_{j}.png"
            p.write_bytes(h + bytes(rnd.randrange(256) for _ in range(rnd.randrange(0, 400))))
            m = M.extract_metadata(p)
            assert isinstance(m.warnings, list)
            assert m.error is not None or m.width is not None or m.format in ("TIFF", "BMP", "GIF", "WEBP")


def test_unreadable_sidecars_and_broken_xmp_only_warn(tmp_path):
    p = save_png_pillow(tmp_path / "s.png", {"parameters": A1111})
    (tmp_path / "s.json").write_text("{broken", encoding="utf-8")
    (tmp_path / "s.xmp").write_text("<x:xmpmeta><unclosed>", encoding="utf-8")
    m = M.extract_metadata(p)
    assert m.error is None and m.params.seed == 5
    assert m.sources["workflow"] == "error"
    assert any("s.json" in w for w in m.warnings) and any("s.xmp" in w for w in m.warnings)


def test_an_xmp_sidecar_with_entities_is_refused(tmp_path):
    p = save_png_pillow(tmp_path / "e.png", {})
    (tmp_path / "e.xmp").write_text('<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><x>&a;</x>',
                                    encoding="utf-8")
    m = M.extract_metadata(p)
    assert m.tags == [] and any("e.xmp" in w for w in m.warnings)


def test_json_decoding_accepts_nan_and_never_raises():
    import math
    from holaf_utilities.holaf_image_viewer_backend.metadata.jsonutil import loads_json, loads_stdlib
    assert math.isnan(loads_json('{"a": NaN}')["a"]) and loads_json('{"b": -Infinity}')["b"] == float("-inf")
    assert loads_stdlib('{"a": Infinity}')["a"] == float("inf")
    assert loads_json('{"seed": 18446744073709551616}')["seed"] == 2 ** 64
    for bad in ("{broken", "", "[" * 100000, None):
        assert loads_json(bad) is None and loads_stdlib(bad) is None
