"""Image Viewer backend: media index, metadata extraction and routes."""
