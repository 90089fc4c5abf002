"""Shared by the examples: the real API when OPENAI_API_KEY is set, the local fake server otherwise."""

from __future__ import annotations

import contextlib
import os
from collections.abc import AsyncIterator

from openai_async import AsyncOpenAI
from openai_async.testing import FakeOpenAI


@contextlib.asynccontextmanager
async def open_client() -> AsyncIterator[AsyncOpenAI]:
    """Yield a client: real when OPENAI_API_KEY is set, else pointed at an offline FakeOpenAI on 127.0.0.1."""
    if os.environ.get("OPENAI_API_KEY"):
        async with AsyncOpenAI() as client:
            yield client
        return
    async with FakeOpenAI() as fake, fake.client() as client:
        yield client
