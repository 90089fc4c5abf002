"""Client-side rate limiter: keep one client (or many processes) inside an organization's RPM and TPM budgets.

    limiter = RateLimiter(rpm=5_000, tpm=2_000_000)
    client = AsyncOpenAI(rate_limiter=limiter)

How it decides (GCRA, the "virtual scheduling" form of a token bucket):

- Each budget (``requests``, ``tokens``) keeps one number, its *theoretical arrival time* (TAT): the moment the
  budget would be fully replenished if nothing else were sent. A request costing ``c`` units moves it by
  ``c * 60 / limit`` seconds. A request may start once ``TAT - tolerance <= now``; the tolerance is the burst
  (``burst`` seconds worth of budget, at least one request).
- Callers of ``acquire`` queue in FIFO order; the head of the queue reserves its start time and sleeps until
  then with the injected clock (no polling), then hands the turn to the next. Reserving only at the head means
  every correction made meanwhile applies to everyone still queued. A cancelled head gives its slot back.
- Token costs are estimated before the call (``_tokens.estimate_request_tokens``) and corrected by ``settle``
  from ``usage.total_tokens``.
- ``observe`` reads ``x-ratelimit-{limit,remaining,reset}-{requests,tokens}``: the server's limit replaces (or
  caps) the configured one, and when the server has less ``remaining`` than this limiter believes it may still
  take at once (another process is spending the organization's budget), the schedule moves later by the
  difference.
- A 429 pushes the next free slot to ``now + Retry-After`` (or the reset the headers imply) *keeping the spacing
  of everyone already waiting*, and cuts the effective rate to 80 %, recovering linearly over 20 s. Nothing
  stops the world for a fixed time.

State lives in a backend: ``InMemoryBackend`` (default, one process) or ``_ratelimit_redis.RedisBackend``
(several processes sharing one budget). Times are seconds of the limiter's ``Clock``; tests inject a
``ScaledClock`` to run a minute of limiting in a second.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol, runtime_checkable

import anyio
import msgspec

from .._core.headers import header_int, parse_duration, retry_after
from .._core.types import RateLimitHook
from .tokens import estimate_request_tokens

log = logging.getLogger("openai_async")

__all__ = [
    "Clock",
    "InMemoryBackend",
    "Lease",
    "ModelRateLimiter",
    "MonotonicClock",
    "RateLimitBackend",
    "RateLimitHook",
    "RateLimiter",
    "ScaledClock",
    "WallClock",
    "parse_duration",
]

REQUESTS = "requests"
TOKENS = "tokens"
_DIMENSIONS = (REQUESTS, TOKENS)
_NEG_INF = float("-inf")
_EPSILON = 1e-9  # float noise in TAT arithmetic is not a reason to sleep


# --------------------------------------------------------------------------------------------------- clocks
class Clock(Protocol):
    """A time source: ``now()`` in seconds and an ``anyio``-based ``sleep``."""

    def now(self) -> float: ...

    async def sleep(self, seconds: float) -> None: ...


class MonotonicClock:
    """``time.monotonic`` + ``anyio.sleep``: the default for a limiter that lives in one process."""

    def now(self) -> float:
        return time.monotonic()

    async def sleep(self, seconds: float) -> None:
        await anyio.sleep(max(0.0, seconds))


class WallClock:
    """``time.time`` + ``anyio.sleep``: comparable across processes and hosts (keep them NTP-synced)."""

    def now(self) -> float:
        return time.time()

    async def sleep(self, seconds: float) -> None:
        await anyio.sleep(max(0.0, seconds))


class ScaledClock:
    """Compressed time for tests and simulations: ``speed`` virtual seconds pass per real second.

    Args:
        speed: Virtual seconds per real second (60 runs a minute of rate limiting in one second).
        wall: Base the clock on ``time.time`` (shareable across processes) instead of ``time.monotonic``.
        origin: The source time that is virtual time 0 (default: now); processes sharing a Redis budget
            pass the same ``origin`` with ``wall=True``.
    """

    def __init__(self, speed: float, *, wall: bool = False, origin: float | None = None) -> None:
        if speed <= 0:
            raise ValueError("speed must be positive")
        self.speed = speed
        self._source = time.time if wall else time.monotonic
        self._origin = self._source() if origin is None else origin

    def now(self) -> float:
        return (self._source() - self._origin) * self.speed

    async def sleep(self, seconds: float) -> None:
        await anyio.sleep(max(0.0, seconds) / self.speed)


# --------------------------------------------------------------------------------------------------- headers
def retry_after_seconds(headers: Mapping[str, str], now_wall: float | None = None) -> float | None:
    """The server's ``retry-after-ms`` / ``Retry-After`` hint in seconds (never negative), or None."""
    hint = retry_after(headers, now_wall)
    return None if hint is None else max(0.0, hint)


