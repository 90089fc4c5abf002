"""``AsyncAzureOpenAI``: the same client against an Azure OpenAI resource.

Differences from ``AsyncOpenAI`` (as in the official SDK): the base URL is ``{azure_endpoint}/openai``; every
request carries ``?api-version=``; the model-serving endpoints (chat, completions, embeddings, audio, images)
are routed to ``/deployments/{deployment}/...`` where the deployment is ``azure_deployment`` or the request's
``model``; auth is the ``api-key`` header, or an Entra ID token (``azure_ad_token`` or an async
``azure_ad_token_provider``) sent as ``Authorization: Bearer``.
"""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from ._client import DEFAULT_TIMEOUT, AsyncOpenAI
from ._core.errors import OpenAIError
from ._core.resource import path_segment
from ._core.types import RequestOptions, Timeout

__all__ = ["AsyncAzureOpenAI"]

_DEPLOYMENT_PATHS = frozenset(
    {
        "/completions",
        "/chat/completions",
        "/embeddings",
        "/audio/transcriptions",
        "/audio/translations",
        "/audio/speech",
        "/images/generations",
        "/images/edits",
    }
)


class AsyncAzureOpenAI(AsyncOpenAI):
    """An ``AsyncOpenAI`` for Azure OpenAI.

    Args:
        azure_endpoint: ``https://NAME.openai.azure.com``; defaults to ``AZURE_OPENAI_ENDPOINT``.
        api_version: sent as the ``api-version`` query; defaults to ``OPENAI_API_VERSION``.
        azure_deployment: pin every deployment-routed call to this deployment.
        api_key: defaults to ``AZURE_OPENAI_API_KEY``; sent as ``api-key``.
        azure_ad_token / azure_ad_token_provider: Entra ID auth instead of a key (``AZURE_OPENAI_AD_TOKEN``).
        Other keywords are those of ``AsyncOpenAI``.
    """

    def __init__(
        self,
        *,
        api_version: str | None = None,
        azure_endpoint: str | None = None,
        azure_deployment: str | None = None,
        api_key: str | None = None,
        azure_ad_token: str | None = None,
        azure_ad_token_provider: Callable[[], Awaitable[str]] | None = None,
        base_url: str | None = None,
        default_query: Mapping[str, object] | None = None,
        timeout: float | Timeout | None = DEFAULT_TIMEOUT,
        **kwargs: Any,
    ) -> None:
        env = os.environ
        api_version = api_version or env.get("OPENAI_API_VERSION")
        if not api_version:
            raise OpenAIError(
                "No API version: pass api_version=... or set the OPENAI_API_VERSION environment variable."
            )
        api_key = api_key or env.get("AZURE_OPENAI_API_KEY")
        azure_ad_token = azure_ad_token or env.get("AZURE_OPENAI_AD_TOKEN")
        credential: str | Callable[[], Awaitable[str]]
        if api_key:
            credential = api_key
            self._auth_header, self._auth_prefix = "api-key", ""
        elif azure_ad_token_provider is not None or azure_ad_token:
            credential = azure_ad_token_provider or azure_ad_token  # type: ignore[assignment]
            self._auth_header, self._auth_prefix = "Authorization", "Bearer "
        else:
            raise OpenAIError(
                "No credentials: pass api_key=, azure_ad_token= or azure_ad_token_provider=, or set "
                "AZURE_OPENAI_API_KEY or AZURE_OPENAI_AD_TOKEN."
            )
        if base_url is None:
            azure_endpoint = azure_endpoint or env.get("AZURE_OPENAI_ENDPOINT")
            if not azure_endpoint:
                raise OpenAIError("No endpoint: pass azure_endpoint=... or set AZURE_OPENAI_ENDPOINT.")
            base_url = azure_endpoint.rstrip("/") + "/openai"
            if azure_deployment:
                base_url += f"/deployments/{path_segment(azure_deployment, 'azure_deployment')}"
        self.api_version = api_version
        self.azure_deployment = azure_deployment
        query = {**(default_query or {}), "api-version": api_version}
        super().__init__(
            api_key=credential, base_url=base_url, default_query=query, timeout=timeout, **kwargs
        )

    async def _request(self, method: str, path: str, *, options: RequestOptions, **kwargs: Any) -> Any:
        if self.azure_deployment is None and path in _DEPLOYMENT_PATHS:
            model = _model_of(kwargs.get("body"), kwargs.get("multipart"))
            if model:
                path = f"/deployments/{path_segment(model, 'model')}{path}"
        return await super()._request(method, path, options=options, **kwargs)

    def __repr__(self) -> str:
        return f"AsyncAzureOpenAI(base_url={self.base_url!r}, api_version={self.api_version!r})"


def _model_of(body: Any, multipart: Any) -> str | None:
    for source in (body, multipart):
        if source is None:
            continue
        model = source.get("model") if isinstance(source, Mapping) else getattr(source, "model", None)
        if isinstance(model, str):
            return model
    return None
