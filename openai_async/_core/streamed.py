"""``with_streaming_response``: the response handed over before its body is read.

``async with client.files.with_streaming_response.content("file-abc") as response:`` sends the request when the
block is entered and gives a ``StreamedResponse`` as soon as the headers are in; the body is read only as the
caller asks for it (``iter_bytes()``, ``stream_to_file()``, ``parse()`` ...), so a large body flows to disk in
constant memory. Leaving the block closes the connection. This mirrors the official SDK's ``AsyncAPIResponse``
and ``async_to_streamed_response_wrapper``.
"""

from __future__ import annotations

import codecs
import os
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TYPE_CHECKING, Any, Generic, TypeVar, overload

import anyio
import msgspec

from .decode import decode
from .errors import APIResponseValidationError, OpenAIError
from .response import BinaryResponse, ResponseFacts, attach_request_id, byte_chunks, text_encoding
from .streaming import AsyncStream
from .transport import translate_errors

if TYPE_CHECKING:
    from .transport import Response

__all__ = ["AsyncResponseContextManager", "StreamAlreadyConsumed", "StreamedResponse", "StreamingView"]

T = TypeVar("T")
_T = TypeVar("_T")
R = TypeVar("R", bound="StreamedResponse[Any]")


class StreamAlreadyConsumed(OpenAIError):
    """The body was iterated already, so it cannot be read (or iterated) again."""

    def __init__(self) -> None:
        super().__init__(
            "The response body was already streamed, so it cannot be read again: keep the chunks while "
            "iterating, or call `await response.read()` before iterating."
        )


class StreamedResponse(ResponseFacts, Generic[T]):
    """The response of a ``with_streaming_response`` call: headers now, the body when you ask for it.

    ``await parse()`` gives what the plain method returns (for ``stream=True`` calls, the event stream);
    ``await read()``/``text()``/``json()`` read the whole body; ``iter_bytes()``/``iter_text()``/``iter_lines()``
    stream it; ``await stream_to_file(path)`` writes it to disk chunk by chunk.
    """

    __slots__ = ("_cast", "_consumed", "_content", "_on_end", "_parsed", "_post", "_sse", "_stream_cls")

    def __init__(
        self,
        response: Response,
        *,
        cast: Any,
        sse: bool,
        stream_cls: Any,
        on_end: Callable[[Any], None] | None,
        started: float,
        retries_taken: int,
    ) -> None:
        super().__init__(response, started=started, retries_taken=retries_taken)
        self._cast = cast
        self._sse = sse
        self._stream_cls = stream_cls
        self._on_end = on_end
        self._content: bytes | None = None
        self._consumed = False
        self._parsed: dict[Any, Any] = {}
        self._post: Callable[[Any], Any] | None = None

    def map_parsed(self, post: Callable[[Any], Any]) -> None:
        """Make ``parse()`` give ``post(result)`` (a page built from its body, a helper's parsed completion).
        Strictly private."""
        self._post = post

    @property
    def is_closed(self) -> bool:
        """Whether the body is read to its end or the connection is closed."""
        return self._finished is not None or self.http_response.closed

    @overload
    async def parse(self) -> T: ...
    @overload
    async def parse(self, *, to: type[_T]) -> _T: ...
    async def parse(self, *, to: type[_T] | None = None) -> Any:
        """What the plain method returns: read the body and decode it (or, for ``stream=True``, the stream).

        ``to`` decodes the body into another type instead (a Struct type, ``dict``, ``str``, ``bytes`` ...).
        """
        key = to if to is not None else self._cast
        if key in self._parsed:
            return self._parsed[key]
        if self._sse and to is None:
            if self._consumed:
                raise StreamAlreadyConsumed()
            self._consumed = True
            on_end, self._on_end = self._on_end, None  # the stream settles the rate-limit lease at its end
            parsed: Any = AsyncStream(self.http_response, self._stream_cls, on_end)
        else:
            content = await self.read()
            cast = key
            if cast is None:
                parsed = None
            elif cast is bytes or cast is BinaryResponse:
                parsed = content
            elif cast is str:
                parsed = content.decode(text_encoding(self.http_response), "replace")
            else:
                try:
                    parsed = decode(content, cast)
                except msgspec.DecodeError as exc:
                    text = content.decode("utf-8", "replace")
                    raise APIResponseValidationError(
                        f"The API answered {self.status_code} with a body that is not JSON: {text[:200]!r}",
                        status_code=self.status_code,
                        body=text,
                        request_id=self.request_id,
                    ) from exc
                attach_request_id(parsed, self.headers)
            if to is None and self._on_end is not None:
                on_end, self._on_end = self._on_end, None
                on_end(parsed)
        if to is None and self._post is not None:
            parsed = self._post(parsed)
        self._parsed[key] = parsed
        return parsed

    async def read(self) -> bytes:
        """Read and return the whole body."""
        if self._content is None:
            if self._consumed:
                raise StreamAlreadyConsumed()
            self._consumed = True
            try:
                with translate_errors(self.request_id):
                    self._content = await self.http_response.read()
            except BaseException:
                self.http_response.close()
                raise
            self._done()
        return self._content

    async def text(self) -> str:
        """Read the whole body and decode it (the Content-Type charset, else UTF-8)."""
        return (await self.read()).decode(text_encoding(self.http_response), "replace")

    async def json(self) -> Any:
        """Read the whole body and decode it as JSON."""
        return msgspec.json.decode(await self.read())

    async def close(self) -> None:
        """Close the connection (given back to the pool instead when the body was read to its end)."""
        if self._finished is None:
            self.http_response.close()
        self._settle()

    aclose = close

    async def iter_bytes(self, chunk_size: int | None = None) -> AsyncIterator[bytes]:
        """The body as it arrives, in chunks of ``chunk_size`` bytes (as they come when None)."""
        if self._content is not None:
            for chunk in byte_chunks(self._content, chunk_size):
                yield chunk
            return
        if self._consumed:
            raise StreamAlreadyConsumed()
        self._consumed = True
        body = self.http_response.content
        try:
            with translate_errors(self.request_id):
                if chunk_size is None:
                    while chunk := await body.readany():
                        yield chunk
                else:
                    buffer = bytearray()
                    while chunk := await body.readany():
                        buffer += chunk
                        if len(buffer) >= chunk_size:
                            whole = len(buffer) - len(buffer) % chunk_size
                            for i in range(0, whole, chunk_size):
                                yield bytes(buffer[i : i + chunk_size])
                            del buffer[:whole]
                    if buffer:
                        yield bytes(buffer)
        except BaseException:
            self.http_response.close()
            self._settle()
            raise
        self._done()

    async def iter_text(self, chunk_size: int | None = None) -> AsyncIterator[str]:
        """The body decoded incrementally (the Content-Type charset, else UTF-8)."""
        decoder = codecs.getincrementaldecoder(text_encoding(self.http_response))("replace")
        pending = ""
        async for chunk in self.iter_bytes():
            text = decoder.decode(chunk)
            if chunk_size is None:
                if text:
                    yield text
                continue
            pending += text
            while len(pending) >= chunk_size:
                yield pending[:chunk_size]
                pending = pending[chunk_size:]
        pending += decoder.decode(b"", final=True)
        if pending:
            if chunk_size is None:
                yield pending
            else:
                for i in range(0, len(pending), chunk_size):
                    yield pending[i : i + chunk_size]

    async def iter_lines(self) -> AsyncIterator[str]:
        """The body line by line, without line endings (``str.splitlines`` rules, across chunk boundaries)."""
        pending = ""
        trailing_cr = False
        async for text in self.iter_text():
            if trailing_cr:  # a "\r" at a chunk's end may be half of "\r\n"
                text = "\r" + text
                trailing_cr = False
            if text.endswith("\r"):
                trailing_cr = True
                text = text[:-1]
            if not text:
                continue
            lines = (pending + text).splitlines()
            ends_line = text[-1] in "\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"
            pending = "" if ends_line else lines.pop()
            for line in lines:
                yield line
        if pending or trailing_cr:
            yield pending

    async def stream_to_file(self, file: str | os.PathLike[str], *, chunk_size: int | None = None) -> None:
        """Write the body to ``file`` as it arrives, in constant memory."""
        async with await anyio.open_file(file, "wb") as f:
            async for chunk in self.iter_bytes(chunk_size):
                await f.write(chunk)

    write_to_file = stream_to_file

    def _done(self) -> None:
        self._finished = time.monotonic()
        self.http_response.release()

    def _settle(self) -> None:
        # The rate-limit lease of a body that was never parsed: settled without a token count.
        if self._on_end is not None:
            on_end, self._on_end = self._on_end, None
            on_end(None)

    def __repr__(self) -> str:
        return f"<StreamedResponse [{self.status_code} {self.reason_phrase}] {self.method} {self.url}>"


