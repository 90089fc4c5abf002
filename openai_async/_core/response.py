"""What a call returns besides parsed objects: raw responses, binary bodies and rate-limit headers.

- ``RawResponse``: what ``with_raw_response.<method>(...)`` returns, the body already read (the official SDK's
  ``LegacyAPIResponse``): HTTP facts, ``content``/``text``/``json()`` and ``parse()``.
- ``BinaryResponse``: the result of the binary endpoints (speech, file content, video content), already read
  (the official SDK's ``HttpxBinaryResponseContent``). To stream a large body without buffering it, use
  ``with_streaming_response`` (``openai_async._core.streamed``).
- ``HTTPRequest``: the request as sent, with its credentials masked.
"""

from __future__ import annotations

import codecs
import datetime
import os
import time
from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any, Generic, TypeVar, overload

import anyio
import msgspec

from .decode import decode
from .headers import header_int, mask_headers, parse_duration
from .model import BaseModel

if TYPE_CHECKING:
    from multidict import CIMultiDictProxy
    from yarl import URL

    from .transport import Response

__all__ = [
    "BinaryResponse",
    "HTTPRequest",
    "RateLimitInfo",
    "RawResponse",
    "attach_request_id",
    "byte_chunks",
    "parse_later",
]

T = TypeVar("T")
_T = TypeVar("_T")


def parse_later(result: Any, raw: bool | str, post: Callable[[Any], _T]) -> _T:
    """``post(result)``; or, when ``result`` is a ``RawResponse``/``StreamedResponse`` (``raw`` is the client's
    view mode), the same response with ``parse()`` giving ``post`` of its result (as the official post_parser)."""
    if raw:  # typed as the plain result, as ``with_raw_response`` namespaces are
        result.map_parsed(post)
        return result  # type: ignore[no-any-return]
    return post(result)


def attach_request_id(result: Any, headers: Mapping[str, str]) -> None:
    """Set ``result._request_id`` (the ``x-request-id`` header) on a decoded model, as the official SDK does."""
    if isinstance(result, BaseModel):
        result._request_id = headers.get("x-request-id")


class RateLimitInfo(msgspec.Struct, frozen=True):
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


class HTTPRequest:
    """The request behind a response, as sent: ``method``, ``url`` and ``headers`` (credentials masked)."""

    __slots__ = ("headers", "method", "url")

    def __init__(self, method: str, url: URL, headers: Mapping[str, str]) -> None:
        from multidict import CIMultiDict  # lazy: cold start (only built when asked for)

        self.method = method
        self.url = url
        self.headers: Mapping[str, str] = CIMultiDict(mask_headers(headers))  # case-insensitive, as httpx's

    def __repr__(self) -> str:
        return f"<HTTPRequest {self.method} {self.url}>"


def text_encoding(response: Response) -> str:
    """The charset of the ``Content-Type`` header when Python knows it, else UTF-8 (as httpx decides)."""
    charset = response.charset
    if charset:
        try:
            codecs.lookup(charset)
        except LookupError:
            return "utf-8"
        return charset
    return "utf-8"


class ResponseFacts:
    """The HTTP facts every response object shares. Strictly private (a base class)."""

    __slots__ = ("_finished", "_http_request", "_started", "http_response", "retries_taken")

    def __init__(self, response: Response, *, started: float, retries_taken: int) -> None:
        self.http_response = response
        """The underlying ``aiohttp.ClientResponse``."""
        self.retries_taken = retries_taken
        """Retries made before this response (0 when the first attempt answered)."""
        self._started = started
        self._finished: float | None = None
        self._http_request: HTTPRequest | None = None

    @property
    def headers(self) -> CIMultiDictProxy[str]:
        """The response headers (case-insensitive)."""
        return self.http_response.headers

    @property
    def status_code(self) -> int:
        return self.http_response.status

    @property
    def reason_phrase(self) -> str:
        return self.http_response.reason or ""

    @property
    def url(self) -> URL:
        """The URL the request went to, query included."""
        return self.http_response.url

    @property
    def method(self) -> str:
        return self.http_response.method

    @property
    def http_request(self) -> HTTPRequest:
        """The request as sent (``.method``, ``.url``, ``.headers``; credentials are masked)."""
        if self._http_request is None:
            info = self.http_response.request_info
            self._http_request = HTTPRequest(info.method, info.url, info.headers)
        return self._http_request

    @property
    def http_version(self) -> str:
        version = self.http_response.version
        return f"HTTP/{version.major}.{version.minor}" if version is not None else "HTTP/1.1"

    @property
    def elapsed(self) -> datetime.timedelta:
        """From sending the (last) attempt to the end of the body (or until now, while it is being read)."""
        end = self._finished if self._finished is not None else time.monotonic()
        return datetime.timedelta(seconds=end - self._started)

    @property
    def request_id(self) -> str | None:
        """The ``x-request-id`` header: quote it when asking OpenAI about a request."""
        return self.http_response.headers.get("x-request-id")

    @property
    def rate_limits(self) -> RateLimitInfo:
        """The ``x-ratelimit-*`` headers, parsed."""
        return RateLimitInfo.from_headers(self.http_response.headers)


