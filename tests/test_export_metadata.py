"""Generation metadata on export, read back with the same metadata library the index uses: embedded
the way each format's readers expect it (PNG text chunks, ComfyUI's WEBP EXIF, JPEG within 64 KB,
MP4 container tags), written as ``.txt``/``.json`` sidecars, or stripped."""
from __future__ import annotations

import io
import json
import zipfile

from PIL import Image, ImageCms

from export_media import clip_with_audio, ffprobe
from media_factory import PROMPT, WORKFLOW, comfy_png, comfy_webp, gradient
from test_video_export import download, export_and_wait
from holaf_utilities.holaf_image_viewer_backend.image_export import GenerationMetadata, comfy_exif
from holaf_utilities.holaf_image_viewer_backend.metadata import extract_metadata

A1111 = "a red fox, 狐\nNegative prompt: blur\nSteps: 20, Sampler: Euler a, Seed: 7"


def a1111_jpeg(path):
    """An A1111-style JPEG: the text as an EXIF UserComment of type UNDEFINED, as piexif writes it."""
    gradient(120, 80).save(path, "JPEG", exif=comfy_exif(GenerationMetadata(parameters=A1111)), quality=90)
    assert extract_metadata(path).parameters == A1111
    return path


def _unzip(data: bytes, tmp_path):
    archive = zipfile.ZipFile(io.BytesIO(data))
    assert archive.testzip() is None
    archive.extractall(tmp_path / "out")
    return tmp_path / "out", sorted(archive.namelist())


async def test_a_mixed_zip_embeds_prompt_and_workflow_where_each_format_keeps_them(client, output_dir, tmp_path):
    comfy_png(output_dir / "gen/a.png")
    comfy_webp(output_dir / "gen/b.webp")
    clip_with_audio(output_dir / "gen/c.mp4", seconds=1.0, fps=10)
    (output_dir / "gen/c.txt").write_text(json.dumps(PROMPT), encoding="utf-8")  # API graph in the .txt
    (output_dir / "gen/c.json").write_text(json.dumps(WORKFLOW), encoding="utf-8")
    status = await export_and_wait(client, {"paths": ["gen/a.png", "gen/b.webp", "gen/c.mp4"],
                                            "format": {"image": "webp", "video": "mp4"},
                                            "options": {"preset": "ultrafast"}, "metadata": "embed"})
    assert status["state"] == "done" and not status["errors"] and not status["warnings"], status
    data, _ = await download(client, status)
    folder, names = _unzip(data, tmp_path)
    assert names == ["gen/a.webp", "gen/b.webp", "gen/c.mp4"]
    for name in names:
        info = extract_metadata(folder / name)
        assert info.prompt == PROMPT and info.workflow == WORKFLOW, name
        assert info.sources["prompt"] == "embedded", name
    exif = Image.open(folder / "gen/a.webp").getexif()
    assert exif[0x0110].startswith("prompt:{") and exif[0x010F].startswith("workflow:{")
    tags = ffprobe(folder / "gen/c.mp4")["format"]["tags"]
    assert json.loads(tags["prompt"]) == PROMPT and json.loads(tags["workflow"]) == WORKFLOW


async def test_png_text_chunks_hold_the_json_once_not_a_quoted_string(client, output_dir):
    comfy_webp(output_dir / "w.webp")
    status = await export_and_wait(client, {"paths": ["w.webp"], "format": "png", "metadata": "embed"})
    data, _ = await download(client, status)
    png = Image.open(io.BytesIO(data))
    assert json.loads(png.text["prompt"]) == PROMPT  # a dict, not a JSON string inside a string
    assert json.loads(png.text["workflow"]) == WORKFLOW


