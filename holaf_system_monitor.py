"""System Monitor: CPU, memory, disks and every GPU, sampled only while someone watches.

One sampler task serves every client of ``/holaf/monitor/ws``. It runs only while at least one
client is subscribed, at the fastest interval any of them asked for, and each client gets
samples at its own rate. Nothing goes through ComfyUI's shared websocket, so other clients and
extensions never see our traffic (the "Unhandled message" spam users report elsewhere).

Protocol (JSON text frames)::

    client → {"type": "subscribe", "interval_ms": 1000}      250–10000, default from settings
             {"type": "subscribe", "interval_ms": 500, "history": false}   change rate only
             {"type": "unsubscribe"}   {"type": "ping"}
    server → {"type": "history", "columns": [...], "points": [...], "coarse": {...}, "jobs": [...], "gpu": {...}}
             {"type": "sample", "t", "cpu": {"percent", "per_core", "count"}, "ram": {...}, "swap": {...},
              "disks": [...], "disk_io": {...}, "process": {...}, "gpus": [...], "job": {...}}
             {"type": "job", "phase": "start"|"end", "t", "prompt_id", "status"}
             {"type": "unsubscribed"}  {"type": "pong"}  {"type": "error", "error", "code"}

Sampling never blocks the event loop: psutil and GPU libraries run on a worker thread, command
line tools as asyncio subprocesses, and nothing sleeps inside a measurement.
"""
from __future__ import annotations

import asyncio
import json
import logging
import time
from dataclasses import dataclass
from typing import Any, Awaitable, Callable

import psutil
from aiohttp import WSMsgType, web

from .holaf_config import Setting
from .holaf_http import json_dumps, json_ok
from .holaf_system_monitor_backend.gpu import GpuSet, Probe, ProbeEnvironment, detect_gpus
from .holaf_system_monitor_backend.history import MonitorHistory, history_columns, history_values
from .holaf_system_monitor_backend.host import HostSampler, disk_targets

log = logging.getLogger("holaf.monitor")

SECTION = "SystemMonitor"
MIN_INTERVAL_MS = 250
MAX_INTERVAL_MS = 10000
DEFAULT_INTERVAL_MS = 1000
BACKGROUND_INTERVAL_S = 5.0
FIRST_SAMPLE_DELAY_S = 0.25
MAX_MESSAGE_BYTES = 4096
DETECT_TIMEOUT_S = 20.0
WINDOWS = ("1m", "10m", "1h", "24h")
JOB_END_STATUS = {"execution_success": "success", "execution_error": "error", "execution_interrupted": "interrupted"}

SETTINGS = [
    Setting(SECTION, "update_interval_ms", "int", DEFAULT_INTERVAL_MS,
            "How often the monitor refreshes, in milliseconds (250–10000).", minimum=MIN_INTERVAL_MS, maximum=MAX_INTERVAL_MS),
    Setting(SECTION, "history_minutes", "int", 60, "Full-resolution history kept in memory (one point per second).",
            minimum=1, maximum=360),
    Setting(SECTION, "history_hours", "int", 24, "Older history kept at one point per minute.", minimum=1, maximum=168),
    Setting(SECTION, "record_in_background", "bool", False,
            "Keep recording history every 5 s while no monitor is open (otherwise nothing is sampled then)."),
    Setting(SECTION, "gpu", "choice", "auto", "GPU readings: detect NVIDIA/AMD/Apple GPUs, or off.", choices=("auto", "off")),
    Setting(SECTION, "collapsed", "bool", False, "The overlay shows only the value chips.", ui=False),
    Setting(SECTION, "window", "choice", "10m", "Time span of the charts.", choices=WINDOWS, ui=False),
]


class ProtocolError(Exception):
    """A client message we refuse; answered with an ``error`` frame, the socket stays open."""

    def __init__(self, message: str, code: str) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


