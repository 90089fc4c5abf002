"""Token cost estimate of a request, made before it is sent, for the TPM budget of the rate limiter.

The estimate is the prompt (message contents, ``input``, ``prompt``, ``instructions``, tool definitions) plus the
output the request may produce (``max_tokens`` / ``max_completion_tokens`` / ``max_output_tokens``, times ``n``).
This is also how the API itself charges the TPM budget when a request is admitted: prompt estimate plus the
requested maximum output (https://platform.openai.com/docs/guides/rate-limits). The limiter corrects its own
books afterwards from ``usage.total_tokens`` and from the ``x-ratelimit-*-tokens`` headers, so the estimate only
has to be in the right neighbourhood.

Text is counted exactly with ``tiktoken`` (``o200k_base``) when it is installed and its encoding can be loaded;
otherwise with the heuristic of about 4 characters per token (``ceil(len(text) / 4)``), which is close for
English and under-counts dense scripts (CJK), where the header corrections take over. Each chat message adds
``MESSAGE_OVERHEAD`` tokens (role and framing), an image part ``IMAGE_TOKENS``.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any

import msgspec

__all__ = ["count_text_tokens", "estimate_request_tokens"]

MESSAGE_OVERHEAD = 4
"""Tokens added per chat message / input item for the role and the framing around it."""
REPLY_OVERHEAD = 3
"""Tokens that prime every chat reply."""
IMAGE_TOKENS = 765
"""Flat cost charged for an image part (a 1024x1024 image at detail=high); corrected after the call."""
CHARS_PER_TOKEN = 4

_OUTPUT_FIELDS = ("max_completion_tokens", "max_output_tokens", "max_tokens")
_TEXT_KEYS = ("text", "input_text", "output_text", "refusal", "arguments", "output")


def _load_tiktoken() -> Callable[[str], int] | None:
    try:
        tiktoken = importlib.import_module("tiktoken")  # optional extra: openai_async[tiktoken]
    except ImportError:
        return None
    try:  # the encoding file may need a download; no network means the heuristic
        enc = tiktoken.get_encoding("o200k_base")
    except Exception:
        return None

    def count(text: str) -> int:
        return len(enc.encode_ordinary(text))

    return count


_exact_counter: Callable[[str], int] | None = None
_counter_loaded = False


def count_text_tokens(text: str) -> int:
    """Return the number of tokens in ``text``: exact with tiktoken if available, else ``ceil(len / 4)``."""
    global _exact_counter, _counter_loaded
    if not _counter_loaded:
        _exact_counter = _load_tiktoken()
        _counter_loaded = True
    if _exact_counter is not None:
        return _exact_counter(text)
    return -(-len(text) // CHARS_PER_TOKEN)


def _content_tokens(content: Any) -> int:
    """Tokens of a message ``content``: a string, a list of parts, or a nested value."""
    if content is None:
        return 0
    if isinstance(content, str):
        return count_text_tokens(content)
    if isinstance(content, (list, tuple)):
        if content and all(isinstance(x, int) for x in content):  # a pre-tokenized prompt
            return len(content)
        return sum(_content_tokens(part) for part in content)
    if isinstance(content, Mapping):
        kind = content.get("type")
        if kind in ("image_url", "input_image", "image_file"):
            return IMAGE_TOKENS
        total = 0
        for key in _TEXT_KEYS:
            value = content.get(key)
            if isinstance(value, str):
                total += count_text_tokens(value)
        if "content" in content:  # a Responses message item
            total += MESSAGE_OVERHEAD + _content_tokens(content["content"])
        return total
    return 0


def _tools_tokens(tools: Any) -> int:
    """Tool and function definitions are sent as JSON; count their encoded length."""
    if not tools:
        return 0
    return count_text_tokens(msgspec.json.encode(tools).decode())


def estimate_request_tokens(method: str, path: str, body: Any) -> int:
    """Estimate the tokens a request charges to the TPM budget (prompt plus maximum output).

    Args:
        method: The HTTP method; only requests with a body are charged.
        path: The path relative to the base URL (unused today; kept so per-endpoint rules can be added).
        body: The JSON body as the resource passed it: a msgspec Struct, a mapping, ``msgspec.Raw`` or None.

    Returns:
        A non-negative token count; 0 for requests that carry no model input.
    """
    if body is None or method == "GET":
        return 0
    if isinstance(body, msgspec.Raw):
        try:
            body = msgspec.json.decode(body)
        except msgspec.DecodeError:
            return 0
    if not isinstance(body, Mapping):
        try:
            body = msgspec.to_builtins(body)
        except TypeError:
            return 0
        if not isinstance(body, Mapping):
            return 0
    tokens = 0
    messages = body.get("messages")
    if isinstance(messages, list):
        for message in messages:
            tokens += MESSAGE_OVERHEAD
            if isinstance(message, Mapping):
                tokens += _content_tokens(message.get("content"))
                tool_calls = message.get("tool_calls")
                if tool_calls:
                    tokens += _tools_tokens(tool_calls)
        tokens += REPLY_OVERHEAD
    for key in ("input", "prompt", "instructions"):
        if key in body:
            tokens += _content_tokens(body[key])
    tokens += _tools_tokens(body.get("tools")) + _tools_tokens(body.get("functions"))
    output = 0
    for key in _OUTPUT_FIELDS:
        value = body.get(key)
        if isinstance(value, int) and not isinstance(value, bool):
            output = value
            break
    n = body.get("n")
    if isinstance(n, int) and not isinstance(n, bool) and n > 1:
        output *= n
    return tokens + output
