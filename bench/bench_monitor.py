"""What the System Monitor costs the server: CPU of sampling at 1 s for one subscriber.

Starts the standalone server (``python . --output-dir …``) in its own process, measures its
CPU time (user + system, plus reaped children such as ``nvidia-smi``) first with nobody
subscribed, then with one WebSocket subscriber at the chosen interval, and prints the
difference as a percentage of one core. Target: < 0.5 % of one core at 1 s.

Also times the pieces in this process: one host sample, one sample serialised, and the
history message of a full hour.

    python bench/bench_monitor.py [--seconds 60] [--idle-seconds 15] [--interval-ms 1000]
"""
from __future__ import annotations

import argparse
import asyncio
import importlib.util
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]


def load_package():
    if "holaf_utilities" not in sys.modules:
        spec = importlib.util.spec_from_file_location("holaf_utilities", ROOT / "__init__.py", submodule_search_locations=[str(ROOT)])
        module = importlib.util.module_from_spec(spec)
        sys.modules["holaf_utilities"] = module
        spec.loader.exec_module(module)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cpu_seconds(proc: psutil.Process) -> float:
    t = proc.cpu_times()
    return t.user + t.system + getattr(t, "children_user", 0.0) + getattr(t, "children_system", 0.0)


def wait_for_server(port: int, timeout: float = 30.0) -> dict:
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/holaf/utilities/info", timeout=2) as resp:
                return json.loads(resp.read())
        except OSError:
            time.sleep(0.2)
    raise SystemExit("the server did not start")


async def watch(port: int, interval_ms: int, seconds: float) -> tuple[int, dict | None, dict | None]:
    import aiohttp

    received, history, last = 0, None, None
    async with aiohttp.ClientSession() as session:
        async with session.ws_connect(f"http://127.0.0.1:{port}/holaf/monitor/ws") as ws:
            await ws.send_json({"type": "subscribe", "interval_ms": interval_ms})
            deadline = time.monotonic() + seconds
            while (left := deadline - time.monotonic()) > 0:
                try:
                    msg = await ws.receive(timeout=left)
                except asyncio.TimeoutError:
                    break
                if msg.type != aiohttp.WSMsgType.TEXT:
                    break
                data = json.loads(msg.data)
                if data["type"] == "history":
                    history = data
                elif data["type"] == "sample":
                    received, last = received + 1, data
    return received, history, last


def server_cost(args) -> None:
    with tempfile.TemporaryDirectory(prefix="holaf-bench-") as tmp:
        out = Path(tmp) / "output"
        out.mkdir()
        port = free_port()
        server = subprocess.Popen(
            [sys.executable, str(ROOT), "--output-dir", str(out), "--data-dir", str(Path(tmp) / "data"),
             "--port", str(port), "--log-level", "WARNING"],
            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        )
        try:
            wait_for_server(port)
            proc = psutil.Process(server.pid)
            time.sleep(2.0)  # let start-up work (GPU detection, DB open) finish

            c0, w0 = cpu_seconds(proc), time.monotonic()
            time.sleep(args.idle_seconds)
            idle_cpu, idle_wall = cpu_seconds(proc) - c0, time.monotonic() - w0

            c0, w0 = cpu_seconds(proc), time.monotonic()
            received, history, last = asyncio.run(watch(port, args.interval_ms, args.seconds))
            busy_cpu, busy_wall = cpu_seconds(proc) - c0, time.monotonic() - w0
        finally:
            server.terminate()
            try:
                server.wait(10)
            except subprocess.TimeoutExpired:
                server.kill()

    idle_pct = 100.0 * idle_cpu / idle_wall
    busy_pct = 100.0 * busy_cpu / busy_wall
    net_pct = busy_pct - idle_pct
    gpu = (history or {}).get("gpu", {})
    print(f"machine: {psutil.cpu_count()} logical CPUs, Python {sys.version.split()[0]}, {sys.platform}")
    print(f"GPU backends: {gpu.get('backends') or 'none'} ({len(gpu.get('devices') or [])} GPU(s))")
    print(f"server idle, no subscriber: {idle_cpu * 1000:.0f} ms CPU in {idle_wall:.1f} s = {idle_pct:.3f} % of one core")
    print(f"one subscriber at {args.interval_ms} ms: {received} samples in {busy_wall:.1f} s, "
          f"{busy_cpu * 1000:.0f} ms CPU = {busy_pct:.3f} % of one core")
    if received:
        print(f"cost of sampling: {net_pct:.3f} % of one core "
              f"({max(0.0, busy_cpu - idle_cpu * busy_wall / idle_wall) / received * 1000:.2f} ms CPU per sample)")
    print(f"target < 0.5 % of one core: {'met' if net_pct < 0.5 else 'NOT met'}")
    if last:
        print(f"sample message: {len(json.dumps(last, separators=(',', ':')))} bytes")


def piece_costs() -> None:
    load_package()
    from holaf_utilities.holaf_http import json_dumps
    from holaf_utilities.holaf_system_monitor_backend.history import MonitorHistory, history_columns, history_values
    from holaf_utilities.holaf_system_monitor_backend.host import HostSampler, disk_targets

    sampler = HostSampler(disk_targets(Path.cwd(), {}))
    sampler.prime()
    n = 300
    t0 = time.process_time()
    for _ in range(n):
        sample = sampler.sample()
    host_ms = (time.process_time() - t0) / n * 1000
    sample = {"type": "sample", "t": time.time(), **sample, "gpus": [], "job": {"running": False}}
    t0 = time.process_time()
    for _ in range(n):
        text = json_dumps(sample)
    dump_ms = (time.process_time() - t0) / n * 1000
    history = MonitorHistory(history_columns(2))
    now = time.time()
    for i in range(86400, 0, -1):
        history.add(now - i, history_values(sample, 2))
    t0 = time.perf_counter()
    message = json_dumps({"type": "history", **history.snapshot()})
    history_ms = (time.perf_counter() - t0) * 1000
    print(f"in-process: host sample {host_ms:.3f} ms CPU, sample JSON {dump_ms:.3f} ms ({len(text)} bytes), "
          f"history of 24 h with 2 GPUs {len(message) / 1024:.0f} KiB built in {history_ms:.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="subscribed measurement (default 60)")
    parser.add_argument("--idle-seconds", type=float, default=15.0, help="baseline with no subscriber (default 15)")
    parser.add_argument("--interval-ms", type=int, default=1000)
    args = parser.parse_args()
    piece_costs()
    server_cost(args)


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    main()
