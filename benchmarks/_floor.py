"""The floor: the cheapest reasonable hand-written aiohttp + msgspec code doing the same work as an SDK call.

One ``ClientSession`` with a generous connector limit, a msgspec-encoded request body, ``await resp.read()``
decoded into hand-written Structs holding only what a user reads. Streams split the raw chunks on ``\\n``
and decode each ``data:`` payload into a small Struct. No retries, no error mapping, no SSE generality
(``event:`` lines and ``\\r\\n`` handling are skipped): this is the cost floor an SDK is measured against.
"""

from __future__ import annotations

import array
import asyncio
import base64
from collections.abc import AsyncIterable, Awaitable, Callable
from typing import Any

import aiohttp
import msgspec


class Message(msgspec.Struct):
    role: str
    content: str | None = None


class Choice(msgspec.Struct):
    index: int
    message: Message
    finish_reason: str | None = None


class Usage(msgspec.Struct):
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int


class ChatCompletion(msgspec.Struct):
    id: str
    model: str
    choices: list[Choice]
    usage: Usage | None = None


class Delta(msgspec.Struct):
    content: str | None = None


class ChunkChoice(msgspec.Struct):
    index: int
    delta: Delta
    finish_reason: str | None = None


class ChatCompletionChunk(msgspec.Struct):
    id: str
    choices: list[ChunkChoice]


class ResponseEvent(msgspec.Struct):
    type: str
    delta: str | None = None


class Embedding(msgspec.Struct):
    index: int
    embedding: list[float]


class EmbeddingB64(msgspec.Struct):
    index: int
    embedding: str


class EmbeddingsFloat(msgspec.Struct):
    data: list[Embedding]
    model: str


class EmbeddingsB64(msgspec.Struct):
    data: list[EmbeddingB64]
    model: str


class FileObject(msgspec.Struct):
    id: str
    bytes: int


class ChatRequest(msgspec.Struct, omit_defaults=True):
    model: str
    messages: list[dict[str, str]]
    stream: bool = False


class ResponsesRequest(msgspec.Struct, omit_defaults=True):
    model: str
    input: str
    stream: bool = False


class EmbeddingsRequest(msgspec.Struct):
    model: str
    input: list[str]
    encoding_format: str


_encode = msgspec.json.Encoder().encode
_chat_dec = msgspec.json.Decoder(ChatCompletion)
_chunk_dec = msgspec.json.Decoder(ChatCompletionChunk)
_event_dec = msgspec.json.Decoder(ResponseEvent)
_emb_float_dec = msgspec.json.Decoder(EmbeddingsFloat)
_emb_b64_dec = msgspec.json.Decoder(EmbeddingsB64)
_file_dec = msgspec.json.Decoder(FileObject)


def _b64_floats(s: str) -> list[float]:
    return array.array("f", base64.b64decode(s)).tolist()