class RawResponse(ResponseFacts, Generic[T]):
    """What ``client.<resource>.with_raw_response.<method>(...)`` returns: the HTTP facts plus the result.

    The body is read already (a streamed call, ``stream=True``, is the exception: ``parse()`` gives the
    stream). ``parse()`` returns what the plain method would have returned.
    """

    __slots__ = ("_body", "_cast", "_parsed", "_text")

    def __init__(
        self,
        response: Response,
        parsed: T,
        body: bytes | None,
        *,
        cast: Any = None,
        started: float,
        retries_taken: int = 0,
    ) -> None:
        super().__init__(response, started=started, retries_taken=retries_taken)
        self._parsed = parsed
        self._body = body
        self._cast = cast
        self._text: str | None = None
        if body is not None:
            self._finished = time.monotonic()

    def map_parsed(self, post: Callable[[Any], Any]) -> None:
        """Replace the result ``parse()`` gives by ``post(result)`` (a page built from its body, a helper's
        parsed completion). Strictly private."""
        self._parsed = post(self._parsed)

    @property
    def http_method(self) -> str:
        """The request method (also ``.method``)."""
        return self.http_response.method

    @property
    def content(self) -> bytes:
        """The body as bytes."""
        if self._body is None:
            raise RuntimeError("the body of a stream is not read: iterate `response.parse()` instead")
        return self._body

    @property
    def text(self) -> str:
        """The body decoded as text (the Content-Type charset, else UTF-8)."""
        if self._text is None:
            self._text = self.content.decode(text_encoding(self.http_response), "replace")
        return self._text

    def json(self) -> Any:
        """The body decoded as JSON."""
        return msgspec.json.decode(self.content)

    @property
    def is_closed(self) -> bool:
        return self._body is not None or self.http_response.closed

    @overload
    def parse(self) -> T: ...
    @overload
    def parse(self, *, to: type[_T]) -> _T: ...
    def parse(self, *, to: type[_T] | None = None) -> Any:
        """The result the plain method would have returned, or the body decoded into ``to``.

        ``to`` may be a Struct type, ``dict``, ``list``, ``str``, ``bytes`` or any type msgspec decodes.
        """
        if to is None:
            return self._parsed
        if to is str:
            return self.text
        if to is bytes:
            return self.content
        result = decode(self.content, to)
        attach_request_id(result, self.headers)
        return result

    def __repr__(self) -> str:
        return f"<RawResponse [{self.status_code} {self.reason_phrase}] {self.method} {self.url}>"


class _AsyncChunks:
    """An async iterator of chunks that may also be awaited first, as the official ``aiter_*`` methods are
    coroutines returning an iterator: ``async for b in r.aiter_bytes()`` and ``async for b in await
    r.aiter_bytes()`` both work. Strictly private."""

    __slots__ = ("_items",)

    def __init__(self, items: Iterator[Any]) -> None:
        self._items = items

    def __await__(self) -> Any:
        yield from ()
        return self

    def __aiter__(self) -> _AsyncChunks:
        return self

    async def __anext__(self) -> Any:
        try:
            return next(self._items)
        except StopIteration:
            raise StopAsyncIteration from None


def byte_chunks(data: bytes, chunk_size: int | None) -> Iterator[bytes]:
    """``data`` in pieces of ``chunk_size`` bytes (all of it at once when None; nothing when empty)."""
    if not data:
        return
    if chunk_size is None:
        yield data
        return
    for i in range(0, len(data), chunk_size):
        yield data[i : i + chunk_size]


def _text_chunks(text: str, chunk_size: int | None) -> Iterator[str]:
    if not text:
        return
    if chunk_size is None:
        yield text
        return
    for i in range(0, len(text), chunk_size):
        yield text[i : i + chunk_size]


