"""``config.ini``: every setting declared once, typed, validated and written atomically.

Settings are data (``SETTINGS`` below, in the spirit of Datasette's settings
table): section, key, type, default, help, and whether the settings API may
write it. The API may never write ``[Security]``, ``shell_command`` or anything
that names a path, a command or an executable: ``FORBIDDEN_KEY_PATTERN`` is a
second guard behind the allow-list.
"""
from __future__ import annotations

import configparser
import io
import json
import logging
import math
import re
import shutil
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .holaf_utils import atomic_write_text

log = logging.getLogger("holaf.config")

CONFIG_FILENAME = "config.ini"

THEMES = ("graphite-orange", "midnight-purple", "forest-green", "steel-blue", "ashy-light")
DEFAULT_THEME = THEMES[0]

FORBIDDEN_KEY_PATTERN = re.compile(
    r"shell|command|password|passwd|secret|token|executable|exec|(^|_)bin($|_)|path|(^|_)dirs?$", re.I
)
FORBIDDEN_SECTIONS = frozenset({"Security", "Terminal"})


class SettingsError(ValueError):
    """Raised for unknown keys or bad values; ``errors`` lists every problem found."""

    def __init__(self, errors: list[str]):
        super().__init__("; ".join(errors))
        self.errors = errors


class ConfigNotWritable(OSError):
    """``config.ini`` (or its folder) is read-only: the caller shows manual instructions."""


@dataclass(frozen=True)
class Setting:
    section: str
    key: str
    type: str  # "str" | "int" | "float" | "bool" | "choice" | "json"
    default: Any
    help: str
    api_writable: bool = True
    choices: tuple = ()
    minimum: float | None = None
    maximum: float | None = None
    ui: bool = True  # False: kept by the UI itself (panel geometry), not shown in the Settings panel

    def parse(self, raw: str) -> Any:
        """Turn the text stored in ``config.ini`` into a typed value (default on bad text)."""
        try:
            return self.coerce(raw if self.type in ("str", "choice") else _decode_ini(self.type, raw))
        except (ValueError, TypeError):
            log.warning("config.ini [%s] %s: ignoring invalid value %r", self.section, self.key, raw)
            return self.default

    def coerce(self, value: Any) -> Any:
        """Validate a value given by code or by the API; raise ``ValueError`` with a reason."""
        if self.type == "str":
            if not isinstance(value, str):
                raise ValueError("expected a string")
            if len(value) > 4096:
                raise ValueError("string too long (max 4096 characters)")
            return value
        if self.type == "choice":
            if value not in self.choices:
                raise ValueError(f"expected one of {', '.join(map(str, self.choices))}")
            return value
        if self.type == "bool":
            if isinstance(value, bool):
                return value
            raise ValueError("expected true or false")
        if self.type in ("int", "float"):
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
                raise ValueError("expected a number")
            if self.type == "int":
                if value != int(value):
                    raise ValueError("expected a whole number")
                value = int(value)
            else:
                value = float(value)
            if self.minimum is not None and value < self.minimum:
                raise ValueError(f"must be at least {self.minimum:g}")
            if self.maximum is not None and value > self.maximum:
                raise ValueError(f"must be at most {self.maximum:g}")
            return value
        if self.type == "json":
            text = json.dumps(value)
            if len(text) > 65536:
                raise ValueError("value too large")
            return json.loads(text)
        raise ValueError(f"unknown setting type {self.type}")

    def format(self, value: Any) -> str:
        """Text written to ``config.ini``."""
        if self.type == "bool":
            return "true" if value else "false"
        if self.type == "json":
            return json.dumps(value, separators=(",", ":"))
        return str(value)

    def describe(self) -> dict:
        """Schema entry sent to the Settings panel so it can render the right control."""
        out = {"key": self.key, "type": self.type, "default": self.default, "help": self.help, "ui": self.ui}
        if self.choices:
            out["choices"] = list(self.choices)
        if self.minimum is not None:
            out["min"] = self.minimum
        if self.maximum is not None:
            out["max"] = self.maximum
        return out


def _decode_ini(kind: str, raw: str) -> Any:
    raw = raw.strip()
    if kind == "bool":
        lowered = raw.lower()
        if lowered in ("1", "true", "yes", "on"):
            return True
        if lowered in ("0", "false", "no", "off"):
            return False
        raise ValueError(raw)
    if kind == "int":
        return int(float(raw))
    if kind == "float":
        return float(raw)
    return json.loads(raw)


