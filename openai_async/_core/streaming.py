"""``AsyncStream[T]``: the server-sent events of one response, decoded into ``T`` one by one.

It is an async iterator and an async context manager. ``data: [DONE]`` ends it; a ``{"error": {...}}``
payload (or an ``event: error``) raises ``APIError``, and so does a stream request answered with a JSON body
instead of events; a connection cut mid-stream raises ``APIConnectionError`` (never a silent, truncated
"success"), and so does a chat or completions stream that ends before ``[DONE]`` with a choice unfinished, or a
Responses stream that ends with no terminal event; an idle stream raises ``APITimeoutError`` after the read
timeout. Leaving the ``async with`` block, ``aclose()``, breaking out and dropping the stream (or only its
iterator, as ``async for chunk in await create(...)`` does), or cancelling the task closes the connection.

Every stream, raw or helper, runs one loop, ``stream_loop``: it reads the body a network read at a time
(``_Reader``), routes the ``error`` and Assistants ``thread.*`` events, hands the other payloads of each read to
a per-kind *fold* (``_RawFold`` here; the chat and Responses helpers have their own), and settles the ending.
"""

from __future__ import annotations

import asyncio
import sys
import time
import types
import weakref
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar

import msgspec
from aiohttp import SocketTimeoutError

from .decode import decode, decoder_for
from .errors import APIConnectionError, APIError, StreamDecodeError, StreamEventTooLargeError
from .response import RateLimitInfo
from .sse import MAX_EVENT_SIZE, SSEDecoder
from .transport import TRANSPORT_ERRORS, map_error

if TYPE_CHECKING:
    from .transport import Response

__all__ = ["AsyncStream", "Fold", "OverRawStream", "error_sniff", "stream_loop"]

T = TypeVar("T")

_DONE = b"[DONE]"
_ERROR_PROBE = b'{"error":{"message":"probe"}}'
# A JSON body answering a stream request is an error object: read at most this much.
_JSON_BODY_LIMIT = 1 << 20

# Fairness (see ``stream_loop``): once a stream has run this long (seconds) since it last waited for the
# network, it lets the other tasks run. It looks at the clock between runs of at most ``_PIECE`` payloads
# (``_Reader.runs`` cuts longer ones), so it overruns by at most one such run.
_TURN = 0.0005
_PIECE = 32
_clock = time.perf_counter


@types.coroutine
def _pass_turn() -> Iterator[None]:
    """Let every other ready task run once, then resume. A bare ``yield`` of None makes the task reschedule
    itself (on asyncio and uvloop alike): ``asyncio.sleep(0)`` does the same through one more coroutine."""
    yield


def error_sniff(data: bytes) -> bool:
    """Whether a payload may be an error payload (``{"error": {...}}``) and needs the full check.

    OpenAI writes compact JSON whose first key is the type's own (``{"id"``, ``{"type"`` ...), and an error
    payload opens with its key, ``{"error"``. So a payload that opens with ``{"`` and then any letter but ``e``
    (byte 34 is ``"``, 101 is ``e``) cannot be one: two byte reads instead of a JSON decode or a search. Anything
    else (``{"event"``, ``{ "error"``, a short or odd payload) takes the full check, ``_Reader.raise_if_error``.
    Only the folds whose strict decoder would accept an error payload sniff (``needs_sniff``): a tagged union
    (Responses, Assistants) refuses ``{"error": ...}`` and the refusal leads to the same check.
    """
    return len(data) < 3 or data[1] != 34 or data[2] == 101


_SNIFF: dict[Any, bool] = {}


def needs_sniff(cast: Any) -> bool:
    """Whether ``cast``'s strict decoder accepts an error payload (its fields are all optional), so that the
    loop must sniff each payload with ``error_sniff`` before decoding it. Found once per type, by a probe."""
    sniff = _SNIFF.get(cast)
    if sniff is None:
        try:
            decoder_for(cast).decode(_ERROR_PROBE)
            sniff = True
        except msgspec.DecodeError:
            sniff = False
        except TypeError:  # not a type msgspec can decode into: the lenient path handles it
            sniff = True
        if len(_SNIFF) < 512:
            _SNIFF[cast] = sniff
    return sniff


