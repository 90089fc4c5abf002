"""``BaseClient``: configuration, the shared connection pool, and the send path resources call.

The generated namespaces (``client.chat`` ...) and ``client.webhooks`` are added on top of it by
``openai_async._client.AsyncOpenAI``; nothing here knows about them.
"""

from __future__ import annotations

import os
import platform
import ssl
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urlsplit

import aiohttp

from .._version import __version__
from .errors import OpenAIError
from .headers import find_header, merge_headers
from .hooks import ObservedSession, RequestHooks, observed
from .http import Response
from .resource import APIResource
from .response import RawResponse
from .retry import RetryPolicy
from .session import Session
from .streamed import StreamingView
from .transport import AiohttpTransport, Transport
from .types import UNSET, RateLimitHook, RequestOptions, Timeout, Unpack, check_max_retries

if TYPE_CHECKING:
    from typing_extensions import Self

    from .pagination import AsyncPaginator, PageKind

__all__ = [
    "DEFAULT_BASE_URL",
    "DEFAULT_MAX_RESPONSE_SIZE",
    "DEFAULT_TIMEOUT",
    "USER_AGENT",
    "BaseClient",
    "DefaultAioHttpClient",
]

T = TypeVar("T")

DEFAULT_BASE_URL = "https://api.openai.com/v1"
DEFAULT_TIMEOUT = Timeout(total=600.0, connect=5.0, read=600.0)
DEFAULT_MAX_RESPONSE_SIZE = 256 * 1024 * 1024
"""The largest (decompressed) body of a non-streaming response that is read into memory, in bytes."""
USER_AGENT = f"openai-async/{__version__} Python/{platform.python_version()}"
_KEEP = object()
# Query parameters that are not secrets although they come from the client's configuration (Azure sets it).
_PUBLIC_QUERY = frozenset({"api-version"})


class DefaultAioHttpClient:
    """``http_client=DefaultAioHttpClient()``, as the official SDK's README writes it: the client's own pooled
    aiohttp session (what it uses anyway), created lazily and closed with the client.

    Args:
        max_connections: the connection pool size (default: the client's ``max_connections``).
    """

    __slots__ = ("max_connections",)

    def __init__(self, *, max_connections: int | None = None) -> None:
        if max_connections is not None:
            _check_connections(max_connections)
        self.max_connections = max_connections

    def __repr__(self) -> str:
        return "DefaultAioHttpClient()"


