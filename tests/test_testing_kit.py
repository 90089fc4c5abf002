"""openai_async.testing: the fake OpenAI server users point their tests at (real sockets on 127.0.0.1)."""

from __future__ import annotations

import base64
import struct
import threading
import time
from collections.abc import Mapping
from typing import Any

import aiohttp
import anyio
import anyio.lowlevel
import msgspec
import pytest
from aiohttp import web

import openai_async.testing as testing
from openai_async import (
    APIConnectionError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    InternalServerError,
    NotFoundError,
    RateLimitError,
    RetryPolicy,
)
from openai_async._core.sse import ServerSentEvent, SSEDecoder
from openai_async.testing import (
    FakeOpenAI,
    FakeResponse,
    RecordedRequest,
    chat_completion,
    chat_completion_chunks,
    encode_chat_stream,
    encode_event,
    encode_responses_stream,
    error,
    function_call,
    response,
    response_events,
    tool_call,
)

pytest_plugins = ["pytester"]
pytestmark = pytest.mark.anyio

USER = [{"role": "user", "content": "hello fake world"}]


def sse(body: bytes) -> list[ServerSentEvent]:
    """Decode a whole SSE body."""
    decoder = SSEDecoder()
    events = decoder.feed(body)
    assert not decoder.pending
    return events


async def call(
    fake: FakeOpenAI, method: str, path: str, **kwargs: Any
) -> tuple[int, Mapping[str, str], bytes]:
    """One raw request through a plain aiohttp session."""
    async with (
        aiohttp.ClientSession() as session,
        session.request(method, fake.base_url + path, **kwargs) as resp,
    ):
        return resp.status, resp.headers, await resp.read()


async def post(fake: FakeOpenAI, path: str, **kwargs: Any) -> tuple[int, Mapping[str, str], bytes]:
    """One raw POST."""
    return await call(fake, "POST", path, **kwargs)


# -- encoders (no sockets) ---------------------------------------------------------------------------------------


def test_encode_event_round_trips_through_decoder() -> None:
    """encode_event output decodes back to the same fields, multi-line data included."""
    raw = encode_event("line 1\nline 2\r\nline 3", event="x", id="7", retry=100)
    assert raw == b"event: x\nid: 7\nretry: 100\ndata: line 1\ndata: line 2\ndata: line 3\n\n"
    assert sse(raw) == [ServerSentEvent("x", b"line 1\nline 2\nline 3", "7", 100)]
    assert sse(encode_event({"a": [1, 2]})) == [ServerSentEvent(None, b'{"a":[1,2]}')]


def test_encode_event_rejects_line_ends_in_fields() -> None:
    """An event name or id with a line end would corrupt the stream, so it raises."""
    with pytest.raises(ValueError, match="line end"):
        encode_event("x", event="a\nb")


def test_encode_streams() -> None:
    """Chat streams end with [DONE]; Responses events are named after their type (or a given name)."""
    assert b"".join(encode_chat_stream([{"n": 1}])) == b'data: {"n":1}\n\ndata: [DONE]\n\n'
    assert encode_chat_stream([{"n": 1}], done=False) == [b'data: {"n":1}\n\n']
    events = sse(
        b"".join(encode_responses_stream([{"type": "response.created"}, ("thread.run.step", {"id": 1})]))
    )
    assert [e.event for e in events] == ["response.created", "thread.run.step"]
    with pytest.raises(TypeError):
        encode_responses_stream([{"no": "type"}])


def test_fake_response_validates() -> None:
    """Two body sources, an unknown reset mode or a zero chunk size are refused early."""
    with pytest.raises(ValueError, match="one body source"):
        FakeResponse(json={}, stream=[])
    with pytest.raises(ValueError, match="reset"):
        FakeResponse(reset="later")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="chunk_size"):
        FakeResponse(chunk_size=0)


def test_public_names() -> None:
    """__all__ is sorted, complete, and points at the public module."""
    assert testing.__all__ == sorted(testing.__all__)
    assert FakeOpenAI.__module__ == "openai_async.testing"
    assert all(hasattr(testing, name) for name in testing.__all__)


