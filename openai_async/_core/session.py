"""The one send path: URL, headers and auth, body encoding, timeouts, rate limiting, retries, error mapping.

``Session.request`` is what every generated operation ends in. A ``Session`` is an immutable view of one
client configuration over a shared connection ``Pool``; ``with_options`` makes a new Session on the same pool.
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

from .decode import decode
from .errors import APIResponseValidationError, APIStatusError, status_error
from .headers import Headers, apply_headers, mask_url
from .http import Request, Response
from .multipart import MultipartBody
from .response import BinaryResponse, RawResponse, attach_request_id
from .retry import RetryPolicy, retry_delay, should_retry_status
from .streamed import StreamedResponse
from .streaming import AsyncStream
from .transport import TRANSPORT_ERRORS, Pool, aiohttp_timeout, map_error
from .types import UNSET, RequestOptions, Timeout, check_max_retries, iterables_as_lists, strip_unset

if TYPE_CHECKING:
    from .types import RateLimitHook

__all__ = ["Session"]

log = logging.getLogger("openai_async")

ApiKey = str | Callable[[], Awaitable[str]]
_encode = msgspec.json.Encoder(enc_hook=iterables_as_lists).encode
_any_decoder = msgspec.json.Decoder()
_NO_OPTIONS: RequestOptions = {}
# Idempotency keys: a random per-process prefix and a counter, unique without a syscall per call.
_IDEMPOTENCY_PREFIX = f"openai-async-{os.urandom(9).hex()}-"
_idempotency_counter = itertools.count()


class Session:
    """Strictly private: one client configuration bound to a shared connection pool."""

    __slots__ = ("_api_key", "_auth_header", "_auth_prefix", "_client_timeouts", "_headers", "_query",
                 "_secret_query", "base_url", "limiter", "pool", "retry", "timeout")

    def __init__(self, *, pool: Pool, base_url: str, api_key: ApiKey | None, headers: dict[str, str],
                 query: Mapping[str, object] | None, timeout: Timeout, retry: RetryPolicy,
                 limiter: RateLimitHook | None, auth_header: str = "Authorization",
                 auth_prefix: str = "Bearer ", secret_query: frozenset[str] = frozenset()) -> None:
        """``headers`` are final (the client merged its own, the key's and ``default_headers``); ``api_key`` is
        a key provider called before each request, or None when the key (or the user's own auth header) is
        already in ``headers``. ``secret_query`` names the query parameters masked in errors.
        """
        self.pool = pool
        self.base_url = base_url.rstrip("/")
        self._api_key = None if isinstance(api_key, str) else api_key
        self._auth_header = auth_header
        self._auth_prefix = auth_prefix
        self._headers = Headers(headers)
        self._secret_query = secret_query
        self._query = dict(query) if query else None
        self.timeout = timeout
        # aiohttp timeouts for (plain call, stream or binary body), built once rather than per call.
        self._client_timeouts = (aiohttp_timeout(timeout, False), aiohttp_timeout(timeout, True))
        self.retry = retry
        self.limiter = limiter

    def __repr__(self) -> str:
        return f"<Session {self.base_url}>"

    async def request(self, method: str, path: str, *, body: Any = None, query: Mapping[str, Any] | None = None,
                      multipart: Mapping[str, Any] | None = None, content: bytes | str | None = None,
                      content_type: str | None = None, cast: Any = None, stream: bool = False,
                      stream_cls: Any = None, options: RequestOptions = _NO_OPTIONS, raw: bool | str = False,
                      file_fields: tuple[str, ...] = ()) -> Any:
        """Send one logical request (with retries) and return the decoded result; see docs/CONTRACTS.md.

        ``raw=True`` wraps the result in a ``RawResponse``; ``raw="stream"`` returns a ``StreamedResponse`` as soon
        as the headers are in (``with_streaming_response``)."""
        url = path if path[0] == "/" else path if path.startswith(("http://", "https://")) else "/" + path
        if url[0] == "/":
            url = self.base_url + url
        headers: Mapping[str, str] = self._headers
        if self._api_key is not None:
            headers = {**headers, self._auth_header: self._auth_prefix + await self._api_key()}
        extra_headers = extra_body = extra_query = None
        if options:
            extra_headers = options.get("extra_headers")
            extra_body = options.get("extra_body")
            extra_query = options.get("extra_query")
        params = _query_params(self._query, query, extra_query) if query or self._query or extra_query else None

        data: Any = None
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

        unread = stream or raw == "stream"
        policy = self.retry
        client_timeout = self._client_timeouts[unread]
        if options:
            policy, call_timeout = _call_settings(options, policy)
            if call_timeout is not None:
                client_timeout = aiohttp_timeout(call_timeout, unread)
        limiter = self.limiter
        session = self.pool.session
        if session is None or session.closed:
            session = self.pool.open()

        started = time.monotonic()
        retries = 0
        try:
            while True:
                lease: Any = await limiter.acquire(method, path, body) if limiter is not None else None
                response = None
                sent = time.monotonic()
                try:
                    response = await session.request(
                        method, url, params=params, data=form.form() if form is not None else data,
                        headers=headers, timeout=client_timeout, allow_redirects=False,
                    )
                    status = response.status
                    if limiter is not None:
                        limiter.observe(lease, status, response.headers)
                    raw_body = None if unread and status < 300 else await response.read()
                except TRANSPORT_ERRORS as exc:
                    if response is not None:
                        response.close()
                    elif limiter is not None:
                        limiter.observe(lease, None, None)
                    if retries < policy.max_retries and _time_left(policy, started):
                        delay = retry_delay(policy, retries)
                        log.info("retrying %s %s in %.2fs after %s", method, path, delay, type(exc).__name__)
                        retries += 1
                        await anyio.sleep(delay)
                        continue
                    raise map_error(exc, request=self._request_info(method, url, params, headers)) from exc

                if status >= 300:
                    error = _status_error(status, response.headers, raw_body,  # type: ignore[arg-type]
                                          self._request_info(method, url, params, headers))
                    if (
                        retries < policy.max_retries
                        and should_retry_status(status, response.headers, error.code)
                        and _time_left(policy, started)
                    ):
                        delay = retry_delay(policy, retries, response.headers)
                        log.info("retrying %s %s in %.2fs after HTTP %d", method, path, delay, status)
                        retries += 1
                        await anyio.sleep(delay)
                        continue
                    raise error
                break
        finally:
            if form is not None:
                form.close()

        if raw == "stream":  # with_streaming_response: the body is read when the caller asks
            return _streamed(response, cast, stream, stream_cls, limiter, lease, sent, retries)
        if stream:
            on_end = None
            if limiter is not None:
                def on_end(last: Any, _lease: Any = lease) -> None:
                    limiter.settle(_lease, _usage_tokens(last))
            result: Any = AsyncStream(response, stream_cls, on_end)
        elif cast is BinaryResponse:
            result = BinaryResponse(RawResponse(response, None, raw_body, started=sent, retries_taken=retries))
        elif cast is None:
            result = None
        elif cast is Response:
            result = Response(status, response.headers, raw_body,  # type: ignore[arg-type]
                              self._request_info(method, url, params, headers))
        elif cast is str:
            result = raw_body.decode("utf-8", "replace")  # type: ignore[union-attr]
        else:
            try:
                result = decode(raw_body, cast)  # type: ignore[arg-type]
            except msgspec.DecodeError as exc:
                text = raw_body.decode("utf-8", "replace")  # type: ignore[union-attr]
                raise APIResponseValidationError(
                    f"The API answered {status} with a body that is not JSON: {text[:200]!r}",
                    status_code=status, body=text, request_id=response.headers.get("x-request-id"),
                    response=Response(status, response.headers, raw_body,  # type: ignore[arg-type]
                                      self._request_info(method, url, params, headers)),
                ) from exc
            attach_request_id(result, response.headers)
            if limiter is not None:
                limiter.settle(lease, _usage_tokens(result))
        if raw:
            return RawResponse(response, result, raw_body, cast=cast, started=sent, retries_taken=retries)
        return result

    def _request_info(self, method: str, url: str, params: list[tuple[str, str]] | None,
                      headers: Mapping[str, str]) -> Request:
        """The request as errors show it: credentials masked, ``default_query`` values masked (they may be keys)."""
        if params:
            url = mask_url(f"{url}?{urlencode(params)}", self._secret_query)
        return Request(method, url, headers)


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


def _streamed(response: Any, cast: Any, stream: bool, stream_cls: Any, limiter: RateLimitHook | None,
              lease: Any, sent: float, retries: int) -> StreamedResponse[Any]:
    on_end = None
    if limiter is not None:
        def on_end(last: Any) -> None:
            limiter.settle(lease, _usage_tokens(last))
    return StreamedResponse(response, cast=cast, sse=stream, stream_cls=stream_cls, on_end=on_end, started=sent,
                            retries_taken=retries)


def _time_left(policy: RetryPolicy, started: float) -> bool:
    return policy.total_timeout is None or time.monotonic() - started < policy.total_timeout


def _status_error(status: int, headers: Mapping[str, str], raw_body: bytes, request: Request) -> APIStatusError:
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