class BaseClient:
    """What every client shares: configuration, the connection pool and the send path (``AsyncOpenAI`` adds the
    namespaces). Strictly private: users construct ``AsyncOpenAI``.
    """

    _auth_header = "Authorization"
    _auth_prefix = "Bearer "

    def __init__(
        self,
        *,
        api_key: str | Callable[[], Awaitable[str]] | None = None,
        organization: str | None = None,
        project: str | None = None,
        webhook_secret: str | None = None,
        base_url: str | None = None,
        websocket_base_url: str | None = None,
        timeout: float | Timeout | Any | None = DEFAULT_TIMEOUT,
        max_retries: int | None = None,
        retry: RetryPolicy | None = None,
        default_headers: Mapping[str, str] | None = None,
        default_query: Mapping[str, object] | None = None,
        http_client: aiohttp.ClientSession | DefaultAioHttpClient | None = None,
        max_connections: int = 1000,
        rate_limiter: RateLimitHook | None = None,
        transport: Transport | None = None,
        trust_env: bool = True,
        ssl_context: ssl.SSLContext | None = None,
        max_response_size: int | None = DEFAULT_MAX_RESPONSE_SIZE,
        tcp_user_timeout: bool = True,
        hooks: RequestHooks | Sequence[RequestHooks] | None = None,
    ) -> None:
        env = os.environ
        if api_key is None or api_key is UNSET:  # type: ignore[comparison-overlap]
            api_key = env.get("OPENAI_API_KEY")
        if not api_key:
            # As the official SDK: a key is required even when default_headers carry an Authorization header.
            raise OpenAIError(
                "No API key: pass api_key=... to AsyncOpenAI() or set the OPENAI_API_KEY environment variable."
            )
        self._api_key = api_key
        self.organization = organization if organization is not None else env.get("OPENAI_ORG_ID")
        self.project = project if project is not None else env.get("OPENAI_PROJECT_ID")
        self.webhook_secret = (
            webhook_secret if webhook_secret is not None else env.get("OPENAI_WEBHOOK_SECRET")
        )
        self.base_url = _check_base_url(_given(base_url) or env.get("OPENAI_BASE_URL") or DEFAULT_BASE_URL)
        self.websocket_base_url = websocket_base_url
        self.timeout = Timeout.of(DEFAULT_TIMEOUT if timeout is UNSET else timeout)
        policy = retry if retry is not None else RetryPolicy()
        max_retries = _given(max_retries)
        self.retry = (
            policy.with_retries(check_max_retries(max_retries)) if max_retries is not None else policy
        )
        self.default_headers = dict(default_headers) if default_headers else {}
        self.default_query = dict(default_query) if default_query else {}
        self.rate_limiter = rate_limiter
        self._hooks = _check_hooks(hooks)
        _check_connections(max_connections)
        if isinstance(http_client, DefaultAioHttpClient):
            max_connections = http_client.max_connections or max_connections
            http_client = None
        elif http_client is not None and not isinstance(http_client, aiohttp.ClientSession):
            raise TypeError(
                f"http_client must be an aiohttp.ClientSession (which you close) or DefaultAioHttpClient(), got "
                f"{type(http_client).__module__}.{type(http_client).__qualname__}: openai_async sends with aiohttp, "
                "so an httpx client cannot be used (configure aiohttp instead, e.g. its connector and trust_env)."
            )
        self._pool: Transport = (
            transport
            if transport is not None
            else AiohttpTransport(
                http_client,
                max_connections=max_connections,
                trust_env=trust_env,
                ssl_context=ssl_context,
                connect_timeout=self.timeout.connect if tcp_user_timeout else None,
            )
        )
        self.max_response_size = max_response_size
        self._owns_pool = True
        self._raw: bool | str = False
        self._session = self._make_session()

    def _make_session(self) -> Session:
        own = {"Accept": "application/json", "User-Agent": USER_AGENT}
        if self.organization:
            own["OpenAI-Organization"] = self.organization
        if self.project:
            own["OpenAI-Project"] = self.project
        key = self._api_key
        auth = {self._auth_header: self._auth_prefix + key} if isinstance(key, str) else None
        # The official SDK's precedence: the key < default_headers < extra_headers, names case-insensitive; a
        # gateway token in default_headers (or omit/None there) means the key is not sent at all.
        headers = merge_headers(
            own, auth, self.default_headers, names=("headers", "api_key", "default_headers")
        )
        user_auth = find_header(self.default_headers, self._auth_header) is not None
        return Session(
            transport=self._pool,
            base_url=self.base_url,
            api_key=None if user_auth else key,
            headers=headers,
            query=self.default_query,
            timeout=self.timeout,
            retry=self.retry,
            limiter=self.rate_limiter,
            auth_header=self._auth_header,
            auth_prefix=self._auth_prefix,
            max_body=self.max_response_size,
            secret_query=frozenset(self.default_query) - _PUBLIC_QUERY,
        )

    # -- configuration -------------------------------------------------------------------------------------

    @property
    def api_key(self) -> str | Callable[[], Awaitable[str]]:
        """The configured key (or key provider). Never shown in reprs, logs or errors."""
        return self._api_key

    @property
    def max_retries(self) -> int:
        """Retries after the first attempt."""
        return self.retry.max_retries

    def with_options(
        self,
        *,
        api_key: str | Callable[[], Awaitable[str]] | None = None,
        organization: str | None | Any = _KEEP,
        project: str | None | Any = _KEEP,
        base_url: str | None = None,
        timeout: float | Timeout | None | Any = _KEEP,
        max_retries: int | None = None,
        http_client: Any = None,
        retry: RetryPolicy | None = None,
        default_headers: Mapping[str, str] | None = None,
        set_default_headers: Mapping[str, str] | None = None,
        default_query: Mapping[str, object] | None = None,
        set_default_query: Mapping[str, object] | None = None,
        rate_limiter: RateLimitHook | None | Any = _KEEP,
    ) -> Self:
        """A copy with some options changed, sharing this client's connection pool.

        ``default_headers``/``default_query`` are merged into the current ones (header names compared
        case-insensitively); ``set_default_*`` replace them. ``http_client`` cannot be changed on a copy.
        """
        if http_client is not None:
            raise TypeError(
                "with_options() cannot change http_client: a copy shares its client's connection "
                "pool; construct a new AsyncOpenAI(http_client=...) instead."
            )
        if default_headers is not None and set_default_headers is not None:
            raise ValueError(
                "The `default_headers` and `set_default_headers` arguments are mutually exclusive"
            )
        if default_query is not None and set_default_query is not None:
            raise ValueError("The `default_query` and `set_default_query` arguments are mutually exclusive")
        new = object.__new__(type(self))
        new.__dict__.update({k: v for k, v in self.__dict__.items() if not _is_namespace(k, v)})
        if api_key is not None:
            new._api_key = api_key
        if organization is not _KEEP:
            new.organization = organization
        if project is not _KEEP:
            new.project = project
        if _given(base_url) is not None:
            new.base_url = _check_base_url(base_url)
        if timeout is not _KEEP and timeout is not UNSET:
            new.timeout = Timeout.of(timeout)
        if retry is not None:
            new.retry = retry
        if _given(max_retries) is not None:
            new.retry = new.retry.with_retries(check_max_retries(max_retries))
        if set_default_headers is not None:
            new.default_headers = dict(set_default_headers)
        elif default_headers:
            names = {name.lower() for name in default_headers}
            kept = {k: v for k, v in self.default_headers.items() if k.lower() not in names}
            new.default_headers = {**kept, **default_headers}
        if set_default_query is not None:
            new.default_query = dict(set_default_query)
        elif default_query:
            new.default_query = {**self.default_query, **default_query}
        if rate_limiter is not _KEEP:
            new.rate_limiter = rate_limiter
        new._owns_pool = False
        new._raw = False
        new._session = new._make_session()
        return new

    copy = with_options

    def _raw_view(self, mode: bool | str = True) -> Self:
        # A copy whose calls return RawResponse (mode True) or StreamedResponse (mode "stream"); see response.py.
        if self._raw == mode:
            return self
        key = "_stream_client" if mode == "stream" else "_raw_client"
        view = self.__dict__.get(key)
        if view is None:
            view = self.with_options()
            view._raw = mode
            self.__dict__[key] = view
        return view

    @property
    def with_raw_response(self) -> Self:
        """This client, its calls returning ``RawResponse``: ``client.with_raw_response.chat.completions.create``."""
        return self._raw_view()

    @property
    def with_streaming_response(self) -> Any:
        """This client, its calls returning ``async with`` blocks over a ``StreamedResponse``."""
        return StreamingView(self._raw_view("stream"))

    # -- lifecycle -----------------------------------------------------------------------------------------

    async def close(self) -> None:
        """Close the connection pool (a copy made with ``with_options`` leaves it to the original)."""
        if self._owns_pool:
            await self._pool.aclose()

    aclose = close

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    def __repr__(self) -> str:
        return f"{type(self).__name__}(base_url={self.base_url!r}, organization={self.organization!r}, project={self.project!r})"

    # -- the send path, for generated resources and for calls the SDK has no method for --------------------

    async def _request(self, method: str, path: str, *, options: RequestOptions, **kwargs: Any) -> Any:
        raw = kwargs.pop("raw", False) or self._raw
        if self._hooks:  # the only cost of hooks for a client without them
            return await observed(
                self._hooks, self._session.request, method, path, {**kwargs, "options": options, "raw": raw}
            )
        return await self._session.request(method, path, options=options, raw=raw, **kwargs)

    def _paginate(
        self,
        path: str,
        *,
        query: dict[str, Any] | None = None,
        item: Any,
        page: PageKind,
        options: RequestOptions,
        method: str = "GET",
        body: Any = None,
    ) -> AsyncPaginator[Any]:
        from .pagination import AsyncPaginator  # lazy: cold start (pagination pulls in decode)

        session: Any = ObservedSession(self._hooks, self._session) if self._hooks else self._session
        return AsyncPaginator(
            session,
            path,
            query=query,
            item=item,
            page=page,
            options=options,
            method=method,
            body=body,
            raw=self._raw,
        )

    async def request(
        self,
        method: str,
        path: str,
        *,
        cast_to: type[T] | Any = dict,
        body: Any = None,
        query: Mapping[str, Any] | None = None,
        stream: bool = False,
        stream_cls: Any = None,
        content: bytes | str | None = None,
        files: Any = None,
        options: Mapping[str, Any] | None = None,
        **kwargs: Unpack[RequestOptions],
    ) -> Any:
        """Call any endpoint: ``await client.post("/foo", cast_to=httpx.Response, body={...})``.

        ``path`` is relative to ``base_url``. The result is decoded into ``cast_to`` (``dict`` by default):
        a msgspec struct, ``dict``, ``str`` or ``bytes``; ``cast_to=httpx.Response`` (any class named ``Response``
        from an httpx module, matched by name: httpx is not imported) gives the whole response (``status_code``,
        ``headers``, ``text``, ``json()``), ``cast_to=RawResponse`` a ``RawResponse`` whose ``parse()`` is the
        JSON body. ``files`` (a mapping or a list of ``(field, file)`` pairs, as in the official SDK) sends a
        multipart form with ``body``'s fields beside the files. ``options`` takes the official SDK's dict (``headers``, ``params``, ``timeout``,
        ``max_retries``, ``extra_json``, ``idempotency_key``); the keywords ``extra_headers`` ... work too.
        """
        call: dict[str, Any] = dict(kwargs)
        if options:
            query = _merge_official_options(options, call, query)
        raw = False
        cast: Any = cast_to
        if _is_response_class(cast_to):
            cast = Response
        elif cast_to is RawResponse:
            cast, raw = Any, True
        elif cast_to is bytes:
            cast = Response
        form: dict[str, Any] | None = None
        if files is not None:
            grouped: dict[str, list[Any]] = {}
            for name, value in files.items() if isinstance(files, Mapping) else files:
                grouped.setdefault(name, []).append(value)
            # A repeated field becomes a list, which the form encoder sends as one part per item.
            form = {**(body or {}), **{name: vs[0] if len(vs) == 1 else vs for name, vs in grouped.items()}}
            body = None
        result = await self._request(
            method.upper(),
            path,
            body=body,
            query=query,
            content=content,
            cast=cast,
            stream=stream,
            stream_cls=stream_cls or dict,
            options=call,  # type: ignore[arg-type]  # a RequestOptions built by keys
            raw=raw,
            multipart=form,
            file_fields=tuple(grouped) if form is not None else (),
        )
        return result.content if cast_to is bytes and isinstance(result, Response) else result

    async def get(
        self,
        path: str,
        *,
        cast_to: type[T] | Any = dict,
        options: Mapping[str, Any] | None = None,
        query: Mapping[str, Any] | None = None,
        stream: bool = False,
        stream_cls: Any = None,
        **kwargs: Unpack[RequestOptions],
    ) -> Any:
        """``GET path`` decoded into ``cast_to`` (see ``request``)."""
        return await self.request(
            "GET",
            path,
            cast_to=cast_to,
            options=options,
            query=query,
            stream=stream,
            stream_cls=stream_cls,
            **kwargs,
        )

    async def post(
        self,
        path: str,
        *,
        cast_to: type[T] | Any = dict,
        body: Any = None,
        content: bytes | str | None = None,
        files: Any = None,
        options: Mapping[str, Any] | None = None,
        query: Mapping[str, Any] | None = None,
        stream: bool = False,
        stream_cls: Any = None,
        **kwargs: Unpack[RequestOptions],
    ) -> Any:
        """``POST path`` with a JSON ``body`` (or raw ``content``, or ``files``), decoded into ``cast_to`` or
        streamed."""
        _one_body(body, content, files)
        return await self.request(
            "POST",
            path,
            cast_to=cast_to,
            body=body,
            content=content,
            files=files,
            options=options,
            query=query,
            stream=stream,
            stream_cls=stream_cls,
            **kwargs,
        )

    async def put(
        self,
        path: str,
        *,
        cast_to: type[T] | Any = dict,
        body: Any = None,
        content: bytes | str | None = None,
        files: Any = None,
        options: Mapping[str, Any] | None = None,
        query: Mapping[str, Any] | None = None,
        **kwargs: Unpack[RequestOptions],
    ) -> Any:
        """``PUT path`` with a JSON ``body`` (or raw ``content``, or ``files``), decoded into ``cast_to``."""
        _one_body(body, content, files)
        return await self.request(
            "PUT",
            path,
            cast_to=cast_to,
            body=body,
            content=content,
            files=files,
            options=options,
            query=query,
            **kwargs,
        )

    async def patch(
        self,
        path: str,
        *,
        cast_to: type[T] | Any = dict,
        body: Any = None,
        content: bytes | str | None = None,
        files: Any = None,
        options: Mapping[str, Any] | None = None,
        query: Mapping[str, Any] | None = None,
        **kwargs: Unpack[RequestOptions],
    ) -> Any:
        """``PATCH path`` with a JSON ``body`` (or raw ``content``, or ``files``), decoded into ``cast_to``."""
        _one_body(body, content, files)
        return await self.request(
            "PATCH",
            path,
            cast_to=cast_to,
            body=body,
            content=content,
            files=files,
            options=options,
            query=query,
            **kwargs,
        )

    async def delete(
        self,
        path: str,
        *,
        cast_to: type[T] | Any = dict,
        body: Any = None,
        options: Mapping[str, Any] | None = None,
        query: Mapping[str, Any] | None = None,
        **kwargs: Unpack[RequestOptions],
    ) -> Any:
        """``DELETE path`` (with an optional JSON ``body``) decoded into ``cast_to``."""
        return await self.request(
            "DELETE", path, cast_to=cast_to, body=body, options=options, query=query, **kwargs
        )


