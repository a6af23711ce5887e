"""One call per file: what it is, how big, and how it was generated.

:func:`extract_metadata` sniffs the real container from the first bytes,
walks its headers (never decoding pixels), probes videos/audio with
ffprobe, interprets whatever text carriers it found (ComfyUI graph, A1111
text, NovelAI/InvokeAI/Fooocus/SwarmUI JSON), then applies the sidecars,
which win over embedded data.  It never raises for a bad file: unreadable
or corrupt files get ``error`` (with whatever could still be read), and
oddities get ``warnings``.

Source rules (``MediaInfo.sources``, one of embedded / sidecar_txt /
sidecar_json / none / error per field):

* ``<base>.txt`` gives ``parameters`` (or ``prompt`` when it holds an API
  graph, as the earlier system's extract tool wrote it);
* ``<base>.json`` gives ``workflow`` (or ``prompt`` when it holds an API graph);
* ``error`` means a carrier was there but could not be decoded (e.g. the
  truncated JSON of a broken PNG) and nothing else replaced it;
* a video without metadata of its own takes prompt/workflow from its
  VideoHelperSuite first-frame PNG (``companion_png``): the source then stays
  ``embedded`` and a warning names the PNG.

``params`` is computed from the highest-priority source that has a value
for each field: sidecar graph, sidecar text, embedded graph, embedded
tool-specific data, embedded A1111 text, then the UI workflow.
"""
from __future__ import annotations

import io
import logging
import os
from dataclasses import dataclass, field

from . import generators
from .a1111 import looks_like_a1111, parse_a1111_parameters
from .comfy_graph import parse_comfy_prompt
from .image_headers import SCANNERS
from .media_types import (SNIFF_BYTES, format_for_extension, kind_of_format, media_kind, same_family,
                          sniff_format)
from .params import GenerationParams
from .png_chunks import HEAD_BLOCK, scan_png
from .scan_result import ScanResult
from .jsonutil import loads_json
from .sidecars import read_sidecars
from .video import probe_media
from .xmp import parse_xmp

log = logging.getLogger("holaf.metadata")

EMBEDDED, SIDECAR_TXT, SIDECAR_JSON, NONE, ERROR = "embedded", "sidecar_txt", "sidecar_json", "none", "error"


@dataclass
class MediaInfo:
    """Everything the index stores about one media file."""

    path: object
    kind: str
    format: str
    extension_mismatch: bool = False
    width: int | None = None
    height: int | None = None
    duration: float | None = None
    fps: float | None = None
    frame_count: int | None = None
    has_audio: bool | None = None
    animated: bool = False
    prompt: dict | None = None
    workflow: dict | None = None
    parameters: str | None = None
    generator: str | None = None
    params: GenerationParams = field(default_factory=GenerationParams)
    sources: dict = field(default_factory=lambda: {"prompt": NONE, "workflow": NONE, "parameters": NONE})
    tags: list = field(default_factory=list)
    rating: int | None = None
    companion_png: str | None = None
    error: str | None = None
    warnings: list = field(default_factory=list)

    def to_dict(self) -> dict:
        return {
            "path": os.fspath(self.path), "kind": self.kind, "format": self.format,
            "extension_mismatch": self.extension_mismatch, "width": self.width, "height": self.height,
            "duration": self.duration, "fps": self.fps, "frame_count": self.frame_count,
            "has_audio": self.has_audio, "animated": self.animated, "prompt": self.prompt,
            "workflow": self.workflow, "parameters": self.parameters, "generator": self.generator,
            "params": self.params.to_dict(), "sources": dict(self.sources), "tags": list(self.tags),
            "rating": self.rating, "companion_png": self.companion_png, "error": self.error,
            "warnings": list(self.warnings),
        }


# ------------------------------------------------------------------ helpers
def is_api_graph(obj) -> bool:
    """An API prompt graph: a dict whose values include ``{"class_type", "inputs"}`` nodes."""
    if not isinstance(obj, dict) or not obj:
        return False
    for v in obj.values():
        if isinstance(v, dict) and "class_type" in v and "inputs" in v:
            return True
    return False


def is_ui_workflow(obj) -> bool:
    return isinstance(obj, dict) and isinstance(obj.get("nodes"), list)


def _api_only(obj: dict) -> dict:
    """Drop non-node entries (Civitai adds ``extra``/``extraMetadata`` beside the nodes)."""
    if all(isinstance(v, dict) and "class_type" in v for v in obj.values()):
        return obj
    return {k: v for k, v in obj.items() if isinstance(v, dict) and "class_type" in v}


