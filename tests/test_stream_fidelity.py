"""Streams as the official SDK's docs show them, run unchanged against the official SDK and against ours.

The body reaches the socket one event per write with pauses (as a model streams), one byte per write, or in
one write (``tests/_drip.py``). Where ours deliberately differs, the test says so and asserts both sides:
a stream request answered with a JSON body, and a stream cut short that still ends cleanly at the TCP level,
raise with us (the official SDK yields nothing, or the truncated events, and ends as if all went well).
"""

from __future__ import annotations

import time
import warnings
from collections.abc import AsyncIterator
from typing import Any

import anyio
import pytest
from aiohttp import web

from ._drip import MODES, SDKS, body_handler, make_client, sse_handler, sse_pieces
from ._server import routes, serve

pytestmark = pytest.mark.anyio

CHAT = "/v1/chat/completions"


def chat_chunk(i: int, finish: str | None = None, *, index: int = 0) -> dict[str, Any]:
    return {
        "id": "chatcmpl-1",
        "object": "chat.completion.chunk",
        "created": 1,
        "model": "gpt-4o-mini",
        "choices": [{"index": index, "delta": {"content": f"t{i}"}, "finish_reason": finish}],
    }


def completion_chunk(i: int, finish: str | None = None) -> dict[str, Any]:
    return {
        "id": "cmpl-1",
        "object": "text_completion",
        "created": 1,
        "model": "gpt-3.5-turbo-instruct",
        "choices": [{"index": 0, "text": f"w{i}", "logprobs": None, "finish_reason": finish}],
    }


def response(status: str) -> dict[str, Any]:
    return {
        "id": "resp_1",
        "object": "response",
        "created_at": 1,
        "status": status,
        "model": "gpt-4o-mini",
        "output": [],
        "parallel_tool_calls": True,
        "tool_choice": "auto",
        "tools": [],
    }


def response_events(deltas: list[str], *, terminal: bool = True) -> list[Any]:
    events: list[Any] = [
        (
            "response.created",
            {"type": "response.created", "sequence_number": 0, "response": response("in_progress")},
        )
    ]
    for n, delta in enumerate(deltas, 1):
        events.append(
            (
                "response.output_text.delta",
                {
                    "type": "response.output_text.delta",
                    "item_id": "msg_1",
                    "output_index": 0,
                    "content_index": 0,
                    "delta": delta,
                    "sequence_number": n,
                    "logprobs": [],
                },
            )
        )
    if terminal:
        events.append(
            (
                "response.completed",
                {
                    "type": "response.completed",
                    "sequence_number": len(deltas) + 1,
                    "response": response("completed"),
                },
            )
        )
    return events


def run_events() -> list[Any]:
    run = {
        "id": "run_1",
        "object": "thread.run",
        "created_at": 1,
        "thread_id": "thread_1",
        "assistant_id": "asst_1",
        "status": "queued",
        "model": "gpt-4o",
        "instructions": "",
        "tools": [],
    }
    delta = {
        "id": "msg_1",
        "object": "thread.message.delta",
        "delta": {"content": [{"index": 0, "type": "text", "text": {"value": "hi"}}]},
    }
    return [
        ("thread.run.created", run),
        ("thread.message.delta", delta),
        ("thread.run.completed", {**run, "status": "completed"}),
        b"event: done\ndata: [DONE]\n\n",
    ]


CHAT_CHUNKS = [chat_chunk(0), chat_chunk(1), chat_chunk(2), chat_chunk(3, "stop")]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("sdk", SDKS)
async def test_inline_chat_stream(sdk: str, mode: str) -> None:
    """`async for chunk in await client.chat.completions.create(..., stream=True)` reads every chunk."""
    app = routes(("POST", CHAT, sse_handler(CHAT_CHUNKS, mode=mode)))  # type: ignore[arg-type]
    async with serve(app) as url, make_client(sdk, url) as client:
        out = []
        async for chunk in await client.chat.completions.create(
            model="gpt-4o-mini", messages=[{"role": "user", "content": "Say hi"}], stream=True
        ):
            out.append(chunk.choices[0].delta.content)
    assert out == ["t0", "t1", "t2", "t3"]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("sdk", SDKS)
