"""The stream-loop contract: every loop (raw AsyncStream, chat helper, Responses helper) on the same wire cases.

All three run ``stream_loop`` with their own fold; these cases reach the parts they share (the error payload
check, ``event: error``, the Assistants ``thread.*`` route, ``[DONE]``, a cut mid-event, the ending) through
the public calls, on a loopback server, with the body sent whole (so ``[DONE]`` and the cut land in the middle
of a read) and one event per write.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from openai_async import APIConnectionError, APIError, AsyncOpenAI
from openai_async.types.chat import CreateChatCompletionStreamResponse

from ._drip import body_handler, sse_handler
from ._server import routes, serve

pytestmark = pytest.mark.anyio


def chat_chunk(i: int, finish: str | None = None) -> dict[str, Any]:
    return {
        "id": "chatcmpl-1",
        "object": "chat.completion.chunk",
        "created": 1,
        "model": "m",
        "choices": [{"index": 0, "delta": {"content": f"t{i}"}, "finish_reason": finish}],
    }


def response_event(kind: str, n: int, **fields: Any) -> tuple[str, dict[str, Any]]:
    return kind, {"type": kind, "sequence_number": n, **fields}


RESPONSE = {"id": "resp_1", "object": "response", "created_at": 1, "model": "m", "output": []}
CHAT_EVENTS: list[Any] = [chat_chunk(0), chat_chunk(1), chat_chunk(2, "stop")]
RESPONSE_EVENTS: list[Any] = [
    response_event("response.created", 0, response={**RESPONSE, "status": "in_progress"}),
    *(
        response_event(
            "response.output_text.delta",
            n,
            item_id="msg_1",
            output_index=0,
            content_index=0,
            delta=f"t{n - 1}",
            logprobs=[],
        )
        for n in (1, 2, 3)
    ),
    response_event("response.completed", 4, response={**RESPONSE, "status": "completed"}),
]

Collect = Callable[[AsyncOpenAI, list[Any]], Awaitable[None]]


async def raw(client: AsyncOpenAI, out: list[Any]) -> None:
    async for chunk in await client.chat.completions.create(model="m", messages=[], stream=True):
        out.append(chunk)


async def chat_helper(client: AsyncOpenAI, out: list[Any]) -> None:
    async with client.chat.completions.stream(model="m", messages=[]) as stream:
        async for event in stream:
            out.append(event)


async def responses_helper(client: AsyncOpenAI, out: list[Any]) -> None:
    async with client.responses.stream(model="m", input="x") as stream:
        async for event in stream:
            out.append(event)


# loop -> (path, its normal events, whether they end with [DONE], items yielded for the normal events)
LOOPS: dict[str, tuple[Collect, str, list[Any], bool, int]] = {
    "raw": (raw, "/v1/chat/completions", CHAT_EVENTS, True, 3),
    "chat-helper": (chat_helper, "/v1/chat/completions", CHAT_EVENTS, True, 7),  # 3 chunks, 3 deltas, done
    "responses-helper": (responses_helper, "/v1/responses", RESPONSE_EVENTS, False, 5),
}
ERROR_PAYLOAD = {"error": {"message": "boom", "type": "server_error"}}
THREAD_EVENT = ("thread.run.created", {"id": "run_1", "object": "thread.run", "status": "queued"})


async def run_loop(
    loop: str, events: list[Any], mode: str, *, done: bool | None = None
) -> tuple[list[Any], Any]:
    """Serve ``events`` to ``loop``; return what it yielded and the exception it raised (or None)."""
    collect, path, _, ends_with_done, _ = LOOPS[loop]
    handler = sse_handler(events, mode=mode, pause=0.002, done=ends_with_done if done is None else done)
    out: list[Any] = []
    async with serve(routes(("POST", path, handler))) as url:
        async with AsyncOpenAI(api_key="k", base_url=url, max_retries=0) as client:
            try:
                await collect(client, out)
            except APIError as exc:
                return out, exc
    return out, None


@pytest.mark.parametrize("mode", ["whole", "events"])
@pytest.mark.parametrize("loop", LOOPS)
async def test_normal_stream_ends_cleanly(loop: str, mode: str) -> None:
    """The normal events of each kind end without an error, with the loop's usual number of items."""
    out, error = await run_loop(loop, LOOPS[loop][2], mode)
    assert error is None and len(out) == LOOPS[loop][4]


