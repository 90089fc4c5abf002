"""Response objects on their less-travelled paths, as users meet them: odd charsets, empty and cut bodies, text split
mid-character, ``parse()`` of bodiless and text results, streams read the wrong way round.

Where the official SDK shows the user the same thing, the user's lines run against both SDKs on one loopback server.
"""

from __future__ import annotations

import anyio
import pytest
from aiohttp import web

from openai_async import APIConnectionError, APIResponseValidationError, AsyncOpenAI, StreamedResponse
from openai_async._core.streamed import StreamAlreadyConsumed

from ._drip import SDKS, body_handler, make_client, sse_handler
from ._server import routes, serve

pytestmark = pytest.mark.anyio

COMPLETION = {
    "id": "chatcmpl-1",
    "object": "chat.completion",
    "created": 1,
    "model": "gpt-4o",
    "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": "Hi"}}],
}
CHUNK = {
    "id": "c1",
    "object": "chat.completion.chunk",
    "created": 1,
    "model": "gpt-4o",
    "choices": [{"index": 0, "delta": {"role": "assistant", "content": "Hi"}, "finish_reason": "stop"}],
}
MESSAGES = [{"role": "user", "content": "Say hi"}]


def _ours(url: str) -> AsyncOpenAI:
    return AsyncOpenAI(api_key="sk-test", base_url=url, max_retries=0)


# -- with_raw_response and binary bodies -------------------------------------------------------------------------


@pytest.mark.parametrize("sdk", SDKS)
async def test_raw_response_gives_http_version_closed_state_and_parses_to_text(sdk: str) -> None:
    """with_raw_response: http_version is HTTP/1.1, the body is read (is_closed), parse(to=str) is the body text."""
    app = routes(("POST", "/v1/chat/completions", body_handler(COMPLETION)))
    with anyio.fail_after(10):
        async with serve(app) as url, make_client(sdk, url) as client:
            raw = await client.chat.completions.with_raw_response.create(model="gpt-4o", messages=MESSAGES)
    assert raw.http_version == "HTTP/1.1"
    assert raw.is_closed
    assert raw.parse(to=str) == raw.text == raw.content.decode()
    if sdk == "ours":  # the official LegacyAPIResponse names it .method only, and refuses to=bytes
        assert raw.http_method == raw.method == "POST"
        assert raw.parse(to=bytes) == raw.content


@pytest.mark.parametrize("sdk", SDKS)
async def test_an_unknown_charset_is_decoded_as_utf8(sdk: str) -> None:
    """A Content-Type charset Python does not know is reported as given, and the text is decoded as UTF-8."""
    body = "café ☕".encode()
    app = routes(
        ("GET", "/v1/files/f/content", body_handler(body, content_type="text/plain; charset=x-no-such-codec"))
    )
    with anyio.fail_after(10):
        async with serve(app) as url, make_client(sdk, url) as client:
            content = await client.files.content("f")
            raw = await client.files.with_raw_response.content("f")
    assert content.charset_encoding == "x-no-such-codec"
    assert content.encoding == "utf-8"
    assert content.text == raw.text == "café ☕"


@pytest.mark.parametrize("sdk", SDKS)
async def test_an_empty_binary_body_iterates_as_nothing(sdk: str) -> None:
    """An empty file's content gives no chunks, no text pieces and no lines, sync or async."""
    app = routes(("GET", "/v1/files/f/content", body_handler(b"")))
    with anyio.fail_after(10):
        async with serve(app) as url, make_client(sdk, url) as client:
            content = await client.files.content("f")
    assert content.content == b""
    assert list(content.iter_bytes()) == [] and list(content.iter_text()) == []
    assert [t async for t in await content.aiter_text()] == []
    assert list(content.iter_lines()) == []