class _SpecialEvents(dict[Any, bool]):
    """``event:`` name -> whether its events take the slow path (``error``, Assistants' ``thread.*``).
    Strictly private."""

    def __missing__(self, name: Any) -> bool:
        special = name == "error" or (isinstance(name, str) and name.startswith("thread."))
        if len(self) < 512:  # the API's event names are a few dozen; a server inventing more is not cached
            self[name] = special
        return special


_SPECIAL_EVENTS = _SpecialEvents()


def is_special(event: str | None) -> bool:
    """Whether the events of an ``event:`` name take the slow path (``error``, Assistants' ``thread.*``)."""
    return event is not None and _SPECIAL_EVENTS[event]


def _cut(runs: list[tuple[str | None, list[bytes]]]) -> list[tuple[str | None, list[bytes]]]:
    """``runs`` with every run longer than ``_PIECE`` payloads cut into pieces of at most that many."""
    pieces = []
    for event, run in runs:
        if len(run) <= _PIECE:
            pieces.append((event, run))
        else:
            pieces.extend((event, run[i : i + _PIECE]) for i in range(0, len(run), _PIECE))
    return pieces


def _check_idle(ref: weakref.ref[_Reader]) -> None:
    reader = ref()
    if reader is not None and not reader.done and not reader.response.closed:
        reader.check_idle()


