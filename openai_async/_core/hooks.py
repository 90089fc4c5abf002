"""Request hooks: see each call's start, retries, answer or error, and a stream's end, without touching the send path.

    class Timing(RequestHooks):
        def on_response(self, call: CallInfo) -> None:
            print(call.method, call.path, call.status_code, call.request_id, call.duration)

    client = AsyncOpenAI(hooks=[Timing()])

A client without hooks pays one ``if`` per call (``BaseClient._request``: an attribute test, a few nanoseconds)
and nothing per stream event. With hooks, each call runs through ``observed`` (one ``CallInfo``, a context
variable set for the retry notices, the answer's headers); a stream pays one extra step on its first network read
(to note the time of the first chunk) and a callback at its end, never per event.

``retrying`` is what the send path calls before sleeping for a retry: it logs the retry on the ``openai_async``
logger (method, path, attempt, delay, reason, request id; never headers, bodies or keys) and tells the hooks of
the call in progress.
"""

from __future__ import annotations

import contextvars
import logging
import time
import weakref
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

__all__ = ["CallInfo", "ObservedSession", "RequestHooks", "observed", "retrying"]

log = logging.getLogger("openai_async")

_current: contextvars.ContextVar[_Call | None] = contextvars.ContextVar("openai_async_call", default=None)


class CallInfo:
    """One logical call (its retries included), as hooks see it. Read-only for hooks but ``extra``.

    Attributes:
        method / path: the HTTP method and the path relative to ``base_url`` (``"/chat/completions"``).
        operation: the GenAI operation name (``"chat"``, ``"responses"``, ``"embeddings"`` ...), from the path.
        model: the ``model`` the request body names, if any.
        stream: whether the answer is a stream of events.
        started: ``time.monotonic()`` when the call started; ``ended`` when it ended (a stream: at its end).
        retries: how many retries were made so far.
        status_code / request_id: of the last answer (None without one).
        result: the decoded result (None for a stream: its last event is ``last_event``).
        error: the exception the call (or the stream) ended with.
        first_chunk_at: a stream's first body chunk, ``time.monotonic()``.
        last_event: a stream's last event (a chat chunk with ``usage`` when ``stream_options`` asked for it,
            ``response.completed`` for Responses).
        extra: a dict for hooks to keep their own state in (a span, a timer ...).
    """

    __slots__ = (
        "ended",
        "error",
        "extra",
        "first_chunk_at",
        "last_event",
        "method",
        "model",
        "operation",
        "path",
        "request_id",
        "result",
        "retries",
        "started",
        "status_code",
        "stream",
    )

    def __init__(self, method: str, path: str, model: str | None, stream: bool) -> None:
        self.method = method
        self.path = path
        self.operation = operation_name(path)
        self.model = model
        self.stream = stream
        self.started = time.monotonic()
        self.ended: float | None = None
        self.retries = 0
        self.status_code: int | None = None
        self.request_id: str | None = None
        self.result: Any = None
        self.error: BaseException | None = None
        self.first_chunk_at: float | None = None
        self.last_event: Any = None
        self.extra: dict[str, Any] = {}

    @property
    def duration(self) -> float | None:
        """Seconds from the start to the end (None while running)."""
        return None if self.ended is None else self.ended - self.started

    def __repr__(self) -> str:
        return f"<CallInfo {self.method} {self.path} status={self.status_code} retries={self.retries}>"


class RequestHooks:
    """Subclass and override what you need; every method is a no-op here. Hooks run in the caller's task and
    must not raise (an exception from a hook is logged and dropped) nor block."""

    def on_request(self, call: CallInfo) -> None:
        """Before the first attempt."""

    def on_retry(self, call: CallInfo, delay: float, reason: str) -> None:
        """Before sleeping ``delay`` seconds for a retry (``reason``: ``"HTTP 429"``, ``"ClientConnectorError"`` ...)."""

    def on_response(self, call: CallInfo) -> None:
        """The call answered (2xx). For a stream, when its head arrived; ``on_stream_end`` follows."""

    def on_error(self, call: CallInfo) -> None:
        """The call failed for good (``call.error``), or a stream ended with an error or was closed early."""

    def on_stream_end(self, call: CallInfo) -> None:
        """A stream was read to its end (``call.last_event``, ``call.first_chunk_at``)."""


class _Call:
    """The hooks and the ``CallInfo`` of the call in progress (the context variable's value). Strictly private."""

    __slots__ = ("hooks", "info")

    def __init__(self, hooks: Sequence[RequestHooks], info: CallInfo) -> None:
        self.hooks = hooks
        self.info = info

    def emit(self, name: str, *args: Any) -> None:
        for hook in self.hooks:
            _run(hook, name, self.info, args)


def _run(hook: RequestHooks, name: str, info: CallInfo, args: tuple[Any, ...]) -> None:
    try:
        getattr(hook, name)(info, *args)
    except Exception:  # a broken hook must not break the call
        log.exception("openai_async hook %s.%s failed", type(hook).__name__, name)


