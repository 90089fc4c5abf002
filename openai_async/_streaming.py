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

from ._decode import decode, decoder_for
from ._errors import APIConnectionError, APIError
from ._response import RateLimitInfo
from ._sse import SSEDecoder
from ._transport import TRANSPORT_ERRORS, map_error

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


class _Progress:
    """What a stream and its event generator share. Strictly private.

    The generator holds this, the response and the decoders, never the stream itself: with no reference cycle,
    dropping a stream mid-iteration closes its connection at once (``AsyncStream.__del__``), not at the next
    garbage collection.
    """

    __slots__ = ("done", "reading")

    def __init__(self) -> None:
        self.done = False  # the body was read to its end, or the connection closed
        self.reading = False  # the generator is waiting for bytes (it cannot be closed from outside then)


class AsyncStream(Generic[T]):
    """The events of one streamed response, decoded into ``T``."""

    def __init__(self, response: aiohttp.ClientResponse, cast: Any,
                 on_end: Callable[[Any], None] | None = None) -> None:
        self.response = response
        self.headers: Mapping[str, str] = response.headers
        self.status_code = response.status
        self._cast = cast
        self._on_end = on_end
        self._progress = _Progress()
        self._events: AsyncGenerator[T, None] = _events(response, cast, on_end, self._progress, None, False)

    def _fold_with(self, fold: Callable[[Any], Any], *, many: bool = False) -> AsyncGenerator[Any, None]:
        """Strictly private, for the stream helpers; call it before iterating. From now on the stream's own loop
        yields ``fold(event)`` for each decoded event instead of the event; with ``many``, ``fold`` gets each
        payload undecoded (``bytes``: it decodes what it needs) and returns a sequence of events to yield.
        An exception from ``fold`` closes the connection. Returns the new iterator."""
        self._events = _events(self.response, self._cast, self._on_end, self._progress, fold, many)
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
        progress = self._progress
        if not progress.done or not self.response.closed:
            progress.done = True
            self.response.close()
        if not progress.reading:  # suspended between two events (or never started): finish it now
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


async def _events(response: aiohttp.ClientResponse, cast: Any, on_end: Callable[[Any], None] | None,
                  progress: _Progress, fold: Callable[[Any], Any] | None, many: bool) -> AsyncGenerator[Any, None]:
    """Read, frame and decode the events of ``response``: the hot loop of every stream (and, with ``fold``,
    of the stream helpers: one generator step per event, not two)."""
    strict = decoder_for(cast).decode  # resolved once: hashing a big union per event costs ~1 us
    sse_decoder = SSEDecoder()
    feed = sse_decoder.feed_runs
    readany = response.content.readany
    special = _SPECIAL_EVENTS
    last: Any = None  # the latest event (or payload, with ``many``): its usage settles a rate-limit lease
    try:
        while True:
            progress.reading = True
            try:
                chunk = await readany()
            except TRANSPORT_ERRORS as exc:
                raise map_error(exc, response.headers.get("x-request-id")) from exc
            progress.reading = False
            if not chunk:  # end of body
                if sse_decoder.pending:
                    raise APIConnectionError("The stream ended in the middle of an event.",
                                             request_id=response.headers.get("x-request-id"))
                break
            for event, run in feed(chunk):  # runs of events sharing one name: usually one run per chunk
                named = event is not None and special[event]
                for data in run:
                    if data == _DONE:
                        _finish(response, progress, on_end, last)
                        return
                    if named:
                        last = _special_event(event, data, cast, response)  # type: ignore[arg-type]
                        yield last if fold is None or many else fold(last)
                        continue
                    # An error payload opens with its key, `{"error"`. Payloads that open with any other key
                    # (`{"id"`, `{"type"` ...) skip the full check: two byte reads, not a search.
                    if len(data) < 3 or data[1] != 34 or data[2] == 101:  # 34: '"', 101: 'e'
                        _raise_if_error(event, data, response)
                    if many:
                        last = data
                        for obj in fold(data):  # type: ignore[misc]  # a helper's verdict raises here
                            yield obj
                        continue
                    try:
                        last = strict(data)
                    except msgspec.ValidationError:
                        last = decode(data, cast)  # drift: the lenient path
                    yield last if fold is None else fold(last)  # a helper's verdict raises here
    except BaseException:  # an error, a cancellation, or closed early: a half-read connection cannot be reused
        _close(response, progress)
        raise
    _finish(response, progress, on_end, last)


def _finish(response: aiohttp.ClientResponse, progress: _Progress, on_end: Callable[[Any], None] | None,
            last: Any) -> None:
    if not progress.done:
        progress.done = True
        response.release()
        if on_end is not None:
            on_end(last)


def _special_event(event: str, data: bytes, cast: Any, response: aiohttp.ClientResponse) -> Any:
    """An ``event: error`` (raised), or an Assistants event: its name in ``event:``, the bare object as data."""
    if event == "error":
        _raise_if_error(event, data, response)
    return decode(b'{"event":' + msgspec.json.encode(event) + b',"data":' + data + b"}", cast)


def _raise_if_error(event: str | None, data: bytes, response: aiohttp.ClientResponse) -> None:
    try:
        body = msgspec.json.decode(data)
    except msgspec.DecodeError:
        body = data.decode("utf-8", "replace")
    error = body.get("error") if isinstance(body, dict) else None
    if event == "error" or isinstance(error, dict):
        info = error if isinstance(error, dict) else body
        message = info.get("message") if isinstance(info, dict) else None
        raise APIError(message or "An error occurred during streaming", body=body,
                       request_id=response.headers.get("x-request-id"))


def _close(response: aiohttp.ClientResponse, progress: _Progress) -> None:
    progress.done = True
    progress.reading = False
    response.close()
