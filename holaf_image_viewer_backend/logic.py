"""Pure functions of the index: no I/O, no sqlite3, no aiohttp (trivial to test).

* :func:`split_path` / :func:`top_folder_of`: how a relative path is stored.
* :func:`is_temp_name`, :func:`is_edit_sidecar_name`: the scanner's skip rules.
* :func:`classify`: compare a file's ``stat`` facts with its stored row.
* :class:`ListQuery` + :func:`parse_list_query`: validate a ``/list`` body.
* :func:`build_where`: filters → one parameterised WHERE clause (Datasette style).
* :func:`encode_cursor` / :func:`decode_cursor`: keyset page tokens.
* :func:`fts_query`: a user's search text → a safe FTS5 MATCH expression.
"""
from __future__ import annotations

import base64
import datetime as _dt
import hashlib
import json
import re
from dataclasses import dataclass, field
from typing import Any, Iterable

ROOT_FOLDER = "root"
TRASH_DIR = "trashcan"
EDIT_DIR = "edit"
MAX_LIMIT = 1000
DEFAULT_LIMIT = 200
MAX_OFFSET = 10_000_000
MAX_LIST_ITEMS = 200
MAX_SEARCH_CHARS = 500
SORTS = ("newest", "oldest", "name", "size", "random")
SEARCH_SCOPES = ("name", "prompt", "workflow")
KINDS = ("image", "video", "audio")

#: FTS columns searched for each scope (scopes combine with OR).
SCOPE_COLUMNS = {
    "name": ("name", "folder"),
    "prompt": ("positive", "negative"),
    "workflow": ("workflow", "model", "loras"),
}

#: Names that are (or will become) something else: never index them.
_TEMP_SUFFIXES = (".tmp", ".temp", ".part", ".partial", ".crdownload", ".download", ".swp", "~")
_TEMP_MARKERS = ("_temp_",)

#: Sidecars that change what the scanner reads for a media file with the same base name.
SIDECAR_EXTS = (".txt", ".json", ".xmp")
EDIT_EXT = ".edt"
PROC_SUFFIX = "_proc.mp4"

class QueryError(ValueError):
    """A request value that cannot be turned into a query; the message says which and why."""


# --------------------------------------------------------------------------- paths and skip rules
def split_path(rel: str) -> tuple[str, str, str]:
    """``"a/b/c.png"`` → (folder ``"a/b"``, name ``"c.png"``, top folder ``"a"``); root files → ("", name, "root")."""
    folder, _, name = rel.rpartition("/")
    return folder, name, top_folder_of(folder)


def top_folder_of(folder: str) -> str:
    return folder.split("/", 1)[0] if folder else ROOT_FOLDER


def ext_of(name: str) -> str:
    """Lower-case extension without the dot ('' when none)."""
    dot = name.rfind(".")
    return name[dot + 1:].lower() if dot > 0 else ""


def stem_of(name: str) -> str:
    dot = name.rfind(".")
    return name[:dot] if dot > 0 else name


def is_temp_name(name: str) -> bool:
    """Files being written by someone (download/encoder temp names) or editor leftovers."""
    lowered = name.lower()
    if lowered.startswith((".", "~$", ".~")):
        return True
    return lowered.endswith(_TEMP_SUFFIXES) or any(marker in lowered for marker in _TEMP_MARKERS)


def is_edit_sidecar_name(name: str, edit_stems: set[str], parent_stems: set[str]) -> bool:
    """Inside a folder called ``edit``: is ``name`` the editor's preview video of an image?

    ``<base>_proc.mp4`` is a sidecar when ``<base>.edt`` sits beside it or the parent
    folder holds a media file called ``<base>.*``; any other file (a user's own
    folder named ``edit``) is real content and gets indexed.
    """
    lowered = name.lower()
    if not lowered.endswith(PROC_SUFFIX):
        return False
    base = name[: -len(PROC_SUFFIX)]
    return base in edit_stems or base in parent_stems


