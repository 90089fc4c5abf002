"""Small shared types: the "not given" sentinel, per-call options, timeouts and file inputs."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable, Mapping
from typing import IO, TYPE_CHECKING, Any, Protocol

import msgspec

if sys.version_info >= (3, 11):
    from typing import TypedDict, Unpack
else:  # pragma: no cover
    from typing_extensions import TypedDict, Unpack

if TYPE_CHECKING:
    from .retry import RetryPolicy

__all__ = [
    "NOT_GIVEN",
    "UNSET",
    "FileTypes",
    "NotGiven",
    "Omit",
    "RequestOptions",
    "Timeout",
    "Unpack",
    "UnsetType",
    "check_max_retries",
    "not_given",
    "omit",
    "strip_unset",
]

UNSET = msgspec.UNSET
"""Marks a parameter that was not given: msgspec drops it on encode, so it is never sent (not even as null)."""
UnsetType = msgspec.UnsetType
# The official SDK's sentinels are all this one value here: passing any of them means "not sent", in a body, a
# query, a header (where it removes a default header) or an option (where it keeps the client's setting).
# ``UnsetType()`` returns UNSET itself, so ``Omit()`` and ``NotGiven()`` work too.
NOT_GIVEN = not_given = omit = UNSET
NotGiven = Omit = UnsetType

FileContent = bytes | os.PathLike[str] | IO[bytes]
FileTypes = FileContent | tuple[str | None, FileContent] | tuple[str | None, FileContent, str | None]
"""A file to upload: a path (streamed from disk), bytes, an open binary file, or (filename, content[, type])."""


class Timeout(msgspec.Struct, frozen=True):
    """How long a request may take, in seconds; ``None`` switches a limit off.

    Args:
        total: the whole request of a non-streaming call, from sending to the last body byte (each attempt).
            For a stream it bounds the wait for the response head (the official SDK has no such bound).
        connect: opening a connection (TCP + TLS); also (Linux, ``AsyncOpenAI(tcp_user_timeout=False)`` turns it
            off) how long sent bytes may go unacknowledged by the server before the connection is given up.
        read: the longest wait for any single read from the socket; for streams this is the idle timeout
            between two chunks, so a stalled stream cannot hang forever.
        pool: waiting for a free pooled connection when ``max_connections`` are busy (None: queue without
            limit, as the official SDK's long pool timeout does in practice).
    """

    total: float | None = 600.0
    connect: float | None = 5.0
    read: float | None = 600.0
    pool: float | None = None

    def __post_init__(self) -> None:
        for name in ("total", "connect", "read"):
            _seconds(getattr(self, name), f"Timeout.{name}")

    @classmethod
    def of(cls, value: Any, name: str = "timeout") -> Timeout:
        """Normalise the official SDK's ``timeout=`` forms: seconds, None (no limit), a ``Timeout``, or an
        httpx-style timeout object (read by duck typing from its ``connect``/``read``/``write``/``pool``).

        An httpx timeout has no total limit, so none is set; ``connect`` is the connect limit (aiohttp counts
        the wait for a pooled connection in it), ``read`` the per-read (and stream idle) limit. aiohttp has no
        write timeout, so ``write`` is not used.

        Raises:
            TypeError: ``value`` is none of these. ValueError: a negative or NaN number of seconds.
        """
        if isinstance(value, Timeout):
            return value
        if value is None:
            return cls(total=None, connect=None, read=None)
        if all(hasattr(value, attr) for attr in ("connect", "read", "write", "pool")):
            return cls(
                total=None,
                connect=_seconds(value.connect, f"{name}.connect"),
                read=_seconds(value.read, f"{name}.read"),
            )
        v = _seconds(value, name)
        return cls(total=v, connect=min(v, 5.0) if v is not None and v > 0 else v, read=v)


def _seconds(value: Any, name: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{name} must be a number of seconds, None, or a timeout object, got {value!r}")
    v = float(value)
    if not v >= 0:  # also catches NaN
        raise ValueError(f"{name} must be a non-negative number of seconds, got {value!r}")
    return v


def check_max_retries(value: Any, name: str = "max_retries") -> int:
    """Validate a retry count as the official SDK does (TypeError for a non-int, ValueError below 0)."""
    if not isinstance(value, int):
        raise TypeError(f"{name} must be a non-negative integer, got {value!r}")
    if value < 0:
        raise ValueError(f"{name} must be a non-negative integer, got {value!r}")
    return value


class RequestOptions(TypedDict, total=False):
    """Per-call options every operation takes as keywords, as in the official SDK."""

    extra_headers: Mapping[str, str | None]
    """Headers added to (or, with None, removed from) this request."""
    extra_query: Mapping[str, object]
    """Query parameters added to this request."""
    extra_body: Mapping[str, object]
    """JSON body fields added to this request (merged at the top level)."""
    timeout: float | Timeout | None
    """Overrides the client's timeout for this call."""
    max_retries: int
    """Overrides the client's retry count for this call."""
    retry: RetryPolicy
    """Overrides the client's whole retry policy for this call."""
    idempotency_key: str
    """The Idempotency-Key sent with every attempt of a POST (default: a random one per call)."""


def listed(value: Any) -> Any:
    """An iterable argument (``tools=(t for t in ...)``) as a list, read once, so that it can be sent and also
    looked at again (the helpers parse tool calls against ``tools``); UNSET, lists and mappings pass through."""
    if value is UNSET or isinstance(value, (list, str, bytes, Mapping)) or not isinstance(value, Iterable):
        return value
    return list(value)


def iterables_as_lists(value: Any) -> Any:
    """msgspec's ``enc_hook`` for request bodies: the official SDK takes any iterable where the API wants an
    array (``messages=iter([...])``, a generator of tools), so does the encoder. Anything else stays refused."""
    if isinstance(value, Iterable) and not isinstance(value, (str, bytes, Mapping)):
        return list(value)
    raise TypeError(f"Encoding objects of type {type(value).__name__} is unsupported")


def strip_unset(value: Any) -> Any:
    """``value`` with every ``omit``/``NOT_GIVEN`` removed from the dicts and lists inside it (the slow path for
    a body msgspec refused because a user put a sentinel in a plain dict). Structs keep their type.
    """
    if isinstance(value, Mapping):
        return {k: strip_unset(v) for k, v in value.items() if v is not UNSET}
    if isinstance(value, (list, tuple)):
        return [strip_unset(v) for v in value if v is not UNSET]
    if isinstance(value, msgspec.Struct):
        fields = {f: strip_unset(getattr(value, f)) for f in value.__struct_fields__}
        return msgspec.structs.replace(value, **fields)
    return value


class RateLimitHook(Protocol):
    """What ``AsyncOpenAI(rate_limiter=...)`` calls (docs/CONTRACTS.md): ``RateLimiter``, ``ModelRateLimiter``."""

    async def acquire(self, method: str, path: str, body: Any) -> Any: ...

    def observe(self, lease: Any, status: int | None, headers: Mapping[str, str] | None) -> None: ...

    def settle(self, lease: Any, total_tokens: int | None) -> None: ...
