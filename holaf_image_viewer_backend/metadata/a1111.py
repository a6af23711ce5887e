"""Parse A1111 / Forge / SD.Next "parameters" text.

Layout: the prompt (any number of lines), an optional ``Negative prompt:``
line (which may continue on following lines), then one settings line
``Steps: 20, Sampler: Euler a, CFG scale: 7, Seed: 1, Size: 512x768, ...``
(the last line that starts with ``Steps:``).  Values may be quoted and hold
commas (``Lora hashes: "a: 1234, b: 5678"``).  ``<lora:name:weight>`` tags in
the prompt give the LoRAs.
"""
from __future__ import annotations

import json
import re

from .params import GenerationParams, as_float, as_int

_STEPS_LINE = re.compile(r"^\s*Steps:\s*\d+", re.I)
_KV = re.compile(r'\s*([^:,"]+?)\s*:\s*("(?:\\.|[^\\"])*"|[^,]*)(?:,|$)')
_LORA_TAG = re.compile(r"<(lora|lyco|locon):([^:>]+)((?::[^:>]*)*)>", re.I)
_SIZE = re.compile(r"^\s*(\d+)\s*x\s*(\d+)\s*$")


def looks_like_a1111(text: str) -> bool:
    """True when ``text`` has an A1111 settings line or negative-prompt line."""
    if not isinstance(text, str):
        return False
    return bool(re.search(r"(^|\n)\s*Steps:\s*\d+", text)) or "\nNegative prompt:" in text \
        or text.startswith("Negative prompt:")


def parse_settings_line(line: str) -> dict:
    """``Key: value, Key: "quoted, value"`` → {key: value} (quotes removed)."""
    out = {}
    for m in _KV.finditer(line):
        k, v = m.group(1).strip(), m.group(2).strip()
        if not k:
            continue
        if len(v) >= 2 and v[0] == '"' and v[-1] == '"':
            try:
                v = json.loads(v)
            except ValueError:
                v = v[1:-1]
        out.setdefault(k, v)
    return out


def _lora_tags(prompt: str) -> list:
    loras = []
    for m in _LORA_TAG.finditer(prompt or ""):
        name = m.group(2).strip()
        args = [a for a in m.group(3).split(":")[1:]]
        pos = [a for a in args if "=" not in a]
        named = dict(a.split("=", 1) for a in args if "=" in a)
        te = as_float(pos[0]) if pos else as_float(named.get("te"))
        unet = as_float(pos[1]) if len(pos) > 1 else as_float(named.get("unet"))
        if te is None and not pos and "te" not in named:
            te = 1.0
        if unet is None:
            unet = te
        loras.append({"name": name, "strength_model": unet, "strength_clip": te})
    return loras


def parse_a1111_parameters(text: str) -> GenerationParams:
    """GenerationParams from A1111-style text; plain text becomes the positive prompt."""
    p = GenerationParams()
    if not isinstance(text, str):
        return p
    lines = text.replace("\r\n", "\n").split("\n")
    idx = None
    for i in range(len(lines) - 1, -1, -1):
        if _STEPS_LINE.match(lines[i]):
            idx = i
            break
    head = lines if idx is None else lines[:idx]
    settings = parse_settings_line(lines[idx]) if idx is not None else {}
    neg_at = None
    for i, ln in enumerate(head):
        if ln.startswith("Negative prompt:"):
            neg_at = i
            break
    if neg_at is None:
        p.positive = "\n".join(head).strip()
    else:
        p.positive = "\n".join(head[:neg_at]).strip()
        first = head[neg_at][len("Negative prompt:"):]
        p.negative = "\n".join([first] + head[neg_at + 1:]).strip()
    p.steps = as_int(settings.get("Steps"))
    p.sampler = settings.get("Sampler") or None
    p.scheduler = settings.get("Schedule type") or None
    p.cfg = as_float(settings.get("CFG scale", settings.get("CFG Scale")))
    p.seed = as_int(settings.get("Seed"))
    m = _SIZE.match(settings.get("Size", ""))
    if m:
        p.width, p.height = int(m.group(1)), int(m.group(2))
    p.model = settings.get("Model") or None
    hires = any(k.startswith("Hires") for k in settings)
    ds = as_float(settings.get("Denoising strength"))
    if not hires:
        p.denoise = ds
    p.loras = _lora_tags(p.positive)
    names = {x["name"] for x in p.loras}
    lh = settings.get("Lora hashes")
    if isinstance(lh, str):
        for part in lh.split(","):
            name = part.split(":", 1)[0].strip()
            if name and name not in names:
                names.add(name)
                p.loras.append({"name": name, "strength_model": None, "strength_clip": None})
    if idx is not None:
        first_pass = {"class_type": "a1111", "seed": p.seed, "steps": p.steps, "cfg": p.cfg, "sampler": p.sampler,
                      "scheduler": p.scheduler, "denoise": p.denoise, "positive": p.positive, "negative": p.negative,
                      "model": p.model, "width": p.width, "height": p.height}
        if settings.get("Model hash"):
            first_pass["model_hash"] = settings["Model hash"]
        if settings.get("Distilled CFG Scale"):
            first_pass["guidance"] = as_float(settings["Distilled CFG Scale"])
        p.samplers.append(first_pass)
        if hires:
            p.samplers.append({"class_type": "a1111_hires", "seed": p.seed,
                               "steps": as_int(settings.get("Hires steps")) or p.steps, "cfg": p.cfg,
                               "sampler": settings.get("Hires sampler") or p.sampler, "scheduler": p.scheduler,
                               "denoise": ds, "upscale": settings.get("Hires upscale"),
                               "upscaler": settings.get("Hires upscaler")})
    return p
