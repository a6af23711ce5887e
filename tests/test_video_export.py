"""Videos through the real ffmpeg: hard-baked MP4 at 1.5x with its audio kept in sync, animated GIFs of
the asked size and frame count, the frame-rate change that copies the video stream, and the CSS-to-FFmpeg
colour conversion checked against the Pillow renderer."""
from __future__ import annotations

import asyncio
import hashlib
import io
import zipfile

import pytest
from PIL import Image

from export_media import clip_with_audio, ffprobe, stream
from media_factory import FFMPEG
from holaf_utilities.holaf_image_viewer_backend import video_bake
from holaf_utilities.holaf_image_viewer_backend.edit_math import apply_edits
from holaf_utilities.holaf_image_viewer_backend.edit_model import normalize
from holaf_utilities.holaf_image_viewer_backend.media_probe import probe_video


async def export_and_wait(client, payload, *, timeout=60.0):
    resp = await client.post("/holaf/images/export", json=payload)
    assert resp.status == 202, await resp.text()
    job = (await resp.json())["job"]
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        status = await (await client.get(f"/holaf/images/export/{job}")).json()
        if status["state"] in ("done", "failed", "cancelled"):
            return status
        assert asyncio.get_running_loop().time() < deadline, status
        await asyncio.sleep(0.05)


async def download(client, status) -> tuple[bytes, str]:
    resp = await client.get(status["download_url"])
    assert resp.status == 200, await resp.text()
    return await resp.read(), resp.headers["Content-Disposition"]


