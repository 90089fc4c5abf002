"""Header merging and masking on literals: precedence, case-insensitive names, removal, injection, masks."""

from __future__ import annotations

import pytest

from openai_async import omit
from openai_async._core.headers import (
    Headers,
    apply_headers,
    is_sensitive,
    mask_headers,
    mask_url,
    merge_headers,
)


def test_later_sources_win_whatever_the_case_and_keep_the_first_spelling() -> None:
    """The key < default_headers: "authorization" replaces "Authorization" under one key, spelled as first set."""
    merged = merge_headers(
        {"Accept": "application/json"},
        {"Authorization": "Bearer sk"},
        {"authorization": "Bearer gw", "x-team": "a"},
    )
    assert merged == {"Accept": "application/json", "Authorization": "Bearer gw", "x-team": "a"}


def test_none_and_omit_remove_a_header_in_any_case() -> None:
    """None and omit remove the header whatever case names it; removing an absent header is fine."""
    headers = Headers({"Authorization": "Bearer sk", "X-A": "1"})
    apply_headers(headers, {"AUTHORIZATION": None, "x-a": omit, "x-missing": None})
    assert headers == {}


def test_client_header_names_get_one_spelling() -> None:
    """A user's "content-type" lands on "Content-Type", so a per-call Content-Type never travels twice."""
    headers = merge_headers({"content-type": "text/plain", "openai-project": "p"})
    assert list(headers) == ["Content-Type", "OpenAI-Project"]


@pytest.mark.parametrize(
    ("name", "value"), [("X-A", "a\r\nB: 1"), ("X-A", "a\nb"), ("X-A", "a\0"), ("X:A", "v")]
)
def test_injection_is_refused_naming_the_header(name: str, value: str) -> None:
    """CR, LF, NUL in a value, or ':' in a name, raise ValueError naming the header and the parameter."""
    with pytest.raises(ValueError, match=r"default_headers: header .*injection"):
        merge_headers({name: value}, names=("default_headers",))


def test_non_string_values_are_refused() -> None:
    """A non-str value raises TypeError naming the header (None would remove it)."""
    with pytest.raises(TypeError, match="'X-N'"):
        merge_headers({"X-N": 5})


@pytest.mark.parametrize(
    "name",
    [
        "Authorization",
        "proxy-authorization",
        "api-key",
        "X-Api-Key",
        "Cookie",
        "x-gateway-token",
        "X-Client-Secret",
        "OpenAI-Signature",
    ],
)
def test_credential_headers_are_sensitive(name: str) -> None:
    """Authorization, api-key and any key/token/secret/cookie/signature header counts as a credential."""
    assert is_sensitive(name)


@pytest.mark.parametrize(
    "name", ["Accept", "Idempotency-Key", "OpenAI-Organization", "X-Request-Id", "User-Agent"]
)
def test_ordinary_headers_are_not_sensitive(name: str) -> None:
    """Idempotency-Key, organization, accept ... are shown as they are."""
    assert not is_sensitive(name)


def test_masks_keep_the_scheme_and_nothing_else() -> None:
    """Bearer tokens show as "Bearer ***", other credentials as "***"; the repr of kept headers is masked."""
    headers = Headers({"Authorization": "Bearer sk-secret", "api-key": "k", "Accept": "a"})
    assert mask_headers(headers) == {"Authorization": "Bearer ***", "api-key": "***", "Accept": "a"}
    assert "sk-secret" not in repr(headers) and "Bearer ***" in repr(headers)


def test_mask_url_drops_user_info_and_masks_secret_params() -> None:
    """mask_url removes user:pass@ and replaces the values of the named query parameters."""
    url = mask_url("https://u:p@h.example/v1/x?key=s3cret&limit=5&api-version=1", ["key"])
    assert url == "https://h.example/v1/x?key=***&limit=5&api-version=1"