_OPERATIONS = (
    ("/chat/completions", "chat"),
    ("/responses", "responses"),
    ("/embeddings", "embeddings"),
    ("/completions", "text_completion"),
    ("/images", "image_generation"),
    ("/audio", "audio"),
    ("/moderations", "moderation"),
)


def operation_name(path: str) -> str:
    """The OpenTelemetry GenAI ``gen_ai.operation.name`` for a path; other endpoints are named by their path."""
    for prefix, name in _OPERATIONS:
        if path.startswith(prefix) or path.startswith("/v1" + prefix):
            return name
    return path.strip("/").split("/", 1)[0] or "request"


def _model_of(body: Any) -> str | None:
    model = body.get("model") if isinstance(body, dict) else getattr(body, "model", None)
    return model if isinstance(model, str) else None


async def observed(
    hooks: Sequence[RequestHooks],
    send: Callable[..., Awaitable[Any]],
    method: str,
    path: str,
    kwargs: dict[str, Any],
) -> Any:
    """Run ``send(method, path, **kwargs)`` (the session's request) with ``hooks`` told what happens."""
    stream = bool(kwargs.get("stream"))
    body = kwargs.get("body")
    if body is None and kwargs.get("multipart") is not None:
        body = kwargs["multipart"]
    call = _Call(hooks, CallInfo(method, path, _model_of(body), stream))
    info = call.info
    wanted_raw = kwargs.get("raw", False)
    token = _current.set(call)
    call.emit("on_request")
    try:
        # A RawResponse gives the status and headers; "stream" (with_streaming_response) is kept as asked.
        raw = await send(method, path, **{**kwargs, "raw": wanted_raw or True})
    except BaseException as exc:
        info.ended = time.monotonic()
        info.error = exc
        status = getattr(exc, "status_code", None)
        info.status_code = status if isinstance(status, int) else None
        info.request_id = getattr(exc, "request_id", None)
        call.emit("on_error")
        raise
    finally:
        _current.reset(token)
    info.status_code = raw.status_code
    info.request_id = raw.headers.get("x-request-id")
    info.retries = getattr(raw, "retries_taken", info.retries)
    if wanted_raw == "stream":  # the caller reads the body: the call is over when its head arrived
        info.result = raw
        info.ended = time.monotonic()
        call.emit("on_response")
        return raw
    result = raw.parse()
    if stream and hasattr(result, "_reader"):
        # Not kept in ``info``: the reader's callbacks hold ``info``, and a stream must stay free of cycles so that
        # dropping it closes its connection at once.
        _watch_stream(call, result)
    else:
        info.result = result
        info.ended = time.monotonic()
    call.emit("on_response")
    return raw if wanted_raw else result


class ObservedSession:
    """A session whose ``request`` runs through ``observed``: what paginators get on a client with hooks."""

    __slots__ = ("_hooks", "_session")

    def __init__(self, hooks: Sequence[RequestHooks], session: Any) -> None:
        self._hooks = hooks
        self._session = session

    async def request(self, method: str, path: str, **kwargs: Any) -> Any:
        return await observed(self._hooks, self._session.request, method, path, kwargs)


def _watch_stream(call: _Call, stream: Any) -> None:
    """Note the first chunk's time and the stream's end without a per-event cost: the reader's first ``read`` is
    wrapped once (then restored), its ``on_end`` chained, and a finalizer reports a stream closed early."""
    reader = stream._reader
    info = call.info
    read = reader._read

    async def first_read() -> bytes:
        try:
            data: bytes = await read()
            return data
        finally:
            info.first_chunk_at = time.monotonic()
            reader._read = read

    reader._read = first_read
    settle = reader.on_end

    def on_end(last: Any) -> None:
        if settle is not None:
            settle(last)
        info.last_event = last
        info.ended = time.monotonic()
        call.emit("on_stream_end")

    reader.on_end = on_end

    def dropped() -> None:
        if info.ended is None:  # closed early, cancelled, or ended with an error: the stream never finished
            info.ended = time.monotonic()
            info.error = info.error or _StreamClosed("The stream was closed before its end.")
            call.emit("on_error")

    weakref.finalize(stream, dropped)


class _StreamClosed(Exception):
    """Strictly private: what ``CallInfo.error`` holds for a stream dropped before its end."""


def retrying(method: str, path: str, attempt: int, delay: float, reason: str, request_id: str | None) -> None:
    """Log a retry about to happen and tell the hooks of the call in progress. Called by the send path."""
    log.info(
        "retrying %s %s (retry %d) in %.2fs after %s",
        method,
        path,
        attempt,
        delay,
        reason,
        extra={
            "openai_method": method,
            "openai_path": path,
            "openai_retry": attempt,
            "openai_delay": delay,
            "openai_reason": reason,
            "openai_request_id": request_id,
        },
    )
    call = _current.get()
    if call is not None:
        call.info.retries = attempt
        call.emit("on_retry", delay, reason)
