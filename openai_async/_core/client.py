"""``BaseClient``: configuration, the shared connection pool, and the send path resources call.

The generated namespaces (``client.chat`` ...) and ``client.webhooks`` are added on top of it by
``openai_async._client.AsyncOpenAI``; nothing here knows about them.
"""

from __future__ import annotations

import os
import platform
from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

import aiohttp

from .._version import __version__
from .errors import OpenAIError
from .resource import APIResource
from .retry import RetryPolicy
from .session import Session
from .transport import Pool
from .types import RateLimitHook, RequestOptions, Timeout, Unpack

if TYPE_CHECKING:
    from typing_extensions import Self

    from .pagination import AsyncPaginator, PageKind

__all__ = ["DEFAULT_BASE_URL", "DEFAULT_TIMEOUT", "USER_AGENT", "BaseClient"]

T = TypeVar("T")

DEFAULT_BASE_URL = "https://api.openai.com/v1"
DEFAULT_TIMEOUT = Timeout(total=600.0, connect=5.0, read=600.0)
USER_AGENT = f"openai-async/{__version__} Python/{platform.python_version()}"
_KEEP = object()


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
        timeout: float | Timeout | None = DEFAULT_TIMEOUT,
        max_retries: int | None = None,
        retry: RetryPolicy | None = None,
        default_headers: Mapping[str, str] | None = None,
        default_query: Mapping[str, object] | None = None,
        http_client: aiohttp.ClientSession | None = None,
        max_connections: int = 1000,
        rate_limiter: RateLimitHook | None = None,
    ) -> None:
        env = os.environ
        if api_key is None:
            api_key = env.get("OPENAI_API_KEY")
        if not api_key:
            raise OpenAIError(
                "No API key: pass api_key=... to AsyncOpenAI() or set the OPENAI_API_KEY environment variable."
            )
        self._api_key = api_key
        self.organization = organization if organization is not None else env.get("OPENAI_ORG_ID")
        self.project = project if project is not None else env.get("OPENAI_PROJECT_ID")
        self.webhook_secret = webhook_secret if webhook_secret is not None else env.get("OPENAI_WEBHOOK_SECRET")
        self.base_url = (base_url or env.get("OPENAI_BASE_URL") or DEFAULT_BASE_URL).rstrip("/")
        self.websocket_base_url = websocket_base_url
        self.timeout = Timeout.of(timeout)
        policy = retry if retry is not None else RetryPolicy()
        self.retry = policy.with_retries(max_retries) if max_retries is not None else policy
        self.default_headers = dict(default_headers) if default_headers else {}
        self.default_query = dict(default_query) if default_query else {}
        self.rate_limiter = rate_limiter
        self._pool = Pool(http_client, max_connections=max_connections)
        self._owns_pool = True
        self._raw = False
        self._session = self._make_session()

    def _make_session(self) -> Session:
        headers = {
            "Accept": "application/json",
            "User-Agent": USER_AGENT,
        }
        if self.organization:
            headers["OpenAI-Organization"] = self.organization
        if self.project:
            headers["OpenAI-Project"] = self.project
        headers.update(self.default_headers)
        return Session(
            pool=self._pool, base_url=self.base_url, api_key=self._api_key, headers=headers,
            query=self.default_query, timeout=self.timeout, retry=self.retry, limiter=self.rate_limiter,
            auth_header=self._auth_header, auth_prefix=self._auth_prefix,
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
        retry: RetryPolicy | None = None,
        default_headers: Mapping[str, str] | None = None,
        set_default_headers: Mapping[str, str] | None = None,
        default_query: Mapping[str, object] | None = None,
        set_default_query: Mapping[str, object] | None = None,
        rate_limiter: RateLimitHook | None | Any = _KEEP,
    ) -> Self:
        """A copy with some options changed, sharing this client's connection pool.

        ``default_headers``/``default_query`` are merged into the current ones; ``set_default_*`` replace them.
        """
        new = object.__new__(type(self))
        new.__dict__.update({k: v for k, v in self.__dict__.items() if not _is_namespace(k, v)})
        if api_key is not None:
            new._api_key = api_key
        if organization is not _KEEP:
            new.organization = organization
        if project is not _KEEP:
            new.project = project
        if base_url is not None:
            new.base_url = base_url.rstrip("/")
        if timeout is not _KEEP:
            new.timeout = Timeout.of(timeout)
        if retry is not None:
            new.retry = retry
        if max_retries is not None:
            new.retry = new.retry.with_retries(max_retries)
        if set_default_headers is not None:
            new.default_headers = dict(set_default_headers)
        elif default_headers:
            new.default_headers = {**self.default_headers, **default_headers}
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

    def _raw_view(self) -> Self:
        if self._raw:
            return self
        view = self.__dict__.get("_raw_client")
        if view is None:
            view = self.with_options()
            view._raw = True
            self.__dict__["_raw_client"] = view
        return view

    # -- lifecycle -----------------------------------------------------------------------------------------

    async def close(self) -> None:
        """Close the connection pool (a copy made with ``with_options`` leaves it to the original)."""
        if self._owns_pool:
            await self._pool.close()

    aclose = close

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    def __repr__(self) -> str:
        return f"{type(self).__name__}(base_url={self.base_url!r}, organization={self.organization!r}, project={self.project!r})"

    # -- the send path, for generated resources and for calls the SDK has no method for --------------------

    async def _request(self, method: str, path: str, *, options: RequestOptions, **kwargs: Any) -> Any:
        return await self._session.request(method, path, options=options, raw=self._raw, **kwargs)

    def _paginate(self, path: str, *, query: dict[str, Any] | None = None, item: Any, page: PageKind,
                  options: RequestOptions, method: str = "GET", body: Any = None) -> AsyncPaginator[Any]:
        from .pagination import AsyncPaginator  # lazy: cold start (pagination pulls in decode)

        return AsyncPaginator(self._session, path, query=query, item=item, page=page, options=options,
                              method=method, body=body)

    async def request(self, method: str, path: str, *, cast_to: type[T] | Any = dict, body: Any = None,
                      query: Mapping[str, Any] | None = None, stream: bool = False, stream_cls: Any = None,
                      **options: Unpack[RequestOptions]) -> Any:
        """Call any endpoint: ``await client.request("POST", "/chat/completions", body={...}, cast_to=dict)``.

        ``path`` is relative to ``base_url``. The result is decoded into ``cast_to`` (``dict`` by default).
        """
        return await self._request(method.upper(), path, body=body, query=query, cast=cast_to, stream=stream,
                                   stream_cls=stream_cls or dict, options=options)

    async def get(self, path: str, *, cast_to: type[T] | Any = dict, query: Mapping[str, Any] | None = None,
                  **options: Unpack[RequestOptions]) -> Any:
        """``GET path`` decoded into ``cast_to``."""
        return await self.request("GET", path, cast_to=cast_to, query=query, **options)

    async def post(self, path: str, *, cast_to: type[T] | Any = dict, body: Any = None,
                   query: Mapping[str, Any] | None = None, stream: bool = False, stream_cls: Any = None,
                   **options: Unpack[RequestOptions]) -> Any:
        """``POST path`` with a JSON ``body``, decoded into ``cast_to`` (or streamed)."""
        return await self.request("POST", path, cast_to=cast_to, body=body, query=query, stream=stream,
                                  stream_cls=stream_cls, **options)

    async def delete(self, path: str, *, cast_to: type[T] | Any = dict, query: Mapping[str, Any] | None = None,
                     **options: Unpack[RequestOptions]) -> Any:
        """``DELETE path`` decoded into ``cast_to``."""
        return await self.request("DELETE", path, cast_to=cast_to, query=query, **options)


def _is_namespace(name: str, value: Any) -> bool:
    # Resource namespaces (cached properties) and the raw view belong to one client; a copy rebuilds its own.
    return name == "_raw_client" or isinstance(value, APIResource)
