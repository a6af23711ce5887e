"""XMP reading with the standard-library XML parser (no exempi needed).

Gives the keywords (``dc:subject``), the star rating (``xmp:Rating``, as an
attribute or an element) and any ``prompt``/``workflow`` property in any
namespace (how ComfyUI stores them in AVIF).  Documents that declare
entities are refused, so a crafted sidecar cannot expand in memory.
"""
from __future__ import annotations

import logging
import re
import xml.etree.ElementTree as ET

log = logging.getLogger("holaf.metadata")

_RDF = "{http://www.w3.org/1999/02/22-rdf-syntax-ns#}"
_DC_SUBJECT = "{http://purl.org/dc/elements/1.1/}subject"
_XMP_NS = "{http://ns.adobe.com/xap/1.0/}"
_RATING_ATTRS = (_XMP_NS + "Rating",)
_DOCTYPE = re.compile(r"<!DOCTYPE|<!ENTITY", re.I)
_GENERATION_KEYS = ("prompt", "workflow", "parameters")


class XmpData:
    __slots__ = ("tags", "rating", "fields")

    def __init__(self):
        self.tags: list = []
        self.rating: int | None = None
        self.fields: dict = {}


def _local(name: str) -> str:
    return name.rsplit("}", 1)[-1]


def _clean_rating(v) -> int | None:
    try:
        r = int(round(float(str(v).strip())))
    except (TypeError, ValueError):
        return None
    if r < -1:
        return None
    return min(r, 5)


def parse_xmp(text: str) -> XmpData | None:
    """Parse an XMP packet or sidecar; None when it is not well-formed XML."""
    if not text or _DOCTYPE.search(text):
        return None
    start = text.find("<")
    if start < 0:
        return None
    text = text[start:]
    # drop the xpacket processing instructions' trailing padding issues
    try:
        root = ET.fromstring(text)
    except ET.ParseError:
        # packets embedded in files may carry junk after the closing tag
        end = text.rfind("</x:xmpmeta>")
        if end < 0:
            return None
        try:
            root = ET.fromstring(text[:end + len("</x:xmpmeta>")])
        except ET.ParseError:
            return None
    out = XmpData()
    seen = set()
    for el in root.iter():
        tag = el.tag if isinstance(el.tag, str) else ""
        if tag == _DC_SUBJECT:
            for li in el.iter(_RDF + "li"):
                t = (li.text or "").strip()
                if t and t.lower() not in seen:
                    seen.add(t.lower())
                    out.tags.append(t)
        elif tag == _XMP_NS + "Rating" and out.rating is None:
            out.rating = _clean_rating(el.text)
        else:
            ln = _local(tag).lower()
            if ln in _GENERATION_KEYS and ln not in out.fields:
                val = "".join(el.itertext()).strip()
                if val:
                    out.fields[ln] = val
        for k, v in el.attrib.items():
            if k in _RATING_ATTRS and out.rating is None:
                out.rating = _clean_rating(v)
            else:
                ln = _local(k).lower()
                if ln in _GENERATION_KEYS and ln not in out.fields and v.strip():
                    out.fields[ln] = v.strip()
    return out
