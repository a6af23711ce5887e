"""Security core: password hashes (both formats), sessions, tokens, rate limit, Origin, paths."""
from __future__ import annotations

import hashlib
import os
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from multidict import CIMultiDict

from holaf_utilities.holaf_security import (
    LoginRateLimiter,
    OneTimeTokens,
    UnsafePathError,
    check_session_token,
    hash_password,
    make_session_token,
    origin_problem,
    parse_allowed_origins,
    password_problem,
    relative_to_root,
    resolve_user_path,
    verify_password,
)


# -- passwords ---------------------------------------------------------------
def test_a_new_hash_carries_its_iteration_count_and_verifies():
    stored = hash_password("s3cret-pass", iterations=1500)
    assert stored.startswith("pbkdf2_sha256$1500$")
    assert verify_password("s3cret-pass", stored)
    assert not verify_password("s3cret-pas", stored)


def test_the_earlier_tools_salthex_dollar_hashhex_format_still_verifies():
    salt = bytes(range(16))
    digest = hashlib.pbkdf2_hmac("sha256", b"legacy-pass", salt, 260_000)
    stored = f"{salt.hex()}${digest.hex()}"
    assert verify_password("legacy-pass", stored)
    assert not verify_password("other", stored)


@pytest.mark.parametrize("stored", ["", "garbage", "zz$zz", "pbkdf2_sha256$abc$00$00", "pbkdf2_sha256$10$00$00", "a$b$c"])
def test_malformed_stored_hashes_never_verify(stored):
    assert not verify_password("anything", stored)


def test_short_or_non_string_passwords_are_refused():
    assert password_problem("short") is not None
    assert password_problem(12345678) is not None
    assert password_problem("long enough") is None


# -- sessions ------------------------------------------------------------------
def test_a_session_token_is_valid_until_it_expires():
    token = make_session_token("secret", "hash", now=1000, max_age=60)
    assert check_session_token(token, "secret", "hash", now=1059)
    assert not check_session_token(token, "secret", "hash", now=1061)


def test_a_session_token_is_bound_to_the_secret_and_the_password():
    token = make_session_token("secret", "hash-1")
    assert not check_session_token(token, "other-secret", "hash-1")
    assert not check_session_token(token, "secret", "hash-2"), "changing the password logs everyone out"


@pytest.mark.parametrize("token", [None, "", "a.b.c", "nodot", "eyJ.0000"])
def test_forged_session_tokens_are_rejected(token):
    assert not check_session_token(token, "secret", "hash")


def test_one_time_tokens_work_once_for_their_purpose_only():
    tokens = OneTimeTokens(ttl_s=60)
    t = tokens.issue("terminal")
    assert not tokens.consume(t, "other")
    t = tokens.issue("terminal")
    assert tokens.consume(t, "terminal")
    assert not tokens.consume(t, "terminal"), "a token is single use"


def test_one_time_tokens_expire():
    tokens = OneTimeTokens(ttl_s=0.05)
    t = tokens.issue("terminal")
    time.sleep(0.1)
    assert not tokens.consume(t, "terminal")


def test_the_rate_limiter_locks_after_repeated_failures_and_doubles():
    limiter = LoginRateLimiter(free_attempts=3)
    assert [limiter.record_failure("1.2.3.4") for _ in range(2)] == [0.0, 0.0]
    assert limiter.retry_after("1.2.3.4") == 0
    assert limiter.record_failure("1.2.3.4") == 1.0
    assert limiter.record_failure("1.2.3.4") == 2.0
    assert limiter.retry_after("1.2.3.4") > 1
    assert limiter.retry_after("5.6.7.8") == 0, "other clients are not affected"
    limiter.record_success("1.2.3.4")
    assert limiter.retry_after("1.2.3.4") == 0


# -- origin --------------------------------------------------------------------
def _headers(**kw):
    return CIMultiDict({k.replace("_", "-"): v for k, v in kw.items()})


