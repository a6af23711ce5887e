"""Thumbnail generation (``thumbnails.generate_thumbnail``) on real files: every still
format path, EXIF orientation, transparency, real ffmpeg covers at ~10 % of a clip,
audio placeholders, the edit transform hook, and every broken input (decompression
bomb refused from its header, truncated, zero-byte, garbage)."""
from __future__ import annotations

import sys
import time
from pathlib import Path

import pytest
from PIL import Image

from holaf_utilities.holaf_image_viewer_backend import thumbnails
from holaf_utilities.holaf_image_viewer_backend.thumbnails import ThumbnailError, generate_thumbnail
from media_factory import (a1111_jpeg, bomb_png, comfy_png, comfy_webp, dominant, gradient, make_video,
                           truncated_copy)


def _open(path: Path) -> Image.Image:
    image = Image.open(path)
    image.load()
    return image


def test_png_becomes_a_384px_webp_with_the_aspect_ratio_kept(tmp_path):
    src = comfy_png(tmp_path / "a.png", 1200, 800)
    result = generate_thumbnail(src, tmp_path / "t.webp", 384)
    thumb = _open(tmp_path / "t.webp")
    assert thumb.format == "WEBP" and thumb.size == (384, 256)
    assert (result.width, result.height, result.source_width, result.source_height) == (384, 256, 1200, 800)
    assert result.decoder == ("spng" if thumbnails._pyspng is not None else "pillow")


def test_fast_png_decoder_and_pillow_agree_on_the_picture(tmp_path):
    src = comfy_png(tmp_path / "a.png", 900, 600)
    fast, _, _ = thumbnails._load_image_small(src, 300, thumbnails.DEFAULT_MAX_PIXELS)
    slow, _, decoder = thumbnails._pillow_small(src, 300, thumbnails.DEFAULT_MAX_PIXELS)
    assert decoder == "pillow" and fast.size == slow.size == (300, 200)
    for a, b in zip(dominant(fast), dominant(slow)):
        assert abs(a - b) <= 3


def test_small_images_are_never_upscaled(tmp_path):
    src = tmp_path / "small.png"
    gradient(100, 50).save(src)
    generate_thumbnail(src, tmp_path / "t.webp", 384)
    assert _open(tmp_path / "t.webp").size == (100, 50)


def test_transparency_is_kept(tmp_path):
    src = tmp_path / "alpha.png"
    gradient(400, 200, "RGBA").save(src)
    generate_thumbnail(src, tmp_path / "t.webp", 200)
    thumb = _open(tmp_path / "t.webp").convert("RGBA")
    assert thumb.getpixel((10, 50))[3] == 0 and thumb.getpixel((190, 50))[3] == 255


def test_palette_png_with_transparency_keeps_its_alpha(tmp_path):
    src = tmp_path / "pal.png"
    image = gradient(64, 64, "RGBA").convert("P", palette=Image.Palette.ADAPTIVE)
    image.info["transparency"] = image.getpixel((1, 1))
    image.save(src, transparency=image.getpixel((1, 1)))
    generate_thumbnail(src, tmp_path / "t.webp", 64)
    assert _open(tmp_path / "t.webp").mode == "RGBA"


def test_sixteen_bit_grey_png_is_scaled_not_clipped_to_white(tmp_path):
    src = tmp_path / "grey16.png"
    Image.new("I;16", (50, 50), 32768).save(src)
    generate_thumbnail(src, tmp_path / "t.webp", 64)
    value = dominant(_open(tmp_path / "t.webp"))[0]
    assert 100 < value < 160


def test_jpeg_is_decoded_at_reduced_scale_and_exif_orientation_is_applied(tmp_path):
    src = a1111_jpeg(tmp_path / "rot.jpg", orientation=6, size=(1600, 800))
    result = generate_thumbnail(src, tmp_path / "t.webp", 384)
    assert result.decoder == "pillow-draft"
    assert _open(tmp_path / "t.webp").size == (192, 384)  # rotated a quarter turn: portrait


def test_animated_gif_webp_and_apng_give_their_first_frame(tmp_path):
    frames = [Image.new("RGB", (80, 60), c) for c in ("red", "lime", "blue")]
    frames[0].save(tmp_path / "a.gif", save_all=True, append_images=frames[1:], duration=100, loop=0)
    frames[0].save(tmp_path / "a.webp", save_all=True, append_images=frames[1:], duration=100, loop=0, lossless=True)
    frames[0].save(tmp_path / "a.apng", "PNG", save_all=True, append_images=frames[1:], duration=100, loop=0)
    for name in ("a.gif", "a.webp", "a.apng"):
        generate_thumbnail(tmp_path / name, tmp_path / f"{name}.thumb.webp", 384)
        r, g, b = dominant(_open(tmp_path / f"{name}.thumb.webp"))
        assert r > 200 and g < 60 and b < 60, name


def test_comfy_webp_still_is_thumbnailed(tmp_path):
    src = comfy_webp(tmp_path / "c.webp", 500, 300)
    generate_thumbnail(src, tmp_path / "t.webp", 384)
    assert _open(tmp_path / "t.webp").size == (384, 230)


