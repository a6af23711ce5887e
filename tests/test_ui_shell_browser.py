"""The Utilities shell in a real Chromium against a real standalone server subprocess:
panels (drag, resize from edges, fullscreen, front, theme, geometry restored after a
reload, read back from config.ini and from the DOM), toasts, keyboard dialogs, the
Settings panel (save, server validation errors) and the password flows."""
from __future__ import annotations

import time

import pytest

from browser_support import open_standalone_page, poll
from conftest import TEST_PASSWORD

pytestmark = pytest.mark.timeout(120)


# ---------------------------------------------------------------------------- helpers
def open_settings(page):
    page.click('[data-testid="holaf-tool-settings"]')
    panel = page.locator('[data-testid="holaf-panel-settings"]')
    panel.wait_for(state="visible")
    page.locator('[data-testid="holaf-settings-section-UtilitiesUI"]').wait_for()
    poll(lambda: panel.evaluate("el => el.style.visibility"), lambda v: v == "", message="panel restored")
    return panel


def box(locator):
    b = locator.bounding_box()
    return {k: round(v) for k, v in b.items()}


def drag(page, locator, dx, dy, *, grab=(0.5, 0.5)):
    b = locator.bounding_box()
    x = b["x"] + b["width"] * grab[0]
    y = b["y"] + b["height"] * grab[1]
    page.mouse.move(x, y)
    page.mouse.down()
    for i in range(1, 6):
        page.mouse.move(x + dx * i / 5, y + dy * i / 5)
    page.mouse.up()


def saved_section(server, section):
    return server.settings()[section]


def import_module(page, name):
    """Loads one of our modules in the page (same URL as the shell, so the same instance)."""
    return f"import(window.holafApp.host.jsBase + '{name}')"


def active_testid(page):
    return page.evaluate("document.activeElement && document.activeElement.dataset.testid")


# ---------------------------------------------------------------------------- page and panels
def test_the_standalone_page_starts_cleanly_and_lists_the_settings_tool(standalone_page, standalone_server):
    page, problems = standalone_page
    assert page.locator('[data-testid="holaf-topbar"]').is_visible()
    assert page.locator('[data-testid="holaf-tool-settings"]').inner_text().strip().endswith("Settings")
    assert page.locator('[data-testid="holaf-restart"]').count() == 0, "no restart on the standalone server"
    assert page.get_attribute("body", "data-holaf-theme") == "graphite-orange"
    problems.assert_none()


def test_the_view_page_loads_its_scripts_from_a_nested_path(browser_context, standalone_server):
    page, problems = open_standalone_page(browser_context, standalone_server, "/holaf/view")
    assert page.locator('[data-testid="holaf-tool-settings"]').is_visible()
    problems.assert_none()


def test_a_dragged_resized_rethemed_panel_comes_back_the_same_after_a_reload(standalone_page, standalone_server):
    page, problems = standalone_page
    panel = open_settings(page)
    before = box(panel)
    drag(page, panel.locator('[data-testid="holaf-panel-header"]'), -150, -60, grab=(0.3, 0.5))
    moved = box(panel)
    assert (moved["x"], moved["y"]) == (before["x"] - 150, before["y"] - 60)
    assert (moved["width"], moved["height"]) == (before["width"], before["height"])
    drag(page, panel.locator('[data-testid="holaf-panel-resize-se"]'), 120, 70)
    resized = box(panel)
    assert (resized["x"], resized["y"]) == (moved["x"], moved["y"])
    assert (resized["width"], resized["height"]) == (moved["width"] + 120, moved["height"] + 70)
    panel.locator('[data-testid="holaf-theme-select"]').select_option("steel-blue")
    assert panel.get_attribute("data-holaf-theme") == "steel-blue"

    expected = {"panel_x": resized["x"], "panel_y": resized["y"], "panel_width": resized["width"],
                "panel_height": resized["height"], "theme": "steel-blue"}
    saved = poll(lambda: saved_section(standalone_server, "UtilitiesUI"),
                 lambda s: all(s.get(k) == v for k, v in expected.items()), message=f"geometry and theme saved ({expected})")
    assert saved["panel_is_fullscreen"] is False
    ini = standalone_server.read_config()["UtilitiesUI"]
    assert float(ini["panel_x"]) == resized["x"] and float(ini["panel_width"]) == resized["width"]
    assert ini["theme"] == "steel-blue"

    page.reload()
    page.locator("html[data-holaf-ready='1']").wait_for(state="attached")
    panel = open_settings(page)
    assert box(panel) == resized
    assert panel.get_attribute("data-holaf-theme") == "steel-blue"
    assert panel.locator('[data-testid="holaf-theme-select"]').input_value() == "steel-blue"
    assert panel.locator('[data-testid="holaf-setting-UtilitiesUI-theme"]').input_value() == "steel-blue"
    problems.assert_none()


