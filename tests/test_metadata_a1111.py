"""Parsing A1111 / Forge "parameters" text into GenerationParams."""
from metadata_fixtures import metadata_api

M = metadata_api()

TEXT = ("masterpiece, a zebra in a neon city, <lora:add_detail:0.6>, <lora:film_grain:0.4:0.9>\n"
        "second line of prompt\n"
        "Negative prompt: lowres, bad hands,\nworst quality\n"
        'Steps: 28, Sampler: DPM++ 2M, Schedule type: Karras, CFG scale: 6.5, Seed: 3623174757, Size: 832x1216, '
        'Model hash: 45a21ea00a, Model: waiIllustriousSDXL_v160, Denoising strength: 0.4, '
        'Lora hashes: "add_detail: 7c6bad76eb54, film_grain: 1234, other: 9999", Version: v1.10.1')


def test_prompt_negative_and_settings_line_are_split():
    p = M.parse_a1111_parameters(TEXT)
    assert p.positive.endswith("second line of prompt")
    assert p.positive.startswith("masterpiece, a zebra")
    assert p.negative == "lowres, bad hands,\nworst quality"
    assert (p.steps, p.sampler, p.scheduler, p.cfg, p.seed) == (28, "DPM++ 2M", "Karras", 6.5, 3623174757)
    assert (p.width, p.height, p.model, p.denoise) == (832, 1216, "waiIllustriousSDXL_v160", 0.4)
    assert p.samplers[0]["model_hash"] == "45a21ea00a"


def test_lora_tags_give_strengths_and_quoted_lora_hashes_add_the_rest():
    p = M.parse_a1111_parameters(TEXT)
    assert p.loras[0] == {"name": "add_detail", "strength_model": 0.6, "strength_clip": 0.6}
    assert p.loras[1] == {"name": "film_grain", "strength_model": 0.9, "strength_clip": 0.4}
    assert p.loras[2]["name"] == "other" and p.loras[2]["strength_model"] is None


def test_hires_denoise_belongs_to_the_second_pass():
    t = "a cat\nSteps: 20, Sampler: Euler a, CFG scale: 7, Seed: 1, Size: 512x512, Denoising strength: 0.45, " \
        "Hires upscale: 2, Hires upscaler: R-ESRGAN 4x+"
    p = M.parse_a1111_parameters(t)
    assert p.denoise is None
    assert p.samplers[1]["denoise"] == 0.45 and p.samplers[1]["upscale"] == "2"


def test_text_without_a_settings_line_is_the_positive_prompt():
    p = M.parse_a1111_parameters("just a prompt, nothing else")
    assert p.positive == "just a prompt, nothing else"
    assert p.negative is None and p.steps is None


def test_no_negative_prompt_and_windows_line_endings():
    p = M.parse_a1111_parameters("a dog\r\nSteps: 5, Sampler: Euler, CFG scale: 3, Seed: 9, Size: 64x64, Model: m")
    assert (p.positive, p.negative, p.steps, p.model) == ("a dog", None, 5, "m")


def test_garbage_never_raises():
    for t in ("", "Steps:", "Steps: x", "Negative prompt:", None, 'Steps: 1, A: "unterminated, B: 2'):
        M.parse_a1111_parameters(t)
