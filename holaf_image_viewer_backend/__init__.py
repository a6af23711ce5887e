"""Image Viewer backend: the media index (scanner, watcher, search and listing API),
metadata extraction and the file actions built on top of them."""