async def test_inline_completions_stream(sdk: str, mode: str) -> None:
    """`async for chunk in await client.completions.create(..., stream=True)` reads every chunk."""
    chunks = [completion_chunk(0), completion_chunk(1), completion_chunk(2, "stop")]
    app = routes(("POST", "/v1/completions", sse_handler(chunks, mode=mode)))  # type: ignore[arg-type]
    async with serve(app) as url, make_client(sdk, url) as client:
        out = [
            c.choices[0].text
            async for c in await client.completions.create(
                model="gpt-3.5-turbo-instruct", prompt="Say hi", stream=True
            )
        ]
    assert out == ["w0", "w1", "w2"]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("sdk", SDKS)
async def test_inline_responses_stream(sdk: str, mode: str) -> None:
    """`async for event in await client.responses.create(..., stream=True)` reads every event."""
    app = routes(
        ("POST", "/v1/responses", sse_handler(response_events(["He", "llo"]), mode=mode, done=False))
    )
    async with serve(app) as url, make_client(sdk, url) as client:
        out = [
            (e.type, getattr(e, "delta", None))
            async for e in await client.responses.create(model="gpt-4o-mini", input="Say hello", stream=True)
        ]
    assert out == [
        ("response.created", None),
        ("response.output_text.delta", "He"),
        ("response.output_text.delta", "llo"),
        ("response.completed", None),
    ]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("sdk", SDKS)
async def test_inline_assistants_run_stream(sdk: str, mode: str) -> None:
    """`async for event in await client.beta.threads.runs.create(..., stream=True)` reads every event."""
    handler = sse_handler(run_events(), mode=mode, done=False)  # type: ignore[arg-type]
    app = routes(("POST", "/v1/threads/thread_1/runs", handler))
    async with serve(app) as url, make_client(sdk, url) as client:
        with warnings.catch_warnings():
            warnings.simplefilter(
                "ignore", DeprecationWarning
            )  # the official SDK warns: Assistants is deprecated
            out = [
                (e.event, e.data.id)
                async for e in await client.beta.threads.runs.create(
                    thread_id="thread_1", assistant_id="asst_1", stream=True
                )
            ]
    assert out == [
        ("thread.run.created", "run_1"),
        ("thread.message.delta", "msg_1"),
        ("thread.run.completed", "run_1"),
    ]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("sdk", SDKS)
async def test_inline_loop_inside_an_async_generator(sdk: str, mode: str) -> None:
    """The web-app pattern, an inline stream loop inside an async generator that re-yields the text, works."""
    app = routes(("POST", CHAT, sse_handler(CHAT_CHUNKS, mode=mode)))  # type: ignore[arg-type]

    async def tokens(client: Any) -> AsyncIterator[str]:
        async for chunk in await client.chat.completions.create(
            model="gpt-4o-mini", messages=[{"role": "user", "content": "Say hi"}], stream=True
        ):
            if chunk.choices and chunk.choices[0].delta.content:
                yield chunk.choices[0].delta.content

    async with serve(app) as url, make_client(sdk, url) as client:
        assert [t async for t in tokens(client)] == ["t0", "t1", "t2", "t3"]