def test_resizing_from_the_west_and_north_edges_keeps_the_opposite_edges(standalone_page):
    page, problems = standalone_page
    panel = open_settings(page)
    start = box(panel)
    drag(page, panel.locator('[data-testid="holaf-panel-resize-w"]'), -80, 0)
    drag(page, panel.locator('[data-testid="holaf-panel-resize-n"]'), 0, 40)
    after = box(panel)
    assert after["x"] == start["x"] - 80 and after["width"] == start["width"] + 80
    assert after["y"] == start["y"] + 40 and after["height"] == start["height"] - 40
    assert after["x"] + after["width"] == start["x"] + start["width"], "east edge stays"
    assert after["y"] + after["height"] == start["y"] + start["height"], "south edge stays"
    drag(page, panel.locator('[data-testid="holaf-panel-resize-e"]'), -5000, 0)
    assert box(panel)["width"] == 280, "minimum width"
    problems.assert_none()


def test_a_panel_cannot_be_dragged_off_screen_and_follows_a_shrinking_window(standalone_page, standalone_server):
    page, problems = standalone_page
    panel = open_settings(page)
    drag(page, panel.locator('[data-testid="holaf-panel-header"]'), 3000, 3000, grab=(0.3, 0.5))
    b = box(panel)
    assert b["x"] + b["width"] == 1280 and b["y"] + b["height"] == 800
    saved = poll(lambda: saved_section(standalone_server, "UtilitiesUI"), lambda s: s["panel_x"] == b["x"])
    page.set_viewport_size({"width": 700, "height": 500})
    poll(lambda: box(panel), lambda r: r["x"] >= 0 and r["x"] + r["width"] <= 700 and r["y"] + r["height"] <= 500,
         message="panel inside the smaller window")
    time.sleep(0.6)
    assert saved_section(standalone_server, "UtilitiesUI")["panel_x"] == saved["panel_x"], \
        "clamping to a smaller window is not saved, so the place comes back on a bigger one"
    problems.assert_none()


def test_double_clicking_the_header_toggles_fullscreen_which_is_restored_after_reload(standalone_page, standalone_server):
    page, problems = standalone_page
    panel = open_settings(page)
    normal = box(panel)
    panel.locator('[data-testid="holaf-panel-title"]').dblclick()
    assert box(panel) == {"x": 0, "y": 0, "width": 1280, "height": 800}
    poll(lambda: saved_section(standalone_server, "UtilitiesUI")["panel_is_fullscreen"], lambda v: v is True)
    page.reload()
    page.locator("html[data-holaf-ready='1']").wait_for(state="attached")
    panel = open_settings(page)
    assert "holaf-panel-fullscreen" in panel.get_attribute("class")
    assert box(panel) == {"x": 0, "y": 0, "width": 1280, "height": 800}
    panel.locator('[data-testid="holaf-panel-fullscreen"]').click()
    assert box(panel) == normal
    poll(lambda: saved_section(standalone_server, "UtilitiesUI")["panel_is_fullscreen"], lambda v: v is False)
    problems.assert_none()


