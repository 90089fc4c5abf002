"""10,000 concurrent chat streams in one process against a local aiohttp server in another process.

    .venv/bin/python benchmarks/streams10k.py [--streams 10000] [--chunks 100] [--contestants ours,floor]
                                              [--pace-ms 0] [--per-write 5] [--uvloop] [--gc-freeze]

The server (``--serve``, started by this script) answers ``POST /v1/chat/completions`` with an SSE stream:
the first chunk at once, then it holds every stream until ``--streams`` of them are open, then sends the
remaining chunks, ``--per-write`` per write, then ``data: [DONE]``. So every stream is open at the same moment,
and the client's memory per open stream is read there. Two ways to send the rest:
- burst (``--pace-ms 0``, the default): every stream's writes back to back (a yield between writes), so all
  streams' chunks are ready at once: the worst case for the client's event loop;
- paced (``--pace-ms P``): each stream writes every P ms from a random phase in [0, P), as a model streams
  tokens. The server is one Python process: past its capacity (tens of thousands of writes a second) it falls
  behind, and the client reports the pace it actually got (``achieved_ms_between_writes``).

The client, per contestant (fresh interpreter each; ``ours`` = ``AsyncOpenAI(max_connections=N)``, ``floor`` =
one ``aiohttp.ClientSession`` splitting lines and decoding each ``data:`` payload with msgspec), measures:
- RSS after the warm-up stream (base) and when all N streams have their first chunk (open): memory per open
  stream = (open - base) / N; the floor's figure is aiohttp's own per-connection cost;
- CPU (user + sys, ``getrusage``) of the phase after all are open, per chunk, against the same figure for one
  stream of ``--one-chunks`` chunks delivered the same way (paced at 1 ms when ``--pace-ms`` is set);
- the garbage collector's share of that CPU (``gc.callbacks``, process time between a collection's start and
  stop) and its longest pause while streaming;
- the event loop's stalls: a ticker task sleeps 5 ms in a loop and records how late it wakes (the machine's
  own scheduling delays count too: read it with the load average printed beside it).
``ulimit -n`` is raised to the hard limit in both processes (each stream holds one socket on each side).
"""

from __future__ import annotations

import argparse
import ast
import asyncio
import gc
import os
import random
import resource
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def _raise_nofile(need: int) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < need:
        if hard != resource.RLIM_INFINITY and hard < need:
            raise SystemExit(f"{need} file descriptors needed, the hard limit is {hard}: use fewer --streams")
        resource.setrlimit(resource.RLIMIT_NOFILE, (need, hard))


def _cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def _rss_mib() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def _chunk(i: int) -> bytes:
    return (b'data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"m","choices":'
            b'[{"index":0,"delta":{"content":"tok%d "},"finish_reason":null}]}\n\n' % i)


# -- the server ----------------------------------------------------------------------------------------------


def serve(port_file: str, streams: int, chunks: int, per_write: int, pace_ms: float) -> None:
    from aiohttp import web

    _raise_nofile(streams + 1000)
    state: dict[str, Any] = {"open": 0, "go": None, "target": streams}
    body = [b"".join(_chunk(i) for i in range(j, min(j + per_write, chunks))) for j in range(1, chunks, per_write)]

    async def handler(request: web.Request) -> web.StreamResponse:
        await request.read()
        n = int(request.headers.get("x-chunks", chunks))
        pace = float(request.headers.get("x-pace-ms", pace_ms)) / 1000
        resp = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await resp.prepare(request)
        await resp.write(_chunk(0))
        if request.headers.get("x-hold") == "1":
            state["open"] += 1
            if state["open"] >= state["target"]:
                state["go"].set()
            await state["go"].wait()
        pieces = body if n == chunks else [
            b"".join(_chunk(i) for i in range(j, min(j + per_write, n))) for j in range(1, n, per_write)]
        if pace:
            loop = asyncio.get_running_loop()
            due = loop.time() + random.random() * pace  # streams start at random phases, as requests do
            for piece in pieces:
                await asyncio.sleep(due - loop.time())  # to fixed deadlines: a late write is not made later still
                await resp.write(piece)
                due += pace
        else:
            for piece in pieces:
                await resp.write(piece)
                await asyncio.sleep(0)
        await resp.write(b"data: [DONE]\n\n")
        return resp

    async def reset(request: web.Request) -> web.Response:
        state["open"], state["go"] = 0, asyncio.Event()
        state["target"] = int(request.query.get("target", streams))
        return web.Response(text="ok")

    async def main() -> None:
        state["go"] = asyncio.Event()
        app = web.Application()
        app.router.add_post("/v1/chat/completions", handler)
        app.router.add_get("/reset", reset)
        runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await runner.setup()
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        site = web.SockSite(runner, sock, backlog=4096)
        await site.start()
        with open(port_file, "w") as f:  # noqa: ASYNC230 (once, at start-up)
            f.write(str(sock.getsockname()[1]))
        await asyncio.Event().wait()  # the parent kills this process when the run is over

    asyncio.run(main())


