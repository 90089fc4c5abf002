"""``client.responses.stream()``: the typed ``response.*`` events of a Responses stream, plus the final response.

Every event the API sends is yielded as its generated type; a type this release does not know is yielded as
``openai_async.types.Unknown`` (the raw ``dict``, with ``.type``), never raised. Four events gain what the
official SDK's helper adds:

- ``response.output_text.delta`` -> ``.snapshot``: the part's text so far (joined on access, cached);
- ``response.function_call_arguments.delta`` -> ``.snapshot``: the call's arguments so far;
- ``response.output_text.done`` -> ``.parsed``: the text decoded into ``text_format``;
- ``response.completed`` -> ``.response`` is a ``ParsedResponse`` (``output_parsed``, ``parsed_arguments``).

``response.failed`` raises ``ResponseFailedError`` and an ``error`` event raises ``APIError``. Text is kept as
lists of fragments, so accumulation is O(n) whatever the stream length.
"""

from __future__ import annotations

import typing
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Iterator
from typing import TYPE_CHECKING, Any, Generic, TypeVar

import msgspec

from ..._core.decode import decoder_for
from ..._core.errors import APIError
from ..._core.model import Unknown
from ..._core.streaming import OverRawStream, error_sniff, needs_sniff
from ...types import responses as _r
from ..chat.stream import _Parts
from ..structured import ParsedResponse, is_rich_format, parse_json, parse_response

if TYPE_CHECKING:
    from ..._core.streaming import AsyncStream, _Reader

__all__ = [
    "ResponseCompletedEvent",
    "ResponseFailedError",
    "ResponseFunctionCallArgumentsDeltaEvent",
    "ResponseStream",
    "ResponseStreamManager",
    "ResponseStreamState",
    "ResponseTextDeltaEvent",
    "ResponseTextDoneEvent",
]

T = TypeVar("T")


class _Snapshotted:
    """``snapshot`` of a delta event: the text so far, read from the stream helper's fragments (``_aux_``).

    A copy or a pickle of the event keeps it (as text): ``_aux_`` is a slot, which ``BaseModel``'s copy and pickle
    leave behind. Strictly private.
    """

    __slots__ = ()

    @property
    def snapshot(self) -> str:
        """The text so far: of this content part, or of this call's arguments, up to and including this delta."""
        state = getattr(self, "_aux_", None)  # set by the stream helper
        if state is None:
            return self.delta or ""  # type: ignore[attr-defined]
        parts, n = state
        return parts.text(n)  # type: ignore[no-any-return]

    def __copy__(self) -> Any:
        return _with_snapshot(super().__copy__(), self.snapshot)  # type: ignore[misc]

    def __reduce__(self) -> tuple[Any, ...]:
        reduced: Any = super().__reduce__()  # BaseModel's: (rebuild, args)
        return (_rebuilt_with_snapshot, (reduced[0], reduced[1], self.snapshot))


def _with_snapshot(event: Any, text: str) -> Any:
    parts = _Parts()
    parts.append(text)
    event._aux_ = (parts, 1)
    return event


def _rebuilt_with_snapshot(rebuild: Callable[..., Any], args: tuple[Any, ...], text: str) -> Any:
    """Unpickle (or deep-copy) a delta event with its snapshot. Strictly private."""
    return _with_snapshot(rebuild(*args), text)


class ResponseTextDeltaEvent(_Snapshotted, _r.ResponseTextDeltaEvent, tag="response.output_text.delta"):
    """``response.output_text.delta`` with ``snapshot``: the text of this content part so far."""


class ResponseFunctionCallArgumentsDeltaEvent(
    _Snapshotted, _r.ResponseFunctionCallArgumentsDeltaEvent, tag="response.function_call_arguments.delta"
):
    """``response.function_call_arguments.delta`` with ``snapshot``: the call's arguments so far."""


class ResponseTextDoneEvent(_r.ResponseTextDoneEvent, Generic[T], tag="response.output_text.done"):
    """``response.output_text.done`` with ``parsed``: the text decoded into ``text_format`` (else None)."""

    parsed: T | None = None


class ResponseCompletedEvent(_r.ResponseCompletedEvent, tag="response.completed"):
    """``response.completed``; its ``response`` is a ``ParsedResponse``."""


_REPLACED = {
    _r.ResponseTextDeltaEvent: ResponseTextDeltaEvent,
    _r.ResponseFunctionCallArgumentsDeltaEvent: ResponseFunctionCallArgumentsDeltaEvent,
    _r.ResponseTextDoneEvent: ResponseTextDoneEvent,
    _r.ResponseCompletedEvent: ResponseCompletedEvent,
}
# The generated event union with the four classes above in place of their bases (decoded straight into them).
EVENT_TYPE: Any = typing.Union[tuple(_REPLACED.get(t, t) for t in typing.get_args(_r.ResponseStreamEvent))]  # noqa: UP007


class ResponseFailedError(APIError):
    """A streamed response ended with ``response.failed``; ``response`` is the failed Response."""

    def __init__(self, response: Any) -> None:
        error = getattr(response, "error", None)
        message = getattr(error, "message", None) or "The response failed"
        body = {"error": msgspec.to_builtins(error)} if error is not None else None
        super().__init__(message, body=body)
        self.response = response


