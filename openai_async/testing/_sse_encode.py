"""Server side of server-sent events: turn payloads into the bytes OpenAI streams on the wire."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

import msgspec

__all__ = ["DONE", "encode_chat_stream", "encode_event", "encode_responses_stream"]

DONE = b"data: [DONE]\n\n"
"""The sentinel event that ends Chat Completions (and legacy Completions) streams."""

_LINE_END = re.compile(rb"\r\n|\r|\n")
_json_encode = msgspec.json.encode


def _payload(data: Any) -> bytes:
    if isinstance(data, bytes):
        return data
    if isinstance(data, str):
        return data.encode()
    return _json_encode(data)


def encode_event(
    data: Any, *, event: str | None = None, id: str | None = None, retry: int | None = None
) -> bytes:
    """Encode one SSE event.

    Args:
        data: a str/bytes payload sent as is (one ``data:`` line per line), or any other value, sent as compact
            JSON.
        event: the ``event:`` field (Responses and Assistants streams name every event).
        id: the ``id:`` field.
        retry: the ``retry:`` field, in milliseconds.

    Returns:
        The event's bytes, ending with the blank line that dispatches it.

    Raises:
        ValueError: ``event`` or ``id`` contains a line end (it would split the field).
    """
    head = b""
    if event is not None:
        head += b"event: " + _field(event) + b"\n"
    if id is not None:
        head += b"id: " + _field(id) + b"\n"
    if retry is not None:
        head += b"retry: %d\n" % retry
    payload = _payload(data)
    if 10 in payload or 13 in payload:
        body = b"".join(b"data: " + line + b"\n" for line in _LINE_END.split(payload))
    else:
        body = b"data: " + payload + b"\n"
    return head + body + b"\n"


def _field(value: str) -> bytes:
    raw = value.encode()
    if 10 in raw or 13 in raw:
        raise ValueError(f"an SSE field cannot contain a line end: {value!r}")
    return raw


def encode_chat_stream(chunks: Iterable[Any], *, done: bool = True) -> list[bytes]:
    """Encode Chat Completions chunks as ``data:`` events, then ``data: [DONE]`` unless ``done`` is False."""
    events = [encode_event(chunk) for chunk in chunks]
    if done:
        events.append(DONE)
    return events


def encode_responses_stream(events: Iterable[Any]) -> list[bytes]:
    """Encode Responses (or Assistants) events, each as ``event: <name>`` + ``data: <json>``.

    Each item is a dict with a ``type`` key (Responses events: the type names the event), or a
    ``(name, payload)`` pair (Assistants events such as ``("thread.run.created", run)``).
    """
    out = []
    for item in events:
        if isinstance(item, tuple):
            name, payload = item
        elif isinstance(item, dict) and isinstance(item.get("type"), str):
            name, payload = item["type"], item
        else:
            raise TypeError(
                f"a Responses event is a dict with a 'type' key or a (name, payload) pair, not {item!r}"
            )
        out.append(encode_event(payload, event=name))
    return out
