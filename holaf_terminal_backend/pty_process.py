"""A shell in a pseudo-terminal, driven from the asyncio loop.

Linux/macOS: ``os.openpty`` + ``asyncio.create_subprocess_exec`` with
``start_new_session``; output is read with ``loop.add_reader`` (no thread, never
blocking the loop) and reading pauses while the consumers are behind, so the
shell itself blocks on its writes like it would on a slow real terminal.

The child must also get the PTY as its *controlling* terminal (otherwise job
control and Ctrl+C do not work). That takes an ``ioctl(TIOCSCTTY)`` in the child
between ``fork`` and ``exec``; ``preexec_fn`` is unsafe in a process with threads
(ComfyUI has many), so the child first runs a three-line Python trampoline
(``python -I -S -c``) that makes the ioctl and ``exec``s the shell.

Windows: pywinpty (ConPTY), imported only there. Its ``read`` blocks, so one
reader thread per session hands output to the loop; it waits while paused.

Closing a session ends every process started from it: the shell's descendants
and every process still in its session get SIGHUP, then SIGTERM, then SIGKILL,
while the shell is still alive to reap them; then the shell goes the same way
and we reap it. Processes that left the session on purpose (``setsid``, tmux,
``nohup … & disown`` into a new session) are left alone.
"""
from __future__ import annotations

import asyncio
import errno
import logging
import os
import signal
import struct
import sys
import threading
import time
from typing import Callable, Iterable

import psutil

from .environment import LaunchSpec

log = logging.getLogger("holaf.terminal")

READ_CHUNK = 65536
READ_BATCH = 256 * 1024  # per readable event: fewer, larger WebSocket frames
MAX_DIMENSION = 1000
WINDOWS = os.name == "nt"

_CTTY_TRAMPOLINE = (
    "import fcntl,os,sys,termios\n"
    "fcntl.ioctl(0,termios.TIOCSCTTY,0)\n"
    "os.execv(sys.argv[1],sys.argv[1:])"
)

DataCallback = Callable[[bytes], None]
EofCallback = Callable[[], None]


class PtyClosed(OSError):
    """Writing to a PTY whose shell has gone."""


class PtyUnavailable(RuntimeError):
    """This platform cannot run a PTY (pywinpty missing on Windows)."""


def clamp_size(rows: int, cols: int) -> tuple[int, int]:
    return max(1, min(MAX_DIMENSION, int(rows))), max(1, min(MAX_DIMENSION, int(cols)))


class PtyProcess:
    """What a terminal session needs from a shell in a PTY, on any platform."""

    pid: int
    rows: int
    cols: int

    def __init__(self, on_data: DataCallback, on_eof: EofCallback) -> None:
        self.on_data = on_data
        self.on_eof = on_eof
        self.returncode: int | None = None

    def pause_reading(self) -> None: ...
    def resume_reading(self) -> None: ...
    async def write(self, data: bytes) -> None: ...
    def resize(self, rows: int, cols: int) -> None: ...
    async def wait(self) -> int | None: ...
    async def terminate(self) -> None: ...
    def drain(self, limit: int) -> bytes:
        return b""
    async def kill_leftovers(self) -> None: ...
    def close(self) -> None: ...


async def spawn(spec: LaunchSpec, rows: int, cols: int, on_data: DataCallback, on_eof: EofCallback) -> PtyProcess:
    """Start ``spec`` in a new PTY of ``rows`` × ``cols``."""
    rows, cols = clamp_size(rows, cols)
    if WINDOWS:
        return await WindowsPty.start(spec, rows, cols, on_data, on_eof)
    return await PosixPty.start(spec, rows, cols, on_data, on_eof)