class _Found:
    """Interpretation of one set of carrier texts."""

    __slots__ = ("prompt", "workflow", "parameters", "generator", "params", "prompt_err", "workflow_err",
                 "warnings", "extra_params")

    def __init__(self):
        self.prompt = None
        self.workflow = None
        self.parameters = None
        self.generator = None
        self.params = None          # tool-specific params (NovelAI, Fooocus...), parsed eagerly
        self.extra_params = None    # secondary params (e.g. Civitai extraMetadata)
        self.prompt_err = False
        self.workflow_err = False
        self.warnings = []


def _json_field(raw, what: str, found: _Found):
    """Decode a JSON carrier: dict, or None (with a warning) when it is not JSON."""
    if isinstance(raw, dict):
        return raw
    if not isinstance(raw, str):
        return None
    obj = loads_json(raw)
    if obj is None:
        found.warnings.append(f"embedded {what} is not valid JSON")
        return None
    if isinstance(obj, str):  # double-encoded
        obj = loads_json(obj)
    return obj if isinstance(obj, dict) else None


def _take_container(obj: dict, found: _Found) -> bool:
    """``{"prompt": ..., "workflow": ...}`` (VHS comment, SaveImagePlus UserComment...)."""
    hit = False
    if "prompt" in obj and found.prompt is None:
        p = _json_field(obj["prompt"], "prompt", found)
        if is_api_graph(p):
            found.prompt = _api_only(p)
            hit = True
        elif obj["prompt"] is not None:
            found.prompt_err = found.prompt_err or p is None
    if "workflow" in obj and found.workflow is None:
        w = _json_field(obj["workflow"], "workflow", found)
        if isinstance(w, dict):
            found.workflow = w
            hit = True
    return hit


def _interpret_json_blob(obj: dict, raw: str, found: _Found) -> bool:
    """A JSON object in a generic carrier (UserComment, Comment, parameters)."""
    if is_api_graph(obj):
        if found.prompt is None:
            found.prompt = _api_only(obj)
        if isinstance(obj.get("extraMetadata"), (str, dict)):
            found.extra_params = generators.parse_civitai_extra(obj["extraMetadata"])
        return True
    if is_ui_workflow(obj):
        if found.workflow is None:
            found.workflow = obj
        return True
    if "prompt" in obj and ("workflow" in obj or is_api_graph(obj.get("prompt"))
                            or isinstance(obj.get("prompt"), str) and obj["prompt"].lstrip().startswith("{")):
        return _take_container(obj, found)
    if isinstance(obj.get("sui_image_params"), dict):
        found.generator = found.generator or "swarmui"
        found.params = found.params or generators.parse_swarmui(obj)
        found.parameters = found.parameters or raw
        return True
    if isinstance(obj.get("Comment"), (str, dict)) and ("Software" in obj or "Source" in obj or "Title" in obj):
        found.generator = found.generator or "novelai"
        found.params = found.params or generators.parse_novelai(obj["Comment"], obj.get("Source"))
        found.parameters = found.parameters or (obj["Comment"] if isinstance(obj["Comment"], str) else raw)
        return True
    if "uc" in obj and "prompt" in obj:  # NovelAI Comment on its own
        found.generator = found.generator or "novelai"
        found.params = found.params or generators.parse_novelai(obj)
        found.parameters = found.parameters or raw
        return True
    if any(k in obj for k in ("Prompt", "prompt", "full_prompt")):
        found.generator = found.generator or "fooocus"
        found.params = found.params or generators.parse_fooocus(obj)
        found.parameters = found.parameters or raw
        return True
    return False


def _interpret_text(raw: str, found: _Found) -> None:
    """A generic text carrier: JSON blob, A1111 text, or nothing useful."""
    s = raw.lstrip()
    if s.startswith("{"):
        obj = loads_json(s)
        if isinstance(obj, dict) and _interpret_json_blob(obj, raw, found):
            return
    if found.parameters is None and looks_like_a1111(raw):
        found.parameters = raw
        found.generator = found.generator or "a1111"