# -- the client ----------------------------------------------------------------------------------------------


def _floor_chunk_type() -> Any:
    import msgspec

    global Delta, Choice, Chunk  # module level, so the annotations resolve

    class Delta(msgspec.Struct):
        content: str | None = None

    class Choice(msgspec.Struct):
        delta: Delta

    class Chunk(msgspec.Struct):
        choices: list[Choice]

    return Chunk


class Ticker:
    """Record how late a 5 ms sleep wakes: the event loop's stalls (plus the machine's)."""

    def __init__(self) -> None:
        self.lags: list[float] = []
        self.at: list[float] = []  # when each wake came (perf_counter)
        self.running = True

    async def run(self) -> None:
        while self.running:
            t = time.perf_counter()
            await asyncio.sleep(0.005)
            now = time.perf_counter()
            self.lags.append(now - t - 0.005)
            self.at.append(now)


async def client_run(contestant: str, url: str, streams: int, chunks: int, one_chunks: int,
                     freeze: bool, pace_ms: float, per_write: int, turn_ms: float | None,
                     read_timeout: bool) -> dict[str, float]:
    import aiohttp
    import msgspec

    _raise_nofile(streams + 1000)
    hold = {"x-hold": "1"}
    messages = [{"role": "user", "content": "hi"}]
    if contestant == "ours":
        from openai_async import AsyncOpenAI

        if turn_ms is not None:  # a sweep of the streams' fairness bound (a private knob, for this measure only)
            import openai_async._core.streaming

            openai_async._core.streaming._TURN = turn_ms / 1000

        options: dict[str, Any] = {}
        if not read_timeout:  # aiohttp re-arms its read timer (a new TimerHandle) on every network read
            from openai_async import Timeout

            options["timeout"] = Timeout(total=None, connect=60, read=None)
        client: Any = AsyncOpenAI(api_key="x", base_url=url, max_connections=streams, max_retries=0, **options)

        async def stream(first: asyncio.Event | None, headers: dict[str, str]) -> int:
            n = 0
            s = await client.chat.completions.create(model="m", messages=messages, stream=True,
                                                     extra_headers=headers)
            async with s:
                async for chunk in s:
                    if chunk.choices and chunk.choices[0].delta.content:
                        n += 1
                        if first is not None and n == 1:
                            first.set()
            return n
    else:
        decoder = msgspec.json.Decoder(_floor_chunk_type())
        session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=streams, limit_per_host=0))
        body = msgspec.json.encode({"model": "m", "messages": messages, "stream": True})

        async def stream(first: asyncio.Event | None, headers: dict[str, str]) -> int:
            n = 0
            async with session.post(url + "/chat/completions", data=body,
                                    headers={"Content-Type": "application/json", **headers}) as r:
                buf = b""
                async for data in r.content.iter_any():
                    lines = (buf + data).split(b"\n")
                    buf = lines.pop()
                    for line in lines:
                        if line.startswith(b"data: ") and line != b"data: [DONE]":
                            c = decoder.decode(line[6:])
                            if c.choices and c.choices[0].delta.content:
                                n += 1
                                if first is not None and n == 1:
                                    first.set()
            return n

    server = url.rsplit("/v1", 1)[0]
    raw = aiohttp.ClientSession()

    async def reset(target: int) -> None:
        async with raw.get(f"{server}/reset?target={target}") as r:
            await r.read()

    # warm-up: one held stream (connection, lazy imports, decoders)
    await reset(1)
    assert await stream(None, hold) == chunks
    gc.collect()
    base_rss = _rss_mib()
    base_tracked = len(gc.get_objects())

    # one stream of many chunks, delivered the same way: the per-chunk reference
    c0 = _cpu()
    got = await stream(None, {"x-chunks": str(one_chunks), "x-pace-ms": "1" if pace_ms else "0"})
    cpu_one = (_cpu() - c0) / got

    await reset(streams)
    gc_pauses: list[float] = []
    gc_walls: list[float] = []
    gc_full = [0]
    gc_start = [0.0, 0.0]

    def on_gc(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            gc_start[:] = time.process_time(), time.perf_counter()
        else:
            gc_pauses.append(time.process_time() - gc_start[0])
            gc_walls.append(time.perf_counter() - gc_start[1])
            gc_full[0] += info["generation"] == 2

    gc.callbacks.append(on_gc)
    ticker = Ticker()
    tick = asyncio.ensure_future(ticker.run())
    firsts = [asyncio.Event() for _ in range(streams)]
    t0, c0 = time.perf_counter(), _cpu()
    tasks = []
    for i in range(streams):  # started 50 per loop turn, as a program opening streams over time would
        tasks.append(asyncio.ensure_future(stream(firsts[i], hold)))
        if i % 50 == 49:
            await asyncio.sleep(0)
    for ev in firsts:
        await ev.wait()
    open_s, open_cpu = time.perf_counter() - t0, _cpu() - c0
    open_rss = _rss_mib()
    tracked_per_stream = (len(gc.get_objects()) - base_tracked) / streams  # what a full collection walks
    open_lags, ticker.lags, ticker.at = ticker.lags, [], []
    if freeze:
        gc.freeze()  # what an application holding many long-lived streams can do: old objects leave the GC's walk
    open_gc, gc_pauses[:], gc_walls[:], gc_full[0] = list(gc_pauses), [], [], 0
    c1, t1 = _cpu(), time.perf_counter()
    counts = await asyncio.gather(*tasks)
    stream_cpu = _cpu() - c1
    stream_wall = time.perf_counter() - t1
    wall = time.perf_counter() - t0
    ticker.running = False
    await tick
    gc.callbacks.remove(on_gc)
    assert all(c == chunks for c in counts), f"incomplete streams: {sum(c != chunks for c in counts)}"
    worst = max(range(len(ticker.lags)), key=ticker.lags.__getitem__, default=None)
    worst_at = ticker.at[worst] - ticker.lags[worst] - t1 if worst is not None else 0.0  # when it began
    lags = sorted(ticker.lags)
    await raw.close()
    if contestant == "ours":
        await client.close()
    else:
        await session.close()
    return {
        "completed": float(sum(c == chunks for c in counts)),
        "open_s": open_s,
        "open_cpu_ms_per_stream": open_cpu / streams * 1e3,
        "cpu_us_per_chunk": stream_cpu / (streams * (chunks - 1)) * 1e6,
        "cpu_us_per_chunk_one": cpu_one * 1e6,
        "kib_per_stream": (open_rss - base_rss) * 1024 / streams,
        "base_rss": base_rss,
        "open_rss": open_rss,
        "peak_rss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "max_stall_ms_opening": max(open_lags, default=0.0) * 1e3,
        "max_stall_ms_streaming": lags[-1] * 1e3 if lags else 0.0,
        "max_stall_began_s_into_streaming": worst_at,
        "p99_stall_ms_streaming": lags[int(len(lags) * 0.99)] * 1e3 if lags else 0.0,
        "p50_stall_ms_streaming": lags[len(lags) // 2] * 1e3 if lags else 0.0,
        "stalls_over_50ms_streaming": float(sum(lag > 0.05 for lag in lags)),
        "gc_max_pause_ms_opening": max(open_gc, default=0.0) * 1e3,
        "gc_max_pause_ms_streaming": max(gc_walls, default=0.0) * 1e3,
        "gc_full_collections_streaming": float(gc_full[0]),
        "gc_tracked_objects_per_open_stream": tracked_per_stream,
        "gc_s_opening": sum(open_gc),
        "gc_s_streaming": sum(gc_pauses),
        "gc_share_of_streaming_cpu": sum(gc_pauses) / stream_cpu if stream_cpu else 0.0,
        "cpu_us_per_chunk_less_gc": (stream_cpu - sum(gc_pauses)) / (streams * (chunks - 1)) * 1e6,
        "cpu_share_of_wall_streaming": stream_cpu / stream_wall if stream_wall else 0.0,
        "achieved_ms_between_writes": stream_wall / len(range(1, chunks, per_write)) * 1e3,
        "loop_iterations_per_s": len(lags) / wall if wall else 0.0,
        "streaming_wall_s": stream_wall,
        "wall_s": wall,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--streams", type=int, default=10_000)
    parser.add_argument("--chunks", type=int, default=100, help="chunks per stream")
    parser.add_argument("--per-write", type=int, default=5, help="chunks per server write")
    parser.add_argument("--one-chunks", type=int, help="chunks of the one-stream reference (20,000; 2,000 paced)")
    parser.add_argument("--pace-ms", type=float, default=0.0,
                        help="each stream writes every this many ms (0: the burst, all chunks at once)")
    parser.add_argument("--turn-ms", type=float, help="ours: the streams' turn, for a sweep (default: the library's)")
    parser.add_argument("--no-read-timeout", action="store_true",
                        help="ours: Timeout(read=None), as the floor (no per-read timer in aiohttp)")
    parser.add_argument("--contestants", default="ours,floor")
    parser.add_argument("--uvloop", action="store_true", help="run the client on uvloop (pip install uvloop)")
    parser.add_argument("--gc-freeze", action="store_true", help="gc.freeze() once all streams are open")
    parser.add_argument("--serve", help=argparse.SUPPRESS)
    parser.add_argument("--client", nargs=2, metavar=("CONTESTANT", "URL"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.one_chunks is None:
        args.one_chunks = 2_000 if args.pace_ms else 20_000
    if args.serve:
        serve(args.serve, args.streams, args.chunks, args.per_write, args.pace_ms)
        return 0
    if args.client:
        if args.uvloop:
            import uvloop

            uvloop.install()
        result = asyncio.run(client_run(args.client[0], args.client[1], args.streams, args.chunks, args.one_chunks,
                                       args.gc_freeze, args.pace_ms, args.per_write, args.turn_ms,
                                       not args.no_read_timeout))
        print("RESULT " + repr(result), flush=True)
        return 0

    port_file = ROOT / "benchmarks" / ".work" / f"streams10k-{os.getpid()}.port"
    port_file.parent.mkdir(exist_ok=True)
    common = ["--streams", str(args.streams), "--chunks", str(args.chunks), "--per-write", str(args.per_write),
              "--one-chunks", str(args.one_chunks), "--pace-ms", str(args.pace_ms)]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    server = subprocess.Popen([sys.executable, __file__, "--serve", str(port_file), *common], env=env)
    try:
        deadline = time.monotonic() + 20
        while not port_file.exists() or not port_file.read_text():
            if time.monotonic() > deadline or server.poll() is not None:
                raise SystemExit("the server did not start")
            time.sleep(0.05)
        url = f"http://127.0.0.1:{port_file.read_text()}/v1"
        results = {}
        for contestant in args.contestants.split(","):
            cmd = [sys.executable, __file__, "--client", contestant, url, *common]
            cmd += ["--uvloop"] * args.uvloop + ["--gc-freeze"] * args.gc_freeze
            cmd += ["--turn-ms", str(args.turn_ms)] * (args.turn_ms is not None)
            cmd += ["--no-read-timeout"] * args.no_read_timeout
            proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=900)
            line = next((ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")), None)
            if line is None:
                raise SystemExit(f"{contestant} failed:\n{proc.stderr[-3000:]}")
            results[contestant] = ast.literal_eval(line[7:])
    finally:
        server.kill()
        server.wait()
        port_file.unlink(missing_ok=True)
    sending = f"paced, a write every {args.pace_ms:g} ms" if args.pace_ms else "burst"
    print(f"{args.streams:,} concurrent streams x {args.chunks} chunks ({args.per_write} per server write, {sending}), "
          f"{'uvloop' if args.uvloop else 'asyncio'} loop{', gc.freeze()' if args.gc_freeze else ''}"
          f"{f', turn {args.turn_ms:g} ms' if args.turn_ms is not None else ''}"
          f"{', ours without a read timeout' if args.no_read_timeout else ''}, "
          f"load average {', '.join(f'{x:.1f}' for x in os.getloadavg())}, "
          f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}\n")
    keys = list(next(iter(results.values())))
    print("| figure | " + " | ".join(results) + " |")
    print("| --- | " + " | ".join("---" for _ in results) + " |")
    for k in keys:
        print(f"| {k} | " + " | ".join(f"{r[k]:,.2f}" for r in results.values()) + " |")
    if "ours" in results:
        o = results["ours"]
        print(f"\nours: CPU per chunk at {args.streams:,} streams / one stream = "
              f"{o['cpu_us_per_chunk'] / o['cpu_us_per_chunk_one']:.2f}x")
        if "floor" in results:
            extra = o["kib_per_stream"] - results["floor"]["kib_per_stream"]
            print(f"ours: memory per open stream beyond the floor's aiohttp connection: {extra:.1f} KiB")
    _ = statistics  # medians are left to repeated runs
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