def sidecar_signature(entries: Iterable[tuple[str, int, int]]) -> int:
    """A stable 63-bit number for the sidecars of one file: (ext, mtime_ns, size) of each.

    Stored with the row, it lets a stat-only rescan notice a new, changed or
    removed ``.txt``/``.json``/``.xmp`` without opening anything.
    """
    items = sorted(entries)
    if not items:
        return 0
    digest = hashlib.blake2b(repr(items).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") >> 1


# --------------------------------------------------------------------------- change detection
NEW, CHANGED, EDITS_CHANGED, UNCHANGED, VANISHED = "new", "changed", "edits_changed", "unchanged", "vanished"


def classify(disk: tuple[int, int, int, int] | None, stored: tuple[int, int, int, int] | None) -> str:
    """Compare ``(size, mtime_ns, sidecar_sig, has_edits)`` on disk with the stored row.

    Size, mtime or sidecars differing means the file must be read again; only the
    edit flag differing is a cheap flag update.
    """
    if disk is None:
        return VANISHED if stored is not None else UNCHANGED
    if stored is None:
        return NEW
    if disk[0] != stored[0] or disk[1] != stored[1] or disk[2] != stored[2]:
        return CHANGED
    if bool(disk[3]) != bool(stored[3]):
        return EDITS_CHANGED
    return UNCHANGED


# --------------------------------------------------------------------------- the /list request
@dataclass
class ListQuery:
    limit: int = DEFAULT_LIMIT
    offset: int | None = None
    cursor: dict | None = None
    search: str = ""
    search_scopes: tuple[str, ...] = SEARCH_SCOPES
    folders: tuple[str, ...] = ()
    folder_prefix: str | None = None
    formats: tuple[str, ...] = ()
    kinds: tuple[str, ...] = ()
    date_from_ns: int | None = None
    date_to_ns: int | None = None
    has_workflow: bool | None = None
    has_prompt: bool | None = None
    has_edits: bool | None = None
    has_tags: bool | None = None
    has_error: bool | None = None
    tags: tuple[str, ...] = ()
    min_rating: int | None = None
    model: str | None = None
    lora: str | None = None
    sampler: str | None = None
    trashcan: bool = False
    sort: str = "newest"
    seed: int = 0
    include_total: bool = True
    extra: dict = field(default_factory=dict)

    def filter_signature(self) -> str:
        """Identifies the filter + sort (not the page): a cursor is only valid for the same one."""
        data = [
            self.search, self.search_scopes, self.folders, self.folder_prefix, self.formats, self.kinds,
            self.date_from_ns, self.date_to_ns, self.has_workflow, self.has_prompt, self.has_edits, self.has_tags,
            self.has_error, self.tags, self.min_rating, self.model, self.lora, self.sampler, self.trashcan,
            self.sort, self.seed,
        ]
        return hashlib.blake2b(json.dumps(data, default=list).encode(), digest_size=6).hexdigest()

    @property
    def is_unfiltered(self) -> bool:
        return not any([
            self.search.strip(), self.folders, self.folder_prefix, self.formats, self.kinds, self.date_from_ns is not None,
            self.date_to_ns is not None, self.has_workflow is not None, self.has_prompt is not None,
            self.has_edits is not None, self.has_tags is not None, self.has_error is not None, self.tags,
            self.min_rating, self.model, self.lora, self.sampler,
        ])


def _opt_bool(body: dict, name: str) -> bool | None:
    value = body.get(name)
    if value is None:
        return None
    if not isinstance(value, bool):
        raise QueryError(f"'{name}' must be true, false or null")
    return value


def _str_list(body: dict, name: str, *, upper: bool = False, lower: bool = False) -> tuple[str, ...]:
    value = body.get(name)
    if value is None:
        return ()
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise QueryError(f"'{name}' must be a list of strings")
    if len(value) > MAX_LIST_ITEMS:
        raise QueryError(f"'{name}' has too many items (max {MAX_LIST_ITEMS})")
    out = []
    for item in value:
        item = item.strip()
        if not item or len(item) > 1000:
            raise QueryError(f"'{name}' contains an empty or over-long value")
        out.append(item.upper() if upper else item.lower() if lower else item)
    return tuple(dict.fromkeys(out))


def _opt_str(body: dict, name: str, *, max_len: int = 1000) -> str | None:
    value = body.get(name)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise QueryError(f"'{name}' must be a string")
    if len(value) > max_len:
        raise QueryError(f"'{name}' is too long (max {max_len} characters)")
    return value


def _int(body: dict, name: str, default: int | None, *, minimum: int, maximum: int) -> int | None:
    value = body.get(name)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int):
        raise QueryError(f"'{name}' must be a whole number")
    if not minimum <= value <= maximum:
        raise QueryError(f"'{name}' must be between {minimum} and {maximum}")
    return value


