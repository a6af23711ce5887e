"""Print one real reading from every GPU backend this machine has (for checking on GPU hosts).

Unlike the monitor, which stops at the first working backend per vendor, this probes them all
(NVML *and* nvidia-smi, amdsmi *and* sysfs *and* rocm-smi, ioreg), so their figures can be
compared side by side. It also shows what the monitor itself would pick, and how long one
read of each backend takes.

    python bench/check_gpu.py [--json]
"""
from __future__ import annotations

import argparse
import asyncio
import importlib.util
import json
import sys
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]


def load_package():
    if "holaf_utilities" not in sys.modules:
        spec = importlib.util.spec_from_file_location("holaf_utilities", ROOT / "__init__.py", submodule_search_locations=[str(ROOT)])
        module = importlib.util.module_from_spec(spec)
        sys.modules["holaf_utilities"] = module
        spec.loader.exec_module(module)


async def run_blocking(fn, *args):
    return await asyncio.get_running_loop().run_in_executor(None, lambda: fn(*args))


def human(value, unit="", scale=1.0, digits=0):
    return "—" if value is None else f"{value / scale:.{digits}f}{unit}"


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print the raw readings as JSON")
    args = parser.parse_args()
    load_package()
    from holaf_utilities.holaf_system_monitor_backend.gpu import ProbeEnvironment, detect_gpus, probe_all

    env = ProbeEnvironment(ram_total=psutil.virtual_memory().total)
    probes = await probe_all(run_blocking, env, stop_at_first_per_vendor=False)
    report = []
    for probe in probes:
        if probe.backend is None:
            print(f"[{probe.name}] not used: {probe.reason}")
            report.append({"backend": probe.name, "reason": probe.reason})
            continue
        started = time.perf_counter()
        try:
            readings = await probe.backend.read()
        except Exception as exc:  # report and go on to the next backend
            print(f"[{probe.name}] read failed: {type(exc).__name__}: {exc}")
            report.append({"backend": probe.name, "error": str(exc)})
            continue
        elapsed = (time.perf_counter() - started) * 1000
        print(f"[{probe.name}] {len(readings)} GPU(s), one read took {elapsed:.1f} ms")
        for g in readings:
            print(f"  #{g['index']} {g['name']}: load {human(g['util'], '%')}, "
                  f"VRAM {human(g['vram_used'], ' MiB', 1 << 20)} / {human(g['vram_total'], ' MiB', 1 << 20)}"
                  f" ({human(g['vram_percent'], '%', digits=1)}), temp {human(g['temp_c'], ' °C')}, "
                  f"power {human(g['power_w'], ' W', digits=1)} / {human(g['power_limit_w'], ' W', digits=1)}, "
                  f"clocks {human(g['clock_graphics_mhz'], ' MHz')} / {human(g['clock_mem_mhz'], ' MHz')} mem, "
                  f"this process {human(g['process_vram'], ' MiB', 1 << 20)}")
        report.append({"backend": probe.name, "read_ms": round(elapsed, 1), "gpus": readings})
        await probe.backend.close()

    chosen = await detect_gpus(run_blocking, ProbeEnvironment(ram_total=env.ram_total))
    status = chosen.status()
    print(f"The monitor would use: {', '.join(status['backends']) or status['message']}")
    await chosen.close()
    if args.json:
        print(json.dumps({"probes": report, "monitor": status}, indent=2, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
