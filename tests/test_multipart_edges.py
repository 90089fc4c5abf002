"""Multipart uploads as users write them: nested fields, flags and files that cannot be rewound, on 127.0.0.1.

The text fields are compared with what the official SDK sends for the same call; file parts are checked by their
bytes, on the first attempt and on a retry.
"""

from __future__ import annotations

import io
import os
from typing import Any

import anyio
import pytest
from aiohttp import web

from openai_async import AsyncOpenAI, RetryPolicy

from ._drip import SDKS, make_client
from ._server import routes, serve

pytestmark = pytest.mark.anyio

Part = tuple[str, str | None, bytes]


def recording(parts: list[list[Part]], *, fail_first: bool = False) -> Any:
    """A transcription endpoint that records each request's parts; ``fail_first`` answers the first with a 500."""

    async def handler(request: web.Request) -> web.Response:
        got: list[Part] = []
        async for part in await request.multipart():
            got.append((part.name or "", part.filename, await part.read()))  # type: ignore[union-attr]
        parts.append(got)
        if fail_first and len(parts) == 1:
            return web.json_response({"error": {"message": "try again"}}, status=500)
        return web.json_response({"text": "hello"})

    return handler


@pytest.mark.parametrize("sdk", SDKS)
async def test_nested_fields_lists_and_flags_are_sent_as_the_official_sdk_sends_them(sdk: str) -> None:
    """A dict field goes as ``name[key]`` parts, a list as ``name[]``, booleans as true/false, None not at all."""
    parts: list[list[Part]] = []
    app = routes(("POST", "/v1/audio/transcriptions", recording(parts)))
    with anyio.fail_after(10):
        async with serve(app) as url, make_client(sdk, url) as client:
            result = await client.audio.transcriptions.create(
                file=("a.wav", b"RIFF....", "audio/wav"),
                model="gpt-4o-transcribe",
                chunking_strategy={"type": "server_vad", "threshold": 0.5, "prefix_padding_ms": None},
                include=["logprobs"],
                timestamp_granularities=["word", "segment"],
                temperature=0,
                stream=False,
            )
    assert result.text == "hello"
    (sent,) = parts
    fields = [(name, value.decode()) for name, filename, value in sent if filename is None]
    assert sorted(fields) == sorted(
        [
            ("model", "gpt-4o-transcribe"),
            ("chunking_strategy[type]", "server_vad"),
            ("chunking_strategy[threshold]", "0.5"),
            ("include[]", "logprobs"),
            ("timestamp_granularities[]", "word"),
            ("timestamp_granularities[]", "segment"),
            ("temperature", "0"),
            ("stream", "false"),
        ]
    )
    assert [(name, filename, value) for name, filename, value in sent if filename] == [
        ("file", "a.wav", b"RIFF....")
    ]


async def test_a_pipe_is_uploaded_whole_and_sent_again_whole_on_a_retry() -> None:
    """A file object that cannot be rewound (a pipe) is accepted, and a retry sends the same bytes again."""
    audio = os.urandom(50_000)  # fits in the pipe's buffer: written whole before the upload reads it
    read_end, write_end = os.pipe()
    os.write(write_end, audio)
    os.close(write_end)
    parts: list[list[Part]] = []
    app = routes(("POST", "/v1/audio/transcriptions", recording(parts, fail_first=True)))
    with anyio.fail_after(10), open(read_end, "rb") as pipe:
        async with serve(app) as url:
            async with AsyncOpenAI(api_key="sk-test", base_url=url, retry=RetryPolicy.instant()) as client:
                result = await client.audio.transcriptions.create(file=("a.wav", pipe), model="whisper-1")
    assert result.text == "hello"
    assert len(parts) == 2
    for sent in parts:
        assert [(name, value) for name, filename, value in sent if filename] == [("file", audio)]


async def test_an_open_file_is_rewound_for_a_retry_from_where_it_stood() -> None:
    """An open file read past its start is sent from that position, on the first attempt and on the retry."""
    buffer = io.BytesIO(b"HEADER" + b"body-bytes")
    buffer.seek(6)
    parts: list[list[Part]] = []
    app = routes(("POST", "/v1/audio/transcriptions", recording(parts, fail_first=True)))
    with anyio.fail_after(10):
        async with serve(app) as url:
            async with AsyncOpenAI(api_key="sk-test", base_url=url, retry=RetryPolicy.instant()) as client:
                await client.audio.transcriptions.create(file=buffer, model="whisper-1")
    assert [
        [(name, filename, value) for name, filename, value in sent if name == "file"] for sent in parts
    ] == [[("file", "upload", b"body-bytes")]] * 2


class _ReadOnly:
    """A file-like object that can only be read (a decompressor, a generator adapter): no seek, tell or seekable."""

    def __init__(self, data: bytes) -> None:
        self._data = data

    def read(self, size: int = -1) -> bytes:
        end = len(self._data) if size is None or size < 0 else size
        chunk, self._data = self._data[:end], self._data[end:]
        return chunk


async def test_a_read_only_file_like_object_is_uploaded_and_sent_again_on_a_retry() -> None:
    """An object with only read() is accepted as a file; a retry sends the same bytes again."""
    parts: list[list[Part]] = []
    app = routes(("POST", "/v1/audio/transcriptions", recording(parts, fail_first=True)))
    with anyio.fail_after(10):
        async with serve(app) as url:
            async with AsyncOpenAI(api_key="sk-test", base_url=url, retry=RetryPolicy.instant()) as client:
                await client.audio.transcriptions.create(file=_ReadOnly(b"chunked audio"), model="whisper-1")  # type: ignore[arg-type]
    assert [[(name, value) for name, filename, value in sent if filename] for sent in parts] == [
        [("file", b"chunked audio")]
    ] * 2
