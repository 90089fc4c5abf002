"""Stream hot paths in one process, no sockets: the steadiest figure on a noisy machine.

    .venv/bin/python benchmarks/inprocess.py [--events 5000] [--reps 100] [--chunk 65536]

Each contestant reads the canned SSE bodies of ``_server.py`` from memory, in chunks of ``--chunk`` bytes (what
one network read returns), through the same code it runs on a real response: ``AsyncStream`` and the stream
helpers for openai_async, ``_floor.py``'s split-and-decode loop for the floor. Contestants alternate, each run
in a fresh event loop; the figure is the best of ``--reps`` runs, CPU per event (``time.process_time``).
The socket benchmarks (``run.py``) add the same aiohttp read costs to both sides and much more noise.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _floor
import _server

from openai_async import types
from openai_async._core.streaming import AsyncStream
from openai_async._helpers.chat.stream import ChatCompletionStream, ChatCompletionStreamState
from openai_async._helpers.responses.stream import EVENT_TYPE, ResponseStream, ResponseStreamState


class _Content:
    """The part of ``aiohttp.StreamReader`` a stream reads: ``readany()`` and ``iter_any()``."""

    def __init__(self, body: bytes, size: int) -> None:
        self._chunks = iter([body[i : i + size] for i in range(0, len(body), size)])

    async def readany(self) -> bytes:
        return next(self._chunks, b"")

    async def iter_any(self) -> AsyncIterator[bytes]:
        for chunk in self._chunks:
            yield chunk


class _Response:
    """The part of ``aiohttp.ClientResponse`` ``AsyncStream`` uses."""

    status = 200
    closed = False

    def __init__(self, body: bytes, size: int) -> None:
        self.headers: dict[str, str] = {}
        self.content = _Content(body, size)

    def release(self) -> None:
        pass

    def close(self) -> None:
        self.closed = True


def scenarios(chat: bytes, resp: bytes, size: int) -> dict[str, dict[str, Callable[[], Awaitable[int]]]]:
    chunk_type = types.ChatCompletionChunk

    async def chat_raw() -> int:
        n = 0
        async for chunk in AsyncStream(_Response(chat, size), chunk_type):
            if chunk.choices:
                content = chunk.choices[0].delta.content
                if content:
                    n += len(content)
        return n

    async def chat_helper() -> int:
        n = 0
        stream = ChatCompletionStream(AsyncStream(_Response(chat, size), chunk_type), ChatCompletionStreamState())
        async for event in stream:
            if event.type == "content.delta":
                n += len(event.delta)
        return n

    async def responses_raw() -> int:
        n = 0
        async for event in AsyncStream(_Response(resp, size), types.ResponseStreamEvent):
            if event.type == "response.output_text.delta":
                n += len(event.delta)
        return n

    async def responses_helper() -> int:
        n = 0
        stream = ResponseStream(AsyncStream(_Response(resp, size), EVENT_TYPE), ResponseStreamState())
        async for event in stream:
            if event.type == "response.output_text.delta":
                n += len(event.delta)
        return n

    async def chat_floor() -> int:
        return await _floor.chat_stream_chars(_Content(chat, size).iter_any())

    async def responses_floor() -> int:
        return await _floor.responses_stream_chars(_Content(resp, size).iter_any())

    return {
        "chat stream": {"ours": chat_raw, "floor": chat_floor},
        "chat.completions.stream() helper": {"ours": chat_helper, "ours raw": chat_raw},
        "responses stream": {"ours": responses_raw, "floor": responses_floor},
        "responses.stream() helper": {"ours": responses_helper, "ours raw": responses_raw},
    }


def best_of(runs: dict[str, Callable[[], Awaitable[int]]], reps: int) -> dict[str, float]:
    for run in runs.values():  # warm-up: imports, decoder caches, the names cache
        asyncio.run(run())
    best = dict.fromkeys(runs, float("inf"))
    for _ in range(reps):
        for name, run in runs.items():
            t0 = time.process_time()
            asyncio.run(run())
            best[name] = min(best[name], time.process_time() - t0)
    return best


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=5000, help="chunks / delta events per stream")
    parser.add_argument("--reps", type=int, default=100)
    parser.add_argument("--chunk", type=int, default=65536, help="bytes per simulated network read")
    parser.add_argument("--one", nargs=2, metavar=("SCENARIO", "CONTESTANT"),
                        help="warm up, run that one --reps times and print nothing (for instructions.py)")
    args = parser.parse_args(argv)
    chat, resp = _server.chat_stream(args.events), _server.responses_stream(args.events)
    if args.one:
        run = scenarios(chat, resp, args.chunk)[args.one[0]][args.one[1]]
        asyncio.run(run())
        for _ in range(args.reps):
            asyncio.run(run())
        return 0
    targets = {"chat stream": 1.5, "responses stream": 1.5, "chat.completions.stream() helper": 1.3,
               "responses.stream() helper": 1.3}
    print(f"{args.events:,} events per stream, {args.chunk:,}-byte reads, best of {args.reps}\n")
    print("| scenario | ours us/event | against us/event | ratio | target |")
    print("| --- | --- | --- | --- | --- |")
    for name, runs in scenarios(chat, resp, args.chunk).items():
        best = best_of(runs, args.reps)
        (ours, a), (other, b) = best.items()
        ratio, target = a / b, targets[name]
        verdict = "ok" if ratio <= target else f"MISS by {ratio / target - 1:.0%}"
        print(f"| {name} | {a / args.events * 1e6:.3f} | {other}: {b / args.events * 1e6:.3f} | {ratio:.2f}x "
              f"| <= {target}x {other}: {verdict} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
