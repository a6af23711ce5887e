"""Ground truth from the shared corpus generator (``shared/corpus/make_corpus.py``).

Two levels:

* graph level: thousands of generated graphs of every pipeline shape (basic,
  LoRA chains, hires fix, SDXL refiner, Flux SamplerCustomAdvanced, custom
  text node through a link, AnimateDiff/VHS, SaveVideo, animated WEBP) are
  parsed from their API form *and* from their UI form, and must match the
  generator's facts exactly;
* file level: a small generated output tree (images, corrupt files, sidecars,
  videos) is read with ``extract_metadata`` and every manifest entry checked.

Skipped cleanly when the ``shared`` folder is not beside the repository
(users' clones). The generated tree is cached under ``test-artifacts/``
(git-ignored), keyed by the generator's content, so only the first run pays
for it.
"""
import hashlib
import importlib.util
import json
import os
import random
import shutil
import subprocess
import sys
from collections import Counter

import pytest

from metadata_fixtures import FFMPEG, ROOT, SHARED, metadata_api

MAKE_CORPUS = SHARED / "corpus" / "make_corpus.py"
pytestmark = pytest.mark.skipif(not MAKE_CORPUS.is_file(), reason="shared/corpus is not available")
M = metadata_api()
CORPUS_ARGS = ["--images", "80", "--videos", "5", "--seed", "130", "--png-level", "1"]
SKIP_KINDS = {"junk", "text", "latent", "workflow_json", "duplicate"}


@pytest.fixture(scope="module")
def mc():
    spec = importlib.util.spec_from_file_location("holaf_test_make_corpus", MAKE_CORPUS)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def check_facts(params, facts) -> list:
    """Differences between parsed params and the generator's facts (empty when they match).

    The generator records ``cfg`` as the sampler's own CFG; for Flux graphs
    (BasicGuider) that is 1.0, kept in ``samplers[0]["cfg"]`` while the
    top-level ``cfg`` holds the FluxGuidance value by contract.
    """
    errs = []
    if "positive" in facts and params.positive != facts["positive"]:
        errs.append(f"positive {params.positive!r} != {facts['positive']!r}")
    if "negative" in facts and (params.negative or "") != facts["negative"]:
        errs.append(f"negative {params.negative!r} != {facts['negative']!r}")
    for key, attr in (("seed", "seed"), ("steps", "steps"), ("sampler_name", "sampler"), ("scheduler", "scheduler"),
                      ("ckpt_name", "model")):
        if key in facts and getattr(params, attr) != facts[key]:
            errs.append(f"{attr} {getattr(params, attr)!r} != {facts[key]!r}")
    if "cfg" in facts:
        cfg = params.samplers[0].get("cfg") if params.samplers else None
        if cfg is None or float(cfg) != float(facts["cfg"]):
            errs.append(f"cfg {cfg!r} != {facts['cfg']!r}")
        if facts.get("pipeline") != "flux" and params.cfg != float(facts["cfg"]):
            errs.append(f"top-level cfg {params.cfg!r} != {facts['cfg']!r}")
    if "loras" in facts and [x["name"] for x in params.loras] != facts["loras"]:
        errs.append(f"loras {params.loras!r} != {facts['loras']!r}")
    return errs


def _graphs(mc, n):
    r = random.Random(20240601)
    modes = [None, None, None, "vhs", "animatediff", "savevideo", "webp"]
    for i in range(n):
        w, h = mc.pick_size(r)
        g, facts = mc.build_comfy_graph(random.Random(r.getrandbits(64)), w, h, "ComfyUI", video=modes[i % len(modes)])
        yield g, facts


def test_the_api_graph_parser_matches_the_generator_on_every_pipeline_shape(mc):
    totals, bad = Counter(), []
    for g, facts in _graphs(mc, 1400):
        api = json.loads(json.dumps(g.api()))
        totals[facts["pipeline"]] += 1
        errs = check_facts(M.parse_comfy_prompt(api), facts)
        if errs:
            bad.append((facts["pipeline"], errs))
    assert set(totals) >= {"basic", "lora", "hires", "sdxl_refiner", "flux", "custom_text", "animatediff"}
    assert bad == [], f"{len(bad)} mismatches, e.g. {bad[:3]}"


