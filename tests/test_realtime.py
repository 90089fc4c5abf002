"""The Realtime WebSocket client against a scripted aiohttp WebSocket server on 127.0.0.1."""

from __future__ import annotations

import base64
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import anyio
import msgspec
import pytest
from aiohttp import WSMsgType, web

from openai_async import (
    APIConnectionError,
    APIError,
    APITimeoutError,
    AsyncAzureOpenAI,
    AsyncOpenAI,
    AuthenticationError,
    InternalServerError,
    RetryPolicy,
)
from openai_async._core.model import Unknown
from openai_async._helpers.realtime.connection import RealtimeAPIError, audio_bytes
from openai_async.types.realtime import (
    RealtimeClientEventResponseCancel,
    RealtimeClientEventSessionUpdate,
    RealtimeServerEventError,
    RealtimeServerEventResponseAudioDelta,
    RealtimeServerEventResponseDone,
    RealtimeServerEventResponseTextDelta,
    RealtimeServerEventSessionCreated,
    RealtimeServerEventSessionUpdated,
    RealtimeSessionCreateRequestGA,
)

from ._server import routes, serve

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(15)]

SECRET = "sk-test-secret-0123456789"
AUDIO_1 = bytes(range(256)) * 4
AUDIO_2 = b"\x00\x7f" * 300


def eid(event: Any) -> str | None:
    """The event_id of a typed event (the union's members do not all have one)."""
    return getattr(event, "event_id", None)


def ev(kind: str, **fields: Any) -> str:
    return msgspec.json.encode({"type": kind, **fields}).decode()


Script = Callable[["FakeRealtime", web.WebSocketResponse, web.Request, int], Awaitable[None]]


class FakeRealtime:
    """A scripted /v1/realtime endpoint: records every handshake, client event and close code it sees."""

    def __init__(self, script: Script, *, refuse_from: int | None = None, refuse_status: int = 401) -> None:
        self.script = script
        self.refuse_from = refuse_from
        self.refuse_status = refuse_status
        self.handshakes: list[tuple[str, dict[str, str], dict[str, str]]] = []
        self.received: list[list[dict[str, Any]]] = []
        self.close_codes: list[int | None] = []
        self.done = anyio.Event()

    async def handler(self, request: web.Request) -> web.StreamResponse:
        n = len(self.handshakes)
        self.handshakes.append((request.path, dict(request.headers), dict(request.query)))
        if self.refuse_from is not None and n >= self.refuse_from:
            return web.json_response(
                {"error": {"message": "nope", "code": "refused"}}, status=self.refuse_status
            )
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self.received.append([])
        try:
            await self.script(self, ws, request, n)
        finally:
            self.close_codes.append(ws.close_code)
            self.done.set()
        return ws

    async def next_event(self, ws: web.WebSocketResponse, n: int) -> dict[str, Any] | None:
        """The next client event (recorded), or None once the client has closed."""
        msg = await ws.receive()
        if msg.type is not WSMsgType.TEXT:
            return None
        event: dict[str, Any] = msgspec.json.decode(msg.data)
        self.received[n].append(event)
        return event

    async def drain(self, ws: web.WebSocketResponse, n: int) -> None:
        """Record client events until the client closes."""
        while await self.next_event(ws, n) is not None:
            pass

    def app(self) -> web.Application:
        return routes(("GET", "/v1/realtime", self.handler))


def abort(request: web.Request) -> None:
    assert request.transport is not None
    request.transport.abort()


def client_for(url: str, **kw: Any) -> AsyncOpenAI:
    return AsyncOpenAI(api_key=SECRET, base_url=url, **kw)


