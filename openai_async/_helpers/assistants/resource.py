"""``client.beta.threads.runs`` / ``client.beta.threads`` helpers: create and poll, create and stream.

Names and keyword parameters are the official SDK's. A poll reads the run until it leaves ``queued``,
``in_progress`` and ``cancelling`` (``requires_action`` returns, so tool outputs can be submitted), waiting
``poll_interval_ms`` when given, else the ``openai-poll-after-ms`` header, else one second; ``max_wait_seconds``
(ours) bounds the wait with ``PollTimeoutError``. A stream helper returns an ``AsyncAssistantStreamManager``:
``async with`` it to get the event handler.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from ..._core.polling import poll
from ..._core.types import UNSET, RequestOptions, Unpack, UnsetType
from ...types.assistants import RunObject
from .handler import AsyncAssistantEventHandler, AsyncAssistantStreamManager

if TYPE_CHECKING:
    from ..._client import AsyncOpenAI
    from ..._core.response import RawResponse

__all__ = ["RunsHelpers", "ThreadsHelpers"]

_MOVING = frozenset({"queued", "in_progress", "cancelling"})


def _manager(
    request: Any, event_handler: AsyncAssistantEventHandler | None
) -> AsyncAssistantStreamManager[Any]:
    return AsyncAssistantStreamManager(
        request, event_handler=AsyncAssistantEventHandler() if event_handler is None else event_handler
    )


class RunsHelpers:
    """Hand-written methods of ``client.beta.threads.runs`` (a mixin of the generated class)."""

    _client: AsyncOpenAI

    async def poll(
        self,
        run_id: str,
        thread_id: str,
        *,
        poll_interval_ms: int | UnsetType = UNSET,
        max_wait_seconds: float | None = None,
        **options: Unpack[RequestOptions],
    ) -> RunObject:
        """Read a run until it settles (completed, requires_action, failed, cancelled, expired, incomplete).

        Raises:
            PollTimeoutError: still moving after ``max_wait_seconds``.
        """
        raw_runs = self._client._raw_view().beta.threads.runs

        async def fetch() -> RawResponse[RunObject]:
            raw: Any = await raw_runs.retrieve(run_id, thread_id=thread_id, **options)
            return raw  # type: ignore[no-any-return]

        return await poll(
            fetch,
            done=lambda run: run.status not in _MOVING,
            poll_interval_ms=poll_interval_ms,
            max_wait_seconds=max_wait_seconds,
            what=f"run {run_id}",
            initial=1.0,
            maximum=1.0,
        )

    async def create_and_poll(
        self,
        *,
        assistant_id: str,
        include: list[Any] | UnsetType = UNSET,
        additional_instructions: str | None | UnsetType = UNSET,
        additional_messages: Iterable[Any] | None | UnsetType = UNSET,
        instructions: str | None | UnsetType = UNSET,
        max_completion_tokens: int | None | UnsetType = UNSET,
        max_prompt_tokens: int | None | UnsetType = UNSET,
        metadata: dict[str, str] | None | UnsetType = UNSET,
        model: str | None | UnsetType = UNSET,
        parallel_tool_calls: bool | UnsetType = UNSET,
        reasoning_effort: str | None | UnsetType = UNSET,
        response_format: Any | UnsetType = UNSET,
        temperature: float | None | UnsetType = UNSET,
        tool_choice: Any | UnsetType = UNSET,
        tools: Iterable[Any] | None | UnsetType = UNSET,
        top_p: float | None | UnsetType = UNSET,
        truncation_strategy: Any | UnsetType = UNSET,
        poll_interval_ms: int | UnsetType = UNSET,
        max_wait_seconds: float | None = None,
        thread_id: str,
        **options: Unpack[RequestOptions],
    ) -> RunObject:
        """Create a run and poll it until it settles (``requires_action`` included)."""
        create: Any = self._client.beta.threads.runs.create
        run: Any = await create(
            thread_id,
            assistant_id=assistant_id,
            include=include,
            additional_instructions=additional_instructions,
            additional_messages=_listed(additional_messages),
            instructions=instructions,
            max_completion_tokens=max_completion_tokens,
            max_prompt_tokens=max_prompt_tokens,
            metadata=metadata,
            model=model,
            parallel_tool_calls=parallel_tool_calls,
            reasoning_effort=reasoning_effort,
            response_format=response_format,
            temperature=temperature,
            tool_choice=tool_choice,
            tools=_listed(tools),
            top_p=top_p,
            truncation_strategy=truncation_strategy,
            **options,
        )
        return await self.poll(
            run.id, thread_id, poll_interval_ms=poll_interval_ms, max_wait_seconds=max_wait_seconds, **options
        )

    def stream(
        self,
        *,
        assistant_id: str,
        include: list[Any] | UnsetType = UNSET,
        additional_instructions: str | None | UnsetType = UNSET,
        additional_messages: Iterable[Any] | None | UnsetType = UNSET,
        instructions: str | None | UnsetType = UNSET,
        max_completion_tokens: int | None | UnsetType = UNSET,
        max_prompt_tokens: int | None | UnsetType = UNSET,
        metadata: dict[str, str] | None | UnsetType = UNSET,
        model: str | None | UnsetType = UNSET,
        parallel_tool_calls: bool | UnsetType = UNSET,
        reasoning_effort: str | None | UnsetType = UNSET,
        response_format: Any | UnsetType = UNSET,
        temperature: float | None | UnsetType = UNSET,
        tool_choice: Any | UnsetType = UNSET,
        tools: Iterable[Any] | None | UnsetType = UNSET,
        top_p: float | None | UnsetType = UNSET,
        truncation_strategy: Any | UnsetType = UNSET,
        thread_id: str,
        event_handler: AsyncAssistantEventHandler | None = None,
        **options: Unpack[RequestOptions],
    ) -> AsyncAssistantStreamManager[Any]:
        """Create a run and stream its events: ``async with runs.stream(...) as stream: await stream.until_done()``.

        Args:
            event_handler: an ``AsyncAssistantEventHandler`` (subclass) instance; a plain one by default.
        """
        create: Any = self._client.beta.threads.runs.create
        request = create(
            thread_id,
            assistant_id=assistant_id,
            stream=True,
            include=include,
            additional_instructions=additional_instructions,
            additional_messages=_listed(additional_messages),
            instructions=instructions,
            max_completion_tokens=max_completion_tokens,
            max_prompt_tokens=max_prompt_tokens,
            metadata=metadata,
            model=model,
            parallel_tool_calls=parallel_tool_calls,
            reasoning_effort=reasoning_effort,
            response_format=response_format,
            temperature=temperature,
            tool_choice=tool_choice,
            tools=_listed(tools),
            top_p=top_p,
            truncation_strategy=truncation_strategy,
            **options,
        )
        return _manager(request, event_handler)

    def create_and_stream(
        self,
        *,
        assistant_id: str,
        additional_instructions: str | None | UnsetType = UNSET,
        additional_messages: Iterable[Any] | None | UnsetType = UNSET,
        instructions: str | None | UnsetType = UNSET,
        max_completion_tokens: int | None | UnsetType = UNSET,
        max_prompt_tokens: int | None | UnsetType = UNSET,
        metadata: dict[str, str] | None | UnsetType = UNSET,
        model: str | None | UnsetType = UNSET,
        parallel_tool_calls: bool | UnsetType = UNSET,
        response_format: Any | UnsetType = UNSET,
        temperature: float | None | UnsetType = UNSET,
        tool_choice: Any | UnsetType = UNSET,
        tools: Iterable[Any] | None | UnsetType = UNSET,
        top_p: float | None | UnsetType = UNSET,
        truncation_strategy: Any | UnsetType = UNSET,
        thread_id: str,
        event_handler: AsyncAssistantEventHandler | None = None,
        **options: Unpack[RequestOptions],
    ) -> AsyncAssistantStreamManager[Any]:
        """The older name of ``stream()`` (no ``include`` / ``reasoning_effort``), kept for code that uses it."""
        return self.stream(
            assistant_id=assistant_id,
            additional_instructions=additional_instructions,
            additional_messages=additional_messages,
            instructions=instructions,
            max_completion_tokens=max_completion_tokens,
            max_prompt_tokens=max_prompt_tokens,
            metadata=metadata,
            model=model,
            parallel_tool_calls=parallel_tool_calls,
            response_format=response_format,
            temperature=temperature,
            tool_choice=tool_choice,
            tools=tools,
            top_p=top_p,
            truncation_strategy=truncation_strategy,
            thread_id=thread_id,
            event_handler=event_handler,
            **options,
        )

    async def submit_tool_outputs_and_poll(
        self,
        *,
        tool_outputs: Iterable[dict[str, Any]],
        run_id: str,
        thread_id: str,
        poll_interval_ms: int | UnsetType = UNSET,
        max_wait_seconds: float | None = None,
        **options: Unpack[RequestOptions],
    ) -> RunObject:
        """Submit the outputs of a ``requires_action`` run's tool calls and poll the run until it settles."""
        run: Any = await self._client.beta.threads.runs.submit_tool_outputs(
            run_id, thread_id=thread_id, tool_outputs=list(tool_outputs), **options
        )
        return await self.poll(
            run.id or run_id,
            thread_id,
            poll_interval_ms=poll_interval_ms,
            max_wait_seconds=max_wait_seconds,
            **options,
        )

    def submit_tool_outputs_stream(
        self,
        *,
        tool_outputs: Iterable[dict[str, Any]],
        run_id: str,
        thread_id: str,
        event_handler: AsyncAssistantEventHandler | None = None,
        **options: Unpack[RequestOptions],
    ) -> AsyncAssistantStreamManager[Any]:
        """Submit tool outputs and stream the rest of the run (``async with`` it, like ``stream()``)."""
        request = self._client.beta.threads.runs.submit_tool_outputs(
            run_id, thread_id=thread_id, tool_outputs=list(tool_outputs), stream=True, **options
        )
        return _manager(request, event_handler)