# -- defaults --------------------------------------------------------------------------------------------------


async def test_default_chat_completion_echoes_through_client() -> None:
    """With nothing scripted, chat completions echo the last user message."""
    async with FakeOpenAI() as fake, fake.client() as client:
        completion = await client.chat.completions.create(model="gpt-4o-mini", messages=USER)
        assert completion.choices[0].message.content == "hello fake world"
        assert completion.model == "gpt-4o-mini"
        assert fake.last_request.json == {"model": "gpt-4o-mini", "messages": USER}
        assert fake.last_request.headers["Authorization"] == "Bearer sk-fake"


async def test_default_chat_stream_through_client() -> None:
    """A streamed default chat yields word deltas that add up to the echo, then the usage chunk."""
    async with FakeOpenAI() as fake, fake.client() as client:
        stream = await client.chat.completions.create(
            model="gpt-4o-mini", messages=USER, stream=True, stream_options={"include_usage": True}
        )
        chunks = [chunk async for chunk in stream]
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "hello fake world"
    assert chunks[-1].choices == [] and chunks[-1].usage is not None
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == "stop"


async def test_default_chat_stream_wire_format() -> None:
    """The default chat stream is text/event-stream `data:` events ending with [DONE]."""
    async with FakeOpenAI() as fake:
        status, headers, body = await post(fake, "/chat/completions", json={"messages": USER, "stream": True})
    assert status == 200 and headers["Content-Type"] == "text/event-stream"
    events = sse(body)
    assert events[-1].data == b"[DONE]"
    assert all(e.event is None for e in events)
    assert events[0].json()["object"] == "chat.completion.chunk"


async def test_default_responses_stream() -> None:
    """The default Responses stream names each event after its type, numbers them, and completes."""
    async with FakeOpenAI() as fake:
        status, _, body = await post(fake, "/responses", json={"input": "one two", "stream": True})
        async with fake.client() as client:
            stream = await client.responses.create(model="gpt-4o-mini", input="one two", stream=True)
            typed = [event async for event in stream]
            response = await client.responses.create(
                model="gpt-4o-mini", input=[{"role": "user", "content": "hi"}]
            )
    events = sse(body)
    assert status == 200
    assert all(e.event == e.json()["type"] for e in events)
    assert [e.json()["sequence_number"] for e in events] == list(range(len(events)))
    assert "".join(e.json()["delta"] for e in events if e.event == "response.output_text.delta") == "one two"
    assert events[-1].event == "response.completed"
    assert [getattr(e, "type", None) for e in typed] == [e.event for e in events]
    assert response.output[0].content[0].text == "hi"


async def test_default_embeddings_models_moderation() -> None:
    """Embeddings are deterministic unit vectors (float or base64); models list and retrieve; 404 for others."""
    async with FakeOpenAI() as fake, fake.client() as client:
        first = await client.embeddings.create(model="text-embedding-3-small", input=["a", "b"], dimensions=8)
        again = await client.embeddings.create(model="text-embedding-3-small", input="a", dimensions=8)
        packed = await client.embeddings.create(input="a", model="m", dimensions=8, encoding_format="base64")
        models = await client.models.list()
        model = await client.models.retrieve("gpt-4o")
        with pytest.raises(NotFoundError):
            await client.models.retrieve("no-such-model")
        moderation = await client.moderations.create(input="fine")
    vector = first.data[0].embedding
    assert len(vector) == 8 and abs(sum(v * v for v in vector) - 1) < 1e-5
    assert again.data[0].embedding == vector and first.data[1].embedding != vector
    assert list(struct.unpack("<8f", base64.b64decode(packed.data[0].embedding))) == pytest.approx(vector)
    assert "gpt-4o-mini" in [m.id for m in models.data]
    assert model.id == "gpt-4o"
    assert moderation.results[0].flagged is False


