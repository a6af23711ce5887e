"""ComfyUI node classes shipped with Holaf Utilities (none yet).

Node classes call into the library modules; they never start routes or threads.
"""
NODE_CLASS_MAPPINGS: dict = {}
NODE_DISPLAY_NAME_MAPPINGS: dict = {}
