"""Response objects, differentially: the official SDK's user lines run unchanged against ``openai.AsyncOpenAI`` and
``openai_async.AsyncOpenAI`` on the same loopback server, and both must show the user the same thing.

Covers binary bodies (read, as ``HttpxBinaryResponseContent``), ``with_streaming_response`` (JSON, binary and SSE,
every namespace form), ``with_raw_response`` (HTTP facts, ``parse()``) and ``_request_id`` on results.
"""

from __future__ import annotations

import datetime
import json
import os
import tracemalloc
import warnings
from typing import Any

import anyio
import pytest
from aiohttp import web

from ._drip import MODES, SDKS, body_handler, make_client, sse_handler
from ._server import routes, serve

pytestmark = pytest.mark.anyio

AUDIO = bytes(range(256)) * 40  # 10 KiB, every byte value
TEXT_FILE = b"line one\nline two\r\nline three\n\nlast line without end"
COMPLETION = {
    "id": "chatcmpl-1",
    "object": "chat.completion",
    "created": 1,
    "model": "gpt-4o",
    "choices": [
        {"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": "Hi there"}}
    ],
    "usage": {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5},
}
FILE = {
    "id": "file-1",
    "object": "file",
    "bytes": 3,
    "created_at": 1,
    "filename": "a.jsonl",
    "purpose": "batch",
    "status": "processed",
}
EMBEDDING = {
    "object": "list",
    "model": "text-embedding-3-small",
    "usage": {"prompt_tokens": 1, "total_tokens": 1},
    "data": [{"object": "embedding", "index": 0, "embedding": [0.5, -0.25]}],
}
CHUNKS = [
    {
        "id": "c1",
        "object": "chat.completion.chunk",
        "created": 1,
        "model": "gpt-4o",
        "choices": [{"index": 0, "delta": {"role": "assistant", "content": piece}, "finish_reason": None}],
    }
    for piece in ("Hel", "lo", "!")
]
MESSAGES = [{"role": "user", "content": "Say hi"}]


def chunk_size(mode: str) -> int:
    """Write size for ``body_handler``: small pieces when dripping, so bodies cross many reads."""
    return 1 if mode == "bytes" else 333


# -- 4. binary bodies: read already, as the official HttpxBinaryResponseContent ------------------------------


@pytest.mark.parametrize("sdk", SDKS)
@pytest.mark.parametrize("mode", MODES)
async def test_speech_body_is_read_and_readable_every_way(sdk: str, mode: str, tmp_path: Any) -> None:
    """audio.speech.create returns the whole audio: content, read(), aread(), iter/aiter_bytes, write_to_file."""
    body = AUDIO[:300] if mode == "bytes" else AUDIO
    app = routes(
        (
            "POST",
            "/v1/audio/speech",
            body_handler(body, mode=mode, chunk=chunk_size(mode), content_type="audio/mpeg"),
        )
    )
    async with serve(app) as url, make_client(sdk, url) as client:
        speech = await client.audio.speech.create(model="gpt-4o-mini-tts", voice="alloy", input="Hello")
        # the connection is back already: the body is in memory
        assert speech.content == body
        assert speech.read() == body
        assert await speech.aread() == body
        assert b"".join(speech.iter_bytes()) == body
        assert [len(c) for c in speech.iter_bytes(128)][:2] == [128, 128]
        assert b"".join([c async for c in await speech.aiter_bytes()]) == body
        assert speech.response.status_code == 200
        assert speech.response.headers["content-type"] == "audio/mpeg"
        assert speech.response.headers["x-request-id"] == "req_drip"
        if sdk == "ours":  # shortcuts the official object lacks
            assert (speech.status_code, speech.request_id) == (200, "req_drip")
        path = os.path.join(str(tmp_path), f"speech-{sdk}.mp3")
        speech.write_to_file(path)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)  # the official astream_to_file is deprecated
            await speech.astream_to_file(path + ".2")
        await speech.aclose()
    for written in (path, path + ".2"):
        assert await anyio.Path(written).read_bytes() == body


