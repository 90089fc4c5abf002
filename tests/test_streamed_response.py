"""openai_async's own guarantees for response objects, beyond what the differential suite compares: text decoding
across chunk boundaries, rate-limit settlement of streamed responses, credential masking and reprs."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import anyio
import pytest
from aiohttp import web

from openai_async import AsyncOpenAI, BinaryResponse
from openai_async._core.streamed import StreamAlreadyConsumed

from ._drip import body_handler, sse_handler
from ._server import routes, serve

pytestmark = pytest.mark.anyio

COMPLETION = {
    "id": "chatcmpl-1",
    "object": "chat.completion",
    "created": 1,
    "model": "gpt-4o",
    "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": "Hi"}}],
    "usage": {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5},
}


class Recorder:
    """A rate-limit hook that records what it is told."""

    def __init__(self) -> None:
        self.settled: list[int | None] = []

    async def acquire(self, method: str, path: str, body: Any) -> Any:
        return path

    def observe(self, lease: Any, status: int | None, headers: Mapping[str, str] | None) -> None:
        pass

    def settle(self, lease: Any, total_tokens: int | None) -> None:
        self.settled.append(total_tokens)


def pieces_handler(pieces: list[bytes], content_type: str) -> Any:
    """A handler writing ``pieces`` one write each, so chunk boundaries fall where the test wants them."""

    async def handler(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": content_type})
        await response.prepare(request)
        for piece in pieces:
            await response.write(piece)
            await anyio.sleep(0.01)
        await response.write_eof()
        return response

    return handler


async def test_text_and_lines_survive_split_characters_and_crlf() -> None:
    """A UTF-8 character and a CRLF split across reads decode whole; \\r alone ends a line too."""
    pieces = ["é".encode()[:1], "é".encode()[1:] + b"a\r", b"\nb\rc\n", b"\xe2\x82", b"\xac"]
    app = routes(("GET", "/v1/files/f/content", pieces_handler(pieces, "text/plain; charset=utf-8")))
    async with serve(app) as url, AsyncOpenAI(api_key="sk-test", base_url=url, max_retries=0) as client:
        async with client.files.with_streaming_response.content("f") as response:
            lines = [line async for line in response.iter_lines()]
        async with client.files.with_streaming_response.content("f") as response:
            text = [t async for t in response.iter_text(2)]
    assert lines == ["éa", "b", "c", "€"]
    assert "".join(text) == "éa\r\nb\rc\n€" and all(len(t) == 2 for t in text[:-1])


async def test_iterating_twice_raises_stream_already_consumed() -> None:
    """A second iter_bytes() after the body was streamed raises StreamAlreadyConsumed; read() first allows both."""
    app = routes(("GET", "/v1/files/f/content", body_handler(b"abc" * 100)))
    async with serve(app) as url, AsyncOpenAI(api_key="sk-test", base_url=url, max_retries=0) as client:
        async with client.files.with_streaming_response.content("f") as response:
            assert b"".join([c async for c in response.iter_bytes()]) == b"abc" * 100
            with pytest.raises(StreamAlreadyConsumed):
                async for _ in response.iter_bytes():
                    pass
            assert response.is_closed
        async with client.files.with_streaming_response.content("f") as response:
            assert await response.read() == b"abc" * 100
            assert b"".join([c async for c in response.iter_bytes(7)]) == b"abc" * 100


async def test_streamed_responses_settle_the_rate_limit_lease() -> None:
    """A parsed JSON body settles with its usage, an unparsed one with None, an SSE stream at its end."""
    chunks = [
        {
            "id": "c",
            "object": "chat.completion.chunk",
            "created": 1,
            "model": "m",
            "choices": [{"index": 0, "delta": {"content": "x"}}],
        },
        {
            "id": "c",
            "object": "chat.completion.chunk",
            "created": 1,
            "model": "m",
            "choices": [],
            "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 7},
        },
    ]
    app = routes(
        ("POST", "/v1/chat/completions", body_handler(COMPLETION)),
        ("POST", "/v1/completions", sse_handler(chunks)),
    )
    limiter = Recorder()
    async with (
        serve(app) as url,
        AsyncOpenAI(api_key="sk-test", base_url=url, max_retries=0, rate_limiter=limiter) as client,
    ):
        completions = client.chat.completions.with_streaming_response
        async with completions.create(model="m", messages=[]) as response:
            await response.parse()
        async with completions.create(model="m", messages=[]) as response:
            pass
        async with client.with_streaming_response.completions.create(model="m", prompt="p", stream=True) as r:
            assert len([c async for c in await r.parse()]) == 2
    assert limiter.settled == [5, None, 7]


async def test_request_headers_mask_every_credential() -> None:
    """http_request.headers masks Authorization, api-key (Azure) and cookies, and keeps the rest."""
    app = routes(
        ("GET", "/v1/models/m", body_handler({"id": "m", "object": "model", "created": 1, "owned_by": "o"}))
    )
    async with serve(app) as url, AsyncOpenAI(api_key="sk-live-1234", base_url=url, max_retries=0) as client:
        raw = await client.models.with_raw_response.retrieve(
            "m", extra_headers={"api-key": "azure-secret", "Cookie": "session=1", "X-Trace": "t1"}
        )
    headers = raw.http_request.headers
    assert (headers["Authorization"], headers["api-key"], headers["Cookie"]) == ("Bearer ***", "***", "***")
    assert headers["X-Trace"] == "t1"
    assert "sk-live-1234" not in repr(raw) + repr(raw.http_request) + repr(dict(headers))
    assert repr(raw) == f"<RawResponse [200 OK] GET {url}/models/m>"


async def test_binary_response_shortcuts() -> None:
    """BinaryResponse: aiter_bytes() also without await, iter_text in chunks, repr with the size."""
    app = routes(("POST", "/v1/audio/speech", body_handler(b"0123456789", content_type="audio/mpeg")))
    async with serve(app) as url, AsyncOpenAI(api_key="sk-test", base_url=url, max_retries=0) as client:
        speech = await client.audio.speech.create(model="tts-1", voice="alloy", input="x")
    assert isinstance(speech, BinaryResponse)
    assert [c async for c in speech.aiter_bytes(4)] == [b"0123", b"4567", b"89"]
    assert list(speech.iter_text(5)) == ["01234", "56789"]
    assert speech.rate_limits.limit_requests is None
    assert repr(speech) == "<BinaryResponse [200] audio/mpeg 10 bytes>"
