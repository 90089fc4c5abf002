"""The official SDK's Realtime examples, unchanged but for the import, against both SDKs on one local server.

The server on 127.0.0.1 plays the Realtime API: it answers client events like the real service, one event per
frame with small pauses, and adds what a newer server sends (an event type and a field this release does not
know). Where the SDKs differ on purpose (the errors raised at the end of a session), the test names both.
"""

from __future__ import annotations

from typing import Any

import anyio
import msgspec
import pytest
from aiohttp import WSMsgType, web

from ._drip import SDKS, make_client
from ._server import routes, serve

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(20)]

pytest.importorskip(
    "websockets"
)  # the official SDK's Realtime transport (openai[realtime]), in the dev extra


def frame(kind: str, **fields: Any) -> str:
    return msgspec.json.encode({"type": kind, "event_id": f"ev_{kind}", **fields}).decode()


def reply(event: dict[str, Any]) -> list[str]:
    """What the Realtime API answers to one client event (a text-only model saying "Hello!")."""
    kind = event.get("type")
    if kind == "session.update":
        session = {
            "type": "realtime",
            **event["session"],
            "future_option": {"level": 1},
        }  # a newer server's field
        return [frame("session.updated", session=session)]
    if kind == "conversation.item.create":
        return [frame("conversation.item.added", item={"id": "item_1", **event["item"]})]
    if kind == "response.create":
        deltas = [
            frame(
                "response.output_text.delta",
                response_id="resp_1",
                item_id="item_2",
                output_index=0,
                content_index=0,
                delta=piece,
                obfuscation="x1",
            )
            for piece in ("Hel", "lo", "!")
        ]
        return [
            frame(
                "response.created",
                response={"id": "resp_1", "object": "realtime.response", "status": "in_progress"},
            ),
            *deltas,
            frame("response.future_thing", future_field={"level": 2}),  # an event type from a newer server
            frame(
                "response.output_text.done",
                response_id="resp_1",
                item_id="item_2",
                output_index=0,
                content_index=0,
                text="Hello!",
            ),
            frame(
                "response.done",
                response={"id": "resp_1", "object": "realtime.response", "status": "completed"},
            ),
        ]
    if kind == "input_audio_buffer.commit":
        return [
            frame(
                "error",
                error={
                    "type": "invalid_request_error",
                    "code": "input_audio_buffer_commit_empty",
                    "message": "buffer too small",
                    "event_id": event.get("event_id"),
                },
            )
        ]
    return []


async def realtime(request: web.Request) -> web.WebSocketResponse:
    ws = web.WebSocketResponse()
    await ws.prepare(request)
    await ws.send_str(frame("session.created", session={"type": "realtime", "model": request.query["model"]}))
    async for msg in ws:
        if msg.type is not WSMsgType.TEXT:
            break
        for out in reply(msgspec.json.decode(msg.data)):
            await ws.send_str(out)
            await anyio.sleep(0.005)
    return ws


@pytest.mark.parametrize("sdk", SDKS)
async def test_the_basic_text_example_runs_the_same(sdk: str) -> None:
    """The README's text example prints the same reply through both SDKs; newer event types and fields read alike."""
    printed: list[str] = []
    odd: list[Any] = []
    async with serve(routes(("GET", "/v1/realtime", realtime))) as url, make_client(sdk, url) as client:
        # --- the official example, print() collected ---
        async with client.realtime.connect(model="gpt-realtime-2") as connection:
            await connection.session.update(session={"type": "realtime", "output_modalities": ["text"]})
            await connection.conversation.item.create(
                item={
                    "type": "message",
                    "role": "user",
                    "content": [{"type": "input_text", "text": "Say hello!"}],
                }
            )
            await connection.response.create()
            async for event in connection:
                if event.type == "response.output_text.delta":
                    printed.append(event.delta)
                    odd.append(event.obfuscation)  # a field this release's spec does not declare
                    odd.append(event.to_dict()["obfuscation"])
                elif event.type == "response.future_thing":
                    odd.append(event.future_field["level"])  # a dict in the official SDK
                    odd.append(event.to_dict()["future_field"])
                elif event.type == "response.output_text.done":
                    printed.append("\n")
                elif event.type == "response.done":
                    assert event.response.status == "completed"
                    break
                elif event.type == "error":
                    raise AssertionError("Realtime returned an error")
            else:
                raise AssertionError("Realtime disconnected before response.done")
    assert "".join(printed) == "Hello!\n"
    assert odd == ["x1", "x1"] * 3 + [2, {"level": 2}]


