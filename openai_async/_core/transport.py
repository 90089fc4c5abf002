"""The aiohttp side: one pooled ClientSession per client family, and the one place aiohttp errors are mapped.

The session is created lazily inside the running event loop (aiohttp sessions belong to a loop) and shared
by every copy made with ``with_options``/``copy``; only the client that created it closes it.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator

import aiohttp

from .errors import APIConnectionError, APITimeoutError
from .types import Timeout

__all__ = ["TRANSPORT_ERRORS", "Pool", "aiohttp_timeout", "map_error", "translate_errors"]


class Pool:
    """Strictly private: the lazily created aiohttp session and its connector settings."""

    __slots__ = ("_owned", "max_connections", "session")

    def __init__(self, session: aiohttp.ClientSession | None = None, *, max_connections: int = 1000) -> None:
        self.session = session
        self._owned = session is None
        self.max_connections = max_connections

    def open(self) -> aiohttp.ClientSession:
        """Return the session, creating it on first use (must run inside the event loop)."""
        session = self.session
        if session is None or session.closed:
            connector = aiohttp.TCPConnector(
                limit=self.max_connections,
                limit_per_host=0,
                ttl_dns_cache=300,
                keepalive_timeout=30,
            )
            session = self.session = aiohttp.ClientSession(
                connector=connector,
                timeout=aiohttp.ClientTimeout(total=None),
                auto_decompress=True,
                # The client sets every header it needs; aiohttp would otherwise add its own User-Agent.
                skip_auto_headers=("User-Agent",),
            )
        return session

    async def close(self) -> None:
        """Close the session if this pool created it."""
        session, self.session = self.session, None
        if session is not None and self._owned and not session.closed:
            await session.close()


_timeouts: dict[tuple[Timeout, bool], aiohttp.ClientTimeout] = {}


def aiohttp_timeout(timeout: Timeout, stream: bool) -> aiohttp.ClientTimeout:
    """Map our Timeout to aiohttp's; for streams the total is left out and ``read`` is the idle timeout.

    For a plain call a read limit no shorter than the total adds nothing but a timer per socket read, so it
    is left to the total.
    """
    key = (timeout, stream)
    cached = _timeouts.get(key)
    if cached is None:
        read = timeout.read
        if not stream and read is not None and timeout.total is not None and read >= timeout.total:
            read = None
        cached = _timeouts[key] = aiohttp.ClientTimeout(
            total=None if stream else timeout.total,
            connect=timeout.connect,
            sock_read=read,
        )
    return cached


TRANSPORT_ERRORS = (aiohttp.ClientError, OSError, asyncio.TimeoutError)
"""What aiohttp and the socket layer raise; ``map_error`` turns each into our error."""


def map_error(exc: BaseException, request_id: str | None = None) -> APIConnectionError:
    """The one translation of an aiohttp/socket error into ``APIConnectionError``/``APITimeoutError``."""
    if isinstance(exc, (TimeoutError, asyncio.TimeoutError)):  # aiohttp's timeout errors derive from these
        return APITimeoutError(f"Request timed out: {exc or type(exc).__name__}", request_id=request_id)
    return APIConnectionError(f"Connection error: {type(exc).__name__}: {exc}", request_id=request_id)


@contextlib.contextmanager
def translate_errors(request_id: str | None = None) -> Iterator[None]:
    """``map_error`` as a context manager, for the paths that are not hot."""
    try:
        yield
    except TRANSPORT_ERRORS as exc:
        raise map_error(exc, request_id) from exc
