"""The rate limiter inside a real client against a local aiohttp server on 127.0.0.1, in compressed time."""

from __future__ import annotations

from typing import Any

import anyio
import pytest
from aiohttp import web

from openai_async import AsyncOpenAI, RetryPolicy
from openai_async._workloads.ratelimit import RateLimiter, ScaledClock

from ._server import routes, serve

pytestmark = pytest.mark.anyio

SPEED = 30.0  # one virtual minute in two real seconds


class Recorder:
    """A chat endpoint that records arrival times (virtual) and answers with a fixed usage."""

    def __init__(self, clock: ScaledClock, usage: int = 100, headers: dict[str, str] | None = None) -> None:
        self.clock = clock
        self.usage = usage
        self.headers = headers or {}
        self.arrivals: list[float] = []

    async def handler(self, request: web.Request) -> web.Response:
        self.arrivals.append(self.clock.now())
        await request.read()
        return web.json_response({"usage": {"total_tokens": self.usage}}, headers=self.headers)


class StrictServer:
    """A server with its own token bucket of ``rpm`` (two seconds of burst) that says so in its headers."""

    def __init__(self, clock: ScaledClock, rpm: int) -> None:
        self.clock = clock
        self.rpm = rpm
        self.capacity = rpm / 30.0
        self.level = self.capacity
        self.last = 0.0
        self.accepted: list[float] = []
        self.rejected_at: list[float] = []

    @property
    def rejected(self) -> int:
        return len(self.rejected_at)

    async def handler(self, request: web.Request) -> web.Response:
        now = self.clock.now()
        self.level = min(self.capacity, self.level + (now - self.last) * self.rpm / 60.0)
        self.last = now
        await request.read()
        ok = self.level >= 1.0
        if ok:
            self.level -= 1.0
            self.accepted.append(now)
        else:
            self.rejected_at.append(now)
        remaining = int(self.rpm - (self.capacity - self.level))
        headers = {
            "x-ratelimit-limit-requests": str(self.rpm),
            "x-ratelimit-remaining-requests": str(max(0, remaining)),
            "x-ratelimit-reset-requests": f"{(self.capacity - self.level) * 60 / self.rpm:.3f}s",
        }
        if not ok:
            wait = (1.0 - self.level) * 60.0 / self.rpm / SPEED  # in real seconds, as a server would say
            headers["retry-after-ms"] = str(int(wait * 1000) + 1)
            error = {"message": "Rate limit reached for requests", "code": "rate_limit_exceeded"}
            return web.json_response({"error": error}, status=429, headers=headers)
        return web.json_response({"usage": {"total_tokens": 10}}, headers=headers)


async def hammer(
    client: AsyncOpenAI, clock: ScaledClock, body: dict[str, Any], until: float, workers: int = 64
) -> None:
    async def worker() -> None:
        while clock.now() < until:
            await client.post("/chat/completions", body=body)

    async with anyio.create_task_group() as tg:
        for _ in range(workers):
            tg.start_soon(worker)


async def test_client_holds_rpm_within_5_percent() -> None:
    """64 tasks sharing one client reach the server at the configured 1,200 RPM (±5 %) over a minute."""
    clock = ScaledClock(SPEED)
    server = Recorder(clock)
    limiter = RateLimiter(rpm=1200, clock=clock)
    with anyio.fail_after(20):
        async with serve(routes(("POST", "/v1/chat/completions", server.handler))) as url:
            async with AsyncOpenAI(api_key="k", base_url=url, rate_limiter=limiter) as client:
                await hammer(client, clock, {"messages": []}, 60.0)
    in_minute = sum(1 for t in server.arrivals if t <= 60.0)
    assert 1200 * 0.95 <= in_minute <= 1200 * 1.05


async def test_client_holds_tpm_within_5_percent_with_usage_correction() -> None:
    """Estimates (prompt + max_tokens = 307) exceed the real usage (100); settle() corrects and TPM holds ±5 %."""
    clock = ScaledClock(SPEED)
    server = Recorder(clock, usage=100)
    limiter = RateLimiter(tpm=60_000, clock=clock)
    body = {"model": "m", "messages": [{"role": "user", "content": "x" * 400}], "max_tokens": 200}
    with anyio.fail_after(20):
        async with serve(routes(("POST", "/v1/chat/completions", server.handler))) as url:
            async with AsyncOpenAI(api_key="k", base_url=url, rate_limiter=limiter) as client:
                await hammer(client, clock, body, 60.0)
    used = 100 * sum(1 for t in server.arrivals if t <= 60.0)
    assert 60_000 * 0.95 <= used <= 60_000 * 1.05


async def test_learns_a_strict_servers_limit_and_rarely_hits_it() -> None:
    """With no configuration the limiter learns 1,200 RPM from the headers: after the first wave, no 429s and
    the full rate."""
    clock = ScaledClock(SPEED)
    server = StrictServer(clock, rpm=1200)
    limiter = RateLimiter(clock=clock)
    with anyio.fail_after(20):
        async with serve(routes(("POST", "/v1/chat/completions", server.handler))) as url:
            client = AsyncOpenAI(
                api_key="k", base_url=url, rate_limiter=limiter, retry=RetryPolicy(max_retries=50)
            )
            async with client:
                await hammer(client, clock, {"messages": []}, 60.0)
    assert limiter.limits["requests"] == 1200
    # The first wave (64 requests at once, limits unknown) overruns the server's 40-request burst; after it the
    # limiter keeps to the server's rate without further 429s.
    assert server.rejected <= 64
    assert not [t for t in server.rejected_at if t > 20.0]
    steady = sum(1 for t in server.accepted if 20.0 <= t < 60.0)
    assert steady >= 800 * 0.95


class SharedServer(StrictServer):
    """A full-minute bucket (as the API reports it) that another user of the organization drains at ``other``
    requests per minute; it starts almost empty."""

    def __init__(self, clock: ScaledClock, rpm: int, other: int) -> None:
        super().__init__(clock, rpm)
        self.capacity = float(rpm)
        self.level = 40.0
        self.other = other

    async def handler(self, request: web.Request) -> web.Response:
        now = self.clock.now()
        self.level = max(0.0, self.level - (now - self.last) * self.other / 60.0)  # the other user's share
        return await super().handler(request)


async def test_yields_to_another_user_of_the_budget() -> None:
    """When someone else spends the organization's RPM too, remaining-requests makes the limiter leave them a
    large share (it would take 800 in 40 s alone), with few 429s."""
    clock = ScaledClock(SPEED)
    server = SharedServer(clock, rpm=1200, other=600)
    limiter = RateLimiter(rpm=1200, clock=clock)
    with anyio.fail_after(20):
        async with serve(routes(("POST", "/v1/chat/completions", server.handler))) as url:
            client = AsyncOpenAI(
                api_key="k", base_url=url, rate_limiter=limiter, retry=RetryPolicy(max_retries=50)
            )
            async with client:
                await hammer(client, clock, {"messages": []}, 60.0)
    ours = sum(1 for t in server.accepted if 20.0 <= t < 60.0)
    assert 400 * 0.85 <= ours <= 800 * 0.8  # alone it would take 800 in these 40 s; its fair half is 400
    assert server.rejected <= 0.05 * len(server.accepted)