@pytest.mark.parametrize("sdk", SDKS)
async def test_the_error_handling_example_reads_the_error_event(sdk: str) -> None:
    """The README's error example: an ``error`` event is yielded (not raised) with the same fields."""
    seen: list[Any] = []
    async with serve(routes(("GET", "/v1/realtime", realtime))) as url, make_client(sdk, url) as client:
        async with client.realtime.connect(model="gpt-realtime-2") as connection:
            await connection.input_audio_buffer.commit(event_id="client_1")
            async for event in connection:
                if event.type == "error":
                    seen += [event.error.type, event.error.code, event.error.event_id, event.error.message]
                    break
    assert seen == [
        "invalid_request_error",
        "input_audio_buffer_commit_empty",
        "client_1",
        "buffer too small",
    ]


@pytest.mark.parametrize("sdk", SDKS)
async def test_handlers_and_dispatch_events_behave_the_same(sdk: str) -> None:
    """manager.send/on, connection.on/once/off and dispatch_events: the same calls, in the same order."""
    calls: list[str] = []
    async with serve(routes(("GET", "/v1/realtime", realtime))) as url, make_client(sdk, url) as client:
        manager = client.realtime.connect(model="gpt-realtime-2")
        manager.send({"type": "session.update", "session": {"type": "realtime", "instructions": "Be brief."}})
        manager.on("session.updated", lambda event: calls.append(f"updated:{event.session.instructions}"))
        async with manager as connection:

            @connection.on("response.output_text.delta")
            async def on_delta(event: Any) -> None:
                calls.append(event.delta)

            def on_first(event: Any) -> None:
                calls.append("first")

            def never(event: Any) -> None:
                calls.append("never")

            connection.once("response.output_text.delta", on_first).on("response.created", never)
            connection.off("response.created", never)

            async def on_done(event: Any) -> None:
                calls.append("done")
                await connection.close()

            connection.on("response.done", on_done)
            await connection.response.create()
            with anyio.fail_after(5):
                await connection.dispatch_events()
    assert calls == ["updated:Be brief.", "Hel", "first", "lo", "!", "done"]


@pytest.mark.parametrize("sdk", SDKS)
async def test_send_raw_reaches_the_server_as_text(sdk: str) -> None:
    """send_raw(str) sends the text as it is; the answer comes back with its undeclared nested field."""
    async with serve(routes(("GET", "/v1/realtime", realtime))) as url, make_client(sdk, url) as client:
        async with client.realtime.connect(model="gpt-realtime-2") as connection:
            await connection.send_raw(
                '{"type": "session.update", "session": {"type": "realtime", "instructions": "R"}}'
            )
            kinds = []
            async for event in connection:
                kinds.append(event.type)
                if event.type == "session.updated":
                    assert event.session.instructions == "R"
                    assert event.session.future_option["level"] == 1  # an undeclared nested field, kept
                    assert event.to_dict()["session"]["future_option"] == {"level": 1}
                    break
    assert kinds == ["session.created", "session.updated"]


async def close_early(request: web.Request) -> web.WebSocketResponse:
    ws = web.WebSocketResponse()
    await ws.prepare(request)
    await ws.send_str(frame("session.created", session={"type": "realtime"}))
    await ws.close(code=1000)
    return ws


@pytest.mark.parametrize("sdk", SDKS)
async def test_a_send_after_the_server_closed_raises_in_both(sdk: str) -> None:
    """The server closes while the app is busy: both SDKs raise on the next send (their own error types), and the
    event sent before the close is still read."""
    from websockets.exceptions import ConnectionClosed

    from openai_async import APIConnectionError

    expected = {"official": ConnectionClosed, "ours": APIConnectionError}[sdk]
    async with serve(routes(("GET", "/v1/realtime", close_early))) as url, make_client(sdk, url) as client:
        async with client.realtime.connect(model="gpt-realtime-2") as connection:
            await anyio.sleep(0.2)  # busy: the close frame arrives meanwhile
            with pytest.raises(expected):
                await connection.response.create()
            kinds = [event.type async for event in connection]
    assert kinds == ["session.created"]


async def refuse(request: web.Request) -> web.Response:
    return web.json_response(
        {"error": {"message": "Incorrect API key", "code": "invalid_api_key"}}, status=401
    )


