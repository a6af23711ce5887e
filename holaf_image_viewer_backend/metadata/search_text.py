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


_NOISE_MAX = max(map(len, _NOISE))
_NUMBER_CHARS = frozenset("0123456789.-")


def _add(out: dict, s, budget: list) -> None:
    if budget[0] <= 0 or s.__class__ is not str:
        return
    t = s.strip()
    if not t or t in out:
        return
    if len(t) <= _NOISE_MAX and t.lower() in _NOISE or t.startswith("data:"):
        return
    if t[0] in _NUMBER_CHARS and t.replace(".", "", 1).replace("-", "", 1).isdigit():
        return
    out[t] = None
    budget[0] -= len(t) + 1


def _walk_values(v, out: dict, budget: list, depth: int = 0) -> None:
    if depth > 6 or budget[0] <= 0:
        return
    cls = v.__class__
    if cls is str:
        _add(out, v, budget)
        return
    if cls is list:
        children = v[:500] if len(v) > 500 else v
    elif cls is dict:
        children = list(v.values())[:500] if len(v) > 500 else v.values()
    else:
        return
    if depth >= 6:
        return  # children would be deeper than the limit
    for x in children:  # strings inline: most widget values are strings, one call less each
        if x.__class__ is str:
            _add(out, x, budget)
        elif x.__class__ is list or x.__class__ is dict:
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