def parse_date_bound(value: Any, name: str, *, end: bool) -> int | None:
    """A date filter bound → nanoseconds since the epoch.

    Accepts epoch seconds (number), ``YYYY-MM-DD`` (the server's local day) or an
    ISO date-time. ``date_to`` is inclusive: a bare day means up to the end of it.
    """
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise QueryError(f"'{name}' must be a date")
    if isinstance(value, (int, float)):
        if not -1e11 < value < 1e11:
            raise QueryError(f"'{name}' is out of range")
        return int(value * 1_000_000_000) + (999_999_999 if end and float(value).is_integer() else 0)
    if not isinstance(value, str) or len(value) > 40:
        raise QueryError(f"'{name}' must be a date (YYYY-MM-DD) or epoch seconds")
    text = value.strip()
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            day = _dt.datetime.strptime(text, "%Y-%m-%d")
            if end:
                day += _dt.timedelta(days=1)
            return int(day.timestamp() * 1_000_000_000) - (1 if end else 0)
        moment = _dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except (ValueError, OverflowError, OSError):
        raise QueryError(f"'{name}' is not a valid date: {value!r}") from None
    return int(moment.timestamp() * 1_000_000_000)


def parse_list_query(body: dict) -> ListQuery:
    """Validate a ``/list`` request body; raises :class:`QueryError` with a precise reason."""
    if not isinstance(body, dict):
        raise QueryError("the request body must be a JSON object")
    q = ListQuery()
    q.limit = _int(body, "limit", DEFAULT_LIMIT, minimum=1, maximum=MAX_LIMIT)
    q.offset = _int(body, "offset", None, minimum=0, maximum=MAX_OFFSET)
    sort = body.get("sort", "newest")
    if sort not in SORTS:
        raise QueryError(f"'sort' must be one of {', '.join(SORTS)}")
    q.sort = sort
    q.seed = _int(body, "seed", 0, minimum=0, maximum=2**31 - 1)
    search = body.get("search") or ""
    if not isinstance(search, str):
        raise QueryError("'search' must be a string")
    if len(search) > MAX_SEARCH_CHARS:
        raise QueryError(f"'search' is too long (max {MAX_SEARCH_CHARS} characters)")
    q.search = search.strip()
    scopes = _str_list(body, "search_scopes", lower=True)
    if scopes:
        unknown = [s for s in scopes if s not in SEARCH_SCOPES]
        if unknown:
            raise QueryError(f"unknown search scope(s) {', '.join(unknown)}; use {', '.join(SEARCH_SCOPES)}")
        q.search_scopes = scopes
    q.folders = _str_list(body, "folders")
    prefix = _opt_str(body, "folder_prefix", max_len=4096)
    if prefix is not None:
        prefix = prefix.replace("\\", "/").strip("/")
        parts = prefix.split("/") if prefix else []
        if any(p in ("", ".", "..") for p in parts) or "\x00" in prefix:
            raise QueryError("'folder_prefix' must be a relative folder like 'a/b'")
        q.folder_prefix = prefix or None
    q.formats = _str_list(body, "formats", upper=True)
    q.formats = tuple(dict.fromkeys("JPEG" if f in ("JPG", "JPE") else "TIFF" if f == "TIF" else f for f in q.formats))
    q.kinds = _str_list(body, "kinds", lower=True)
    bad_kinds = [k for k in q.kinds if k not in KINDS]
    if bad_kinds:
        raise QueryError(f"unknown kind(s) {', '.join(bad_kinds)}; use {', '.join(KINDS)}")
    q.date_from_ns = parse_date_bound(body.get("date_from"), "date_from", end=False)
    q.date_to_ns = parse_date_bound(body.get("date_to"), "date_to", end=True)
    for flag in ("has_workflow", "has_prompt", "has_edits", "has_tags", "has_error"):
        setattr(q, flag, _opt_bool(body, flag))
    q.tags = _str_list(body, "tags", lower=True)
    q.min_rating = _int(body, "min_rating", None, minimum=0, maximum=5) or None
    q.model = _opt_str(body, "model")
    q.lora = _opt_str(body, "lora")
    q.sampler = _opt_str(body, "sampler")
    trash = body.get("trashcan", False)
    if not isinstance(trash, bool):
        raise QueryError("'trashcan' must be true or false")
    q.trashcan = trash
    include_total = body.get("include_total", True)
    if not isinstance(include_total, bool):
        raise QueryError("'include_total' must be true or false")
    q.include_total = include_total
    cursor = body.get("cursor")
    if cursor not in (None, ""):
        if q.offset:
            raise QueryError("use either 'cursor' or 'offset', not both")
        q.cursor = decode_cursor(cursor, q)
    return q


