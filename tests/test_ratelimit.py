"""Unit tests of the rate limiter and the token estimate: literal inputs, injected clocks, no network."""

from __future__ import annotations

import anyio
import anyio.lowlevel
import msgspec
import pytest

from openai_async._workloads.ratelimit import (
    InMemoryBackend,
    ModelRateLimiter,
    RateLimiter,
    ScaledClock,
    parse_duration,
    request_model,
    retry_after_seconds,
)
from openai_async._workloads.tokens import estimate_request_tokens

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


class JumpClock:
    """Virtual time that jumps forward on every sleep: deterministic schedules for one task at a time."""

    def __init__(self) -> None:
        self.t = 1000.0
        self.slept: list[float] = []

    def now(self) -> float:
        return self.t

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        await anyio.lowlevel.checkpoint()  # a cancellation lands before time moves
        self.t += seconds


# ------------------------------------------------------------------------------------------ parsing
@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("1s", 1.0),
        ("6m0s", 360.0),
        ("20ms", 0.02),
        ("1h2m3.5s", 3723.5),
        ("0s", 0.0),
        ("150us", 0.00015),
        ("2.5", 2.5),
        ("", None),
        (None, None),
        ("soon", None),
        ("5s junk", None),
    ],
)
def test_parse_duration(text: str | None, seconds: float | None) -> None:
    """Reset headers in Go duration format are read as seconds; junk gives None."""
    result = parse_duration(text)
    if seconds is None:
        assert result is None
    else:
        assert result == pytest.approx(seconds)


def test_retry_after_forms() -> None:
    """retry-after-ms wins over Retry-After; seconds and HTTP dates are both understood."""
    assert retry_after_seconds({"retry-after-ms": "250", "retry-after": "9"}) == pytest.approx(0.25)
    assert retry_after_seconds({"retry-after": "3"}) == 3.0
    date = "Wed, 21 Oct 2015 07:28:10 GMT"
    assert retry_after_seconds({"retry-after": date}, now_wall=1445412480.0) == pytest.approx(10.0)
    assert retry_after_seconds({}) is None


# ------------------------------------------------------------------------------------------ token estimate
def test_estimate_chat_heuristic() -> None:
    """Chat cost = ceil(chars/4) per message + 4 per message + 3 for the reply + max_tokens * n."""
    body = {
        "model": "gpt-4o",
        "messages": [{"role": "system", "content": "x" * 40}, {"role": "user", "content": "y" * 9}],
        "max_tokens": 100,
        "n": 2,
    }
    assert estimate_request_tokens("POST", "/chat/completions", body) == (10 + 4) + (3 + 4) + 3 + 200


def test_estimate_parts_structs_and_inputs() -> None:
    """Content parts, images, Responses input items, embeddings lists and Structs are all counted."""

    class Body(msgspec.Struct):
        input: list[str]
        model: str = "text-embedding-3-small"

    assert estimate_request_tokens("POST", "/embeddings", Body(input=["abcd", "abcdefgh"])) == 3
    parts = {
        "messages": [{"role": "user", "content": [{"type": "text", "text": "abcd"}, {"type": "image_url"}]}]
    }
    assert estimate_request_tokens("POST", "/chat/completions", parts) == 4 + 1 + 765 + 3
    responses = {
        "input": [{"role": "user", "content": "abcdefgh"}],
        "instructions": "abcd",
        "max_output_tokens": 7,
    }
    assert estimate_request_tokens("POST", "/responses", responses) == (4 + 2) + 1 + 7
    assert estimate_request_tokens("POST", "/completions", {"prompt": [1, 2, 3]}) == 3
    assert estimate_request_tokens("GET", "/models", None) == 0


# ------------------------------------------------------------------------------------------ schedule
async def test_spacing_and_burst() -> None:
    """rpm=60 with no burst spaces requests one second apart; the first goes at once."""
    clock = JumpClock()
    limiter = RateLimiter(rpm=60, clock=clock, burst=0)
    starts = []
    for _ in range(4):
        lease = await limiter.acquire("POST", "/x", None)
        starts.append(lease.start)
    assert [s - starts[0] for s in starts] == pytest.approx([0, 1, 2, 3])
    assert clock.t == pytest.approx(1003)


