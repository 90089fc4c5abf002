"""A FastAPI app that streams model tokens to its own HTTP clients, as Server-Sent Events and as plain text.

- One ``AsyncOpenAI`` per app, opened and closed by the lifespan (one connection pool shared by all requests).
- ``GET /chat/sse?q=...`` answers ``text/event-stream`` (``data: <token>`` events, then ``event: done``);
  ``GET /chat/text?q=...`` answers the tokens as plain text.
- When the browser goes away, Starlette cancels the response's iterator; leaving ``async with stream`` then closes
  the upstream connection to the API (no tokens are paid for nobody, the socket is not left half-read).

Run as a script it serves on 127.0.0.1 under uvicorn, asks itself one question on each endpoint, prints the
answers and exits. Offline (no OPENAI_API_KEY) the client talks to openai_async.testing's fake server.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator, Callable
from typing import Any

import aiohttp
import anyio
import uvicorn
from _offline import open_client
from fastapi import FastAPI, Request
from fastapi.responses import StreamingResponse

from openai_async import AsyncOpenAI

ClientFactory = Callable[[], contextlib.AbstractAsyncContextManager[AsyncOpenAI]]


def create_app(client_factory: ClientFactory = AsyncOpenAI, *, model: str = "gpt-4o-mini") -> FastAPI:
    """The app; ``client_factory`` makes its one client (``AsyncOpenAI`` reads OPENAI_API_KEY)."""

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with client_factory() as client:
            app.state.openai = client
            yield

    app = FastAPI(lifespan=lifespan)

    async def tokens(request: Request) -> AsyncIterator[str]:
        client: AsyncOpenAI = request.app.state.openai
        stream = await client.chat.completions.create(
            model=model,
            messages=[{"role": "user", "content": request.query_params.get("q", "Say hi")}],
            stream=True,
        )
        async with (
            stream
        ):  # a cancelled download (client gone) leaves this block and closes the upstream socket
            async for chunk in stream:
                if chunk.choices and chunk.choices[0].delta.content:
                    yield chunk.choices[0].delta.content

    async def sse(request: Request) -> AsyncIterator[str]:
        async for token in tokens(request):
            # One SSE event per token; a token holding newlines becomes several data: lines of the same event.
            yield "".join(f"data: {line}\n" for line in token.split("\n")) + "\n"
        yield "event: done\ndata: \n\n"

    @app.get("/chat/sse")
    async def chat_sse(request: Request) -> StreamingResponse:
        return StreamingResponse(
            sse(request), media_type="text/event-stream", headers={"Cache-Control": "no-cache"}
        )

    @app.get("/chat/text")
    async def chat_text(request: Request) -> StreamingResponse:
        return StreamingResponse(tokens(request), media_type="text/plain; charset=utf-8")

    return app


@contextlib.asynccontextmanager
async def serve(app: Any) -> AsyncIterator[str]:
    """Run ``app`` under uvicorn on a free 127.0.0.1 port for the duration of the block; yields its base URL."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
    async with anyio.create_task_group() as tasks:
        tasks.start_soon(server.serve, [sock])
        with anyio.fail_after(10):
            while not server.started:  # noqa: ASYNC110 - uvicorn signals readiness only by this flag
                await anyio.sleep(0.01)
        try:
            yield f"http://127.0.0.1:{port}"
        finally:
            server.should_exit = True  # uvicorn drains open responses, runs the lifespan's shutdown, returns
    sock.close()


async def read_sse(response: aiohttp.ClientResponse) -> AsyncIterator[str]:
    """The ``data`` of each SSE event from ``response`` until ``event: done`` (a minimal reader for the demo)."""
    event: list[str] = []
    name = ""
    async for raw in response.content:
        line = raw.decode().rstrip("\r\n")
        if line.startswith("event:"):
            name = line[6:].strip()
        elif line.startswith("data:"):
            event.append(line[5:].removeprefix(" "))
        elif not line:
            if name == "done":
                return
            if event:
                yield "\n".join(event)
            event, name = [], ""


async def main() -> None:
    async with serve(create_app(open_client)) as url, aiohttp.ClientSession() as http:
        async with http.get(f"{url}/chat/sse", params={"q": "Stream three words"}) as response:
            print("SSE: ", "".join([token async for token in read_sse(response)]))
        async with http.get(f"{url}/chat/text", params={"q": "And three more"}) as response:
            print("text:", await response.text())


if __name__ == "__main__":
    asyncio.run(main())
