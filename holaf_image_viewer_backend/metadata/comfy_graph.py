"""Derive prompts and settings from a ComfyUI API-format prompt graph.

The graph is ``{node_id: {"class_type", "inputs": {name: value | [src_id, slot]}}}``.
ComfyUI has no fixed schema for "the prompt", and thousands of custom nodes,
so nothing here keys on a list of class names.  Instead:

* samplers are found by their **inputs** (a seed or noise source plus steps
  or sigmas), whatever they are called;
* prompts are found by **following links** back from a sampler's
  ``positive``/``negative`` (directly, or through a guider): through
  conditioning pass-through nodes (guidance, ControlNet, area, timestep...),
  combiners (texts joined), encoders (any node with text inputs), and string
  nodes (concatenated when the node obviously joins, passed through
  otherwise);
* the model is found by walking the ``model`` chain back to the node that
  has no model input (a loader), collecting LoRAs on the way;
* the size comes from the first node with ``width``/``height`` up the
  latent chain.

Several samplers are listed in execution order; the first pass (a sampler
with no other sampler upstream, preferably one that starts from an empty
latent and reaches an output) gives the top-level fields.  When no sampler is
found, the texts of all encoders are joined.  Every walk is depth-limited
and cycle-safe.
"""
from __future__ import annotations

import logging
import re

from .params import GenerationParams, as_float, as_int, as_str

log = logging.getLogger("holaf.metadata")

MAX_DEPTH = 48
MAX_NODES = 20_000

# Inputs that never carry prompt text (links to models, images, latents, settings).
_NON_TEXT_INPUTS = frozenset((
    "clip", "model", "vae", "image", "images", "pixels", "mask", "samples", "latent", "latent_image", "latents",
    "control_net", "clip_vision", "clip_vision_output", "style_model", "upscale_model", "noise", "guider",
    "sampler", "sigmas", "delimiter", "separator", "clean_whitespace", "mode", "seed", "system_prompt",
    "weight_interpretation", "token_normalization", "parser", "empty_padding", "affect_pooled", "mean_normalization",
    "multi_conditioning", "use_old_emphasis_implementation", "with_SDXL", "label", "log_prompt", "style",
    "print_output", "wildcard_text", "select_to_add", "Select to add LoRA", "Select to add Wildcard", "t5", "bert",
))
_TEXT_NAME = re.compile(r"text|prompt|t5xxl|clip_[lgb]\b|^clip_[lgb]$|llama|mt5|caption|string|populated|positive|"
                        r"negative|^value$|^input$|^str\d*$|^a$|^b$|^c$|^d$", re.I)
_PREFERRED_TEXT = ("populated_text", "text", "prompt", "positive_prompt", "negative_prompt", "t5xxl", "text_g",
                   "clip_l", "clip_g", "text_l", "llama", "string", "value")
_TEXT_ORDER = {n: i for i, n in enumerate(_PREFERRED_TEXT)}
_JOINER = re.compile(r"concat|join|combine|merge|append|textadd|add ?text|text ?add", re.I)
_SEED_NAMES = ("seed", "noise_seed", "value", "int", "integer", "number", "Number", "INT", "seed_value")
_MODEL_NAME_KEYS = ("ckpt_name", "unet_name", "model_name", "gguf_name", "model_path", "model", "ckpt",
                    "base_ckpt_name", "checkpoint", "model_file", "diffusion_model", "transformer")
_MODEL_LINK_KEYS = ("model", "model1", "model_a", "unet", "MODEL", "base_model", "diffusion_model")
_LATENT_WALK = ("latent_image", "latent", "samples", "latents", "image_embeds", "samples_to", "pixels", "image",
                "images", "start_image", "init_image", "video", "source", "destination")
_SIZE_STRING = re.compile(r"(\d{2,5})\s*[x×*]\s*(\d{2,5})")
_OUTPUT_CLASS = re.compile(r"save|preview|videocombine|output|show", re.I)
_EMPTY_LATENT = re.compile(r"empty.*latent|latent.*empty|emptyimage", re.I)


