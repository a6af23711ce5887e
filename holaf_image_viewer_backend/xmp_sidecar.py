"""Tags and ratings mirrored to ``<base>.xmp`` sidecars (``dc:subject``, ``xmp:Rating``).

Uses python-xmp-toolkit, which needs the native exempi library. When either is
missing the index still stores tags and ratings; :func:`availability` says why
the sidecars are not written so the API and the log can tell the user.
"""
from __future__ import annotations

import logging
import os
from pathlib import Path

from ..holaf_utils import atomic_write_text

log = logging.getLogger("holaf.images.xmp")

_STATE: dict = {}


def availability() -> tuple[bool, str | None]:
    """(usable, reason when not), computed once."""
    if "ok" not in _STATE:
        try:
            from libxmp import XMPMeta  # noqa: F401
            from libxmp import consts  # noqa: F401

            XMPMeta()
            _STATE["ok"], _STATE["reason"] = True, None
        except Exception as exc:  # ImportError, or exempi missing (libxmp raises at import)
            _STATE["ok"] = False
            _STATE["reason"] = (f"python-xmp-toolkit is not usable ({type(exc).__name__}: {exc}); "
                                "install libexempi (apt install libexempi8, brew install exempi) to get .xmp sidecars")
            log.warning("Tags and ratings will not be written to .xmp sidecars: %s", _STATE["reason"])
    return _STATE["ok"], _STATE["reason"]


def sidecar_path(media: Path) -> Path:
    return media.with_name(os.path.splitext(media.name)[0] + ".xmp")


def write(media: Path, *, tags: list[str] | None = None, rating: int | None = None) -> Path:
    """Update (or create) the sidecar of ``media``, keeping every other property it holds."""
    from libxmp import XMPMeta, consts

    target = sidecar_path(media)
    meta = XMPMeta()
    if target.exists():
        text = target.read_text(encoding="utf-8", errors="replace")
        if text.strip():
            meta.parse_from_str(text, xmpmeta_wrap=False)
    if tags is not None:
        if meta.does_property_exist(consts.XMP_NS_DC, "subject"):
            meta.delete_property(consts.XMP_NS_DC, "subject")
        for tag in tags:
            meta.append_array_item(consts.XMP_NS_DC, "subject", tag,
                                   {"prop_array_is_unordered": True, "prop_value_is_array": True})
    if rating is not None:
        meta.set_property_int(consts.XMP_NS_XMP, "Rating", int(rating))
    atomic_write_text(target, meta.serialize_to_str(omit_packet_wrapper=True))
    return target
