"""Benchmarks of the Image Viewer index (figures for the README; not part of the test suite).

    python bench/bench_index.py first   --corpus DIR [--workers N | --in-process] [--cold]
    python bench/bench_index.py rescan  --corpus DIR --data DIR
    python bench/bench_index.py make100k --corpus DIR --data DIR --out DIR100K --data100k DATA100K
    python bench/bench_index.py listing --corpus DIR --data DIR [--repeat 30]
    python bench/bench_index.py rss     --corpus DIR
    python bench/bench_index.py live    --mode auto|poll

Generate the corpus once, outside the repository, e.g.
``python ../shared/corpus/make_corpus.py /work/bench-data/corpus20k --images 20000 --videos 100``.
``first`` indexes into a fresh database and keeps it (``--data``, default ``<corpus>.benchdb``) for
``rescan`` and ``listing``. ``make100k`` builds a 100k-row copy: five hard-linked copies of the tree
(real files for the stat-only rescan, no extra disk) and the database rows duplicated to match.
All times are wall-clock on this machine; CPU seconds are printed beside them because the machine
may be shared.
"""
from __future__ import annotations

import argparse
import asyncio
import importlib.util
import json
import os
import resource
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def load_package():
    if "holaf_utilities" not in sys.modules:
        spec = importlib.util.spec_from_file_location("holaf_utilities", ROOT / "__init__.py",
                                                      submodule_search_locations=[str(ROOT)])
        module = importlib.util.module_from_spec(spec)
        sys.modules["holaf_utilities"] = module
        spec.loader.exec_module(module)
    import holaf_utilities.holaf_app  # noqa: F401
    return sys.modules["holaf_utilities"]


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def cpu_seconds() -> tuple[float, float]:
    me = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime, kids.ru_utime + kids.ru_stime


def load_avg() -> str:
    try:
        return " ".join(f"{x:.1f}" for x in os.getloadavg())
    except OSError:
        return "n/a"


def cpu_pressure() -> str:
    """Share of time runnable tasks waited for a CPU (Linux PSI): how busy the machine was."""
    try:
        line = Path("/proc/pressure/cpu").read_text().splitlines()[0]
        return "CPU pressure " + line.split()[2].replace("avg60=", "") + "%"
    except (OSError, IndexError):
        return "CPU pressure n/a"


def drop_caches() -> bool:
    try:
        subprocess.run(["sync"], check=True)
        Path("/proc/sys/vm/drop_caches").write_text("3\n")
        return True
    except OSError as exc:
        print(f"  (could not drop the page cache: {exc})")
        return False


# --------------------------------------------------------------------------- index service
def make_service(corpus: Path, data: Path, *, workers: int):
    load_package()
    from holaf_utilities.holaf_database import Database
    from holaf_utilities.holaf_image_viewer_backend import schema
    from holaf_utilities.holaf_image_viewer_backend.indexer import IndexService
    from holaf_utilities.holaf_image_viewer_backend.metadata import SUPPORTED_EXTENSIONS, resolve_ffprobe

    data.mkdir(parents=True, exist_ok=True)
    db = Database(data / "holaf_utilities.sqlite", migrations={"images": schema.MIGRATIONS})
    db.open()
    events: list = []
    service = IndexService(db=db, output_dir=str(corpus), exclude_dirs=[str(data)], extensions=SUPPORTED_EXTENSIONS,
                           publish=lambda name, payload: events.append((time.perf_counter(), name, payload)),
                           workers=workers, ffprobe_resolver=resolve_ffprobe)
    return db, service, events


def run_scan(service, *, force: bool = False) -> dict:
    ticket = service.request_scan(force=force, reason="bench")
    return ticket.done.result(timeout=3600)


