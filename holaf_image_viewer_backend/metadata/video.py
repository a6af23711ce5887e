"""Video and audio probing: PyAV in-process, else ffprobe, else ``ffmpeg -i``.

PyAV (the ``av`` package, which ComfyUI itself depends on) opens the container with
FFmpeg's own demuxers inside this process: the same facts as ffprobe for ~4 ms
instead of ~120 ms of process start-up per file, which dominated the first index
of folders with videos. Only headers are read (no frame is decoded on purpose).
It is used where a crash would cost one file, not the host: in the index's worker
processes (see :func:`use_pyav_by_default`), and wherever a caller asks for it.

ffprobe is run as a list of arguments (no shell) with a timeout and an
output cap.  When only ffmpeg is available (imageio-ffmpeg ships ffmpeg but
no ffprobe), the banner that ``ffmpeg -i`` prints on stderr is parsed for
size, duration, frame rate, audio presence and container tags.
"""
from __future__ import annotations

import json
import logging
import os
import re
import shutil
import subprocess
import threading

from .limits import PROBE_OUTPUT_CAP, PROBE_TIMEOUT_S
from .scan_result import ScanResult

log = logging.getLogger("holaf.metadata")

_UNSET = object()
_cache = {"ffprobe": _UNSET, "ffmpeg": _UNSET}
_cache_lock = threading.Lock()


def _imageio_ffmpeg() -> str | None:
    try:
        import imageio_ffmpeg  # optional dependency
        exe = imageio_ffmpeg.get_ffmpeg_exe()
        return exe if exe and os.path.isfile(exe) else None
    except Exception:  # not installed, or no binary for this platform
        return None


def resolve_ffmpeg() -> str | None:
    """ffmpeg from PATH, else imageio-ffmpeg's bundled binary, else None (cached)."""
    with _cache_lock:
        if _cache["ffmpeg"] is _UNSET:
            _cache["ffmpeg"] = shutil.which("ffmpeg") or _imageio_ffmpeg()
        return _cache["ffmpeg"]


def resolve_ffprobe() -> str | None:
    """ffprobe from PATH; else an ffprobe next to imageio-ffmpeg's ffmpeg; else None (cached)."""
    with _cache_lock:
        if _cache["ffprobe"] is _UNSET:
            exe = shutil.which("ffprobe")
            if not exe:
                ff = _imageio_ffmpeg()
                if ff:
                    folder = os.path.dirname(ff)
                    try:
                        names = sorted(os.listdir(folder))
                    except OSError:
                        names = []
                    for n in names:
                        if n.lower().startswith("ffprobe") and os.access(os.path.join(folder, n), os.X_OK):
                            exe = os.path.join(folder, n)
                            break
            _cache["ffprobe"] = exe or None
        return _cache["ffprobe"]


def clear_tool_cache() -> None:
    """Forget resolved tool paths (tests, or after the user installs ffmpeg)."""
    with _cache_lock:
        _cache["ffprobe"] = _UNSET
        _cache["ffmpeg"] = _UNSET


def _run_capped(cmd: list, timeout: float = PROBE_TIMEOUT_S, cap: int = PROBE_OUTPUT_CAP):
    """Run ``cmd``; return (rc, stdout, stderr, note).  Output beyond ``cap``
    bytes kills the process; so does the timeout."""
    kwargs = {}
    if os.name == "nt":
        kwargs["creationflags"] = getattr(subprocess, "CREATE_NO_WINDOW", 0)
    try:
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                **kwargs)
    except OSError as e:
        return None, b"", b"", f"cannot run {os.path.basename(cmd[0])}: {e}"
    bufs = {"out": [], "err": []}
    over = threading.Event()

    def pump(stream, key):
        total = 0
        while True:
            chunk = stream.read(65536)
            if not chunk:
                break
            if total < cap:
                bufs[key].append(chunk[:cap - total])
            total += len(chunk)
            if total >= cap and not over.is_set():
                over.set()
                try:
                    proc.kill()
                except OSError:
                    pass
        stream.close()

    threads = [threading.Thread(target=pump, args=(proc.stdout, "out"), daemon=True),
               threading.Thread(target=pump, args=(proc.stderr, "err"), daemon=True)]
    for t in threads:
        t.start()
    note = None
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        note = f"{os.path.basename(cmd[0])} timed out after {timeout:.0f} s"
    for t in threads:
        t.join(5)
    if over.is_set():
        note = f"{os.path.basename(cmd[0])} output over {cap // 2**20} MB, cut"
    return proc.returncode, b"".join(bufs["out"]), b"".join(bufs["err"]), note


