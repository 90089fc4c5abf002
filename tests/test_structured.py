"""Structured outputs: strict JSON schemas from types (literal expectations), decoding, parse() on a socket."""

from __future__ import annotations

import dataclasses
import enum
from typing import Annotated, Any, Literal, TypedDict

import msgspec
import pytest
from aiohttp import web

from openai_async import AsyncOpenAI, ContentFilterFinishReasonError, LengthFinishReasonError, RetryPolicy
from openai_async._helpers.structured import (
    ParsedChatCompletion,
    PartialJSON,
    function_tool,
    parse_json,
    response_format_param,
    to_strict_json_schema,
)

from ._server import routes, serve


class Color(enum.Enum):
    RED = "red"
    BLUE = "blue"


class Point(msgspec.Struct):
    x: int
    y: int


class Shape(msgspec.Struct):
    """A shape."""

    name: str
    points: list[Point]
    color: Color | None = None
    label: str = "none"
    kind: Literal["poly", "line"] = "poly"


class Tree(msgspec.Struct):
    value: int
    children: list[Tree]


class Cat(msgspec.Struct, tag="cat"):
    lives: int


class Dog(msgspec.Struct, tag="dog"):
    good: bool


class Pet(msgspec.Struct):
    pet: Cat | Dog
    tags: dict[str, int]


NULL = {"type": "null"}


def test_schema_nested_struct_optional_enum_literal() -> None:
    """Nested Structs become $defs refs; optional fields are required but nullable; defaults are dropped."""
    assert to_strict_json_schema(Shape) == {
        "title": "Shape",
        "description": "A shape.",
        "type": "object",
        "properties": {
            "name": {"type": "string"},
            "points": {"type": "array", "items": {"$ref": "#/$defs/Point"}},
            "color": {"anyOf": [{"$ref": "#/$defs/Color"}, NULL]},
            "label": {"anyOf": [{"type": "string"}, NULL]},
            "kind": {"anyOf": [{"enum": ["line", "poly"]}, NULL]},
        },
        "required": ["name", "points", "color", "label", "kind"],
        "additionalProperties": False,
        "$defs": {
            "Color": {"title": "Color", "enum": ["blue", "red"]},
            "Point": {
                "title": "Point",
                "type": "object",
                "properties": {"x": {"type": "integer"}, "y": {"type": "integer"}},
                "required": ["x", "y"],
                "additionalProperties": False,
            },
        },
    }


def test_schema_recursion_keeps_root_in_defs() -> None:
    """A recursive type is inlined at the root and stays in $defs for its own $ref."""
    tree_def = {
        "title": "Tree",
        "type": "object",
        "properties": {
            "value": {"type": "integer"},
            "children": {"type": "array", "items": {"$ref": "#/$defs/Tree"}},
        },
        "required": ["value", "children"],
        "additionalProperties": False,
    }
    assert to_strict_json_schema(Tree) == {**tree_def, "$defs": {"Tree": tree_def}}


def test_schema_tagged_union_drops_discriminator() -> None:
    """Tagged unions become anyOf of objects with a required tag enum; 'discriminator' is dropped."""
    schema = to_strict_json_schema(Pet)
    assert schema["properties"]["pet"] == {"anyOf": [{"$ref": "#/$defs/Cat"}, {"$ref": "#/$defs/Dog"}]}
    assert schema["$defs"]["Cat"] == {
        "title": "Cat",
        "type": "object",
        "properties": {"type": {"enum": ["cat"]}, "lives": {"type": "integer"}},
        "required": ["type", "lives"],
        "additionalProperties": False,
    }
    # a dict[str, V] keeps its value schema (strict mode may reject it; the API says so, we do not guess)
    assert schema["properties"]["tags"] == {"type": "object", "additionalProperties": {"type": "integer"}}


@dataclasses.dataclass
class Row:
    id: int
    note: str | None = None


