"""Runs the front-end unit tests (``tests/js/*.test.mjs``, Node's built-in test runner) so
CI checks the pure JS logic: panel geometry, the tool registry, error envelopes, settings
errors, restart polling and the cross-tab bridge. Node missing: fails on CI, skips elsewhere."""
from __future__ import annotations

import os
import re
import shutil
import subprocess

import pytest

from conftest import ROOT

JS_TESTS = sorted((ROOT / "tests" / "js").glob("*.test.mjs"))


def _node() -> str:
    node = shutil.which("node")
    if node:
        return node
    message = "Node.js is missing (scripts/install_system_deps.sh installs it)"
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(message)
    pytest.skip(message)


@pytest.mark.parametrize("test_file", JS_TESTS, ids=[p.name for p in JS_TESTS])
def test_the_front_end_unit_tests_pass_under_node(test_file):
    result = subprocess.run(
        [_node(), "--test", str(test_file)], cwd=ROOT, capture_output=True, text=True, timeout=120,
    )
    summary = "\n".join(line for line in result.stdout.splitlines() if line.startswith(("# pass", "# fail", "not ok")))
    assert result.returncode == 0, f"{test_file.name} failed:\n{result.stdout[-6000:]}\n{result.stderr[-2000:]}"
    assert "# pass" in result.stdout and "# fail 0" in result.stdout, summary


def test_there_are_front_end_unit_tests_to_run():
    assert len(JS_TESTS) >= 3


def test_every_js_module_except_the_comfyui_entry_is_free_of_side_effects_at_import():
    """ComfyUI imports every *.js under js/ as an entry point: only holaf_main.js may act."""
    offenders = []
    for path in sorted((ROOT / "js").rglob("*.js")):
        rel = path.relative_to(ROOT / "js").as_posix()
        if rel.startswith("vendor/"):
            continue
        text = path.read_text(encoding="utf-8")
        if rel == "holaf_main.js":
            assert "registerExtension" in text
            continue
        code = re.sub(r"/\*.*?\*/|//[^\n]*", "", text, flags=re.S)  # comments may mention them
        for pattern in (r"\.registerExtension\(", r"""import\b[^;]*?["'][^"']*scripts/(app|api)\.js["']"""):
            if re.search(pattern, code):
                offenders.append(f"{rel}: {pattern}")
    assert not offenders, offenders
