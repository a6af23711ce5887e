"""How much resident memory the extension adds to a real ComfyUI process during a first scan.

    python bench/bench_comfyui_rss.py --comfyui PATH/TO/ComfyUI --python PATH/TO/python --corpus DIR

Starts ComfyUI twice on the same output folder (``--output-directory DIR``, a fresh user
directory each time): once with ``--disable-all-custom-nodes`` as the baseline, once with this
repository linked into ``custom_nodes/``. Samples the ComfyUI process's own RSS (the index's
worker processes are separate processes and not counted) until the first scan is idle, and
prints both peaks and their difference. ComfyUI must be installed with this repository's
requirements; nothing of ComfyUI is part of this repository.
"""
from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]


def get_json(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=2) as answer:
        return json.loads(answer.read())


def run(args, extra: list[str], port: int, wait_for_scan: bool) -> tuple[int, int, dict | None]:
    user = tempfile.mkdtemp(prefix="holaf-comfy-user-")
    server = subprocess.Popen(
        [args.python, "main.py", "--cpu", "--disable-api-nodes", "--port", str(port), "--listen", "127.0.0.1",
         "--output-directory", args.corpus, "--user-directory", user, *extra],
        cwd=args.comfyui, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    proc = psutil.Process(server.pid)
    try:
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            try:
                get_json(f"http://127.0.0.1:{port}/system_stats")
                break
            except OSError:
                time.sleep(0.5)
        ready = peak = proc.memory_info().rss
        status = None
        started = time.monotonic()
        while time.monotonic() - started < (args.timeout if wait_for_scan else 20):
            peak = max(peak, proc.memory_info().rss)
            if wait_for_scan and time.monotonic() - started > 3:
                try:
                    status = get_json(f"http://127.0.0.1:{port}/holaf/images/scan-status")
                except OSError:
                    status = None
                if status and status["state"] == "idle" and status.get("last_result"):
                    break
            time.sleep(0.2)
        return ready, peak, status
    finally:
        server.terminate()
        server.wait()
        shutil.rmtree(user, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--comfyui", required=True, help="the ComfyUI folder (holds main.py)")
    parser.add_argument("--python", required=True, help="ComfyUI's Python")
    parser.add_argument("--corpus", required=True, help="output folder to index")
    parser.add_argument("--timeout", type=float, default=600)
    args = parser.parse_args()
    link = Path(args.comfyui) / "custom_nodes" / "ComfyUI-Holaf-Utilities"
    if not link.exists():
        link.symlink_to(ROOT, target_is_directory=True)
    ready0, peak0, _ = run(args, ["--disable-all-custom-nodes"], 8191, False)
    print(f"ComfyUI alone: RSS {ready0 / 2**20:.0f} MB at ready, peak {peak0 / 2**20:.0f} MB")
    ready1, peak1, status = run(args, [], 8192, True)
    result = (status or {}).get("last_result") or {}
    print(f"ComfyUI + Holaf Utilities: RSS {ready1 / 2**20:.0f} MB at ready, peak {peak1 / 2**20:.0f} MB during the "
          f"first scan ({result.get('files')} files in {result.get('seconds')} s)")
    print(f"added by the extension at peak: {(peak1 - peak0) / 2**20:.0f} MB (target <= 100 MB)")


if __name__ == "__main__":
    main()