def interpret_texts(texts: dict) -> _Found:
    """Work out prompt/workflow/parameters/generator from a carrier dict."""
    found = _Found()
    if not texts:
        return found
    get = texts.get
    # ComfyUI: prompt / workflow (any case, as video tags vary)
    raw_prompt = get("prompt")
    raw_workflow = get("workflow")
    if raw_prompt is None or raw_workflow is None:
        for k, v in texts.items():
            kl = k.lower()
            if kl == "prompt" and raw_prompt is None:
                raw_prompt = v
            elif kl == "workflow" and raw_workflow is None:
                raw_workflow = v
    if raw_prompt is not None:
        s = raw_prompt.lstrip()
        if s.startswith("{") or s.startswith('"'):
            obj = loads_json(s)
            if isinstance(obj, str):
                obj = loads_json(obj)
            if is_api_graph(obj):
                found.prompt = obj
            elif is_ui_workflow(obj):  # a UI workflow saved under the wrong key
                found.workflow = obj
            elif obj is None:
                found.prompt_err = True
                found.warnings.append("embedded prompt is not valid JSON")
        elif s:
            _interpret_text(raw_prompt, found)  # some savers put plain prompt text under "prompt"
            if found.parameters is None:
                found.parameters = raw_prompt
    if raw_workflow is not None and found.workflow is None:
        obj = loads_json(raw_workflow)
        if isinstance(obj, str):
            obj = loads_json(obj)
        if isinstance(obj, dict):
            found.workflow = obj
        else:
            found.workflow_err = True
            found.warnings.append("embedded workflow is not valid JSON")
    # NovelAI PNG: Comment JSON + Description / Software
    if found.params is None and "Comment" in texts and (
            "NovelAI" in (get("Software") or "") or "NovelAI" in (get("Source") or "") or "Description" in texts):
        obj = loads_json(texts["Comment"])
        if isinstance(obj, dict):
            found.generator = "novelai"
            found.params = generators.parse_novelai(obj, get("Source"))
            found.parameters = found.parameters or texts["Comment"]
    # VideoHelperSuite's old single comment tag, and other containers
    for key in ("comment", "Comment", "UserComment", "XPComment", "description", "Description",
                "ImageDescription"):
        v = get(key)
        if v is None or (found.prompt is not None and found.workflow is not None):
            continue
        s = v.lstrip()
        if s.startswith("{"):
            obj = loads_json(s)
            if isinstance(obj, dict):
                _interpret_json_blob(obj, v, found)
    # A1111 / Forge / Fooocus / SwarmUI: 'parameters'
    par = get("parameters")
    if par is not None:
        s = par.lstrip()
        obj = loads_json(s) if s.startswith("{") else None
        if isinstance(obj, dict):
            if "fooocus_scheme" in texts and found.generator is None:
                found.generator = "fooocus"
            _interpret_json_blob(obj, par, found)
            found.parameters = found.parameters or par
        else:
            found.parameters = par
            if found.generator is None and looks_like_a1111(par):
                found.generator = "a1111"
    # InvokeAI
    if found.params is None:
        if "invokeai_metadata" in texts:
            found.generator = "invokeai"
            found.params = generators.parse_invokeai_metadata(texts["invokeai_metadata"])
            found.parameters = found.parameters or texts["invokeai_metadata"]
        elif "sd-metadata" in texts or "Dream" in texts:
            found.generator = "invokeai"
            found.params = generators.parse_invokeai_legacy(get("sd-metadata"), get("Dream"))
            found.parameters = found.parameters or get("sd-metadata") or get("Dream")
    # remaining generic carriers: A1111 text in EXIF UserComment, GIF/JPEG comments, XMP
    if found.parameters is None and found.prompt is None:
        for key in ("UserComment", "Comment", "comment", "XPComment", "Description", "description",
                    "ImageDescription"):
            v = get(key)
            if v:
                _interpret_text(v, found)
                if found.parameters is not None or found.prompt is not None:
                    break
    xmp = get("XMP") or get("XML:com.adobe.xmp")
    if xmp and (found.prompt is None or found.workflow is None) and ("rompt" in xmp or "orkflow" in xmp):
        x = parse_xmp(xmp)
        if x is not None and x.fields:
            _take_container(x.fields, found)
            if found.parameters is None and "parameters" in x.fields:
                found.parameters = x.fields["parameters"]
    if found.generator is None and (found.prompt is not None or found.workflow is not None):
        found.generator = "comfyui"
    elif found.prompt is not None and found.generator in ("a1111", None):
        found.generator = "comfyui"
    return found


def _params_from(found: _Found) -> GenerationParams | None:
    """Best params of one interpretation: graph first, then tool JSON, then A1111 text."""
    best = None
    if found.prompt is not None:
        best = parse_comfy_prompt(found.prompt)
    for extra in (found.params, found.extra_params):
        if extra is not None:
            if best is None:
                best = extra
            else:
                best.fill_missing(extra)
    if found.parameters is not None and found.params is None and looks_like_a1111(found.parameters):
        a = parse_a1111_parameters(found.parameters)
        if best is None:
            best = a
        else:
            best.fill_missing(a)
    return best


