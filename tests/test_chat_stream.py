"""client.chat.completions.stream() on real sockets: events, snapshots, final completion == non-streaming."""

from __future__ import annotations

import random
from typing import Any

import anyio
import msgspec
import pytest
from aiohttp import web

from openai_async import APIConnectionError, APIError, AsyncOpenAI, LengthFinishReasonError, RetryPolicy
from openai_async._core.decode import decode
from openai_async._helpers.chat.stream import ChatCompletionStreamState
from openai_async._helpers.structured import function_tool
from openai_async.types.chat import CreateChatCompletionResponse, CreateChatCompletionStreamResponse

from ._server import routes, serve

pytestmark = pytest.mark.anyio

_encode = msgspec.json.encode


# -- a fake API that answers the same content streamed or not ------------------------------------------------


def _pieces(text: str, rng: random.Random) -> list[str]:
    out, i = [], 0
    while i < len(text):
        n = rng.randint(1, 6)
        out.append(text[i : i + n])
        i += n
    return out


def _token(piece: str) -> dict[str, Any]:
    return {"token": piece, "logprob": -0.25, "bytes": list(piece.encode()), "top_logprobs": []}


class Fake:
    """One chat completion's content, rendered as the non-streaming body and as the chunks the API streams."""

    def __init__(self, choices: list[dict[str, Any]], *, seed: int = 0, usage: bool = True) -> None:
        self.choices = choices
        self.rng = random.Random(seed)
        self.usage = usage
        self.top = {
            "id": "chatcmpl-1",
            "created": 1700000000,
            "model": "gpt-4o-mini-2024-07-18",
            "service_tier": "default",
            "system_fingerprint": "fp_1",
        }
        self.usage_body = {"prompt_tokens": 11, "completion_tokens": 22, "total_tokens": 33}
        self._chunks: list[dict[str, Any]] | None = None

    def body(self) -> dict[str, Any]:
        choices = []
        for i, c in enumerate(self.choices):
            message: dict[str, Any] = {
                "role": "assistant",
                "content": c.get("content"),
                "refusal": c.get("refusal"),
                "annotations": [],
            }
            if c.get("tool_calls"):
                message["tool_calls"] = [
                    {"id": tid, "type": "function", "function": {"name": name, "arguments": args}}
                    for tid, name, args in c["tool_calls"]
                ]
            logprobs = None
            if c.get("logprobs"):
                logprobs = {
                    "content": [_token(p) for p in c["_content_pieces"]]
                    if c.get("content") is not None
                    else None,
                    "refusal": [_token(p) for p in c["_refusal_pieces"]]
                    if c.get("refusal") is not None
                    else None,
                }
            choices.append(
                {
                    "index": i,
                    "message": message,
                    "logprobs": logprobs,
                    "finish_reason": c.get("finish_reason", "stop"),
                }
            )
        return {**self.top, "object": "chat.completion", "choices": choices, "usage": self.usage_body}

    def chunks(self) -> list[dict[str, Any]]:
        if self._chunks is None:
            self._chunks = self._render()
        return self._chunks

    def _render(self) -> list[dict[str, Any]]:
        rng = self.rng
        per_choice = []
        for i, c in enumerate(self.choices):
            deltas: list[tuple[dict[str, Any], Any]] = []
            content, refusal, calls = c.get("content"), c.get("refusal"), c.get("tool_calls") or []
            lp = c.get("logprobs")
            first: dict[str, Any] = {
                "role": "assistant",
                "content": "" if content is not None else None,
                "refusal": "" if refusal is not None and content is None else None,
            }
            first_lp = {
                "content": [] if content is not None else None,
                "refusal": [] if first["refusal"] == "" else None,
            }
            deltas.append((first, first_lp if lp else None))
            c["_content_pieces"] = _pieces(content or "", rng)
            c["_refusal_pieces"] = _pieces(refusal or "", rng)
            for p in c["_content_pieces"]:
                deltas.append(({"content": p}, {"content": [_token(p)], "refusal": None} if lp else None))
            for p in c["_refusal_pieces"]:
                deltas.append(({"refusal": p}, {"content": None, "refusal": [_token(p)]} if lp else None))
            for k, (tid, name, args) in enumerate(calls):
                deltas.append(
                    (
                        {
                            "tool_calls": [
                                {
                                    "index": k,
                                    "id": tid,
                                    "type": "function",
                                    "function": {"name": name, "arguments": ""},
                                }
                            ]
                        },
                        None,
                    )
                )
                for p in _pieces(args, rng):
                    deltas.append(({"tool_calls": [{"index": k, "function": {"arguments": p}}]}, None))
            out = [{"index": i, "delta": d, "logprobs": lpv, "finish_reason": None} for d, lpv in deltas]
            out.append(
                {"index": i, "delta": {}, "logprobs": None, "finish_reason": c.get("finish_reason", "stop")}
            )
            per_choice.append(out)
        # Interleave the choices at random, keeping each choice's own order.
        merged: list[dict[str, Any]] = []
        queues = [list(reversed(q)) for q in per_choice]
        while any(queues):
            q = rng.choice([q for q in queues if q])
            merged.append(q.pop())
        chunks = [
            {**self.top, "object": "chat.completion.chunk", "choices": [ch], "usage": None} for ch in merged
        ]
        if self.usage:
            chunks.append(
                {**self.top, "object": "chat.completion.chunk", "choices": [], "usage": self.usage_body}
            )
        return chunks

    def sse(self) -> bytes:
        return b"".join(b"data: " + _encode(c) + b"\n\n" for c in self.chunks()) + b"data: [DONE]\n\n"