@pytest.mark.parametrize(
    "headers, host, ok",
    [
        ({}, "127.0.0.1:8188", True),  # curl / scripts send neither header
        ({"Origin": "http://127.0.0.1:8188"}, "127.0.0.1:8188", True),
        ({"Origin": "http://localhost:8188"}, "127.0.0.1:8188", False),
        ({"Origin": "http://evil.example"}, "127.0.0.1:8188", False),
        ({"Origin": "http://127.0.0.1:9999"}, "127.0.0.1:8188", False),
        ({"Origin": "null"}, "127.0.0.1:8188", False),
        ({"Origin": "http://proxy.example"}, "127.0.0.1:8188", True),  # listed in allowed_origins
        ({"Referer": "http://127.0.0.1:8188/some/page"}, "127.0.0.1:8188", True),
        ({"Referer": "http://evil.example/x"}, "127.0.0.1:8188", False),
        ({"Origin": "https://comfy.example"}, "comfy.example", False),  # https vs http default port
        ({"Origin": "http://comfy.example"}, "comfy.example", True),
        ({"Origin": "http://[::1]:8188"}, "[::1]:8188", True),
    ],
)
def test_origin_must_match_the_host_or_the_allow_list(headers, host, ok):
    allowed = parse_allowed_origins("proxy.example, https://other.example:8443")
    assert (origin_problem(CIMultiDict(headers), host, "http", allowed) is None) is ok


# -- paths ---------------------------------------------------------------------
@pytest.fixture
def root(tmp_path):
    out = tmp_path / "output"
    (out / "sub").mkdir(parents=True)
    (out / "sub" / "a.png").write_bytes(b"x")
    (tmp_path / "output_evil").mkdir()
    (tmp_path / "output_evil" / "secret.txt").write_text("secret")
    (tmp_path / "outside.txt").write_text("outside")
    return out


def test_a_normal_relative_path_resolves_inside_the_root(root):
    assert resolve_user_path(root, "sub/a.png") == (root / "sub" / "a.png").resolve()
    assert resolve_user_path(root, "sub\\a.png") == (root / "sub" / "a.png").resolve()
    assert relative_to_root(root, root / "sub" / "a.png") == "sub/a.png"


@pytest.mark.parametrize(
    "bad, status",
    [
        ("../outside.txt", 403), ("sub/../../outside.txt", 403), ("..", 403), ("/etc/passwd", 403),
        ("\\\\server\\share", 403), ("C:\\Windows", 403), ("c:/x", 403), ("sub/a.png\x00.txt", 400),
        ("", 400), (".", 400), (None, 400), (42, 400), (["a"], 400), ("../output_evil/secret.txt", 403),
    ],
)
def test_unsafe_paths_are_refused_with_a_status(root, bad, status):
    with pytest.raises(UnsafePathError) as info:
        resolve_user_path(root, bad)
    assert info.value.status == status


@pytest.mark.skipif(os.name == "nt", reason="symlinks need privileges on Windows")
def test_symlinks_that_leave_the_root_are_refused_but_internal_ones_work(root, tmp_path):
    (root / "escape").symlink_to(tmp_path / "output_evil")
    (root / "escape_file.png").symlink_to(tmp_path / "outside.txt")
    (root / "alias").symlink_to(root / "sub")
    for bad in ("escape/secret.txt", "escape_file.png", "escape"):
        with pytest.raises(UnsafePathError):
            resolve_user_path(root, bad)
    assert resolve_user_path(root, "alias/a.png") == (root / "sub" / "a.png").resolve()


def test_the_root_itself_needs_allow_root(root):
    with pytest.raises(UnsafePathError):
        resolve_user_path(root, "")
    assert resolve_user_path(root, "", allow_root=True) == root.resolve()


def test_must_exist_turns_a_missing_file_into_404(root):
    with pytest.raises(UnsafePathError) as info:
        resolve_user_path(root, "sub/missing.png", must_exist=True)
    assert info.value.status == 404


_path_chars = st.sampled_from(list("ab./\\:\x00~ ") + ["..", "C:", "%2e", "\u2025", "/", "\\\\"])


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(_path_chars, min_size=0, max_size=12).map("".join))
def test_fuzzed_paths_either_stay_inside_the_root_or_are_refused(root, candidate):
    try:
        resolved = resolve_user_path(root, candidate, allow_root=True)
    except UnsafePathError:
        return
    real_root = Path(os.path.realpath(root))
    assert os.path.commonpath([str(real_root), str(resolved)]) == str(real_root)
    assert "\x00" not in str(resolved)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(max_size=40))
def test_arbitrary_unicode_paths_never_escape(root, candidate):
    try:
        resolved = resolve_user_path(root, candidate, allow_root=True)
    except UnsafePathError:
        return
    real_root = Path(os.path.realpath(root))
    assert os.path.commonpath([str(real_root), str(resolved)]) == str(real_root)