def _node_key(nid: str):
    parts = []
    for p in re.split(r"[:.]", nid):
        parts.append((0, int(p), "") if p.isdigit() else (1, 0, p))
    return tuple(parts)


_COND_NAMES: dict = {}
_TEXTISH_NAMES: dict = {}


def _is_cond_name(name: str) -> bool:
    """Inputs that carry conditioning (memoised: the same few names recur in every graph)."""
    r = _COND_NAMES.get(name)
    if r is None:
        n = name.lower()
        r = n in ("positive", "negative") or n.startswith("cond") or n.endswith("embeds")
        if len(_COND_NAMES) < 4096:
            _COND_NAMES[name] = r
    return r


def _is_textish(name: str) -> bool:
    r = _TEXTISH_NAMES.get(name)
    if r is None:
        r = _TEXT_NAME.search(name) is not None
        if len(_TEXTISH_NAMES) < 4096:
            _TEXTISH_NAMES[name] = r
    return r


class PromptGraph:
    """An API prompt graph with link-following helpers."""

    def __init__(self, api: dict):
        items = api.items()
        if len(api) > MAX_NODES:
            items = list(items)[:MAX_NODES]
        self.nodes = {
            (k if type(k) is str else str(k)): (v["class_type"], inp if type(inp := v.get("inputs")) is dict else {})
            for k, v in items
            if type(v) is dict and type(v.get("class_type")) is str
        }
        self._text_memo: dict = {}
        self._srcs = None

    # -- basics
    def link(self, v):
        """(src_id, slot) when ``v`` is a link to a node of this graph."""
        if type(v) is list and len(v) == 2 and type(v[1]) is int:
            src = v[0]
            if type(src) is int:
                src = str(src)
            if type(src) is str and src in self.nodes:
                return src, v[1]
        return None

    def ct(self, nid: str) -> str:
        return self.nodes[nid][0]

    def inputs(self, nid: str) -> dict:
        return self.nodes[nid][1]

    # -- scalar values through links (primitives, seed nodes...)
    def value(self, v, names=(), depth: int = 0):
        """Resolve ``v`` to a scalar, following links into nodes that hold one."""
        if type(v) is not list:  # fast path: a plain widget value
            return as_str(v) if type(v) is dict else v
        while depth < MAX_DEPTH:
            ln = self.link(v)
            if ln is None:
                if isinstance(v, dict):
                    return as_str(v)
                return None if isinstance(v, list) else v
            inp = self.inputs(ln[0])
            nxt = None
            for n in names:
                if n in inp:
                    nxt = inp[n]
                    break
            if nxt is None:
                scalars = [x for x in inp.values() if not isinstance(x, (list, dict))]
                links = [x for x in inp.values() if self.link(x)]
                if len(scalars) == 1:
                    nxt = scalars[0]
                elif not scalars and len(links) == 1:
                    nxt = links[0]
                else:
                    return None
            v = nxt
            depth += 1
        return None

    def int_value(self, v, names=_SEED_NAMES):
        if type(v) is int:
            return v
        return as_int(self.value(v, names))

    def float_value(self, v, names=("value", "float", "number", "Number", "FLOAT")):
        t = type(v)
        if t is float:
            return v if v == v else None
        if t is int:
            return float(v)
        return as_float(self.value(v, names))

    # -- text
    def text(self, v, side: str = "positive", depth: int = 0, seen=None) -> str | None:
        """Resolve ``v`` to prompt text (a string, or a link to a string-producing node)."""
        if isinstance(v, str):
            return v
        if isinstance(v, dict):
            return as_str(v)
        ln = self.link(v)
        if ln is None or depth > MAX_DEPTH:
            return None
        key = (ln[0], side)
        if key in self._text_memo:
            return self._text_memo[key]
        seen = seen or set()
        if ln[0] in seen:
            return None
        seen = seen | {ln[0]}
        self._text_memo[key] = None  # cycle guard while computing
        ct, inp = self.nodes[ln[0]]
        parts = self._string_inputs(inp, side, depth, seen)
        if not parts:
            result = None
        elif _JOINER.search(ct) and len(parts) > 1:
            delim = None
            for dk in ("delimiter", "separator", "separator_text", "join_with"):
                if isinstance(inp.get(dk), str):
                    delim = inp[dk]
                    break
            delim = delim.replace("\\n", "\n") if delim is not None else " "
            result = delim.join(t for _n, t in parts if t != "")
        else:
            result = self._pick(parts, side)
        self._text_memo[key] = result
        return result

    def _string_inputs(self, inp: dict, side: str, depth: int, seen) -> list:
        out = []
        for name, val in inp.items():
            if name in _NON_TEXT_INPUTS:
                continue
            if isinstance(val, str):
                if not _is_textish(name):
                    continue
                out.append((name, val))
            elif isinstance(val, dict):
                s = as_str(val)
                if s is not None:
                    out.append((name, s))
            elif self.link(val) is not None:
                t = self.text(val, side, depth + 1, seen)
                if t is not None:
                    out.append((name, t))
        return out

    @staticmethod
    def _pick(parts: list, side: str) -> str:
        if len(parts) == 1:
            return parts[0][1]
        other = "neg" if side == "positive" else "pos"
        mine = "pos" if side == "positive" else "neg"
        sided = [p for p in parts if mine in p[0].lower()]
        if sided:
            return sided[0][1]
        parts = [p for p in parts if other not in p[0].lower()] or parts
        names = {p[0]: p[1] for p in parts}
        for n in _PREFERRED_TEXT:
            if n in names:
                return names[n]
        return parts[0][1]

    def encoder_texts(self, nid: str, side: str, depth: int = 0, seen=None) -> list:
        """Prompt texts of an encoder-like node, de-duplicated, in a stable order."""
        inp = self.inputs(nid)
        parts = self._string_inputs(inp, side, depth, seen or {nid})
        if not parts:
            return []
        if len(parts) == 1:
            return [parts[0][1]]
        names = {p[0] for p in parts}
        if "populated_text" in names:
            parts = [p for p in parts if p[0] != "wildcard_text"]
        has_pos = any("pos" in n.lower() for n in names)
        has_neg = any("neg" in n.lower() for n in names)
        if has_pos and has_neg:
            mine = "pos" if side == "positive" else "neg"
            parts = [p for p in parts if mine in p[0].lower()]
        if len(parts) > 1:
            parts.sort(key=lambda p: _TEXT_ORDER.get(p[0], len(_TEXT_ORDER)))
        out, seen_t = [], set()
        for _n, t in parts:
            if t not in seen_t:
                seen_t.add(t)
                out.append(t)
        nonempty = [t for t in out if t.strip()]
        return nonempty or out[:1]

    # -- conditioning
    def cond_texts(self, v, side: str, depth: int = 0, seen=None) -> list | None:
        """Texts behind a conditioning link; None when the chain has no text node."""
        ln = self.link(v)
        if ln is None or depth > MAX_DEPTH:
            return None
        nid = ln[0]
        seen = seen or set()
        if nid in seen:
            return None
        seen = seen | {nid}
        ct, inp = self.nodes[nid]
        if "zeroout" in ct.lower().replace("_", ""):
            return [""]
        conds = [(n, x) for n, x in inp.items() if _is_cond_name(n) and self.link(x) is not None]
        if conds:
            names = [n.lower() for n, _x in conds]
            if "positive" in names or "negative" in names:
                want = side if side in names else ("positive" if "positive" in names else "negative")
                conds = [c for c in conds if c[0].lower() == want]
            result = []
            found = False
            for _n, x in conds:
                r = self.cond_texts(x, side, depth + 1, seen)
                if r is not None:
                    found = True
                    result.extend(r)
            if found:
                return result
        texts = self.encoder_texts(nid, side, depth, seen)
        return texts if texts else None

    def guidance(self, v, depth: int = 0) -> float | None:
        """A ``guidance`` value (FluxGuidance, CLIPTextEncodeFlux...) up a conditioning chain."""
        seen = set()
        stack = [(v, 0)]
        while stack:
            x, d = stack.pop()
            ln = self.link(x)
            if ln is None or d > MAX_DEPTH or ln[0] in seen:
                continue
            seen.add(ln[0])
            inp = self.inputs(ln[0])
            if "guidance" in inp:
                g = self.float_value(inp["guidance"])
                if g is not None:
                    return g
            for n, y in inp.items():
                if _is_cond_name(n):
                    stack.append((y, d + 1))
        return None

    # -- model chain
    def model_chain(self, v):
        """(model name, LoRAs in application order) walking the model links back to a loader."""
        loras_rev = []
        name = None
        seen = set()
        depth = 0
        while depth < MAX_DEPTH:
            ln = self.link(v)
            if ln is None:
                if isinstance(v, str) and v:
                    name = v
                break
            nid = ln[0]
            if nid in seen:
                break
            seen.add(nid)
            inp = self.inputs(nid)
            loras_rev.extend(reversed(self._node_loras(inp, set())))
            nxt = None
            for k in _MODEL_LINK_KEYS:
                if k in inp and self.link(inp[k]) is not None:
                    nxt = inp[k]
                    break
            if nxt is None:
                for k in _MODEL_NAME_KEYS:
                    if k in inp:
                        s = as_str(self.value(inp[k], ("value", "string", "text", "ckpt_name", "unet_name")))
                        if s:
                            name = s
                            break
                break
            v = nxt
            depth += 1
        loras_rev.reverse()
        return name, loras_rev

    def _node_loras(self, inp: dict, seen: set) -> list:
        out = []
        if "lora_name" in inp:
            n = as_str(self.value(inp["lora_name"], ("value", "string", "lora_name")))
            if n and n.lower() != "none":
                sm = inp.get("strength_model", inp.get("lora_model_strength", inp.get("strength",
                             inp.get("model_weight", inp.get("lora_strength")))))
                sc = inp.get("strength_clip", inp.get("lora_clip_strength", inp.get("clip_weight")))
                out.append({"name": n, "strength_model": self.float_value(sm) if sm is not None else None,
                            "strength_clip": self.float_value(sc) if sc is not None else None})
        for k, v in inp.items():
            if isinstance(v, dict) and isinstance(v.get("lora"), str):  # rgthree Power Lora Loader rows
                if v.get("on", True) and v["lora"].lower() != "none":
                    s1 = as_float(v.get("strength"))
                    s2 = as_float(v.get("strengthTwo"))
                    out.append({"name": v["lora"], "strength_model": s1, "strength_clip": s2 if s2 is not None else s1})
            elif k.startswith("lora_name_") and isinstance(v, str) and v.lower() != "none":
                i = k[len("lora_name_"):]
                sw = inp.get(f"switch_{i}")
                if isinstance(sw, str) and sw.lower() == "off":
                    continue
                sm = inp.get(f"model_weight_{i}", inp.get(f"lora_wt_{i}", inp.get(f"model_str_{i}")))
                sc = inp.get(f"clip_weight_{i}", inp.get(f"clip_str_{i}"))
                out.append({"name": v, "strength_model": as_float(sm), "strength_clip": as_float(sc)})
        stack = inp.get("lora_stack")
        ln = self.link(stack)
        if ln is not None and ln[0] not in seen and len(seen) < MAX_DEPTH:
            seen.add(ln[0])
            out = self._node_loras(self.inputs(ln[0]), seen) + out
        return out

    # -- size
    def size(self, v):
        """(width, height) of the first node with a size up the latent/image chain."""
        seen = set()
        frontier = [v]
        for _ in range(MAX_DEPTH):
            nxt = []
            for x in frontier:
                ln = self.link(x)
                if ln is None or ln[0] in seen:
                    continue
                seen.add(ln[0])
                inp = self.inputs(ln[0])
                if "width" in inp and "height" in inp:
                    w = self.int_value(inp["width"], ("value", "int", "width"))
                    h = self.int_value(inp["height"], ("value", "int", "height"))
                    if w and h and w > 0 and h > 0:
                        return w, h
                for k in ("dimensions", "resolution", "size", "aspect_ratio"):
                    s = inp.get(k)
                    if isinstance(s, str):
                        m = _SIZE_STRING.search(s)
                        if m:
                            return int(m.group(1)), int(m.group(2))
                for k in _LATENT_WALK:
                    if k in inp:
                        nxt.append(inp[k])
            if not nxt:
                break
            frontier = nxt
        return None, None

    def reaches(self, v, pattern) -> bool:
        """True when a node whose class matches ``pattern`` lies up the latent chain."""
        seen = set()
        stack = [(v, 0)]
        while stack:
            x, d = stack.pop()
            ln = self.link(x)
            if ln is None or d > MAX_DEPTH or ln[0] in seen:
                continue
            seen.add(ln[0])
            ct, inp = self.nodes[ln[0]]
            if pattern.search(ct):
                return True
            for k in _LATENT_WALK:
                if k in inp:
                    stack.append((inp[k], d + 1))
        return False

    # -- structure
    def upstream(self, nid: str) -> set:
        """Every node id reachable upstream of ``nid`` (not including it)."""
        srcs = self._sources()
        out = set()
        stack = [nid]
        while stack:
            for src in srcs[stack.pop()]:
                if src not in out:
                    out.add(src)
                    stack.append(src)
        return out

    def _sources(self) -> dict:
        if self._srcs is None:
            link = self.link
            srcs = {}
            for nid, (_ct, inp) in self.nodes.items():
                found = []
                for v in inp.values():
                    if type(v) is list:
                        ln = link(v)
                        if ln is not None:
                            found.append(ln[0])
                srcs[nid] = found
            self._srcs = srcs
        return self._srcs