def _panel(section: str, *, width: int = 900, height: int = 600, theme: bool = True) -> list[Setting]:
    """The geometry keys every floating panel persists (same names as the earlier tool)."""
    items = [
        Setting(section, "panel_x", "float", None, "Panel left edge in px (empty = centred).", minimum=-10000, maximum=100000, ui=False),
        Setting(section, "panel_y", "float", None, "Panel top edge in px (empty = centred).", minimum=-10000, maximum=100000, ui=False),
        Setting(section, "panel_width", "float", width, "Panel width in px.", minimum=200, maximum=100000, ui=False),
        Setting(section, "panel_height", "float", height, "Panel height in px.", minimum=120, maximum=100000, ui=False),
        Setting(section, "panel_is_fullscreen", "bool", False, "Open the panel fullscreen.", ui=False),
    ]
    if theme:
        items.insert(0, Setting(section, "theme", "choice", DEFAULT_THEME, "Colour theme of this panel.", choices=THEMES))
    return items


SETTINGS: list[Setting] = [
    # Not writable through the API: commands, secrets.
    Setting("Terminal", "shell_command", "str", "", "Shell to start (empty = login shell, bash or sh; cmd/PowerShell on Windows).", api_writable=False),
    Setting("Security", "password_hash", "str", "", "PBKDF2 hash of the password that protects the terminal, restart and admin actions.", api_writable=False),
    Setting("Security", "session_secret", "str", "", "Secret that signs login cookies; generated on first use.", api_writable=False),
    Setting("Security", "allowed_origins", "str", "", "Comma-separated extra origins (host[:port]) allowed to call mutating routes, e.g. a reverse proxy name.", api_writable=False),
    # Settings panel and shared UI.
    *_panel("UtilitiesUI", width=640, height=560),
    Setting("UtilitiesUI", "default_theme", "choice", DEFAULT_THEME, "Theme for panels that have none of their own.", choices=THEMES),
    *_panel("TerminalUI", width=800, height=480),
    Setting("TerminalUI", "font_size", "int", 14, "Terminal font size in px.", minimum=6, maximum=48),
    *_panel("ImageViewerUI", width=1200, height=800),
    *_panel("ModelManagerUI", width=900, height=600),
    *_panel("NodesManagerUI", width=900, height=600),
    *_panel("SystemMonitor", width=360, height=260, theme=False),
]


def settings_by_section(settings: list[Setting] | None = None) -> dict[str, dict[str, Setting]]:
    out: dict[str, dict[str, Setting]] = {}
    for setting in settings or SETTINGS:
        out.setdefault(setting.section, {})[setting.key] = setting
    return out


