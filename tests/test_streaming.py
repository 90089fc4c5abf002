"""AsyncStream on real sockets: framing, [DONE], errors mid-stream, cuts, idle timeouts, releasing connections."""

from __future__ import annotations

import asyncio

import msgspec
import pytest
from aiohttp import web

from openai_async import (
    APIConnectionError,
    APIError,
    APITimeoutError,
    AsyncOpenAI,
    AsyncStream,
    RetryPolicy,
    StreamDecodeError,
    StreamEventTooLargeError,
    Timeout,
)

from ._server import routes, serve

pytestmark = pytest.mark.anyio


class Chunk(msgspec.Struct):
    id: str = ""
    n: int = 0


def sse_app(
    body_parts: list[bytes], *, abort: bool = False, stall: float = 0.0, headers: dict[str, str] | None = None
) -> web.Application:
    async def handler(request: web.Request) -> web.StreamResponse:
        resp = web.StreamResponse(
            headers={"Content-Type": "text/event-stream", "x-request-id": "req_s", **(headers or {})}
        )
        await resp.prepare(request)
        for part in body_parts:
            await resp.write(part)
        if stall:
            await asyncio.sleep(stall)
        if abort:
            assert request.transport is not None
            request.transport.abort()
            return resp
        await resp.write_eof()
        return resp

    return routes(("POST", "/v1/s", handler))


def client_for(url: str, **kw: object) -> AsyncOpenAI:
    return AsyncOpenAI(api_key="k", base_url=url, retry=RetryPolicy.instant(), **kw)  # type: ignore[arg-type]


def events(n: int) -> bytes:
    return b"".join(b'data: {"id":"c","n":%d}\n\n' % i for i in range(n))


async def test_stream_decodes_events_until_done() -> None:
    """Each data payload decodes into the event type; data: [DONE] ends the stream; headers are reachable."""
    async with serve(sse_app([events(5), b"data: [DONE]\n\n"])) as url, client_for(url) as client:
        stream = await client.post("/s", body={}, stream=True, stream_cls=Chunk)
        async with stream:
            got = [c.n async for c in stream]
        assert stream.request_id == "req_s" and stream.status_code == 200
    assert got == [0, 1, 2, 3, 4]


async def test_anext_and_async_for_share_one_position() -> None:
    """`await stream.__anext__()`, `anext()` and `async for` read the same sequence; aclose() between two
    events ends it and gives the connection back."""
    async with (
        serve(sse_app([events(6), b"data: [DONE]\n\n"])) as url,
        client_for(url, max_connections=1) as client,
    ):
        stream = await client.post("/s", body={}, stream=True, stream_cls=Chunk)
        first = await stream.__anext__()
        second = await anext(stream)
        rest = []
        async for c in stream:
            rest.append(c.n)
            if c.n == 3:
                break
        assert (first.n, second.n, rest) == (0, 1, [2, 3])
        await stream.aclose()
        assert [c async for c in stream] == []
        # The only pooled connection is free again.
        again = await client.post("/s", body={}, stream=True, stream_cls=Chunk, timeout=Timeout(total=5))
        async with again:
            assert [c.n async for c in again] == [0, 1, 2, 3, 4, 5]


async def test_a_payload_that_is_not_json_raises_and_frees_the_connection() -> None:
    """`data: <not JSON>` raises StreamDecodeError (an APIError keeping the payload) where it stands, after the
    events before it, and the half-read connection is closed, not leaked: the only pooled connection serves the
    next call."""
    body = [events(2) + b"data: {not json\n\n" + events(2)]
    async with serve(sse_app(body)) as url, client_for(url, max_connections=1) as client:
        stream = await client.post("/s", body={}, stream=True, stream_cls=Chunk)
        got = []
        with pytest.raises(StreamDecodeError) as info:
            async for c in stream:
                got.append(c.n)
        assert got == [0, 1]
        assert isinstance(info.value, APIError) and info.value.payload == b"{not json"
        assert info.value.request_id == "req_s" and not isinstance(info.value.__cause__, type(None))
        again = await client.post("/s", body={}, stream=True, stream_cls=Chunk, timeout=Timeout(total=5))
        with pytest.raises(StreamDecodeError):
            async for _ in again:
                pass