@pytest.mark.parametrize("mode", ["whole", "events"])
@pytest.mark.parametrize("loop", LOOPS)
async def test_error_payload_raises_after_the_events_before_it(loop: str, mode: str) -> None:
    """`data: {"error": {...}}` after a normal event raises APIError with the server's message and type."""
    _, _, events, _, _ = LOOPS[loop]
    out, error = await run_loop(loop, [events[0], ERROR_PAYLOAD, *events[1:]], mode)
    assert isinstance(error, APIError) and error.message == "boom" and error.type == "server_error"
    assert error.request_id == "req_drip" and len(out) >= 1


@pytest.mark.parametrize("mode", ["whole", "events"])
@pytest.mark.parametrize("loop", LOOPS)
async def test_event_error_raises(loop: str, mode: str) -> None:
    """An `event: error` (the Responses shape: type, code, message) raises APIError with its message."""
    _, _, events, _, _ = LOOPS[loop]
    error_event = (
        "error",
        {"type": "error", "code": "server_error", "message": "boom", "sequence_number": 9},
    )
    out, error = await run_loop(loop, [events[0], error_event, *events[1:]], mode)
    assert isinstance(error, APIError) and error.message == "boom" and len(out) >= 1


@pytest.mark.parametrize("mode", ["whole", "events"])
@pytest.mark.parametrize("loop", LOOPS)
async def test_assistants_thread_event_is_yielded_in_place(loop: str, mode: str) -> None:
    """An Assistants `thread.*` event takes the special route: one item in its place, then the stream goes on
    and ends as usual."""
    _, _, events, _, count = LOOPS[loop]
    out, error = await run_loop(loop, [events[0], THREAD_EVENT, *events[1:]], mode)
    assert error is None and len(out) == count + 1
    item = out[2 if loop == "chat-helper" else 1]  # after the items of the first event (a chunk, its delta)
    if loop == "responses-helper":  # decoded as an unknown Responses event: the raw object, named
        assert item["event"] == "thread.run.created" and item["data"]["id"] == "run_1"
    else:  # decoded into the chunk type: a chunk with nothing of a chunk in it, not a ChunkEvent
        assert type(item) is CreateChatCompletionStreamResponse and item.choices is None


@pytest.mark.parametrize("loop", LOOPS)
async def test_done_in_the_middle_of_a_read_ends_the_stream(loop: str) -> None:
    """`data: [DONE]` ends the stream where it stands, even mid-read: what follows it is never decoded."""
    _, _, events, _, count = LOOPS[loop]
    out, error = await run_loop(loop, [*events, "[DONE]", ERROR_PAYLOAD, "{not json"], "whole", done=False)
    assert error is None and len(out) == count


@pytest.mark.parametrize("mode", ["whole", "events"])
@pytest.mark.parametrize("loop", LOOPS)
async def test_cut_in_the_middle_of_an_event_raises(loop: str, mode: str) -> None:
    """A body that ends cleanly inside an event raises APIConnectionError after the whole events before it."""
    _, _, events, _, count = LOOPS[loop]
    out, error = await run_loop(loop, [*events, b'data: {"id": "chatcmpl-1", "choi'], mode, done=False)
    assert isinstance(error, APIConnectionError) and "middle of an event" in error.message
    assert len(out) == count


@pytest.mark.parametrize("mode", ["whole", "events"])
@pytest.mark.parametrize("loop", LOOPS)
async def test_a_stream_cut_before_its_end_raises(loop: str, mode: str) -> None:
    """A body that ends cleanly between events but before its kind's ending (chat: [DONE] or every choice
    finished; Responses: a terminal event) raises APIConnectionError after the events that came."""
    _, _, events, _, _ = LOOPS[loop]
    out, error = await run_loop(loop, events[:2], mode, done=False)
    assert isinstance(error, APIConnectionError) and "cut short" in error.message and len(out) >= 2


@pytest.mark.parametrize("loop", LOOPS)
async def test_a_json_body_in_place_of_events_raises_its_message(loop: str) -> None:
    """A stream request answered 200 with a JSON error body (any content type) raises APIError with the
    server's message and the error object as body, from every loop."""
    collect, path, _, _, _ = LOOPS[loop]
    body = {"error": {"message": "Streaming is off", "type": "invalid_request_error", "code": None}}
    for content_type in ("application/json", "text/plain; charset=utf-8"):
        handler = body_handler(body, content_type=content_type)
        async with serve(routes(("POST", path, handler))) as url:
            async with AsyncOpenAI(api_key="k", base_url=url, max_retries=0) as client:
                with pytest.raises(APIError, match="Streaming is off") as info:
                    await collect(client, [])
        assert info.value.body == body["error"] and info.value.type == "invalid_request_error"
