"""Security core shared by every tool: password, sessions, Origin check, path safety.

* One password protects the terminal, restart and other admin actions. It is
  stored as ``pbkdf2_sha256$<iterations>$<salt hex>$<hash hex>``; the earlier
  tool's plain ``<salt hex>$<hash hex>`` (260,000 iterations) is still accepted.
* A login gives a signed, stateless session cookie (HMAC-SHA256 with a secret
  generated once into ``config.ini``). Changing the password invalidates every
  existing session because the cookie carries a fingerprint of the hash.
* Every mutating route and WebSocket upgrade checks Origin/Referer against the
  request's own host and ``[Security] allowed_origins``.
* :func:`resolve_user_path` is the single gate between a path from a request and
  the filesystem.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import json
import logging
import ntpath
import os
import secrets
import threading
import time
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from urllib.parse import urlsplit

log = logging.getLogger("holaf.security")

PBKDF2_ITERATIONS = 600_000
LEGACY_ITERATIONS = 260_000
MIN_PASSWORD_LENGTH = 8
SESSION_COOKIE = "holaf_session"
SESSION_MAX_AGE_S = 30 * 24 * 3600
ONE_TIME_TOKEN_TTL_S = 60


# --------------------------------------------------------------------------- passwords
def hash_password(password: str, *, iterations: int = PBKDF2_ITERATIONS) -> str:
    """Hash for ``[Security] password_hash``; the iteration count travels with it."""
    salt = secrets.token_bytes(16)
    digest = hashlib.pbkdf2_hmac("sha256", password.encode("utf-8"), salt, iterations)
    return f"pbkdf2_sha256${iterations}${salt.hex()}${digest.hex()}"


def verify_password(password: str, stored: str) -> bool:
    """Constant-time check against either stored format; False for anything malformed."""
    if not stored or not isinstance(password, str):
        return False
    parts = stored.strip().split("$")
    try:
        if len(parts) == 4 and parts[0] == "pbkdf2_sha256":
            iterations, salt, expected = int(parts[1]), bytes.fromhex(parts[2]), bytes.fromhex(parts[3])
        elif len(parts) == 2:
            iterations, salt, expected = LEGACY_ITERATIONS, bytes.fromhex(parts[0]), bytes.fromhex(parts[1])
        else:
            return False
    except ValueError:
        return False
    if not (1000 <= iterations <= 10_000_000) or not expected:
        return False
    digest = hashlib.pbkdf2_hmac("sha256", password.encode("utf-8"), salt, iterations)
    return hmac.compare_digest(digest, expected)


def password_problem(password: object) -> str | None:
    """Why a new password is refused, or None."""
    if not isinstance(password, str):
        return "password must be a string"
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"password must have at least {MIN_PASSWORD_LENGTH} characters"
    if len(password) > 1024:
        return "password is too long"
    return None


# --------------------------------------------------------------------------- sessions
def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def password_fingerprint(password_hash: str) -> str:
    return hashlib.sha256(password_hash.encode("utf-8")).hexdigest()[:16]


def make_session_token(secret: str, password_hash: str, *, now: float | None = None, max_age: int = SESSION_MAX_AGE_S) -> str:
    issued = int(now if now is not None else time.time())
    payload = _b64(json.dumps({"iat": issued, "exp": issued + max_age, "pw": password_fingerprint(password_hash)}).encode())
    signature = hmac.new(secret.encode(), payload.encode(), hashlib.sha256).hexdigest()
    return f"{payload}.{signature}"


def check_session_token(token: str | None, secret: str, password_hash: str, *, now: float | None = None) -> bool:
    if not token or not secret or not password_hash or token.count(".") != 1:
        return False
    payload, signature = token.split(".")
    expected = hmac.new(secret.encode(), payload.encode(), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(signature, expected):
        return False
    try:
        data = json.loads(_unb64(payload))
    except (ValueError, UnicodeDecodeError):
        return False
    current = now if now is not None else time.time()
    return (
        isinstance(data, dict)
        and isinstance(data.get("exp"), int)
        and data["exp"] > current
        and data.get("pw") == password_fingerprint(password_hash)
    )


class OneTimeTokens:
    """Short-lived single-use tokens (e.g. for a WebSocket that cannot carry the cookie)."""

    def __init__(self, ttl_s: float = ONE_TIME_TOKEN_TTL_S) -> None:
        self.ttl_s = ttl_s
        self._tokens: dict[str, tuple[str, float]] = {}
        self._lock = threading.Lock()

    def issue(self, purpose: str) -> str:
        token = secrets.token_urlsafe(32)
        with self._lock:
            self._purge()
            self._tokens[token] = (purpose, time.monotonic() + self.ttl_s)
        return token

    def consume(self, token: str | None, purpose: str) -> bool:
        if not token:
            return False
        with self._lock:
            self._purge()
            entry = self._tokens.pop(token, None)
        return entry is not None and entry[0] == purpose

    def _purge(self) -> None:
        now = time.monotonic()
        for key in [k for k, (_, exp) in self._tokens.items() if exp < now]:
            del self._tokens[key]


class LoginRateLimited(Exception):
    """The client failed too often; it must wait ``retry_after`` seconds."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"too many failed attempts; try again in {retry_after} s")
        self.retry_after = retry_after


