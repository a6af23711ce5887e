"""The Image Viewer index over HTTP, read side: every ``/list`` filter and sort, paging,
search, metadata, the original-file route and the error envelope — on one real
standalone app that scanned a gallery of real files (built once for the module).
"""
from __future__ import annotations

import datetime as dt

import pytest
import pytest_asyncio
from aiohttp.test_utils import TestClient, TestServer

from holaf_utilities import holaf_app
from holaf_utilities.holaf_context import HostPaths

from index_gallery import GALLERY, QUIET, T0, build_gallery, listing, make_video_bytes, paths, synced

pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def gallery(tmp_path_factory):
    base = tmp_path_factory.mktemp("gallery")
    out, data = base / "output", base / "data"
    out.mkdir()
    data.mkdir()
    build_gallery(out, make_video_bytes(base))
    lines = [f"[{section}]\n" + "".join(f"{k} = {v}\n" for k, v in values.items()) for section, values in QUIET.items()]
    (data / "config.ini").write_text("".join(lines))
    client = TestClient(TestServer(holaf_app.create_standalone_app(HostPaths(output_dir=out, data_dir=data))))
    await client.start_server()
    client.output_dir = out
    await synced(client)
    yield client
    await client.close()


# --------------------------------------------------------------------------- listing and sorting
async def test_the_default_listing_is_the_whole_gallery_newest_first_with_a_total(gallery):
    data = await listing(gallery)
    assert [i["path"] for i in data["images"]] == list(reversed(GALLERY))
    assert data["total"] == len(GALLERY) and data["total_db_count"] == len(GALLERY)
    assert data["next_cursor"] is None and data["change_token"]
    first = data["images"][0]
    for key in ("path", "name", "folder", "top_folder", "kind", "format", "size", "mtime", "width", "height",
                "has_workflow", "has_prompt", "has_edits", "has_tags", "rating", "error", "version"):
        assert key in first
    assert first["kind"] == "video" and first["format"] == "MP4" and first["duration"] == pytest.approx(1.0, abs=0.2)


async def test_sorting_oldest_by_name_by_size_and_random_with_a_stable_seed(gallery):
    assert await paths(gallery, sort="oldest") == GALLERY
    by_name = await paths(gallery, sort="name")
    assert by_name == sorted(GALLERY, key=lambda p: (p.rpartition("/")[2].lower()))
    sizes = [i["size"] for i in (await listing(gallery, sort="size"))["images"]]
    assert sizes == sorted(sizes, reverse=True)
    one = await paths(gallery, sort="random", seed=7)
    assert one == await paths(gallery, sort="random", seed=7)
    assert sorted(one) == sorted(GALLERY)
    others = {tuple(await paths(gallery, sort="random", seed=s)) for s in range(1, 6)}
    assert len(others) > 1


async def test_top_level_folders_with_root_and_any_subfolder_prefix(gallery):
    assert await paths(gallery, folders=["root"], sort="oldest") == ["r1.png", "r2.jpg"]
    assert set(await paths(gallery, folders=["portraits", "videos"])) == {
        "portraits/p1.png", "portraits/sub/p2.webp", "portraits/sub/deeper/p3.png", "videos/v1.mp4"}
    assert set(await paths(gallery, folder_prefix="portraits/sub")) == {"portraits/sub/p2.webp", "portraits/sub/deeper/p3.png"}
    assert await paths(gallery, folder_prefix="portraits/su") == []


async def test_formats_and_kinds(gallery):
    assert await paths(gallery, formats=["jpg"]) == ["r2.jpg"]
    assert set(await paths(gallery, formats=["WEBP", "MP4"])) == {"portraits/sub/p2.webp", "videos/v1.mp4"}
    assert await paths(gallery, kinds=["video"]) == ["videos/v1.mp4"]
    assert len(await paths(gallery, kinds=["image"])) == len(GALLERY) - 1


