"""``AsyncAssistantEventHandler``: a run's event stream, folded into snapshots, with a callback per happening.

    class Printer(AsyncAssistantEventHandler):
        async def on_text_delta(self, delta, snapshot):
            print(delta.value, end="")

    async with client.beta.threads.runs.stream(thread_id=t, assistant_id=a, event_handler=Printer()) as stream:
        await stream.until_done()

The handler is also the stream: ``async for event in stream`` yields the typed events; ``stream.text_deltas``
yields only the text fragments; ``get_final_run()`` / ``get_final_messages()`` / ``get_final_run_steps()`` read to
the end and return the snapshots. The callbacks and their order are the official SDK's (``on_text_created`` before
the first ``on_text_delta`` of a block, ``on_text_done`` when the next block starts or the message completes,
``on_tool_call_created`` / ``_delta`` / ``_done`` the same way for the tool calls of a run step).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable
from typing import TYPE_CHECKING, Any, Generic, TypeVar

import msgspec

from ..._core.decode import convert
from ..._core.errors import APITimeoutError
from ...types.assistants import (
    MessageContentImageFileObject,
    MessageContentImageUrlObject,
    MessageContentRefusalObject,
    MessageContentTextObject,
    MessageObject,
    RunObject,
    RunStepObject,
)
from .deltas import merge_delta
from .events import to_event

if TYPE_CHECKING:
    from ..._core.streaming import AsyncStream

__all__ = ["AsyncAssistantEventHandler", "AsyncAssistantEventHandlerT", "AsyncAssistantStreamManager"]

MessageContent = (
    MessageContentImageFileObject
    | MessageContentImageUrlObject
    | MessageContentTextObject
    | MessageContentRefusalObject
)
_RUN_SETTLED = frozenset(
    {
        "thread.run.completed",
        "thread.run.cancelled",
        "thread.run.expired",
        "thread.run.failed",
        "thread.run.requires_action",
        "thread.run.incomplete",
    }
)
_RUN_MOVING = frozenset(
    {"thread.run.created", "thread.run.in_progress", "thread.run.cancelling", "thread.run.queued"}
)
_STEP_ENDED = frozenset(
    {
        "thread.run.step.completed",
        "thread.run.step.cancelled",
        "thread.run.step.expired",
        "thread.run.step.failed",
    }
)


def _dump(obj: Any) -> dict[str, Any]:
    return msgspec.to_builtins(obj) if isinstance(obj, msgspec.Struct) else dict(obj)


class AsyncAssistantEventHandler:
    """The events of one Assistants run stream, with a callback per happening; subclass it and override the
    ``on_*`` coroutines you need. One handler serves one stream."""

    text_deltas: AsyncIterator[str]
    """The text fragments of the run's messages, in order (``async for text in stream.text_deltas``)."""

    def __init__(self) -> None:
        self._stream: AsyncStream[Any] | None = None
        self._ended = False
        self._current_event: Any = None
        self._current_run: RunObject | None = None
        self._current_step_id: str | None = None
        self._steps: dict[str, RunStepObject] = {}
        self._messages: dict[str, MessageObject] = {}
        self._message: MessageObject | None = None
        self._content_index: int | None = None
        self._content: Any = None
        self._tool_call_index: int | None = None
        self._tool_call: Any = None
        self.text_deltas = self._text_deltas()

    def _init(self, stream: AsyncStream[Any]) -> None:
        """Strictly private: attach the response (once)."""
        if self._stream is not None:
            raise RuntimeError(
                "An event handler serves one stream only: create a new handler for each stream."
            )
        self._stream = stream

    # -- the stream -------------------------------------------------------------------------------------------

    def __aiter__(self) -> AsyncAssistantEventHandler:
        return self

    async def __anext__(self) -> Any:
        if self._stream is None:
            raise RuntimeError(
                "The stream has not started: use `async with client.beta.threads.runs.stream(...)`."
            )
        if self._ended:
            raise StopAsyncIteration
        try:
            item = await self._stream.__anext__()
            event = to_event(item)
            await self._emit(event)
        except StopAsyncIteration:
            await self._end()
            raise
        except (APITimeoutError, TimeoutError) as exc:
            self._ended = True
            await self.on_timeout()
            await self.on_exception(exc)
            await self.on_end()
            raise
        except Exception as exc:
            self._ended = True
            await self.on_exception(exc)
            await self.on_end()
            raise
        return event

    async def _end(self) -> None:
        if not self._ended:
            self._ended = True
            await self.on_end()

    async def close(self) -> None:
        """Close the response and release the connection (done on leaving the ``async with`` block)."""
        if self._stream is not None:
            await self._stream.close()

    async def until_done(self) -> None:
        """Read the stream to its end."""
        async for _ in self:
            pass

    async def _text_deltas(self) -> AsyncIterator[str]:
        async for event in self:
            if event.event != "thread.message.delta" or event.data is None or event.data.delta is None:
                continue
            for part in event.data.delta.content or ():
                if part.type == "text" and part.text is not None and part.text.value:
                    yield part.text.value

    @property
    def current_event(self) -> Any:
        """The event being handled (None between events)."""
        return self._current_event

    @property
    def current_run(self) -> RunObject | None:
        """The run as last sent."""
        return self._current_run

    @property
    def current_run_step_snapshot(self) -> RunStepObject | None:
        """The run step in progress, with its deltas folded in."""
        return None if self._current_step_id is None else self._steps[self._current_step_id]

    @property
    def current_message_snapshot(self) -> MessageObject | None:
        """The message being written, with its deltas folded in."""
        return self._message

    async def get_final_run(self) -> RunObject:
        """Read to the end; the run as last sent."""
        await self.until_done()
        if self._current_run is None:
            raise RuntimeError("The stream ended without a run object.")
        return self._current_run

    async def get_final_run_steps(self) -> list[RunStepObject]:
        """Read to the end; the run's steps, deltas folded in."""
        await self.until_done()
        if not self._steps:
            raise RuntimeError("The stream ended without run steps.")
        return list(self._steps.values())

    async def get_final_messages(self) -> list[MessageObject]:
        """Read to the end; the messages the run wrote."""
        await self.until_done()
        if not self._messages:
            raise RuntimeError("The stream ended without messages.")
        return list(self._messages.values())

    # -- callbacks (override these) ---------------------------------------------------------------------------

    async def on_end(self) -> None:
        """The stream ended: read to its end, or stopped by an error."""

    async def on_event(self, event: Any) -> None:
        """Every event, before the more specific callbacks."""

    async def on_run_step_created(self, run_step: RunStepObject) -> None:
        """A run step started."""

    async def on_run_step_delta(self, delta: Any, snapshot: RunStepObject) -> None:
        """A run step delta (``delta``, as sent) and the step with every delta so far folded in."""

    async def on_run_step_done(self, run_step: RunStepObject) -> None:
        """A run step completed, failed, was cancelled or expired."""

    async def on_tool_call_created(self, tool_call: Any) -> None:
        """A tool call of a run step started."""

    async def on_tool_call_delta(self, delta: Any, snapshot: Any) -> None:
        """A tool call fragment, and the tool call so far."""

    async def on_tool_call_done(self, tool_call: Any) -> None:
        """A tool call is complete."""

    async def on_exception(self, exception: Exception) -> None:
        """An error stopped the stream (it is raised to the reader next)."""

    async def on_timeout(self) -> None:
        """The stream timed out."""

    async def on_message_created(self, message: MessageObject) -> None:
        """A message was created."""

    async def on_message_delta(self, delta: Any, snapshot: MessageObject) -> None:
        """A message delta (as sent) and the message so far."""

    async def on_message_done(self, message: MessageObject) -> None:
        """A message completed (or ended incomplete)."""

    async def on_text_created(self, text: Any) -> None:
        """A text block of a message started."""

    async def on_text_delta(self, delta: Any, snapshot: Any) -> None:
        """A text fragment (``delta.value``) and the block's text so far (``snapshot.value``)."""

    async def on_text_done(self, text: Any) -> None:
        """A text block is complete."""

    async def on_image_file_done(self, image_file: Any) -> None:
        """An image file block is complete."""

    # -- folding ----------------------------------------------------------------------------------------------

    def _fold_message(self, event: Any) -> list[int]:
        """Fold a message event into the current message snapshot; the indexes of new content blocks."""
        name = event.event
        if name == "thread.message.created":
            self._message = event.data
            if self._message is not None and self._message.content is None:
                self._message.content = []
            return []
        if name != "thread.message.delta":
            return []
        message = self._message
        if message is None:
            raise RuntimeError("A message delta arrived before its message was created.")
        created: list[int] = []
        content = message.content if message.content is not None else []
        message.content = content
        delta = event.data.delta if event.data is not None else None
        for part in (delta.content if delta is not None else None) or ():
            index = part.index or 0
            fragment = _dump(part)
            if index < len(content):
                content[index] = convert(merge_delta(_dump(content[index]), fragment), MessageContent)
            else:
                content.insert(index, convert(fragment, MessageContent))
                created.append(index)
        return created

    def _fold_step(self, event: Any) -> None:
        if event.event == "thread.run.step.created":
            self._steps[event.data.id] = event.data
        elif (
            event.event == "thread.run.step.delta" and event.data is not None and event.data.delta is not None
        ):
            snapshot = self._steps[event.data.id]
            merged = merge_delta(_dump(snapshot), _dump(event.data.delta))
            self._steps[event.data.id] = convert(merged, RunStepObject)

    async def _emit(self, event: Any) -> None:
        self._current_event = event
        await self.on_event(event)
        name = event.event
        created = self._fold_message(event)
        if self._message is not None and self._message.id is not None:
            self._messages[self._message.id] = self._message
        self._fold_step(event)
        for index in created:
            assert self._message is not None and self._message.content is not None
            block: Any = self._message.content[index]
            if block.type == "text":
                await self.on_text_created(block.text)

        if name in _RUN_SETTLED:
            self._current_run = event.data
            if self._tool_call is not None:
                await self.on_tool_call_done(self._tool_call)
        elif name in _RUN_MOVING:
            self._current_run = event.data
        elif name == "thread.message.created":
            await self.on_message_created(event.data)
        elif name == "thread.message.delta":
            await self._message_delta(event)
        elif name in ("thread.message.completed", "thread.message.incomplete"):
            await self._message_done(event.data)
        elif name == "thread.run.step.created":
            self._current_step_id = event.data.id
            await self.on_run_step_created(event.data)
        elif name == "thread.run.step.in_progress":
            self._current_step_id = event.data.id
        elif name == "thread.run.step.delta":
            await self._step_delta(event)
        elif name in _STEP_ENDED:
            if self._tool_call is not None:
                await self.on_tool_call_done(self._tool_call)
            await self.on_run_step_done(event.data)
            self._current_step_id = None
        self._current_event = None

    async def _message_delta(self, event: Any) -> None:
        snapshot = self._message
        assert snapshot is not None and snapshot.content is not None
        blocks: list[Any] = snapshot.content
        delta = event.data.delta
        for part in (delta.content if delta is not None else None) or ():
            index = part.index or 0
            if part.type == "text" and part.text is not None:
                await self.on_text_delta(part.text, blocks[index].text)
            if index != self._content_index:  # a new block: the previous one is done
                await self._block_done(self._content)
                self._content_index = index
            self._content = blocks[index]
        await self.on_message_delta(delta, snapshot)

    async def _block_done(self, block: Any) -> None:
        if block is None:
            return
        if block.type == "text":
            await self.on_text_done(block.text)
        elif block.type == "image_file":
            await self.on_image_file_done(block.image_file)

    async def _message_done(self, message: MessageObject) -> None:
        self._message = message
        if message.id is not None:
            self._messages[message.id] = message
        if self._content_index is not None and message.content and self._content_index < len(message.content):
            await self._block_done(message.content[self._content_index])
        await self.on_message_done(message)

    async def _step_delta(self, event: Any) -> None:
        snapshot = self._steps[event.data.id]
        delta = event.data.delta
        details = delta.step_details if delta is not None else None
        if details is not None and details.type == "tool_calls" and details.tool_calls is not None:
            calls: Any = snapshot.step_details.tool_calls  # type: ignore[union-attr]
            for call in details.tool_calls:
                index = call.index or 0
                if index == self._tool_call_index:
                    await self.on_tool_call_delta(call, calls[index])
                if index != self._tool_call_index:  # a new tool call: the previous one is done
                    if self._tool_call is not None:
                        await self.on_tool_call_done(self._tool_call)
                    self._tool_call_index = index
                    self._tool_call = calls[index]
                    await self.on_tool_call_created(self._tool_call)
                self._tool_call = calls[index]
        await self.on_run_step_delta(delta, snapshot)


AsyncAssistantEventHandlerT = TypeVar("AsyncAssistantEventHandlerT", bound=AsyncAssistantEventHandler)


class AsyncAssistantStreamManager(Generic[AsyncAssistantEventHandlerT]):
    """What ``runs.stream(...)`` returns: ``async with`` sends the request and gives the event handler, now
    attached to the response; leaving the block closes the connection."""

    def __init__(
        self, request: Awaitable[AsyncStream[Any]], *, event_handler: AsyncAssistantEventHandlerT
    ) -> None:
        self._request = request
        self._handler = event_handler
        self._stream: AsyncStream[Any] | None = None

    async def __aenter__(self) -> AsyncAssistantEventHandlerT:
        self._stream = await self._request
        self._handler._init(self._stream)
        return self._handler

    async def __aexit__(self, *exc: object) -> None:
        if self._stream is not None:
            await self._stream.close()