def cmd_first(args) -> None:
    data = Path(args.data or f"{args.corpus}.benchdb")
    if data.exists():
        shutil.rmtree(data)
    workers = 0 if args.in_process else args.workers
    cold = args.cold and drop_caches()
    db, service, events = make_service(Path(args.corpus), data, workers=workers)
    service.start()
    cpu0 = cpu_seconds()
    t0 = time.perf_counter()
    result = run_scan(service)
    wall = time.perf_counter() - t0
    service.stop()
    db.close()
    cpu1 = cpu_seconds()
    files = result["files"]
    print(f"first index ({'cold' if cold else 'warm'} cache, workers={workers or 'in-process'}, load {load_avg()}, "
          f"{cpu_pressure()}):")
    print(f"  {files} files in {wall:.2f} s = {files / wall:,.0f} files/s "
          f"(walk {result['walk_seconds']:.2f} s, reading and storing {result.get('new_files_seconds', 0) + result['metadata_seconds']:.2f} s)")
    print(f"  CPU: server {cpu1[0] - cpu0[0]:.2f} s, workers {cpu1[1] - cpu0[1]:.2f} s "
          f"= {(cpu1[0] - cpu0[0] + cpu1[1] - cpu0[1]) / files * 1e6:.0f} us/file")
    print(f"  database: {data}")
    print(json.dumps({"bench": "first", "cold": cold, "workers": workers, "files": files, "seconds": round(wall, 3),
                      "files_per_s": round(files / wall), "result": {k: v for k, v in result.items() if k != "walk"}}))


def cmd_rescan(args) -> None:
    data = Path(args.data or f"{args.corpus}.benchdb")
    db, service, _ = make_service(Path(args.corpus), data, workers=0)
    service.start()
    times = []
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        result = run_scan(service)
        times.append(time.perf_counter() - t0)
        assert result["added"] == result["changed"] == result["removed"] == 0, result
    service.stop()
    db.close()
    print(f"rescan, nothing changed ({result['files']} files, load {load_avg()}): "
          f"best {min(times):.2f} s, median {statistics.median(times):.2f} s over {len(times)} runs "
          f"(walk {result['walk_seconds']:.2f} s)")
    print(json.dumps({"bench": "rescan", "files": result["files"], "best": round(min(times), 3),
                      "median": round(statistics.median(times), 3)}))


# --------------------------------------------------------------------------- 100k rows
def cmd_make100k(args) -> None:
    """Five hard-linked copies of the corpus (real files) and the matching duplicated rows."""
    src, out = Path(args.corpus), Path(args.out)
    data_src = Path(args.data or f"{args.corpus}.benchdb")
    data_out = Path(args.data100k)
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    for copy in range(args.copies):
        subprocess.run(["cp", "-al", str(src), str(out / f"copy{copy}")], check=True)
    if data_out.exists():
        shutil.rmtree(data_out)
    shutil.copytree(data_src, data_out)
    conn = sqlite3.connect(data_out / "holaf_utilities.sqlite")
    conn.execute("PRAGMA foreign_keys = OFF")
    cols = [r[1] for r in conn.execute("PRAGMA table_info(images)") if r[1] != "id"]
    base = conn.execute("SELECT max(id) FROM images").fetchone()[0]
    conn.execute("CREATE TEMP TABLE src AS SELECT * FROM images")
    conn.execute("CREATE TEMP TABLE src_fts AS SELECT rowid AS rid, * FROM image_fts")
    conn.execute("CREATE TEMP TABLE src_tags AS SELECT * FROM image_tags")
    conn.execute("CREATE TEMP TABLE src_loras AS SELECT * FROM image_loras")
    conn.execute("DELETE FROM image_fts")
    conn.execute("DELETE FROM image_tags")
    conn.execute("DELETE FROM image_loras")
    conn.execute("DELETE FROM images")

    def rewrite(col: str, copy: int) -> str:
        prefix = f"copy{copy}"
        if col == "path":
            return (f"CASE WHEN path LIKE 'trashcan/%' THEN 'trashcan/{prefix}/' || substr(path, 10) "
                    f"ELSE '{prefix}/' || path END")
        if col == "folder":
            return (f"CASE WHEN folder = 'trashcan' THEN 'trashcan/{prefix}' WHEN folder LIKE 'trashcan/%' "
                    f"THEN 'trashcan/{prefix}/' || substr(folder, 10) WHEN folder = '' THEN '{prefix}' "
                    f"ELSE '{prefix}/' || folder END")
        if col == "top_folder":
            return f"CASE WHEN is_trashed = 1 THEN top_folder ELSE '{prefix}' END"
        if col == "original_path":
            return f"CASE WHEN original_path IS NULL THEN NULL ELSE '{prefix}/' || original_path END"
        return col

    for copy in range(args.copies):
        offset = copy * base
        conn.execute(f"INSERT INTO images (id, {', '.join(cols)}) SELECT id + {offset}, "
                     f"{', '.join(rewrite(c, copy) for c in cols)} FROM src")
        conn.execute(f"INSERT INTO image_fts (rowid, name, folder, positive, negative, model, loras, workflow) "
                     f"SELECT rid + {offset}, name, CASE WHEN folder = '' THEN 'copy{copy}' ELSE 'copy{copy}/' || folder END, "
                     f"positive, negative, model, loras, workflow FROM src_fts")
        conn.execute(f"INSERT INTO image_tags SELECT image_id + {offset}, tag_id FROM src_tags")
        conn.execute(f"INSERT INTO image_loras SELECT image_id + {offset}, lora FROM src_loras")
    conn.commit()
    conn.execute("ANALYZE")
    conn.execute("INSERT INTO image_fts(image_fts) VALUES ('optimize')")
    conn.commit()
    total = conn.execute("SELECT count(*) FROM images").fetchone()[0]
    conn.close()
    print(f"made {total} rows in {data_out} over {out}")