class Movie(TypedDict, total=False):
    title: str
    year: int


def test_schema_dataclass_and_typeddict() -> None:
    """Dataclasses and TypedDicts work like Structs: all properties required, optional ones nullable."""
    assert to_strict_json_schema(Row) == {
        "title": "Row",
        "type": "object",
        "properties": {"id": {"type": "integer"}, "note": {"anyOf": [{"type": "string"}, NULL]}},
        "required": ["id", "note"],
        "additionalProperties": False,
    }
    movie = to_strict_json_schema(Movie)
    assert movie["required"] == ["title", "year"]
    assert movie["properties"]["year"] == {"anyOf": [{"type": "integer"}, NULL]}


def test_schema_rejects_non_objects() -> None:
    """A type that is not a JSON object cannot be a structured output."""
    with pytest.raises(TypeError):
        to_strict_json_schema(list[int])


def test_parse_round_trip_drops_nulls_of_non_nullable_optionals() -> None:
    """null for an optional non-nullable field falls back to its default; nested values decode."""
    data = b'{"name": "tri", "points": [{"x": 1, "y": 2}], "color": "red", "label": null, "kind": null}'
    assert parse_json(Shape, data) == Shape(name="tri", points=[Point(1, 2)], color=Color.RED)
    assert parse_json(Row, '{"id": 3, "note": null}') == Row(id=3)
    assert parse_json(Movie, '{"title": "Heat", "year": null}') == {"title": "Heat"}
    tree = parse_json(Tree, '{"value": 1, "children": [{"value": 2, "children": []}]}')
    assert tree == Tree(1, [Tree(2, [])])
    assert parse_json(Pet, '{"pet": {"type": "dog", "good": true}, "tags": {}}') == Pet(Dog(True), {})


def test_parse_rejects_wrong_shape() -> None:
    """Output that does not match the type raises msgspec.ValidationError."""
    with pytest.raises(msgspec.ValidationError):
        parse_json(Point, '{"x": "one", "y": 2}')


def test_response_format_and_function_tool_shapes() -> None:
    """response_format and function_tool produce the wire shapes of the official SDK."""
    rf = response_format_param(Point)
    assert rf == {
        "type": "json_schema",
        "json_schema": {"name": "Point", "schema": to_strict_json_schema(Point), "strict": True},
    }
    tool = function_tool(Point, name="move", description="Move somewhere.")
    assert tool == {
        "type": "function",
        "function": {
            "name": "move",
            "description": "Move somewhere.",
            "parameters": to_strict_json_schema(Point),
            "strict": True,
        },
    }
    assert tool.to_responses_tool() == {
        "type": "function",
        "name": "move",
        "description": "Move somewhere.",
        "parameters": to_strict_json_schema(Point),
        "strict": True,
    }
    assert msgspec.json.decode(msgspec.json.encode(tool)) == dict(tool)


def _completion(content: str | None, finish: str = "stop", tool_args: str | None = None) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": content, "refusal": None, "annotations": []}
    if tool_args is not None:
        message["tool_calls"] = [
            {"id": "c", "type": "function", "function": {"name": "move", "arguments": tool_args}}
        ]
    return {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "created": 1,
        "model": "m",
        "choices": [{"index": 0, "message": message, "finish_reason": finish, "logprobs": None}],
    }


def _app(body: dict[str, Any], seen: list[Any]) -> web.Application:
    async def handler(request: web.Request) -> web.Response:
        seen.append(await request.json())
        return web.json_response(body)

    return routes(("POST", "/v1/chat/completions", handler))


