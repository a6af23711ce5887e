"""JSON decoding that accepts ComfyUI's output and never raises.

ComfyUI serialises with Python's ``json.dumps``, so ``NaN``/``Infinity`` can
appear; Python's decoder accepts them.  When the optional ``orjson`` package
is installed it decodes the common case about twice as fast; anything it
rejects (NaN, integers beyond 64 bits, lone surrogates) falls back to the
standard library.
"""
from __future__ import annotations

import json

try:  # optional speed-up
    import orjson as _orjson
except ImportError:  # pragma: no cover - depends on the environment
    _orjson = None


def loads_stdlib(text):
    """``json.loads`` returning None instead of raising."""
    try:
        return json.loads(text)
    except (ValueError, TypeError, RecursionError):
        return None


if _orjson is not None:
    _fast = _orjson.loads
    _fast_error = _orjson.JSONDecodeError

    def loads_json(text):
        """Decode JSON text; None when it is not valid JSON."""
        try:
            return _fast(text)
        except (_fast_error, TypeError):
            return loads_stdlib(text)
else:  # pragma: no cover - depends on the environment
    loads_json = loads_stdlib