@pytest.mark.parametrize("sdk", SDKS)
async def test_break_out_of_an_inline_stream_releases_the_connection(sdk: str) -> None:
    """After `break` out of an inline stream loop (no `async with`), ours closes the connection at once (the
    server sees the disconnect within a second); the official SDK keeps it open until garbage collection."""
    gone = anyio.Event()

    async def endless(request: web.Request) -> web.StreamResponse:
        await request.read()
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await response.prepare(request)
        try:
            for i in range(150):  # 3 s at most
                await response.write(sse_pieces([chat_chunk(i)], done=False)[0])
                await anyio.sleep(0.02)
        except ConnectionError:
            gone.set()
        return response

    async with serve(routes(("POST", CHAT, endless))) as url, make_client(sdk, url) as client:
        async for chunk in await client.chat.completions.create(model="m", messages=[], stream=True):
            assert chunk.choices[0].delta.content == "t0"
            break
        started = time.monotonic()
        with anyio.move_on_after(1.0):
            await gone.wait()
        released = gone.is_set()
    if sdk == "ours":
        assert released and time.monotonic() - started < 1.0
    else:
        assert not released  # documented difference: the official SDK leaves it to the garbage collector


@pytest.mark.parametrize("mode", ["events", "whole"])
@pytest.mark.parametrize("sdk", SDKS)
async def test_json_body_answering_a_stream_request(sdk: str, mode: str) -> None:
    """A 200 answering stream=True with a JSON error body: ours raises APIError with the server's message
    (whatever the content type); the official SDK finds no events in it and yields nothing."""
    body = b'{"error": {"message": "Streaming is off for this model", "type": "invalid_request_error"}}'
    for content_type in ("application/json", "text/plain"):
        app = routes(("POST", CHAT, body_handler(body, mode=mode, chunk=16, content_type=content_type)))
        async with serve(app) as url, make_client(sdk, url) as client:
            stream = await client.chat.completions.create(model="m", messages=[], stream=True)
            if sdk == "official":
                assert [c async for c in stream] == []
                continue
            import openai_async

            with pytest.raises(openai_async.APIError, match="Streaming is off") as info:
                async for _ in stream:
                    pass
            assert info.value.type == "invalid_request_error" and info.value.request_id == "req_drip"


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("sdk", SDKS)
async def test_chat_stream_cut_before_any_finish(sdk: str, mode: str) -> None:
    """A chat stream that ends cleanly with no [DONE] and no finish_reason: ours raises APIConnectionError after
    the chunks that came (a truncated answer is not a success); the official SDK ends as if complete."""
    app = routes(("POST", CHAT, sse_handler(CHAT_CHUNKS[:2], mode=mode, done=False)))  # type: ignore[arg-type]
    async with serve(app) as url, make_client(sdk, url) as client:
        out: list[str] = []
        stream = await client.chat.completions.create(model="m", messages=[], stream=True)
        if sdk == "official":
            out = [c.choices[0].delta.content async for c in stream]
        else:
            import openai_async

            with pytest.raises(openai_async.APIConnectionError, match="cut short"):
                async for c in stream:
                    out.append(c.choices[0].delta.content)
    assert out == ["t0", "t1"]