# --------------------------------------------------------------------------- process tree helpers
def _session_members(leader: int, shell: psutil.Process | None) -> list[psutil.Process]:
    """Every live process started from the shell: its descendants plus its session (POSIX).

    Descendants are only looked up through ``shell`` (a handle taken at spawn) while
    it is still that very process: once reaped, its pid may belong to a stranger.
    A session id cannot be reused while any member of the session is alive.
    """
    found: dict[int, psutil.Process] = {}
    try:
        if shell is not None and shell.is_running():
            for child in shell.children(recursive=True):
                found[child.pid] = child
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        pass
    if hasattr(os, "getsid"):
        for proc in psutil.process_iter():
            try:
                if proc.pid not in found and os.getsid(proc.pid) == leader:
                    found[proc.pid] = proc
            except (OSError, psutil.Error):
                continue
    found.pop(leader, None)
    found.pop(os.getpid(), None)
    return list(found.values())


def _is_gone(proc: psutil.Process) -> bool:
    try:
        return not proc.is_running() or proc.status() == psutil.STATUS_ZOMBIE
    except psutil.Error:
        return True


def _signal_all(procs: Iterable[psutil.Process], sig: int) -> None:
    for proc in procs:
        try:
            proc.send_signal(sig)
            if sig in (signal.SIGHUP, signal.SIGTERM) and hasattr(signal, "SIGCONT"):
                proc.send_signal(signal.SIGCONT)  # a stopped job only sees the signal once continued
        except psutil.Error:
            pass


async def _wait_gone(procs: list[psutil.Process], timeout: float) -> list[psutil.Process]:
    deadline = time.monotonic() + timeout
    alive = [p for p in procs if not _is_gone(p)]
    while alive and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
        alive = [p for p in alive if not _is_gone(p)]
    return alive


async def end_processes(procs: list[psutil.Process], *, hup_grace: float = 0.5, term_grace: float = 1.5) -> None:
    """SIGHUP, then SIGTERM, then SIGKILL: each step only for those still running."""
    alive = [p for p in procs if not _is_gone(p)]
    for sig, grace in ((getattr(signal, "SIGHUP", None), hup_grace), (signal.SIGTERM, term_grace)):
        if not alive:
            return
        if sig is not None:
            _signal_all(alive, sig)
            alive = await _wait_gone(alive, grace)
    if alive:
        _signal_all(alive, getattr(signal, "SIGKILL", signal.SIGTERM))
        await _wait_gone(alive, 1.0)