# --------------------------------------------------------------------------------------------------- backends
@runtime_checkable
class RateLimitBackend(Protocol):
    """Where the TAT of each budget lives. Times are seconds of the limiter's clock.

    ``shift`` and ``push`` come from the synchronous ``observe``/``settle`` hooks; a remote backend may queue
    them and apply them atomically with its next ``reserve``.
    """

    async def reserve(
        self, now: float, costs: Sequence[tuple[str, float, float]]
    ) -> tuple[float, list[float]]:
        """Reserve ``(budget, increment_seconds, tolerance_seconds)`` in every budget at one common start time.

        Returns the start time (``>= now``) and each budget's TAT after the reservation.
        """
        ...

    def shift(self, budget: str, seconds: float) -> None:
        """Move the budget's TAT by ``seconds`` (positive: more in use than accounted; negative: a refund)."""
        ...

    def push(self, budget: str, seconds: float, not_before: float) -> None:
        """Set the budget's TAT to ``max(TAT + seconds, not_before)``: delay what is reserved and block until then."""
        ...


class InMemoryBackend:
    """Budget state in this process (the default). Not shared between processes."""

    preferred_clock: Clock | None = None

    def __init__(self) -> None:
        self._tat: dict[str, float] = {}

    async def reserve(
        self, now: float, costs: Sequence[tuple[str, float, float]]
    ) -> tuple[float, list[float]]:
        return self.reserve_now(now, costs)

    def reserve_now(self, now: float, costs: Sequence[tuple[str, float, float]]) -> tuple[float, list[float]]:
        """Synchronous ``reserve`` (no I/O)."""
        tat = self._tat
        start = now
        for budget, _inc, tol in costs:
            free = tat.get(budget, _NEG_INF) - tol
            if free > start:
                start = free
        after = []
        for budget, inc, _tol in costs:
            new = max(tat.get(budget, _NEG_INF), start) + inc
            tat[budget] = new
            after.append(new)
        return start, after

    def shift(self, budget: str, seconds: float) -> None:
        if budget in self._tat:
            self._tat[budget] += seconds

    def push(self, budget: str, seconds: float, not_before: float) -> None:
        self._tat[budget] = max(self._tat.get(budget, _NEG_INF) + seconds, not_before)


# --------------------------------------------------------------------------------------------------- limiter
class Lease:
    """One reservation: handed out by ``acquire`` and given back to ``observe``/``settle``. Strictly private."""

    __slots__ = ("epoch", "settled", "shift0", "start", "tokens", "units")

    def __init__(
        self, tokens: int, start: float, units: list[float | None], epoch: int, shift0: float
    ) -> None:
        self.tokens = tokens
        self.start = start
        self.units = units  # per budget: units in use right after this reservation (None: budget unknown)
        self.epoch = epoch
        self.shift0 = shift0
        self.settled = False


class _Budget:
    """One dimension (requests or tokens): its configured and server-reported limits per minute."""

    __slots__ = ("_rate", "_rate_key", "configured", "name", "server")

    def __init__(self, name: str, configured: float | None) -> None:
        self.name = name
        self.configured = configured
        self.server: float | None = None
        self._rate_key: tuple[float | None, float, float] | None = None
        self._rate = (0.0, 0.0)

    def limit(self) -> float | None:
        if self.configured is None:
            return self.server
        if self.server is None:
            return self.configured
        return min(self.configured, self.server)

    def rate(self, factor: float, burst: float) -> tuple[float, float]:
        """(seconds per unit, tolerance seconds); (0, 0) when no limit is known. Cached: it runs on every call."""
        limit = self.limit()
        key = (limit, factor, burst)
        if key != self._rate_key:
            if limit is None:
                self._rate = (0.0, 0.0)
            else:
                per_minute = limit * factor
                inc = 60.0 / per_minute
                self._rate = (inc, inc * (max(1.0, per_minute * burst / 60.0) - 1.0))
            self._rate_key = key
        return self._rate


