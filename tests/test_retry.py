"""The retry policy as plain functions: which statuses retry and how long to wait."""

from __future__ import annotations

import email.utils
import time

import pytest

from openai_async import RetryPolicy
from openai_async._core.retry import retry_delay, should_retry_status


@pytest.mark.parametrize("status", [408, 409, 429, 500, 502, 503, 504, 520])
def test_retryable_statuses(status: int) -> None:
    """408, 409, 429 and every 5xx are retried."""
    assert should_retry_status(status, {})


@pytest.mark.parametrize("status", [400, 401, 403, 404, 422])
def test_client_errors_are_not_retried(status: int) -> None:
    """Other 4xx answers will not change on a retry."""
    assert not should_retry_status(status, {})


def test_should_retry_header_overrides_status() -> None:
    """x-should-retry: true|false wins over the status."""
    assert should_retry_status(400, {"x-should-retry": "true"})
    assert not should_retry_status(503, {"x-should-retry": "false"})


def test_insufficient_quota_is_final() -> None:
    """A 429 for an exhausted quota never succeeds, so it is not retried."""
    assert not should_retry_status(429, {}, "insufficient_quota")
    assert should_retry_status(429, {}, "rate_limit_exceeded")


def test_retry_after_ms_wins() -> None:
    """retry-after-ms is read first, in milliseconds."""
    assert retry_delay(RetryPolicy(), 0, {"retry-after-ms": "250", "retry-after": "9"}) == 0.25


def test_retry_after_seconds_and_http_date() -> None:
    """Retry-After may be seconds or an HTTP date."""
    assert retry_delay(RetryPolicy(), 0, {"retry-after": "3"}) == 3.0
    date = email.utils.formatdate(time.time() + 10, usegmt=True)
    assert 8.0 < retry_delay(RetryPolicy(), 0, {"retry-after": date}) <= 10.0


def test_hints_beyond_the_cap_fall_back_to_backoff() -> None:
    """A hint longer than max_server_wait is ignored in favour of the computed backoff."""
    policy = RetryPolicy(jitter=0.0, max_server_wait=60.0)
    assert retry_delay(policy, 0, {"retry-after": "3600"}) == 0.5
    assert retry_delay(policy, 0, {"retry-after": "garbage"}) == 0.5


def test_exponential_backoff_with_jitter_and_cap() -> None:
    """0.5 s doubling to 8 s, each shortened by at most 25 %."""
    policy = RetryPolicy()
    for n, full in enumerate([0.5, 1.0, 2.0, 4.0, 8.0, 8.0]):
        for _ in range(50):
            assert full * 0.75 <= retry_delay(policy, n) <= full


def test_instant_policy_never_waits() -> None:
    """RetryPolicy.instant() keeps the count and waits 0 s even with server hints (for tests)."""
    policy = RetryPolicy.instant(5)
    assert policy.max_retries == 5
    assert retry_delay(policy, 3, {"retry-after": "2"}) == 0.0
