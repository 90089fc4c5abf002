"""What a call returns besides parsed objects: raw responses, binary bodies and rate-limit headers."""

from __future__ import annotations

import os
import re
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, TypeVar

import anyio

from .transport import translate_errors

if TYPE_CHECKING:
    import aiohttp

__all__ = ["BinaryResponse", "RateLimitInfo", "RawResponse", "header_int", "parse_duration"]

T = TypeVar("T")

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


@dataclass(frozen=True, slots=True)
class RateLimitInfo:
    """The ``x-ratelimit-*`` headers of one response, parsed; absent headers are ``None``."""

    limit_requests: int | None = None
    limit_tokens: int | None = None
    remaining_requests: int | None = None
    remaining_tokens: int | None = None
    reset_requests: float | None = None
    """Seconds until the request budget is full again."""
    reset_tokens: float | None = None
    """Seconds until the token budget is full again."""

    @classmethod
    def from_headers(cls, headers: Mapping[str, str]) -> RateLimitInfo:
        """Read the rate-limit headers from a response's headers (case-insensitive mapping)."""
        return cls(
            limit_requests=header_int(headers, "x-ratelimit-limit-requests"),
            limit_tokens=header_int(headers, "x-ratelimit-limit-tokens"),
            remaining_requests=header_int(headers, "x-ratelimit-remaining-requests"),
            remaining_tokens=header_int(headers, "x-ratelimit-remaining-tokens"),
            reset_requests=parse_duration(headers.get("x-ratelimit-reset-requests")),
            reset_tokens=parse_duration(headers.get("x-ratelimit-reset-tokens")),
        )


class _HeadersMixin:
    headers: Mapping[str, str]

    @property
    def request_id(self) -> str | None:
        """The ``x-request-id`` header: quote it when asking OpenAI about a request."""
        return self.headers.get("x-request-id")

    @property
    def rate_limits(self) -> RateLimitInfo:
        """The ``x-ratelimit-*`` headers, parsed."""
        return RateLimitInfo.from_headers(self.headers)


class RawResponse(_HeadersMixin, Generic[T]):
    """What ``client.<resource>.with_raw_response.<method>(...)`` returns: the HTTP facts plus the result."""

    __slots__ = ("_parsed", "headers", "http_method", "status_code", "url")

    def __init__(self, status_code: int, headers: Mapping[str, str], parsed: T, *, method: str = "",
                 url: str = "") -> None:
        self.status_code = status_code
        self.headers = headers
        self._parsed = parsed
        self.http_method = method
        self.url = url

    def parse(self) -> T:
        """The result the plain method would have returned."""
        return self._parsed

    def __repr__(self) -> str:
        return f"<RawResponse [{self.status_code}] {self.http_method} {self.url}>"


class BinaryResponse(_HeadersMixin):
    """A binary body (speech audio, file content, video) that has not been read yet.

    Read it whole (``await r.read()``), in chunks (``async for chunk in r.iter_bytes()``) or straight to a
    file (``await r.write_to_file(path)``) without holding it in memory. Use ``async with`` (or ``aclose()``) when
    you may not read it to the end, so the connection is given back.
    """

    def __init__(self, response: aiohttp.ClientResponse) -> None:
        self._response = response
        self.headers = response.headers
        self.status_code = response.status
        self._content: bytes | None = None

    @property
    def content(self) -> bytes:
        """The body, once ``read()`` has been awaited (as the official SDK's ``.content``)."""
        if self._content is None:
            raise RuntimeError("the body has not been read yet: `await response.read()` first")
        return self._content

    async def read(self) -> bytes:
        """Read and return the whole body."""
        if self._content is None:
            with translate_errors():
                self._content = await self._response.read()
            self._response.release()
        return self._content

    async def iter_bytes(self, chunk_size: int = 65536) -> AsyncIterator[bytes]:
        """Yield the body in chunks of at most ``chunk_size`` bytes."""
        if self._content is not None:
            for i in range(0, len(self._content), chunk_size):
                yield self._content[i : i + chunk_size]
            return
        try:
            with translate_errors():
                async for chunk in self._response.content.iter_chunked(chunk_size):
                    yield chunk
        finally:
            self._response.release()

    async def write_to_file(self, path: str | os.PathLike[str]) -> int:
        """Stream the body to ``path``; return the number of bytes written."""
        written = 0
        async with await anyio.open_file(path, "wb") as f:
            async for chunk in self.iter_bytes():
                await f.write(chunk)
                written += len(chunk)
        return written

    stream_to_file = write_to_file

    async def aclose(self) -> None:
        """Give the connection back without reading the rest."""
        self._response.close()

    async def __aenter__(self) -> BinaryResponse:
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.aclose()

    def __repr__(self) -> str:
        return f"<BinaryResponse [{self.status_code}] {self.headers.get('content-type', '')}>"
