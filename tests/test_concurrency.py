"""Many concurrent calls and streams on one client: no cross-talk, no leaked connections."""

from __future__ import annotations

import asyncio

import anyio
import msgspec
import pytest
from aiohttp import web

from openai_async import AsyncOpenAI, RetryPolicy, Timeout

from ._server import routes, serve

pytestmark = pytest.mark.anyio


class Echo(msgspec.Struct):
    tag: int
    n: int = 0


async def echo(request: web.Request) -> web.Response:
    body = await request.json()
    await asyncio.sleep(0.001)
    return web.json_response({"tag": body["tag"]})


async def stream(request: web.Request) -> web.StreamResponse:
    body = await request.json()
    resp = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
    await resp.prepare(request)
    for n in range(20):
        await resp.write(b'data: {"tag": %d, "n": %d}\n\n' % (body["tag"], n))
        if n % 5 == 0:
            await asyncio.sleep(0)
    await resp.write(b"data: [DONE]\n\n")
    return resp


@pytest.mark.timeout(60)
async def test_500_calls_and_200_streams_no_cross_talk() -> None:
    """500 concurrent calls and 200 concurrent streams each get their own answer; the pool is reusable after."""
    async with serve(routes(("POST", "/v1/echo", echo), ("POST", "/v1/stream", stream))) as url:
        async with AsyncOpenAI(
            api_key="k",
            base_url=url,
            retry=RetryPolicy.instant(),
            max_connections=200,
            timeout=Timeout(total=30, connect=10, read=10),
        ) as client:
            results: dict[int, int] = {}

            async def call(tag: int) -> None:
                results[tag] = (await client.post("/echo", body={"tag": tag}, cast_to=Echo)).tag

            streamed: dict[int, list[tuple[int, int]]] = {}

            async def read(tag: int) -> None:
                s = await client.post("/stream", body={"tag": tag}, stream=True, stream_cls=Echo)
                async with s:
                    streamed[tag] = [(e.tag, e.n) async for e in s]

            with anyio.fail_after(50):
                async with anyio.create_task_group() as tg:
                    for tag in range(500):
                        tg.start_soon(call, tag)
                    for tag in range(200):
                        tg.start_soon(read, tag)
                # A second round on the same pool: leaked connections would exhaust max_connections=200.
                async with anyio.create_task_group() as tg:
                    for tag in range(200):
                        tg.start_soon(read, 1000 + tag)
    assert results == {tag: tag for tag in range(500)}
    assert len(streamed) == 400
    for tag, got in streamed.items():
        assert got == [(tag, n) for n in range(20)]
