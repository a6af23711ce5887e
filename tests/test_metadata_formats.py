"""Every image container and every carrier a tool writes, read back from real files.

Files are written by Pillow (PngInfo tEXt/zTXt/iTXt, Image.Exif for WEBP/JPEG,
GIF/JPEG comments, AVIF with XMP) or by byte-exact builders where Pillow does
not write that layout (APNG ``comf`` chunk, text after IDAT, A1111's piexif
UserComment in both UTF-16 byte orders).
"""
import json

import pytest
from PIL import Image

from metadata_fixtures import (comfy_exif, graph_basic, graph_flux, itxt_chunk, metadata_api, png_bytes,
                               save_apng_with_comf, save_jpeg, save_png_pillow, save_webp, text_chunk,
                               usercomment_exif, ztxt_chunk)

M = metadata_api()
A1111 = ("a lighthouse on a cliff, oil painting\nNegative prompt: blurry\n"
         "Steps: 25, Sampler: Euler a, CFG scale: 7, Seed: 42, Size: 64x48, Model: dreamshaper_8")
WORKFLOW = {"last_node_id": 9, "nodes": [{"id": 6, "type": "CLIPTextEncode", "title": "Positive",
                                          "widgets_values": ["a red fox in the snow, watercolor"]}], "links": []}


def test_supported_extensions_and_media_kind_by_extension():
    assert {".png", ".jpg", ".webp", ".gif", ".bmp", ".tiff", ".avif", ".mp4", ".webm", ".mov", ".mkv", ".m4v",
            ".wav", ".mp3", ".flac", ".ogg", ".m4a"} <= M.SUPPORTED_EXTENSIONS
    assert all(e == e.lower() and e.startswith(".") for e in M.SUPPORTED_EXTENSIONS)
    assert isinstance(M.SUPPORTED_EXTENSIONS, frozenset)
    assert M.media_kind("a/B.PNG") == "image" and M.media_kind("x.Mp4") == "video"
    assert M.media_kind("x.flac") == "audio" and M.media_kind("notes.md") is None and M.media_kind("x") is None


def test_comfyui_png_text_chunks_give_prompt_workflow_and_params(tmp_path):
    p = save_png_pillow(tmp_path / "ComfyUI_00001_.png",
                        {"prompt": json.dumps(graph_basic()), "workflow": json.dumps(WORKFLOW)})
    m = M.extract_metadata(p)
    assert (m.kind, m.format, m.width, m.height, m.extension_mismatch) == ("image", "PNG", 64, 48, False)
    assert m.generator == "comfyui"
    assert m.prompt == graph_basic() and m.workflow == WORKFLOW
    assert m.sources == {"prompt": "embedded", "workflow": "embedded", "parameters": "none"}
    assert m.params.positive == "a red fox in the snow, watercolor" and m.params.seed == 1234
    assert m.error is None and m.warnings == [] and m.animated is False


def test_itxt_and_ztxt_chunks_are_decoded_including_non_latin_text(tmp_path):
    g = graph_basic(pos="猫が窓辺で眠っている, 水彩画")
    p = save_png_pillow(tmp_path / "a.png", {"prompt": json.dumps(g, ensure_ascii=False), "workflow": json.dumps(WORKFLOW)},
                        itxt_keys=("prompt",), ztxt_keys=("workflow",))
    m = M.extract_metadata(p)
    assert m.params.positive == "猫が窓辺で眠っている, 水彩画"
    assert m.workflow == WORKFLOW
    q = tmp_path / "b.png"
    q.write_bytes(png_bytes(before=[itxt_chunk("parameters", A1111 + " 🎨", compressed=True)]))
    assert M.extract_metadata(q).parameters.endswith("🎨")


def test_text_chunks_after_the_image_data_are_read(tmp_path):
    p = tmp_path / "after.png"
    p.write_bytes(png_bytes(3, 2, before=[text_chunk("Software", "x")],
                            after=[ztxt_chunk("parameters", A1111), text_chunk("workflow", json.dumps(WORKFLOW))]))
    m = M.extract_metadata(p)
    assert (m.width, m.height) == (3, 2)
    assert m.parameters == A1111 and m.workflow == WORKFLOW


