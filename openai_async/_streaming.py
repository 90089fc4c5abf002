"""``AsyncStream[T]``: the server-sent events of one response, decoded into ``T`` one by one.

It is an async iterator and an async context manager. ``data: [DONE]`` ends it; a ``{"error": {...}}``
payload (or an ``event: error``) raises ``APIError``; a connection cut mid-stream raises
``APIConnectionError`` (never a silent, truncated "success"); an idle stream raises ``APITimeoutError`` after
the read timeout. Leaving the ``async with`` block, ``aclose()``, breaking out and dropping the stream, or
cancelling the task closes the connection.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Generic, TypeVar

import msgspec

from ._decode import decode
from ._errors import APIConnectionError, APIError
from ._response import RateLimitInfo
from ._sse import ServerSentEvent, SSEDecoder
from ._transport import TRANSPORT_ERRORS, map_error

if TYPE_CHECKING:
    import aiohttp

__all__ = ["AsyncStream"]

T = TypeVar("T")

_DONE = b"[DONE]"


class AsyncStream(Generic[T]):
    """The events of one streamed response, decoded into ``T``."""

    def __init__(self, response: aiohttp.ClientResponse, cast: Any,
                 on_end: Callable[[Any], None] | None = None) -> None:
        self.response = response
        self.headers: Mapping[str, str] = response.headers
        self.status_code = response.status
        self._cast = cast
        self._content = response.content
        self._decoder = SSEDecoder()
        self._events: list[ServerSentEvent] = []
        self._index = 0
        self._done = False
        self._on_end = on_end
        self._last: Any = None

    @property
    def request_id(self) -> str | None:
        """The ``x-request-id`` of the response."""
        return self.headers.get("x-request-id")

    @property
    def rate_limits(self) -> RateLimitInfo:
        """The ``x-ratelimit-*`` headers of the response, parsed."""
        return RateLimitInfo.from_headers(self.headers)

    def __aiter__(self) -> AsyncStream[T]:
        return self

    async def __anext__(self) -> T:
        while True:
            events = self._events
            i = self._index
            if i < len(events):
                self._index = i + 1
                sse = events[i]
                data = sse.data
                if data == _DONE:
                    await self._finish()
                    raise StopAsyncIteration
                if sse.event == "error" or b'"error"' in data[:16]:
                    self._raise_if_error(sse)
                if self._on_end is not None:
                    obj = self._last = self._decode(sse)
                    return obj  # type: ignore[no-any-return]
                return self._decode(sse)  # type: ignore[no-any-return]
            if self._done:
                raise StopAsyncIteration
            try:
                chunk = await self._content.readany()
            except TRANSPORT_ERRORS as exc:
                self._close()
                raise map_error(exc, self.request_id) from exc
            except BaseException:  # cancelled: the half-read connection cannot be reused
                self._close()
                raise
            if chunk:
                self._events = self._decoder.feed(chunk)
                self._index = 0
                continue
            # End of body.
            self._events = self._decoder.flush()
            self._index = 0
            if not self._events and self._decoder.pending:
                self._close()
                raise APIConnectionError("The stream ended in the middle of an event.", request_id=self.request_id)
            if not self._events:
                await self._finish()
                raise StopAsyncIteration

    def _decode(self, sse: ServerSentEvent) -> Any:
        event = sse.event
        if event is not None and event.startswith("thread."):
            # Assistants streams name the event in `event:` and send the bare object as data.
            return decode(b'{"event":' + msgspec.json.encode(event) + b',"data":' + sse.data + b"}", self._cast)
        return decode(sse.data, self._cast)

    def _raise_if_error(self, sse: ServerSentEvent) -> None:
        try:
            body = msgspec.json.decode(sse.data)
        except msgspec.DecodeError:
            body = sse.data.decode("utf-8", "replace")
        error = body.get("error") if isinstance(body, dict) else None
        if sse.event == "error" or isinstance(error, dict):
            info = error if isinstance(error, dict) else body
            message = info.get("message") if isinstance(info, dict) else None
            self._close()
            raise APIError(message or "An error occurred during streaming", body=body, request_id=self.request_id)

    async def _finish(self) -> None:
        if not self._done:
            self._done = True
            self.response.release()
            if self._on_end is not None:
                self._on_end(self._last)

    def _close(self) -> None:
        self._done = True
        self._events = []
        self.response.close()

    async def aclose(self) -> None:
        """Stop reading and close the connection (it cannot be reused half-read)."""
        if not self._done or not self.response.closed:
            self._close()

    close = aclose

    async def __aenter__(self) -> AsyncStream[T]:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    def __del__(self) -> None:
        # A loop left with `break` and no `async with`: give the socket back as soon as the stream is dropped.
        response = getattr(self, "response", None)
        if response is not None and not response.closed:
            response.close()

    async def until_done(self) -> None:
        """Read the stream to its end, discarding the events."""
        async for _ in self:
            pass

    def __repr__(self) -> str:
        return f"<AsyncStream [{self.status_code}] request_id={self.request_id!r}>"
