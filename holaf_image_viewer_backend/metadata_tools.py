"""Extract, inject and strip generation metadata, file by file, never losing any of it.

* **extract**: embedded prompt → ``<base>.txt``, workflow → ``<base>.json``, then
  removed from the file. Sidecars are written first, so a failure in between
  leaves the data in both places, never in neither.
* **inject**: the reverse; the sidecars are deleted once the file holds them.
* **strip**: removes the embedded data without writing sidecars.

Without ``force`` an existing sidecar (extract) or existing embedded data
(inject) is a per-file *conflict* and the file is left alone. The image is
rewritten losslessly (:mod:`metadata_rewrite`), atomically (temp file + rename)
and keeps its original mtime so the gallery order does not move. Runs under the
file-operation lock so a file is never trashed while it is being rewritten.
"""
from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Callable

from ..holaf_security import UnsafePathError, resolve_user_path
from ..holaf_utils import atomic_write_bytes
from .metadata_rewrite import (Generation, MetadataError, detect_format, read_generation, with_generation,
                               without_generation)

log = logging.getLogger("holaf.metadata_tools")

MAX_FILE_BYTES = 512 * 1024 * 1024


class MetadataTools:
    def __init__(self, output_dir: Path, lock, *, on_rewritten: Callable[[list[str]], None] | None = None) -> None:
        self.root = Path(os.path.realpath(output_dir))
        self.lock = lock
        self.on_rewritten = on_rewritten

    # -- public -------------------------------------------------------------------
    def extract(self, rels: list, *, force: bool = False) -> list[dict]:
        return self._each(rels, lambda path, rel: self._extract_one(path, rel, force))

    def inject(self, rels: list, *, force: bool = False) -> list[dict]:
        return self._each(rels, lambda path, rel: self._inject_one(path, rel, force))

    def strip(self, rels: list, *, all_text: bool = False) -> list[dict]:
        return self._each(rels, lambda path, rel: self._strip_one(path, rel, all_text))

    # -- plumbing --------------------------------------------------------------------
    def _each(self, rels: list, action) -> list[dict]:
        results, rewritten = [], []
        with self.lock:
            seen = set()
            for rel in rels:
                result = {"path": rel if isinstance(rel, str) else repr(rel)}
                try:
                    path = resolve_user_path(self.root, rel)
                    clean = Path(os.path.relpath(path, self.root)).as_posix()
                    result["path"] = clean
                    if clean in seen:
                        raise MetadataError("duplicate", "listed twice in this request")
                    seen.add(clean)
                    if not path.is_file():
                        raise MetadataError("not_found", "file not found")
                    result.update(action(path, clean))
                    if result.get("changed"):
                        rewritten.append(clean)
                except UnsafePathError as exc:
                    result.update(ok=False, status="error", code="invalid_path", error=f"invalid path: {exc}")
                except MetadataError as exc:
                    status = "conflict" if exc.code == "conflict" else "error"
                    result.update(ok=False, status=status, code=exc.code, error=exc.message)
                    if isinstance(getattr(exc, "details", None), list):
                        result["details"] = exc.details
                except OSError as exc:
                    result.update(ok=False, status="error", code="io_error", error=f"{exc.strerror or exc}")
                results.append(result)
        if rewritten and self.on_rewritten is not None:
            try:
                self.on_rewritten(rewritten)
            except Exception:
                log.exception("refreshing rewritten files failed")
        return results

    @staticmethod
    def _read(path: Path) -> tuple[bytes, Generation]:
        if path.stat().st_size > MAX_FILE_BYTES:
            raise MetadataError("too_large", "file too large for the metadata tools")
        data = path.read_bytes()
        if detect_format(data) is None:
            raise MetadataError("unsupported_format", "metadata tools work on PNG, JPEG and WEBP files")
        return data, read_generation(data)

    @staticmethod
    def _sidecars(path: Path) -> tuple[Path, Path]:
        return path.with_name(path.stem + ".txt"), path.with_name(path.stem + ".json")

    @staticmethod
    def _write_image(path: Path, data: bytes) -> None:
        atomic_write_bytes(path, data, keep_mtime_of=path)

    @staticmethod
    def _conflict(message: str, details: list[str]) -> MetadataError:
        error = MetadataError("conflict", message)
        error.details = details
        return error

    # -- the three actions --------------------------------------------------------------
    def _extract_one(self, path: Path, rel: str, force: bool) -> dict:
        data, found = self._read(path)
        if found.empty:
            raise MetadataError("no_metadata", "no embedded prompt or workflow to extract")
        txt, js = self._sidecars(path)
        taken = [p.name for p, value in ((txt, found.prompt), (js, found.workflow)) if value is not None and p.exists()]
        if taken and not force:
            raise self._conflict("sidecars already exist (use force to overwrite)", taken)
        written = []
        if found.prompt is not None:
            atomic_write_bytes(txt, found.prompt.encode("utf-8"))
            written.append(txt.name)
        if found.workflow is not None:
            atomic_write_bytes(js, found.workflow.encode("utf-8"))
            written.append(js.name)
        keys = {k for k, v in (("workflow", found.workflow),) if v is not None}
        if found.prompt is not None:
            keys.add(found.prompt_key or "prompt")
        self._write_image(path, without_generation(data, keys=keys))
        return {"ok": True, "status": "ok", "changed": True, "written": written, "removed": sorted(keys)}

    def _inject_one(self, path: Path, rel: str, force: bool) -> dict:
        data, found = self._read(path)
        txt, js = self._sidecars(path)
        prompt = txt.read_text(encoding="utf-8") if txt.is_file() else None
        workflow = js.read_text(encoding="utf-8") if js.is_file() else None
        if prompt is None and workflow is None:
            raise MetadataError("no_sidecar", f"no {txt.name} or {js.name} to inject")
        clashes = [name for name, new, old in (("prompt", prompt, found.prompt), ("workflow", workflow, found.workflow))
                   if new is not None and old is not None]
        if clashes and not force:
            raise self._conflict("the file already has embedded metadata (use force to replace it)", clashes)
        self._write_image(path, with_generation(data, prompt=prompt, workflow=workflow))
        removed = []
        for sidecar, value in ((txt, prompt), (js, workflow)):
            if value is not None:
                sidecar.unlink()
                removed.append(sidecar.name)
        return {"ok": True, "status": "ok", "changed": True, "embedded": [n for n, v in (("prompt", prompt), ("workflow", workflow)) if v is not None],
                "sidecars_removed": removed}

    def _strip_one(self, path: Path, rel: str, all_text: bool) -> dict:
        data, found = self._read(path)
        if found.empty and not (all_text and found.other_text_keys):
            return {"ok": True, "status": "ok", "changed": False, "note": "nothing to strip"}
        self._write_image(path, without_generation(data, all_text=all_text))
        return {"ok": True, "status": "ok", "changed": True}
