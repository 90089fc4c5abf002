"""``client.chat.completions.stream()``: typed high-level events over a chat completion stream, in O(n).

Each chunk is yielded as a ``ChunkEvent`` followed by the events it implies (``content.delta``,
``refusal.delta``, ``tool_calls.function.arguments.delta``, ``logprobs.*.delta`` and, when a part ends,
the matching ``*.done``), with the official SDK's event names and fields.

Speed: the accumulator never rebuilds anything per chunk. Each choice keeps lists of text fragments
(content, refusal, each tool call's arguments) and logprob tokens; ``snapshot`` values are properties that join
the fragments on access and cache the result until the next fragment arrives, so reading every snapshot costs
what the official SDK pays anyway, and not reading them costs nothing. ``ContentDeltaEvent.snapshot`` and
``FunctionToolCallArgumentsDeltaEvent.arguments`` are exact for the event (they remember their fragment count);
``ChunkEvent.snapshot`` and ``stream.current_completion_snapshot`` show the stream as of the latest chunk read.
With a typed ``response_format`` (or typed/strict tools), ``ContentDeltaEvent.parsed`` (``parsed_arguments``)
is the JSON received so far, from an incremental scanner that reads each character once (``PartialJSON``).
Events are ``msgspec.Struct``s (cheap to build); ``type`` is a field, as in the official SDK's models. On the
stream, a chunk that only adds text is decoded into a slim type and its ``ChunkEvent.chunk`` on first access
(see ``_ChunkFold``).
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Iterator
from typing import TYPE_CHECKING, Any, Generic, Literal, TypeVar, Union, cast

import msgspec

from ..._core.decode import decode, decoder_for
from ..._core.streaming import OverRawStream, error_sniff, needs_sniff
from ...types.chat import (
    ChatCompletionResponseMessageFunctionCall,
    ChatCompletionTokenLogprob,
    CreateChatCompletionResponseChoicesItemLogprobs,
    CreateChatCompletionStreamResponse,
)
from ..structured import (
    ParsedChatCompletion,
    ParsedChatCompletionMessage,
    ParsedChoice,
    ParsedFunction,
    ParsedFunctionToolCall,
    PartialJSON,
    check_finish_reason,
    is_rich_format,
    parse_arguments,
    parse_json,
    tool_types,
)

if TYPE_CHECKING:
    from types import TracebackType

    from ..._core.streaming import AsyncStream, _Reader

__all__ = [
    "ChatCompletionStream",
    "ChatCompletionStreamEvent",
    "ChatCompletionStreamManager",
    "ChatCompletionStreamState",
    "ChunkEvent",
    "ContentDeltaEvent",
    "ContentDoneEvent",
    "FunctionToolCallArgumentsDeltaEvent",
    "FunctionToolCallArgumentsDoneEvent",
    "LogprobsContentDeltaEvent",
    "LogprobsContentDoneEvent",
    "LogprobsRefusalDeltaEvent",
    "LogprobsRefusalDoneEvent",
    "RefusalDeltaEvent",
    "RefusalDoneEvent",
]

T = TypeVar("T")


class _Parts(list):  # type: ignore[type-arg]
    """Strictly private. Text fragments, joined lazily: ``text(n)`` is the first ``n`` fragments, cached.

    With ``partial`` set (typed/strict JSON output), ``partial_value(n)`` is the JSON received so far, parsed.
    """

    __slots__ = ("_n", "_pn", "_s", "partial")

    def __init__(self, partial: PartialJSON | None = None) -> None:
        self._n = 0
        self._s = ""
        self._pn = 0
        self.partial = partial

    def text(self, n: int | None = None) -> str:
        if n is None:
            n = len(self)
        cached = self._n
        if n == cached:
            return self._s
        if n > cached:
            s = self._s + "".join(self[cached:n]) if cached else "".join(self[:n])
            self._n = n
            self._s = s
            return s
        return "".join(self[:n])

    def partial_value(self, n: int) -> Any:
        scanner = self.partial
        if scanner is None:
            return None
        if n < self._pn:  # an older event: scan its prefix afresh
            return PartialJSON().value(self.text(n))
        self._pn = n
        return scanner.value(self.text(n))


# -- events ------------------------------------------------------------------------------------------------
# msgspec Structs with gc=False: ~15x cheaper to build than a Python class, which matters at one or two events
# per chunk. They never take part in reference cycles (they point at fragments and the state, never back).
# Fields starting with "_" are the strictly private references the lazy snapshots read.


class _Event(msgspec.Struct, gc=False):
    def __repr__(self) -> str:
        fields = ", ".join(
            f"{n}={getattr(self, n)!r}" for n in self.__struct_fields__ if not n.startswith("_")
        )
        return f"{type(self).__name__}({fields})"


class ChunkEvent(_Event):
    """Every chunk, as received, first among the events it causes."""

    _chunk: Any  # the decoded chunk, or its JSON bytes until ``chunk`` is first read
    _state: Any
    type: Literal["chunk"] = "chunk"

    @property
    def chunk(self) -> CreateChatCompletionStreamResponse:
        """The chunk, decoded on first access (the stream's text fast path reads only what it needs of it)."""
        chunk = self._chunk
        if type(chunk) is bytes:
            chunk = self._chunk = _decode_chunk(chunk)
        return chunk  # type: ignore[no-any-return]

    @property
    def snapshot(self) -> ParsedChatCompletion[Any]:
        """The completion accumulated so far (as of the latest chunk read; built on access, then cached)."""
        return self._state.current_completion_snapshot  # type: ignore[no-any-return]

    def __repr__(self) -> str:
        return f"ChunkEvent(chunk={self.chunk!r})"


class ContentDeltaEvent(_Event):
    """A piece of the message content of choice ``choice_index``."""

    delta: str
    choice_index: int
    _parts: _Parts
    _n: int
    type: Literal["content.delta"] = "content.delta"

    @property
    def snapshot(self) -> str:
        """The content up to and including this delta."""
        return self._parts.text(self._n)

    @property
    def parsed(self) -> Any:
        """With a typed ``response_format``: the JSON content so far, parsed leniently (dicts and lists; partial
        strings included), else None. Computed on access in O(new text); ``content.done`` has the typed value."""
        return self._parts.partial_value(self._n)


class ContentDoneEvent(_Event, Generic[T]):
    """The message content of a choice is complete; ``parsed`` holds it decoded into ``response_format``."""

    content: str
    parsed: T | None
    choice_index: int
    type: Literal["content.done"] = "content.done"


class RefusalDeltaEvent(_Event):
    """A piece of a refusal."""

    delta: str
    choice_index: int
    _parts: _Parts
    _n: int
    type: Literal["refusal.delta"] = "refusal.delta"

    @property
    def snapshot(self) -> str:
        """The refusal up to and including this delta."""
        return self._parts.text(self._n)


class RefusalDoneEvent(_Event):
    """The refusal of a choice is complete."""

    refusal: str
    choice_index: int
    type: Literal["refusal.done"] = "refusal.done"


class FunctionToolCallArgumentsDeltaEvent(_Event):
    """A piece of the arguments of tool call ``index`` (``arguments`` is the text so far)."""

    name: str | None
    index: int
    arguments_delta: str
    choice_index: int
    _parts: _Parts
    _n: int
    type: Literal["tool_calls.function.arguments.delta"] = "tool_calls.function.arguments.delta"

    @property
    def arguments(self) -> str:
        """The arguments up to and including this delta."""
        return self._parts.text(self._n)

    @property
    def parsed_arguments(self) -> Any:
        """For typed or strict tools: the arguments so far, parsed leniently (dicts and lists), else None.
        Computed on access in O(new text); the ``done`` event has the typed value."""
        return self._parts.partial_value(self._n)


class FunctionToolCallArgumentsDoneEvent(_Event):
    """The arguments of tool call ``index`` are complete; ``parsed_arguments`` is set for typed/strict tools."""

    name: str | None
    index: int
    arguments: str
    parsed_arguments: Any
    choice_index: int
    type: Literal["tool_calls.function.arguments.done"] = "tool_calls.function.arguments.done"


class LogprobsContentDeltaEvent(_Event):
    """New content token logprobs (``snapshot``: all of them so far)."""

    content: list[ChatCompletionTokenLogprob]
    choice_index: int
    _tokens: list[ChatCompletionTokenLogprob]
    _n: int
    type: Literal["logprobs.content.delta"] = "logprobs.content.delta"

    @property
    def snapshot(self) -> list[ChatCompletionTokenLogprob]:
        """Every content token logprob up to and including this delta (a new list)."""
        return self._tokens[: self._n]


class LogprobsContentDoneEvent(_Event):
    """All content token logprobs of a choice."""

    content: list[ChatCompletionTokenLogprob]
    choice_index: int
    type: Literal["logprobs.content.done"] = "logprobs.content.done"


class LogprobsRefusalDeltaEvent(_Event):
    """New refusal token logprobs (``snapshot``: all of them so far)."""

    refusal: list[ChatCompletionTokenLogprob]
    choice_index: int
    _tokens: list[ChatCompletionTokenLogprob]
    _n: int
    type: Literal["logprobs.refusal.delta"] = "logprobs.refusal.delta"

    @property
    def snapshot(self) -> list[ChatCompletionTokenLogprob]:
        """Every refusal token logprob up to and including this delta (a new list)."""
        return self._tokens[: self._n]


class LogprobsRefusalDoneEvent(_Event):
    """All refusal token logprobs of a choice."""

    refusal: list[ChatCompletionTokenLogprob]
    choice_index: int
    type: Literal["logprobs.refusal.done"] = "logprobs.refusal.done"


ChatCompletionStreamEvent = Union[  # noqa: UP007 (a runtime alias users can put in annotations on 3.9)
    ChunkEvent,
    ContentDeltaEvent,
    ContentDoneEvent[T],
    RefusalDeltaEvent,
    RefusalDoneEvent,
    FunctionToolCallArgumentsDeltaEvent,
    FunctionToolCallArgumentsDoneEvent,
    LogprobsContentDeltaEvent,
    LogprobsContentDoneEvent,
    LogprobsRefusalDeltaEvent,
    LogprobsRefusalDoneEvent,
]


# -- accumulation ----------------------------------------------------------------------------------------


class _ToolCall:
    __slots__ = ("args", "done", "id", "index", "name", "parsed")

    def __init__(self, index: int) -> None:
        self.index = index
        self.id: str | None = None
        self.name: str | None = None
        self.args = _Parts()
        self.done = False
        self.parsed: Any = None


class _Choice:
    __slots__ = (
        "content",
        "content_done",
        "current_tool",
        "finish_reason",
        "function_args",
        "function_name",
        "index",
        "logprobs",
        "lp_content",
        "lp_content_done",
        "lp_refusal",
        "lp_refusal_done",
        "parsed",
        "refusal",
        "refusal_done",
        "role",
        "tools",
    )

    def __init__(self, index: int) -> None:
        self.index = index
        self.role: str | None = None
        self.content: _Parts | None = None
        self.refusal: _Parts | None = None
        self.tools: dict[int, _ToolCall] | None = None
        self.current_tool: int | None = None
        self.function_name: str | None = None
        self.function_args: _Parts | None = None
        self.logprobs = False
        self.lp_content: list[ChatCompletionTokenLogprob] | None = None
        self.lp_refusal: list[ChatCompletionTokenLogprob] | None = None
        self.finish_reason: str | None = None
        self.content_done = self.refusal_done = self.lp_content_done = self.lp_refusal_done = False
        self.parsed: Any = None


class _TextDelta(msgspec.Struct, forbid_unknown_fields=True, gc=False):
    """Strictly private. The only delta the fast path takes: text, and nothing else set (``None`` fields only
    decode ``null``; an unknown field fails too)."""

    content: str | None = None
    role: None = None
    refusal: None = None
    tool_calls: None = None
    function_call: None = None


class _TextChoice(msgspec.Struct, forbid_unknown_fields=True, gc=False):
    """Strictly private: a choice with no logprobs and no finish_reason."""

    index: int | None = None
    delta: _TextDelta = msgspec.field(default_factory=_TextDelta)
    logprobs: None = None
    finish_reason: None = None


class _TextChunk(msgspec.Struct, gc=False):
    """Strictly private: a chunk with no usage (other top-level fields are left to the full decode)."""

    choices: list[_TextChoice] = []
    usage: None = None


_decode_text_chunk = msgspec.json.Decoder(_TextChunk).decode
_MAX_MISSES = 4  # a text stream misses on its first, last and usage chunks


def _decode_chunk(data: bytes) -> CreateChatCompletionStreamResponse:
    return decode(data, CreateChatCompletionStreamResponse)


class ChatCompletionStreamState(Generic[T]):
    """The accumulator behind ``ChatCompletionStream``; usable on its own: ``handle(chunk)`` returns the events.

    Args:
        response_format: a type (decoded into ``parsed``) or the ``response_format`` dict that was sent.
        tools: the ``tools`` that were sent (``function_tool(...)`` entries get typed ``parsed_arguments``).
    """

    def __init__(self, *, response_format: Any = None, tools: Any = None) -> None:
        self._format = response_format if is_rich_format(response_format) else None
        self._tool_types = tool_types(tools)
        self._strict = self._format is not None or any(t is not dict for t in self._tool_types.values())
        self._choices: dict[int | None, _Choice] = {}
        self._meta: CreateChatCompletionStreamResponse | None = None
        self._usage: Any = None
        self._last: Any = None  # the latest chunk, or its JSON bytes (see ``_ChunkFold``)
        self._snapshot: tuple[Any, ParsedChatCompletion[T]] | None = None
        self._misses = 0  # chunks that the stream's fast path could not take (see ``_ChunkFold``)
        self._texts: dict[
            Any, tuple[_Parts, int]
        ] = {}  # choice ``index`` -> its content fragments, its index

    def handle(self, chunk: CreateChatCompletionStreamResponse) -> list[ChatCompletionStreamEvent[T]]:
        """Fold one chunk into the state and return its events (the ``ChunkEvent`` first)."""
        self._last = chunk
        if chunk.usage is not None:
            self._usage = chunk.usage
        events: list[Any] = [ChunkEvent(chunk, self)]
        for c in chunk.choices or ():
            st = self._choices.get(c.index)
            if st is None:
                st = self._new_choice(c.index, chunk)
            self._fold_choice(st, c, c.delta, events)
        return events

    handle_chunk = handle  # the official SDK's name

    def _content_parts(self) -> _Parts:
        return _Parts(PartialJSON() if self._format is not None else None)

    def _new_choice(self, index: int | None, chunk: CreateChatCompletionStreamResponse) -> _Choice:
        if self._meta is None:
            self._meta = chunk
        st = self._choices[index] = _Choice(index or 0)
        return st

    def _fold_choice(self, st: _Choice, c: Any, d: Any, events: Any) -> None:
        i = st.index
        if d is not None:
            text = d.content
            if text is not None:
                parts = st.content
                if parts is None:
                    parts = st.content = self._content_parts()
                    self._texts[c.index] = parts, i
                parts.append(text)
                events.append(ContentDeltaEvent(text, i, parts, len(parts)))
            if d.role is not None:
                st.role = d.role
            if d.refusal is not None:
                parts = st.refusal
                if parts is None:
                    parts = st.refusal = _Parts()
                parts.append(d.refusal)
                events.append(RefusalDeltaEvent(d.refusal, i, parts, len(parts)))
            if d.tool_calls:
                self._tool_deltas(st, d.tool_calls, events)
            if d.function_call is not None:
                fc = d.function_call
                if fc.name is not None:
                    st.function_name = fc.name
                if fc.arguments is not None:
                    if st.function_args is None:
                        st.function_args = _Parts()
                    st.function_args.append(fc.arguments)
        lp = c.logprobs
        if lp is not None:
            st.logprobs = True
            if lp.content is not None:
                tokens = st.lp_content
                if tokens is None:
                    tokens = st.lp_content = []
                if lp.content:
                    tokens.extend(lp.content)
                    events.append(LogprobsContentDeltaEvent(lp.content, i, tokens, len(tokens)))
            if lp.refusal is not None:
                tokens = st.lp_refusal
                if tokens is None:
                    tokens = st.lp_refusal = []
                if lp.refusal:
                    tokens.extend(lp.refusal)
                    events.append(LogprobsRefusalDeltaEvent(lp.refusal, i, tokens, len(tokens)))
        if c.finish_reason is not None:
            st.finish_reason = c.finish_reason
            if self._strict:
                check_finish_reason(self.current_completion_snapshot, c.finish_reason)
            self._content_done(st, events)
            if st.current_tool is not None and st.tools is not None:
                self._tool_done(st, st.tools[st.current_tool], events)
            # check_finish_reason built (and cached) a snapshot before the parsed values above were set.
            self._snapshot = None

    def _tool_deltas(self, st: _Choice, deltas: list[Any], events: list[Any]) -> None:
        tools = st.tools
        if tools is None:
            tools = st.tools = {}
        for td in deltas:
            index = td.index or 0
            if st.current_tool != index:
                # A new tool call starts: the content before it, and the previous call, are complete.
                self._content_done(st, events)
                if st.current_tool is not None:
                    self._tool_done(st, tools[st.current_tool], events)
                st.current_tool = index
            tc = tools.get(index)
            if tc is None:
                tc = tools[index] = _ToolCall(index)
            if td.id is not None:
                tc.id = td.id
            fn = td.function
            if fn is not None:
                if fn.name is not None:
                    tc.name = fn.name
                    if fn.name in self._tool_types and tc.args.partial is None:
                        tc.args.partial = PartialJSON()
                args = fn.arguments
                if args is not None:
                    tc.args.append(args)
                events.append(
                    FunctionToolCallArgumentsDeltaEvent(
                        tc.name, index, args or "", st.index, tc.args, len(tc.args)
                    )
                )

    def _tool_done(self, st: _Choice, tc: _ToolCall, events: list[Any]) -> None:
        if tc.done:
            return
        tc.done = True
        arguments = tc.args.text()
        tc.parsed = parse_arguments(self._tool_types, tc.name, arguments)
        events.append(FunctionToolCallArgumentsDoneEvent(tc.name, tc.index, arguments, tc.parsed, st.index))

    def _content_done(self, st: _Choice, events: list[Any]) -> None:
        if st.content is not None and not st.content_done:
            content = st.content.text()
            if content:
                st.content_done = True
                if self._format is not None and st.refusal is None:
                    st.parsed = parse_json(self._format, content)
                events.append(ContentDoneEvent(content, st.parsed, st.index))
        if st.refusal is not None and not st.refusal_done:
            st.refusal_done = True
            events.append(RefusalDoneEvent(st.refusal.text(), st.index))
        if st.lp_content is not None and not st.lp_content_done:
            st.lp_content_done = True
            events.append(LogprobsContentDoneEvent(st.lp_content, st.index))
        if st.lp_refusal is not None and not st.lp_refusal_done:
            st.lp_refusal_done = True
            events.append(LogprobsRefusalDoneEvent(st.lp_refusal, st.index))

    @property
    def current_completion_snapshot(self) -> ParsedChatCompletion[T]:
        """The completion accumulated so far, built on access and cached until the next chunk."""
        cached = self._snapshot
        if cached is not None and cached[0] is self._last:
            return cached[1]
        snapshot = self._build()
        self._snapshot = (self._last, snapshot)
        return snapshot

    def get_final_completion(self) -> ParsedChatCompletion[T]:
        """The completion as the non-streaming API would have returned it (after the last chunk).

        Raises:
            LengthFinishReasonError / ContentFilterFinishReasonError: a choice stopped at the token limit or was
                filtered (as ``parse()`` and the official SDK's ``get_final_completion()`` do, typed or not).
        """
        completion = self.current_completion_snapshot
        for choice in completion.choices:
            check_finish_reason(completion, choice.finish_reason)
        return completion

    def _build(self) -> ParsedChatCompletion[T]:
        # Fields the spec requires are typed non-optional; one the stream never sent stays None, as when decoded.
        last = self._last
        if type(last) is bytes:
            last = _decode_chunk(last)
        meta = self._meta or last
        choices = []
        for st in sorted({id(st): st for st in self._choices.values()}.values(), key=lambda st: st.index):
            i = st.index
            tool_calls = None
            if st.tools:
                tool_calls = [
                    ParsedFunctionToolCall(
                        id=cast(str, tc.id),
                        function=ParsedFunction(
                            name=cast(str, tc.name), arguments=tc.args.text(), parsed_arguments=tc.parsed
                        ),
                    )
                    for _, tc in sorted(st.tools.items())
                ]
            function_call = None
            if st.function_name is not None or st.function_args is not None:
                function_call = ChatCompletionResponseMessageFunctionCall(
                    name=cast(str, st.function_name),
                    arguments=st.function_args.text() if st.function_args else "",
                )
            message: ParsedChatCompletionMessage[T] = ParsedChatCompletionMessage(
                role=st.role or "assistant",
                content=st.content.text() if st.content is not None else None,
                refusal=st.refusal.text() if st.refusal is not None else None,
                tool_calls=tool_calls,
                function_call=function_call,
                annotations=[],
                parsed=st.parsed,
            )
            logprobs = None
            if st.logprobs:
                logprobs = CreateChatCompletionResponseChoicesItemLogprobs(
                    content=st.lp_content, refusal=st.lp_refusal
                )
            choices.append(
                ParsedChoice(
                    index=i, message=message, finish_reason=cast(str, st.finish_reason), logprobs=logprobs
                )
            )
        return ParsedChatCompletion(
            id=cast(str, meta.id if meta else None),
            object="chat.completion",
            created=cast(int, meta.created if meta else None),
            model=cast(str, meta.model if meta else None),
            choices=choices,
            usage=self._usage,
            system_fingerprint=_latest(last, meta, "system_fingerprint"),
            service_tier=_latest(last, meta, "service_tier"),
        )


def _latest(last: Any, first: Any, name: str) -> Any:
    value = getattr(last, name, None)
    return value if value is not None else getattr(first, name, None)


# -- the stream ------------------------------------------------------------------------------------------


class _ChunkFold:
    """The fold of a chat completion stream, for ``stream_loop``: each chunk decoded and folded into the state,
    then yielded as its events. Strictly private.

    The hot path is ``events``, inline. Most chunks carry one more piece of text for one choice already streaming
    content: those are decoded into ``_TextChunk`` (a few fields, no GC tracking; the chunk itself is decoded
    only if someone reads ``ChunkEvent.chunk``), which also proves that nothing else is set in them (so no error
    sniff either). A chunk of any other shape (or with other than one choice, or for a choice with no content
    yet) goes through ``state.handle`` fully decoded; after a few shape failures (tool calls, logprobs: every
    chunk would fail) the loop stops trying. ``handle(chunk)`` on the decoded chunks gives the same events (a
    test holds it).
    """

    __slots__ = ("last", "reader", "sniff", "state", "strict")

    def __init__(self, reader: _Reader, state: ChatCompletionStreamState[Any]) -> None:
        self.reader = reader
        self.state = state
        self.strict = decoder_for(CreateChatCompletionStreamResponse).decode
        self.sniff = needs_sniff(CreateChatCompletionStreamResponse)
        self.last: Any = None  # the latest payload: on_end reads its usage

    def events(self, run: list[bytes]) -> Iterator[Any]:
        state, reader, strict, sniff = self.state, self.reader, self.strict, self.sniff
        texts = state._texts
        for data in run:
            if state._misses < _MAX_MISSES:
                try:
                    (c,) = _decode_text_chunk(data).choices
                    parts, index = texts[c.index]  # KeyError: the choice has no content yet
                except (msgspec.DecodeError, ValueError):
                    state._misses += 1
                except KeyError:
                    pass
                else:
                    state._last = data
                    text = c.delta.content
                    if text is None:
                        yield ChunkEvent(data, state)
                    else:  # folded before the ChunkEvent goes out: its snapshot has the text
                        parts.append(text)
                        yield ChunkEvent(data, state)
                        yield ContentDeltaEvent(text, index, parts, len(parts))
                    continue
            if sniff and error_sniff(data):
                reader.raise_if_error(None, data)
            try:
                chunk = strict(data)
            except msgspec.DecodeError:
                chunk = reader.lenient(data, CreateChatCompletionStreamResponse)
            yield from state.handle(chunk)  # a helper's verdict raises here
        if run:
            self.last = run[-1]

    def special(self, event: str, data: bytes) -> Any:
        return self.reader.special(event, data, CreateChatCompletionStreamResponse)

    def end(self) -> None:
        """Without ``[DONE]`` the stream is whole only if every choice finished (some servers omit it)."""
        if self.reader.ended:
            return
        choices = self.state._choices.values()
        if not choices or any(st.finish_reason is None for st in choices):
            raise self.reader.truncated("no [DONE] and a choice never finished")


class ChatCompletionStream(OverRawStream, Generic[T]):
    """The events of one streamed chat completion; iterate it inside ``async with ...stream(...) as stream``."""

    def __init__(
        self, raw: AsyncStream[CreateChatCompletionStreamResponse], state: ChatCompletionStreamState[T]
    ) -> None:
        self._raw = raw
        self._state = state
        self._events: AsyncGenerator[ChatCompletionStreamEvent[T], None] = raw._loop_with(
            lambda reader: _ChunkFold(reader, state)
        )

    def __aiter__(self) -> AsyncIterator[ChatCompletionStreamEvent[T]]:
        # The loop itself (no ``__anext__`` coroutine per event), which owns the connection from now on.
        return self._raw.__aiter__()

    async def __anext__(self) -> ChatCompletionStreamEvent[T]:
        return await self._events.__anext__()

    @property
    def current_completion_snapshot(self) -> ParsedChatCompletion[T]:
        """The completion accumulated so far (built on access, cached until the next chunk)."""
        return self._state.current_completion_snapshot

    async def until_done(self) -> ChatCompletionStream[T]:
        """Read the rest of the stream (events not yet iterated are dropped; the state keeps everything)."""
        async for _ in self._events:
            pass
        return self

    async def get_final_completion(self) -> ParsedChatCompletion[T]:
        """Read the rest of the stream and return the whole completion, as the non-streaming API returns it.

        Raises:
            LengthFinishReasonError / ContentFilterFinishReasonError: a choice stopped at the token limit or was
                filtered (while iterating, only with a typed ``response_format`` or typed tools, as officially).
        """
        await self.until_done()
        return self._state.get_final_completion()

    def text_deltas(self, choice_index: int = 0) -> AsyncIterator[str]:
        """Iterate only the content text pieces of one choice: ``async for text in stream.text_deltas(): ...``."""
        return _text_deltas(self._raw.__aiter__(), choice_index)

    async def close(self) -> None:
        """Stop reading and close the connection."""
        await self._raw.aclose()

    aclose = close

    async def __aenter__(self) -> ChatCompletionStream[T]:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    def __repr__(self) -> str:
        return f"<ChatCompletionStream request_id={self.request_id!r}>"


async def _text_deltas(events: AsyncIterator[Any], choice: int) -> AsyncGenerator[str, None]:
    async for event in events:
        if type(event) is ContentDeltaEvent and event.choice_index == choice:
            yield event.delta


class ChatCompletionStreamManager(Generic[T]):
    """What ``client.chat.completions.stream(...)`` returns: ``async with`` it to send the request."""

    def __init__(
        self,
        request: Callable[[], Awaitable[AsyncStream[CreateChatCompletionStreamResponse]]],
        state: ChatCompletionStreamState[T],
    ) -> None:
        self._request = request
        self._state = state
        self._stream: ChatCompletionStream[T] | None = None

    async def __aenter__(self) -> ChatCompletionStream[T]:
        raw = await self._request()
        self._stream = ChatCompletionStream(raw, self._state)
        return self._stream

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._stream is not None:
            await self._stream.close()
