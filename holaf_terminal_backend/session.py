"""Terminal sessions: one shell, a bounded replay of its recent output, and the sockets watching it.

A session outlives its sockets: closing the panel or reloading the page only
detaches; reattaching with the session id replays the recent output (bounded
ring of bytes) and resumes live output. Several sockets may watch one session.

Flow control: each socket has a small outgoing queue drained by its own sender
task (``await ws.send_bytes`` waits for the transport). When any attached socket
is more than ``HIGH_WATER`` bytes behind (queue + transport buffer), the PTY
stops being read; the shell then blocks on its own writes, exactly as on a slow
terminal. Reading resumes once every socket is under ``LOW_WATER``. A browser cannot
push back through TCP (it always reads its WebSocket), so the page sends
``pause``/``resume`` when xterm.js falls behind; a paused socket holds the
shell the same way. With no
socket attached, output only feeds the replay ring, so a detached shell never
stalls and never grows memory.
"""
from __future__ import annotations

import asyncio
import json
import logging
import secrets
import time
from collections import deque
from dataclasses import dataclass
from typing import Any, Awaitable, Callable, Iterator

from aiohttp import WSMsgType, web

from . import pty_process as ptys
from .environment import LaunchSpec, shell_name

log = logging.getLogger("holaf.terminal")

HIGH_WATER = 1024 * 1024
LOW_WATER = 256 * 1024
MAX_FRAME = 256 * 1024
MAX_CLIENTS_PER_SESSION = 16
FINAL_DRAIN_LIMIT = 1024 * 1024
REPLAY_ALIGN_WINDOW = 4096
CLOSE_GRACE_S = 5.0

# WebSocket close codes the UI understands (4000-4999 are application codes).
CLOSE_NORMAL = 1000
CLOSE_GOING_AWAY = 1001
CLOSE_SPAWN_FAILED = 1011
CLOSE_AUTH_EXPIRED = 4401
CLOSE_SESSION_NOT_FOUND = 4404
CLOSE_TOO_MANY_CLIENTS = 4409
CLOSE_TOO_MANY_SESSIONS = 4429


class TooManySessions(RuntimeError):
    """``[Terminal] max_sessions`` are already running."""


class ReplayBuffer:
    """The most recent output, at most ``limit`` bytes, trimmed at a line start when possible."""

    def __init__(self, limit: int) -> None:
        self.limit = max(1, int(limit))
        self._chunks: deque[bytes] = deque()
        self.size = 0

    def append(self, data: bytes) -> None:
        if not data:
            return
        self._chunks.append(data)
        self.size += len(data)
        excess = self.size - self.limit
        while excess > 0 and len(self._chunks[0]) <= excess:
            dropped = self._chunks.popleft()
            self.size -= len(dropped)
            excess -= len(dropped)
        if excess > 0:
            head = self._chunks[0]
            # Cut just after a newline when one is near, so the replay starts on a clean line.
            newline = head.find(b"\n", excess, excess + REPLAY_ALIGN_WINDOW)
            cut = newline + 1 if newline != -1 and newline + 1 < len(head) else excess
            self._chunks[0] = head[cut:]
            self.size -= cut

    def chunks(self, max_size: int = MAX_FRAME) -> Iterator[bytes]:
        for chunk in self._chunks:
            for start in range(0, len(chunk), max_size):
                yield chunk[start:start + max_size]

    def snapshot(self) -> bytes:
        return b"".join(self._chunks)


@dataclass(frozen=True)
class _Close:
    code: int
    reason: str


