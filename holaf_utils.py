"""Small stateless helpers shared by every tool.

Nothing here touches the database, the config or the network: if a helper needs
any of those it belongs in the module that owns them.
"""
from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path

_UNSAFE_NAME_CHARS = re.compile(r'[\x00-\x1f<>:"/\\|?*]')


def atomic_write_bytes(path: Path, data: bytes, *, keep_mtime_of: Path | None = None) -> None:
    """Write ``data`` to ``path`` so readers see the old file or the new one, never half.

    The temporary file lives in the same folder so the final ``os.replace`` is a
    rename on one filesystem (atomic on POSIX and on NTFS).
    """
    path = Path(path)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        if keep_mtime_of is not None:
            st = os.stat(keep_mtime_of)
            os.utime(tmp_name, ns=(st.st_atime_ns, st.st_mtime_ns))
        os.replace(tmp_name, path)
    except BaseException:
        try:
            os.unlink(tmp_name)
        except FileNotFoundError:
            pass
        raise


def atomic_write_text(path: Path, text: str, *, encoding: str = "utf-8") -> None:
    """Text flavour of :func:`atomic_write_bytes`."""
    atomic_write_bytes(path, text.encode(encoding))


def sanitize_filename(name: str, *, replacement: str = "_", max_length: int = 200) -> str:
    """Return a file name that is valid on Windows, macOS and Linux.

    Used for names that come from users (exports, renames) after the path-safety
    check has already rejected separators and traversal.
    """
    cleaned = _UNSAFE_NAME_CHARS.sub(replacement, name).strip().rstrip(".")
    if cleaned.upper().split(".")[0] in _WINDOWS_RESERVED:
        cleaned = replacement + cleaned
    return cleaned[:max_length] or replacement


_WINDOWS_RESERVED = frozenset(
    ["CON", "PRN", "AUX", "NUL"] + [f"COM{i}" for i in range(1, 10)] + [f"LPT{i}" for i in range(1, 10)]
)


def is_windows_reserved_name(name: str) -> bool:
    """True for names Windows cannot create (``CON``, ``nul.txt``, ``COM1`` …)."""
    return name.upper().split(".")[0] in _WINDOWS_RESERVED


def to_posix_relative(path: Path, root: Path) -> str:
    """Path of ``path`` relative to ``root`` with ``/`` separators, as stored in the index."""
    return Path(os.path.relpath(path, root)).as_posix()


def unique_path(target: Path) -> Path:
    """``target`` itself if free, else ``name_1.ext``, ``name_2.ext`` … (first free one)."""
    if not target.exists() and not target.is_symlink():
        return target
    stem, suffix = target.stem, target.suffix
    n = 1
    while True:
        candidate = target.with_name(f"{stem}_{n}{suffix}")
        if not candidate.exists() and not candidate.is_symlink():
            return candidate
        n += 1


def human_bytes(size: float) -> str:
    """``1536`` → ``'1.5 KB'``; for log lines and messages."""
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if abs(size) < 1024 or unit == "TB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} TB"
