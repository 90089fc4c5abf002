"""The retry policy: a small frozen value and plain functions, no I/O.

What is retried (as the official SDK does): 408, 409, 429 and >= 500 responses, connection errors and
timeouts. A response header ``x-should-retry: true|false`` overrides the status. A 429 whose error code is
``insufficient_quota`` is never retried: it cannot succeed until someone pays.

How long to wait before attempt ``n + 1`` (``n`` counts retries already made, from 0):
1. ``retry-after-ms`` (milliseconds), else ``retry-after`` (seconds or an HTTP date), when the hint lies in
   ``(0, max_server_wait]``. A longer hint ends the retries at once: the error is raised with its
   ``retry_after`` (``long_wait="raise"``, the default), where the official SDK ignores it and retries early,
   which ``long_wait="ignore"`` does too;
2. otherwise ``min(initial_wait * 2**n, max_wait)``, shortened by a random jitter of up to ``jitter`` (25 %)
   so that many clients that failed together do not come back together.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from typing import Literal

import msgspec

from .headers import retry_after

__all__ = ["RetryPolicy", "retry_after", "retry_delay", "should_retry_status"]


class RetryPolicy(msgspec.Struct, frozen=True):
    """How a client retries. Set it per client (``AsyncOpenAI(retry=...)``) or per call (``retry=...``).

    Args:
        max_retries: retries after the first attempt (the official SDK's ``max_retries``; default 2).
        initial_wait: the first backoff, in seconds.
        max_wait: the longest computed backoff.
        jitter: the fraction of a computed backoff that may be randomly taken off.
        max_server_wait: the longest ``Retry-After``/``retry-after-ms`` hint that is honoured.
        total_timeout: give up retrying once this many seconds have passed since the first attempt.
        long_wait: a hint beyond ``max_server_wait``: ``"raise"`` the error at once (``err.retry_after`` has
            the wait), or ``"ignore"`` the hint and back off as usual (the official SDK's way).

    ``RetryPolicy.instant()`` keeps the retry count but waits 0 s: meant for tests.
    """

    max_retries: int = 2
    initial_wait: float = 0.5
    max_wait: float = 8.0
    jitter: float = 0.25
    max_server_wait: float = 60.0
    total_timeout: float | None = None
    long_wait: Literal["raise", "ignore"] = "raise"

    @classmethod
    def instant(cls, max_retries: int = 2) -> RetryPolicy:
        """A policy that retries without waiting and ignores server hints: for tests."""
        return cls(
            max_retries=max_retries,
            initial_wait=0.0,
            max_wait=0.0,
            jitter=0.0,
            max_server_wait=0.0,
            long_wait="ignore",
        )

    def with_retries(self, max_retries: int) -> RetryPolicy:
        """A copy with another retry count."""
        return (
            self
            if max_retries == self.max_retries
            else msgspec.structs.replace(self, max_retries=max_retries)
        )


_RETRY_STATUSES = frozenset({408, 409, 429})


def should_retry_status(status: int, headers: Mapping[str, str], error_code: str | None = None) -> bool:
    """Decide whether a response with ``status`` is worth another attempt."""
    hint = headers.get("x-should-retry")
    if hint == "true":
        return True
    if hint == "false":
        return False
    if status == 429 and error_code == "insufficient_quota":
        return False
    return status in _RETRY_STATUSES or status >= 500


def retry_delay(policy: RetryPolicy, retries_made: int, headers: Mapping[str, str] | None = None) -> float:
    """Seconds to wait before the next attempt; ``retries_made`` counts the retries already made."""
    if headers is not None:
        hint = retry_after(headers)
        if hint is not None and 0 < hint <= policy.max_server_wait:
            return hint
    delay = min(policy.initial_wait * (2.0**retries_made), policy.max_wait)
    if policy.jitter:
        delay *= 1.0 - policy.jitter * random.random()
    return max(delay, 0.0)
