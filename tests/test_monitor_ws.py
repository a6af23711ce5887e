"""System Monitor over its real WebSocket on a real aiohttp server: the protocol, one shared
sampler that runs only while someone is subscribed, per-client rates, errors, Origin, job markers."""
from __future__ import annotations

import asyncio
import json
import threading
import time

import pytest
from aiohttp import WSMsgType

from holaf_utilities import holaf_app
from holaf_utilities.holaf_system_monitor import parse_client_message, ProtocolError

WS = "/holaf/monitor/ws"


def monitor_of(client):
    return client.app[holaf_app.CTX_KEY].state["system_monitor"]


async def next_message(ws, kind: str | None = None, timeout: float = 5.0) -> dict:
    """The next frame (of ``kind`` when given), skipping others."""
    deadline = time.monotonic() + timeout
    while True:
        msg = await ws.receive(timeout=max(0.01, deadline - time.monotonic()))
        assert msg.type == WSMsgType.TEXT, f"unexpected frame {msg.type}: {msg.data}"
        data = json.loads(msg.data)
        if kind is None or data["type"] == kind:
            return data


async def collect(ws, seconds: float) -> list[dict]:
    out = []
    deadline = time.monotonic() + seconds
    while (left := deadline - time.monotonic()) > 0:
        try:
            msg = await ws.receive(timeout=left)
        except asyncio.TimeoutError:
            break
        if msg.type != WSMsgType.TEXT:
            break
        out.append(json.loads(msg.data))
    return out


