"""The ComfyUI prompt parser on hand-written API graphs, one per pipeline shape.

Samplers are found by their inputs and prompts by following links, so each
graph below uses a different way of wiring the same facts; the parser must
report the first pass (the one that starts from an empty latent).
"""
import json

from metadata_fixtures import (graph_basic, graph_custom_text, graph_flux, graph_flux_cfg_guider, graph_hires,
                               graph_lora_chain, graph_reroute_primitive, graph_sdxl_refiner, graph_wan_video,
                               metadata_api)

M = metadata_api()


def test_a_basic_ksampler_graph_gives_prompts_model_and_settings():
    p = M.parse_comfy_prompt(graph_basic())
    assert p.positive == "a red fox in the snow, watercolor"
    assert p.negative == "blurry, lowres"
    assert p.model == "dreamshaper_8.safetensors"
    assert (p.seed, p.steps, p.cfg, p.sampler, p.scheduler, p.denoise) == (1234, 20, 7.0, "euler", "normal", 1.0)
    assert (p.width, p.height) == (512, 768)
    assert len(p.samplers) == 1 and p.samplers[0]["node_id"] == "3"


def test_flux_sampler_custom_advanced_follows_noise_guider_sampler_and_sigmas():
    p = M.parse_comfy_prompt(graph_flux())
    assert p.positive == "a cat astronaut, 35mm film photo"
    assert p.negative is None
    assert p.model == "flux1-dev.safetensors"
    assert p.seed == 987654321
    assert (p.steps, p.sampler, p.scheduler, p.denoise) == (28, "euler", "simple", 1.0)
    assert p.cfg == 3.5, "for Flux the top-level cfg is the FluxGuidance value"
    assert p.samplers[0]["cfg"] == 1.0 and p.samplers[0]["guidance"] == 3.5
    assert (p.width, p.height) == (1024, 1024)


def test_a_cfg_guider_keeps_its_real_cfg_and_reads_flux_text_encoder_inputs():
    p = M.parse_comfy_prompt(graph_flux_cfg_guider())
    assert p.positive == "a bowl of ramen, studio photograph\na bowl of ramen"
    assert p.negative == "cartoon"
    assert p.cfg == 2.5 and p.samplers[0]["guidance"] == 4.0
    assert (p.seed, p.steps, p.scheduler, p.sampler) == (77, 24, "beta", "dpmpp_2m")
    assert (p.width, p.height) == (896, 1152)


def test_sdxl_base_and_refiner_report_the_base_pass_and_list_both():
    p = M.parse_comfy_prompt(graph_sdxl_refiner())
    assert p.positive == "a lighthouse on a cliff"
    assert p.negative == "ugly"
    assert p.model == "sd_xl_base_1.0.safetensors"
    assert (p.seed, p.steps, p.cfg, p.sampler, p.scheduler) == (42, 30, 7.5, "dpmpp_2m", "karras")
    assert [s["node_id"] for s in p.samplers] == ["10", "11"]
    assert p.samplers[1]["model"] == "sd_xl_refiner_1.0.safetensors"
    assert p.samplers[1]["positive"] == "a lighthouse, refined"
    assert p.samplers[0]["end_at_step"] == 24


def test_hires_fix_reports_the_first_pass_even_when_the_second_has_a_lower_id():
    p = M.parse_comfy_prompt(graph_hires())
    assert (p.seed, p.steps, p.denoise) == (111, 25, 1.0)
    assert (p.width, p.height) == (512, 768)
    assert [s["node_id"] for s in p.samplers] == ["3", "2"]
    assert p.samplers[1]["denoise"] == 0.5 and p.samplers[1]["seed"] == 112


def test_a_prompt_from_custom_text_nodes_is_followed_through_links_and_joined():
    p = M.parse_comfy_prompt(graph_custom_text())
    assert p.positive == "a samurai under cherry blossoms, ukiyo-e woodblock print"
    assert p.negative == "blurry, lowres"


def test_primitives_pass_through_nodes_and_controlnet_apply_are_followed():
    p = M.parse_comfy_prompt(graph_reroute_primitive())
    assert p.seed == 555
    assert p.positive == "a corgi wearing sunglasses"
    assert p.negative == "blurry, lowres", "ControlNetApplyAdvanced's negative output leads to the negative encoder"