async def test_handshake_sends_auth_headers_and_query_and_hides_the_key(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The upgrade goes to /v1/realtime?model=... with Bearer auth, org/project headers; no repr or log has the key."""

    async def script(srv: FakeRealtime, ws: web.WebSocketResponse, request: web.Request, n: int) -> None:
        await ws.send_str(
            ev("session.created", event_id="e0", session={"type": "realtime", "model": "gpt-realtime"})
        )
        await srv.drain(ws, n)

    srv = FakeRealtime(script)
    caplog.set_level(logging.DEBUG, logger="openai_async")
    async with serve(srv.app()) as url, client_for(url, organization="org-1", project="proj-1") as client:
        manager = client.realtime.connect(
            model="gpt-realtime", extra_query={"intent": "x"}, extra_headers={"X-Extra": "1"}
        )
        assert manager.url == url.replace("http://", "ws://") + "/realtime?model=gpt-realtime&intent=x"
        async with manager as conn:
            event = await conn.recv()
            shown = repr(manager) + repr(conn) + repr(client)
    assert isinstance(event, RealtimeServerEventSessionCreated)
    assert event.session is not None and event.session.model == "gpt-realtime"  # type: ignore[union-attr]
    path, headers, query = srv.handshakes[0]
    assert path == "/v1/realtime" and query == {"model": "gpt-realtime", "intent": "x"}
    assert headers["Authorization"] == f"Bearer {SECRET}"
    assert headers["OpenAI-Organization"] == "org-1" and headers["OpenAI-Project"] == "proj-1"
    assert headers["X-Extra"] == "1" and headers["User-Agent"].startswith("openai-async/")
    assert SECRET not in shown
    assert caplog.records and all(SECRET not in r.getMessage() for r in caplog.records)


async def test_key_provider_call_id_and_websocket_base_url() -> None:
    """An async key provider is awaited per handshake; call_id joins a call; websocket_base_url wins over base_url."""

    async def script(srv: FakeRealtime, ws: web.WebSocketResponse, request: web.Request, n: int) -> None:
        await ws.send_str(ev("session.created"))
        await srv.drain(ws, n)

    async def key() -> str:
        return "sk-rotated"

    srv = FakeRealtime(script)
    async with serve(srv.app()) as url:
        client = AsyncOpenAI(
            api_key=key,
            base_url="http://unused.invalid/v1",
            websocket_base_url=url.replace("http://", "ws://"),
        )
        async with client, client.realtime.connect(call_id="rtc_1") as conn:
            assert isinstance(await conn.recv(), RealtimeServerEventSessionCreated)
    _, headers, query = srv.handshakes[0]
    assert headers["Authorization"] == "Bearer sk-rotated" and query == {"call_id": "rtc_1"}


async def test_url_is_derived_from_base_url() -> None:
    """https base URLs become wss, http become ws, with /realtime appended to the path."""
    async with AsyncOpenAI(api_key=SECRET) as client:
        assert client.realtime.connect(model="m").url == "wss://api.openai.com/v1/realtime?model=m"
    async with AsyncOpenAI(api_key=SECRET, base_url="http://localhost:8080/proxy/v1/") as client:
        assert client.realtime.connect(model="m").url == "ws://localhost:8080/proxy/v1/realtime?model=m"


async def test_session_replay_yields_typed_events_and_ends_on_a_clean_close() -> None:
    """session.created/updated, text and audio deltas, a binary frame, error and unknown events; a 1000 close ends."""

    async def script(srv: FakeRealtime, ws: web.WebSocketResponse, request: web.Request, n: int) -> None:
        await ws.send_str(ev("session.created", event_id="e0", session={"type": "realtime"}))
        while (event := await srv.next_event(ws, n)) is not None:
            if event["type"] == "session.update":
                await ws.send_str(ev("session.updated", event_id="e1", session=event["session"]))
            elif event["type"] == "response.create":
                await ws.send_str(ev("response.created", response={"id": "r1"}))
                await ws.send_str(ev("response.output_text.delta", response_id="r1", delta="Hel"))
                await ws.send_str(
                    ev(
                        "response.output_audio.delta",
                        response_id="r1",
                        item_id="i1",
                        output_index=0,
                        content_index=0,
                        delta=base64.b64encode(AUDIO_1).decode(),
                    )
                )
                await ws.send_str(ev("response.audio.delta", delta=base64.b64encode(AUDIO_2).decode()))
                await ws.send_bytes(ev("response.output_text.delta", response_id="r1", delta="lo").encode())
                await ws.send_str(ev("error", error={"type": "invalid_request_error", "message": "bad"}))
                await ws.send_str(ev("response.brand_new_thing", payload={"x": 1}))
                await ws.send_str(ev("response.done", response={"id": "r1", "status": "completed"}))
                await ws.close()
                return

    srv = FakeRealtime(script)
    async with serve(srv.app()) as url, client_for(url) as client:
        async with client.realtime.connect(model="gpt-realtime") as conn:
            created = await conn.recv()
            await conn.session.update(session={"type": "realtime", "instructions": "be brief"})
            updated = await conn.recv()
            await conn.response.create()
            rest = [event async for event in conn]
            assert conn.closed and conn.close_code == 1000
    assert isinstance(created, RealtimeServerEventSessionCreated)
    assert isinstance(updated, RealtimeServerEventSessionUpdated)
    assert updated.session.instructions == "be brief"  # type: ignore[union-attr]
    assert [e.type for e in rest] == [
        "response.created",
        "response.output_text.delta",
        "response.output_audio.delta",
        "response.audio.delta",
        "response.output_text.delta",
        "error",
        "response.brand_new_thing",
        "response.done",
    ]
    assert isinstance(rest[1], RealtimeServerEventResponseTextDelta) and rest[1].delta == "Hel"
    assert isinstance(rest[2], RealtimeServerEventResponseAudioDelta) and rest[2].item_id == "i1"
    assert audio_bytes(rest[2]) == AUDIO_1
    assert isinstance(rest[3], Unknown) and conn.audio_bytes(rest[3]) == AUDIO_2  # the pre-GA event name
    assert isinstance(rest[4], RealtimeServerEventResponseTextDelta) and rest[4].delta == "lo"  # binary frame
    assert isinstance(rest[5], RealtimeServerEventError) and rest[5].error is not None
    assert rest[5].error.message == "bad"
    assert isinstance(rest[6], Unknown) and rest[6]["payload"] == {"x": 1}
    assert isinstance(rest[7], RealtimeServerEventResponseDone)
    assert srv.received[0] == [
        {"type": "session.update", "session": {"type": "realtime", "instructions": "be brief"}},
        {"type": "response.create"},
    ]


async def test_client_events_reach_the_server_in_the_official_shape() -> None:
    """Every typed sender and send() produce the documented JSON; event_id only when given; close sends 1000."""

    async def script(srv: FakeRealtime, ws: web.WebSocketResponse, request: web.Request, n: int) -> None:
        await srv.drain(ws, n)

    srv = FakeRealtime(script)
    item = {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "hi"}]}
    async with serve(srv.app()) as url, client_for(url) as client:
        async with client.realtime.connect(model="gpt-realtime") as conn:
            await conn.session.update(session={"type": "realtime", "instructions": "x"}, event_id="evt_1")
            await conn.input_audio_buffer.append(audio="AAAA")
            await conn.input_audio_buffer.append(audio=b"\x00\x01\x02")
            await conn.input_audio_buffer.append(audio=memoryview(b"\xff\xfe"))
            await conn.input_audio_buffer.commit()
            await conn.input_audio_buffer.clear(event_id="e2")
            await conn.conversation.item.create(item=item, previous_item_id="item_0")
            await conn.conversation.item.delete(item_id="item_1")
            await conn.conversation.item.truncate(item_id="item_2", content_index=0, audio_end_ms=1500)
            await conn.conversation.item.retrieve(item_id="item_3")
            await conn.response.create(response={"instructions": "short", "output_modalities": ["text"]})
            await conn.response.cancel(response_id="resp_1")
            await conn.output_audio_buffer.clear()
            await conn.send({"type": "response.create", "event_id": "raw_1"})
            await conn.send(RealtimeClientEventResponseCancel(event_id="st_1"))
        with anyio.fail_after(5):
            await srv.done.wait()
        assert conn.closed
        with pytest.raises(APIConnectionError):
            await conn.recv()
        with pytest.raises(APIConnectionError):
            await conn.response.create()
    assert srv.received[0] == [
        {"type": "session.update", "session": {"type": "realtime", "instructions": "x"}, "event_id": "evt_1"},
        {"type": "input_audio_buffer.append", "audio": "AAAA"},
        {"type": "input_audio_buffer.append", "audio": "AAEC"},
        {"type": "input_audio_buffer.append", "audio": "//4="},
        {"type": "input_audio_buffer.commit"},
        {"type": "input_audio_buffer.clear", "event_id": "e2"},
        {"type": "conversation.item.create", "item": item, "previous_item_id": "item_0"},
        {"type": "conversation.item.delete", "item_id": "item_1"},
        {"type": "conversation.item.truncate", "item_id": "item_2", "content_index": 0, "audio_end_ms": 1500},
        {"type": "conversation.item.retrieve", "item_id": "item_3"},
        {"type": "response.create", "response": {"instructions": "short", "output_modalities": ["text"]}},
        {"type": "response.cancel", "response_id": "resp_1"},
        {"type": "output_audio_buffer.clear"},
        {"type": "response.create", "event_id": "raw_1"},
        {"type": "response.cancel", "event_id": "st_1"},
    ]
    assert srv.close_codes == [1000]


async def test_leaving_the_block_on_an_exception_closes_the_connection() -> None:
    """An exception inside ``async with`` still sends a normal close, and the exception propagates."""

    async def script(srv: FakeRealtime, ws: web.WebSocketResponse, request: web.Request, n: int) -> None:
        await srv.drain(ws, n)

    srv = FakeRealtime(script)
    async with serve(srv.app()) as url, client_for(url) as client:
        with pytest.raises(RuntimeError, match="boom"):
            async with client.realtime.connect(model="m"):
                raise RuntimeError("boom")
        with anyio.fail_after(5):
            await srv.done.wait()
    assert srv.close_codes == [1000]


async def test_recv_bytes_returns_frames_undecoded() -> None:
    """recv_bytes gives text frames as UTF-8 bytes and binary frames as sent; recv wraps non-JSON frames."""
    text = ev("response.output_text.delta", delta="é")

    async def script(srv: FakeRealtime, ws: web.WebSocketResponse, request: web.Request, n: int) -> None:
        await ws.send_str(text)
        await ws.send_bytes(b"\x00\xffraw")
        await ws.send_bytes(b"\x01not json")
        await srv.drain(ws, n)

    srv = FakeRealtime(script)
    async with serve(srv.app()) as url, client_for(url) as client:
        async with client.realtime.connect(model="m") as conn:
            first = await conn.recv_bytes()
            second = await conn.recv_bytes()
            third = await conn.recv()
    assert first == text.encode() and second == b"\x00\xffraw"
    assert isinstance(third, Unknown) and third.type is None and third["data"] == b"\x01not json"


async def test_error_events_raise_when_opted_in_and_the_session_goes_on() -> None:
    """raise_errors=True turns an error event into RealtimeAPIError (code, param, event_id); reading continues."""

    async def script(srv: FakeRealtime, ws: web.WebSocketResponse, request: web.Request, n: int) -> None:
        await ws.send_str(
            ev(
                "error",
                event_id="e9",
                error={
                    "type": "invalid_request_error",
                    "code": "unknown_parameter",
                    "message": "Unknown parameter: 'x'.",
                    "param": "session.x",
                    "event_id": "client_7",
                },
            )
        )
        await ws.send_str(ev("session.created"))
        await srv.drain(ws, n)

    srv = FakeRealtime(script)
    async with serve(srv.app()) as url, client_for(url) as client:
        async with client.realtime.connect(model="m", raise_errors=True) as conn:
            with pytest.raises(RealtimeAPIError) as info:
                await conn.recv()
            after = await conn.recv()
    err = info.value
    assert isinstance(err, APIError)
    assert (
        err.code == "unknown_parameter" and err.param == "session.x" and err.type == "invalid_request_error"
    )
    assert err.event_id == "client_7" and isinstance(err.event, RealtimeServerEventError)
    assert "Unknown parameter" in str(err)
    assert isinstance(after, RealtimeServerEventSessionCreated)


async def test_abrupt_close_ends_iteration_with_connection_error() -> None:
    """A dropped connection (transport abort, no close frame) raises APIConnectionError after the events so far."""

    async def script(srv: FakeRealtime, ws: web.WebSocketResponse, request: web.Request, n: int) -> None:
        await ws.send_str(ev("session.created"))
        await ws.send_str(ev("response.output_text.delta", delta="partial"))
        await anyio.sleep(0.05)
        abort(request)

    srv = FakeRealtime(script)
    got: list[Any] = []
    async with serve(srv.app()) as url, client_for(url) as client:
        async with client.realtime.connect(model="m") as conn:
            with pytest.raises(APIConnectionError, match="without a close frame"):
                async for event in conn:
                    got.append(event)
            assert conn.closed and conn.close_code == 1006
            with pytest.raises(APIConnectionError):
                await conn.recv()
            with pytest.raises(APIConnectionError):
                await conn.input_audio_buffer.commit()
    assert [e.type for e in got] == ["session.created", "response.output_text.delta"]


async def test_server_close_with_an_error_code_raises() -> None:
    """A close frame with 1011 (server error) is not a normal end: APIConnectionError names the code and reason."""

    async def script(srv: FakeRealtime, ws: web.WebSocketResponse, request: web.Request, n: int) -> None:
        await ws.send_str(ev("session.created"))
        await ws.close(code=1011, message=b"internal")

    srv = FakeRealtime(script)
    async with serve(srv.app()) as url, client_for(url) as client:
        async with client.realtime.connect(model="m") as conn:
            assert isinstance(await conn.recv(), RealtimeServerEventSessionCreated)
            with pytest.raises(APIConnectionError, match="code 1011: internal"):
                await conn.recv()
            assert conn.close_code == 1011


async def test_reconnect_after_abrupt_close_replays_the_session_configuration() -> None:
    """With reconnect on, a dropped session is reopened and the merged session.update fields are sent again."""

    async def script(srv: FakeRealtime, ws: web.WebSocketResponse, request: web.Request, n: int) -> None:
        await ws.send_str(ev("session.created", event_id=f"created_{n}"))
        if n == 0:
            for _ in range(2):
                event = await srv.next_event(ws, n)
                assert event is not None
                await ws.send_str(ev("session.updated", event_id="updated_0", session=event["session"]))
            abort(request)
            return
        event = await srv.next_event(ws, n)  # the replayed configuration
        assert event is not None
        await ws.send_str(ev("session.updated", event_id="updated_1", session=event["session"]))
        await ws.close()

    srv = FakeRealtime(script)
    async with serve(srv.app()) as url, client_for(url) as client:
        async with client.realtime.connect(model="m", reconnect=RetryPolicy.instant(3)) as conn:
            first = [await conn.recv()]
            await conn.session.update(session={"type": "realtime", "instructions": "A"})
            first.append(await conn.recv())
            await conn.session.update(session={"type": "realtime", "audio": {"output": {"voice": "marin"}}})
            first.append(await conn.recv())
            rest = [event async for event in conn]
    assert [eid(e) for e in first] == ["created_0", "updated_0", "updated_0"]
    assert [eid(e) for e in rest] == ["created_1", "updated_1"]
    assert len(srv.handshakes) == 2
    assert all(h[1]["Authorization"] == f"Bearer {SECRET}" for h in srv.handshakes)
    merged = {"type": "realtime", "instructions": "A", "audio": {"output": {"voice": "marin"}}}
    assert srv.received[1] == [{"type": "session.update", "session": merged}]
    assert isinstance(rest[1], RealtimeServerEventSessionUpdated)
    assert rest[1].session.instructions == "A"  # type: ignore[union-attr]


async def test_reconnect_stops_at_a_refused_handshake() -> None:
    """A reconnect handshake answered 401 is raised at once (AuthenticationError), without more attempts."""

    async def script(srv: FakeRealtime, ws: web.WebSocketResponse, request: web.Request, n: int) -> None:
        await ws.send_str(ev("session.created"))
        abort(request)

    srv = FakeRealtime(script, refuse_from=1, refuse_status=401)
    async with serve(srv.app()) as url, client_for(url) as client:
        async with client.realtime.connect(model="m", reconnect=RetryPolicy.instant(5)) as conn:
            assert isinstance(await conn.recv(), RealtimeServerEventSessionCreated)
            with pytest.raises(AuthenticationError):
                await conn.recv()
    assert len(srv.handshakes) == 2


async def test_reconnect_gives_up_after_the_retry_budget() -> None:
    """Retryable handshake failures (503) are retried max_retries times; then the last error is raised."""

    async def script(srv: FakeRealtime, ws: web.WebSocketResponse, request: web.Request, n: int) -> None:
        await ws.send_str(ev("session.created"))
        abort(request)

    srv = FakeRealtime(script, refuse_from=1, refuse_status=503)
    async with serve(srv.app()) as url, client_for(url) as client:
        async with client.realtime.connect(model="m", reconnect=RetryPolicy.instant(2)) as conn:
            await conn.recv()
            with pytest.raises(InternalServerError):
                async for _ in conn:
                    pass
            assert conn.closed
    assert len(srv.handshakes) == 3


async def test_refused_handshake_raises_the_status_error() -> None:
    """A 401 answer to the upgrade request raises AuthenticationError from connect."""

    async def script(srv: FakeRealtime, ws: web.WebSocketResponse, request: web.Request, n: int) -> None:
        raise AssertionError("never upgraded")

    srv = FakeRealtime(script, refuse_from=0)
    async with serve(srv.app()) as url, client_for(url) as client:
        with pytest.raises(AuthenticationError) as info:
            async with client.realtime.connect(model="m"):
                pass
    assert info.value.status_code == 401


def test_audio_bytes_decodes_base64_deltas() -> None:
    """audio_bytes decodes typed and raw-dict deltas and rejects events without one."""
    typed = RealtimeServerEventResponseAudioDelta(delta=base64.b64encode(AUDIO_1).decode())
    assert audio_bytes(typed) == AUDIO_1
    assert memoryview(audio_bytes({"delta": base64.b64encode(b"ab").decode()})).tobytes() == b"ab"
    with pytest.raises(ValueError):
        audio_bytes(RealtimeServerEventResponseTextDelta(delta=None))
    with pytest.raises(ValueError):
        audio_bytes({"delta": "not base64!"})


async def test_a_send_on_a_dropped_connection_reconnects_when_opted_in() -> None:
    """With reconnect on, a send on a dropped socket reconnects, replays the (Struct) session.update, then sends."""

    async def script(srv: FakeRealtime, ws: web.WebSocketResponse, request: web.Request, n: int) -> None:
        await ws.send_str(ev("session.created", event_id=f"created_{n}"))
        if n == 0:
            assert await srv.next_event(ws, n) is not None
            abort(request)
            return
        for _ in range(2):
            assert await srv.next_event(ws, n) is not None
        await ws.close()

    srv = FakeRealtime(script)
    async with serve(srv.app()) as url, client_for(url) as client:
        async with client.realtime.connect(model="m", reconnect=RetryPolicy.instant(3)) as conn:
            assert eid(await conn.recv()) == "created_0"
            await conn.send(
                RealtimeClientEventSessionUpdate(session=RealtimeSessionCreateRequestGA(instructions="A"))
            )
            with anyio.fail_after(5):
                await srv.done.wait()  # the server has dropped the first connection
            await anyio.sleep(0.05)  # and the client's socket has seen it go
            await conn.input_audio_buffer.commit()
            rest = [event async for event in conn]
    assert len(srv.handshakes) == 2
    assert srv.received[1][0] == {
        "type": "session.update",
        "session": {"type": "realtime", "instructions": "A"},
    }
    assert srv.received[1][1] == {"type": "input_audio_buffer.commit"}
    assert [eid(e) for e in rest] == ["created_1"]


async def test_close_from_another_task_ends_the_reader_cleanly() -> None:
    """close() while another task is waiting in ``async for`` ends that loop without an error."""

    async def script(srv: FakeRealtime, ws: web.WebSocketResponse, request: web.Request, n: int) -> None:
        await ws.send_str(ev("session.created"))
        await srv.drain(ws, n)

    srv = FakeRealtime(script)
    got: list[Any] = []
    async with serve(srv.app()) as url, client_for(url) as client:
        async with client.realtime.connect(model="m") as conn:
            first = anyio.Event()

            async def read() -> None:
                async for event in conn:
                    got.append(event)
                    first.set()

            async with anyio.create_task_group() as tg:
                tg.start_soon(read)
                with anyio.fail_after(5):
                    await first.wait()
                await conn.close()
            assert conn.closed and conn.close_code == 1000
        with anyio.fail_after(5):
            await srv.done.wait()
    assert [e.type for e in got] == ["session.created"] and srv.close_codes == [1000]


async def test_a_cancelled_recv_loses_nothing() -> None:
    """Cancelling a waiting recv() (a timeout around it) leaves the session usable; the next event still arrives."""

    async def script(srv: FakeRealtime, ws: web.WebSocketResponse, request: web.Request, n: int) -> None:
        assert await srv.next_event(ws, n) is not None  # sent after the client's timeout
        await ws.send_str(ev("session.created", event_id="late"))
        await srv.drain(ws, n)

    srv = FakeRealtime(script)
    async with serve(srv.app()) as url, client_for(url) as client:
        async with client.realtime.connect(model="m") as conn:
            with anyio.move_on_after(0.1) as scope:
                await conn.recv()
            assert scope.cancelled_caught
            await conn.input_audio_buffer.commit()
            event = await conn.recv()
    assert eid(event) == "late"


async def test_handshake_timeout_raises_api_timeout_error() -> None:
    """A server that never answers the upgrade makes connect raise APITimeoutError after ``timeout`` seconds."""

    async def stall(request: web.Request) -> web.StreamResponse:
        await anyio.sleep(5)
        return web.Response()

    async with serve(routes(("GET", "/v1/realtime", stall))) as url, client_for(url) as client:
        with anyio.fail_after(3), pytest.raises(APITimeoutError):
            async with client.realtime.connect(model="m", timeout=0.2):
                pass


async def test_azure_client_names_the_deployment_and_sends_its_api_key() -> None:
    """AsyncAzureOpenAI connects to <endpoint>/openai/realtime?api-version=...&deployment=... with ``api-key``."""

    async def script(srv: FakeRealtime, ws: web.WebSocketResponse, request: web.Request, n: int) -> None:
        await ws.send_str(ev("session.created"))
        await srv.drain(ws, n)

    srv = FakeRealtime(script)
    app = routes(("GET", "/openai/realtime", srv.handler))
    async with serve(app) as url:
        endpoint = url.removesuffix("/v1")
        async with AsyncAzureOpenAI(
            azure_endpoint=endpoint, api_key="azure-key", api_version="2025-04-01-preview"
        ) as az:
            async with az.realtime.connect(model="my-realtime") as conn:
                assert isinstance(await conn.recv(), RealtimeServerEventSessionCreated)
    path, headers, query = srv.handshakes[0]
    assert path == "/openai/realtime" and headers["api-key"] == "azure-key" and "Authorization" not in headers
    assert query == {"api-version": "2025-04-01-preview", "deployment": "my-realtime"}


async def test_reconnect_budget_resets_after_a_good_event_but_not_after_errors() -> None:
    """Each outage gets the full budget once a non-error event arrived; error-then-drop loops use it up."""

    async def flaky(srv: FakeRealtime, ws: web.WebSocketResponse, request: web.Request, n: int) -> None:
        await ws.send_str(ev("session.created", event_id=f"created_{n}"))
        if n < 2:
            abort(request)
        else:
            await ws.close()

    srv = FakeRealtime(flaky)
    async with serve(srv.app()) as url, client_for(url) as client:
        async with client.realtime.connect(model="m", reconnect=RetryPolicy.instant(1)) as conn:
            got = [eid(event) async for event in conn]
    assert got == ["created_0", "created_1", "created_2"] and len(srv.handshakes) == 3

    async def refusing(srv: FakeRealtime, ws: web.WebSocketResponse, request: web.Request, n: int) -> None:
        if n == 0:
            await ws.send_str(ev("session.created"))
        else:
            await ws.send_str(ev("error", error={"type": "server_error", "message": "at capacity"}))
        abort(request)

    srv = FakeRealtime(refusing)
    async with serve(srv.app()) as url, client_for(url) as client:
        async with client.realtime.connect(model="m", reconnect=RetryPolicy.instant(2)) as conn:
            kinds: list[str] = []
            with pytest.raises(APIConnectionError, match="2 reconnect attempts failed"):
                async for event in conn:
                    kinds.append(event.type)
    assert kinds == ["session.created", "error", "error"] and len(srv.handshakes) == 3


async def test_a_frame_over_max_message_size_ends_the_session_with_1009() -> None:
    """A frame larger than max_message_size is a protocol error: APIConnectionError naming close code 1009."""

    async def script(srv: FakeRealtime, ws: web.WebSocketResponse, request: web.Request, n: int) -> None:
        await ws.send_str(ev("response.output_text.delta", delta="x" * 1000))
        await srv.drain(ws, n)

    srv = FakeRealtime(script)
    async with serve(srv.app()) as url, client_for(url) as client:
        async with client.realtime.connect(model="m", max_message_size=100) as conn:
            with pytest.raises(APIConnectionError, match="code 1009"):
                await conn.recv()
            assert conn.close_code == 1009


@pytest.mark.parametrize("where", ["default_headers", "extra_headers"])
async def test_a_gateway_token_replaces_the_key_in_the_handshake(where: str) -> None:
    """default_headers or extra_headers {"authorization": token} (any case) replace the key in the upgrade."""

    async def script(srv: FakeRealtime, ws: web.WebSocketResponse, request: web.Request, n: int) -> None:
        await ws.send_str(ev("session.created"))
        await srv.drain(ws, n)

    srv = FakeRealtime(script)
    token = {"authorization": "Bearer gw-token"}
    async with serve(srv.app()) as url:
        client = client_for(url, default_headers=token if where == "default_headers" else None)
        extra = token if where == "extra_headers" else None
        async with client, client.realtime.connect(model="m", extra_headers=extra) as conn:
            assert isinstance(await conn.recv(), RealtimeServerEventSessionCreated)
    auth = [v for k, v in srv.handshakes[0][1].items() if k.lower() == "authorization"]
    assert auth == ["Bearer gw-token"]


async def test_a_refused_handshake_error_holds_no_key() -> None:
    """A 401 upgrade raises AuthenticationError whose aiohttp cause shows no key in its repr or request info."""

    async def script(srv: FakeRealtime, ws: web.WebSocketResponse, request: web.Request, n: int) -> None:
        await srv.drain(ws, n)

    srv = FakeRealtime(script, refuse_from=0)
    async with serve(srv.app()) as url, client_for(url) as client:
        with pytest.raises(AuthenticationError) as info:
            async with client.realtime.connect(model="m"):
                pass
    cause = info.value.__cause__
    assert cause is not None and SECRET not in repr(cause) and SECRET not in str(cause)