def test_clicking_a_panel_brings_it_to_the_front_with_finite_z_indexes(standalone_page):
    page, problems = standalone_page
    settings = open_settings(page)
    page.evaluate(f"""async () => {{
        const pm = await {import_module(page, 'common/panel_manager.js')};
        const p = pm.createPanel({{ id: "demo", title: "Demo <b>not bold</b>", section: "ModelManagerUI", host: window.holafApp.host }});
        await p.ready;
        p.setRect({{ x: 200, y: 60, width: 400, height: 300 }});
    }}""")
    demo = page.locator('[data-testid="holaf-panel-demo"]')
    assert demo.locator('[data-testid="holaf-panel-title"]').inner_text() == "Demo <b>not bold</b>", "titles are text"
    def z(loc):
        return int(loc.evaluate("el => getComputedStyle(el).zIndex"))

    assert z(demo) > z(settings)
    settings_header = settings.locator('[data-testid="holaf-panel-header"]')
    settings_header.click(position={"x": 450, "y": 10})
    assert z(settings) > z(demo)
    assert "holaf-panel-active" in settings.get_attribute("class")
    for _ in range(30):
        demo.locator('[data-testid="holaf-panel-title"]').click()
        settings_header.click(position={"x": 450, "y": 10})
    assert {z(demo), z(settings)} == {1000, 1001}, "the stack is re-numbered, never grows or turns NaN"
    demo.locator('[data-testid="holaf-panel-close"]').click()
    assert demo.count() == 0
    problems.assert_none()


def test_keys_typed_in_a_panel_do_not_reach_the_host_page(standalone_page):
    page, problems = standalone_page
    panel = open_settings(page)
    page.evaluate("window.__keys = []; window.addEventListener('keydown', (e) => window.__keys.push(e.key))")
    panel.locator('[data-testid="holaf-setting-TerminalUI-font_size"]').focus()
    page.keyboard.press("r")
    page.keyboard.press("Delete")
    page.keyboard.press("Alt+Shift+KeyX")
    keys = [k for k in page.evaluate("window.__keys") if k not in ("Alt", "Shift")]
    assert keys == ["X"], "only Alt+Shift combos pass (tool shortcuts)"
    page.evaluate("window.__keys = []")
    panel.locator('[data-testid="holaf-panel-title"]').click()  # not focusable itself
    assert page.evaluate("document.activeElement.dataset.testid") == "holaf-panel-settings"
    page.keyboard.press("Delete")
    page.keyboard.press("Control+KeyA")
    assert page.evaluate("window.__keys") == [], "a click on the panel gives it the keyboard"
    page.mouse.click(20, 780)  # outside every panel: keys belong to the page again
    page.keyboard.press("Delete")
    assert page.evaluate("window.__keys") == ["Delete"]
    problems.assert_none()


# ---------------------------------------------------------------------------- toasts and dialogs
def test_toasts_show_update_their_progress_stay_when_persistent_and_dismiss(standalone_page):
    page, problems = standalone_page
    page.evaluate("""() => {
        const t = window.holafApp.host.toasts;
        window.__ids = {
            quick: t.info("quick <i>one</i>", { duration: 300 }),
            job: t.show("Exporting", { title: "Export", progress: 0.2 }),
            sticky: t.error("stays", { duration: 0 }),
        };
    }""")
    toasts = page.locator('[data-testid="holaf-toast"]')
    assert toasts.count() == 3
    assert toasts.nth(0).locator(".holaf-toast-message").inner_text() == "quick <i>one</i>"
    bar = page.locator('[data-testid="holaf-toast-progress"]')
    assert bar.get_attribute("aria-valuenow") == "20"
    page.evaluate("window.holafApp.host.toasts.update(window.__ids.job, { progress: 0.85, message: 'Exporting 17/20' })")
    assert bar.get_attribute("aria-valuenow") == "85"
    assert toasts.filter(has_text="Exporting 17/20").count() == 1
    poll(lambda: toasts.count(), lambda n: n == 2, message="the 300 ms toast expired")
    time.sleep(0.3)
    assert toasts.filter(has_text="stays").count() == 1, "persistent toast stays"
    toasts.filter(has_text="stays").locator('[data-testid="holaf-toast-close"]').click()
    toasts.filter(has_text="Exporting").click()
    assert toasts.count() == 0
    problems.assert_none()