def test_the_ui_workflow_alone_gives_the_same_facts(mc):
    bad = []
    for g, facts in _graphs(mc, 700):
        wf = json.loads(json.dumps(g.ui(modern=True)))
        errs = check_facts(M.parse_comfy_prompt(wf), facts)
        if errs:
            bad.append((facts["pipeline"], errs))
    assert bad == [], f"{len(bad)} mismatches, e.g. {bad[:3]}"


def test_a1111_parameters_text_matches_the_generator(mc):
    r = random.Random(7)
    for _ in range(500):
        w, h = mc.pick_size(r)
        text, facts = mc.a1111_parameters(r, w, h)
        p = M.parse_a1111_parameters(text)
        assert check_facts(p, {k: v for k, v in facts.items() if k != "cfg"}) == []
        assert p.cfg == float(facts["cfg"]) and (p.width, p.height) == (w, h)


@pytest.fixture(scope="module")
def corpus():
    key = hashlib.sha1(MAKE_CORPUS.read_bytes() + " ".join(CORPUS_ARGS).encode()).hexdigest()[:12]
    base = ROOT / "test-artifacts" / f"corpus-{key}"
    manifest = base.with_name(base.name + ".manifest.jsonl")
    if not manifest.is_file():
        tmp = base.with_name(base.name + ".tmp")
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run([sys.executable, str(MAKE_CORPUS), str(tmp), *CORPUS_ARGS, "--jobs", str(os.cpu_count() or 1),
                        "--manifest", str(tmp) + ".manifest.jsonl", "--force"],
                       check=True, stdout=subprocess.DEVNULL)
        shutil.rmtree(base, ignore_errors=True)
        os.replace(tmp, base)
        os.replace(str(tmp) + ".manifest.jsonl", manifest)
    return base, [json.loads(line) for line in manifest.read_text(encoding="utf-8").splitlines()]


def test_every_manifest_entry_of_a_generated_corpus_is_read_correctly(corpus):
    base, manifest = corpus
    totals, bad = Counter(), []
    for rec in manifest:
        kind = rec["kind"]
        if kind in SKIP_KINDS:
            continue
        if FFMPEG is None and kind.endswith(("mp4", "webm")):
            continue
        m = M.extract_metadata(base / rec["path"])
        totals[kind] += 1
        errs = check_facts(m.params, rec)
        if rec.get("width") is not None and (m.width, m.height) != (rec["width"], rec["height"]):
            errs.append(f"size {m.width}x{m.height} != {rec['width']}x{rec['height']}")
        if rec.get("corrupt"):
            if not (m.error or m.warnings):
                errs.append("corrupt file not flagged")
        elif m.error:
            errs.append(f"unexpected error {m.error!r}")
        if "sidecar" in rec:
            side = rec["sidecar"].rsplit(".", 1)[1]
            if "sidecar_" + side not in m.sources.values():
                errs.append(f"sidecar .{side} not recorded in {m.sources}")
        if kind in ("comfy_png", "comfy_webp", "anim_webp", "savevideo_mp4", "vhs_mp4", "vhs_webm"):
            if m.sources["prompt"] != "embedded" or m.sources["workflow"] != "embedded" or m.generator != "comfyui":
                errs.append(f"sources {m.sources} generator {m.generator}")
        if kind.startswith("a1111") and m.generator != "a1111":
            errs.append(f"generator {m.generator}")
        if kind in ("jpeg_as_png", "png_as_jpg") and not m.extension_mismatch:
            errs.append("extension mismatch not flagged")
        if kind == "vhs_mp4" and rec.get("meta") and (base / rec["path"]).with_suffix(".png").exists():
            if m.companion_png != os.path.basename(rec["path"]).rsplit(".", 1)[0] + ".png":
                errs.append("companion PNG not linked")
        if kind.endswith(("mp4", "webm")) and (m.fps != rec["fps"] or abs((m.duration or 0) - rec["duration"]) > 0.1):
            errs.append(f"fps/duration {m.fps}/{m.duration} != {rec['fps']}/{rec['duration']}")
        if errs:
            bad.append((rec["path"], kind, errs))
    assert totals["comfy_png"] > 20 and totals["a1111_jpg"] > 0
    assert bad == [], f"{len(bad)} mismatches, e.g. {bad[:3]}"
