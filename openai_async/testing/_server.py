"""FakeOpenAI: an OpenAI-shaped HTTP server on 127.0.0.1 for an application's tests and offline examples."""

from __future__ import annotations

import asyncio
import inspect
import itertools
import re
import socket
import threading
from collections.abc import Callable, Mapping, Sequence
from types import TracebackType
from typing import Any, Literal

import anyio
from aiohttp import web
from multidict import CIMultiDict, MultiDict

from .._client import AsyncOpenAI
from ._builders import error
from ._defaults import DefaultState, default_response
from ._exchange import FakeResponse, RecordedRequest

__all__ = ["FakeOpenAI", "Handler", "Route"]

Handler = Callable[[RecordedRequest], Any]
"""A dynamic route: called with the request, returns (or awaits to) a ``FakeResponse``, a dict or list (sent
as JSON), bytes or str (sent as the body), or an ``aiohttp.web.StreamResponse`` for full control."""

_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
_MAX_BODY = 512 * 1024 * 1024


class Route:
    """A scripted answer for ``method path``, returned by ``FakeOpenAI.add``.

    Attributes:
        method: the HTTP verb it answers (``"*"`` for any).
        path: the path pattern; ``{name}`` matches one segment and lands in ``request.path_params``.
        times: how many requests it still answers (None: every one).
        requests: the requests it answered, in order.
    """

    def __init__(
        self,
        method: str,
        path: str,
        response: FakeResponse | None,
        handler: Handler | None,
        times: int | None,
        match: Callable[[RecordedRequest], bool] | None,
    ) -> None:
        self.method = method.upper()
        self.path = _relative(path)
        self.times = times
        self.requests: list[RecordedRequest] = []
        self._response = response
        self._handler = handler
        self._match = match
        regex, last = "", 0
        for m in _PLACEHOLDER.finditer(self.path):
            regex += re.escape(self.path[last : m.start()]) + f"(?P<{m.group(1)}>[^/]+)"
            last = m.end()
        self._pattern = re.compile(regex + re.escape(self.path[last:]))

    @property
    def called(self) -> bool:
        """Whether it answered at least one request."""
        return bool(self.requests)

    def _params(self, request: RecordedRequest) -> dict[str, str] | None:
        if self.times is not None and self.times <= 0:
            return None
        if self.method not in ("*", request.method):
            return None
        m = self._pattern.fullmatch(request.path)
        if m is None:
            return None
        request.path_params = m.groupdict()
        if self._match is not None and not self._match(request):
            return None
        return request.path_params

    def __repr__(self) -> str:
        left = "always" if self.times is None else f"{self.times} left"
        return f"<Route {self.method} {self.path}: {left}, {len(self.requests)} served>"


