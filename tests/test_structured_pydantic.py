"""pydantic structured outputs, as the official SDK's docs write them, run against both SDKs on loopback servers."""

from __future__ import annotations

import enum
import subprocess
import sys
from typing import Any, Literal

import msgspec
import openai
import pydantic
import pytest
from aiohttp import web
from openai.lib._pydantic import to_strict_json_schema as official_strict_schema
from pydantic import BaseModel, Field

import openai_async
from openai_async import to_strict_json_schema

from ._drip import MODES, SDKS, make_client, sse_handler
from ._server import routes, serve

pytestmark = pytest.mark.anyio


class Verdict(BaseModel):
    n: int
    ok: bool


class Color(str, enum.Enum):
    RED = "red"
    BLUE = "blue"


class Step(BaseModel):
    explanation: str
    output: str


class MathReasoning(BaseModel):
    """Steps to an answer."""

    steps: list[Step]
    final_answer: str
    color: Color | None = None
    confidence: float = 0.5
    kind: Literal["proof", "sketch"] = "sketch"
    note: str | None = Field(default=None, description="anything else")


class Node(BaseModel):
    value: int
    children: list[Node] = []


class Address(BaseModel):
    city: str


class Person(BaseModel):
    home: Address = Field(description="where they live")
    work: Address | None = None


@pydantic.dataclasses.dataclass
class Coord:
    lat: float
    lon: float


class GetWeather(BaseModel):
    """Get the weather for a city."""

    city: str
    unit: Literal["c", "f"] = "c"


@pytest.mark.parametrize("model", [Verdict, MathReasoning, Node, Person, GetWeather])
def test_schema_is_the_official_one(model: type[BaseModel]) -> None:
    """The strict schema of a pydantic model is exactly what the official SDK sends."""
    assert to_strict_json_schema(model) == official_strict_schema(model)


def test_schema_of_a_pydantic_dataclass_is_the_official_one() -> None:
    """pydantic dataclasses take the official rules too."""
    assert to_strict_json_schema(Coord) == official_strict_schema(pydantic.TypeAdapter(Coord))


