"""client.responses.stream() on real sockets: typed events, snapshots, unknown events, resume, failures."""

from __future__ import annotations

import copy
import pickle
import random
from typing import Any

import anyio
import msgspec
import pytest
from aiohttp import web

from openai_async import APIError, AsyncOpenAI, RetryPolicy
from openai_async._core.decode import decode
from openai_async._helpers.responses.stream import EVENT_TYPE, ResponseFailedError, ResponseStreamState
from openai_async._helpers.structured import ParsedResponse, function_tool
from openai_async.types import Unknown
from openai_async.types.responses import Response, ResponseOutputItemAddedEvent

from ._drip import SDKS, make_client, sse_handler
from ._server import routes, serve

pytestmark = pytest.mark.anyio

_encode = msgspec.json.encode


class Answer(msgspec.Struct):
    title: str
    score: int


def _pieces(text: str, rng: random.Random) -> list[str]:
    out, i = [], 0
    while i < len(text):
        n = rng.randint(1, 5)
        out.append(text[i : i + n])
        i += n
    return out


def make_events(
    text: str,
    *,
    call_args: str | None = None,
    seed: int = 0,
    unknown: bool = True,
    completed_output: bool = True,
    end: str = "completed",
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The events of one response (a message, optionally a function call) and the final Response body."""
    rng = random.Random(seed)
    base = {
        "id": "resp_1",
        "object": "response",
        "created_at": 1700000000,
        "model": "gpt-4.1",
        "status": "in_progress",
        "output": [],
        "usage": None,
    }
    msg_done = {
        "type": "message",
        "id": "msg_1",
        "role": "assistant",
        "status": "completed",
        "content": [{"type": "output_text", "text": text, "annotations": [], "logprobs": []}],
    }
    items: list[dict[str, Any]] = [msg_done]
    ev: list[dict[str, Any]] = [
        {"type": "response.created", "response": base},
        {"type": "response.in_progress", "response": base},
        {
            "type": "response.output_item.added",
            "output_index": 0,
            "item": {
                "type": "message",
                "id": "msg_1",
                "role": "assistant",
                "status": "in_progress",
                "content": [],
            },
        },
        {
            "type": "response.content_part.added",
            "item_id": "msg_1",
            "output_index": 0,
            "content_index": 0,
            "part": {"type": "output_text", "text": "", "annotations": [], "logprobs": []},
        },
    ]
    if unknown:
        ev.append({"type": "response.brand_new_thing", "item_id": "msg_1", "payload": {"x": 1}})
    for p in _pieces(text, rng):
        ev.append(
            {
                "type": "response.output_text.delta",
                "item_id": "msg_1",
                "output_index": 0,
                "content_index": 0,
                "delta": p,
                "logprobs": [],
            }
        )
    ev += [
        {
            "type": "response.output_text.done",
            "item_id": "msg_1",
            "output_index": 0,
            "content_index": 0,
            "text": text,
            "logprobs": [],
        },
        {
            "type": "response.content_part.done",
            "item_id": "msg_1",
            "output_index": 0,
            "content_index": 0,
            "part": msg_done["content"][0],
        },
        {"type": "response.output_item.done", "output_index": 0, "item": msg_done},
    ]
    if call_args is not None:
        call = {
            "type": "function_call",
            "id": "fc_1",
            "call_id": "call_1",
            "name": "Answer",
            "arguments": call_args,
            "status": "completed",
        }
        items.append(call)
        ev.append(
            {
                "type": "response.output_item.added",
                "output_index": 1,
                "item": {**call, "arguments": "", "status": "in_progress"},
            }
        )
        for p in _pieces(call_args, rng):
            ev.append(
                {
                    "type": "response.function_call_arguments.delta",
                    "item_id": "fc_1",
                    "output_index": 1,
                    "delta": p,
                }
            )
        ev += [
            {
                "type": "response.function_call_arguments.done",
                "item_id": "fc_1",
                "output_index": 1,
                "arguments": call_args,
            },
            {"type": "response.output_item.done", "output_index": 1, "item": call},
        ]
    final = {
        **base,
        "status": end,
        "output": items,
        "usage": {
            "input_tokens": 5,
            "output_tokens": 7,
            "total_tokens": 12,
            "input_tokens_details": {"cached_tokens": 0},
            "output_tokens_details": {"reasoning_tokens": 0},
        },
    }
    ev.append(
        {"type": f"response.{end}", "response": final if completed_output else {**final, "output": None}}
    )
    for i, e in enumerate(ev):
        e["sequence_number"] = i
    return ev, final


def sse(events: list[dict[str, Any]]) -> bytes:
    return b"".join(b"event: " + e["type"].encode() + b"\ndata: " + _encode(e) + b"\n\n" for e in events)


def app_for(
    events: list[dict[str, Any]],
    final: dict[str, Any],
    *,
    seen: list[tuple[str, dict[str, Any], dict[str, str]]] | None = None,
) -> web.Application:
    async def handler(request: web.Request) -> web.StreamResponse:
        payload = await request.json() if request.method == "POST" else {}
        if seen is not None:
            seen.append((request.method, payload, dict(request.query)))
        streamed = payload.get("stream") or request.query.get("stream") == "true"
        if not streamed:
            return web.json_response(final, headers={"x-request-id": "req_resp"})
        after = int(request.query.get("starting_after", -1))
        data = sse([e for e in events if e.get("sequence_number", after + 1) > after])
        resp = web.StreamResponse(headers={"Content-Type": "text/event-stream", "x-request-id": "req_resp"})
        await resp.prepare(request)
        rng = random.Random(len(data))
        i = 0
        while i < len(data):
            n = rng.randint(1, 200)
            await resp.write(data[i : i + n])
            i += n
        await resp.write_eof()
        return resp

    return routes(("POST", "/v1/responses", handler), ("GET", "/v1/responses/{id}", handler))


def client_for(url: str) -> AsyncOpenAI:
    return AsyncOpenAI(api_key="k", base_url=url, retry=RetryPolicy.instant())


async def test_events_are_typed_unknown_is_yielded_and_final_equals_non_streaming() -> None:
    """Every event is typed, an unknown one is yielded as Unknown, and the final Response equals create()."""
    events, final = make_events("Hello, wörld — streaming ✓ " * 3, seed=1)
    async with serve(app_for(events, final)) as url, client_for(url) as client:
        plain = await client.responses.create(model="m", input="hi")
        async with client.responses.stream(model="m", input="hi") as stream:
            got = [e async for e in stream]
            response = await stream.get_final_response()
            assert stream.request_id == "req_resp"
            assert stream.response_id == "resp_1"
    assert [e.type for e in got] == [e["type"] for e in events]
    unknown = next(e for e in got if e.type == "response.brand_new_thing")
    assert isinstance(unknown, Unknown) and unknown["payload"] == {"x": 1}
    assert isinstance(got[2], ResponseOutputItemAddedEvent)
    assert isinstance(response, ParsedResponse)
    assert msgspec.to_builtins(response) == msgspec.to_builtins(plain)
    assert response.output_text == plain.output_text
    assert stream.sequence_number == len(events) - 1


async def test_text_delta_snapshot_and_output_text() -> None:
    """Each output_text.delta carries the text so far; the stream's output_text is the whole text."""
    text = "abcdefghijklmnopqrstuvwxyz0123456789" * 3
    events, final = make_events(text, seed=2)
    async with serve(app_for(events, final)) as url, client_for(url) as client:
        async with client.responses.stream(model="m", input="x") as stream:
            deltas = [e async for e in stream if e.type == "response.output_text.delta"]
            assert stream.output_text == text
    running = ""
    for e in deltas:
        running += e.delta
        assert e.snapshot == running
    assert deltas[0].snapshot == deltas[0].delta  # an early event keeps its own snapshot


async def test_text_format_parses_done_event_and_final() -> None:
    """text_format=T is sent as a strict json_schema and decoded into output_parsed and the done event."""
    events, final = make_events('{"title": "T", "score": 3}', seed=3)
    seen: list[Any] = []
    async with serve(app_for(events, final, seen=seen)) as url, client_for(url) as client:
        async with client.responses.stream(model="m", input="x", text_format=Answer) as stream:
            got = [e async for e in stream]
        response = await stream.get_final_response()
    done = next(e for e in got if e.type == "response.output_text.done")
    assert done.parsed == Answer(title="T", score=3)
    assert response.output_parsed == Answer(title="T", score=3)
    completed = got[-1]
    assert completed.type == "response.completed" and completed.response.output_parsed == Answer("T", 3)
    fmt = seen[0][1]["text"]["format"]
    assert fmt["type"] == "json_schema" and fmt["name"] == "Answer" and fmt["strict"] is True
    assert fmt["schema"]["additionalProperties"] is False


async def test_function_call_snapshot_and_parsed_arguments() -> None:
    """function_tool(T) is sent flat; argument deltas carry snapshots; parsed_arguments is a T."""
    events, final = make_events("ok", call_args='{"title": "x", "score": 9}', seed=4)
    seen: list[Any] = []
    async with serve(app_for(events, final, seen=seen)) as url, client_for(url) as client:
        async with client.responses.stream(model="m", input="x", tools=[function_tool(Answer)]) as stream:
            got = [e async for e in stream]
            response = await stream.get_final_response()
    deltas = [e for e in got if e.type == "response.function_call_arguments.delta"]
    assert deltas[-1].snapshot == '{"title": "x", "score": 9}'
    call = response.output[1]
    assert call.parsed_arguments == Answer(title="x", score=9)
    tool = seen[0][1]["tools"][0]
    assert tool["type"] == "function" and tool["name"] == "Answer" and tool["strict"] is True


async def test_completed_without_output_is_rebuilt_from_item_done_events() -> None:
    """A response.completed whose output is null gets the output of the output_item.done events."""
    events, final = make_events("rebuilt", completed_output=False, seed=5)
    async with serve(app_for(events, final)) as url, client_for(url) as client:
        async with client.responses.stream(model="m", input="x") as stream:
            response = await stream.get_final_response()
    assert response.output_text == "rebuilt"


async def test_resume_background_response_with_starting_after() -> None:
    """response_id + starting_after resume with GET /responses/{id}?stream=true&starting_after=N."""
    events, final = make_events("resumed text", seed=6, unknown=False)
    seen: list[Any] = []
    async with serve(app_for(events, final, seen=seen)) as url, client_for(url) as client:
        async with client.responses.stream(response_id="resp_1", starting_after=4) as stream:
            got = [e async for e in stream]
            response = await stream.get_final_response()
    method, _, query = seen[0]
    assert method == "GET" and query == {"stream": "true", "starting_after": "4"}
    assert got[0].sequence_number == 5
    assert response.id == "resp_1" and response.output_text == "resumed text"


async def test_response_failed_raises_typed_error() -> None:
    """A response.failed event raises ResponseFailedError carrying the failed response and its error."""
    events, final = make_events("partial", seed=7, end="failed")
    events[-1]["response"]["error"] = {"code": "server_error", "message": "The model crashed"}
    async with serve(app_for(events, final)) as url, client_for(url) as client:
        async with client.responses.stream(model="m", input="x") as stream:
            with pytest.raises(ResponseFailedError, match="The model crashed") as info:
                async for _ in stream:
                    pass
            assert stream.response.closed  # the failure closed the connection at once
    assert info.value.code == "server_error"
    assert isinstance(info.value.response, Response) and info.value.response.status == "failed"


async def test_error_event_raises_api_error() -> None:
    """An `error` event in the middle of the stream raises APIError with its message."""
    events, final = make_events("partial", seed=8)
    events.insert(
        6,
        {
            "type": "error",
            "code": "rate_limit_exceeded",
            "message": "Slow down",
            "param": None,
            "sequence_number": 99,
        },
    )
    async with serve(app_for(events, final)) as url, client_for(url) as client:
        async with client.responses.stream(model="m", input="x") as stream:
            with pytest.raises(APIError, match="Slow down"):
                async for _ in stream:
                    pass


async def test_leaving_early_closes_the_connection() -> None:
    """Breaking out of the loop and leaving the block closes the underlying response."""
    events, final = make_events("x" * 400, seed=9)
    async with serve(app_for(events, final)) as url, client_for(url) as client:
        async with client.responses.stream(model="m", input="x") as stream:
            async for event in stream:
                if event.type == "response.output_text.delta":
                    break
        assert stream.response.closed


async def test_parse_decodes_output_text() -> None:
    """responses.parse(text_format=T) returns a ParsedResponse whose output_parsed is a T."""
    events, final = make_events('{"title": "plain", "score": 1}', seed=10)
    async with serve(app_for(events, final)) as url, client_for(url) as client:
        response = await client.responses.parse(model="m", input="x", text_format=Answer)
    assert response.output_parsed == Answer(title="plain", score=1)
    assert response.output[0].content[0].parsed == Answer(title="plain", score=1)


async def test_incomplete_response_is_final_and_text_deltas() -> None:
    """A stream ending in response.incomplete returns that response; text_deltas() yields only text."""
    events, final = make_events('{"title": "cut', seed=11, end="incomplete")
    async with serve(app_for(events, final)) as url, client_for(url) as client:
        async with client.responses.stream(model="m", input="x", text_format=Answer) as stream:
            text = "".join([t async for t in stream.text_deltas()])
            response = await stream.get_final_response()
    assert text == '{"title": "cut'
    assert response.status == "incomplete" and response.output_parsed is None


async def test_invalid_structured_output_raises_on_completed() -> None:
    """Text that does not match text_format raises msgspec.ValidationError when the response completes."""
    events, final = make_events('{"title": 5}', seed=12)
    async with serve(app_for(events, final)) as url, client_for(url) as client:
        async with client.responses.stream(model="m", input="x", text_format=Answer) as stream:
            with pytest.raises(msgspec.ValidationError):
                await stream.get_final_response()


def _arrival_view(event: Any, stream_sequence_number: Any) -> Any:
    """What a user can read of an event when it arrives, and the stream's resume point then."""
    view = msgspec.to_builtins(event) if not isinstance(event, Unknown) else dict(event)
    snapshot = getattr(event, "snapshot", None) if hasattr(type(event), "snapshot") else None
    return view, snapshot, stream_sequence_number


async def test_stream_loop_gives_the_events_of_handle() -> None:
    """The stream's loop (text deltas folded inline) gives what ``ResponseStreamState.handle`` gives for the same
    decoded events: two text parts interleaved, a function call, an unknown event and drifted deltas."""
    events, final = make_events(
        "first part of the text, long enough " * 2, call_args='{"title": "t", "score": 1}', seed=4
    )
    rng = random.Random(4)
    second = [
        {
            "type": "response.output_text.delta",
            "item_id": "msg_1",
            "output_index": 0,
            "content_index": 1,
            "delta": p,
            "logprobs": [],
        }
        for p in _pieces("a second part", rng)
    ]
    at = next(i for i, e in enumerate(events) if e["type"] == "response.output_text.delta")
    for e in second:
        at += rng.randint(1, 3)
        events.insert(at, e)
    deltas = [e for e in events if e["type"] == "response.output_text.delta"]
    deltas[3]["delta"] = None
    deltas[5]["brand_new_field"] = {"x": 1}
    deltas[7]["output_index"] = None
    for i, e in enumerate(events):
        e["sequence_number"] = i
    del deltas[9]["sequence_number"]
    async with serve(app_for(events, final)) as url, client_for(url) as client:
        async with client.responses.stream(model="m", input="x") as stream:
            got = [_arrival_view(e, stream.sequence_number) async for e in stream]
    state: ResponseStreamState[Any] = ResponseStreamState()
    want = []
    for e in events:
        event = state.handle(decode(_encode(e), EVENT_TYPE))  # the client's lenient decode
        want.append(_arrival_view(event, state.sequence_number))
    assert got == want


@pytest.mark.parametrize("sdk", SDKS)
async def test_delta_snapshots_survive_copies_and_pickles(sdk: str) -> None:
    """A text delta's snapshot (the text so far) is the same on its copy, deep copy and unpickled twin."""
    events, final = make_events("abcdefghij" * 3, seed=2)
    with anyio.fail_after(10):
        async with serve(app_for(events, final)) as url, make_client(sdk, url) as client:
            async with client.responses.stream(model="m", input="x") as stream:
                deltas = [e async for e in stream if e.type == "response.output_text.delta"]
    event = deltas[2]
    expected = "".join(d.delta for d in deltas[:3])
    assert event.snapshot == expected
    for twin in (copy.copy(event), copy.deepcopy(event), pickle.loads(pickle.dumps(event))):
        assert twin.snapshot == expected and twin.delta == event.delta


async def test_events_read_one_at_a_time_and_the_stream_as_a_context_manager() -> None:
    """``await anext(stream)`` gives the next event; the stream shows its response id and request id, and is an
    ``async with`` block itself (leaving it closes the connection)."""
    events, final = make_events("hello", seed=3)
    with anyio.fail_after(10):
        async with serve(app_for(events, final)) as url, client_for(url) as client:
            async with client.responses.stream(model="m", input="x") as stream:
                assert stream.response_id is None
                first = await anext(stream)
                assert first.type == "response.created" and stream.response_id == "resp_1"
                assert repr(stream) == "<ResponseStream request_id='req_resp'>"
                async with stream as same:
                    assert same is stream
                    assert (await anext(stream)).type == "response.in_progress"
                assert stream.response.closed


async def test_a_stream_ended_by_done_without_a_final_event_has_no_final_response() -> None:
    """A stream that ends with ``[DONE]`` but no response.completed: get_final_response() raises APIError."""
    events, _ = make_events("cut", seed=4)
    head = [(e["type"], e) for e in events[:5]]
    app = routes(("POST", "/v1/responses", sse_handler(head, done=True)))
    with anyio.fail_after(10):
        async with serve(app) as url, client_for(url) as client:
            async with client.responses.stream(model="m", input="x") as stream:
                with pytest.raises(APIError, match="ended without a response.completed event"):
                    await stream.get_final_response()


async def test_cancel_a_background_response_from_its_stream() -> None:
    """``await stream.cancel()`` before response.created raises APIError (no id yet); after it, it cancels the
    response (POST /responses/{id}/cancel), closes the stream and returns the cancelled Response."""
    events, final = make_events("long answer", seed=5)
    cancelled: list[str] = []

    async def cancel(request: web.Request) -> web.Response:
        cancelled.append(request.match_info["id"])
        return web.json_response({**final, "status": "cancelled"})

    app = app_for(events, final)
    app.router.add_route("POST", "/v1/responses/{id}/cancel", cancel)
    with anyio.fail_after(10):
        async with serve(app) as url, client_for(url) as client:
            async with client.responses.stream(model="m", input="x", background=True) as stream:
                with pytest.raises(APIError, match="No response id to cancel yet"):
                    await stream.cancel()
            async with client.responses.stream(model="m", input="x", background=True) as stream:
                await anext(stream)
                response = await stream.cancel()
                assert stream.response.closed
    assert cancelled == ["resp_1"]
    assert response.status == "cancelled" and response.id == "resp_1"