class _Reader:
    """One response body as runs of SSE payloads, a network read at a time. Strictly private.

    It reads, frames and stops at ``data: [DONE]``; ``stream_loop`` reads it. The loop holds this, never the
    stream itself: the stream may be gone (``async for x in await create(...)`` keeps only the loop), and the
    loop's own finalization closes the connection when it is dropped half-read.
    """

    __slots__ = (
        "__weakref__",
        "_idle",
        "_read",
        "_sse",
        "_timer",
        "checked",
        "done",
        "ended",
        "handed",
        "on_end",
        "passing",
        "read_at",
        "reading",
        "response",
    )

    def __init__(
        self, response: Response, on_end: Callable[[Any], None] | None, max_event_size: int = MAX_EVENT_SIZE
    ) -> None:
        self.response = response
        self.on_end = on_end
        self._read = response.content.readany
        self._sse = SSEDecoder(max_event_size=max_event_size)
        self.ended = False  # `data: [DONE]` came: read nothing more
        self.done = False  # the body was read to its end, or the connection closed
        # the loop waits for bytes, or passes its turn: it cannot be closed from outside then
        self.reading = False
        self.passing = False
        self.read_at = 0.0  # when the latest read returned (``_clock``)
        self._idle = 0.0  # the read (idle) timeout, once taken over from aiohttp (``_watch_idle``)
        self._timer: asyncio.TimerHandle | None = None
        self.checked = False  # the first read was checked for a JSON body in place of events
        self.handed = (
            False  # the loop was handed out (``__aiter__``): it, not the stream, owns the connection
        )

    @property
    def request_id(self) -> str | None:
        return self.response.headers.get("x-request-id")

    async def runs(self) -> list[tuple[str | None, list[bytes]]] | None:
        """The payloads of the next network read, as runs of consecutive events sharing one ``event:`` name
        (usually one run, sometimes none) and of at most ``_PIECE`` payloads; None at the end of the stream."""
        if self.ended:
            return None
        self.reading = True
        try:
            chunk = await self._read()
        except TRANSPORT_ERRORS as exc:
            raise map_error(exc, self.request_id) from exc
        self.reading = False
        self.read_at = _clock()
        if not chunk:  # end of body
            self._sse.flush()
            if self._sse.pending:
                raise APIConnectionError(
                    "The stream ended in the middle of an event.", request_id=self.request_id
                )
            return None
        if not self.checked:
            self.checked = True
            if chunk.lstrip()[:1] == b"{":
                await self._raise_json_body(chunk)
            self._watch_idle()
        try:
            runs = self._sse.feed_runs(chunk)
        except StreamEventTooLargeError as exc:
            exc.request_id = self.request_id
            raise
        for i, (event, run) in enumerate(runs):
            if _DONE in run:  # one C loop over the run, not a test per payload
                self.ended = True
                del runs[i + 1 :]
                runs[i] = (event, run[: run.index(_DONE)])
                break
        if len(runs) == 1 and len(runs[0][1]) <= _PIECE:  # the usual read
            return runs
        return _cut(runs)

    def _watch_idle(self) -> None:
        """Take the read (idle) timeout over from aiohttp, which re-arms a timer on every network read.

        Each of those timers is a new object the cancelled ones leave in the event loop's heap until it is
        pruned: with thousands of streams they keep the garbage collector busy (and its full collections
        stall the loop). Here one timer a stream wakes once per timeout: it raises the timeout in the waiting
        read if no bytes came for that long, and otherwise sleeps again until the timeout of the latest read.
        A response without aiohttp's protocol (a test double) keeps whatever timeout it has.
        """
        protocol: Any = getattr(getattr(self.response, "connection", None), "protocol", None)
        idle = getattr(protocol, "read_timeout", None)
        if not idle:
            return
        protocol.read_timeout = None  # aiohttp drops its timer at the next bytes (as for a WebSocket)
        self._idle = idle
        self._arm(idle)

    def _arm(self, delay: float) -> None:
        self._timer = asyncio.get_running_loop().call_later(delay, _check_idle, weakref.ref(self))

    def check_idle(self) -> None:
        """The idle timer rang: time out the waiting read if no bytes came for the whole timeout."""
        idle_for = _clock() - self.read_at
        if idle_for < self._idle:
            self._arm(self._idle - idle_for)
        elif self.reading:
            self.response.content.set_exception(  # type: ignore[attr-defined]
                SocketTimeoutError("Timeout on reading data from socket")
            )
        else:  # the caller has not asked for more bytes since: look again soon
            self._arm(self._idle / 4)

    async def _raise_json_body(self, chunk: bytes) -> None:
        """The body opens with ``{``: no SSE line does. A server answered the stream request with JSON (an error
        object, whatever its content type): read it (up to 1 MiB) and raise ``APIError`` with its message."""
        body = chunk
        while len(body) < _JSON_BODY_LIMIT and (more := await self._read()):
            body += more
        try:
            decoded: Any = msgspec.json.decode(body)
        except msgspec.DecodeError:
            decoded = body.decode("utf-8", "replace")
        error = decoded.get("error") if isinstance(decoded, dict) else None
        message = error.get("message") if isinstance(error, dict) else None
        raise APIError(
            message
            if isinstance(message, str) and message
            else "The server answered a stream request with a JSON body instead of events",
            body=error if isinstance(error, dict) else decoded,
            request_id=self.request_id,
        )

    def finish(self, last: Any) -> None:
        """The stream ended well: give the connection back; ``last`` (the latest event, or payload) goes to
        ``on_end``, which settles the rate-limit lease with its usage."""
        if not self.done:
            self.done = True
            if self._timer is not None:
                self._timer.cancel()
            self.response.release()
            if self.on_end is not None:
                self.on_end(last)

    def close(self) -> None:
        """An error, a cancellation, or closed early: a half-read connection cannot be reused."""
        self.done = True
        self.reading = self.passing = False
        if self._timer is not None:
            self._timer.cancel()
        self.response.close()

    def special(self, event: str, data: bytes, cast: Any) -> Any:
        """An ``event: error`` (raised), or an Assistants event: its name in ``event:``, the bare object as data."""
        if event == "error":
            self.raise_if_error(event, data)
        whole = b'{"event":' + msgspec.json.encode(event) + b',"data":' + data + b"}"
        try:
            result = decode(whole, cast)
            if (
                type(result) is dict
            ):  # the generated AssistantStreamEvent is an untyped union: find the member
                member = _assistant_event_type(event)
                if member is not None:
                    result = decode(whole, member)
        except msgspec.DecodeError as exc:
            raise self._not_json(data) from exc
        return result

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
            raise APIError(
                message or "An error occurred during streaming", body=info, request_id=self.request_id
            )

    def lenient(self, data: bytes, cast: Any) -> Any:
        """A payload the strict decoder refused: an error payload (raised), drift from the spec (decoded
        leniently), or not JSON at all (``StreamDecodeError``)."""
        if error_sniff(data):  # drift in every event (a new enum value) pays no extra decode
            self.raise_if_error(None, data)
        try:
            return decode(data, cast)
        except msgspec.DecodeError as exc:
            raise self._not_json(data) from exc

    def _not_json(self, data: bytes) -> StreamDecodeError:
        shown = data[:200].decode("utf-8", "replace")
        return StreamDecodeError(
            f"A stream event's data is not valid JSON: {shown!r}", payload=data, request_id=self.request_id
        )

    def closed_meanwhile(self) -> APIConnectionError:
        """The error for a loop resuming after its turn to find its stream closed (``aclose()`` from another
        task), as it would from a read of the closed connection."""
        return APIConnectionError("Connection error: the stream was closed.", request_id=self.request_id)

    def truncated(self, what: str) -> APIConnectionError:
        """The error for a body that ended cleanly but early (``what`` says how it shows)."""
        return APIConnectionError(f"The stream was cut short: {what}.", request_id=self.request_id)