_NOWHERE = object()


class ResponseStreamState(Generic[T]):
    """The accumulator behind ``ResponseStream``; ``handle(event)`` returns the event to yield.

    Args:
        text_format: a type the output text is decoded into, or None.
        tools: the ``tools`` that were sent (``function_tool(...)`` entries get typed ``parsed_arguments``).
    """

    def __init__(self, *, text_format: Any = None, tools: Any = None) -> None:
        self._format = text_format if is_rich_format(text_format) else None
        self._tools = tools
        self._texts: dict[tuple[Any, Any], _Parts] = {}
        # The key of the latest text part, and its parts.
        self._text_at: tuple[Any, Any] = (_NOWHERE, _NOWHERE)
        self._text = _Parts()
        self._args: dict[Any, _Parts] = {}
        self._done_items: dict[int, Any] = {}
        self.response: Any = None
        """The latest Response seen in a lifecycle event (created, in_progress, completed ...)."""
        self.final: ParsedResponse[T] | None = None
        self.sequence_number: int | None = None
        """The ``sequence_number`` of the latest event: resume with ``starting_after=`` it."""

    def handle(self, event: Any) -> Any:
        """Fold one event into the state; returns it (raises for ``error`` and ``response.failed``)."""
        if type(event) is ResponseTextDeltaEvent:  # the stream's fold does this inline (``_ResponseFold``)
            self.sequence_number = event.sequence_number
            parts = self._text
            if event.output_index != self._text_at[0] or event.content_index != self._text_at[1]:
                parts = self._text_part(event.output_index, event.content_index)
            parts.append(event.delta or "")
            event._aux_ = (parts, len(parts))
            return event
        return self._handle(event)

    def _text_part(self, output_index: Any, content_index: Any) -> _Parts:
        key = (output_index, content_index)
        parts = self._texts.get(key)
        if parts is None:
            parts = self._texts[key] = _Parts()
        self._text_at = key
        self._text = parts
        return parts

    def _handle(self, event: Any) -> Any:
        cls = type(event)
        if cls is Unknown:
            seq = event.get("sequence_number")
            if isinstance(seq, int):
                self.sequence_number = seq
            return event
        self.sequence_number = getattr(event, "sequence_number", self.sequence_number)
        if cls is ResponseFunctionCallArgumentsDeltaEvent:
            parts = self._args.get(event.output_index)
            if parts is None:
                parts = self._args[event.output_index] = _Parts()
            parts.append(event.delta or "")
            event._aux_ = (parts, len(parts))
        elif cls is ResponseTextDoneEvent:
            if self._format is not None and event.text is not None:
                try:
                    event.parsed = parse_json(self._format, event.text)
                except (msgspec.DecodeError, msgspec.ValidationError):
                    # Possibly cut short (response.incomplete follows); response.completed raises if not.
                    event.parsed = None
        elif cls is _r.ResponseOutputItemDoneEvent:
            if event.output_index is not None:
                self._done_items[event.output_index] = event.item
        elif cls is ResponseCompletedEvent:
            event.response = self._finish(event.response, parse=True)
        elif cls is _r.ResponseIncompleteEvent:
            self._finish(event.response, parse=False)
        elif cls is _r.ResponseFailedEvent:
            self.response = event.response
            raise ResponseFailedError(event.response)
        elif cls is _r.ResponseErrorEvent:
            raise APIError(
                event.message or "The response stream reported an error", body=msgspec.to_builtins(event)
            )
        elif cls in (_r.ResponseCreatedEvent, _r.ResponseInProgressEvent, _r.ResponseQueuedEvent):
            self.response = event.response
        return event

    def _finish(self, response: Any, *, parse: bool) -> ParsedResponse[T]:
        if response is None:
            response = self.response if self.response is not None else _r.Response()
        if response.output is None and self._done_items:
            # The event may leave out the output: rebuild it from the output_item.done events.
            response = msgspec.structs.replace(
                response, output=[self._done_items[i] for i in sorted(self._done_items)]
            )
        final = parse_response(response, self._format if parse else None, self._tools)
        self.response = self.final = final
        return final

    @property
    def output_text(self) -> str:
        """All output text received so far (every part, in output order)."""
        return "".join(
            self._texts[k].text() for k in sorted(self._texts, key=lambda k: (k[0] or 0, k[1] or 0))
        )


