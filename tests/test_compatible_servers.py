"""What docs/compatible-servers.md promises for servers that speak OpenAI's format loosely (llama.cpp, vLLM, Ollama)."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp import web

import openai_async

from ._drip import MODES, Mode, send_pieces
from ._server import routes, serve

pytestmark = pytest.mark.anyio

LOOSE_STREAM = [
    b": keep-alive\r\n\r\n",
    b'data:{"choices":[{"index":0,"delta":{"role":"assistant","content":"Hel"}}],"timings":{"predicted_ms":1.5}}\r\n\r\n',
    b'data: {"object":"chat.completion.chunk","model":"llama","choices":[{"index":0,"delta":{"content":"lo"},'
    b'"finish_reason":"stop"}]}\n\n',
]


def _app(mode: Mode, *, done: bool) -> web.Application:
    async def handler(request: web.Request) -> web.StreamResponse:
        body = await request.json()
        if body["model"] == "detail":
            return web.json_response({"detail": "model not loaded"}, status=404)
        if body["model"] == "html":
            return web.Response(text="<h1>Bad Gateway</h1>", status=502, content_type="text/html")
        if not body.get("stream"):
            return web.json_response(
                {
                    "choices": [
                        {
                            "index": 0,
                            "message": {"role": "assistant", "content": "hi"},
                            "finish_reason": "stop",
                        }
                    ],
                    "timings": {"predicted_ms": 1.0},
                }
            )
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await response.prepare(request)
        await send_pieces(response, LOOSE_STREAM + ([b"data: [DONE]\n\n"] if done else []), mode, 0.005)
        return response

    return routes(("POST", "/v1/chat/completions", handler))


async def _client(url: str) -> Any:
    return openai_async.AsyncOpenAI(base_url=url, api_key="none", max_retries=0)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("done", [True, False])
async def test_loose_stream_decodes(mode: Mode, done: bool) -> None:
    """Comments, data: without a space, CRLF, chunks without id/created, and no [DONE] all stream cleanly."""
    async with serve(_app(mode, done=done)) as url, await _client(url) as client:
        stream = await client.chat.completions.create(
            model="llama", messages=[{"role": "user", "content": "x"}], stream=True
        )
        async with stream:
            chunks = [chunk async for chunk in stream]
    assert [c.choices[0].delta.content for c in chunks] == ["Hel", "lo"]
    assert chunks[0].id is None and stream.request_id is None


async def test_missing_fields_are_none_and_raw_body_keeps_server_extras() -> None:
    """A completion without id/created decodes; the server's own fields are readable through cast_to=dict."""
    async with serve(_app("whole", done=True)) as url, await _client(url) as client:
        body = {"model": "llama", "messages": [{"role": "user", "content": "x"}]}
        completion = await client.chat.completions.create(**body)
        raw = await client.post("/chat/completions", cast_to=dict, body=body)
    assert completion.choices[0].message.content == "hi" and completion.id is None
    assert raw["timings"] == {"predicted_ms": 1.0}


@pytest.mark.parametrize(
    ("model", "cls", "body"),
    [
        ("detail", openai_async.NotFoundError, {"detail": "model not loaded"}),
        ("html", openai_async.InternalServerError, "<h1>Bad Gateway</h1>"),
    ],
)
async def test_error_bodies_in_other_shapes(model: str, cls: type[Exception], body: Any) -> None:
    """Errors not in OpenAI's envelope raise the status's class with the body as sent and no code."""
    async with serve(_app("whole", done=True)) as url, await _client(url) as client:
        with pytest.raises(cls) as info:
            await client.chat.completions.create(model=model, messages=[{"role": "user", "content": "x"}])
    err: Any = info.value
    assert err.body == body and err.code is None and err.message.startswith(f"Error code: {err.status_code}")
