"""Generation data written by NovelAI, InvokeAI, Fooocus, SwarmUI and Civitai.

Each of these stores JSON (or, for old InvokeAI, a command line) under its
own key; each function maps one layout onto :class:`GenerationParams`.
Unknown fields are ignored; missing ones stay None.
"""
from __future__ import annotations

import re
import shlex

from .params import GenerationParams, as_float, as_int, as_str
from .jsonutil import loads_json


def _first(d: dict, *keys):
    for k in keys:
        if k in d and d[k] not in (None, ""):
            return d[k]
    return None


def _sampler_entry(p: GenerationParams, class_type: str) -> None:
    p.samplers.append({"class_type": class_type, "seed": p.seed, "steps": p.steps, "cfg": p.cfg,
                       "sampler": p.sampler, "scheduler": p.scheduler, "denoise": p.denoise,
                       "positive": p.positive, "negative": p.negative, "model": p.model,
                       "width": p.width, "height": p.height})


def parse_novelai(comment, source: str | None = None) -> GenerationParams:
    """NovelAI: ``Comment`` JSON (prompt, uc, steps, scale, seed, sampler...), model from ``Source``."""
    p = GenerationParams()
    d = loads_json(comment) if isinstance(comment, str) else comment
    if not isinstance(d, dict):
        return p
    pos = as_str(d.get("prompt"))
    v4 = d.get("v4_prompt")
    chars = []
    if isinstance(v4, dict):
        cap = v4.get("caption") or {}
        pos = pos or as_str(cap.get("base_caption"))
        for c in cap.get("char_captions") or []:
            if isinstance(c, dict) and isinstance(c.get("char_caption"), str) and c["char_caption"].strip():
                chars.append(c["char_caption"])
    p.positive = "\n".join([pos] + chars) if pos is not None and chars else pos
    neg = as_str(d.get("uc"))
    v4n = d.get("v4_negative_prompt")
    if neg is None and isinstance(v4n, dict):
        neg = as_str((v4n.get("caption") or {}).get("base_caption"))
    p.negative = neg
    p.steps = as_int(d.get("steps"))
    p.cfg = as_float(d.get("scale"))
    p.seed = as_int(d.get("seed"))
    p.sampler = as_str(d.get("sampler"))
    p.scheduler = as_str(d.get("noise_schedule"))
    p.denoise = as_float(d.get("strength"))
    p.width, p.height = as_int(d.get("width")), as_int(d.get("height"))
    p.model = source or None
    _sampler_entry(p, "novelai")
    return p


def parse_invokeai_metadata(data) -> GenerationParams:
    """InvokeAI 3+/4+: ``invokeai_metadata`` JSON."""
    p = GenerationParams()
    d = loads_json(data) if isinstance(data, str) else data
    if not isinstance(d, dict):
        return p
    p.positive = as_str(_first(d, "positive_prompt", "prompt"))
    p.negative = as_str(_first(d, "negative_prompt"))
    style = as_str(d.get("positive_style_prompt"))
    if style and p.positive and style != p.positive:
        p.positive = p.positive + "\n" + style
    p.seed = as_int(d.get("seed"))
    p.steps = as_int(d.get("steps"))
    p.cfg = as_float(_first(d, "cfg_scale", "cfg"))
    p.sampler = as_str(_first(d, "scheduler", "sampler_name"))
    p.denoise = as_float(_first(d, "denoising_strength", "strength"))
    p.width, p.height = as_int(d.get("width")), as_int(d.get("height"))
    m = d.get("model")
    if isinstance(m, dict):
        p.model = as_str(_first(m, "name", "model_name", "key"))
    else:
        p.model = as_str(m)
    for lo in d.get("loras") or []:
        if isinstance(lo, dict):
            lm = lo.get("model") or lo.get("lora") or {}
            name = as_str(lm.get("name") or lm.get("model_name") or lm.get("key")) if isinstance(lm, dict) else as_str(lm)
            if name:
                w = as_float(lo.get("weight"))
                p.loras.append({"name": name, "strength_model": w, "strength_clip": w})
    _sampler_entry(p, "invokeai")
    return p


def parse_invokeai_legacy(sd_metadata=None, dream: str | None = None) -> GenerationParams:
    """InvokeAI 2.x: ``sd-metadata`` JSON (``image`` sub-object) or the ``Dream`` command line."""
    p = GenerationParams()
    d = loads_json(sd_metadata) if isinstance(sd_metadata, str) else sd_metadata
    if isinstance(d, dict):
        img = d.get("image") if isinstance(d.get("image"), dict) else d
        prompt = img.get("prompt")
        if isinstance(prompt, list) and prompt and isinstance(prompt[0], dict):
            prompt = prompt[0].get("prompt")
        _split_invoke_prompt(p, as_str(prompt))
        p.seed = as_int(img.get("seed"))
        p.steps = as_int(img.get("steps"))
        p.cfg = as_float(img.get("cfg_scale"))
        p.sampler = as_str(img.get("sampler"))
        p.width, p.height = as_int(img.get("width")), as_int(img.get("height"))
        p.model = as_str(_first(d, "model_weights", "model"))
        _sampler_entry(p, "invokeai")
        return p
    if isinstance(dream, str):
        try:
            args = shlex.split(dream)
        except ValueError:
            args = dream.split()
        prompt = args[0] if args else ""
        opts = {}
        i = 1
        while i < len(args):
            a = args[i]
            if a.startswith("-") and i + 1 < len(args) and not re.match(r"^-[A-Za-z]", args[i + 1]):
                opts[a] = args[i + 1]
                i += 2
            else:
                i += 1
        _split_invoke_prompt(p, prompt)
        p.steps = as_int(opts.get("-s"))
        p.seed = as_int(opts.get("-S"))
        p.width, p.height = as_int(opts.get("-W")), as_int(opts.get("-H"))
        p.cfg = as_float(opts.get("-C"))
        p.sampler = opts.get("-A")
        p.denoise = as_float(opts.get("-f"))
        _sampler_entry(p, "invokeai")
    return p


