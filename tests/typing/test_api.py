"""Static checks of the public API: CI runs ``mypy --strict`` and ``pyright`` on this file (pytest collects
nothing here). Each ``assert_type`` states what a type checker must infer; each ``# type: ignore[code]`` marks
a call that must stay an error (mypy's ``warn_unused_ignores`` fails the run if it stops being one)."""

from __future__ import annotations

import msgspec
from typing_extensions import assert_type

from openai_async import (
    AsyncOpenAI,
    AsyncStream,
    BulkRun,
    ChatCompletionStream,
    ParsedChatCompletion,
    ParsedResponse,
    RateLimiter,
    ResponseStream,
    run_bulk,
)
from openai_async.types import ChatCompletion, ChatCompletionChunk, Response
from openai_async.types.chat import ChatCompletionMessageParam, ChatCompletionUserMessageParam
from openai_async.types.responses import ResponseInputParam, ResponseStreamEvent, ResponseTextDeltaEvent


class Weather(msgspec.Struct):
    city: str
    celsius: float


async def chat_create(client: AsyncOpenAI) -> None:
    completion = await client.chat.completions.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": "Say hello"}]
    )
    assert_type(completion, ChatCompletion)
    assert_type(completion.id, str)  # required in the spec: no `| None`
    assert_type(completion.choices[0].message.content, str | None)  # required, nullable

    not_streamed = await client.chat.completions.create(model="m", messages=[], stream=False)
    assert_type(not_streamed, ChatCompletion)

    # Arrays of objects take any iterable, as the official SDK types them (``Iterable[...]``).
    history: list[ChatCompletionMessageParam] = [{"role": "user", "content": "Hi"}]
    from_generator = await client.chat.completions.create(model="m", messages=(m for m in history))
    assert_type(from_generator, ChatCompletion)
    await client.responses.create(model="m", input="Hi", tools=({"type": "web_search"} for _ in range(1)))
    stream = await client.chat.completions.create(model="m", messages=[], stream=True)
    assert_type(stream, AsyncStream[ChatCompletionChunk])
    async for chunk in stream:
        assert_type(chunk, ChatCompletionChunk)


async def typed_messages(client: AsyncOpenAI) -> None:
    user: ChatCompletionUserMessageParam = {"role": "user", "content": "hi"}
    messages: list[ChatCompletionMessageParam] = [{"role": "system", "content": "Be brief."}, user]
    await client.chat.completions.create(model="m", messages=messages)
    bad: ChatCompletionUserMessageParam = {"role": "user"}  # type: ignore[typeddict-item]
    del bad


async def chat_helpers(client: AsyncOpenAI) -> None:
    async with client.chat.completions.stream(model="m", messages=[], temperature=0.2) as stream:
        assert_type(stream, ChatCompletionStream[None])
        final = await stream.get_final_completion()
        assert_type(final, ParsedChatCompletion[None])
    parsed = await client.chat.completions.parse(model="m", messages=[], response_format=Weather)
    assert_type(parsed, ParsedChatCompletion[Weather])
    assert_type(parsed.choices[0].message.parsed, Weather | None)
    client.chat.completions.stream(model="m", messages=[], temperature="hot")  # type: ignore[arg-type]
    client.chat.completions.stream(model="m", messages=[], bogus=1)  # type: ignore[call-arg]


async def responses(client: AsyncOpenAI) -> None:
    response = await client.responses.create(model="m", input="hi")
    assert_type(response, Response)
    assert_type(response.output_text, str)
    items: ResponseInputParam = [{"role": "user", "content": "hi"}]
    await client.responses.create(model="m", input=items)
    events = await client.responses.create(model="m", input="hi", stream=True)
    assert_type(events, AsyncStream[ResponseStreamEvent])

    async with client.responses.stream(model="m", input="hi") as stream:
        assert_type(stream, ResponseStream[None])
        async for event in stream:
            if event.type == "response.output_text.delta":
                assert_type(event, ResponseTextDeltaEvent)
                assert_type(event.delta, str)
    parsed = await client.responses.parse(model="m", input="hi", text_format=Weather)
    assert_type(parsed, ParsedResponse[Weather])
    assert_type(parsed.output_parsed, Weather | None)
    await client.responses.parse(model="m", input="hi", text_format=Weather, bogus=1)  # type: ignore[call-arg]


async def lazy_exports(client: AsyncOpenAI) -> None:
    limiter = RateLimiter(rpm=100)
    assert_type(limiter, RateLimiter)
    run = run_bulk(client.with_options(rate_limiter=limiter), [])
    assert_type(run, BulkRun)
