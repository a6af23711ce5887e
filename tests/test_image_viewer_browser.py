"""The Image Viewer in a real Chromium against a real standalone server on a generated
corpus: the gallery's count, every filter against the API's own answer, keyboard
navigation through the zoom view and fullscreen, selection ranges and the rubber band,
the info pane's parsed prompt, "Load workflow" through the cross-tab bridge, a DOM that
stays bounded while scrolling 12,000 images, the trash → restore round trip and a new
file appearing without a reload.

One read-only server (and browser) serves most tests; the tests that change files get a
small server of their own."""
from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

import browser_support
from browser_support import PageProblems, poll
from index_helpers import comfy_prompt, ui_workflow, write_jpeg, write_png, write_truncated_png, write_webp_comfy

pytestmark = pytest.mark.timeout(180)

BASE_T = 1_700_000_000  # 2023-11-14
DAY = 86400
KNOWN = "known/koi_00001_.png"
KNOWN_POSITIVE = "a koi pond at dusk, paper lanterns, ukiyo-e"
FILTER_KEYS = [
    "search_text", "search_scope_name", "search_scope_prompt", "search_scope_workflow", "startdate", "enddate",
    "excluded_folders", "locked_folders", "excluded_formats", "show_trashcan", "filter_has_workflow",
    "filter_has_prompt", "filter_has_edits", "filter_has_tags", "tags_filter", "min_rating", "model_filter",
    "lora_filter", "folder_prefix", "sort_order", "thumbnail_size", "thumbnail_fit",
]


# ---------------------------------------------------------------------------- corpus
def build_corpus(out: Path) -> dict:
    """~50 files in three folders and the root, with distinct mtimes (newest = highest)."""
    t = BASE_T
    made = []

    def stamp(path: Path) -> None:
        nonlocal t
        t += 3600
        os.utime(path, (t, t))
        made.append(path.relative_to(out).as_posix())

    for i in range(20):
        model = "juggernautXL_v9.safetensors" if i % 2 else "sd_xl_base_1.0.safetensors"
        prompt = comfy_prompt(f"a lighthouse in a storm, variant {i}", seed=1000 + i, ckpt=model,
                              lora="add_detail.safetensors" if i % 4 == 0 else None)
        stamp(write_png(out / "2023-11-15" / f"ComfyUI_{i:05d}_.png", size=(48, 32), color=(10 * i, 40, 90),
                        prompt=prompt, workflow=ui_workflow(f"lighthouse {i}")))
    for i in range(12):
        stamp(write_jpeg(out / "portraits" / f"portrait_{i:03d}.jpg", size=(30, 40)))
    for i in range(8):
        stamp(write_webp_comfy(out / f"webp_{i:02d}.webp", prompt=comfy_prompt(f"green meadow {i}")))
    for i in range(6):
        stamp(write_png(out / f"plain_{i:02d}.png", size=(40, 40), color=(200, 200, 10 * i)))
    stamp(write_truncated_png(out / "broken_00001_.png"))
    stamp(write_png(out / KNOWN, size=(64, 48), color=(250, 120, 20),
                    prompt=comfy_prompt(KNOWN_POSITIVE, "blurry, lowres", seed=4242, steps=28, cfg=6.5,
                                        ckpt="juggernautXL_v9.safetensors", lora="add_detail.safetensors"),
                    workflow=ui_workflow(KNOWN_POSITIVE, note="the known file")))
    return {"files": made}


def wait_for_index(server, count: int, timeout: float = 60) -> None:
    def probe():
        status = server.get_json("/holaf/images/scan-status")
        total = server.post_json("/holaf/images/list", {"limit": 1})[1].get("total")
        return status.get("state"), total

    poll(probe, lambda v: v[0] == "idle" and v[1] == count, timeout=timeout, message="index ready")


def api_total(server, body: dict) -> int:
    status, answer = server.post_json("/holaf/images/list", {**body, "limit": 1})
    assert status == 200, answer
    return answer["total"]


def api_paths(server, body: dict, limit: int = 1000) -> list[str]:
    status, answer = server.post_json("/holaf/images/list", {**body, "limit": limit})
    assert status == 200, answer
    return [row["path"] for row in answer["images"]]