class _ResponseFold:
    """The fold of a Responses stream, for ``stream_loop``: each event decoded and folded into ``state``, with
    ``state.handle`` inline for the text deltas that make most of a stream. Strictly private."""

    __slots__ = ("last", "reader", "sniff", "state", "strict")

    def __init__(self, reader: _Reader, state: ResponseStreamState[Any]) -> None:
        self.reader = reader
        self.state = state
        self.strict = decoder_for(EVENT_TYPE).decode
        self.sniff = needs_sniff(EVENT_TYPE)  # False: the tagged union refuses ``{"error": ...}`` by itself
        self.last: Any = None

    def events(self, run: list[bytes]) -> Iterator[Any]:
        state, reader, strict, sniff = self.state, self.reader, self.strict, self.sniff
        text_delta = ResponseTextDeltaEvent
        handle = state.handle
        # The state's cursor (where the latest text delta went, and that part's fragments), read once a run;
        # only ``state._text_part`` moves it.
        output_index, content_index = state._text_at
        parts = state._text
        last = self.last
        for data in run:
            if sniff and error_sniff(data):
                reader.raise_if_error(None, data)
            try:
                last = strict(data)
            except msgspec.DecodeError:
                last = reader.lenient(data, EVENT_TYPE)
            if type(last) is not text_delta:
                yield handle(last)  # a verdict (response.failed, error) raises here; the cursor stays
                continue
            state.sequence_number = last.sequence_number  # handle()'s first branch, inline
            if last.output_index != output_index or last.content_index != content_index:
                output_index, content_index = last.output_index, last.content_index
                parts = state._text_part(output_index, content_index)
            parts.append(last.delta or "")
            last._aux_ = (parts, len(parts))
            yield last
        self.last = last

    def special(self, event: str, data: bytes) -> Any:
        self.last = self.reader.special(event, data, EVENT_TYPE)
        return self.state.handle(self.last)

    def end(self) -> None:
        """A Responses stream ends with a terminal event: completed or incomplete (``final`` is set), failed or
        error (both raised before the end). A ``[DONE]`` (which the API does not send) says it is whole too."""
        if self.state.final is None and not self.reader.ended:
            raise self.reader.truncated("no response.completed, failed, incomplete or error event")


class ResponseStream(OverRawStream, Generic[T]):
    """The events of one Responses stream; iterate it inside ``async with client.responses.stream(...)``."""

    def __init__(self, raw: AsyncStream[Any], state: ResponseStreamState[T], client: Any = None) -> None:
        self._raw = raw
        self._state = state
        self._client = client
        self._events: AsyncGenerator[_r.ResponseStreamEvent, None] = raw._loop_with(
            lambda reader: _ResponseFold(reader, state)
        )

    def __aiter__(self) -> AsyncIterator[_r.ResponseStreamEvent]:
        # The loop itself (no ``__anext__`` coroutine per event), which owns the connection from now on.
        return self._raw.__aiter__()

    async def __anext__(self) -> _r.ResponseStreamEvent:
        return await self._events.__anext__()

    @property
    def response_id(self) -> str | None:
        """The Response's id, once ``response.created`` has arrived."""
        return getattr(self._state.response, "id", None)

    @property
    def sequence_number(self) -> int | None:
        """The ``sequence_number`` of the latest event (pass it as ``starting_after=`` to resume)."""
        return self._state.sequence_number

    @property
    def output_text(self) -> str:
        """All output text received so far."""
        return self._state.output_text

    def text_deltas(self) -> AsyncIterator[str]:
        """Iterate only the output text pieces: ``async for text in stream.text_deltas(): ...``."""
        return _text_deltas(self._raw.__aiter__())

    async def until_done(self) -> ResponseStream[T]:
        """Read the rest of the stream."""
        async for _ in self._events:
            pass
        return self

    async def get_final_response(self) -> ParsedResponse[T]:
        """Read the rest of the stream and return the completed (or incomplete) Response.

        Raises:
            ResponseFailedError: the response failed. APIError: an ``error`` event, or no final response.
        """
        await self.until_done()
        final = self._state.final
        if final is None:
            raise APIError("The stream ended without a response.completed event", request_id=self.request_id)
        return final

    async def cancel(self) -> Any:
        """Cancel a background response (``POST /responses/{id}/cancel``) and close this stream."""
        response_id = self.response_id
        await self.close()
        if response_id is None or self._client is None:
            raise APIError("No response id to cancel yet (response.created has not arrived)")
        return await self._client.responses.cancel(response_id)

    async def close(self) -> None:
        """Stop reading and close the connection."""
        await self._raw.aclose()

    aclose = close

    async def __aenter__(self) -> ResponseStream[T]:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    def __repr__(self) -> str:
        return f"<ResponseStream request_id={self.request_id!r}>"


async def _text_deltas(events: AsyncIterator[Any]) -> AsyncGenerator[str, None]:
    async for event in events:
        if type(event) is ResponseTextDeltaEvent:
            yield event.delta or ""


class ResponseStreamManager(Generic[T]):
    """What ``client.responses.stream(...)`` returns: ``async with`` it to send the request."""

    def __init__(
        self,
        request: Callable[[], Awaitable[AsyncStream[Any]]],
        state: ResponseStreamState[T],
        client: Any = None,
    ) -> None:
        self._request = request
        self._state = state
        self._client = client
        self._stream: ResponseStream[T] | None = None

    async def __aenter__(self) -> ResponseStream[T]:
        raw = await self._request()
        self._stream = ResponseStream(raw, self._state, self._client)
        return self._stream

    async def __aexit__(self, *exc: object) -> None:
        if self._stream is not None:
            await self._stream.close()