async def test_default_files_round_trip_and_pagination() -> None:
    """Files upload (multipart), list with cursor pages, download, and delete, in memory."""
    async with FakeOpenAI() as fake, fake.client() as client:
        created = [
            await client.files.create(file=(f"{i}.jsonl", b"x" * i), purpose="batch") for i in range(1, 4)
        ]
        upload = fake.requests_to("POST", "/files")[0]
        page = await client.files.list(limit=2)
        listed = [f.id async for f in client.files.list(limit=2)]
        content = (await client.files.content(created[1].id)).content
        deleted = await client.files.delete(created[0].id)
        with pytest.raises(NotFoundError):
            await client.files.retrieve(created[0].id)
    assert upload.form == {"purpose": "batch"}
    assert upload.files["file"].filename == "1.jsonl" and upload.files["file"].data == b"x"
    assert [f.id for f in page.data] == [created[2].id, created[1].id] and page.has_more
    assert listed == [f.id for f in reversed(created)]
    assert content == b"xx"
    assert deleted.deleted is True


async def test_default_speech_is_audio_bytes() -> None:
    """Speech returns audio bytes with the requested format's content type (wav is a real silent file)."""
    async with FakeOpenAI() as fake, fake.client() as client:
        response = await client.audio.speech.create(
            model="tts-1", voice="alloy", input="hi", response_format="wav"
        )
        audio = response.read()
    assert audio[:4] == b"RIFF" and audio[8:12] == b"WAVE"
    assert fake.last_request.json["voice"] == "alloy"


SCHEMA = {
    "type": "object",
    "properties": {
        "name": {"type": "string"},
        "age": {"type": ["integer", "null"]},
        "tags": {"type": "array", "items": {"type": "string"}},
        "kind": {"enum": ["cat", "dog"]},
        "when": {"type": "string", "format": "date-time"},
        "nested": {"$ref": "#/$defs/Nested"},
    },
    "required": ["name", "age", "tags", "kind", "when", "nested"],
    "additionalProperties": False,
    "$defs": {"Nested": {"type": "object", "properties": {"ok": {"type": "boolean"}}, "required": ["ok"]}},
}
SCHEMA_INSTANCE = {
    "name": "example",
    "age": 0,
    "tags": [],
    "kind": "cat",
    "when": "2024-01-01T00:00:00Z",
    "nested": {"ok": False},
}


async def test_default_tool_calls_then_tool_results() -> None:
    """With function tools the default answer calls one (schema-shaped arguments); a tool result is echoed."""
    tools = [
        {
            "type": "function",
            "function": {"name": "first", "parameters": {"type": "object", "properties": {}}},
        },
        {"type": "function", "function": {"name": "lookup", "parameters": SCHEMA}},
    ]
    async with FakeOpenAI() as fake, fake.client() as client:
        pick = {"type": "function", "function": {"name": "lookup"}}
        called = await client.chat.completions.create(model="m", messages=USER, tools=tools, tool_choice=pick)
        call = called.choices[0].message.tool_calls[0]
        messages = [
            *USER,
            {"role": "assistant", "tool_calls": [call.to_dict()]},
            {"role": "tool", "tool_call_id": call.id, "content": "42 degrees"},
        ]
        answered = await client.chat.completions.create(model="m", messages=messages, tools=tools)
        stream = await client.chat.completions.create(model="m", messages=USER, tools=tools, stream=True)
        streamed = [c async for c in stream]
        none = await client.chat.completions.create(model="m", messages=USER, tools=tools, tool_choice="none")
    assert called.choices[0].finish_reason == "tool_calls"
    assert call.function.name == "lookup" and msgspec.json.decode(call.function.arguments) == SCHEMA_INSTANCE
    assert answered.choices[0].message.content == "Tool result: 42 degrees"
    assert streamed[-1].choices[0].finish_reason == "tool_calls"
    assert none.choices[0].message.content == "hello fake world"


async def test_default_structured_outputs() -> None:
    """A json_schema request gets JSON valid against the schema, in chat and in Responses."""
    chat_format = {"type": "json_schema", "json_schema": {"name": "pet", "schema": SCHEMA, "strict": True}}
    text_format = {"format": {"type": "json_schema", "name": "pet", "schema": SCHEMA, "strict": True}}
    async with FakeOpenAI() as fake, fake.client() as client:
        chat = await client.chat.completions.create(model="m", messages=USER, response_format=chat_format)
        resp = await client.responses.create(model="m", input="hi", text=text_format)
        loose = await client.chat.completions.create(
            model="m", messages=USER, response_format={"type": "json_object"}
        )
    assert msgspec.json.decode(chat.choices[0].message.content) == SCHEMA_INSTANCE
    assert msgspec.json.decode(resp.output[0].content[0].text) == SCHEMA_INSTANCE
    assert msgspec.json.decode(loose.choices[0].message.content) == {"text": "hello fake world"}


