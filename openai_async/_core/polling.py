"""The shared poll loop of every ``*_and_poll`` / ``wait*`` helper: server hints first, then backoff, within a deadline.

How long to wait between two reads, in order of precedence:

1. ``poll_interval_ms`` when the caller gave one (the official SDK's rule: an explicit interval wins);
2. the ``openai-poll-after-ms`` header of the last response, which the API sends on objects that are still
   being processed (the official SDK reads the same header);
3. otherwise an exponential backoff from ``initial`` seconds, times ``factor``, capped at ``maximum``.

``max_wait_seconds`` bounds the whole wait: the last sleep is cut short so that the object is read once more at
the deadline, and ``PollTimeoutError`` (carrying that last object) is raised if it is still not done.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, TypeVar

import anyio

from .errors import OpenAIError
from .headers import poll_after_ms
from .response import RawResponse
from .types import UNSET, UnsetType

__all__ = ["PollSchedule", "PollTimeoutError", "poll", "poll_after_ms"]

T = TypeVar("T")


class PollTimeoutError(OpenAIError, TimeoutError, RuntimeError):
    """A poll helper gave up after ``max_wait_seconds``; ``last`` is the object as last read (still not done).

    It is also a ``RuntimeError``, what the official SDK's ``files.wait_for_processing`` raises on timeout, so
    ``except RuntimeError`` written for it keeps working."""

    def __init__(self, message: str, last: Any = None) -> None:
        super().__init__(message)
        self.last = last


class PollSchedule:
    """Strictly private. The delays and the deadline of one poll loop.

    Args:
        poll_interval_ms: a fixed interval that overrides hints and backoff (UNSET: not given).
        max_wait_seconds: the longest total wait (None: no limit).
        initial / factor / maximum: the backoff used when neither an interval nor a hint is known.
    """

    __slots__ = ("_deadline", "_fixed", "_next", "factor", "maximum", "max_wait_seconds")

    def __init__(
        self,
        *,
        poll_interval_ms: float | UnsetType | None = UNSET,
        max_wait_seconds: float | None = None,
        initial: float = 1.0,
        factor: float = 1.5,
        maximum: float = 30.0,
    ) -> None:
        self._fixed = (
            None if poll_interval_ms is UNSET or poll_interval_ms is None else float(poll_interval_ms) / 1000
        )
        self._next = initial
        self.factor = factor
        self.maximum = maximum
        self.max_wait_seconds = max_wait_seconds
        self._deadline = None if max_wait_seconds is None else time.monotonic() + max_wait_seconds

    def delay(self, headers: Mapping[str, str] | None = None) -> float:
        """The wait before the next read, given the headers of the last response."""
        if self._fixed is not None:
            return self._fixed
        hint = poll_after_ms(headers)
        if hint is not None:
            return hint
        delay = self._next
        self._next = min(self._next * self.factor, self.maximum)
        return delay

    def remaining(self) -> float | None:
        """Seconds left before the deadline (None: no deadline)."""
        return None if self._deadline is None else self._deadline - time.monotonic()

    async def sleep(self, headers: Mapping[str, str] | None = None) -> bool:
        """Sleep until the next read; False (without sleeping) once the deadline has passed."""
        delay = self.delay(headers)
        left = self.remaining()
        if left is not None:
            if left <= 0:
                return False
            delay = min(delay, left)
        await anyio.sleep(delay)
        return True


async def poll(
    fetch: Callable[[], Awaitable[RawResponse[T]]],
    *,
    done: Callable[[T], bool],
    poll_interval_ms: float | UnsetType | None = UNSET,
    max_wait_seconds: float | None = None,
    on_update: Callable[[T], object] | None = None,
    what: str = "the object",
    initial: float = 1.0,
    maximum: float = 30.0,
) -> T:
    """Read an object until ``done(obj)``; return it.

    Args:
        fetch: reads the object once, returning a ``RawResponse`` (``resource.with_raw_response.retrieve``) so
            that the ``openai-poll-after-ms`` header is seen.
        done: True when the object reached a final state.
        poll_interval_ms: a fixed interval (overrides the header and the backoff).
        max_wait_seconds: give up after this long.
        on_update: called with every object read (progress reporting).
        what: names the object in the timeout message.

    Raises:
        PollTimeoutError: still not done at the deadline.
    """
    schedule = PollSchedule(
        poll_interval_ms=poll_interval_ms, max_wait_seconds=max_wait_seconds, initial=initial, maximum=maximum
    )
    while True:
        raw = await fetch()
        obj = raw.parse()
        if on_update is not None:
            on_update(obj)
        if done(obj):
            return obj
        if not await schedule.sleep(raw.headers):
            status = getattr(obj, "status", None) if not isinstance(obj, dict) else obj.get("status")
            raise PollTimeoutError(
                f"Gave up waiting for {what} after {max_wait_seconds} s (last status: {status!r}).", last=obj
            )