@pytest.fixture(scope="module")
def corpus_server(tmp_path_factory):
    work = tmp_path_factory.mktemp("viewer")
    output = work / "output"
    info = build_corpus(output)
    server = browser_support.start_standalone_server(
        work, output_dir=output, config={"ImageViewer": {"thumbnail_busy_rate": 50}},
    )
    try:
        wait_for_index(server, len(info["files"]))
        server.post_json("/holaf/images/tags", {"paths": [KNOWN, "portraits/portrait_003.jpg"], "add": ["keeper"]})
        server.post_json("/holaf/images/rating", {"paths": [KNOWN, "webp_03.webp"], "rating": 4})
        server.post_json("/holaf/images/rating", {"paths": ["plain_01.png"], "rating": 2})
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def viewer_context(playwright_driver, tmp_path_factory, corpus_server):
    context = browser_support.launch_context(playwright_driver, tmp_path_factory.mktemp("chromium-viewer"))
    try:
        yield context
    finally:
        context.close()


def open_viewer(context, server, *, path: str = "/", reset: bool = True):
    """A fresh page on the viewer with the filters back to their defaults."""
    if reset:
        status, answer = server.post_json("/holaf/utilities/save-all-settings", {"ImageViewerUI": {k: None for k in FILTER_KEYS}})
        assert status == 200, answer
    page = context.new_page()
    # an unreadable file's thumbnail answers 422 by design (the tile shows the reason)
    problems = PageProblems(page, ignore=["status of 422"])
    page.on("response", lambda r: problems.items.append(f"HTTP {r.status} {r.url}") if r.status == 404 else None)
    page.goto(server.url(path))
    page.locator("html[data-holaf-ready]").wait_for(state="attached", timeout=15000)
    page.locator('[data-testid="holaf-tile"]').first.wait_for(timeout=15000)
    return page, problems


def shown_count(page) -> int:
    value = page.locator('[data-testid="holaf-count"]').get_attribute("data-shown")
    return int(value) if value not in (None, "") else -1


def wait_count(page, expected: int, message: str = "") -> None:
    poll(lambda: shown_count(page), lambda v: v == expected, timeout=10, message=message or f"count {expected}")


def tile_paths(page) -> list[str]:
    """Paths of the rendered tiles, in grid order."""
    return page.locator('[data-testid="holaf-tile"]').evaluate_all(
        "els => els.map(e => [Number(e.dataset.index), e.dataset.path]).sort((a, b) => a[0] - b[0]).map(x => x[1])")


def thumbnails_missing(page) -> list[str]:
    """Loaded tiles on screen whose thumbnail is not shown (broken files excepted)."""
    return page.locator('[data-testid="holaf-tile"]').evaluate_all("""els => {
        const view = document.querySelector('[data-testid=holaf-gallery]').getBoundingClientRect();
        return els.filter(e => { const r = e.getBoundingClientRect(); return r.bottom > view.top && r.top < view.bottom; })
          .filter(e => !e.classList.contains('holaf-iv-broken-tile'))
          .filter(e => { const img = e.querySelector('img'); return !(img && img.complete && img.naturalWidth > 0); })
          .map(e => e.dataset.path);
    }""")


def tile(page, path: str):
    return page.locator(f'[data-testid="holaf-tile"][data-path="{path}"]')


def active_path(page):
    return page.locator(".holaf-iv-tile.holaf-iv-active").first.get_attribute("data-path") if page.locator(".holaf-iv-tile.holaf-iv-active").count() else None


# ---------------------------------------------------------------------------- gallery and filters
def test_a_fresh_install_shows_every_image_with_the_count_and_order_of_the_api(viewer_context, corpus_server):
    page, problems = open_viewer(viewer_context, corpus_server)
    total = api_total(corpus_server, {})
    assert total == 48
    wait_count(page, total)
    assert page.locator('[data-testid="holaf-count"]').inner_text() == f"Showing {total} of {total}"
    first = api_paths(corpus_server, {"sort": "newest"}, limit=12)
    poll(lambda: tile_paths(page)[:12], lambda v: v == first, message="first tiles in API order")
    poll(lambda: thumbnails_missing(page), lambda v: v == [], timeout=15, message="every visible tile shows its thumbnail")
    # the unreadable file shows a broken tile with its reason on hover
    broken = tile(page, "broken_00001_.png")
    poll(lambda: broken.get_attribute("class") or "", lambda c: "holaf-iv-broken-tile" in c, timeout=15, message="broken tile")
    assert "Unreadable" in (broken.get_attribute("title") or "")
    problems.assert_none()
    page.close()


def apply_and_compare(page, server, body: dict, action, label: str) -> int:
    action()
    expected = api_total(server, body)
    wait_count(page, expected, message=label)
    if expected:
        expected_first = api_paths(server, body, limit=1)[0]
        poll(lambda: tile_paths(page)[:1], lambda v: v == [expected_first], message=f"{label}: first tile")
        poll(lambda: thumbnails_missing(page), lambda v: v == [], timeout=15, message=f"{label}: every visible tile shows its thumbnail")
    return expected


