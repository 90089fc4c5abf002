"""The aiohttp side: one pooled ClientSession per client family, and the one place aiohttp errors are mapped.

The session is created lazily inside the running event loop (aiohttp sessions belong to a loop) and shared
by every copy made with ``with_options``/``copy``; only the client that created it closes it.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator

import aiohttp
import yarl
from multidict import CIMultiDict, CIMultiDictProxy

from .errors import APIConnectionError, APITimeoutError
from .headers import mask_headers, mask_url
from .http import Request
from .types import Timeout

__all__ = ["TRANSPORT_ERRORS", "Pool", "aiohttp_timeout", "map_error", "scrub", "translate_errors"]


class Pool:
    """Strictly private: the lazily created aiohttp session and its connector settings."""

    __slots__ = ("_owned", "closed", "max_connections", "session")

    def __init__(self, session: aiohttp.ClientSession | None = None, *, max_connections: int = 1000) -> None:
        self.session = session
        self._owned = session is None
        self.max_connections = max_connections
        self.closed = False

    def open(self) -> aiohttp.ClientSession:
        """Return the session, creating it on first use (must run inside the event loop).

        Raises:
            RuntimeError: the client was closed, or the ``http_client`` session it was given was closed.
        """
        session = self.session
        if self.closed or (session is not None and session.closed and not self._owned):
            raise _closed_error(self.closed)
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
        self.closed = True
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


def map_error(exc: BaseException, request_id: str | None = None, request: Request | None = None) -> APIConnectionError:
    """The one translation of an aiohttp/socket error into ``APIConnectionError``/``APITimeoutError``.

    ``exc`` is scrubbed first (see ``scrub``): it becomes the error's ``__cause__``, which users log.
    """
    scrub(exc)
    if isinstance(exc, (TimeoutError, asyncio.TimeoutError)):  # aiohttp's timeout errors derive from these
        return APITimeoutError(f"Request timed out: {exc or type(exc).__name__}", request=request,
                               request_id=request_id)
    return APIConnectionError(f"Connection error: {type(exc).__name__}: {exc}", request=request,
                              request_id=request_id)


def scrub(exc: BaseException) -> None:
    """Make an aiohttp error (and the errors chained to it) safe to log before it is chained to ours.

    aiohttp's ``ClientResponseError`` keeps the request's ``RequestInfo``, whose headers hold the API key and
    whose URL holds the query, and shows both in its repr and str; its traceback's frames hold the headers
    as locals. The headers are masked, the URL loses its query and user info, and the tracebacks of the
    aiohttp errors are dropped (the type and message stay; our error's own traceback is whole).
    """
    seen: set[int] = set()
    todo: list[BaseException | None] = [exc]
    while todo:
        err = todo.pop()
        if err is None or id(err) in seen:
            continue
        seen.add(id(err))
        if isinstance(err, aiohttp.ClientResponseError):
            info = err.request_info
            if info is not None:
                url = yarl.URL(mask_url(str(info.real_url)).partition("?")[0])
                headers = CIMultiDictProxy(CIMultiDict(mask_headers(info.headers)))
                err.request_info = aiohttp.RequestInfo(url, info.method, headers, url)
                err.args = (err.request_info, ())
            err.history = ()
        err.__traceback__ = None
        todo += (err.__cause__, err.__context__)


def _closed_error(client_closed: bool) -> RuntimeError:
    if client_closed:
        return RuntimeError("This client has been closed (close() or the end of `async with`): create a new "
                            "AsyncOpenAI, or keep the client open while you use it.")
    return RuntimeError("The aiohttp.ClientSession given as http_client= has been closed: keep it open while "
                        "the client is in use.")


@contextlib.contextmanager
def translate_errors(request_id: str | None = None) -> Iterator[None]:
    """``map_error`` as a context manager, for the paths that are not hot."""
    try:
        yield
    except TRANSPORT_ERRORS as exc:
        raise map_error(exc, request_id) from exc