async def test_date_range_with_an_inclusive_end(gallery):
    day = dt.datetime.fromtimestamp(T0).strftime("%Y-%m-%d")
    assert len(await paths(gallery, date_from=day, date_to=day)) == len(GALLERY)
    assert await paths(gallery, date_to=T0 + 2 * 3600, sort="oldest") == ["r1.png", "r2.jpg"]
    assert await paths(gallery, date_from=T0 + 8.5 * 3600) == ["videos/v1.mp4"]
    next_day = (dt.datetime.fromtimestamp(T0) + dt.timedelta(days=1)).strftime("%Y-%m-%d")
    assert await paths(gallery, date_from=next_day) == []


async def test_flags_workflow_prompt_edits_and_errors(gallery):
    assert set(await paths(gallery, has_workflow=True)) == {
        "r1.png", "portraits/p1.png", "portraits/sub/p2.webp", "videos/v1.mp4"}
    assert set(await paths(gallery, has_prompt=False)) == {"portraits/sub/deeper/p3.png", "landscapes/broken.png"}
    assert await paths(gallery, has_edits=True) == ["portraits/sub/deeper/p3.png"]
    assert await paths(gallery, has_error=True) == ["landscapes/broken.png"]
    broken = (await listing(gallery, has_error=True))["images"][0]
    assert "truncated" in broken["error"]


async def test_model_lora_and_sampler_filters(gallery):
    assert await paths(gallery, model="juggernaut.safetensors") == ["r1.png"]
    assert await paths(gallery, model="dreamshaper") == ["r2.jpg"]
    assert await paths(gallery, lora="detail_tweaker.safetensors") == ["r1.png"]
    assert await paths(gallery, sampler="dpmpp_2m") == ["portraits/p1.png"]
    assert await paths(gallery, sampler="nope") == []


async def test_the_trashcan_view_lists_only_trashed_files_with_their_original_place(gallery):
    data = await listing(gallery, trashcan=True, folders=["portraits"])
    assert [i["path"] for i in data["images"]] == ["trashcan/t2.png", "trashcan/old/t1.png"]
    assert data["images"][1]["original_path"] == "old/t1.png" and data["images"][1]["is_trashed"]
    assert data["notes"]
    assert "trashcan/old/t1.png" not in await paths(gallery)


# --------------------------------------------------------------------------- search
async def test_search_finds_prompts_names_and_workflow_text_with_scopes_combined_by_or(gallery):
    assert await paths(gallery, search="fox") == ["r1.png"]
    assert await paths(gallery, search="whale") == ["r2.jpg"]             # A1111 EXIF UserComment
    assert await paths(gallery, search="misty pine") == ["landscapes/l2.png"]  # .txt sidecar
    assert await paths(gallery, search="hummingbird") == ["videos/v1.mp4"]     # video container tags
    assert await paths(gallery, search="portrait", search_scopes=["prompt"], sort="oldest") == [
        "portraits/p1.png", "portraits/sub/p2.webp"]
    assert len(await paths(gallery, search="portrait")) == 3  # the name scope also matches the folder "portraits"
    assert await paths(gallery, search="sailor", search_scopes=["name"]) == []
    assert await paths(gallery, search="sailor", search_scopes=["name", "prompt"]) == ["portraits/p1.png"]
    assert await paths(gallery, search="p1", search_scopes=["name"]) == ["portraits/p1.png"]
    assert await paths(gallery, search="winter series", search_scopes=["workflow"]) == ["r1.png"]
    assert await paths(gallery, search="winter series", search_scopes=["prompt"]) == []
    assert await paths(gallery, search="juggernaut", search_scopes=["workflow"]) == ["r1.png"]
    assert await paths(gallery, search="portrait -knight", search_scopes=["prompt"]) == ["portraits/p1.png"]
    assert set(await paths(gallery, search="fox OR whale")) == {"r1.png", "r2.jpg"}
    assert await paths(gallery, search='"old sailor"') == ["portraits/p1.png"]
    assert await paths(gallery, search='"sailor old"') == []
    assert await paths(gallery, search="sail") == ["portraits/p1.png"]       # prefix match
    data = await listing(gallery, search="portrait", search_scopes=["prompt"], limit=1)
    assert data["total"] == 2 and len(data["images"]) == 1  # the trashed "portrait of a ghost" is not counted
    trash = await listing(gallery, search="portrait", search_scopes=["prompt"], limit=1, trashcan=True)
    assert trash["total"] == 1 and trash["images"][0]["path"] == "trashcan/t2.png"
    assert (await listing(gallery, search="portrait", kinds=["image"], limit=1))["total"] == 3


