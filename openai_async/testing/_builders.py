"""Builders for realistic API payloads, so a test scripts a reply in one line instead of a page of dicts.

    fake.add("POST", "/chat/completions", json=chat_completion("Hi!"))
    fake.add("POST", "/chat/completions", stream=chat_completion_chunks(tool_calls=[tool_call("f", {"x": 1})]))
    fake.add("POST", "/responses", events=response_events("Hi!"))
    fake.add("POST", "/responses", json=response(function_calls=[function_call("f", {"x": 1})]))

Every builder returns plain dicts shaped like the API's JSON; ids are generated unless given.
"""

from __future__ import annotations

import itertools
import re
import time
from collections.abc import Sequence
from typing import Any

import msgspec

__all__ = [
    "chat_completion",
    "chat_completion_chunks",
    "error",
    "function_call",
    "response",
    "response_events",
    "tool_call",
]

DEFAULT_MODEL = "gpt-4o-mini"
_ids = itertools.count(1)


def _id(prefix: str) -> str:
    return f"{prefix}{next(_ids):06d}fake"


def tokens(text: str) -> int:
    """A rough token count (words), enough for plausible ``usage`` blocks."""
    return max(1, len(text.split()))


def words(text: str) -> list[str]:
    """Word-sized deltas that concatenate back to exactly ``text``."""
    return re.findall(r"\s*\S+|\s+", text) or [text]


def _arguments(arguments: Any) -> str:
    return arguments if isinstance(arguments, str) else msgspec.json.encode(arguments).decode()


def _pieces(text: str, n: int = 3) -> list[str]:
    size = max(1, -(-len(text) // n))
    return [text[i : i + size] for i in range(0, len(text), size)] or [""]


def error(
    message: str, type: str = "invalid_request_error", *, code: str | None = None, param: str | None = None
) -> dict[str, Any]:
    """OpenAI's error envelope, for ``fake.add(..., status=4xx, json=error("..."))``."""
    return {"error": {"message": message, "type": type, "param": param, "code": code}}


# -- chat completions --------------------------------------------------------------------------------------------


def tool_call(name: str, arguments: Any = None, *, id: str | None = None) -> dict[str, Any]:
    """A Chat Completions function tool call (``arguments``: a JSON string, or a value to encode)."""
    return {
        "id": id or _id("call_"),
        "type": "function",
        "function": {"name": name, "arguments": _arguments({} if arguments is None else arguments)},
    }


def _chat_usage(prompt: int, completion: int) -> dict[str, Any]:
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
        "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
        "completion_tokens_details": {
            "reasoning_tokens": 0,
            "audio_tokens": 0,
            "accepted_prediction_tokens": 0,
            "rejected_prediction_tokens": 0,
        },
    }


def chat_completion(
    content: str | None = None,
    *,
    tool_calls: Sequence[dict[str, Any]] | None = None,
    model: str = DEFAULT_MODEL,
    finish_reason: str | None = None,
    prompt_tokens: int = 10,
    id: str | None = None,
) -> dict[str, Any]:
    """A ``chat.completion`` object with one assistant choice.

    Args:
        content: the message text (None for a tool-call-only answer).
        tool_calls: calls made by the model, from ``tool_call()``.
        model: the model the reply names.
        finish_reason: defaults to ``"tool_calls"`` when there are calls, else ``"stop"``.
        prompt_tokens: reported in ``usage`` (completion tokens are counted from ``content``).
        id: the completion id (generated when None).
    """
    message: dict[str, Any] = {"role": "assistant", "content": content, "refusal": None, "annotations": []}
    if tool_calls:
        message["tool_calls"] = list(tool_calls)
    return {
        "id": id or _id("chatcmpl-"),
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": message,
                "logprobs": None,
                "finish_reason": finish_reason or ("tool_calls" if tool_calls else "stop"),
            }
        ],
        "usage": _chat_usage(prompt_tokens, tokens(content or "")),
        "service_tier": "default",
        "system_fingerprint": "fp_fake",
    }


def chat_completion_chunks(
    content: str | None = None,
    *,
    tool_calls: Sequence[dict[str, Any]] | None = None,
    model: str = DEFAULT_MODEL,
    finish_reason: str | None = None,
    include_usage: bool = False,
    prompt_tokens: int = 10,
    id: str | None = None,
) -> list[dict[str, Any]]:
    """The ``chat.completion.chunk`` objects of a streamed answer (pass them as ``stream=``).

    A role chunk, the content word by word, each tool call as a header chunk plus argument fragments, a
    finish chunk, and with ``include_usage`` the final usage-only chunk (as ``stream_options`` asks).
    """
    completion_id = id or _id("chatcmpl-")
    created = int(time.time())

    def chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": completion_id,
            "object": "chat.completion.chunk",
            "created": created,
            "model": model,
            "service_tier": "default",
            "system_fingerprint": "fp_fake",
            "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}],
        }
        if include_usage:
            out["usage"] = None
        return out

    chunks = [chunk({"role": "assistant", "content": "" if content is not None else None, "refusal": None})]
    if content:
        chunks += [chunk({"content": word}) for word in words(content)]
    for index, call in enumerate(tool_calls or ()):
        function = call["function"]
        head = {"index": index, "id": call["id"], "type": "function", "function": {"name": function["name"]}}
        head["function"]["arguments"] = ""
        chunks.append(chunk({"tool_calls": [head]}))
        chunks += [
            chunk({"tool_calls": [{"index": index, "function": {"arguments": piece}}]})
            for piece in _pieces(function["arguments"])
        ]
    chunks.append(chunk({}, finish_reason or ("tool_calls" if tool_calls else "stop")))
    if include_usage:
        last = chunk({})
        last["choices"] = []
        last["usage"] = _chat_usage(prompt_tokens, tokens(content or ""))
        chunks.append(last)
    return chunks