@pytest.mark.parametrize("sdk", SDKS)
@pytest.mark.parametrize("mode", MODES)
async def test_file_content_text_json_and_lines(sdk: str, mode: str) -> None:
    """files.content gives .text, .json() and iter_lines() of the body, whichever way it was dripped."""
    app = routes(
        (
            "GET",
            "/v1/files/file-t/content",
            body_handler(
                TEXT_FILE, mode=mode, chunk=chunk_size(mode), content_type="text/plain; charset=utf-8"
            ),
        ),
        (
            "GET",
            "/v1/files/file-j/content",
            body_handler({"a": [1, 2], "b": "é"}, mode=mode, chunk=chunk_size(mode)),
        ),
    )
    async with serve(app) as url, make_client(sdk, url) as client:
        text = await client.files.content("file-t")
        data = await client.files.content("file-j")
        assert text.text == TEXT_FILE.decode()
        assert list(text.iter_lines()) == ["line one", "line two", "line three", "", "last line without end"]
        assert [line async for line in await text.aiter_lines()] == list(text.iter_lines())
        assert "".join(text.iter_text()) == TEXT_FILE.decode()
        assert data.json() == {"a": [1, 2], "b": "é"}
        assert text.encoding == "utf-8"


@pytest.mark.parametrize("sdk", SDKS)
async def test_binary_error_raises_the_status_error(sdk: str) -> None:
    """A 404 on files.content raises NotFoundError with the server's message, not a BinaryResponse."""
    app = routes(
        (
            "GET",
            "/v1/files/nope/content",
            body_handler({"error": {"message": "No such file", "type": "invalid_request_error"}}, status=404),
        )
    )
    async with serve(app) as url, make_client(sdk, url) as client:
        with pytest.raises(Exception) as caught:
            await client.files.content("nope")
    assert type(caught.value).__name__ == "NotFoundError"
    assert caught.value.status_code == 404  # type: ignore[attr-defined]
    assert "No such file" in str(caught.value)


# -- 5. with_streaming_response --------------------------------------------------------------------------------


@pytest.mark.parametrize("sdk", SDKS)
@pytest.mark.parametrize("mode", MODES)
async def test_streaming_response_of_speech(sdk: str, mode: str, tmp_path: Any) -> None:
    """with_streaming_response.create: headers first, then stream_to_file / iter_bytes / read / parse."""
    body = AUDIO[:200] if mode == "bytes" else AUDIO
    app = routes(
        (
            "POST",
            "/v1/audio/speech",
            body_handler(body, mode=mode, chunk=chunk_size(mode), content_type="audio/mpeg"),
        )
    )
    path = os.path.join(str(tmp_path), f"stream-{sdk}.mp3")
    async with serve(app) as url, make_client(sdk, url) as client:
        speech = client.audio.speech
        async with speech.with_streaming_response.create(
            model="tts-1", voice="alloy", input="Hi"
        ) as response:
            assert response.status_code == 200
            assert response.headers["content-type"] == "audio/mpeg"
            assert response.http_request.method == "POST"
            assert str(response.http_request.url) == f"{url}/audio/speech"
            assert response.request_id == "req_drip"
            await response.stream_to_file(path)
        async with speech.with_streaming_response.create(
            model="tts-1", voice="alloy", input="Hi"
        ) as response:
            pieces = [chunk async for chunk in response.iter_bytes(64)]
            assert all(len(p) == 64 for p in pieces[:-1]) and b"".join(pieces) == body
        async with speech.with_streaming_response.create(
            model="tts-1", voice="alloy", input="Hi"
        ) as response:
            assert await response.read() == body
            assert await response.parse() == body
        async with speech.with_streaming_response.create(
            model="tts-1", voice="alloy", input="Hi"
        ) as response:
            assert await response.parse() == body
    assert await anyio.Path(path).read_bytes() == body