def test_a1111_png_parameters_chunk(tmp_path):
    m = M.extract_metadata(save_png_pillow(tmp_path / "00001-42.png", {"parameters": A1111}))
    assert m.generator == "a1111" and m.sources["parameters"] == "embedded"
    assert (m.params.positive, m.params.negative, m.params.seed, m.params.model) == (
        "a lighthouse on a cliff, oil painting", "blurry", 42, "dreamshaper_8")


def test_apng_from_save_animated_png_with_private_comf_chunks(tmp_path):
    p = save_apng_with_comf(tmp_path / "anim.png", {"prompt": graph_flux(), "workflow": WORKFLOW}, frames=3)
    m = M.extract_metadata(p)
    assert m.animated is True and m.frame_count == 3 and (m.width, m.height) == (32, 32)
    assert m.prompt == graph_flux() and m.workflow == WORKFLOW
    assert m.params.model == "flux1-dev.safetensors"


def test_comfyui_webp_exif_model_and_make_tags_and_extra_keys(tmp_path):
    p = save_webp(tmp_path / "ComfyUI_00001_.webp", exif=comfy_exif(graph_basic(), WORKFLOW, {"extra": {"a": 1}}))
    m = M.extract_metadata(p)
    assert (m.format, m.width, m.height) == ("WEBP", 64, 48)
    assert m.prompt == graph_basic() and m.workflow == WORKFLOW
    assert m.generator == "comfyui" and m.params.negative == "blurry, lowres"


def test_animated_webp_reports_frames_duration_and_metadata(tmp_path):
    p = save_webp(tmp_path / "anim.webp", exif=comfy_exif(graph_basic(), None), frames=4)
    m = M.extract_metadata(p)
    assert m.animated is True and m.frame_count == 4
    assert m.duration == pytest.approx(0.4) and m.fps == pytest.approx(10.0)
    assert m.prompt == graph_basic() and m.sources["workflow"] == "none"


def test_lossless_and_lossy_webp_sizes_come_from_vp8l_and_vp8_headers(tmp_path):
    assert (M.extract_metadata(save_webp(tmp_path / "l.webp", size=(77, 33), lossless=True)).width) == 77
    m = M.extract_metadata(save_webp(tmp_path / "y.webp", size=(50, 31)))
    assert (m.width, m.height) == (50, 31)


@pytest.mark.parametrize("layout", [
    dict(encoding="utf-16-be"),                                   # piexif / A1111
    dict(encoding="utf-16-le"),                                   # SwarmUI and others
    dict(encoding="utf-16-le", big_endian_tiff=False),
    dict(encoding="utf-16-be", bom=True, big_endian_tiff=False),
    dict(encoding="ascii", header=b"ASCII\0\0\0"),
    dict(encoding="utf-8", header=b""),                            # raw UTF-8, no charset header
])
def test_a1111_jpeg_user_comment_in_every_encoding(tmp_path, layout):
    text = A1111.replace("oil painting", "oil painting, café") if layout["encoding"] != "ascii" else A1111
    p = save_jpeg(tmp_path / "00001-42.jpg", exif=usercomment_exif(text, **layout))
    m = M.extract_metadata(p)
    assert (m.format, m.width, m.height) == ("JPEG", 64, 48)
    assert m.parameters == text and m.generator == "a1111"
    assert m.params.seed == 42 and m.params.negative == "blurry"
    assert m.sources["workflow"] == "none", "a JPEG without a workflow is a normal result"


def test_a1111_webp_user_comment(tmp_path):
    m = M.extract_metadata(save_webp(tmp_path / "a.webp", exif=usercomment_exif(A1111)))
    assert m.parameters == A1111 and m.params.steps == 25


def test_jpeg_comment_segment_and_pillow_written_exif(tmp_path):
    m = M.extract_metadata(save_jpeg(tmp_path / "c.jpg", comment=A1111))
    assert m.parameters == A1111 and m.generator == "a1111"
    ex = Image.Exif()
    ex[0x010E] = "a description"
    ex.get_ifd(0x8769)[0x9286] = b"UNICODE\0" + A1111.encode("utf-16-le")
    m2 = M.extract_metadata(save_jpeg(tmp_path / "d.jpg", exif=ex.tobytes()))
    assert m2.parameters == A1111