# ------------------------------------------------------------------ scanning
def _scan_file(p: str, info: MediaInfo, ffprobe, use_pyav: bool | None = None) -> ScanResult | None:
    ext_fmt = info.format
    try:
        raw = open(p, "rb", buffering=0)
    except OSError as e:
        info.error = f"cannot open file: {e.strerror or e}"
        return None
    with raw:
        size = os.fstat(raw.fileno()).st_size
        if size == 0:
            info.error = "file is empty (0 bytes)"
            return None
        head = raw.read(HEAD_BLOCK)
        while len(head) < min(size, HEAD_BLOCK):  # unbuffered reads may come back short
            more = raw.read(HEAD_BLOCK - len(head))
            if not more:
                break
            head += more
        real = sniff_format(head[:SNIFF_BYTES])
        if real is None:
            what = f"{ext_fmt} file" if ext_fmt else "supported media file"
            info.error = f"not a valid {what}: unrecognised content (first bytes {head[:8].hex(' ')})"
            return None
        if ext_fmt is not None and not same_family(real, ext_fmt):
            info.extension_mismatch = True
            info.warnings.append(f"content is {real}, not {ext_fmt} as the extension says")
            info.format = real
        elif ext_fmt is None:
            info.format = real
        info.kind = kind_of_format(real) or info.kind
        if real == "PNG":
            return scan_png(raw, size, head)
        scanner = SCANNERS.get(real)
        if scanner is not None:
            f = io.BufferedReader(raw)
            res = scanner(f, size)
            if res.error and res.width is None and real in ("AVIF", "TIFF", "BMP"):
                _pillow_size(p, res)
            return res
    res = ScanResult(format=info.format)
    probe_media(p, res, ffprobe=ffprobe, use_pyav=use_pyav)
    if info.kind == "video":
        res.animated = True
    return res


def _pillow_size(p: str, res: ScanResult) -> None:
    """Last resort for exotic AVIF/TIFF/BMP layouts: Pillow's lazy open reads headers only."""
    try:
        from PIL import Image
        with Image.open(p) as im:
            res.width, res.height = im.size
            res.frame_count = getattr(im, "n_frames", 1)
            res.animated = bool(getattr(im, "is_animated", False))
        res.warnings.append(f"size read by Pillow ({res.error})")
        res.error = None
    except Exception:  # Pillow missing, or it cannot read the file either
        pass


def _companion_png(p: str) -> str | None:
    base = os.path.splitext(p)[0]
    for ext in (".png", ".PNG"):
        if os.path.isfile(base + ext):
            return base + ext
    return None


# ------------------------------------------------------------------ main entry
def extract_metadata(path, *, ffprobe: str | None = None, read_sidecars: bool = True,
                     use_pyav: bool | None = None) -> MediaInfo:
    """Read one media file (see the module docstring).  Never raises for file problems.

    Videos and audio are read with PyAV when ``use_pyav`` is true, or None in a process that
    allowed it (``video.use_pyav_by_default``) and PyAV is installed; otherwise ``ffprobe``: path of ffprobe; None resolves it (PATH, then beside
    imageio-ffmpeg's ffmpeg); "" skips ffprobe and parses ``ffmpeg -i`` output.
    """
    p = os.fspath(path)
    ext_fmt = format_for_extension(p)
    info = MediaInfo(path=path, kind=media_kind(p) or "image", format=ext_fmt or "UNKNOWN")
    try:
        res = _scan_file(p, info, ffprobe, use_pyav)
        found = None
        if res is not None:
            info.width, info.height = res.width, res.height
            info.duration, info.fps, info.frame_count = res.duration, res.fps, res.frame_count
            info.has_audio = res.has_audio
            info.animated = bool(res.animated)
            info.warnings.extend(res.warnings)
            if res.error:
                info.error = res.error
            if "\0exif" in res.texts:  # PNG eXIf chunk: EXIF texts, decoded here (rare)
                _merge_png_exif(res)
            found = interpret_texts(res.texts)
            info.warnings.extend(found.warnings)
        if info.kind == "video":
            comp = _companion_png(p)
            if comp is not None:
                info.companion_png = os.path.basename(comp)
                if found is None or (found.prompt is None and found.workflow is None):
                    cfound = _companion_found(comp)
                    if cfound is not None and (cfound.prompt is not None or cfound.workflow is not None):
                        found = cfound
                        info.warnings.append(f"prompt/workflow read from the companion PNG {info.companion_png}")
        _finish(info, found, read_sidecars_=read_sidecars)
    except Exception as e:  # a bug must not stop a library scan
        log.exception("metadata extraction failed for %s", p)
        info.error = info.error or f"internal error while reading metadata: {type(e).__name__}: {e}"
    return info