@pytest.mark.parametrize("sdk", SDKS)
@pytest.mark.parametrize("mode", MODES)
async def test_streaming_response_text_and_lines(sdk: str, mode: str) -> None:
    """iter_text() and iter_lines() rebuild the text across any chunking; text() and json() read it whole."""
    app = routes(
        (
            "GET",
            "/v1/files/file-t/content",
            body_handler(
                TEXT_FILE, mode=mode, chunk=chunk_size(mode), content_type="text/plain; charset=utf-8"
            ),
        ),
        ("GET", "/v1/files/file-j/content", body_handler({"k": "é"}, mode=mode, chunk=chunk_size(mode))),
    )
    async with serve(app) as url, make_client(sdk, url) as client:
        async with client.files.with_streaming_response.content("file-t") as response:
            assert "".join([t async for t in response.iter_text()]) == TEXT_FILE.decode()
        async with client.files.with_streaming_response.content("file-t") as response:
            lines = [line async for line in response.iter_lines()]
        assert lines == ["line one", "line two", "line three", "", "last line without end"]
        async with client.files.with_streaming_response.content("file-t") as response:
            assert await response.text() == TEXT_FILE.decode()
        async with client.files.with_streaming_response.content("file-j") as response:
            assert await response.json() == {"k": "é"}


@pytest.mark.parametrize("sdk", SDKS)
@pytest.mark.parametrize("form", ["method", "namespace", "client"])
async def test_streaming_response_of_json_in_every_namespace_form(sdk: str, form: str) -> None:
    """The three spellings of with_streaming_response give a response whose parse() is the typed completion."""
    app = routes(("POST", "/v1/chat/completions", body_handler(COMPLETION, mode="events", chunk=100)))
    async with serve(app) as url, make_client(sdk, url) as client:
        completions = {
            "method": lambda: client.chat.completions.with_streaming_response,
            "namespace": lambda: client.chat.with_streaming_response.completions,
            "client": lambda: client.with_streaming_response.chat.completions,
        }[form]()
        async with completions.create(model="gpt-4o", messages=MESSAGES) as response:
            assert response.status_code == 200
            assert response.http_request.method == "POST"
            completion = await response.parse()
            assert completion.choices[0].message.content == "Hi there"
            assert completion.usage.total_tokens == 5
            assert completion._request_id == "req_drip"
            assert await response.parse() is completion  # parsed once


@pytest.mark.parametrize("sdk", SDKS)
@pytest.mark.parametrize("mode", MODES)
async def test_streaming_response_of_an_sse_stream(sdk: str, mode: str) -> None:
    """with_streaming_response over create(stream=True): parse() gives the event stream, read as it arrives."""
    app = routes(("POST", "/v1/chat/completions", sse_handler(CHUNKS, mode=mode)))
    async with serve(app) as url, make_client(sdk, url) as client:
        async with client.chat.completions.with_streaming_response.create(
            model="gpt-4o", messages=MESSAGES, stream=True
        ) as response:
            assert response.headers["content-type"] == "text/event-stream"
            stream = await response.parse()
            text = "".join([chunk.choices[0].delta.content async for chunk in stream])
    assert text == "Hello!"


@pytest.mark.parametrize("sdk", SDKS)
async def test_streaming_response_status_error_raises_on_enter(sdk: str) -> None:
    """A 404 raises NotFoundError when the block is entered, before the body is handed over."""
    app = routes(
        (
            "GET",
            "/v1/files/nope/content",
            body_handler({"error": {"message": "No such file", "type": "invalid_request_error"}}, status=404),
        )
    )
    async with serve(app) as url, make_client(sdk, url) as client:
        with pytest.raises(Exception) as caught:
            async with client.files.with_streaming_response.content("nope"):
                pytest.fail("the block must not run")
    assert type(caught.value).__name__ == "NotFoundError"


