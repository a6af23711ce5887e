"""Pure functions of the Image Viewer index (``holaf_image_viewer_backend.logic``).

Path splitting, skip rules, stat classification, ``/list`` request validation,
the WHERE builder, keyset cursors and the search syntax, without any I/O.
"""
from __future__ import annotations

import sqlite3

import pytest

from holaf_utilities.holaf_image_viewer_backend import logic


def test_a_path_is_split_into_folder_name_and_top_level_folder():
    assert logic.split_path("a/b/c.png") == ("a/b", "c.png", "a")
    assert logic.split_path("c.png") == ("", "c.png", "root")


@pytest.mark.parametrize("name", ["x.png.tmp", "x.part", "x.crdownload", ".x.png", "~$x.png", "ComfyUI_temp_abcd_00001_.png", "x.png~"])
def test_temporary_and_partial_names_are_recognised(name):
    assert logic.is_temp_name(name)


@pytest.mark.parametrize("name", ["ComfyUI_00001_.png", "temple.png", "x.mp4", "parted.webp"])
def test_ordinary_names_are_not_temporary(name):
    assert not logic.is_temp_name(name)


def test_a_proc_video_in_an_edit_folder_is_a_sidecar_only_when_its_image_exists():
    assert logic.is_edit_sidecar_name("cat_proc.mp4", {"cat"}, set())
    assert logic.is_edit_sidecar_name("cat_proc.mp4", set(), {"cat"})
    assert not logic.is_edit_sidecar_name("holiday_proc.mp4", set(), {"cat"})
    assert not logic.is_edit_sidecar_name("cat.mp4", {"cat"}, {"cat"})


def test_the_sidecar_signature_changes_with_any_sidecar_and_is_zero_without():
    base = logic.sidecar_signature([(".txt", 10, 5)])
    assert logic.sidecar_signature([]) == 0
    assert base == logic.sidecar_signature([(".txt", 10, 5)])
    assert base != logic.sidecar_signature([(".txt", 11, 5)])
    assert base != logic.sidecar_signature([(".txt", 10, 5), (".xmp", 1, 1)])
    assert 0 < base < 2**63


@pytest.mark.parametrize("disk, stored, expected", [
    ((10, 5, 0, 0), None, logic.NEW),
    (None, (10, 5, 0, 0), logic.VANISHED),
    ((10, 5, 0, 0), (10, 5, 0, 0), logic.UNCHANGED),
    ((11, 5, 0, 0), (10, 5, 0, 0), logic.CHANGED),
    ((10, 6, 0, 0), (10, 5, 0, 0), logic.CHANGED),
    ((10, 5, 7, 0), (10, 5, 0, 0), logic.CHANGED),
    ((10, 5, 0, 1), (10, 5, 0, 0), logic.EDITS_CHANGED),
])
def test_stat_classification(disk, stored, expected):
    assert logic.classify(disk, stored) == expected


def test_an_empty_list_request_means_the_newest_page_of_the_gallery():
    q = logic.parse_list_query({})
    assert (q.limit, q.sort, q.trashcan, q.offset, q.cursor) == (logic.DEFAULT_LIMIT, "newest", False, None, None)
    assert q.is_unfiltered


@pytest.mark.parametrize("body, fragment", [
    ({"limit": 0}, "limit"),
    ({"limit": 5000}, "limit"),
    ({"limit": "10"}, "limit"),
    ({"limit": True}, "limit"),
    ({"offset": -1}, "offset"),
    ({"sort": "sideways"}, "sort"),
    ({"search": 5}, "search"),
    ({"search": "x" * 600}, "search"),
    ({"search_scopes": ["name", "exif"]}, "scope"),
    ({"folders": "a" * 2000}, "folders"),
    ({"folders": [1, 2]}, "folders"),
    ({"kinds": ["hologram"]}, "kind"),
    ({"date_from": "yesterday"}, "date_from"),
    ({"date_to": True}, "date_to"),
    ({"has_workflow": "yes"}, "has_workflow"),
    ({"min_rating": 9}, "min_rating"),
    ({"trashcan": "true"}, "trashcan"),
    ({"folder_prefix": "../etc"}, "folder_prefix"),
    ({"cursor": "not-a-cursor"}, "cursor"),
    ({"cursor": 12}, "cursor"),
    ({"model": ["a"]}, "model"),
])
def test_invalid_list_requests_name_the_field(body, fragment):
    with pytest.raises(logic.QueryError) as err:
        logic.parse_list_query(body)
    assert fragment in str(err.value)


def test_formats_are_normalised_and_jpg_means_jpeg():
    q = logic.parse_list_query({"formats": ["png", "JPG", "jpeg"]})
    assert q.formats == ("PNG", "JPEG")