# -- responses ---------------------------------------------------------------------------------------------------


def function_call(name: str, arguments: Any = None, *, call_id: str | None = None) -> dict[str, Any]:
    """A Responses ``function_call`` output item (``arguments``: a JSON string, or a value to encode)."""
    return {
        "type": "function_call",
        "id": _id("fc_"),
        "call_id": call_id or _id("call_"),
        "name": name,
        "arguments": _arguments({} if arguments is None else arguments),
        "status": "completed",
    }


def _message(text: str) -> dict[str, Any]:
    return {
        "id": _id("msg_"),
        "type": "message",
        "status": "completed",
        "role": "assistant",
        "content": [{"type": "output_text", "text": text, "annotations": [], "logprobs": []}],
    }


def response(
    text: str | None = None,
    /,
    *,
    function_calls: Sequence[dict[str, Any]] | None = None,
    model: str = DEFAULT_MODEL,
    status: str = "completed",
    input_tokens: int = 10,
    id: str | None = None,
    **fields: Any,
) -> dict[str, Any]:
    """A ``response`` object: a message with ``text`` and/or ``function_calls`` from ``function_call()``.

    Extra keywords set top-level fields (``instructions=``, ``previous_response_id=``, ``text=`` (the format
    config), ``metadata=`` ...).
    """
    output = ([_message(text)] if text is not None else []) + list(function_calls or ())
    return _response_body(output, text, model, status, input_tokens, id or _id("resp_"), fields)


def _response_body(
    output: list[dict[str, Any]],
    text: str | None,
    model: str,
    status: str,
    input_tokens: int,
    id: str,
    fields: dict[str, Any],
) -> dict[str, Any]:
    out_tokens = tokens(text or "")
    body: dict[str, Any] = {
        "id": id,
        "object": "response",
        "created_at": int(time.time()),
        "status": status,
        "background": False,
        "error": None,
        "incomplete_details": None,
        "instructions": None,
        "max_output_tokens": None,
        "model": model,
        "output": output,
        "parallel_tool_calls": True,
        "previous_response_id": None,
        "reasoning": {"effort": None, "summary": None},
        "store": True,
        "temperature": 1.0,
        "text": {"format": {"type": "text"}},
        "tool_choice": "auto",
        "tools": [],
        "top_p": 1.0,
        "truncation": "disabled",
        "usage": {
            "input_tokens": input_tokens,
            "input_tokens_details": {"cached_tokens": 0},
            "output_tokens": out_tokens,
            "output_tokens_details": {"reasoning_tokens": 0},
            "total_tokens": input_tokens + out_tokens,
        }
        if status == "completed"
        else None,
        "metadata": {},
    }
    body.update(fields)
    return body


def response_events(
    text: str | None = None,
    /,
    *,
    function_calls: Sequence[dict[str, Any]] | None = None,
    model: str = DEFAULT_MODEL,
    input_tokens: int = 10,
    id: str | None = None,
    **fields: Any,
) -> list[dict[str, Any]]:
    """The events of a streamed ``response()`` (pass them as ``events=``), numbered by ``sequence_number``.

    ``response.created`` and ``in_progress``; per output item ``output_item.added``, its text deltas (or
    function-call argument deltas) and ``done`` events, ``output_item.done``; then ``response.completed``.
    """
    response_id = id or _id("resp_")
    items = ([_message(text)] if text is not None else []) + list(function_calls or ())
    start = _response_body([], None, model, "in_progress", input_tokens, response_id, fields)
    events: list[dict[str, Any]] = [
        {"type": "response.created", "response": start},
        {"type": "response.in_progress", "response": start},
    ]
    for index, item in enumerate(items):
        if item["type"] == "message":
            part = item["content"][0]
            where = {"item_id": item["id"], "output_index": index, "content_index": 0}
            events += [
                {
                    "type": "response.output_item.added",
                    "output_index": index,
                    "item": {**item, "status": "in_progress", "content": []},
                },
                {"type": "response.content_part.added", **where, "part": {**part, "text": ""}},
            ]
            events += [
                {"type": "response.output_text.delta", **where, "delta": w, "logprobs": []}
                for w in words(part["text"])
            ]
            events += [
                {"type": "response.output_text.done", **where, "text": part["text"], "logprobs": []},
                {"type": "response.content_part.done", **where, "part": part},
            ]
        else:
            where = {"item_id": item["id"], "output_index": index}
            events.append(
                {
                    "type": "response.output_item.added",
                    "output_index": index,
                    "item": {**item, "status": "in_progress", "arguments": ""},
                }
            )
            events += [
                {"type": "response.function_call_arguments.delta", **where, "delta": piece}
                for piece in _pieces(item["arguments"])
            ]
            events.append(
                {
                    "type": "response.function_call_arguments.done",
                    **where,
                    "name": item["name"],
                    "arguments": item["arguments"],
                }
            )
        events.append({"type": "response.output_item.done", "output_index": index, "item": item})
    done = _response_body(items, text, model, "completed", input_tokens, response_id, fields)
    events.append({"type": "response.completed", "response": done})
    for number, event in enumerate(events):
        event["sequence_number"] = number
    return events
