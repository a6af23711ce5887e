"""The Image Viewer UI's server side: its ``[ImageViewerUI]`` settings and one route.

* ``SETTINGS``: what the gallery keeps in ``config.ini`` (tile size and fit, the
  slideshow interval, whether to ask before trashing, which panes are shown, and every
  filter, so the gallery comes back exactly as it was left). A fresh install excludes
  nothing, so it shows every image at once.
* ``POST /holaf/images/copy-to-input`` ``{"path": "<output-relative path>"}``: puts an
  output image into ComfyUI's input folder so a Load Image node can use it ("Pick from
  Image Viewer", or a tile dropped on the node). Both ends go through
  ``resolve_user_path``; an identical file already there is reused, a different one with
  the same name gets a numbered name, and the copy is written atomically.
"""
from __future__ import annotations

import filecmp
import logging
import os
import shutil
import tempfile
from pathlib import Path

from aiohttp import web

from ..holaf_config import Setting
from ..holaf_http import HolafError, field, json_ok, read_json
from ..holaf_security import resolve_user_path

log = logging.getLogger("holaf.images.ui")

SECTION = "ImageViewerUI"
TRISTATE = ("any", "yes", "no")
SORTS = ("newest", "oldest", "name", "size", "random")

SETTINGS = [
    Setting(SECTION, "thumbnail_size", "int", 150, "Gallery tile size in px (the slider in the viewer's toolbar).", minimum=80, maximum=400),
    Setting(SECTION, "thumbnail_fit", "choice", "cover", "Tiles crop the image to fill the square (cover) or show all of it (contain).", choices=("cover", "contain")),
    Setting(SECTION, "slideshow_interval_s", "float", 4.0, "Seconds each image stays on screen during a slideshow.", minimum=0.5, maximum=600),
    Setting(SECTION, "confirm_trash", "bool", True, "Ask before moving files to the trashcan (permanent deletion always asks)."),
    Setting(SECTION, "show_info_pane", "bool", True, "Show the information pane on the right.", ui=False),
    Setting(SECTION, "show_filter_pane", "bool", True, "Show the filter pane on the left.", ui=False),
    # the filters (kept by the viewer itself)
    Setting(SECTION, "search_text", "str", "", "Search text.", ui=False),
    Setting(SECTION, "search_scope_name", "bool", True, "Search file and folder names.", ui=False),
    Setting(SECTION, "search_scope_prompt", "bool", True, "Search prompts.", ui=False),
    Setting(SECTION, "search_scope_workflow", "bool", False, "Search workflows (node types, models, LoRAs).", ui=False),
    Setting(SECTION, "startdate", "str", "", "Show files modified on or after this day (YYYY-MM-DD).", ui=False),
    Setting(SECTION, "enddate", "str", "", "Show files modified on or before this day (YYYY-MM-DD).", ui=False),
    Setting(SECTION, "excluded_folders", "json", [], "Top-level folders that are unticked (new folders show up ticked).", ui=False),
    Setting(SECTION, "locked_folders", "json", [], "Folders that All / None / Invert / Reset leave alone.", ui=False),
    Setting(SECTION, "excluded_formats", "json", [], "Formats that are unticked.", ui=False),
    Setting(SECTION, "show_trashcan", "bool", False, "List the trashcan instead of the gallery.", ui=False),
    Setting(SECTION, "filter_has_workflow", "choice", "any", "Only files with (yes) or without (no) a workflow.", choices=TRISTATE, ui=False),
    Setting(SECTION, "filter_has_prompt", "choice", "any", "Only files with or without a prompt.", choices=TRISTATE, ui=False),
    Setting(SECTION, "filter_has_edits", "choice", "any", "Only files with or without edits.", choices=TRISTATE, ui=False),
    Setting(SECTION, "filter_has_tags", "choice", "any", "Only files with or without tags.", choices=TRISTATE, ui=False),
    Setting(SECTION, "tags_filter", "json", [], "Tags every shown file must have.", ui=False),
    Setting(SECTION, "min_rating", "int", 0, "Minimum rating (0 = any).", minimum=0, maximum=5, ui=False),
    Setting(SECTION, "model_filter", "str", "", "Only files made with this model.", ui=False),
    Setting(SECTION, "lora_filter", "str", "", "Only files made with this LoRA.", ui=False),
    Setting(SECTION, "folder_prefix", "str", "", "Only files under this sub-folder (set by 'Show outputs in Image Viewer').", ui=False),
    Setting(SECTION, "sort_order", "choice", "newest", "Gallery order.", choices=SORTS, ui=False),
]

#: What a Load Image node can take (images) plus what video loaders take.
INPUT_EXTENSIONS = frozenset({
    ".png", ".jpg", ".jpeg", ".webp", ".gif", ".bmp", ".tif", ".tiff", ".avif",
    ".mp4", ".webm", ".mov", ".mkv", ".m4v",
})
MAX_NAME_TRIES = 1000


def _free_name(folder: Path, name: str, source: Path) -> tuple[str, bool]:
    """A name in ``folder`` for ``source``: the same name when free or holding identical
    bytes (reused: nothing to copy), else ``stem_1.ext``, ``stem_2.ext``…"""
    stem, ext = os.path.splitext(name)
    for attempt in range(MAX_NAME_TRIES):
        candidate = name if attempt == 0 else f"{stem}_{attempt}{ext}"
        target = folder / candidate
        if not target.exists():
            return candidate, False
        if target.is_file() and target.stat().st_size == source.stat().st_size and filecmp.cmp(target, source, shallow=False):
            return candidate, True
    raise HolafError(409, f"too many files called {name} in the input folder", code="name_taken")


def copy_into_input(source: Path, input_dir: Path) -> dict:
    """Copy (or reuse) ``source`` in ``input_dir``; runs on a worker thread."""
    input_dir.mkdir(parents=True, exist_ok=True)
    name, reused = _free_name(input_dir, source.name, source)
    target = resolve_user_path(input_dir, name)
    if not reused:
        fd, tmp = tempfile.mkstemp(prefix=".holaf-copy-", suffix=source.suffix, dir=str(input_dir))
        os.close(fd)
        try:
            shutil.copy2(source, tmp)
            os.replace(tmp, target)
        except BaseException:
            try:
                os.unlink(tmp)
            except OSError:
                pass
            raise
    return {"ok": True, "name": name, "subfolder": "", "type": "input", "copied": not reused}


def setup(ctx, routes) -> None:
    @routes.post("/holaf/images/copy-to-input")
    async def copy_to_input(request: web.Request) -> web.Response:
        """Make an output file usable by a Load Image node (copied into the input folder)."""
        body = await read_json(request)
        rel = field(body, "path", str)
        if ctx.paths.input_dir is None:
            raise HolafError(409, "no input folder is configured (start with --input-dir, or run inside ComfyUI)", code="no_input_dir")
        source = resolve_user_path(ctx.paths.output_dir, rel, must_exist=True)
        if not source.is_file():
            raise HolafError(400, "not a file", code="not_a_file")
        if source.suffix.lower() not in INPUT_EXTENSIONS:
            raise HolafError(415, f"a Load Image node cannot use {source.suffix or 'this file'}", code="unsupported_type")
        try:
            result = await ctx.run_blocking(copy_into_input, source, Path(ctx.paths.input_dir))
        except OSError as exc:
            log.warning("Copying %s into the input folder failed: %s", rel, exc)
            raise HolafError(500, f"could not copy into the input folder: {exc.strerror or exc}", code="copy_failed")
        return json_ok(result)
