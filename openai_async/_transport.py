"""The aiohttp side: one pooled ClientSession per client family, and the one place aiohttp errors are mapped.

The session is created lazily inside the running event loop (aiohttp sessions belong to a loop) and shared
by every copy made with ``with_options``/``copy``; only the client that created it closes it.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator

import aiohttp

from ._errors import APIConnectionError, APITimeoutError
from ._types import Timeout

__all__ = ["Pool", "aiohttp_timeout", "translate_errors"]


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
    """Map our Timeout to aiohttp's; for streams the total is left out and ``read`` is the idle timeout."""
    key = (timeout, stream)
    cached = _timeouts.get(key)
    if cached is None:
        cached = _timeouts[key] = aiohttp.ClientTimeout(
            total=None if stream else timeout.total,
            connect=timeout.connect,
            sock_read=timeout.read,
        )
    return cached


@contextlib.contextmanager
def translate_errors(request_id: str | None = None) -> Iterator[None]:
    """Turn aiohttp/socket errors into ``APIConnectionError``/``APITimeoutError`` (the only place this happens)."""
    try:
        yield
    except (TimeoutError, asyncio.TimeoutError) as exc:  # aiohttp's timeout errors derive from these
        raise APITimeoutError(f"Request timed out: {exc or type(exc).__name__}", request_id=request_id) from exc
    except (aiohttp.ClientError, OSError) as exc:
        raise APIConnectionError(f"Connection error: {type(exc).__name__}: {exc}", request_id=request_id) from exc
