"""``MockTransport``: answer a client's requests from a function, in memory, with no socket.

    def handler(request: MockRequest) -> MockResponse:
        assert request.headers["Authorization"] == "Bearer sk-test"
        return MockResponse(200, json={"object": "list", "data": []})

    client = AsyncOpenAI(api_key="sk-test", transport=MockTransport(handler))

Everything above the transport runs as with a real server: retries, redirects, size limits, error mapping and
stream decoding. A handler may be async, may return a stream (``MockResponse(stream=[b"data: ...\\n\\n", ...])``)
and may raise ``OSError`` or ``aiohttp.ClientError`` to stand for a failed connection.
"""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable, Iterable, Iterator, Mapping
from http import HTTPStatus
from typing import Any

import aiohttp
import msgspec
from multidict import CIMultiDict, CIMultiDictProxy
from yarl import URL

from .._core.transport import Request

__all__ = ["MockRequest", "MockResponse", "MockTransport"]

_STATUSES = frozenset(HTTPStatus)


class MockRequest:
    """One request as the handler sees it: ``method``, ``url`` (with its query), ``headers`` and ``content``."""

    __slots__ = ("content", "headers", "method", "url")

    def __init__(self, method: str, url: str, headers: Mapping[str, str], content: bytes) -> None:
        self.method = method
        self.url = url
        self.headers: CIMultiDictProxy[str] = CIMultiDictProxy(CIMultiDict(headers))
        self.content = content

    @property
    def path(self) -> str:
        """The URL's path (``/v1/models``)."""
        return URL(self.url).path

    @property
    def query(self) -> Mapping[str, str]:
        """The URL's query parameters (the last value of a repeated name)."""
        return dict(URL(self.url).query)

    def json(self) -> Any:
        """The body decoded as JSON."""
        return msgspec.json.decode(self.content)

    def __repr__(self) -> str:
        return f"<MockRequest {self.method} {self.url}>"


class MockResponse:
    """What a handler returns: a status, headers and a body (``json=``, ``content=`` or a ``stream=`` of chunks).

    ``stream`` chunks (bytes, from an iterable or an async iterable) are read one at a time, the way network
    reads arrive; its content type defaults to ``text/event-stream``.
    """

    __slots__ = ("content", "headers", "status", "stream")

    def __init__(
        self,
        status: int = 200,
        *,
        json: Any = None,
        content: bytes | str = b"",
        headers: Mapping[str, str] | None = None,
        stream: Iterable[bytes] | AsyncIterable[bytes] | None = None,
    ) -> None:
        self.status = status
        self.headers = CIMultiDict(headers or {})
        if json is not None:
            content = msgspec.json.encode(json)
            self.headers.setdefault("Content-Type", "application/json")
        elif stream is not None:
            self.headers.setdefault("Content-Type", "text/event-stream")
        self.content = content.encode() if isinstance(content, str) else content
        self.stream = stream

    def __repr__(self) -> str:
        return f"<MockResponse [{self.status}]>"


Handler = Callable[[MockRequest], "MockResponse | Awaitable[MockResponse]"]


class MockTransport:
    """A transport that calls ``handler`` for every attempt: ``AsyncOpenAI(transport=MockTransport(handler))``.

    ``requests`` lists every request it was sent, in order.
    """

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.requests: list[MockRequest] = []

    async def send(self, request: Request) -> _Response:
        """Build the ``MockRequest``, call the handler and return its answer as a response."""
        url = URL(request.url)
        if request.params:
            url = url.extend_query(request.params)
        body = request.body
        headers = request.headers
        if isinstance(body, aiohttp.FormData):
            payload = body()
            content = await payload.as_bytes()
            headers = {**headers, "Content-Type": payload.content_type}  # what aiohttp sends with the form
        else:
            content = body or b""
        mock_request = MockRequest(request.method, str(url), headers, content)
        self.requests.append(mock_request)
        answer = self.handler(mock_request)
        if inspect.isawaitable(answer):
            answer = await answer
        if not isinstance(answer, MockResponse):
            raise TypeError(
                f"a MockTransport handler must return a MockResponse, not {type(answer).__name__}"
            )
        return _Response(answer, mock_request)

    async def aclose(self) -> None:
        """Nothing to close."""


class _Body:
    """The body of a mock response, chunk by chunk (``readany``/``iter_chunked``, as ``aiohttp.StreamReader``)."""

    def __init__(self, answer: MockResponse) -> None:
        self._sync: Iterator[bytes] | None = None
        self._async: AsyncIterator[bytes] | None = None
        stream = answer.stream
        if stream is None:
            self._sync = iter([answer.content] if answer.content else [])
        elif isinstance(stream, AsyncIterable):
            self._async = stream.__aiter__()
        else:
            self._sync = iter(stream)
        self._pending = b""

    async def readany(self) -> bytes:
        if self._pending:
            chunk, self._pending = self._pending, b""
            return chunk
        if self._sync is not None:
            return next(self._sync, b"")
        assert self._async is not None
        try:
            return await self._async.__anext__()
        except StopAsyncIteration:
            return b""

    async def read(self, n: int) -> bytes:
        chunk = await self.readany()
        if len(chunk) > n:
            chunk, self._pending = chunk[:n], chunk[n:]
        return chunk

    async def iter_chunked(self, n: int) -> AsyncIterator[bytes]:
        while chunk := await self.read(n):
            yield chunk


class _Response:
    """A mock answer with the members of ``transport.Response``."""

    def __init__(self, answer: MockResponse, request: MockRequest) -> None:
        self.status = answer.status
        self.reason: str | None = HTTPStatus(answer.status).phrase if answer.status in _STATUSES else None
        self.headers = CIMultiDictProxy(answer.headers)
        self.content = _Body(answer)
        self.closed = False
        self.method = request.method
        self.url = URL(request.url)
        self.request_info = aiohttp.RequestInfo(self.url, request.method, request.headers, self.url)
        self.version: aiohttp.HttpVersion | None = aiohttp.HttpVersion11
        content_type = self.headers.get("Content-Type", "")
        self.charset: str | None = content_type.partition("charset=")[2].split(";")[0].strip() or None

    async def read(self) -> bytes:
        parts = []
        while chunk := await self.content.readany():
            parts.append(chunk)
        self.closed = True
        return b"".join(parts)

    def release(self) -> None:
        self.closed = True

    def close(self) -> None:
        self.closed = True