def test_date_to_is_inclusive_of_the_whole_day():
    start = logic.parse_date_bound("2024-03-17", "date_from", end=False)
    end = logic.parse_date_bound("2024-03-17", "date_to", end=True)
    assert end - start == 24 * 3600 * 10**9 - 1
    assert logic.parse_date_bound(100, "date_to", end=True) == 100 * 10**9 + 999_999_999


def test_a_cursor_round_trips_and_is_refused_for_another_filter():
    q = logic.parse_list_query({"sort": "name", "folders": ["a"]})
    token = logic.encode_cursor(q, "cat.png", 17)
    again = logic.parse_list_query({"sort": "name", "folders": ["a"], "cursor": token})
    assert again.cursor == {"key": "cat.png", "id": 17}
    with pytest.raises(logic.QueryError, match="another filter"):
        logic.parse_list_query({"sort": "name", "folders": ["b"], "cursor": token})
    with pytest.raises(logic.QueryError, match="another filter"):
        logic.parse_list_query({"sort": "newest", "folders": ["a"], "cursor": token})
    with pytest.raises(logic.QueryError, match="not both"):
        logic.parse_list_query({"sort": "name", "folders": ["a"], "cursor": token, "offset": 10})


def test_a_cursor_with_a_wrong_key_type_is_refused():
    q = logic.parse_list_query({"sort": "size"})
    token = logic.encode_cursor(q, "not a number", 3)
    with pytest.raises(logic.QueryError, match="not a valid page token"):
        logic.parse_list_query({"sort": "size", "cursor": token})


@pytest.mark.parametrize("text, expected", [
    ("cat", '{negative positive} : ("cat"*)'),
    ("red cat", '{negative positive} : ("red"* AND "cat"*)'),
    ('"red cat"', '{negative positive} : ("red cat")'),
    ("cat -dog", '{negative positive} : (("cat"*) NOT ("dog"*))'),
    ("cat OR dog", '{negative positive} : (("cat"* OR "dog"*))'),
    ('a"b', '{negative positive} : ("a""b"*)'),
])
def test_search_text_becomes_a_safe_fts_expression(text, expected):
    assert logic.fts_query(text, ["prompt"]) == expected


def test_search_scopes_choose_the_columns_and_combine_with_or():
    expr = logic.fts_query("cat", ["name", "workflow"])
    assert expr.startswith("{folder loras model name workflow}")


def test_search_made_only_of_punctuation_matches_nothing():
    assert logic.fts_query("(:::) --", ["name"]) is None


def test_every_search_expression_is_accepted_by_fts5():
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE VIRTUAL TABLE f USING fts5(name, folder, positive, negative, model, loras, workflow)")
    conn.execute("INSERT INTO f VALUES ('a', 'b', 'red cat (masterpiece:1.2)', 'dog', 'm', 'l', 'w')")
    for text in ["cat", '"red cat"', "cat -dog", "cat OR", "OR cat", '"unterminated', "(masterpiece:1.2)",
                 "NEAR(a b)", "col:umn", "*", "^start", 'x"y"z', "ünïcödé", "-only", "a AND b NOT c"]:
        expr = logic.fts_query(text, logic.SEARCH_SCOPES)
        if expr is not None:
            conn.execute("SELECT rowid FROM f WHERE f MATCH ?", (expr,)).fetchall()
    assert conn.execute("SELECT rowid FROM f WHERE f MATCH ?", (logic.fts_query("masterpiece:1.2", ["prompt"]),)).fetchall() == [(1,)]


def test_the_where_clause_holds_every_filter_with_named_parameters_only():
    q = logic.parse_list_query({
        "folders": ["root", "x"], "folder_prefix": "x/y", "formats": ["png"], "kinds": ["image"],
        "date_from": 1, "date_to": 2, "has_workflow": True, "has_prompt": False, "has_edits": True,
        "has_tags": False, "has_error": False, "tags": ["a", "b"], "min_rating": 3, "model": "m", "lora": "l",
        "sampler": "s", "search": "cat",
    })
    where, params = logic.build_where(q)
    for fragment in ["top_folder IN", "folder >= :fp_lo", "format IN", "kind IN", "mtime_ns >= :date_from",
                     "mtime_ns <= :date_to", "has_workflow = 1", "has_prompt = 0", "has_edits = 1", "has_tags = 0",
                     "error IS NULL", ":tag0", ":tag1", "rating >= :min_rating", "model = :model",
                     "image_loras", "sampler = :sampler", "image_fts MATCH :match"]:
        assert fragment in where
    assert "'" not in where  # values never inlined
    assert params["fp_lo"] == "x/y/" and params["fp_hi"] == "x/y0"


def test_the_trash_view_ignores_folder_filters():
    q = logic.parse_list_query({"trashcan": True, "folders": ["a"]})
    where, params = logic.build_where(q)
    assert "top_folder" not in where and params["trashed"] == 1
    assert logic.folder_filter_for_trash_note(q)