class RateLimiter:
    """Client-side RPM/TPM limiter shared by every task that uses the client it is given to.

    Args:
        rpm: Requests per minute to stay under, or None to learn it from ``x-ratelimit-limit-requests``.
        tpm: Tokens per minute to stay under, or None to learn it from ``x-ratelimit-limit-tokens``.
        backend: Where the budget state lives; ``InMemoryBackend()`` by default, ``RedisBackend`` to share it.
        clock: Time source; defaults to the backend's preferred clock, else ``MonotonicClock()``.
        burst: Seconds worth of budget that may be spent at once (at least one request).
        estimator: ``(method, path, body) -> tokens`` used before each call.

    The server's limits cap the configured ones (``min``); a limit nobody knows is not enforced.
    """

    #: Fraction of the rate kept after a 429, and the time over which the rate recovers linearly to 100 %.
    THROTTLE_FACTOR = 0.8
    RECOVERY_SECONDS = 20.0
    #: The longest a 429 holds back the schedule.
    MAX_THROTTLE_SECONDS = 60.0

    def __init__(
        self,
        rpm: float | None = None,
        tpm: float | None = None,
        *,
        backend: RateLimitBackend | None = None,
        clock: Clock | None = None,
        burst: float = 1.0,
        estimator: Callable[[str, str, Any], int] | None = None,
    ) -> None:
        for name, value in (("rpm", rpm), ("tpm", tpm)):
            if value is not None and value <= 0:
                raise ValueError(f"{name} must be positive, got {value!r}")
        self._backend: RateLimitBackend = backend if backend is not None else InMemoryBackend()
        self._clock: Clock = clock or getattr(self._backend, "preferred_clock", None) or MonotonicClock()
        self._budgets = (_Budget(REQUESTS, rpm), _Budget(TOKENS, tpm))
        self._burst = burst
        self._estimate = estimator or estimate_request_tokens
        self._epoch = 0
        self._shift = 0.0  # cumulative delay applied to leases already waiting
        self._waiting: set[Lease] = set()  # the head of the queue while it sleeps until its slot
        self._queue: deque[anyio.Event] = deque()  # callers waiting for their turn, in order
        self._head = False
        self._factor_cut = 1.0
        self._cut_at = _NEG_INF
        self.throttled = 0
        """Number of 429 responses observed."""

    # ---------------------------------------------------------------- introspection
    @property
    def clock(self) -> Clock:
        return self._clock

    @property
    def limits(self) -> dict[str, float | None]:
        """The effective per-minute limits (configured capped by server-reported), before 429 slow-downs."""
        return {b.name: b.limit() for b in self._budgets}

    def _factor(self, now: float) -> float:
        if self._factor_cut >= 1.0:
            return 1.0
        progress = (now - self._cut_at) / self.RECOVERY_SECONDS
        if progress >= 1.0:
            self._factor_cut = 1.0
            return 1.0
        return self._factor_cut + (1.0 - self._factor_cut) * progress

    def _rate(self, budget: _Budget, factor: float) -> tuple[float, float]:
        """Return (seconds per unit, tolerance seconds) for ``budget``; (0, 0) when it has no known limit."""
        return budget.rate(factor, self._burst)

    # ---------------------------------------------------------------- the hook
    async def acquire(self, method: str, path: str, body: Any) -> Lease:
        """Wait for this request's turn and reserve its cost; call before every attempt.

        Callers queue in FIFO order; only the head of the queue holds a reservation while it sleeps, so the
        others reserve later with every correction (refunds from ``settle``, header updates) already applied.
        """
        tokens = self._estimate(method, path, body) if self._budgets[1].limit() is not None else 0
        if self._head or self._queue:
            turn = anyio.Event()
            self._queue.append(turn)
            try:
                await turn.wait()
            except BaseException:
                if turn.is_set():  # the turn was handed over just as we were cancelled: pass it on
                    self._next_turn()
                else:
                    self._queue.remove(turn)
                raise
        else:
            self._head = True
        try:
            return await self._reserve(tokens)
        finally:
            self._next_turn()

    def _next_turn(self) -> None:
        if self._queue:
            self._queue.popleft().set()
        else:
            self._head = False

    async def _reserve(self, tokens: int) -> Lease:
        clock = self._clock
        now = clock.now()
        factor = self._factor(now)
        inc_r, tol_r = self._rate(self._budgets[0], factor)
        inc_t, tol_t = self._rate(self._budgets[1], factor)
        costs = ((REQUESTS, inc_r, tol_r), (TOKENS, tokens * inc_t, tol_t))
        backend = self._backend
        if isinstance(backend, InMemoryBackend):
            start, after = backend.reserve_now(now, costs)
        else:
            start, after = await backend.reserve(now, costs)
        units: list[float | None] = [
            (after[0] - start) / inc_r if inc_r else None,
            (after[1] - start) / inc_t if inc_t else None,
        ]
        lease = Lease(tokens, start, units, self._epoch, self._shift)
        if start - now > _EPSILON:
            if start - now > 0.1:
                log.debug(
                    "rate limiter: waiting %.2fs for a slot (%d tokens estimated)",
                    start - now,
                    tokens,
                    extra={"openai_wait": start - now, "openai_tokens": tokens},
                )
            await self._wait(lease, costs)
        return lease

    async def _wait(self, lease: Lease, costs: tuple[tuple[str, float, float], ...]) -> None:
        clock = self._clock
        self._waiting.add(lease)
        try:
            while True:
                delay = lease.start + (self._shift - lease.shift0) - clock.now()
                if delay <= _EPSILON:
                    return
                await clock.sleep(delay)
        except BaseException:
            for budget, inc, _tol in costs:  # give the slot back
                if inc:
                    self._backend.shift(budget, -inc)
            raise
        finally:
            self._waiting.discard(lease)

    def observe(self, lease: Lease, status: int | None, headers: Mapping[str, str] | None) -> None:
        """Learn from a response's status and headers (``None, None`` after a connection error)."""
        if headers is None:
            return
        now = self._clock.now()
        self._learn_headers(lease, headers, now)
        if status == 429:
            request_id = headers.get("x-request-id")
            log.info(
                "rate limited (HTTP 429, request %s): slowing down",
                request_id,
                extra={"openai_request_id": request_id, "openai_status": 429},
            )
            self._throttle(lease, headers, now)

    def settle(self, lease: Lease, total_tokens: int | None) -> None:
        """Correct the token charge of ``lease`` with the ``usage.total_tokens`` the response reported."""
        if total_tokens is None or lease.settled:
            return
        lease.settled = True
        inc_t, _ = self._rate(self._budgets[1], self._factor(self._clock.now()))
        delta = total_tokens - lease.tokens
        if inc_t and delta:
            self._backend.shift(TOKENS, delta * inc_t)

    # ---------------------------------------------------------------- corrections
    def _delay_waiters(self, until: float) -> float:
        """Move everyone already waiting so that the earliest starts no sooner than ``until``; return the delay."""
        if not self._waiting:
            return 0.0
        extra = self._shift
        earliest = min(lease.start + (extra - lease.shift0) for lease in self._waiting)
        if until <= earliest:
            return 0.0
        self._shift += until - earliest
        return until - earliest

    def _learn_headers(self, lease: Lease, headers: Mapping[str, str], now: float) -> None:
        # The server's bucket holds a whole minute of budget; this limiter's holds only `burst` seconds of it
        # (``capacity`` units) and spends it evenly. So what matters is not how much of the minute is used but
        # whether the server still has the few units this limiter believes it may take at once: when
        # ``remaining`` is below the local headroom (``capacity - units in use``), another user of the
        # organization is spending the budget and the schedule moves later by the difference.
        factor = self._factor(now)
        for index, budget in enumerate(self._budgets):
            limit = header_int(headers, f"x-ratelimit-limit-{budget.name}")
            if not limit or limit <= 0:
                continue
            budget.server = float(limit)
            remaining = header_int(headers, f"x-ratelimit-remaining-{budget.name}")
            if remaining is None:
                continue
            inc, tol = self._rate(budget, factor)
            capacity = tol / inc + 1.0
            local_units = lease.units[index]
            if local_units is None:
                # First sight of this budget: start with no more headroom than the server has left.
                if remaining < capacity:
                    self._backend.push(budget.name, 0.0, now + (capacity - remaining) * inc)
                continue
            if lease.epoch != self._epoch:
                continue  # a correction was already made after this lease was reserved
            excess = (capacity - remaining) - local_units
            if excess > 1.0 + 0.1 * capacity:  # in-flight timing makes a unit or two of noise
                self._backend.shift(budget.name, excess * inc)
                self._epoch += 1
                if self._waiting:
                    self._shift += excess * inc

    def _throttle(self, lease: Lease, headers: Mapping[str, str], now: float) -> None:
        self.throttled += 1
        wait = retry_after_seconds(headers)
        if wait is None:
            wait = self._wait_from_headers(lease, headers)
        # RPM/TPM budgets refill within a minute; a longer hint is another kind of limit (quota, daily) that
        # must not freeze every caller of the client.
        until = now + min(wait, self.MAX_THROTTLE_SECONDS)
        _, tol_r = self._rate(self._budgets[0], self._factor(now))
        # Waiters keep their order and spacing but start no sooner than `until`; new callers queue after them.
        self._backend.push(REQUESTS, self._delay_waiters(until), until + tol_r)
        if lease.epoch == self._epoch:  # one cut per wave of 429s, not one per in-flight request
            self._epoch += 1
            self._factor_cut = max(0.25, self._factor(now) * self.THROTTLE_FACTOR)
            self._cut_at = now

    def _wait_from_headers(self, lease: Lease, headers: Mapping[str, str]) -> float:
        """Time until this request would fit again, from the remaining/limit headers; 1 s if they are absent."""
        waits = []
        for budget in self._budgets:
            limit = header_int(headers, f"x-ratelimit-limit-{budget.name}")
            remaining = header_int(headers, f"x-ratelimit-remaining-{budget.name}")
            if not limit or remaining is None:
                continue
            need = 1 if budget.name == REQUESTS else lease.tokens
            if remaining >= need:
                continue
            full = parse_duration(headers.get(f"x-ratelimit-reset-{budget.name}"))
            per_unit = 60.0 / limit
            wait = (need - remaining) * per_unit
            waits.append(min(wait, full) if full is not None else wait)
        return max(waits) if waits else 1.0


