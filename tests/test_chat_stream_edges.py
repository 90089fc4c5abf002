"""``client.chat.completions.stream()`` on the chunk shapes real servers send besides plain text: legacy
``function_call`` deltas, tool calls in pieces, empty deltas, a finish_reason sent twice, no ``[DONE]``.

The user's lines run against the official SDK and ours on one loopback server; events are compared by what a user
reads of them (type, names, arguments, content).
"""

from __future__ import annotations

from typing import Any

import anyio
import pytest

from ._drip import SDKS, make_client, sse_handler
from ._server import routes, serve

pytestmark = pytest.mark.anyio

MESSAGES = [{"role": "user", "content": "Weather in Paris?"}]


def chunk(delta: dict[str, Any], finish_reason: str | None = None, **top: Any) -> dict[str, Any]:
    """One chat.completion.chunk with one choice."""
    return {
        "id": "chatcmpl-1",
        "object": "chat.completion.chunk",
        "created": 1,
        "model": "gpt-4o",
        "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}],
        **top,
    }


def _view(event: Any) -> tuple[Any, ...]:
    """What a user reads of an event: its type and the fields that type carries."""
    kind = event.type
    if kind == "content.delta":
        return (kind, event.delta, event.snapshot)
    if kind == "content.done":
        return (kind, event.content)
    if kind == "tool_calls.function.arguments.delta":
        return (kind, event.index, event.name, event.arguments_delta, event.arguments)
    if kind == "tool_calls.function.arguments.done":
        return (kind, event.index, event.name, event.arguments)
    return (kind,)


async def _stream_both(chunks: list[Any], *, done: bool = True) -> dict[str, tuple[list[Any], Any]]:
    """Each SDK's events (as ``_view``) and final completion for ``chunks``."""
    app = routes(("POST", "/v1/chat/completions", sse_handler(chunks, done=done, pause=0.002)))
    out = {}
    with anyio.fail_after(10):
        async with serve(app) as url:
            for sdk in SDKS:
                async with make_client(sdk, url) as client:
                    async with client.chat.completions.stream(model="gpt-4o", messages=MESSAGES) as stream:
                        events = [_view(e) async for e in stream]
                        final = await stream.get_final_completion()
                out[sdk] = (events, final)
    return out


async def test_legacy_function_call_deltas_build_the_final_function_call() -> None:
    """``functions=`` streams (``delta.function_call`` pieces) end in ``message.function_call`` with the joined
    name and arguments, in both SDKs."""
    chunks = [
        chunk(
            {"role": "assistant", "content": None, "function_call": {"name": "get_weather", "arguments": ""}}
        ),
        chunk({"function_call": {"arguments": '{"city": '}}),
        chunk({"function_call": {"arguments": '"Paris"}'}}),
        chunk({}, "function_call"),
    ]
    got = await _stream_both(chunks)
    for sdk, (events, final) in got.items():
        call = final.choices[0].message.function_call
        assert (call.name, call.arguments) == ("get_weather", '{"city": "Paris"}'), sdk
        assert final.choices[0].finish_reason == "function_call"
        assert [e for e in events if e[0] != "chunk"] == [], sdk  # no content or tool-call events


async def test_tool_call_named_before_its_arguments_and_a_repeated_finish_reason() -> None:
    """A tool call whose first delta has a name but no arguments still streams and ends whole; an empty content
    and a finish_reason sent twice (again with the usage) add no done events."""
    chunks = [
        chunk({"role": "assistant", "content": ""}),
        chunk(
            {
                "tool_calls": [
                    {"index": 0, "id": "call_1", "type": "function", "function": {"name": "get_weather"}}
                ]
            }
        ),
        chunk({"tool_calls": [{"index": 0, "function": {"arguments": '{"city": "Paris"}'}}]}),
        chunk({}, "tool_calls"),
        chunk({}, "tool_calls", usage={"prompt_tokens": 5, "completion_tokens": 7, "total_tokens": 12}),
    ]
    got = await _stream_both(chunks)
    (ours, ours_final), (official, official_final) = got["ours"], got["official"]
    # The arguments so far of a call with none yet: "" here, None from the official SDK (whose type says str).
    official = [
        (*e[:4], "") if e[0] == "tool_calls.function.arguments.delta" and e[4] is None else e
        for e in official
    ]
    assert [e for e in ours if e[0] != "chunk"] == [e for e in official if e[0] != "chunk"]
    assert [e for e in ours if e[0] == "tool_calls.function.arguments.done"] == [
        ("tool_calls.function.arguments.done", 0, "get_weather", '{"city": "Paris"}')
    ]
    assert not any(e[0] == "content.done" for e in ours)
    for final in (ours_final, official_final):
        (call,) = final.choices[0].message.tool_calls
        assert (call.id, call.function.name, call.function.arguments) == (
            "call_1",
            "get_weather",
            '{"city": "Paris"}',
        )
        assert final.usage.total_tokens == 12


