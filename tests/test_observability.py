"""Request hooks, OpenTelemetry spans (GenAI semantic conventions) and the ``openai_async`` logger.

Spans are read back with the OTel SDK's in-memory exporter; the upstream is the testing kit's fake server.
"""

from __future__ import annotations

import logging
from typing import Any

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

import openai_async
from openai_async import CallInfo, OpenTelemetryHooks, RateLimiter, RequestHooks, RetryPolicy
from openai_async.testing import FakeOpenAI, chat_completion, chat_completion_chunks, error

pytestmark = pytest.mark.anyio

KEY = "sk-secret-key-0123456789abcdef"
MESSAGES = [{"role": "user", "content": "hi"}]


class Recorder(RequestHooks):
    def __init__(self) -> None:
        self.events: list[tuple[str, Any]] = []

    def on_request(self, call: CallInfo) -> None:
        self.events.append(("request", (call.method, call.path, call.operation, call.model, call.stream)))

    def on_retry(self, call: CallInfo, delay: float, reason: str) -> None:
        self.events.append(("retry", (call.retries, reason)))

    def on_response(self, call: CallInfo) -> None:
        self.events.append(("response", (call.status_code, call.request_id is not None)))

    def on_error(self, call: CallInfo) -> None:
        self.events.append(("error", (call.status_code, type(call.error).__name__)))

    def on_stream_end(self, call: CallInfo) -> None:
        self.events.append(("stream_end", call.first_chunk_at is not None and call.duration is not None))


def _otel() -> tuple[OpenTelemetryHooks, InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return OpenTelemetryHooks(provider), exporter


async def test_hooks_see_a_call_its_retries_and_its_answer() -> None:
    """on_request, on_retry (one per retry, with the reason) and on_response run in order for one call."""
    recorder = Recorder()
    async with (
        FakeOpenAI(api_key=KEY) as fake,
        fake.client(hooks=[recorder], retry=RetryPolicy.instant()) as client,
    ):
        fake.add("POST", "/chat/completions", status=503, json=error("busy", "server_error"))
        fake.add("POST", "/chat/completions", json=chat_completion("Hello"))
        completion = await client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    assert completion.choices[0].message.content == "Hello"
    assert recorder.events == [
        ("request", ("POST", "/chat/completions", "chat", "gpt-4o-mini", False)),
        ("retry", (1, "HTTP 503")),
        ("response", (200, True)),
    ]


async def test_hooks_see_a_failure_and_copies_keep_them() -> None:
    """A call that fails for good reaches on_error with its status; with_options copies keep the hooks."""
    recorder = Recorder()
    async with FakeOpenAI(api_key=KEY) as fake, fake.client(hooks=recorder, max_retries=0) as client:
        fake.add("POST", "/embeddings", status=400, json=error("bad input"))
        with pytest.raises(openai_async.BadRequestError):
            await client.with_options(timeout=5.0).embeddings.create(
                model="text-embedding-3-small", input="x"
            )
    assert recorder.events == [
        ("request", ("POST", "/embeddings", "embeddings", "text-embedding-3-small", False)),
        ("error", (400, "BadRequestError")),
    ]


async def test_hooks_see_a_stream_end_and_raw_responses_still_work() -> None:
    """A stream reports its head, then its end with the first chunk's time; with_raw_response is unchanged."""
    recorder = Recorder()
    async with FakeOpenAI(api_key=KEY) as fake, fake.client(hooks=[recorder]) as client:
        stream = await client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, stream=True)
        async with stream:
            assert [c async for c in stream]
        raw = await client.chat.completions.with_raw_response.create(model="gpt-4o-mini", messages=MESSAGES)
        assert raw.status_code == 200 and raw.parse().choices[0].message.content == "hi"
    assert [name for name, _ in recorder.events] == [
        "request",
        "response",
        "stream_end",
        "request",
        "response",
    ]
    assert recorder.events[2] == ("stream_end", True)


