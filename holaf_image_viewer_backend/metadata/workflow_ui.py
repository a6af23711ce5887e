"""Turn a ComfyUI UI workflow (the ``workflow`` chunk) into an approximate API graph.

Files that carry only the UI workflow (ComfyUI's example images, JSON
sidecars, AnimateDiff example PNGs) still deserve a prompt.  The UI format
keeps widget values as a positional list without names, so names come from
a table of common nodes, from the ``widget`` entries newer frontends add to
``inputs``, or, for unknown nodes, from the value's type (strings become
``text``-like inputs).  Reroutes and bypassed nodes are followed, muted
nodes dropped, and primitive nodes inlined, as ComfyUI does when it queues.
"""
from __future__ import annotations

_CONTROL_VALUES = frozenset(("fixed", "increment", "decrement", "randomize"))
_SEEDISH = frozenset(("seed", "noise_seed", "value"))

_SDXL_ENC = ["width", "height", "crop_w", "crop_h", "target_width", "target_height", "text_g", "text_l"]
_LATENT_VIDEO = ["width", "height", "length", "batch_size"]
WIDGETS = {
    "KSampler": ["seed", "steps", "cfg", "sampler_name", "scheduler", "denoise"],
    "KSamplerAdvanced": ["add_noise", "noise_seed", "steps", "cfg", "sampler_name", "scheduler", "start_at_step",
                         "end_at_step", "return_with_leftover_noise"],
    "SamplerCustom": ["add_noise", "noise_seed", "cfg"],
    "RandomNoise": ["noise_seed"],
    "KSamplerSelect": ["sampler_name"],
    "BasicScheduler": ["scheduler", "steps", "denoise"],
    "KarrasScheduler": ["steps", "sigma_max", "sigma_min", "rho"],
    "ExponentialScheduler": ["steps", "sigma_max", "sigma_min"],
    "AlignYourStepsScheduler": ["model_type", "steps", "denoise"],
    "SDTurboScheduler": ["steps", "denoise"],
    "BetaSamplingScheduler": ["steps", "alpha", "beta"],
    "LTXVScheduler": ["steps", "max_shift", "base_shift", "stretch", "terminal"],
    "CFGGuider": ["cfg"],
    "DualCFGGuider": ["cfg_conds", "cfg_cond2_negative"],
    "FluxGuidance": ["guidance"],
    "CLIPTextEncode": ["text"],
    "CLIPTextEncodeSDXL": _SDXL_ENC,
    "CLIPTextEncodeSDXLRefiner": ["ascore", "width", "height", "text"],
    "CLIPTextEncodeFlux": ["clip_l", "t5xxl", "guidance"],
    "CLIPTextEncodeSD3": ["clip_l", "clip_g", "t5xxl", "empty_padding"],
    "CLIPTextEncodeHiDream": ["clip_l", "clip_g", "t5xxl", "llama"],
    "CLIPTextEncodeHunyuanDiT": ["bert", "mt5xl"],
    "TextEncodeHunyuanVideo_ImageToVideo": ["prompt", "image_interleave"],
    "TextEncodeQwenImageEdit": ["prompt"],
    "TextEncodeQwenImageEditPlus": ["prompt"],
    "CLIPTextEncodeLumina2": ["system_prompt", "user_prompt"],
    "CheckpointLoaderSimple": ["ckpt_name"],
    "CheckpointLoader": ["config_name", "ckpt_name"],
    "ImageOnlyCheckpointLoader": ["ckpt_name"],
    "unCLIPCheckpointLoader": ["ckpt_name"],
    "UNETLoader": ["unet_name", "weight_dtype"],
    "UnetLoaderGGUF": ["unet_name"],
    "DiffusersLoader": ["model_path"],
    "LoraLoader": ["lora_name", "strength_model", "strength_clip"],
    "LoraLoaderModelOnly": ["lora_name", "strength_model"],
    "EmptyLatentImage": ["width", "height", "batch_size"],
    "EmptySD3LatentImage": ["width", "height", "batch_size"],
    "EmptyHunyuanLatentVideo": _LATENT_VIDEO,
    "EmptyMochiLatentVideo": _LATENT_VIDEO,
    "EmptyLTXVLatentVideo": _LATENT_VIDEO,
    "EmptyCosmosLatentVideo": _LATENT_VIDEO,
    "Wan22ImageToVideoLatent": _LATENT_VIDEO,
    "WanImageToVideo": _LATENT_VIDEO,
    "WanFirstLastFrameToVideo": _LATENT_VIDEO,
    "WanVaceToVideo": _LATENT_VIDEO + ["strength"],
    "HunyuanImageToVideo": _LATENT_VIDEO + ["guidance_type"],
    "CosmosImageToVideoLatent": _LATENT_VIDEO,
    "LTXVImgToVideo": _LATENT_VIDEO + ["strength"],
    "StableCascade_EmptyLatentImage": ["width", "height", "compression", "batch_size"],
    "LatentUpscale": ["upscale_method", "width", "height", "crop"],
    "LatentUpscaleBy": ["upscale_method", "scale_by"],
    "ImageScale": ["upscale_method", "width", "height", "crop"],
    "ModelSamplingSD3": ["shift"],
    "ModelSamplingFlux": ["max_shift", "base_shift", "width", "height"],
    "CLIPSetLastLayer": ["stop_at_clip_layer"],
    "VAELoader": ["vae_name"],
    "CLIPLoader": ["clip_name", "type", "device"],
    "DualCLIPLoader": ["clip_name1", "clip_name2", "type", "device"],
    "LoadImage": ["image", "upload"],
    "SaveImage": ["filename_prefix"],
    "CR Prompt Text": ["prompt"],
    "PrimitiveStringMultiline": ["value"],
    "PrimitiveString": ["value"],
    "PrimitiveInt": ["value"],
    "PrimitiveFloat": ["value"],
    "StringConcatenate": ["string_a", "string_b", "delimiter"],
    "ConditioningSetArea": ["width", "height", "x", "y", "strength"],
    "ControlNetApply": ["strength"],
    "ControlNetApplyAdvanced": ["strength", "start_percent", "end_percent"],
    "ADE_AnimateDiffLoaderGen1": ["model_name", "beta_schedule"],
}
_SKIP_TYPES = frozenset(("Note", "MarkdownNote", "Reroute", "PrimitiveNode"))