@pytest.mark.parametrize("sdk", SDKS)
async def test_binary_text_comes_in_chunks_of_the_asked_size(sdk: str) -> None:
    """aiter_text(4) gives the text of a binary body four characters at a time (the last piece shorter)."""
    app = routes(
        ("GET", "/v1/files/f/content", body_handler("héllo wörld".encode(), content_type="text/plain"))
    )
    with anyio.fail_after(10):
        async with serve(app) as url, make_client(sdk, url) as client:
            content = await client.files.content("f")
    assert [t async for t in await content.aiter_text(4)] == ["héll", "o wö", "rld"]
    assert list(content.iter_text(4)) == ["héll", "o wö", "rld"]


async def test_raw_response_of_a_stream_has_no_content_until_parsed() -> None:
    """with_raw_response over stream=True: .content raises RuntimeError (iterate parse()); the stream reads whole,
    and the response is closed after."""
    app = routes(("POST", "/v1/chat/completions", sse_handler([CHUNK])))
    with anyio.fail_after(10):
        async with serve(app) as url, _ours(url) as client:
            raw = await client.chat.completions.with_raw_response.create(
                model="gpt-4o", messages=MESSAGES, stream=True
            )
            with pytest.raises(RuntimeError, match="the body of a stream is not read"):
                raw.content  # noqa: B018
            chunks = [chunk async for chunk in raw.parse()]
    assert [c.choices[0].delta.content for c in chunks] == ["Hi"]
    assert raw.is_closed


async def test_a_binary_response_is_an_async_context_manager() -> None:
    """``async with await client.files.content(id) as content:`` works; the body stays readable after the block."""
    app = routes(
        ("GET", "/v1/files/f/content", body_handler(b"data", content_type="application/octet-stream"))
    )
    with anyio.fail_after(10):
        async with serve(app) as url, _ours(url) as client:
            async with await client.files.content("f") as content:
                assert content.content == b"data"
            content.close()
    assert content.read() == b"data"
    assert repr(content) == "<BinaryResponse [200] application/octet-stream 4 bytes>"


# -- with_streaming_response -------------------------------------------------------------------------------------


@pytest.mark.parametrize("sdk", SDKS)
async def test_raw_response_of_a_bodiless_result_parses_to_none(sdk: str) -> None:
    """with_raw_response / with_streaming_response of a method returning nothing give the HTTP response; parse()
    gives None."""
    app = routes(("DELETE", "/v1/responses/resp_1", body_handler(b"", content_type="application/json")))
    with anyio.fail_after(10):
        async with serve(app) as url, make_client(sdk, url) as client:
            raw = await client.responses.with_raw_response.delete("resp_1")
            async with client.responses.with_streaming_response.delete("resp_1") as streamed:
                assert streamed.status_code == 200
                assert await streamed.parse() is None
    assert raw.status_code == 200
    assert raw.parse() is None


@pytest.mark.parametrize("sdk", SDKS)
async def test_streamed_parse_of_a_text_transcription_is_the_text(sdk: str) -> None:
    """with_streaming_response on a transcription with response_format="text": parse() gives the text."""
    app = routes(
        (
            "POST",
            "/v1/audio/transcriptions",
            body_handler(b"hello world\n", content_type="text/plain; charset=utf-8"),
        )
    )
    with anyio.fail_after(10):
        async with serve(app) as url, make_client(sdk, url) as client:
            async with client.audio.transcriptions.with_streaming_response.create(
                file=("a.wav", b"RIFF"), model="whisper-1", response_format="text"
            ) as response:
                assert await response.parse() == "hello world\n"