def _rate(s) -> float | None:
    if not s or not isinstance(s, str):
        return None
    try:
        if "/" in s:
            n, d = s.split("/", 1)
            n, d = float(n), float(d)
            return round(n / d, 3) if d else None
        v = float(s)
        return round(v, 3) if v > 0 else None
    except ValueError:
        return None


def _float(v) -> float | None:
    try:
        f = float(v)
        return f if f == f and f >= 0 else None
    except (TypeError, ValueError):
        return None


def _add_tags(res: ScanResult, tags) -> None:
    if isinstance(tags, dict):
        for k, v in tags.items():
            if isinstance(k, str) and isinstance(v, str):
                res.add_text(k.lower(), v)


def parse_ffprobe_json(data: dict, res: ScanResult) -> None:
    """Fill size, duration, fps, frames, audio flag and tags from ffprobe's JSON."""
    fmt = data.get("format") or {}
    streams = data.get("streams") or []
    _add_tags(res, fmt.get("tags"))
    video = None
    for s in streams:
        if not isinstance(s, dict):
            continue
        ctype = s.get("codec_type")
        if ctype == "video" and video is None and not (s.get("disposition") or {}).get("attached_pic"):
            video = s
        elif ctype == "audio":
            res.has_audio = True
    if res.has_audio is None:
        res.has_audio = False
    res.duration = _float(fmt.get("duration"))
    if video is not None:
        w, h = video.get("width"), video.get("height")
        if isinstance(w, int) and isinstance(h, int) and w > 0 and h > 0:
            rot = 0
            for sd in video.get("side_data_list") or []:
                if isinstance(sd, dict) and "rotation" in sd:
                    rot = sd.get("rotation") or 0
            rot = rot or (video.get("tags") or {}).get("rotate") or 0
            try:
                rot = int(float(rot))
            except (TypeError, ValueError):
                rot = 0
            res.width, res.height = (h, w) if rot % 180 in (90, -90) else (w, h)
        res.fps = _rate(video.get("avg_frame_rate")) or _rate(video.get("r_frame_rate"))
        if res.duration is None:
            res.duration = _float(video.get("duration"))
        nb = video.get("nb_frames")
        if isinstance(nb, str) and nb.isdigit() and int(nb) > 0:
            res.frame_count = int(nb)
        elif res.duration and res.fps:
            res.frame_count = int(round(res.duration * res.fps))  # estimate (e.g. WEBM has no frame count)
        _add_tags(res, video.get("tags"))
    for s in streams:
        if isinstance(s, dict) and s is not video:
            _add_tags(res, s.get("tags"))


_pyav_by_default = False


def use_pyav_by_default(enabled: bool = True) -> None:
    """Let ``probe_media`` use PyAV without being asked (the index's worker processes do).

    Off by default: in the server's own process (ComfyUI's) a demuxer crash on a damaged
    file would take the host down, while a crashing ``ffprobe`` only fails that file. The
    worker processes are isolated the same way, so they get the in-process speed.
    """
    global _pyav_by_default
    _pyav_by_default = enabled


def pyav_module():
    """The ``av`` module, or None when PyAV is not installed (or fails to load)."""
    with _cache_lock:
        if "pyav" not in _cache:
            try:
                import av  # optional dependency; ComfyUI installs it
                av.logging.set_level(None)  # FFmpeg's own console chatter off
                _cache["pyav"] = av
            except Exception:  # ImportError, or a broken binary wheel
                _cache["pyav"] = None
        return _cache["pyav"]