def parse_client_message(text: str, default_interval_ms: int = DEFAULT_INTERVAL_MS) -> dict:
    """Validate one client frame; returns a normalised command or raises :class:`ProtocolError`."""
    try:
        data = json.loads(text)
    except ValueError:
        raise ProtocolError("messages must be JSON objects such as {\"type\": \"subscribe\", \"interval_ms\": 1000}",
                            "invalid_json") from None
    if not isinstance(data, dict) or not isinstance(data.get("type"), str):
        raise ProtocolError("a message needs a string field 'type'", "invalid_message")
    kind = data["type"]
    if kind == "subscribe":
        interval = data.get("interval_ms", default_interval_ms)
        if isinstance(interval, float) and interval.is_integer():
            interval = int(interval)
        if isinstance(interval, bool) or not isinstance(interval, int):
            raise ProtocolError(f"interval_ms must be a whole number of milliseconds ({MIN_INTERVAL_MS}–{MAX_INTERVAL_MS})",
                                "invalid_interval")
        if not MIN_INTERVAL_MS <= interval <= MAX_INTERVAL_MS:
            raise ProtocolError(f"interval_ms must be between {MIN_INTERVAL_MS} and {MAX_INTERVAL_MS}, got {interval}",
                                "invalid_interval")
        history = data.get("history", True)
        if not isinstance(history, bool):
            raise ProtocolError("history must be true or false", "invalid_message")
        return {"type": "subscribe", "interval_ms": interval, "history": history}
    if kind in ("unsubscribe", "ping"):
        return {"type": kind}
    raise ProtocolError(f"unknown message type {kind[:40]!r} (expected subscribe, unsubscribe or ping)", "unknown_type")


@dataclass(eq=False)
class Subscriber:
    """One watching client. ``send`` is None for the background recorder."""

    send: Callable[[str], Awaitable[None]] | None
    interval: float = DEFAULT_INTERVAL_MS / 1000
    next_due: float = 0.0
    subscribed: bool = False
    sending: bool = False
    sent: int = 0
    dropped: int = 0


