"""The one send path: URL, headers and auth, body encoding, timeouts, rate limiting, retries, error mapping.

``Session.request`` is what every generated operation ends in: ``_prepare`` builds the request, ``_send`` sends
it through the transport with retries, ``_result`` turns the reply into the caller's result. A ``Session`` is an
immutable view of one client configuration over a shared ``Transport``; ``with_options`` makes a new Session on
the same transport.
"""

from __future__ import annotations

import itertools
import logging
import os
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

import anyio
import msgspec
from yarl import URL

from .decode import decode
from .errors import (
    APIConnectionError,
    APIResponseValidationError,
    APIStatusError,
    ResponseTooLargeError,
    status_error,
)
from .headers import Headers, apply_headers, mask_url
from .hooks import retrying
from .http import Request as ReportedRequest
from .http import Response as FullResponse
from .multipart import MultipartBody
from .response import BinaryResponse, RawResponse, attach_request_id
from .retry import RetryPolicy, retry_delay, should_retry_status
from .streamed import StreamedResponse
from .streaming import AsyncStream
from .transport import TRANSPORT_ERRORS, Request, Response, Transport, map_error
from .types import UNSET, RequestOptions, Timeout, check_max_retries, iterables_as_lists, strip_unset

if TYPE_CHECKING:
    from .types import RateLimitHook

__all__ = ["Session"]

log = logging.getLogger("openai_async")

ApiKey = str | Callable[[], Awaitable[str]]
_encode = msgspec.json.Encoder(enc_hook=iterables_as_lists).encode
_any_decoder = msgspec.json.Decoder()
_NO_OPTIONS: RequestOptions = {}
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_MAX_REDIRECTS = 20  # as httpx
_READ_CHUNK = 1 << 16
# Idempotency keys: a random per-process prefix and a counter, unique without a syscall per call.
_IDEMPOTENCY_PREFIX = f"openai-async-{os.urandom(9).hex()}-"
_idempotency_counter = itertools.count()


