"""Export jobs: validated requests, bounded background work, one download, and no leftovers.

A job renders every requested file into ``<data dir>/temp_exports/<job id>/files/``
(never next to the originals, which are only read), keeping each file's
subfolder so same-named files from different folders stay apart. Several
outputs are then packed into one ZIP (media stored as they are, text deflated)
so the browser downloads one file through a plain link: no per-file chunk
loops and no in-memory blobs. A single output is downloaded as it is.

Jobs run on the event loop as tasks that hand all the work to a small thread
pool; at most ``export_concurrency`` run at once, the rest wait in order. The
temporary folder of a job goes away after its download, when it is cancelled,
when it fails, when nobody downloaded it within ``export_keep_minutes``, and, for
whatever a crash left, at start-up.
"""
from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import os
import shutil
import threading
import time
import uuid
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any, Callable

from ..holaf_security import relative_to_root, resolve_user_path
from .edit_model import Edits
from .ffmpeg_run import CancelToken, FfmpegCancelled, FfmpegError
from .image_export import FORMAT_ALIASES, IMAGE_FORMATS, GenerationMetadata, ImageOptions, export_image
from .media_probe import ProbeError, export_ffmpeg, probe_video
from .thumbnails import media_kind
from .video_bake import MP4_PRESETS
from .video_export import VIDEO_FORMATS, VideoOptions, export_video

log = logging.getLogger("holaf.export")

TEMP_DIR_NAME = "temp_exports"
MAX_PATHS = 5000
METADATA_MODES = ("embed", "sidecar", "strip")
STORED_EXTS = {".png", ".jpg", ".jpeg", ".webp", ".gif", ".mp4", ".tif", ".tiff", ".webm", ".mkv", ".mov"}
FINISHED = frozenset({"done", "failed", "cancelled", "downloaded", "expired"})
PROGRESS_EVENT = "holaf.export.progress"


class ExportRequestError(ValueError):
    """A request that cannot become a job (answered as a 4xx with this message)."""

    def __init__(self, message: str, status: int = 400, **extra: Any) -> None:
        super().__init__(message)
        self.status = status
        self.extra = extra


class JobNotFound(KeyError):
    pass


# --------------------------------------------------------------------------- request
@dataclass
class ExportSpec:
    items: list[tuple[str, Path]]  # (relative path, absolute path)
    image_format: str
    video_format: str
    image_options: ImageOptions
    video_options: VideoOptions
    metadata: str = "embed"
    apply_edits: bool = True
    missing: list[str] = field(default_factory=list)


def _int_option(options: dict, name: str, lo: int, hi: int, default: int | None) -> int | None:
    value = options.get(name)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value != int(value):
        raise ExportRequestError(f"options.{name} must be a whole number")
    if not lo <= value <= hi:
        raise ExportRequestError(f"options.{name} must be between {lo} and {hi}")
    return int(value)


KNOWN_OPTIONS = frozenset({"quality", "lossless", "crf", "preset", "fps", "width", "image_format", "video_format"})


