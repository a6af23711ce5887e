"""Live updates: where "this file or folder may have changed" comes from.

Two event sources feed the index, chosen by ``[ImageViewer] watch_mode``:

* ``inotify`` (watchdog's native observer: inotify, FSEvents, ReadDirectoryChanges):
  file events go to the debouncer; a slow folder poll runs beside it as a safety
  net (lost events, a watch that could not be added, a dead observer);
* ``poll``: a folder poller. It stats *folders* only (adding, removing or
  renaming a file changes its folder's mtime) and hands changed folders to the
  index, which compares their listing with the database. Cheap at 100k files,
  unlike a full-tree snapshot (watchdog's PollingObserver never finished one on
  32k files in the earlier tool).

``off`` disables live updates (rescans and "Sync database" still work).
``auto`` tries the observer and falls back to the poller when it cannot start
(inotify watch or instance limits: ``ENOSPC``/``EMFILE``, common in Docker) or
dies later. The :class:`Debouncer` turns bursts of events into one "stable"
notice per file: a file is handed over once its size and mtime stopped changing
(or right after its writer closed it), so half-written files wait.
"""
from __future__ import annotations

import errno
import logging
import os
import threading
import time
from typing import Callable

from . import logic
from .scanner import list_dirs

log = logging.getLogger("holaf.images.watch")

WATCH_MODES = ("auto", "inotify", "poll", "off")
QUIET_S = 0.4          # no event for this long → check the size
CLOSED_QUIET_S = 0.1   # after the writer closed the file
SAFETY_POLL_S = 30.0   # folder poll beside the native observer


class Debouncer:
    """Collects file paths from any thread; :meth:`pop_due` returns the stable ones.

    A path is due when no event came for ``quiet`` seconds and two ``stat`` calls
    ``quiet`` apart agree (or the file is gone, or its writer closed it). A file whose
    mtime is already ``quiet`` old when it is first looked at (found by a folder poll
    after it was written) is due at once.
    """

    def __init__(self, stat: Callable[[str], tuple[int, int] | None], *, quiet: float = QUIET_S) -> None:
        self._stat = stat
        self.quiet = quiet
        self._lock = threading.Lock()
        # rel → [last_event_time, last_stat or None, closed]
        self._pending: dict[str, list] = {}

    def add(self, rel: str, *, closed: bool = False, now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        with self._lock:
            entry = self._pending.get(rel)
            if entry is None:
                self._pending[rel] = [now, None, closed, True]
            else:
                entry[0] = now
                entry[2] = entry[2] or closed
                entry[3] = False
                if not closed:
                    entry[1] = None

    def __len__(self) -> int:
        with self._lock:
            return len(self._pending)

    def next_check_in(self, now: float | None = None) -> float | None:
        """Seconds until the earliest entry could be due (None when empty)."""
        now = time.monotonic() if now is None else now
        with self._lock:
            if not self._pending:
                return None
            waits = [0.0 if e[3] else (e[0] + (CLOSED_QUIET_S if e[2] else self.quiet)) - now
                     for e in self._pending.values()]
        return max(0.0, min(waits))

    def pop_due(self, now: float | None = None) -> list[str]:
        now = time.monotonic() if now is None else now
        with self._lock:
            candidates = [(rel, list(e)) for rel, e in self._pending.items()
                          if e[3] or now - e[0] >= (CLOSED_QUIET_S if e[2] else self.quiet)]
        due = []
        settled_ns = time.time_ns() - int(self.quiet * 1e9)
        for rel, (event_time, last, closed, first_look) in candidates:
            current = self._stat(rel)
            with self._lock:
                entry = self._pending.get(rel)
                if entry is None or entry[0] != event_time:
                    continue  # a newer event arrived meanwhile
                waited = now - event_time >= (CLOSED_QUIET_S if closed else self.quiet)
                settled = current is not None and current[1] <= settled_ns
                if current is None and not waited:
                    entry[3] = False  # not there yet (or just renamed): give it the quiet period
                    continue
                if current is None or (closed and waited) or settled or (last is not None and current == last):
                    del self._pending[rel]
                    due.append(rel)
                elif first_look and not waited:
                    entry[3] = False
                    entry[1] = current
                else:
                    entry[1] = current
                    entry[0] = now  # still changing (or first look): wait another quiet period
                    entry[2] = False
        return due


class FolderPoller:
    """Stats every known folder each tick; reports folders whose mtime moved."""

    def __init__(self, root: str, *, exclude: set[str], on_dirs: Callable[[list[str]], None],
                 interval: float, name: str = "holaf-images-poll",
                 health_check: Callable[[], None] | None = None) -> None:
        self.root = root
        self.health_check = health_check
        self.exclude = exclude
        self.on_dirs = on_dirs
        self.interval = interval
        self._stop = threading.Event()
        self._poke = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._mtimes: dict[str, int] | None = None
        self.errors = 0

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._poke.set()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout=5)

    def poke(self) -> None:
        """Poll now (e.g. ComfyUI just finished a job)."""
        self._poke.set()

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                if self.health_check is not None:
                    self.health_check()
                if self._stop.is_set():
                    break
                self.tick()
            except Exception:  # never let the poller die: back off and retry
                self.errors += 1
                log.exception("Folder poll failed; retrying in 5 s")
                self._stop.wait(5)
            self._poke.wait(self.interval)
            self._poke.clear()

    def tick(self) -> list[str]:
        """One pass. The first builds the baseline and reports nothing."""
        if self._mtimes is None:
            self._mtimes = list_dirs(self.root, exclude=self.exclude, should_stop=self._stop.is_set)
            return []
        changed: list[str] = []
        recent_ns = time.time_ns() - 2_000_000_000  # coarse-mtime filesystems: look again at "just now" folders
        for path, old in list(self._mtimes.items()):
            try:
                mtime = os.stat(path, follow_symlinks=False).st_mtime_ns
            except OSError:
                del self._mtimes[path]
                changed.append(path)
                continue
            if mtime != old or mtime >= recent_ns:
                self._mtimes[path] = mtime
                if mtime != old:
                    changed.append(path)
                    for sub, sub_mtime in list_dirs(path, exclude=self.exclude).items():
                        if sub not in self._mtimes:
                            self._mtimes[sub] = sub_mtime
                            changed.append(sub)
        if changed:
            self.on_dirs(sorted(set(changed)))
        return changed


