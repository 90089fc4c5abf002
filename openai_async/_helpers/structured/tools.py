"""Function tools declared from types: ``function_tool(T)`` (alias ``pydantic_function_tool``), and the decoding of
a tool call's arguments into the type its tool declared."""

from __future__ import annotations

from typing import Any

from .. import pydantic_support
from .decoding import json_decode, parse_json
from .schema import schema_name, to_strict_json_schema

__all__ = ["FunctionTool", "function_tool", "parse_arguments", "tool_types"]


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


def function_tool(
    type_: type[Any], *, name: str | None = None, description: str | None = None
) -> FunctionTool:
    """Declare a strict function tool whose arguments are ``type_`` (Struct, dataclass, TypedDict or pydantic model).

    ``parse()`` and the stream helpers decode the model's arguments for it into ``type_``
    (``tool_call.function.parsed_arguments``). Exported as ``pydantic_function_tool`` too: as in the official
    SDK, a pydantic model's docstring is the default ``description``.
    """
    if description is None and pydantic_support.is_pydantic(type_):
        description = type_.__doc__
    function: dict[str, Any] = {"name": schema_name(type_, name)}
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
            # The official SDK's pydantic_function_tool() keeps its model here.
            model = getattr(fn, "model", None)
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
        return json_decode(arguments)
    return parse_json(type_, arguments)
