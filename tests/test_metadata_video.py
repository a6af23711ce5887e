"""Video and audio: PyAV or ffprobe (or the ``ffmpeg -i`` fallback) gives size, duration,
frame rate, audio presence and container tags; ComfyUI SaveVideo tags,
VideoHelperSuite's old double-encoded ``comment`` and its newer separate tags
are all read; a VHS first-frame PNG next to a video is linked.

The clips are made by ffmpeg once per module; the module is skipped when
ffmpeg is not installed.
"""
import json
import os

import pytest

from metadata_fixtures import (FFMPEG, FFPROBE, graph_basic, graph_wan_video, make_audio, make_video, metadata_api,
                               save_png_pillow)

pytestmark = pytest.mark.skipif(FFMPEG is None, reason="ffmpeg is not installed")
M = metadata_api()
WORKFLOW = {"nodes": [{"id": 6, "type": "CLIPTextEncode", "widgets_values": ["x"]}], "links": [], "version": 0.4}


def _pyav_installed() -> bool:
    from holaf_utilities.holaf_image_viewer_backend.metadata.video import pyav_module
    return pyav_module() is not None


@pytest.fixture(params=["pyav", "ffprobe"])
def read(request):
    """extract_metadata through one reader: both must tell the same story about every file."""
    if request.param == "pyav" and not _pyav_installed():
        pytest.skip("PyAV (av) is not installed")
    if request.param == "ffprobe" and FFPROBE is None:
        pytest.skip("ffprobe is not installed")
    use_pyav = request.param == "pyav"
    return lambda path, **kw: M.extract_metadata(path, use_pyav=use_pyav, **kw)


@pytest.fixture(scope="module")
def media(tmp_path_factory):
    d = tmp_path_factory.mktemp("media")
    prompt, workflow = json.dumps(graph_basic()), json.dumps(WORKFLOW)
    files = {
        "savevideo": make_video(d / "ComfyUI_00001_.mp4", tags={"prompt": prompt, "workflow": workflow},
                                use_metadata_tags=True, audio=True, size=(96, 64), fps=12),
        "vhs_old": make_video(d / "AnimateDiff_00001.mp4",
                              tags={"comment": json.dumps({"prompt": prompt, "workflow": workflow})}),
        "vhs_new": make_video(d / "AnimateDiff_00002.mp4", tags={"prompt": prompt, "workflow": workflow},
                              use_metadata_tags=True),
        "vhs_webm": make_video(d / "WanVideo_00001.webm",
                               tags={"comment": json.dumps({"prompt": json.dumps(graph_wan_video()),
                                                            "workflow": workflow})}, size=(80, 48)),
        "mkv": make_video(d / "clip.mkv", tags={"PROMPT": prompt}),
        "plain": make_video(d / "plain.mov", seconds=2.0, fps=10),
        "bare_with_png": make_video(d / "AnimateDiff_00003.mp4"),
    }
    save_png_pillow(d / "AnimateDiff_00003.png", {"prompt": prompt, "workflow": workflow})
    save_png_pillow(d / "AnimateDiff_00001.png", {"prompt": json.dumps(graph_wan_video())})
    for ext in ("wav", "mp3", "flac", "ogg", "m4a"):
        files[ext] = make_audio(d / f"ComfyUI_00001_.{ext}", tags={"prompt": prompt} if ext != "wav" else None)
    return files


def test_comfyui_save_video_tags_size_duration_fps_and_audio(read, media):
    m = read(media["savevideo"])
    assert (m.kind, m.format, m.width, m.height) == ("video", "MP4", 96, 64)
    assert m.fps == 12 and m.duration == pytest.approx(1.0, abs=0.1) and m.has_audio is True
    assert m.frame_count == 12 and m.animated is True
    assert m.prompt == graph_basic() and m.workflow == WORKFLOW
    assert m.sources == {"prompt": "embedded", "workflow": "embedded", "parameters": "none"}
    assert m.generator == "comfyui" and m.params.seed == 1234


def test_videohelpersuite_old_double_encoded_comment_tag(read, media):
    m = read(media["vhs_old"])
    assert m.prompt == graph_basic() and m.workflow == WORKFLOW and m.has_audio is False
    assert m.companion_png == "AnimateDiff_00001.png", "the first-frame PNG is linked even when not needed"


def test_videohelpersuite_new_separate_tags(read, media):
    m = read(media["vhs_new"])
    assert m.prompt == graph_basic() and m.workflow == WORKFLOW


def test_webm_from_vhs_with_a_wan_graph(read, media):
    m = read(media["vhs_webm"])
    assert (m.format, m.width, m.height) == ("WEBM", 80, 48)
    assert m.params.positive == "a fennec fox running through a meadow"
    assert m.frame_count is not None


def test_tag_names_are_matched_whatever_their_case(read, media):
    m = read(media["mkv"])
    assert m.format == "MKV" and m.prompt == graph_basic()


def test_a_video_without_metadata(read, media):
    m = read(media["plain"])
    assert (m.format, m.width, m.fps) == ("MOV", 64, 10)
    assert m.duration == pytest.approx(2.0, abs=0.15)
    assert m.prompt is None and m.generator is None and m.error is None


def test_a_bare_video_takes_its_metadata_from_the_vhs_first_frame_png(read, media):
    m = read(media["bare_with_png"])
    assert m.companion_png == "AnimateDiff_00003.png"
    assert m.prompt == graph_basic() and m.workflow == WORKFLOW
    assert m.sources["prompt"] == "embedded"
    assert any("companion PNG AnimateDiff_00003.png" in w for w in m.warnings)


