"""What a container walker found, before any interpretation of the texts."""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class ScanResult:
    """Raw findings of one container walk.

    ``texts`` maps carrier keys to decoded strings: PNG text-chunk keywords as
    written (``prompt``, ``workflow``, ``parameters``, ``Comment``...), EXIF
    ``key:{json}`` entries under their key, and a few EXIF/JPEG/GIF carriers
    under fixed names (``UserComment``, ``ImageDescription``, ``Comment``,
    ``XMP``).  The first occurrence of a key wins.
    """

    format: str | None = None
    width: int | None = None
    height: int | None = None
    animated: bool = False
    frame_count: int | None = None
    duration: float | None = None
    fps: float | None = None
    has_audio: bool | None = None
    texts: dict = field(default_factory=dict)
    warnings: list = field(default_factory=list)
    error: str | None = None

    def add_text(self, key: str, value: str) -> None:
        if key not in self.texts:
            self.texts[key] = value