@dataclass
class HolafConfig:
    """Typed view of ``config.ini``. All writes go through one lock and one atomic rename."""

    path: Path
    settings: list[Setting] = field(default_factory=lambda: list(SETTINGS))

    def __post_init__(self) -> None:
        self._lock = threading.RLock()
        self._schema = settings_by_section(self.settings)
        self._parser = _new_parser()
        self.reload()

    # -- reading -----------------------------------------------------------
    def reload(self) -> None:
        parser = _new_parser()
        if self.path.exists():
            try:
                parser.read_string(self.path.read_text(encoding="utf-8-sig"))
            except (configparser.Error, UnicodeDecodeError) as exc:
                log.error("config.ini at %s is unreadable (%s); using defaults and leaving the file untouched", self.path, exc)
                parser = _new_parser()
                self._unreadable = True
            else:
                self._unreadable = False
        with self._lock:
            self._parser = parser

    def get(self, section: str, key: str) -> Any:
        setting = self._schema[section][key]
        with self._lock:
            if self._parser.has_option(section, key):
                return setting.parse(self._parser.get(section, key))
        return setting.default

    def section(self, section: str) -> dict[str, Any]:
        return {key: self.get(section, key) for key in self._schema.get(section, {})}

    def ui_settings(self) -> dict[str, dict[str, Any]]:
        """Every section the API may read: all but ``Security`` and ``Terminal``."""
        return {name: self.section(name) for name in self._schema if name not in FORBIDDEN_SECTIONS}

    def schema(self) -> dict[str, list[dict]]:
        return {
            name: [s.describe() for s in keys.values() if s.api_writable]
            for name, keys in self._schema.items()
            if name not in FORBIDDEN_SECTIONS
        }

    # -- writing -----------------------------------------------------------
    def validate_api_update(self, updates: Any) -> dict[str, dict[str, Any]]:
        """Check a ``{Section: {key: value}}`` request against the allow-list; all or nothing.

        ``None`` as a value means "back to the default" (the key is removed from the file).
        """
        if not isinstance(updates, dict):
            raise SettingsError(["expected a JSON object of {section: {key: value}}"])
        errors: list[str] = []
        clean: dict[str, dict[str, Any]] = {}
        for section, values in updates.items():
            if section in FORBIDDEN_SECTIONS or section not in self._schema:
                errors.append(f"section [{section}] cannot be changed through the settings API")
                continue
            if not isinstance(values, dict):
                errors.append(f"[{section}] must be an object of key/value pairs")
                continue
            for key, value in values.items():
                setting = self._schema[section].get(key)
                if setting is None or not setting.api_writable or FORBIDDEN_KEY_PATTERN.search(key):
                    errors.append(f"[{section}] {key}: unknown or protected setting")
                    continue
                if value is None:
                    clean.setdefault(section, {})[key] = None
                    continue
                try:
                    clean.setdefault(section, {})[key] = setting.coerce(value)
                except ValueError as exc:
                    errors.append(f"[{section}] {key}: {exc}")
        if errors:
            raise SettingsError(errors)
        return clean

    def update(self, updates: dict[str, dict[str, Any]], *, trusted: bool = False) -> None:
        """Apply and persist updates. ``trusted`` (server code) may write protected keys."""
        if not trusted:
            updates = self.validate_api_update(updates)
        with self._lock:
            parser = _copy_parser(self._parser)
            for section, values in updates.items():
                for key, value in values.items():
                    setting = self._schema[section][key]
                    if value is None:
                        if parser.has_option(section, key):
                            parser.remove_option(section, key)
                        continue
                    if not parser.has_section(section):
                        parser.add_section(section)
                    parser.set(section, key, setting.format(setting.coerce(value)))
            self._write(parser)
            self._parser = parser

    def _write(self, parser: configparser.ConfigParser) -> None:
        if getattr(self, "_unreadable", False):
            raise ConfigNotWritable(f"{self.path} could not be parsed; fix or remove it before changing settings")
        buffer = io.StringIO()
        buffer.write("# Holaf Utilities settings. Edit while the server is stopped, or use the Settings panel.\n")
        parser.write(buffer)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            atomic_write_text(self.path, buffer.getvalue())
        except PermissionError as exc:
            raise ConfigNotWritable(f"{self.path} is not writable: {exc}") from exc
        except OSError as exc:
            if exc.errno in (30,):  # EROFS
                raise ConfigNotWritable(f"{self.path} is on a read-only filesystem") from exc
            raise


def _new_parser() -> configparser.ConfigParser:
    parser = configparser.ConfigParser(interpolation=None, strict=False)
    parser.optionxform = str  # keep key case as written
    return parser


def _copy_parser(parser: configparser.ConfigParser) -> configparser.ConfigParser:
    copy = _new_parser()
    for section in parser.sections():
        copy.add_section(section)
        for key, value in parser.items(section, raw=True):
            copy.set(section, key, value)
    return copy


def load_config(data_dir: Path, *, legacy_dir: Path | None = None, settings: list[Setting] | None = None) -> HolafConfig:
    """Open ``<data_dir>/config.ini``, importing an earlier install's file once.

    Earlier versions kept ``config.ini`` in the extension folder, which a reinstall
    wipes. If the data dir has no config yet and the extension folder has one, copy
    it over (the original is left where it is).
    """
    data_dir.mkdir(parents=True, exist_ok=True)
    path = data_dir / CONFIG_FILENAME
    if not path.exists() and legacy_dir is not None:
        legacy = legacy_dir / CONFIG_FILENAME
        if legacy.is_file():
            try:
                shutil.copyfile(legacy, path)
                log.info("Imported settings from the earlier install at %s", legacy)
            except OSError as exc:
                log.warning("Could not import %s: %s", legacy, exc)
    return HolafConfig(path, settings=list(settings or SETTINGS))