def parse_spec(body: dict, output_dir: Path) -> ExportSpec:
    """Check everything a request says before any work starts (blocking: it stats the files)."""
    paths = body.get("paths", body.get("paths_canon"))
    if not isinstance(paths, list) or not paths:
        raise ExportRequestError("'paths' must be a non-empty list of file paths")
    if len(paths) > MAX_PATHS:
        raise ExportRequestError(f"at most {MAX_PATHS} files per export")
    if not all(isinstance(p, str) for p in paths):
        raise ExportRequestError("every path must be a string")
    options = body.get("options") or {}
    if not isinstance(options, dict):
        raise ExportRequestError("'options' must be an object")
    unknown = set(options) - KNOWN_OPTIONS
    if unknown:
        raise ExportRequestError(f"unknown options {sorted(unknown)} (known: {', '.join(sorted(KNOWN_OPTIONS))})")

    fmt = body.get("format", "png")
    image_format, video_format = options.get("image_format", "png"), options.get("video_format", "mp4")
    if isinstance(fmt, dict):
        image_format, video_format = fmt.get("image", image_format), fmt.get("video", video_format)
    elif isinstance(fmt, str):
        name = FORMAT_ALIASES.get(fmt.lower(), fmt.lower())
        if name in IMAGE_FORMATS:
            image_format = name
        elif name in VIDEO_FORMATS:
            video_format = name
        else:
            raise ExportRequestError(f"unknown format {fmt!r} (images: png, jpeg, webp, tiff; videos: mp4, gif)")
    else:
        raise ExportRequestError("'format' must be a string or {\"image\": …, \"video\": …}")
    image_format = FORMAT_ALIASES.get(str(image_format).lower(), str(image_format).lower())
    video_format = str(video_format).lower()
    if image_format not in IMAGE_FORMATS:
        raise ExportRequestError(f"unknown image format {image_format!r} (png, jpeg, webp, tiff)")
    if video_format not in VIDEO_FORMATS:
        raise ExportRequestError(f"unknown video format {video_format!r} (mp4, gif)")

    metadata = body.get("metadata", "embed")
    if metadata not in METADATA_MODES:
        raise ExportRequestError(f"'metadata' must be one of {', '.join(METADATA_MODES)}")
    apply_edits = body.get("apply_edits", True)
    if not isinstance(apply_edits, bool):
        raise ExportRequestError("'apply_edits' must be true or false")

    lossless = options.get("lossless", False)
    if not isinstance(lossless, bool):
        raise ExportRequestError("options.lossless must be true or false")
    preset = options.get("preset", "fast")
    if preset not in MP4_PRESETS:
        raise ExportRequestError(f"options.preset must be one of {', '.join(MP4_PRESETS)}")
    fps = options.get("fps", 15)
    if isinstance(fps, bool) or not isinstance(fps, (int, float)) or not 1 <= fps <= 50:
        raise ExportRequestError("options.fps must be a number between 1 and 50")
    image_options = ImageOptions(quality=_int_option(options, "quality", 1, 100, None), lossless=lossless)
    video_options = VideoOptions(crf=_int_option(options, "crf", 0, 51, 23), preset=preset, fps=float(fps),
                                 width=_int_option(options, "width", 16, 4096, None))

    items: list[tuple[str, Path]] = []
    missing: list[str] = []
    seen: set[Path] = set()
    for rel in paths:
        path = resolve_user_path(output_dir, rel)  # UnsafePathError → 4xx for the whole request
        if path in seen:
            continue
        seen.add(path)
        if not path.is_file():
            missing.append(rel)
            continue
        if media_kind(path) not in ("image", "video"):
            raise ExportRequestError(f"{rel}: only images and videos can be exported", 415)
        items.append((relative_to_root(output_dir, path), path))
    if not items:
        raise ExportRequestError("none of the files exist", 404, missing=missing)
    return ExportSpec(items, image_format, video_format, image_options, video_options, metadata, apply_edits, missing)


# --------------------------------------------------------------------------- job
@dataclass
class ExportJob:
    id: str
    spec: ExportSpec
    folder: Path
    created_at: float = field(default_factory=time.time)
    state: str = "queued"
    files_done: int = 0
    fraction: float = 0.0  # of the file in progress
    current: str | None = None
    errors: list[dict] = field(default_factory=list)
    warnings: list[dict] = field(default_factory=list)
    outputs: list[tuple[str, Path]] = field(default_factory=list)
    download: Path | None = None
    download_name: str | None = None
    finished_at: float | None = None
    cancel: CancelToken = field(default_factory=CancelToken)
    task: asyncio.Task | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def files_total(self) -> int:
        return len(self.spec.items)

    @property
    def progress(self) -> float:
        if self.state in ("done", "downloaded"):
            return 1.0
        total = self.files_total + 1  # +1: packing
        return min(1.0, (self.files_done + self.fraction) / total)

    def status(self) -> dict:
        with self.lock:
            download_size = None
            if self.download is not None and self.state == "done":
                try:
                    download_size = self.download.stat().st_size
                except OSError:
                    pass
            return {
                "ok": True,
                "job": self.id,
                "state": self.state,
                "progress": round(self.progress, 4),
                "files_total": self.files_total,
                "files_done": self.files_done,
                "current": self.current,
                "errors": list(self.errors),
                "warnings": list(self.warnings),
                "missing": list(self.spec.missing),
                "outputs": [name for name, _ in self.outputs],
                "download_url": f"/holaf/images/export/{self.id}/download" if self.state == "done" else None,
                "download_name": self.download_name,
                "download_size": download_size,
                "format": {"image": self.spec.image_format, "video": self.spec.video_format},
                "metadata": self.spec.metadata,
                "apply_edits": self.spec.apply_edits,
                "created_at": self.created_at,
                "finished_at": self.finished_at,
            }