_ASSISTANT_EVENT_KINDS = (
    ("thread.run.step.", "RunStepStreamEvent"),
    ("thread.run.", "RunStreamEvent"),
    ("thread.message.", "MessageStreamEvent"),
    ("thread.created", "ThreadStreamEvent"),
)


def _assistant_event_type(event: str) -> Any:
    """The generated type of an Assistants event by its name (``thread.run.step.delta`` ->
    ``RunStepStreamEventThreadRunStepDelta``), or None. Looked up in the loaded types module, not imported."""
    module = sys.modules.get("openai_async.types.assistants")
    if module is None:
        return None
    for prefix, kind in _ASSISTANT_EVENT_KINDS:
        if event.startswith(prefix):
            if kind == "ThreadStreamEvent":
                return getattr(module, kind, None)
            suffix = "".join(part.title().replace("_", "") for part in event.split("."))
            return getattr(module, kind + suffix, None)
    return None


class Fold(Protocol):
    """What ``stream_loop`` needs of one kind of stream (raw, chat helper, Responses helper)."""

    last: Any  # the latest event (or payload): ``on_end`` reads its usage

    def events(self, run: list[bytes]) -> Iterator[Any]:
        """Decode and fold the payloads of one run (consecutive plain events of one read); yield the events."""
        ...

    def special(self, event: str, data: bytes) -> Any:
        """An ``error`` (raises) or Assistants ``thread.*`` event: what to yield for it."""
        ...

    def end(self) -> None:
        """The body ended cleanly: raise if the stream was cut short (no terminal event for its kind)."""
        ...