class SystemMonitor:
    """The single sampler, its subscribers, the history and the job markers."""

    def __init__(self, *, host: HostSampler, run_blocking: Callable[..., Awaitable[Any]],
                 detect: Callable[[], Awaitable[GpuSet]], config: Any = None,
                 detect_timeout: float = DETECT_TIMEOUT_S) -> None:
        self.host = host
        self.detect_timeout = detect_timeout
        self.run_blocking = run_blocking
        self._detect = detect
        self.config = config
        self.gpus: GpuSet | None = None
        self.history = MonitorHistory(history_columns(0), **self._history_lengths())
        self.samples_taken = 0
        self.job: dict[str, Any] = {"running": False, "prompt_id": None, "since": None}
        self._subscribers: set[Subscriber] = set()
        self._background = Subscriber(None, BACKGROUND_INTERVAL_S, subscribed=True)
        self._task: asyncio.Task | None = None
        self._detect_task: asyncio.Future | None = None
        self._wake_future: asyncio.Future | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._send_tasks: set[asyncio.Task] = set()
        self._latest: dict | None = None
        self._latest_text: str | None = None
        self._latest_at = float("-inf")
        self._gpu_count = 0
        self._stopped = False

    # -- settings --------------------------------------------------------------
    def _setting(self, key: str, default: Any) -> Any:
        if self.config is None:
            return default
        try:
            return self.config.get(SECTION, key)
        except KeyError:
            return default

    def _history_lengths(self) -> dict:
        return {"fine_seconds": 60 * self._setting("history_minutes", 60),
                "coarse_seconds": 3600 * self._setting("history_hours", 24)}

    def default_interval_ms(self) -> int:
        return int(self._setting("update_interval_ms", DEFAULT_INTERVAL_MS))

    # -- lifecycle ---------------------------------------------------------------
    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stopped = False
        self._detect_task = asyncio.ensure_future(self._detect_gpus())
        if self._setting("record_in_background", False):
            self._ensure_running()

    async def _detect_gpus(self) -> None:
        try:
            gpus = await asyncio.wait_for(self._detect(), self.detect_timeout)
        except asyncio.TimeoutError:
            log.warning("System Monitor: GPU detection took over %s s (a hung driver?); showing CPU, memory and disks only",
                        self.detect_timeout)
            gpus = GpuSet([], [Probe("detection", "any", reason=f"timed out after {self.detect_timeout:g} s")])
        except Exception:
            log.exception("System Monitor: GPU detection failed; showing CPU, memory and disks only")
            gpus = GpuSet([])
        self.gpus = gpus
        self._gpu_count = len(gpus.status()["devices"])
        fresh = MonitorHistory(history_columns(self._gpu_count), **self._history_lengths())
        for marker in self.history.jobs:
            fresh.add_job(marker)
        self.history = fresh

    async def ready(self) -> None:
        """Wait for GPU detection (started with the server, so usually long done)."""
        if self._detect_task is None:
            self._loop = asyncio.get_running_loop()
            self._detect_task = asyncio.ensure_future(self._detect_gpus())
        await asyncio.shield(self._detect_task)

    async def stop(self) -> None:
        self._stopped = True
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        for send in list(self._send_tasks):
            send.cancel()
        if self._detect_task is not None:
            await asyncio.gather(self._detect_task, return_exceptions=True)
        if self.gpus is not None:
            await self.gpus.close()
        self._subscribers.clear()

    @property
    def is_sampling(self) -> bool:
        return self._task is not None and not self._task.done()

    @property
    def subscriber_count(self) -> int:
        return sum(1 for s in self._subscribers if s.send is not None)

    # -- subscribers ------------------------------------------------------------------
    async def subscribe(self, sub: Subscriber, interval_ms: int, *, with_history: bool = True) -> None:
        """Send the history (unless declined), the latest sample if still fresh, then samples at ``interval_ms``."""
        await self.ready()
        if self._stopped:
            return
        self.history.resize(**self._history_lengths())
        loop = asyncio.get_running_loop()
        sub.interval = interval_ms / 1000
        if with_history:
            message = self.history_message(interval_ms)
            await sub.send(await self.run_blocking(json_dumps, message))
        now = loop.time()
        if not sub.subscribed:
            sub.next_due = now
            if self._latest is not None and now - self._latest_at < sub.interval:
                if self._latest_text is None:
                    self._latest_text = json_dumps(self._latest)
                await sub.send(self._latest_text)
                sub.next_due = self._latest_at + sub.interval
        else:
            sub.next_due = min(sub.next_due, now + sub.interval)
        sub.subscribed = True
        self._subscribers.add(sub)
        self._ensure_running()
        self._wake()

    def unsubscribe(self, sub: Subscriber) -> None:
        sub.subscribed = False
        if sub in self._subscribers:
            self._subscribers.discard(sub)
            self._wake()  # the sampler re-checks: slower tick, or stop

    def history_message(self, interval_ms: int) -> dict:
        return {
            "type": "history", "interval_ms": interval_ms, "t": round(time.time(), 3),
            "cpu_count": self.host.cpu_count, "gpu": self.gpu_status(), "job": dict(self.job),
            **self.history.snapshot(),
        }

    def gpu_status(self) -> dict:
        if self.gpus is None:
            return {"backends": [], "devices": [], "message": "GPU detection is still running", "tried": []}
        status = self.gpus.status()
        if self._setting("gpu", "auto") == "off":
            status["message"] = "GPU monitoring is turned off in the settings"
        return status

    # -- the sampler ----------------------------------------------------------------------
    def _tick(self) -> float | None:
        intervals = [s.interval for s in self._subscribers if s.subscribed]
        if self._setting("record_in_background", False) and not self._stopped:
            intervals.append(self._background.interval)
        return min(intervals) if intervals else None

    def _ensure_running(self) -> None:
        if not self._stopped and (self._task is None or self._task.done()):
            self._task = asyncio.ensure_future(self._run())

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            await self.ready()
            tick = self._tick()
            if tick is None:
                return
            if self.host.counters_age() > max(2 * tick, 5.0):
                await self.run_blocking(self.host.prime)  # rates need a "before": take it now, sample shortly
                due = loop.time() + min(tick, FIRST_SAMPLE_DELAY_S)
            else:
                due = loop.time()
            last = due - tick
            failures = 0
            while True:
                tick = self._tick()
                if tick is None:
                    return  # nobody watches: stop sampling entirely
                due = min(due, last + tick)  # a faster subscriber arrived
                delay = due - loop.time()
                if delay > 0:
                    await self._sleep(delay)
                    continue
                try:
                    sample = await self.take_sample()
                    failures = 0
                except Exception:
                    failures += 1
                    # the first failure with its traceback, then quietly: a broken sensor must not flood the log
                    log.log(logging.ERROR if failures == 1 else logging.DEBUG, "System Monitor: a sample failed", exc_info=True)
                    sample = None
                last = due
                now = loop.time()
                if sample is not None:
                    self._record(sample, now, tick)
                due += tick
                if due < now:
                    due = now + tick  # fell behind (slow disk, busy machine): skip, never burst
        finally:
            if self._task is asyncio.current_task():
                self._task = None

    async def _sleep(self, delay: float) -> None:
        """Sleep until the next tick or until ``_wake`` (a subscriber came or left); no task per tick."""
        loop = asyncio.get_running_loop()
        future = self._wake_future = loop.create_future()
        timer = loop.call_later(delay, _resolve, future)
        try:
            await future
        finally:
            timer.cancel()
            self._wake_future = None

    def _wake(self) -> None:
        if self._wake_future is not None:
            _resolve(self._wake_future)

    async def take_sample(self) -> dict:
        """One full reading: host values on a worker thread and the GPUs, concurrently."""
        self.samples_taken += 1
        if self.gpus is not None and self.gpus.backends and self._setting("gpu", "auto") != "off":
            host, gpus = await asyncio.gather(self.run_blocking(self.host.sample), self.gpus.read())
        else:
            host, gpus = await self.run_blocking(self.host.sample), []
        sample = {"type": "sample", "t": round(time.time(), 3), **host, "gpus": gpus, "job": dict(self.job)}
        if self.gpus is not None and self.gpus.errors:
            sample["gpu_errors"] = dict(self.gpus.errors)
        return sample

    def _record(self, sample: dict, now: float, tick: float) -> None:
        self._latest, self._latest_text, self._latest_at = sample, None, now
        try:
            self.history.add(sample["t"], history_values(sample, self._gpu_count))
        except ValueError:
            log.debug("history point skipped", exc_info=True)
        for sub in list(self._subscribers):
            if sub.send is None or not sub.subscribed or now < sub.next_due - tick / 2:
                continue
            sub.next_due += sub.interval
            if sub.next_due <= now:
                sub.next_due = now + sub.interval
            if sub.sending:
                sub.dropped += 1  # a slow client skips samples instead of queueing them
                continue
            if self._latest_text is None:
                self._latest_text = json_dumps(sample)
            self._spawn_send(sub, self._latest_text)

    def _spawn_send(self, sub: Subscriber, text: str) -> None:
        sub.sending = True

        async def send() -> None:
            try:
                await sub.send(text)
                sub.sent += 1
            except (ConnectionError, RuntimeError):
                self.unsubscribe(sub)
            finally:
                sub.sending = False

        task = asyncio.ensure_future(send())
        self._send_tasks.add(task)
        task.add_done_callback(self._send_tasks.discard)

    def _broadcast(self, message: dict) -> None:
        text = json_dumps(message)
        for sub in list(self._subscribers):
            if sub.send is not None and sub.subscribed:
                task = asyncio.ensure_future(_quiet_send(sub.send, text))
                self._send_tasks.add(task)
                task.add_done_callback(self._send_tasks.discard)

    # -- ComfyUI jobs --------------------------------------------------------------------------
    def handle_host_event(self, event: str, data: Any) -> None:
        """ComfyUI execution events, from any thread: mark job start/end on the timeline."""
        if event == "executing":
            if not isinstance(data, dict) or data.get("node") is not None:
                return  # per-node progress: far too frequent and not needed
        elif event != "execution_start" and event not in JOB_END_STATUS:
            return
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            self._job_event(event, data)
        else:
            loop.call_soon_threadsafe(self._job_event, event, data)

    def _job_event(self, event: str, data: Any) -> None:
        prompt_id = data.get("prompt_id") if isinstance(data, dict) else None
        prompt_id = str(prompt_id)[:100] if prompt_id is not None else None
        now = round(time.time(), 3)
        markers = []
        if event == "execution_start":
            if self.job["running"]:  # the end of the previous job was never reported
                markers.append(self._end_marker(now, "unknown"))
            self.job = {"running": True, "prompt_id": prompt_id, "since": now}
            markers.append({"t": now, "phase": "start", "prompt_id": prompt_id})
        else:
            if not self.job["running"]:
                return  # ComfyUI reports the end twice (executing node=None, then execution_success)
            markers.append(self._end_marker(now, JOB_END_STATUS.get(event, "success")))
        for marker in markers:
            self.history.add_job(marker)
            self._broadcast({"type": "job", **marker})

    def _end_marker(self, now: float, status: str) -> dict:
        since = self.job["since"] or now
        marker = {"t": now, "phase": "end", "prompt_id": self.job["prompt_id"], "status": status,
                  "duration_s": round(now - since, 3)}
        self.job = {"running": False, "prompt_id": None, "since": None}
        return marker

    def status(self) -> dict:
        return {
            "sampling": self.is_sampling, "subscribers": self.subscriber_count, "samples_taken": self.samples_taken,
            "record_in_background": bool(self._setting("record_in_background", False)),
            "gpu": self.gpu_status(), "job": dict(self.job), "history_points": len(self.history.fine),
            "default_interval_ms": self.default_interval_ms(),
        }


