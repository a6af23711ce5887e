"""Image Viewer backend: the index (scanner, metadata, listing) and the actions on it
(thumbnails, trashcan and file operations, metadata tools)."""