async def test_search_combines_with_other_filters(gallery):
    assert await paths(gallery, search="knight", formats=["webp"]) == ["portraits/sub/p2.webp"]
    assert await paths(gallery, search="knight", formats=["png"]) == []
    assert await paths(gallery, search="(:::)") == []


# --------------------------------------------------------------------------- paging
async def test_keyset_pages_walk_every_row_once_for_each_sort(gallery):
    for sort in ("newest", "oldest", "name", "size", "random"):
        seen, cursor = [], None
        for _ in range(20):
            body = {"limit": 2, "sort": sort, "seed": 3}
            if cursor:
                body["cursor"] = cursor
            data = await listing(gallery, **body)
            seen += [i["path"] for i in data["images"]]
            cursor = data["next_cursor"]
            if cursor is None:
                break
        assert sorted(seen) == sorted(GALLERY), sort
        assert seen == await paths(gallery, sort=sort, seed=3), sort


async def test_offset_pages_match_the_full_order(gallery):
    full = await paths(gallery, sort="name")
    assert await paths(gallery, sort="name", offset=3, limit=4) == full[3:7]
    for seed in (1, 2, 3):
        shuffled = await paths(gallery, sort="random", seed=seed)
        for start in range(len(shuffled)):
            assert await paths(gallery, sort="random", seed=seed, offset=start, limit=3) == shuffled[start:start + 3]
    data = await listing(gallery, sort="name", offset=100)
    assert data["images"] == [] and data["total"] == len(GALLERY)


async def test_totals_can_be_skipped(gallery):
    data = await listing(gallery, include_total=False)
    assert data["total"] is None and len(data["images"]) == len(GALLERY)


# --------------------------------------------------------------------------- errors
@pytest.mark.parametrize("body, status", [
    ({"limit": 100000}, 400), ({"sort": "chaos"}, 400), ({"folders": 3}, 400), ({"cursor": "zzz"}, 400),
    ({"search_scopes": ["pixels"]}, 400), ({"date_from": "31/12/2024"}, 400), ({"has_tags": 1}, 400),
])
async def test_bad_list_requests_get_a_400_envelope(gallery, body, status):
    resp = await gallery.post("/holaf/images/list", json=body)
    assert resp.status == status
    data = await resp.json()
    assert data["ok"] is False and data["code"] == "invalid_query" and data["error"]


async def test_a_list_body_that_is_not_json_is_refused(gallery):
    resp = await gallery.post("/holaf/images/list", data=b"{nope", headers={"Content-Type": "application/json"})
    assert resp.status == 400 and (await resp.json())["code"] == "invalid_json"
    resp = await gallery.post("/holaf/images/list", data=b"[1, 2]")
    assert resp.status == 400


async def test_a_cross_site_list_request_is_refused(gallery):
    resp = await gallery.post("/holaf/images/list", json={}, headers={"Origin": "http://evil.example"})
    assert resp.status == 403 and (await resp.json())["code"] == "cross_site"


@pytest.mark.parametrize("route", ["/holaf/images/metadata", "/holaf/images/full"])
@pytest.mark.parametrize("query, status", [
    ({}, 400), ({"path": "../secret.png"}, 403), ({"path": "/etc/passwd"}, 403), ({"path": "a\x00b.png"}, 400),
    ({"path": "missing.png"}, 404), ({"path": "landscapes/l2.txt"}, 415),
])
async def test_file_routes_validate_the_path(gallery, route, query, status):
    resp = await gallery.get(route, params=query)
    assert resp.status == status, await resp.text()
    assert (await resp.json())["ok"] is False


