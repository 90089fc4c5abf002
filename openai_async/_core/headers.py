"""Headers, both ways: request headers merged case-insensitively (later sources win, ``None``/``omit`` remove) and
masked for display; response headers read (durations, integers, ``Retry-After``, ``openai-poll-after-ms``).

Precedence, as in the official SDK: the client's own headers and the API key < ``default_headers`` <
per-call ``extra_headers``. Names are compared case-insensitively everywhere, so a gateway token given as
``default_headers={"authorization": "Bearer gw"}`` replaces the key instead of being sent beside (or under) it.
"""

from __future__ import annotations

import email.utils
import re
import time
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import msgspec

__all__ = [
    "POLL_AFTER_HEADER",
    "Headers",
    "apply_headers",
    "find_header",
    "header_int",
    "is_sensitive",
    "mask_headers",
    "mask_url",
    "merge_headers",
    "parse_duration",
    "poll_after_ms",
    "retry_after",
]

MASK = "***"
# Header names whose values are credentials. Any name containing one of these words counts too (x-api-key,
# x-gateway-token, cookie ...), except the few listed in _NOT_SECRET.
_SECRET_WORDS = ("auth", "key", "token", "secret", "cookie", "password", "signature", "credential")
_NOT_SECRET = frozenset({"idempotency-key"})
_BAD_CHARS = ("\r", "\n", "\0")
# The headers the client sets itself, in the spelling it sets them: a user's "content-type" lands on the same key,
# so a per-call header never travels twice under two spellings.
_CANONICAL = {
    name.lower(): name
    for name in (
        "Accept",
        "Authorization",
        "Content-Type",
        "Idempotency-Key",
        "OpenAI-Organization",
        "OpenAI-Project",
        "User-Agent",
        "api-key",
    )
}


def is_sensitive(name: str) -> bool:
    """True when a header named ``name`` carries a credential (its value is never shown)."""
    lower = name.lower()
    return lower not in _NOT_SECRET and any(word in lower for word in _SECRET_WORDS)


def _mask_value(value: str) -> str:
    # Keep the auth scheme ("Bearer ***"), which helps debugging and reveals nothing.
    scheme, sep, _ = value.partition(" ")
    return f"{scheme} {MASK}" if sep and scheme.isalpha() and len(scheme) <= 10 else MASK


def mask_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """A copy of ``headers`` with every credential value replaced by ``***``."""
    return {name: _mask_value(value) if is_sensitive(name) else value for name, value in headers.items()}


class Headers(dict[str, str]):
    """Strictly private: a plain dict of request headers whose repr masks credentials.

    Tracebacks that show locals and debuggers print reprs; the values themselves are what aiohttp sends.
    """

    __slots__ = ()

    def __repr__(self) -> str:
        return f"Headers({mask_headers(self)!r})"


def find_header(headers: Mapping[str, Any], name: str) -> str | None:
    """The key under which ``headers`` holds ``name`` (compared case-insensitively), or None."""
    if name in headers:
        return name
    lower = name.lower()
    for key in headers:
        if key.lower() == lower:
            return key
    return None


def _check(name: object, value: object, source: str) -> str:
    if not isinstance(name, str) or not name:
        raise TypeError(f"{source}: header names must be non-empty strings, got {name!r}")
    if not isinstance(value, str):
        raise TypeError(
            f"{source}: the value of header {name!r} must be a str (or None to remove it), "
            f"got {type(value).__name__}"
        )
    if any(c in name or c in value for c in _BAD_CHARS) or ":" in name:
        raise ValueError(f"{source}: header {name!r} contains a line break, NUL or ':' (header injection)")
    return value


def apply_headers(
    headers: dict[str, str], updates: Mapping[str, Any] | None, source: str = "extra_headers"
) -> None:
    """Apply ``updates`` to ``headers`` in place: a value replaces the header whatever the case of its name;
    ``None`` or ``omit`` removes it. The existing spelling of a name is kept (``Authorization`` stays so).
    """
    if not updates:
        return
    for name, value in updates.items():
        key = find_header(headers, name) if isinstance(name, str) else None
        if value is None or value is msgspec.UNSET:
            if key is not None:
                del headers[key]
            continue
        value = _check(name, value, source)
        headers[key if key is not None else _CANONICAL.get(name.lower(), name)] = value


def merge_headers(*sources: Mapping[str, Any] | None, names: Iterable[str] = ()) -> Headers:
    """Merge header mappings case-insensitively, later ones winning (see ``apply_headers``).

    ``names`` only labels errors: the parameter each source came from.
    """
    merged = Headers()
    labels = list(names)
    for i, source in enumerate(sources):
        apply_headers(merged, source, labels[i] if i < len(labels) else "headers")
    return merged


def mask_url(url: str, secret_params: Iterable[str] = ()) -> str:
    """``url`` without user info, and with the values of ``secret_params`` in its query replaced by ``***``."""
    secret = set(secret_params)
    parts = urlsplit(url)
    netloc = parts.netloc.rpartition("@")[2]
    query = parts.query
    if secret and query:
        pairs = parse_qsl(query, keep_blank_values=True)
        query = urlencode([(k, MASK if k in secret else v) for k, v in pairs], safe="*[]")
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


# -- reading response headers ---------------------------------------------------------------------------------

POLL_AFTER_HEADER = "openai-poll-after-ms"
_DURATION_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|h|m|s)")
_UNIT_SECONDS = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 1e-3, "us": 1e-6, "µs": 1e-6, "ns": 1e-9}


def parse_duration(value: str | None) -> float | None:
    """Parse an ``x-ratelimit-reset-*`` duration (Go style: ``1s``, ``6m0s``, ``20ms``, ``1h2m3.5s``) to seconds.

    A bare number is read as seconds. Returns None for a missing or unreadable value.
    """
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    pos = 0
    total = 0.0
    for match in _DURATION_PART.finditer(value):
        if match.start() != pos:
            return None
        total += float(match.group(1)) * _UNIT_SECONDS[match.group(2)]
        pos = match.end()
    if pos != len(value) or pos == 0:
        return None
    return total


def header_int(headers: Mapping[str, str], name: str) -> int | None:
    """The integer value of header ``name`` (``"12"`` or ``"12.0"``), or None when absent or unreadable."""
    value = headers.get(name)
    if value is None:
        return None
    try:
        return int(float(value))
    except ValueError:
        return None


def retry_after(headers: Mapping[str, str], now: float | None = None) -> float | None:
    """The server's ``retry-after-ms`` / ``Retry-After`` (seconds or HTTP date) hint in seconds, if any.

    ``now`` is the wall-clock time an HTTP date is measured from (default: ``time.time()``). The result may be
    zero or negative for a date in the past; callers decide what to do with that.
    """
    raw = headers.get("retry-after-ms")
    if raw is not None:
        try:
            return float(raw) / 1000.0
        except ValueError:
            pass
    raw = headers.get("retry-after")
    if raw is None:
        return None
    try:
        return float(raw)
    except ValueError:
        pass
    parsed = email.utils.parsedate_tz(raw)
    if parsed is None:
        return None
    return email.utils.mktime_tz(parsed) - (time.time() if now is None else now)


def poll_after_ms(headers: Mapping[str, str] | None) -> float | None:
    """The ``openai-poll-after-ms`` hint of a response, in seconds (None when absent or malformed)."""
    if not headers:
        return None
    value = headers.get(POLL_AFTER_HEADER)
    if value is None:
        return None
    try:
        ms = float(value)
    except ValueError:
        return None
    return ms / 1000.0 if ms >= 0 else None