def test_every_filter_narrows_the_gallery_exactly_as_the_api_answers(viewer_context, corpus_server):
    page, problems = open_viewer(viewer_context, corpus_server)
    reset = page.locator('[data-testid="holaf-reset"]')
    total = api_total(corpus_server, {})

    def back_to_all():
        reset.click()
        wait_count(page, total, "after reset")

    search = page.locator('[data-testid="holaf-search"]')
    n = apply_and_compare(page, corpus_server, {"search": "lighthouse", "search_scopes": ["name", "prompt"]},
                          lambda: (search.fill("lighthouse"), search.press("Enter")), "prompt search")
    assert n == 20
    # the scopes combine with OR: name only finds nothing, adding prompt finds them again
    page.locator('[data-testid="holaf-scope-prompt"]').uncheck()
    wait_count(page, api_total(corpus_server, {"search": "lighthouse", "search_scopes": ["name"]}), "name scope")
    assert shown_count(page) == 0
    assert page.locator('[data-testid="holaf-gallery-empty"]').is_visible()
    page.locator('[data-testid="holaf-scope-prompt"]').check()
    wait_count(page, 20, "name OR prompt")
    back_to_all()

    folders = [f["path"] for f in corpus_server.get_json("/holaf/images/filter-options")["folders"]]
    apply_and_compare(page, corpus_server, {"folders": [f for f in folders if f != "portraits"]},
                      lambda: page.locator('[data-testid="holaf-folder-checkbox"][data-folder="portraits"]').uncheck(), "folder untick")
    back_to_all()
    apply_and_compare(page, corpus_server, {"formats": ["PNG", "WEBP"]},
                      lambda: page.locator('[data-testid="holaf-format-JPEG"]').uncheck(), "format untick")
    back_to_all()
    day_from = time.strftime("%Y-%m-%d", time.localtime(BASE_T + 30 * 3600))
    apply_and_compare(page, corpus_server, {"date_from": day_from},
                      lambda: page.locator('[data-testid="holaf-date-from"]').fill(day_from), "date from")
    back_to_all()
    apply_and_compare(page, corpus_server, {"has_workflow": True},
                      lambda: page.locator('[data-testid="holaf-flag-hasWorkflow"]').select_option("yes"), "has workflow")
    back_to_all()
    apply_and_compare(page, corpus_server, {"has_prompt": False},
                      lambda: page.locator('[data-testid="holaf-flag-hasPrompt"]').select_option("no"), "no prompt")
    back_to_all()
    tag_input = page.locator('[data-testid="holaf-tag-input"]')
    n = apply_and_compare(page, corpus_server, {"tags": ["keeper"]}, lambda: (tag_input.fill("keeper"), tag_input.press("Enter")), "tag")
    assert n == 2
    back_to_all()
    n = apply_and_compare(page, corpus_server, {"min_rating": 3},
                          lambda: page.locator('[data-testid="holaf-rating-filter"]').select_option("3"), "rating")
    assert n == 2
    back_to_all()
    n = apply_and_compare(page, corpus_server, {"model": "juggernautXL_v9.safetensors"},
                          lambda: page.locator('[data-testid="holaf-model-filter"]').select_option("juggernautXL_v9.safetensors"), "model")
    assert n == 11
    back_to_all()
    apply_and_compare(page, corpus_server, {"sort": "name"},
                      lambda: page.locator('[data-testid="holaf-sort"]').select_option("name"), "sort by name")
    back_to_all()
    problems.assert_none()
    page.close()


def test_filters_and_tile_size_come_back_after_a_reload(viewer_context, corpus_server):
    page, problems = open_viewer(viewer_context, corpus_server)
    page.locator('[data-testid="holaf-folder-checkbox"][data-folder="portraits"]').uncheck()
    page.locator('[data-testid="holaf-folder-lock"][data-folder="portraits"]').click()
    search = page.locator('[data-testid="holaf-search"]')
    search.fill("meadow")
    search.press("Enter")
    wait_count(page, 8)
    page.locator('[data-testid="holaf-size"]').fill("240")
    poll(lambda: corpus_server.settings()["ImageViewerUI"], lambda s: s["search_text"] == "meadow" and s["thumbnail_size"] == 240
         and s["excluded_folders"] == ["portraits"] and s["locked_folders"] == ["portraits"], message="settings saved")
    page.close()
    page, problems = open_viewer(viewer_context, corpus_server, reset=False)
    wait_count(page, 8, "filters restored")
    assert page.locator('[data-testid="holaf-search"]').input_value() == "meadow"
    assert page.locator('[data-testid="holaf-size"]').input_value() == "240"
    assert not page.locator('[data-testid="holaf-folder-checkbox"][data-folder="portraits"]').is_checked()
    # Reset asks about the locked folder; keeping locks leaves it unticked
    page.locator('[data-testid="holaf-reset"]').click()
    page.locator('[data-testid="holaf-reset-keep"]').click()
    wait_count(page, api_total(corpus_server, {"folders": [f["path"] for f in corpus_server.get_json("/holaf/images/filter-options")["folders"] if f["path"] != "portraits"]}))
    assert page.locator('[data-testid="holaf-search"]').input_value() == ""
    problems.assert_none()
    page.close()


