"""The generation metadata an export carries over, read with the metadata library.

Export never parses containers itself: it asks the same reader the index uses
(``metadata.extract_metadata``) and keeps the texts as they were stored.
"""
from __future__ import annotations

import logging
from pathlib import Path

from .image_export import GenerationMetadata

log = logging.getLogger("holaf.export")


def read_generation_metadata(path: Path) -> GenerationMetadata | None:
    try:
        from .metadata import extract_metadata  # the metadata library (feat/metadata)
    except ImportError:
        log.warning("the metadata library is not available; exporting %s without its prompt/workflow", path.name)
        return None
    raise NotImplementedError("wire extract_metadata")  # replaced when the library lands