class FakeOpenAI:
    """An in-process fake of the OpenAI API on ``127.0.0.1`` with scripted replies, faults and recording.

    Use it in the test's event loop::

        async with FakeOpenAI() as fake:
            fake.add("POST", "/chat/completions", json={...})
            async with fake.client() as client:
                ...

    or from synchronous code and any test framework, served from a background thread::

        with FakeOpenAI() as fake:
            ...

    Requests are answered by the first scripted ``Route`` that matches (``add`` order); a static route answers
    ``times`` requests (default 1) and is then used up, so several ``add`` calls for one path form a queue.
    With no route left, the built-in defaults answer (an echoing chat completion, a Responses stream,
    embeddings, models, in-memory files, speech ...), or a 404 when ``defaults=False``.

    Attributes:
        requests: every request received, in order.
        errors: exceptions raised by dynamic handlers (each answered with a 500) or ``match`` predicates.
            Leaving ``async with``/``with`` raises ``AssertionError`` when any are left: they are bugs in the
            test's script that would otherwise show up only as retried 500s. Clear the list if they were meant.
    """

    def __init__(self, *, api_key: str | None = None, defaults: bool = True, port: int = 0) -> None:
        """Configure (but do not start) the server.

        Args:
            api_key: when set, requests must carry ``Authorization: Bearer <api_key>`` or get a 401.
            defaults: answer unscripted requests with the built-in defaults (else 404).
            port: the port to listen on (0: a free one).
        """
        self.api_key = api_key
        self.defaults = defaults
        self.requests: list[RecordedRequest] = []
        self.errors: list[BaseException] = []
        self._port = port
        self._routes: list[Route] = []
        self._lock = threading.Lock()  # add() may run in the test's thread while the server runs in another
        self._state = DefaultState()
        self._ids = itertools.count(1)
        self._runner: web.AppRunner | None = None
        self._base_url: str | None = None
        self._thread: threading.Thread | None = None
        self._thread_loop: asyncio.AbstractEventLoop | None = None
        self._thread_stop: asyncio.Event | None = None

    # -- life cycle --------------------------------------------------------------------------------------------

    @classmethod
    async def start(cls, **kwargs: Any) -> FakeOpenAI:
        """Create and start a server in the running event loop; stop it with ``await fake.close()``."""
        fake = cls(**kwargs)
        await fake._start()
        return fake

    async def _start(self) -> None:
        if self._runner is not None:
            raise RuntimeError("FakeOpenAI is already running")
        app = web.Application(client_max_size=_MAX_BODY)
        app.router.add_route("*", "/{tail:.*}", self._handle)
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.1, handler_cancellation=True)
        await runner.setup()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind(("127.0.0.1", self._port))
            site = web.SockSite(runner, sock)
            await site.start()
        except BaseException:
            sock.close()
            await runner.cleanup()
            raise
        self._runner = runner
        self._base_url = f"http://127.0.0.1:{sock.getsockname()[1]}/v1"

    async def close(self) -> None:
        """Stop the server (in-flight requests are cancelled). Safe to call twice."""
        runner, self._runner = self._runner, None
        self._base_url = None
        if runner is not None:
            await runner.cleanup()

    async def __aenter__(self) -> FakeOpenAI:
        await self._start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()
        if exc is None:
            self._raise_errors()

    def _raise_errors(self) -> None:
        if self.errors:
            raise AssertionError(f"FakeOpenAI handlers raised: {self.errors!r}") from self.errors[0]

    def start_in_thread(self) -> FakeOpenAI:
        """Start the server in a daemon thread with its own event loop; stop it with ``stop_thread()``.

        Dynamic handlers then run in that thread.
        """
        if self._thread is not None:
            raise RuntimeError("FakeOpenAI is already running")
        ready = threading.Event()
        failure: list[BaseException] = []

        async def main() -> None:
            try:
                await self._start()
                self._thread_loop = asyncio.get_running_loop()
                self._thread_stop = asyncio.Event()
            except BaseException as exc:
                failure.append(exc)
                raise
            finally:
                ready.set()
            try:
                await self._thread_stop.wait()
            finally:
                await self.close()

        def run() -> None:
            try:
                anyio.run(main, backend="asyncio")
            except BaseException:  # reported through `failure`
                if not failure:
                    raise

        self._thread = threading.Thread(target=run, name="FakeOpenAI", daemon=True)
        self._thread.start()
        if not ready.wait(timeout=30) or failure:
            self._thread = None
            if failure:
                raise failure[0]
            raise RuntimeError("FakeOpenAI did not start in 30 s")
        return self

    def stop_thread(self) -> None:
        """Stop a server started with ``start_in_thread()`` and wait for its thread."""
        thread, self._thread = self._thread, None
        if thread is None:
            return
        if self._thread_loop is not None and self._thread_stop is not None:
            self._thread_loop.call_soon_threadsafe(self._thread_stop.set)
        thread.join(timeout=30)
        self._thread_loop = self._thread_stop = None

    def __enter__(self) -> FakeOpenAI:
        return self.start_in_thread()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop_thread()
        if exc is None:
            self._raise_errors()

    # -- use -----------------------------------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:<port>/v1``: pass it as ``AsyncOpenAI(base_url=...)``."""
        if self._base_url is None:
            raise RuntimeError("FakeOpenAI is not running: use `async with FakeOpenAI()` or `await .start()`")
        return self._base_url

    def client(self, **kwargs: Any) -> AsyncOpenAI:
        """An ``AsyncOpenAI`` pointed at this server (``api_key`` defaults to the fake's key or ``"sk-fake"``).

        Other keywords go to ``AsyncOpenAI``; for instant retries pass ``retry=RetryPolicy.instant()``.
        """
        kwargs.setdefault("api_key", self.api_key or "sk-fake")
        kwargs.setdefault("base_url", self.base_url)
        return AsyncOpenAI(**kwargs)

    def add(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        status: int = 200,
        headers: Mapping[str, str] | None = None,
        body: bytes | str | None = None,
        content_type: str | None = None,
        stream: Sequence[Any] | None = None,
        done: bool = True,
        events: Sequence[Any] | None = None,
        reset: Literal["before_body", "mid_body"] | None = None,
        reset_after: int | None = None,
        stall: float = 0.0,
        chunk_size: int | None = None,
        delay_between_chunks: float = 0.0,
        times: int | None | Literal["default"] = "default",
        handler: Handler | None = None,
        match: Callable[[RecordedRequest], bool] | None = None,
    ) -> Route:
        """Script the answer to the next request(s) for ``method path``.

        Args:
            method: the HTTP verb (``"*"``: any).
            path: relative to the API root (``"/chat/completions"``; a leading ``/v1`` is ignored);
                ``{name}`` matches one path segment (``"/files/{file_id}"``).
            json, status, headers, body, content_type, stream, done, events, reset, reset_after, stall,
                chunk_size, delay_between_chunks: the response; see ``FakeResponse``.
            times: how many requests this route answers before it is used up; None for every request.
                Default: 1 for a static response, None for a ``handler``.
            handler: compute the response per request instead (see ``Handler``); it may be async.
            match: an extra predicate on the request (``lambda r: r.json["model"] == "o3"``).

        Returns:
            The ``Route``, whose ``requests`` lists what it answered.
        """
        response = None
        if handler is None:
            response = FakeResponse(
                status=status,
                json=json,
                body=body,
                content_type=content_type,
                headers=headers,
                stream=stream,
                done=done,
                events=events,
                reset=reset,
                reset_after=reset_after,
                stall=stall,
                chunk_size=chunk_size,
                delay_between_chunks=delay_between_chunks,
            )
        if times == "default":
            times = None if handler is not None else 1
        route = Route(method, path, response, handler, times, match)
        with self._lock:
            self._routes.append(route)
        return route

    def default(self, request: RecordedRequest) -> FakeResponse:
        """The built-in answer to ``request`` (what it gets when no route is scripted), for a ``handler`` to
        alter: a fault on a real answer, with the built-in state (files, batches ...) updated as usual::

            def lost(request):                       # the batch is created, its answer never arrives
                answer = fake.default(request)
                answer.reset = "before_body"
                return answer

            fake.add("POST", "/batches", handler=lost, times=1)

        Raises ``LookupError`` when there is no built-in answer for the request's route.
        """
        answer = default_response(self._state, request)
        if answer is None:
            raise LookupError(f"FakeOpenAI has no built-in answer for {request.method} {request.path}")
        return answer

    @property
    def routes(self) -> list[Route]:
        """The scripted routes, in match order (used-up ones included)."""
        with self._lock:
            return list(self._routes)

    @property
    def last_request(self) -> RecordedRequest:
        """The most recent request. Raises ``LookupError`` when there was none."""
        with self._lock:
            if not self.requests:
                raise LookupError("FakeOpenAI has received no request")
            return self.requests[-1]

    def requests_to(self, method: str, path: str) -> list[RecordedRequest]:
        """The recorded requests for exactly ``method path`` (path relative to the API root)."""
        method, path = method.upper(), _relative(path)
        with self._lock:
            return [r for r in self.requests if r.method == method and r.path == path]

    def unused_routes(self) -> list[Route]:
        """Static routes that still have answers left (a test scripted more than the code used)."""
        with self._lock:
            return [r for r in self._routes if r.times is not None and r.times > 0]

    def reset(self) -> None:
        """Forget scripted routes, recorded requests, handler errors and uploaded files."""
        with self._lock:
            self._routes.clear()
            self.requests.clear()
            self.errors.clear()
            self._state = DefaultState()

    # -- serving -------------------------------------------------------------------------------------------------

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        recorded = RecordedRequest(
            method=request.method,
            path=_relative(request.path),
            query=MultiDict(request.query),
            headers=CIMultiDict(request.headers),
            body=body,
        )
        authorized = self.api_key is None or recorded.headers.get("Authorization") == f"Bearer {self.api_key}"
        with self._lock:
            self.requests.append(recorded)
            route = self._take(recorded) if authorized else None
        if not authorized:
            answer: Any = FakeResponse(
                status=401, json=error("Incorrect API key provided.", code="invalid_api_key")
            )
        elif route is None:
            try:
                answer = default_response(self._state, recorded) if self.defaults else None
            except Exception as exc:  # a bug in a default route: report it like a handler's
                answer = self._failed(exc)
            if answer is None:
                answer = FakeResponse(
                    status=404,
                    json=error(
                        f"FakeOpenAI has no answer for {recorded.method} {recorded.path}: script one with "
                        "fake.add(...)",
                        code="unknown_url",
                    ),
                )
        elif route._handler is not None:
            try:
                answer = route._handler(recorded)
                if inspect.isawaitable(answer):
                    answer = await answer
                if isinstance(answer, web.StreamResponse):
                    return answer
                answer = _coerce(answer)
            except Exception as exc:
                answer = self._failed(exc)
        else:
            answer = route._response
        try:
            rendered = answer.render()
        except Exception as exc:  # e.g. a json= value msgspec cannot encode
            answer = self._failed(exc)
            rendered = answer.render()
        return await self._send(request, answer, rendered)

    def _failed(self, exc: Exception) -> FakeResponse:
        self.errors.append(exc)
        return FakeResponse(
            status=500, json=error(f"FakeOpenAI could not answer: {exc!r}", type="server_error")
        )

    def _take(self, request: RecordedRequest) -> Route | None:
        for route in self._routes:
            try:
                params = route._params(request)
            except Exception as exc:  # a `match` predicate failed: report it, try the next route
                self.errors.append(exc)
                continue
            if params is not None:
                if route.times is not None:
                    route.times -= 1
                route.requests.append(request)
                return route
        request.path_params = {}
        return None

    async def _send(
        self, request: web.Request, answer: FakeResponse, rendered: tuple[str | None, list[bytes], bool]
    ) -> web.StreamResponse:
        content_type, pieces, sse = rendered
        if answer.stall:
            await anyio.sleep(answer.stall)
        if answer.reset == "before_body":
            _abort(request)
            return web.Response()  # never sent: the connection is gone
        response = web.StreamResponse(status=answer.status)
        response.headers["x-request-id"] = f"req_fake{next(self._ids):06d}"
        response.headers["openai-processing-ms"] = "1"
        if content_type is not None:
            response.content_type = content_type.split(";")[0]
            if "charset=" in content_type:
                response.charset = content_type.split("charset=", 1)[1].strip()
        total = sum(map(len, pieces))
        if sse:
            response.headers["Cache-Control"] = "no-cache"
            response.enable_chunked_encoding()
        else:
            response.content_length = total
        if answer.headers:
            response.headers.update(answer.headers)
        limit = None
        if answer.reset == "mid_body":
            limit = answer.reset_after if answer.reset_after is not None else total // 2
        await response.prepare(request)
        sent = 0
        for index, piece in enumerate(pieces):
            if index and answer.delay_between_chunks:
                await anyio.sleep(answer.delay_between_chunks)
            if limit is not None and sent + len(piece) >= limit:
                if limit > sent:
                    await response.write(piece[: limit - sent])
                _abort(request)
                return response
            await response.write(piece)
            sent += len(piece)
        if limit is not None:
            _abort(request)
            return response
        await response.write_eof()
        return response


def _abort(request: web.Request) -> None:
    # Close the connection under the request (after flushing what was written): the client sees it drop.
    transport = request.transport
    if transport is not None:
        transport.close()


def _relative(path: str) -> str:
    if path == "/v1" or path.startswith("/v1/"):
        path = path[3:]
    return path or "/"


def _coerce(answer: Any) -> FakeResponse:
    if isinstance(answer, FakeResponse):
        return answer
    if isinstance(answer, (dict, list)):
        return FakeResponse(json=answer)
    if isinstance(answer, (bytes, str)):
        return FakeResponse(body=answer)
    raise TypeError(
        f"a FakeOpenAI handler returned {answer!r}; return a FakeResponse, dict, list, bytes or str"
    )
