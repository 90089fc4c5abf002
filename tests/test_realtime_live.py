"""The Realtime connection while the app is busy, its handlers and its options, on a WebSocket server on 127.0.0.1.

The server here pings, closes and streams while the client's app is not reading; it sees every frame (pongs
included, ``autoping=False``) and records what it got.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import anyio
import anyio.lowlevel
import msgspec
import pytest
from aiohttp import WSMsgType, web

from openai_async import APIConnectionError, AsyncOpenAI, OpenAIError
from openai_async._helpers.realtime.connection import RealtimeAPIError

from ._server import routes, serve

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(15)]


def ev(kind: str, **fields: Any) -> str:
    return msgspec.json.encode({"type": kind, **fields}).decode()


Script = Callable[["Server", web.WebSocketResponse], Awaitable[None]]


class Server:
    """One scripted /v1/realtime endpoint with ``autoping=False``: the script sees pings and pongs itself."""

    def __init__(self, script: Script, **ws_options: Any) -> None:
        self.script = script
        self.ws_options = ws_options
        self.headers: dict[str, str] = {}
        self.frames: list[tuple[WSMsgType, Any]] = []
        self.done = anyio.Event()

    async def handler(self, request: web.Request) -> web.StreamResponse:
        self.headers = dict(request.headers)
        ws = web.WebSocketResponse(autoping=False, **self.ws_options)
        await ws.prepare(request)
        try:
            await self.script(self, ws)
        finally:
            self.done.set()
        return ws

    async def wait_for(self, ws: web.WebSocketResponse, kind: WSMsgType, within: float) -> bool:
        """Record frames until one of ``kind`` arrives (True) or ``within`` seconds pass (False)."""
        with anyio.move_on_after(within):
            while True:
                msg = await ws.receive()
                self.frames.append((msg.type, msg.data))
                if msg.type is kind:
                    return True
                if msg.type in (WSMsgType.CLOSE, WSMsgType.CLOSED, WSMsgType.ERROR):
                    return False
        return False

    async def until_closed(self, ws: web.WebSocketResponse) -> None:
        """Record frames until the client closes (answering its close)."""
        while True:
            msg = await ws.receive()
            if msg.type is WSMsgType.CLOSE:
                await ws.close()
                return
            if msg.type in (WSMsgType.CLOSED, WSMsgType.ERROR):
                return
            self.frames.append((msg.type, msg.data))

    def events(self) -> list[Any]:
        return [msgspec.json.decode(data) for kind, data in self.frames if kind is WSMsgType.TEXT]

    def app(self) -> web.Application:
        return routes(("GET", "/v1/realtime", self.handler))


def client_for(url: str) -> AsyncOpenAI:
    return AsyncOpenAI(api_key="sk-test", base_url=url)


@pytest.mark.parametrize(("code", "ends"), [(1000, "cleanly"), (1011, "with an error")])
async def test_a_close_while_the_app_is_busy_makes_the_next_send_raise_and_loses_no_event(
    code: int, ends: str
) -> None:
    """The server closes while the app does not read: the next send raises, then the queued event still arrives."""

    async def script(srv: Server, ws: web.WebSocketResponse) -> None:
        await ws.send_str(ev("response.output_text.delta", delta="last words"))
        await ws.close(code=code, message=b"bye")

    srv = Server(script)
    async with serve(srv.app()) as url, client_for(url) as client:
        async with client.realtime.connect(model="m") as conn:
            with anyio.fail_after(5):
                await srv.done.wait()
            await anyio.sleep(0.1)  # the app is busy elsewhere; the close frame has arrived meanwhile
            assert conn.closed and conn.close_code == code
            with pytest.raises(APIConnectionError, match=f"closed \\(code {code}\\)"):
                await conn.response.create()
            got: list[Any] = []
            if code == 1000:
                got = [event async for event in conn]
            else:
                with pytest.raises(APIConnectionError, match=f"code {code}: bye"):
                    async for event in conn:
                        got.append(event)
    assert [e.delta for e in got] == ["last words"], ends


async def test_a_ping_is_answered_while_the_app_is_not_reading() -> None:
    """A server ping gets its pong while the app sleeps; a strict server (pong within 0.5 s) keeps the session."""

    async def script(srv: Server, ws: web.WebSocketResponse) -> None:
        for n in range(3):
            await ws.ping(f"beat-{n}".encode())
            if not await srv.wait_for(ws, WSMsgType.PONG, within=0.5):
                await ws.close(code=1011, message=b"no pong")  # what a strict server does
                return
        await ws.send_str(ev("session.created"))
        await srv.until_closed(ws)

    srv = Server(script)
    async with serve(srv.app()) as url, client_for(url) as client:
        async with client.realtime.connect(model="m") as conn:
            await anyio.sleep(1.0)  # the app does not read for longer than the server waits for a pong
            event = await conn.recv()
    assert event.type == "session.created"
    assert [data for kind, data in srv.frames if kind is WSMsgType.PONG] == [b"beat-0", b"beat-1", b"beat-2"]


async def test_a_full_inbox_stops_reading_until_the_app_catches_up() -> None:
    """With max_queue=2 and an idle app the reader waits (no pong); once the app reads, every event comes in order."""

    async def script(srv: Server, ws: web.WebSocketResponse) -> None:
        for n in range(20):
            await ws.send_str(ev("response.output_text.delta", delta=str(n)))
        await ws.ping(b"full?")
        srv.frames.append(
            (WSMsgType.TEXT, ev("pong.seen", value=await srv.wait_for(ws, WSMsgType.PONG, 0.3)))
        )
        await ws.close()

    srv = Server(script)
    async with serve(srv.app()) as url, client_for(url) as client:
        options = {"max_queue": 2}
        async with client.realtime.connect(model="m", websocket_connection_options=options) as conn:
            await anyio.sleep(0.6)
            got = [event.delta async for event in conn]
    assert got == [str(n) for n in range(20)]
    assert srv.events()[-1] == {"type": "pong.seen", "value": False}  # the reader was waiting for the app


async def test_handlers_run_through_dispatch_events_in_order() -> None:
    """on/once/off and the "event" catch-all are called by dispatch_events, which returns on a clean close."""

    async def script(srv: Server, ws: web.WebSocketResponse) -> None:
        await ws.send_str(ev("session.created"))
        for piece in ("a", "b", "c"):
            await ws.send_str(ev("response.output_text.delta", delta=piece))
        await ws.send_str(ev("error", error={"type": "invalid_request_error", "message": "bad"}))
        await ws.send_str(ev("response.done", response={"status": "completed"}))
        await ws.close()

    calls: list[str] = []

    def on_delta(event: Any) -> None:
        calls.append(f"delta:{event.delta}")

    async def first_delta(event: Any) -> None:
        await anyio.lowlevel.checkpoint()
        calls.append(f"first:{event.delta}")

    def removed(event: Any) -> None:
        calls.append("removed")

    srv = Server(script)
    async with serve(srv.app()) as url, client_for(url) as client:
        async with client.realtime.connect(model="m") as conn:
            assert conn.on("response.output_text.delta", on_delta) is conn
            conn.once("response.output_text.delta", first_delta).on("response.done", removed)
            conn.off("response.done", removed)

            @conn.on("event")
            def every(event: Any) -> None:
                calls.append(event.type)

            with anyio.fail_after(5):
                await conn.dispatch_events()
    assert calls == [
        "session.created",
        "delta:a",
        "first:a",
        "response.output_text.delta",
        "delta:b",
        "response.output_text.delta",
        "delta:c",
        "response.output_text.delta",
        "error",
        "response.done",
    ]


async def test_an_unhandled_error_event_raises_from_dispatch_events() -> None:
    """dispatch_events raises an ``error`` event nobody handles, as an OpenAIError naming its message."""

    async def script(srv: Server, ws: web.WebSocketResponse) -> None:
        await ws.send_str(ev("error", error={"type": "invalid_request_error", "message": "unknown field"}))
        await srv.until_closed(ws)

    srv = Server(script)
    async with serve(srv.app()) as url, client_for(url) as client:
        async with client.realtime.connect(model="m") as conn:
            with anyio.fail_after(5), pytest.raises(OpenAIError, match="unknown field") as info:
                await conn.dispatch_events()
    assert isinstance(info.value, RealtimeAPIError)


async def test_the_manager_queues_events_and_handlers_before_connecting() -> None:
    """manager.send() events go out first, in order; manager.on() handlers move to the connection."""

    async def script(srv: Server, ws: web.WebSocketResponse) -> None:
        for _ in range(2):
            await srv.wait_for(ws, WSMsgType.TEXT, within=2)
        await ws.send_str(ev("session.updated"))
        await ws.close()

    srv = Server(script)
    seen: list[str] = []
    async with serve(srv.app()) as url, client_for(url) as client:
        manager = client.realtime.connect(model="m")
        manager.send({"type": "session.update", "session": {"type": "realtime", "instructions": "hi"}})
        manager.send({"type": "response.create"})
        manager.on("session.updated", lambda event: seen.append(event.type))
        async with manager as conn:
            await conn.dispatch_events()
    assert srv.events() == [
        {"type": "session.update", "session": {"type": "realtime", "instructions": "hi"}},
        {"type": "response.create"},
    ]
    assert seen == ["session.updated"]


async def test_send_raw_sends_text_and_binary_frames_as_given() -> None:
    """send_raw(str) is a text frame and send_raw(bytes) a binary one, byte for byte."""

    async def script(srv: Server, ws: web.WebSocketResponse) -> None:
        await srv.until_closed(ws)

    srv = Server(script)
    async with serve(srv.app()) as url, client_for(url) as client:
        async with client.realtime.connect(model="m") as conn:
            await conn.send_raw('{"type": "response.create"}')
            await conn.send_raw(b"\x00\x01raw")
            with pytest.raises(TypeError, match="bytes or str"):
                await conn.send_raw(123)  # type: ignore[arg-type]
    with anyio.fail_after(5):
        await srv.done.wait()
    assert srv.frames == [(WSMsgType.TEXT, '{"type": "response.create"}'), (WSMsgType.BINARY, b"\x00\x01raw")]


async def test_websocket_connection_options_map_onto_the_handshake_and_the_socket() -> None:
    """subprotocols, compression, additional_headers and ping_interval reach the server; max_size limits frames."""

    async def script(srv: Server, ws: web.WebSocketResponse) -> None:
        srv.frames.append(
            (WSMsgType.TEXT, ev("ping.seen", value=await srv.wait_for(ws, WSMsgType.PING, 1.0)))
        )
        await ws.send_str(ev("response.output_text.delta", delta="x" * 2000))
        await srv.until_closed(ws)

    srv = Server(script, protocols=("realtime",), compress=True)
    options = {
        "subprotocols": ["realtime"],
        "compression": "deflate",
        "additional_headers": {"X-Trace": "t1"},
        "ping_interval": 0.1,
        "max_size": 1000,
        "write_limit": 65536,
        "open_timeout": 5,
        "close_timeout": 2,
    }
    async with serve(srv.app()) as url, client_for(url) as client:
        async with client.realtime.connect(model="m", websocket_connection_options=options) as conn:
            with anyio.fail_after(5), pytest.raises(APIConnectionError, match="code 1009"):
                await conn.recv()
    assert srv.headers["Sec-WebSocket-Protocol"] == "realtime"
    assert "permessage-deflate" in srv.headers["Sec-WebSocket-Extensions"]
    assert srv.headers["X-Trace"] == "t1"
    assert srv.events()[0] == {"type": "ping.seen", "value": True}


def test_unsupported_websocket_connection_options_are_refused_by_name() -> None:
    """An unknown option, websockets extension objects or a bad value raise at connect() naming the option."""
    client = AsyncOpenAI(api_key="sk-test", base_url="http://127.0.0.1:9/v1")
    with pytest.raises(TypeError, match="'max_frames'"):
        client.realtime.connect(model="m", websocket_connection_options={"max_frames": 1})
    with pytest.raises(ValueError, match="extensions"):
        client.realtime.connect(model="m", websocket_connection_options={"extensions": [object()]})
    with pytest.raises(ValueError, match="compression"):
        client.realtime.connect(model="m", websocket_connection_options={"compression": "gzip"})
    with pytest.raises(ValueError, match="max_queue"):
        client.realtime.connect(model="m", websocket_connection_options={"max_queue": 0})
    with pytest.raises(ValueError, match="proxy"):
        client.realtime.connect(model="m", websocket_connection_options={"proxy": 8080})


async def test_a_silent_peer_is_noticed_by_the_heartbeat_while_the_app_is_not_reading() -> None:
    """With ping_interval set, a server that stops answering pings ends the session even if the app never reads."""

    async def script(srv: Server, ws: web.WebSocketResponse) -> None:
        await srv.wait_for(ws, WSMsgType.CLOSE, within=1.5)  # reads the pings, never answers them

    srv = Server(script)
    async with serve(srv.app()) as url, client_for(url) as client:
        options = {"ping_interval": 0.2}
        async with client.realtime.connect(model="m", websocket_connection_options=options) as conn:
            await anyio.sleep(1.0)  # the app is busy elsewhere; nothing reads the connection
            assert conn.closed and conn.close_code == 1006
            with pytest.raises(APIConnectionError, match="closed"):
                await conn.response.create()
            with pytest.raises(APIConnectionError, match="abnormally"):
                await conn.recv()
    assert any(kind is WSMsgType.PING for kind, _ in srv.frames)


async def test_a_proxy_option_sends_the_handshake_through_the_proxy() -> None:
    """websocket_connection_options={"proxy": url}: the handshake goes to the proxy, naming the real target."""
    targets: list[str] = []

    async def proxy(request: web.Request) -> web.StreamResponse:
        targets.append(str(request.url))  # the absolute-form target a client sends to an HTTP proxy
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        await ws.send_str(ev("session.created"))
        await ws.close()
        return ws

    async with serve(routes(("GET", "/v1/realtime", proxy))) as proxy_url:
        unreachable = "http://127.0.0.1:9/v1"  # nothing listens there: only the proxy can answer
        async with client_for(unreachable) as client:
            options = {"proxy": proxy_url.removesuffix("/v1")}
            async with client.realtime.connect(model="m", websocket_connection_options=options) as conn:
                kinds = [event.type async for event in conn]
    assert kinds == ["session.created"]
    assert targets == ["http://127.0.0.1:9/v1/realtime?model=m"]


@pytest.mark.parametrize("trust_env", [True, False])
async def test_the_environments_proxy_is_used_unless_the_client_says_trust_env_false(
    trust_env: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No proxy option: HTTP_PROXY carries the handshake as it carries REST calls; trust_env=False goes direct."""
    targets: list[str] = []

    async def proxy(request: web.Request) -> web.StreamResponse:
        targets.append(str(request.url))
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        await ws.send_str(ev("session.created"))
        await ws.close()
        return ws

    async with serve(routes(("GET", "/v1/realtime", proxy))) as proxy_url:
        for name in ("HTTP_PROXY", "http_proxy", "NO_PROXY", "no_proxy"):
            monkeypatch.delenv(name, raising=False)
        monkeypatch.setenv("HTTP_PROXY", proxy_url.removesuffix("/v1"))
        target = "http://realtime.invalid/v1"  # resolves nowhere: only a proxy can answer
        async with AsyncOpenAI(api_key="sk-test", base_url=target, trust_env=trust_env) as client:
            if trust_env:
                async with client.realtime.connect(model="m") as conn:
                    kinds = [event.type async for event in conn]
                assert kinds == ["session.created"]
            else:
                with pytest.raises(APIConnectionError):
                    async with client.realtime.connect(model="m", reconnect=False):
                        pass
    assert targets == (["http://realtime.invalid/v1/realtime?model=m"] if trust_env else [])


async def test_close_completes_while_the_reader_waits_on_a_full_inbox() -> None:
    """close() does not hang on a reader blocked by a full inbox; the server sees a normal close (1000)."""
    codes: list[int | None] = []

    async def script(srv: Server, ws: web.WebSocketResponse) -> None:
        for n in range(10):
            await ws.send_str(ev("response.output_text.delta", delta=str(n)))
        await srv.until_closed(ws)
        codes.append(ws.close_code)

    srv = Server(script)
    async with serve(srv.app()) as url, client_for(url) as client:
        options = {"max_queue": 1}
        conn = await client.realtime.connect(model="m", websocket_connection_options=options).enter()
        await anyio.sleep(0.2)  # the inbox is full and the reader waits
        with anyio.fail_after(3):
            await conn.close()
        with anyio.fail_after(3):
            await srv.done.wait()
        with pytest.raises(APIConnectionError, match="closed"):
            await conn.send({"type": "response.create"})
    assert conn.closed and codes == [1000]