async def stream_loop(reader: _Reader, fold: Fold) -> AsyncGenerator[Any, None]:
    """The one loop of every stream: read, route the special events, fold the rest, settle the ending.

    The connection is closed on any exception, including ``GeneratorExit`` when the loop is dropped half-read
    (asyncio finalizes an abandoned async generator by scheduling its ``aclose()``), so a ``break`` out of
    ``async for chunk in await create(...)`` gives the connection back with nothing else holding the stream.
    The per-payload work runs in ``fold.events(run)``, a plain generator per run: stepping it costs about 17 ns
    per event against the same code inline.

    Fairness: a read hands out everything the connection had buffered (up to ~650 KB, thousands of events)
    without the task waiting, and the caller's loop body runs in the same task step. So once the task has run
    ``_TURN`` since its read, the loop passes its turn (every other ready task runs once) before the next run of
    payloads. The time starts at each read: a read that did not wait comes right after a turn was passed, here
    or in the caller's loop body, since the buffer fills only while the event loop runs. Cost: two clock reads a
    network read, and on long reads one more per ``_PIECE`` payloads plus a turn (~2.4 us) per ``_TURN``.
    """
    try:
        while (runs := await reader.runs()) is not None:
            turn_ends = reader.read_at + _TURN
            for event, run in runs:  # usually one run per network read
                if _clock() > turn_ends:
                    reader.passing = True  # an aclose() from another task now only closes the connection
                    await _pass_turn()
                    reader.passing = False
                    if reader.done:
                        raise reader.closed_meanwhile()
                    turn_ends = _clock() + _TURN
                if is_special(event):
                    for data in run:
                        yield fold.special(event, data)  # type: ignore[arg-type]
                    continue
                for item in fold.events(run):
                    yield item
        fold.end()
    except BaseException:
        reader.close()
        raise
    reader.finish(fold.last)


# -- the endings of the raw streams, by kind ----------------------------------------------------------------

_TERMINAL_RESPONSE_EVENTS = frozenset(
    {"response.completed", "response.failed", "response.incomplete", "error"}
)


def _choices_ended(reader: _Reader, last: Any) -> None:
    """Chat and completions: ``[DONE]``, or a last chunk that finishes every choice in it (or carries the usage,
    which comes after them all). Some compatible servers never send ``[DONE]``; a cut rarely lands there."""
    if reader.ended:
        return
    if last is not None:
        if getattr(last, "usage", None) is not None:
            return
        choices = getattr(last, "choices", None)
        if choices and all(getattr(c, "finish_reason", None) is not None for c in choices):
            return
    raise reader.truncated("no [DONE] and a choice never finished")


def _response_ended(reader: _Reader, last: Any) -> None:
    """Responses: the last event is terminal (completed, failed, incomplete or error). The API sends no
    ``[DONE]``; a server that does has said the stream is whole."""
    if reader.ended:
        return
    kind = last.get("type") if isinstance(last, dict) else getattr(last, "type", None)
    if kind not in _TERMINAL_RESPONSE_EVENTS:
        raise reader.truncated("no response.completed, failed, incomplete or error event")


def _no_check(reader: _Reader, last: Any) -> None:
    pass


_ENDINGS: dict[Any, Callable[[_Reader, Any], None]] = {}


def _ending_for(cast: Any) -> Callable[[_Reader, Any], None]:
    """The ending rule of a raw stream's event type. The generated types are looked up in ``sys.modules``: a
    cast from one of them means its module is loaded; nothing is imported here (``_core`` stays below them)."""
    ending = _ENDINGS.get(cast)
    if ending is None:
        ending = _no_check
        for module, names, rule in (
            ("openai_async.types.chat", ("CreateChatCompletionStreamResponse",), _choices_ended),
            ("openai_async.types.completions", ("CreateCompletionResponse",), _choices_ended),
            ("openai_async.types.responses", ("ResponseStreamEvent",), _response_ended),
            ("openai_async.types.responses_beta", ("BetaResponseStreamEvent",), _response_ended),
        ):
            loaded = sys.modules.get(module)
            if loaded is not None and any(getattr(loaded, name, None) is cast for name in names):
                ending = rule
                break
        if len(_ENDINGS) < 512:
            _ENDINGS[cast] = ending
    return ending


