"""The transport seam: one ``send(request) -> response`` method, the aiohttp transport behind it by default, and
the one place aiohttp errors are mapped.

``Session`` (the send path) builds a ``Request`` per attempt and hands it to ``Transport.send``; whatever comes back
only needs the few members of ``Response`` (aiohttp's ``ClientResponse`` has them; so does the in-memory
``openai_async.testing.MockTransport``'s). Retries, redirects, size limits and error mapping stay in the session,
so a mock transport goes through all of them.

``AiohttpTransport`` creates its ``aiohttp.ClientSession`` lazily inside the running event loop (aiohttp sessions
belong to a loop) and rebuilds it when the client is used from a new loop; copies made with
``with_options``/``copy`` share it, and only the client that created it closes it.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import os
import socket
import ssl
import sys
import urllib.request
from collections.abc import AsyncIterator, Iterator
from typing import Any, Protocol

import aiohttp
import anyio
import msgspec
import yarl
from aiohappyeyeballs import AddrInfoType
from aiohttp.http_exceptions import LineTooLong
from multidict import CIMultiDict, CIMultiDictProxy

from .errors import APIConnectionError, APITimeoutError
from .headers import mask_headers, mask_url
from .http import Request as ReportedRequest
from .types import Timeout

# The deadline for a stream's head: ``asyncio.timeout`` on 3.11+, since anyio's ``fail_after`` loads anyio's
# asyncio backend (~7 ms of the first stream call of a process), which nothing else on the send path needs. Both
# raise the builtin ``TimeoutError``.
_ASYNCIO_TIMEOUT = sys.version_info >= (3, 11)

__all__ = [
    "TRANSPORT_ERRORS",
    "AiohttpTransport",
    "Request",
    "Response",
    "Transport",
    "aiohttp_timeout",
    "map_error",
    "scrub",
    "translate_errors",
]

# Response heads from compatible servers and proxies can be large (long Set-Cookie, tracing headers); aiohttp's
# default parser limit is 8 KiB per line and per header. Used only for servers that sent such a head once.
MAX_HEADER_LINE = 256 * 1024
_HAS_USER_TIMEOUT = hasattr(socket, "TCP_USER_TIMEOUT")


class Request(msgspec.Struct):
    """One HTTP attempt as a transport sees it.

    ``url`` has no query string: ``params`` holds the query pairs. ``body`` is bytes (JSON or raw content),
    an ``aiohttp.FormData`` built fresh for this attempt (multipart), or None. ``stream`` is True when the body
    of the response is read later (streams, binary downloads); ``timeout`` is the call's ``Timeout``.
    """

    method: str
    url: str
    headers: dict[str, str]
    params: list[tuple[str, str]] | None
    body: bytes | aiohttp.FormData | None
    timeout: Timeout
    stream: bool

    def __repr__(self) -> str:
        return f"<Request {self.method} {self.url}>"


class BodyReader(Protocol):
    """The body of a response as it arrives (the part of ``aiohttp.StreamReader`` the SDK reads)."""

    async def readany(self) -> bytes: ...

    def iter_chunked(self, n: int) -> AsyncIterator[bytes]: ...


class Response(Protocol):
    """What a transport returns: status and headers at once, the body read on demand, and a way to let go;
    ``method``, ``url``, ``request_info``, ``reason``, ``version`` and ``charset`` serve ``RawResponse``."""

    @property
    def status(self) -> int: ...

    @property
    def reason(self) -> str | None: ...

    @property
    def method(self) -> str: ...

    @property
    def url(self) -> yarl.URL: ...

    @property
    def request_info(self) -> aiohttp.RequestInfo: ...

    @property
    def version(self) -> aiohttp.HttpVersion | None: ...

    @property
    def charset(self) -> str | None: ...

    @property
    def headers(self) -> CIMultiDictProxy[str]: ...

    @property
    def content(self) -> BodyReader: ...

    @property
    def closed(self) -> bool: ...

    async def read(self) -> bytes: ...

    def release(self) -> Any: ...

    def close(self) -> None: ...


class Transport(Protocol):
    """The seam: send one request, return the response with its head read (``AsyncOpenAI(transport=...)``).

    Raise ``OSError``/``aiohttp.ClientError``/``TimeoutError`` for a failed attempt: the session retries those
    as connection errors. ``aclose`` is called when the client that owns the transport closes.
    """

    async def send(self, request: Request) -> Response: ...

    async def aclose(self) -> None: ...


class AiohttpTransport:
    """Strictly private: the default transport, one lazily created aiohttp session per event loop.

    Args:
        session: the user's own ``aiohttp.ClientSession`` (``http_client=``); used as-is and never closed here.
        max_connections: the pool size of the session this transport creates.
        trust_env: honour ``HTTP_PROXY``/``HTTPS_PROXY``/``ALL_PROXY``/``NO_PROXY`` and
            ``SSL_CERT_FILE``/``SSL_CERT_DIR``, as the official SDK does (read when the pool opens, at the first
            request, where the official SDK reads them when the client is built).
        ssl_context: verify servers with this context instead of the default one.
        connect_timeout: when given, bytes sent on a connection may stay unacknowledged that long at most
            (``TCP_USER_TIMEOUT``, Linux; ``AsyncOpenAI(tcp_user_timeout=True)``). None: no such limit.
    """

    __slots__ = (
        "_last_timeout",
        "_long_heads",
        "_loop",
        "_owned",
        "_proxies",
        "_proxy_for",
        "_ssl",
        "_trust_env",
        "_unacked_ms",
        "closed",
        "max_connections",
        "session",
    )

    def __init__(
        self,
        session: aiohttp.ClientSession | None = None,
        *,
        max_connections: int = 1000,
        trust_env: bool = True,
        ssl_context: ssl.SSLContext | None = None,
        connect_timeout: float | None = None,
    ) -> None:
        self.session = session
        self.closed = False
        self._long_heads = False
        self._unacked_ms = int(connect_timeout * 1000) if connect_timeout and _HAS_USER_TIMEOUT else 0
        self._owned = session is None
        self._loop: asyncio.AbstractEventLoop | None = None
        self.max_connections = max_connections
        self._proxies: dict[str, str] = {}  # read when the pool opens: scanning the environment costs ~100 µs
        self._proxy_for: dict[tuple[str, str], str | None] = {}  # (scheme, host:port) -> proxy URL
        self._trust_env = trust_env
        self._ssl = ssl_context
        self._last_timeout: tuple[
            Timeout | None, aiohttp.ClientTimeout | None, aiohttp.ClientTimeout | None
        ] = (None, None, None)

    @property
    def trust_env(self) -> bool:
        """Whether proxies and CA files come from the environment (``HTTPS_PROXY``, ``SSL_CERT_FILE`` ...)."""
        return self._trust_env

    def open(self) -> aiohttp.ClientSession:
        """Return the session, creating it on first use and again in a new event loop (runs inside the loop).

        Raises:
            RuntimeError: the client was closed, or the ``http_client`` session it was given was closed.
        """
        session = self.session
        loop = asyncio.get_running_loop()
        if session is not None and not session.closed and loop is self._loop:
            return session
        if self.closed or (session is not None and session.closed and not self._owned):
            raise _closed_error(self.closed)
        if not self._owned and session is not None:
            self._loop = loop
            return session
        if session is not None and not session.closed:
            # Made in an event loop that is gone (e.g. a second asyncio.run): its connections cannot be used
            # or closed from here, so let the session go without its connector.
            session.detach()
        _settle_allocator()
        ssl_context = self._ssl
        if self._trust_env:
            self._proxies = {k: v for k, v in urllib.request.getproxies_environment().items() if v}
            self._proxy_for.clear()
            if ssl_context is None:
                ssl_context = _env_ssl_context()
        connector = aiohttp.TCPConnector(
            limit=self.max_connections,
            limit_per_host=0,
            ttl_dns_cache=300,
            keepalive_timeout=30,
            ssl=ssl_context if ssl_context is not None else True,
            socket_factory=self._socket if self._unacked_ms else None,
        )
        session = self.session = aiohttp.ClientSession(
            connector=connector,
            timeout=aiohttp.ClientTimeout(total=None),
            auto_decompress=True,
            # The client sets every header it needs; aiohttp would otherwise add its own User-Agent.
            skip_auto_headers=("User-Agent",),
        )
        self._loop = loop
        return session

    async def send(self, request: Request) -> aiohttp.ClientResponse:
        """Send one attempt; return once the response head has arrived."""
        session = self.session
        if session is None or session.closed or self._loop is not asyncio.get_running_loop():
            session = self.open()
        proxy = self._proxy(request.url) if self._proxies else None
        timeout = request.timeout
        last = self._last_timeout  # the client's own Timeout nearly always: skip hashing it
        if last[0] is not timeout:
            last = self._last_timeout = (
                timeout,
                aiohttp_timeout(timeout, False),
                aiohttp_timeout(timeout, True),
            )
        limit = MAX_HEADER_LINE if self._long_heads else None
        for _ in range(2):
            if limit is None:
                pending = session.request(
                    request.method,
                    request.url,
                    params=request.params,
                    data=request.body,
                    headers=request.headers,
                    timeout=last[2] if request.stream else last[1],
                    allow_redirects=False,
                    proxy=proxy,
                )
            else:
                pending = session.request(
                    request.method,
                    request.url,
                    params=request.params,
                    data=request.body,
                    headers=request.headers,
                    timeout=last[2] if request.stream else last[1],
                    allow_redirects=False,
                    proxy=proxy,
                    max_line_size=limit,
                    max_field_size=limit,
                )
            try:
                if request.stream and timeout.total is not None:
                    # aiohttp's read timeout restarts at every byte: bound the wait for a stream's head as a whole.
                    if _ASYNCIO_TIMEOUT:
                        async with asyncio.timeout(timeout.total):  # type: ignore[attr-defined,unused-ignore]
                            return await pending
                    with anyio.fail_after(timeout.total):
                        return await pending
                return await pending
            except aiohttp.ClientResponseError as exc:
                if limit is not None or not _head_too_long(exc):
                    raise
            # A header line beyond aiohttp's default 8 KiB: read this server's heads with the larger limit from
            # now on, and send this attempt again (a POST carries the same Idempotency-Key). The default stays
            # on the hot path: a larger parser limit makes every response cost more here.
            self._long_heads = True
            limit = MAX_HEADER_LINE
        raise AssertionError("unreachable")

    def _socket(self, addr_info: AddrInfoType) -> socket.socket:
        """A TCP socket whose sent bytes may stay unacknowledged for the connect timeout at most (Linux).

        A server whose listen backlog overflows can drop the last packet of the handshake: connect() succeeds
        here, but the server never saw the connection, so the request is never acknowledged and, without this,
        the call waits for the read timeout and ends in a reset tens of seconds later.
        """
        family, kind, proto, _, _ = addr_info
        sock = socket.socket(family=family, type=kind, proto=proto)
        if family in (socket.AF_INET, socket.AF_INET6):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_USER_TIMEOUT, self._unacked_ms)
        return sock

    def _proxy(self, url: str) -> str | None:
        scheme, _, rest = url.partition("://")
        host = rest.split("/", 1)[0].rsplit("@", 1)[-1]
        key = (scheme, host)
        try:
            return self._proxy_for[key]
        except KeyError:
            pass
        proxies = self._proxies
        proxy = proxies.get(scheme) or proxies.get("all")
        if proxy is not None and _bypassed(host, proxies.get("no", "")):
            proxy = None
        if proxy is not None and "://" not in proxy:
            proxy = "http://" + proxy
        if len(self._proxy_for) < 1024:
            self._proxy_for[key] = proxy
        return proxy

    async def aclose(self) -> None:
        """Close the session if this transport created it; later calls raise ``RuntimeError``."""
        self.closed = True
        session, self.session = self.session, None
        if session is not None and self._owned and not session.closed:
            if self._loop is asyncio.get_running_loop():
                await session.close()
            else:
                session.detach()


def _bypassed(host: str, no_proxy: str) -> bool:
    """Whether ``NO_PROXY`` exempts ``host`` (``host[:port]``): ``*``, an exact host, ``host:port``, or a domain
    (``example.com`` and ``.example.com`` both cover ``api.example.com``)."""
    name = host.rsplit(":", 1)[0] if not host.endswith("]") else host
    name = name.strip("[]").lower()
    for entry in no_proxy.replace(" ", "").lower().split(","):
        if not entry:
            continue
        if entry == "*" or entry == host.lower():
            return True
        entry = entry.lstrip(".")
        if name == entry or name.endswith("." + entry):
            return True
    return False


_allocator_settled = False


def _settle_allocator() -> None:
    """Allocate and free one 2 MiB block, once per process.

    asyncio reads a socket into a fresh 256 KiB buffer and shrinks it to what arrived. glibc serves blocks above
    its mmap threshold (128 KiB until a larger mapped block has been freed) with mmap, so, depending on what the
    process happened to allocate before, every read could cost an mmap, a mremap, two page faults and a munmap
    (measured: +40 µs of CPU per call). Freeing one mapped 2 MiB block raises the threshold past the buffer.
    """
    global _allocator_settled
    if not _allocator_settled:
        _allocator_settled = True
        bytearray(1 << 21)


def _head_too_long(exc: aiohttp.ClientResponseError) -> bool:
    """Whether aiohttp refused a response head for a line or header over its size limit."""
    cause = exc.__cause__ or exc.__context__
    return isinstance(cause, LineTooLong) or "Got more than" in str(exc.message)


def _cert_env() -> tuple[str | None, str | None]:
    return os.environ.get("SSL_CERT_FILE") or None, os.environ.get("SSL_CERT_DIR") or None


# aiohttp's default context read SSL_CERT_FILE/SSL_CERT_DIR when aiohttp was imported (just above).
_IMPORT_CERT_ENV = _cert_env()
_env_contexts: dict[tuple[str | None, str | None], ssl.SSLContext] = {}


def _env_ssl_context() -> ssl.SSLContext | None:
    """A context for SSL_CERT_FILE/SSL_CERT_DIR as they are now, or None when aiohttp's default already reads
    them (building one costs tens of milliseconds, so it is built once per process and pair of paths)."""
    env = _cert_env()
    if env == _IMPORT_CERT_ENV or env == (None, None):
        return None
    context = _env_contexts.get(env)
    if context is None:
        context = _env_contexts[env] = ssl.create_default_context(cafile=env[0], capath=env[1])
    return context


_timeouts: dict[tuple[Timeout, bool], aiohttp.ClientTimeout] = {}


def aiohttp_timeout(timeout: Timeout, stream: bool) -> aiohttp.ClientTimeout:
    """Map our Timeout to aiohttp's; for streams the total is left out and ``read`` is the idle timeout.

    ``connect`` bounds opening the connection (TCP + TLS) only; waiting for a free pooled connection is bounded
    by ``pool`` (aiohttp's ``connect`` covers both, so it gets ``pool + connect`` when ``pool`` is set). For a
    plain call a read limit no shorter than the total adds nothing but a timer per socket read, so it is left to
    the total.
    """
    key = (timeout, stream)
    cached = _timeouts.get(key)
    if cached is None:
        read = timeout.read
        if not stream and read is not None and timeout.total is not None and read >= timeout.total:
            read = None
        connect = timeout.connect
        acquire = None if timeout.pool is None else timeout.pool + (connect or 0.0)
        cached = _timeouts[key] = aiohttp.ClientTimeout(
            total=None if stream else timeout.total,
            connect=acquire,
            sock_connect=connect,
            sock_read=read,
        )
    return cached


TRANSPORT_ERRORS = (aiohttp.ClientError, OSError, asyncio.TimeoutError)
"""What aiohttp and the socket layer raise; ``map_error`` turns each into our error."""


def map_error(
    exc: BaseException, request_id: str | None = None, request: ReportedRequest | None = None
) -> APIConnectionError:
    """The one translation of an aiohttp/socket error into ``APIConnectionError``/``APITimeoutError``.

    ``exc`` is scrubbed first (see ``scrub``): it becomes the error's ``__cause__``, which users log.
    """
    scrub(exc)
    if isinstance(exc, (TimeoutError, asyncio.TimeoutError)):  # aiohttp's timeout errors derive from these
        return APITimeoutError(
            f"Request timed out: {exc or type(exc).__name__}", request=request, request_id=request_id
        )
    if isinstance(exc, OSError) and exc.errno == errno.ETIMEDOUT:  # TCP_USER_TIMEOUT: never acknowledged
        return APITimeoutError(f"Request timed out: {exc}", request=request, request_id=request_id)
    return APIConnectionError(
        f"Connection error: {type(exc).__name__}: {exc}", request=request, request_id=request_id
    )


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
        return RuntimeError(
            "This client has been closed (close() or the end of `async with`): create a new "
            "AsyncOpenAI, or keep the client open while you use it."
        )
    return RuntimeError(
        "The aiohttp.ClientSession given as http_client= has been closed: keep it open while "
        "the client is in use."
    )


@contextlib.contextmanager
def translate_errors(request_id: str | None = None) -> Iterator[None]:
    """``map_error`` as a context manager, for the paths that are not hot."""
    try:
        yield
    except TRANSPORT_ERRORS as exc:
        raise map_error(exc, request_id) from exc
