"""Real files written by ComfyUI, A1111/Forge, NovelAI, InvokeAI, SwarmUI, Fooocus,
Civitai and VideoHelperSuite (``shared/samples``, described by its index.json).

Every file must report the format and size the independent index lists, and
every file that carries a graph or generation text must give a sensible
positive prompt, model and seed.  Skipped when ``shared`` is not available.
"""
import json

import pytest

from metadata_fixtures import FFPROBE, SHARED, metadata_api

SAMPLES = SHARED / "samples"
pytestmark = pytest.mark.skipif(not (SAMPLES / "index.json").is_file(), reason="shared/samples is not available")
M = metadata_api()


def _index():
    if not (SAMPLES / "index.json").is_file():
        return []
    return json.loads((SAMPLES / "index.json").read_text(encoding="utf-8"))


ENTRIES = _index()
MEDIA = [e for e in ENTRIES if e["format"] != "JSON"]
GRAPHS = [e for e in ENTRIES if any("API prompt" in m or "UI workflow" in m for m in e.get("meta", []))]

# Exact expectations for the model families the earlier gallery missed.
EXPECTED = {
    "ComfyUI_examples/flux/flux_controlnet_example.png": ("anime girl smiling", "flux1-dev-fp8.safetensors"),
    "ComfyUI_examples/flux/flux_kontext_example_comic.webp": ("make her anime cute", "flux1-kontext-dev.safetensors"),
    "ComfyUI_examples/sd3/sd3_simple_example.png": ("a bottle with a pink and red galaxy",
                                                    "sd3_medium_incl_clips_t5xxlfp8.safetensors"),
    "ComfyUI_examples/stable_cascade/stable_cascade__canny_controlnet.png": ("evening sunset scenery",
                                                                             "stable_cascade_stage_c.safetensors"),
    "ComfyUI_examples/wan/image_to_video_wan_example.webp": ("a cute anime girl with massive fennec ears",
                                                             "wan2.1_i2v_480p_14B_fp16.safetensors"),
    "ComfyUI_examples/mochi/mochi_simple_checkpoint.webp": ("fast driving in the beautiful winding mountain",
                                                            "mochi_preview_fp8_scaled.safetensors"),
    "ComfyUI_examples/cosmos_predict2/cosmos_predict2_2b_t2i_example.png": ("A close-up view of a man kneading",
                                                                            "cosmos_predict2_2B_t2i.safetensors"),
    "ComfyUI_examples/ltxv/ltxv_image_to_video.json": ("best quality, 4k, HDR, a tracking shot",
                                                       "ltx-video-2b-v0.9.safetensors"),
    "ComfyUI_examples/hunyuan_video/hunyuan_video_image_to_video_v2.json": (
        "a cute anime girl with massive fennec ears", "hunyuan_video_v2_replace_image_to_video_720p_bf16.safetensors"),
    "ComfyUI_examples/wan22/image_to_video_wan22_5B.json": ("a cute anime girl with fennec ears",
                                                            "wan2.2_ti2v_5B_fp16.safetensors"),
    "AnimateDiff-Evolved/examples/samples/prompt_travel_00001.mp4": ('0 = "cherry blossom', "1.5\\dreamshaper_8.safetensors"),
    "sd-metadata/samples/jpg/civitai-hires.jpg": ("general, masterpiece", "urn:air:sdxl:checkpoint:civitai:827184@2514310"),
}
GENERATORS = {
    "sd-metadata/samples/jpg/sd-webui.jpg": "a1111", "sd-metadata/samples/webp/forge-neo.webp": "a1111",
    "sd-metadata/samples/jpg/swarmui.jpg": "swarmui", "sd-metadata/samples/png/ruined-fooocus.png": "fooocus",
    "sd-metadata/samples/webp/novelai-full-3char.webp": "novelai",
    "sd-parsers/tests/resources/parsers/InvokeAI/invokeai_dream1.png": "invokeai",
    "sd-metadata/samples/png/comfyui-comfy-image-saver.png": "comfyui",
    "sd-parsers/tests/resources/bad_images/text_after_idat.png": "a1111",
}


def _read(e):
    path = SAMPLES / e["path"]
    if e["format"] == "JSON":
        return None, M.parse_comfy_prompt(json.loads(path.read_text(encoding="utf-8")))
    if not FFPROBE and e["path"].endswith(".mp4"):
        pytest.skip("ffprobe is not installed")
    m = M.extract_metadata(path)
    return m, m.params


@pytest.mark.parametrize("entry", MEDIA, ids=[e["path"] for e in MEDIA])
def test_format_and_size_match_the_independent_index(entry):
    m, _ = _read(entry)
    fmt = "MP4" if entry["format"].startswith("mov,mp4") else entry["format"]
    assert m.format == fmt and m.error is None
    if entry.get("dims"):
        assert f"{m.width}x{m.height}" == entry["dims"]


@pytest.mark.parametrize("entry", GRAPHS, ids=[e["path"] for e in GRAPHS])
def test_every_sample_with_a_graph_gives_prompt_model_and_seed(entry):
    m, p = _read(entry)
    assert isinstance(p.positive, str) and p.positive.strip()
    assert isinstance(p.model, str) and p.model.strip()
    assert isinstance(p.seed, int)
    assert p.steps and p.sampler
    if m is not None:
        assert m.generator == "comfyui"
    if entry["path"] in EXPECTED:
        start, model = EXPECTED[entry["path"]]
        assert p.positive.startswith(start) and p.model == model


@pytest.mark.parametrize("path,generator", sorted(GENERATORS.items()))
def test_other_tools_are_recognised_and_parsed(path, generator):
    m = M.extract_metadata(SAMPLES / path)
    assert m.generator == generator
    assert m.params.positive and isinstance(m.params.seed, int) and m.params.steps


def test_files_without_generation_data_report_none():
    for path in ("sd-metadata/samples/jpg/empty.jpg", "ComfyUI_examples/controlnet/house_scribble.png",
                 "sd-metadata/samples/png/gimp.png", "ComfyUI_examples/unclip/sunset.png"):
        m = M.extract_metadata(SAMPLES / path)
        assert m.generator is None and m.prompt is None and m.params.positive is None, path
