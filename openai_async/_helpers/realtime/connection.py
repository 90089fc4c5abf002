"""The Realtime API over a WebSocket: ``async with client.realtime.connect(model=...) as conn``.

The connection runs on the client's shared aiohttp session (no other WebSocket package). What it does:

- Client events go out as JSON text frames encoded by msgspec, through typed senders shaped like the official
  SDK's (``conn.session.update(session=...)``, ``conn.input_audio_buffer.append(audio=...)``, ...) or as any
  dict / Struct with ``conn.send(event)``. ``event_id`` is optional everywhere.
- Server events come back decoded into the generated ``RealtimeServerEvent`` union (``async for event in conn``
  or ``await conn.recv()``). A ``type`` this release does not know is yielded as ``Unknown`` (the raw dict, with
  ``.type``), never raised. A frame that is not a JSON object is yielded as ``Unknown({"type": None, "data":
  ...})``; ``conn.recv_bytes()`` returns frames undecoded.
- ``error`` events are yielded as ``RealtimeServerEventError``, as in the official SDK; with
  ``connect(raise_errors=True)`` they are raised as ``RealtimeAPIError`` instead (the connection stays open, so
  the caller may keep reading).
- Ending: ``await conn.close()`` or leaving the ``async with`` sends a normal close (1000). A close frame from the
  server with 1000 or 1001 ends the iteration; any other ending (a close code such as 1011, or the connection
  dropped without a close frame) raises ``APIConnectionError``: a cut session never looks like a finished one.
- ``connect(reconnect=True)`` (or a ``RetryPolicy``) reopens the WebSocket after a recoverable ending (no close
  frame, or code 1001/1005/1006/1011/1012/1013/1015, the official SDK's list) with backoff, then re-sends the
  session configuration sent so far (every ``session.update``'s ``session`` merged at the top level, later
  fields win) in one ``session.update``. The new server-side session's ``session.created`` is yielded as usual.
  Budget: ``RetryPolicy.max_retries`` consecutive attempts, reset by any non-error event. A handshake refused
  with a status that is not worth retrying (401, 403, 404 ...) is raised at once; when the budget runs out the
  last error is raised.

The API key travels only in the handshake's header: it is never part of a URL, repr or log line.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any, cast

import aiohttp
import anyio
import msgspec
from yarl import URL

from ..._core.client import USER_AGENT
from ..._core.decode import decode
from ..._core.errors import APIConnectionError, APIStatusError, RealtimeAPIError, status_error
from ..._core.headers import merge_headers
from ..._core.model import Unknown
from ..._core.retry import RetryPolicy, retry_delay, should_retry_status
from ..._core.transport import TRANSPORT_ERRORS, map_error, scrub
from ..._core.types import UNSET
from ...types.realtime import RealtimeServerEvent, RealtimeServerEventError

if TYPE_CHECKING:
    from types import TracebackType

    from typing_extensions import Self

    from ..._client import AsyncOpenAI

__all__ = ["RealtimeAPIError", "RealtimeConnection", "RealtimeConnectionManager", "audio_bytes"]

log = logging.getLogger("openai_async")

RECOVERABLE_CLOSE_CODES = frozenset({1001, 1005, 1006, 1011, 1012, 1013, 1015})
"""Close codes worth reconnecting after (RFC 6455 section 7.4.1; the official SDK's list)."""
_CLEAN_CLOSE_CODES = frozenset({1000, 1001})
_ABNORMAL = 1006
_DEFAULT_RECONNECT = RetryPolicy(max_retries=5, initial_wait=0.5, max_wait=8.0)

_encode = msgspec.json.encode
# aiohttp >= 3.13 can hand text frames over as bytes (msgspec decodes them without a str in between) and send
# pre-encoded bytes as a text frame; older releases decode to str and take str.
_WS_OPTIONS: dict[str, Any] = (
    {"decode_text": False} if "decode_text" in inspect.signature(aiohttp.ClientSession.ws_connect).parameters else {}
)
_HAS_SEND_FRAME = hasattr(aiohttp.ClientWebSocketResponse, "send_frame")

class _TypeOnly(msgspec.Struct):
    type: Any = None


_type_only = msgspec.json.Decoder(_TypeOnly)

ServerEvent = RealtimeServerEvent | Unknown
"""What ``recv()`` and iteration yield."""


def audio_bytes(event: Any) -> bytes:
    """Decode the base64 ``delta`` of an audio delta event into bytes.

    Works on ``response.output_audio.delta`` (typed) and on the older ``response.audio.delta`` (an ``Unknown``
    dict). msgspec decodes the base64 text straight from the string's buffer (no intermediate copy, ~3.5x
    faster than ``base64.b64decode``); wrap the result in ``memoryview`` to slice it without copying.

    Raises:
        ValueError: the event has no string ``delta`` or it is not base64.
    """
    delta = event.get("delta") if isinstance(event, dict) else getattr(event, "delta", None)
    if not isinstance(delta, str):
        raise ValueError(f"{type(event).__name__} has no base64 'delta' to decode")
    try:
        return msgspec.convert(delta, bytes)
    except msgspec.ValidationError as exc:
        raise ValueError(f"the audio delta is not valid base64: {exc}") from exc


def realtime_url(client: AsyncOpenAI, query: Mapping[str, Any]) -> URL:
    """``<websocket_base_url or base_url as ws(s)>/realtime?<query>``; ``query`` values UNSET/None are dropped."""
    base = URL(client.websocket_base_url or client.base_url)
    scheme = {"http": "ws", "https": "wss"}.get(base.scheme, base.scheme)
    params: dict[str, str] = dict(base.query)
    for source in (client.default_query, query):
        for name, value in source.items():
            if value is UNSET or value is None:
                continue
            params[name] = "true" if value is True else "false" if value is False else str(value)
    path = base.path.rstrip("/") + "/realtime"
    return base.with_scheme(scheme).with_path(path).with_query(params)


def _shown(url: URL) -> str:
    """The URL without any user:password part: what reprs and logs show."""
    return str(url.with_user(None)) if url.user or url.password else str(url)


class RealtimeConnectionManager:
    """What ``client.realtime.connect(...)`` returns: ``async with`` it (or ``await .enter()``) to connect.

    ``url`` is the WebSocket URL that will be used (headers are never shown).
    """

    def __init__(self, client: AsyncOpenAI, *, query: Mapping[str, Any],
                 extra_headers: Mapping[str, str | None] | None, reconnect: bool | RetryPolicy,
                 raise_errors: bool, timeout: float | None, heartbeat: float | None, max_message_size: int) -> None:
        self._client = client
        if getattr(client, "api_version", None) is not None:
            # AsyncAzureOpenAI (as the official SDK does it): the deployment is named by ``deployment=``
            query = dict(query)
            model = query.pop("model", None)
            query["deployment"] = getattr(client, "azure_deployment", None) or model
        self._url = realtime_url(client, query)
        self._extra_headers = dict(extra_headers) if extra_headers else {}
        if reconnect is True:
            self._policy: RetryPolicy | None = _DEFAULT_RECONNECT
        elif isinstance(reconnect, RetryPolicy):
            self._policy = reconnect
        else:
            self._policy = None
        self._raise_errors = raise_errors
        self._timeout = timeout
        self._heartbeat = heartbeat
        self._max_message_size = max_message_size
        self._connection: RealtimeConnection | None = None

    @property
    def url(self) -> str:
        """The WebSocket URL (without any credentials)."""
        return _shown(self._url)

    def __repr__(self) -> str:
        return f"<RealtimeConnectionManager {self.url}>"

    async def enter(self) -> RealtimeConnection:
        """Open the connection without ``async with``; you then close it with ``await conn.close()``."""
        ws = await self._open()
        self._connection = RealtimeConnection(ws, url=self._url, reopen=self._open, policy=self._policy,
                                              raise_errors=self._raise_errors)
        return self._connection

    async def __aenter__(self) -> RealtimeConnection:
        return await self.enter()

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        if self._connection is not None:
            await self._connection.close()

    async def _headers(self) -> dict[str, str]:
        client = self._client
        key = client.api_key
        if not isinstance(key, str):
            key = await key()
        own = {"User-Agent": USER_AGENT, client._auth_header: client._auth_prefix + key}
        if client.organization:
            own["OpenAI-Organization"] = client.organization
        if client.project:
            own["OpenAI-Project"] = client.project
        # Same precedence as HTTP calls: the key < default_headers < extra_headers, names case-insensitive.
        return merge_headers(own, client.default_headers, self._extra_headers,
                             names=("headers", "default_headers", "extra_headers"))

    async def _open(self) -> aiohttp.ClientWebSocketResponse:
        """One WebSocket handshake; raises ``APIStatusError`` for a refused upgrade, else ``APIConnectionError``."""
        headers = await self._headers()
        session = self._client._pool.open()
        log.debug("connecting to %s", _shown(self._url))
        try:
            with anyio.fail_after(self._timeout):
                return await session.ws_connect(  # type: ignore[no-any-return]
                    self._url, headers=headers, autoclose=True, autoping=True, heartbeat=self._heartbeat,
                    max_msg_size=self._max_message_size, **_WS_OPTIONS,
                )
        except aiohttp.WSServerHandshakeError as exc:
            scrub(exc)  # its request_info holds the headers, key included
            if exc.status >= 300:  # the upgrade was refused: 401, 403, 404, 429, 5xx ...
                raise status_error(exc.status, exc.headers or {}, None) from exc
            raise APIConnectionError(f"WebSocket handshake failed: {exc.message}") from exc
        except TRANSPORT_ERRORS as exc:
            raise map_error(exc) from exc


class RealtimeConnection:
    """A live Realtime session. Iterate it for server events; use the typed senders or ``send()`` for client events.

    Receive from one task at a time (``recv``, ``recv_bytes`` or iteration); sending works from any task.
    """

    def __init__(self, ws: aiohttp.ClientWebSocketResponse, *, url: URL,
                 reopen: Callable[[], Awaitable[aiohttp.ClientWebSocketResponse]], policy: RetryPolicy | None,
                 raise_errors: bool) -> None:
        self._ws = ws
        self._url = url
        self._reopen = reopen
        self._policy = policy
        self._raise_errors = raise_errors
        self._generation = 0  # bumped by every reconnect, so a task that saw the old socket fail does not redo it
        self._attempts = 0  # consecutive reconnect attempts since the last non-error event
        self._lock = anyio.Lock()
        self._session: dict[str, Any] | None = None  # every session.update's session, merged: replayed on reconnect
        self._closing = False
        self._close_code: int | None = None
        self._clean_end = False
        self.session = _SessionEvents(self)
        self.response = _ResponseEvents(self)
        self.input_audio_buffer = _InputAudioBufferEvents(self)
        self.output_audio_buffer = _OutputAudioBufferEvents(self)
        self.conversation = _ConversationEvents(self)

    audio_bytes = staticmethod(audio_bytes)

    def __repr__(self) -> str:
        state = "closed" if self.closed else "open"
        return f"<RealtimeConnection {_shown(self._url)} {state}>"

    @property
    def closed(self) -> bool:
        """True once the session has ended (closed by either side, or dropped for good)."""
        return self._close_code is not None

    @property
    def close_code(self) -> int | None:
        """The WebSocket close code once the session has ended (1006 when it was dropped without one)."""
        return self._close_code

    # -- receiving -----------------------------------------------------------------------------------------

    def __aiter__(self) -> Self:
        return self

    async def __anext__(self) -> ServerEvent:
        try:
            return await self.recv()
        except APIConnectionError:
            if self._clean_end:
                raise StopAsyncIteration from None
            raise

    async def recv(self) -> ServerEvent:
        """Wait for the next server event and decode it.

        Raises:
            APIConnectionError: the session has ended (after a clean end too: see ``closed`` and ``close_code``).
            RealtimeAPIError: an ``error`` event, when the connection was opened with ``raise_errors=True``.
        """
        event = self.parse_event(await self._next_frame())
        if isinstance(event, RealtimeServerEventError):
            if self._raise_errors:
                raise RealtimeAPIError(event)
        else:
            self._attempts = 0
        return event

    @staticmethod
    def parse_event(data: bytes | str) -> ServerEvent:
        """Decode one frame's payload (e.g. from ``recv_bytes()``) as ``recv()`` does, without raising for errors."""
        try:
            event: Any = decode(data, RealtimeServerEvent)
        except msgspec.DecodeError:
            return Unknown({"type": None, "data": data})
        if not isinstance(event, (msgspec.Struct, dict)):
            return Unknown({"type": None, "data": event})
        return cast("ServerEvent", event)

    async def recv_bytes(self) -> bytes:
        """Wait for the next frame and return its payload undecoded (a text frame as its UTF-8 bytes).

        Raises:
            APIConnectionError: the session has ended.
        """
        data = await self._next_frame()
        if self._attempts:  # after a reconnect, any non-error event restores the reconnect budget
            try:
                if _type_only.decode(data).type != "error":
                    self._attempts = 0
            except msgspec.MsgspecError:
                pass
        return data.encode() if isinstance(data, str) else data

    async def _next_frame(self) -> bytes | str:
        while True:
            if self._close_code is not None:
                raise APIConnectionError(f"The realtime connection is closed (code {self._close_code}).")
            ws, generation = self._ws, self._generation
            msg = await ws.receive()
            kind = msg.type
            if kind is aiohttp.WSMsgType.TEXT or kind is aiohttp.WSMsgType.BINARY:
                return msg.data  # type: ignore[no-any-return]
            if kind is aiohttp.WSMsgType.PING or kind is aiohttp.WSMsgType.PONG:
                continue
            # The socket has ended: by our close(), by a close frame from the server, or without one.
            if self._closing:
                self._end(ws.close_code if ws.close_code is not None else 1000, clean=True)
                continue
            cause: BaseException | None = None
            reason = ""
            if kind is aiohttp.WSMsgType.CLOSE:
                code, reason = int(msg.data) or 1005, msg.extra or ""  # an empty close frame: 1005, no status
            elif kind is aiohttp.WSMsgType.ERROR:
                # a protocol error (too big, bad frame) carries its own code; anything else is a drop
                cause = msg.data if isinstance(msg.data, BaseException) else None
                own = ws.close_code
                code = own if own is not None and own != 1000 else _ABNORMAL
            else:  # CLOSED without a close frame first: the connection was dropped (aiohttp reports it as 1000)
                code = _ABNORMAL
            if generation != self._generation:
                continue  # another task already reconnected
            if self._policy is not None and code in RECOVERABLE_CLOSE_CODES:
                await self._reconnect(generation, f"close code {code}")
                continue
            self._end(code, clean=code in _CLEAN_CLOSE_CODES)
            if code in _CLEAN_CLOSE_CODES:
                continue
            detail = "dropped without a close frame" if code == _ABNORMAL else f"code {code}"
            if reason:
                detail = f"{detail}: {reason}"
            raise APIConnectionError(f"The realtime connection ended abnormally ({detail}).") from cause

    def _end(self, code: int, *, clean: bool) -> None:
        if self._close_code is None:
            self._close_code = code
            self._clean_end = clean

    async def _reconnect(self, generation: int, why: str) -> None:
        policy = self._policy
        assert policy is not None
        async with self._lock:
            if generation != self._generation:
                return  # another task got there first
            started = anyio.current_time()
            while True:
                if not self._ws.closed:
                    await self._ws.close()
                if self._closing:
                    return  # close() was called meanwhile: the receive loop reports the clean end
                if self._attempts >= policy.max_retries or (
                    policy.total_timeout is not None and anyio.current_time() - started >= policy.total_timeout
                ):
                    self._end(_ABNORMAL, clean=False)
                    raise APIConnectionError(
                        f"The realtime connection was lost ({why}) and {self._attempts} reconnect attempts failed."
                    )
                delay = retry_delay(policy, self._attempts)
                self._attempts += 1
                log.info("realtime connection lost (%s); reconnecting in %.2fs (attempt %d of %d)",
                         why, delay, self._attempts, policy.max_retries)
                await anyio.sleep(delay)
                if self._closing:
                    return
                try:
                    ws = await self._reopen()
                except APIStatusError as exc:
                    if self._attempts >= policy.max_retries or not should_retry_status(exc.status_code, exc.headers):
                        self._end(_ABNORMAL, clean=False)
                        raise  # the last error itself, not a wrapper
                    why = f"handshake answered {exc.status_code}"
                    continue
                except APIConnectionError as exc:
                    if self._attempts >= policy.max_retries:
                        self._end(_ABNORMAL, clean=False)
                        raise
                    why = str(exc)
                    continue
                if self._closing:  # close() ran while we were reconnecting
                    await ws.close()
                    return
                self._ws = ws
                self._generation += 1
                if self._session is not None:
                    try:
                        await self._write(ws, _encode({"type": "session.update", "session": self._session}))
                    except TRANSPORT_ERRORS as exc:
                        why = f"replaying session.update failed: {type(exc).__name__}"
                        continue
                return

    # -- sending -------------------------------------------------------------------------------------------

    async def send(self, event: Mapping[str, Any] | msgspec.Struct) -> None:
        """Send one client event: a dict (``{"type": "response.create", ...}``) or a generated event Struct.

        ``bytes`` values anywhere in a dict are sent base64-encoded (msgspec's JSON encoding of bytes).
        """
        if isinstance(event, msgspec.Struct):
            kind = event.__struct_config__.tag
            session = getattr(event, "session", None) if kind == "session.update" else None
        else:
            kind = event.get("type")
            session = event.get("session") if kind == "session.update" else None
        if session is not None:
            fields = session if isinstance(session, dict) else msgspec.to_builtins(session)
            self._session = {**(self._session or {}), **fields}
        await self._send_bytes(_encode(event), replayed=session is not None)

    async def _send_bytes(self, data: bytes, *, replayed: bool = False) -> None:
        while True:
            if self._closing or self._close_code is not None:
                raise APIConnectionError("The realtime connection is closed.")
            ws, generation = self._ws, self._generation
            try:
                await self._write(ws, data)
                return
            except TRANSPORT_ERRORS as exc:
                if self._policy is None or self._closing:
                    raise map_error(exc) from exc
                await self._reconnect(generation, f"send failed: {type(exc).__name__}")
                if replayed:
                    return  # the reconnect re-sent the merged session, this update included

    @staticmethod
    async def _write(ws: aiohttp.ClientWebSocketResponse, data: bytes) -> None:
        if ws.closed:
            raise ConnectionResetError("Cannot write to a closed WebSocket")
        if _HAS_SEND_FRAME:
            await ws.send_frame(data, aiohttp.WSMsgType.TEXT)
        else:  # pragma: no cover - aiohttp < 3.11
            await ws.send_str(data.decode())

    async def _emit(self, kind: str, fields: dict[str, Any]) -> None:
        event = {"type": kind}
        event.update((k, v) for k, v in fields.items() if v is not UNSET)
        await self.send(event)

    # -- closing -------------------------------------------------------------------------------------------

    async def close(self, *, code: int = 1000, reason: str = "") -> None:
        """Close the session with a close frame (normal closure by default); safe to call twice."""
        if self._closing:
            return
        self._closing = True
        ws = self._ws
        try:
            await ws.close(code=code, message=reason.encode())
        except TRANSPORT_ERRORS:  # the peer is already gone: nothing left to close
            pass
        self._end(ws.close_code if ws.close_code is not None else code, clean=True)

    aclose = close

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        await self.close()


# -- the typed senders, shaped like the official SDK's connection resources ---------------------------------


class _Events:
    __slots__ = ("_conn",)

    def __init__(self, conn: RealtimeConnection) -> None:
        self._conn = conn


class _SessionEvents(_Events):
    async def update(self, *, session: Mapping[str, Any] | msgspec.Struct, event_id: str | Any = UNSET) -> None:
        """Send ``session.update``: change the session's configuration (``session={"type": "realtime", ...}``)."""
        await self._conn._emit("session.update", {"session": session, "event_id": event_id})


class _ResponseEvents(_Events):
    async def create(self, *, response: Mapping[str, Any] | msgspec.Struct | Any = UNSET,
                     event_id: str | Any = UNSET) -> None:
        """Send ``response.create``: ask the model for a response (optionally with per-response settings)."""
        await self._conn._emit("response.create", {"response": response, "event_id": event_id})

    async def cancel(self, *, response_id: str | Any = UNSET, event_id: str | Any = UNSET) -> None:
        """Send ``response.cancel``: stop the in-progress response (or the one named by ``response_id``)."""
        await self._conn._emit("response.cancel", {"response_id": response_id, "event_id": event_id})


class _InputAudioBufferEvents(_Events):
    async def append(self, *, audio: str | bytes | bytearray | memoryview, event_id: str | Any = UNSET) -> None:
        """Send ``input_audio_buffer.append``. ``audio`` is base64 text, or raw bytes that are base64-encoded."""
        if isinstance(audio, (bytearray, memoryview)):
            audio = bytes(audio)
        await self._conn._emit("input_audio_buffer.append", {"audio": audio, "event_id": event_id})

    async def commit(self, *, event_id: str | Any = UNSET) -> None:
        """Send ``input_audio_buffer.commit``: turn the buffered audio into a user message item."""
        await self._conn._emit("input_audio_buffer.commit", {"event_id": event_id})

    async def clear(self, *, event_id: str | Any = UNSET) -> None:
        """Send ``input_audio_buffer.clear``: drop the buffered audio."""
        await self._conn._emit("input_audio_buffer.clear", {"event_id": event_id})


class _OutputAudioBufferEvents(_Events):
    async def clear(self, *, event_id: str | Any = UNSET) -> None:
        """Send ``output_audio_buffer.clear`` (WebRTC/SIP sessions): cut off the current audio response."""
        await self._conn._emit("output_audio_buffer.clear", {"event_id": event_id})


class _ConversationItemEvents(_Events):
    async def create(self, *, item: Mapping[str, Any] | msgspec.Struct, previous_item_id: str | Any = UNSET,
                     event_id: str | Any = UNSET) -> None:
        """Send ``conversation.item.create``: add a message, function call or function call output."""
        await self._conn._emit("conversation.item.create",
                               {"item": item, "previous_item_id": previous_item_id, "event_id": event_id})

    async def delete(self, *, item_id: str, event_id: str | Any = UNSET) -> None:
        """Send ``conversation.item.delete``."""
        await self._conn._emit("conversation.item.delete", {"item_id": item_id, "event_id": event_id})

    async def truncate(self, *, item_id: str, content_index: int, audio_end_ms: int,
                       event_id: str | Any = UNSET) -> None:
        """Send ``conversation.item.truncate``: cut an assistant message's audio at ``audio_end_ms``."""
        await self._conn._emit("conversation.item.truncate", {
            "item_id": item_id, "content_index": content_index, "audio_end_ms": audio_end_ms, "event_id": event_id,
        })

    async def retrieve(self, *, item_id: str, event_id: str | Any = UNSET) -> None:
        """Send ``conversation.item.retrieve``: ask for the server's copy of an item."""
        await self._conn._emit("conversation.item.retrieve", {"item_id": item_id, "event_id": event_id})


class _ConversationEvents(_Events):
    __slots__ = ("item",)

    def __init__(self, conn: RealtimeConnection) -> None:
        super().__init__(conn)
        self.item = _ConversationItemEvents(conn)
