"""Human-readable strings of a workflow/prompt, for full-text search.

Collects widget text values, node titles, notes and group titles from the UI
workflow (including subgraph definitions) and string inputs and titles from
the API prompt; drops numbers, seed-control words and data URLs; de-duplicates;
caps the result so one huge workflow cannot bloat the index.
"""
from __future__ import annotations

MAX_SEARCH_CHARS = 64 * 1024
_NOISE = frozenset(("randomize", "fixed", "increment", "decrement", "enable", "disable", "true", "false",
                    "none", "default", "image", "auto"))
_MAX_STRING = 16 * 1024


def _add(out: dict, s, budget: list) -> None:
    if not isinstance(s, str) or budget[0] <= 0:
        return
    t = s.strip()
    if not t or len(t) > _MAX_STRING and t.startswith("data:"):
        return
    if t.lower() in _NOISE or t.startswith("data:"):
        return
    if t.replace(".", "", 1).replace("-", "", 1).isdigit():
        return
    if t not in out:
        out[t] = None
        budget[0] -= len(t) + 1


def _walk_values(v, out: dict, budget: list, depth: int = 0) -> None:
    if depth > 6 or budget[0] <= 0:
        return
    if isinstance(v, str):
        _add(out, v, budget)
    elif isinstance(v, list):
        for x in v[:500]:
            _walk_values(x, out, budget, depth + 1)
    elif isinstance(v, dict):
        for x in list(v.values())[:500]:
            _walk_values(x, out, budget, depth + 1)


def _ui_nodes(nodes, out: dict, budget: list) -> None:
    if not isinstance(nodes, list):
        return
    for n in nodes:
        if not isinstance(n, dict):
            continue
        _add(out, n.get("title"), budget)
        _walk_values(n.get("widgets_values"), out, budget)


def workflow_search_text(workflow, prompt) -> str:
    """All human strings of a UI workflow and/or API prompt, newline-joined, at most ~64 K characters."""
    out: dict = {}
    budget = [MAX_SEARCH_CHARS * 2]
    if isinstance(workflow, dict):
        _ui_nodes(workflow.get("nodes"), out, budget)
        for g in workflow.get("groups") or []:
            if isinstance(g, dict):
                _add(out, g.get("title"), budget)
        defs = workflow.get("definitions")
        if isinstance(defs, dict):
            for sg in defs.get("subgraphs") or []:
                if isinstance(sg, dict):
                    _add(out, sg.get("name"), budget)
                    _ui_nodes(sg.get("nodes"), out, budget)
    if isinstance(prompt, dict):
        for node in prompt.values():
            if not isinstance(node, dict):
                continue
            meta = node.get("_meta")
            if isinstance(meta, dict):
                _add(out, meta.get("title"), budget)
            inputs = node.get("inputs")
            if isinstance(inputs, dict):
                for v in inputs.values():
                    if isinstance(v, str):
                        _add(out, v, budget)
    text = "\n".join(out)
    if len(text) > MAX_SEARCH_CHARS:
        text = text[:MAX_SEARCH_CHARS]
        cut = text.rfind("\n")
        if cut > MAX_SEARCH_CHARS // 2:
            text = text[:cut]
    return text