@pytest.mark.parametrize("sdk", SDKS)
async def test_streaming_response_cannot_be_read_twice(sdk: str) -> None:
    """Reading the body after iterating it raises StreamAlreadyConsumed (an OpenAIError)."""
    app = routes(("GET", "/v1/files/f/content", body_handler(TEXT_FILE)))
    async with serve(app) as url, make_client(sdk, url) as client:
        async with client.files.with_streaming_response.content("f") as response:
            assert b"".join([c async for c in response.iter_bytes()]) == TEXT_FILE
            with pytest.raises(Exception) as caught:
                await response.read()
    assert type(caught.value).__name__ == "StreamAlreadyConsumed"
    assert any(base.__name__ == "OpenAIError" for base in type(caught.value).__mro__)


@pytest.mark.parametrize("sdk", SDKS)
async def test_leaving_the_block_closes_the_connection(sdk: str) -> None:
    """Leaving with_streaming_response early closes the connection: the server's next writes fail."""
    server_saw: list[str] = []
    done = anyio.Event()

    async def endless(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "application/octet-stream"})
        await response.prepare(request)
        try:
            with anyio.fail_after(5):
                while True:
                    await response.write(b"x" * 65536)
                    await anyio.sleep(0.005)
        except (
            ConnectionError,
            OSError,
        ) as exc:  # aiohttp: ClientConnectionResetError is a ConnectionResetError
            server_saw.append(type(exc).__name__)
        finally:
            done.set()
        return response

    async with (
        serve(routes(("GET", "/v1/files/big/content", endless))) as url,
        make_client(sdk, url) as client,
    ):
        async with client.files.with_streaming_response.content("big") as response:
            async for _ in response.iter_bytes():
                break
        with anyio.fail_after(5):
            await done.wait()
    assert server_saw, "the server kept writing: the connection was not closed"