class Session:
    """Strictly private: one client configuration bound to a shared transport."""

    __slots__ = (
        "_api_key",
        "_auth_header",
        "_auth_prefix",
        "_headers",
        "_max_body",
        "_query",
        "_secret_query",
        "base_url",
        "limiter",
        "retry",
        "timeout",
        "transport",
    )

    def __init__(
        self,
        *,
        transport: Transport,
        base_url: str,
        api_key: ApiKey | None,
        headers: dict[str, str],
        query: Mapping[str, object] | None,
        timeout: Timeout,
        retry: RetryPolicy,
        limiter: RateLimitHook | None,
        auth_header: str = "Authorization",
        auth_prefix: str = "Bearer ",
        secret_query: frozenset[str] = frozenset(),
        max_body: int | None = None,
    ) -> None:
        """``headers`` are final (the client merged its own, the key's and ``default_headers``); ``api_key`` is
        a key provider called before each request, or None when the key (or the user's own auth header) is
        already in ``headers``. ``secret_query`` names the query parameters masked in errors; ``max_body`` is
        the largest non-streaming body read (None: no limit).
        """
        self.transport = transport
        self._max_body = max_body
        self.base_url = base_url.rstrip("/")
        self._api_key = None if isinstance(api_key, str) else api_key
        self._auth_header = auth_header
        self._auth_prefix = auth_prefix
        self._headers = Headers(headers)
        self._secret_query = secret_query
        self._query = dict(query) if query else None
        self.timeout = timeout
        self.retry = retry
        self.limiter = limiter

    def __repr__(self) -> str:
        return f"<Session {self.base_url}>"

    async def request(
        self,
        method: str,
        path: str,
        *,
        body: Any = None,
        query: Mapping[str, Any] | None = None,
        multipart: Mapping[str, Any] | None = None,
        content: bytes | str | None = None,
        content_type: str | None = None,
        cast: Any = None,
        stream: bool = False,
        stream_cls: Any = None,
        options: RequestOptions = _NO_OPTIONS,
        raw: bool | str = False,
        file_fields: tuple[str, ...] = (),
    ) -> Any:
        """Send one logical request (with retries) and return the decoded result; see docs/CONTRACTS.md.

        ``raw=True`` wraps the result in a ``RawResponse``; ``raw="stream"`` returns a ``StreamedResponse`` as soon
        as the headers are in (``with_streaming_response``)."""
        headers: Mapping[str, str] = self._headers
        if self._api_key is not None:
            headers = {**headers, self._auth_header: self._auth_prefix + await self._api_key()}
        call = self._prepare(
            method,
            path,
            headers,
            body,
            query,
            multipart,
            content,
            content_type,
            stream,
            stream or raw == "stream",
            options,
            file_fields,
        )
        if cast is BinaryResponse:
            call.limit = None  # downloads (file content, speech, video) are not limited
        try:
            reply = await self._send(call)
        finally:
            if call.form is not None:
                call.form.close()
        if raw == "stream":  # with_streaming_response: the body is read when the caller asks
            return _streamed(reply, cast, stream, stream_cls, self.limiter)
        return self._result(reply, cast, stream, stream_cls, raw)

    # -- the three steps of a call ---------------------------------------------------------------------------

    def _prepare(
        self,
        method: str,
        path: str,
        headers: Mapping[str, str],
        body: Any,
        query: Mapping[str, Any] | None,
        multipart: Mapping[str, Any] | None,
        content: bytes | str | None,
        content_type: str | None,
        stream: bool,
        unread: bool,
        options: RequestOptions,
        file_fields: tuple[str, ...],
    ) -> _Call:
        """Build the request of every attempt: URL and query, headers, body, timeout and retry policy."""
        url = path if path[0] == "/" else path if path.startswith(("http://", "https://")) else "/" + path
        if url[0] == "/":
            url = self.base_url + url
        extra_headers = extra_body = extra_query = None
        if options:
            extra_headers = options.get("extra_headers")
            extra_body = options.get("extra_body")
            extra_query = options.get("extra_query")
        params = (
            _query_params(self._query, query, extra_query) if query or self._query or extra_query else None
        )

        data: bytes | None = None
        form: MultipartBody | None = None
        if body is not None or extra_body:
            if extra_body:
                merged = _builtins(body) if body is not None else {}
                merged.update(extra_body)
                body = merged
            data = _encode_body(body)
            content_type = "application/json"
        elif multipart is not None:
            form = MultipartBody(multipart, file_fields)
            content_type = None
        elif content is not None:
            data = content.encode() if isinstance(content, str) else content
            content_type = content_type or "application/octet-stream"
        else:
            content_type = None

        # One copy of the shared headers per call, then per-call additions in place.
        headers = Headers(headers)
        if content_type is not None:
            headers["Content-Type"] = content_type
        if method != "GET":
            key = options.get("idempotency_key") if options else None
            headers["Idempotency-Key"] = key or f"{_IDEMPOTENCY_PREFIX}{next(_idempotency_counter)}"
        if stream:
            headers["Accept"] = "text/event-stream"
        if extra_headers:
            apply_headers(headers, extra_headers)

        policy = self.retry
        timeout = self.timeout
        if options:
            policy, call_timeout = _call_settings(options, policy)
            if call_timeout is not None:
                timeout = call_timeout
        request = Request(method, url, headers, params, data, timeout, unread)
        return _Call(request, path, body, form, policy, self._max_body)

    async def _send(self, call: _Call) -> _Reply:
        """Send the request until it succeeds, fails for good or the retry policy gives up; follow redirects."""
        request = call.request
        policy = call.policy
        limiter = self.limiter
        send = self.transport.send
        max_body = call.limit
        form = call.form
        started = time.monotonic()
        retries = redirects = 0
        while True:
            lease: Any = (
                await limiter.acquire(request.method, call.path, call.body) if limiter is not None else None
            )
            response: Response | None = None
            if form is not None:
                request.body = form.form()
            sent = time.monotonic()
            try:
                response = await send(request)
                status = response.status
                if limiter is not None:
                    limiter.observe(lease, status, response.headers)
                if request.stream and status < 300:
                    body = b""
                elif max_body is None or _fits(response.headers, max_body):
                    body = await response.read()
                else:
                    body = await _read_limited(response, max_body)
            except TRANSPORT_ERRORS as exc:
                if response is not None:
                    response.close()
                elif limiter is not None:
                    limiter.observe(lease, None, None)
                if retries < policy.max_retries and _time_left(policy, started):
                    delay = retry_delay(policy, retries)
                    retries += 1
                    retrying(request.method, call.path, retries, delay, type(exc).__name__, None)
                    await anyio.sleep(delay)
                    continue
                raise map_error(exc, request=self._request_info(request)) from exc

            if status >= 300:
                if status in _REDIRECTS and "Location" in response.headers:
                    if redirects >= _MAX_REDIRECTS:
                        raise APIConnectionError(
                            f"Too many redirects ({_MAX_REDIRECTS}); the last one went to "
                            f"{response.headers['Location']!r}."
                        )
                    request, form = self._redirected(request, form, status, response.headers["Location"])
                    redirects += 1
                    continue
                error = _status_error(status, response.headers, body, self._request_info(request))
                if (
                    retries < policy.max_retries
                    and should_retry_status(status, response.headers, error.code)
                    and _time_left(policy, started)
                ):
                    hint = error.retry_after if policy.long_wait == "raise" else None
                    if hint is not None and hint > policy.max_server_wait:
                        raise error  # the server asks for longer than we wait: say so now, not in an hour
                    delay = retry_delay(policy, retries, response.headers)
                    retries += 1
                    retrying(request.method, call.path, retries, delay, f"HTTP {status}", error.request_id)
                    await anyio.sleep(delay)
                    continue
                raise error
            return _Reply(request, response, status, body, lease, retries, sent)

    def _request_info(self, request: Request) -> ReportedRequest:
        """The request as errors show it: credentials masked, ``default_query`` values masked (they may be keys)."""
        url = request.url
        if request.params:
            url = mask_url(f"{url}?{urlencode(request.params)}", self._secret_query)
        return ReportedRequest(request.method, url, request.headers)

    def _redirected(
        self, request: Request, form: MultipartBody | None, status: int, location: str
    ) -> tuple[Request, MultipartBody | None]:
        """The request of the next hop, as the official SDK (httpx) builds it: 303 (and 301/302 after a POST)
        become a GET without a body; a hop to another origin (scheme, host, port) loses the credentials."""
        here = URL(request.url).with_query(request.params) if request.params else URL(request.url)
        there = here.join(URL(location))
        method = request.method
        headers = Headers(request.headers)
        body = request.body
        if (status == 303 and method != "HEAD") or (status in (301, 302) and method == "POST"):
            method = "GET"
            body = None
            form = None
            for name in [n for n in headers if n.lower() in ("content-type", "content-length")]:
                del headers[name]
        if there.origin() != here.origin():
            auth = self._auth_header.lower()
            for name in [n for n in headers if n.lower() == auth]:
                del headers[name]
        log.info("following a %d redirect to %s", status, there.with_query(None))
        return Request(method, str(there), headers, None, body, request.timeout, request.stream), form

    def _result(self, reply: _Reply, cast: Any, stream: bool, stream_cls: Any, raw: bool | str) -> Any:
        """Turn a successful reply into what the caller asked for: a stream, a binary body, text or a model."""
        response = reply.response
        limiter = self.limiter
        result: Any
        if stream:
            result = AsyncStream(response, stream_cls, _settle_at_end(limiter, reply.lease))
        elif cast is BinaryResponse:
            result = BinaryResponse(
                RawResponse(response, None, reply.body, started=reply.sent, retries_taken=reply.retries)
            )
        elif cast is None:
            result = None
        elif cast is FullResponse:
            result = FullResponse(
                reply.status, response.headers, reply.body, self._request_info(reply.request)
            )
        elif cast is str:
            result = reply.body.decode("utf-8", "replace")
        else:
            try:
                result = decode(reply.body, cast)
            except msgspec.DecodeError as exc:
                text = reply.body.decode("utf-8", "replace")
                raise APIResponseValidationError(
                    f"The API answered {reply.status} with a body that is not JSON: {text[:200]!r}",
                    status_code=reply.status,
                    body=text,
                    request_id=response.headers.get("x-request-id"),
                    response=FullResponse(
                        reply.status, response.headers, reply.body, self._request_info(reply.request)
                    ),
                ) from exc
            attach_request_id(result, response.headers)
            if limiter is not None:
                limiter.settle(reply.lease, _usage_tokens(result))
        if raw:
            # A stream's body is not read here: None, so that .content says so instead of giving b"".
            body = None if stream else reply.body
            return RawResponse(
                response, result, body, cast=cast, started=reply.sent, retries_taken=reply.retries
            )
        return result


