"""examples/fastapi_streaming.py under uvicorn on 127.0.0.1, called by a real HTTP client (aiohttp).

The upstream "API" is a loopback aiohttp app that sends one token, then holds the stream open (writing SSE
comments) until the test releases it: so a test can tell streaming from buffering, and see the upstream
connection close when the app's own client goes away.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiohttp
import anyio
import msgspec
import pytest
from aiohttp import web

from openai_async import AsyncOpenAI
from openai_async.testing import FakeOpenAI

from ._server import routes, serve

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "examples"))
import fastapi_streaming as example

pytestmark = pytest.mark.anyio


def _chunk(text: str) -> bytes:
    chunk = {
        "id": "chatcmpl-1",
        "object": "chat.completion.chunk",
        "created": 0,
        "model": "gpt-4o-mini",
        "choices": [{"index": 0, "delta": {"content": text}, "finish_reason": None}],
    }
    return b"data: " + msgspec.json.encode(chunk) + b"\n\n"


class Upstream:
    """Sends "Hel", pings until ``release`` is set, then sends "lo\\nworld" and [DONE]; notes a peer that left."""

    def __init__(self) -> None:
        self.release = anyio.Event()
        self.gone = anyio.Event()
        self.finished = False
        self.requests = 0

    async def handler(self, request: web.Request) -> web.StreamResponse:
        self.requests += 1
        await request.read()
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await response.prepare(request)
        try:
            await response.write(_chunk("Hel"))
            while not self.release.is_set():
                await response.write(b": ping\n\n")  # fails once the app has closed its upstream connection
                with anyio.move_on_after(0.02):
                    await self.release.wait()
            await response.write(_chunk("lo\nworld"))
            await response.write(b"data: [DONE]\n\n")
            await response.write_eof()
            self.finished = True
        except OSError:
            self.gone.set()
        return response


def _factory(url: str, made: list[AsyncOpenAI] | None = None) -> Callable[[], AsyncOpenAI]:
    def make() -> AsyncOpenAI:
        client = AsyncOpenAI(base_url=url, api_key="sk-test", max_retries=0)
        if made is not None:
            made.append(client)
        return client

    return make


async def _first_then_rest(response: aiohttp.ClientResponse, endpoint: str, upstream: Upstream) -> list[str]:
    """Read the first token, release the upstream, read the rest."""
    if endpoint == "sse":
        events = example.read_sse(response)
        first = await events.__anext__()
        upstream.release.set()
        return [first] + [token async for token in events]
    first_bytes = await response.content.readany()
    upstream.release.set()
    return [first_bytes.decode(), (await response.content.read()).decode()]


@pytest.mark.parametrize("endpoint", ["sse", "text"])
async def test_tokens_reach_the_browser_while_the_upstream_is_still_streaming(endpoint: str) -> None:
    """Each endpoint forwards the first token before the upstream stream has finished (no buffering)."""
    upstream = Upstream()
    async with (
        serve(routes(("POST", "/v1/chat/completions", upstream.handler))) as url,
        example.serve(example.create_app(_factory(url))) as app_url,
        aiohttp.ClientSession() as http,
    ):
        with anyio.fail_after(10):
            async with http.get(f"{app_url}/chat/{endpoint}", params={"q": "hi"}) as response:
                assert response.status == 200
                expected_type = "text/event-stream" if endpoint == "sse" else "text/plain"
                assert response.headers["Content-Type"].startswith(expected_type)
                tokens = await _first_then_rest(response, endpoint, upstream)
    assert tokens == ["Hel", "lo\nworld"]
    assert upstream.finished


@pytest.mark.parametrize("endpoint", ["sse", "text"])
async def test_browser_disconnect_closes_the_upstream_stream(endpoint: str) -> None:
    """A client that hangs up mid-stream makes the app close its upstream connection; the app keeps serving."""
    upstream = Upstream()
    async with (
        serve(routes(("POST", "/v1/chat/completions", upstream.handler))) as url,
        example.serve(example.create_app(_factory(url))) as app_url,
        aiohttp.ClientSession() as http,
    ):
        with anyio.fail_after(10):
            response = await http.get(f"{app_url}/chat/{endpoint}", params={"q": "hi"})
            assert (await response.content.readany()).startswith(
                b"data: Hel" if endpoint == "sse" else b"Hel"
            )
            response.close()  # the browser goes away mid-answer
            await upstream.gone.wait()  # the app closed the upstream socket instead of reading on
        assert not upstream.finished
        upstream.release.set()
        with anyio.fail_after(10):
            async with http.get(f"{app_url}/chat/text", params={"q": "again"}) as again:
                assert await again.text() == "Hello\nworld"
    assert upstream.requests == 2


async def test_one_client_per_app_closed_at_shutdown() -> None:
    """The lifespan makes one client for all requests and closes it when the server stops."""
    upstream = Upstream()
    upstream.release.set()
    made: list[AsyncOpenAI] = []
    async with serve(routes(("POST", "/v1/chat/completions", upstream.handler))) as url:
        async with (
            example.serve(example.create_app(_factory(url, made))) as app_url,
            aiohttp.ClientSession() as http,
        ):
            for _ in range(3):
                async with http.get(f"{app_url}/chat/text") as response:
                    assert await response.text() == "Hello\nworld"
        assert len(made) == 1
        with pytest.raises(RuntimeError):
            await made[0].chat.completions.create(
                model="gpt-4o-mini", messages=[{"role": "user", "content": "x"}]
            )


async def test_example_app_streams_the_fake_servers_answer() -> None:
    """Against openai_async.testing's fake server both endpoints stream back the echoed question."""
    async with FakeOpenAI() as fake:
        app: Any = example.create_app(fake.client)
        async with example.serve(app) as app_url, aiohttp.ClientSession() as http:
            async with http.get(f"{app_url}/chat/sse", params={"q": "one two three"}) as response:
                assert "".join([t async for t in example.read_sse(response)]) == "one two three"
            async with http.get(f"{app_url}/chat/text", params={"q": "four five"}) as response:
                assert await response.text() == "four five"
