"""Media metadata extraction for the Image Viewer index.

Public interface (a contract with the index/scanner code)::

    SUPPORTED_EXTENSIONS, media_kind, extract_metadata, resolve_ffprobe,
    parse_comfy_prompt, parse_a1111_parameters, workflow_search_text,
    MediaInfo, GenerationParams
"""
from .a1111 import parse_a1111_parameters
from .comfy_graph import parse_comfy_prompt
from .extract import MediaInfo, extract_metadata
from .media_types import SUPPORTED_EXTENSIONS, media_kind
from .params import GenerationParams
from .search_text import workflow_search_text
from .video import resolve_ffprobe

__all__ = [
    "SUPPORTED_EXTENSIONS", "media_kind", "extract_metadata", "resolve_ffprobe", "parse_comfy_prompt",
    "parse_a1111_parameters", "workflow_search_text", "MediaInfo", "GenerationParams",
]
