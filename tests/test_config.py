"""config.ini: typed settings, defaults, the API allow-list, atomic writes, legacy import."""
from __future__ import annotations

import os

import pytest

from holaf_utilities.holaf_config import (
    SETTINGS,
    ConfigNotWritable,
    HolafConfig,
    SettingsError,
    load_config,
)


def test_a_missing_config_file_gives_typed_defaults(tmp_path):
    config = load_config(tmp_path)
    assert config.get("TerminalUI", "font_size") == 14
    assert config.get("ImageViewerUI", "panel_is_fullscreen") is False
    assert config.get("UtilitiesUI", "theme") == "graphite-orange"
    assert not (tmp_path / "config.ini").exists(), "reading must not create the file"


def test_values_written_by_the_earlier_tool_are_read_with_their_types(tmp_path):
    (tmp_path / "config.ini").write_text(
        "[TerminalUI]\nfont_size = 18\npanel_x = -20.5\npanel_is_fullscreen = True\ntheme = steel-blue\n"
        "[Security]\npassword_hash = abcd$ef01\n"
    )
    config = load_config(tmp_path)
    assert config.get("TerminalUI", "font_size") == 18
    assert config.get("TerminalUI", "panel_x") == -20.5
    assert config.get("TerminalUI", "panel_is_fullscreen") is True
    assert config.get("TerminalUI", "theme") == "steel-blue"
    assert config.get("Security", "password_hash") == "abcd$ef01"


def test_an_invalid_value_in_the_file_falls_back_to_the_default(tmp_path):
    (tmp_path / "config.ini").write_text("[TerminalUI]\nfont_size = huge\ntheme = neon\n")
    config = load_config(tmp_path)
    assert config.get("TerminalUI", "font_size") == 14
    assert config.get("TerminalUI", "theme") == "graphite-orange"


def test_api_updates_are_validated_all_or_nothing(tmp_path):
    config = load_config(tmp_path)
    with pytest.raises(SettingsError) as info:
        config.update({"TerminalUI": {"font_size": 16, "theme": "neon"}})
    assert any("theme" in e for e in info.value.errors)
    assert config.get("TerminalUI", "font_size") == 14, "nothing is saved when one value is bad"
    config.update({"TerminalUI": {"font_size": 16, "theme": "forest-green"}})
    assert load_config(tmp_path).get("TerminalUI", "font_size") == 16


@pytest.mark.parametrize(
    "update",
    [
        {"Security": {"password_hash": "x"}},
        {"Security": {"allowed_origins": "evil.example"}},
        {"Terminal": {"shell_command": "/bin/evil"}},
        {"TerminalUI": {"shell_command": "/bin/evil"}},
        {"ImageViewerUI": {"ffmpeg_path": "/tmp/x"}},
        {"NoSuchSection": {"a": 1}},
        {"TerminalUI": {"font_size": True}},
        {"TerminalUI": {"font_size": 1000}},
        {"TerminalUI": "not an object"},
    ],
)
def test_the_settings_api_cannot_write_protected_or_unknown_keys(tmp_path, update):
    config = load_config(tmp_path)
    with pytest.raises(SettingsError):
        config.update(update)
    assert not (tmp_path / "config.ini").exists()


def test_null_resets_a_setting_to_its_default(tmp_path):
    config = load_config(tmp_path)
    config.update({"TerminalUI": {"font_size": 20}})
    config.update({"TerminalUI": {"font_size": None}})
    assert config.get("TerminalUI", "font_size") == 14
    assert "font_size" not in (tmp_path / "config.ini").read_text()


def test_writes_keep_unknown_sections_and_keys_the_user_wrote(tmp_path):
    (tmp_path / "config.ini").write_text("[MyNotes]\nhello = world\n[TerminalUI]\ncustom_thing = 1\n")
    config = load_config(tmp_path)
    config.update({"TerminalUI": {"font_size": 12}})
    text = (tmp_path / "config.ini").read_text()
    assert "hello = world" in text and "custom_thing = 1" in text and "font_size = 12" in text


def test_trusted_server_code_may_write_the_security_section(tmp_path):
    config = load_config(tmp_path)
    config.update({"Security": {"session_secret": "abc"}}, trusted=True)
    assert load_config(tmp_path).get("Security", "session_secret") == "abc"


def _try_update_as_unprivileged_user(folder, results) -> None:
    """Runs in a forked child: root ignores permission bits, so drop to 'nobody' first."""
    if os.geteuid() == 0:
        os.setgid(65534)
        os.setuid(65534)
    config = load_config(folder)
    try:
        config.update({"TerminalUI": {"font_size": 12}})
        results.put("written")
    except ConfigNotWritable as exc:
        results.put(f"not writable: {exc}")
    except Exception as exc:  # reported to the parent
        results.put(f"other error: {exc!r}")


@pytest.mark.skipif(os.name == "nt", reason="POSIX permission bits and fork")
def test_a_read_only_config_raises_config_not_writable():
    import multiprocessing
    import tempfile
    from pathlib import Path

    base = Path(tempfile.mkdtemp(prefix="holaf-ro-"))  # pytest's tmp dirs are private to root
    base.chmod(0o755)
    folder = base / "ro"
    folder.mkdir()
    (folder / "config.ini").write_text("[TerminalUI]\nfont_size = 10\n")
    (folder / "config.ini").chmod(0o444)
    folder.chmod(0o555)
    try:
        import codecs

        codecs.lookup("utf-8-sig")  # the child may not be able to read the stdlib once unprivileged
        fork = multiprocessing.get_context("fork")
        results = fork.Queue()
        child = fork.Process(target=_try_update_as_unprivileged_user, args=(folder, results))
        child.start()
        child.join(30)
        outcome = results.get(timeout=5)
        assert outcome.startswith("not writable"), outcome
        assert (folder / "config.ini").read_text() == "[TerminalUI]\nfont_size = 10\n"
    finally:
        folder.chmod(0o755)
        import shutil

        shutil.rmtree(base, ignore_errors=True)


def test_a_config_ini_from_an_earlier_install_is_imported_once(tmp_path):
    legacy = tmp_path / "extension"
    legacy.mkdir()
    (legacy / "config.ini").write_text("[TerminalUI]\nfont_size = 22\n")
    data = tmp_path / "data"
    assert load_config(data, legacy_dir=legacy).get("TerminalUI", "font_size") == 22
    (legacy / "config.ini").write_text("[TerminalUI]\nfont_size = 30\n")
    assert load_config(data, legacy_dir=legacy).get("TerminalUI", "font_size") == 22, "imported only once"


def test_every_setting_has_help_text_and_a_default_of_its_type():
    for setting in SETTINGS:
        assert setting.help.strip(), f"{setting.section}.{setting.key} needs help text"
        if setting.default is not None:
            assert setting.coerce(setting.default) == setting.default


def test_every_api_writable_setting_is_documented_in_the_readme():
    from conftest import ROOT
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for setting in SETTINGS:
        if setting.ui and setting.api_writable:
            assert f"`{setting.key}`" in readme, f"README does not document [{setting.section}] {setting.key}"


def test_the_settings_schema_never_exposes_security_or_the_shell(tmp_path):
    config = HolafConfig(tmp_path / "config.ini")
    assert "Security" not in config.schema() and "Terminal" not in config.schema()
    assert "Security" not in config.ui_settings() and "Terminal" not in config.ui_settings()
