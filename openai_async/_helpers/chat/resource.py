"""``client.chat.completions`` conveniences: ``stream()`` (typed events, final completion) and ``parse()``."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, TypeVar

from ..._core.types import UNSET, RequestOptions, Unpack, UnsetType

if TYPE_CHECKING:
    from ..._client import AsyncOpenAI
    from ..structured import ParsedChatCompletion
    from .stream import ChatCompletionStreamManager

__all__ = ["CompletionsHelpers", "body_fields", "split_params"]

T = TypeVar("T")

_OPTION_KEYS = RequestOptions.__required_keys__ | RequestOptions.__optional_keys__


def split_params(params: dict[str, Any]) -> tuple[dict[str, Any], RequestOptions]:
    """Separate body fields from per-call options; drop UNSET (``NOT_GIVEN``) values. Strictly private."""
    body: dict[str, Any] = {}
    options: dict[str, Any] = {}
    for key, value in params.items():
        if value is UNSET:
            continue
        (options if key in _OPTION_KEYS else body)[key] = value
    return body, options  # type: ignore[return-value]


_NOT_BODY = frozenset({"self", "options", "messages", "model", "response_format", "tools", "text_format",
                       "parse_as", "response_id", "starting_after"})


def body_fields(scope: dict[str, Any]) -> dict[str, Any]:
    """The body fields among a helper's arguments (its ``locals()`` on entry): the given ones, by name.
    Strictly private."""
    return {k: v for k, v in scope.items() if v is not UNSET and k not in _NOT_BODY}


def _chat_body(messages: Any, model: Any, response_format: Any, tools: Any,
               params: dict[str, Any]) -> tuple[dict[str, Any], RequestOptions]:
    from ..structured import is_rich_format, response_format_param

    body, options = split_params(params)
    body["messages"] = messages if isinstance(messages, list) else list(messages)
    body["model"] = model
    if response_format is not UNSET:
        body["response_format"] = (
            response_format_param(response_format) if is_rich_format(response_format) else response_format
        )
    if tools is not UNSET:
        body["tools"] = tools if isinstance(tools, list) else list(tools)
    return body, options


class CompletionsHelpers:
    """Hand-written methods of ``client.chat.completions`` (a mixin the generated ``Completions`` inherits)."""

    _client: AsyncOpenAI

    def stream(
        self,
        *,
        messages: Iterable[Any],
        model: str,
        audio: Any = UNSET,
        response_format: type[T] | Any = UNSET,
        frequency_penalty: float | None | UnsetType = UNSET,
        function_call: Any = UNSET,
        functions: Any = UNSET,
        logit_bias: Any = UNSET,
        logprobs: bool | None | UnsetType = UNSET,
        max_completion_tokens: int | None | UnsetType = UNSET,
        max_tokens: int | None | UnsetType = UNSET,
        metadata: dict[str, str] | None | UnsetType = UNSET,
        modalities: list[str] | None | UnsetType = UNSET,
        moderation: Any = UNSET,
        n: int | None | UnsetType = UNSET,
        parallel_tool_calls: bool | None | UnsetType = UNSET,
        prediction: Any = UNSET,
        presence_penalty: float | None | UnsetType = UNSET,
        prompt_cache_key: str | None | UnsetType = UNSET,
        prompt_cache_options: Any = UNSET,
        prompt_cache_retention: str | None | UnsetType = UNSET,
        reasoning_effort: str | None | UnsetType = UNSET,
        safety_identifier: str | None | UnsetType = UNSET,
        seed: int | None | UnsetType = UNSET,
        service_tier: str | None | UnsetType = UNSET,
        stop: str | list[str] | None | UnsetType = UNSET,
        store: bool | None | UnsetType = UNSET,
        stream_options: Any = UNSET,
        temperature: float | None | UnsetType = UNSET,
        tool_choice: Any = UNSET,
        tools: Iterable[Any] | UnsetType = UNSET,
        top_logprobs: int | None | UnsetType = UNSET,
        top_p: float | None | UnsetType = UNSET,
        user: str | None | UnsetType = UNSET,
        verbosity: str | None | UnsetType = UNSET,
        web_search_options: Any = UNSET,
        **options: Unpack[RequestOptions],
    ) -> ChatCompletionStreamManager[T]:
        """Stream a chat completion as typed events: ``async with client.chat.completions.stream(...) as s``.

        Takes the keywords of ``create()`` (and its per-call options such as ``timeout``). Iterating the stream
        yields ``ChunkEvent``, ``ContentDeltaEvent``, ``ContentDoneEvent``, ``RefusalDeltaEvent``, ... with
        running snapshots; ``await s.get_final_completion()`` returns the whole ``ParsedChatCompletion``;
        ``s.text_deltas()`` iterates only the text. ``response_format`` may be a Struct/dataclass/TypedDict type
        (sent as a strict JSON schema and decoded into ``message.parsed``); ``tools`` may hold
        ``function_tool(T)`` entries whose arguments are decoded into ``T``.
        Leaving the ``async with`` block closes the connection.
        """
        fields = body_fields(locals())  # first: the arguments only
        from ...types.chat import CreateChatCompletionStreamResponse
        from .stream import ChatCompletionStreamManager, ChatCompletionStreamState

        params = {**fields, **options}
        body, request_options = _chat_body(messages, model, response_format, tools, params)
        body["stream"] = True
        client = self._client

        async def request() -> Any:
            return await client._request("POST", "/chat/completions", body=body, cast=None, stream=True,
                                         stream_cls=CreateChatCompletionStreamResponse, options=request_options)

        state: ChatCompletionStreamState[T] = ChatCompletionStreamState(
            response_format=response_format if response_format is not UNSET else None,
            tools=tools if tools is not UNSET else None,
        )
        return ChatCompletionStreamManager(request, state)

    async def parse(
        self,
        *,
        messages: Iterable[Any],
        model: str,
        audio: Any = UNSET,
        response_format: type[T] | Any = UNSET,
        frequency_penalty: float | None | UnsetType = UNSET,
        function_call: Any = UNSET,
        functions: Any = UNSET,
        logit_bias: Any = UNSET,
        logprobs: bool | None | UnsetType = UNSET,
        max_completion_tokens: int | None | UnsetType = UNSET,
        max_tokens: int | None | UnsetType = UNSET,
        metadata: dict[str, str] | None | UnsetType = UNSET,
        modalities: list[str] | None | UnsetType = UNSET,
        moderation: Any = UNSET,
        n: int | None | UnsetType = UNSET,
        parallel_tool_calls: bool | None | UnsetType = UNSET,
        prediction: Any = UNSET,
        presence_penalty: float | None | UnsetType = UNSET,
        prompt_cache_key: str | None | UnsetType = UNSET,
        prompt_cache_options: Any = UNSET,
        prompt_cache_retention: str | None | UnsetType = UNSET,
        reasoning_effort: str | None | UnsetType = UNSET,
        safety_identifier: str | None | UnsetType = UNSET,
        seed: int | None | UnsetType = UNSET,
        service_tier: str | None | UnsetType = UNSET,
        stop: str | list[str] | None | UnsetType = UNSET,
        store: bool | None | UnsetType = UNSET,
        stream_options: Any = UNSET,
        temperature: float | None | UnsetType = UNSET,
        tool_choice: Any = UNSET,
        tools: Iterable[Any] | UnsetType = UNSET,
        top_logprobs: int | None | UnsetType = UNSET,
        top_p: float | None | UnsetType = UNSET,
        user: str | None | UnsetType = UNSET,
        verbosity: str | None | UnsetType = UNSET,
        web_search_options: Any = UNSET,
        **options: Unpack[RequestOptions],
    ) -> ParsedChatCompletion[T]:
        """Create a chat completion and decode it: ``message.parsed`` is the content as ``response_format``.

        ``response_format`` is a Struct/dataclass/TypedDict type (sent as a strict JSON schema); tools made with
        ``function_tool(T)`` get ``tool_call.function.parsed_arguments`` decoded into ``T``.
        See https://platform.openai.com/docs/guides/structured-outputs

        Raises:
            LengthFinishReasonError: a choice stopped at the token limit.
            ContentFilterFinishReasonError: a choice was stopped by the content filter.
            msgspec.ValidationError: the content does not match ``response_format``.
        """
        fields = body_fields(locals())  # first: the arguments only
        from ...types.chat import CreateChatCompletionResponse
        from ..structured import parse_chat_completion

        params = {**fields, **options}
        body, request_options = _chat_body(messages, model, response_format, tools, params)
        completion = await self._client._request("POST", "/chat/completions", body=body,
                                                 cast=CreateChatCompletionResponse, options=request_options)
        return parse_chat_completion(completion, response_format, tools if tools is not UNSET else None)