async def test_default_responses_function_calls() -> None:
    """Responses with function tools call one; a function_call_output as last input is answered as text."""
    tools = [{"type": "function", "name": "lookup", "parameters": SCHEMA}]
    async with FakeOpenAI() as fake, fake.client() as client:
        called = await client.responses.create(model="m", input="weather?", tools=tools)
        stream = await client.responses.create(model="m", input="weather?", tools=tools, stream=True)
        events = [e async for e in stream]
        item = called.output[0]
        answered = await client.responses.create(
            model="m",
            previous_response_id=called.id,
            input=[{"type": "function_call_output", "call_id": item.call_id, "output": "sunny"}],
            tools=tools,
        )
    assert (item.type, item.name) == ("function_call", "lookup")
    assert msgspec.json.decode(item.arguments) == SCHEMA_INSTANCE
    assert "response.function_call_arguments.done" in [e.type for e in events]
    assert answered.output[0].content[0].text == "Tool result: sunny"
    assert answered.previous_response_id == called.id


async def test_default_legacy_completions_and_images() -> None:
    """Legacy completions echo the prompt (streamed too); images are n base64 PNGs."""
    async with FakeOpenAI() as fake, fake.client() as client:
        completion = await client.completions.create(model="gpt-3.5-turbo-instruct", prompt="say this")
        stream = await client.completions.create(
            model="gpt-3.5-turbo-instruct", prompt="say this", stream=True
        )
        streamed = "".join([chunk.choices[0].text async for chunk in stream])
        images = await client.images.generate(prompt="a cat", n=2)
    assert completion.choices[0].text == streamed == "say this"
    assert len(images.data) == 2
    png = base64.b64decode(images.data[0].b64_json)
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and png[12:16] == b"IHDR"


async def test_unscripted_route_without_defaults_is_404() -> None:
    """defaults=False answers everything unscripted with OpenAI's 404 error envelope."""
    async with FakeOpenAI(defaults=False) as fake:
        status, _, body = await post(fake, "/chat/completions", json={})
    assert status == 404
    assert b"fake.add" in body and b'"code":"unknown_url"' in body


# -- builders ---------------------------------------------------------------------------------------------------


async def test_builders_chat_tool_calls() -> None:
    """chat_completion/chat_completion_chunks with tool_call() decode through the client, streamed or not."""
    call = tool_call("get_weather", {"city": "Paris"}, id="call_1")
    async with FakeOpenAI() as fake, fake.client() as client:
        fake.add("POST", "/chat/completions", json=chat_completion(tool_calls=[call], model="gpt-4.1"))
        fake.add("POST", "/chat/completions", stream=chat_completion_chunks("Checking.", tool_calls=[call]))
        fake.add("POST", "/chat/completions", status=400, json=error("bad model", param="model"))
        completion = await client.chat.completions.create(model="m", messages=USER)
        stream = await client.chat.completions.create(model="m", messages=USER, stream=True)
        chunks = [chunk async for chunk in stream]
        with pytest.raises(BadRequestError, match="bad model"):
            await client.chat.completions.create(model="m", messages=USER)
    choice = completion.choices[0]
    assert (choice.finish_reason, choice.message.content, completion.model) == ("tool_calls", None, "gpt-4.1")
    assert choice.message.tool_calls[0].function.arguments == '{"city":"Paris"}'
    deltas = [c.choices[0].delta for c in chunks]
    assert "".join(d.content or "" for d in deltas) == "Checking."
    calls = [t for d in deltas for t in (d.tool_calls or [])]
    assert (calls[0].id, calls[0].function.name) == ("call_1", "get_weather")
    assert "".join(t.function.arguments or "" for t in calls) == '{"city":"Paris"}'
    assert chunks[-1].choices[0].finish_reason == "tool_calls"