@pytest.mark.parametrize("sdk", SDKS)
async def test_streamed_text_ending_mid_character_and_lines_split_at_cr(sdk: str) -> None:
    """iter_text() ends a body cut inside a UTF-8 character with U+FFFD; iter_lines() joins a CRLF sent byte by
    byte, and a body ending in a newline gives no empty last line."""
    app = routes(
        ("GET", "/v1/files/t/content", body_handler(b"ab\xe2\x82", content_type="text/plain")),
        ("GET", "/v1/files/l/content", body_handler(b"a\r\nb\r\n", mode="events", chunk=1, pause=0.002)),
    )
    with anyio.fail_after(10):
        async with serve(app) as url, make_client(sdk, url) as client:
            async with client.files.with_streaming_response.content("t") as response:
                text = [t async for t in response.iter_text()]
            async with client.files.with_streaming_response.content("l") as response:
                lines = [line async for line in response.iter_lines()]
    assert "".join(text) == "ab\ufffd"
    assert lines == ["a", "b"]


async def test_streamed_body_that_is_not_json_raises_a_validation_error() -> None:
    """parse() of a 200 whose body is not JSON (a proxy's HTML page) raises APIResponseValidationError quoting
    it; parse(to=str) still gives the text."""
    page = b"<html>gateway says hi</html>"
    app = routes(("GET", "/v1/models/m", body_handler(page, content_type="text/html")))
    with anyio.fail_after(10):
        async with serve(app) as url, _ours(url) as client:
            async with client.models.with_streaming_response.retrieve("m") as response:
                with pytest.raises(APIResponseValidationError, match="not JSON: '<html>gateway") as caught:
                    await response.parse()
                assert await response.parse(to=str) == page.decode()
    assert caught.value.status_code == 200 and caught.value.body == page.decode()


async def test_streamed_body_cut_short_raises_a_connection_error() -> None:
    """A body that stops before its Content-Length raises APIConnectionError from read(), and the response closes."""

    async def cut(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "application/octet-stream"})
        response.content_length = 1000
        await response.prepare(request)
        await response.write(b"x" * 10)
        assert request.transport is not None
        request.transport.close()
        return response

    with anyio.fail_after(10):
        async with serve(routes(("GET", "/v1/files/f/content", cut))) as url, _ours(url) as client:
            async with client.files.with_streaming_response.content("f") as response:
                with pytest.raises(APIConnectionError):
                    await response.read()
                assert response.is_closed


async def test_an_event_stream_read_as_bytes_cannot_be_parsed_after() -> None:
    """with_streaming_response over stream=True: after iter_bytes(), parse() raises StreamAlreadyConsumed."""
    app = routes(("POST", "/v1/chat/completions", sse_handler([CHUNK])))
    with anyio.fail_after(10):
        async with serve(app) as url, _ours(url) as client:
            async with client.chat.completions.with_streaming_response.create(
                model="gpt-4o", messages=MESSAGES, stream=True
            ) as response:
                body = b"".join([chunk async for chunk in response.iter_bytes()])
                with pytest.raises(StreamAlreadyConsumed):
                    await response.parse()
    assert body.startswith(b"data: {") and body.endswith(b"data: [DONE]\n\n")


async def test_the_streaming_view_lists_reprs_and_refuses_what_it_cannot_stream() -> None:
    """client.with_streaming_response lists the namespaces, reads settings through, shows a clear repr, and
    raises TypeError when entered on a method that returns no HTTP response (a stream helper)."""
    app = routes(("POST", "/v1/chat/completions", body_handler(COMPLETION)))
    with anyio.fail_after(10):
        async with serve(app) as url, _ours(url) as client:
            view = client.with_streaming_response
            assert {"chat", "files", "responses"} <= set(dir(view))
            assert not any(name.startswith("_") for name in dir(view))
            assert view.max_retries == 0
            assert repr(view) == "<AsyncOpenAI with_streaming_response>"
            async with view.chat.completions.create(model="gpt-4o", messages=MESSAGES) as response:
                assert isinstance(response, StreamedResponse)
                assert repr(response) == f"<StreamedResponse [200 OK] POST {url}/chat/completions>"
            with pytest.raises(
                TypeError, match="cannot stream this method: it returned ChatCompletionStreamManager"
            ):
                async with view.chat.completions.stream(model="gpt-4o", messages=MESSAGES):
                    pytest.fail("the block must not run")
