"""OpenTelemetry spans for every call, following the GenAI semantic conventions (``pip install openai_async[otel]``).

    from openai_async import AsyncOpenAI, OpenTelemetryHooks

    client = AsyncOpenAI(hooks=[OpenTelemetryHooks()])   # spans go to the global tracer provider

One span per logical call (its retries included), kind CLIENT, named ``"{operation} {model}"`` (``"chat
gpt-4o-mini"``), made current while the request is sent. Attributes (https://opentelemetry.io/docs/specs/semconv/
gen-ai/gen-ai-spans/): ``gen_ai.operation.name``, ``gen_ai.provider.name`` (and the older ``gen_ai.system``)
``"openai"``, ``gen_ai.request.model``, ``gen_ai.response.model``, ``gen_ai.response.id``,
``gen_ai.response.finish_reasons``, ``gen_ai.usage.input_tokens`` / ``output_tokens``, ``server.address`` /
``server.port``, ``http.response.status_code``, ``error.type``; and outside the conventions
``openai.request.id`` (the ``x-request-id``), ``openai_async.retries`` and, for streams,
``openai_async.time_to_first_chunk`` (seconds from the start of the call to the first body chunk). A stream's span
ends with the stream (its usage comes from the last event: ask for it with ``stream_options={"include_usage":
True}`` on Chat Completions). No prompt or completion content is recorded.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import msgspec

try:
    from opentelemetry import context as otel_context
    from opentelemetry import trace
    from opentelemetry.trace import SpanKind, Status, StatusCode
except ImportError as exc:  # pragma: no cover - depends on the environment
    raise ImportError("OpenTelemetryHooks needs opentelemetry-api: pip install 'openai_async[otel]'") from exc

from .._core.hooks import CallInfo, RequestHooks
from .._version import __version__

__all__ = ["OpenTelemetryHooks"]


class OpenTelemetryHooks(RequestHooks):
    """Request hooks that record one OpenTelemetry span per call.

    Args:
        tracer_provider: where spans go; defaults to the global provider (``trace.set_tracer_provider``).
        base_url: the API's URL, for ``server.address`` / ``server.port`` (default: the OpenAI API).
    """

    def __init__(
        self,
        tracer_provider: trace.TracerProvider | None = None,
        *,
        base_url: str = "https://api.openai.com/v1",
    ) -> None:
        self._tracer = trace.get_tracer("openai_async", __version__, tracer_provider=tracer_provider)
        parts = urlsplit(base_url)
        self._server = {
            "server.address": parts.hostname or "",
            "server.port": parts.port or (443 if parts.scheme == "https" else 80),
        }

    def on_request(self, call: CallInfo) -> None:
        attributes: dict[str, Any] = {
            "gen_ai.operation.name": call.operation,
            "gen_ai.provider.name": "openai",
            "gen_ai.system": "openai",
            **self._server,
        }
        if call.model:
            attributes["gen_ai.request.model"] = call.model
        name = f"{call.operation} {call.model}" if call.model else call.operation
        span = self._tracer.start_span(name, kind=SpanKind.CLIENT, attributes=attributes)
        call.extra["otel.span"] = span
        call.extra["otel.token"] = otel_context.attach(trace.set_span_in_context(span))

    def on_retry(self, call: CallInfo, delay: float, reason: str) -> None:
        span = call.extra.get("otel.span")
        if span is not None:
            span.add_event(
                "retry",
                {
                    "openai_async.retry": call.retries,
                    "openai_async.delay": delay,
                    "openai_async.reason": reason,
                },
            )

    def on_response(self, call: CallInfo) -> None:
        span = self._detach(call)
        if span is None:
            return
        self._answer(span, call)
        if not call.stream:
            _describe(span, call.result)
            span.end()

    def on_stream_end(self, call: CallInfo) -> None:
        span = call.extra.pop("otel.span", None)
        if span is None:
            return
        self._answer(span, call)
        last = call.last_event
        # response.completed's Response.
        inner = None if isinstance(last, (bytes, str)) else _get(last, "response")
        _describe(span, inner if inner is not None else last)
        span.end()

    def on_error(self, call: CallInfo) -> None:
        token = call.extra.pop("otel.token", None)
        if token is not None:
            otel_context.detach(token)
        span = call.extra.pop("otel.span", None)
        if span is None:
            return
        self._answer(span, call)
        error = call.error
        span.set_attribute("error.type", type(error).__name__ if error is not None else "unknown")
        span.set_status(Status(StatusCode.ERROR, str(error)[:200] if error is not None else None))
        span.end()

    def _detach(self, call: CallInfo) -> Any:
        token = call.extra.pop("otel.token", None)
        if token is not None:
            otel_context.detach(token)
        return call.extra.get("otel.span") if call.stream else call.extra.pop("otel.span", None)

    @staticmethod
    def _answer(span: Any, call: CallInfo) -> None:
        if call.status_code is not None:
            span.set_attribute("http.response.status_code", call.status_code)
        if call.request_id:
            span.set_attribute("openai.request.id", call.request_id)
        span.set_attribute("openai_async.retries", call.retries)
        if call.first_chunk_at is not None:
            span.set_attribute("openai_async.time_to_first_chunk", call.first_chunk_at - call.started)


def _get(obj: Any, name: str) -> Any:
    return obj.get(name) if isinstance(obj, dict) else getattr(obj, name, None)


def _describe(span: Any, result: Any) -> None:
    """Set the response attributes a decoded answer (or a stream's last event) carries."""
    if isinstance(result, (bytes, str)):  # the stream helpers hand over the last payload undecoded
        try:
            result = msgspec.json.decode(result)
        except msgspec.DecodeError:
            return
    if result is None:
        return
    model = _get(result, "model")
    if isinstance(model, str):
        span.set_attribute("gen_ai.response.model", model)
    ident = _get(result, "id")
    if isinstance(ident, str):
        span.set_attribute("gen_ai.response.id", ident)
    choices = _get(result, "choices")
    if isinstance(choices, list):
        reasons = [r for r in (_get(c, "finish_reason") for c in choices) if isinstance(r, str)]
        if reasons:
            span.set_attribute("gen_ai.response.finish_reasons", reasons)
    usage = _get(result, "usage")
    if usage is not None:
        prompt = _get(usage, "input_tokens")
        if prompt is None:
            prompt = _get(usage, "prompt_tokens")
        completion = _get(usage, "output_tokens")
        if completion is None:
            completion = _get(usage, "completion_tokens")
        if isinstance(prompt, int):
            span.set_attribute("gen_ai.usage.input_tokens", prompt)
        if isinstance(completion, int):
            span.set_attribute("gen_ai.usage.output_tokens", completion)