class Watcher:
    """Owns the event source for one output folder and reports into callbacks.

    ``on_file(rel, closed)`` for a file that may have changed, ``on_dir(rel)`` for
    a folder to compare with the index (created, deleted, moved, or changed),
    ``on_move(src, dest)`` for a file renamed inside the folder.
    """

    def __init__(self, root: str, *, mode: str, poll_interval: float, exclude: set[str],
                 on_file: Callable[[str, bool], None], on_dir: Callable[[str], None],
                 on_move: Callable[[str, str], None] | None = None,
                 observer_factory: Callable[[], object] | None = None) -> None:
        if mode not in WATCH_MODES:
            raise ValueError(f"watch_mode must be one of {', '.join(WATCH_MODES)}")
        self.root = os.path.realpath(root)
        self.requested_mode = mode
        self.poll_interval = poll_interval
        self.exclude = exclude
        self.on_file = on_file
        self.on_dir = on_dir
        self.on_move = on_move
        self._observer_factory = observer_factory
        self.active_mode = "off"
        self.fallback_reason: str | None = None
        self._observer = None
        self._poller: FolderPoller | None = None
        self._lock = threading.Lock()
        self._stopped = False

    # -- lifecycle -------------------------------------------------------------------
    def start(self) -> None:
        if self.requested_mode == "off":
            self.active_mode = "off"
            return
        if self.requested_mode in ("auto", "inotify"):
            try:
                self._start_observer()
            except Exception as exc:  # noqa: BLE001 - any failure means: poll instead
                self._fall_back(exc)
                return
            self.active_mode = "inotify"
            self._start_poller(SAFETY_POLL_S, name="holaf-images-safety-poll")
        else:
            self.active_mode = "poll"
            self._start_poller(self.poll_interval)

    def stop(self) -> None:
        self._stopped = True
        with self._lock:
            observer, self._observer = self._observer, None
            poller, self._poller = self._poller, None
        if poller is not None:
            poller.stop()
        if observer is not None:
            try:
                observer.stop()
                observer.join(timeout=5)
            except Exception:
                log.debug("observer stop failed", exc_info=True)
        self.active_mode = "off"

    def poke(self) -> None:
        poller = self._poller
        if poller is not None:
            poller.poke()

    def describe(self) -> dict:
        return {"requested": self.requested_mode, "mode": self.active_mode, "fallback_reason": self.fallback_reason}

    # -- native observer -------------------------------------------------------------------
    def _start_observer(self) -> None:
        from watchdog.events import FileSystemEventHandler

        watcher = self

        class Handler(FileSystemEventHandler):
            def on_any_event(self, event) -> None:  # called on watchdog's thread
                try:
                    watcher._on_event(event)
                except Exception:
                    log.exception("watch event handling failed")

        if self._observer_factory is not None:
            observer = self._observer_factory()
        else:
            from watchdog.observers import Observer

            observer = Observer()
        observer.schedule(Handler(), self.root, recursive=True)
        observer.start()
        self._observer = observer

    def _on_event(self, event) -> None:
        kind = event.event_type
        if kind in ("opened", "closed_no_write"):
            return
        if kind == "moved" and not event.is_directory and self.on_move is not None:
            src, dest = self._rel(os.fsdecode(event.src_path)), self._rel(os.fsdecode(event.dest_path))
            if src is not None and dest is not None:
                self.on_move(src, dest)
                return
        paths = [event.src_path]
        if getattr(event, "dest_path", None):
            paths.append(event.dest_path)
        for raw in paths:
            path = os.fsdecode(raw)
            rel = self._rel(path)
            if rel is None:
                continue
            if event.is_directory:
                if kind != "modified":
                    self.on_dir(rel)
            else:
                self.on_file(rel, kind == "closed")

    def _rel(self, path: str) -> str | None:
        path = os.path.abspath(path)
        if not path.startswith(self.root + os.sep):
            return None
        if any(path == ex or path.startswith(ex + os.sep) for ex in self.exclude):
            return None
        rel = path[len(self.root) + 1:].replace(os.sep, "/")
        first = rel.split("/", 1)[0]
        if first == logic.TRASH_DIR or any(part.startswith(".") for part in rel.split("/")):
            return None
        return rel

    def _fall_back(self, exc: BaseException) -> None:
        code = getattr(exc, "errno", None)
        why = {errno.ENOSPC: "inotify watch limit reached (ENOSPC)", errno.EMFILE: "inotify instance or file limit reached (EMFILE)"}.get(
            code, f"{type(exc).__name__}: {exc}")
        self.fallback_reason = why
        level = logging.ERROR if self.requested_mode == "inotify" else logging.WARNING
        log.log(level, "Live updates: the file-system observer could not start (%s); polling folders every %.1f s instead. "
                "On Linux, raising fs.inotify.max_user_watches / max_user_instances restores instant updates.",
                why, self.poll_interval)
        try:
            if self._observer is not None:
                self._observer.stop()
        except Exception:
            pass
        self._observer = None
        self.active_mode = "poll"
        self._start_poller(self.poll_interval)

    # -- poller ------------------------------------------------------------------------------
    def _start_poller(self, interval: float, *, name: str = "holaf-images-poll") -> None:
        def health_check() -> None:
            if self._observer is not None and not self._stopped and not self._observer_alive():
                self._fall_back(RuntimeError("the file-system observer stopped"))

        def on_dirs(dirs: list[str]) -> None:
            for path in dirs:
                rel = self._rel(path) if path != self.root else ""
                if rel is not None:
                    self.on_dir(rel)

        with self._lock:
            if self._stopped:
                return
            old, self._poller = self._poller, FolderPoller(
                self.root, exclude=set(self.exclude) | {os.path.join(self.root, logic.TRASH_DIR)},
                on_dirs=on_dirs, interval=interval, name=name, health_check=health_check)
        if old is not None:
            old.stop()
        self._poller.start()

    def _observer_alive(self) -> bool:
        observer = self._observer
        try:
            return observer is not None and observer.is_alive()
        except Exception:
            return False