def _resolve(future: asyncio.Future) -> None:
    if not future.done():
        future.set_result(None)


async def _quiet_send(send: Callable[[str], Awaitable[None]], text: str) -> None:
    try:
        await send(text)
    except (ConnectionError, RuntimeError):
        pass


# --------------------------------------------------------------------------- feature setup
def setup(ctx, routes) -> None:
    host = HostSampler(disk_targets(ctx.paths.output_dir, ctx.paths.models_dirs))

    async def detect() -> GpuSet:
        if ctx.config.get(SECTION, "gpu") == "off":
            return GpuSet([])
        env = ProbeEnvironment(ram_total=await ctx.run_blocking(lambda: psutil.virtual_memory().total))
        return await detect_gpus(ctx.run_blocking, env)

    monitor = SystemMonitor(host=host, run_blocking=ctx.run_blocking, detect=detect, config=ctx.config)
    ctx.state["system_monitor"] = monitor
    ctx.events.on_host_event(monitor.handle_host_event)
    ctx.add_service("System Monitor", monitor.start, monitor.stop)

    @routes.get("/holaf/monitor/status")
    async def monitor_status(request: web.Request) -> web.Response:
        """Whether the sampler runs, for how many clients, and which GPU backends were found."""
        return json_ok(monitor.status())

    @routes.websocket("/holaf/monitor/ws")
    async def monitor_socket(request: web.Request) -> web.StreamResponse:
        """Live samples for one client; see the module docstring for the protocol."""
        ws = web.WebSocketResponse(heartbeat=30, max_msg_size=MAX_MESSAGE_BYTES)
        await ws.prepare(request)
        sub = Subscriber(ws.send_str)
        try:
            async for msg in ws:
                if msg.type == WSMsgType.TEXT:
                    await _handle_text(monitor, sub, ws, msg.data)
                elif msg.type == WSMsgType.BINARY:
                    await ws.send_str(json_dumps({"type": "error", "error": "binary frames are not accepted", "code": "invalid_message"}))
                elif msg.type == WSMsgType.ERROR:
                    break
        except (ConnectionError, RuntimeError):
            pass
        finally:
            monitor.unsubscribe(sub)
        return ws


async def _handle_text(monitor: SystemMonitor, sub: Subscriber, ws: web.WebSocketResponse, text: str) -> None:
    try:
        command = parse_client_message(text, monitor.default_interval_ms())
    except ProtocolError as exc:
        await ws.send_str(json_dumps({"type": "error", "error": exc.message, "code": exc.code}))
        return
    if command["type"] == "subscribe":
        await monitor.subscribe(sub, command["interval_ms"], with_history=command["history"])
    elif command["type"] == "unsubscribe":
        monitor.unsubscribe(sub)
        await ws.send_str(json_dumps({"type": "unsubscribed"}))
    else:
        await ws.send_str(json_dumps({"type": "pong", "t": round(time.time(), 3)}))