def app_for(
    fake: Fake,
    *,
    tail: bytes = b"",
    seen: list[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
) -> web.Application:
    data = fake.sse()  # renders the pieces the non-streaming body's logprobs refer to
    body = fake.body()

    async def handler(request: web.Request) -> web.StreamResponse:
        payload = await request.json()
        if seen is not None:
            seen.append(payload)
        hdrs = {"x-request-id": "req_chat", "x-ratelimit-remaining-requests": "99", **(headers or {})}
        if not payload.get("stream"):
            return web.json_response(body, headers=hdrs)
        resp = web.StreamResponse(headers={"Content-Type": "text/event-stream", **hdrs})
        await resp.prepare(request)
        rng = random.Random(len(data))
        i = 0
        while i < len(data):  # random chunking of the bytes, splitting events and UTF-8 sequences anywhere
            n = rng.randint(1, 300)
            await resp.write(data[i : i + n])
            i += n
        if tail:
            await resp.write(tail)
        await resp.write_eof()
        return resp

    return routes(("POST", "/v1/chat/completions", handler))


def client_for(url: str) -> AsyncOpenAI:
    return AsyncOpenAI(api_key="k", base_url=url, retry=RetryPolicy.instant())


SCENARIOS = {
    "text": [{"content": "Hello there! Ünïcode ✓ and emoji 🎉 split anywhere."}],
    "text+logprobs": [{"content": "The quick brown fox jumps over the lazy dog.", "logprobs": True}],
    "refusal": [{"refusal": "I'm sorry, I can't help with that.", "logprobs": True}],
    "parallel tools": [
        {
            "tool_calls": [
                ("call_a", "get_weather", '{"city": "Paris", "unit": "c"}'),
                ("call_b", "get_weather", '{"city": "Tōkyō", "unit": "f"}'),
                ("call_c", "lookup", '{"query": "' + "x" * 200 + '"}'),
            ],
            "finish_reason": "tool_calls",
        }
    ],
    "n=3 interleaved": [
        {"content": "first choice " * 5},
        {
            "tool_calls": [("call_1", "f", '{"a": 1}'), ("call_2", "g", '{"b": [1, 2, 3]}')],
            "finish_reason": "tool_calls",
        },
        {"content": "third, cut short", "finish_reason": "length"},
    ],
    "content then tool": [
        {"content": "Let me check.", "tool_calls": [("call_x", "f", "{}")], "finish_reason": "tool_calls"}
    ],
}


def _random_choices(seed: int) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    out: list[dict[str, Any]] = []
    for _ in range(rng.randint(1, 4)):
        kind = rng.choice(["text", "tools", "refusal", "both"])
        c: dict[str, Any] = {"logprobs": kind in ("text", "refusal") and rng.random() < 0.5}
        if kind in ("text", "both"):
            c["content"] = "".join(rng.choice('abc déf ✓ 🎉\n"{}') for _ in range(rng.randint(1, 300)))
        if kind == "refusal":
            c["refusal"] = "no " * rng.randint(1, 40)
        if kind in ("tools", "both"):
            c["tool_calls"] = [
                (
                    f"call_{k}",
                    f"fn_{k}",
                    msgspec.json.encode({"k": k, "s": "x" * rng.randint(0, 80)}).decode(),
                )
                for k in range(rng.randint(1, 10))
            ]
            c["finish_reason"] = "tool_calls"
        out.append(c)
    return out


for _seed in range(6):
    SCENARIOS[f"random-{_seed}"] = _random_choices(_seed)


@pytest.mark.parametrize("name", list(SCENARIOS))
async def test_final_completion_equals_non_streaming(name: str) -> None:
    """get_final_completion() equals the non-streaming answer for the same content (usage included)."""
    fake = Fake([dict(c) for c in SCENARIOS[name]], seed=sum(map(ord, name)))
    async with serve(app_for(fake)) as url, client_for(url) as client:
        plain = await client.chat.completions.create(model="m", messages=[])
        async with client.chat.completions.stream(
            model="m", messages=[], stream_options={"include_usage": True}
        ) as stream:
            if any(c.get("finish_reason") == "length" for c in SCENARIOS[name]):
                # As the official SDK: a choice cut at the token limit makes get_final_completion() raise.
                with pytest.raises(LengthFinishReasonError):
                    await stream.get_final_completion()
            await stream.until_done()
            final = stream.current_completion_snapshot
    assert isinstance(final, CreateChatCompletionResponse)
    assert msgspec.to_builtins(final) == msgspec.to_builtins(plain)
    assert final.usage is not None and final.usage.total_tokens == 33


async def test_event_sequence_for_text_tools_and_logprobs() -> None:
    """Each chunk yields a ChunkEvent, then its deltas; done events fire when a part ends."""
    fake = Fake(
        [
            {
                "content": "Hi!",
                "logprobs": True,
                "tool_calls": [("c1", "f", '{"x":1}'), ("c2", "g", "{}")],
                "finish_reason": "tool_calls",
            }
        ],
        seed=3,
    )
    async with serve(app_for(fake)) as url, client_for(url) as client:
        async with client.chat.completions.stream(model="m", messages=[]) as stream:
            events = [e async for e in stream]
    kinds = [e.type for e in events if e.type != "chunk"]
    assert kinds[0] == "content.delta"
    assert kinds.count("content.done") == 1 and kinds.count("logprobs.content.done") == 1
    done = [e for e in events if e.type == "tool_calls.function.arguments.done"]
    assert [(e.index, e.name, e.arguments) for e in done] == [(0, "f", '{"x":1}'), (1, "g", "{}")]
    # content.done comes before the first tool call's first delta, and call 0 is done before call 1 starts
    assert kinds.index("content.done") < kinds.index("tool_calls.function.arguments.delta")
    first_b = next(
        i for i, e in enumerate(events) if e.type == "tool_calls.function.arguments.delta" and e.index == 1
    )
    assert events.index(done[0]) < first_b
    content_done = next(e for e in events if e.type == "content.done")
    assert content_done.content == "Hi!" and content_done.parsed is None
    lp_done = next(e for e in events if e.type == "logprobs.content.done")
    assert "".join(t.token for t in lp_done.content) == "Hi!"
    assert sum(1 for e in events if e.type == "chunk") == len(fake.chunks())


async def test_delta_snapshots_are_exact_for_each_event() -> None:
    """A content.delta's snapshot is the text up to that delta, even when read after the stream ended."""
    text = "abcdefghijklmnopqrstuvwxyz" * 4
    fake = Fake([{"content": text}], seed=5)
    async with serve(app_for(fake)) as url, client_for(url) as client:
        async with client.chat.completions.stream(model="m", messages=[]) as stream:
            events = [e async for e in stream]
            assert stream.current_completion_snapshot.choices[0].message.content == text
    deltas = [e for e in events if e.type == "content.delta"]
    running = ""
    for e in deltas:
        running += e.delta
        assert e.snapshot == running
    # read in reverse order too (cache must not leak a later snapshot into an earlier event)
    assert [e.snapshot for e in reversed(deltas)][-1] == deltas[0].delta
    assert deltas[-1].parsed is None  # no typed response_format: nothing to parse
    args = [e for e in events if e.type == "chunk"][-1].snapshot
    assert args.choices[0].message.content == text


async def test_text_deltas_yield_only_text_of_one_choice() -> None:
    """stream.text_deltas() yields the content pieces of the chosen choice and nothing else."""
    fake = Fake([{"content": "zero zero"}, {"content": "one one one"}], seed=9)
    async with serve(app_for(fake)) as url, client_for(url) as client:
        async with client.chat.completions.stream(model="m", messages=[]) as stream:
            pieces = [t async for t in stream.text_deltas(1)]
            final = await stream.get_final_completion()
    assert "".join(pieces) == "one one one"
    assert final.choices[0].message.content == "zero zero"


async def test_request_id_rate_limits_and_close() -> None:
    """The helper exposes request id and rate-limit headers; leaving the block early closes the connection."""
    fake = Fake([{"content": "x" * 500}], seed=1)
    async with serve(app_for(fake)) as url, client_for(url) as client:
        async with client.chat.completions.stream(model="m", messages=[]) as stream:
            assert stream.request_id == "req_chat"
            assert stream.rate_limits.remaining_requests == 99
            async for event in stream:
                if event.type == "content.delta":
                    break
        assert stream.response.closed


async def test_error_mid_stream_raises_api_error() -> None:
    """An error payload in the middle of the stream raises APIError from the event loop."""
    fake = Fake([{"content": "partial"}], seed=2)
    data = fake.sse().replace(b"data: [DONE]\n\n", b"")
    fake.sse = lambda: data + b'data: {"error": {"message": "overloaded", "type": "server_error"}}\n\n'  # type: ignore[method-assign]
    async with serve(app_for(fake)) as url, client_for(url) as client:
        async with client.chat.completions.stream(model="m", messages=[]) as stream:
            with pytest.raises(APIError, match="overloaded"):
                async for _ in stream:
                    pass


class Weather(msgspec.Struct):
    city: str
    unit: str


async def test_typed_tools_and_response_format_are_sent_and_parsed() -> None:
    """function_tool(T) arguments and a Struct response_format are decoded into their types."""
    fake = Fake(
        [{"tool_calls": [("c1", "Weather", '{"city": "Oslo", "unit": "c"}')], "finish_reason": "tool_calls"}],
        seed=4,
    )
    seen: list[dict[str, Any]] = []
    async with serve(app_for(fake, seen=seen)) as url, client_for(url) as client:
        async with client.chat.completions.stream(
            model="m", messages=[], tools=[function_tool(Weather)], response_format=Weather
        ) as stream:
            events = [e async for e in stream]
            final = await stream.get_final_completion()
    done = next(e for e in events if e.type == "tool_calls.function.arguments.done")
    assert done.parsed_arguments == Weather(city="Oslo", unit="c")
    deltas = [e for e in events if e.type == "tool_calls.function.arguments.delta"]
    assert deltas[-1].parsed_arguments == {"city": "Oslo", "unit": "c"}
    assert deltas[0].parsed_arguments is None  # the first fragment is empty
    call = final.choices[0].message.tool_calls[0]
    assert call.function.parsed_arguments == Weather(city="Oslo", unit="c")
    sent = seen[0]
    assert sent["stream"] is True
    assert sent["response_format"]["type"] == "json_schema"
    assert sent["response_format"]["json_schema"]["strict"] is True
    assert sent["tools"][0]["function"]["name"] == "Weather"


async def test_structured_content_is_parsed_in_done_event_and_final() -> None:
    """With response_format=T the content.done event and message.parsed hold a T."""
    fake = Fake([{"content": '{"city": "Lima", "unit": "f"}'}], seed=6)
    async with serve(app_for(fake)) as url, client_for(url) as client:
        async with client.chat.completions.stream(model="m", messages=[], response_format=Weather) as stream:
            events = [e async for e in stream]
            final = await stream.get_final_completion()
    done = next(e for e in events if e.type == "content.done")
    assert done.parsed == Weather(city="Lima", unit="f")
    partial = [e.parsed for e in events if e.type == "content.delta"]
    assert partial[-1] == {"city": "Lima", "unit": "f"}
    assert {"city": "Lima"} in partial or {"city": "Lima", "unit": ""} in partial
    assert final.choices[0].message.parsed == Weather(city="Lima", unit="f")


async def test_length_finish_with_response_format_raises() -> None:
    """A typed response_format cut by the token limit raises LengthFinishReasonError."""
    fake = Fake([{"content": '{"city": "Li', "finish_reason": "length"}], seed=7)
    async with serve(app_for(fake)) as url, client_for(url) as client:
        async with client.chat.completions.stream(model="m", messages=[], response_format=Weather) as stream:
            with pytest.raises(LengthFinishReasonError):
                async for _ in stream:
                    pass
            assert stream.response.closed


def test_state_accumulates_without_a_server() -> None:
    """The state object folds literal chunks (fragments out of order across choices) by index."""
    chunks = [
        {
            "id": "x",
            "choices": [
                {
                    "index": 1,
                    "delta": {
                        "role": "assistant",
                        "tool_calls": [
                            {
                                "index": 0,
                                "id": "a",
                                "type": "function",
                                "function": {"name": "f", "arguments": ""},
                            }
                        ],
                    },
                }
            ],
        },
        {"id": "x", "choices": [{"index": 0, "delta": {"role": "assistant", "content": "he"}}]},
        {
            "id": "x",
            "choices": [
                {"index": 1, "delta": {"tool_calls": [{"index": 0, "function": {"arguments": '{"k"'}}]}}
            ],
        },
        {"id": "x", "choices": [{"index": 0, "delta": {"content": "llo"}, "finish_reason": "stop"}]},
        {
            "id": "x",
            "choices": [
                {
                    "index": 1,
                    "delta": {"tool_calls": [{"index": 0, "function": {"arguments": ":2}"}}]},
                    "finish_reason": "tool_calls",
                }
            ],
        },
    ]
    state: ChatCompletionStreamState[Any] = ChatCompletionStreamState()
    for c in chunks:
        state.handle(msgspec.convert(c, CreateChatCompletionStreamResponse))
    final = state.get_final_completion()
    assert [c.index for c in final.choices] == [0, 1]
    assert final.choices[0].message.content == "hello"
    assert final.choices[1].message.tool_calls[0].function.arguments == '{"k":2}'
    assert final.choices[1].message.content is None


def _drifted(chunks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The chunks, with what a live API may add: explicit nulls, a null delta, a delta field and a choice field
    this release does not know, two choices in one chunk."""
    out = [dict(c) for c in chunks]
    for i, c in enumerate(out):
        if not c["choices"]:
            continue
        choice = dict(c["choices"][0])
        delta = dict(choice["delta"] or {})
        if i % 5 == 1:
            delta.update(role=None, refusal=None, tool_calls=None)
        elif i % 5 == 2:
            delta["reasoning"] = "new field"
        elif i % 5 == 3:
            choice["annotations"] = []
        elif i % 5 == 4 and not delta:
            choice["delta"] = None
        if choice["delta"] is not None:
            choice["delta"] = delta
        c["choices"] = [choice]
    texts = [i for i, c in enumerate(out) if c["choices"] and (c["choices"][0]["delta"] or {}).get("content")]
    if len(texts) >= 2:  # merge two text chunks of the same choice into one chunk of two choices
        a, b = texts[-2], texts[-1]
        out[a] = {**out[a], "choices": [out[a]["choices"][0], out.pop(b)["choices"][0]]}
    return out


def _view(event: Any) -> dict[str, Any]:
    """What a user can read of an event when it arrives: its public fields and properties."""
    view = {name: getattr(event, name) for name in event.__struct_fields__ if not name.startswith("_")}
    for name in ("chunk", "snapshot", "arguments", "parsed", "parsed_arguments"):
        if name not in view and hasattr(type(event), name):
            view[name] = getattr(event, name)
    return msgspec.to_builtins(view)


@pytest.mark.parametrize("drift", [False, True], ids=["as-sent", "drifted"])
@pytest.mark.parametrize("name", list(SCENARIOS))
async def test_stream_fast_path_gives_the_events_of_the_decoded_path(name: str, drift: bool) -> None:
    """The stream's loop (text chunks decoded into a slim type, the chunk itself decoded on access) yields
    exactly what ``handle(chunk)`` gives for the fully decoded chunks, whatever the chunks hold."""
    fake = Fake([dict(c) for c in SCENARIOS[name]], seed=sum(map(ord, name)))
    chunks = fake.chunks()
    if drift:
        chunks[:] = _drifted(chunks)
    async with serve(app_for(fake)) as url, client_for(url) as client:
        async with client.chat.completions.stream(model="m", messages=[]) as stream:
            got = [_view(e) async for e in stream]
            final = stream.current_completion_snapshot
    state: ChatCompletionStreamState[Any] = ChatCompletionStreamState()
    # The library's decoder: a null where the spec requires an object takes its lenient path.
    want = [
        _view(e) for c in chunks for e in state.handle(decode(_encode(c), CreateChatCompletionStreamResponse))
    ]
    assert got == want
    assert msgspec.to_builtins(final) == msgspec.to_builtins(state.current_completion_snapshot)


async def test_connection_cut_mid_stream_raises() -> None:
    """A connection cut in the middle of the stream raises APIConnectionError through the helper."""
    data = Fake([{"content": "y" * 300}], seed=3).sse()

    async def handler(request: web.Request) -> web.StreamResponse:
        await request.read()
        resp = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await resp.prepare(request)
        await resp.write(data[: len(data) // 2])
        assert request.transport is not None
        request.transport.abort()
        return resp

    async with serve(routes(("POST", "/v1/chat/completions", handler))) as url, client_for(url) as client:
        async with client.chat.completions.stream(model="m", messages=[]) as stream:
            with pytest.raises(APIConnectionError):
                await stream.get_final_completion()


async def test_cancelling_a_stalled_stream_closes_the_connection() -> None:
    """Cancelling the task that iterates a stalled stream closes the connection."""
    data = Fake([{"content": "z" * 50}], seed=8).sse()
    release = anyio.Event()

    async def handler(request: web.Request) -> web.StreamResponse:
        await request.read()
        resp = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await resp.prepare(request)
        await resp.write(data[:1000])
        await release.wait()
        return resp

    async with serve(routes(("POST", "/v1/chat/completions", handler))) as url, client_for(url) as client:
        async with client.chat.completions.stream(model="m", messages=[]) as stream:
            seen = 0
            with anyio.move_on_after(0.3) as scope:
                async for _ in stream:
                    seen += 1
            assert scope.cancelled_caught and seen > 0
            assert stream.response.closed
        release.set()


@pytest.mark.parametrize("usage", [False, True], ids=["finish-chunk-last", "usage-chunk-last"])
async def test_final_completion_keeps_parsed_values_whichever_chunk_is_last(usage: bool) -> None:
    """get_final_completion() has message.parsed and parsed_arguments whether the finish chunk or the usage
    chunk ends the stream (a snapshot cached while the finish chunk was folded is not returned stale)."""
    content = Fake([{"content": '{"city": "Lima", "unit": "f"}'}], seed=21, usage=usage)
    tools = Fake(
        [{"tool_calls": [("c1", "Weather", '{"city": "Oslo", "unit": "c"}')], "finish_reason": "tool_calls"}],
        seed=22,
        usage=usage,
    )
    async with serve(app_for(content)) as url, client_for(url) as client:
        async with client.chat.completions.stream(model="m", messages=[], response_format=Weather) as stream:
            final = await stream.get_final_completion()
    assert final.choices[0].message.parsed == Weather(city="Lima", unit="f")
    async with serve(app_for(tools)) as url, client_for(url) as client:
        async with client.chat.completions.stream(
            model="m", messages=[], tools=[function_tool(Weather)]
        ) as stream:
            final = await stream.get_final_completion()
    call = final.choices[0].message.tool_calls[0]
    assert call.function.parsed_arguments == Weather(city="Oslo", unit="c")
