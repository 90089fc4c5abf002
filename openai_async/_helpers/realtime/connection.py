"""The Realtime API over a WebSocket: ``async with client.realtime.connect(model=...) as conn``.

The connection runs on the client's shared aiohttp session (no other WebSocket package). What it does:

- Client events go out as JSON text frames encoded by msgspec, through typed senders shaped like the official
  SDK's (``conn.session.update(session=...)``, ``conn.input_audio_buffer.append(audio=...)``, ...) or as any
  dict / Struct with ``conn.send(event)``. ``event_id`` is optional everywhere.
- A reader task owns the socket from the handshake to the end: it answers pings (and sends its own every
  ``heartbeat`` seconds of silence, 20 by default) and notices a close frame whether or not the app is reading,
  keeping the frames in a bounded inbox (``max_queue`` frames, 1024 by default; when full it stops reading until
  the app catches up, as ``websockets`` does). Once the session has ended, sending raises ``APIConnectionError``;
  the events that arrived before the end are still yielded.
- Server events come back decoded into the generated ``RealtimeServerEvent`` union (``async for event in conn``
  or ``await conn.recv()``), or pushed to handlers (``conn.on(type, handler)`` / ``once`` / ``off``, then
  ``await conn.dispatch_events()``). A ``type`` this release does not know is yielded as a ``Loose`` (an
  ``Unknown``: the raw dict, readable by attribute too), never raised; a field a known event does not declare
  is kept on it, nested ones too except on ``*.delta`` events (``_helpers/drift.py``). A frame that is not a
  JSON object is yielded as ``Loose({"type": None, "data": ...})``; ``conn.recv_bytes()`` returns frames
  undecoded.
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

Where the official SDK raises ``websockets`` exceptions, this one raises its own (docs/realtime.md has the
table): a refused handshake (``InvalidStatus``) is the ``APIStatusError`` of its status (401:
``AuthenticationError`` ...); a handshake that fails otherwise is ``APIConnectionError`` (``APITimeoutError``
after ``timeout``); ``ConnectionClosedOK`` ends the iteration as there; ``ConnectionClosedError`` and any
``ConnectionClosed`` from a send are ``APIConnectionError`` naming the close code.
"""

from __future__ import annotations

import asyncio
import dataclasses
import inspect
import logging
import urllib.request
from collections import deque
from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any, TypedDict, TypeVar, cast, overload

import aiohttp
import anyio
import msgspec
from yarl import URL

from ..._core.client import USER_AGENT
from ..._core.decode import decode
from ..._core.errors import APIConnectionError, APIStatusError, OpenAIError, RealtimeAPIError, status_error
from ..._core.headers import merge_headers
from ..._core.model import Unknown
from ..._core.retry import RetryPolicy, retry_delay, should_retry_status
from ..._core.transport import TRANSPORT_ERRORS, AiohttpTransport, map_error, scrub
from ..._core.types import UNSET
from ...types.realtime import RealtimeServerEvent, RealtimeServerEventError
from ..drift import Loose, raw_fields, with_extras

if TYPE_CHECKING:
    from types import TracebackType

    from typing_extensions import Self

    from ..._client import AsyncOpenAI

__all__ = [
    "ReconnectingEvent",
    "ReconnectingOverrides",
    "RealtimeAPIError",
    "RealtimeConnection",
    "RealtimeConnectionManager",
    "audio_bytes",
]

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
    {"decode_text": False}
    if "decode_text" in inspect.signature(aiohttp.ClientSession.ws_connect).parameters
    else {}
)
_HAS_SEND_FRAME = hasattr(aiohttp.ClientWebSocketResponse, "send_frame")
_F = TypeVar("_F", bound=Callable[..., Any])


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


@dataclasses.dataclass(frozen=True)
class ReconnectingEvent:
    """What ``connect(on_reconnecting=...)`` is told before each reconnect attempt (as in the official SDK)."""

    attempt: int
    """This attempt's number, from 1."""
    max_attempts: int
    """How many attempts will be made at most."""
    delay: float
    """Seconds waited before this attempt connects."""
    close_code: int
    """The close code that ended the connection (1006: dropped without one)."""
    extra_query: dict[str, Any]
    """The ``extra_query`` of the next handshake."""
    extra_headers: dict[str, Any]
    """The ``extra_headers`` of the next handshake."""


class ReconnectingOverrides(TypedDict, total=False):
    """What ``on_reconnecting`` may return: new ``extra_query`` / ``extra_headers``, or ``abort=True``."""

    extra_query: Mapping[str, Any]
    extra_headers: Mapping[str, str | None]
    abort: bool


