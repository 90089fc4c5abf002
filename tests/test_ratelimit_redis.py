"""The Redis backend against a real redis-server on 127.0.0.1 (skipped when redis-server or redis-py is missing)."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import textwrap
import time
from collections.abc import AsyncIterator, Iterator

import anyio
import pytest

from openai_async._workloads.ratelimit import RateLimiter, ScaledClock

redis_asyncio = pytest.importorskip("redis.asyncio")
from openai_async._workloads.ratelimit_redis import RedisBackend  # noqa: E402

pytestmark = pytest.mark.anyio


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def redis_url() -> Iterator[str]:
    """A throw-away redis-server on a free loopback port, without persistence."""
    exe = shutil.which("redis-server")
    if exe is None:
        pytest.skip("redis-server is not installed")
    port = _free_port()
    proc = subprocess.Popen(
        [exe, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    pytest.skip("redis-server did not start")
                time.sleep(0.02)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@pytest.fixture
async def backend_factory(redis_url: str, request: pytest.FixtureRequest) -> AsyncIterator[object]:
    """Make RedisBackends on a key unique to the test; close them afterwards."""
    made: list[RedisBackend] = []
    key = f"test:{request.node.name}:{time.time_ns()}"

    def make() -> RedisBackend:
        backend = RedisBackend.from_url(redis_url, key)
        made.append(backend)
        return backend

    yield make
    for backend in made:
        await backend.aclose()


class ManualClock:
    """Time that only moves when the test says so."""

    def __init__(self) -> None:
        self.t = 1_000.0

    def now(self) -> float:
        return self.t

    async def sleep(self, seconds: float) -> None:
        self.t += seconds
        await anyio.lowlevel.checkpoint()


async def test_two_limiters_share_one_schedule(backend_factory: object) -> None:
    """Two limiters on one Redis key interleave on one schedule: distinct slots, spaced by the shared rate."""
    clock = ManualClock()
    a = RateLimiter(rpm=60, clock=clock, burst=0, backend=backend_factory())  # type: ignore[operator]
    b = RateLimiter(rpm=60, clock=clock, burst=0, backend=backend_factory())  # type: ignore[operator]
    starts = []
    for limiter in (a, b, a, b):
        lease = await limiter.acquire("POST", "/x", None)
        starts.append(lease.start)
    assert [s - starts[0] for s in starts] == pytest.approx([0, 1, 2, 3])


async def test_a_429_in_one_process_delays_the_other(backend_factory: object) -> None:
    """A push after a 429 seen by one limiter is applied atomically before the other's next reservation."""
    clock = ManualClock()
    a = RateLimiter(rpm=600, clock=clock, backend=backend_factory())  # type: ignore[operator]
    b = RateLimiter(rpm=600, clock=clock, backend=backend_factory())  # type: ignore[operator]
    lease = await a.acquire("POST", "/x", None)
    a.observe(lease, 429, {"retry-after": "5"})
    await a.acquire("POST", "/x", None)  # carries the queued push to Redis
    nxt = await b.acquire("POST", "/x", None)
    assert nxt.start >= 1005.0


async def test_concurrent_reservations_never_share_a_slot(backend_factory: object) -> None:
    """200 concurrent reservations from two limiters get 200 distinct start times, never closer than the rate."""
    clock = ScaledClock(1000)
    limiters = [RateLimiter(rpm=60_000, clock=clock, burst=0, backend=backend_factory()) for _ in range(2)]  # type: ignore[operator]
    starts: list[float] = []

    async def one(limiter: RateLimiter) -> None:
        starts.append((await limiter.acquire("POST", "/x", None)).start)

    with anyio.fail_after(10):
        async with anyio.create_task_group() as tg:
            for i in range(200):
                tg.start_soon(one, limiters[i % 2])
    starts.sort()
    assert len(set(starts)) == 200
    gaps = [y - x for x, y in zip(starts, starts[1:], strict=False)]
    assert min(gaps) >= 0.001 - 1e-5


_CHILD = textwrap.dedent(
    """
    import sys, anyio
    from openai_async._workloads.ratelimit import RateLimiter, ScaledClock
    from openai_async._workloads.ratelimit_redis import RedisBackend

    url, key = sys.argv[1], sys.argv[2]

    async def main():
        backend = RedisBackend.from_url(url, key)
        await backend.reserve(0.0, [])  # connect and load the script before the clock starts
        print("ready", flush=True)
        clock = ScaledClock(30, wall=True, origin=float(await anyio.to_thread.run_sync(sys.stdin.readline)))
        limiter = RateLimiter(rpm=1200, clock=clock, backend=backend)
        grants = []

        async def worker():
            while clock.now() < 60:
                await limiter.acquire("POST", "/x", None)
                grants.append(clock.now())

        await clock.sleep(-clock.now())
        async with anyio.create_task_group() as tg:
            for _ in range(20):
                tg.start_soon(worker)
        await backend.aclose()
        print(" ".join(f"{g:.4f}" for g in grants), flush=True)

    anyio.run(main, backend="asyncio")
    """
)


async def test_three_processes_hold_one_rpm_within_5_percent(redis_url: str) -> None:
    """Three processes sharing a Redis budget of 1,200 RPM are granted 1,200 per minute in total (±5 %)."""
    key = f"test:procs:{time.time_ns()}"
    with anyio.fail_after(30):
        children = [
            await anyio.open_process([sys.executable, "-c", _CHILD, redis_url, key]) for _ in range(3)
        ]
        try:
            for child in children:  # wait until every child is up, then give them one common time origin
                assert child.stdout is not None
                assert (await child.stdout.receive()).strip() == b"ready"
            origin = repr(time.time() + 0.3).encode() + b"\n"
            for child in children:
                assert child.stdin is not None
                await child.stdin.send(origin)
            outputs = []
            for child in children:
                assert child.stdout is not None
                chunks = [chunk async for chunk in child.stdout]
                outputs.append(b"".join(chunks))
                if await child.wait() != 0:
                    assert child.stderr is not None
                    pytest.fail((await child.stderr.receive()).decode())
        finally:
            for child in children:
                await child.aclose()
    per_process = [[float(x) for x in out.split()] for out in outputs]
    assert all(per_process)  # every process got its share
    in_minute = sum(1 for grants in per_process for g in grants if 0 <= g <= 60)
    assert 1200 * 0.95 <= in_minute <= 1200 * 1.05