# --------------------------------------------------------------------------- filter options, metadata, files
async def test_metadata_gives_graphs_parsed_parameters_and_sources(gallery):
    resp = await gallery.get("/holaf/images/metadata", params={"path": "r1.png"})
    data = await resp.json()
    assert data["prompt"]["3"]["class_type"] == "KSampler"
    assert data["workflow"]["nodes"][0]["widgets_values"] == ["a red fox in the snow"]
    params = data["parameters"]
    assert params["positive"] == "a red fox in the snow" and params["negative"] == "blurry"
    assert (params["seed"], params["steps"], params["cfg"], params["sampler"], params["scheduler"]) == (42, 20, 7.0, "euler", "normal")
    assert params["model"] == "juggernaut.safetensors" and params["loras"][0]["name"] == "detail_tweaker.safetensors"
    assert data["sources"] == {"prompt": "embedded", "workflow": "embedded", "parameters": "none"}
    assert data["error"] is None and data["file"]["width"] == 32


async def test_metadata_of_a1111_sidecar_video_and_broken_files(gallery):
    a1111 = await (await gallery.get("/holaf/images/metadata", params={"path": "landscapes/l1.png"})).json()
    assert a1111["parameters"]["positive"] == "mountain lake at dawn" and a1111["parameters"]["steps"] == 30
    assert a1111["parameters_text"].startswith("mountain lake")
    sidecar = await (await gallery.get("/holaf/images/metadata", params={"path": "landscapes/l2.png"})).json()
    assert sidecar["sources"]["parameters"] == "sidecar_txt" and sidecar["parameters"]["positive"] == "misty pine forest"
    video = await (await gallery.get("/holaf/images/metadata", params={"path": "videos/v1.mp4"})).json()
    assert video["parameters"]["positive"] == "video of a hummingbird" and video["file"]["kind"] == "video"
    broken = await (await gallery.get("/holaf/images/metadata", params={"path": "landscapes/broken.png"})).json()
    assert "truncated" in broken["error"]


async def test_full_streams_the_original_with_type_etag_revalidation_and_ranges(gallery):
    original = (gallery.output_dir / "videos" / "v1.mp4").read_bytes()
    resp = await gallery.get("/holaf/images/full", params={"path": "videos/v1.mp4"})
    assert resp.status == 200 and await resp.read() == original
    assert resp.headers["Content-Type"] == "video/mp4"
    assert resp.headers["Cache-Control"].startswith("private")
    etag = resp.headers["ETag"]
    again = await gallery.get("/holaf/images/full", params={"path": "videos/v1.mp4"}, headers={"If-None-Match": etag})
    assert again.status == 304
    part = await gallery.get("/holaf/images/full", params={"path": "videos/v1.mp4"}, headers={"Range": "bytes=10-19"})
    assert part.status == 206 and await part.read() == original[10:20]
    item = (await listing(gallery, kinds=["video"]))["images"][0]
    pinned = await gallery.get("/holaf/images/full", params={"path": "videos/v1.mp4", "v": item["version"]})
    assert "immutable" in pinned.headers["Cache-Control"]
    png = await gallery.get("/holaf/images/full", params={"path": "portraits/sub/p2.webp"})
    assert png.headers["Content-Type"] == "image/webp" and png.headers["X-Content-Type-Options"] == "nosniff"


# --------------------------------------------------------------------------- tags, ratings, sidecars
@pytest.mark.parametrize("body", [
    {"paths": ["r1.png"]}, {"paths": [], "add": ["a"]}, {"paths": "r1.png", "add": ["a"]},
    {"paths": ["r1.png"], "add": [""]}, {"paths": ["r1.png"], "add": ["x" * 200]}, {"paths": ["r1.png"], "add": [3]},
    {"paths": ["r1.png"], "set": ["a"], "add": ["b"]}, {"paths": ["../x.png"], "add": ["a"]},
])
async def test_bad_tag_requests_are_refused(gallery, body):
    resp = await gallery.post("/holaf/images/tags", json=body)
    assert resp.status in (400, 403) and (await resp.json())["ok"] is False


@pytest.mark.parametrize("rating", [-1, 6, 2.5, "3", True, None])
async def test_ratings_must_be_whole_numbers_from_0_to_5(gallery, rating):
    resp = await gallery.post("/holaf/images/rating", json={"paths": ["r1.png"], "rating": rating})
    assert resp.status == 400


# --------------------------------------------------------------------------- sync and change tokens
async def test_last_update_time_reports_the_change_token(gallery):
    data = await (await gallery.get("/holaf/images/last-update-time")).json()
    assert data["change_token"] == (await listing(gallery))["change_token"] and data["last_update"] > 0
