"""What a client reads from response headers a server got slightly wrong: rate-limit counts and resets, retry hints.

Garbled values read as None (never an exception in the user's face); a malformed ``retry-after-ms`` falls back to
``Retry-After``.
"""

from __future__ import annotations

import anyio
import pytest
from aiohttp import web

from openai_async import AsyncOpenAI, RateLimitInfo, RetryPolicy

from ._drip import body_handler
from ._server import routes, serve

pytestmark = pytest.mark.anyio

PAGE = {"object": "list", "data": []}


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("6m0s", 360.0),
        ("1h2m3.5s", 3723.5),
        ("20ms", 0.02),
        ("1.5", 1.5),
        ("1m30", None),  # a number without its unit at the end
        ("1m 30s", None),  # a gap between the parts
        ("soon", None),
        ("", None),
    ],
)
def test_reset_durations_read_as_seconds_or_none(value: str, seconds: float | None) -> None:
    """An ``x-ratelimit-reset-*`` duration in Go style (or bare seconds) is read in seconds; anything else is None."""
    info = RateLimitInfo.from_headers({"x-ratelimit-reset-requests": value})
    assert info.reset_requests == (pytest.approx(seconds) if seconds is not None else None)


async def test_garbled_rate_limit_counts_read_as_none_beside_good_ones() -> None:
    """From a real response: a count that is not a number is None, "149984.0" is 149984, resets are parsed."""
    headers = {
        "x-ratelimit-limit-requests": "lots",
        "x-ratelimit-limit-tokens": "150000",
        "x-ratelimit-remaining-tokens": "149984.0",
        "x-ratelimit-reset-requests": "8.64s",
        "x-ratelimit-reset-tokens": "tomorrow",
    }
    app = routes(("GET", "/v1/models", body_handler(PAGE, headers=headers)))
    with anyio.fail_after(10):
        async with serve(app) as url, AsyncOpenAI(api_key="sk-test", base_url=url) as client:
            raw = await client.models.with_raw_response.list()
    assert raw.rate_limits == RateLimitInfo(
        limit_requests=None,
        limit_tokens=150000,
        remaining_requests=None,
        remaining_tokens=149984,
        reset_requests=pytest.approx(8.64),
        reset_tokens=None,
    )


async def test_a_malformed_retry_after_ms_falls_back_to_retry_after() -> None:
    """A 429 with ``retry-after-ms: soon`` and ``Retry-After: 0.3`` waits the 0.3 s, then the retry succeeds."""
    calls: list[float] = []

    async def limited(request: web.Request) -> web.Response:
        calls.append(anyio.current_time())
        if len(calls) == 1:
            return web.json_response(
                {"error": {"message": "slow down", "type": "rate_limit_error"}},
                status=429,
                headers={"retry-after-ms": "soon", "Retry-After": "0.3"},
            )
        return web.json_response(PAGE)

    policy = RetryPolicy(max_retries=1, initial_wait=0.0, max_wait=0.0)
    with anyio.fail_after(10):
        async with serve(routes(("GET", "/v1/models", limited))) as url:
            async with AsyncOpenAI(api_key="sk-test", base_url=url, retry=policy) as client:
                await client.models.list()
    assert len(calls) == 2
    assert calls[1] - calls[0] >= 0.25