class TerminalClient:
    """One attached WebSocket and its outgoing queue (bytes, JSON text, then maybe a close)."""

    def __init__(self, ws: web.WebSocketResponse, transport: Any, password_hash: str,
                 on_progress: Callable[["TerminalClient"], None]) -> None:
        self.ws = ws
        self.transport = transport
        self.password_hash = password_hash
        self._on_progress = on_progress
        self._queue: deque[bytes | str | _Close] = deque()
        self.queued_bytes = 0
        self.sent_bytes = 0
        self.closed = False
        self.closing = False  # a close frame is queued: let it go out before stopping
        # The browser asked to hold output: xterm.js is still rendering what it got (browsers
        # never stop reading a WebSocket, so TCP alone cannot slow the shell down for them).
        self.held = False
        self._wake = asyncio.Event()
        self._task: asyncio.Task | None = None
        self.close_requested: asyncio.Future = asyncio.get_running_loop().create_future()

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._send_loop())

    def push_bytes(self, data: bytes) -> None:
        if self.closed or not data:
            return
        self._queue.append(data)
        self.queued_bytes += len(data)
        self._wake.set()

    def push_json(self, message: dict) -> None:
        if not self.closed:
            self._queue.append(json.dumps(message, separators=(",", ":")))
            self._wake.set()

    def push_close(self, code: int, reason: str) -> None:
        if not self.closed and not self.closing:
            self.closing = True
            self._queue.append(_Close(code, reason))
            self._wake.set()

    def backlog(self) -> int:
        """Bytes not yet on the wire: our queue plus the socket transport's write buffer."""
        buffered = 0
        transport = self.transport
        if transport is not None and not transport.is_closing():
            try:
                buffered = transport.get_write_buffer_size()
            except (AttributeError, RuntimeError):
                buffered = 0
        return self.queued_bytes + buffered

    async def _send_loop(self) -> None:
        try:
            while True:
                if not self._queue:
                    self._wake.clear()
                    self._on_progress(self)
                    await self._wake.wait()
                    continue
                item = self._queue.popleft()
                if isinstance(item, bytes):
                    parts, size = [item], len(item)
                    while self._queue and isinstance(self._queue[0], bytes) and size + len(self._queue[0]) <= MAX_FRAME:
                        nxt = self._queue.popleft()
                        parts.append(nxt)
                        size += len(nxt)
                    self.queued_bytes -= size
                    await self.ws.send_bytes(parts[0] if len(parts) == 1 else b"".join(parts))
                    self.sent_bytes += size
                    self._on_progress(self)
                elif isinstance(item, str):
                    await self.ws.send_str(item)
                else:
                    # The socket's own handler performs the close handshake (see ``receive_loop``):
                    # closing from this task while it waits in receive() would cut the TCP
                    # connection before the peer answers.
                    if not self.close_requested.done():
                        self.close_requested.set_result(item)
                    break
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # the peer went away mid-send
            log.debug("terminal socket send stopped: %s", exc)
        finally:
            self._mark_closed()

    def _mark_closed(self) -> None:
        if not self.closed:
            self.closed = True
            self._queue.clear()
            self.queued_bytes = 0
            self._on_progress(self)

    async def stop(self) -> None:
        task = self._task
        if self.closing and task is not None and not task.done():
            # The sender is delivering the last messages and the close handshake: wait for it (bounded).
            try:
                await asyncio.wait_for(asyncio.shield(task), CLOSE_GRACE_S)
            except (asyncio.TimeoutError, Exception):
                pass
        self._mark_closed()
        if task is not None and not task.done() and task is not asyncio.current_task():
            task.cancel()
            try:
                await task
            except (asyncio.CancelledError, Exception):
                pass


async def receive_loop(ws: web.WebSocketResponse, client: TerminalClient,
                       handle: Callable[[Any], Awaitable[None]]) -> None:
    """Feed incoming messages to ``handle`` until the peer closes or the session asks to close."""
    while True:
        receiver = asyncio.ensure_future(ws.receive())
        try:
            await asyncio.wait({receiver, client.close_requested}, return_when=asyncio.FIRST_COMPLETED)
        except asyncio.CancelledError:
            receiver.cancel()
            raise
        if not receiver.done():
            receiver.cancel()
            try:
                await receiver
            except (asyncio.CancelledError, Exception):
                pass
            request = client.close_requested.result()
            await ws.close(code=request.code, message=request.reason.encode("utf-8")[:120])
            return
        message = receiver.result()
        if message.type in (WSMsgType.CLOSE, WSMsgType.CLOSING, WSMsgType.CLOSED, WSMsgType.ERROR):
            return
        await handle(message)