class _Inbox:
    """Frames the reader task has received and the app has not taken yet, in order.

    Bounded at ``limit`` frames (None: unbounded): a full inbox makes the reader wait, so the server is slowed
    by TCP flow control instead of growing memory (while it waits, pings go unanswered, as with ``websockets``).
    The end of a socket is queued past the bound, so it is never lost.
    """

    __slots__ = ("_items", "_limit", "_readable", "_writable")

    def __init__(self, limit: int | None) -> None:
        self._items: deque[Any] = deque()
        self._limit = limit
        self._readable = anyio.Event()
        self._writable = anyio.Event()

    async def put(self, item: bytes | str) -> None:
        while self._limit is not None and len(self._items) >= self._limit:
            if self._writable.is_set():
                self._writable = anyio.Event()
            await self._writable.wait()
        self._items.append(item)
        self._readable.set()

    def put_end(self, ending: _Ending) -> None:
        self._items.append(ending)
        self._readable.set()

    async def get(self) -> Any:
        """The next item; None when ``wake()`` was called with nothing queued (the caller looks at its state)."""
        if not self._items:
            if self._readable.is_set():
                self._readable = anyio.Event()
            await self._readable.wait()
            if not self._items:
                return None
        item = self._items.popleft()
        self._writable.set()
        return item

    def wake(self) -> None:
        self._readable.set()


class _Ending:
    """How one socket ended, as its reader saw it."""

    __slots__ = ("cause", "code", "generation", "reason")

    def __init__(
        self, generation: int, code: int, reason: str = "", cause: BaseException | None = None
    ) -> None:
        self.generation = generation
        self.code = code
        self.reason = reason
        self.cause = cause


class _Handlers:
    """Event handlers by event type (``"event"``: every event), in the order they were added."""

    __slots__ = ("_by_type",)

    def __init__(self) -> None:
        self._by_type: dict[str, list[tuple[Callable[..., Any], bool]]] = {}

    def add(self, event_type: str, handler: Callable[..., Any], *, once: bool = False) -> None:
        if not isinstance(event_type, str) or not callable(handler):
            raise TypeError("on()/once() take an event type (str) and a callable handler")
        self._by_type.setdefault(event_type, []).append((handler, once))

    def remove(self, event_type: str, handler: Callable[..., Any]) -> None:
        """Remove the first registration of ``handler`` for ``event_type`` (nothing when there is none)."""
        entries = self._by_type.get(event_type, [])
        for index, (registered, _) in enumerate(entries):
            if registered == handler:
                del entries[index]
                return

    def take(self, event_type: str) -> list[Callable[..., Any]]:
        """The handlers to call for one event; ``once`` handlers are removed."""
        entries = self._by_type.get(event_type)
        if not entries:
            return []
        self._by_type[event_type] = [entry for entry in entries if not entry[1]]
        return [handler for handler, _ in entries]

    def move_to(self, other: _Handlers) -> None:
        for event_type, entries in self._by_type.items():
            other._by_type.setdefault(event_type, []).extend(entries)
        self._by_type.clear()


def _register(
    handlers: _Handlers, owner: Any, event_type: str, handler: Callable[..., Any] | None, once: bool
) -> Any:
    if handler is not None:
        handlers.add(event_type, handler, once=once)
        return owner

    def decorator(fn: _F) -> _F:
        handlers.add(event_type, fn, once=once)
        return fn

    return decorator


