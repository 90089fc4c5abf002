"""In-process decode of the canned ChatCompletion and Response bodies: generated types vs hand-written Structs.

    .venv/bin/python benchmarks/decode.py

The floor here reads every field the bytes carry (a hand-written msgspec Struct per object, as a careful user
would write for the same data), so the ratio is the price of the generated types and their leniency alone.
``openai_async._core.decode.decode`` is what the client runs on every JSON body. Best of 7 runs of 50,000 decodes.
"""

from __future__ import annotations

import sys
import timeit
from pathlib import Path
from typing import Any

import msgspec

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _server

from openai_async import types
from openai_async._core.decode import decode


class TokenDetails(msgspec.Struct):
    cached_tokens: int = 0
    audio_tokens: int = 0
    reasoning_tokens: int = 0
    accepted_prediction_tokens: int = 0
    rejected_prediction_tokens: int = 0


class ChatUsage(msgspec.Struct):
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int
    prompt_tokens_details: TokenDetails | None = None
    completion_tokens_details: TokenDetails | None = None


class Message(msgspec.Struct):
    role: str
    content: str | None = None
    refusal: str | None = None
    annotations: list[dict[str, Any]] | None = None


class Choice(msgspec.Struct):
    index: int
    message: Message
    logprobs: dict[str, Any] | None = None
    finish_reason: str | None = None


class ChatCompletion(msgspec.Struct):
    id: str
    object: str
    created: int
    model: str
    choices: list[Choice]
    usage: ChatUsage | None = None
    service_tier: str | None = None
    system_fingerprint: str | None = None


class OutputText(msgspec.Struct):
    type: str
    text: str
    annotations: list[dict[str, Any]] = []
    logprobs: list[dict[str, Any]] = []


class OutputMessage(msgspec.Struct):
    type: str
    id: str
    status: str
    role: str
    content: list[OutputText]


class ResponseUsage(msgspec.Struct):
    input_tokens: int
    output_tokens: int
    total_tokens: int
    input_tokens_details: TokenDetails | None = None
    output_tokens_details: TokenDetails | None = None


class Response(msgspec.Struct):
    id: str
    object: str
    created_at: int
    status: str
    model: str
    output: list[OutputMessage]
    background: bool | None = None
    error: dict[str, Any] | None = None
    incomplete_details: dict[str, Any] | None = None
    instructions: str | None = None
    max_output_tokens: int | None = None
    parallel_tool_calls: bool | None = None
    previous_response_id: str | None = None
    reasoning: dict[str, Any] | None = None
    service_tier: str | None = None
    store: bool | None = None
    temperature: float | None = None
    text: dict[str, Any] | None = None
    tool_choice: Any = None
    tools: list[dict[str, Any]] = []
    top_p: float | None = None
    truncation: str | None = None
    usage: ResponseUsage | None = None
    user: str | None = None
    metadata: dict[str, str] = {}


def best(fn: Any, number: int = 50_000) -> float:
    """Microseconds per call, best of 7."""
    return min(timeit.repeat(fn, number=number, repeat=7)) / number * 1e6


def main() -> None:
    bodies = {
        "ChatCompletion": (_server.chat_completion(), types.ChatCompletion, ChatCompletion),
        "Response": (msgspec.json.encode(_server._response("completed", "Hello there. " * 20)), types.Response,
                     Response),
    }
    print("| body | bytes | ours us | hand-written us | ours/hand-written | target |")
    print("| --- | --- | --- | --- | --- | --- |")
    for name, (data, ours, mine) in bodies.items():
        floor = msgspec.json.Decoder(mine)
        floor.decode(data)  # every field of the body has a place in the hand-written type
        decode(data, ours)
        a, b = best(lambda d=data, t=ours: decode(d, t)), best(lambda d=data, f=floor: f.decode(d))
        verdict = "ok" if a / b <= 1.3 else f"MISS by {a / b / 1.3 - 1:.0%}"
        print(f"| {name} | {len(data)} | {a:.2f} | {b:.2f} | {a / b:.2f}x | <= 1.3x: {verdict} |")


if __name__ == "__main__":
    main()