class LoginRateLimiter:
    """Slows password guessing: after ``free_attempts`` failures a client waits, doubling each time."""

    def __init__(self, free_attempts: int = 5, window_s: float = 900, max_lock_s: float = 900) -> None:
        self.free_attempts = free_attempts
        self.window_s = window_s
        self.max_lock_s = max_lock_s
        self._failures: dict[str, list[float]] = {}
        self._locked_until: dict[str, float] = {}
        self._lock = threading.Lock()

    def retry_after(self, client: str) -> float:
        """Seconds the client must still wait (0 = may try now)."""
        with self._lock:
            return max(0.0, self._locked_until.get(client, 0.0) - time.monotonic())

    def record_failure(self, client: str) -> float:
        now = time.monotonic()
        with self._lock:
            recent = [t for t in self._failures.get(client, []) if now - t < self.window_s]
            recent.append(now)
            self._failures[client] = recent
            excess = len(recent) - self.free_attempts
            if excess >= 0:
                lock = min(self.max_lock_s, 2.0 ** excess)
                self._locked_until[client] = now + lock
                return lock
        return 0.0

    def record_success(self, client: str) -> None:
        with self._lock:
            self._failures.pop(client, None)
            self._locked_until.pop(client, None)


# --------------------------------------------------------------------------- origin check
def _host_port(value: str, default_scheme: str = "http") -> str | None:
    """Normalise ``https://Example.com:443/x`` or ``example.com`` to ``example.com:443``-style host[:port]."""
    value = value.strip()
    if not value:
        return None
    if "://" not in value:
        value = f"{default_scheme}://{value}"
    try:
        parts = urlsplit(value)
        host = (parts.hostname or "").lower()
        port = parts.port
    except ValueError:
        return None
    if not host:
        return None
    if port is None:
        port = 443 if parts.scheme in ("https", "wss") else 80
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    return f"{host}:{port}"


def parse_allowed_origins(text: str) -> set[str]:
    return {hp for item in (text or "").split(",") if (hp := _host_port(item))}


def origin_problem(headers, request_host: str | None, scheme: str, allowed: set[str]) -> str | None:
    """Why a browser request looks cross-site, or None when it is acceptable.

    A request with neither Origin nor Referer comes from a script or CLI (browsers
    always send Origin on cross-site POSTs and WebSocket upgrades), so it passes;
    ``Origin: null`` (sandboxed frames, ``file://``) does not.
    """
    origin = headers.get("Origin")
    source = origin if origin is not None else headers.get("Referer")
    if source is None:
        return None
    if source.strip().lower() == "null":
        return "requests from an opaque origin are not allowed"
    claimed = _host_port(source)
    if claimed is None:
        return "malformed Origin header"
    own = _host_port(request_host or "", default_scheme=scheme)
    if claimed == own or claimed in allowed:
        return None
    return f"cross-site request from {source!r} rejected (add it to [Security] allowed_origins if it is yours)"


def is_loopback(address: str | None) -> bool:
    if not address:
        return False
    try:
        return ipaddress.ip_address(address.split("%")[0]).is_loopback
    except ValueError:
        return address == "localhost"


# --------------------------------------------------------------------------- path safety
class UnsafePathError(ValueError):
    """A path from a request that must not reach the filesystem. ``status`` is the HTTP code to answer."""

    def __init__(self, message: str, status: int = 403) -> None:
        super().__init__(message)
        self.status = status


def _normalise_relative(rel: object) -> PurePosixPath:
    if not isinstance(rel, str):
        raise UnsafePathError("path must be a string", 400)
    if "\x00" in rel:
        raise UnsafePathError("path contains a NUL byte", 400)
    if len(rel) > 4096:
        raise UnsafePathError("path is too long", 400)
    text = rel.replace("\\", "/")
    if text.startswith("/"):
        raise UnsafePathError("absolute paths are not allowed")
    drive, _ = ntpath.splitdrive(rel)
    if drive or (len(text) >= 2 and text[1] == ":"):
        raise UnsafePathError("drive letters are not allowed")
    parts = [p for p in text.split("/") if p not in ("", ".")]
    if any(p == ".." for p in parts):
        raise UnsafePathError("'..' is not allowed in paths")
    if os.name == "nt" and any(":" in p for p in parts):
        raise UnsafePathError("':' is not allowed in paths (alternate data streams)", 400)
    return PurePosixPath(*parts) if parts else PurePosixPath(".")