async def test_builders_responses_function_calls() -> None:
    """response_events() streams a message then a function call's argument deltas, numbered in order."""
    call = function_call("lookup", {"q": "x"}, call_id="call_9")
    events = response_events("Let me look.", function_calls=[call], instructions="be brief")
    async with FakeOpenAI() as fake, fake.client() as client:
        fake.add("POST", "/responses", events=events)
        fake.add("POST", "/responses", json=response(function_calls=[call], previous_response_id="resp_1"))
        stream = await client.responses.create(model="m", input="q", stream=True)
        typed = [event async for event in stream]
        plain = await client.responses.create(model="m", input="q")
    types = [e.type for e in typed]
    assert types[:2] == ["response.created", "response.in_progress"] and types[-1] == "response.completed"
    assert [e.sequence_number for e in typed] == list(range(len(typed)))
    args = "".join(e.delta for e in typed if e.type == "response.function_call_arguments.delta")
    assert args == '{"q":"x"}'
    final = typed[-1].response
    assert [item.type for item in final.output] == ["message", "function_call"]
    assert final.instructions == "be brief"
    assert (plain.output[0].call_id, plain.previous_response_id) == ("call_9", "resp_1")


# -- scripting ------------------------------------------------------------------------------------------------


async def test_scripted_responses_form_a_queue() -> None:
    """Static routes answer in add() order, each `times` requests, then the defaults answer again."""
    async with FakeOpenAI() as fake:
        first = fake.add("POST", "/embeddings", json={"n": 1})
        fake.add("POST", "/embeddings", json={"n": 2}, times=2)
        bodies = [(await post(fake, "/embeddings", json={"input": "x"}))[2] for _ in range(4)]
        assert first.requests == [fake.requests[0]] and first.times == 0
        assert fake.unused_routes() == []
        sticky = fake.add("GET", "/models", json={"data": []}, times=None)
        assert (await post(fake, "/models"))[0] == 404  # POST /models: neither the route nor a default
        assert [(await call(fake, "GET", "/models"))[2] for _ in range(3)] == [b'{"data":[]}'] * 3
    assert bodies[:3] == [b'{"n":1}', b'{"n":2}', b'{"n":2}']
    assert b'"object":"list"' in bodies[3]  # the default embeddings answer
    assert sticky.times is None and len(sticky.requests) == 3


async def test_route_placeholders_match_and_headers() -> None:
    """`{name}` matches one segment into path_params; `match` narrows; custom headers and status go out."""
    async with FakeOpenAI() as fake:
        fake.add("GET", "/files/{file_id}", json={"id": "x"}, match=lambda r: r.query.get("v") == "2")
        route = fake.add("GET", "/files/{file_id}", status=201, json={"id": "y"}, headers={"x-extra": "1"})
        async with aiohttp.ClientSession() as session:
            async with session.get(fake.base_url + "/files/file-9") as resp:
                assert (resp.status, resp.headers["x-extra"], await resp.json()) == (201, "1", {"id": "y"})
                assert resp.headers["x-request-id"].startswith("req_")
            async with session.get(fake.base_url + "/files/file-9", params={"v": "2"}) as resp:
                assert await resp.json() == {"id": "x"}
    assert route.requests[0].path_params == {"file_id": "file-9"}
    assert fake.requests[1].query.getall("v") == ["2"]


