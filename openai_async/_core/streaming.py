"""``AsyncStream[T]``: the server-sent events of one response, decoded into ``T`` one by one.

It is an async iterator and an async context manager. ``data: [DONE]`` ends it; a ``{"error": {...}}``
payload (or an ``event: error``) raises ``APIError``; a connection cut mid-stream raises
``APIConnectionError`` (never a silent, truncated "success"); an idle stream raises ``APITimeoutError`` after
the read timeout. Leaving the ``async with`` block, ``aclose()``, breaking out and dropping the stream, or
cancelling the task closes the connection.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator, Callable, Mapping
from typing import TYPE_CHECKING, Any, Generic, TypeVar

import msgspec

from .decode import decode, decoder_for
from .errors import APIConnectionError, APIError
from .response import RateLimitInfo
from .sse import SSEDecoder
from .transport import TRANSPORT_ERRORS, map_error

if TYPE_CHECKING:
    import aiohttp

__all__ = ["AsyncStream"]

T = TypeVar("T")

_DONE = b"[DONE]"


class _SpecialEvents(dict[Any, bool]):
    """``event:`` name -> whether its events take the slow path (``error``, Assistants' ``thread.*``).
    Strictly private."""

    def __missing__(self, name: Any) -> bool:
        special = name == "error" or (isinstance(name, str) and name.startswith("thread."))
        if len(self) < 512:  # the API's event names are a few dozen; a server inventing more is not cached
            self[name] = special
        return special


_SPECIAL_EVENTS = _SpecialEvents()


class _Reader:
    """One response body as runs of SSE payloads, a network read at a time. Strictly private.

    It reads, frames and stops at ``data: [DONE]``; the event loops of ``AsyncStream`` and of the stream helpers
    (each an async generator built for its own kind of event) read it, so that a loop pays per event only for
    its own work. The loops hold this, never the stream itself: with no reference cycle, dropping a stream
    mid-iteration closes its connection at once (``AsyncStream.__del__``), not at the next garbage collection.
    """

    __slots__ = ("_read", "_sse", "done", "ended", "on_end", "reading", "response")

    def __init__(self, response: aiohttp.ClientResponse, on_end: Callable[[Any], None] | None) -> None:
        self.response = response
        self.on_end = on_end
        self._read = response.content.readany
        self._sse = SSEDecoder()
        self.ended = False  # `data: [DONE]` came: read nothing more
        self.done = False  # the body was read to its end, or the connection closed
        self.reading = False  # a loop is waiting for bytes (it cannot be closed from outside then)

    async def runs(self) -> list[tuple[str | None, list[bytes]]] | None:
        """The payloads of the next network read, as runs of consecutive events sharing one ``event:`` name
        (usually one run, sometimes none); None at the end of the stream."""
        if self.ended:
            return None
        self.reading = True
        try:
            chunk = await self._read()
        except TRANSPORT_ERRORS as exc:
            raise map_error(exc, self.response.headers.get("x-request-id")) from exc
        self.reading = False
        if not chunk:  # end of body
            if self._sse.pending:
                raise APIConnectionError("The stream ended in the middle of an event.",
                                         request_id=self.response.headers.get("x-request-id"))
            return None
        runs = self._sse.feed_runs(chunk)
        for i, (event, run) in enumerate(runs):
            if _DONE in run:  # one C loop over the run, not a test per payload
                self.ended = True
                del runs[i + 1 :]
                runs[i] = (event, run[: run.index(_DONE)])
                break
        return runs

    def finish(self, last: Any) -> None:
        """The stream ended well: give the connection back; ``last`` (the latest event, or payload) goes to
        ``on_end``, which settles the rate-limit lease with its usage."""
        if not self.done:
            self.done = True
            self.response.release()
            if self.on_end is not None:
                self.on_end(last)

    def close(self) -> None:
        """An error, a cancellation, or closed early: a half-read connection cannot be reused."""
        self.done = True
        self.reading = False
        self.response.close()

    def special(self, event: str, data: bytes, cast: Any) -> Any:
        """An ``event: error`` (raised), or an Assistants event: its name in ``event:``, the bare object as data."""
        if event == "error":
            self.raise_if_error(event, data)
        return decode(b'{"event":' + msgspec.json.encode(event) + b',"data":' + data + b"}", cast)

    def raise_if_error(self, event: str | None, data: bytes) -> None:
        """Raise ``APIError`` if ``data`` is an error payload (``{"error": {...}}``, or any ``event: error``)."""
        try:
            body = msgspec.json.decode(data)
        except msgspec.DecodeError:
            body = data.decode("utf-8", "replace")
        error = body.get("error") if isinstance(body, dict) else None
        if event == "error" or isinstance(error, dict):
            info = error if isinstance(error, dict) else body
            message = info.get("message") if isinstance(info, dict) else None
            raise APIError(message or "An error occurred during streaming", body=info,
                           request_id=self.response.headers.get("x-request-id"))


def is_special(event: str | None) -> bool:
    """Whether the events of an ``event:`` name take the slow path (``error``, Assistants' ``thread.*``)."""
    return event is not None and _SPECIAL_EVENTS[event]


class AsyncStream(Generic[T]):
    """The events of one streamed response, decoded into ``T``."""

    def __init__(self, response: aiohttp.ClientResponse, cast: Any,
                 on_end: Callable[[Any], None] | None = None) -> None:
        self.response = response
        self.headers: Mapping[str, str] = response.headers
        self.status_code = response.status
        self._reader = _Reader(response, on_end)
        self._events: AsyncGenerator[T, None] = _events(self._reader, cast)

    def _loop_with(self, loop: Callable[[_Reader], AsyncGenerator[Any, None]]) -> AsyncGenerator[Any, None]:
        """Strictly private, for the stream helpers; call it before iterating. From now on the events are what
        ``loop(reader)`` yields, an async generator over the body's payloads in place of the stream's own
        loop (it must close the reader on any exception, and finish it at the end). Returns it."""
        self._events = loop(self._reader)
        return self._events

    @property
    def request_id(self) -> str | None:
        """The ``x-request-id`` of the response."""
        return self.headers.get("x-request-id")

    @property
    def rate_limits(self) -> RateLimitInfo:
        """The ``x-ratelimit-*`` headers of the response, parsed."""
        return RateLimitInfo.from_headers(self.headers)

    def __aiter__(self) -> AsyncIterator[T]:
        # The events come from an async generator: a step of one costs about half of an ``async def __anext__``
        # call, and its state lives in local variables. ``async for`` over the stream gets it directly.
        return self._events

    async def __anext__(self) -> T:
        return await self._events.__anext__()

    async def aclose(self) -> None:
        """Stop reading and close the connection (it cannot be reused half-read)."""
        reader = self._reader
        if not reader.done or not self.response.closed:
            reader.done = True
            self.response.close()
        if not reader.reading:  # suspended between two events (or never started): finish it now
            await self._events.aclose()

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


async def _events(reader: _Reader, cast: Any) -> AsyncGenerator[Any, None]:
    """Decode the events of the body: the hot loop of every stream. (The stream helpers have loops of their
    own, with their folds inline: ``_chat_stream._chunk_events``, ``_responses_stream._response_events``.)"""
    strict = decoder_for(cast).decode  # resolved once: hashing a big union per event costs ~1 us
    last: Any = None
    try:
        while (runs := await reader.runs()) is not None:
            for event, run in runs:  # usually one run per network read
                if is_special(event):
                    for data in run:
                        last = reader.special(event, data, cast)  # type: ignore[arg-type]
                        yield last
                    continue
                for data in run:
                    # An error payload opens with its key, `{"error"`. Payloads that open with any other key
                    # (`{"id"`, `{"type"` ...) skip the full check: two byte reads, not a search.
                    if len(data) < 3 or data[1] != 34 or data[2] == 101:  # 34: '"', 101: 'e'
                        reader.raise_if_error(event, data)
                    try:
                        last = strict(data)
                    except msgspec.ValidationError:
                        last = decode(data, cast)  # drift: the lenient path
                    yield last
    except BaseException:
        reader.close()
        raise
    reader.finish(last)