def probe_pyav(path: str, av, res: ScanResult) -> None:
    """Read the container with PyAV and describe it in ffprobe's JSON shape (one parser for both)."""
    try:
        container = av.open(os.path.abspath(path), metadata_errors="replace")
    except Exception as exc:  # av.FFmpegError (an OSError) and friends: unreadable file
        res.error = f"cannot read this file: {getattr(exc, 'strerror', None) or exc}"
        return
    with container:
        attached_pic = int(getattr(getattr(av.stream, "Disposition", None), "attached_pic", 0) or 0)
        streams = []
        for stream in container.streams:
            entry = {"codec_type": stream.type, "tags": dict(stream.metadata or {})}
            if attached_pic and int(stream.disposition or 0) & attached_pic:
                entry["disposition"] = {"attached_pic": 1}
            if stream.type == "video":
                ctx = stream.codec_context
                entry.update(width=ctx.width, height=ctx.height,
                             avg_frame_rate=str(stream.average_rate) if stream.average_rate else None,
                             r_frame_rate=str(stream.base_rate) if stream.base_rate else None,
                             nb_frames=str(stream.frames) if stream.frames else None)
                if stream.duration is not None and stream.time_base:
                    entry["duration"] = float(stream.duration * stream.time_base)
            streams.append(entry)
        duration = container.duration / 1_000_000 if container.duration is not None else None
        parse_ffprobe_json({"format": {"tags": dict(container.metadata or {}), "duration": duration},
                            "streams": streams}, res)


def probe_ffprobe(path: str, exe: str, res: ScanResult) -> bool:
    """Run ffprobe; False (with ``res.error`` or a warning set) when it could not read the file."""
    rc, out, err, note = _run_capped([exe, "-v", "error", "-hide_banner", "-print_format", "json",
                                      "-show_format", "-show_streams", os.path.abspath(path)])
    if note:
        res.warnings.append(note)
    if rc is None:
        return False
    try:
        data = json.loads(out.decode("utf-8", "replace")) if out.strip() else {}
    except ValueError:
        data = {}
    if not data.get("format") and not data.get("streams"):
        msg = err.decode("utf-8", "replace").strip().splitlines()
        res.error = "ffprobe cannot read this file" + (f": {msg[-1]}" if msg else "")
        return True
    parse_ffprobe_json(data, res)
    return True


_DUR = re.compile(r"Duration:\s*(\d+):(\d{2}):(\d{2}(?:\.\d+)?)")
_VIDEO = re.compile(r"Stream #\d+:\d+.*?: Video: (.*)")
_SIZE = re.compile(r"(?<![\dx])(\d{1,5})x(\d{1,5})(?![\dx])")
_FPS = re.compile(r"([\d.]+)(k?) (?:fps|tbr)")
_META_LINE = re.compile(r"^(\s+)(\S[^:]*?)?\s*: ?(.*)$")


def parse_ffmpeg_banner(text: str, res: ScanResult) -> bool:
    """Parse the stream description ``ffmpeg -i FILE`` prints on stderr.

    Tag values there may be cut (ffmpeg truncates long ones), so tags already
    in ``res.texts`` (from the ffmetadata export) are kept as they are."""
    lines = text.splitlines()
    found = False
    in_meta = False
    meta_indent = None
    last_key = None
    banner_tags: dict = {}
    for line in lines:
        if line.startswith("Input #"):
            found = True
            continue
        if not found:
            continue
        if line.startswith("Output #") or line.startswith("Stream mapping"):
            break
        stripped = line.strip()
        if stripped == "Metadata:" and line.startswith("  ") and not line.startswith("    "):
            in_meta, meta_indent, last_key = True, None, None
            continue
        if in_meta:
            m = _META_LINE.match(line)
            indent = len(m.group(1)) if m else 0
            if m and (meta_indent is None or indent == meta_indent):
                meta_indent = indent
                key = (m.group(2) or "").strip()
                if key:
                    last_key = key.lower()
                    banner_tags.setdefault(last_key, m.group(3))
                continue
            if m and last_key and not (m.group(2) or "").strip() and indent > meta_indent:
                banner_tags[last_key] += "\n" + m.group(3)  # continuation of a multi-line value
                continue
            in_meta = False
        d = _DUR.search(line)
        if d and res.duration is None:
            res.duration = round(int(d.group(1)) * 3600 + int(d.group(2)) * 60 + float(d.group(3)), 3)
        v = _VIDEO.search(line)
        if v and res.width is None:
            spec = v.group(1)
            if "attached pic" in spec:
                continue
            s = _SIZE.search(spec)
            if s:
                res.width, res.height = int(s.group(1)), int(s.group(2))
            f = _FPS.search(spec)
            if f:
                res.fps = round(float(f.group(1)) * (1000 if f.group(2) else 1), 3)
        if ": Audio:" in line:
            res.has_audio = True
    for k, v in banner_tags.items():
        res.add_text(k, v)
    if found and res.has_audio is None:
        res.has_audio = False
    if res.duration and res.fps and res.frame_count is None:
        res.frame_count = int(round(res.duration * res.fps))
    return found