@pytest.mark.parametrize("sdk", SDKS)
async def test_stream_to_file_keeps_memory_bounded(sdk: str, tmp_path: Any) -> None:
    """A 24 MiB body streams to disk while Python allocations peak far below its size."""
    size = 24 * 1024 * 1024
    piece = os.urandom(256 * 1024)

    async def big(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "application/octet-stream"})
        response.content_length = size
        await response.prepare(request)
        for _ in range(size // len(piece)):
            await response.write(piece)
        await response.write_eof()
        return response

    path = os.path.join(str(tmp_path), "big.bin")
    async with serve(routes(("GET", "/v1/files/big/content", big))) as url, make_client(sdk, url) as client:
        tracemalloc.start()
        try:
            async with client.files.with_streaming_response.content("big") as response:
                await response.stream_to_file(path)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    assert (await anyio.Path(path).stat()).st_size == size
    assert peak < 8 * 1024 * 1024, f"peak {peak} bytes for a {size}-byte body"


# -- 6. with_raw_response ------------------------------------------------------------------------------------


@pytest.mark.parametrize("sdk", SDKS)
@pytest.mark.parametrize("mode", MODES)
async def test_raw_response_http_facts(sdk: str, mode: str) -> None:
    """with_raw_response: status, headers, request (method, url), content, text, json(), elapsed and parse()."""
    app = routes(
        ("POST", "/v1/chat/completions", body_handler(COMPLETION, mode=mode, chunk=chunk_size(mode)))
    )
    async with serve(app) as url, make_client(sdk, url) as client:
        raw = await client.chat.completions.with_raw_response.create(model="gpt-4o", messages=MESSAGES)
        top = await client.with_raw_response.chat.completions.create(model="gpt-4o", messages=MESSAGES)
    for response in (raw, top):
        assert response.status_code == 200
        assert response.headers["x-request-id"] == "req_drip"
        assert response.request_id == "req_drip"
        assert response.method == "POST" and response.http_request.method == "POST"
        assert str(response.url) == str(response.http_request.url) == f"{url}/chat/completions"
        assert response.http_request.headers["content-type"] == "application/json"
        assert json.loads(response.content) == COMPLETION
        if sdk == "ours":  # the official LegacyAPIResponse has no json()
            assert response.json() == COMPLETION
        assert response.content.decode() == response.text
        assert isinstance(response.elapsed, datetime.timedelta) and response.elapsed.total_seconds() > 0
        assert response.retries_taken == 0
        completion = response.parse()
        assert completion.choices[0].message.content == "Hi there"
        assert completion._request_id == "req_drip"
        assert response.parse(to=dict)["id"] == "chatcmpl-1"


@pytest.mark.parametrize("sdk", SDKS)
async def test_raw_response_counts_retries(sdk: str) -> None:
    """retries_taken counts the attempts before the answer (one 500, then 200)."""
    calls = 0

    async def flaky(request: web.Request) -> web.Response:
        nonlocal calls
        calls += 1
        if calls == 1:
            return web.json_response(
                {"error": {"message": "boom"}}, status=500, headers={"retry-after-ms": "1"}
            )
        return web.json_response(FILE, headers={"x-request-id": "req_2"})

    async with (
        serve(routes(("GET", "/v1/files/file-1", flaky))) as url,
        make_client(sdk, url, max_retries=1) as c,
    ):
        raw = await c.files.with_raw_response.retrieve("file-1")
    assert raw.retries_taken == 1 and calls == 2
    assert raw.parse().id == "file-1" and raw.parse()._request_id == "req_2"


@pytest.mark.parametrize("sdk", SDKS)
async def test_raw_response_of_a_binary_body(sdk: str) -> None:
    """with_raw_response on files.content: content is the body, parse() the binary content object."""
    app = routes(("GET", "/v1/files/f/content", body_handler(AUDIO, mode="events", chunk=1000)))
    async with serve(app) as url, make_client(sdk, url) as client:
        raw = await client.files.with_raw_response.content("f")
    assert raw.content == AUDIO
    assert raw.parse().content == AUDIO
    assert raw.http_request.headers["accept"] == "application/binary"


async def test_raw_request_headers_mask_the_key() -> None:
    """Ours masks the Authorization value in http_request.headers (the official SDK shows it); ours only."""
    app = routes(("GET", "/v1/files/file-1", body_handler(FILE)))
    async with serve(app) as url, make_client("ours", url, api_key="sk-secret-value") as client:
        raw = await client.files.with_raw_response.retrieve("file-1")
        async with client.files.with_streaming_response.retrieve("file-1") as streamed:
            request = streamed.http_request
    for headers in (raw.http_request.headers, request.headers):
        assert headers["Authorization"] == "Bearer ***"
        assert "sk-secret-value" not in repr(dict(headers))


# -- 7. _request_id -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("sdk", SDKS)
async def test_request_id_on_results(sdk: str) -> None:
    """Every non-stream result object carries _request_id, the x-request-id of its response."""
    app = routes(
        ("POST", "/v1/chat/completions", body_handler(COMPLETION)),
        ("GET", "/v1/files/file-1", body_handler(FILE, headers={"x-request-id": "req_file"})),
        ("POST", "/v1/embeddings", body_handler(EMBEDDING, headers={"x-request-id": "req_emb"})),
    )
    async with serve(app) as url, make_client(sdk, url) as client:
        completion = await client.chat.completions.create(model="gpt-4o", messages=MESSAGES)
        file = await client.files.retrieve("file-1")
        embedding = await client.embeddings.create(model="text-embedding-3-small", input="hi")
    assert completion._request_id == "req_drip"
    assert file._request_id == "req_file"
    assert embedding._request_id == "req_emb"
    assert "_request_id" not in completion.model_dump()
    assert "_request_id" not in completion.model_dump_json()


@pytest.mark.parametrize("sdk", SDKS)
async def test_raw_and_streamed_list_parse_to_the_page(sdk: str) -> None:
    """list() through with_raw_response / with_streaming_response: parse() gives the page, with _request_id."""
    page_body = {
        "object": "list",
        "data": [FILE],
        "has_more": False,
        "first_id": "file-1",
        "last_id": "file-1",
    }
    app = routes(("GET", "/v1/files", body_handler(page_body, headers={"x-request-id": "req_list"})))
    async with serve(app) as url, make_client(sdk, url) as client:
        raw = await client.files.with_raw_response.list(limit=1)
        async with client.files.with_streaming_response.list(limit=1) as response:
            streamed = await response.parse()
        plain = await client.files.list(limit=1)
    assert str(raw.url) == f"{url}/files?limit=1"
    for page in (raw.parse(), streamed, plain):
        assert [f.id for f in page.data] == ["file-1"]
        assert page._request_id == "req_list"


async def test_raw_response_of_a_structured_parse() -> None:
    """chat.completions.with_raw_response.parse(): HTTP facts, and parse() gives the parsed completion (ours)."""
    import msgspec

    class Answer(msgspec.Struct):
        verdict: str

    body = {
        **COMPLETION,
        "choices": [
            {
                "index": 0,
                "finish_reason": "stop",
                "message": {"role": "assistant", "content": '{"verdict": "yes"}'},
            }
        ],
    }
    app = routes(("POST", "/v1/chat/completions", body_handler(body)))
    async with serve(app) as url, make_client("ours", url) as client:
        raw = await client.chat.completions.with_raw_response.parse(
            model="gpt-4o", messages=MESSAGES, response_format=Answer
        )
        async with client.chat.completions.with_streaming_response.parse(
            model="gpt-4o", messages=MESSAGES, response_format=Answer
        ) as response:
            streamed = await response.parse()
    assert raw.status_code == 200
    for completion in (raw.parse(), streamed):
        assert completion.choices[0].message.parsed == Answer(verdict="yes")


@pytest.mark.parametrize("sdk", SDKS)
@pytest.mark.parametrize("mode", MODES)
async def test_raw_response_of_an_sse_stream(sdk: str, mode: str) -> None:
    """with_raw_response over create(stream=True): headers at once, parse() gives the stream to iterate."""
    app = routes(("POST", "/v1/chat/completions", sse_handler(CHUNKS, mode=mode)))
    async with serve(app) as url, make_client(sdk, url) as client:
        raw = await client.chat.completions.with_raw_response.create(
            model="gpt-4o", messages=MESSAGES, stream=True
        )
        assert raw.headers["content-type"] == "text/event-stream"
        assert raw.status_code == 200 and raw.http_request.method == "POST"
        stream = raw.parse()
        text = "".join([chunk.choices[0].delta.content async for chunk in stream])
    assert text == "Hello!"


@pytest.mark.parametrize("sdk", SDKS)
@pytest.mark.parametrize("mode", MODES)
async def test_iterating_an_unnamed_stream(sdk: str, mode: str) -> None:
    """`async for chunk in await create(stream=True)` (the stream never named) reads every event, then the
    connection is free again; a loop left with break can be resumed on a named stream."""
    app = routes(("POST", "/v1/chat/completions", sse_handler(CHUNKS, mode=mode)))
    async with serve(app) as url, make_client(sdk, url) as client:
        text = ""
        async for chunk in await client.chat.completions.create(
            model="gpt-4o", messages=MESSAGES, stream=True
        ):
            text += chunk.choices[0].delta.content
        assert text == "Hello!"
        stream = await client.chat.completions.create(model="gpt-4o", messages=MESSAGES, stream=True)
        async for chunk in stream:
            first = chunk.choices[0].delta.content
            break
        rest = [chunk.choices[0].delta.content async for chunk in stream]
        await stream.close()
    assert [first, *rest] == ["Hel", "lo", "!"]
