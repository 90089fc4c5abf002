"""The transport seam: ``AsyncOpenAI(transport=MockTransport(handler))`` runs the whole send path in memory."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import pathlib
import socket
import ssl
import threading
import time
import warnings
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any

import anyio
import pytest

from openai_async import APIConnectionError, APITimeoutError, AsyncOpenAI, RetryPolicy, Timeout
from openai_async.testing import (
    MockRequest,
    MockResponse,
    MockTransport,
    chat_completion,
    chat_completion_chunks,
    encode_chat_stream,
)

pytestmark = pytest.mark.anyio


async def test_handler_sees_the_request_and_answers_a_typed_result() -> None:
    """The handler gets method, URL with query, headers and the JSON body; its answer is decoded as usual."""
    seen: list[MockRequest] = []

    def handler(request: MockRequest) -> MockResponse:
        seen.append(request)
        return MockResponse(200, json=chat_completion("Hi!"), headers={"x-request-id": "req_1"})

    client = AsyncOpenAI(
        api_key="sk-mock", base_url="https://api.example.test/v1", transport=MockTransport(handler)
    )
    async with client:
        completion = await client.chat.completions.create(
            model="gpt-4o-mini",
            messages=[{"role": "user", "content": "Hello"}],
            extra_query={"trace": True},
        )
    assert completion.choices[0].message.content == "Hi!"
    (request,) = seen
    assert request.method == "POST"
    assert request.url == "https://api.example.test/v1/chat/completions?trace=true"
    assert request.headers["authorization"] == "Bearer sk-mock"
    assert request.json() == {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "Hello"}]}


async def test_retries_and_errors_go_through_the_mock() -> None:
    """A 429 then a 200 from an async handler is one successful call with the same Idempotency-Key twice."""
    answers = [
        MockResponse(429, json={"error": {"message": "slow down"}}),
        MockResponse(200, json={"ok": True}),
    ]

    async def handler(request: MockRequest) -> MockResponse:
        return answers.pop(0)

    transport = MockTransport(handler)
    async with AsyncOpenAI(api_key="sk-mock", transport=transport, retry=RetryPolicy.instant()) as client:
        assert await client.post("/things", body={}) == {"ok": True}
    first, second = transport.requests
    assert first.headers["Idempotency-Key"] == second.headers["Idempotency-Key"]


async def test_a_handler_that_raises_oserror_is_a_connection_error() -> None:
    """A handler raising ``OSError`` stands for a failed connection: retried, then ``APIConnectionError``."""

    def handler(request: MockRequest) -> MockResponse:
        raise ConnectionResetError("reset by peer")

    transport = MockTransport(handler)
    async with AsyncOpenAI(api_key="sk-mock", transport=transport, retry=RetryPolicy.instant(1)) as client:
        with pytest.raises(APIConnectionError, match="reset by peer"):
            await client.models.list()
    assert len(transport.requests) == 2


async def test_streams_arrive_chunk_by_chunk() -> None:
    """A ``stream=`` of SSE chunks, one event per chunk and split mid-event, decodes into the chunks sent."""
    events = encode_chat_stream(chat_completion_chunks("Hello world"))
    body = b"".join(events)
    chunks = [body[i : i + 7] for i in range(0, len(body), 7)]

    async def drip():
        for chunk in chunks:
            yield chunk

    def handler(request: MockRequest) -> MockResponse:
        assert request.headers["Accept"] == "text/event-stream"
        return MockResponse(200, stream=drip())

    async with AsyncOpenAI(api_key="sk-mock", transport=MockTransport(handler)) as client:
        stream = await client.chat.completions.create(model="m", messages=[], stream=True)
        async with stream:
            text = "".join([c.choices[0].delta.content or "" async for c in stream if c.choices])
    assert text == "Hello world"


async def test_multipart_bodies_are_rendered_for_the_handler() -> None:
    """A file upload reaches the handler as the multipart bytes aiohttp would send."""

    def handler(request: MockRequest) -> MockResponse:
        assert request.headers["Content-Type"].startswith("multipart/form-data")
        assert b'name="purpose"' in request.content and b"file body" in request.content
        return MockResponse(
            200,
            json={
                "id": "file-1",
                "object": "file",
                "bytes": 9,
                "created_at": 0,
                "filename": "a.jsonl",
                "purpose": "batch",
                "status": "processed",
            },
        )

    async with AsyncOpenAI(api_key="sk-mock", transport=MockTransport(handler)) as client:
        created = await client.files.create(file=("a.jsonl", b"file body"), purpose="batch")
    assert created.id == "file-1"


# -- the aiohttp transport on real sockets -----------------------------------------------------------------------


@contextlib.asynccontextmanager
async def raw_server(
    handle: Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]], backlog: int = 100
) -> AsyncIterator[str]:
    """A plain asyncio server on 127.0.0.1 running ``handle`` per connection; yields ``http://127.0.0.1:PORT``."""

    async def guarded(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await handle(reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(guarded, "127.0.0.1", 0, backlog=backlog)
    try:
        yield f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
    finally:
        server.close()


_LIST = b'{"object":"list","data":[]}'


async def _answer_all(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    with contextlib.suppress(ConnectionError, asyncio.IncompleteReadError):
        while True:
            await reader.readuntil(b"\r\n\r\n")
            writer.write(_reply())
            await writer.drain()
    writer.close()


@contextlib.contextmanager
def threaded_server(backlog: int) -> Iterator[str]:
    """A keep-alive server answering every request with an empty list, on its own thread and event loop."""
    started = threading.Event()
    state: dict[str, Any] = {}

    async def main() -> None:
        state["loop"], state["stop"] = asyncio.get_running_loop(), asyncio.Event()
        server = await asyncio.start_server(_answer_all, "127.0.0.1", 0, backlog=backlog)
        state["port"] = server.sockets[0].getsockname()[1]
        started.set()
        await state["stop"].wait()
        server.close()

    thread = threading.Thread(target=asyncio.run, args=(main(),), daemon=True)
    thread.start()
    assert started.wait(5)
    try:
        yield f"http://127.0.0.1:{state['port']}/v1"
    finally:
        state["loop"].call_soon_threadsafe(state["stop"].set)
        thread.join(5)


def _reply(body: bytes = _LIST, extra: bytes = b"") -> bytes:
    return (
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
        + extra
        + b"Content-Length: %d\r\n\r\n" % len(body)
        + body
    )


async def test_http_proxy_from_the_environment_and_no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    """HTTP_PROXY is used by default, NO_PROXY and trust_env=False go direct, as the official SDK."""
    seen: list[bytes] = []

    async def proxy(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        seen.append((await reader.readuntil(b"\r\n\r\n")).split(b"\r\n")[0])
        writer.write(
            _reply(
                b'{"object":"list","data":[{"id":"via-proxy","object":"model","created":0,"owned_by":"p"}]}'
            )
        )
        await writer.drain()

    async def direct(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(_reply())
        await writer.drain()

    with anyio.fail_after(10):
        async with raw_server(proxy) as proxy_url, raw_server(direct) as target:
            monkeypatch.setenv("HTTP_PROXY", proxy_url)
            monkeypatch.delenv("NO_PROXY", raising=False)
            monkeypatch.delenv("no_proxy", raising=False)
            async with AsyncOpenAI(api_key="sk-x", base_url=target + "/v1") as client:
                assert [m.id for m in (await client.models.list()).data] == ["via-proxy"]
            assert seen == [f"GET {target}/v1/models HTTP/1.1".encode()]
            async with AsyncOpenAI(api_key="sk-x", base_url=target + "/v1", trust_env=False) as client:
                assert (await client.models.list()).data == []
            monkeypatch.setenv("NO_PROXY", "localhost, 127.0.0.1")
            async with AsyncOpenAI(api_key="sk-x", base_url=target + "/v1") as client:
                assert (await client.models.list()).data == []
    assert len(seen) == 1


async def test_large_response_headers_are_accepted() -> None:
    """A 9 KB header and a 16 KB Set-Cookie (beyond aiohttp's 8 KiB default) do not fail the call."""

    async def big_headers(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(
            _reply(extra=b"x-trace: " + b"t" * 9000 + b"\r\nSet-Cookie: c=" + b"v" * 16000 + b"\r\n")
        )
        await writer.drain()

    with anyio.fail_after(10):
        async with (
            raw_server(big_headers) as url,
            AsyncOpenAI(api_key="sk-x", base_url=url + "/v1") as client,
        ):
            page = await client.models.list()
    assert page.data == []


async def test_waiting_for_a_pooled_connection_is_not_the_connect_timeout() -> None:
    """Eight slow calls on a pool of two queue for connections instead of failing the 0.2 s connect timeout;
    ``Timeout(pool=...)`` bounds that wait when asked."""

    async def slow(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            await reader.readuntil(b"\r\n\r\n")
            await asyncio.sleep(0.25)
            writer.write(_reply())
            await writer.drain()

    with anyio.fail_after(15):
        async with raw_server(slow) as url:
            async with AsyncOpenAI(
                api_key="sk-x",
                base_url=url + "/v1",
                max_connections=2,
                max_retries=0,
                timeout=Timeout(total=10, connect=0.2, read=10),
            ) as client:
                pages = await asyncio.gather(*(client.models.list() for _ in range(8)))
                assert all(page.data == [] for page in pages)
                calls = [
                    client.models.list(timeout=Timeout(total=10, connect=0.2, read=10, pool=0.1))
                    for _ in range(6)
                ]
                results = await asyncio.gather(*calls, return_exceptions=True)
    assert any(isinstance(r, APITimeoutError) for r in results)


@pytest.mark.timeout(60)
async def test_half_open_connections_end_within_the_connect_timeout() -> None:
    """600 calls at once against a listen backlog of 1 with ``tcp_user_timeout=True``: a handshake the server
    dropped fails fast (sent bytes unacknowledged for the connect timeout), so no call waits for the total."""
    with threaded_server(backlog=1) as url:
        async with AsyncOpenAI(
            api_key="sk-x",
            base_url=url,
            max_retries=0,
            tcp_user_timeout=True,
            timeout=Timeout(total=8, connect=1.5, read=8),
        ) as client:

            async def one() -> float:
                started = time.monotonic()
                with contextlib.suppress(APITimeoutError):
                    await client.models.list()
                return time.monotonic() - started

            with anyio.fail_after(30):
                took = await asyncio.gather(*(one() for _ in range(600)))
    assert max(took) < 7, sorted(took)[-5:]


async def test_a_listener_that_never_accepts_times_out_on_connect() -> None:
    """Against a socket that listens (backlog 1) but never accepts, calls beyond the backlog fail with
    ``APITimeoutError`` after the connect timeout."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(1)
    url = f"http://127.0.0.1:{sock.getsockname()[1]}/v1"
    try:
        async with AsyncOpenAI(
            api_key="sk-x", base_url=url, max_retries=0, timeout=Timeout(total=2, connect=0.3, read=2)
        ) as client:

            async def one() -> tuple[BaseException | None, float]:
                started = time.monotonic()
                try:
                    await client.models.list()
                except APITimeoutError as exc:
                    return exc, time.monotonic() - started
                return None, time.monotonic() - started

            with anyio.fail_after(10):
                results = await asyncio.gather(*(one() for _ in range(12)))
    finally:
        sock.close()
    assert all(isinstance(exc, APITimeoutError) for exc, _ in results)
    assert sum(1 for _, took in results if took < 1.0) >= 9  # all but the backlog's few wait for the total


async def test_a_dripped_response_head_meets_the_total_timeout() -> None:
    """A stream whose response head arrives a byte at a time raises ``APITimeoutError`` after ``total``, even
    though each byte comes well within the read timeout."""

    async def drip(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        for byte in b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nX-Padding: " + b"p" * 500:
            writer.write(bytes([byte]))
            await writer.drain()
            await asyncio.sleep(0.02)

    async with raw_server(drip) as url:
        async with AsyncOpenAI(
            api_key="sk-x",
            base_url=url + "/v1",
            max_retries=0,
            timeout=Timeout(total=1.0, connect=1.0, read=0.5),
        ) as client:
            started = time.monotonic()
            with anyio.fail_after(5), pytest.raises(APITimeoutError):
                await client.chat.completions.create(model="m", messages=[], stream=True)
    assert time.monotonic() - started < 2.5


def test_one_client_across_two_event_loops() -> None:
    """A client used from two successive ``asyncio.run()`` calls works in both: its pool is rebuilt."""
    with threaded_server(backlog=8) as url:
        client = AsyncOpenAI(api_key="sk-x", base_url=url)

        async def call() -> list[object]:
            with anyio.fail_after(5):
                return list((await client.models.list()).data)

        with warnings.catch_warnings():
            # The first loop's idle connections cannot be closed once that loop is gone; they are dropped.
            warnings.simplefilter("ignore", ResourceWarning)
            assert asyncio.run(call()) == []
            assert asyncio.run(call()) == []
            asyncio.run(client.close())
            gc.collect()


_CERT = (
    pathlib.Path(__file__).parent / "data" / "loopback-cert.pem"
)  # self-signed for IP 127.0.0.1, test only
_KEY = pathlib.Path(__file__).parent / "data" / "loopback-key.pem"


async def test_ssl_cert_file_and_a_custom_ssl_context(monkeypatch: pytest.MonkeyPatch) -> None:
    """An HTTPS server with a private CA is refused by default, trusted through SSL_CERT_FILE (read when the
    client opens its pool) or through ``ssl_context=``."""
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_context.load_cert_chain(_CERT, _KEY)
    server = await asyncio.start_server(_answer_all, "127.0.0.1", 0, ssl=server_context)
    url = f"https://127.0.0.1:{server.sockets[0].getsockname()[1]}/v1"
    try:
        with anyio.fail_after(10):
            async with AsyncOpenAI(api_key="sk-x", base_url=url, max_retries=0) as client:
                with pytest.raises(APIConnectionError, match="CERTIFICATE_VERIFY_FAILED"):
                    await client.models.list()
            monkeypatch.setenv("SSL_CERT_FILE", str(_CERT))
            async with AsyncOpenAI(api_key="sk-x", base_url=url, max_retries=0) as client:
                assert (await client.models.list()).data == []
            monkeypatch.delenv("SSL_CERT_FILE")
            context = ssl.create_default_context(cafile=str(_CERT))
            async with AsyncOpenAI(
                api_key="sk-x", base_url=url, ssl_context=context, trust_env=False
            ) as client:
                assert (await client.models.list()).data == []
    finally:
        server.close()


async def test_raw_responses_and_downloads_through_the_mock() -> None:
    """``with_raw_response`` reports the mock's status, headers and URL; a download is not cut by
    ``max_response_size`` (only JSON bodies are)."""

    def handler(request: MockRequest) -> MockResponse:
        if request.path.endswith("/content"):
            return MockResponse(
                200, content=b"x" * 1000, headers={"Content-Type": "application/octet-stream"}
            )
        return MockResponse(200, json={"object": "list", "data": []}, headers={"x-request-id": "req_9"})

    async with AsyncOpenAI(
        api_key="sk-mock", transport=MockTransport(handler), max_response_size=100
    ) as client:
        raw = await client.models.with_raw_response.list()
        assert raw.status_code == 200 and raw.headers["x-request-id"] == "req_9"
        assert str(raw.url) == "https://api.openai.com/v1/models"
        assert raw.http_request.headers["Authorization"] != "Bearer sk-mock"  # masked
        content = await client.files.content("file-1")
        assert len(content.content) == 1000