def is_sampler_inputs(inp: dict) -> bool:
    """A sampler consumes a seed or noise source and steps or sigmas."""
    if "steps" not in inp and "sigmas" not in inp:
        return False
    if "seed" in inp or "noise_seed" in inp or "noise" in inp:
        return True
    if "cfg" not in inp and "latent_image" not in inp:
        return False
    return "positive" in inp or "guider" in inp or any(k.endswith("embeds") for k in inp)


def _sampler_details(g: PromptGraph, nid: str) -> dict:
    ct, inp = g.nodes[nid]
    d = {"node_id": nid, "class_type": ct}
    # seed
    seed = None
    if "seed" in inp:
        seed = g.int_value(inp["seed"])
    if seed is None and "noise_seed" in inp:
        seed = g.int_value(inp["noise_seed"])
    if seed is None and "noise" in inp:
        seed = g.int_value(inp["noise"], ("noise_seed", "seed", "value"))
    # steps / scheduler / denoise (directly, or from the sigmas node)
    steps = g.int_value(inp["steps"], ("steps", "value", "int")) if "steps" in inp else None
    scheduler = as_str(g.value(inp["scheduler"], ("scheduler", "value"))) if "scheduler" in inp else None
    denoise = g.float_value(inp["denoise"], ("denoise", "value")) if "denoise" in inp else None
    if "sigmas" in inp:
        sn = _find_up(g, inp["sigmas"], lambda i: "steps" in i, ("sigmas",))
        if sn is not None:
            sct, sinp = g.nodes[sn]
            if steps is None:
                steps = g.int_value(sinp["steps"], ("steps", "value", "int"))
            if scheduler is None:
                scheduler = as_str(g.value(sinp["scheduler"], ("scheduler", "value"))) if "scheduler" in sinp else sct
            if denoise is None and "denoise" in sinp:
                denoise = g.float_value(sinp["denoise"], ("denoise", "value"))
    # sampler name
    sampler = None
    if "sampler_name" in inp:
        sampler = as_str(g.value(inp["sampler_name"], ("sampler_name", "value")))
    elif "sampler" in inp:
        ln = g.link(inp["sampler"])
        if ln is not None:
            sct, sinp = g.nodes[ln[0]]
            sampler = as_str(g.value(sinp["sampler_name"], ("sampler_name", "value"))) if "sampler_name" in sinp else sct
        elif isinstance(inp["sampler"], str):
            sampler = inp["sampler"]
    # conditioning, cfg, model
    cfg = g.float_value(inp["cfg"], ("cfg", "value", "float")) if "cfg" in inp else None
    pos_links, neg_links = [], []
    model_link = inp.get("model")
    gl = g.link(inp.get("guider"))
    if gl is not None:
        gct, ginp = g.nodes[gl[0]]
        for n, x in ginp.items():
            if _is_cond_name(n):
                (neg_links if "neg" in n.lower() else pos_links).append(x)
        if cfg is None:
            for k in ("cfg", "cfg_conds"):
                if k in ginp:
                    cfg = g.float_value(ginp[k], ("cfg", "value", "float"))
                    break
            else:
                if not neg_links:
                    cfg = 1.0  # a guider without negative and without cfg runs at CFG 1 (BasicGuider)
        if g.link(model_link) is None:
            model_link = ginp.get("model")
        d["guider"] = gct
    both = []  # one link carrying both sides (video wrappers' text_embeds)
    for n, x in inp.items():
        if _is_cond_name(n) and g.link(x) is not None:
            nl = n.lower()
            if "neg" in nl:
                neg_links.append(x)
            elif nl.endswith("embeds"):
                if nl.startswith(("text", "hyvid", "prompt")):
                    both.append(x)
            else:
                pos_links.append(x)
    positive = _join_cond(g, pos_links or both, "positive")
    negative = _join_cond(g, neg_links or ([] if pos_links else both), "negative")
    guidance = None
    for x in pos_links:
        guidance = g.guidance(x)
        if guidance is not None:
            break
    model, loras = (None, [])
    if model_link is not None:
        model, loras = g.model_chain(model_link)
    if model is None:
        for k in _MODEL_NAME_KEYS:
            if k in inp and isinstance(inp[k], str):
                model = inp[k]
                break
    lat = None
    for k in _LATENT_WALK:
        if k in inp and g.link(inp[k]) is not None:
            lat = inp[k]
            break
    w, h = g.size(lat) if lat is not None else (None, None)
    d.update(seed=seed, steps=steps, cfg=cfg, sampler=sampler, scheduler=scheduler, denoise=denoise,
             positive=positive, negative=negative, model=model, loras=loras, width=w, height=h)
    if guidance is not None:
        d["guidance"] = guidance
    for k in ("start_at_step", "end_at_step"):
        if k in inp:
            d[k] = g.int_value(inp[k], (k, "value", "int"))
    d["_latent"] = lat
    return d


