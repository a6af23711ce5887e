"""Rewrites ``tests/js/edit_vectors.json`` from the Python reference (run after changing the edit math).

    /work/venv/bin/python tests/make_edit_vectors.py
"""
import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from test_edit_math import CASES, SAMPLE_PIXELS, ref_pixel  # noqa: E402  (after the path set-up)

cases = []
for name, controls in CASES.items():
    cases.append({"name": name, "controls": [{"type": k, "value": v, "range": r} for k, v, r in controls],
                  "expected": [list(ref_pixel(p, controls)) for p in SAMPLE_PIXELS]})
out = {"about": "Generated from the per-pixel CSS Filter Effects reference in tests/test_edit_math.py; "
                "test_the_shared_vectors_for_the_javascript_preview_match_this_reference checks it stays in step.",
       "pixels": [list(p) for p in SAMPLE_PIXELS], "cases": cases}
text = json.dumps(out, separators=(",", ":")).replace("{\"name\"", "\n{\"name\"")
(HERE / "js" / "edit_vectors.json").open("w", encoding="utf-8").write(text + "\n")