def test_a_lora_chain_is_listed_in_application_order_with_strengths():
    p = M.parse_comfy_prompt(graph_lora_chain())
    assert p.model == "dreamshaper_8.safetensors"
    assert p.loras == [
        {"name": "add_detail.safetensors", "strength_model": 0.7, "strength_clip": 1.0},
        {"name": "styles/watercolor_v1.safetensors", "strength_model": 0.5, "strength_clip": 0.6},
        {"name": "film_grain_v2.safetensors", "strength_model": 0.3, "strength_clip": None},
    ]


def test_a_wan_video_graph_is_read_through_its_own_conditioning_node():
    p = M.parse_comfy_prompt(graph_wan_video())
    assert p.positive == "a fennec fox running through a meadow"
    assert p.negative == "static, blurry"
    assert p.model == "wan2.1_i2v_480p_14B_fp16.safetensors"
    assert (p.seed, p.steps, p.cfg, p.sampler) == (2024, 20, 6.0, "uni_pc")
    assert (p.width, p.height) == (832, 480)


def test_a_video_wrapper_sampler_with_text_embeds_is_found_by_its_inputs():
    g = {
        "1": {"class_type": "WanVideoModelLoader", "inputs": {"model": "wan2.1_t2v_14B_fp8.safetensors",
                                                            "base_precision": "bf16"}},
        "2": {"class_type": "LoadWanVideoT5TextEncoder", "inputs": {"model_name": "umt5-xxl-enc-bf16.safetensors"}},
        "3": {"class_type": "WanVideoTextEncode", "inputs": {"positive_prompt": "a whale in the sky",
                                                           "negative_prompt": "bad quality", "t5": ["2", 0]}},
        "4": {"class_type": "WanVideoEmptyEmbeds", "inputs": {"width": 832, "height": 480, "num_frames": 81}},
        "5": {"class_type": "WanVideoSampler", "inputs": {"model": ["1", 0], "text_embeds": ["3", 0],
                                                        "image_embeds": ["4", 0], "steps": 30, "cfg": 6.0,
                                                        "shift": 5.0, "seed": 99, "scheduler": "unipc"}},
    }
    p = M.parse_comfy_prompt(g)
    assert (p.positive, p.negative) == ("a whale in the sky", "bad quality")
    assert p.model == "wan2.1_t2v_14B_fp8.safetensors"
    assert (p.seed, p.steps, p.cfg, p.scheduler, p.width, p.height) == (99, 30, 6.0, "unipc", 832, 480)


def test_conditioning_zero_out_gives_an_empty_negative_not_the_positive_text():
    g = graph_basic()
    g["7"] = {"class_type": "ConditioningZeroOut", "inputs": {"conditioning": ["6", 0]}}
    assert M.parse_comfy_prompt(g).negative == ""


def test_conditioning_combine_joins_both_branches():
    g = graph_basic()
    g["20"] = {"class_type": "CLIPTextEncode", "inputs": {"text": "night sky", "clip": ["4", 1]}}
    g["21"] = {"class_type": "ConditioningCombine", "inputs": {"conditioning_1": ["6", 0], "conditioning_2": ["20", 0]}}
    g["3"]["inputs"]["positive"] = ["21", 0]
    assert M.parse_comfy_prompt(g).positive == "a red fox in the snow, watercolor\nnight sky"


def test_without_any_sampler_the_texts_of_all_encoders_are_joined():
    g = graph_basic()
    del g["3"]
    p = M.parse_comfy_prompt(g)
    assert p.positive == "a red fox in the snow, watercolor\nblurry, lowres"
    assert p.model == "dreamshaper_8.safetensors"
    assert (p.width, p.height) == (512, 768)
    assert p.samplers == []


