"""A minimal ComfyUI-like server process for tests that need a real process (restart).

It does what ComfyUI's ``main.py`` does for extensions: create the PromptServer,
import each package under ``<base>/custom_nodes`` by folder name, then mount the
routes and serve. ``python main.py --port N`` with ``HOLAF_STANDIN_BASE`` set.
"""
from __future__ import annotations

import argparse
import asyncio
import importlib.util
import logging
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from aiohttp import web  # noqa: E402

import folder_paths  # noqa: E402
import server  # noqa: E402


def load_custom_nodes() -> dict:
    web_dirs = {}
    root = Path(folder_paths.get_folder_paths("custom_nodes")[0])
    for folder in sorted(root.iterdir()):
        if not (folder / "__init__.py").exists():
            continue
        spec = importlib.util.spec_from_file_location(folder.name, folder / "__init__.py", submodule_search_locations=[str(folder)])
        module = importlib.util.module_from_spec(spec)
        sys.modules[folder.name] = module
        spec.loader.exec_module(module)
        if getattr(module, "WEB_DIRECTORY", None):
            web_dirs[folder.name] = str((folder / module.WEB_DIRECTORY).resolve())
    return web_dirs


async def main(port: int) -> None:
    prompt_server = server.PromptServer(asyncio.get_running_loop())
    web_dirs = load_custom_nodes()
    prompt_server.add_routes(web_dirs)
    runner = web.AppRunner(prompt_server.app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    print(f"STANDIN READY {os.getpid()}", flush=True)
    await asyncio.Event().wait()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    logging.basicConfig(level=logging.INFO)
    asyncio.run(main(parser.parse_args().port))