@pytest.mark.parametrize("sdk", SDKS)
async def test_a_refused_handshake_raises_in_both(sdk: str) -> None:
    """A 401 on the upgrade: the official SDK raises websockets' InvalidStatus, ours AuthenticationError."""
    from websockets.exceptions import InvalidStatus

    from openai_async import AuthenticationError

    expected = {"official": InvalidStatus, "ours": AuthenticationError}[sdk]
    async with serve(routes(("GET", "/v1/realtime", refuse))) as url, make_client(sdk, url) as client:
        with pytest.raises(expected):
            async with client.realtime.connect(model="gpt-realtime-2"):
                pass


class Flaky:
    """Closes the first connection with 1011 after ``session.created``; the next one answers and closes cleanly."""

    def __init__(self) -> None:
        self.handshakes: list[tuple[dict[str, str], str | None]] = []

    async def handler(self, request: web.Request) -> web.WebSocketResponse:
        n = len(self.handshakes)
        self.handshakes.append((dict(request.query), request.headers.get("X-Retry")))
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        await ws.send_str(frame("session.created", session={"type": "realtime"}))
        if n == 0:
            await ws.close(code=1011, message=b"overloaded")
            return ws
        await ws.send_str(frame("response.done", response={"status": "completed"}))
        await ws.close()
        return ws


@pytest.mark.parametrize("sdk", SDKS)
async def test_on_reconnecting_reconnects_with_its_overrides(sdk: str) -> None:
    """connect(on_reconnecting=...): called once with the attempt and close code; its overrides reach the next
    handshake; the events of both connections are yielded."""
    seen: list[Any] = []

    def on_reconnecting(event: Any) -> Any:
        seen.append(
            (event.attempt, event.max_attempts, event.close_code, event.delay <= 0.05, event.extra_query)
        )
        return {"extra_query": {"resume": "yes"}, "extra_headers": {"X-Retry": str(event.attempt)}}

    srv = Flaky()
    async with serve(routes(("GET", "/v1/realtime", srv.handler))) as url, make_client(sdk, url) as client:
        async with client.realtime.connect(
            model="gpt-realtime-2",
            extra_query={"tag": "a"},
            on_reconnecting=on_reconnecting,
            max_retries=3,
            initial_delay=0.01,
            max_delay=0.02,
        ) as connection:
            kinds = []
            async for event in connection:
                kinds.append(event.type)
                if event.type == "response.done":
                    break
    assert kinds == ["session.created", "session.created", "response.done"]
    assert seen == [(1, 3, 1011, True, {"tag": "a"})]
    assert srv.handshakes == [
        ({"model": "gpt-realtime-2", "tag": "a"}, None),
        ({"model": "gpt-realtime-2", "resume": "yes"}, "1"),
    ]


@pytest.mark.parametrize("sdk", SDKS)
async def test_on_reconnecting_can_abort(sdk: str) -> None:
    """Returning {"abort": True} ends the session with the close that caused it (the SDKs' own error types)."""
    from websockets.exceptions import ConnectionClosedError

    from openai_async import APIConnectionError

    expected = {"official": ConnectionClosedError, "ours": APIConnectionError}[sdk]
    srv = Flaky()
    async with serve(routes(("GET", "/v1/realtime", srv.handler))) as url, make_client(sdk, url) as client:
        async with client.realtime.connect(
            model="gpt-realtime-2", on_reconnecting=lambda e: {"abort": True}, initial_delay=0.01
        ) as connection:
            kinds = []
            with pytest.raises(expected):
                async for event in connection:
                    kinds.append(event.type)
    assert kinds == ["session.created"] and len(srv.handshakes) == 1


async def strict_pinger(request: web.Request) -> web.WebSocketResponse:
    """Pings at once and drops a client that does not answer within 0.3 s, as a strict server does."""
    ws = web.WebSocketResponse(autoping=False)
    await ws.prepare(request)
    await ws.ping(b"are you there")
    answered = False
    with anyio.move_on_after(0.3):
        while not answered:
            msg = await ws.receive()
            answered = msg.type is WSMsgType.PONG and msg.data == b"are you there"
    if not answered:
        await ws.close(code=1011, message=b"no pong")
        return ws
    await ws.send_str(frame("session.created", session={"type": "realtime"}))
    await ws.close()
    return ws


@pytest.mark.parametrize("sdk", SDKS)
async def test_a_ping_is_answered_while_the_app_is_busy_in_both(sdk: str) -> None:
    """The app does not read for 0.6 s: both SDKs answer the server's ping meanwhile and the session goes on."""
    async with serve(routes(("GET", "/v1/realtime", strict_pinger))) as url, make_client(sdk, url) as client:
        async with client.realtime.connect(model="gpt-realtime-2") as connection:
            await anyio.sleep(0.6)
            kinds = [event.type async for event in connection]
    assert kinds == ["session.created"]
