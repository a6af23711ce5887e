"""The generation metadata an export carries over, read with the metadata library.

Export never parses containers itself: it asks the same reader the index uses
(:func:`metadata.extract_metadata`, embedded data and ``.txt``/``.json`` sidecars,
sidecars winning) and writes the prompt and workflow back as JSON text. The
ComfyUI graphs are serialised with ``json.dumps`` defaults, as ComfyUI itself
writes them; the A1111 ``parameters`` text is kept verbatim.
"""
from __future__ import annotations

import json
import logging
from pathlib import Path

from .image_export import GenerationMetadata
from .metadata import extract_metadata

log = logging.getLogger("holaf.export")


def read_generation_metadata(path: Path) -> GenerationMetadata | None:
    info = extract_metadata(path)
    if info.error:
        log.debug("metadata of %s read with a problem: %s", path, info.error)
    meta = GenerationMetadata(
        prompt=json.dumps(info.prompt) if info.prompt is not None else None,
        workflow=json.dumps(info.workflow) if info.workflow is not None else None,
        parameters=info.parameters or None,
    )
    return None if meta.empty else meta
