"""Hard limits that keep a hostile or broken file from exhausting memory or time."""

# Largest single chunk / tag / segment payload we read into memory.
MAX_CHUNK_BYTES = 32 * 1024 * 1024
# Largest text we keep after decompressing a zTXt/iTXt chunk.
MAX_TEXT_BYTES = 32 * 1024 * 1024
# Largest sidecar we read (.txt/.json); XMP sidecars are small by nature.
MAX_SIDECAR_BYTES = 32 * 1024 * 1024
MAX_XMP_BYTES = 4 * 1024 * 1024
# Chunks / segments / frames we are willing to walk in one file.
MAX_BLOCKS = 200_000
# Pillow refuses to decode above this (2 x Image.MAX_IMAGE_PIXELS); we only warn.
SAFE_DECODE_PIXELS = 89_478_485
# ffprobe / ffmpeg wall-clock limit per file (seconds) and output cap (bytes).
PROBE_TIMEOUT_S = 30.0
PROBE_OUTPUT_CAP = 64 * 1024 * 1024
