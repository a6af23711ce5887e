"""The Image Viewer index as a Holaf feature: settings, schema, services and routes.

``setup`` builds the :class:`IndexService` and the :class:`Watcher` for the host's
output folder and registers both as one background service: at start the
server answers at once while the first scan runs in the background; changes
then arrive from the watcher (and, inside ComfyUI, from execution events).
"""
from __future__ import annotations

import asyncio
import logging
import os

from ..holaf_config import Setting
from . import schema
from .indexer import IndexService
from .routes import add_routes
from .watcher import WATCH_MODES, Watcher

log = logging.getLogger("holaf.images")

SECTION = "ImageViewer"
SETTINGS = [
    Setting(SECTION, "watch_mode", "choice", "auto",
            "Live updates: 'auto' uses file-system events and falls back to polling folders when the system "
            "limit on watches is reached; 'inotify' prefers events; 'poll' always polls folders; 'off' disables live updates. Restart to apply.",
            choices=WATCH_MODES),
    Setting(SECTION, "poll_interval_s", "float", 1.0,
            "Seconds between folder polls when polling (new files appear within about twice this). Restart to apply.",
            minimum=0.25, maximum=60),
    Setting(SECTION, "scan_workers", "int", 0,
            "Processes that read metadata during scans: 0 = one per CPU core (at most 4). Restart to apply.",
            minimum=0, maximum=16),
    Setting(SECTION, "scan_in_process", "bool", False,
            "Read metadata in a background thread of the server instead of worker processes (one core, no extra "
            "processes). Restart to apply."),
    Setting(SECTION, "rescan_interval_min", "int", 60,
            "Minutes between silent full reconciles of the index with the disk (0 = never; live updates and "
            "'Sync database' cover normal use).", minimum=0, maximum=10080),
    Setting(SECTION, "write_xmp_sidecars", "bool", True,
            "Mirror tags and ratings set in the viewer to <name>.xmp sidecars (needs python-xmp-toolkit and "
            "libexempi)."),
]

MIGRATIONS = {"images": schema.MIGRATIONS}

#: Node output keys that list saved files in ComfyUI "executed" events (images, VHS gifs, audio…).
_OUTPUT_LIST_KEYS = ("images", "gifs", "videos", "audio", "animated")


def worker_count(config) -> int:
    if config.get(SECTION, "scan_in_process"):
        return 0
    configured = config.get(SECTION, "scan_workers")
    return configured if configured > 0 else max(1, min(4, os.cpu_count() or 1))


def executed_output_paths(data) -> list[str]:
    """Relative paths of files a ComfyUI node just saved into the output folder."""
    output = data.get("output") if isinstance(data, dict) else None
    if not isinstance(output, dict):
        return []
    paths = []
    for key, items in output.items():
        if not isinstance(items, list):
            continue
        for item in items:
            if not isinstance(item, dict) or item.get("type", "output") != "output":
                continue
            name, sub = item.get("filename"), item.get("subfolder") or ""
            if isinstance(name, str) and isinstance(sub, str) and name:
                rel = f"{sub.strip('/')}/{name}" if sub.strip("/") else name
                paths.append(rel.replace("\\", "/"))
    return paths


def setup(ctx, routes) -> None:
    from .metadata import SUPPORTED_EXTENSIONS, resolve_ffprobe

    config = ctx.config

    def is_busy(rel: str) -> bool:
        file_ops = ctx.state.get("holaf.file_ops")  # the actions feature, when it is on
        return bool(file_ops is not None and file_ops.is_busy(rel))

    index = IndexService(
        db=ctx.db,
        output_dir=str(ctx.paths.output_dir),
        exclude_dirs=[str(ctx.paths.data_dir)],
        extensions=SUPPORTED_EXTENSIONS,
        publish=ctx.events.publish,
        workers=worker_count(config),
        ffprobe_resolver=resolve_ffprobe,
        is_busy=is_busy,
    )
    watcher = Watcher(
        index.root,
        mode=config.get(SECTION, "watch_mode"),
        poll_interval=config.get(SECTION, "poll_interval_s"),
        exclude={os.path.realpath(ctx.paths.data_dir)},
        on_file=index.notify_file,
        on_dir=index.notify_dir,
        on_move=index.notify_move,
    )
    ctx.state["image_index"] = index
    ctx.state["image_watcher"] = watcher
    state: dict = {}

    def on_host_event(event: str, data) -> None:
        if event == "executed":
            for rel in executed_output_paths(data):
                index.notify_file(rel, closed=True)
        elif event in ("execution_success", "execution_error", "execution_interrupted"):
            watcher.poke()

    async def periodic_reconcile() -> None:
        minutes = config.get(SECTION, "rescan_interval_min")
        if not minutes:
            return
        while True:
            await asyncio.sleep(minutes * 60)
            index.request_scan(reason="periodic")

    async def start() -> None:
        await ctx.run_blocking(index.start)
        index.request_scan(reason="startup")
        await ctx.run_blocking(watcher.start)
        state["unsubscribe"] = ctx.events.on_host_event(on_host_event)
        state["periodic"] = asyncio.get_running_loop().create_task(periodic_reconcile())

    async def stop() -> None:
        task = state.pop("periodic", None)
        if task is not None:
            task.cancel()
        unsubscribe = state.pop("unsubscribe", None)
        if unsubscribe is not None:
            unsubscribe()
        await asyncio.get_running_loop().run_in_executor(None, watcher.stop)
        await asyncio.get_running_loop().run_in_executor(None, index.stop)

    ctx.add_service("Image Viewer index", start, stop)
    add_routes(ctx, routes, index, watcher)