async def test_hooks_see_a_stream_closed_early() -> None:
    """A stream left before its end is reported through on_error."""
    recorder = Recorder()
    async with FakeOpenAI(api_key=KEY) as fake, fake.client(hooks=[recorder]) as client:
        fake.add("POST", "/chat/completions", stream=chat_completion_chunks("one two three four"))
        stream = await client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, stream=True)
        async with stream:
            async for _ in stream:
                break
        del stream
    assert recorder.events[-1][0] == "error"


def test_hooks_must_be_request_hooks() -> None:
    """Anything but RequestHooks instances is refused, naming the parameter."""
    with pytest.raises(TypeError, match="hooks must be RequestHooks"):
        openai_async.AsyncOpenAI(api_key=KEY, hooks=[lambda call: None])  # type: ignore[list-item]


async def test_otel_span_for_a_chat_completion() -> None:
    """One CLIENT span named "chat gpt-4o-mini" with the GenAI attributes, usage, request id and retries."""
    hooks, exporter = _otel()
    async with (
        FakeOpenAI(api_key=KEY) as fake,
        fake.client(hooks=[hooks], retry=RetryPolicy.instant()) as client,
    ):
        fake.add("POST", "/chat/completions", status=429, json=error("slow down", "rate_limit_error"))
        await client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    (span,) = exporter.get_finished_spans()
    attrs = dict(span.attributes or {})
    assert span.name == "chat gpt-4o-mini" and span.kind is SpanKind.CLIENT
    assert attrs["gen_ai.operation.name"] == "chat"
    assert attrs["gen_ai.provider.name"] == "openai"
    assert attrs["gen_ai.request.model"] == "gpt-4o-mini"
    assert isinstance(attrs["gen_ai.response.model"], str)
    assert str(attrs["gen_ai.response.id"]).startswith("chatcmpl")
    assert attrs["gen_ai.usage.input_tokens"] > 0 and attrs["gen_ai.usage.output_tokens"] > 0
    assert attrs["gen_ai.response.finish_reasons"] == ("stop",)
    assert str(attrs["openai.request.id"]).startswith("req_")
    assert attrs["openai_async.retries"] == 1
    assert [event.name for event in span.events] == ["retry"]
    assert span.status.status_code is StatusCode.UNSET


async def test_otel_span_for_a_stream_ends_with_it() -> None:
    """A stream's span ends when the stream does, with the usage of its last chunk and the time to first chunk."""
    hooks, exporter = _otel()
    async with FakeOpenAI(api_key=KEY) as fake, fake.client(hooks=[hooks]) as client:
        fake.add(
            "POST",
            "/chat/completions",
            stream=chat_completion_chunks("a b c", include_usage=True),
            delay_between_chunks=0.01,
        )
        stream = await client.chat.completions.create(
            model="gpt-4o-mini", messages=MESSAGES, stream=True, stream_options={"include_usage": True}
        )
        async with stream:
            assert exporter.get_finished_spans() == ()  # still open while the stream runs
            async for _ in stream:
                pass
    (span,) = exporter.get_finished_spans()
    attrs = dict(span.attributes or {})
    assert span.name == "chat gpt-4o-mini"
    assert attrs["gen_ai.usage.output_tokens"] > 0
    assert 0 < attrs["openai_async.time_to_first_chunk"] < span.end_time / 1e9 - span.start_time / 1e9 + 1e-6


async def test_otel_span_for_an_error_and_for_responses() -> None:
    """A failed call ends its span with ERROR status and error.type; a Responses call is named "responses ..."."""
    hooks, exporter = _otel()
    async with FakeOpenAI(api_key=KEY) as fake, fake.client(hooks=[hooks], max_retries=0) as client:
        fake.add("POST", "/chat/completions", status=404, json=error("no such model", code="model_not_found"))
        with pytest.raises(openai_async.NotFoundError):
            await client.chat.completions.create(model="gpt-9", messages=MESSAGES)
        await client.responses.create(model="gpt-4o-mini", input="hi")
    failed, responses = exporter.get_finished_spans()
    assert failed.status.status_code is StatusCode.ERROR
    assert dict(failed.attributes or {})["error.type"] == "NotFoundError"
    assert dict(failed.attributes or {})["http.response.status_code"] == 404
    assert responses.name == "responses gpt-4o-mini"
    assert dict(responses.attributes or {})["gen_ai.usage.input_tokens"] > 0