async def test_burst_allows_a_seconds_worth_at_once() -> None:
    """burst=1 lets one second of budget go immediately, then the steady rate applies."""
    clock = JumpClock()
    limiter = RateLimiter(rpm=600, clock=clock)  # 10 per second
    for _ in range(10):
        await limiter.acquire("POST", "/x", None)
    assert clock.slept == []
    await limiter.acquire("POST", "/x", None)
    assert clock.slept == [pytest.approx(0.1)]


async def test_fifo_order_of_waiters() -> None:
    """Concurrent waiters are released in the order they called acquire."""
    clock = ScaledClock(200)
    limiter = RateLimiter(rpm=600, clock=clock, burst=0)
    order: list[int] = []

    async def one(i: int) -> None:
        await limiter.acquire("POST", "/x", None)
        order.append(i)

    with anyio.fail_after(10):
        async with anyio.create_task_group() as tg:
            for i in range(30):
                tg.start_soon(one, i)
                await anyio.lowlevel.checkpoint()
    assert order == list(range(30))


async def test_cancelled_waiter_gives_its_slot_back() -> None:
    """A waiter cancelled before its turn refunds its reservation, so the next caller is not delayed by it."""
    clock = JumpClock()
    limiter = RateLimiter(rpm=60, clock=clock, burst=0)
    await limiter.acquire("POST", "/x", None)
    with anyio.move_on_after(0):  # cancelled while waiting for its slot at t+1
        await limiter.acquire("POST", "/x", None)
    lease = await limiter.acquire("POST", "/x", None)
    assert lease.start == pytest.approx(1001.0)


async def _run_for(
    limiter: RateLimiter, clock: ScaledClock, seconds: float, *, settle: int | None = None, workers: int = 40
) -> list[tuple[float, int]]:
    """Hammer the limiter from ``workers`` tasks for ``seconds`` of virtual time; return (start, tokens)."""
    grants: list[tuple[float, int]] = []

    async def worker() -> None:
        while clock.now() < seconds:
            lease = await limiter.acquire("POST", "/chat/completions", {"messages": []})
            grants.append((clock.now(), lease.tokens))
            if settle is not None:
                await clock.sleep(0.05)
                limiter.settle(lease, settle)

    async with anyio.create_task_group() as tg:
        for _ in range(workers):
            tg.start_soon(worker)
    return grants


async def test_holds_rpm_within_5_percent_over_a_minute() -> None:
    """Over one compressed minute the limiter grants the configured RPM within 5 %."""
    clock = ScaledClock(30)
    limiter = RateLimiter(rpm=1200, clock=clock)
    with anyio.fail_after(15):
        grants = await _run_for(limiter, clock, 60.0)
    in_minute = sum(1 for start, _ in grants if start <= 60.0)
    assert 1200 * 0.95 <= in_minute <= 1200 * 1.05
    steady = sum(1 for start, _ in grants if 10.0 <= start < 50.0)  # no burst in the middle
    assert 800 * 0.95 <= steady <= 800 * 1.05


async def test_holds_tpm_within_5_percent_with_usage_corrections() -> None:
    """Estimates double the real usage; settle() refunds the difference and real tokens/min match the TPM."""
    clock = ScaledClock(30)
    limiter = RateLimiter(tpm=60_000, clock=clock, estimator=lambda m, p, b: 200)
    with anyio.fail_after(15):
        grants = await _run_for(limiter, clock, 60.0, settle=100)
    used = 100 * sum(1 for start, _ in grants if start <= 60.0)
    assert 60_000 * 0.95 <= used <= 60_000 * 1.05


# ------------------------------------------------------------------------------------------ feedback
async def test_learns_limits_from_headers() -> None:
    """With no configuration the first response's x-ratelimit-limit-* headers become the limits."""
    clock = JumpClock()
    limiter = RateLimiter(clock=clock, burst=0)
    lease = await limiter.acquire("POST", "/x", None)
    headers = {
        "x-ratelimit-limit-requests": "60",
        "x-ratelimit-remaining-requests": "59",
        "x-ratelimit-reset-requests": "1s",
        "x-ratelimit-limit-tokens": "1000",
        "x-ratelimit-remaining-tokens": "1000",
    }
    limiter.observe(lease, 200, headers)
    assert limiter.limits == {"requests": 60.0, "tokens": 1000.0}
    first = await limiter.acquire("POST", "/x", None)
    second = await limiter.acquire("POST", "/x", None)
    assert second.start - first.start == pytest.approx(1.0)


