"""Structured outputs: strict JSON schemas built from Python types, and answers decoded back into them.

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

from __future__ import annotations

import re
from typing import Any, Generic, TypeVar

import msgspec
from msgspec import inspect as mi

from .._core.errors import ContentFilterFinishReasonError, LengthFinishReasonError
from ..types.chat import (
    ChatCompletionMessageCustomToolCall,
    ChatCompletionMessageToolCall,
    ChatCompletionMessageToolCallFunction,
    ChatCompletionResponseMessage,
    CreateChatCompletionResponse,
    CreateChatCompletionResponseChoicesItem,
)
from ..types.responses import FunctionToolCall, OutputMessage, OutputTextContent, Response
from . import pydantic_support

__all__ = [
    "FunctionTool",
    "PartialJSON",
    "ParsedChatCompletion",
    "ParsedChatCompletionMessage",
    "ParsedChoice",
    "ParsedFunction",
    "ParsedFunctionToolCall",
    "ParsedResponse",
    "ParsedResponseFunctionToolCall",
    "ParsedResponseOutputText",
    "function_tool",
    "is_rich_format",
    "parse_chat_completion",
    "parse_json",
    "parse_response",
    "response_format_param",
    "text_format_param",
    "to_strict_json_schema",
]

T = TypeVar("T")

_REF = "#/$defs/"
_NAME_OK = re.compile(r"[^a-zA-Z0-9_-]")
_json_decode = msgspec.json.decode


# -- schema ------------------------------------------------------------------------------------------------


def to_strict_json_schema(type_: Any) -> dict[str, Any]:
    """Return the strict-mode JSON schema of ``type_`` (a Struct, dataclass, TypedDict or pydantic model).

    Raises:
        TypeError: ``type_`` does not describe a JSON object.
    """
    if pydantic_support.is_pydantic(type_):
        return pydantic_support.strict_schema(type_)
    schema = msgspec.json.schema(type_)
    defs: dict[str, Any] = schema.pop("$defs", {})
    root = schema
    root_name = None
    ref = schema.get("$ref")
    if isinstance(ref, str) and ref.startswith(_REF) and len(schema) == 1:
        root_name = ref[len(_REF):]
        root = defs[root_name]
    if root.get("type") != "object":
        raise TypeError(f"structured outputs need a type that encodes as a JSON object, not {type_!r}")
    out: dict[str, Any] = _strict(root, defs)
    new_defs = {name: _strict(d, defs) for name, d in defs.items()}
    # Keep only the definitions still referenced from the root (directly or through other definitions).
    used: set[str] = set()
    _collect_refs(out, used)
    todo = list(used)
    while todo:
        name = todo.pop()
        found: set[str] = set()
        _collect_refs(new_defs[name], found)
        for n in found - used:
            used.add(n)
            todo.append(n)
    if used:
        out["$defs"] = {name: new_defs[name] for name in sorted(used)}
    return out


def _collect_refs(node: Any, into: set[str]) -> None:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith(_REF):
            into.add(ref[len(_REF):])
        for value in node.values():
            _collect_refs(value, into)
    elif isinstance(node, list):
        for value in node:
            _collect_refs(value, into)


def _strict(node: Any, defs: dict[str, Any]) -> Any:
    if isinstance(node, list):
        return [_strict(v, defs) for v in node]
    if not isinstance(node, dict):
        return node
    ref = node.get("$ref")
    if isinstance(ref, str) and len(node) > 1 and ref.startswith(_REF):
        # Strict mode rejects keywords next to $ref: inline the target one level (its own refs stay refs).
        node = {**defs[ref[len(_REF):]], **{k: v for k, v in node.items() if k != "$ref"}}
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key in ("default", "discriminator"):
            continue
        if key == "properties":
            out[key] = {name: _strict(v, defs) for name, v in value.items()}
        elif key in ("$defs", "enum", "const", "required"):
            out[key] = value
        else:
            out[key] = _strict(value, defs)
    if out.get("type") == "object" and not isinstance(out.get("additionalProperties"), dict):
        props: dict[str, Any] = out.setdefault("properties", {})
        required = set(out.get("required", ()))
        for name, prop in props.items():
            if name not in required:
                props[name] = _nullable(prop)
        out["required"] = list(props)
        out["additionalProperties"] = False
    return out


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    t = schema.get("type")
    if t == "null" or (isinstance(t, list) and "null" in t):
        return schema
    for member in schema.get("anyOf", ()):
        if isinstance(member, dict) and member.get("type") == "null":
            return schema
    return {"anyOf": [schema, {"type": "null"}]}


def _schema_name(type_: Any, name: str | None) -> str:
    return _NAME_OK.sub("_", name or str(getattr(type_, "__name__", "response")))[:64]


def is_rich_format(value: Any) -> bool:
    """True when ``value`` is a type to build a schema from (not a ready ``response_format`` dict)."""
    return isinstance(value, type)


def response_format_param(type_: Any, name: str | None = None) -> dict[str, Any]:
    """The Chat Completions ``response_format`` for ``type_``."""
    return {
        "type": "json_schema",
        "json_schema": {"name": _schema_name(type_, name), "schema": to_strict_json_schema(type_), "strict": True},
    }


def text_format_param(type_: Any, name: str | None = None) -> dict[str, Any]:
    """The Responses ``text.format`` for ``type_``."""
    return {"type": "json_schema", "name": _schema_name(type_, name), "schema": to_strict_json_schema(type_),
            "strict": True}


# -- decoding --------------------------------------------------------------------------------------------


class _Plan:
    """Strictly private. How to decode JSON into one type: directly, or after dropping nulls the schema allowed."""

    __slots__ = ("decoder", "info", "strip")

    def __init__(self, type_: Any) -> None:
        self.decoder = msgspec.json.Decoder(type_)
        self.info = mi.type_info(type_)
        self.strip = _has_null_trap(self.info, set())


_plans: dict[Any, _Plan] = {}


def _fields(info: Any) -> tuple[Any, ...] | None:
    if isinstance(info, (mi.StructType, mi.DataclassType, mi.TypedDictType)):
        return info.fields
    return None


def _accepts_none(info: Any) -> bool:
    while isinstance(info, mi.Metadata):
        info = info.type
    if isinstance(info, (mi.NoneType, mi.AnyType)):
        return True
    return isinstance(info, mi.UnionType) and any(isinstance(t, (mi.NoneType, mi.AnyType)) for t in info.types)


def _children(info: Any) -> tuple[Any, ...]:
    if isinstance(info, mi.Metadata):
        return (info.type,)
    if isinstance(info, (mi.ListType, mi.SetType, mi.FrozenSetType, mi.VarTupleType)):
        return (info.item_type,)
    if isinstance(info, mi.TupleType):
        return info.item_types
    if isinstance(info, mi.DictType):
        return (info.value_type,)
    if isinstance(info, mi.UnionType):
        return info.types
    fields = _fields(info)
    return tuple(f.type for f in fields) if fields else ()


def _has_null_trap(info: Any, seen: set[int]) -> bool:
    """True when some optional field of the type graph does not accept ``None`` (the schema made it nullable)."""
    if id(info) in seen:
        return False
    seen.add(id(info))
    fields = _fields(info)
    if fields and any(not f.required and not _accepts_none(f.type) for f in fields):
        return True
    return any(_has_null_trap(child, seen) for child in _children(info))


def _strip(obj: Any, info: Any) -> Any:
    while isinstance(info, mi.Metadata):
        info = info.type
    if isinstance(obj, list):
        children = _children(info) if not isinstance(info, mi.UnionType) else ()
        if isinstance(info, mi.TupleType):
            return [_strip(v, t) for v, t in zip(obj, info.item_types, strict=False)] + obj[len(info.item_types):]
        if len(children) == 1:
            item = children[0]
            return [_strip(v, item) for v in obj]
        return obj
    if not isinstance(obj, dict):
        return obj
    if isinstance(info, mi.UnionType):
        info = _pick_member(obj, info)
        if info is None:
            return obj
    if isinstance(info, mi.DictType):
        return {k: _strip(v, info.value_type) for k, v in obj.items()}
    fields = _fields(info)
    if not fields:
        return obj
    by_name = {f.encode_name: f for f in fields}
    out = {}
    for key, value in obj.items():
        f = by_name.get(key)
        if f is None:
            out[key] = value
        elif value is None and not f.required and not _accepts_none(f.type):
            continue  # the schema allowed null only because the field is optional: use its default
        else:
            out[key] = _strip(value, f.type)
    return out


def _pick_member(obj: dict[str, Any], info: Any) -> Any:
    members = [t for t in info.types if _fields(t) is not None or isinstance(t, mi.DictType)]
    if len(members) == 1:
        return members[0]
    for t in members:
        if isinstance(t, mi.StructType) and t.tag_field is not None and obj.get(t.tag_field) == t.tag:
            return t
    return None


def parse_json(type_: type[T] | Any, data: str | bytes) -> T:
    """Decode model output ``data`` into ``type_``.

    Raises:
        msgspec.DecodeError: ``data`` is not JSON.
        msgspec.ValidationError: the JSON does not match ``type_``.
        pydantic.ValidationError: for a pydantic ``type_``, the JSON does not validate.
    """
    plan = _plans.get(type_)
    if plan is None:
        if pydantic_support.is_pydantic(type_):
            return pydantic_support.validate_json(type_, data)  # type: ignore[no-any-return]
        plan = _plans[type_] = _Plan(type_)
    if not plan.strip:
        return plan.decoder.decode(data)  # type: ignore[no-any-return]
    return msgspec.convert(_strip(_json_decode(data), plan.info), type_)


# -- partial JSON while it streams ---------------------------------------------------------------------------

_WS = re.compile(r"[ \t\n\r]*")
_STRING_BODY = re.compile(r'(?:[^"\\]|\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4}))*')
_SCALAR = re.compile(r"-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?|true|false|null")
_CLOSE = {"{": "}", "[": "]"}
_DELIMITERS = frozenset(" \t\n\r,]}")
# Object phases: 0 key or "}" expected, 2 ":" expected, 3 value expected, 4 "," or "}" expected.
# Array phases: 0 value or "]" expected, 4 "," or "]" expected.


class PartialJSON:
    """Incremental scanner of a JSON document that arrives in pieces; ``value(text)`` is the part received so far.

    Each character is scanned once (regexes skip string bodies in C), so feeding a whole stream is O(n). The
    value is built on request: the longest prefix that ends on a complete value (or inside a string value,
    which is kept as a partial string) is closed with the brackets still open and decoded by msgspec.
    """

    __slots__ = ("_closers", "_in_key", "_in_string", "_pos", "_safe", "_stack", "_str_pos", "_broken")

    def __init__(self) -> None:
        self._pos = 0
        self._stack: list[list[Any]] = []  # [bracket, phase]
        self._in_string = False
        self._in_key = False
        self._str_pos = 0
        self._safe = 0  # text[:_safe] + _closers is valid JSON (when _safe > 0)
        self._closers = ""
        self._broken = False

    def _mark_safe(self, pos: int) -> None:
        self._safe = pos
        self._closers = "".join(_CLOSE[b] for b, _ in reversed(self._stack))

    def _after_value(self, pos: int) -> None:
        if self._stack:
            top = self._stack[-1]
            top[1] = 4
            self._mark_safe(pos)
        else:
            self._mark_safe(pos)  # a complete top-level value

    def feed(self, text: str) -> None:
        """Scan ``text`` (the whole document so far; it only ever grows) from where the last call stopped."""
        pos = self._pos
        end = len(text)
        stack = self._stack
        while pos < end and not self._broken:
            if self._in_string:
                m = _STRING_BODY.match(text, pos)
                pos = m.end()  # type: ignore[union-attr]
                self._str_pos = pos
                if pos < end and text[pos] == '"':
                    pos += 1
                    self._in_string = False
                    if self._in_key:
                        self._in_key = False
                        stack[-1][1] = 2
                    else:
                        self._after_value(pos)
                    continue
                if pos < end and text[pos] != "\\":
                    self._broken = True  # a raw control character or similar: stop guessing
                break  # the string (or an escape) continues in a later piece
            pos = _WS.match(text, pos).end()  # type: ignore[union-attr]
            if pos >= end:
                break
            ch = text[pos]
            top = stack[-1] if stack else None
            phase = top[1] if top is not None else 3
            if ch in "{[":
                if phase not in (0, 3) or (top is not None and top[0] == "{" and phase == 0):
                    self._broken = True
                    break
                stack.append([ch, 0])
                pos += 1
                self._mark_safe(pos)
            elif ch in "}]":
                if top is None or _CLOSE[top[0]] != ch or phase not in (0, 4):
                    self._broken = True
                    break
                stack.pop()
                pos += 1
                self._after_value(pos)
            elif ch == ",":
                if top is None or phase != 4:
                    self._broken = True
                    break
                top[1] = 0 if top[0] == "{" else 3
                pos += 1
            elif ch == ":":
                if top is None or top[0] != "{" or phase != 2:
                    self._broken = True
                    break
                top[1] = 3
                pos += 1
            elif ch == '"':
                pos += 1
                self._in_string = True
                self._in_key = top is not None and top[0] == "{" and phase == 0
                self._str_pos = pos
            else:
                m = _SCALAR.match(text, pos)
                if m is None or m.end() >= end or text[m.end()] not in _DELIMITERS:
                    break  # not complete yet (a number may go on)
                pos = m.end()
                self._after_value(pos)
        self._pos = pos

    def value(self, text: str) -> Any:
        """The partial value of ``text`` (which must extend what was fed before), or None if nothing is complete."""
        self.feed(text)
        if self._in_string and not self._in_key and self._stack:
            closers = "".join(_CLOSE[b] for b, _ in reversed(self._stack))
            candidate = text[: self._str_pos] + '"' + closers
        elif self._safe:
            candidate = text[: self._safe] + self._closers
        else:
            return None
        try:
            return _json_decode(candidate)
        except msgspec.DecodeError:
            return None


# -- function tools ----------------------------------------------------------------------------------------


class FunctionTool(dict):  # type: ignore[type-arg]
    """A Chat Completions ``tools`` entry (a plain ``dict`` on the wire) that remembers the type of its arguments."""

    __slots__ = ("arguments_type",)

    arguments_type: Any

    @property
    def name(self) -> str:
        """The function's name."""
        return self["function"]["name"]  # type: ignore[no-any-return]

    def to_responses_tool(self) -> dict[str, Any]:
        """The same tool in the Responses API's flat shape."""
        return {"type": "function", **self["function"]}