def _join_cond(g: PromptGraph, links: list, side: str) -> str | None:
    if not links:
        return None
    texts = []
    found = False
    for x in links:
        r = g.cond_texts(x, side)
        if r is not None:
            found = True
            texts.extend(r)
    if not found:
        return None
    out, seen = [], set()
    for t in texts:
        if t not in seen:
            seen.add(t)
            out.append(t)
    nonempty = [t for t in out if t.strip()]
    return "\n".join(nonempty) if nonempty else (out[0] if out else "")


def _find_up(g: PromptGraph, v, pred, via=()):
    """Nearest node upstream of link ``v`` (itself included) whose inputs satisfy ``pred``."""
    seen = set()
    frontier = [v]
    for _ in range(MAX_DEPTH):
        nxt = []
        for x in frontier:
            ln = g.link(x)
            if ln is None or ln[0] in seen:
                continue
            seen.add(ln[0])
            inp = g.inputs(ln[0])
            if pred(inp):
                return ln[0]
            for k, y in inp.items():
                if g.link(y) is not None and (not via or k in via or k.startswith("sigma")):
                    nxt.append(y)
        if not nxt:
            return None
        frontier = nxt
    return None


def _fallback(g: PromptGraph, params: GenerationParams) -> None:
    """No usable sampler: take what the graph holds anywhere."""
    texts = []
    for nid in sorted(g.nodes, key=_node_key):
        ct, inp = g.nodes[nid]
        if "clip" in inp or "encode" in ct.lower():
            for t in g.encoder_texts(nid, "positive"):
                if t.strip() and t not in texts:
                    texts.append(t)
    if params.positive is None and texts:
        params.positive = "\n".join(texts)
    for nid in sorted(g.nodes, key=_node_key):
        ct, inp = g.nodes[nid]
        if params.model is None:
            for k in ("ckpt_name", "unet_name", "gguf_name"):
                s = as_str(inp.get(k))
                if s:
                    params.model = s
                    break
        if params.seed is None:
            for k in ("seed", "noise_seed"):
                if k in inp:
                    s = g.int_value(inp[k])
                    if s is not None:
                        params.seed = s
                        break
        if params.width is None and _EMPTY_LATENT.search(ct):
            w = g.int_value(inp.get("width"), ("value", "int"))
            h = g.int_value(inp.get("height"), ("value", "int"))
            if w and h:
                params.width, params.height = w, h