def test_a_confirm_dialog_is_driven_by_arrows_enter_and_escape(standalone_page):
    page, problems = standalone_page
    start = f"""async (danger) => {{
        const d = await {import_module(page, 'common/dialog.js')};
        window.__answer = "pending";
        d.confirmDialog({{ title: "Delete 3 files?", message: "They go to the trashcan.", confirmLabel: "Delete", danger }})
          .then((v) => {{ window.__answer = v; }});
    }}"""
    def answer():
        return page.evaluate("window.__answer")

    dialog = page.locator('[data-testid="holaf-dialog"]')

    page.evaluate(start, False)
    dialog.wait_for()
    assert active_testid(page) == "holaf-dialog-confirm"
    page.keyboard.press("ArrowLeft")
    assert active_testid(page) == "holaf-dialog-cancel"
    page.keyboard.press("ArrowLeft")
    assert active_testid(page) == "holaf-dialog-confirm", "arrows wrap around"
    page.keyboard.press("ArrowRight")
    assert active_testid(page) == "holaf-dialog-cancel"
    page.keyboard.press("Tab")
    assert dialog.evaluate("(el) => el.contains(document.activeElement)"), "focus stays in the dialog"
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Enter")
    poll(answer, lambda v: v is not None and v != "pending")
    assert answer() is False and dialog.count() == 0

    page.evaluate(start, False)
    dialog.wait_for()
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    page.keyboard.press("Enter")
    poll(answer, lambda v: v is True)

    page.evaluate(start, True)
    dialog.wait_for()
    assert active_testid(page) == "holaf-dialog-cancel", "a dangerous action starts on Cancel"
    page.evaluate("window.__keys = []; window.addEventListener('keydown', (e) => window.__keys.push(e.key))")
    page.keyboard.press("Escape")
    poll(answer, lambda v: v is False)
    assert dialog.count() == 0
    assert page.evaluate("window.__keys") == [], "keys stop at the dialog"
    problems.assert_none()


def test_a_dialog_with_a_long_message_fits_the_viewport_and_scrolls(standalone_page):
    page, problems = standalone_page
    page.set_viewport_size({"width": 900, "height": 420})
    page.evaluate(f"""async () => {{
        const d = await {import_module(page, 'common/dialog.js')};
        d.alertDialog({{ title: "Long", message: Array.from({{ length: 200 }}, (_, i) => "line " + i).join("\\n") }});
    }}""")
    dialog = page.locator('[data-testid="holaf-dialog"]')
    dialog.wait_for()
    b = box(dialog)
    assert b["y"] >= 0 and b["y"] + b["height"] <= 420
    body = dialog.locator('[data-testid="holaf-dialog-body"]')
    assert body.evaluate("el => el.scrollHeight > el.clientHeight")
    ok = dialog.locator('[data-testid="holaf-dialog-confirm"]')
    ob = box(ok)
    assert ob["y"] + ob["height"] <= 420, "the buttons stay on screen"
    ok.click()
    assert dialog.count() == 0
    problems.assert_none()