# The official SDK's per-call option names (its RequestOptions) and ours.
_OFFICIAL_OPTIONS = {
    "headers": "extra_headers",
    "timeout": "timeout",
    "max_retries": "max_retries",
    "extra_json": "extra_body",
    "idempotency_key": "idempotency_key",
}


def _merge_official_options(
    options: Mapping[str, Any], call: dict[str, Any], query: Mapping[str, Any] | None
) -> Mapping[str, Any] | None:
    for name, value in options.items():
        if name == "params":
            query = {**(query or {}), **value}
        elif name == "follow_redirects" and not value:
            continue  # never followed anyway
        elif name in _OFFICIAL_OPTIONS:
            call[_OFFICIAL_OPTIONS[name]] = value
        else:
            raise TypeError(
                f"options: unsupported key {name!r}; accepted: params, "
                f"{', '.join(_OFFICIAL_OPTIONS)}, follow_redirects=False"
            )
    return query


def _is_response_class(cast_to: Any) -> bool:
    if cast_to is Response:
        return True
    return (
        isinstance(cast_to, type)
        and cast_to.__name__ == "Response"
        and cast_to.__module__.split(".")[0] in ("httpx", "httpx2")
    )


def _one_body(body: Any, content: Any, files: Any) -> None:
    if body is not None and content is not None:
        raise TypeError("Passing both `body` and `content` is not supported")
    if files is not None and content is not None:
        raise TypeError("Passing both `files` and `content` is not supported")


