"""Child process for the kill -9 test: trashes a batch slowly through the real feature wiring.

Usage: python crash_child_trash.py OUTPUT_DIR DATA_DIR PATHS_FILE [FEATURES]. FEATURES is a
comma-separated list of feature modules (default: ``holaf_app.FEATURES``). Prints one line per file
moved on disk so the parent can SIGKILL it in the middle of a chunk.
"""
from __future__ import annotations

import importlib.util
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def load_package():
    spec = importlib.util.spec_from_file_location("holaf_utilities", ROOT / "__init__.py",
                                                  submodule_search_locations=[str(ROOT)])
    module = importlib.util.module_from_spec(spec)
    sys.modules["holaf_utilities"] = module
    spec.loader.exec_module(module)


def main() -> None:
    load_package()
    from aiohttp import web

    from holaf_utilities import holaf_app
    from holaf_utilities.holaf_context import HostPaths, StandaloneEventHub
    from holaf_utilities.holaf_http import Routes

    import importlib

    output_dir, data_dir, paths_file = map(Path, sys.argv[1:4])
    features = None
    if len(sys.argv) > 4:
        features = [importlib.import_module(f"holaf_utilities.{name}") for name in sys.argv[4].split(",")]
    ctx = holaf_app.build_context("standalone", HostPaths(output_dir=output_dir, data_dir=data_dir), StandaloneEventHub(),
                                  features=features)
    holaf_app.register_routes(ctx, Routes(web.RouteTableDef(), ctx.security))
    ctx.db.open()
    ops = ctx.state["holaf.file_ops"]
    if ctx.state.get("image_index") is not None:  # what the feature's start() does, without starting services
        from holaf_utilities.holaf_image_viewer_backend import index_link

        ops.listeners.append(index_link.IndexFollower(ctx))

    def progress(_n: int) -> None:
        print("moved", flush=True)
        time.sleep(0.002)

    ops.on_progress = progress
    ops.trash(paths_file.read_text(encoding="utf-8").splitlines())
    print("finished", flush=True)


if __name__ == "__main__":
    main()
