"""openai_async, written the way its README shows (drop-in for the official SDK's async client)."""

from __future__ import annotations

import array
import base64
from pathlib import Path
from typing import Any

from openai_async import AsyncOpenAI, run_bulk


def _vector(embedding: Any) -> list[float]:
    # A base64 embedding the client hands back as text is decoded the way the user would do it.
    if isinstance(embedding, str):
        return array.array("f", base64.b64decode(embedding)).tolist()
    return embedding  # type: ignore[no-any-return]


class Client:
    def __init__(self, base_url: str) -> None:
        self.client = AsyncOpenAI(api_key="x", base_url=base_url)

    async def close(self) -> None:
        await self.client.close()

    async def chat(self, model: str, messages: list[Any]) -> str | None:
        completion = await self.client.chat.completions.create(model=model, messages=messages)
        return completion.choices[0].message.content  # type: ignore[no-any-return]

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
        lines = ({"custom_id": f"req-{i}", "method": "POST", "url": "/v1/chat/completions",
                  "body": {"model": model, "messages": messages}} for i in range(n))
        summary = await run_bulk(self.client, lines, concurrency=concurrency, results_path=path, progress=False,
                                 total=n)
        return summary.succeeded  # type: ignore[no-any-return]

    async def upload(self, path: str) -> str:
        return (await self.client.files.create(file=Path(path), purpose="batch")).id  # type: ignore[no-any-return]

    async def embeddings(self, model: str, input: list[str], b64: bool) -> list[list[float]]:
        # base64: encoding_format left out, as in the official SDK row (the default asks base64, returns floats)
        if b64:
            result = await self.client.embeddings.create(model=model, input=input)
        else:
            result = await self.client.embeddings.create(model=model, input=input, encoding_format="float")
        return [_vector(e.embedding) for e in result.data]


def _embedding_type() -> Any:
    try:
        import openai_async.types as types
    except ImportError:
        types = None
    found = getattr(types, "CreateEmbeddingResponse", None)
    if found is None:
        raise RuntimeError("openai_async.types has no CreateEmbeddingResponse yet")
    return found


class Decoder:
    """The client's decode step on the canned bytes: ``_decode.decode(data, CreateEmbeddingResponse)``.

    openai_async has no in-process transport to run the whole call on, so this is the decode alone (the
    request-building part of a call is a few microseconds against a decode of many milliseconds).
    """

    def __init__(self, b64: bool) -> None:
        from openai_async._core.decode import decode

        self._decode = decode
        self._type = _embedding_type()

    async def decode(self, data: bytes) -> list[list[float]]:
        from openai_async._helpers.embeddings import decode_base64_embeddings

        return [e.embedding for e in decode_base64_embeddings(self._decode(data, self._type)).data]

    async def close(self) -> None:
        pass


def construct(base_url: str) -> AsyncOpenAI:
    return AsyncOpenAI(api_key="x", base_url=base_url)


async def destroy(obj: AsyncOpenAI) -> None:
    await obj.close()
