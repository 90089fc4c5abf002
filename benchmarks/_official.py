"""The official ``openai`` SDK, with its default httpx transport or with ``DefaultAioHttpClient`` (aiohttp).

Written exactly as its README shows; nothing is tuned. ``embeddings(b64=True)`` leaves ``encoding_format``
out, which is the SDK's own base64 path (it asks for base64 and decodes to floats itself).
"""

from __future__ import annotations

import os
from typing import Any

import openai
from _floor import bulk_by_hand  # the same hand-written loop as the floor's

AIOHTTP = os.environ.get("BENCH_OPENAI_TRANSPORT") == "aiohttp"


def _client(base_url: str, http_client: Any = None) -> openai.AsyncOpenAI:
    if http_client is None and AIOHTTP:
        http_client = openai.DefaultAioHttpClient()
    if http_client is None:
        return openai.AsyncOpenAI(api_key="x", base_url=base_url)
    return openai.AsyncOpenAI(api_key="x", base_url=base_url, http_client=http_client)


class Client:
    def __init__(self, base_url: str) -> None:
        self.client = _client(base_url)

    async def close(self) -> None:
        await self.client.close()

    async def chat(self, model: str, messages: list[Any]) -> str | None:
        completion = await self.client.chat.completions.create(model=model, messages=messages)
        return completion.choices[0].message.content

    async def chat_stream(self, model: str, messages: list[Any]) -> int:
        n = 0
        stream = await self.client.chat.completions.create(model=model, messages=messages, stream=True)
        async with stream:
            async for chunk in stream:
                if chunk.choices:
                    content = chunk.choices[0].delta.content
                    if content:
                        n += len(content)
        return n

    async def chat_helper(self, model: str, messages: list[Any]) -> int:
        n = 0
        async with self.client.chat.completions.stream(model=model, messages=messages) as stream:
            async for event in stream:
                if event.type == "content.delta":
                    n += len(event.delta)
        return n

    async def responses_stream(self, model: str, input: str) -> int:
        n = 0
        stream = await self.client.responses.create(model=model, input=input, stream=True)
        async with stream:
            async for event in stream:
                if event.type == "response.output_text.delta":
                    n += len(event.delta)
        return n

    async def responses_helper(self, model: str, input: str) -> int:
        n = 0
        async with self.client.responses.stream(model=model, input=input) as stream:
            async for event in stream:
                if event.type == "response.output_text.delta":
                    n += len(event.delta)
        return n

    async def bulk(self, model: str, messages: list[Any], n: int, concurrency: int, path: str) -> int:
        return await bulk_by_hand(lambda: self.chat(model, messages), n, concurrency, path)

    async def upload(self, path: str) -> str:
        with open(path, "rb") as f:  # noqa: ASYNC230 (how the SDK's users pass a file)
            return (await self.client.files.create(file=f, purpose="batch")).id

    async def embeddings(self, model: str, input: list[str], b64: bool) -> list[list[float]]:
        if b64:
            result = await self.client.embeddings.create(model=model, input=input)
        else:
            result = await self.client.embeddings.create(model=model, input=input, encoding_format="float")
        return [e.embedding for e in result.data]


class Decoder:
    """The whole SDK call path over an in-process ``httpx2.MockTransport`` that returns the canned bytes."""

    def __init__(self, b64: bool) -> None:
        import httpx2

        self.body = b""
        self.b64 = b64

        def handler(request: httpx2.Request) -> httpx2.Response:
            return httpx2.Response(200, content=self.body, headers={"content-type": "application/json"})

        self.client = Client.__new__(Client)
        self.client.client = _client(
            "http://127.0.0.1:9/v1", http_client=httpx2.AsyncClient(transport=httpx2.MockTransport(handler))
        )

    async def decode(self, data: bytes) -> list[list[float]]:
        self.body = data
        return await self.client.embeddings("text-embedding-3-small", ["x"], self.b64)

    async def close(self) -> None:
        await self.client.close()


def construct(base_url: str) -> openai.AsyncOpenAI:
    return _client(base_url)


async def destroy(obj: openai.AsyncOpenAI) -> None:
    await obj.close()