def resolve_user_path(root: Path, rel: object, *, allow_root: bool = False, must_exist: bool = False) -> Path:
    """The one gate for request paths: returns the absolute path inside ``root``.

    Rejects non-strings, NUL bytes, absolute paths, drive letters and ``..``, then
    resolves symlinks and checks with ``commonpath`` that the result is still inside
    the (resolved) root, so a symlink or a sibling such as ``output_evil`` cannot
    escape. ``must_exist`` turns a missing target into a 404.
    """
    clean = _normalise_relative(rel)
    if str(clean) == "." and not allow_root:
        raise UnsafePathError("a file or folder path is required", 400)
    root_real = Path(os.path.realpath(root))
    candidate = Path(os.path.realpath(root_real.joinpath(*clean.parts)))
    try:
        inside = os.path.commonpath([str(root_real), str(candidate)]) == str(root_real)
    except ValueError:  # different drives on Windows
        inside = False
    if not inside:
        raise UnsafePathError("path leaves the allowed folder")
    if must_exist and not candidate.exists():
        raise UnsafePathError(f"not found: {clean.as_posix()}", 404)
    return candidate


def relative_to_root(root: Path, path: Path) -> str:
    """Inverse of :func:`resolve_user_path`: ``/`` separated path relative to the root."""
    root_real = Path(os.path.realpath(root))
    return Path(os.path.relpath(os.path.realpath(path), root_real)).as_posix()


# --------------------------------------------------------------------------- the service object
@dataclass
class AuthState:
    password_configured: bool
    authenticated: bool


class Security:
    """Password, sessions, tokens and Origin policy, read from and written to the config."""

    def __init__(self, config) -> None:
        self.config = config
        self.tokens = OneTimeTokens()
        self.limiter = LoginRateLimiter()
        self._secret_lock = threading.Lock()

    # config-backed values
    @property
    def password_hash(self) -> str:
        return (self.config.get("Security", "password_hash") or "").strip()

    @property
    def password_configured(self) -> bool:
        return bool(self.password_hash)

    def allowed_origins(self) -> set[str]:
        return parse_allowed_origins(self.config.get("Security", "allowed_origins"))

    def session_secret(self) -> str:
        secret = self.config.get("Security", "session_secret")
        if secret:
            return secret
        with self._secret_lock:
            secret = self.config.get("Security", "session_secret")
            if not secret:
                secret = secrets.token_hex(32)
                try:
                    self.config.update({"Security": {"session_secret": secret}}, trusted=True)
                except OSError as exc:
                    # Read-only config: sessions still work until the next restart.
                    log.warning("Could not store the session secret (%s); logins last until restart", exc)
                    self.config._fallback_secret = getattr(self.config, "_fallback_secret", None) or secret
                    secret = self.config._fallback_secret
            return secret

    def check_password(self, client: str, password: str) -> bool:
        """Rate-limited password check shared by every login route. Blocking (PBKDF2): run it off the loop.

        Raises :class:`LoginRateLimited` while the client is locked out, even for the right password.
        """
        wait = self.limiter.retry_after(client)
        if wait > 0:
            raise LoginRateLimited(int(wait) + 1)
        ok = verify_password(password, self.password_hash)
        if ok:
            self.limiter.record_success(client)
        else:
            self.limiter.record_failure(client)
            log.warning("Failed Holaf Utilities login from %s", client)
        return ok

    # sessions
    def new_session_token(self) -> str:
        return make_session_token(self.session_secret(), self.password_hash)

    def is_authenticated(self, request) -> bool:
        if not self.password_configured:
            return False
        return check_session_token(request.cookies.get(SESSION_COOKIE), self.session_secret(), self.password_hash)

    def state(self, request) -> AuthState:
        return AuthState(self.password_configured, self.is_authenticated(request))

    def origin_problem(self, request) -> str | None:
        return origin_problem(request.headers, request.host, request.scheme, self.allowed_origins())

    @staticmethod
    def request_is_https(request) -> bool:
        return request.scheme == "https" or request.headers.get("X-Forwarded-Proto", "").lower() == "https"

    def set_session_cookie(self, response, request) -> None:
        response.set_cookie(
            SESSION_COOKIE,
            self.new_session_token(),
            max_age=SESSION_MAX_AGE_S,
            httponly=True,
            samesite="Strict",
            secure=self.request_is_https(request),
            path="/",
        )

    @staticmethod
    def clear_session_cookie(response) -> None:
        response.del_cookie(SESSION_COOKIE, path="/")
