"""A stream draining a burst lets the other tasks run: it passes its turn of the event loop while it hands out the
events of one network read, and the events it hands out are the same as when they arrive one per write.

The server sends a few hundred events in one write and the caller waits until they are all buffered, so the
first read holds them all; the caller's loop body blocks ~0.2 ms per event (work done per event), so the
stream's turn (half a millisecond) is up after every run of 32 payloads the stream hands out.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any

import anyio
import anyio.lowlevel
import pytest

from openai_async import APIConnectionError, AsyncOpenAI

from ._drip import sse_handler
from ._server import routes, serve

pytestmark = pytest.mark.anyio

N = 300  # events in the burst, ~45 KB: one read once buffered
PIECE = 32  # the stream looks at the clock (and may pass its turn) at least every this many payloads
# At most this many payloads go out between two turns of the other tasks: a piece, and what fits in the rest
# of the stream's turn (0.5 ms) at 0.2 ms or more of the caller's work per event.
BOUND = PIECE + 3


def chat_chunk(i: int) -> dict[str, Any]:
    return {
        "id": "chatcmpl-1",
        "object": "chat.completion.chunk",
        "created": 1,
        "model": "m",
        "choices": [
            {"index": 0, "delta": {"content": f"t{i} "}, "finish_reason": "stop" if i == N - 1 else None}
        ],
    }


RESPONSE = {"id": "resp_1", "object": "response", "created_at": 1, "model": "m", "output": []}
TEXT = {"item_id": "msg_1", "output_index": 0, "content_index": 0, "logprobs": []}
CHAT: list[Any] = [chat_chunk(i) for i in range(N)]
RESPONSES: list[Any] = [
    ("response.created", {"type": "response.created", "sequence_number": 0, "response": RESPONSE}),
    *(
        (
            "response.output_text.delta",
            {"type": "response.output_text.delta", "sequence_number": n, "delta": f"t{n}", **TEXT},
        )
        for n in range(1, N - 1)
    ),
    ("response.completed", {"type": "response.completed", "sequence_number": N - 1, "response": RESPONSE}),
]


class Ticker:
    """A task that counts the loop turns it gets."""

    def __init__(self) -> None:
        self.ticks = 0
        self.running = True

    async def run(self) -> None:
        while self.running:
            self.ticks += 1
            await anyio.lowlevel.checkpoint()


def work() -> None:
    """What a caller might do per event: ~0.2 ms that holds the event loop."""
    time.sleep(0.0002)


# kind -> (path, events, whether the body ends with [DONE], the caller's code collecting (ticks, event), events
# handed out per payload)
Collect = Callable[[AsyncOpenAI, Ticker, list[tuple[int, Any]]], Awaitable[None]]


async def raw_chat(client: AsyncOpenAI, ticker: Ticker, out: list[tuple[int, Any]]) -> None:
    stream = await client.chat.completions.create(model="m", messages=[], stream=True)
    await anyio.sleep(0.1)  # the whole burst lands in the connection's buffer
    async for chunk in stream:
        out.append((ticker.ticks, chunk.choices[0].delta.content))
        work()


async def chat_helper(client: AsyncOpenAI, ticker: Ticker, out: list[tuple[int, Any]]) -> None:
    async with client.chat.completions.stream(model="m", messages=[]) as stream:
        await anyio.sleep(0.1)
        async for event in stream:
            out.append((ticker.ticks, (event.type, getattr(event, "delta", None))))
            work()
        final = await stream.get_final_completion()
    out.append((ticker.ticks, final.choices[0].message.content))


async def responses_helper(client: AsyncOpenAI, ticker: Ticker, out: list[tuple[int, Any]]) -> None:
    async with client.responses.stream(model="m", input="x") as stream:
        await anyio.sleep(0.1)
        async for event in stream:
            out.append((ticker.ticks, (event.type, getattr(event, "delta", None))))
            work()


KINDS: dict[str, tuple[str, list[Any], bool, Collect, int]] = {
    "raw": ("/v1/chat/completions", CHAT, True, raw_chat, 1),
    "chat-helper": ("/v1/chat/completions", CHAT, True, chat_helper, 2),  # a chunk event, a content.delta
    "responses-helper": ("/v1/responses", RESPONSES, False, responses_helper, 1),
}


async def drain(kind: str, mode: str) -> list[tuple[int, Any]]:
    """Serve the kind's events (``mode`` as in ``_drip``) and collect them with a ticker running beside."""
    path, events, done, collect, _ = KINDS[kind]
    out: list[tuple[int, Any]] = []
    handler = sse_handler(events, mode=mode, pause=0, done=done)  # type: ignore[arg-type]
    async with serve(routes(("POST", path, handler))) as url:
        async with AsyncOpenAI(api_key="k", base_url=url, max_retries=0) as client:
            ticker = Ticker()
            with anyio.fail_after(20):
                async with anyio.create_task_group() as tg:
                    tg.start_soon(ticker.run)
                    await collect(client, ticker, out)
                    ticker.running = False
    return out


@pytest.mark.parametrize("kind", KINDS)
async def test_a_burst_lets_other_tasks_run_and_its_events_are_unchanged(kind: str) -> None:
    """A burst buffered whole: another task runs at least every 35 payloads the stream hands out, and the events
    are those the same stream gives when they arrive one per write."""
    burst = await drain(kind, "whole")
    ticks = [t for t, _ in burst]
    longest = max(sum(1 for t in ticks if t == tick) for tick in set(ticks))
    assert longest <= BOUND * KINDS[kind][4], f"{longest} events in a row without another task running"
    assert len(set(ticks)) > N // PIECE
    dripped = await drain(kind, "events")
    assert [e for _, e in burst] == [e for _, e in dripped]
    assert len(burst) >= N


async def test_aclose_from_another_task_while_the_stream_passes_its_turn() -> None:
    """Another task closing the stream while it passes its turn mid-burst: the reader gets APIConnectionError
    (as when closed mid-read), no more events, and the connection is closed."""
    handler = sse_handler(CHAT, mode="whole", pause=0)
    async with serve(routes(("POST", "/v1/chat/completions", handler))) as url:
        async with AsyncOpenAI(api_key="k", base_url=url, max_retries=0) as client:
            stream = await client.chat.completions.create(model="m", messages=[], stream=True)
            await anyio.sleep(0.1)
            first = anyio.Event()
            got: list[str | None] = []

            async def read() -> None:
                with pytest.raises(APIConnectionError):
                    async for chunk in stream:
                        got.append(chunk.choices[0].delta.content)
                        first.set()
                        work()

            async def close() -> None:
                await first.wait()
                await stream.aclose()

            with anyio.fail_after(20):
                async with anyio.create_task_group() as tg:
                    tg.start_soon(close)  # waiting before the first event comes
                    tg.start_soon(read)
            assert 1 <= len(got) <= BOUND and stream.response.closed
