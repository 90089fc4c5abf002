"""``AsyncOpenAI``: the core client with the generated resource namespaces and ``client.webhooks`` on top."""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING

from ._core.client import DEFAULT_BASE_URL, DEFAULT_TIMEOUT, BaseClient
from .resources._root import Resources

if TYPE_CHECKING:
    from ._helpers.webhooks import Webhooks

__all__ = ["DEFAULT_BASE_URL", "DEFAULT_TIMEOUT", "AsyncOpenAI"]


class AsyncOpenAI(BaseClient, Resources):
    """An asyncio client for the OpenAI API, drop-in for ``openai.AsyncOpenAI``.

    Namespaces (``client.chat``, ``client.files`` ...) are built on first use.

    Args:
        api_key: the API key, or an async callable returning one (called before every request, for rotating
            tokens). Defaults to the ``OPENAI_API_KEY`` environment variable.
        organization: sent as ``OpenAI-Organization``; defaults to ``OPENAI_ORG_ID``.
        project: sent as ``OpenAI-Project``; defaults to ``OPENAI_PROJECT_ID``.
        base_url: defaults to ``OPENAI_BASE_URL``, then ``https://api.openai.com/v1``; ``user:password@`` in it is
            refused (use default_headers for a gateway credential).
        timeout: seconds, a ``Timeout`` (total / connect / read — read is also the stream idle timeout), or an
            ``httpx.Timeout`` (its connect and read are used). Negative values raise ValueError.
        max_retries: retries after the first attempt (default 2); a negative value raises ValueError.
        retry: a whole ``RetryPolicy`` (``RetryPolicy.instant()`` in tests); ``max_retries`` overrides its count.
        default_headers / default_query: sent with every request. A header here (names compared
            case-insensitively) wins over the key: ``{"Authorization": "Bearer <gateway token>"}`` replaces it,
            ``{"Authorization": None}`` sends none. ``default_query`` values are masked in errors.
        http_client: your own ``aiohttp.ClientSession`` (you close it), or ``DefaultAioHttpClient()`` (the
            client's own pool, closed with it); otherwise one is created lazily. httpx clients are refused.
        max_connections: the connection pool size when the client creates its own session.
        rate_limiter: an optional client-side ``RateLimiter`` shared by every call of this client.
        transport: send requests through this object instead of aiohttp: anything with ``async send(request)``
            and ``async aclose()`` (``openai_async._core.transport.Transport``), such as
            ``openai_async.testing.MockTransport(handler)`` for tests and benchmarks without sockets.
        trust_env: honour ``HTTP_PROXY``/``HTTPS_PROXY``/``ALL_PROXY``/``NO_PROXY`` and
            ``SSL_CERT_FILE``/``SSL_CERT_DIR`` (default True, as the official SDK).
        ssl_context: an ``ssl.SSLContext`` to verify servers with (a private CA, client certificates), e.g.
            ``ssl.create_default_context(cafile="corp-ca.pem")``.
        max_response_size: the largest decompressed body of a non-streaming response, in bytes (default
            256 MiB; None: no limit); a larger one raises ``ResponseTooLargeError``. Streams and binary
            downloads are not limited.
        tcp_user_timeout: on Linux, let bytes sent on a connection go unacknowledged for the connect timeout at
            most (``TCP_USER_TIMEOUT``): against a server whose listen backlog overflows, a connection whose
            handshake it dropped then fails within the connect timeout instead of waiting for a reset tens of
            seconds later. On by default (the official SDK has no such bound); turn it off for links that may
            stall for longer than the connect timeout without losing the connection.
        hooks: ``RequestHooks`` told of every call's start, retries, answer or error and a stream's end (e.g.
            ``OpenTelemetryHooks()``, extra ``otel``); copies made by ``with_options`` keep them.
        webhook_secret: defaults to ``OPENAI_WEBHOOK_SECRET``; used by ``client.webhooks``.
    """

    @cached_property
    def webhooks(self) -> Webhooks:
        """Verify and decode webhook deliveries (``verify_signature``, ``unwrap``)."""
        from ._helpers.webhooks import Webhooks  # lazy: cold start (webhooks load the generated event types)

        return Webhooks(self)
