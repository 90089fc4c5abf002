"""A Redis backend for ``RateLimiter``: several processes (or hosts) share one organization's budgets.

    import redis.asyncio as redis
    limiter = RateLimiter(rpm=5_000, tpm=2_000_000, backend=RedisBackend(redis.Redis(), key="org-main"))

The whole state is one Redis hash per ``key`` holding each budget's TAT (see ``_ratelimit``). Every
reservation is one atomic Lua script: it first applies the corrections this process queued since its last call
(``shift`` from usage/header corrections, ``push`` after a 429), then reserves the request in every budget at
one common start time. So a reservation costs one round trip and no lock, and no two processes get the same slot.

Times come from the limiter's clock, which for this backend defaults to ``WallClock`` (``time.time``): every
process sharing a key must use a comparable clock (hosts kept in sync by NTP; a skew of a few milliseconds only
moves slots by that much). The key expires after ``ttl`` seconds without use.

Requires the ``redis`` package (``pip install openai_async[redis]``).
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from typing import Any

from .ratelimit import WallClock

__all__ = ["RedisBackend"]

# KEYS[1]: the hash. ARGV: now, ttl_ms, n_ops, (kind, field, a, b) * n_ops, n_budgets, (field, inc, tol) * n.
# kind "s": TAT += a (if the budget exists); kind "p": TAT = max(TAT + a, b).
# Returns the start time and each budget's new TAT, as strings (Redis would truncate Lua numbers to integers).
_RESERVE = """
local key = KEYS[1]
local now = tonumber(ARGV[1])
local i = 4
for _ = 1, tonumber(ARGV[3]) do
  local kind, field, a, b = ARGV[i], ARGV[i + 1], tonumber(ARGV[i + 2]), tonumber(ARGV[i + 3])
  i = i + 4
  local tat = tonumber(redis.call('HGET', key, field))
  if kind == 's' then
    if tat then redis.call('HSET', key, field, string.format('%.6f', tat + a)) end
  else
    local new = b
    if tat and tat + a > b then new = tat + a end
    redis.call('HSET', key, field, string.format('%.6f', new))
  end
end
local n = tonumber(ARGV[i])
i = i + 1
local start = now
local fields, incs, tats = {}, {}, {}
for d = 1, n do
  fields[d], incs[d] = ARGV[i], tonumber(ARGV[i + 1])
  local tol = tonumber(ARGV[i + 2])
  i = i + 3
  tats[d] = tonumber(redis.call('HGET', key, fields[d])) or -1e18
  if tats[d] - tol > start then start = tats[d] - tol end
end
local out = {string.format('%.6f', start)}
for d = 1, n do
  local new = math.max(tats[d], start) + incs[d]
  redis.call('HSET', key, fields[d], string.format('%.6f', new))
  out[d + 1] = string.format('%.6f', new)
end
redis.call('PEXPIRE', key, ARGV[2])
return out
"""


class RedisBackend:
    """Budget state in Redis, shared by every limiter that uses the same ``key``.

    Args:
        client: A ``redis.asyncio.Redis`` client (``decode_responses`` may be either). Typed ``Any`` so that this
            module type-checks without the optional ``redis`` package.
        key: The Redis key of this budget; use one per organization/project (and per model if you limit so).
        ttl: Seconds after the last use at which Redis forgets the state.
    """

    preferred_clock = WallClock()

    def __init__(self, client: Any, key: str = "openai_async:ratelimit", *, ttl: float = 3600.0) -> None:
        self._redis = client
        self.key = key
        self._ttl_ms = int(ttl * 1000)
        self._script = client.register_script(_RESERVE)
        self._ops: list[tuple[str, str, float, float]] = []

    @classmethod
    def from_url(cls, url: str, key: str = "openai_async:ratelimit", *, ttl: float = 3600.0) -> RedisBackend:
        """Connect with ``redis.asyncio.from_url(url)``."""
        redis_asyncio = importlib.import_module("redis.asyncio")  # optional extra: openai_async[redis]
        return cls(redis_asyncio.from_url(url), key, ttl=ttl)

    async def reserve(
        self, now: float, costs: Sequence[tuple[str, float, float]]
    ) -> tuple[float, list[float]]:
        ops, self._ops = self._ops, []
        args: list[Any] = [repr(now), self._ttl_ms, len(ops)]
        for op in ops:
            args.extend((op[0], op[1], repr(op[2]), repr(op[3])))
        args.append(len(costs))
        for budget, inc, tol in costs:
            args.extend((budget, repr(inc), repr(tol)))
        try:
            out = await self._script(keys=[self.key], args=args)
        except BaseException:
            self._ops[:0] = ops  # not applied: keep them for the next call
            raise
        values = [float(v) for v in out]
        return values[0], values[1:]

    def shift(self, budget: str, seconds: float) -> None:
        self._ops.append(("s", budget, seconds, 0.0))

    def push(self, budget: str, seconds: float, not_before: float) -> None:
        self._ops.append(("p", budget, seconds, not_before))

    async def aclose(self) -> None:
        """Close the Redis client."""
        await self._redis.aclose()
