"""The one small object every module receives instead of importing ComfyUI.

``HolafContext`` carries the folders (taken from ``folder_paths`` inside ComfyUI,
from the command line standalone), the config, the database, the security core,
the event hub and the background services. Only ``__init__.py`` knows about
ComfyUI; everything else is built from this context, so it runs and is tested
without ComfyUI.
"""
from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import time
import weakref
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Awaitable, Callable

from aiohttp import WSMsgType, web

from .holaf_config import HolafConfig
from .holaf_database import Database
from .holaf_security import Security

log = logging.getLogger("holaf.context")

HOST_EXECUTION_EVENTS = frozenset(
    {"execution_start", "execution_cached", "executing", "executed", "execution_success",
     "execution_error", "execution_interrupted", "status", "progress"}
)


@dataclass
class HostPaths:
    """Folders of the host. Only ``output_dir`` and ``data_dir`` are always set."""

    output_dir: Path
    data_dir: Path
    input_dir: Path | None = None
    temp_dir: Path | None = None
    comfy_root: Path | None = None
    custom_nodes_dir: Path | None = None
    models_dirs: dict[str, list[Path]] = field(default_factory=dict)


@dataclass
class Service:
    """A long-lived background job started with the server and stopped with it."""

    name: str
    start: Callable[[], Awaitable[None]]
    stop: Callable[[], Awaitable[None]]
    #: Runs when the server *begins* to shut down, before aiohttp waits for open requests:
    #: a service holding long-lived sockets closes them here, or shutdown hangs until its timeout.
    shutdown: Callable[[], Awaitable[None]] | None = None


class EventHub:
    """Pushes ``{"type", "data"}`` events to open clients; relays the host's execution events.

    ``publish`` may be called from any thread. Inside ComfyUI events ride on
    ComfyUI's own websocket (``send_sync``); standalone they go to the clients of
    ``/holaf/events``.
    """

    def __init__(self) -> None:
        self._host_listeners: list[Callable[[str, Any], None]] = []

    def publish(self, event: str, data: Any) -> None:
        """Send an event to every open client. Each host provides the transport."""
        log.debug("no client transport for event %s", event)

    def on_host_event(self, callback: Callable[[str, Any], None]) -> Callable[[], None]:
        """Call ``callback(event, data)`` for ComfyUI execution events (from any thread)."""
        self._host_listeners.append(callback)
        return lambda: self._host_listeners.remove(callback) if callback in self._host_listeners else None

    def emit_host_event(self, event: str, data: Any) -> None:
        for callback in list(self._host_listeners):
            try:
                callback(event, data)
            except Exception:  # one listener must not break ComfyUI's messaging
                log.exception("host event listener failed for %s", event)


class ComfyEventHub(EventHub):
    """Events through ComfyUI's websocket; observes ``send_sync`` to see job progress."""

    def __init__(self, prompt_server) -> None:
        super().__init__()
        self.prompt_server = prompt_server
        self._original_send_sync = prompt_server.send_sync
        hub_ref = weakref.ref(self)
        original = self._original_send_sync

        def send_sync(event, data, sid=None):
            original(event, data, sid)
            hub = hub_ref()
            if hub is not None and event in HOST_EXECUTION_EVENTS:
                hub.emit_host_event(event, data)

        prompt_server.send_sync = send_sync

    def publish(self, event: str, data: Any) -> None:
        self._original_send_sync(event, data, None)


class StandaloneEventHub(EventHub):
    """Events for the standalone server, fanned out to ``/holaf/events`` sockets."""

    def __init__(self) -> None:
        super().__init__()
        self._sockets: set[web.WebSocketResponse] = set()
        self._loop: asyncio.AbstractEventLoop | None = None

    def bind_loop(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop

    def publish(self, event: str, data: Any) -> None:
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        message = {"type": event, "data": data}
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            loop.create_task(self._broadcast(message))
        else:
            asyncio.run_coroutine_threadsafe(self._broadcast(message), loop)

    async def _broadcast(self, message: dict) -> None:
        for ws in list(self._sockets):
            if ws.closed:
                self._sockets.discard(ws)
                continue
            try:
                await ws.send_json(message)
            except (ConnectionError, RuntimeError):
                self._sockets.discard(ws)

    async def handle_socket(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(heartbeat=30)
        await ws.prepare(request)
        self._sockets.add(ws)
        try:
            async for msg in ws:
                if msg.type == WSMsgType.TEXT and msg.data == "ping":
                    await ws.send_str("pong")
        finally:
            self._sockets.discard(ws)
        return ws

    async def close_all(self) -> None:
        for ws in list(self._sockets):
            await ws.close()
        self._sockets.clear()

    @property
    def client_count(self) -> int:
        return len(self._sockets)


@dataclass
class HolafContext:
    mode: str  # "comfyui" or "standalone"
    paths: HostPaths
    extension_dir: Path
    config: HolafConfig
    db: Database
    security: Security
    events: EventHub
    js_base_url: str
    version: str
    started_at: float = field(default_factory=time.time)
    services: list[Service] = field(default_factory=list)
    executor: concurrent.futures.ThreadPoolExecutor = field(
        default_factory=lambda: concurrent.futures.ThreadPoolExecutor(max_workers=4, thread_name_prefix="holaf-io")
    )
    features: dict[str, Any] = field(default_factory=dict)
    state: dict[str, Any] = field(default_factory=dict)

    @property
    def is_comfyui(self) -> bool:
        return self.mode == "comfyui"

    def add_service(self, name: str, start: Callable[[], Awaitable[None]], stop: Callable[[], Awaitable[None]],
                    *, shutdown: Callable[[], Awaitable[None]] | None = None) -> None:
        self.services.append(Service(name, start, stop, shutdown))

    async def run_blocking(self, fn: Callable[..., Any], *args: Any) -> Any:
        """Run filesystem or CPU work off the event loop (ComfyUI's loop must never block)."""
        return await asyncio.get_running_loop().run_in_executor(self.executor, lambda: fn(*args))

    async def start_services(self) -> None:
        loop = asyncio.get_running_loop()
        if isinstance(self.events, StandaloneEventHub):
            self.events.bind_loop(loop)
        await loop.run_in_executor(None, self.db.open)
        for service in self.services:
            try:
                await service.start()
                log.info("Started %s", service.name)
            except Exception:
                log.exception("Could not start %s; the rest of Holaf Utilities keeps running", service.name)

    async def shutdown_services(self) -> None:
        """The server is going down: services close their long-lived connections (``stop`` follows)."""
        for service in reversed(self.services):
            if service.shutdown is None:
                continue
            try:
                await service.shutdown()
            except Exception:
                log.exception("Error while shutting down %s", service.name)

    async def stop_services(self) -> None:
        for service in reversed(self.services):
            try:
                await service.stop()
            except Exception:
                log.exception("Error while stopping %s", service.name)
        if isinstance(self.events, StandaloneEventHub):
            await self.events.close_all()
        await asyncio.get_running_loop().run_in_executor(None, self.db.close)
        self.executor.shutdown(wait=False, cancel_futures=True)

