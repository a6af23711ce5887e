"""The editor and the export dialog in a real Chromium against a real standalone server: moving a
slider puts the CSS filter on the image, the browser's rendering of that filter matches the exported
file, auto-save writes the sidecar and the edited thumbnail comes back, tonal ranges switch to the
canvas preview, and the keyboard-driven export dialog downloads the file.

Until the gallery exists, a minimal harness page is built inside the standalone page: an ``<img>``
standing for the zoom view, a thumbnail ``<img>``, and the editor mounted in a side column, wired the
way the gallery will wire it (``getPreviewTargets``, ``onSaved`` refreshing the tile)."""
from __future__ import annotations

import io
import json

import pytest
from PIL import Image

from browser_support import open_standalone_page, poll
from media_factory import gradient
from holaf_utilities.holaf_image_viewer_backend.edit_math import apply_edits
from holaf_utilities.holaf_image_viewer_backend.edit_model import normalize

pytestmark = pytest.mark.timeout(180)

HARNESS = """async () => {
  const host = window.holafApp.host;
  const { mountEditor } = await import(host.jsBase + 'image_viewer/editor.js');
  const stage = document.createElement('div');
  stage.style.cssText = 'position:fixed;left:0;top:0;width:700px;height:500px;z-index:5000;background:#000';
  const img = document.createElement('img');
  img.dataset.testid = 'zoom-image';
  img.src = host.apiUrl('/holaf/images/full?path=pic.png');
  img.style.cssText = 'width:320px;height:200px;display:block';
  const thumb = document.createElement('img');
  thumb.dataset.testid = 'tile-thumb';
  // Like the gallery: a thumbnail still being made answers 202 + Retry-After; ask again.
  const showThumb = async (url) => {
    for (let i = 0; i < 150; i += 1) {
      const reply = await fetch(url);
      if (reply.status === 200) { thumb.src = url; return; }
      await new Promise((done) => setTimeout(done, 200));
    }
  };
  showThumb(host.apiUrl('/holaf/images/thumbnail?path=pic.png'));
  const column = document.createElement('div');
  column.style.cssText = 'position:fixed;right:0;top:0;width:320px;bottom:0;overflow:auto;z-index:5000';
  column.className = 'holaf-theme-graphite-orange';
  stage.append(img, thumb);
  document.body.append(stage, column);
  await img.decode();
  window.savedReplies = [];
  window.editor = mountEditor(column, {
    host,
    getPreviewTargets: () => [img],
    onSaved: (path, reply) => {
      window.savedReplies.push(reply);
      showThumb(host.apiUrl('/holaf/images/thumbnail?path=' + encodeURIComponent(path) + '&v=' + reply.thumbnail_version));
    },
  });
  await window.editor.setImage({ path: 'pic.png', kind: 'image' });
}"""

# Draws an <img> into a canvas (optionally through a CSS filter) and returns its RGB pixels.
PIXELS = """([testid, filter]) => {
  const img = document.querySelector(`[data-testid="${testid}"]`);
  const canvas = document.createElement('canvas');
  canvas.width = img.naturalWidth; canvas.height = img.naturalHeight;
  const ctx = canvas.getContext('2d');
  ctx.filter = filter || 'none';
  ctx.drawImage(img, 0, 0);
  const data = ctx.getImageData(0, 0, canvas.width, canvas.height).data;
  const out = [];
  for (let i = 0; i < data.length; i += 4) out.push([data[i], data[i + 1], data[i + 2]]);
  return {width: canvas.width, height: canvas.height, pixels: out};
}"""


def _loaded(page, testid):
    return page.evaluate(f"() => {{ const i = document.querySelector('[data-testid=\"{testid}\"]'); return i.complete && i.naturalWidth > 0 ? i.src : ''; }}")


@pytest.fixture
def editor_page(browser_context_factory, standalone_server_factory):
    server = standalone_server_factory(config={"ImageViewer": {"watch_mode": "off", "scan_in_process": "true"}})
    gradient(160, 100).save(server.output_dir / "pic.png")
    context = browser_context_factory(accept_downloads=True)
    page, problems = open_standalone_page(context, server)
    page.evaluate(HARNESS)
    page.locator('[data-testid="holaf-editor-status"]').filter(has_text="Original").wait_for()
    return page, problems, server


def test_a_slider_drives_the_css_filter_and_the_browser_render_matches_the_export(editor_page):
    page, problems, server = editor_page
    page.select_option('[data-testid="holaf-editor-add-type"]', "brightness")
    page.click('[data-testid="holaf-editor-add"]')
    page.select_option('[data-testid="holaf-editor-add-type"]', "hue")
    page.click('[data-testid="holaf-editor-add"]')
    page.locator('[data-testid="holaf-editor-slider-c_1"]').fill("1.3")
    hue = page.locator('[data-testid="holaf-editor-slider-c_2"]')
    hue.focus()
    for _ in range(40):
        hue.press("ArrowRight")  # a real keyboard drag: +40 degrees
    image = page.locator('[data-testid="zoom-image"]')
    assert image.evaluate("el => el.style.filter") == "brightness(1.3) hue-rotate(40deg)"

    # What Chromium paints for that filter equals what export writes (within rounding).
    rendered = page.evaluate(PIXELS, ["zoom-image", "brightness(1.3) hue-rotate(40deg)"])
    controls = normalize({"controls": [{"type": "brightness", "value": 1.3}, {"type": "hue", "value": 40}]}, strict=True).edits.controls
    expected = apply_edits(Image.open(server.output_dir / "pic.png"), controls)
    worst = 0
    for index in range(0, len(rendered["pixels"]), 97):
        x, y = index % rendered["width"], index // rendered["width"]
        worst = max(worst, *(abs(a - b) for a, b in zip(rendered["pixels"][index], expected.getpixel((x, y)))))
    assert worst <= 3, f"browser filter and export differ by {worst} levels"

    page.locator('[data-testid="holaf-editor-status"]').filter(has_text="Saved").wait_for(timeout=30000)
    sidecar = json.loads((server.output_dir / "edit" / "pic.edt").read_text(encoding="utf-8"))
    assert [(c["type"], c["value"]) for c in sidecar["controls"]] == [("brightness", 1.3), ("hue", 40)]
    problems.assert_none()


