"""Small shared types: the "not given" sentinel, per-call options, timeouts and file inputs."""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING, Any, Protocol

import msgspec

if sys.version_info >= (3, 11):
    from typing import TypedDict, Unpack
else:  # pragma: no cover
    from typing_extensions import TypedDict, Unpack

if TYPE_CHECKING:
    from .retry import RetryPolicy

__all__ = ["NOT_GIVEN", "UNSET", "FileTypes", "NotGiven", "RequestOptions", "Timeout", "Unpack", "UnsetType"]

UNSET = msgspec.UNSET
"""Marks a parameter that was not given: msgspec drops it on encode, so it is never sent (not even as null)."""
UnsetType = msgspec.UnsetType
# The official SDK spells the sentinel NOT_GIVEN / NotGiven; code that passes it keeps working.
NOT_GIVEN = UNSET
NotGiven = UnsetType

FileContent = bytes | os.PathLike[str] | IO[bytes]
FileTypes = FileContent | tuple[str | None, FileContent] | tuple[str | None, FileContent, str | None]
"""A file to upload: a path (streamed from disk), bytes, an open binary file, or (filename, content[, type])."""


@dataclass(frozen=True, slots=True)
class Timeout:
    """How long a request may take, in seconds; ``None`` switches a limit off.

    Args:
        total: the whole request of a non-streaming call, from sending to the last body byte (each attempt).
        connect: acquiring a connection (TCP + TLS).
        read: the longest wait for any single read from the socket; for streams this is the idle timeout
            between two chunks, so a stalled stream cannot hang forever.
    """

    total: float | None = 600.0
    connect: float | None = 5.0
    read: float | None = 600.0

    @classmethod
    def of(cls, value: float | Timeout | None) -> Timeout:
        """Normalise the official SDK's ``timeout=`` forms (a number of seconds, None, or a Timeout)."""
        if isinstance(value, Timeout):
            return value
        if value is None:
            return cls(total=None, connect=None, read=None)
        v = float(value)
        return cls(total=v, connect=min(v, 5.0) if v > 0 else v, read=v)


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


def is_given(value: Any) -> bool:
    """True when ``value`` is not the UNSET sentinel."""
    return value is not UNSET


class RateLimitHook(Protocol):
    """What ``AsyncOpenAI(rate_limiter=...)`` calls (docs/CONTRACTS.md): ``RateLimiter``, ``ModelRateLimiter``."""

    async def acquire(self, method: str, path: str, body: Any) -> Any: ...

    def observe(self, lease: Any, status: int | None, headers: Mapping[str, str] | None) -> None: ...

    def settle(self, lease: Any, total_tokens: int | None) -> None: ...