# ---------------------------------------------------------------------------- settings panel
def test_the_settings_panel_saves_a_value_and_shows_the_servers_validation_error(standalone_page, standalone_server):
    page, problems = standalone_page
    problems.ignore.append("status of 400")  # the refused save, on purpose
    panel = open_settings(page)
    assert panel.locator('[data-testid="holaf-setting-UtilitiesUI-panel_x"]').count() == 0, "geometry keys are hidden"
    # The System Monitor section shows its own settings, never the geometry and overlay-state keys (ui=False).
    assert panel.locator('[data-testid="holaf-setting-SystemMonitor-update_interval_ms"]').count() == 1
    for hidden in ("panel_x", "collapsed", "window"):
        assert panel.locator(f'[data-testid="holaf-setting-SystemMonitor-{hidden}"]').count() == 0, hidden
    save = panel.locator('[data-testid="holaf-settings-save"]')
    assert save.is_disabled()
    font = panel.locator('[data-testid="holaf-setting-TerminalUI-font_size"]')
    font.fill("18")
    panel.locator('[data-testid="holaf-setting-ImageViewerUI-theme"]').select_option("ashy-light")
    save.click()
    page.locator('[data-testid="holaf-toast"]', has_text="Settings saved").wait_for()
    ini = standalone_server.read_config()
    assert ini["TerminalUI"]["font_size"] == "18" and ini["ImageViewerUI"]["theme"] == "ashy-light"
    assert save.is_disabled()

    font.fill("100")
    save.click()
    error = panel.locator('[data-testid="holaf-setting-error-TerminalUI-font_size"]')
    error.wait_for(state="visible")
    assert "at most 48" in error.inner_text()
    assert font.get_attribute("aria-invalid") == "true"
    assert "Nothing was saved" in panel.locator('[data-testid="holaf-settings-status"]').inner_text()
    assert standalone_server.read_config()["TerminalUI"]["font_size"] == "18"
    panel.locator('[data-testid="holaf-settings-revert"]').click()
    assert font.input_value() == "18" and error.is_hidden()

    panel.locator('[data-testid="holaf-setting-reset-TerminalUI-font_size"]').click()
    assert font.input_value() == "14"
    save.click()
    poll(lambda: standalone_server.read_config().has_option("TerminalUI", "font_size"), lambda v: v is False,
         message="reset removes the key from config.ini")
    problems.assert_none()


def test_changing_the_default_theme_in_settings_restyles_the_page_and_the_toasts(standalone_page, standalone_server):
    page, problems = standalone_page
    panel = open_settings(page)
    panel.locator('[data-testid="holaf-setting-UtilitiesUI-default_theme"]').select_option("ashy-light")
    panel.locator('[data-testid="holaf-settings-save"]').click()
    page.locator('[data-testid="holaf-toast"]', has_text="Settings saved").wait_for()
    assert page.get_attribute("body", "data-holaf-theme") == "ashy-light"
    assert page.get_attribute('[data-testid="holaf-toast-stack"]', "data-holaf-theme") == "ashy-light"
    bg = page.evaluate("getComputedStyle(document.body).backgroundColor")
    channels = [int(c) for c in bg[bg.index("(") + 1:bg.index(")")].split(",")[:3]]
    assert min(channels) > 180, f"Ashy Light is light: {bg}"
    problems.assert_none()


# ---------------------------------------------------------------------------- password
def test_setting_the_first_password_then_logging_out_and_in_through_the_ui(standalone_page, standalone_server):
    page, problems = standalone_page
    problems.ignore.append("status of 401")  # the wrong password, on purpose
    panel = open_settings(page)
    state = panel.locator('[data-testid="holaf-auth-state"]')
    state.wait_for()
    assert "No password" in state.inner_text()
    panel.locator('[data-testid="holaf-settings-set-password"]').click()
    dialog = page.locator('[data-testid="holaf-dialog"]')
    status = dialog.locator('[data-testid="holaf-dialog-status"]')
    dialog.locator('[data-testid="holaf-auth-password"]').fill("short")
    dialog.locator('[data-testid="holaf-auth-password-repeat"]').fill("short")
    page.keyboard.press("Enter")
    assert "at least 8" in status.inner_text()
    dialog.locator('[data-testid="holaf-auth-password"]').fill(TEST_PASSWORD)
    dialog.locator('[data-testid="holaf-auth-password-repeat"]').fill(TEST_PASSWORD + "!")
    dialog.locator('[data-testid="holaf-auth-submit"]').click()
    assert "differ" in status.inner_text()
    dialog.locator('[data-testid="holaf-auth-password-repeat"]').fill(TEST_PASSWORD)
    dialog.locator('[data-testid="holaf-auth-submit"]').click()
    dialog.wait_for(state="detached")
    poll(state.inner_text, lambda t: "logged in" in t and "not" not in t)
    assert standalone_server.read_config()["Security"]["password_hash"].startswith("pbkdf2_sha256$")
    status_js = "fetch('/holaf/auth/status').then(r => r.json())"
    assert page.evaluate(status_js)["authenticated"] is True

    panel.locator('[data-testid="holaf-settings-logout"]').click()
    poll(state.inner_text, lambda t: "not logged in" in t)
    assert page.evaluate(status_js)["authenticated"] is False

    panel.locator('[data-testid="holaf-settings-login"]').click()
    dialog.locator('[data-testid="holaf-auth-password"]').fill("wrong password")
    page.keyboard.press("Enter")
    poll(status.inner_text, lambda t: "Wrong password" in t)
    dialog.locator('[data-testid="holaf-auth-password"]').fill(TEST_PASSWORD)
    page.keyboard.press("Enter")
    dialog.wait_for(state="detached")
    poll(state.inner_text, lambda t: "logged in" in t and "not" not in t)
    assert page.evaluate(status_js)["authenticated"] is True
    problems.assert_none()


