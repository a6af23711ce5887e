"""System Monitor front-end modules in a real Chromium against a real standalone server:
the socket client (history, samples, close stops the sampler), the series store and the
canvas chart (draws once, schedules nothing)."""
from __future__ import annotations

import asyncio
import socket
import threading
import time

import pytest
from aiohttp import web

from holaf_utilities import holaf_app
from holaf_utilities.holaf_context import HostPaths

playwright_api = pytest.importorskip("playwright.sync_api")

CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


class ServerThread:
    """The standalone app on its own event loop thread, so the sync Playwright API can drive a page."""

    def __init__(self, paths: HostPaths) -> None:
        self.paths = paths
        self.loop = asyncio.new_event_loop()
        self.ready = threading.Event()
        self.app = None
        self.port = None
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_until_complete(self._start())
        self.ready.set()
        self.loop.run_forever()

    async def _start(self) -> None:
        self.app = holaf_app.create_standalone_app(self.paths)
        self.runner = web.AppRunner(self.app)
        await self.runner.setup()
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        await web.TCPSite(self.runner, "127.0.0.1", self.port).start()

    def call(self, fn):
        """Run ``fn()`` on the server loop and return its result (state is only touched there)."""
        async def wrapper():
            return fn()
        return asyncio.run_coroutine_threadsafe(wrapper(), self.loop).result(10)

    def start(self) -> "ServerThread":
        self.thread.start()
        assert self.ready.wait(20)
        return self

    def stop(self) -> None:
        asyncio.run_coroutine_threadsafe(self.runner.cleanup(), self.loop).result(20)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)


@pytest.fixture
def server(host_paths):
    srv = ServerThread(host_paths).start()
    yield srv
    srv.stop()


@pytest.fixture
def page(server):
    with playwright_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        try:
            pg = browser.new_page()
            pg.goto(f"http://127.0.0.1:{server.port}/")
            yield pg
        finally:
            browser.close()


def poll(page, expression: str, predicate, timeout: float = 10.0):
    """Evaluate ``expression`` until ``predicate`` holds (the page's CSP forbids wait_for_function's eval)."""
    deadline = time.monotonic() + timeout
    while True:
        value = page.evaluate(expression)
        if predicate(value):
            return value
        assert time.monotonic() < deadline, f"{expression} never satisfied the condition: {value!r}"
        time.sleep(0.05)


def module_url(server, name: str) -> str:
    ctx = server.app[holaf_app.CTX_KEY]
    return f"{ctx.js_base_url}/monitor/{name}"


def test_the_socket_client_receives_history_then_samples_and_closing_stops_the_sampler(server, page):
    monitor = server.app[holaf_app.CTX_KEY].state["system_monitor"]
    page.evaluate("""async (url) => {
        const { MonitorClient } = await import(url);
        window.seen = [];
        const wsUrl = location.origin.replace(/^http/, "ws") + "/holaf/monitor/ws";
        window.client = new MonitorClient(() => wsUrl, {
            onHistory: (m) => window.seen.push("history"),
            onSample: (m) => window.seen.push("sample:" + m.cpu.count),
            onState: (s) => window.seen.push("state:" + s),
        });
        window.client.open(250);
    }""", module_url(server, "client.js"))
    seen = poll(page, "window.seen", lambda seen: sum(s.startswith("sample") for s in seen) >= 3)
    assert seen[:3] == ["state:connecting", "state:open", "history"]
    assert seen[3].startswith("sample:")
    assert server.call(lambda: monitor.is_sampling)
    page.evaluate("window.client.close()")
    deadline = time.monotonic() + 5
    while server.call(lambda: monitor.is_sampling or monitor.subscriber_count):
        assert time.monotonic() < deadline, "closing the overlay's socket must stop the sampler"
        time.sleep(0.05)


def test_the_client_clamps_intervals_to_what_the_server_accepts(server, page):
    clamped = page.evaluate("""async (url) => {
        const { clampInterval } = await import(url);
        return [clampInterval(10), clampInterval(1000), clampInterval(99999), clampInterval("x")];
    }""", module_url(server, "client.js"))
    assert clamped == [250, 1000, 10000, 1000]