class AsyncResponseContextManager(Generic[R]):
    """Sends the request when entered, closes the response when left (as the official SDK's)."""

    __slots__ = ("_make", "_response")

    def __init__(self, make: Callable[[], Awaitable[R]]) -> None:
        self._make = make
        self._response: R | None = None

    async def __aenter__(self) -> R:
        response = await self._make()
        if not isinstance(response, StreamedResponse):
            raise TypeError(
                f"with_streaming_response cannot stream this method: it returned {type(response).__name__}"
            )
        self._response = response
        return response

    async def __aexit__(self, *exc: object) -> None:
        if self._response is not None:
            await self._response.close()


class StreamingView:
    """``x.with_streaming_response``: the namespace ``x`` whose methods return ``AsyncResponseContextManager``.

    Sub-namespaces are views too (``client.with_streaming_response.chat.completions.create``). Strictly private.
    """

    __slots__ = ("_target",)

    def __init__(self, target: Any) -> None:
        self._target = target

    def __getattr__(self, name: str) -> Any:
        value = getattr(self._target, name)
        if hasattr(value, "with_streaming_response"):  # a namespace (APIResource): a view of it
            return StreamingView(value)
        if name.startswith("_") or not callable(value):
            return value

        def method(*args: Any, **kwargs: Any) -> AsyncResponseContextManager[Any]:
            async def make() -> Any:
                result = value(*args, **kwargs)
                return await result if hasattr(result, "__await__") else result

            return AsyncResponseContextManager(make)

        method.__name__ = name
        method.__doc__ = getattr(value, "__doc__", None)
        return method

    def __dir__(self) -> list[str]:
        return [n for n in dir(self._target) if not n.startswith("_")]

    def __repr__(self) -> str:
        return f"<{type(self._target).__name__} with_streaming_response>"