def test_the_login_dialog_shows_the_rate_limit_wait(standalone_server_factory, browser_context):
    server = standalone_server_factory(password=TEST_PASSWORD)
    page, problems = open_standalone_page(browser_context, server, ignore_errors=["401", "429"])
    panel = open_settings(page)
    panel.locator('[data-testid="holaf-settings-login"]').click()
    dialog = page.locator('[data-testid="holaf-dialog"]')
    status = dialog.locator('[data-testid="holaf-dialog-status"]')
    field = dialog.locator('[data-testid="holaf-auth-password"]')
    for attempt in range(10):  # past 5 failures each lock doubles, so one attempt lands inside a lock
        field.fill(f"wrong {attempt}")
        dialog.locator('[data-testid="holaf-auth-submit"]').click()
        poll(status.inner_text, lambda t: "Wrong password" in t or "Too many" in t)
        if "Too many" in status.inner_text():
            break
        status.evaluate("el => { el.textContent = ''; }")
    assert "Too many failed attempts. Try again in" in status.inner_text()
    assert dialog.locator('[data-testid="holaf-auth-submit"]').is_disabled()
    page.keyboard.press("Escape")
    problems.assert_none()


def test_a_read_only_config_shows_the_hash_to_paste_by_hand(standalone_server_factory, browser_context):
    server = standalone_server_factory(config="this is not an ini file\n[broken\n")
    page, problems = open_standalone_page(browser_context, server)
    panel = open_settings(page)
    panel.locator('[data-testid="holaf-settings-set-password"]').click()
    dialog = page.locator('[data-testid="holaf-dialog"]')
    dialog.locator('[data-testid="holaf-auth-password"]').fill(TEST_PASSWORD)
    dialog.locator('[data-testid="holaf-auth-password-repeat"]').fill(TEST_PASSWORD)
    dialog.locator('[data-testid="holaf-auth-submit"]').click()
    manual = page.locator('[data-testid="holaf-auth-manual"]')
    manual.wait_for()
    line = manual.locator('[data-testid="holaf-auth-hash"]').input_value()
    assert line.startswith("password_hash = pbkdf2_sha256$")
    assert "[broken" in server.config_path.read_text(), "the unreadable file was left untouched"
    page.keyboard.press("Escape")
    problems.assert_none()


def test_a_theme_changed_in_one_tab_reaches_the_same_panel_in_another_tab(browser_context, standalone_server):
    first, problems_a = open_standalone_page(browser_context, standalone_server)
    second, problems_b = open_standalone_page(browser_context, standalone_server)
    panel_a = open_settings(first)
    panel_b = open_settings(second)
    panel_a.locator('[data-testid="holaf-theme-select"]').select_option("forest-green")
    poll(lambda: panel_b.get_attribute("data-holaf-theme"), lambda t: t == "forest-green",
         message="the server's settings event reached the other tab")
    assert panel_b.locator('[data-testid="holaf-setting-UtilitiesUI-theme"]').input_value() == "forest-green"
    problems_a.assert_none()
    problems_b.assert_none()