def test_importing_the_package_never_imports_pydantic() -> None:
    """pydantic is an optional extra: importing and using openai_async does not load it."""
    code = (
        "import sys, openai_async; c = openai_async.AsyncOpenAI(api_key='k'); c.chat.completions; c.responses; "
        "openai_async.to_strict_json_schema; assert 'pydantic' not in sys.modules, 'pydantic was imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


def _completion(content: str | None = None, tool_calls: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": content, "refusal": None}
    if tool_calls:
        message["tool_calls"] = tool_calls
    return {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "created": 1,
        "model": "gpt-4o-mini",
        "choices": [
            {
                "index": 0,
                "message": message,
                "logprobs": None,
                "finish_reason": "tool_calls" if tool_calls else "stop",
            }
        ],
        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
    }


def _json_route(path: str, answer: dict[str, Any], seen: list[dict[str, Any]]) -> web.Application:
    async def handler(request: web.Request) -> web.Response:
        seen.append(await request.json())
        return web.json_response(answer)

    return routes(("POST", path, handler))


@pytest.mark.parametrize("sdk", SDKS)
async def test_chat_parse_with_a_pydantic_model(sdk: str) -> None:
    """`chat.completions.parse(response_format=Model)` sends the strict schema and returns a Model instance."""
    content = (
        '{"steps": [{"explanation": "add", "output": "2"}], "final_answer": "2", "color": "red", '
        '"confidence": 0.9, "kind": "proof", "note": null}'
    )
    seen: list[dict[str, Any]] = []
    async with (
        serve(_json_route("/v1/chat/completions", _completion(content), seen)) as url,
        make_client(sdk, url) as client,
    ):
        completion = await client.chat.completions.parse(
            model="gpt-4o-mini",
            messages=[{"role": "user", "content": "what is 1+1?"}],
            response_format=MathReasoning,
        )
    parsed = completion.choices[0].message.parsed
    assert isinstance(parsed, MathReasoning)
    assert parsed == MathReasoning(
        steps=[Step(explanation="add", output="2")],
        final_answer="2",
        color=Color.RED,
        confidence=0.9,
        kind="proof",
    )
    fmt = seen[0]["response_format"]
    assert fmt == {
        "type": "json_schema",
        "json_schema": {
            "name": "MathReasoning",
            "schema": official_strict_schema(MathReasoning),
            "strict": True,
        },
    }


@pytest.mark.parametrize("sdk", SDKS)
async def test_chat_parse_rejects_output_the_model_does_not_accept(sdk: str) -> None:
    """Content that fails the model's validation raises pydantic's ValidationError in both SDKs."""
    seen: list[dict[str, Any]] = []
    async with (
        serve(_json_route("/v1/chat/completions", _completion('{"n": "many", "ok": true}'), seen)) as url,
        make_client(sdk, url) as client,
    ):
        with pytest.raises(pydantic.ValidationError):
            await client.chat.completions.parse(model="m", messages=[], response_format=Verdict)


@pytest.mark.parametrize(
    ("sdk", "helper"), [("official", "official"), ("ours", "official"), ("ours", "ours")]
)
async def test_chat_parse_with_pydantic_function_tools(sdk: str, helper: str) -> None:
    """`parse(tools=[pydantic_function_tool(Model)])`: arguments come back as a Model (ours also takes the official
    SDK's tool objects, for code that still builds them with `openai.pydantic_function_tool`)."""
    tool = (openai.pydantic_function_tool if helper == "official" else openai_async.pydantic_function_tool)(
        GetWeather
    )
    call = {
        "id": "call_1",
        "type": "function",
        "function": {"name": "GetWeather", "arguments": '{"city": "Paris", "unit": "f"}'},
    }
    seen: list[dict[str, Any]] = []
    async with (
        serve(_json_route("/v1/chat/completions", _completion(None, [call]), seen)) as url,
        make_client(sdk, url) as client,
    ):
        completion = await client.chat.completions.parse(
            model="gpt-4o-mini", messages=[{"role": "user", "content": "weather?"}], tools=[tool]
        )
    args = completion.choices[0].message.tool_calls[0].function.parsed_arguments
    assert args == GetWeather(city="Paris", unit="f")
    sent = seen[0]["tools"][0]
    assert sent == {
        "type": "function",
        "function": {
            "name": "GetWeather",
            "description": "Get the weather for a city.",
            "strict": True,
            "parameters": official_strict_schema(GetWeather),
        },
    }


def _chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
    return {
        "id": "c1",
        "object": "chat.completion.chunk",
        "created": 1,
        "model": "m",
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }


@pytest.mark.parametrize("sdk", SDKS)
@pytest.mark.parametrize("mode", MODES)
async def test_chat_stream_with_a_pydantic_model(sdk: str, mode: str) -> None:
    """`chat.completions.stream(response_format=Model)`: partial dicts while streaming, a Model at the end."""
    pieces = ['{"n": ', "3", ', "ok"', ": true}"]
    chunks = [_chunk({"role": "assistant", "content": ""})]
    chunks += [_chunk({"content": p}) for p in pieces]
    chunks.append(_chunk({}, "stop"))
    app = routes(("POST", "/v1/chat/completions", sse_handler(chunks, mode=mode, pause=0.005)))
    partials = []
    async with serve(app) as url, make_client(sdk, url) as client:
        async with client.chat.completions.stream(
            model="gpt-4o-mini", messages=[{"role": "user", "content": "judge"}], response_format=Verdict
        ) as stream:
            async for event in stream:
                if event.type == "content.delta":
                    partials.append(event.parsed)
            completion = await stream.get_final_completion()
    assert completion.choices[0].message.parsed == Verdict(n=3, ok=True)
    assert partials[-1] == {"n": 3, "ok": True}
    assert all(isinstance(p, (dict, type(None))) for p in partials)


def _response(text: str) -> dict[str, Any]:
    return {
        "id": "resp_1",
        "object": "response",
        "created_at": 1,
        "status": "completed",
        "model": "gpt-4o-mini",
        "output": [
            {
                "type": "message",
                "id": "msg_1",
                "status": "completed",
                "role": "assistant",
                "content": [{"type": "output_text", "text": text, "annotations": []}],
            }
        ],
        "parallel_tool_calls": True,
        "tool_choice": "auto",
        "tools": [],
        "error": None,
        "incomplete_details": None,
        "instructions": None,
        "metadata": {},
        "temperature": 1.0,
        "top_p": 1.0,
    }


@pytest.mark.parametrize("sdk", SDKS)
async def test_responses_parse_with_a_pydantic_model(sdk: str) -> None:
    """`responses.parse(text_format=Model)`: `output_parsed` is a Model; the format sent is the official one."""
    seen: list[dict[str, Any]] = []
    app = _json_route("/v1/responses", _response('{"home": {"city": "Oslo"}, "work": null}'), seen)
    async with serve(app) as url, make_client(sdk, url) as client:
        response = await client.responses.parse(model="gpt-4o-mini", input="where?", text_format=Person)
    assert response.output_parsed == Person(home=Address(city="Oslo"))
    assert seen[0]["text"]["format"] == {
        "type": "json_schema",
        "name": "Person",
        "strict": True,
        "schema": official_strict_schema(Person),
    }


def test_parse_json_of_a_pydantic_dataclass() -> None:
    """A pydantic dataclass format is validated by pydantic (coercion and errors as pydantic does them)."""
    from openai_async._helpers.structured import parse_json

    assert parse_json(Coord, b'{"lat": 1, "lon": "2.5"}') == Coord(lat=1.0, lon=2.5)
    with pytest.raises(pydantic.ValidationError):
        parse_json(Coord, b'{"lat": "north"}')


def test_msgspec_structs_keep_their_own_schema_rules() -> None:
    """A msgspec Struct with a default still becomes nullable-optional (our rules), unaffected by pydantic support."""

    class Plain(msgspec.Struct):
        a: int
        b: str = "x"

    schema = to_strict_json_schema(Plain)
    assert schema["required"] == ["a", "b"]
    assert schema["properties"]["b"] == {"anyOf": [{"type": "string"}, {"type": "null"}]}
