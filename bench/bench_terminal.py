"""Terminal figures on a real standalone server (a separate process, so its RSS is its own).

Prints: keystroke echo latency (median / p95 over N round trips), the throughput
of ``cat`` of a large file to a fast reader, and the server's RSS before, at peak
and after the same ``cat`` through a slow reader (which must stay flat: the shell
is held back instead of buffered).

    /work/venv/bin/python bench/bench_terminal.py [--mb 100] [--keys 200]
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import aiohttp
import psutil

ROOT = Path(__file__).resolve().parents[1]
PASSWORD = "bench password 123"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(tmp: Path, port: int) -> subprocess.Popen:
    sys.path.insert(0, str(ROOT.parent))
    hashed = subprocess.run([sys.executable, str(ROOT), "hash-password"], input=PASSWORD + "\n",
                            capture_output=True, text=True, check=True).stdout.split("password_hash = ")[1].strip()
    data = tmp / "data"
    data.mkdir()
    (data / "config.ini").write_text(
        f"[Security]\npassword_hash = {hashed}\n[Terminal]\nshell_command = /bin/bash --noprofile --norc\n")
    (tmp / "out").mkdir()
    server = subprocess.Popen(
        [sys.executable, str(ROOT), "--output-dir", str(tmp / "out"), "--data-dir", str(data), "--port", str(port),
         "--log-level", "WARNING"],
        cwd=tmp, stdout=subprocess.DEVNULL, stderr=(tmp / "server.log").open("w"),
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:  # "Open http…" is printed before the socket is bound
        if server.poll() is not None:
            raise RuntimeError("server exited: " + (tmp / "server.log").read_text())
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return server
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("server did not start")


async def open_terminal(http: aiohttp.ClientSession, base: str):
    origin = {"Origin": base}
    resp = await http.post(f"{base}/holaf/terminal/auth", json={"password": PASSWORD}, headers=origin)
    token = (await resp.json())["session_token"]
    ws = await http.ws_connect(f"{base}/holaf/terminal?token={token}&rows=50&cols=200", headers=origin, max_msg_size=0)
    hello = json.loads((await ws.receive()).data)
    return ws, hello


async def read_until(ws, marker: bytes, *, delay: float = 0.0) -> int:
    total, tail = 0, b""
    while True:
        msg = await ws.receive(timeout=120)
        if msg.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.ERROR):
            raise RuntimeError(f"the terminal socket closed before {marker!r} arrived")
        if msg.type != aiohttp.WSMsgType.BINARY:
            continue
        total += len(msg.data)
        tail = (tail + msg.data)[-256:]
        if marker in tail:
            return total
        if delay:
            await asyncio.sleep(delay)


async def keystroke_latency(ws, count: int) -> list[float]:
    await ws.send_str(json.dumps({"type": "input", "data": "cat\r"}))  # cat echoes every key back via the tty
    await asyncio.sleep(0.1)
    await drain(ws, 0.2)
    samples = []
    for i in range(count):
        key = "abcdefghij"[i % 10]
        started = time.perf_counter()
        await ws.send_str(json.dumps({"type": "input", "data": key}))
        while True:
            msg = await ws.receive(timeout=5)
            if msg.type == aiohttp.WSMsgType.BINARY and key.encode() in msg.data:
                break
        samples.append((time.perf_counter() - started) * 1000)
    await ws.send_str(json.dumps({"type": "input", "data": "\x03"}))
    # Wait for the prompt before typing on: input typed while the shell takes the terminal back
    # after ^C may be discarded by the tty (a real terminal does the same).
    await drain(ws)
    return samples


async def drain(ws, quiet: float = 0.3) -> None:
    """Read until nothing arrived for ``quiet`` seconds."""
    while True:
        try:
            await ws.receive(timeout=quiet)
        except asyncio.TimeoutError:
            return


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=int, default=100, help="size of the file to cat (MiB)")
    parser.add_argument("--keys", type=int, default=200, help="keystroke round trips to time")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmpdir:
        tmp = Path(tmpdir)
        big = tmp / "big.txt"
        with big.open("wb") as handle:
            handle.write((b"y" * 1023 + b"\n") * (args.mb * 1024))
        port = free_port()
        server = start_server(tmp, port)
        proc = psutil.Process(server.pid)
        base = f"http://127.0.0.1:{port}"
        try:
            async with aiohttp.ClientSession() as http:
                ws, hello = await open_terminal(http, base)
                print(f"shell {hello['shell']} pid {hello['pid']}; python env {hello['python']['kind']}")
                samples = await keystroke_latency(ws, args.keys)
                print(f"keystroke echo: median {statistics.median(samples):.2f} ms, "
                      f"p95 {statistics.quantiles(samples, n=20)[18]:.2f} ms over {len(samples)} keys")

                command = f"cat {big}; echo DONE-$((40+2))\r"
                started = time.perf_counter()
                await ws.send_str(json.dumps({"type": "input", "data": command}))
                total = await read_until(ws, b"DONE-42")
                elapsed = time.perf_counter() - started
                print(f"cat {args.mb} MiB, fast reader: {total / 1e6:.1f} MB in {elapsed:.2f} s "
                      f"= {total / 1e6 / elapsed:.0f} MB/s")

                rss_before = proc.memory_info().rss
                peak = rss_before
                stop = asyncio.Event()

                async def sample_rss() -> None:
                    nonlocal peak
                    while not stop.is_set():
                        peak = max(peak, proc.memory_info().rss)
                        await asyncio.sleep(0.05)

                sampler = asyncio.create_task(sample_rss())
                started = time.perf_counter()
                await ws.send_str(json.dumps({"type": "input", "data": command}))
                total = await read_until(ws, b"DONE-42", delay=0.01)
                elapsed = time.perf_counter() - started
                stop.set()
                await sampler
                print(f"cat {args.mb} MiB, slow reader (10 ms pause per frame): {elapsed:.2f} s; server RSS "
                      f"{rss_before / 1e6:.1f} MB before, {peak / 1e6:.1f} MB peak "
                      f"(+{(peak - rss_before) / 1e6:.1f} MB), {proc.memory_info().rss / 1e6:.1f} MB after")
                await ws.close()
        finally:
            server.terminate()
            server.wait(timeout=10)


if __name__ == "__main__":
    if os.name == "nt":
        sys.exit("the benchmark drives bash; run it on Linux or macOS")
    asyncio.run(main())