async def test_stream_split_into_single_bytes() -> None:
    """Events flushed one byte at a time decode exactly."""
    body = events(3) + b"data: [DONE]\n\n"
    async with serve(sse_app([body[i : i + 1] for i in range(len(body))])) as url, client_for(url) as client:
        stream = await client.post("/s", body={}, stream=True, stream_cls=Chunk)
        assert [c.n async for c in stream] == [0, 1, 2]


async def test_error_payload_mid_stream_raises() -> None:
    """A {"error": {...}} payload after some events raises APIError with the message."""
    body = [events(2), b'data: {"error": {"message": "server overloaded", "type": "server_error"}}\n\n']
    async with serve(sse_app(body)) as url, client_for(url) as client:
        stream = await client.post("/s", body={}, stream=True, stream_cls=Chunk)
        got = []
        with pytest.raises(APIError, match="server overloaded") as info:
            async for c in stream:
                got.append(c.n)
    assert got == [0, 1] and info.value.type == "server_error" and info.value.request_id == "req_s"


async def test_error_event_raises() -> None:
    """An `event: error` (Responses streams) raises APIError."""
    body = [b'event: error\ndata: {"type": "error", "code": "bad", "message": "nope"}\n\n']
    async with serve(sse_app(body)) as url, client_for(url) as client:
        stream = await client.post("/s", body={}, stream=True, stream_cls=Chunk)
        with pytest.raises(APIError, match="nope"):
            await stream.__anext__()


async def test_cut_mid_stream_raises_not_truncated_success() -> None:
    """A connection cut in the middle of the stream raises APIConnectionError."""
    async with serve(sse_app([events(3), b'data: {"id":"c",'], abort=True)) as url, client_for(url) as client:
        stream = await client.post("/s", body={}, stream=True, stream_cls=Chunk)
        got = []
        with pytest.raises(APIConnectionError):
            async for c in stream:
                got.append(c.n)
    assert got == [0, 1, 2]


async def test_clean_eof_mid_event_raises() -> None:
    """A body that ends cleanly but inside an unterminated event is reported, not swallowed."""
    async with serve(sse_app([events(1), b'data: {"id":"c","n":9}'])) as url, client_for(url) as client:
        stream = await client.post("/s", body={}, stream=True, stream_cls=Chunk)
        with pytest.raises(APIConnectionError, match="middle of an event"):
            async for _ in stream:
                pass


async def test_stalled_stream_hits_idle_timeout() -> None:
    """A stream that stops sending raises APITimeoutError after the read (idle) timeout."""
    async with serve(sse_app([events(1)], stall=3)) as url, client_for(url) as client:
        stream = await client.post(
            "/s", body={}, stream=True, stream_cls=Chunk, timeout=Timeout(total=None, connect=1, read=0.3)
        )
        assert (await stream.__anext__()).n == 0
        with pytest.raises(APITimeoutError):
            await stream.__anext__()


async def test_stream_is_retried_before_first_byte_only() -> None:
    """A 503 before the stream starts is retried; the stream then runs normally."""
    calls = 0

    async def handler(request: web.Request) -> web.StreamResponse:
        nonlocal calls
        calls += 1
        if calls == 1:
            return web.json_response({"error": {"message": "busy"}}, status=503)
        resp = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await resp.prepare(request)
        await resp.write(events(2) + b"data: [DONE]\n\n")
        return resp

    async with serve(routes(("POST", "/v1/s", handler))) as url, client_for(url) as client:
        stream = await client.post("/s", body={}, stream=True, stream_cls=Chunk)
        assert [c.n async for c in stream] == [0, 1]
    assert calls == 2


async def test_break_and_cancel_release_the_connection() -> None:
    """Breaking out of a stream, or cancelling the reading task, gives the only pooled connection back."""
    long_body = [events(3)]
    async with serve(sse_app(long_body, stall=5)) as url, client_for(url, max_connections=1) as client:
        # 1. break out inside `async with`
        async with await client.post("/s", body={}, stream=True, stream_cls=Chunk) as stream:
            async for _ in stream:
                break
        # 2. break out without `async with`: dropping the stream closes it
        stream = await client.post("/s", body={}, stream=True, stream_cls=Chunk)
        async for _ in stream:
            break
        del stream

        # 3. cancel a task blocked on a stalled stream
        async def consume() -> None:
            async with await client.post("/s", body={}, stream=True, stream_cls=Chunk) as s:
                async for _ in s:
                    pass

        task = asyncio.ensure_future(consume())
        await asyncio.sleep(0.2)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        # With max_connections=1, a leaked connection would time out waiting for the pool (connect=2 s);
        # a free one streams the three events and then hits the read timeout of the stalled server.
        got: list[int] = []
        with pytest.raises(APITimeoutError):
            async with await client.post(
                "/s", body={}, stream=True, stream_cls=Chunk, timeout=Timeout(total=None, connect=2, read=0.3)
            ) as s:
                async for c in s:
                    got.append(c.n)
        assert got == [0, 1, 2]