def parse_comfy_prompt(api_graph) -> GenerationParams:
    """Generation parameters from a ComfyUI API prompt graph (never raises).

    A UI workflow (``{"nodes": [...], "links": [...]}``) is accepted too: it is
    converted to an approximate API graph first.
    """
    params = GenerationParams()
    if not isinstance(api_graph, dict):
        return params
    if isinstance(api_graph.get("nodes"), list):
        from .workflow_ui import workflow_to_prompt  # local import: rarely needed
        api_graph = workflow_to_prompt(api_graph)
    try:
        _parse(PromptGraph(api_graph), params)
    except RecursionError:  # pragma: no cover - depth limits make this unreachable
        log.warning("prompt graph too deep to parse")
    return params


def _parse(g: PromptGraph, params: GenerationParams) -> None:
    samplers = [nid for nid, (_ct, inp) in g.nodes.items() if is_sampler_inputs(inp)]
    if samplers:
        details = {s: _sampler_details(g, s) for s in samplers}
        if len(samplers) == 1:
            first = samplers[0]
            ordered = samplers
        else:
            ups = {s: g.upstream(s) for s in samplers}
            anc = {s: [t for t in samplers if t != s and t in ups[s]] for s in samplers}
            order = sorted(samplers, key=lambda s: (len(anc[s]), _node_key(s)))
            roots = [s for s in order if not anc[s]] or order
            if len(roots) == 1:
                first = roots[0]
            else:
                live = set()
                for nid, (ct, inp) in g.nodes.items():
                    if _OUTPUT_CLASS.search(ct) or "filename_prefix" in inp:
                        live.add(nid)
                        live |= g.upstream(nid)

                def rank(s):
                    d = details[s]
                    return (0 if (not live or s in live) else 1,
                            0 if d["_latent"] is not None and g.reaches(d["_latent"], _EMPTY_LATENT) else 1,
                            0 if d["positive"] is not None else 1,
                            order.index(s))

                first = min(roots, key=rank)
            ordered = [first] + [s for s in order if s != first]  # execution order, first pass leading
        for s in ordered:
            d = details[s]
            d.pop("_latent", None)
            params.samplers.append(d)
        d = details[first]
        params.positive = d["positive"]
        params.negative = d["negative"]
        params.model = d["model"]
        params.loras = list(d["loras"])
        params.seed = d["seed"]
        params.steps = d["steps"]
        cfg = d["cfg"]
        if d.get("guidance") is not None and (cfg is None or cfg == 1.0):
            cfg = d["guidance"]
        params.cfg = cfg
        params.sampler = d["sampler"]
        params.scheduler = d["scheduler"]
        params.denoise = d["denoise"]
        params.width, params.height = d["width"], d["height"]
    if params.positive is None or params.model is None or params.seed is None:
        _fallback(g, params)