class OutputNames:
    """Unique names inside one export (``a.png`` and ``a.jpg`` both exported as PNG stay apart)."""

    def __init__(self) -> None:
        self.used: set[str] = set()

    def stem_for(self, rel: str) -> str:
        pure = PurePosixPath(rel)
        base = (pure.parent / pure.stem).as_posix() if str(pure.parent) != "." else pure.stem
        candidate, n = base, 1
        while candidate.lower() in self.used:
            candidate = f"{base}_{n}"
            n += 1
        self.used.add(candidate.lower())
        return candidate


# --------------------------------------------------------------------------- manager
class ExportManager:
    """Owns every job of this process; the routes are thin wrappers around it."""

    def __init__(self, *, output_dir: Path, data_dir: Path, load_edits: Callable[[Path], Edits | None],
                 read_metadata: Callable[[Path], GenerationMetadata | None], publish: Callable[[str, Any], None],
                 concurrency: int = 1, keep_minutes: float = 60.0) -> None:
        self.output_dir = Path(output_dir)
        self.temp_root = Path(data_dir) / TEMP_DIR_NAME
        self.load_edits = load_edits
        self.read_metadata = read_metadata
        self.publish = publish
        self.concurrency = max(1, int(concurrency))
        self.keep_s = keep_minutes * 60.0
        self.jobs: dict[str, ExportJob] = {}
        self.executor = concurrent.futures.ThreadPoolExecutor(max_workers=self.concurrency, thread_name_prefix="holaf-export")
        self._slots: asyncio.Semaphore | None = None
        self._janitor: asyncio.Task | None = None
        self._last_event: dict[str, float] = {}

    # -- lifecycle -----------------------------------------------------------
    def clean_temp_root(self) -> int:
        """Remove everything under the temporary export folder (start-up: nothing survives a restart)."""
        removed = 0
        if self.temp_root.is_dir():
            for entry in self.temp_root.iterdir():
                shutil.rmtree(entry, ignore_errors=True) if entry.is_dir() else entry.unlink(missing_ok=True)
                removed += 1
        self.temp_root.mkdir(parents=True, exist_ok=True)
        return removed

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        removed = await loop.run_in_executor(self.executor, self.clean_temp_root)
        if removed:
            log.info("Removed %d leftover export folder(s) from %s", removed, self.temp_root)
        self._slots = asyncio.Semaphore(self.concurrency)
        self._janitor = loop.create_task(self._janitor_loop())

    async def stop(self) -> None:
        if self._janitor is not None:
            self._janitor.cancel()
        for job in list(self.jobs.values()):
            if job.state not in FINISHED:
                job.cancel.cancel()
        tasks = [j.task for j in self.jobs.values() if j.task is not None and not j.task.done()]
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
        await asyncio.get_running_loop().run_in_executor(None, self._shutdown_executor)

    def _shutdown_executor(self) -> None:
        self.executor.shutdown(wait=True, cancel_futures=True)
        shutil.rmtree(self.temp_root, ignore_errors=True)

    # -- jobs ----------------------------------------------------------------
    def create(self, spec: ExportSpec) -> ExportJob:
        if self._slots is None:
            raise RuntimeError("the export service is not running")
        job_id = uuid.uuid4().hex
        job = ExportJob(job_id, spec, self.temp_root / job_id)
        self.jobs[job_id] = job
        job.task = asyncio.get_running_loop().create_task(self._run(job))
        return job

    def get(self, job_id: str) -> ExportJob:
        job = self.jobs.get(job_id)
        if job is None:
            raise JobNotFound(job_id)
        return job

    async def cancel(self, job_id: str) -> ExportJob:
        """Stop a job (or discard a finished one's files); answers once its folder is gone."""
        job = self.get(job_id)
        if job.state in ("queued", "running", "packing"):
            job.cancel.cancel()
            if job.state == "queued" and job.task is not None:
                job.task.cancel()  # waiting for a slot behind another job: stop waiting now
            if job.task is not None:
                try:
                    await asyncio.wait_for(asyncio.shield(job.task), 30)
                except (asyncio.TimeoutError, asyncio.CancelledError):
                    pass
        elif job.state == "done":
            self._set(job, "cancelled")
            await asyncio.get_running_loop().run_in_executor(None, self._remove_folder, job)
        return job

    def _set(self, job: ExportJob, state: str, **changes: Any) -> None:
        with job.lock:
            job.state = state
            for key, value in changes.items():
                setattr(job, key, value)
            if state in FINISHED and job.finished_at is None:
                job.finished_at = time.time()
        self._notify(job, force=True)

    def _notify(self, job: ExportJob, *, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._last_event.get(job.id, 0.0) < 0.25:
            return
        self._last_event[job.id] = now
        try:
            self.publish(PROGRESS_EVENT, {
                "job": job.id, "state": job.state, "progress": round(job.progress, 4),
                "files_done": job.files_done, "files_total": job.files_total, "current": job.current,
                "errors": len(job.errors),
            })
        except Exception:  # events are a convenience; polling the status route always works
            log.debug("could not publish export progress", exc_info=True)

    @staticmethod
    def _remove_folder(job: ExportJob) -> None:
        shutil.rmtree(job.folder, ignore_errors=True)

    async def _run(self, job: ExportJob) -> None:
        assert self._slots is not None
        loop = asyncio.get_running_loop()
        try:
            async with self._slots:
                if job.cancel.cancelled:
                    raise FfmpegCancelled("cancelled")
                self._set(job, "running")
                await loop.run_in_executor(self.executor, self._render_all, job)
                if job.cancel.cancelled:
                    raise FfmpegCancelled("cancelled")
                if not job.outputs:
                    raise RuntimeError("no file could be exported")
                self._set(job, "packing", current=None)
                await loop.run_in_executor(self.executor, self._pack, job)
                if job.cancel.cancelled:
                    raise FfmpegCancelled("cancelled")
                self._set(job, "done", fraction=0.0)
                log.info("Export %s ready: %d file(s), %d error(s)", job.id, len(job.outputs), len(job.errors))
        except (FfmpegCancelled, asyncio.CancelledError):
            await loop.run_in_executor(None, self._remove_folder, job)
            self._set(job, "cancelled", current=None)
        except Exception as exc:
            await loop.run_in_executor(None, self._remove_folder, job)
            if not job.errors:
                job.errors.append({"path": None, "error": str(exc)})
            self._set(job, "failed", current=None)
            log.warning("Export %s failed: %s", job.id, exc)

    # -- the work (worker threads) ---------------------------------------------------
    def _render_all(self, job: ExportJob) -> None:
        files_dir = job.folder / "files"
        files_dir.mkdir(parents=True, exist_ok=True)
        names = OutputNames()
        for rel, src in job.spec.items:
            if job.cancel.cancelled:
                return
            with job.lock:
                job.current, job.fraction = rel, 0.0
            self._notify(job, force=True)
            out_stem = files_dir / names.stem_for(rel)
            out_stem.parent.mkdir(parents=True, exist_ok=True)
            try:
                result = self._render_one(job, rel, src, out_stem)
            except FfmpegCancelled:
                return
            except Exception as exc:
                log.info("Export of %s failed: %s", rel, exc)
                with job.lock:
                    job.errors.append({"path": rel, "error": _describe(exc)})
            else:
                with job.lock:
                    for path in result.files:
                        job.outputs.append((path.relative_to(files_dir).as_posix(), path))
                    job.warnings.extend({"path": rel, "warning": w} for w in result.warnings)
            with job.lock:
                job.files_done += 1
                job.fraction = 0.0
            self._notify(job, force=True)

    def _render_one(self, job: ExportJob, rel: str, src: Path, out_stem: Path):
        spec = job.spec
        edits = self.load_edits(src) if spec.apply_edits else None
        meta = self.read_metadata(src) if spec.metadata != "strip" else None
        if media_kind(src) == "video":
            ffmpeg_exe = export_ffmpeg()
            if not ffmpeg_exe:
                raise RuntimeError("ffmpeg is not installed (install it or the imageio-ffmpeg package)")
            info = probe_video(src, ffmpeg=ffmpeg_exe)

            def progress(fraction: float) -> None:
                job.fraction = fraction
                self._notify(job)

            return export_video(ffmpeg_exe, src, out_stem, spec.video_format, info, spec.video_options,
                                metadata_mode=spec.metadata, meta=meta, edits=edits, apply_edits=spec.apply_edits,
                                on_progress=progress, cancel=job.cancel)
        return export_image(src, out_stem, spec.image_format, spec.image_options, metadata_mode=spec.metadata,
                            meta=meta, edits=edits, check_cancel=job.cancel.check)

    def _pack(self, job: ExportJob) -> None:
        """One output is the download; several become one ZIP (each file removed once it is in)."""
        if len(job.outputs) == 1:
            name, path = job.outputs[0]
            job.download, job.download_name = path, PurePosixPath(name).name
            return
        stamp = time.strftime("%Y%m%d-%H%M%S")
        archive = job.folder / f"holaf_export_{stamp}.zip"
        partial = archive.with_name(archive.name + ".partial")
        total = len(job.outputs)
        with zipfile.ZipFile(partial, "w", allowZip64=True) as zf:
            for index, (name, path) in enumerate(job.outputs):
                job.cancel.check()
                method = zipfile.ZIP_STORED if path.suffix.lower() in STORED_EXTS else zipfile.ZIP_DEFLATED
                zf.write(path, name, compress_type=method)
                path.unlink()
                job.fraction = (index + 1) / total
                self._notify(job)
        os.replace(partial, archive)
        shutil.rmtree(job.folder / "files", ignore_errors=True)
        job.download, job.download_name = archive, archive.name

    # -- download and housekeeping ------------------------------------------------------
    def downloaded(self, job: ExportJob) -> None:
        """The whole file went out: its folder is no longer needed (blocking)."""
        self._remove_folder(job)
        self._set(job, "downloaded")

    async def _janitor_loop(self) -> None:
        while True:
            await asyncio.sleep(min(60.0, max(1.0, self.keep_s / 4)))
            try:
                await self.expire()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("export clean-up pass failed")

    async def expire(self, now: float | None = None) -> int:
        """Forget finished jobs older than the keep time; remove their folders."""
        now = time.time() if now is None else now
        expired = 0
        for job in list(self.jobs.values()):
            if job.state in FINISHED and job.finished_at and now - job.finished_at > self.keep_s:
                if job.state == "done":
                    await asyncio.get_running_loop().run_in_executor(None, self._remove_folder, job)
                self.jobs.pop(job.id, None)
                self._last_event.pop(job.id, None)
                expired += 1
        return expired


def _describe(exc: BaseException) -> str:
    if isinstance(exc, (FfmpegError, ProbeError)):
        return f"ffmpeg: {exc}"
    if isinstance(exc, FileNotFoundError):
        return "the file disappeared before it could be exported"
    if isinstance(exc, OSError) and exc.strerror:
        return f"{exc.strerror}"
    text = str(exc) or type(exc).__name__
    return text if len(text) < 500 else text[:500] + "…"