def _links_table(wf: dict) -> dict:
    out = {}
    for ln in wf.get("links") or []:
        if isinstance(ln, list) and len(ln) >= 5:
            out[ln[0]] = (ln[1], ln[2], ln[3], ln[4], ln[5] if len(ln) > 5 else None)
        elif isinstance(ln, dict) and "id" in ln:
            out[ln["id"]] = (ln.get("origin_id"), ln.get("origin_slot"), ln.get("target_id"), ln.get("target_slot"),
                             ln.get("type"))
    return out


def _widget_names(node: dict, n_values: int) -> list | None:
    names = WIDGETS.get(node.get("type"))
    if names is not None:
        return names
    from_inputs = [i["widget"]["name"] for i in node.get("inputs") or []
                   if isinstance(i, dict) and isinstance(i.get("widget"), dict) and "name" in i["widget"]]
    if from_inputs and len(from_inputs) >= n_values - 2:
        return from_inputs
    return None


def _named_widgets(node: dict) -> dict:
    vals = node.get("widgets_values")
    if isinstance(vals, dict):
        return {k: v for k, v in vals.items() if not isinstance(v, dict)}
    if not isinstance(vals, list):
        return {}
    names = _widget_names(node, len(vals))
    out = {}
    if names is None:
        n_text = 0
        for i, v in enumerate(vals):
            if isinstance(v, str) and v not in _CONTROL_VALUES:
                out["text" if n_text == 0 else f"text_{n_text + 1}"] = v
                n_text += 1
            elif not isinstance(v, (list, dict)):
                out[f"widget_{i}"] = v
        return out
    vi = 0
    for name in names:
        if vi >= len(vals):
            break
        out[name] = vals[vi]
        vi += 1
        if name in _SEEDISH and vi < len(vals) and vals[vi] in _CONTROL_VALUES:
            vi += 1
    return out


def workflow_to_prompt(wf: dict) -> dict:
    """Approximate API graph ``{id: {"class_type", "inputs", "_meta"}}`` from a UI workflow."""
    nodes = {}
    for n in wf.get("nodes") or []:
        if isinstance(n, dict) and "id" in n and isinstance(n.get("type"), str):
            nodes[n["id"]] = n
    links = _links_table(wf)

    def resolve(link_id, depth=0):
        """Follow a link to its real source: (kind, payload) with kind 'link' or 'value'."""
        if depth > 64 or link_id not in links:
            return None
        origin, slot, _t, _s, ltype = links[link_id]
        src = nodes.get(origin)
        if src is None or src.get("mode") == 2:
            return None
        stype = src["type"]
        if stype == "Reroute":
            ins = src.get("inputs") or []
            return resolve(ins[0].get("link"), depth + 1) if ins and isinstance(ins[0], dict) else None
        if stype == "PrimitiveNode":
            vals = src.get("widgets_values")
            return ("value", vals[0]) if isinstance(vals, list) and vals else None
        if src.get("mode") == 4:  # bypassed: pass the matching input through
            outs = src.get("outputs") or []
            otype = outs[slot].get("type") if isinstance(slot, int) and 0 <= slot < len(outs) else ltype
            for i in src.get("inputs") or []:
                if isinstance(i, dict) and i.get("link") is not None and i.get("type") == otype:
                    return resolve(i["link"], depth + 1)
            return None
        return ("link", [str(origin), slot if isinstance(slot, int) else 0])

    api = {}
    for nid, n in nodes.items():
        if n["type"] in _SKIP_TYPES or n.get("mode") in (2, 4):
            continue
        inputs = _named_widgets(n)
        for i in n.get("inputs") or []:
            if not isinstance(i, dict) or i.get("link") is None or not isinstance(i.get("name"), str):
                continue
            r = resolve(i["link"])
            if r is None:
                continue
            name = i["widget"]["name"] if isinstance(i.get("widget"), dict) and "name" in i["widget"] else i["name"]
            inputs[name] = r[1]
        api[str(nid)] = {"class_type": n["type"], "inputs": inputs,
                         "_meta": {"title": n.get("title") or n["type"]}}
    return api