async def test_handlers_sync_async_and_failing() -> None:
    """Handlers compute answers (dict, bytes, FakeResponse; sync or async); one that raises gives a 500."""
    seen: list[RecordedRequest] = []

    def sync_handler(request: RecordedRequest) -> dict[str, object]:
        seen.append(request)
        return {"echo": request.json["q"]}

    async def async_handler(request: RecordedRequest) -> FakeResponse:
        await anyio.lowlevel.checkpoint()
        return FakeResponse(status=202, body=b"raw", content_type="text/plain")

    def broken(request: RecordedRequest) -> object:
        raise RuntimeError("boom")

    async with FakeOpenAI() as fake:
        fake.add("POST", "/a", handler=sync_handler)
        fake.add("POST", "/b", handler=async_handler)
        fake.add("POST", "/c", handler=broken)
        assert (await post(fake, "/a", json={"q": 1}))[2] == b'{"echo":1}'
        assert (await post(fake, "/a", json={"q": 2}))[2] == b'{"echo":2}'  # handlers answer every request
        status, headers, body = await post(fake, "/b")
        assert (status, headers["Content-Type"], body) == (202, "text/plain", b"raw")
        status, _, body = await post(fake, "/c")
        assert [str(e) for e in fake.errors] == ["boom"]
        fake.errors.clear()  # meant: do not fail on exit
    assert len(seen) == 2
    assert status == 500 and b"boom" in body


async def test_handler_errors_raise_on_exit() -> None:
    """Leaving the context manager with handler or match errors raises, chained to the first one."""
    with pytest.raises(AssertionError, match="handlers raised") as info:
        async with FakeOpenAI() as fake:
            fake.add("GET", "/a", json={}, match=lambda r: r.json["missing"])
            fake.add("GET", "/b", handler=lambda r: web.Response(status=418, text="teapot"))
            assert (await call(fake, "GET", "/a"))[0] == 404  # the predicate failed: no route matched
            assert (await call(fake, "GET", "/b"))[:1] == (418,)  # a plain aiohttp Response passes through
            fake.add("GET", "/c", json={"when": object()})
            assert (await call(fake, "GET", "/c"))[0] == 500  # not encodable: reported, answered with a 500
            assert len(fake.errors) == 2
    assert isinstance(info.value.__cause__, TypeError)


async def test_error_injection_then_retry_succeeds() -> None:
    """A scripted 429 with retry-after-ms is retried by the client, which then gets the default answer."""
    async with FakeOpenAI() as fake, fake.client() as client:
        fake.add("POST", "/chat/completions", status=429, headers={"retry-after-ms": "10"})
        completion = await client.chat.completions.create(model="m", messages=USER)
        assert completion.choices[0].message.content == "hello fake world"
        assert len(fake.requests_to("POST", "/chat/completions")) == 2
        fake.add(
            "POST", "/chat/completions", status=429, json={"error": {"message": "slow down"}}, times=None
        )
        with pytest.raises(RateLimitError, match="slow down"):
            await client.chat.completions.create(model="m", messages=USER, max_retries=0)
        fake.add("GET", "/models", status=503, times=None)
        with pytest.raises(InternalServerError) as info:
            await client.with_options(retry=RetryPolicy.instant()).models.list()
    assert info.value.body["message"] == "FakeOpenAI scripted error 503"


async def test_api_key_enforced() -> None:
    """With api_key set, a wrong key gets a 401 and consumes no scripted route."""
    async with FakeOpenAI(api_key="sk-right") as fake:
        route = fake.add("GET", "/models", json={"data": []})
        async with fake.client(api_key="sk-wrong") as client:
            with pytest.raises(AuthenticationError):
                await client.models.list()
        async with fake.client() as client:
            assert (await client.models.list()).data == []
    assert route.called and len(fake.requests) == 2


# -- faults --------------------------------------------------------------------------------------------------


async def test_reset_before_body() -> None:
    """reset="before_body" drops the connection with no response: a disconnect, then a retry succeeds."""
    async with FakeOpenAI() as fake:
        fake.add("POST", "/chat/completions", reset="before_body")
        with pytest.raises(aiohttp.ServerDisconnectedError):
            await post(fake, "/chat/completions", json={})
        fake.add("POST", "/chat/completions", reset="before_body")
        async with fake.client(retry=RetryPolicy.instant()) as client:
            completion = await client.chat.completions.create(model="m", messages=USER)
            fake.add("POST", "/chat/completions", reset="before_body", times=None)
            with pytest.raises(APIConnectionError):
                await client.chat.completions.create(model="m", messages=USER)
    assert completion.choices[0].message.content == "hello fake world"


