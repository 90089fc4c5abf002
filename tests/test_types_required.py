"""Fields the spec requires are typed non-optional, and drifted payloads that drop or null them still decode."""

from __future__ import annotations

import typing
from typing import Any

import msgspec
import pytest
from aiohttp import web

from openai_async import AsyncOpenAI, RetryPolicy
from openai_async.types.chat import ChatCompletion, ChatCompletionMessage

from ._server import serve

pytestmark = pytest.mark.anyio


def _app(body: dict[str, Any]) -> web.Application:
    async def handler(request: web.Request) -> web.Response:
        return web.json_response(body)

    app = web.Application()
    app.router.add_post("/v1/chat/completions", handler)
    return app


async def _create(body: dict[str, Any]) -> ChatCompletion:
    async with (
        serve(_app(body)) as url,
        AsyncOpenAI(api_key="k", base_url=url, retry=RetryPolicy.instant()) as c,
    ):
        return await c.chat.completions.create(model="m", messages=[{"role": "user", "content": "hi"}])


def test_required_fields_are_annotated_without_none() -> None:
    """A required, non-nullable field is annotated ``T``; a required nullable one ``T | None``; others ``T | None``."""
    hints = typing.get_type_hints(ChatCompletion)
    assert hints["id"] is str
    assert typing.get_origin(hints["choices"]) is list
    message = typing.get_type_hints(ChatCompletionMessage)
    assert message["content"] == str | None  # required but nullable
    assert type(None) in typing.get_args(hints["usage"])  # optional


async def test_missing_required_fields_still_decode() -> None:
    """A completion that drops required fields (id, created, message.content) decodes; the missing fields read None."""
    completion = await _create(
        {
            "object": "chat.completion",
            "model": "m",
            "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant"}}],
        }
    )
    assert isinstance(completion, ChatCompletion)
    assert completion.id is None and completion.created is None  # type: ignore[comparison-overlap]
    assert completion.choices[0].message.content is None
    assert completion.choices[0].finish_reason == "stop"


async def test_null_required_fields_take_the_lenient_path() -> None:
    """``null`` where the spec forbids it (id, choices, message) still gives an object, keeping the rest."""
    completion = await _create(
        {
            "id": None,
            "object": "chat.completion",
            "created": 1,
            "model": "m",
            "choices": [{"index": 0, "finish_reason": "stop", "message": None}],
            "usage": {"prompt_tokens": 1, "completion_tokens": 2, "total_tokens": 3},
        }
    )
    assert isinstance(completion, ChatCompletion)
    assert completion.id is None  # type: ignore[comparison-overlap]
    assert completion.created == 1 and completion.model == "m"
    assert completion.choices[0].message is None  # type: ignore[comparison-overlap]
    assert completion.usage is not None and completion.usage.total_tokens == 3
    completion = await _create(
        {"id": "c", "object": "chat.completion", "created": 1, "model": "m", "choices": None}
    )
    assert completion.id == "c" and completion.choices is None  # type: ignore[comparison-overlap]


def test_required_field_left_out_is_not_sent() -> None:
    """Building a request struct without a required field encodes without it (the server names what is missing)."""
    message = ChatCompletionMessage(role="assistant")
    assert msgspec.json.decode(msgspec.json.encode(message)) == {"role": "assistant"}