class ThreadsHelpers:
    """Hand-written methods of ``client.beta.threads`` (a mixin of the generated class)."""

    _client: AsyncOpenAI

    async def create_and_run_poll(
        self,
        *,
        assistant_id: str,
        instructions: str | None | UnsetType = UNSET,
        max_completion_tokens: int | None | UnsetType = UNSET,
        max_prompt_tokens: int | None | UnsetType = UNSET,
        metadata: dict[str, str] | None | UnsetType = UNSET,
        model: str | None | UnsetType = UNSET,
        parallel_tool_calls: bool | UnsetType = UNSET,
        response_format: Any | UnsetType = UNSET,
        temperature: float | None | UnsetType = UNSET,
        thread: dict[str, Any] | UnsetType = UNSET,
        tool_choice: Any | UnsetType = UNSET,
        tool_resources: dict[str, Any] | None | UnsetType = UNSET,
        tools: Iterable[Any] | None | UnsetType = UNSET,
        top_p: float | None | UnsetType = UNSET,
        truncation_strategy: Any | UnsetType = UNSET,
        poll_interval_ms: int | UnsetType = UNSET,
        max_wait_seconds: float | None = None,
        **options: Unpack[RequestOptions],
    ) -> RunObject:
        """Create a thread, run it, and poll the run until it settles."""
        run: Any = await self._client.beta.threads.create_and_run(
            assistant_id=assistant_id,
            instructions=instructions,
            max_completion_tokens=max_completion_tokens,
            max_prompt_tokens=max_prompt_tokens,
            metadata=metadata,
            model=model,
            parallel_tool_calls=parallel_tool_calls,
            response_format=response_format,
            temperature=temperature,
            thread=thread,
            tool_choice=tool_choice,
            tool_resources=tool_resources,
            tools=_listed(tools),
            top_p=top_p,
            truncation_strategy=truncation_strategy,
            **options,
        )
        return await self._client.beta.threads.runs.poll(
            run.id,
            run.thread_id,
            poll_interval_ms=poll_interval_ms,
            max_wait_seconds=max_wait_seconds,
            **options,
        )

    def create_and_run_stream(
        self,
        *,
        assistant_id: str,
        instructions: str | None | UnsetType = UNSET,
        max_completion_tokens: int | None | UnsetType = UNSET,
        max_prompt_tokens: int | None | UnsetType = UNSET,
        metadata: dict[str, str] | None | UnsetType = UNSET,
        model: str | None | UnsetType = UNSET,
        parallel_tool_calls: bool | UnsetType = UNSET,
        response_format: Any | UnsetType = UNSET,
        temperature: float | None | UnsetType = UNSET,
        thread: dict[str, Any] | UnsetType = UNSET,
        tool_choice: Any | UnsetType = UNSET,
        tool_resources: dict[str, Any] | None | UnsetType = UNSET,
        tools: Iterable[Any] | None | UnsetType = UNSET,
        top_p: float | None | UnsetType = UNSET,
        truncation_strategy: Any | UnsetType = UNSET,
        event_handler: AsyncAssistantEventHandler | None = None,
        **options: Unpack[RequestOptions],
    ) -> AsyncAssistantStreamManager[Any]:
        """Create a thread, run it, and stream the run's events (``async with`` it)."""
        request = self._client.beta.threads.create_and_run(
            assistant_id=assistant_id,
            stream=True,
            instructions=instructions,
            max_completion_tokens=max_completion_tokens,
            max_prompt_tokens=max_prompt_tokens,
            metadata=metadata,
            model=model,
            parallel_tool_calls=parallel_tool_calls,
            response_format=response_format,
            temperature=temperature,
            thread=thread,
            tool_choice=tool_choice,
            tool_resources=tool_resources,
            tools=_listed(tools),
            top_p=top_p,
            truncation_strategy=truncation_strategy,
            **options,
        )
        return _manager(request, event_handler)


def _listed(value: Any) -> Any:
    """An iterable argument as a list (the body encoder takes sequences); UNSET and None pass through."""
    if value is UNSET or value is None or isinstance(value, list):
        return value
    return list(value)