class _Call(msgspec.Struct):
    """One logical call, ready to send: the request every attempt sends and how to retry it. Strictly private."""

    request: Request
    path: str
    body: Any  # what the rate limiter sees
    form: MultipartBody | None
    policy: RetryPolicy
    limit: int | None  # the largest body read (None: no limit)


class _Reply(msgspec.Struct):
    """The successful attempt of a call: its request (the last hop after redirects), the response, its body
    (empty when read later), the retries it took and when it was sent. Strictly private."""

    request: Request
    response: Response
    status: int
    body: bytes
    lease: Any
    retries: int
    sent: float


def _encode_body(body: Any) -> bytes:
    try:
        return _encode(body)
    except TypeError:
        # A plain dict holding `omit`/`NOT_GIVEN` (msgspec only drops them from structs): drop them, try again.
        return _encode(strip_unset(body))


def _builtins(body: Any) -> Any:
    try:
        return msgspec.to_builtins(body)
    except TypeError:  # `omit` in a plain dict (see _encode_body)
        return msgspec.to_builtins(strip_unset(body))


def _call_settings(options: RequestOptions, policy: RetryPolicy) -> tuple[RetryPolicy, Timeout | None]:
    """The retry policy and timeout of one call, checked before anything is sent (``NOT_GIVEN`` keeps the client's)."""
    timeout = options.get("timeout", UNSET)
    call_timeout = None if timeout is UNSET else Timeout.of(timeout)
    retry = options.get("retry", UNSET)
    if retry is not UNSET:
        policy = retry
    retries = options.get("max_retries", UNSET)
    if retries is not UNSET:
        policy = policy.with_retries(check_max_retries(retries))
    return policy, call_timeout