@pytest.mark.anyio
async def test_chat_parse_round_trip() -> None:
    """chat.completions.parse sends the strict schema and decodes content and typed tool arguments."""
    seen: list[Any] = []
    body = _completion(
        '{"name": "sq", "points": [], "color": null, "label": "L", "kind": "line"}',
        tool_args='{"x": 5, "y": 6}',
    )
    async with (
        serve(_app(body, seen)) as url,
        AsyncOpenAI(api_key="k", base_url=url, retry=RetryPolicy.instant()) as client,
    ):
        completion = await client.chat.completions.parse(
            model="m",
            messages=[{"role": "user", "content": "hi"}],
            response_format=Shape,
            tools=[function_tool(Point, name="move")],
        )
    assert isinstance(completion, ParsedChatCompletion)
    message = completion.choices[0].message
    assert message.parsed == Shape(name="sq", points=[], label="L", kind="line")
    assert message.tool_calls[0].function.parsed_arguments == Point(5, 6)
    assert seen[0]["response_format"] == response_format_param(Shape)
    assert "stream" not in seen[0]


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("finish", "error"),
    [("length", LengthFinishReasonError), ("content_filter", ContentFilterFinishReasonError)],
)
async def test_chat_parse_finish_reason_errors(finish: str, error: type[Exception]) -> None:
    """parse() raises the official SDK's errors when generation stopped early."""
    seen: list[Any] = []
    async with (
        serve(_app(_completion('{"x": 1', finish), seen)) as url,
        AsyncOpenAI(api_key="k", base_url=url, retry=RetryPolicy.instant()) as client,
    ):
        with pytest.raises(error):
            await client.chat.completions.parse(model="m", messages=[], response_format=Point)


DOC = (
    '{"title": "Caf\\u00e9 \\"q\\"", "n": -12, "tags": ["a", "bc", {"x": [1, 2.5e3, true]}], '
    '"z": null, "e": {}}'
)


def test_partial_json_prefixes() -> None:
    """PartialJSON turns each prefix into the value received so far: partial strings, complete scalars only."""
    p = PartialJSON()
    seen = {}
    for i in range(len(DOC) + 1):
        seen[DOC[:i]] = p.value(DOC[:i])
    assert seen[""] is None
    assert seen["{"] == {}
    assert seen['{"title": "Caf'] == {"title": "Caf"}
    assert seen['{"title": "Caf\\u00'] == {"title": "Caf"}  # a half escape is not shown
    assert seen['{"title": "Caf\\u00e9 \\"q\\"", "n": -1'] == {"title": 'Café "q"'}  # a number may go on
    assert seen['{"title": "Caf\\u00e9 \\"q\\"", "n": -12,'] == {"title": 'Café "q"', "n": -12}
    assert seen['{"title": "Caf\\u00e9 \\"q\\"", "n": -12, "tags": ["a", "b'] == {
        "title": 'Café "q"',
        "n": -12,
        "tags": ["a", "b"],
    }
    assert seen[DOC] == msgspec.json.decode(DOC)


def test_partial_json_fresh_scan_matches_incremental() -> None:
    """Scanning a prefix in one go gives the same value as reaching it piece by piece."""
    p = PartialJSON()
    for i in range(len(DOC) + 1):
        assert p.value(DOC[:i]) == PartialJSON().value(DOC[:i])


class Pin(msgspec.Struct):
    x: int


class Map(msgspec.Struct, rename="camel"):
    home_pin: Annotated[Pin, msgspec.Meta(description="where")]
    spare_pin: int = 0


def test_schema_ref_with_siblings_is_inlined_and_renames_kept() -> None:
    """A $ref carrying a description is inlined (strict mode forbids siblings); renamed fields use wire names."""
    schema = to_strict_json_schema(Map)
    assert schema["properties"]["homePin"] == {
        "title": "Pin",
        "type": "object",
        "properties": {"x": {"type": "integer"}},
        "required": ["x"],
        "description": "where",
        "additionalProperties": False,
    }
    assert "$defs" not in schema
    assert schema["required"] == ["homePin", "sparePin"]
    assert parse_json(Map, '{"homePin": {"x": 1}, "sparePin": null}') == Map(home_pin=Pin(1))
