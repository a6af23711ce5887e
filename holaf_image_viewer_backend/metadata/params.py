"""The generation parameters every parser produces, whatever the tool."""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class GenerationParams:
    """What was generated and how: the fields a gallery shows and searches.

    ``samplers`` lists every sampling pass found (ComfyUI graphs can have
    several: base + refiner, hires fix, detailers), each a dict with its own
    ``seed``/``steps``/``cfg``/``sampler``/``scheduler``/``denoise``/
    ``positive``/``negative``/``model``..., in execution order.  The top-level
    fields describe the first pass, the one that made the composition.
    For Flux-style graphs (no real CFG, a ``FluxGuidance`` value instead)
    ``cfg`` holds the guidance; each sampler dict keeps both ``cfg`` and
    ``guidance``.
    """

    positive: str | None = None
    negative: str | None = None
    model: str | None = None
    loras: list = field(default_factory=list)   # [{"name", "strength_model", "strength_clip"}]
    seed: int | None = None
    steps: int | None = None
    cfg: float | None = None
    sampler: str | None = None
    scheduler: str | None = None
    denoise: float | None = None
    width: int | None = None
    height: int | None = None
    samplers: list = field(default_factory=list)

    def to_dict(self) -> dict:
        return {
            "positive": self.positive, "negative": self.negative, "model": self.model,
            "loras": [dict(x) for x in self.loras], "seed": self.seed, "steps": self.steps, "cfg": self.cfg,
            "sampler": self.sampler, "scheduler": self.scheduler, "denoise": self.denoise,
            "width": self.width, "height": self.height, "samplers": [dict(s) for s in self.samplers],
        }

    def is_empty(self) -> bool:
        return (self.positive is None and self.negative is None and self.model is None and self.seed is None
                and self.steps is None and not self.loras and not self.samplers)

    def fill_missing(self, other: "GenerationParams") -> None:
        """Take ``other``'s value for every field that is still unset here."""
        for name in ("positive", "negative", "model", "seed", "steps", "cfg", "sampler", "scheduler", "denoise",
                     "width", "height"):
            if getattr(self, name) is None and getattr(other, name) is not None:
                setattr(self, name, getattr(other, name))
        if not self.loras and other.loras:
            self.loras = list(other.loras)
        if not self.samplers and other.samplers:
            self.samplers = list(other.samplers)


def as_int(v) -> int | None:
    if isinstance(v, bool):
        return None
    if isinstance(v, int):
        return v
    if isinstance(v, float) and v == v and abs(v) < 2 ** 63:
        return int(v) if v.is_integer() else None
    if isinstance(v, str):
        s = v.strip()
        if s.lstrip("-").isdigit():
            return int(s)
        try:
            f = float(s)
        except ValueError:
            return None
        return int(f) if f.is_integer() else None
    return None


def as_float(v) -> float | None:
    if isinstance(v, bool):
        return None
    if isinstance(v, (int, float)):
        f = float(v)
        return f if f == f else None
    if isinstance(v, str):
        try:
            f = float(v.strip())
        except ValueError:
            return None
        return f if f == f else None
    return None


def as_str(v) -> str | None:
    if isinstance(v, str):
        return v
    if isinstance(v, dict) and isinstance(v.get("content"), str):  # e.g. pysssss image-preview loaders
        return v["content"]
    return None
