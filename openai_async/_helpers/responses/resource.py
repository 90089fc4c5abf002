"""``client.responses`` conveniences: ``stream()`` (typed events, resume, final response) and ``parse()``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeVar

from ..._core.resource import path_segment
from ..._core.response import parse_later
from ..._core.types import UNSET, RequestOptions, listed
from ..chat.resource import split_params

if TYPE_CHECKING:
    from ..._client import AsyncOpenAI
    from ..structured import ParsedResponse
    from .stream import ResponseStreamManager

__all__ = ["ResponsesHelpers", "TextFormatT"]

# The type ``text_format`` names, that ``output_parsed`` holds (the official SDK's name); None when it is not given
# (a PEP 696 default, which typing.TypeVar accepts from Python 3.13 only: type checkers read typing_extensions').
if TYPE_CHECKING:
    from typing_extensions import TypeVar as _TypeVar

    TextFormatT = _TypeVar("TextFormatT", default=None)
else:
    TextFormatT = TypeVar("TextFormatT")


def _responses_body(
    text_format: Any, tools: Any, params: dict[str, Any]
) -> tuple[dict[str, Any], RequestOptions]:
    # lazy: cold start (structured outputs and the stream machinery load with the first call)
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

    # The public ``stream()`` / ``parse()`` are generated on ``client.responses`` with the keyword parameters of
    # ``create()`` (scripts/overrides.toml, [resources.helpers]); they pass them here as one dict and carry these
    # docstrings.

    def _stream(self, params: dict[str, Any]) -> ResponseStreamManager[Any]:
        """Stream a response as typed events: ``async with client.responses.stream(...) as stream``.

        With ``response_id=`` (and optionally ``starting_after=`` a sequence number) it resumes the stream of a
        background response (``GET /responses/{id}?stream=true``); otherwise it takes the parameters of
        ``create()``. ``text_format`` may be a Struct/dataclass/TypedDict type: sent as a strict JSON schema,
        decoded into ``response.output_parsed``. ``await stream.get_final_response()`` returns the final
        ``ParsedResponse``; ``response.failed`` raises ``ResponseFailedError``, an ``error`` event ``APIError``.
        Leaving the ``async with`` block closes the connection.
        """
        # lazy: cold start (structured outputs and the stream machinery load with the first call)
        from .stream import EVENT_TYPE, ResponseStreamManager, ResponseStreamState

        client = self._client
        response_id, starting_after = params.pop("response_id", UNSET), params.pop("starting_after", UNSET)
        text_format, tools = params.pop("text_format", UNSET), listed(params.pop("tools", UNSET))
        body, options = _responses_body(text_format, tools, params)
        if response_id is not UNSET:
            query = {"stream": True, "starting_after": starting_after, **body}
            path = f"/responses/{path_segment(response_id, 'response_id')}"

            async def request() -> Any:
                return await client._request(
                    "GET", path, query=query, cast=None, stream=True, stream_cls=EVENT_TYPE, options=options
                )
        else:
            body["stream"] = True

            async def request() -> Any:
                return await client._request(
                    "POST",
                    "/responses",
                    body=body,
                    cast=None,
                    stream=True,
                    stream_cls=EVENT_TYPE,
                    options=options,
                )

        state: ResponseStreamState[Any] = ResponseStreamState(
            text_format=text_format if text_format is not UNSET else None,
            tools=tools if tools is not UNSET else None,
        )
        return ResponseStreamManager(request, state, client)

    async def _parse(self, params: dict[str, Any]) -> ParsedResponse[Any]:
        """Create a response and decode it: ``response.output_parsed`` is the output text as ``text_format``.

        Tools made with ``function_tool(T)`` get ``parsed_arguments`` decoded into ``T`` on their
        ``function_call`` output items. ``parse_as`` decodes the output into another type than the one
        ``text_format`` sends as the schema (None: no decoding). See https://platform.openai.com/docs/guides/structured-outputs

        Raises:
            msgspec.ValidationError: the output text does not match ``text_format``.
            ValueError: ``stream=True`` (use ``responses.stream()``).
        """
        # lazy: cold start (structured outputs and the stream machinery load with the first call)
        from ...types.responses import Response
        from ..structured import parse_response

        if params.pop("stream", UNSET) is True:
            raise ValueError("responses.parse() cannot stream (stream=True): use responses.stream() instead")

        text_format, tools = params.pop("text_format", UNSET), listed(params.pop("tools", UNSET))
        parse_as = params.pop("parse_as", UNSET)
        body, options = _responses_body(text_format, tools, params)
        response = await self._client._request(
            "POST", "/responses", body=body, cast=Response, options=options
        )
        decode_as = text_format if parse_as is UNSET else parse_as
        given_format = decode_as if decode_as is not UNSET else None
        given_tools = tools if tools is not UNSET else None
        return parse_later(
            response,
            self._client._raw,  # with_raw/streaming_response: parse() gives it
            lambda r: parse_response(r, given_format, given_tools),
        )