# --------------------------------------------------------------------------- ordering and cursors
RAND_SPAN = 1 << 62  # rand_key is drawn in [0, 2**62)

_ORDER = {
    # sort: (key column, direction, python type of the key, index that walks it)
    "newest": ("images.mtime_ns", "DESC", int, "idx_images_mtime"),
    "oldest": ("images.mtime_ns", "ASC", int, "idx_images_mtime"),
    "name": ("images.name", "ASC", str, "idx_images_name"),
    "size": ("images.size", "DESC", int, "idx_images_size"),
    "random": ("images.rand_key", "ASC", int, "idx_images_rand"),
}


def order_by_sql(sort: str) -> str:
    column, direction, _, _ = _ORDER[sort]
    return f"ORDER BY {column} {direction}, images.id {direction}"


def key_select_sql(sort: str) -> str:
    return _ORDER[sort][0]


def sort_index(sort: str) -> str:
    return _ORDER[sort][3]


def keyset_condition(sort: str, key_param: str = "cursor_key", id_param: str = "cursor_id") -> str:
    """Rows strictly after (key, id) in this sort's order (a seek on the sort's index)."""
    column, direction, _, _ = _ORDER[sort]
    op = "<" if direction == "DESC" else ">"
    return f"({column}, images.id) {op} (:{key_param}, :{id_param})"