async def test_a_tool_call_announced_before_its_function_streams_whole() -> None:
    """A tool call whose first delta carries only its id and type (as some compatible servers send it) streams
    and ends whole (the official SDK raises AttributeError on it)."""
    chunks = [
        chunk({"role": "assistant", "content": None}),
        chunk({"tool_calls": [{"index": 0, "id": "call_1", "type": "function"}]}),
        chunk({"tool_calls": [{"index": 0, "function": {"name": "get_weather", "arguments": '{"city": '}}]}),
        chunk({"tool_calls": [{"index": 0, "function": {"arguments": '"Paris"}'}}]}),
        chunk({}, "tool_calls"),
    ]
    app = routes(("POST", "/v1/chat/completions", sse_handler(chunks, pause=0.002)))
    with anyio.fail_after(10):
        async with serve(app) as url, make_client("ours", url) as client:
            async with client.chat.completions.stream(model="gpt-4o", messages=MESSAGES) as stream:
                events = [_view(e) async for e in stream]
                final = await stream.get_final_completion()
    assert [e[1:] for e in events if e[0] == "tool_calls.function.arguments.delta"] == [
        (0, "get_weather", '{"city": ', '{"city": '),
        (0, "get_weather", '"Paris"}', '{"city": "Paris"}'),
    ]
    (call,) = final.choices[0].message.tool_calls
    assert (call.id, call.function.name, call.function.arguments) == (
        "call_1",
        "get_weather",
        '{"city": "Paris"}',
    )


async def test_empty_deltas_between_text_and_a_stream_without_done() -> None:
    """Empty deltas between text pieces (keep-alives) add no events; a stream whose every choice finished but
    that never sends ``[DONE]`` ends cleanly with the whole text."""
    chunks = [
        chunk({"role": "assistant", "content": "Sun"}),
        chunk({}),
        chunk({"content": "ny"}),
        chunk({"content": None}),
        chunk({"content": "."}),
        chunk({}, "stop"),
    ]
    got = await _stream_both(chunks, done=False)
    (ours, ours_final), (official, _) = got["ours"], got["official"]
    assert [e for e in ours if e[0] != "chunk"] == [e for e in official if e[0] != "chunk"]
    assert [e[1] for e in ours if e[0] == "content.delta"] == ["Sun", "ny", "."]
    assert ours_final.choices[0].message.content == "Sunny."
    assert len([e for e in ours if e[0] == "chunk"]) == len(chunks)


async def test_events_read_one_at_a_time_print_readably_and_the_stream_is_a_context_manager() -> None:
    """``await anext(stream)`` gives the next event; events and the stream print what a user needs (no private
    references); the stream is an ``async with`` block itself."""
    chunks = [chunk({"role": "assistant", "content": "Hi"}), chunk({}, "stop")]
    app = routes(("POST", "/v1/chat/completions", sse_handler(chunks, pause=0.002)))
    with anyio.fail_after(10):
        async with serve(app) as url, make_client("ours", url) as client:
            async with client.chat.completions.stream(model="gpt-4o", messages=MESSAGES) as stream:
                async with stream as same:
                    assert same is stream
                    assert repr(stream) == "<ChatCompletionStream request_id='req_drip'>"
                    first = await anext(stream)
                    delta = await anext(stream)
                assert stream.response.closed
    assert first.type == "chunk" and repr(first).startswith(
        "ChunkEvent(chunk=CreateChatCompletionStreamResponse("
    )
    assert delta.type == "content.delta"
    assert repr(delta) == "ContentDeltaEvent(delta='Hi', choice_index=0, type='content.delta')"