class _Options:
    """``websocket_connection_options`` (the ``websockets`` names of the official SDK) mapped onto aiohttp."""

    __slots__ = (
        "close_timeout",
        "compress",
        "headers",
        "heartbeat",
        "max_message_size",
        "max_queue",
        "open_timeout",
        "protocols",
        "proxy",
    )

    def __init__(
        self,
        options: Mapping[str, Any],
        *,
        heartbeat: float | None,
        max_message_size: int,
        timeout: float | None,
    ) -> None:
        unknown = sorted(set(options) - _OPTION_NAMES)
        if unknown:
            raise TypeError(
                f"websocket_connection_options: unknown option {unknown[0]!r} "
                f"(supported: {', '.join(sorted(_OPTION_NAMES))})"
            )
        if options.get("extensions"):
            raise ValueError(
                "websocket_connection_options['extensions'] takes websockets extension factories, which "
                "have no aiohttp equivalent; use compression='deflate' for permessage-deflate"
            )
        compression = options.get("compression")
        if compression not in (None, "deflate"):
            raise ValueError(
                f"websocket_connection_options['compression'] must be 'deflate' or None, got {compression!r}"
            )
        self.compress = 15 if compression == "deflate" else 0
        size = options.get("max_size", max_message_size)
        if size is not None and (not isinstance(size, int) or size < 0):
            raise ValueError(
                f"websocket_connection_options['max_size'] must be a byte count or None, got {size!r}"
            )
        self.max_message_size = size or 0
        queue = options.get("max_queue", _DEFAULT_MAX_QUEUE)
        if isinstance(queue, tuple):
            queue = queue[0]
        if queue is not None and (not isinstance(queue, int) or queue < 1):
            raise ValueError(
                f"websocket_connection_options['max_queue'] must be a frame count >= 1 or None, got {queue!r}"
            )
        self.max_queue: int | None = queue
        self.heartbeat = options.get("ping_interval", heartbeat)
        self.open_timeout = options.get("open_timeout", timeout)
        self.close_timeout: float | None = options.get("close_timeout")
        self.protocols = tuple(options.get("subprotocols") or ())
        extra = options.get("additional_headers") or {}
        self.headers = dict(extra.items() if isinstance(extra, Mapping) else extra)
        # Not given: the environment's proxy unless the client says trust_env=False, as for the REST calls
        # (websockets' own default is the environment's too). None: no proxy. True: the environment's.
        proxy = options.get("proxy", _AS_CLIENT)
        if proxy is not None and proxy is not True and proxy is not _AS_CLIENT and not isinstance(proxy, str):
            raise ValueError(
                f"websocket_connection_options['proxy'] must be a URL, True or None, got {proxy!r}"
            )
        self.proxy: Any = proxy

    def proxy_for(self, url: URL, *, trust_env: bool = True) -> str | None:
        """The proxy URL for ``url``: the one given, or the environment's (``HTTPS_PROXY`` ..., ``NO_PROXY``) when
        ``proxy=True``, or when no proxy option was given and the client trusts the environment."""
        proxy = self.proxy
        if proxy is _AS_CLIENT:
            proxy = trust_env
        if proxy is not True:
            return proxy or None
        if url.host is None or urllib.request.proxy_bypass(url.host):
            return None
        proxies = urllib.request.getproxies()
        return proxies.get("https" if url.scheme == "wss" else "http")


_DEFAULT_MAX_QUEUE = 1024
_AS_CLIENT: Any = object()
_OPTION_NAMES = frozenset(
    {
        # the official SDK's WebSocketConnectionOptions
        "extensions",
        "subprotocols",
        "compression",
        "max_size",
        "max_queue",
        "write_limit",
        # further websockets.connect() arguments the official SDK passes through
        "ping_interval",
        "ping_timeout",
        "open_timeout",
        "close_timeout",
        "additional_headers",
        "proxy",
    }
)