# ---------------------------------------------------------------------------- keyboard, selection, info
def test_the_keyboard_walks_through_the_gallery_the_zoom_view_and_fullscreen_and_back(viewer_context, corpus_server):
    page, problems = open_viewer(viewer_context, corpus_server)
    order = api_paths(corpus_server, {"sort": "newest"})
    gallery = page.locator('[data-testid="holaf-gallery"]')
    tile(page, order[0]).click()
    assert active_path(page) == order[0]
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    poll(lambda: active_path(page), lambda v: v == order[2], message="two to the right")
    columns = gallery.evaluate("g => Math.round(g.clientWidth / g.querySelector('[data-testid=holaf-tile]').getBoundingClientRect().width)")
    page.keyboard.press("ArrowDown")
    poll(lambda: active_path(page), lambda v: v in order[2 + columns - 1: 2 + columns + 2], message="one row down")
    down = active_path(page)
    page.keyboard.press("ArrowUp")
    poll(lambda: active_path(page), lambda v: v == order[2], message="and back up")
    assert down != order[2]
    page.keyboard.press("End")
    poll(lambda: active_path(page), lambda v: v == order[-1], message="End")
    page.keyboard.press("Home")
    poll(lambda: active_path(page), lambda v: v == order[0], message="Home")

    zoom = page.locator('[data-testid="holaf-zoom"]')
    page.keyboard.press("Enter")
    zoom.wait_for(state="visible")
    poll(lambda: zoom.get_attribute("data-path"), lambda v: v == order[0], message="zoom shows the active image")
    page.locator('[data-testid="holaf-zoom"] img[data-testid="holaf-stage-media"]').wait_for()
    # wheel zoom around the cursor, capped at 30x; the zoom resets on the next image
    box = zoom.bounding_box()
    page.mouse.move(box["x"] + box["width"] / 3, box["y"] + box["height"] / 3)
    for _ in range(40):
        page.mouse.wheel(0, -300)
    poll(lambda: float(zoom.get_attribute("data-zoom") or 1), lambda v: v == 30.0, message="zoom capped at 30x")
    page.keyboard.press("ArrowRight")
    poll(lambda: zoom.get_attribute("data-path"), lambda v: v == order[1], message="next in zoom")
    assert order[1] == "broken_00001_.png"
    status = page.locator('[data-testid="holaf-zoom"] [data-testid="holaf-stage-status"]')
    poll(lambda: status.is_visible() and status.inner_text(), lambda v: bool(v) and "broken_00001_.png" in v, message="unreadable file explained")
    page.keyboard.press("Control+Enter")
    fullscreen = page.locator('[data-testid="holaf-fullscreen"]')
    fullscreen.wait_for(state="visible")
    fs_stage = page.locator('[data-testid="holaf-fullscreen-stage"]')
    poll(lambda: fs_stage.get_attribute("data-path"), lambda v: v == order[1], message="fullscreen shows it")
    page.keyboard.press("ArrowLeft")
    poll(lambda: fs_stage.get_attribute("data-path"), lambda v: v == order[0], message="previous in fullscreen")
    page.keyboard.press("Escape")
    fullscreen.wait_for(state="detached")
    assert zoom.is_visible(), "Esc from fullscreen goes back to the zoom view it came from"
    poll(lambda: zoom.get_attribute("data-path"), lambda v: v == order[0], message="zoom followed")
    page.keyboard.press("Escape")
    zoom.wait_for(state="hidden")
    assert active_path(page) == order[0]
    # double-click a tile: zoom; double-click the image: fullscreen; double-click again: back
    tile(page, order[3]).dblclick()
    zoom.wait_for(state="visible")
    zoom.dblclick()
    fullscreen.wait_for(state="visible")
    page.locator('[data-testid="holaf-fullscreen-stage"]').dblclick()
    fullscreen.wait_for(state="detached")
    page.keyboard.press("Escape")
    zoom.wait_for(state="hidden")
    # keys typed in the search box stay there; Esc leaves it
    search = page.locator('[data-testid="holaf-search"]')
    search.click()
    page.keyboard.press("ArrowRight")
    page.keyboard.press("End")
    assert active_path(page) == order[3]
    page.keyboard.press("Escape")
    assert page.evaluate("document.activeElement.dataset.testid") == "holaf-image-viewer"
    problems.assert_none()
    page.close()


