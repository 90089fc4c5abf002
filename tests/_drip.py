"""Differential-test kit: loopback bodies sent the way a model sends them, and both SDKs on the same server.

A differential test writes the user's line once, as the official SDK's docs show it, and runs it against the
official ``openai.AsyncOpenAI`` (pinned in the dev extra) and against ``openai_async.AsyncOpenAI``::

    @pytest.mark.parametrize("sdk", SDKS)
    @pytest.mark.parametrize("mode", MODES)
    async def test_inline_stream(sdk: str, mode: str) -> None:
        app = routes(("POST", "/v1/chat/completions", sse_handler(chunks, mode=mode)))
        async with serve(app) as url, make_client(sdk, url) as client:
            out = [c.choices[0].delta.content async for c in await client.chat.completions.create(...)]
        assert out == [...]

``mode`` says how the body reaches the socket: ``"events"`` one SSE event per write with a pause (as a model
streams), ``"bytes"`` one byte per write, ``"whole"`` everything in one write.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping
from typing import Any, Literal

import anyio
import anyio.lowlevel
import msgspec
from aiohttp import web

SDKS = ("official", "ours")
MODES = ("events", "bytes", "whole")
Mode = Literal["events", "bytes", "whole"]
Event = Mapping[str, Any] | str | bytes | tuple[str, Mapping[str, Any] | str]
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def sse_pieces(events: Iterable[Event], *, done: bool = True) -> list[bytes]:
    """One wire piece per event: a dict is JSON data, ``(name, data)`` adds an ``event:`` line, bytes go as given.

    ``done`` appends ``data: [DONE]`` (chat and completions streams end with it; Responses streams do not).
    """
    pieces = []
    for event in events:
        if isinstance(event, bytes):
            pieces.append(event)
            continue
        name, data = event if isinstance(event, tuple) else (None, event)
        payload = data if isinstance(data, str) else msgspec.json.encode(data).decode()
        head = f"event: {name}\n" if name else ""
        pieces.append(f"{head}data: {payload}\n\n".encode())
    if done:
        pieces.append(b"data: [DONE]\n\n")
    return pieces


async def send_pieces(
    response: web.StreamResponse, pieces: Iterable[bytes], mode: Mode, pause: float
) -> None:
    """Write ``pieces`` to a prepared response as ``mode`` says (see the module docstring)."""
    if mode == "whole":
        await response.write(b"".join(pieces))
    elif mode == "events":
        for piece in pieces:
            await response.write(piece)
            await anyio.sleep(pause)
    else:
        for piece in pieces:
            for i in range(len(piece)):
                await response.write(piece[i : i + 1])
                await anyio.lowlevel.checkpoint()
    await response.write_eof()


def sse_handler(
    events: Iterable[Event],
    *,
    mode: Mode = "events",
    pause: float = 0.01,
    done: bool = True,
    status: int = 200,
    headers: Mapping[str, str] | None = None,
) -> Handler:
    """An aiohttp handler that streams ``events`` as Server-Sent Events, dripped as ``mode`` says."""
    pieces = sse_pieces(events, done=done)

    async def handler(request: web.Request) -> web.StreamResponse:
        await request.read()
        response = web.StreamResponse(
            status=status,
            headers={"Content-Type": "text/event-stream", "x-request-id": "req_drip", **(headers or {})},
        )
        await response.prepare(request)
        await send_pieces(response, pieces, mode, pause)
        return response

    return handler


def body_handler(
    body: bytes | Mapping[str, Any],
    *,
    mode: Mode = "whole",
    pause: float = 0.01,
    chunk: int = 1024,
    status: int = 200,
    content_type: str | None = None,
    headers: Mapping[str, str] | None = None,
) -> Handler:
    """An aiohttp handler answering with ``body`` (a dict is sent as JSON), in ``chunk``-byte writes for ``events``."""
    data = body if isinstance(body, bytes) else msgspec.json.encode(body)
    ctype = content_type or ("application/octet-stream" if isinstance(body, bytes) else "application/json")
    pieces = [data[i : i + chunk] for i in range(0, len(data), chunk)] or [b""]

    async def handler(request: web.Request) -> web.StreamResponse:
        await request.read()
        response = web.StreamResponse(
            status=status, headers={"Content-Type": ctype, "x-request-id": "req_drip", **(headers or {})}
        )
        response.content_length = len(data)
        await response.prepare(request)
        await send_pieces(response, pieces, mode, pause)
        return response

    return handler


@contextlib.asynccontextmanager
async def make_client(sdk: str, base_url: str, **kwargs: Any) -> AsyncIterator[Any]:
    """The official ``openai.AsyncOpenAI`` or ours, pointed at ``base_url`` with a test key and no retries."""
    kwargs.setdefault("api_key", "sk-test")
    kwargs.setdefault("max_retries", 0)
    if sdk == "official":
        import openai

        client: Any = openai.AsyncOpenAI(base_url=base_url, **kwargs)
    elif sdk == "ours":
        import openai_async

        client = openai_async.AsyncOpenAI(base_url=base_url, **kwargs)
    else:
        raise ValueError(f"sdk must be one of {SDKS}, got {sdk!r}")
    async with client:
        yield client
