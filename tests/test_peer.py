"""Compatibility tier: a real OpenAI-compatible server, llama.cpp's ``llama-server``, driven through openai_async.

The server is built by ``../shared/peer/peer.sh build`` into ``~/.cache/openai-async-peer`` (or ``$PEER_HOME``);
without that build every test here skips, saying so. A session fixture starts it on a free loopback port with a
tiny random-weight model ("tiny" for text, "tiny-embed" for embeddings), so the text is gibberish: the tests assert
on shapes (types, counts, field presence), never on content. Each scenario is the user's code as the official
SDK's docs show it, run through the official SDK too; the shapes the user reads must be the same.
"""

from __future__ import annotations

import json
import os
import pathlib
import signal
import socket
import subprocess
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import pytest

from ._drip import SDKS, make_client

pytestmark = [pytest.mark.peer, pytest.mark.anyio]

PEER_HOME = pathlib.Path(os.environ.get("PEER_HOME") or pathlib.Path.home() / ".cache" / "openai-async-peer")
BINARY = PEER_HOME / "build" / "bin" / "llama-server"
PEER_SH = pathlib.Path(__file__).resolve().parents[1].parent / "shared" / "peer" / "peer.sh"
MESSAGES = [{"role": "user", "content": "Say hello"}]
WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "The weather in a city.",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string", "enum": ["Paris", "Rome"]}},
            "required": ["city"],
            "additionalProperties": False,
        },
    },
}
ANSWER_FORMAT = {
    "type": "json_schema",
    "json_schema": {
        "name": "answer",
        "strict": True,
        "schema": {
            "type": "object",
            "properties": {"verdict": {"type": "string", "enum": ["yes", "no"]}},
            "required": ["verdict"],
            "additionalProperties": False,
        },
    },
}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
def peer_url() -> Iterator[str]:
    """The base URL of a llama-server started for this session (stopped at the end), or a skip."""
    if not BINARY.exists():
        pytest.skip(f"peer tier: no llama-server build at {BINARY} (run ../shared/peer/peer.sh build)")
    if not PEER_SH.exists():
        pytest.skip(f"peer tier: {PEER_SH} not found (the shared folder belongs beside the checkout)")
    started = subprocess.run(
        [str(PEER_SH), "start", str(_free_port())], capture_output=True, text=True, timeout=120, check=False
    )
    words = started.stdout.split()
    if started.returncode != 0 or "PID" not in words or "BASE" not in words:
        pytest.fail(f"llama-server did not start: {started.stdout}{started.stderr}")
    pid = int(words[words.index("PID") + 1])
    try:
        yield words[words.index("BASE") + 1]
    finally:
        os.kill(pid, signal.SIGTERM)


def observe(obj: Any, *paths: str) -> dict[str, str]:
    """The type name at each dotted path (``choices.0.message.content``), ``"missing"`` where there is none."""
    seen = {}
    for path in paths:
        value = obj
        for part in path.split("."):
            if value is None:
                break
            value = value[int(part)] if part.isdigit() else getattr(value, part, None)
        seen[path] = type(value).__name__ if value is not None else "missing"
    return seen


async def both(url: str, scenario: Callable[[Any], Awaitable[dict[str, Any]]]) -> dict[str, Any]:
    """Run ``scenario(client)`` with each SDK; the observations must match. Returns ours."""
    seen = {}
    for sdk in SDKS:
        # Retries (both SDKs alike) ride over llama-server's router now and then dropping a connection unanswered.
        async with make_client(sdk, url, api_key="sk-peer", timeout=30, max_retries=2) as client:
            seen[sdk] = await scenario(client)
    assert seen["ours"] == seen["official"]
    return seen["ours"]


COMPLETION_PATHS = (
    "id",
    "object",
    "created",
    "model",
    "choices.0.index",
    "choices.0.finish_reason",
    "choices.0.message.role",
    "choices.0.message.content",
    "usage.prompt_tokens",
    "usage.completion_tokens",
    "usage.total_tokens",
)