def selected_paths(page) -> set[str]:
    return set(page.locator(".holaf-iv-tile.holaf-iv-selected").evaluate_all("els => els.map(e => e.dataset.path)"))


def test_clicks_shift_ranges_ctrl_toggles_ctrl_a_and_the_rubber_band_select_the_right_images(viewer_context, corpus_server):
    page, problems = open_viewer(viewer_context, corpus_server)
    order = api_paths(corpus_server, {"sort": "newest"})
    selection = page.locator('[data-testid="holaf-selection-count"]')
    tile(page, order[1]).click()
    tile(page, order[5]).click(modifiers=["Shift"])
    poll(lambda: selected_paths(page), lambda v: v == set(order[1:6]), message="shift range")
    assert selection.inner_text() == "5 selected"
    tile(page, order[3]).click(modifiers=["Control"])
    poll(lambda: selected_paths(page), lambda v: v == set(order[1:6]) - {order[3]}, message="ctrl toggles one off")
    tile(page, order[8]).click(modifiers=["Control", "Shift"])
    poll(lambda: selected_paths(page), lambda v: v == (set(order[1:9]) - {order[3]}) | set(order[3:9]), message="ctrl+shift adds a range")
    tile(page, order[0]).click()
    poll(lambda: selected_paths(page), lambda v: v == {order[0]}, message="plain click selects one")
    page.keyboard.press("Control+a")
    poll(lambda: selection.inner_text(), lambda v: v == f"{len(order)} selected", message="ctrl+a selects everything, loaded or not")
    page.keyboard.press("Escape")
    poll(lambda: selection.inner_text(), lambda v: v == "", message="Esc clears the selection")
    page.keyboard.press("Space")
    assert selection.inner_text() == "1 selected"
    page.keyboard.press("Space")
    # rubber band from the gap under the first row to inside the second tile of the third row
    first = tile(page, order[0]).bounding_box()
    target_box = tile(page, order[0]).evaluate("(e) => e.parentElement.parentElement.getBoundingClientRect().toJSON()")
    columns = round(target_box["width"] / first["width"] - 0.5)
    third_row_second = tile(page, order[2 * columns + 1]).bounding_box()
    start = (first["x"] - 3, first["y"] - 3)
    page.mouse.move(*start)
    page.mouse.down()
    page.mouse.move(start[0] + 40, start[1] + 40, steps=3)
    page.mouse.move(third_row_second["x"] + 10, third_row_second["y"] + 10, steps=5)
    page.mouse.up()
    expected = {order[r * columns + c] for r in range(3) for c in range(2)}
    poll(lambda: selected_paths(page), lambda v: v == expected, message="rubber band")
    # two selected images: A/B compare with a slider split, Esc back to the gallery
    tile(page, order[2]).click()
    tile(page, order[4]).click(modifiers=["Control"])
    page.locator('[data-testid="holaf-action-compare"]').click()
    compare = page.locator('[data-testid="holaf-zoom"] [data-testid="holaf-compare"]')
    compare.wait_for()
    for hook in ("holaf-compare-a", "holaf-compare-b"):
        poll(lambda: compare.locator(f'[data-testid="{hook}"]').evaluate("i => i.complete && i.naturalWidth > 0"), message=f"{hook} loaded")
    box = compare.bounding_box()
    page.mouse.click(box["x"] + box["width"] * 0.25, box["y"] + box["height"] / 2)
    clip = compare.locator('[data-testid="holaf-compare-b"]').evaluate("i => i.style.clipPath")
    assert clip.startswith("inset(0px 0px 0px 2") or clip.startswith("inset(0 0 0 2"), clip
    page.keyboard.press("Escape")
    page.locator('[data-testid="holaf-zoom"]').wait_for(state="hidden")
    problems.assert_none()
    page.close()


