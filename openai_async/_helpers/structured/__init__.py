"""Structured outputs (one module per job: ``schema``, ``decoding``, ``partial``, ``tools``, ``parsed``): strict JSON schemas built from Python types, and answers decoded back into them.

- ``to_strict_json_schema(T)``: ``msgspec.json.schema(T)`` rewritten for the API's strict mode
  (https://platform.openai.com/docs/guides/structured-outputs#supported-schemas): every object gets
  ``additionalProperties: false`` and lists all its properties as required, an optional property becomes
  nullable, ``default`` and ``discriminator`` are dropped, a ``$ref`` with sibling keywords is inlined, and the
  root is the object itself (``$defs`` kept only for what is still referenced, e.g. recursion).
- ``parse_json(T, text)``: decodes model output into ``T``. Because the schema made optional fields nullable,
  a ``null`` sent for a field that does not accept ``None`` is dropped first so the field's default applies.
- ``function_tool(T)``: a Chat Completions ``tools`` entry declared from a type; its calls' arguments are
  decoded into ``T`` by ``parse()`` and the stream helpers.
- ``Parsed*`` types: the generated response types plus the decoded ``parsed`` / ``parsed_arguments``.

``T`` may be anything ``msgspec.json.schema`` understands that encodes as a JSON object: a ``msgspec.Struct``,
a dataclass, an attrs class or a ``TypedDict``; or a pydantic v2 model or pydantic dataclass, which takes the
official SDK's schema rules and is validated by pydantic (``pydantic_support``).
"""

from .decoding import parse_json as parse_json
from .parsed import ParsedChatCompletion as ParsedChatCompletion
from .parsed import ParsedChatCompletionMessage as ParsedChatCompletionMessage
from .parsed import ParsedChoice as ParsedChoice
from .parsed import ParsedFunction as ParsedFunction
from .parsed import ParsedFunctionToolCall as ParsedFunctionToolCall
from .parsed import ParsedResponse as ParsedResponse
from .parsed import ParsedResponseFunctionToolCall as ParsedResponseFunctionToolCall
from .parsed import ParsedResponseOutputText as ParsedResponseOutputText
from .parsed import check_finish_reason as check_finish_reason
from .parsed import parse_chat_completion as parse_chat_completion
from .parsed import parse_message as parse_message
from .parsed import parse_response as parse_response
from .partial import PartialJSON as PartialJSON
from .schema import is_rich_format as is_rich_format
from .schema import response_format_param as response_format_param
from .schema import text_format_param as text_format_param
from .schema import to_strict_json_schema as to_strict_json_schema
from .tools import FunctionTool as FunctionTool
from .tools import function_tool as function_tool
from .tools import parse_arguments as parse_arguments
from .tools import tool_types as tool_types

__all__ = [
    "FunctionTool",
    "ParsedChatCompletion",
    "ParsedChatCompletionMessage",
    "ParsedChoice",
    "ParsedFunction",
    "ParsedFunctionToolCall",
    "ParsedResponse",
    "ParsedResponseFunctionToolCall",
    "ParsedResponseOutputText",
    "PartialJSON",
    "check_finish_reason",
    "function_tool",
    "is_rich_format",
    "parse_arguments",
    "parse_chat_completion",
    "parse_json",
    "parse_message",
    "parse_response",
    "response_format_param",
    "text_format_param",
    "to_strict_json_schema",
    "tool_types",
]
