"""Holaf Utilities: ComfyUI extension package (placeholder; the lead replaces this file)."""
NODE_CLASS_MAPPINGS = {}
WEB_DIRECTORY = "./js"