def _merge_png_exif(res: ScanResult) -> None:
    from . import exif as _exif
    raw = res.texts.pop("\0exif").encode("latin-1")
    if raw.startswith(b"Exif\0\0"):
        raw = raw[6:]
    ex = _exif.parse_tiff(raw)
    if ex is not None:
        for k, v in _exif.exif_texts(ex).items():
            res.add_text(k, v)


def _companion_found(png_path: str) -> _Found | None:
    try:
        with open(png_path, "rb") as f:
            res = scan_png(f, os.fstat(f.fileno()).st_size)
    except OSError:
        return None
    return interpret_texts(res.texts)


def _finish(info: MediaInfo, found: _Found | None, *, read_sidecars_: bool) -> None:
    src = info.sources
    e_params = None
    if found is not None:
        if found.prompt is not None:
            info.prompt, src["prompt"] = found.prompt, EMBEDDED
        elif found.prompt_err:
            src["prompt"] = ERROR
        if found.workflow is not None:
            info.workflow, src["workflow"] = found.workflow, EMBEDDED
        elif found.workflow_err:
            src["workflow"] = ERROR
        if found.parameters is not None:
            info.parameters, src["parameters"] = found.parameters, EMBEDDED
        info.generator = found.generator
        e_params = _params_from(found)
    chain = []  # params in priority order
    if read_sidecars_:
        sc = read_sidecars(os.fspath(info.path))
        info.warnings.extend(sc.warnings)
        info.tags, info.rating = sc.tags, sc.rating
        s_found = _Found()
        if sc.txt is not None:
            obj = sc.txt_json
            if isinstance(obj, dict) and is_api_graph(obj):
                info.prompt, src["prompt"] = _api_only(obj), SIDECAR_TXT
                chain.append(parse_comfy_prompt(info.prompt))
            elif isinstance(obj, dict) and ("prompt" in obj or "workflow" in obj) and _take_container(obj, s_found):
                if s_found.prompt is not None:
                    info.prompt, src["prompt"] = s_found.prompt, SIDECAR_TXT
                    chain.append(parse_comfy_prompt(info.prompt))
                if s_found.workflow is not None:
                    info.workflow, src["workflow"] = s_found.workflow, SIDECAR_TXT
            else:
                info.parameters, src["parameters"] = sc.txt, SIDECAR_TXT
                chain.append(parse_a1111_parameters(sc.txt))
        if sc.json is not None:
            obj = sc.json
            if is_api_graph(obj):
                info.prompt, src["prompt"] = _api_only(obj), SIDECAR_JSON
                chain.insert(0, parse_comfy_prompt(info.prompt))
            elif is_ui_workflow(obj):
                info.workflow, src["workflow"] = obj, SIDECAR_JSON
            else:
                s2 = _Found()
                if _take_container(obj, s2):
                    if s2.prompt is not None:
                        info.prompt, src["prompt"] = s2.prompt, SIDECAR_JSON
                        chain.insert(0, parse_comfy_prompt(info.prompt))
                    if s2.workflow is not None:
                        info.workflow, src["workflow"] = s2.workflow, SIDECAR_JSON
                else:
                    info.warnings.append("sidecar .json holds neither a workflow nor a prompt graph")
        elif sc.json_error and src["workflow"] == NONE:
            src["workflow"] = ERROR
    if e_params is not None:
        chain.append(e_params)
    params = None
    for cand in chain:
        if params is None:
            params = cand
        else:
            params.fill_missing(cand)
    if (params is None or params.positive is None) and info.workflow is not None and info.prompt is None:
        wp = parse_comfy_prompt(info.workflow)
        if params is None:
            params = wp
        else:
            params.fill_missing(wp)
    if params is not None:
        info.params = params
    if info.prompt is not None or info.workflow is not None:
        if info.generator in (None, "a1111"):
            info.generator = "comfyui"
    elif info.generator is None and info.parameters is not None and looks_like_a1111(info.parameters):
        info.generator = "a1111"