@pytest.mark.parametrize("ext", ["wav", "mp3", "flac", "ogg", "m4a"])
def test_audio_files_give_duration_and_comfyui_tags(read, media, ext):
    m = read(media[ext])
    assert m.kind == "audio" and m.format == {"wav": "WAV", "mp3": "MP3", "flac": "FLAC", "ogg": "OGG",
                                              "m4a": "M4A"}[ext]
    assert m.duration == pytest.approx(1.0, abs=0.1) and m.width is None and m.has_audio is True
    if ext != "wav":
        assert m.prompt == graph_basic()


def test_without_ffprobe_the_ffmpeg_banner_gives_size_duration_fps_and_tags(media):
    m = M.extract_metadata(media["savevideo"], ffprobe="", use_pyav=False)
    assert (m.width, m.height, m.fps, m.has_audio) == (96, 64, 12, True)
    assert m.duration == pytest.approx(1.0, abs=0.1)
    assert m.prompt == graph_basic() and m.workflow == WORKFLOW
    assert any("ffmpeg -i" in w for w in m.warnings)
    old = M.extract_metadata(media["vhs_old"], ffprobe="", use_pyav=False)
    assert old.prompt == graph_basic()


def test_ffmpeg_banner_parsing_of_multi_line_tag_values():
    from holaf_utilities.holaf_image_viewer_backend.metadata.scan_result import ScanResult
    from holaf_utilities.holaf_image_viewer_backend.metadata.video import parse_ffmpeg_banner
    banner = """Input #0, mov,mp4,m4a,3gp,3g2,mj2, from 'x.mp4':
  Metadata:
    major_brand     : isom
    comment         : first line
                    : second line
    encoder         : Lavf60.3.100
  Duration: 00:01:02.50, start: 0.000000, bitrate: 12 kb/s
  Stream #0:0[0x1](und): Video: h264 (High) (avc1 / 0x31637661), yuv420p(progressive), 1280x720 [SAR 1:1 DAR 16:9], 9 kb/s, 23.98 fps, 23.98 tbr, 24k tbn (default)
    Metadata:
      handler_name    : VideoHandler
  Stream #0:1[0x2](und): Audio: aac (LC) (mp4a / 0x6134706D), 44100 Hz, mono, fltp, 2 kb/s (default)
At least one output file must be specified
"""
    r = ScanResult()
    assert parse_ffmpeg_banner(banner, r)
    assert (r.width, r.height, r.fps, r.duration, r.has_audio) == (1280, 720, 23.98, 62.5, True)
    assert r.texts["comment"] == "first line\nsecond line" and "handler_name" not in r.texts


def test_resolve_ffprobe_prefers_path_and_is_none_when_nothing_is_found(monkeypatch):
    from holaf_utilities.holaf_image_viewer_backend.metadata import video
    video.clear_tool_cache()
    try:
        if FFPROBE:
            assert os.path.samefile(M.resolve_ffprobe(), FFPROBE)
        monkeypatch.setenv("PATH", "")
        video.clear_tool_cache()
        found = M.resolve_ffprobe()
        assert found is None or os.path.basename(found).lower().startswith("ffprobe")
    finally:
        monkeypatch.undo()
        video.clear_tool_cache()


def test_a_corrupt_video_is_an_error_with_a_reason(tmp_path, read, media):
    p = tmp_path / "broken.mp4"
    data = media["plain"].read_bytes()
    p.write_bytes(data[:24] + b"\0" * 200)
    m = read(p)
    assert m.kind == "video" and m.error is not None and "cannot read this file" in m.error


def test_ffmetadata_export_keeps_long_escaped_values_whole():
    from holaf_utilities.holaf_image_viewer_backend.metadata.video import parse_ffmetadata
    long_json = json.dumps({"a": "x=y;z#w\\q", "b": "v" * 5000})
    escaped = long_json.replace("\\", "\\\\").replace("=", "\\=").replace(";", "\\;").replace("#", "\\#")
    doc = ";FFMETADATA1\nmajor_brand=isom\nPrompt=" + escaped + "\ncomment=line one\\\nline two\n[STREAM]\nx=1\n"
    tags = parse_ffmetadata(doc)
    assert json.loads(tags["prompt"]) == json.loads(long_json)
    assert tags["comment"] == "line one\nline two" and "x" not in tags


def test_index_workers_read_videos_with_pyav_and_the_server_process_leaves_them_to_ffprobe(tmp_path, media):
    """A demuxer crash on a damaged file must cost that file, never the host: PyAV runs only in
    the index's worker processes; the server's own process (ComfyUI's) starts ffprobe."""
    from holaf_utilities.holaf_image_viewer_backend.extraction import ExtractionPool
    if not _pyav_installed() or FFPROBE is None:
        pytest.skip("needs both PyAV and ffprobe")
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(media["plain"].read_bytes()[:24] + b"\0" * 200)
    (tmp_path / "good.mp4").write_bytes(media["savevideo"].read_bytes())

    here = M.extract_metadata(broken)
    assert here.error.startswith("ffprobe cannot read this file")

    pool = ExtractionPool(str(tmp_path), workers=1, ffprobe=FFPROBE)
    try:
        results = {r[0]: r[3] for r in pool.map([[(1, "broken.mp4"), (2, "good.mp4")]])}
    finally:
        pool.close()
    assert results[1]["error"].startswith("cannot read this file"), "read by PyAV in the worker"
    assert results[2]["error"] is None and results[2]["width"] == 96 and results[2]["has_workflow"] == 1
