"""``client.beta.threads.runs`` / ``client.beta.threads`` helpers: create and poll, create and stream.

Names and keyword parameters are the official SDK's: the methods themselves are generated from the operation
they wrap (``[resources.helpers]`` in scripts/overrides.toml), each gathering its keywords into one dict for the
``_impl`` here, whose docstring it carries. A poll reads the run until it leaves ``queued``,
``in_progress`` and ``cancelling`` (``requires_action`` returns, so tool outputs can be submitted), waiting
``poll_interval_ms`` when given, else the ``openai-poll-after-ms`` header, else one second; ``max_wait_seconds``
(ours) bounds the wait with ``PollTimeoutError``. A stream helper returns an ``AsyncAssistantStreamManager``:
``async with`` it to get the event handler. The poll helpers send ``"stream": false`` as the official SDK does.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..._core.polling import poll
from ..._core.types import UNSET, RequestOptions, Unpack, UnsetType, listed
from ...types.assistants import RunObject
from .handler import AsyncAssistantEventHandler, AsyncAssistantStreamManager

if TYPE_CHECKING:
    from ..._client import AsyncOpenAI
    from ..._core.response import RawResponse

__all__ = ["RunsHelpers", "ThreadsHelpers"]

_MOVING = frozenset({"queued", "in_progress", "cancelling"})
_OPTION_KEYS = RequestOptions.__required_keys__ | RequestOptions.__optional_keys__


def _manager(
    request: Any, event_handler: AsyncAssistantEventHandler | None
) -> AsyncAssistantStreamManager[Any]:
    return AsyncAssistantStreamManager(
        request, event_handler=AsyncAssistantEventHandler() if event_handler is None else event_handler
    )


def _polling(params: dict[str, Any]) -> dict[str, Any]:
    """The keywords of ``poll()`` taken from a helper's gathered ``params``: its own two (removed from ``params``)
    and the per-call options (kept: the create call takes them too)."""
    keywords = {k: v for k, v in params.items() if k in _OPTION_KEYS}
    keywords["poll_interval_ms"] = params.pop("poll_interval_ms")
    keywords["max_wait_seconds"] = params.pop("max_wait_seconds")
    return keywords


def _lists(params: dict[str, Any], *names: str) -> dict[str, Any]:
    """``params`` with the iterable arguments ``names`` read into lists (a generator survives a retried request)."""
    for name in names:
        if name in params:
            params[name] = listed(params[name])
    return params


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

    async def _create_and_poll(self, params: dict[str, Any]) -> RunObject:
        """Create a run and poll it until it settles (``requires_action`` included).

        Args:
            poll_interval_ms: milliseconds between reads (default: the ``openai-poll-after-ms`` header, else 1 s).
            max_wait_seconds: raise ``PollTimeoutError`` when the run still moves after this long (ours).

        Raises:
            PollTimeoutError: still moving after ``max_wait_seconds``.
        """
        polling = _polling(params)
        create: Any = self._client.beta.threads.runs.create
        run: Any = await create(stream=False, **_lists(params, "additional_messages", "tools"))
        return await self.poll(run.id, params["thread_id"], **polling)

    def _stream(self, params: dict[str, Any]) -> AsyncAssistantStreamManager[Any]:
        """Create a run and stream its events: ``async with runs.stream(...) as stream: await stream.until_done()``.

        Args:
            event_handler: an ``AsyncAssistantEventHandler`` (subclass) instance; a plain one by default.
        """
        handler = params.pop("event_handler")
        create: Any = self._client.beta.threads.runs.create
        return _manager(create(stream=True, **_lists(params, "additional_messages", "tools")), handler)

    def _create_and_stream(self, params: dict[str, Any]) -> AsyncAssistantStreamManager[Any]:
        """The older name of ``stream()`` (no ``include`` / ``reasoning_effort``), kept for code that uses it.

        Args:
            event_handler: an ``AsyncAssistantEventHandler`` (subclass) instance; a plain one by default.
        """
        return self._stream(params)

    async def _submit_tool_outputs_and_poll(self, params: dict[str, Any]) -> RunObject:
        """Submit the outputs of a ``requires_action`` run's tool calls and poll the run until it settles.

        Args:
            poll_interval_ms: milliseconds between reads (default: the ``openai-poll-after-ms`` header, else 1 s).
            max_wait_seconds: raise ``PollTimeoutError`` when the run still moves after this long (ours).

        Raises:
            PollTimeoutError: still moving after ``max_wait_seconds``.
        """
        polling = _polling(params)
        submit: Any = self._client.beta.threads.runs.submit_tool_outputs
        run: Any = await submit(stream=False, **_lists(params, "tool_outputs"))
        return await self.poll(run.id or params["run_id"], params["thread_id"], **polling)

    def _submit_tool_outputs_stream(self, params: dict[str, Any]) -> AsyncAssistantStreamManager[Any]:
        """Submit tool outputs and stream the rest of the run (``async with`` it, like ``stream()``).

        Args:
            event_handler: an ``AsyncAssistantEventHandler`` (subclass) instance; a plain one by default.
        """
        handler = params.pop("event_handler")
        submit: Any = self._client.beta.threads.runs.submit_tool_outputs
        return _manager(submit(stream=True, **_lists(params, "tool_outputs")), handler)


class ThreadsHelpers:
    """Hand-written methods of ``client.beta.threads`` (a mixin of the generated class)."""

    _client: AsyncOpenAI

    async def _create_and_run_poll(self, params: dict[str, Any]) -> RunObject:
        """Create a thread, run it, and poll the run until it settles.

        Args:
            poll_interval_ms: milliseconds between reads (default: the ``openai-poll-after-ms`` header, else 1 s).
            max_wait_seconds: raise ``PollTimeoutError`` when the run still moves after this long (ours).

        Raises:
            PollTimeoutError: still moving after ``max_wait_seconds``.
        """
        polling = _polling(params)
        create_and_run: Any = self._client.beta.threads.create_and_run
        run: Any = await create_and_run(stream=False, **_lists(params, "tools"))
        return await self._client.beta.threads.runs.poll(run.id, run.thread_id, **polling)

    def _create_and_run_stream(self, params: dict[str, Any]) -> AsyncAssistantStreamManager[Any]:
        """Create a thread, run it, and stream the run's events (``async with`` it).

        Args:
            event_handler: an ``AsyncAssistantEventHandler`` (subclass) instance; a plain one by default.
        """
        handler = params.pop("event_handler")
        create_and_run: Any = self._client.beta.threads.create_and_run
        return _manager(create_and_run(stream=True, **_lists(params, "tools")), handler)
