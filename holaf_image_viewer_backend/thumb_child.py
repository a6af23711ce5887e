"""Helper process for the thumbnail worker: JSON lines in, JSON lines out.

Started by ``worker.ChildRunner`` with the host's own Python (``sys.executable``)
and this file's path, so it never re-imports ComfyUI's ``main.py`` the way
``multiprocessing`` would. It loads ``thumbnails.py`` from beside it by file path
and answers one request at a time. Running decoders here keeps a crash, a
pathological file or a large allocation away from the ComfyUI process, and lets
decoders that hold the GIL (libspng) use every core.

Request: ``{"id", "src", "dst", "size", "max_pixels", "fmt", "quality", "ffmpeg",
"duration", "timeout"}``. Reply: ``{"id", "ok": true, "result": {...}}`` or
``{"id", "ok": false, "code", "error", "permanent"}``.
"""
from __future__ import annotations

import importlib.util
import json
import os
import sys
import warnings


def _load_thumbnails():
    here = os.path.dirname(os.path.abspath(__file__))
    spec = importlib.util.spec_from_file_location("holaf_thumbnails_child", os.path.join(here, "thumbnails.py"))
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def _lower_priority() -> None:
    """Thumbnails must never compete with ComfyUI's own work for the CPU."""
    try:
        if hasattr(os, "nice"):
            os.nice(5)
        else:  # Windows
            import psutil

            psutil.Process().nice(psutil.BELOW_NORMAL_PRIORITY_CLASS)
    except Exception:
        pass


def handle(thumbs, request: dict) -> dict:
    try:
        result = thumbs.generate_thumbnail(
            request["src"], request["dst"], int(request["size"]),
            max_pixels=int(request.get("max_pixels") or thumbs.DEFAULT_MAX_PIXELS),
            fmt=request.get("fmt") or "webp",
            quality=int(request.get("quality") or thumbs.DEFAULT_QUALITY),
            ffmpeg=request.get("ffmpeg"),
            duration=request.get("duration"),
            timeout=float(request.get("timeout") or thumbs.DEFAULT_VIDEO_TIMEOUT_S),
        )
        return {"id": request.get("id"), "ok": True, "result": {**result.to_dict(), "pid": os.getpid()}}
    except thumbs.ThumbnailError as exc:
        return {"id": request.get("id"), "ok": False, "code": exc.code, "error": exc.message, "permanent": True}
    except MemoryError:
        return {"id": request.get("id"), "ok": False, "code": "too_large", "error": "out of memory while decoding", "permanent": True}
    except Exception as exc:  # e.g. the cache folder is not writable: not the file's fault
        return {"id": request.get("id"), "ok": False, "code": "error", "error": f"{type(exc).__name__}: {exc}", "permanent": False}


def main() -> int:
    warnings.simplefilter("ignore")
    _lower_priority()
    thumbs = _load_thumbnails()
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    stdout.write(b'{"ready": true}\n')
    stdout.flush()
    for line in stdin:
        if not line.strip():
            continue
        try:
            request = json.loads(line)
        except ValueError:
            continue
        if request.get("quit"):
            break
        stdout.write(json.dumps(handle(thumbs, request)).encode("utf-8") + b"\n")
        stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