# --------------------------------------------------------------------------- POSIX
class PosixPty(PtyProcess):
    def __init__(self, fd: int, process: asyncio.subprocess.Process, rows: int, cols: int,
                 on_data: DataCallback, on_eof: EofCallback) -> None:
        super().__init__(on_data, on_eof)
        self.fd = fd
        self.process = process
        self.pid = process.pid
        try:
            self._shell: psutil.Process | None = psutil.Process(process.pid)
        except psutil.Error:
            self._shell = None
        self.rows, self.cols = rows, cols
        self._loop = asyncio.get_running_loop()
        self._paused = False
        self._reading = False
        self._eof = False
        self._closed = False
        self._write_lock = asyncio.Lock()
        self._write_waiter: asyncio.Future | None = None
        self._add_reader()

    @classmethod
    async def start(cls, spec: LaunchSpec, rows: int, cols: int, on_data: DataCallback, on_eof: EofCallback) -> "PosixPty":
        import fcntl
        import termios

        master, slave = os.openpty()
        try:
            fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
            if hasattr(termios, "IUTF8"):  # backspace over multi-byte characters
                attrs = termios.tcgetattr(slave)
                attrs[0] |= termios.IUTF8
                termios.tcsetattr(slave, termios.TCSANOW, attrs)
            os.set_blocking(master, False)
            if sys.executable:
                argv = [sys.executable, "-I", "-S", "-c", _CTTY_TRAMPOLINE, *spec.argv]
                extra = {}
            else:  # embedded interpreter without an executable: the less safe way
                argv = list(spec.argv)
                extra = {"preexec_fn": _acquire_controlling_tty}
            process = await asyncio.create_subprocess_exec(
                *argv, stdin=slave, stdout=slave, stderr=slave, cwd=spec.cwd, env=spec.env,
                start_new_session=True, close_fds=True, **extra,
            )
        except BaseException:
            os.close(master)
            raise
        finally:
            os.close(slave)
        return cls(master, process, rows, cols, on_data, on_eof)

    # reading
    def _add_reader(self) -> None:
        if not self._reading and not self._paused and not self._eof and not self._closed:
            self._loop.add_reader(self.fd, self._on_readable)
            self._reading = True

    def _remove_reader(self) -> None:
        if self._reading:
            self._loop.remove_reader(self.fd)
            self._reading = False

    def _read_available(self, limit: int) -> tuple[bytes, bool]:
        chunks, total, eof = [], 0, False
        while total < limit:
            try:
                data = os.read(self.fd, min(READ_CHUNK, limit - total))
            except BlockingIOError:
                break
            except OSError:  # EIO: every holder of the slave side has closed it
                eof = True
                break
            if not data:
                eof = True
                break
            chunks.append(data)
            total += len(data)
        return b"".join(chunks), eof

    def _on_readable(self) -> None:
        data, eof = self._read_available(READ_BATCH)
        if data:
            self.on_data(data)
        if eof:
            self._eof = True
            self._remove_reader()
            self.on_eof()

    def pause_reading(self) -> None:
        self._paused = True
        self._remove_reader()

    def resume_reading(self) -> None:
        self._paused = False
        self._add_reader()

    def drain(self, limit: int) -> bytes:
        """Whatever output is still buffered in the kernel (after the shell exited)."""
        if self._closed or self._eof:
            return b""
        return self._read_available(limit)[0]

    # writing
    async def write(self, data: bytes) -> None:
        async with self._write_lock:
            view = memoryview(data)
            while view:
                if self._closed:
                    raise PtyClosed(errno.EIO, "the terminal is closed")
                try:
                    written = os.write(self.fd, view)
                except BlockingIOError:
                    await self._wait_writable()
                    continue
                except OSError as exc:
                    raise PtyClosed(exc.errno or errno.EIO, str(exc)) from None
                view = view[written:]

    async def _wait_writable(self) -> None:
        waiter = self._loop.create_future()
        self._write_waiter = waiter

        def ready() -> None:
            if not waiter.done():
                waiter.set_result(None)

        self._loop.add_writer(self.fd, ready)
        try:
            await waiter
        finally:
            self._write_waiter = None
            if not self._closed:
                self._loop.remove_writer(self.fd)

    def resize(self, rows: int, cols: int) -> None:
        import fcntl
        import termios

        rows, cols = clamp_size(rows, cols)
        if self._closed:
            return
        # The kernel sends SIGWINCH to the foreground process group.
        fcntl.ioctl(self.fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
        self.rows, self.cols = rows, cols

    # lifetime
    async def wait(self) -> int | None:
        self.returncode = await self.process.wait()
        return self.returncode

    async def terminate(self) -> None:
        """End everything started from this terminal, children first, then the shell."""
        if self.process.returncode is None:
            members = await asyncio.to_thread(_session_members, self.pid, self._shell)
            await end_processes(members)
            if self._shell is not None:
                await end_processes([self._shell], hup_grace=0.5, term_grace=1.0)
            elif self.process.returncode is None:
                self.process.kill()  # no psutil handle: no graceful steps, but never a leftover shell
        await self.process.wait()
        await self.kill_leftovers()

    async def kill_leftovers(self) -> None:
        """After the shell exited: whatever still runs in its session (background jobs) ends too."""
        members = await asyncio.to_thread(_session_members, self.pid, self._shell)
        if members:
            await end_processes(members, hup_grace=0.3, term_grace=0.7)

    def close(self) -> None:
        if self._closed:
            return
        self._remove_reader()
        self._closed = True
        waiter = self._write_waiter
        if waiter is not None:
            self._loop.remove_writer(self.fd)
            if not waiter.done():
                waiter.set_exception(PtyClosed(errno.EIO, "the terminal is closed"))
        try:
            os.close(self.fd)
        except OSError:
            pass


def _acquire_controlling_tty() -> None:  # pragma: no cover - runs in the child
    import fcntl
    import termios

    fcntl.ioctl(0, termios.TIOCSCTTY, 0)


# --------------------------------------------------------------------------- Windows
class WindowsPty(PtyProcess):
    """ConPTY through pywinpty. Untested in CI (no Windows runner); kept deliberately small."""

    def __init__(self, proc, rows: int, cols: int, on_data: DataCallback, on_eof: EofCallback) -> None:
        super().__init__(on_data, on_eof)
        self.proc = proc
        self.pid = proc.pid
        self.rows, self.cols = rows, cols
        self._loop = asyncio.get_running_loop()
        self._may_read = threading.Event()
        self._may_read.set()
        self._closed = False
        self._write_lock = asyncio.Lock()
        self._thread = threading.Thread(target=self._read_loop, name=f"holaf-pty-{self.pid}", daemon=True)
        self._thread.start()

    @classmethod
    async def start(cls, spec: LaunchSpec, rows: int, cols: int, on_data: DataCallback, on_eof: EofCallback) -> "WindowsPty":
        try:
            import winpty  # pywinpty, Windows only
        except ImportError as exc:
            raise PtyUnavailable(
                f"the terminal needs pywinpty on Windows ({exc}); install it with ComfyUI's Python: "
                "python -m pip install pywinpty"
            ) from None
        proc = await asyncio.to_thread(
            winpty.PtyProcess.spawn, list(spec.argv), cwd=spec.cwd, env=spec.env, dimensions=(rows, cols)
        )
        return cls(proc, rows, cols, on_data, on_eof)

    def _read_loop(self) -> None:
        while not self._closed:
            self._may_read.wait()
            if self._closed:
                break
            try:
                text = self.proc.read(READ_CHUNK)
            except EOFError:
                break
            except Exception:  # the pipe broke: same as EOF
                log.debug("pywinpty read failed", exc_info=True)
                break
            if text:
                data = text.encode("utf-8", "replace") if isinstance(text, str) else bytes(text)
                self._loop.call_soon_threadsafe(self.on_data, data)
        if not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self.on_eof)

    def pause_reading(self) -> None:
        self._may_read.clear()

    def resume_reading(self) -> None:
        self._may_read.set()

    async def write(self, data: bytes) -> None:
        if self._closed:
            raise PtyClosed(errno.EIO, "the terminal is closed")
        async with self._write_lock:
            try:
                await asyncio.to_thread(self.proc.write, data.decode("utf-8", "replace"))
            except (EOFError, OSError) as exc:
                raise PtyClosed(errno.EIO, str(exc)) from None

    def resize(self, rows: int, cols: int) -> None:
        rows, cols = clamp_size(rows, cols)
        if not self._closed:
            self.proc.setwinsize(rows, cols)
            self.rows, self.cols = rows, cols

    async def wait(self) -> int | None:
        while await asyncio.to_thread(self.proc.isalive):
            await asyncio.sleep(0.25)
        await asyncio.sleep(0.1)  # let the reader thread hand over the last output
        self.returncode = self.proc.exitstatus
        return self.returncode

    async def terminate(self) -> None:
        try:
            children = psutil.Process(self.pid).children(recursive=True)
        except psutil.Error:
            children = []
        await end_processes(children, hup_grace=0, term_grace=1.0)
        await asyncio.to_thread(self._force_close)

    def _force_close(self) -> None:
        try:
            self.proc.terminate(force=True)
        except Exception:
            log.debug("pywinpty terminate failed", exc_info=True)

    async def kill_leftovers(self) -> None:
        return None

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._may_read.set()
        # pywinpty's close sleeps and may wait for the child: never on the loop.
        threading.Thread(target=self._close_blocking, name=f"holaf-pty-close-{self.pid}", daemon=True).start()

    def _close_blocking(self) -> None:
        try:
            self.proc.close(force=True)
        except Exception:
            log.debug("pywinpty close failed", exc_info=True)
