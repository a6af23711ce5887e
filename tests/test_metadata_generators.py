"""NovelAI, InvokeAI, Fooocus, SwarmUI and Civitai layouts, written into real files
the way those tools write them, map onto the same GenerationParams."""
import json

from metadata_fixtures import graph_basic, metadata_api, save_jpeg, save_png_pillow, usercomment_exif

M = metadata_api()


def test_novelai_png_comment_json_with_description_and_software(tmp_path):
    comment = {"prompt": "2girls, dancing", "uc": "lowres", "steps": 28, "scale": 5.0, "seed": 447042893,
               "sampler": "k_euler_ancestral", "noise_schedule": "karras", "width": 832, "height": 1216,
               "v4_prompt": {"caption": {"base_caption": "2girls, dancing",
                                         "char_captions": [{"char_caption": "girl, red hair"}]}}}
    p = save_png_pillow(tmp_path / "nai.png", {"Title": "NovelAI generated image", "Description": "2girls, dancing",
                                              "Software": "NovelAI", "Source": "NovelAI Diffusion V4.5 4BDE2A90",
                                              "Comment": json.dumps(comment)})
    m = M.extract_metadata(p)
    assert m.generator == "novelai"
    p_ = m.params
    assert p_.positive == "2girls, dancing\ngirl, red hair" and p_.negative == "lowres"
    assert (p_.seed, p_.steps, p_.cfg, p_.sampler, p_.scheduler) == (447042893, 28, 5.0, "k_euler_ancestral", "karras")
    assert (p_.width, p_.height, p_.model) == (832, 1216, "NovelAI Diffusion V4.5 4BDE2A90")


def test_invokeai_metadata_json(tmp_path):
    meta = {"positive_prompt": "a robot gardener", "negative_prompt": "blurry", "seed": 7, "steps": 30,
            "cfg_scale": 6.5, "scheduler": "dpmpp_2m_k", "width": 1024, "height": 768,
            "model": {"name": "juggernautXL", "base": "sdxl"},
            "loras": [{"model": {"name": "detail_slider"}, "weight": 0.75}]}
    m = M.extract_metadata(save_png_pillow(tmp_path / "i.png", {"invokeai_metadata": json.dumps(meta)}))
    assert m.generator == "invokeai"
    assert (m.params.positive, m.params.negative, m.params.seed, m.params.model) == ("a robot gardener", "blurry", 7,
                                                                                     "juggernautXL")
    assert m.params.loras == [{"name": "detail_slider", "strength_model": 0.75, "strength_clip": 0.75}]


def test_invokeai_legacy_sd_metadata_and_dream_command_line(tmp_path):
    sd = {"model_weights": "stable-diffusion-1.5", "image": {"prompt": [{"prompt": "a fox [ugly, blurry]"}],
                                                              "seed": 11, "steps": 40, "cfg_scale": 7.5,
                                                              "sampler": "k_lms", "width": 512, "height": 512}}
    m = M.extract_metadata(save_png_pillow(tmp_path / "s.png", {"sd-metadata": json.dumps(sd)}))
    assert (m.generator, m.params.positive, m.params.negative, m.params.seed) == ("invokeai", "a fox", "ugly, blurry", 11)
    dream = '"a photo of a duck [monochrome]" -s 50 -S 2980747362 -W 512 -H 768 -C 5 -A k_lms'
    d = M.extract_metadata(save_png_pillow(tmp_path / "d.png", {"Dream": dream}))
    assert (d.params.positive, d.params.negative, d.params.steps, d.params.seed, d.params.width, d.params.cfg) == (
        "a photo of a duck", "monochrome", 50, 2980747362, 512, 5.0)


def test_fooocus_parameters_json_with_its_scheme_key(tmp_path):
    par = {"prompt": "a crystal cave", "negative_prompt": "dark", "resolution": "(1152, 896)", "guidance_scale": 4,
           "sampler": "dpmpp_2m_sde_gpu", "scheduler": "karras", "seed": "12345", "steps": 30,
           "base_model": "juggernautXL_v8Rundiffusion.safetensors", "loras": [["sd_xl_offset_example-lora_1.0.safetensors", 0.1]]}
    m = M.extract_metadata(save_png_pillow(tmp_path / "f.png", {"parameters": json.dumps(par),
                                                               "fooocus_scheme": "fooocus"}))
    assert m.generator == "fooocus" and m.parameters == json.dumps(par)
    assert (m.params.positive, m.params.negative, m.params.seed, m.params.width, m.params.height) == (
        "a crystal cave", "dark", 12345, 1152, 896)
    assert m.params.loras[0]["name"] == "sd_xl_offset_example-lora_1.0.safetensors"


def test_swarmui_parameters_json_in_png_and_jpeg_user_comment(tmp_path):
    par = {"sui_image_params": {"prompt": "a jellyfish forest", "negativeprompt": "text", "model": "flux1-dev",
                                "seed": 5, "steps": 20, "cfgscale": 1.0, "width": 1024, "height": 1024,
                                "sampler": "euler", "scheduler": "simple"}, "sui_models": []}
    for m in (M.extract_metadata(save_png_pillow(tmp_path / "s.png", {"parameters": json.dumps(par)})),
              M.extract_metadata(save_jpeg(tmp_path / "s.jpg",
                                           exif=usercomment_exif(json.dumps(par, indent=2), encoding="utf-16-le")))):
        assert m.generator == "swarmui"
        assert (m.params.positive, m.params.negative, m.params.model, m.params.seed) == ("a jellyfish forest", "text",
                                                                                         "flux1-dev", 5)


def test_civitai_graph_with_extra_keys_in_a_jpeg_user_comment(tmp_path):
    g = graph_basic()
    g["extra"] = {"airs": ["urn:air:sdxl:checkpoint:civitai:1@2"]}
    g["extraMetadata"] = json.dumps({"prompt": "p", "negativePrompt": "n", "steps": 20})
    m = M.extract_metadata(save_jpeg(tmp_path / "c.jpg", exif=usercomment_exif(json.dumps(g))))
    assert m.generator == "comfyui" and "extra" not in m.prompt
    assert m.params.positive == "a red fox in the snow, watercolor" and m.params.seed == 1234


def test_comfyui_with_a1111_parameters_from_an_image_saver_prefers_the_graph(tmp_path):
    a1111 = "unknown\nNegative prompt: unknown\nSteps: 20, Sampler: euler, CFG Scale: 8.0, Seed: 0, Size: 512x512"
    m = M.extract_metadata(save_png_pillow(tmp_path / "x.png", {"parameters": a1111,
                                                               "prompt": json.dumps(graph_basic())}))
    assert m.generator == "comfyui" and m.params.positive == "a red fox in the snow, watercolor"
    assert m.parameters == a1111 and m.sources["parameters"] == "embedded"
