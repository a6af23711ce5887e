"""Stand-in for ComfyUI's ``folder_paths``: folders under ``HOLAF_STANDIN_BASE`` (or a temp base)."""
from __future__ import annotations

import os
import tempfile

base_path = os.environ.get("HOLAF_STANDIN_BASE") or tempfile.mkdtemp(prefix="comfy-standin-")
models_dir = os.path.join(base_path, "models")
folder_names_and_paths = {
    "checkpoints": ([os.path.join(models_dir, "checkpoints")], {".safetensors", ".ckpt"}),
    "loras": ([os.path.join(models_dir, "loras")], {".safetensors"}),
    "custom_nodes": ([os.path.join(base_path, "custom_nodes")], set()),
}
_dirs = {name: os.path.join(base_path, name) for name in ("output", "input", "temp", "user")}
for folder in [*_dirs.values(), *(p for paths, _ in folder_names_and_paths.values() for p in paths)]:
    os.makedirs(folder, exist_ok=True)


def get_output_directory():
    return _dirs["output"]


def get_input_directory():
    return _dirs["input"]


def get_temp_directory():
    return _dirs["temp"]


def get_user_directory():
    return _dirs["user"]


def get_folder_paths(name):
    return list(folder_names_and_paths[name][0])
