"""``client.realtime`` conveniences: the WebSocket session (``connect``)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from ..._core.retry import RetryPolicy
from ..._core.types import UNSET, UnsetType

if TYPE_CHECKING:
    from ..._client import AsyncOpenAI
    from .connection import RealtimeConnectionManager, ReconnectingEvent, ReconnectingOverrides

__all__ = ["RealtimeHelpers"]


class RealtimeHelpers:
    """Hand-written methods of ``client.realtime`` (a mixin the generated ``Realtime`` class inherits)."""

    _client: AsyncOpenAI

    def connect(
        self,
        *,
        model: str | UnsetType = UNSET,
        call_id: str | UnsetType = UNSET,
        extra_query: Mapping[str, object] | None = None,
        extra_headers: Mapping[str, str | None] | None = None,
        reconnect: bool | RetryPolicy = False,
        raise_errors: bool = False,
        timeout: float | None = 30.0,
        heartbeat: float | None = 20.0,
        max_message_size: int = 0,
        websocket_connection_options: Mapping[str, Any] | None = None,
        on_reconnecting: Callable[[ReconnectingEvent], ReconnectingOverrides | None] | None = None,
        max_retries: int = 5,
        initial_delay: float = 0.5,
        max_delay: float = 8.0,
        max_queue_size: int = 1_048_576,
    ) -> RealtimeConnectionManager:
        """Open a Realtime session over a WebSocket: ``async with client.realtime.connect(model=...) as conn``.

        See https://platform.openai.com/docs/guides/realtime-websocket. The URL is ``base_url`` (or
        ``websocket_base_url``) with ``ws``/``wss`` and ``/realtime``; the key goes in the handshake's header.
        ``conn`` sends typed client events (``conn.session.update(session=...)``, ``conn.response.create()``,
        ``conn.send({...})``) and yields typed server events (``async for event in conn``).

        Args:
            model: the model of a new session (``gpt-realtime``).
            call_id: join an existing call (WebRTC/SIP) instead of starting a session.
            extra_query / extra_headers: added to the handshake (a header set to None is removed).
            reconnect: reopen the session after a dropped connection, with backoff (True: 5 attempts, 0.5 s
                doubling to 8 s; or your own ``RetryPolicy``), re-sending the session configuration. Off by default.
            raise_errors: raise ``error`` events as ``RealtimeAPIError`` instead of yielding them.
            timeout: seconds allowed for the handshake (None: no limit). An open session has no idle timeout.
            heartbeat: send a ping every this many seconds of silence and treat a pong missing for half of it as a
                dropped connection (None: no pings). 20 s, as the official SDK (``websockets``' default).
            max_message_size: the largest frame accepted, in bytes (0: no limit, as the official SDK).
            websocket_connection_options: the official SDK's ``websockets`` options, mapped onto aiohttp:
                ``max_size`` (over ``max_message_size``), ``compression`` (``"deflate"`` or None, the default),
                ``max_queue`` (frames kept for the app, default 1024), ``subprotocols``, ``ping_interval`` (over
                ``heartbeat``), ``open_timeout`` (over ``timeout``), ``close_timeout``, ``additional_headers``,
                ``proxy`` (a URL; True: the environment's ``HTTPS_PROXY``/``HTTP_PROXY``; None, the default: none).
                ``write_limit`` and ``ping_timeout`` are accepted without effect; ``extensions`` and unknown names
                are refused. See docs/realtime.md.
            on_reconnecting: the official SDK's switch for reconnecting: called (sync or async) with a
                ``ReconnectingEvent`` before each attempt; it may return ``{"extra_query": ..., "extra_headers":
                ...}`` for the next handshake or ``{"abort": True}``. ``max_retries``, ``initial_delay`` and
                ``max_delay`` set the backoff when ``reconnect`` is not given. ``max_queue_size`` is accepted
                without effect: a send during a reconnect waits for it instead of being queued.
        """
        from .connection import RealtimeConnectionManager  # lazy: cold start (it loads the realtime types)

        if not isinstance(max_queue_size, int) or max_queue_size < 1:
            raise ValueError(f"max_queue_size must be a byte count >= 1, got {max_queue_size!r}")
        return RealtimeConnectionManager(
            self._client,
            query={"model": model, "call_id": call_id},
            extra_query=extra_query,
            extra_headers=extra_headers,
            reconnect=reconnect,
            raise_errors=raise_errors,
            timeout=timeout,
            heartbeat=heartbeat,
            max_message_size=max_message_size,
            websocket_connection_options=websocket_connection_options,
            on_reconnecting=on_reconnecting,
            max_retries=max_retries,
            initial_delay=initial_delay,
            max_delay=max_delay,
        )