class _RawFold:
    """The fold of ``AsyncStream``: each payload decoded into the cast, nothing kept. Strictly private."""

    __slots__ = ("cast", "last", "reader", "sniff", "strict")

    def __init__(self, reader: _Reader, cast: Any) -> None:
        self.reader = reader
        self.cast = cast
        self.strict = decoder_for(cast).decode  # resolved once: hashing a big union per event costs ~1 us
        self.sniff = needs_sniff(cast)
        self.last: Any = None

    def events(self, run: list[bytes]) -> Iterator[Any]:
        strict, sniff, reader = self.strict, self.sniff, self.reader
        last = self.last
        for data in run:
            if sniff and (len(data) < 3 or data[1] != 34 or data[2] == 101):  # error_sniff(data), inline
                reader.raise_if_error(None, data)
            try:
                last = strict(data)
            except msgspec.DecodeError:
                last = reader.lenient(data, self.cast)
            yield last
        self.last = last

    def special(self, event: str, data: bytes) -> Any:
        self.last = self.reader.special(event, data, self.cast)
        return self.last

    def end(self) -> None:
        _ending_for(self.cast)(self.reader, self.last)


class AsyncStream(Generic[T]):
    """The events of one streamed response, decoded into ``T``.

    Attributes:
        max_event_size: the longest SSE line or event accepted (bytes, 16 MiB by default); past it the stream
            raises ``StreamEventTooLargeError`` and closes its connection. Set it on the class for every
            stream (``openai_async.AsyncStream.max_event_size = 64 << 20``), before the stream is made.
    """

    max_event_size: int = MAX_EVENT_SIZE

    def __init__(self, response: Response, cast: Any, on_end: Callable[[Any], None] | None = None) -> None:
        self.response = response
        self.headers: Mapping[str, str] = response.headers
        self.status_code = response.status
        self._reader = _Reader(response, on_end, self.max_event_size)
        self._events: AsyncGenerator[T, None] = stream_loop(self._reader, _RawFold(self._reader, cast))

    def _loop_with(self, fold: Callable[[_Reader], Fold]) -> AsyncGenerator[Any, None]:
        """Strictly private, for the stream helpers; call it before iterating. From now on the events are those
        of ``stream_loop`` over ``fold(reader)``, in place of the raw fold. Returns the loop."""
        self._events = stream_loop(self._reader, fold(self._reader))
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
        # call, and its state lives in local variables. ``async for`` over the stream gets it directly, and from
        # then on the generator owns the connection (see ``stream_loop``): the stream may be dropped at once.
        self._reader.handed = True
        return self._events

    async def __anext__(self) -> T:
        return await self._events.__anext__()

    async def aclose(self) -> None:
        """Stop reading and close the connection (it cannot be reused half-read)."""
        reader = self._reader
        if not reader.done or not self.response.closed:
            reader.done = True
            self.response.close()
        if not (reader.reading or reader.passing):  # suspended between two events (or not started): finish it
            await self._events.aclose()

    close = aclose

    async def __aenter__(self) -> AsyncStream[T]:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    def __del__(self) -> None:
        # Dropped before its events were handed out (never iterated, or only through ``__anext__``, which the
        # stream holds): nothing else will close the connection. Once handed out, the loop owns it.
        reader = getattr(self, "_reader", None)
        if reader is not None and not reader.handed and not reader.response.closed:
            reader.response.close()

    async def until_done(self) -> None:
        """Read the stream to its end, discarding the events."""
        async for _ in self:
            pass

    def __repr__(self) -> str:
        return f"<AsyncStream [{self.status_code}] request_id={self.request_id!r}>"


class OverRawStream:
    """Strictly private. What a helper's event stream (chat, Responses) tells of the raw ``AsyncStream`` it reads."""

    _raw: AsyncStream[Any]

    @property
    def response(self) -> Any:
        """The underlying ``aiohttp.ClientResponse``."""
        return self._raw.response

    @property
    def request_id(self) -> str | None:
        """The ``x-request-id`` of the response."""
        return self._raw.request_id

    @property
    def rate_limits(self) -> RateLimitInfo:
        """The ``x-ratelimit-*`` headers of the response, parsed."""
        return self._raw.rate_limits