def test_the_info_pane_shows_the_parsed_prompt_and_parameters_of_a_known_file(viewer_context, corpus_server):
    page, problems = open_viewer(viewer_context, corpus_server)
    tile(page, KNOWN).click()
    info = page.locator('[data-testid="holaf-info"]')
    positive = info.locator('[data-testid="holaf-info-positive"]')
    positive.wait_for()
    assert positive.inner_text() == KNOWN_POSITIVE
    assert info.locator('[data-testid="holaf-info-negative"]').inner_text() == "blurry, lowres"
    assert info.locator('[data-testid="holaf-info-seed"]').inner_text() == "4242"
    assert info.locator('[data-testid="holaf-info-steps"]').inner_text() == "28"
    assert info.locator('[data-testid="holaf-info-model"]').inner_text() == "juggernautXL_v9.safetensors"
    assert "add_detail" in info.locator('[data-testid="holaf-info-loras"]').inner_text()
    assert info.locator('[data-testid="holaf-info-name"]').inner_text() == "koi_00001_.png"
    assert info.locator('[data-testid="holaf-info-dimensions"]').inner_text() == "64 × 48"
    assert info.locator('[data-testid="holaf-info-tag"]').evaluate_all("els => els.map(e => e.dataset.tag)") == ["keeper"]
    assert info.locator('[data-testid="holaf-info-rating"]').get_attribute("data-rating") == "4"
    # rating edited from the pane reaches the index
    info.locator('[data-testid="holaf-rating-star"][data-value="5"]').click()
    poll(lambda: corpus_server.post_json("/holaf/images/list", {"min_rating": 5, "limit": 5})[1]["images"],
         lambda rows: [r["path"] for r in rows] == [KNOWN], message="rating saved")
    info.locator('[data-testid="holaf-rating-star"][data-value="5"]').click()
    poll(lambda: api_total(corpus_server, {"min_rating": 5}), lambda v: v == 0, message="rating cleared")
    # a tag typed in the pane reaches the index, and its chip can remove it again
    tag_input = info.locator('[data-testid="holaf-info-tag-input"]')
    tag_input.fill("Sunset")
    tag_input.press("Enter")
    poll(lambda: api_paths(corpus_server, {"tags": ["sunset"]}), lambda v: v == [KNOWN], message="tag saved")
    info.locator('[data-testid="holaf-info-tag"][data-tag="sunset"] button').click()
    poll(lambda: api_total(corpus_server, {"tags": ["sunset"]}), lambda v: v == 0, message="tag removed")
    problems.assert_none()
    page.close()


def test_load_workflow_hands_the_files_workflow_to_the_comfyui_tab_over_the_bridge(viewer_context, corpus_server):
    comfy_tab = viewer_context.new_page()
    comfy_tab.goto(corpus_server.url("/"))
    comfy_tab.locator("html[data-holaf-ready]").wait_for(state="attached")
    # this page plays the ComfyUI tab: it answers LOAD_WORKFLOW like holaf_main.js does
    comfy_tab.evaluate("""() => import(window.holafApp.host.jsBase + 'common/bridge.js').then((m) => {
        window.__received = [];
        window.__queued = [];
        m.serveBridge({
            LOAD_WORKFLOW: (payload) => { window.__received.push(payload); return { loaded: true }; },
            QUEUE_PROMPT: (payload) => { window.__queued.push(payload); return { prompt_id: "p1" }; },
        });
    })""")
    page, problems = open_viewer(viewer_context, corpus_server, reset=False)
    tile(page, KNOWN).click()
    load = page.locator('[data-testid="holaf-load-workflow"]')
    poll(lambda: load.is_enabled(), message="Load workflow enabled once the metadata arrived")
    load.click()
    page.locator('[data-testid="holaf-dialog-confirm"]').click()
    received = poll(lambda: comfy_tab.evaluate("window.__received"), lambda v: len(v) == 1, message="workflow received")
    expected = corpus_server.get_json(f"/holaf/images/metadata?path={KNOWN}")["workflow"]
    assert received[0]["workflow"] == expected
    assert received[0]["newTab"] is False
    assert received[0]["name"] == "koi_00001_.png"
    poll(lambda: page.locator('[data-testid="holaf-toast"]').all_inner_texts(), lambda v: any("loaded" in t for t in v), message="success toast")
    # "Queue again" sends the stored API graph, with the workflow, to the same tab
    page.locator('[data-testid="holaf-queue-prompt"]').click()
    queued = poll(lambda: comfy_tab.evaluate("window.__queued"), lambda v: len(v) == 1, message="prompt queued")
    meta = corpus_server.get_json(f"/holaf/images/metadata?path={KNOWN}")
    assert queued[0]["output"] == meta["prompt"]
    assert queued[0]["workflow"] == expected
    problems.assert_none()
    page.close()
    comfy_tab.close()


