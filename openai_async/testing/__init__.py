"""A fake OpenAI server for your application's tests and for running examples offline.

    from openai_async.testing import FakeOpenAI

    async def test_summary() -> None:
        async with FakeOpenAI() as fake:
            fake.add("POST", "/chat/completions", json={"choices": [...]})
            async with fake.client() as client:
                assert await summarize(client, "...") == "..."
            assert fake.last_request.json["model"] == "gpt-4o-mini"

With pytest, the ``openai_fake`` fixture (registered through the ``pytest11`` entry point) gives a running
``FakeOpenAI`` served from a background thread, usable from any async test framework.
"""

from __future__ import annotations

from ._exchange import FakeResponse as FakeResponse
from ._exchange import RecordedPart as RecordedPart
from ._exchange import RecordedRequest as RecordedRequest
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
    "RecordedPart",
    "RecordedRequest",
    "Route",
    "encode_chat_stream",
    "encode_event",
    "encode_responses_stream",
]

for _name in __all__:
    _obj = globals()[_name]
    if getattr(_obj, "__module__", "").startswith("openai_async.testing."):
        _obj.__module__ = __name__
del _name, _obj