# --------------------------------------------------------------------------- listing latency
LIST_CASES = [
    ("newest, first page", {"limit": 200}),
    ("newest, page 3 by cursor", {"limit": 200, "_pages": 3}),
    ("oldest", {"limit": 200, "sort": "oldest"}),
    ("name", {"limit": 200, "sort": "name"}),
    ("size", {"limit": 200, "sort": "size"}),
    ("random (seeded)", {"limit": 200, "sort": "random", "seed": 1234}),
    ("deep offset 50,000", {"limit": 200, "offset": 50_000}),
    ("top-level folder + newest", {"limit": 200, "_top": True}),
    ("subfolder prefix + name", {"limit": 200, "_projects": True, "sort": "name"}),
    ("formats WEBP+JPEG", {"limit": 200, "formats": ["WEBP", "JPEG"]}),
    ("videos only", {"limit": 200, "kinds": ["video"]}),
    ("date range (one month)", {"limit": 200, "date_from": "2024-03-01", "date_to": "2024-03-31"}),
    ("has workflow, no edits", {"limit": 200, "has_workflow": True, "has_edits": False}),
    ("model filter", {"limit": 200, "_model": True}),
    ("lora filter", {"limit": 200, "_lora": True}),
    ("sampler + size sort", {"limit": 200, "_sampler": True, "sort": "size"}),
    ("model + name sort", {"limit": 200, "_model": True, "sort": "name"}),
]
SEARCHES = ["astronaut", "samurai forest", '"oil painting"', "cyberpunk -city", "dragon OR wizard", "lighthouse",
            "painting", "owl", "zzzunknownword"]