# --------------------------------------------------------------------------------------------------- per model
class _ModelOnly(msgspec.Struct):
    model: Any = None


_model_decoder = msgspec.json.Decoder(_ModelOnly)


def request_model(body: Any) -> str:
    """The ``model`` a request body names (``""`` when it names none): the key of OpenAI's per-model limits."""
    if body is None:
        return ""
    if isinstance(body, Mapping):
        model = body.get("model")
    elif isinstance(body, msgspec.Raw):
        try:
            model = _model_decoder.decode(body).model
        except (msgspec.DecodeError, msgspec.ValidationError):
            return ""
    else:
        model = getattr(body, "model", None)
    return model if isinstance(model, str) else ""


class _ModelLease:
    __slots__ = ("lease", "limiter")

    def __init__(self, limiter: RateLimiter, lease: Lease) -> None:
        self.limiter = limiter
        self.lease = lease


class ModelRateLimiter:
    """One ``RateLimiter`` per model, made on first use: OpenAI's RPM/TPM limits (and headers) are per model.

    Args:
        limits: ``{model: (rpm, tpm)}`` for the models you know the limits of (either may be None).
        rpm: Default requests per minute for other models (None: learn from the headers).
        tpm: Default tokens per minute for other models.
        backend: Makes the backend of one model from its name, e.g.
            ``lambda model: RedisBackend(redis, key=f"org-main:{model}")``; in-process state by default.
        clock: Time source shared by the per-model limiters.
        burst: As for ``RateLimiter``.

    Requests whose body names no model (files, batches...) share the limiter of the model ``""``.
    """

    def __init__(
        self,
        limits: Mapping[str, tuple[float | None, float | None]] | None = None,
        *,
        rpm: float | None = None,
        tpm: float | None = None,
        backend: Callable[[str], RateLimitBackend] | None = None,
        clock: Clock | None = None,
        burst: float = 1.0,
    ) -> None:
        self._limits = dict(limits or {})
        self._default = (rpm, tpm)
        self._backend = backend
        self._clock = clock
        self._burst = burst
        self._limiters: dict[str, RateLimiter] = {}

    def for_model(self, model: str) -> RateLimiter:
        """The limiter of ``model`` (created on first use)."""
        limiter = self._limiters.get(model)
        if limiter is None:
            rpm, tpm = self._limits.get(model, self._default)
            backend = self._backend(model) if self._backend is not None else None
            limiter = RateLimiter(rpm, tpm, backend=backend, clock=self._clock, burst=self._burst)
            self._limiters[model] = limiter
        return limiter

    @property
    def throttled(self) -> int:
        """Number of 429 responses observed, all models together."""
        return sum(limiter.throttled for limiter in self._limiters.values())

    async def acquire(self, method: str, path: str, body: Any) -> _ModelLease:
        """Wait for this request's turn in its model's budget; see ``RateLimiter.acquire``."""
        limiter = self.for_model(request_model(body))
        return _ModelLease(limiter, await limiter.acquire(method, path, body))

    def observe(self, lease: _ModelLease, status: int | None, headers: Mapping[str, str] | None) -> None:
        """See ``RateLimiter.observe``."""
        lease.limiter.observe(lease.lease, status, headers)

    def settle(self, lease: _ModelLease, total_tokens: int | None) -> None:
        """See ``RateLimiter.settle``."""
        lease.limiter.settle(lease.lease, total_tokens)