# ---------------------------------------------------------------------------- scale
def test_the_dom_stays_bounded_while_scrolling_twelve_thousand_images(playwright_driver, tmp_path_factory):
    work = tmp_path_factory.mktemp("viewer-big")
    output = work / "output"
    folder = output / "batch"
    folder.mkdir(parents=True)
    import io
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), (90, 30, 160)).save(buffer, "PNG")
    data = buffer.getvalue()
    count = 12_000
    for i in range(count):
        path = folder / f"img_{i:05d}.png"
        path.write_bytes(data)
        os.utime(path, (BASE_T + i, BASE_T + i))
    server = browser_support.start_standalone_server(work, output_dir=output, config={"ImageViewer": {"thumbnail_background": False}})
    context = browser_support.launch_context(playwright_driver, tmp_path_factory.mktemp("chromium-big"))
    try:
        wait_for_index(server, count, timeout=120)
        page, problems = open_viewer(context, server)
        wait_count(page, count)
        gallery = page.locator('[data-testid="holaf-gallery"]')
        heights = gallery.evaluate("g => [g.scrollHeight, g.clientHeight, g.querySelector('[data-testid=holaf-tile]').getBoundingClientRect().height]")
        columns = gallery.evaluate("g => Math.floor(g.clientWidth / g.querySelector('[data-testid=holaf-tile]').getBoundingClientRect().width)")
        assert heights[0] >= (count / columns - 1) * heights[2], "the scrollbar reflects the full count"
        counts = []
        for fraction in (0.1, 0.35, 0.5, 0.8, 0.999, 0.2):
            gallery.evaluate("(g, f) => { g.scrollTop = (g.scrollHeight - g.clientHeight) * f; }", fraction)
            poll(lambda: page.locator('[data-testid="holaf-tile-skeleton"]').count(), lambda n: n == 0, timeout=10, message=f"rows loaded at {fraction}")
            counts.append(page.locator(".holaf-iv-tile").count())
        assert max(counts) <= 160, counts
        # at the very end the last image is on screen, matching the API's last row
        gallery.evaluate("g => { g.scrollTop = g.scrollHeight; }")
        last = server.post_json("/holaf/images/list", {"limit": 1, "offset": count - 1})[1]["images"][0]["path"]
        assert last == "batch/img_00000.png"
        poll(lambda: tile(page, last).count(), lambda n: n == 1, message="last tile rendered")
        # far down the list a new file does not move the view: a pill counts it, a click shows it
        gallery.evaluate("g => { g.scrollTop = (g.scrollHeight - g.clientHeight) / 2; }")
        time.sleep(0.3)
        middle_before = tile_paths(page)
        (folder / "zz_new.png").write_bytes(data)
        pill = page.locator('[data-testid="holaf-new-pill"]')
        poll(lambda: pill.is_visible() and pill.inner_text(), lambda v: v == "↑ 1 new image", timeout=15, message="new-images pill")
        assert tile_paths(page) == middle_before, "the tiles on screen did not move"
        wait_count(page, count + 1)
        pill.click()
        poll(lambda: tile_paths(page)[:1], lambda v: v == ["batch/zz_new.png"], message="the new image at the top")
        assert not pill.is_visible()
        page.keyboard.press("End")
        page.keyboard.press("Home")
        poll(lambda: gallery.evaluate("g => g.scrollTop"), lambda v: v == 0, message="Home goes back to the top")
        problems.assert_none()
        page.close()
    finally:
        context.close()
        server.stop()


# ---------------------------------------------------------------------------- changes on disk
@pytest.fixture
def small_server(standalone_server_factory, tmp_path):
    output = tmp_path / "small-output"
    for i in range(6):
        write_png(output / f"shot_{i:02d}.png", size=(32, 32), color=(30 * i, 90, 200), mtime=BASE_T + i * 60,
                  prompt=comfy_prompt(f"shot {i}"))
    server = standalone_server_factory(output_dir=output, config={"ImageViewerUI": {"confirm_trash": True}})
    wait_for_index(server, 6)
    return server


