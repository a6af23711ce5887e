"""Holaf Utilities: ComfyUI entry point.

ComfyUI imports this package from ``custom_nodes/``. This file is the only place
that touches ComfyUI's own modules (``server``, ``folder_paths``): it reads the
host's folders, hands them to :func:`holaf_app.mount_in_comfyui` and exports the
names ComfyUI looks for. Imported anywhere else (tests, ``python .``) it does
nothing at all.
"""
import logging
from pathlib import Path

if __package__:
    from .nodes import NODE_CLASS_MAPPINGS, NODE_DISPLAY_NAME_MAPPINGS
else:  # loaded as a plain file (a test runner collecting the folder), not as ComfyUI's package
    NODE_CLASS_MAPPINGS, NODE_DISPLAY_NAME_MAPPINGS = {}, {}

WEB_DIRECTORY = "./js"
__all__ = ["NODE_CLASS_MAPPINGS", "NODE_DISPLAY_NAME_MAPPINGS", "WEB_DIRECTORY"]

_log = logging.getLogger("holaf")


def _comfyui_modules():
    """ComfyUI's ``server`` and ``folder_paths`` when running inside ComfyUI, else None."""
    try:
        import folder_paths  # noqa: WPS433 (ComfyUI module)
        import server  # noqa: WPS433 (ComfyUI module)
    except ImportError:
        return None
    prompt_server = getattr(getattr(server, "PromptServer", None), "instance", None)
    if prompt_server is None or not hasattr(folder_paths, "get_output_directory"):
        return None
    return prompt_server, folder_paths


def _host_paths(folder_paths):
    from .holaf_app import DATA_DIR_NAME
    from .holaf_context import HostPaths

    def first(name):
        try:
            dirs = folder_paths.get_folder_paths(name)
        except Exception:  # unknown folder name on older ComfyUI versions
            return None
        return Path(dirs[0]) if dirs else None

    user_dir = Path(folder_paths.get_user_directory()) if hasattr(folder_paths, "get_user_directory") else (
        Path(folder_paths.base_path) / "user"
    )
    models = {}
    for name in getattr(folder_paths, "folder_names_and_paths", {}):
        try:
            models[name] = [Path(p) for p in folder_paths.get_folder_paths(name)]
        except Exception:
            continue
    return HostPaths(
        output_dir=Path(folder_paths.get_output_directory()),
        data_dir=user_dir / DATA_DIR_NAME,
        input_dir=Path(folder_paths.get_input_directory()),
        temp_dir=Path(folder_paths.get_temp_directory()),
        comfy_root=Path(getattr(folder_paths, "base_path", Path.cwd())),
        custom_nodes_dir=first("custom_nodes"),
        models_dirs=models,
    )


def _mount():
    modules = _comfyui_modules()
    if modules is None:
        return None
    prompt_server, folder_paths = modules
    from .holaf_app import mount_in_comfyui

    try:
        return mount_in_comfyui(prompt_server, _host_paths(folder_paths))
    except Exception:  # never take ComfyUI down with us
        _log.exception("Holaf Utilities could not start; ComfyUI continues without it")
        return None


HOLAF_CONTEXT = _mount() if __package__ else None