def test_after_the_auto_save_the_tile_shows_the_edited_thumbnail(editor_page):
    page, problems, server = editor_page
    before = poll(lambda: _loaded(page, "tile-thumb"), timeout=30, message="first thumbnail")
    original = page.evaluate(PIXELS, ["tile-thumb", None])
    page.click('[data-testid="holaf-editor-add"]')  # brightness (the first type)
    page.locator('[data-testid="holaf-editor-slider-c_1"]').fill("0.3")
    poll(lambda: _loaded(page, "tile-thumb"), lambda src: src and src != before and "&v=" in src, timeout=40,
         message="the edited thumbnail")
    edited = page.evaluate(PIXELS, ["tile-thumb", None])
    assert (edited["width"], edited["height"]) == (original["width"], original["height"])
    mean = lambda px: sum(sum(p) for p in px["pixels"]) / (3 * len(px["pixels"]))  # noqa: E731
    assert mean(edited) < 0.45 * mean(original)  # brightness 0.3 darkens the tile
    reply = page.evaluate("() => window.savedReplies.at(-1)")
    assert reply["thumbnail"] in ("ready", "queued") and reply["has_edits"] is True
    problems.assert_none()


def test_tonal_ranges_switch_the_preview_to_a_canvas_render_and_back(editor_page):
    page, problems, server = editor_page
    page.select_option('[data-testid="holaf-editor-add-range"]', "shadows")
    page.click('[data-testid="holaf-editor-add"]')
    page.locator('[data-testid="holaf-editor-slider-c_1"]').fill("1.8")
    image = page.locator('[data-testid="zoom-image"]')
    poll(lambda: image.evaluate("el => el.src"), lambda src: src.startswith("blob:"), message="canvas preview")
    assert image.evaluate("el => el.style.filter") == "none"
    assert "/holaf/images/full" in image.evaluate("el => el.dataset.holafEditOriginal")
    # The canvas render is the same math as export, pixel for pixel (the file is small: no downscale).
    rendered = page.evaluate(PIXELS, ["zoom-image", None])
    controls = normalize({"controls": [{"type": "brightness", "value": 1.8, "range": "shadows"}]}, strict=True).edits.controls
    expected = apply_edits(Image.open(server.output_dir / "pic.png"), controls)
    mismatches = sum(1 for i, p in enumerate(rendered["pixels"])
                     if tuple(p) != expected.getpixel((i % rendered["width"], i // rendered["width"])))
    assert mismatches == 0
    page.select_option('[data-testid="holaf-editor-range-c_1"]', "all")
    poll(lambda: image.evaluate("el => el.src"), lambda src: "/holaf/images/full" in src, message="original src back")
    assert image.evaluate("el => el.style.filter") == "brightness(1.8)"
    problems.assert_none()


def test_the_export_dialog_works_from_the_keyboard_and_downloads_the_file(editor_page):
    page, problems, server = editor_page
    page.evaluate("""async () => {
      const { openExportDialog } = await import(window.holafApp.host.jsBase + 'image_viewer/export_dialog.js');
      window.exportDone = openExportDialog(window.holafApp.host, { paths: ['pic.png'] });
    }""")
    dialog = page.locator('[data-testid="holaf-export-dialog"]')
    dialog.wait_for()
    assert page.evaluate("document.activeElement.dataset.testid") == "holaf-export-image-format-png"
    page.keyboard.press("ArrowRight")  # PNG -> JPEG inside the row
    assert dialog.locator('[data-testid="holaf-export-jpeg-quality"]').is_visible()
    page.keyboard.press("ArrowDown")   # next row: metadata
    assert page.evaluate("document.activeElement.dataset.testid") == "holaf-export-metadata-embed"
    page.keyboard.press("ArrowRight")  # sidecar
    page.keyboard.press("ArrowRight")  # strip
    with page.expect_download(timeout=30000) as info:
        dialog.locator('[data-testid="holaf-export-start"]').focus()
        page.keyboard.press("Enter")
    download = info.value
    assert download.suggested_filename == "pic.jpg"
    data = open(download.path(), "rb").read()
    picture = Image.open(io.BytesIO(data))
    assert picture.format == "JPEG" and picture.size == (160, 100) and not picture.getexif()
    status = page.evaluate("() => window.exportDone")
    assert status["state"] == "done"
    poll(lambda: server.settings()["ImageViewerUI"]["export_image_format"], lambda v: v == "jpeg",
         message="the dialog remembers its choice")  # saved in the background, debounced
    poll(lambda: server.get_json(f"/holaf/images/export/{status['job']}")["state"], lambda s: s == "downloaded",
         message="the server saw the whole download")
    problems.assert_none()