async def wait_until(predicate, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached in time"
        await asyncio.sleep(0.02)


# -- protocol -------------------------------------------------------------------
async def test_subscribing_sends_the_history_then_samples_of_the_documented_shape(client):
    async with client.ws_connect(WS) as ws:
        await ws.send_json({"type": "subscribe", "interval_ms": 250})
        history = await next_message(ws)
        assert history["type"] == "history" and history["interval_ms"] == 250
        assert history["columns"][:5] == ["t", "cpu", "ram", "swap", "proc_cpu"]
        assert set(history) >= {"points", "coarse", "jobs", "gpu", "job", "cpu_count", "step_s"}
        gpu = history["gpu"]
        assert isinstance(gpu["devices"], list) and isinstance(gpu["backends"], list)
        assert (gpu["message"] == "No GPU found") == (not gpu["devices"]), "no GPU: the monitor says so"
        sample = await next_message(ws)
        assert sample["type"] == "sample" and abs(sample["t"] - time.time()) < 5
        assert set(sample["cpu"]) == {"percent", "per_core", "count"} and len(sample["cpu"]["per_core"]) == sample["cpu"]["count"]
        assert set(sample["ram"]) >= {"percent", "used", "total"} and sample["ram"]["total"] > 0
        assert isinstance(sample["gpus"], list) and len(sample["gpus"]) == len(gpu["devices"])
        assert sample["disks"][0]["roles"] == ["output"]
        assert sample["process"]["rss"] > 0 and sample["job"] == {"running": False, "prompt_id": None, "since": None}


async def test_a_new_subscriber_sees_the_history_recorded_while_others_watched(client):
    async with client.ws_connect(WS) as first:
        await first.send_json({"type": "subscribe", "interval_ms": 1000})
        await next_message(first, "history")
        for _ in range(3):
            await next_message(first, "sample")
        async with client.ws_connect(WS) as second:
            await second.send_json({"type": "subscribe"})
            history = await next_message(second)
            assert history["type"] == "history" and history["interval_ms"] == 1000, "default interval from settings"
            assert len(history["points"]) >= 2
            assert all(len(p) == len(history["columns"]) for p in history["points"])
            latest = await next_message(second)
            assert latest["type"] == "sample", "the latest sample follows at once when it is still fresh"


async def test_nothing_is_sampled_without_a_subscriber_and_sampling_stops_on_unsubscribe(client):
    monitor = monitor_of(client)
    async with client.ws_connect(WS) as ws:
        await ws.send_json({"type": "ping"})
        assert (await next_message(ws))["type"] == "pong"
        await asyncio.sleep(0.6)
        assert monitor.samples_taken == 0 and not monitor.is_sampling, "a connected but unsubscribed client costs nothing"
        await ws.send_json({"type": "subscribe", "interval_ms": 250})
        await next_message(ws, "history")
        await next_message(ws, "sample")
        await next_message(ws, "sample")
        assert monitor.is_sampling and monitor.samples_taken >= 2
        await ws.send_json({"type": "unsubscribe"})
        await next_message(ws, "unsubscribed")
        await wait_until(lambda: not monitor.is_sampling)
        frozen = monitor.samples_taken
        await asyncio.sleep(0.8)
        assert monitor.samples_taken == frozen and not monitor.is_sampling
        leftovers = [m for m in await collect(ws, 0.3) if m["type"] == "sample"]
        assert len(leftovers) <= 1, "at most a sample already on its way"


async def test_closing_the_socket_stops_the_sampler(client):
    monitor = monitor_of(client)
    ws = await client.ws_connect(WS)
    await ws.send_json({"type": "subscribe", "interval_ms": 250})
    await next_message(ws, "sample")
    await ws.close()
    await wait_until(lambda: not monitor.is_sampling and monitor.subscriber_count == 0)
    frozen = monitor.samples_taken
    await asyncio.sleep(0.6)
    assert monitor.samples_taken == frozen


async def test_two_subscribers_at_different_rates_share_one_sampler(client):
    monitor = monitor_of(client)
    async with client.ws_connect(WS) as fast, client.ws_connect(WS) as slow:
        await slow.send_json({"type": "subscribe", "interval_ms": 1000})
        await next_message(slow, "history")
        await fast.send_json({"type": "subscribe", "interval_ms": 250})
        await next_message(fast, "history")
        start = monitor.samples_taken
        fast_msgs, slow_msgs = await asyncio.gather(collect(fast, 2.6), collect(slow, 2.6))
        taken = monitor.samples_taken - start
        fast_n = sum(m["type"] == "sample" for m in fast_msgs)
        slow_n = sum(m["type"] == "sample" for m in slow_msgs)
        # (bounds leave room for a loaded CI machine: the sampler skips ticks rather than bursting)
        assert 5 <= fast_n <= 12, fast_n
        assert 1 <= slow_n <= 4 and fast_n >= 2 * slow_n, (fast_n, slow_n)
        assert taken <= fast_n + 2, f"one sampler at the fastest rate ({taken} samples), not one per socket"
        assert monitor.subscriber_count == 2
        slow_times = [m["t"] for m in slow_msgs if m["type"] == "sample"]
        assert all(0.6 <= b - a <= 1.8 for a, b in zip(slow_times, slow_times[1:])), slow_times


async def test_a_subscriber_can_change_its_rate_without_receiving_the_history_again(client):
    async with client.ws_connect(WS) as ws:
        await ws.send_json({"type": "subscribe", "interval_ms": 2000})
        await next_message(ws, "history")
        await ws.send_json({"type": "subscribe", "interval_ms": 250, "history": False})
        messages = await collect(ws, 1.5)
        assert not [m for m in messages if m["type"] == "history"]
        assert sum(m["type"] == "sample" for m in messages) >= 3, "faster than the 2 s it started with"


@pytest.mark.parametrize(
    "frame, code",
    [
        ("not json", "invalid_json"),
        ("[1, 2]", "invalid_message"),
        ('{"interval_ms": 1000}', "invalid_message"),
        ('{"type": "turbo_on"}', "unknown_type"),
        ('{"type": "subscribe", "interval_ms": 100}', "invalid_interval"),
        ('{"type": "subscribe", "interval_ms": 20000}', "invalid_interval"),
        ('{"type": "subscribe", "interval_ms": "1000"}', "invalid_interval"),
        ('{"type": "subscribe", "interval_ms": true}', "invalid_interval"),
        ('{"type": "subscribe", "interval_ms": 999.5}', "invalid_interval"),
        ('{"type": "subscribe", "history": "yes"}', "invalid_message"),
    ],
)
async def test_invalid_messages_get_a_clear_error_and_the_socket_stays_usable(client, frame, code):
    monitor = monitor_of(client)
    async with client.ws_connect(WS) as ws:
        await ws.send_str(frame)
        error = await next_message(ws)
        assert error["type"] == "error" and error["code"] == code and error["error"]
        assert not monitor.is_sampling, "a refused subscribe starts nothing"
        await ws.send_json({"type": "ping"})
        assert (await next_message(ws))["type"] == "pong"


async def test_binary_and_oversized_frames_are_refused(client):
    async with client.ws_connect(WS) as ws:
        await ws.send_bytes(b"\x00\x01")
        assert (await next_message(ws))["code"] == "invalid_message"
        await ws.send_str(json.dumps({"type": "ping", "pad": "x" * 10000}))
        msg = await ws.receive(timeout=5)
        assert msg.type in (WSMsgType.CLOSE, WSMsgType.CLOSED, WSMsgType.CLOSING)
        assert ws.close_code == 1009, "message too big"


def test_interval_limits_are_inclusive_and_whole_floats_are_accepted():
    assert parse_client_message('{"type": "subscribe", "interval_ms": 250}')["interval_ms"] == 250
    assert parse_client_message('{"type": "subscribe", "interval_ms": 10000.0}')["interval_ms"] == 10000
    assert parse_client_message('{"type": "subscribe"}', 1500) == {"type": "subscribe", "interval_ms": 1500, "history": True}
    with pytest.raises(ProtocolError, match="between 250 and 10000, got 249"):
        parse_client_message('{"type": "subscribe", "interval_ms": 249}')


async def test_a_cross_site_page_cannot_open_the_monitor_socket(client):
    resp = await client.get(WS, headers={
        "Origin": "http://evil.example", "Connection": "Upgrade", "Upgrade": "websocket",
        "Sec-WebSocket-Version": "13", "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
    })
    assert resp.status == 403
    assert (await resp.json())["code"] == "cross_site"
    routes = {(r.method, r.path): r for r in client.app[holaf_app.CTX_KEY].state["routes"].registered}
    assert routes[("GET", WS)].origin_checked


async def test_a_same_origin_page_can_open_it(client):
    origin = f"http://{client.server.host}:{client.server.port}"
    async with client.ws_connect(WS, headers={"Origin": origin}) as ws:
        await ws.send_json({"type": "ping"})
        assert (await next_message(ws))["type"] == "pong"


# -- jobs ---------------------------------------------------------------------------
async def test_comfyui_job_start_and_end_are_marked_live_and_in_the_history(client):
    ctx = client.app[holaf_app.CTX_KEY]
    async with client.ws_connect(WS) as ws:
        await ws.send_json({"type": "subscribe", "interval_ms": 1000})
        await next_message(ws, "history")

        def comfy_worker():  # ComfyUI reports execution from its prompt worker thread
            ctx.events.emit_host_event("execution_start", {"prompt_id": "p-1", "timestamp": 1})
            ctx.events.emit_host_event("executing", {"node": "3", "prompt_id": "p-1"})
            ctx.events.emit_host_event("progress", {"value": 1, "max": 20})
            ctx.events.emit_host_event("executing", {"node": None, "prompt_id": "p-1"})
            ctx.events.emit_host_event("execution_success", {"prompt_id": "p-1", "timestamp": 2})

        thread = threading.Thread(target=comfy_worker)
        thread.start()
        thread.join()
        start = await next_message(ws, "job")
        end = await next_message(ws, "job")
        assert start["phase"] == "start" and start["prompt_id"] == "p-1"
        assert end["phase"] == "end" and end["status"] == "success" and end["duration_s"] >= 0
        assert [m for m in await collect(ws, 0.3) if m["type"] == "job"] == [], "the second end report is ignored"

        ctx.events.emit_host_event("execution_start", {"prompt_id": "p-2"})
        ctx.events.emit_host_event("execution_error", {"prompt_id": "p-2", "exception_message": "OOM"})
        assert (await next_message(ws, "job"))["phase"] == "start"
        failed = await next_message(ws, "job")
        assert failed["status"] == "error" and failed["prompt_id"] == "p-2"

    async with client.ws_connect(WS) as again:
        await again.send_json({"type": "subscribe", "interval_ms": 1000})
        history = await next_message(again, "history")
        assert [(j["phase"], j["prompt_id"]) for j in history["jobs"]] == [
            ("start", "p-1"), ("end", "p-1"), ("start", "p-2"), ("end", "p-2")]


async def test_a_running_job_shows_in_every_sample(client):
    ctx = client.app[holaf_app.CTX_KEY]
    await client.get("/holaf/monitor/status")  # the server is up and its services started
    ctx.events.emit_host_event("execution_start", {"prompt_id": "long-one"})
    async with client.ws_connect(WS) as ws:
        await ws.send_json({"type": "subscribe", "interval_ms": 250})
        history = await next_message(ws, "history")
        assert history["job"]["running"] and history["job"]["prompt_id"] == "long-one"
        sample = await next_message(ws, "sample")
        assert sample["job"]["running"] and sample["job"]["prompt_id"] == "long-one"


# -- settings and status -------------------------------------------------------------
async def test_the_status_route_tells_whether_the_sampler_runs(client):
    body = await (await client.get("/holaf/monitor/status")).json()
    assert body["sampling"] is False and body["subscribers"] == 0 and body["default_interval_ms"] == 1000
    async with client.ws_connect(WS) as ws:
        await ws.send_json({"type": "subscribe", "interval_ms": 250})
        await next_message(ws, "sample")
        body = await (await client.get("/holaf/monitor/status")).json()
        assert body["sampling"] is True and body["subscribers"] == 1 and body["samples_taken"] >= 1


async def test_gpu_monitoring_can_be_turned_off(aiohttp_client, make_app):
    client = await aiohttp_client(make_app(settings={"SystemMonitor": {"gpu": "off"}}))
    async with client.ws_connect(WS) as ws:
        await ws.send_json({"type": "subscribe", "interval_ms": 250})
        history = await next_message(ws, "history")
        assert history["gpu"]["message"] == "GPU monitoring is turned off in the settings"
        assert history["gpu"]["devices"] == [] and history["columns"] == ["t", "cpu", "ram", "swap", "proc_cpu"]
        assert (await next_message(ws, "sample"))["gpus"] == []


async def test_background_recording_samples_with_nobody_watching_when_asked_to(aiohttp_client, make_app):
    client = await aiohttp_client(make_app(settings={"SystemMonitor": {"record_in_background": "true"}}))
    monitor = monitor_of(client)
    # samples_taken counts a sample when it starts; the history gets it once it is read
    await wait_until(lambda: len(monitor.history.fine) >= 1, timeout=15)
    assert monitor.is_sampling and monitor.subscriber_count == 0 and monitor.samples_taken >= 1


async def test_monitor_settings_are_declared_and_writable_through_the_settings_api(client):
    schema = (await (await client.get("/holaf/utilities/settings")).json())["schema"]["SystemMonitor"]
    keys = {item["key"]: item for item in schema}
    assert keys["update_interval_ms"]["min"] == 250 and keys["update_interval_ms"]["max"] == 10000
    assert {"history_minutes", "history_hours", "collapsed", "window", "panel_x"} <= set(keys)
    resp = await client.post("/holaf/utilities/save-all-settings",
                             json={"SystemMonitor": {"update_interval_ms": 2000, "window": "1h", "collapsed": True}})
    assert resp.status == 200, await resp.text()
    async with client.ws_connect(WS) as ws:
        await ws.send_json({"type": "subscribe"})
        assert (await next_message(ws, "history"))["interval_ms"] == 2000
    resp = await client.post("/holaf/utilities/save-all-settings", json={"SystemMonitor": {"update_interval_ms": 50}})
    assert resp.status == 400


# -- inside ComfyUI (the stand-in host) ------------------------------------------------
from test_comfyui_host import comfy  # noqa: E402,F401,F811  (fixture: the package loaded as ComfyUI loads it)


async def test_inside_comfyui_jobs_come_from_send_sync_and_nothing_goes_to_comfyuis_socket(comfy, aiohttp_client):  # noqa: F811
    prompt_server, module, _ = comfy
    prompt_server.add_routes()
    client = await aiohttp_client(prompt_server.app)
    async with client.ws_connect("/api" + WS) as ws:
        await ws.send_json({"type": "subscribe", "interval_ms": 250})
        await next_message(ws, "history")
        sample = await next_message(ws, "sample")
        assert sample["disks"][0]["roles"] == ["output", "models"], "output and models share one disk here"
        worker = threading.Thread(target=prompt_server.send_sync, args=("execution_start", {"prompt_id": "c-1"}))
        worker.start()
        worker.join()
        job = await next_message(ws, "job")
        assert job["phase"] == "start" and job["prompt_id"] == "c-1"
        for _ in range(3):
            await next_message(ws, "sample")
    assert ("execution_start", {"prompt_id": "c-1"}, None) in prompt_server.sent
    assert [e for e, _, _ in prompt_server.sent if "monitor" in str(e)] == [], \
        "samples never ride on ComfyUI's shared websocket"


async def test_a_hung_gpu_driver_at_start_does_not_keep_the_monitor_from_working(tmp_path):
    import concurrent.futures

    import pynvml

    from holaf_utilities.holaf_system_monitor_backend.gpu import ProbeEnvironment, detect_gpus
    from holaf_utilities.holaf_system_monitor_backend.host import HostSampler
    from holaf_utilities.holaf_system_monitor import SystemMonitor, Subscriber

    release = threading.Event()

    class HungNvml:  # nvmlInit never returns, as with a GPU that fell off the bus
        NVMLError = pynvml.NVMLError

        def nvmlInit(self):
            release.wait(10)
            raise pynvml.NVMLError(pynvml.NVML_ERROR_GPU_IS_LOST)

    pool = concurrent.futures.ThreadPoolExecutor(2)

    async def run_blocking(fn, *args):
        return await asyncio.get_running_loop().run_in_executor(pool, lambda: fn(*args))

    env = ProbeEnvironment(nvml=HungNvml(), drm_root=tmp_path, which=lambda name: None, amdsmi=HungNvml())
    monitor = SystemMonitor(host=HostSampler([]), run_blocking=run_blocking,
                            detect=lambda: detect_gpus(run_blocking, env), detect_timeout=0.3)
    await monitor.start()
    frames = []

    async def send(text):
        frames.append(json.loads(text))

    sub = Subscriber(send)
    try:
        await monitor.subscribe(sub, 250)
        await wait_until(lambda: any(f["type"] == "sample" for f in frames))
        assert frames[0]["type"] == "history"
        assert frames[0]["gpu"]["tried"] == [{"backend": "detection", "reason": "timed out after 0.3 s"}]
    finally:
        monitor.unsubscribe(sub)
        release.set()
        await monitor.stop()
        pool.shutdown(wait=True)
