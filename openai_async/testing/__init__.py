"""A fake OpenAI server for your application's tests and for running examples offline.

    from openai_async.testing import FakeOpenAI, chat_completion, chat_completion_chunks, response_events, tool_call

    async def test_summary() -> None:
        async with FakeOpenAI() as fake:
            fake.add("POST", "/chat/completions", json=chat_completion("Hi!"))    # the next call's answer
            fake.add("POST", "/chat/completions", status=429, headers={"retry-after-ms": "10"})
            fake.add("POST", "/chat/completions", stream=chat_completion_chunks(tool_calls=[tool_call("f", {})]))
            fake.add("POST", "/responses", events=response_events("Hi!"))         # event: + data: SSE
            fake.add("GET", "/files/{file_id}", handler=lambda request: {...})    # dynamic, every call
            fake.add("GET", "/models", reset="mid_body")                          # or stall=, chunk_size=, ...
            async with fake.client() as client:                                   # AsyncOpenAI -> the fake
                assert await summarize(client, "...") == "..."
            assert fake.last_request.json["model"] == "gpt-4o-mini"

A handler can start from the built-in answer and break it: ``answer = fake.default(request)``, then set
``answer.reset = "mid_body"`` (a cut download), ``"before_body"`` (a lost answer, the object still made) or
alter ``answer.json`` / ``answer.body`` (the file content answers ``Range: bytes=N-`` with 206).

Unscripted requests get built-in answers (chat and Responses echo the last user message, streamed when asked;
embeddings, models, files, speech, images ...; Batch, fine-tuning, vector stores, Assistants runs and video jobs
move one step per read), so code runs offline with no setup. From a plain script:
``fake = await FakeOpenAI.start()`` ... ``await fake.close()``; from synchronous code or another event loop,
``with FakeOpenAI() as fake:`` serves from a background thread.

With pytest, the ``openai_fake`` fixture (registered through the ``pytest11`` entry point) gives a running
``FakeOpenAI`` served from a background thread, usable from any async test framework.

Without a server at all, ``AsyncOpenAI(transport=MockTransport(handler))`` answers every request in memory from
``handler(MockRequest) -> MockResponse`` (see ``MockTransport``).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._builders import chat_completion as chat_completion
    from ._builders import chat_completion_chunks as chat_completion_chunks
    from ._builders import error as error
    from ._builders import function_call as function_call
    from ._builders import response as response
    from ._builders import response_events as response_events
    from ._builders import tool_call as tool_call
    from ._exchange import FakeResponse as FakeResponse
    from ._exchange import RecordedPart as RecordedPart
    from ._exchange import RecordedRequest as RecordedRequest
    from ._mock import MockRequest as MockRequest
    from ._mock import MockResponse as MockResponse
    from ._mock import MockTransport as MockTransport
    from ._server import FakeOpenAI as FakeOpenAI
    from ._server import Handler as Handler
    from ._server import Route as Route
    from ._sse_encode import encode_chat_stream as encode_chat_stream
    from ._sse_encode import encode_event as encode_event
    from ._sse_encode import encode_responses_stream as encode_responses_stream

__all__ = [
    "FakeOpenAI",
    "FakeResponse",
    "Handler",
    "MockRequest",
    "MockResponse",
    "MockTransport",
    "RecordedPart",
    "RecordedRequest",
    "Route",
    "chat_completion",
    "chat_completion_chunks",
    "encode_chat_stream",
    "encode_event",
    "encode_responses_stream",
    "error",
    "function_call",
    "response",
    "response_events",
    "tool_call",
]

# Names load on first use: pytest imports this package at start-up in every project that has openai_async
# installed (the pytest11 entry point), and the server pulls in aiohttp.web.
_WHERE = {
    "FakeOpenAI": "._server",
    "FakeResponse": "._exchange",
    "Handler": "._server",
    "MockRequest": "._mock",
    "MockResponse": "._mock",
    "MockTransport": "._mock",
    "RecordedPart": "._exchange",
    "RecordedRequest": "._exchange",
    "Route": "._server",
    "chat_completion": "._builders",
    "chat_completion_chunks": "._builders",
    "encode_chat_stream": "._sse_encode",
    "encode_event": "._sse_encode",
    "encode_responses_stream": "._sse_encode",
    "error": "._builders",
    "function_call": "._builders",
    "response": "._builders",
    "response_events": "._builders",
    "tool_call": "._builders",
}


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    if getattr(value, "__module__", "").startswith(__name__ + "."):
        value.__module__ = __name__  # tracebacks and reprs show the public path
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