@pytest.mark.parametrize("sdk", SDKS)
async def test_completions_stream_cut_before_any_finish(sdk: str) -> None:
    """The legacy completions stream follows the same rule as chat: cut before a finish_reason, ours raises."""
    chunks = [completion_chunk(0), completion_chunk(1)]
    app = routes(("POST", "/v1/completions", sse_handler(chunks, done=False)))  # type: ignore[arg-type]
    async with serve(app) as url, make_client(sdk, url) as client:
        stream = await client.completions.create(model="m", prompt="x", stream=True)
        if sdk == "official":
            assert [c.choices[0].text async for c in stream] == ["w0", "w1"]
            return
        import openai_async

        with pytest.raises(openai_async.APIConnectionError, match="cut short"):
            async for _ in stream:
                pass


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("sdk", SDKS)
async def test_chat_stream_finished_without_done_ends_normally(sdk: str, mode: str) -> None:
    """Every choice reached a finish_reason but [DONE] never came (some compatible servers omit it): both SDKs
    end normally, with two choices, with a usage chunk last, and with a comment line after the last event."""
    two = [
        chat_chunk(0, index=0),
        chat_chunk(1, index=1),
        chat_chunk(2, "stop", index=0),
        chat_chunk(3, "stop", index=1),
    ]
    usage = {
        **chat_chunk(9),
        "choices": [],
        "usage": {"prompt_tokens": 1, "completion_tokens": 2, "total_tokens": 3},
    }
    keepalive: list[Any] = [
        *CHAT_CHUNKS,
        b": keep-alive\n",
    ]  # a comment line after the last event, no blank line
    for chunks, want in (
        (two, ["t0", "t1", "t2", "t3"]),
        ([*CHAT_CHUNKS, usage], ["t0", "t1", "t2", "t3", None]),
        (keepalive, ["t0", "t1", "t2", "t3"]),
    ):
        app = routes(("POST", CHAT, sse_handler(chunks, mode=mode, done=False)))  # type: ignore[arg-type]
        async with serve(app) as url, make_client(sdk, url) as client:
            out = [
                c.choices[0].delta.content if c.choices else None
                async for c in await client.chat.completions.create(model="m", messages=[], stream=True)
            ]
        assert out == want


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("sdk", SDKS)
async def test_responses_stream_without_a_terminal_event(sdk: str, mode: str) -> None:
    """A Responses stream that ends with no completed/failed/incomplete/error event: ours raises
    APIConnectionError after the events that came; the official SDK ends as if complete."""
    handler = sse_handler(response_events(["He"], terminal=False), mode=mode, done=False)
    app = routes(("POST", "/v1/responses", handler))
    async with serve(app) as url, make_client(sdk, url) as client:
        out: list[str] = []
        stream = await client.responses.create(model="m", input="x", stream=True)
        if sdk == "official":
            out = [e.type async for e in stream]
        else:
            import openai_async

            with pytest.raises(openai_async.APIConnectionError, match="cut short"):
                async for e in stream:
                    out.append(e.type)
    assert out == ["response.created", "response.output_text.delta"]


@pytest.mark.parametrize("sdk", SDKS)
async def test_error_payload_mid_stream(sdk: str) -> None:
    """`data: {"error": {...}}` mid-stream raises the SDK's APIError with the server's message and type, and the
    error object as its body."""
    chunks = [chat_chunk(0), {"error": {"message": "The server is overloaded", "type": "server_error"}}]
    app = routes(("POST", CHAT, sse_handler(chunks)))  # type: ignore[arg-type]
    async with serve(app) as url, make_client(sdk, url) as client:
        module = __import__("openai" if sdk == "official" else "openai_async")
        out = []
        with pytest.raises(module.APIError, match="overloaded") as info:
            async for c in await client.chat.completions.create(model="m", messages=[], stream=True):
                out.append(c.choices[0].delta.content)
    assert out == ["t0"] and info.value.type == "server_error"
    assert info.value.body == {"message": "The server is overloaded", "type": "server_error"}


@pytest.mark.parametrize(
    "payload", [b"data: {not json\n\n", b'data: {"id": "\xff\xfe"}\n\n'], ids=["json", "utf8"]
)
@pytest.mark.parametrize("sdk", SDKS)
async def test_malformed_event_data(sdk: str, payload: bytes) -> None:
    """An event whose data is not JSON (or not UTF-8): ours raises StreamDecodeError, an APIError keeping the
    raw payload; the official SDK lets a bare JSON/Unicode decoding error through."""
    chunks: list[Any] = [chat_chunk(0), payload]
    app = routes(("POST", CHAT, sse_handler(chunks)))
    async with serve(app) as url, make_client(sdk, url) as client:
        stream = await client.chat.completions.create(model="m", messages=[], stream=True)
        if sdk == "official":
            with pytest.raises(ValueError):  # json.JSONDecodeError or UnicodeDecodeError
                async for _ in stream:
                    pass
            return
        import openai_async

        with pytest.raises(openai_async.StreamDecodeError) as info:
            async for _ in stream:
                pass
    assert isinstance(info.value, openai_async.APIError)
    assert info.value.payload == payload[len(b"data: ") : -2] and info.value.request_id == "req_drip"