async def test_chat_completion(peer_url: str) -> None:
    """A plain chat completion decodes into the same shape through both SDKs, with _request_id set."""

    async def scenario(client: Any) -> dict[str, Any]:
        completion = await client.chat.completions.create(model="tiny", messages=MESSAGES, max_tokens=8)
        return {
            **observe(completion, *COMPLETION_PATHS),
            "choices": len(completion.choices),
            "has_request_id": hasattr(completion, "_request_id"),
            "object_value": completion.object,
        }

    seen = await both(peer_url, scenario)
    assert seen["choices.0.message.content"] == "str" and seen["usage.total_tokens"] == "int"
    assert seen["object_value"] == "chat.completion" and seen["has_request_id"]


async def test_chat_tool_call(peer_url: str) -> None:
    """tool_choice="required" yields a tool call whose arguments are JSON naming one of the allowed cities."""

    async def scenario(client: Any) -> dict[str, Any]:
        completion = await client.chat.completions.create(
            model="tiny", messages=MESSAGES, tools=[WEATHER_TOOL], tool_choice="required", max_tokens=64
        )
        call = completion.choices[0].message.tool_calls[0]
        return {
            **observe(call, "id", "type", "function.name", "function.arguments"),
            "name": call.function.name,
            "city_ok": json.loads(call.function.arguments)["city"] in ("Paris", "Rome"),
        }

    seen = await both(peer_url, scenario)
    assert seen["name"] == "get_weather" and seen["city_ok"] and seen["function.arguments"] == "str"


async def test_chat_json_schema(peer_url: str) -> None:
    """A json_schema response_format constrains the content to the schema through both SDKs."""

    async def scenario(client: Any) -> dict[str, Any]:
        completion = await client.chat.completions.create(
            model="tiny", messages=MESSAGES, response_format=ANSWER_FORMAT, max_tokens=32
        )
        return {"verdict": json.loads(completion.choices[0].message.content)["verdict"] in ("yes", "no")}

    assert (await both(peer_url, scenario))["verdict"]


async def test_chat_inline_stream(peer_url: str) -> None:
    """create(stream=True) yields chunks with text deltas, then one with a finish_reason, then the usage."""

    async def scenario(client: Any) -> dict[str, Any]:
        stream = await client.chat.completions.create(
            model="tiny", messages=MESSAGES, max_tokens=8, stream=True, stream_options={"include_usage": True}
        )
        chunks = [chunk async for chunk in stream]
        with_choice = [c for c in chunks if c.choices]
        return {
            "object": {c.object for c in chunks},
            "deltas": {type(c.choices[0].delta.content).__name__ for c in with_choice[1:-1]},
            "finished": with_choice[-1].choices[0].finish_reason is not None,
            "usage_last": type(chunks[-1].usage.total_tokens).__name__,
        }

    seen = await both(peer_url, scenario)
    assert seen["object"] == {"chat.completion.chunk"} and seen["finished"] and seen["usage_last"] == "int"


async def test_chat_stream_helper(peer_url: str) -> None:
    """chat.completions.stream(): the same event types through both SDKs, the text deltas adding up."""

    async def scenario(client: Any) -> dict[str, Any]:
        async with client.chat.completions.stream(model="tiny", messages=MESSAGES, max_tokens=8) as stream:
            kinds = []
            text = ""
            done = False
            async for event in stream:
                kinds.append(event.type)
                if event.type == "content.delta":
                    text += event.delta
                if event.type == "content.done":
                    done = event.content == text
        return {"kinds": sorted(set(kinds)), "done_matches": done}

    seen = await both(peer_url, scenario)
    assert "chunk" in seen["kinds"] and "content.done" in seen["kinds"] and seen["done_matches"]


async def test_chat_stream_helper_final_completion_at_the_token_limit(peer_url: str) -> None:
    """get_final_completion() after a stream cut by max_tokens: the same outcome through both SDKs."""

    async def scenario(client: Any) -> dict[str, Any]:
        async with client.chat.completions.stream(model="tiny", messages=MESSAGES, max_tokens=8) as stream:
            try:
                final = await stream.get_final_completion()
            except Exception as exc:  # the class is what is compared
                return {"final": type(exc).__name__}
        return {"final": final.choices[0].finish_reason}

    await both(peer_url, scenario)