async def test_retry_and_rate_limit_logs_carry_request_ids_and_no_key(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Retries and 429s are logged on "openai_async" with the request id; the key appears in no record."""
    caplog.set_level(logging.DEBUG, logger="openai_async")
    async with (
        FakeOpenAI(api_key=KEY) as fake,
        fake.client(retry=RetryPolicy.instant(), rate_limiter=RateLimiter(rpm=10_000)) as client,
    ):
        fake.add("POST", "/chat/completions", status=429, json=error("slow down", "rate_limit_error"))
        fake.add("POST", "/chat/completions", status=500, json=error("oops", "server_error"))
        await client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    records = [r for r in caplog.records if r.name == "openai_async"]
    retries = [r for r in records if getattr(r, "openai_retry", None)]
    assert [(r.openai_retry, r.openai_reason) for r in retries] == [(1, "HTTP 429"), (2, "HTTP 500")]  # type: ignore[attr-defined]
    assert all(str(r.openai_request_id).startswith("req_") for r in retries)  # type: ignore[attr-defined]
    assert any(getattr(r, "openai_status", None) == 429 for r in records)
    for record in records:
        text = record.getMessage() + repr(vars(record))
        assert KEY not in text and KEY[-12:] not in text


async def test_a_broken_hook_does_not_break_the_call(caplog: pytest.LogCaptureFixture) -> None:
    """An exception in a hook is logged and the call still returns its answer."""

    class Broken(RequestHooks):
        def on_response(self, call: CallInfo) -> None:
            raise RuntimeError("hook bug")

    async with FakeOpenAI(api_key=KEY) as fake, fake.client(hooks=[Broken()]) as client:
        models = await client.models.list()
    assert models.data
    assert any("hook bug" in (r.exc_text or "") or r.exc_info for r in caplog.records)


async def test_otel_spans_for_the_stream_helpers() -> None:
    """chat.completions.stream() and responses.stream() end their spans with the helper, usage included."""
    hooks, exporter = _otel()
    async with FakeOpenAI(api_key=KEY) as fake, fake.client(hooks=[hooks]) as client:
        async with client.chat.completions.stream(
            model="gpt-4o-mini", messages=MESSAGES, stream_options={"include_usage": True}
        ) as stream:
            await stream.get_final_completion()
        async with client.responses.stream(model="gpt-4o-mini", input="hi") as events:
            await events.get_final_response()
    chat, responses = exporter.get_finished_spans()
    assert (chat.name, responses.name) == ("chat gpt-4o-mini", "responses gpt-4o-mini")
    for span in (chat, responses):
        attrs = dict(span.attributes or {})
        assert attrs["gen_ai.usage.output_tokens"] > 0 and "openai_async.time_to_first_chunk" in attrs
    assert str(dict(responses.attributes or {})["gen_ai.response.id"]).startswith("resp")


async def test_hooks_with_streaming_response_and_pages() -> None:
    """with_streaming_response keeps its lazy body under hooks; list pages are observed too."""
    recorder = Recorder()
    async with FakeOpenAI(api_key=KEY) as fake, fake.client(hooks=[recorder]) as client:
        async with client.audio.speech.with_streaming_response.create(
            model="tts-1", voice="alloy", input="Hi"
        ) as response:
            assert response.status_code == 200
            assert len(await response.read()) > 0
        assert [m.id async for m in client.models.list()]
    assert [event for event, _ in recorder.events] == ["request", "response", "request", "response"]
    assert recorder.events[2][1][:2] == ("GET", "/models")