async def test_configured_limit_is_capped_by_server() -> None:
    """A configured RPM above the server's limit is lowered to it, one below it is kept."""
    limiter = RateLimiter(rpm=100, tpm=10, clock=JumpClock())
    lease = await limiter.acquire("POST", "/x", None)
    limiter.observe(lease, 200, {"x-ratelimit-limit-requests": "50", "x-ratelimit-limit-tokens": "999"})
    assert limiter.limits == {"requests": 50.0, "tokens": 10.0}


async def test_server_reports_more_usage_so_schedule_moves_later() -> None:
    """When remaining-requests is below the local headroom (someone else spends the budget), slots move later."""
    clock = JumpClock()
    limiter = RateLimiter(rpm=600, clock=clock)  # 0.1 s per request, burst of 10
    lease = await limiter.acquire("POST", "/x", None)
    # Locally 9 more could go at once; the server has only 2 left.
    limiter.observe(lease, 200, {"x-ratelimit-limit-requests": "600", "x-ratelimit-remaining-requests": "2"})
    starts = [(await limiter.acquire("POST", "/x", None)).start for _ in range(3)]
    assert starts == [pytest.approx(1000.0), pytest.approx(1000.0), pytest.approx(1000.1)]


async def test_plenty_remaining_changes_nothing() -> None:
    """A server with most of its minute left does not slow the limiter down (it keeps its own even pace)."""
    clock = JumpClock()
    limiter = RateLimiter(rpm=600, clock=clock)
    lease = await limiter.acquire("POST", "/x", None)
    limiter.observe(
        lease, 200, {"x-ratelimit-limit-requests": "600", "x-ratelimit-remaining-requests": "300"}
    )
    starts = [(await limiter.acquire("POST", "/x", None)).start for _ in range(9)]
    assert starts == [pytest.approx(1000.0)] * 9


async def test_first_headers_seed_the_headroom() -> None:
    """With no configured limit, a first response showing an exhausted budget delays the next request."""
    clock = JumpClock()
    limiter = RateLimiter(clock=clock)
    lease = await limiter.acquire("POST", "/x", None)
    limiter.observe(lease, 200, {"x-ratelimit-limit-requests": "60", "x-ratelimit-remaining-requests": "0"})
    nxt = await limiter.acquire("POST", "/x", None)
    assert nxt.start == pytest.approx(1001.0)


async def test_429_pushes_the_schedule_and_cuts_the_rate() -> None:
    """A 429 with Retry-After: 2 makes the next slot wait 2 s and lowers the rate to 80 %, not a fixed stop."""
    clock = JumpClock()
    limiter = RateLimiter(rpm=60, clock=clock, burst=0)
    lease = await limiter.acquire("POST", "/x", None)
    limiter.observe(lease, 429, {"retry-after": "2"})
    assert limiter.throttled == 1
    a = await limiter.acquire("POST", "/x", None)
    b = await limiter.acquire("POST", "/x", None)
    assert a.start == pytest.approx(1002.0)
    assert b.start - a.start == pytest.approx(1.0 / 0.8 / (1 - 0.2 * 2 / 60), rel=0.05)
    # A second 429 from a request reserved before the cut does not cut again.
    limiter.observe(lease, 429, {"retry-after": "0"})
    assert limiter.throttled == 2


async def test_429_without_retry_after_uses_remaining_headers() -> None:
    """A 429 with remaining-tokens short of the request's cost waits for the missing tokens to refill."""
    clock = JumpClock()
    limiter = RateLimiter(clock=clock, estimator=lambda m, p, b: 600)
    lease = await limiter.acquire("POST", "/x", None)
    lease.tokens = 600
    headers = {
        "x-ratelimit-limit-tokens": "6000",
        "x-ratelimit-remaining-tokens": "0",
        "x-ratelimit-reset-tokens": "1m",
    }
    limiter.observe(lease, 429, headers)
    nxt = await limiter.acquire("POST", "/x", None)
    assert nxt.start >= 1000.0 + 600 * 60 / 6000 - 1e-6