def _sha(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


async def test_a_clip_with_audio_is_hard_baked_at_one_and_a_half_speed_with_sound_in_sync(client, output_dir, tmp_path):
    src = clip_with_audio(output_dir / "clips/walk.mp4", seconds=2.0, fps=16)
    before = _sha(src)
    await client.post("/holaf/images/save-edits", json={"path": "clips/walk.mp4", "edits": {
        "controls": [{"type": "brightness", "value": 1.2}, {"type": "hue", "value": 20}], "playbackRate": 1.5}})
    status = await export_and_wait(client, {"paths": ["clips/walk.mp4"], "format": "mp4",
                                            "options": {"crf": 28, "preset": "ultrafast"}, "metadata": "strip"})
    assert status["state"] == "done" and not status["errors"], status
    data, disposition = await download(client, status)
    assert 'filename="walk.mp4"' in disposition
    out = tmp_path / "walk.mp4"
    out.write_bytes(data)
    info = ffprobe(out, count_frames=True)
    assert [s["codec_type"] for s in info["streams"]] == ["video", "audio"]
    video, audio = stream(info, "video"), stream(info, "audio")
    assert video["codec_name"] == "h264" and video["pix_fmt"] == "yuv420p" and audio["codec_name"] == "aac"
    assert video["r_frame_rate"] == "24/1" and int(video["nb_read_frames"]) == 32  # every frame kept, 1.5x faster
    assert abs(float(video["duration"]) - 2.0 / 1.5) < 0.05
    assert abs(float(audio["duration"]) - 2.0 / 1.5) < 0.1  # atempo: the sound ends with the picture
    assert _sha(src) == before


async def test_the_mp4_has_its_index_at_the_front_for_streaming(client, output_dir, tmp_path):
    clip_with_audio(output_dir / "f.mp4", seconds=1.0, audio=False)
    status = await export_and_wait(client, {"paths": ["f.mp4"], "format": "mp4", "options": {"preset": "ultrafast"}})
    data, _ = await download(client, status)
    assert data.index(b"moov") < data.index(b"mdat")


async def test_a_gif_export_is_animated_with_the_asked_width_and_frame_count(client, output_dir):
    clip_with_audio(output_dir / "g.mp4", seconds=2.0, fps=16, size="320x240")
    status = await export_and_wait(client, {"paths": ["g.mp4"], "format": "gif", "options": {"fps": 10, "width": 160}})
    assert status["state"] == "done", status
    data, disposition = await download(client, status)
    assert 'filename="g.gif"' in disposition
    gif = Image.open(io.BytesIO(data))
    assert gif.format == "GIF" and gif.size == (160, 120)
    assert gif.n_frames == 20 and gif.info.get("loop") == 0


async def test_gif_speed_comes_from_the_edits_and_embed_falls_back_to_sidecars_with_a_warning(client, output_dir):
    clip_with_audio(output_dir / "s.mp4", seconds=2.0, fps=16)
    (output_dir / "s.txt").write_text("prompt words", encoding="utf-8")
    await client.post("/holaf/images/save-edits", json={"path": "s.mp4", "edits": {"controls": [], "playbackRate": 2.0}})
    status = await export_and_wait(client, {"paths": ["s.mp4"], "format": "gif", "options": {"fps": 10}})
    data, _ = await download(client, status)
    archive = zipfile.ZipFile(io.BytesIO(data))
    assert sorted(archive.namelist()) == ["s.gif", "s.txt"]
    assert archive.read("s.txt").decode() == "prompt words"
    assert any("GIF cannot hold" in w["warning"] for w in status["warnings"])
    assert Image.open(io.BytesIO(archive.read("s.gif"))).n_frames == 10  # 2 s at 2x = 1 s at 10 fps


async def test_the_frame_rate_change_copies_the_video_stream_into_a_new_file(client, output_dir):
    src = clip_with_audio(output_dir / "r/clip.mp4", seconds=2.0, fps=16)
    (output_dir / "r/clip.txt").write_text("the prompt")
    before = _sha(src)
    source_info = ffprobe(src, count_frames=True)
    resp = await client.post("/holaf/images/change-fps", json={"path": "r/clip.mp4", "fps": 24, "audio": "drop"})
    body = await resp.json()
    assert resp.status == 200, body
    assert body["new_path"] == "r/clip_24fps.mp4" and body["source_fps"] == 16 and body["sidecars"] == ["clip_24fps.txt"]
    out = output_dir / body["new_path"]
    info = ffprobe(out, count_frames=True)
    video = stream(info, "video")
    assert stream(info, "audio") is None
    assert video["codec_name"] == stream(source_info, "video")["codec_name"] == "h264"
    assert video["nb_read_frames"] == stream(source_info, "video")["nb_read_frames"] == "32"
    assert video["r_frame_rate"] == "24/1"
    assert abs(float(info["format"]["duration"]) - 32 / 24) < 0.05
    assert _sha(src) == before and (output_dir / "r/clip_24fps.txt").read_text() == "the prompt"


async def test_the_frame_rate_change_can_retime_the_audio_and_never_overwrites(client, output_dir):
    clip_with_audio(output_dir / "v.mp4", seconds=2.0, fps=16)
    (output_dir / "v_24fps.mp4").write_bytes(b"somebody else's file")
    resp = await client.post("/holaf/images/change-fps", json={"path": "v.mp4", "fps": 24, "audio": "retime"})
    body = await resp.json()
    assert resp.status == 200, body
    assert body["new_path"] == "v_24fps_1.mp4" and body["audio"] == "retime"
    assert (output_dir / "v_24fps.mp4").read_bytes() == b"somebody else's file"
    info = ffprobe(output_dir / body["new_path"])
    assert stream(info, "video")["codec_name"] == "h264" and stream(info, "audio")["codec_name"] == "aac"
    assert abs(float(stream(info, "audio")["duration"]) - 2.0 / 1.5) < 0.1
    assert not [p.name for p in output_dir.iterdir() if "partial" in p.name]


@pytest.mark.parametrize("payload, status", [
    ({"path": "w.mp4", "fps": 0}, 400),
    ({"path": "w.mp4", "fps": 500}, 400),
    ({"path": "w.mp4", "fps": "24"}, 400),
    ({"path": "w.mp4", "fps": 24, "audio": "keep"}, 400),
    ({"path": "w.mp4", "fps": 16}, 400),
    ({"path": "p.png", "fps": 24}, 415),
    ({"path": "../w.mp4", "fps": 24}, 403),
])
async def test_bad_frame_rate_requests_are_refused_and_create_nothing(client, output_dir, payload, status):
    clip_with_audio(output_dir / "w.mp4", seconds=1.0, fps=16, audio=False)
    Image.new("RGB", (8, 8)).save(output_dir / "p.png")
    resp = await client.post("/holaf/images/change-fps", json=payload)
    assert resp.status == status, await resp.text()
    assert sorted(p.name for p in output_dir.iterdir()) == ["p.png", "w.mp4"]


def test_css_brightness_contrast_saturation_and_hue_become_one_eq_and_one_hue_filter():
    edits = normalize({"controls": [{"type": "brightness", "value": 1.2}, {"type": "contrast", "value": 0.8},
                                    {"type": "saturation", "value": 1.5}, {"type": "hue", "value": 30},
                                    {"type": "hue", "value": 170}, {"type": "brightness", "value": 1.5, "range": "shadows"}]},
                      strict=True).edits
    eq, hue, warnings = video_bake.colour_filters(edits)
    # Y -> 1.2Y -> 0.8(1.2Y - 0.5) + 0.5 = 0.96Y + 0.1: contrast 0.96, brightness 0.1 - 0.5 + 0.48 = 0.08
    assert eq == {"contrast": 0.96, "brightness": 0.08, "saturation": pytest.approx(1.2 * 0.8 * 1.5)}
    assert hue == -160.0 and "tonal-range" in warnings[0]
    assert video_bake.atempo_chain(1.5) == [1.5]
    assert video_bake.atempo_chain(6.0) == [2.0, 2.0, 1.5] and video_bake.atempo_chain(0.2) == [0.5, 0.5, 0.8]


@pytest.mark.parametrize("controls", [
    [{"type": "brightness", "value": 1.3}],
    [{"type": "contrast", "value": 1.4}],
    [{"type": "saturation", "value": 0.4}],
    [{"type": "hue", "value": 60}],
    [{"type": "brightness", "value": 0.8}, {"type": "contrast", "value": 1.2}, {"type": "saturation", "value": 1.3}],
])
def test_a_baked_frame_looks_like_the_pillow_render_of_the_same_edits(tmp_path, controls):
    """The FFmpeg graph is an approximation of the CSS math (YUV, limited range): close, not identical.

    ``eq`` lands within about 5 % of the preview; ``hue`` rotates the chroma plane exactly where the spec's
    hue-rotate matrix approximates that rotation, so saturated colours may differ by about 10 %."""
    import subprocess

    tolerance = 26 if any(c["type"] == "hue" for c in controls) else 14

    still = tmp_path / "still.png"
    tiles = Image.new("RGB", (64, 32))
    for i, colour in enumerate([(200, 60, 50), (60, 150, 90), (70, 80, 200), (128, 128, 128)]):
        tiles.paste(colour, (i * 16, 0, i * 16 + 16, 32))
    tiles.save(still)
    src = tmp_path / "src.mp4"
    subprocess.run([FFMPEG, "-loglevel", "error", "-y", "-loop", "1", "-i", str(still), "-t", "0.5", "-r", "10",
                    "-c:v", "libx264", "-crf", "0", "-pix_fmt", "yuv444p", str(src)], check=True, timeout=60)
    edits = normalize({"controls": controls}, strict=True).edits
    info = probe_video(src)
    plan = video_bake.plan_video(edits, info, apply_edits=True)
    baked = tmp_path / "baked.mp4"
    from holaf_utilities.holaf_image_viewer_backend.ffmpeg_run import run_ffmpeg

    run_ffmpeg(video_bake.mp4_args(FFMPEG, src, baked, info, plan, crf=0, preset="ultrafast", strip=True),
               total_seconds=0.5)
    frame = tmp_path / "frame.png"
    subprocess.run([FFMPEG, "-loglevel", "error", "-y", "-i", str(baked), "-frames:v", "1", str(frame)], check=True)
    src_frame = tmp_path / "src_frame.png"
    subprocess.run([FFMPEG, "-loglevel", "error", "-y", "-i", str(src), "-frames:v", "1", str(src_frame)], check=True)
    expected = apply_edits(Image.open(src_frame).convert("RGB"), edits.controls)
    got = Image.open(frame).convert("RGB")
    for i in range(4):
        e, g = expected.getpixel((i * 16 + 8, 16)), got.getpixel((i * 16 + 8, 16))
        assert max(abs(a - b) for a, b in zip(e, g)) <= tolerance, (controls, i, e, g)