def _streamed(
    reply: _Reply, cast: Any, stream: bool, stream_cls: Any, limiter: RateLimitHook | None
) -> StreamedResponse[Any]:
    return StreamedResponse(
        reply.response,
        cast=cast,
        sse=stream,
        stream_cls=stream_cls,
        on_end=_settle_at_end(limiter, reply.lease),
        started=reply.sent,
        retries_taken=reply.retries,
    )


def _settle_at_end(limiter: RateLimitHook | None, lease: Any) -> Callable[[Any], None] | None:
    """What a stream calls with its last event when it ends: settles the lease with the usage seen (or None)."""
    if limiter is None:
        return None

    def on_end(last: Any) -> None:
        limiter.settle(lease, _usage_tokens(last))

    return on_end


def _fits(headers: Mapping[str, str], limit: int) -> bool:
    """Whether the body is plain and its Content-Length within ``limit`` (then it is read in one go)."""
    length = headers.get("Content-Length")
    return (
        length is not None and length.isdigit() and int(length) <= limit and "Content-Encoding" not in headers
    )


async def _read_limited(response: Response, limit: int) -> bytes:
    """The whole body, or ``ResponseTooLargeError`` (and the connection dropped) once it passes ``limit`` bytes
    after decompression."""
    headers = response.headers
    length = headers.get("Content-Length")
    if length is not None and length.isdigit() and int(length) > limit and "Content-Encoding" not in headers:
        size: int | None = int(length)
    else:
        parts = []
        size = 0
        async for chunk in response.content.iter_chunked(_READ_CHUNK):
            size += len(chunk)
            if size > limit:
                break
            parts.append(chunk)
        else:
            response.release()
            return b"".join(parts)
        size = None  # not known: reading stopped at the limit
    response.close()
    raise ResponseTooLargeError(
        f"The response body is larger than max_response_size={limit} bytes"
        f"{f' ({size} bytes)' if size is not None else ''}; raise the limit with "
        f"AsyncOpenAI(max_response_size=...) or None for no limit.",
        status_code=response.status,
        limit=limit,
        request_id=headers.get("x-request-id"),
    )


def _time_left(policy: RetryPolicy, started: float) -> bool:
    return policy.total_timeout is None or time.monotonic() - started < policy.total_timeout


def _status_error(
    status: int, headers: Mapping[str, str], raw_body: bytes, request: ReportedRequest
) -> APIStatusError:
    body: Any
    try:
        body = _any_decoder.decode(raw_body)
    except msgspec.DecodeError:  # not JSON (or empty): the text, stripped, as the official SDK
        body = raw_body.decode("utf-8", "replace").strip()
    return status_error(status, headers, body, content=raw_body, request=request)


class _Usage(msgspec.Struct):
    total_tokens: Any = None


class _UsageOnly(msgspec.Struct):
    usage: _Usage | None = None


_usage_decoder = msgspec.json.Decoder(_UsageOnly)


def _usage_tokens(result: Any) -> int | None:
    if isinstance(result, (msgspec.Raw, bytes)):  # raw bodies (bulk runner) and payloads (chat stream helper)
        try:
            usage: Any = _usage_decoder.decode(result).usage
        except msgspec.MsgspecError:
            return None
    else:
        usage = result.get("usage") if isinstance(result, dict) else getattr(result, "usage", None)
    if usage is None:
        return None
    total = usage.get("total_tokens") if isinstance(usage, dict) else getattr(usage, "total_tokens", None)
    return total if isinstance(total, int) else None


def _query_value(value: Any) -> str:
    if value is True:
        return "true"
    if value is False:
        return "false"
    return value if isinstance(value, str) else str(value)


class _QueryParams(list[tuple[str, str]]):
    """The query of one request; its repr hides the values (``default_query`` may hold a key)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return f"<query: {', '.join(name for name, _ in self)}>"


def _query_params(*sources: Mapping[str, Any] | None) -> list[tuple[str, str]] | None:
    params: list[tuple[str, str]] | None = None
    for source in sources:
        if not source:
            continue
        for name, value in source.items():
            if value is UNSET or value is None:
                continue
            if params is None:
                params = _QueryParams()
            if isinstance(value, (list, tuple)):
                key = name if name.endswith("[]") else f"{name}[]"
                params.extend((key, _query_value(v)) for v in value if v is not UNSET)
            elif isinstance(value, Mapping):
                params.extend((f"{name}[{k}]", _query_value(v)) for k, v in value.items() if v is not UNSET)
            else:
                params.append((name, _query_value(value)))
    return params