def _given(value: Any) -> Any:
    return None if value is UNSET else value


def _check_base_url(value: Any) -> str:
    url = value if isinstance(value, str) else str(value)  # an httpx.URL, a yarl.URL
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"base_url must be an http:// or https:// URL, got {url!r}")
    if "@" in parts.netloc:
        # aiohttp would turn user info into Basic auth and refuse it beside the API key; the password would
        # also show wherever the URL is printed. Refused, clearly.
        raise ValueError(
            "base_url must not contain user info (user:password@host): put a gateway credential in "
            "default_headers={'Authorization': ...} instead"
        )
    return url.rstrip("/")


def _check_hooks(hooks: RequestHooks | Sequence[RequestHooks] | None) -> tuple[RequestHooks, ...]:
    if hooks is None:
        return ()
    found = (hooks,) if isinstance(hooks, RequestHooks) else tuple(hooks)
    for hook in found:
        if not isinstance(hook, RequestHooks):
            raise TypeError(
                f"hooks must be RequestHooks instances (subclass openai_async.RequestHooks), got {hook!r}"
            )
    return found


def _check_connections(value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"max_connections must be a positive integer, got {value!r}")


def _is_namespace(name: str, value: Any) -> bool:
    # Resource namespaces (cached properties) and the raw view belong to one client; a copy rebuilds its own.
    return name in ("_raw_client", "_stream_client") or isinstance(value, APIResource)