class Client:
    """What a careful user would write by hand; the interface every contestant implements."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=1000))
        self.headers = {"Authorization": "Bearer x", "Content-Type": "application/json"}

    async def close(self) -> None:
        await self.session.close()

    async def _post(self, path: str, body: bytes) -> bytes:
        async with self.session.post(self.base_url + path, data=body, headers=self.headers) as resp:
            if resp.status != 200:
                raise RuntimeError(f"HTTP {resp.status}")
            return await resp.read()

    async def chat(self, model: str, messages: list[dict[str, str]]) -> str | None:
        data = await self._post("/chat/completions", _encode(ChatRequest(model=model, messages=messages)))
        return _chat_dec.decode(data).choices[0].message.content

    async def chat_stream(self, model: str, messages: list[dict[str, str]]) -> int:
        body = _encode(ChatRequest(model=model, messages=messages, stream=True))
        async with self.session.post(
            self.base_url + "/chat/completions", data=body, headers=self.headers
        ) as resp:
            if resp.status != 200:
                raise RuntimeError(f"HTTP {resp.status}")
            return await chat_stream_chars(resp.content.iter_any())

    async def responses_stream(self, model: str, input: str) -> int:
        body = _encode(ResponsesRequest(model=model, input=input, stream=True))
        async with self.session.post(self.base_url + "/responses", data=body, headers=self.headers) as resp:
            if resp.status != 200:
                raise RuntimeError(f"HTTP {resp.status}")
            return await responses_stream_chars(resp.content.iter_any())

    # The floor has no helper layer: the helper scenarios run the raw streams.
    responses_helper = responses_stream
    chat_helper = chat_stream

    async def embeddings(self, model: str, input: list[str], b64: bool) -> list[list[float]]:
        body = _encode(
            EmbeddingsRequest(model=model, input=input, encoding_format="base64" if b64 else "float")
        )
        return decode_embeddings(await self._post("/embeddings", body), b64)

    async def upload(self, path: str) -> str:
        with open(path, "rb") as f:  # noqa: ASYNC230 (aiohttp streams the open file)
            form = aiohttp.FormData()
            form.add_field("purpose", "batch")
            form.add_field("file", f, filename="upload.bin", content_type="application/octet-stream")
            async with self.session.post(self.base_url + "/files", data=form,
                                         headers={"Authorization": "Bearer x"}) as resp:
                if resp.status != 200:
                    raise RuntimeError(f"HTTP {resp.status}")
                return _file_dec.decode(await resp.read()).id

    async def bulk(self, model: str, messages: list[dict[str, str]], n: int, concurrency: int, path: str) -> int:
        return await bulk_by_hand(lambda: self.chat(model, messages), n, concurrency, path)

async def bulk_by_hand(chat: Callable[[], Awaitable[Any]], n: int, concurrency: int, path: str) -> int:
    """What a careful user writes without a runner: a semaphore, one JSON line appended per result."""
    limit = asyncio.Semaphore(concurrency)
    done = 0
    with open(path, "ab") as out:  # noqa: ASYNC230 (appends are what such a loop does)

        async def one(i: int) -> None:
            nonlocal done
            async with limit:
                content = await chat()
            out.write(_line(f"req-{i}", content))
            done += 1

        await asyncio.gather(*(one(i) for i in range(n)))
    return done


def _line(custom_id: str, content: Any) -> bytes:
    return msgspec.json.encode({"custom_id": custom_id, "content": content}) + b"\n"


async def chat_stream_chars(chunks: AsyncIterable[bytes]) -> int:
    """The floor's SSE loop: split raw chunks on LF, decode each ``data:`` payload; the text length seen."""
    n = 0
    rest = b""
    async for data in chunks:
        lines = (rest + data).split(b"\n")
        rest = lines.pop()
        for line in lines:
            if line[:6] == b"data: ":
                payload = line[6:]
                if payload == b"[DONE]":
                    return n
                chunk = _chunk_dec.decode(payload)
                if chunk.choices:
                    content = chunk.choices[0].delta.content
                    if content:
                        n += len(content)
    raise RuntimeError("stream ended without [DONE]")


async def responses_stream_chars(chunks: AsyncIterable[bytes]) -> int:
    """The same for a Responses stream (``event:`` lines skipped); the delta text length seen."""
    n = 0
    completed = False
    rest = b""
    async for data in chunks:
        lines = (rest + data).split(b"\n")
        rest = lines.pop()
        for line in lines:
            if line[:6] == b"data: ":
                event = _event_dec.decode(line[6:])
                if event.type == "response.output_text.delta":
                    n += len(event.delta or "")
                elif event.type == "response.completed":
                    completed = True
    if not completed:
        raise RuntimeError("stream ended without response.completed")
    return n


def decode_embeddings(data: bytes, b64: bool) -> list[list[float]]:
    """Bytes of a CreateEmbeddingResponse -> the vectors, as lists of floats."""
    if b64:
        return [_b64_floats(e.embedding) for e in _emb_b64_dec.decode(data).data]
    return [e.embedding for e in _emb_float_dec.decode(data).data]


class Decoder:
    """In-process decode of canned bytes: nothing but the decode in the loop."""

    def __init__(self, b64: bool) -> None:
        self.b64 = b64

    async def decode(self, data: bytes) -> list[list[float]]:
        return decode_embeddings(data, self.b64)

    async def close(self) -> None:
        pass


def construct(base_url: str) -> aiohttp.ClientSession:
    return aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=1000))


async def destroy(obj: aiohttp.ClientSession) -> None:
    await obj.close()