class RealtimeConnectionManager:
    """What ``client.realtime.connect(...)`` returns: ``async with`` it (or ``await .enter()``) to connect.

    ``url`` is the WebSocket URL that will be used (headers are never shown). Before connecting, ``send()``
    queues client events and ``on()`` / ``once()`` / ``off()`` register handlers; both move to the connection
    when it opens (the queued events are sent first, in order).
    """

    def __init__(
        self,
        client: AsyncOpenAI,
        *,
        query: Mapping[str, Any],
        extra_headers: Mapping[str, str | None] | None,
        reconnect: bool | RetryPolicy,
        raise_errors: bool,
        timeout: float | None,
        heartbeat: float | None,
        max_message_size: int,
        websocket_connection_options: Mapping[str, Any] | None = None,
        extra_query: Mapping[str, Any] | None = None,
        on_reconnecting: Callable[[ReconnectingEvent], Any] | None = None,
        max_retries: int = 5,
        initial_delay: float = 0.5,
        max_delay: float = 8.0,
    ) -> None:
        self._client = client
        if getattr(client, "api_version", None) is not None:
            # AsyncAzureOpenAI (as the official SDK does it): the deployment is named by ``deployment=``
            query = dict(query)
            model = query.pop("model", None)
            query["deployment"] = getattr(client, "azure_deployment", None) or model
        self._query = dict(query)
        self._extra_query = dict(extra_query or {})  # on_reconnecting may replace it for the next handshake
        self._url = realtime_url(client, {**self._query, **self._extra_query})
        self._options = _Options(
            websocket_connection_options or {},
            heartbeat=heartbeat,
            max_message_size=max_message_size,
            timeout=timeout,
        )
        self._given_headers = dict(extra_headers or {})  # on_reconnecting may replace these
        self._extra_headers = {**self._options.headers, **self._given_headers}
        self._on_reconnecting = on_reconnecting
        if reconnect is True:
            self._policy: RetryPolicy | None = _DEFAULT_RECONNECT
        elif isinstance(reconnect, RetryPolicy):
            self._policy = reconnect
        elif on_reconnecting is not None:  # the official SDK's way to turn reconnecting on
            if not isinstance(max_retries, int) or max_retries < 0:
                raise ValueError(f"max_retries must be an int >= 0, got {max_retries!r}")
            if initial_delay < 0 or max_delay < 0:
                raise ValueError("initial_delay and max_delay must be >= 0")
            self._policy = RetryPolicy(
                max_retries=max_retries, initial_wait=initial_delay, max_wait=max_delay
            )
        else:
            self._policy = None
        self._raise_errors = raise_errors
        self._connection: RealtimeConnection | None = None
        self._pending: list[Mapping[str, Any] | msgspec.Struct] = []
        self._handlers = _Handlers()

    @property
    def url(self) -> str:
        """The WebSocket URL (without any credentials)."""
        return _shown(self._url)

    def __repr__(self) -> str:
        return f"<RealtimeConnectionManager {self.url}>"

    def send(self, event: Mapping[str, Any] | msgspec.Struct) -> None:
        """Queue a client event to send as soon as the connection opens (before ``enter()`` returns)."""
        _encode(event)  # fail here, not at connect time, on an event that cannot be encoded
        self._pending.append(event)

    @overload
    def on(self, event_type: str, handler: Callable[..., Any]) -> Self: ...
    @overload
    def on(self, event_type: str, handler: None = None) -> Callable[[_F], _F]: ...
    def on(self, event_type: str, handler: Callable[..., Any] | None = None) -> Any:
        """Register a handler now for ``dispatch_events()`` on the connection; as ``RealtimeConnection.on``."""
        return _register(self._handlers, self, event_type, handler, once=False)

    @overload
    def once(self, event_type: str, handler: Callable[..., Any]) -> Self: ...
    @overload
    def once(self, event_type: str, handler: None = None) -> Callable[[_F], _F]: ...
    def once(self, event_type: str, handler: Callable[..., Any] | None = None) -> Any:
        """Register a handler called for the next such event only; as ``RealtimeConnection.once``."""
        return _register(self._handlers, self, event_type, handler, once=True)

    def off(self, event_type: str, handler: Callable[..., Any]) -> Self:
        """Remove a handler registered with ``on()`` / ``once()``."""
        self._handlers.remove(event_type, handler)
        return self

    async def enter(self) -> RealtimeConnection:
        """Open the connection without ``async with``; you then close it with ``await conn.close()``."""
        ws = await self._open()
        conn = RealtimeConnection(
            ws,
            url=self._url,
            reopen=self._open,
            policy=self._policy,
            raise_errors=self._raise_errors,
            max_queue=self._options.max_queue,
            before_reconnect=self._before_reconnect if self._on_reconnecting else None,
        )
        self._handlers.move_to(conn._handlers)
        try:
            while self._pending:
                await conn.send(self._pending[0])
                del self._pending[0]
        except BaseException:
            await conn.close()
            raise
        self._connection = conn
        return conn

    async def __aenter__(self) -> RealtimeConnection:
        return await self.enter()

    async def _before_reconnect(self, attempt: int, max_attempts: int, delay: float, close_code: int) -> bool:
        """Ask ``on_reconnecting`` about the next attempt; False stops reconnecting (``abort`` or an exception)."""
        assert self._on_reconnecting is not None
        event = ReconnectingEvent(
            attempt=attempt,
            max_attempts=max_attempts,
            delay=delay,
            close_code=close_code,
            extra_query=dict(self._extra_query),
            extra_headers=dict(self._given_headers),
        )
        try:
            result = self._on_reconnecting(event)
            if inspect.isawaitable(result):
                result = await result
        except Exception:
            log.warning("on_reconnecting raised: not reconnecting", exc_info=True)
            return False
        if not result:
            return True
        if result.get("abort"):
            return False
        if "extra_query" in result:
            self._extra_query = dict(result["extra_query"] or {})
            self._url = realtime_url(self._client, {**self._query, **self._extra_query})
        if "extra_headers" in result:
            self._given_headers = dict(result["extra_headers"] or {})
            self._extra_headers = {**self._options.headers, **self._given_headers}
        return True

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
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
        return merge_headers(
            own,
            client.default_headers,
            self._extra_headers,
            names=("headers", "default_headers", "extra_headers"),
        )

    async def _open(self) -> aiohttp.ClientWebSocketResponse:
        """One WebSocket handshake; raises ``APIStatusError`` for a refused upgrade, else ``APIConnectionError``."""
        headers = await self._headers()
        transport = self._client._pool
        if not isinstance(transport, AiohttpTransport):
            raise OpenAIError(
                "Realtime connections need the default aiohttp transport, not a custom transport=."
            )
        session = transport.open()
        options = self._options
        extra: dict[str, Any] = dict(_WS_OPTIONS)
        if options.close_timeout is not None:
            extra["timeout"] = aiohttp.ClientWSTimeout(ws_close=options.close_timeout)
        log.debug("connecting to %s", _shown(self._url))
        try:
            with anyio.fail_after(options.open_timeout):
                return await session.ws_connect(  # type: ignore[no-any-return]
                    self._url,
                    headers=headers,
                    autoclose=True,
                    autoping=True,
                    heartbeat=options.heartbeat,
                    max_msg_size=options.max_message_size,
                    compress=options.compress,
                    protocols=options.protocols,
                    proxy=options.proxy_for(self._url, trust_env=transport.trust_env),
                    **extra,
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

    A reader task owns the socket from the handshake to the end: it answers pings and notices a close frame
    whether or not the app is reading, and keeps the frames for the app in a bounded inbox (``max_queue``).
    Receive from one task at a time (``recv``, ``recv_bytes``, iteration or ``dispatch_events``); sending works
    from any task, and raises ``APIConnectionError`` once the session has ended.
    """

    def __init__(
        self,
        ws: aiohttp.ClientWebSocketResponse,
        *,
        url: URL,
        reopen: Callable[[], Awaitable[aiohttp.ClientWebSocketResponse]],
        policy: RetryPolicy | None,
        raise_errors: bool,
        max_queue: int | None = _DEFAULT_MAX_QUEUE,
        before_reconnect: Callable[[int, int, float, int], Awaitable[bool]] | None = None,
    ) -> None:
        self._ws = ws
        self._before_reconnect = before_reconnect
        self._url = url
        self._reopen = reopen
        self._policy = policy
        self._raise_errors = raise_errors
        self._generation = (
            0  # bumped by every reconnect, so a task that saw the old socket fail does not redo it
        )
        self._attempts = 0  # consecutive reconnect attempts since the last non-error event
        self._lock = anyio.Lock()
        self._session: dict[str, Any] | None = (
            None  # every session.update's session, merged: replayed on reconnect
        )
        self._closing = False
        self._close_code: int | None = None
        self._clean_end = False
        self._drained = False  # the app has taken every frame and the ending: receiving raises at once
        self._inbox = _Inbox(max_queue)
        self._readers: set[asyncio.Task[None]] = set()
        self._handlers = _Handlers()
        self.session = _SessionEvents(self)
        self.response = _ResponseEvents(self)
        self.input_audio_buffer = _InputAudioBufferEvents(self)
        self.output_audio_buffer = _OutputAudioBufferEvents(self)
        self.conversation = _ConversationEvents(self)
        self._start_reader(ws, 0)

    audio_bytes = staticmethod(audio_bytes)

    def __repr__(self) -> str:
        state = "closed" if self.closed else "open"
        return f"<RealtimeConnection {_shown(self._url)} {state}>"

    @property
    def closed(self) -> bool:
        """True once the session has ended (closed by either side, or dropped for good).

        Events received before the end may still be waiting to be read.
        """
        return self._close_code is not None

    @property
    def close_code(self) -> int | None:
        """The WebSocket close code once the session has ended (1006 when it was dropped without one)."""
        return self._close_code

    # -- the reader task -----------------------------------------------------------------------------------

    def _start_reader(self, ws: aiohttp.ClientWebSocketResponse, generation: int) -> None:
        # A plain asyncio task (aiohttp runs on asyncio only): the connection outlives any one scope (``enter()``
        # hands it back to the caller), so no task group could own it. close() cancels and awaits it.
        task = asyncio.get_running_loop().create_task(self._read(ws, generation))
        self._readers.add(task)
        task.add_done_callback(self._readers.discard)

    async def _read(self, ws: aiohttp.ClientWebSocketResponse, generation: int) -> None:
        """Take every frame off ``ws`` (aiohttp answers pings inside ``receive``) until it ends; queue the ending."""
        inbox = self._inbox
        try:
            while True:
                msg = await ws.receive()
                kind = msg.type
                if kind is aiohttp.WSMsgType.TEXT or kind is aiohttp.WSMsgType.BINARY:
                    await inbox.put(msg.data)
                elif kind is not aiohttp.WSMsgType.PING and kind is not aiohttp.WSMsgType.PONG:
                    break
            ending = self._ending_of(ws, msg, generation)
        except Exception as exc:  # whatever stopped the reader ends this socket, and is reported with it
            ending = _Ending(generation, _ABNORMAL, "", exc)
        if (
            generation == self._generation
            and not self._closing
            and (self._policy is None or ending.code not in RECOVERABLE_CLOSE_CODES)
        ):
            self._end(ending.code, clean=ending.code in _CLEAN_CLOSE_CODES)  # sends raise from now on
        inbox.put_end(ending)

    def _ending_of(
        self, ws: aiohttp.ClientWebSocketResponse, msg: aiohttp.WSMessage, generation: int
    ) -> _Ending:
        kind = msg.type
        if self._closing:
            return _Ending(generation, ws.close_code if ws.close_code is not None else 1000)
        if kind is aiohttp.WSMsgType.CLOSE:
            return _Ending(generation, int(msg.data) or 1005, msg.extra or "")  # an empty close frame: 1005
        if kind is aiohttp.WSMsgType.ERROR:
            # a protocol error (too big, bad frame) carries its own code; anything else is a drop
            cause = msg.data if isinstance(msg.data, BaseException) else None
            own = ws.close_code
            return _Ending(generation, own if own is not None and own != 1000 else _ABNORMAL, "", cause)
        # CLOSED or CLOSING without a close frame first: the connection was dropped (aiohttp reports it as 1000)
        return _Ending(generation, _ABNORMAL)

    async def _stop_readers(self) -> None:
        tasks = list(self._readers)
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks)

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

        Cancelling it is safe: no event is lost.

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
        """Decode one frame's payload (e.g. from ``recv_bytes()``) as ``recv()`` does, without raising for errors.

        An event type this release does not know comes back as a ``Loose`` (an ``Unknown`` readable by attribute);
        fields a known event does not declare are kept on it (see ``openai_async._helpers.drift``): at every
        level, except on the frequent ``*.delta`` events, whose top level only is looked at (a cheap pass).
        """
        raw = raw_fields(data)
        if raw is None:  # not a JSON object
            try:
                value = msgspec.json.decode(data)
            except msgspec.DecodeError:
                value = data
            return Loose({"type": None, "data": value})
        event: Any = decode(data, RealtimeServerEvent)
        kind = raw.get("type")
        if kind is not None and not bytes(kind).endswith(b'.delta"'):
            return cast("ServerEvent", with_extras(event, msgspec.json.decode(data), deep=True))
        return cast("ServerEvent", with_extras(event, raw))

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
            if self._closing:  # closed by us: what was still queued is dropped
                self._end(1000, clean=True)
                self._drained = True
            if self._drained:
                raise APIConnectionError(f"The realtime connection is closed (code {self._close_code}).")
            item = await self._inbox.get()
            if item is None:  # woken by close() or a failed reconnect: look at the state again
                continue
            if not isinstance(item, _Ending):
                return item  # type: ignore[no-any-return]
            if item.generation != self._generation or self._closing:
                continue  # a socket a reconnect has replaced, or our own close()
            code = item.code
            if self._policy is not None and code in RECOVERABLE_CLOSE_CODES:
                await self._reconnect(item.generation, f"close code {code}", code)
                continue
            self._end(code, clean=code in _CLEAN_CLOSE_CODES)
            self._drained = True
            if code in _CLEAN_CLOSE_CODES:
                continue
            detail = "dropped without a close frame" if code == _ABNORMAL else f"code {code}"
            if item.reason:
                detail = f"{detail}: {item.reason}"
            raise APIConnectionError(f"The realtime connection ended abnormally ({detail}).") from item.cause

    def _end(self, code: int, *, clean: bool) -> None:
        if self._close_code is None:
            self._close_code = code
            self._clean_end = clean

    async def _reconnect(self, generation: int, why: str, close_code: int = _ABNORMAL) -> None:
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
                    policy.total_timeout is not None
                    and anyio.current_time() - started >= policy.total_timeout
                ):
                    self._give_up()
                    raise APIConnectionError(
                        f"The realtime connection was lost ({why}) and {self._attempts} reconnect attempts failed."
                    )
                delay = retry_delay(policy, self._attempts)
                self._attempts += 1
                if self._before_reconnect is not None and not await self._before_reconnect(
                    self._attempts, policy.max_retries, delay, close_code
                ):
                    self._give_up()
                    raise APIConnectionError(
                        f"The realtime connection was lost ({why}); on_reconnecting stopped reconnecting."
                    )
                log.info(
                    "realtime connection lost (%s); reconnecting in %.2fs (attempt %d of %d)",
                    why,
                    delay,
                    self._attempts,
                    policy.max_retries,
                )
                await anyio.sleep(delay)
                if self._closing:
                    return
                try:
                    ws = await self._reopen()
                except APIStatusError as exc:
                    if self._attempts >= policy.max_retries or not should_retry_status(
                        exc.status_code, exc.headers
                    ):
                        self._give_up()
                        raise  # the last error itself, not a wrapper
                    why = f"handshake answered {exc.status_code}"
                    continue
                except APIConnectionError as exc:
                    if self._attempts >= policy.max_retries:
                        self._give_up()
                        raise
                    why = str(exc)
                    continue
                if self._closing:  # close() ran while we were reconnecting
                    await ws.close()
                    return
                self._ws = ws
                self._generation += 1
                self._start_reader(ws, self._generation)
                if self._session is not None:
                    try:
                        await self._write(ws, _encode({"type": "session.update", "session": self._session}))
                    except TRANSPORT_ERRORS as exc:
                        why = f"replaying session.update failed: {type(exc).__name__}"
                        continue
                return

    def _give_up(self) -> None:
        self._end(_ABNORMAL, clean=False)
        self._drained = True
        self._inbox.wake()

    # -- handlers ------------------------------------------------------------------------------------------

    @overload
    def on(self, event_type: str, handler: Callable[..., Any]) -> Self: ...
    @overload
    def on(self, event_type: str, handler: None = None) -> Callable[[_F], _F]: ...
    def on(self, event_type: str, handler: Callable[..., Any] | None = None) -> Any:
        """Call ``handler(event)`` for every event of ``event_type`` (``"event"``: every event) in ``dispatch_events()``.

        As a method it returns the connection (``conn.on("response.done", done)``); without a handler it is a
        decorator (``@conn.on("response.output_text.delta")``). Handlers may be sync or async; adding one twice
        calls it twice.
        """
        return _register(self._handlers, self, event_type, handler, once=False)

    @overload
    def once(self, event_type: str, handler: Callable[..., Any]) -> Self: ...
    @overload
    def once(self, event_type: str, handler: None = None) -> Callable[[_F], _F]: ...
    def once(self, event_type: str, handler: Callable[..., Any] | None = None) -> Any:
        """As ``on()``, for the next such event only."""
        return _register(self._handlers, self, event_type, handler, once=True)

    def off(self, event_type: str, handler: Callable[..., Any]) -> Self:
        """Remove a handler registered with ``on()`` / ``once()`` (its first registration; nothing if absent)."""
        self._handlers.remove(event_type, handler)
        return self

    async def dispatch_events(self) -> None:
        """Receive events and call their handlers until the session ends cleanly (the push-style ``async for``).

        For each event, the handlers of its type run first, then the ``"event"`` handlers, each awaited when it
        returns an awaitable. An ``error`` event nobody handles is raised as ``RealtimeAPIError`` (an
        ``OpenAIError``, as in the official SDK); an abnormal end raises ``APIConnectionError``.
        """
        async for event in self:
            kind = getattr(event, "type", None)
            specific = self._handlers.take(kind) if isinstance(kind, str) else []
            generic = self._handlers.take("event")
            if kind == "error" and not specific and not generic:
                raise RealtimeAPIError(event)
            for handler in (*specific, *generic):
                result = handler(event)
                if inspect.isawaitable(result):
                    await result

    # -- sending -------------------------------------------------------------------------------------------

    async def send(self, event: Mapping[str, Any] | msgspec.Struct) -> None:
        """Send one client event: a dict (``{"type": "response.create", ...}``) or a generated event Struct.

        ``bytes`` values anywhere in a dict are sent base64-encoded (msgspec's JSON encoding of bytes).

        Raises:
            APIConnectionError: the session has ended (closed by either side).
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

    async def send_raw(self, data: bytes | str) -> None:
        """Send ``data`` as it is: a ``str`` as a text frame, ``bytes`` as a binary frame (as ``websockets`` does).

        Nothing is encoded or checked, and a ``session.update`` sent this way is not replayed after a reconnect.
        """
        if isinstance(data, str):
            await self._send_bytes(data.encode())
        elif isinstance(data, (bytes, bytearray, memoryview)):
            await self._send_bytes(bytes(data), binary=True)
        else:
            raise TypeError(f"send_raw() takes bytes or str, got {type(data).__name__}")

    async def _send_bytes(self, data: bytes, *, replayed: bool = False, binary: bool = False) -> None:
        while True:
            if self._closing or self._close_code is not None:
                code = self._close_code if self._close_code is not None else 1000
                raise APIConnectionError(
                    f"The realtime connection is closed (code {code}): the event was not sent."
                )
            ws, generation = self._ws, self._generation
            try:
                await self._write(ws, data, binary=binary)
                return
            except TRANSPORT_ERRORS as exc:
                if self._policy is None or self._closing:
                    raise map_error(exc) from exc
                await self._reconnect(generation, f"send failed: {type(exc).__name__}")
                if replayed:
                    return  # the reconnect re-sent the merged session, this update included

    @staticmethod
    async def _write(ws: aiohttp.ClientWebSocketResponse, data: bytes, *, binary: bool = False) -> None:
        if ws.closed:
            raise ConnectionResetError("Cannot write to a closed WebSocket")
        kind = aiohttp.WSMsgType.BINARY if binary else aiohttp.WSMsgType.TEXT
        if _HAS_SEND_FRAME:
            await ws.send_frame(data, kind)
        elif binary:  # pragma: no cover - aiohttp < 3.11
            await ws.send_bytes(data)
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
        finally:
            self._end(ws.close_code if ws.close_code is not None else code, clean=True)
            self._inbox.wake()
            await self._stop_readers()

    aclose = close

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()


# -- the typed senders, shaped like the official SDK's connection resources ---------------------------------


class _Events:
    __slots__ = ("_conn",)

    def __init__(self, conn: RealtimeConnection) -> None:
        self._conn = conn


class _SessionEvents(_Events):
    async def update(
        self, *, session: Mapping[str, Any] | msgspec.Struct, event_id: str | Any = UNSET
    ) -> None:
        """Send ``session.update``: change the session's configuration (``session={"type": "realtime", ...}``)."""
        await self._conn._emit("session.update", {"session": session, "event_id": event_id})


class _ResponseEvents(_Events):
    async def create(
        self, *, response: Mapping[str, Any] | msgspec.Struct | Any = UNSET, event_id: str | Any = UNSET
    ) -> None:
        """Send ``response.create``: ask the model for a response (optionally with per-response settings)."""
        await self._conn._emit("response.create", {"response": response, "event_id": event_id})

    async def cancel(self, *, response_id: str | Any = UNSET, event_id: str | Any = UNSET) -> None:
        """Send ``response.cancel``: stop the in-progress response (or the one named by ``response_id``)."""
        await self._conn._emit("response.cancel", {"response_id": response_id, "event_id": event_id})


class _InputAudioBufferEvents(_Events):
    async def append(
        self, *, audio: str | bytes | bytearray | memoryview, event_id: str | Any = UNSET
    ) -> None:
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
    async def create(
        self,
        *,
        item: Mapping[str, Any] | msgspec.Struct,
        previous_item_id: str | Any = UNSET,
        event_id: str | Any = UNSET,
    ) -> None:
        """Send ``conversation.item.create``: add a message, function call or function call output."""
        await self._conn._emit(
            "conversation.item.create",
            {"item": item, "previous_item_id": previous_item_id, "event_id": event_id},
        )

    async def delete(self, *, item_id: str, event_id: str | Any = UNSET) -> None:
        """Send ``conversation.item.delete``."""
        await self._conn._emit("conversation.item.delete", {"item_id": item_id, "event_id": event_id})

    async def truncate(
        self, *, item_id: str, content_index: int, audio_end_ms: int, event_id: str | Any = UNSET
    ) -> None:
        """Send ``conversation.item.truncate``: cut an assistant message's audio at ``audio_end_ms``."""
        await self._conn._emit(
            "conversation.item.truncate",
            {
                "item_id": item_id,
                "content_index": content_index,
                "audio_end_ms": audio_end_ms,
                "event_id": event_id,
            },
        )

    async def retrieve(self, *, item_id: str, event_id: str | Any = UNSET) -> None:
        """Send ``conversation.item.retrieve``: ask for the server's copy of an item."""
        await self._conn._emit("conversation.item.retrieve", {"item_id": item_id, "event_id": event_id})


class _ConversationEvents(_Events):
    __slots__ = ("item",)

    def __init__(self, conn: RealtimeConnection) -> None:
        super().__init__(conn)
        self.item = _ConversationItemEvents(conn)
