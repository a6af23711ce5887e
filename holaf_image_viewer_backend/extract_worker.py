"""Metadata extraction worker process: ``python extract_worker.py <package folder>``.

Started by :mod:`extraction` so that reading metadata of thousands of files
uses more than one core without touching the host's event loop or GIL. It does
not import the package's ``__init__`` (inside ComfyUI that would import
ComfyUI's modules): it registers empty parent packages and imports only
``records`` and the metadata library.

Protocol on stdin/stdout: frames of a 4-byte big-endian length plus a pickle.
Requests are ``("extract", output_root, [(id, rel_path[, may_have_sidecars]), …], ffprobe)`` or
``("quit",)``; the answer is a list of ``(id, size, mtime_ns, record)``. The
first frame sent is ``("ready", pid)``. Anything a library prints goes to
stderr, never into the protocol.
"""
from __future__ import annotations

import gc
import importlib
import os
import pickle
import struct
import sys
import types

PACKAGE = "_holaf_extract_worker"
HEADER = struct.Struct(">I")


def load_records(package_root: str):
    root_pkg = types.ModuleType(PACKAGE)
    root_pkg.__path__ = [package_root]
    sys.modules[PACKAGE] = root_pkg
    backend = types.ModuleType(f"{PACKAGE}.holaf_image_viewer_backend")
    backend.__path__ = [os.path.join(package_root, "holaf_image_viewer_backend")]
    sys.modules[backend.__name__] = backend
    records = importlib.import_module(f"{PACKAGE}.holaf_image_viewer_backend.records")
    metadata = records._metadata()  # import the library now, so the first batch is not slower
    # A crash in this process costs one file (the pool retries the others), so videos are read
    # in-process with PyAV here rather than by starting ffprobe for each one.
    importlib.import_module(f"{metadata.__name__}.video").use_pyav_by_default()
    return records


def read_frame(stream):
    header = stream.read(HEADER.size)
    if len(header) < HEADER.size:
        return None
    (length,) = HEADER.unpack(header)
    payload = stream.read(length)
    if len(payload) < length:
        return None
    return pickle.loads(payload)


def write_frame(stream, value) -> None:
    payload = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    stream.write(HEADER.pack(len(payload)))
    stream.write(payload)
    stream.flush()


def main(argv: list[str]) -> int:
    package_root = argv[1]
    protocol_out = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())  # stray prints must not corrupt the protocol
    requests = sys.stdin.buffer
    if hasattr(os, "nice"):
        try:
            os.nice(5)  # background work: generation and the UI come first
        except OSError:
            pass
    records = load_records(package_root)
    # Each file's parsed JSON dies with the file (no cycles): fewer collections, and never
    # rescan the imported modules, saves ~15% of the CPU per file.
    gc.freeze()
    gc.set_threshold(20_000, 50, 100)
    write_frame(protocol_out, ("ready", os.getpid()))
    while True:
        request = read_frame(requests)
        if request is None or request[0] == "quit":
            return 0
        _, output_root, items, ffprobe = request
        records.prefetch(output_root, [item[1] for item in items])
        write_frame(protocol_out, [records.extract_item(output_root, item, ffprobe=ffprobe) for item in items])


if __name__ == "__main__":
    sys.exit(main(sys.argv))
