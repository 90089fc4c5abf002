"""``client.responses`` conveniences: ``stream()`` (typed events, resume, final response) and ``parse()``."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, TypeVar

from ..._core.resource import path_segment
from ..._core.types import UNSET, RequestOptions, Unpack, UnsetType
from ..chat.resource import body_fields, split_params

if TYPE_CHECKING:
    from ..._client import AsyncOpenAI
    from ..structured import ParsedResponse
    from .stream import ResponseStreamManager

__all__ = ["ResponsesHelpers"]

T = TypeVar("T")


def _responses_body(text_format: Any, tools: Any, params: dict[str, Any]) -> tuple[dict[str, Any], RequestOptions]:
    from ..structured import FunctionTool, is_rich_format, text_format_param

    body, options = split_params(params)
    if text_format is not UNSET and is_rich_format(text_format):
        text = dict(body.get("text") or {})
        text["format"] = text_format_param(text_format)
        body["text"] = text
    if tools is not UNSET:
        body["tools"] = [t.to_responses_tool() if isinstance(t, FunctionTool) else t for t in tools]
    return body, options


class ResponsesHelpers:
    """Hand-written methods of ``client.responses`` (a mixin the generated ``Responses`` class inherits)."""

    _client: AsyncOpenAI

    def stream(
        self,
        *,
        response_id: str | UnsetType = UNSET,
        input: str | Iterable[Any] | UnsetType = UNSET,
        model: str | UnsetType = UNSET,
        access_programs: Any = UNSET,
        background: bool | None | UnsetType = UNSET,
        background_options: Any = UNSET,
        context_management: Any = UNSET,
        text_format: type[T] | Any = UNSET,
        tools: Iterable[Any] | UnsetType = UNSET,
        conversation: Any = UNSET,
        image: Any = UNSET,
        include: list[str] | None | UnsetType = UNSET,
        instructions: str | None | UnsetType = UNSET,
        max_output_tokens: int | None | UnsetType = UNSET,
        max_tool_calls: int | None | UnsetType = UNSET,
        metadata: dict[str, str] | None | UnsetType = UNSET,
        parallel_tool_calls: bool | None | UnsetType = UNSET,
        moderation: Any = UNSET,
        previous_response_id: str | None | UnsetType = UNSET,
        prompt: Any = UNSET,
        prompt_cache_key: str | None | UnsetType = UNSET,
        prompt_cache_options: Any = UNSET,
        prompt_cache_retention: str | None | UnsetType = UNSET,
        reasoning: Any = UNSET,
        safety_identifier: str | None | UnsetType = UNSET,
        service_tier: str | None | UnsetType = UNSET,
        store: bool | None | UnsetType = UNSET,
        stream_options: Any = UNSET,
        temperature: float | None | UnsetType = UNSET,
        text: Any = UNSET,
        tool_choice: Any = UNSET,
        top_logprobs: int | None | UnsetType = UNSET,
        top_p: float | None | UnsetType = UNSET,
        truncation: str | None | UnsetType = UNSET,
        user: str | None | UnsetType = UNSET,
        starting_after: int | UnsetType = UNSET,
        **options: Unpack[RequestOptions],
    ) -> ResponseStreamManager[T]:
        """Stream a response as typed events: ``async with client.responses.stream(...) as stream``.

        With ``response_id=`` (and optionally ``starting_after=`` a sequence number) it resumes the stream of a
        background response (``GET /responses/{id}?stream=true``); otherwise it takes the parameters of
        ``create()``. ``text_format`` may be a Struct/dataclass/TypedDict type: sent as a strict JSON schema,
        decoded into ``response.output_parsed``. ``await stream.get_final_response()`` returns the final
        ``ParsedResponse``; ``response.failed`` raises ``ResponseFailedError``, an ``error`` event ``APIError``.
        Leaving the ``async with`` block closes the connection.
        """
        fields = body_fields(locals())  # first: the arguments only
        from .stream import EVENT_TYPE, ResponseStreamManager, ResponseStreamState

        client = self._client
        body, request_options = _responses_body(text_format, tools, {**fields, **options})
        if response_id is not UNSET:
            query = {"stream": True, "starting_after": starting_after, **body}
            path = f"/responses/{path_segment(response_id, 'response_id')}"

            async def request() -> Any:
                return await client._request("GET", path, query=query, cast=None, stream=True,
                                             stream_cls=EVENT_TYPE, options=request_options)
        else:
            body["stream"] = True

            async def request() -> Any:
                return await client._request("POST", "/responses", body=body, cast=None, stream=True,
                                             stream_cls=EVENT_TYPE, options=request_options)

        state: ResponseStreamState[T] = ResponseStreamState(
            text_format=text_format if text_format is not UNSET else None,
            tools=tools if tools is not UNSET else None,
        )
        return ResponseStreamManager(request, state, client)

    async def parse(
        self,
        *,
        text_format: type[T] | Any = UNSET,
        parse_as: type[Any] | None | UnsetType = UNSET,
        access_programs: Any = UNSET,
        background: bool | None | UnsetType = UNSET,
        background_options: Any = UNSET,
        context_management: Any = UNSET,
        conversation: Any = UNSET,
        image: Any = UNSET,
        include: list[str] | None | UnsetType = UNSET,
        input: str | Iterable[Any] | UnsetType = UNSET,
        instructions: str | None | UnsetType = UNSET,
        max_output_tokens: int | None | UnsetType = UNSET,
        max_tool_calls: int | None | UnsetType = UNSET,
        metadata: dict[str, str] | None | UnsetType = UNSET,
        model: str | UnsetType = UNSET,
        moderation: Any = UNSET,
        parallel_tool_calls: bool | None | UnsetType = UNSET,
        previous_response_id: str | None | UnsetType = UNSET,
        prompt: Any = UNSET,
        prompt_cache_key: str | None | UnsetType = UNSET,
        prompt_cache_options: Any = UNSET,
        prompt_cache_retention: str | None | UnsetType = UNSET,
        reasoning: Any = UNSET,
        safety_identifier: str | None | UnsetType = UNSET,
        service_tier: str | None | UnsetType = UNSET,
        store: bool | None | UnsetType = UNSET,
        stream: bool | None | UnsetType = UNSET,
        stream_options: Any = UNSET,
        temperature: float | None | UnsetType = UNSET,
        text: Any = UNSET,
        tool_choice: Any = UNSET,
        tools: Iterable[Any] | UnsetType = UNSET,
        top_logprobs: int | None | UnsetType = UNSET,
        top_p: float | None | UnsetType = UNSET,
        truncation: str | None | UnsetType = UNSET,
        user: str | None | UnsetType = UNSET,
        verbosity: str | None | UnsetType = UNSET,
        **options: Unpack[RequestOptions],
    ) -> ParsedResponse[T]:
        """Create a response and decode it: ``response.output_parsed`` is the output text as ``text_format``.

        Tools made with ``function_tool(T)`` get ``parsed_arguments`` decoded into ``T`` on their
        ``function_call`` output items. ``parse_as`` decodes the output into another type than the one
        ``text_format`` sends as the schema (None: no decoding). See https://platform.openai.com/docs/guides/structured-outputs

        Raises:
            msgspec.ValidationError: the output text does not match ``text_format``.
            ValueError: ``stream=True`` (use ``responses.stream()``).
        """
        fields = body_fields(locals())  # first: the arguments only
        if stream is True:
            raise ValueError("responses.parse() cannot stream (stream=True): use responses.stream() instead")
        from ...types.responses import Response
        from ..structured import parse_response

        body, request_options = _responses_body(text_format, tools, {**fields, **options})
        response = await self._client._request("POST", "/responses", body=body, cast=Response,
                                               options=request_options)
        decode_as = text_format if parse_as is UNSET else parse_as
        return parse_response(response, decode_as if decode_as is not UNSET else None,
                              tools if tools is not UNSET else None)