async def test_legacy_completions(peer_url: str) -> None:
    """completions.create, whole and streamed, gives text choices through both SDKs."""

    async def scenario(client: Any) -> dict[str, Any]:
        completion = await client.completions.create(model="tiny", prompt="Once upon", max_tokens=8)
        stream = await client.completions.create(model="tiny", prompt="Once upon", max_tokens=8, stream=True)
        pieces = [chunk async for chunk in stream]
        return {
            **observe(
                completion, "id", "object", "choices.0.text", "choices.0.finish_reason", "usage.total_tokens"
            ),
            "streamed": {type(c.choices[0].text).__name__ for c in pieces if c.choices},
        }

    seen = await both(peer_url, scenario)
    assert seen["choices.0.text"] == "str" and seen["streamed"] == {"str"}


async def test_responses(peer_url: str) -> None:
    """responses.create gives a Response with output_text (skipped when this llama-server has no /v1/responses)."""
    async with make_client("ours", peer_url, api_key="sk-peer", timeout=30) as probe:
        try:
            await probe.responses.create(model="tiny", input="Hi", max_output_tokens=8)
        except Exception as exc:  # any failure: told apart by status below
            if getattr(exc, "status_code", None) in (404, 405, 501):
                pytest.skip(f"this llama-server build has no /v1/responses ({exc})")
            raise

    async def scenario(client: Any) -> dict[str, Any]:
        response = await client.responses.create(model="tiny", input="Hi", max_output_tokens=8)
        events = client.responses.create(model="tiny", input="Hi", max_output_tokens=8, stream=True)
        kinds = [event.type async for event in await events]
        return {
            **observe(response, "id", "object", "status", "output_text"),
            "object_value": response.object,
            "first": kinds[0],
            "last": kinds[-1],
        }

    seen = await both(peer_url, scenario)
    assert seen["object_value"] == "response" and seen["output_text"] == "str"
    assert seen["first"] == "response.created" and seen["last"] == "response.completed"


async def test_embeddings(peer_url: str) -> None:
    """embeddings.create on "tiny-embed" gives one float vector per input, all of one size."""

    async def scenario(client: Any) -> dict[str, Any]:
        result = await client.embeddings.create(model="tiny-embed", input=["first text", "second text"])
        vectors = [item.embedding for item in result.data]
        return {
            "count": len(vectors),
            "sizes": len({len(v) for v in vectors}),
            "types": {type(x).__name__ for v in vectors for x in v},
            **observe(result, "object", "model", "usage.prompt_tokens"),
        }

    seen = await both(peer_url, scenario)
    assert seen["count"] == 2 and seen["sizes"] == 1 and seen["types"] == {"float"}


async def test_unknown_model_error(peer_url: str) -> None:
    """An unknown model raises the same status error class, with the same status code, through both SDKs."""

    async def scenario(client: Any) -> dict[str, Any]:
        try:
            await client.chat.completions.create(model="no-such-model", messages=MESSAGES, max_tokens=4)
        except Exception as exc:  # the class is what is compared
            return {
                "error": type(exc).__name__,
                "status": getattr(exc, "status_code", None),
                "has_message": bool(str(exc)),
            }
        return {"error": None}

    seen = await both(peer_url, scenario)
    assert seen["error"] is not None and isinstance(seen["status"], int) and seen["status"] >= 400


async def test_raw_and_streaming_responses(peer_url: str) -> None:
    """with_raw_response and with_streaming_response against the real server: facts, then the parsed result."""

    async def scenario(client: Any) -> dict[str, Any]:
        raw = await client.chat.completions.with_raw_response.create(
            model="tiny", messages=MESSAGES, max_tokens=4
        )
        async with client.chat.completions.with_streaming_response.create(
            model="tiny", messages=MESSAGES, max_tokens=4, stream=True
        ) as response:
            chunks = [chunk async for chunk in await response.parse()]
            streamed_status = response.status_code
        return {
            "status": raw.status_code,
            "method": raw.http_request.method,
            "retries": raw.retries_taken,
            **observe(raw.parse(), "choices.0.message.content"),
            "streamed_status": streamed_status,
            "chunk_objects": {c.object for c in chunks},
        }

    seen = await both(peer_url, scenario)
    assert seen["status"] == seen["streamed_status"] == 200 and seen["chunk_objects"] == {
        "chat.completion.chunk"
    }
