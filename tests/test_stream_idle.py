"""The read (idle) timeout of a stream, which the stream times with one timer of its own once it has begun:
a stream whose bytes keep coming never times out, a silent one does, and the connection it gives back times
its next request's reads again."""

from __future__ import annotations

import time

import anyio
import msgspec
import pytest
from aiohttp import web

from openai_async import APITimeoutError, AsyncOpenAI, Timeout

from ._server import routes, serve

pytestmark = pytest.mark.anyio

READ = 0.3  # the read (idle) timeout of these tests, seconds
TIMEOUT = Timeout(total=None, connect=2, read=READ)


class Chunk(msgspec.Struct):
    n: int = 0


def dripping(count: int, pause: float, *, then_stall: float = 0.0) -> web.Application:
    """``count`` events ``pause`` apart, then ``then_stall`` seconds of silence before the end."""

    async def handler(request: web.Request) -> web.StreamResponse:
        resp = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await resp.prepare(request)
        for i in range(count):
            await resp.write(b'data: {"n":%d}\n\n' % i)
            await anyio.sleep(pause)
        await anyio.sleep(then_stall)
        await resp.write_eof()
        return resp

    async def stalled(request: web.Request) -> web.Response:
        await anyio.sleep(5)
        return web.json_response({})

    return routes(("POST", "/v1/s", handler), ("POST", "/v1/stall", stalled))


def client_for(url: str) -> AsyncOpenAI:
    return AsyncOpenAI(api_key="k", base_url=url, max_retries=0, max_connections=1)


async def test_a_stream_whose_bytes_keep_coming_outlasts_the_read_timeout() -> None:
    """Events 0.1 s apart for ~0.8 s (over two read timeouts) end normally: only silence times out."""
    async with serve(dripping(8, 0.1)) as url, client_for(url) as client:
        with anyio.fail_after(10):
            stream = await client.post("/s", body={}, stream=True, stream_cls=Chunk, timeout=TIMEOUT)
            assert [c.n async for c in stream] == list(range(8))


async def test_a_stream_that_goes_silent_times_out_after_the_read_timeout() -> None:
    """After a few events the server stays silent: APITimeoutError about one read timeout later, not sooner."""
    async with serve(dripping(3, 0.05, then_stall=5)) as url, client_for(url) as client:
        stream = await client.post("/s", body={}, stream=True, stream_cls=Chunk, timeout=TIMEOUT)
        got: list[int] = []
        with anyio.fail_after(4), pytest.raises(APITimeoutError):
            async for c in stream:
                got.append(c.n)
                last = time.monotonic()
        waited = time.monotonic() - last
        assert got == [0, 1, 2] and READ * 0.9 <= waited < READ * 3
        assert stream.response.closed


async def test_a_caller_busy_past_the_timeout_while_bytes_keep_coming_is_not_timed_out() -> None:
    """The caller works 0.5 s (more than the read timeout) on the first event while the server goes on: the
    stream ends normally."""
    async with serve(dripping(8, 0.1)) as url, client_for(url) as client:
        stream = await client.post("/s", body={}, stream=True, stream_cls=Chunk, timeout=TIMEOUT)
        got: list[int] = []
        with anyio.fail_after(10):
            async for c in stream:
                got.append(c.n)
                if c.n == 0:
                    await anyio.sleep(0.5)
        assert got == list(range(8))


async def test_the_connection_a_stream_gives_back_times_its_next_reads() -> None:
    """After a stream ends, the one pooled connection serves a plain call to a stalled endpoint, which times
    out after the read timeout as before."""
    async with serve(dripping(3, 0.01)) as url, client_for(url) as client:
        stream = await client.post("/s", body={}, stream=True, stream_cls=Chunk, timeout=TIMEOUT)
        assert [c.n async for c in stream] == [0, 1, 2]
        start = time.monotonic()
        with anyio.fail_after(4), pytest.raises(APITimeoutError):
            await client.post("/stall", body={}, cast_to=dict, timeout=TIMEOUT)
        assert time.monotonic() - start < READ * 3