async def test_reset_mid_body_json_and_stream() -> None:
    """reset="mid_body" sends part of the body then cuts: a payload error raw, an APIConnectionError in a stream."""
    async with FakeOpenAI() as fake:
        fake.add("POST", "/x", json={"pad": "x" * 1000}, reset="mid_body", reset_after=100)
        with pytest.raises(aiohttp.ClientPayloadError):
            await post(fake, "/x")
        fake.add("POST", "/chat/completions", stream=[{"choices": []}] * 4, reset="mid_body")
        async with fake.client(max_retries=0) as client:
            stream = await client.chat.completions.create(model="m", messages=USER, stream=True)
            received = []
            with pytest.raises(APIConnectionError):
                async for chunk in stream:
                    received.append(chunk)
    assert 1 <= len(received) < 4


async def test_stall_times_out_and_close_is_prompt() -> None:
    """stall delays the headers: a short client timeout fires, and closing the fake does not wait for it."""
    fake = await FakeOpenAI.start()
    fake.add("GET", "/models", stall=30, times=None)
    async with fake.client(timeout=0.2, max_retries=0) as client:
        with pytest.raises(APITimeoutError):
            await client.models.list()

    arrived = anyio.Event()

    async def slow(request: RecordedRequest) -> dict[str, str]:
        arrived.set()
        await anyio.sleep(30)
        return {}

    async def stalled() -> None:
        with pytest.raises(aiohttp.ClientError):
            await call(fake, "GET", "/slow")

    fake.add("GET", "/slow", handler=slow)
    async with anyio.create_task_group() as tg:
        tg.start_soon(stalled)
        with anyio.fail_after(5):
            await arrived.wait()
        started = time.monotonic()
        await fake.close()
        closed_in = time.monotonic() - started
    assert closed_in < 2


async def test_chunk_size_and_delay_keep_the_stream_intact() -> None:
    """A stream written in 7-byte pieces with delays arrives in pieces and decodes to the same events."""
    chunks = [{"i": i, "choices": []} for i in range(5)]
    async with FakeOpenAI() as fake:
        fake.add("POST", "/s", stream=chunks, chunk_size=7, delay_between_chunks=0.002)
        async with aiohttp.ClientSession() as session, session.post(fake.base_url + "/s") as resp:
            pieces = [piece async for piece in resp.content.iter_any()]
        fake.add("POST", "/chat/completions", stream=chunks, chunk_size=3)
        async with fake.client() as client:
            stream = await client.chat.completions.create(model="m", messages=USER, stream=True)
            typed = [chunk async for chunk in stream]
    assert len(pieces) > 5
    events = sse(b"".join(pieces))
    assert [e.json() for e in events[:-1]] == chunks and events[-1].data == b"[DONE]"
    assert len(typed) == 5


# -- recording ----------------------------------------------------------------------------------------------------


async def test_requests_are_recorded() -> None:
    """Each request keeps its method, path (without /v1), query, headers, raw body and JSON."""
    async with FakeOpenAI() as fake:
        async with aiohttp.ClientSession() as session:
            url = fake.base_url + "/files?limit=2&include[]=a&include[]=b"
            async with session.get(url, headers={"OpenAI-Beta": "x"}):
                pass
            async with session.post(fake.base_url + "/embeddings", data=b'{"input": "hi"}') as resp:
                assert resp.status == 200  # JSON content type missing: the body is not decoded
        first, second = fake.requests
    assert (first.method, first.path) == ("GET", "/files")
    assert first.query["limit"] == "2" and first.query.getall("include[]") == ["a", "b"]
    assert first.headers["openai-beta"] == "x"
    assert second.body == b'{"input": "hi"}' and second.json is None
    assert repr(second) == "<RecordedRequest POST /embeddings (15 bytes)>"
    fake.reset()
    assert fake.requests == [] and fake.routes == []
    with pytest.raises(LookupError):
        fake.last_request  # noqa: B018