HISTORY = {
    "type": "history", "columns": ["t", "cpu", "ram", "swap", "proc_cpu", "gpu0_util", "gpu0_vram", "gpu0_temp"],
    "step_s": 1,
    "points": [[1000.0 + i, 10.0 + i, 50.0, 0.0, 1.0, 90.0, 40.0, 60.0] for i in range(30)],
    "coarse": {"step_s": 60, "points": [[900.0 - 60 * k, 5.0, 45.0, 0.0, 1.0, 10.0, 30.0, 50.0] for k in range(3, 0, -1)]},
    "jobs": [{"t": 1005.0, "phase": "start", "prompt_id": "a"}, {"t": 1020.0, "phase": "end", "prompt_id": "a", "status": "success"}],
}
SAMPLE = {"type": "sample", "t": 1031.0, "cpu": {"percent": 77.0}, "ram": {"percent": 51.0}, "swap": {"percent": 0.0},
          "process": {"cpu_percent": 2.0}, "gpus": [{"util": 99.0, "vram_percent": 41.5, "temp_c": 70.0}]}


def test_the_series_store_merges_history_and_live_samples(server, page):
    result = page.evaluate("""async ([url, history, sample]) => {
        const { MonitorSeries, columnValue } = await import(url);
        const series = new MonitorSeries();
        series.loadHistory(history);
        const added = series.addSample(sample);
        const again = series.addSample(sample);
        const win = series.window(700, 1031);
        return {
            added, again, last: series.fine[series.fine.length - 1],
            coarse: win.coarse.length, fine: win.fine.length,
            recent: series.window(1020, 1031).fine.map(r => r[0]),
            gpuTemp: columnValue(sample, "gpu0_temp"), missing: columnValue(sample, "gpu3_util"),
            jobs: series.jobsBetween(1000, 1010).length,
        };
    }""", [module_url(server, "series.js"), HISTORY, SAMPLE])
    assert result["added"] is True and result["again"] is False, "a repeated sample is not stored twice"
    assert result["last"] == [1031.0, 77.0, 51.0, 0.0, 2.0, 99.0, 41.5, 70.0]
    assert result["coarse"] == 3 and result["fine"] == 31
    assert result["recent"][0] <= 1020 and result["recent"][-1] == 1031.0
    assert result["gpuTemp"] == 70.0 and result["missing"] is None and result["jobs"] == 1


def test_the_chart_draws_lines_and_job_markers_once_and_schedules_nothing(server, page):
    result = page.evaluate("""async ([chartUrl, seriesUrl, history]) => {
        const { drawChart, fitCanvas, nearestRow } = await import(chartUrl);
        const { MonitorSeries } = await import(seriesUrl);
        let frames = 0, timers = 0;
        const raf = window.requestAnimationFrame, st = window.setTimeout, si = window.setInterval;
        window.requestAnimationFrame = (f) => { frames += 1; return raf(f); };
        window.setTimeout = (...a) => { timers += 1; return st(...a); };
        window.setInterval = (...a) => { timers += 1; return si(...a); };
        const series = new MonitorSeries();
        series.loadHistory(history);
        const canvas = document.createElement("canvas");
        document.body.appendChild(canvas);
        fitCanvas(canvas, 300, 60, 1);
        const ctx = canvas.getContext("2d");
        const win = series.window(1000, 1030);
        drawChart(ctx, { width: 300, height: 60, t0: 1000, t1: 1030, yMax: 100, fine: win.fine, coarse: win.coarse,
            lines: [{ index: 1, color: "rgb(255, 0, 0)" }, { index: 5, color: "rgb(0, 0, 255)" }],
            jobs: series.jobs, colors: { job: "rgb(0, 255, 0)", running: "rgb(0, 0, 0)" }, now: 1030 });
        const pixels = ctx.getImageData(0, 0, 300, 60).data;
        let red = 0, blue = 0, green = 0;
        for (let i = 0; i < pixels.length; i += 4) {
            const [r, g, b, a] = [pixels[i], pixels[i + 1], pixels[i + 2], pixels[i + 3]];
            if (a > 100 && r > 150 && g < 80 && b < 80) red += 1;
            if (a > 100 && b > 150 && r < 80 && g < 80) blue += 1;
            if (a > 100 && g > 150 && r < 80 && b < 80) green += 1;
        }
        // the blue GPU line (90 %) sits near the top; the red CPU line (10–39 %) lower down
        const rowOf = (color) => { for (let y = 0; y < 60; y++) for (let x = 0; x < 300; x++) {
            const i = (y * 300 + x) * 4; const p = pixels.slice(i, i + 4);
            if (color === "blue" ? (p[2] > 150 && p[0] < 80 && p[3] > 100) : (p[0] > 150 && p[1] < 80 && p[3] > 100)) return y; }
            return -1; };
        return { red, blue, green, frames, timers, blueTop: rowOf("blue"), redTop: rowOf("red"),
                 resized: fitCanvas(canvas, 300, 60, 1), nearest: nearestRow(win.fine, 1004.4)[0] };
    }""", [module_url(server, "chart.js"), module_url(server, "series.js"), HISTORY])
    assert result["red"] > 50 and result["blue"] > 50, result
    assert result["green"] > 52, "two job markers drawn (one solid start, one dashed end; 52 px is one full line)"
    assert 0 <= result["blueTop"] < result["redTop"], "higher values are drawn higher"
    assert result["frames"] == 0 and result["timers"] == 0, "no animation: one call, one drawing"
    assert result["resized"] is False, "the backing store is only reallocated when the size changes"
    assert result["nearest"] == 1004.0