async def test_an_endless_line_raises_past_the_cap_and_frees_the_connection(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A server sending one line that never ends: past AsyncStream.max_event_size the stream raises
    StreamEventTooLargeError (an APIError with the request id) instead of buffering, and the only pooled
    connection serves the next call."""
    monkeypatch.setattr(AsyncStream, "max_event_size", 64 * 1024)
    endless = [events(1), b'data: {"id": "' + b"x" * 16384] + [b"x" * 16384] * 16
    async with serve(sse_app(endless, stall=5)) as url, client_for(url, max_connections=1) as client:
        stream = await client.post("/s", body={}, stream=True, stream_cls=Chunk)
        got = []
        with pytest.raises(StreamEventTooLargeError) as info:
            async for c in stream:
                got.append(c.n)
        assert got == [0] and isinstance(info.value, APIError) and info.value.request_id == "req_s"
        assert stream.response.closed
        again = await client.post(
            "/s", body={}, stream=True, stream_cls=Chunk, timeout=Timeout(total=None, connect=2, read=0.3)
        )
        with pytest.raises(StreamEventTooLargeError):
            async for _ in again:
                pass


async def test_dropped_streams_give_the_connection_back_without_async_with() -> None:
    """A stream dropped before iterating, after `__anext__`, or mid `async for` (its loop dropped after
    `break`) frees the only pooled connection within a bounded time: the next call gets it."""
    async with serve(sse_app([events(3)], stall=5)) as url, client_for(url, max_connections=1) as client:
        short = Timeout(total=None, connect=1, read=0.3)

        async def drop_unread() -> None:
            await client.post("/s", body={}, stream=True, stream_cls=Chunk, timeout=short)

        async def drop_after_anext() -> None:
            stream = await client.post("/s", body={}, stream=True, stream_cls=Chunk, timeout=short)
            assert (await stream.__anext__()).n == 0

        async def drop_inline_loop() -> None:
            async for chunk in await client.post("/s", body={}, stream=True, stream_cls=Chunk, timeout=short):
                assert chunk.n == 0
                break

        for drop in (drop_unread, drop_after_anext, drop_inline_loop):
            await drop()
            await asyncio.sleep(0.05)  # the event loop runs the dropped loop's aclose()
            got: list[int] = []
            with pytest.raises(APITimeoutError):  # the stalled server: all events, then the read timeout
                async with await client.post(
                    "/s", body={}, stream=True, stream_cls=Chunk, timeout=short
                ) as s:
                    async for c in s:
                        got.append(c.n)
            assert got == [0, 1, 2], drop.__name__


async def test_a_stream_answered_with_broken_json_raises_with_the_text() -> None:
    """A stream request answered with a body that opens like JSON but is not (cut, or a proxy's mangled page)
    raises APIError saying events were expected, with the text as the body."""
    async with serve(sse_app([b'{"error": {"message": "over'])) as url, client_for(url) as client:
        stream = await client.post("/s", body={}, stream=True, stream_cls=Chunk)
        with pytest.raises(
            APIError, match="answered a stream request with a JSON body instead of events"
        ) as caught:
            async for _ in stream:
                pass
    assert caught.value.body == '{"error": {"message": "over'


async def test_until_done_reads_to_the_end_and_the_stream_prints_its_status() -> None:
    """``await stream.until_done()`` reads every event and gives the connection back; the repr shows the status
    and request id."""
    async with serve(sse_app([events(3), b"data: [DONE]\n\n"])) as url, client_for(url) as client:
        stream = await client.post("/s", body={}, stream=True, stream_cls=Chunk)
        assert repr(stream) == "<AsyncStream [200] request_id='req_s'>"
        await stream.until_done()
        assert stream.response.closed
