from __future__ import annotations

import pytest


@pytest.fixture
def anyio_backend() -> str:
    """aiohttp runs on asyncio only, so every async test does too."""
    return "asyncio"


@pytest.fixture(autouse=True)
def _no_ambient_openai_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests never pick up a developer's real key or base URL from the environment."""
    for name in (
        "OPENAI_API_KEY",
        "OPENAI_BASE_URL",
        "OPENAI_ORG_ID",
        "OPENAI_PROJECT_ID",
        "OPENAI_WEBHOOK_SECRET",
    ):
        monkeypatch.delenv(name, raising=False)