def _split_invoke_prompt(p: GenerationParams, prompt: str | None) -> None:
    """InvokeAI 2 keeps the negative prompt in square brackets inside the prompt."""
    if prompt is None:
        return
    negs = re.findall(r"\[([^\]]*)\]", prompt)
    pos = re.sub(r"\s*\[[^\]]*\]", "", prompt).strip()
    p.positive = pos
    p.negative = ", ".join(n.strip() for n in negs) if negs else None


def parse_fooocus(d: dict) -> GenerationParams:
    """Fooocus / RuinedFooocus ``parameters`` JSON."""
    p = GenerationParams()
    p.positive = as_str(_first(d, "prompt", "Prompt", "full_prompt"))
    if isinstance(p.positive, list):
        p.positive = "\n".join(map(str, p.positive))
    p.negative = as_str(_first(d, "negative_prompt", "Negative", "Negative Prompt", "full_negative_prompt"))
    p.seed = as_int(_first(d, "seed", "Seed"))
    p.steps = as_int(_first(d, "steps", "Steps"))
    p.cfg = as_float(_first(d, "guidance_scale", "cfg", "Guidance Scale"))
    p.sampler = as_str(_first(d, "sampler", "sampler_name", "Sampler"))
    p.scheduler = as_str(_first(d, "scheduler", "Scheduler"))
    p.denoise = as_float(_first(d, "denoise", "denoising_strength"))
    p.model = as_str(_first(d, "base_model", "base_model_name", "Base Model", "model"))
    res = _first(d, "resolution", "Resolution")
    if isinstance(res, str):
        m = re.search(r"(\d+)\D+(\d+)", res)
        if m:
            p.width, p.height = int(m.group(1)), int(m.group(2))
    elif isinstance(res, (list, tuple)) and len(res) == 2:
        p.width, p.height = as_int(res[0]), as_int(res[1])
    if p.width is None:
        p.width, p.height = as_int(d.get("width")), as_int(d.get("height"))
    for lo in d.get("loras") or []:
        if isinstance(lo, (list, tuple)) and lo:
            name = as_str(lo[0])
            w = as_float(lo[1]) if len(lo) > 1 else None
        elif isinstance(lo, dict):
            name, w = as_str(lo.get("name")), as_float(lo.get("weight"))
        elif isinstance(lo, str):
            name, w = lo.rsplit(" : ", 1)[0] if " : " in lo else lo, None
        else:
            continue
        if name and name.lower() != "none":
            p.loras.append({"name": name, "strength_model": w, "strength_clip": w})
    _sampler_entry(p, "fooocus")
    return p


def parse_swarmui(d: dict) -> GenerationParams:
    """SwarmUI ``sui_image_params`` JSON."""
    p = GenerationParams()
    s = d.get("sui_image_params") if isinstance(d.get("sui_image_params"), dict) else d
    p.positive = as_str(s.get("prompt"))
    p.negative = as_str(s.get("negativeprompt"))
    p.seed = as_int(s.get("seed"))
    p.steps = as_int(s.get("steps"))
    p.cfg = as_float(s.get("cfgscale"))
    p.sampler = as_str(s.get("sampler"))
    p.scheduler = as_str(s.get("scheduler"))
    p.denoise = as_float(s.get("initimagecreativity"))
    p.model = as_str(s.get("model"))
    p.width, p.height = as_int(s.get("width")), as_int(s.get("height"))
    names = s.get("loras") or []
    weights = s.get("loraweights") or []
    for i, n in enumerate(names if isinstance(names, list) else []):
        w = as_float(weights[i]) if isinstance(weights, list) and i < len(weights) else None
        if isinstance(n, str):
            p.loras.append({"name": n, "strength_model": w, "strength_clip": w})
    _sampler_entry(p, "swarmui")
    return p


def parse_civitai_extra(extra) -> GenerationParams:
    """Civitai's ``extraMetadata`` JSON (beside its ComfyUI graph)."""
    p = GenerationParams()
    d = loads_json(extra) if isinstance(extra, str) else extra
    if not isinstance(d, dict):
        return p
    p.positive = as_str(d.get("prompt"))
    p.negative = as_str(d.get("negativePrompt"))
    p.steps = as_int(d.get("steps"))
    p.cfg = as_float(d.get("cfgScale"))
    p.sampler = as_str(d.get("sampler"))
    p.seed = as_int(d.get("seed"))
    return p