def test_cycles_and_very_deep_chains_do_not_hang_or_crash():
    g = graph_basic()
    g["50"] = {"class_type": "Reroute", "inputs": {"input": ["51", 0]}}
    g["51"] = {"class_type": "Reroute", "inputs": {"input": ["50", 0]}}
    g["6"]["inputs"]["text"] = ["50", 0]
    g["3"]["inputs"]["model"] = ["60", 0]
    g["60"] = {"class_type": "LoraLoader", "inputs": {"lora_name": "x.safetensors", "model": ["60", 0]}}
    for i in range(1000, 3000):  # a 2000-long pass-through chain
        g[str(i)] = {"class_type": "ConditioningSetTimestepRange", "inputs": {"conditioning": [str(i + 1), 0]}}
    g["3000"] = {"class_type": "CLIPTextEncode", "inputs": {"text": "deep", "clip": ["4", 1]}}
    g["3"]["inputs"]["negative"] = ["1000", 0]
    p = M.parse_comfy_prompt(g)
    assert p.seed == 1234


def test_garbage_input_gives_empty_params_instead_of_an_exception():
    for bad in (None, [], "x", {}, {"1": "x"}, {"1": {"class_type": 3}}, {"1": {"class_type": "KSampler",
                                                                               "inputs": {"seed": [1, 2, 3]}}}):
        assert M.parse_comfy_prompt(bad).positive is None


def test_a_ui_workflow_is_accepted_and_converted():
    wf = {
        "nodes": [
            {"id": 4, "type": "CheckpointLoaderSimple", "widgets_values": ["v1-5.safetensors"], "inputs": []},
            {"id": 6, "type": "CLIPTextEncode", "widgets_values": ["a castle"],
             "inputs": [{"name": "clip", "type": "CLIP", "link": 1}]},
            {"id": 7, "type": "CLIPTextEncode", "widgets_values": ["fog"],
             "inputs": [{"name": "clip", "type": "CLIP", "link": 2}]},
            {"id": 5, "type": "EmptyLatentImage", "widgets_values": [640, 480, 1], "inputs": []},
            {"id": 10, "type": "Reroute", "inputs": [{"name": "", "type": "*", "link": 3}]},
            {"id": 3, "type": "KSampler", "widgets_values": [321, "randomize", 30, 6.5, "euler", "karras", 1.0],
             "inputs": [{"name": "model", "link": 4}, {"name": "positive", "link": 5},
                        {"name": "negative", "link": 6}, {"name": "latent_image", "link": 7}]},
            {"id": 11, "type": "Note", "widgets_values": ["remember the fog"]},
        ],
        "links": [[1, 4, 1, 6, 0, "CLIP"], [2, 4, 1, 7, 0, "CLIP"], [3, 4, 0, 10, 0, "MODEL"],
                  [4, 10, 0, 3, 0, "MODEL"], [5, 6, 0, 3, 1, "CONDITIONING"], [6, 7, 0, 3, 2, "CONDITIONING"],
                  [7, 5, 0, 3, 3, "LATENT"]],
    }
    p = M.parse_comfy_prompt(wf)
    assert (p.positive, p.negative, p.model) == ("a castle", "fog", "v1-5.safetensors")
    assert (p.seed, p.steps, p.cfg, p.sampler, p.scheduler, p.width, p.height) == (321, 30, 6.5, "euler", "karras",
                                                                                   640, 480)


def test_workflow_search_text_collects_human_strings_and_is_bounded():
    wf = {"nodes": [{"id": 1, "type": "Note", "title": "My notes", "widgets_values": ["try cfg 5 next"]},
                    {"id": 2, "type": "KSampler", "widgets_values": [1, "randomize", 20, 7, "euler", "normal", 1]}],
          "groups": [{"title": "Sampling"}]}
    text = M.workflow_search_text(wf, graph_basic())
    for s in ("My notes", "try cfg 5 next", "Sampling", "a red fox in the snow, watercolor", "dreamshaper_8.safetensors"):
        assert s in text
    assert "randomize" not in text.split("\n")
    huge = {"nodes": [{"id": i, "type": "CLIPTextEncode", "widgets_values": [f"prompt number {i} " * 20]}
                      for i in range(5000)]}
    assert len(M.workflow_search_text(huge, None)) <= 64 * 1024
    assert M.workflow_search_text(None, None) == ""


def test_generation_params_serialise_to_plain_json():
    d = M.parse_comfy_prompt(graph_lora_chain()).to_dict()
    assert json.loads(json.dumps(d)) == d