async def test_429_keeps_the_spacing_of_waiters() -> None:
    """Requests already waiting when a 429 arrives are moved after Retry-After, still spaced by the rate."""
    clock = ScaledClock(100)
    limiter = RateLimiter(rpm=60, clock=clock, burst=0)  # 1 s = 10 ms real apart
    first = await limiter.acquire("POST", "/x", None)
    starts: list[float] = []

    async def waiter() -> None:
        await limiter.acquire("POST", "/x", None)
        starts.append(clock.now())

    with anyio.fail_after(10):
        async with anyio.create_task_group() as tg:
            for _ in range(5):
                tg.start_soon(waiter)
            await anyio.lowlevel.checkpoint()
            limiter.observe(first, 429, {"retry-after": "3"})
    # Nobody starts before Retry-After, and the waiters keep (at least) their 1 s spacing after it.
    for i, start in enumerate(sorted(starts)):
        assert start >= first.start + 3.0 + 1.0 * i - 0.01


async def test_connection_error_and_missing_usage_change_nothing() -> None:
    """observe(None, None) and settle(None) leave the schedule as it was."""
    clock = JumpClock()
    limiter = RateLimiter(rpm=60, tpm=600, clock=clock, burst=0, estimator=lambda m, p, b: 10)
    lease = await limiter.acquire("POST", "/x", None)
    limiter.observe(lease, None, None)
    limiter.settle(lease, None)
    nxt = await limiter.acquire("POST", "/x", None)
    assert nxt.start - lease.start == pytest.approx(1.0)


def test_backend_push_is_idempotent() -> None:
    """Pushing the same 'not before' twice moves the schedule once."""
    backend = InMemoryBackend()
    backend.reserve_now(0.0, [("requests", 1.0, 0.0)])
    backend.push("requests", 0.0, 5.0)
    start1, _ = backend.reserve_now(0.0, [("requests", 1.0, 0.0)])
    backend.push("requests", 0.0, 5.0)
    start2, _ = backend.reserve_now(0.0, [("requests", 1.0, 0.0)])
    assert (start1, start2) == (pytest.approx(5.0), pytest.approx(6.0))


def test_rejects_bad_configuration() -> None:
    """Non-positive limits are refused."""
    with pytest.raises(ValueError):
        RateLimiter(rpm=0)
    with pytest.raises(ValueError):
        ScaledClock(0)


# ------------------------------------------------------------------------------------------ per model
def test_request_model_reads_every_body_form() -> None:
    """The model is found in dicts, Structs and raw JSON; bodies without one map to ''."""

    class Body(msgspec.Struct):
        model: str

    assert request_model({"model": "a"}) == "a"
    assert request_model(Body(model="b")) == "b"
    assert request_model(msgspec.Raw(b'{"messages": [], "model": "c"}')) == "c"
    assert request_model(None) == request_model({"file": 1}) == request_model(msgspec.Raw(b"[1]")) == ""


async def test_models_have_separate_budgets() -> None:
    """Each model gets its own limiter: one model's limit and 429s do not slow another."""
    clock = JumpClock()
    limiter = ModelRateLimiter({"big": (60, None)}, rpm=600, clock=clock, burst=0)
    a1 = await limiter.acquire("POST", "/chat/completions", {"model": "big"})
    limiter.observe(a1, 429, {"retry-after": "30"})
    b = [await limiter.acquire("POST", "/chat/completions", {"model": "small"}) for _ in range(3)]
    assert [lease.lease.start for lease in b] == [
        pytest.approx(1000.0),
        pytest.approx(1000.1),
        pytest.approx(1000.2),
    ]
    a2 = await limiter.acquire("POST", "/chat/completions", {"model": "big"})
    assert a2.lease.start >= 1030.0
    assert limiter.throttled == 1
    assert limiter.for_model("big").limits["requests"] == 60
    assert limiter.for_model("small").limits["requests"] == 600


async def test_a_huge_retry_after_holds_back_at_most_a_minute() -> None:
    """A 429 hinting at an hour (a quota, not a rate) delays the schedule by at most 60 s."""
    clock = JumpClock()
    limiter = RateLimiter(rpm=60, clock=clock, burst=0)
    lease = await limiter.acquire("POST", "/x", None)
    limiter.observe(lease, 429, {"retry-after": "3600"})
    nxt = await limiter.acquire("POST", "/x", None)
    assert nxt.start == pytest.approx(1060.0)