def test_the_edit_transform_runs_on_the_small_upright_image(tmp_path):
    src = tmp_path / "white.png"
    Image.new("RGB", (800, 400), "white").save(src)
    seen = []

    def darken(image: Image.Image) -> Image.Image:
        seen.append((image.size, image.mode))
        return image.point(lambda v: v // 4)

    generate_thumbnail(src, tmp_path / "t.webp", 200, transform=darken)
    assert seen == [((200, 100), "RGB")]
    assert dominant(_open(tmp_path / "t.webp"))[0] < 80


def test_jpeg_output_when_asked_flattens_alpha(tmp_path):
    src = tmp_path / "alpha.png"
    gradient(120, 60, "RGBA").save(src)
    result = generate_thumbnail(src, tmp_path / "t.jpg", 120, fmt="jpeg")
    assert result.format == "jpeg" and _open(tmp_path / "t.jpg").mode == "RGB"


def test_decompression_bomb_is_refused_from_its_header_fast_and_without_memory(tmp_path):
    src = bomb_png(tmp_path / "bomb.png")
    resource = pytest.importorskip("resource") if sys.platform == "win32" else __import__("resource")
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    start = time.perf_counter()
    with pytest.raises(ThumbnailError) as info:
        generate_thumbnail(src, tmp_path / "t.webp", 384)
    elapsed = time.perf_counter() - start
    grown_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    assert info.value.code == "too_large" and "20000x20000" in info.value.message
    assert elapsed < 0.5
    assert grown_kb < 50_000  # decoding would need ~1.2 GB
    assert not (tmp_path / "t.webp").exists()


def test_the_pixel_limit_applies_to_what_would_be_decoded(tmp_path):
    gradient(3000, 2000).save(tmp_path / "big.png", compress_level=1)
    gradient(3000, 2000).save(tmp_path / "big.jpg", quality=70)
    with pytest.raises(ThumbnailError) as info:
        generate_thumbnail(tmp_path / "big.png", tmp_path / "t.webp", 384, max_pixels=1_000_000)
    assert info.value.code == "too_large"
    # a JPEG is decoded at reduced scale by draft() (here 1/4: 750x500), under the limit
    assert generate_thumbnail(tmp_path / "big.jpg", tmp_path / "t.webp", 384, max_pixels=1_000_000).width == 384


@pytest.mark.parametrize("kind", ["png", "jpg"])
def test_truncated_images_fail_cleanly_and_leave_no_output(tmp_path, kind):
    full = tmp_path / f"full.{kind}"
    gradient(600, 400).save(full, quality=90) if kind == "jpg" else comfy_png(full, 600, 400)
    broken = truncated_copy(full, tmp_path / f"broken.{kind}", keep=0.4)
    with pytest.raises(ThumbnailError) as info:
        generate_thumbnail(broken, tmp_path / "t.webp", 384)
    assert info.value.code == "unreadable"
    assert not (tmp_path / "t.webp").exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".tmp-")] == []


def test_zero_byte_garbage_and_missing_files_have_their_own_reasons(tmp_path):
    (tmp_path / "zero.png").write_bytes(b"")
    (tmp_path / "junk.png").write_bytes(b"this is not an image at all" * 10)
    codes = {}
    for name in ("zero.png", "junk.png", "missing.png"):
        with pytest.raises(ThumbnailError) as info:
            generate_thumbnail(tmp_path / name, tmp_path / "t.webp", 384)
        codes[name] = info.value.code
    assert codes == {"zero.png": "empty", "junk.png": "unreadable", "missing.png": "missing"}


def test_unknown_extensions_are_unsupported(tmp_path):
    (tmp_path / "notes.md").write_text("hello")
    with pytest.raises(ThumbnailError) as info:
        generate_thumbnail(tmp_path / "notes.md", tmp_path / "t.webp", 384)
    assert info.value.code == "unsupported"


@pytest.mark.parametrize("suffix", [".mp4", ".webm"])
def test_video_cover_is_taken_at_about_ten_percent_by_real_ffmpeg(tmp_path, suffix):
    # red for the first 5 %, blue afterwards: a cover from the first frame would be red
    src = make_video(tmp_path / f"clip{suffix}", seconds=2.0, switch_at=0.1, size="320x240")
    result = generate_thumbnail(src, tmp_path / "t.webp", 128)
    thumb = _open(tmp_path / "t.webp")
    assert result.decoder == "ffmpeg" and thumb.size == (128, 96)
    r, g, b = dominant(thumb)
    assert b > 150 and r < 80


def test_mp4_duration_is_read_from_the_movie_header(tmp_path):
    src = make_video(tmp_path / "clip.mp4", seconds=3.0)
    assert thumbnails.mp4_duration(src) == pytest.approx(3.0, abs=0.15)
    assert thumbnails.video_duration(make_video(tmp_path / "clip.webm", seconds=2.0)) == pytest.approx(2.0, abs=0.15)


def test_a_broken_video_fails_with_a_reason(tmp_path):
    (tmp_path / "broken.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42" + b"garbage" * 100)
    with pytest.raises(ThumbnailError) as info:
        generate_thumbnail(tmp_path / "broken.mp4", tmp_path / "t.webp", 128)
    assert info.value.code == "video_unreadable"


def test_audio_gets_a_drawn_placeholder(tmp_path):
    (tmp_path / "song.mp3").write_bytes(b"ID3" + b"\x00" * 200)
    result = generate_thumbnail(tmp_path / "song.mp3", tmp_path / "t.webp", 256)
    assert result.decoder == "placeholder" and _open(tmp_path / "t.webp").size == (256, 256)


def test_media_kind_knows_images_videos_and_audio():
    assert [thumbnails.media_kind(n) for n in ("a.PNG", "b.mp4", "c.flac", "d.txt")] == ["image", "video", "audio", None]


def test_ffmpeg_is_found_bundled_first_then_on_path():
    assert thumbnails.find_ffmpeg() and thumbnails.find_ffmpeg(prefer_bundled=False)
