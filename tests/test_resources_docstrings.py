"""Generated methods carry an ``Args:`` entry per parameter the spec describes (what IDE hovers show)."""

from __future__ import annotations

import inspect

from openai_async import AsyncOpenAI


def test_create_docstring_lists_its_parameters() -> None:
    """chat.completions.create's docstring has the summary, the reference link and Args for messages and model."""
    doc = inspect.getdoc(AsyncOpenAI(api_key="k").chat.completions.create) or ""
    summary, _, rest = doc.partition("\n\nArgs:\n")
    assert "https://platform.openai.com/docs/api-reference/chat/create" in summary
    entries = dict(line.strip().split(": ", 1) for line in rest.splitlines())
    assert entries["messages"].startswith("A list of messages")
    assert entries["model"].startswith("Model ID used to generate the response")
    assert all(len(text) <= 110 for text in entries.values())  # first sentences, not whole paragraphs


def test_helpers_carry_the_mixin_docstring_and_create_parameters() -> None:
    """responses.stream() has create()'s keyword parameters and the helper's own docstring."""
    stream = AsyncOpenAI(api_key="k").responses.stream
    params = inspect.signature(stream).parameters
    assert {"model", "input", "instructions", "text_format", "response_id", "starting_after"} <= params.keys()
    assert "stream" not in params
    assert (inspect.getdoc(stream) or "").startswith("Stream a response as typed events")
