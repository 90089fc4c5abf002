"""Request headers: case-insensitive merging (later sources win, ``None``/``omit`` remove) and credential masking.

Precedence, as in the official SDK: the client's own headers and the API key < ``default_headers`` <
per-call ``extra_headers``. Names are compared case-insensitively everywhere, so a gateway token given as
``default_headers={"authorization": "Bearer gw"}`` replaces the key instead of being sent beside (or under) it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import msgspec

__all__ = ["Headers", "apply_headers", "find_header", "is_sensitive", "mask_headers", "mask_url", "merge_headers"]

MASK = "***"
# Header names whose values are credentials. Any name containing one of these words counts too (x-api-key,
# x-gateway-token, cookie ...), except the few listed in _NOT_SECRET.
_SECRET_WORDS = ("auth", "key", "token", "secret", "cookie", "password", "signature", "credential")
_NOT_SECRET = frozenset({"idempotency-key"})
_BAD_CHARS = ("\r", "\n", "\0")
# The headers the client sets itself, in the spelling it sets them: a user's "content-type" lands on the same key,
# so a per-call header never travels twice under two spellings.
_CANONICAL = {name.lower(): name for name in (
    "Accept", "Authorization", "Content-Type", "Idempotency-Key", "OpenAI-Organization", "OpenAI-Project",
    "User-Agent", "api-key",
)}


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
        raise TypeError(f"{source}: the value of header {name!r} must be a str (or None to remove it), "
                        f"got {type(value).__name__}")
    if any(c in name or c in value for c in _BAD_CHARS) or ":" in name:
        raise ValueError(f"{source}: header {name!r} contains a line break, NUL or ':' (header injection)")
    return value


def apply_headers(headers: dict[str, str], updates: Mapping[str, Any] | None, source: str = "extra_headers") -> None:
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