def random_start(seed: int) -> int:
    """Where the seeded shuffle starts in ``rand_key`` space (well spread for nearby seeds)."""
    digest = hashlib.blake2b(str(seed).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") % RAND_SPAN


def rotated_key(rand_key: int, start: int) -> int:
    """Position of a row in the shuffle that starts at ``start`` and wraps around."""
    return (rand_key - start) % RAND_SPAN


def encode_cursor(q: ListQuery, key: Any, row_id: int) -> str:
    payload = {"s": q.sort, "k": key, "i": row_id, "f": q.filter_signature()}
    raw = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def decode_cursor(token: Any, q: ListQuery) -> dict:
    """Check a cursor against the request it comes with; a stale one is a clear 400."""
    if not isinstance(token, str) or len(token) > 8192:
        raise QueryError("'cursor' must be the string returned as 'next_cursor'")
    try:
        data = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    except (ValueError, UnicodeDecodeError):
        raise QueryError("'cursor' is not a valid page token") from None
    if not isinstance(data, dict) or data.get("s") not in _ORDER:
        raise QueryError("'cursor' is not a valid page token")
    if data["s"] != q.sort or data.get("f") != q.filter_signature():
        raise QueryError("'cursor' belongs to another filter or sort; start again without it")
    key, row_id = data.get("k"), data.get("i")
    expected = _ORDER[q.sort][2]
    if q.sort == "random" and isinstance(key, int) and not 0 <= key < RAND_SPAN:
        raise QueryError("'cursor' is not a valid page token")
    if isinstance(row_id, bool) or not isinstance(row_id, int) or isinstance(key, bool) or not isinstance(key, expected):
        raise QueryError("'cursor' is not a valid page token")
    return {"key": key, "id": row_id}


# --------------------------------------------------------------------------- full-text search
_TOKEN = re.compile(r'(-?)"([^"]*)"|(\S+)')


def fts_query(text: str, scopes: Iterable[str]) -> str | None:
    """The user's search text as an FTS5 expression limited to the scopes' columns.

    Syntax: words must all match (each word also matches as a prefix: ``astro``
    finds "astronaut"); ``"two words"`` is an exact phrase; ``-word`` excludes;
    ``OR`` between two terms means either. Everything else is literal text, so
    no input can break the query.
    """
    columns = sorted({c for scope in scopes for c in SCOPE_COLUMNS[scope]})
    positives: list[str] = []
    negatives: list[str] = []
    pending_or = False
    for match in _TOKEN.finditer(text):
        negate, phrase, word = match.group(1), match.group(2), match.group(3)
        if word is not None and word == "OR":
            pending_or = bool(positives)
            continue
        if word is not None and word.startswith("-") and len(word) > 1:
            negate, word = "-", word[1:]
        if phrase is not None:
            term = _quote(phrase) if _has_token_chars(phrase) else None
        else:
            term = (_quote(word) + "*") if _has_token_chars(word) else None
        if term is None:
            continue
        if negate:
            negatives.append(term)
        elif pending_or and positives:
            positives[-1] = f"({positives[-1]} OR {term})"
            pending_or = False
        else:
            positives.append(term)
    if not positives:
        return None
    expr = " AND ".join(positives)
    if negatives:
        expr = f"({expr}) NOT ({' OR '.join(negatives)})"
    return "{" + " ".join(columns) + "} : (" + expr + ")"


def _quote(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


def _has_token_chars(text: str) -> bool:
    return any(ch.isalnum() for ch in text)


# --------------------------------------------------------------------------- WHERE builder
def build_where(q: ListQuery) -> tuple[str, dict]:
    """All filters of a ListQuery as one WHERE clause with named parameters."""
    clauses = ["images.is_trashed = :trashed"]
    params: dict[str, Any] = {"trashed": 1 if q.trashcan else 0}
    if not q.trashcan:
        if q.folders:
            names = _in_list("folder", q.folders, params)
            clauses.append(f"images.top_folder IN ({names})")
        if q.folder_prefix:
            params["fp"] = q.folder_prefix
            params["fp_lo"] = q.folder_prefix + "/"
            params["fp_hi"] = q.folder_prefix + "0"  # '0' sorts right after '/'
            # one index range, then the exact test ("a/b" or "a/b/…", not "a/b-c")
            clauses.append("images.folder >= :fp AND images.folder < :fp_hi "
                           "AND (images.folder = :fp OR images.folder >= :fp_lo)")
    if q.formats:
        clauses.append(f"images.format IN ({_in_list('fmt', q.formats, params)})")
    if q.kinds:
        clauses.append(f"images.kind IN ({_in_list('kind', q.kinds, params)})")
    if q.date_from_ns is not None:
        params["date_from"] = q.date_from_ns
        clauses.append("images.mtime_ns >= :date_from")
    if q.date_to_ns is not None:
        params["date_to"] = q.date_to_ns
        clauses.append("images.mtime_ns <= :date_to")
    for flag in ("has_workflow", "has_prompt", "has_edits", "has_tags"):
        value = getattr(q, flag)
        if value is not None:
            clauses.append(f"images.{flag} = {1 if value else 0}")
    if q.has_error is not None:
        clauses.append("images.error IS NOT NULL" if q.has_error else "images.error IS NULL")
    if q.min_rating:
        params["min_rating"] = q.min_rating
        clauses.append("images.rating >= :min_rating")
    if q.model:
        params["model"] = q.model
        clauses.append("images.model = :model")
    if q.sampler:
        params["sampler"] = q.sampler
        clauses.append("images.sampler = :sampler")
    if q.lora:
        params["lora"] = q.lora
        clauses.append("images.id IN (SELECT image_id FROM image_loras WHERE lora = :lora)")
    for index, tag in enumerate(q.tags):
        params[f"tag{index}"] = tag
        clauses.append(
            f"images.id IN (SELECT it.image_id FROM image_tags it JOIN tags t ON t.id = it.tag_id WHERE t.name = :tag{index})"
        )
    if q.search:
        match = fts_query(q.search, q.search_scopes)
        if match is None:
            clauses.append("0")  # only punctuation: nothing can match
        else:
            params["match"] = match
            clauses.append("images.id IN (SELECT rowid FROM image_fts WHERE image_fts MATCH :match)")
    return " AND ".join(clauses), params


def _in_list(prefix: str, values: Iterable[str], params: dict) -> str:
    names = []
    for index, value in enumerate(values):
        key = f"{prefix}{index}"
        params[key] = value
        names.append(f":{key}")
    return ", ".join(names)


def folder_filter_for_trash_note(q: ListQuery) -> bool:
    """True when folder filters were given but ignored because the trash is listed."""
    return q.trashcan and bool(q.folders or q.folder_prefix)