async def test_sidecar_mode_writes_txt_and_json_beside_each_file_and_nothing_inside(client, output_dir, tmp_path):
    comfy_png(output_dir / "s.png")
    a1111_jpeg(output_dir / "t.jpg")
    status = await export_and_wait(client, {"paths": ["s.png", "t.jpg"], "format": "png", "metadata": "sidecar"})
    data, _ = await download(client, status)
    folder, names = _unzip(data, tmp_path)
    assert names == ["s.json", "s.png", "s.txt", "t.png", "t.txt"]
    assert json.loads((folder / "s.txt").read_text(encoding="utf-8")) == PROMPT
    assert json.loads((folder / "s.json").read_text(encoding="utf-8")) == WORKFLOW
    assert (folder / "t.txt").read_text(encoding="utf-8") == A1111
    assert not {"prompt", "workflow", "parameters"} & set(Image.open(folder / "s.png").text)
    back = extract_metadata(folder / "s.png")
    assert back.prompt == PROMPT and back.workflow == WORKFLOW and back.sources["workflow"] == "sidecar_json"


async def test_a1111_parameters_travel_as_a_png_chunk_or_a_unicode_user_comment(client, output_dir, tmp_path):
    a1111_jpeg(output_dir / "p.jpg")
    status = await export_and_wait(client, {"paths": ["p.jpg"], "format": {"image": "png", "video": "mp4"},
                                            "options": {"image_format": "png"}})
    data, _ = await download(client, status)
    assert Image.open(io.BytesIO(data)).text["parameters"] == A1111
    status = await export_and_wait(client, {"paths": ["p.jpg"], "format": "webp"})
    data, _ = await download(client, status)
    (tmp_path / "p.webp").write_bytes(data)
    assert extract_metadata(tmp_path / "p.webp").parameters == A1111


async def test_a_jpeg_too_small_for_the_workflow_gets_sidecars_and_a_warning(client, output_dir, tmp_path):
    big = {"nodes": [{"id": i, "type": "Note", "widgets_values": ["x" * 200]} for i in range(600)], "links": []}
    comfy_png(output_dir / "big.png", workflow=big)
    comfy_png(output_dir / "small.png")
    status = await export_and_wait(client, {"paths": ["big.png", "small.png"], "format": "jpeg", "metadata": "embed"})
    assert [w["path"] for w in status["warnings"]] == ["big.png"] and "64 KB" in status["warnings"][0]["warning"]
    data, _ = await download(client, status)
    folder, names = _unzip(data, tmp_path)
    assert names == ["big.jpg", "big.json", "big.txt", "small.jpg"]
    assert json.loads((folder / "big.json").read_text(encoding="utf-8")) == big
    assert extract_metadata(folder / "small.jpg").workflow == WORKFLOW
    assert extract_metadata(folder / "big.jpg").workflow == big  # the reader finds the sidecar


async def test_strip_keeps_only_pixels_and_the_colour_profile(client, output_dir, tmp_path):
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    image = Image.new("RGB", (16, 16), (10, 20, 30))
    exif = Image.Exif()
    exif[0x0110] = "prompt:" + json.dumps(PROMPT)
    exif[0x0112] = 6  # rotated: stripping must not lose the orientation
    image.resize((32, 16)).save(output_dir / "o.jpg", exif=exif, icc_profile=srgb)
    for fmt, ext in (("png", ".png"), ("webp", ".webp"), ("jpeg", ".jpg"), ("tiff", ".tif")):
        status = await export_and_wait(client, {"paths": ["o.jpg"], "format": fmt, "metadata": "strip"})
        data, _ = await download(client, status)
        (tmp_path / f"o{ext}").write_bytes(data)
        out = Image.open(tmp_path / f"o{ext}")
        assert out.size == (16, 32), fmt  # the orientation was applied to the pixels
        assert out.info.get("icc_profile") == srgb, fmt
        assert 0x0110 not in out.getexif() and 0x0112 not in out.getexif(), fmt
        info = extract_metadata(tmp_path / f"o{ext}")
        assert info.prompt is None and info.workflow is None and info.parameters is None, fmt