def parse_ffmetadata(text: str) -> dict:
    """Global tags of an FFMETADATA1 document (``key=value``; ``\\`` escapes ``=;#\\`` and newlines)."""
    out: dict = {}
    buf: list = []
    key = None
    i, n = 0, len(text)
    line_start = True
    while i < n:
        c = text[i]
        if line_start:
            if c in ";#":
                j = text.find("\n", i)
                i = n if j < 0 else j + 1
                continue
            if c == "[":
                break  # [STREAM] / [CHAPTER] sections: global tags only
            line_start = False
        if c == "\\" and i + 1 < n:
            buf.append(text[i + 1])
            i += 2
            continue
        if c == "=" and key is None:
            key = "".join(buf)
            buf = []
        elif c == "\n":
            if key is not None:
                out.setdefault(key.lower(), "".join(buf))
            key, buf, line_start = None, [], True
        else:
            buf.append(c)
        i += 1
    if key is not None:
        out.setdefault(key.lower(), "".join(buf))
    return out


def probe_ffmpeg(path: str, exe: str, res: ScanResult) -> bool:
    """``ffmpeg -i FILE -f ffmetadata -``: full tags on stdout, stream banner on stderr."""
    rc, out, err, note = _run_capped([exe, "-hide_banner", "-nostdin", "-i", os.path.abspath(path),
                                      "-map_metadata", "0", "-vn", "-an", "-sn", "-dn", "-f", "ffmetadata", "-"])
    if note:
        res.warnings.append(note)
    if rc is None:
        return False
    for k, v in parse_ffmetadata(out.decode("utf-8", "replace")).items():
        res.add_text(k, v)
    text = err.decode("utf-8", "replace")
    if not parse_ffmpeg_banner(text, res):
        msg = [ln for ln in text.strip().splitlines() if ln.strip()]
        res.error = "ffmpeg cannot read this file" + (f": {msg[-1]}" if msg else "")
    return True


def probe_media(path: str, res: ScanResult, ffprobe=None, ffmpeg=None, *, use_pyav: bool | None = None) -> None:
    """Fill ``res`` for a video/audio file with whichever tool is available.

    ``use_pyav``: True uses PyAV when it is installed, False never, None when this process
    allowed it (:func:`use_pyav_by_default`).
    ``ffprobe``: a path, None to resolve it, or "" to skip ffprobe and use
    the ``ffmpeg -i`` fallback directly.
    """
    wanted = _pyav_by_default if use_pyav is None else use_pyav
    av = pyav_module() if wanted else None
    if av is not None:
        probe_pyav(path, av, res)
        return
    exe = resolve_ffprobe() if ffprobe is None else ffprobe
    if exe and probe_ffprobe(path, exe, res):
        return
    ff = resolve_ffmpeg() if ffmpeg is None else ffmpeg
    if ff and probe_ffmpeg(path, ff, res):
        if not exe:
            res.warnings.append("ffprobe not found: read with 'ffmpeg -i' instead (less detail)")
        return
    res.warnings.append("neither ffprobe nor ffmpeg found: video/audio size, duration and tags not read")
