"""Client construction: keyword options, env vars, secrets kept out of reprs, with_options."""

from __future__ import annotations

import pytest

import openai_async
from openai_async import AsyncOpenAI, OpenAIError, RetryPolicy, Timeout


def test_missing_key_names_the_env_var() -> None:
    """Without a key the error says how to give one, naming OPENAI_API_KEY."""
    with pytest.raises(OpenAIError, match="OPENAI_API_KEY"):
        AsyncOpenAI()


def test_env_vars_are_read(monkeypatch: pytest.MonkeyPatch) -> None:
    """OPENAI_API_KEY, OPENAI_BASE_URL, OPENAI_ORG_ID and OPENAI_PROJECT_ID configure the client."""
    monkeypatch.setenv("OPENAI_API_KEY", "sk-env")
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1/")
    monkeypatch.setenv("OPENAI_ORG_ID", "org-1")
    monkeypatch.setenv("OPENAI_PROJECT_ID", "proj-1")
    client = AsyncOpenAI()
    assert client.api_key == "sk-env"
    assert client.base_url == "http://127.0.0.1:9/v1"
    assert client.organization == "org-1"
    assert client.project == "proj-1"


def test_key_never_in_repr() -> None:
    """The API key does not appear in the client's or its session's repr."""
    client = AsyncOpenAI(api_key="sk-very-secret-value")
    assert "sk-very-secret" not in repr(client)
    assert "sk-very-secret" not in repr(client._session)
    assert "sk-very-secret" not in repr(client.with_options(max_retries=1))


def test_timeout_forms() -> None:
    """timeout= takes seconds, None or a Timeout, as in the official SDK."""
    assert AsyncOpenAI(api_key="k", timeout=20).timeout == Timeout(total=20.0, connect=5.0, read=20.0)
    assert AsyncOpenAI(api_key="k", timeout=None).timeout == Timeout(None, None, None)
    custom = Timeout(total=None, connect=1.0, read=2.0)
    assert AsyncOpenAI(api_key="k", timeout=custom).timeout is custom


def test_max_retries_and_policy() -> None:
    """max_retries defaults to 2 and overrides the count of a given policy."""
    assert AsyncOpenAI(api_key="k").max_retries == 2
    client = AsyncOpenAI(api_key="k", retry=RetryPolicy.instant(), max_retries=7)
    assert client.max_retries == 7 and client.retry.initial_wait == 0.0


def test_with_options_shares_the_pool_and_keeps_the_original() -> None:
    """A copy shares the connection pool and changes only what it was given."""
    client = AsyncOpenAI(api_key="k", default_headers={"a": "1"}, timeout=30)
    copy = client.with_options(max_retries=5, default_headers={"b": "2"})
    assert copy._pool is client._pool
    assert copy.max_retries == 5 and client.max_retries == 2
    assert copy.default_headers == {"a": "1", "b": "2"} and client.default_headers == {"a": "1"}
    assert copy.timeout == client.timeout
    assert client.copy(timeout=5).timeout.total == 5.0


def test_public_errors_read_as_package_names() -> None:
    """Tracebacks show openai_async.RateLimitError, not the private module."""
    assert openai_async.RateLimitError.__module__ == "openai_async"
    assert issubclass(openai_async.RateLimitError, openai_async.APIStatusError)
    assert issubclass(openai_async.APITimeoutError, openai_async.APIConnectionError)


def test_all_is_sorted_and_complete() -> None:
    """__all__ is sorted and every public name in it exists."""
    names = openai_async.__all__
    assert names == sorted(names, key=lambda n: (not n.isupper(), n))
    for name in names:
        assert hasattr(openai_async, name)


def test_namespaces_print_their_name_only() -> None:
    """A resource namespace prints as its class name, nothing of the client's configuration (no key)."""
    client = AsyncOpenAI(api_key="sk-very-secret-value")
    assert repr(client.files) == "<Files>"
    assert repr(client.chat.completions) == "<Completions>"
    assert "sk-very-secret" not in repr(client.with_raw_response.files)