def function_tool(type_: type[Any], *, name: str | None = None, description: str | None = None) -> FunctionTool:
    """Declare a strict function tool whose arguments are ``type_`` (Struct, dataclass, TypedDict or pydantic model).

    ``parse()`` and the stream helpers decode the model's arguments for it into ``type_``
    (``tool_call.function.parsed_arguments``). Exported as ``pydantic_function_tool`` too: as in the official
    SDK, a pydantic model's docstring is the default ``description``.
    """
    if description is None and pydantic_support.is_pydantic(type_):
        description = type_.__doc__
    function: dict[str, Any] = {"name": _schema_name(type_, name)}
    if description is not None:
        function["description"] = description
    function["parameters"] = to_strict_json_schema(type_)
    function["strict"] = True
    tool = FunctionTool(type="function", function=function)
    tool.arguments_type = type_
    return tool


def tool_types(tools: Any) -> dict[str, Any]:
    """Map function name -> arguments type (a ``type``, or ``dict`` for strict schema tools) for parsing."""
    out: dict[str, Any] = {}
    if not isinstance(tools, (list, tuple)):
        return out
    for tool in tools:
        if isinstance(tool, FunctionTool):
            out[tool.name] = tool.arguments_type
        elif isinstance(tool, dict) and tool.get("type") == "function":
            fn = tool.get("function", tool)  # chat nests it, responses does not
            if not (isinstance(fn, dict) and isinstance(fn.get("name"), str)):
                continue
            model = getattr(fn, "model", None)  # the official SDK's pydantic_function_tool() keeps its model here
            if model is not None and pydantic_support.is_pydantic(model):
                out[fn["name"]] = model
            elif fn.get("strict"):
                out[fn["name"]] = dict
    return out


