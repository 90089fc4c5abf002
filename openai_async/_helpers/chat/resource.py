"""``client.chat.completions`` conveniences: ``stream()`` (typed events, final completion) and ``parse()``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeVar

from ..._core.response import parse_later
from ..._core.types import UNSET, RequestOptions, listed

if TYPE_CHECKING:
    from ..._client import AsyncOpenAI
    from ..structured import ParsedChatCompletion
    from .stream import ChatCompletionStreamManager

__all__ = ["CompletionsHelpers", "ResponseFormatT", "split_params"]

T = TypeVar("T")
# The type ``response_format`` names, that ``message.parsed`` holds (the official SDK's name); None when it is not given
# (a PEP 696 default, which typing.TypeVar accepts from Python 3.13 only: type checkers read typing_extensions').
if TYPE_CHECKING:
    from typing_extensions import TypeVar as _TypeVar

    ResponseFormatT = _TypeVar("ResponseFormatT", default=None)
else:
    ResponseFormatT = TypeVar("ResponseFormatT")

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


def _chat_body(
    messages: Any, model: Any, response_format: Any, tools: Any, params: dict[str, Any]
) -> tuple[dict[str, Any], RequestOptions]:
    # lazy: cold start (structured outputs and the stream machinery load with the first call)
    from ..structured import is_rich_format, response_format_param

    body, options = split_params(params)
    body["messages"] = messages
    body["model"] = model
    if response_format is not UNSET:
        body["response_format"] = (
            response_format_param(response_format) if is_rich_format(response_format) else response_format
        )
    if tools is not UNSET:
        body["tools"] = tools
    return body, options


class CompletionsHelpers:
    """Hand-written methods of ``client.chat.completions`` (a mixin the generated ``Completions`` inherits)."""

    _client: AsyncOpenAI

    # The public ``stream()`` / ``parse()`` are generated on ``client.chat.completions`` with the keyword
    # parameters of ``create()`` (scripts/overrides.toml, [resources.helpers]); they pass them here as one dict
    # and carry these docstrings.

    def _stream(self, params: dict[str, Any]) -> ChatCompletionStreamManager[Any]:
        """Stream a chat completion as typed events: ``async with client.chat.completions.stream(...) as s``.

        Takes the parameters of ``create()`` (and its per-call options such as ``timeout``). Iterating the stream
        yields ``ChunkEvent``, ``ContentDeltaEvent``, ``ContentDoneEvent``, ``RefusalDeltaEvent``, ... with
        running snapshots; ``await s.get_final_completion()`` returns the whole ``ParsedChatCompletion``;
        ``s.text_deltas()`` iterates only the text. ``response_format`` may be a Struct/dataclass/TypedDict type
        (sent as a strict JSON schema and decoded into ``message.parsed``); ``tools`` may hold
        ``function_tool(T)`` entries whose arguments are decoded into ``T``.
        Leaving the ``async with`` block closes the connection.
        """
        # lazy: cold start (structured outputs and the stream machinery load with the first call)
        from ...types.chat import CreateChatCompletionStreamResponse
        from .stream import ChatCompletionStreamManager, ChatCompletionStreamState

        messages, model = params.pop("messages"), params.pop("model")
        response_format, tools = params.pop("response_format", UNSET), listed(params.pop("tools", UNSET))
        body, options = _chat_body(messages, model, response_format, tools, params)
        body["stream"] = True
        client = self._client

        async def request() -> Any:
            return await client._request(
                "POST",
                "/chat/completions",
                body=body,
                cast=None,
                stream=True,
                stream_cls=CreateChatCompletionStreamResponse,
                options=options,
            )

        state: ChatCompletionStreamState[Any] = ChatCompletionStreamState(
            response_format=response_format if response_format is not UNSET else None,
            tools=tools if tools is not UNSET else None,
        )
        return ChatCompletionStreamManager(request, state)

    async def _parse(self, params: dict[str, Any]) -> ParsedChatCompletion[Any]:
        """Create a chat completion and decode it: ``message.parsed`` is the content as ``response_format``.

        ``response_format`` is a Struct/dataclass/TypedDict type (sent as a strict JSON schema); tools made with
        ``function_tool(T)`` get ``tool_call.function.parsed_arguments`` decoded into ``T``.
        See https://platform.openai.com/docs/guides/structured-outputs

        Raises:
            LengthFinishReasonError: a choice stopped at the token limit.
            ContentFilterFinishReasonError: a choice was stopped by the content filter.
            msgspec.ValidationError: the content does not match ``response_format``.
        """
        # lazy: cold start (structured outputs and the stream machinery load with the first call)
        from ...types.chat import CreateChatCompletionResponse
        from ..structured import parse_chat_completion

        messages, model = params.pop("messages"), params.pop("model")
        response_format, tools = params.pop("response_format", UNSET), listed(params.pop("tools", UNSET))
        body, options = _chat_body(messages, model, response_format, tools, params)
        completion = await self._client._request(
            "POST", "/chat/completions", body=body, cast=CreateChatCompletionResponse, options=options
        )
        given_tools = tools if tools is not UNSET else None
        return parse_later(
            completion,
            self._client._raw,  # with_raw/streaming_response: parse() gives it
            lambda c: parse_chat_completion(c, response_format, given_tools),
        )