class BinaryResponse:
    """A binary body (speech audio, file content, video), already read, as the official SDK's
    ``HttpxBinaryResponseContent``.

    ``.content`` holds it; ``.write_to_file(path)`` saves it; ``.iter_bytes()``/``.aiter_bytes()`` give it in
    chunks. To stream a large body to disk without holding it in memory, use ``with_streaming_response``::

        async with client.files.with_streaming_response.content("file-abc") as response:
            await response.stream_to_file("out.jsonl")
    """

    __slots__ = ("_content", "_raw")

    def __init__(self, raw: RawResponse[Any]) -> None:
        self._raw = raw
        self._content = raw.content

    # -- the HTTP facts -------------------------------------------------------------------------------------

    @property
    def response(self) -> RawResponse[BinaryResponse]:
        """The HTTP response: ``status_code``, ``headers``, ``url``, ``http_request``, ``elapsed`` ..."""
        return self._raw

    @property
    def headers(self) -> CIMultiDictProxy[str]:
        return self._raw.headers

    @property
    def status_code(self) -> int:
        return self._raw.status_code

    @property
    def request_id(self) -> str | None:
        """The ``x-request-id`` header."""
        return self._raw.request_id

    @property
    def rate_limits(self) -> RateLimitInfo:
        """The ``x-ratelimit-*`` headers, parsed."""
        return self._raw.rate_limits

    # -- the body ------------------------------------------------------------------------------------------

    @property
    def content(self) -> bytes:
        """The whole body."""
        return self._content

    @property
    def encoding(self) -> str:
        """The text encoding ``.text`` uses (the Content-Type charset, else UTF-8)."""
        return text_encoding(self._raw.http_response)

    @property
    def charset_encoding(self) -> str | None:
        """The charset named by the Content-Type header, if any."""
        return self._raw.http_response.charset

    @property
    def text(self) -> str:
        """The body decoded as text."""
        return self._raw.text

    def json(self, **kwargs: Any) -> Any:
        """The body decoded as JSON (keyword arguments are accepted for compatibility and ignored)."""
        return msgspec.json.decode(self._content)

    def read(self) -> bytes:
        """The whole body (already read)."""
        return self._content

    async def aread(self) -> bytes:
        """The whole body (already read)."""
        return self._content

    def iter_bytes(self, chunk_size: int | None = None) -> Iterator[bytes]:
        """The body in chunks of ``chunk_size`` bytes (one chunk when None)."""
        return byte_chunks(self._content, chunk_size)

    iter_raw = iter_bytes

    def iter_text(self, chunk_size: int | None = None) -> Iterator[str]:
        """The text in chunks of ``chunk_size`` characters (one chunk when None)."""
        return _text_chunks(self.text, chunk_size)

    def iter_lines(self) -> Iterator[str]:
        """The text line by line, without line endings."""
        return iter(self.text.splitlines())

    def aiter_bytes(self, chunk_size: int | None = None) -> _AsyncChunks:
        """``iter_bytes`` as an async iterator (``async for`` it, awaited or not)."""
        return _AsyncChunks(self.iter_bytes(chunk_size))

    aiter_raw = aiter_bytes

    def aiter_text(self, chunk_size: int | None = None) -> _AsyncChunks:
        """``iter_text`` as an async iterator."""
        return _AsyncChunks(self.iter_text(chunk_size))

    def aiter_lines(self) -> _AsyncChunks:
        """``iter_lines`` as an async iterator."""
        return _AsyncChunks(self.iter_lines())

    def write_to_file(self, file: str | os.PathLike[str]) -> None:
        """Write the body to ``file`` (blocking, like the official SDK's; see ``astream_to_file``)."""
        with open(file, "wb") as f:
            f.write(self._content)

    stream_to_file = write_to_file

    async def astream_to_file(self, file: str | os.PathLike[str], *, chunk_size: int | None = None) -> None:
        """Write the body to ``file`` without blocking the event loop."""
        async with await anyio.open_file(file, "wb") as f:
            for chunk in byte_chunks(self._content, chunk_size):
                await f.write(chunk)

    def close(self) -> None:
        """Nothing to release: the body is read and the connection given back already."""

    async def aclose(self) -> None:
        """Nothing to release: the body is read and the connection given back already."""

    async def __aenter__(self) -> BinaryResponse:
        return self

    async def __aexit__(self, *exc: object) -> None:
        pass

    def __repr__(self) -> str:
        return f"<BinaryResponse [{self.status_code}] {self.headers.get('content-type', '')} {len(self._content)} bytes>"