def test_the_view_shows_live_chips_and_charts_and_draws_at_most_once_per_sample(server, page):
    page.evaluate("""async ([viewUrl, clientUrl, cssUrl]) => {
        const { MonitorView } = await import(viewUrl);
        const { MonitorClient } = await import(clientUrl);
        const link = document.createElement("link");
        link.rel = "stylesheet"; link.href = cssUrl;
        document.head.appendChild(link);
        const box = document.createElement("div");
        box.style.cssText = "position:absolute;left:0;top:0;width:420px;height:320px";
        document.body.appendChild(box);
        window.samples = 0;
        window.windows = [];
        window.view = new MonitorView(box, { window: "1m", onWindowChange: (w) => window.windows.push(w) });
        const wsUrl = location.origin.replace(/^http/, "ws") + "/holaf/monitor/ws";
        window.client = new MonitorClient(() => wsUrl, {
            onHistory: (m) => window.view.loadHistory(m),
            onSample: (m) => { window.samples += 1; window.view.addSample(m); },
            onJob: (m) => window.view.addJob(m),
            onState: (s, d) => window.view.setConnection(s, d),
        });
        window.client.open(250);
    }""", [module_url(server, "view.js"), module_url(server, "client.js"), module_url(server, "monitor.css")])
    poll(page, "window.samples", lambda n: n >= 2)
    chips = page.inner_text(".holaf-monitor-chips")
    assert "CPU" in chips and "RAM" in chips and "ComfyUI" in chips and "Disk output" in chips
    state = page.evaluate("({draws: window.view.draws, samples: window.samples, charts: document.querySelectorAll('.holaf-monitor-chart').length})")
    steady = poll(page, "({draws: window.view.draws, samples: window.samples})", lambda s: s["samples"] >= state["samples"] + 4)
    assert steady["draws"] - state["draws"] <= steady["samples"] - state["samples"], ("at most one draw per sample", state, steady)
    gpus = server.call(lambda: len(server.app[holaf_app.CTX_KEY].state["system_monitor"].gpu_status()["devices"]))
    assert state["charts"] == 1 + gpus, "one chart for CPU/RAM and one per GPU"
    painted = page.evaluate("""() => {
        const c = document.querySelector('.holaf-monitor-canvas');
        const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        let n = 0; for (let i = 3; i < d.length; i += 4) if (d[i] > 0) n++; return n; }""")
    assert painted > 100, "the CPU/RAM chart has lines on it"

    plot = page.locator(".holaf-monitor-plot").first
    box = plot.bounding_box()
    page.mouse.move(box["x"] + box["width"] - 3, box["y"] + box["height"] / 2)
    tooltip = page.locator(".holaf-monitor-tooltip")
    assert tooltip.is_visible() and "CPU" in tooltip.inner_text() and "RAM" in tooltip.inner_text()
    draws_before_hover = page.evaluate("window.view.draws")
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + 5)
    assert page.evaluate("window.view.draws") == draws_before_hover, "hovering never redraws"

    page.click("button.holaf-monitor-window[data-window='1h']")
    assert page.evaluate("window.windows") == ["1h"]
    assert page.get_attribute("button[data-window='1h']", "aria-pressed") == "true"

    page.evaluate("window.view.setVisible(false)")
    hidden_draws = page.evaluate("window.view.draws")
    received = page.evaluate("window.samples")
    poll(page, "window.samples", lambda n: n >= received + 3)
    assert page.evaluate("window.view.draws") == hidden_draws, "nothing is drawn while hidden"
    page.evaluate("window.view.setCollapsed(true); window.view.setVisible(true)")
    poll(page, "window.samples", lambda n: n >= received + 5)
    assert page.evaluate("window.view.draws") == hidden_draws, "nor while collapsed (chips only)"
    assert not page.locator(".holaf-monitor-charts").is_visible()
    page.evaluate("window.view.setCollapsed(false)")
    poll(page, "window.view.draws", lambda n: n > hidden_draws)
    page.evaluate("window.client.close()")