def cmd_listing(args) -> None:
    load_package()
    from aiohttp.test_utils import TestClient, TestServer

    from holaf_utilities import holaf_app
    from holaf_utilities.holaf_context import HostPaths

    corpus = Path(args.corpus)
    data = Path(args.data or f"{args.corpus}.benchdb")
    (data / "config.ini").write_text("[ImageViewer]\nwatch_mode = off\nrescan_interval_min = 0\n")

    async def main() -> None:
        app = holaf_app.create_standalone_app(HostPaths(output_dir=corpus, data_dir=data))
        client = TestClient(TestServer(app))
        await client.start_server()
        try:
            if not args.no_sync:
                await client.post("/holaf/images/maintenance/sync-database", json={"wait": True, "timeout_s": 600})
            options = await (await client.get("/holaf/images/filter-options")).json()
            model = options["models"][len(options["models"]) // 2]["name"] if options["models"] else None
            lora = options["loras"][len(options["loras"]) // 2]["name"] if options["loras"] else None
            sampler = options["samplers"][-1]["name"] if options["samplers"] else None
            total = (await (await client.post("/holaf/images/list", json={"limit": 1})).json())["total"]
            print(f"listing latency over HTTP at {total:,} rows (load {load_avg()}, {cpu_pressure()}), "
                  f"{args.repeat} runs each, filtered totals counted afresh every time; 'cpu ms' = server thread CPU per request:")
            print(f"  {'case':34s} {'p50 ms':>8s} {'p95 ms':>8s} {'cpu ms':>8s} {'rows':>6s} {'total':>8s}")
            rows_out = []
            for label, body in LIST_CASES:
                body = dict(body)
                pages = body.pop("_pages", 1)
                if body.pop("_model", False):
                    body["model"] = model
                if body.pop("_lora", False):
                    body["lora"] = lora
                if body.pop("_sampler", False):
                    body["sampler"] = sampler
                if body.pop("_top", False):  # the biggest top-level folder (a copy at 100k)
                    body["folders"] = [max(options["folders"], key=lambda f: f.get("count", 0))["path"]]
                if body.pop("_projects", False):  # make_corpus's nested project tree (under copy1/ at 100k)
                    copies = any(f["path"] == "copy1" for f in options["folders"])
                    body["folder_prefix"] = "copy1/projects" if copies else "projects"
                rows_out.append(await measure(client, label, body, pages, args.repeat))
            for text in SEARCHES:
                rows_out.append(await measure(client, f"search {text}", {"limit": 200, "search": text,
                                                                        "search_scopes": ["prompt"]}, 1, args.repeat))
            rows_out.append(await measure(client, "search all scopes 'dragon'",
                                          {"limit": 200, "search": "dragon"}, 1, args.repeat))
            rows_out.append(await measure(client, "search 'dragon' + folder + newest",
                                          {"limit": 200, "search": "dragon", "folders": [options["folders"][0]["path"]]},
                                          1, args.repeat))
            print(json.dumps({"bench": "listing", "rows": total, "cases": rows_out}))
        finally:
            await client.close()

    def cpu_ms(app, body) -> float:
        """Server work for one request (the query and the JSON), in CPU time: what a dedicated
        core would take, whatever the other tenants of this machine do."""
        from holaf_utilities.holaf_image_viewer_backend import index_queries, logic

        ctx = app[holaf_app.CTX_KEY]
        index = ctx.state["image_index"]
        q = logic.parse_list_query(body)
        samples = []
        for _ in range(9):
            index.count_cache.clear()  # count again, as the first page of a new filter does
            t0 = time.thread_time()
            ctx.db.read_sync(lambda conn: index_queries.list_response(conn, q, index))
            samples.append((time.thread_time() - t0) * 1000)
        return statistics.median(samples)

    async def measure(client, label, body, pages, repeat):
        times = []
        data = None
        index = client.server.app[holaf_app.CTX_KEY].state["image_index"]
        for run in range(repeat + 2):
            cursor = None
            for page in range(pages):
                # Every request counts its filter afresh (as the first page of a new filter does);
                # only the unfiltered total stays cached, as it does between index changes.
                for key in [k for k in index.count_cache if "all" not in k]:
                    index.count_cache.pop(key, None)
                payload = dict(body)
                if cursor:
                    payload["cursor"] = cursor
                t0 = time.perf_counter()
                resp = await client.post("/holaf/images/list", json=payload)
                raw = await resp.read()  # latency = request until the last byte arrived
                elapsed = time.perf_counter() - t0
                data = json.loads(raw)
                assert resp.status == 200, data
                cursor = data["next_cursor"]
            if run >= 2:  # two warm-up runs
                times.append(elapsed * 1000)
        times.sort()
        p50 = statistics.median(times)
        p95 = times[min(len(times) - 1, int(round(0.95 * (len(times) - 1))))]
        work = cpu_ms(client.server.app, body) if pages == 1 else float("nan")
        print(f"  {label:34s} {p50:8.1f} {p95:8.1f} {work:8.1f} {len(data['images']):6d} {data['total'] or 0:8d}")
        return {"case": label, "p50_ms": round(p50, 2), "p95_ms": round(p95, 2), "cpu_ms": round(work, 2),
                "rows": len(data["images"]), "total": data["total"]}

    asyncio.run(main())


# --------------------------------------------------------------------------- peak RSS
def cmd_rss(args) -> None:
    import psutil
    import urllib.request

    data = Path(tempfile.mkdtemp(prefix="holaf-rss-"))
    port = args.port or free_port()
    (data / "config.ini").write_text(f"[ImageViewer]\nscan_workers = {args.workers}\n")
    if args.cold:
        drop_caches()
    server = subprocess.Popen([sys.executable, str(ROOT / "__main__.py"), "--output-dir", args.corpus, "--data-dir",
                               str(data), "--port", str(port), "--log-level", "WARNING"], cwd=str(ROOT))
    proc = psutil.Process(server.pid)
    peak_main = peak_total = peak_worker = 0
    t0 = time.perf_counter()
    first_answer = None
    state = None
    try:
        while time.perf_counter() - t0 < 1800:
            try:
                main_rss = proc.memory_info().rss
                kid_rss = []
                for child in proc.children(recursive=False):  # worker processes (not their ffprobe runs)
                    try:
                        kid_rss.append(child.memory_info().rss)
                    except psutil.Error:
                        pass
                kids = sum(kid_rss)
                peak_worker = max([peak_worker, *kid_rss])
            except psutil.Error:
                break
            peak_main = max(peak_main, main_rss)
            peak_total = max(peak_total, main_rss + kids)
            try:
                if first_answer is None:
                    with urllib.request.urlopen(f"http://127.0.0.1:{port}/holaf/utilities/info", timeout=1) as resp:
                        if json.loads(resp.read())["pid"] != server.pid:
                            raise SystemExit(f"port {port} is answered by another process")
                    first_answer = time.perf_counter() - t0
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/holaf/images/scan-status", timeout=1) as resp:
                    state = json.loads(resp.read())
            except OSError:
                pass
            if state and state["state"] == "idle" and state.get("last_result"):
                break
            time.sleep(0.05)
    finally:
        server.terminate()
        server.wait(timeout=30)
        shutil.rmtree(data, ignore_errors=True)
    print(f"peak RSS during the first scan of {state and state.get('found')} files: server {peak_main / 2**20:.0f} MB, "
          f"server + its worker processes {peak_total / 2**20:.0f} MB (largest worker {peak_worker / 2**20:.0f} MB; "
          f"short ffprobe runs not counted); "
          f"first HTTP answer after {first_answer:.2f} s; "
          f"scan {state and state['last_result'] and state['last_result']['seconds']} s")
    print(json.dumps({"bench": "rss", "peak_server_mb": round(peak_main / 2**20), "peak_total_mb": round(peak_total / 2**20)}))


# --------------------------------------------------------------------------- new file → client
def cmd_live(args) -> None:
    load_package()
    from aiohttp.test_utils import TestClient, TestServer

    from holaf_utilities import holaf_app
    from holaf_utilities.holaf_context import HostPaths
    sys.path.insert(0, str(ROOT / "tests"))
    from index_helpers import comfy_prompt, png_bytes  # noqa: E402

    base = Path(tempfile.mkdtemp(prefix="holaf-live-"))
    out, data = base / "out", base / "data"
    out.mkdir()
    data.mkdir()
    if args.corpus:
        out.rmdir()
        subprocess.run(["cp", "-al", args.corpus, str(out)], check=True)
        db = Path(f"{args.corpus}.benchdb") / "holaf_utilities.sqlite"
        if db.exists():  # the tree is a hard-linked copy: its index is the same (no first scan)
            shutil.copyfile(db, data / db.name)
    (data / "config.ini").write_text(f"[ImageViewer]\nwatch_mode = {args.mode}\nrescan_interval_min = 0\n")
    payload = png_bytes(size=(512, 512), prompt=comfy_prompt("a live benchmark kingfisher"))

    async def main():
        app = holaf_app.create_standalone_app(HostPaths(output_dir=out, data_dir=data))
        client = TestClient(TestServer(app))
        await client.start_server()
        try:
            await client.post("/holaf/images/maintenance/sync-database", json={"wait": True, "timeout_s": 600})
            status = await (await client.get("/holaf/images/scan-status")).json()
            print(f"new file → client latency, watch mode {status['watch']['mode']} over {status['found']:,} files "
                  f"(load {load_avg()}):")
            await asyncio.sleep(1.0)
            ws = await client.ws_connect("/holaf/events")
            event_ms, list_ms = [], []
            for run in range(args.repeat):
                name = f"live_{run:03d}.png"
                t0 = time.perf_counter()
                (out / name).write_bytes(payload)  # complete when write_bytes returns (closed)
                while True:
                    msg = await ws.receive_json(timeout=10)
                    if msg["type"] == "holaf.images.changed" and name in msg["data"]["added_paths"]:
                        break
                event_ms.append((time.perf_counter() - t0) * 1000)
                while True:
                    listed = await (await client.post("/holaf/images/list", json={"limit": 5})).json()
                    if any(i["path"] == name for i in listed["images"]):
                        break
                    await asyncio.sleep(0.01)
                list_ms.append((time.perf_counter() - t0) * 1000)
                await asyncio.sleep(0.3)
            await ws.close()
            print(f"  event: median {statistics.median(event_ms):.0f} ms, max {max(event_ms):.0f} ms; "
                  f"listed: median {statistics.median(list_ms):.0f} ms, max {max(list_ms):.0f} ms ({args.repeat} files)")
            print(json.dumps({"bench": "live", "mode": status["watch"]["mode"], "event_median_ms": round(statistics.median(event_ms)),
                              "event_max_ms": round(max(event_ms)), "list_max_ms": round(max(list_ms))}))
        finally:
            await client.close()
            shutil.rmtree(base, ignore_errors=True)

    asyncio.run(main())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("first")
    p.add_argument("--corpus", required=True)
    p.add_argument("--data")
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--in-process", action="store_true")
    p.add_argument("--cold", action="store_true", help="drop the page cache first (needs root)")
    p = sub.add_parser("rescan")
    p.add_argument("--corpus", required=True)
    p.add_argument("--data")
    p.add_argument("--repeat", type=int, default=5)
    p = sub.add_parser("make100k")
    p.add_argument("--corpus", required=True)
    p.add_argument("--data")
    p.add_argument("--out", required=True)
    p.add_argument("--data100k", required=True)
    p.add_argument("--copies", type=int, default=5)
    p = sub.add_parser("listing")
    p.add_argument("--corpus", required=True)
    p.add_argument("--data")
    p.add_argument("--repeat", type=int, default=30)
    p.add_argument("--no-sync", action="store_true", help="do not reconcile with the disk first")
    p = sub.add_parser("rss")
    p.add_argument("--corpus", required=True)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--port", type=int, default=0, help="0 = any free port")
    p.add_argument("--cold", action="store_true")
    p = sub.add_parser("live")
    p.add_argument("--mode", default="auto")
    p.add_argument("--corpus")
    p.add_argument("--repeat", type=int, default=10)
    args = parser.parse_args()
    {"first": cmd_first, "rescan": cmd_rescan, "make100k": cmd_make100k, "listing": cmd_listing,
     "rss": cmd_rss, "live": cmd_live}[args.cmd](args)


if __name__ == "__main__":
    main()