class TerminalSession:
    """A shell in a PTY that sockets attach to and detach from."""

    def __init__(self, session_id: str, spec: LaunchSpec, *, replay_limit: int,
                 on_finished: Callable[["TerminalSession"], None]) -> None:
        self.id = session_id
        self.spec = spec
        self.replay = ReplayBuffer(replay_limit)
        self.clients: list[TerminalClient] = []
        self.created_at = time.time()
        self.last_io = time.monotonic()
        self.detached_since: float | None = time.monotonic()
        self.closing_reason: str | None = None
        self.exit_code: int | None = None
        self.finished = asyncio.Event()
        self.paused = False
        self.pauses = 0  # how often a slow socket held the shell back (flow-control statistics)
        self.peak_backlog = 0
        self.output_bytes = 0
        self.pty: ptys.PtyProcess | None = None
        self._on_finished = on_finished
        self._watch_task: asyncio.Task | None = None
        self._recheck: asyncio.TimerHandle | None = None

    async def start(self, rows: int, cols: int) -> None:
        self.pty = await ptys.spawn(self.spec, rows, cols, self._on_data, self._on_eof)
        self._watch_task = asyncio.get_running_loop().create_task(self._watch_exit())
        log.info("Terminal session %s started: %s (pid %s) in %s", self.id, shell_name(self.spec.argv), self.pty.pid, self.spec.cwd)

    # -- output --------------------------------------------------------------
    def _on_data(self, data: bytes) -> None:
        self.last_io = time.monotonic()
        self.output_bytes += len(data)
        self.replay.append(data)
        for client in self.clients:
            client.push_bytes(data)
        self._check_pressure()

    def _on_eof(self) -> None:
        log.debug("terminal session %s: PTY closed by the shell side", self.id)

    def _check_pressure(self) -> None:
        backlog = max((c.backlog() for c in self.clients if not c.closed), default=0)
        if backlog > self.peak_backlog:
            self.peak_backlog = backlog
        held = any(c.held and not c.closed for c in self.clients)
        if (backlog > HIGH_WATER or held) and not self.paused and self.pty is not None:
            self.paused = True
            self.pauses += 1
            self.pty.pause_reading()

    def _on_client_progress(self, _client: TerminalClient) -> None:
        if not self.paused:
            return
        if all(c.closed or (c.backlog() <= LOW_WATER and not c.held) for c in self.clients):
            self.paused = False
            if self._recheck is not None:
                self._recheck.cancel()
                self._recheck = None
            if self.pty is not None:
                self.pty.resume_reading()
        elif self._recheck is None:
            # The transport may drain without our sender noticing: look again shortly.
            def again() -> None:
                self._recheck = None
                self._on_client_progress(_client)

            self._recheck = asyncio.get_running_loop().call_later(0.05, again)

    # -- sockets ---------------------------------------------------------------
    def attach(self, ws: web.WebSocketResponse, transport: Any, *, password_hash: str, created: bool) -> TerminalClient:
        """Register a socket: it first gets a ``session`` message, then the replay, then live output."""
        client = TerminalClient(ws, transport, password_hash, self._on_client_progress)
        pty = self.pty
        client.push_json({
            "type": "session",
            "id": self.id,
            "created": created,
            "pid": pty.pid if pty else None,
            "shell": shell_name(self.spec.argv),
            "cwd": self.spec.cwd,
            "rows": pty.rows if pty else None,
            "cols": pty.cols if pty else None,
            "replay_bytes": self.replay.size,
            "python": {"kind": self.spec.python.kind, "prefix": self.spec.python.prefix},
        })
        for chunk in self.replay.chunks(MAX_FRAME):
            client.push_bytes(chunk)
        self.clients.append(client)
        self.detached_since = None
        client.start()
        self._check_pressure()
        return client

    async def detach(self, client: TerminalClient) -> None:
        if client in self.clients:
            self.clients.remove(client)
            if not self.clients:
                self.detached_since = time.monotonic()
        await client.stop()
        self._on_client_progress(client)

    def hold(self, client: TerminalClient, held: bool) -> None:
        """Flow control asked by a client (``pause``/``resume`` messages)."""
        client.held = held
        if held:
            self._check_pressure()
        else:
            self._on_client_progress(client)

    # -- input -------------------------------------------------------------------
    async def write_input(self, data: bytes) -> None:
        if not data or self.pty is None or self.closing_reason:
            return
        self.last_io = time.monotonic()
        try:
            await self.pty.write(data)
        except ptys.PtyClosed:
            pass

    def resize(self, rows: int, cols: int) -> None:
        if self.pty is not None and not self.finished.is_set():
            try:
                self.pty.resize(rows, cols)
            except OSError as exc:
                log.debug("resize failed: %s", exc)

    # -- end -----------------------------------------------------------------------
    @property
    def alive(self) -> bool:
        return not self.finished.is_set() and self.closing_reason is None

    def idle_seconds(self, now: float | None = None) -> float:
        """How long nobody watched and nothing happened (0 while a socket is attached)."""
        if self.detached_since is None:
            return 0.0
        now = time.monotonic() if now is None else now
        return now - max(self.detached_since, self.last_io)

    async def close(self, reason: str) -> None:
        """End the shell and everything started from it; returns once clients were told."""
        if self.closing_reason is None:
            self.closing_reason = reason
            if self.pty is not None:
                try:
                    await self.pty.terminate()
                except Exception:
                    log.exception("terminal session %s: terminating the shell failed", self.id)
        await self.finished.wait()

    async def _watch_exit(self) -> None:
        pty = self.pty
        assert pty is not None
        code = None
        try:
            code = await pty.wait()
            tail = pty.drain(FINAL_DRAIN_LIMIT)
            await pty.kill_leftovers()
            tail += pty.drain(FINAL_DRAIN_LIMIT)
            if tail:
                self._on_data(tail)
        except Exception:
            log.exception("terminal session %s: error while the shell ended", self.id)
        finally:
            self.exit_code = code
            pty.close()
            reason = self.closing_reason or "exited"
            self.closing_reason = reason
            close_code = CLOSE_GOING_AWAY if reason == "server_stopping" else CLOSE_NORMAL
            for client in self.clients:
                client.push_json({"type": "exit", "code": code, "reason": reason})
                client.push_close(close_code, f"session {reason}")
            if self._recheck is not None:
                self._recheck.cancel()
            log.info("Terminal session %s ended (%s, exit code %s)", self.id, reason, code)
            self._on_finished(self)
            self.finished.set()

    def describe(self, idle_timeout_s: float) -> dict:
        pty = self.pty
        idle = self.idle_seconds()
        return {
            "id": self.id,
            "pid": pty.pid if pty else None,
            "shell": shell_name(self.spec.argv),
            "cwd": self.spec.cwd,
            "created_at": self.created_at,
            "clients": len(self.clients),
            "rows": pty.rows if pty else None,
            "cols": pty.cols if pty else None,
            "alive": self.alive,
            "idle_s": round(idle, 1),
            "expires_in_s": round(max(0.0, idle_timeout_s - idle), 1) if idle_timeout_s > 0 and self.detached_since is not None else None,
        }