def parse_arguments(types: dict[str, Any], name: str | None, arguments: str | None) -> Any:
    """Decode a tool call's arguments for the tools that asked for it; None for the others."""
    if name is None or arguments is None:
        return None
    type_ = types.get(name)
    if type_ is None:
        return None
    if type_ is dict:
        return _json_decode(arguments)
    return parse_json(type_, arguments)


# -- parsed response types -----------------------------------------------------------------------------------

# Runtime default of the fields the spec requires, typed non-optional as in the generated types (see
# scripts/gen_types.py, Renderer.field_type): a payload that drops one still decodes, the field reading None.
_REQUIRED: Any = None


class ParsedFunction(ChatCompletionMessageToolCallFunction):
    """A function call with its arguments decoded (``parsed_arguments``) when the tool declared a type."""

    parsed_arguments: Any = None


class ParsedFunctionToolCall(ChatCompletionMessageToolCall, tag="function"):
    """A function tool call whose ``function`` carries ``parsed_arguments``."""

    function: ParsedFunction = _REQUIRED


class ParsedChatCompletionMessage(ChatCompletionResponseMessage, Generic[T]):
    """An assistant message with ``parsed``: the content decoded into the ``response_format`` type."""

    tool_calls: list[ParsedFunctionToolCall | ChatCompletionMessageCustomToolCall] | None = None  # type: ignore[assignment]
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


def parse_message(message: Any, response_format: Any, types: dict[str, Any]) -> ParsedChatCompletionMessage[Any]:
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
        parsed_fn = ParsedFunction(name=fn.name, arguments=fn.arguments,
                                   parsed_arguments=parse_arguments(types, fn.name, fn.arguments))
    return ParsedFunctionToolCall(id=call.id, function=parsed_fn)


def check_finish_reason(completion: Any, reason: str | None) -> None:
    """Raise the official SDK's errors for a choice cut short by the token limit or the content filter."""
    if reason == "length":
        raise LengthFinishReasonError(completion=completion)
    if reason == "content_filter":
        raise ContentFilterFinishReasonError()


def parse_chat_completion(completion: CreateChatCompletionResponse, response_format: Any,
                          tools: Any) -> ParsedChatCompletion[Any]:
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