def test_delete_moves_a_file_to_the_trashcan_and_restore_brings_it_back_through_the_ui(browser_context, small_server):
    page, problems = open_viewer(browser_context, small_server)
    out = small_server.output_dir
    wait_count(page, 6)
    tile(page, "shot_03.png").click()
    page.keyboard.press("Delete")
    page.locator('[data-testid="holaf-dialog-confirm"]').click()
    poll(lambda: tile(page, "shot_03.png").count(), lambda n: n == 0, message="the tile vanished")
    wait_count(page, 5)
    poll(lambda: (out / "trashcan" / "shot_03.png").exists() and not (out / "shot_03.png").exists(), message="file in the trashcan")
    # the trashcan view lists it; Restore puts it back
    page.locator('[data-testid="holaf-trashcan-toggle"]').check()
    trashed = tile(page, "trashcan/shot_03.png")
    trashed.wait_for()
    assert page.locator('[data-testid="holaf-count"]').inner_text() == "Trashcan: 1 file"
    trashed.click()
    page.locator('[data-testid="holaf-action-restore"]').click()
    poll(lambda: (out / "shot_03.png").exists() and not (out / "trashcan" / "shot_03.png").exists(), message="file restored")
    wait_count(page, 0, "trashcan empty again")
    # a refused restore (something new took the original place) puts the tile back with the reason
    page.locator('[data-testid="holaf-trashcan-toggle"]').uncheck()
    wait_count(page, 6)
    tile(page, "shot_03.png").click()
    page.keyboard.press("Delete")
    page.locator('[data-testid="holaf-dialog-confirm"]').click()
    poll(lambda: (out / "trashcan" / "shot_03.png").exists(), message="trashed again")
    write_png(out / "shot_03.png", size=(8, 8), color=(0, 0, 0))
    page.locator('[data-testid="holaf-trashcan-toggle"]').check()
    tile(page, "trashcan/shot_03.png").click()
    page.locator('[data-testid="holaf-action-restore"]').click()
    poll(lambda: page.locator('[data-testid="holaf-toast"][data-type="error"]').all_inner_texts(), lambda v: any("shot_03.png" in t for t in v), message="refusal explained")
    tile(page, "trashcan/shot_03.png").wait_for()
    assert (out / "trashcan" / "shot_03.png").exists()
    (out / "shot_03.png").unlink()
    poll(lambda: api_paths(small_server, {}), lambda v: "shot_03.png" not in v, message="the index saw it go")
    page.locator('[data-testid="holaf-trashcan-toggle"]').uncheck()
    poll(lambda: tile(page, "shot_03.png").count(), lambda n: n == 0, message="gone from the gallery")
    # in the zoom view Delete trashes the image on screen and moves on to its neighbour
    wait_count(page, 5)
    order = api_paths(small_server, {})
    tile(page, order[2]).dblclick()
    zoom = page.locator('[data-testid="holaf-zoom"]')
    poll(lambda: zoom.get_attribute("data-path"), lambda v: v == order[2], message="zoom open")
    page.keyboard.press("Delete")
    page.locator('[data-testid="holaf-dialog-confirm"]').click()
    poll(lambda: zoom.get_attribute("data-path"), lambda v: v == order[3], message="moved to the neighbour")
    poll(lambda: (out / "trashcan" / order[2]).exists(), message="trashed from the zoom view")
    problems.assert_none()
    page.close()


def test_a_file_written_to_disk_appears_in_the_open_gallery_without_a_reload(browser_context, small_server):
    page, problems = open_viewer(browser_context, small_server)
    wait_count(page, 6)
    write_png(small_server.output_dir / "fresh" / "new_00001_.png", size=(32, 32), color=(250, 250, 0),
              prompt=comfy_prompt("brand new"))
    tile(page, "fresh/new_00001_.png").wait_for(timeout=15000)
    wait_count(page, 7)
    assert tile_paths(page)[0] == "fresh/new_00001_.png", "the newest file slides in at the top"
    # deleting a file on disk removes its tile, still without a reload
    (small_server.output_dir / "shot_00.png").unlink()
    poll(lambda: tile(page, "shot_00.png").count(), lambda n: n == 0, timeout=15, message="deleted file vanished")
    wait_count(page, 6)
    problems.assert_none()
    page.close()


def test_thumbnails_that_arrive_after_the_list_reloaded_are_still_shown(browser_context, small_server):
    """During a first scan (or while ComfyUI keeps saving) the list reloads with fresh rows
    while the tiles' thumbnails are still on their way; each must still land on its tile."""
    held = []
    released = False

    def hold(route):
        if released:
            route.continue_()
        else:
            held.append(route)

    browser_context.route("**/holaf/images/thumbnail?*", hold)
    try:
        page, problems = open_viewer(browser_context, small_server)
        wait_count(page, 6)
        poll(lambda: len(held), lambda n: n >= 6, message="every tile asked for its thumbnail")
        # an older file (as a scan finds them, newest first) lands below: the list reloads and
        # each of the six tiles gets a new row object for the same file at the same place
        write_png(small_server.output_dir / "older_00001_.png", size=(32, 32), color=(250, 0, 250), mtime=BASE_T - 3600)
        wait_count(page, 7)
        released = True
        for route in held:
            route.continue_()
        poll(lambda: thumbnails_missing(page), lambda missing: missing == [], timeout=20,
             message="every tile shows its thumbnail")
        problems.assert_none()
        page.close()
    finally:
        browser_context.unroute("**/holaf/images/thumbnail?*")
