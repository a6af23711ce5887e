"""The System Monitor overlay in a real Chromium on a real standalone server (subprocess):
opened from the tool bar and with its shortcut, live values and chart, sampling only while
open, folding, window choice and position kept across a reload."""
from __future__ import annotations

import pytest

from browser_support import poll

pytestmark = pytest.mark.timeout(120)

PANEL = '[data-testid="holaf-panel-monitor"]'


def monitor_status(server):
    return server.get_json("/holaf/monitor/status")


def open_monitor(page):
    page.click('[data-testid="holaf-tool-monitor"]')
    panel = page.locator(PANEL)
    panel.wait_for(state="visible")
    poll(lambda: panel.evaluate("el => el.style.visibility"), lambda v: v == "", message="panel restored")
    return panel


def chip_text(panel, label):
    chips = panel.locator(".holaf-monitor-chip").all_inner_texts()
    return next((c for c in chips if c.startswith(label)), None)


def painted_pixels(panel):
    return panel.locator(".holaf-monitor-canvas").first.evaluate("""c => {
        const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        let n = 0; for (let i = 3; i < d.length; i += 4) if (d[i] > 0) n++; return n; }""")


def test_the_overlay_shows_live_values_and_a_chart_and_stops_the_sampler_when_closed(standalone_page, standalone_server):
    page, problems = standalone_page
    assert monitor_status(standalone_server)["sampling"] is False, "nothing sampled before anyone looks"
    panel = open_monitor(page)
    poll(lambda: chip_text(panel, "CPU"), lambda t: t and "%" in t, message="CPU chip")
    assert chip_text(panel, "RAM") and chip_text(panel, "ComfyUI") and chip_text(panel, "Disk output")
    status = monitor_status(standalone_server)
    assert status["sampling"] is True and status["subscribers"] == 1
    samples = status["samples_taken"]
    poll(lambda: monitor_status(standalone_server)["samples_taken"], lambda n: n >= samples + 2, message="more samples")
    poll(lambda: painted_pixels(panel), lambda n: n > 100, message="the chart has lines")
    if not status["gpu"]["devices"]:
        assert "No GPU found" in panel.locator(".holaf-monitor-status").inner_text()
    assert panel.locator(".holaf-monitor-chart").count() == 1 + len(status["gpu"]["devices"])
    panel.locator('[data-testid="holaf-panel-close"]').click()
    panel.wait_for(state="detached")
    poll(lambda: monitor_status(standalone_server), lambda s: not s["sampling"] and s["subscribers"] == 0,
         message="closing the overlay stops the server's sampling")
    problems.assert_none()


def test_the_shortcut_toggles_the_overlay(standalone_page, standalone_server):
    page, problems = standalone_page
    page.keyboard.press("Alt+Shift+M")
    panel = page.locator(PANEL)
    panel.wait_for(state="visible")
    poll(lambda: monitor_status(standalone_server)["subscribers"], lambda n: n == 1)
    page.keyboard.press("Alt+Shift+M")
    panel.wait_for(state="detached")
    poll(lambda: monitor_status(standalone_server)["sampling"], lambda s: s is False)
    problems.assert_none()


def test_position_folding_and_window_are_kept_across_a_reload(standalone_page, standalone_server):
    page, problems = standalone_page
    panel = open_monitor(page)
    viewport_width = page.evaluate("document.documentElement.clientWidth")
    first = panel.bounding_box()
    assert first["x"] + first["width"] > viewport_width - 40, "first opened in the top-right corner"
    header = panel.locator('[data-testid="holaf-panel-header"]')
    hb = header.bounding_box()
    page.mouse.move(hb["x"] + 60, hb["y"] + hb["height"] / 2)
    page.mouse.down()
    page.mouse.move(hb["x"] - 140, hb["y"] + hb["height"] / 2 + 90, steps=5)
    page.mouse.up()
    moved = panel.bounding_box()
    assert round(moved["x"]) == round(first["x"]) - 200 and round(moved["y"]) == round(first["y"]) + 90
    panel.locator("button.holaf-monitor-window[data-window='1m']").click()
    expanded_height = moved["height"]
    panel.locator('[data-testid="holaf-monitor-collapse"]').click()
    poll(lambda: panel.bounding_box()["height"], lambda h: h < expanded_height - 40, message="folded to the chips")
    assert not panel.locator(".holaf-monitor-charts").is_visible()
    poll(lambda: standalone_server.settings()["SystemMonitor"],
         lambda s: s["collapsed"] is True and s["window"] == "1m" and s["panel_x"] is not None, message="saved")
    saved = standalone_server.settings()["SystemMonitor"]
    assert saved["panel_height"] == pytest.approx(expanded_height, abs=2), "folding keeps the unfolded height"

    page.reload()
    page.locator('[data-testid="holaf-topbar"]').wait_for()
    panel = open_monitor(page)
    again = panel.bounding_box()
    assert (round(again["x"]), round(again["y"])) == (round(moved["x"]), round(moved["y"]))
    assert not panel.locator(".holaf-monitor-charts").is_visible(), "still folded"
    assert panel.locator('[data-testid="holaf-monitor-collapse"]').get_attribute("aria-expanded") == "false"
    poll(lambda: chip_text(panel, "CPU"), lambda t: t and "%" in t)
    panel.locator('[data-testid="holaf-monitor-collapse"]').click()
    assert panel.locator("button.holaf-monitor-window[data-window='1m']").get_attribute("aria-pressed") == "true"
    poll(lambda: panel.bounding_box()["height"], lambda h: abs(h - expanded_height) < 3, message="unfolded to its height")
    problems.assert_none()