def test_comfyui_jpeg_with_prompt_in_exif_and_no_workflow(tmp_path):
    m = M.extract_metadata(save_jpeg(tmp_path / "c.jpg", exif=comfy_exif(graph_basic(), None)))
    assert m.prompt == graph_basic() and m.workflow is None and m.sources["workflow"] == "none"


def test_jpeg_exif_orientation_swaps_the_reported_size(tmp_path):
    ex = Image.Exif()
    ex[0x0112] = 6
    m = M.extract_metadata(save_jpeg(tmp_path / "r.jpg", exif=ex.tobytes(), size=(64, 48)))
    assert (m.width, m.height) == (48, 64)


def test_gif_comment_extension_frames_and_duration(tmp_path):
    frames = [Image.new("RGB", (20, 10), (i * 80, 0, 0)) for i in range(3)]
    p = tmp_path / "a.gif"
    frames[0].save(p, "GIF", save_all=True, append_images=frames[1:], duration=200, loop=0, comment=A1111)
    m = M.extract_metadata(p)
    assert (m.format, m.width, m.height, m.frame_count, m.animated) == ("GIF", 20, 10, 3, True)
    assert m.duration == pytest.approx(0.6)
    assert m.parameters == A1111 and m.params.seed == 42


def test_bmp_and_tiff_sizes(tmp_path):
    Image.new("RGB", (30, 20)).save(tmp_path / "a.bmp")
    Image.new("RGB", (31, 21)).save(tmp_path / "a.tif", tiffinfo={270: A1111})
    b = M.extract_metadata(tmp_path / "a.bmp")
    t = M.extract_metadata(tmp_path / "a.tif")
    assert (b.format, b.width, b.height) == ("BMP", 30, 20)
    assert (t.format, t.width, t.height) == ("TIFF", 31, 21)
    assert t.parameters == A1111


def test_avif_size_and_comfyui_prompt_workflow_in_xmp(tmp_path):
    xmp = ('<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
           '<rdf:Description xmlns:comfyui="http://comfy.org/ns/1.0/">'
           f'<comfyui:prompt>{_xml_escape(json.dumps(graph_basic()))}</comfyui:prompt>'
           f'<comfyui:workflow>{_xml_escape(json.dumps(WORKFLOW))}</comfyui:workflow>'
           '</rdf:Description></rdf:RDF></x:xmpmeta>')
    p = tmp_path / "a.avif"
    try:
        Image.new("RGB", (40, 24)).save(p, "AVIF", xmp=xmp.encode())
    except (KeyError, OSError, ValueError):
        pytest.skip("this Pillow cannot write AVIF")
    m = M.extract_metadata(p)
    assert (m.format, m.width, m.height) == ("AVIF", 40, 24)
    assert m.prompt == graph_basic() and m.workflow == WORKFLOW and m.generator == "comfyui"


def _xml_escape(s):
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def test_nan_and_infinity_in_comfyui_json_are_accepted(tmp_path):
    g = graph_basic()
    g["3"]["inputs"]["denoise"] = float("nan")
    g["5"]["inputs"]["extra"] = float("inf")
    raw = json.dumps(g)
    assert "NaN" in raw and "Infinity" in raw
    m = M.extract_metadata(save_png_pillow(tmp_path / "n.png", {"prompt": raw}))
    assert m.prompt is not None and m.sources["prompt"] == "embedded"
    assert m.params.positive == "a red fox in the snow, watercolor"


def test_a_png_with_only_a_workflow_still_gets_its_prompt_from_the_ui_graph(tmp_path):
    wf = {"nodes": [{"id": 1, "type": "CLIPTextEncode", "widgets_values": ["a wizard's tower"], "inputs": []}],
          "links": []}
    m = M.extract_metadata(save_png_pillow(tmp_path / "w.png", {"workflow": json.dumps(wf)}))
    assert m.prompt is None and m.sources["prompt"] == "none"
    assert m.params.positive == "a wizard's tower" and m.generator == "comfyui"


def test_media_info_to_dict_is_json_serialisable(tmp_path):
    p = save_png_pillow(tmp_path / "x.png", {"prompt": json.dumps(graph_basic())})
    d = M.extract_metadata(p).to_dict()
    assert json.loads(json.dumps(d))["params"]["seed"] == 1234
    assert d["path"] == str(p)