async def test_multipart_parts_recorded() -> None:
    """multipart/form-data bodies are split into parts with names, filenames, types and bytes."""
    form = aiohttp.FormData()
    form.add_field("purpose", "fine-tune")
    form.add_field(
        "file", b"\r\n--not-a-boundary\r\n\x00\xff", filename="d.bin", content_type="application/x-bin"
    )
    async with FakeOpenAI(defaults=False) as fake:
        await post(fake, "/uploads/x/parts", data=form)
    request = fake.last_request
    assert [p.name for p in request.parts] == ["purpose", "file"]
    assert request.form == {"purpose": "fine-tune"}
    part = request.files["file"]
    assert (part.filename, part.content_type, part.data) == (
        "d.bin",
        "application/x-bin",
        b"\r\n--not-a-boundary\r\n\x00\xff",
    )


# -- life cycle ---------------------------------------------------------------------------------------------------


async def test_start_and_close_for_scripts() -> None:
    """FakeOpenAI.start() runs it without a context manager; close() twice is fine; base_url needs it running."""
    fake = await FakeOpenAI.start()
    try:
        assert fake.base_url.startswith("http://127.0.0.1:") and fake.base_url.endswith("/v1")
        assert (await call(fake, "GET", "/models"))[0] == 200
    finally:
        await fake.close()
        await fake.close()
    with pytest.raises(RuntimeError):
        FakeOpenAI().base_url  # noqa: B018


async def test_background_thread_mode() -> None:
    """`with FakeOpenAI()` serves from another thread; the client in this loop talks to it normally."""
    threads: list[str] = []

    def handler(request: RecordedRequest) -> dict[str, str]:
        threads.append(threading.current_thread().name)
        return {"ok": "yes"}

    with FakeOpenAI() as fake:
        fake.add("POST", "/custom", handler=handler)
        assert (await post(fake, "/custom"))[2] == b'{"ok":"yes"}'
        async with fake.client() as client:
            completion = await client.chat.completions.create(model="m", messages=USER)
    assert threads == ["FakeOpenAI"]
    assert completion.choices[0].message.content == "hello fake world"
    with pytest.raises(RuntimeError):
        fake.base_url  # noqa: B018


def test_thread_start_failure_is_raised() -> None:
    """A server that cannot bind reports the error to the caller instead of hanging."""
    with FakeOpenAI() as first:
        port = int(first.base_url.rsplit(":", 1)[1].split("/")[0])
        with pytest.raises(OSError):
            FakeOpenAI(port=port).start_in_thread()


async def test_unused_routes_and_partial_streams() -> None:
    """unused_routes lists what the code never asked for; done=False and reset_after=0 shape the stream."""
    async with FakeOpenAI() as fake:
        fake.add("POST", "/chat/completions", stream=[{"n": 1}], done=False)
        cut = fake.add("POST", "/chat/completions", stream=[{"n": 2}], reset="mid_body", reset_after=0)
        leftover = fake.add("GET", "/never", json={})
        status, _, body = await post(fake, "/chat/completions")
        assert (status, body) == (200, b'data: {"n":1}\n\n')
        with pytest.raises(aiohttp.ClientPayloadError):
            await post(fake, "/chat/completions")
        assert cut.called
        assert fake.unused_routes() == [leftover]


def test_pytest_fixture(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    """The openai_fake fixture gives a running fake to a test and reports handler errors at teardown."""
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")
    pytester.makepyfile(
        """
        import asyncio
        import aiohttp

        async def fetch(url):
            async with aiohttp.ClientSession() as session, session.get(url) as resp:
                return resp.status, await resp.json()

        def test_uses_fake(openai_fake):
            openai_fake.add("GET", "/models", json={"data": [1]})
            assert asyncio.run(fetch(openai_fake.base_url + "/models")) == (200, {"data": [1]})
            assert openai_fake.last_request.path == "/models"

        def test_broken_handler(openai_fake):
            openai_fake.add("GET", "/models", handler=lambda r: 1 / 0)
            assert asyncio.run(fetch(openai_fake.base_url + "/models"))[0] == 500
        """
    )
    result = pytester.runpytest_subprocess(
        "-p", "openai_async.testing._pytest_plugin", "-p", "no:cacheprovider"
    )
    result.assert_outcomes(passed=2, errors=1)
    result.stdout.fnmatch_lines(["*FakeOpenAI handlers raised*ZeroDivisionError*"])
