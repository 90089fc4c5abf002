"""The ``Parsed*`` result types (the generated ones plus ``parsed`` / ``parsed_arguments``) and the functions that
build them from a completion or a Response."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Generic, TypeVar

import msgspec

from ..._core.errors import ContentFilterFinishReasonError, LengthFinishReasonError
from ...types.chat import (
    ChatCompletionMessageCustomToolCall,
    ChatCompletionMessageToolCall,
    ChatCompletionMessageToolCallFunction,
    ChatCompletionResponseMessage,
    CreateChatCompletionResponse,
    CreateChatCompletionResponseChoicesItem,
)
from ...types.responses import FunctionToolCall, OutputMessage, OutputTextContent, Response
from .decoding import parse_json
from .schema import is_rich_format
from .tools import parse_arguments, tool_types

__all__ = [
    "ParsedChatCompletion",
    "ParsedChatCompletionMessage",
    "ParsedChoice",
    "ParsedFunction",
    "ParsedFunctionToolCall",
    "ParsedResponse",
    "ParsedResponseFunctionToolCall",
    "ParsedResponseOutputText",
    "check_finish_reason",
    "parse_chat_completion",
    "parse_message",
    "parse_response",
]

T = TypeVar("T")
# Required fields are typed non-optional, as in the generated types, yet default to None so a drifted body decodes.
_REQUIRED: Any = None


class ParsedFunction(ChatCompletionMessageToolCallFunction):
    """A function call with its arguments decoded (``parsed_arguments``) when the tool declared a type."""

    parsed_arguments: Any = None


class ParsedFunctionToolCall(ChatCompletionMessageToolCall, tag="function"):
    """A function tool call whose ``function`` carries ``parsed_arguments``."""

    function: ParsedFunction = _REQUIRED


# Type checkers see the official SDK's `list[ParsedFunctionToolCall]` (so `call.function.parsed_arguments` checks as
# in its docs); at run time a custom tool's call may sit in the list too, so the field admits it.
if TYPE_CHECKING:
    _ParsedToolCalls = list[ParsedFunctionToolCall]
else:
    _ParsedToolCalls = list[ParsedFunctionToolCall | ChatCompletionMessageCustomToolCall]


class ParsedChatCompletionMessage(ChatCompletionResponseMessage, Generic[T]):
    """An assistant message with ``parsed``: the content decoded into the ``response_format`` type."""

    tool_calls: _ParsedToolCalls | None = None  # type: ignore[assignment]
    parsed: T | None = None


class ParsedChoice(CreateChatCompletionResponseChoicesItem, Generic[T]):
    """A choice whose message is a ``ParsedChatCompletionMessage``."""

    message: ParsedChatCompletionMessage[T] = _REQUIRED


class ParsedChatCompletion(CreateChatCompletionResponse, Generic[T]):
    """A chat completion whose messages carry ``parsed`` values (what ``parse()`` and the stream return)."""

    choices: list[ParsedChoice[T]] = _REQUIRED  # type: ignore[assignment]


class ParsedResponseOutputText(OutputTextContent, Generic[T], tag="output_text"):
    """An ``output_text`` part with ``parsed``: the text decoded into the ``text_format`` type."""

    parsed: T | None = None


class ParsedResponseFunctionToolCall(FunctionToolCall, tag="function_call"):
    """A ``function_call`` output item with ``parsed_arguments``."""

    parsed_arguments: Any = None


class ParsedResponse(Response, Generic[T]):
    """A Responses ``Response`` whose text parts and function calls carry decoded values."""

    @property
    def output_parsed(self) -> T | None:
        """The first ``parsed`` value among the message output parts (None when there is none)."""
        for item in self.output or ():
            if getattr(item, "type", None) == "message":
                for part in getattr(item, "content", None) or ():
                    parsed = getattr(part, "parsed", None)
                    if parsed is not None:
                        return parsed  # type: ignore[no-any-return]
        return None


def _fields_of(obj: Any) -> dict[str, Any]:
    return {name: getattr(obj, name) for name in obj.__struct_fields__}


def parse_message(
    message: Any, response_format: Any, types: dict[str, Any]
) -> ParsedChatCompletionMessage[Any]:
    """Turn a response message into a ``ParsedChatCompletionMessage``."""
    if message is None:
        return ParsedChatCompletionMessage()
    fields = _fields_of(message)
    tool_calls = message.tool_calls
    if tool_calls:
        fields["tool_calls"] = [_parse_tool_call(tc, types) for tc in tool_calls]
    content = message.content
    if is_rich_format(response_format) and content is not None and not message.refusal:
        fields["parsed"] = parse_json(response_format, content)
    return ParsedChatCompletionMessage(**fields)


def _parse_tool_call(call: Any, types: dict[str, Any]) -> Any:
    if isinstance(call, ParsedFunctionToolCall) or not isinstance(call, ChatCompletionMessageToolCall):
        return call
    fn = call.function
    parsed_fn = None
    if fn is not None:
        parsed_fn = ParsedFunction(
            name=fn.name,
            arguments=fn.arguments,
            parsed_arguments=parse_arguments(types, fn.name, fn.arguments),
        )
    return ParsedFunctionToolCall(id=call.id, function=parsed_fn)


def check_finish_reason(completion: Any, reason: str | None) -> None:
    """Raise the official SDK's errors for a choice cut short by the token limit or the content filter."""
    if reason == "length":
        raise LengthFinishReasonError(completion=completion)
    if reason == "content_filter":
        raise ContentFilterFinishReasonError()


def parse_chat_completion(
    completion: CreateChatCompletionResponse, response_format: Any, tools: Any
) -> ParsedChatCompletion[Any]:
    """Decode every choice's content (and typed tool arguments) of a non-streamed completion.

    Raises:
        LengthFinishReasonError / ContentFilterFinishReasonError: a choice stopped early.
    """
    types = tool_types(tools)
    choices = []
    for choice in completion.choices or ():
        check_finish_reason(completion, choice.finish_reason)
        fields = _fields_of(choice)
        fields["message"] = parse_message(choice.message, response_format, types)
        choices.append(ParsedChoice(**fields))
    fields = _fields_of(completion)
    fields["choices"] = choices
    return ParsedChatCompletion(**fields)


def parse_response(response: Response, text_format: Any, tools: Any) -> ParsedResponse[Any]:
    """Decode the ``output_text`` parts (into ``text_format``) and typed function-call arguments of a Response."""
    if isinstance(response, ParsedResponse):
        return response
    types = tool_types(tools)
    rich = is_rich_format(text_format)
    output = []
    for item in response.output or ():
        if isinstance(item, OutputMessage) and item.content:
            parts = []
            for part in item.content:
                if isinstance(part, OutputTextContent) and not isinstance(part, ParsedResponseOutputText):
                    pf = _fields_of(part)
                    if rich and part.text is not None:
                        pf["parsed"] = parse_json(text_format, part.text)
                    part = ParsedResponseOutputText(**pf)
                parts.append(part)
            item = msgspec.structs.replace(item, content=parts)
        elif isinstance(item, FunctionToolCall) and not isinstance(item, ParsedResponseFunctionToolCall):
            f = _fields_of(item)
            f["parsed_arguments"] = parse_arguments(types, item.name, item.arguments)
            item = ParsedResponseFunctionToolCall(**f)
        output.append(item)
    fields = _fields_of(response)
    if response.output is not None:
        fields["output"] = output
    return ParsedResponse(**fields)
