"""The openai_fake fixture arrives through the pytest11 entry point, with no conftest import."""

from __future__ import annotations

from typing import Any


def test_entry_point_fixture_serves_requests(openai_fake: Any) -> None:
    """The fixture is a running FakeOpenAI on loopback."""
    assert openai_fake.base_url.startswith("http://127.0.0.1:")
