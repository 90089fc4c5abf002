"""AsyncAzureOpenAI on the wire: deployment paths, api-version query, api-key or Entra ID auth."""

from __future__ import annotations

import pytest
from aiohttp import web

from openai_async import AsyncAzureOpenAI, OpenAIError, RetryPolicy

from ._server import routes, serve

pytestmark = pytest.mark.anyio


async def test_requests_are_routed_to_deployments_with_api_version_and_key() -> None:
    """Model calls go to /openai/deployments/{model}/...; other calls stay; api-key and api-version are sent."""
    seen: list[tuple[str, str, str | None, str | None]] = []

    async def record(request: web.Request) -> web.Response:
        seen.append(
            (request.method, request.path, request.query.get("api-version"), request.headers.get("api-key"))
        )
        assert "Authorization" not in request.headers
        return web.json_response({})

    app = routes(
        ("POST", "/openai/deployments/my-gpt/chat/completions", record), ("GET", "/openai/files", record)
    )
    async with serve(app) as url:
        endpoint = url.removesuffix("/v1")
        async with AsyncAzureOpenAI(
            azure_endpoint=endpoint,
            api_key="azure-key",
            api_version="2024-10-21",
            retry=RetryPolicy.instant(),
        ) as client:
            await client.post("/chat/completions", body={"model": "my-gpt", "messages": []})
            await client.get("/files")
    assert seen == [
        ("POST", "/openai/deployments/my-gpt/chat/completions", "2024-10-21", "azure-key"),
        ("GET", "/openai/files", "2024-10-21", "azure-key"),
    ]


async def test_entra_token_provider_and_pinned_deployment() -> None:
    """An async token provider is sent as a Bearer token; azure_deployment pins the path."""
    seen: list[tuple[str, str | None]] = []

    async def record(request: web.Request) -> web.Response:
        seen.append((request.path, request.headers.get("Authorization")))
        return web.json_response({})

    async def token() -> str:
        return "entra-token"

    app = routes(("POST", "/openai/deployments/pinned/embeddings", record))
    async with serve(app) as url:
        async with AsyncAzureOpenAI(
            azure_endpoint=url.removesuffix("/v1"),
            azure_deployment="pinned",
            azure_ad_token_provider=token,
            api_version="v",
        ) as client:
            await client.post("/embeddings", body={"model": "ignored", "input": "x"})
    assert seen == [("/openai/deployments/pinned/embeddings", "Bearer entra-token")]


def test_missing_settings_are_named(monkeypatch: pytest.MonkeyPatch) -> None:
    """Missing api version, credentials or endpoint each raise an error naming the env var."""
    for name in (
        "OPENAI_API_VERSION",
        "AZURE_OPENAI_API_KEY",
        "AZURE_OPENAI_AD_TOKEN",
        "AZURE_OPENAI_ENDPOINT",
    ):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(OpenAIError, match="OPENAI_API_VERSION"):
        AsyncAzureOpenAI(api_key="k", azure_endpoint="https://x")
    with pytest.raises(OpenAIError, match="AZURE_OPENAI_API_KEY"):
        AsyncAzureOpenAI(api_version="v", azure_endpoint="https://x")
    with pytest.raises(OpenAIError, match="AZURE_OPENAI_ENDPOINT"):
        AsyncAzureOpenAI(api_version="v", api_key="k")
    client = AsyncAzureOpenAI(api_version="v", api_key="azure-secret", azure_endpoint="https://x.example")
    assert "azure-secret" not in repr(client)