def test_sampler_custom_with_its_own_seed_cfg_and_a_scheduler_node_for_sigmas():
    g = graph_basic()
    g["3"] = {"class_type": "SamplerCustom", "inputs": {
        "add_noise": True, "noise_seed": 31337, "cfg": 3.0, "model": ["4", 0], "positive": ["6", 0],
        "negative": ["7", 0], "sampler": ["20", 0], "sigmas": ["22", 0], "latent_image": ["5", 0]}}
    g["20"] = {"class_type": "SamplerEulerAncestral", "inputs": {"eta": 1.0, "s_noise": 1.0}}
    g["21"] = {"class_type": "LTXVScheduler", "inputs": {"steps": 30, "max_shift": 2.05, "base_shift": 0.95,
                                                          "stretch": True, "terminal": 0.1}}
    g["22"] = {"class_type": "SplitSigmas", "inputs": {"step": 10, "sigmas": ["21", 0]}}
    p = M.parse_comfy_prompt(g)
    assert (p.seed, p.cfg, p.steps, p.sampler, p.scheduler) == (31337, 3.0, 30, "SamplerEulerAncestral",
                                                                "LTXVScheduler")
    assert p.positive == "a red fox in the snow, watercolor"


def test_dual_cfg_guider_joins_both_conditionings_and_keeps_the_negative():
    g = graph_flux()
    g["20"] = {"class_type": "CLIPTextEncode", "inputs": {"text": "in a spacesuit", "clip": ["2", 0]}}
    g["21"] = {"class_type": "CLIPTextEncode", "inputs": {"text": "low quality", "clip": ["2", 0]}}
    g["8"] = {"class_type": "DualCFGGuider", "inputs": {"model": ["1", 0], "cond1": ["4", 0], "cond2": ["20", 0],
                                                          "negative": ["21", 0], "cfg_conds": 5.0,
                                                          "cfg_cond2_negative": 2.0}}
    p = M.parse_comfy_prompt(g)
    assert p.positive == "a cat astronaut, 35mm film photo\nin a spacesuit"
    assert p.negative == "low quality" and p.cfg == 5.0


def test_loaders_are_found_by_their_name_inputs_whatever_the_class():
    for ct, key, name in (("UnetLoaderGGUF", "unet_name", "flux1-dev-Q8_0.gguf"),
                          ("DiffusersLoader", "model_path", "stable-diffusion-2-1"),
                          ("ImageOnlyCheckpointLoader", "ckpt_name", "svd_xt.safetensors"),
                          ("SomeCustomLoader", "model_name", "my-model.safetensors")):
        g = graph_basic()
        g["4"] = {"class_type": ct, "inputs": {key: name}}
        assert M.parse_comfy_prompt(g).model == name, ct


def test_rgthree_power_lora_loader_rows_and_efficiency_loader_strings():
    g = graph_basic()
    g["40"] = {"class_type": "Power Lora Loader (rgthree)", "inputs": {
        "PowerLoraLoaderHeaderWidget": {"type": "PowerLoraLoaderHeaderWidget"},
        "lora_1": {"on": True, "lora": "detail.safetensors", "strength": 0.8},
        "lora_2": {"on": False, "lora": "off.safetensors", "strength": 1.0},
        "model": ["4", 0], "clip": ["4", 1]}}
    g["3"]["inputs"]["model"] = ["40", 0]
    p = M.parse_comfy_prompt(g)
    assert p.loras == [{"name": "detail.safetensors", "strength_model": 0.8, "strength_clip": 0.8}]
    eff = {
        "1": {"class_type": "Efficient Loader", "inputs": {
            "ckpt_name": "dreamshaper_8.safetensors", "lora_name": "None", "positive": "a castle on a hill",
            "negative": "fog", "empty_latent_width": 512, "empty_latent_height": 512}},
        "2": {"class_type": "KSampler (Efficient)", "inputs": {
            "seed": 9, "steps": 20, "cfg": 7.0, "sampler_name": "euler", "scheduler": "normal", "denoise": 1.0,
            "model": ["1", 0], "positive": ["1", 1], "negative": ["1", 2], "latent_image": ["1", 3]}},
    }
    p = M.parse_comfy_prompt(eff)
    assert (p.positive, p.negative, p.model, p.seed) == ("a castle on a hill", "fog", "dreamshaper_8.safetensors", 9)