@dataclass
class Limits:
    max_sessions: int
    idle_timeout_s: float
    replay_bytes: int


class SessionManager:
    """All sessions of this server: creation under limits, lookup, idle expiry, shutdown."""

    def __init__(self, *, launch: Callable[[], Awaitable[LaunchSpec]], limits: Callable[[], Limits],
                 password_hash: Callable[[], str]) -> None:
        self._launch = launch
        self._limits = limits
        self._password_hash = password_hash
        self.sessions: dict[str, TerminalSession] = {}
        self._starting = 0
        self._sweeper: asyncio.Task | None = None
        self.stopping = False

    def get(self, session_id: str | None) -> TerminalSession | None:
        session = self.sessions.get(session_id or "")
        return session if session is not None and session.alive else None

    async def create(self, rows: int, cols: int) -> TerminalSession:
        limits = self._limits()
        if self.stopping:
            raise TooManySessions("the server is stopping")
        if len(self.sessions) + self._starting >= limits.max_sessions:
            raise TooManySessions(
                f"{limits.max_sessions} terminal session(s) already running ([Terminal] max_sessions); "
                "close one from the session list first"
            )
        self._starting += 1
        try:
            spec = await self._launch()
            session = TerminalSession(secrets.token_urlsafe(12), spec, replay_limit=limits.replay_bytes,
                                      on_finished=self._forget)
            await session.start(rows, cols)
            self.sessions[session.id] = session
            return session
        finally:
            self._starting -= 1

    def _forget(self, session: TerminalSession) -> None:
        if self.sessions.get(session.id) is session:
            del self.sessions[session.id]

    async def kill(self, session_id: str, reason: str = "killed") -> bool:
        session = self.sessions.get(session_id)
        if session is None:
            return False
        await session.close(reason)
        return True

    def describe(self) -> list[dict]:
        timeout = self._limits().idle_timeout_s
        return [s.describe(timeout) for s in self.sessions.values()]

    # -- background upkeep ------------------------------------------------------
    def sweep(self) -> list[asyncio.Task]:
        """Close idle sessions; drop sockets that logged in with a password that has since changed."""
        tasks = []
        limits = self._limits()
        now = time.monotonic()
        current_hash = self._password_hash()
        for session in list(self.sessions.values()):
            for client in session.clients:
                if client.password_hash != current_hash and not client.closed:
                    client.push_json({"type": "error", "code": "auth_expired",
                                      "message": "the password was changed: log in again"})
                    client.push_close(CLOSE_AUTH_EXPIRED, "password changed")
            if session.alive and limits.idle_timeout_s > 0 and session.idle_seconds(now) >= limits.idle_timeout_s:
                log.info("Terminal session %s idle for %.0f s: closing it", session.id, session.idle_seconds(now))
                tasks.append(asyncio.get_running_loop().create_task(session.close("idle")))
        return tasks

    async def _sweep_forever(self) -> None:
        while True:
            timeout = self._limits().idle_timeout_s
            interval = min(5.0, max(0.25, timeout / 4)) if timeout > 0 else 5.0
            await asyncio.sleep(interval)
            try:
                self.sweep()
            except Exception:
                log.exception("terminal session sweep failed")

    async def start(self) -> None:
        self.stopping = False
        self._sweeper = asyncio.get_running_loop().create_task(self._sweep_forever())

    async def stop(self) -> None:
        """Server shutdown: every shell ends, every socket is told and closed."""
        self.stopping = True
        if self._sweeper is not None:
            self._sweeper.cancel()
            try:
                await self._sweeper
            except (asyncio.CancelledError, Exception):
                pass
            self._sweeper = None
        sessions = list(self.sessions.values())
        if sessions:
            await asyncio.gather(*(s.close("server_stopping") for s in sessions), return_exceptions=True)
            clients = [c for s in sessions for c in s.clients]
            # Give the sender tasks a moment to deliver the exit message and close frames.
            deadline = time.monotonic() + 2.0
            while any(not c.closed for c in clients) and time.monotonic() < deadline:
                await asyncio.sleep(0.02)
            for client in clients:
                await client.stop()
