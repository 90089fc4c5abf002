"""The public face of the generated types: lazy package, SDK names, BaseModel helpers, tags, output_text."""

from __future__ import annotations

import subprocess
import sys

import msgspec
import pytest

import openai_async.types as types
from openai_async._core.decode import decode
from openai_async.types import (
    AuditLog,
    BaseModel,
    ChatCompletion,
    ChatCompletionChunk,
    ChatCompletionRequestSystemMessage,
    ChatCompletionRequestUserMessage,
    CostsResult,
    CreateChatCompletionRequest,
    CreateChatCompletionResponse,
    CreateChatCompletionStreamResponse,
    FileObject,
    FunctionTool,
    OpenAIFile,
    Response,
    Unknown,
    UsageCompletionsResult,
    UsageTimeBucket,
    WebSearchTool,
)


def test_all_is_sorted_and_every_name_resolves() -> None:
    """``__all__`` is sorted, and every name in it (and in ``dir()``) can be fetched."""
    assert types.__all__ == sorted(types.__all__)
    assert len(types.__all__) == len(set(types.__all__))
    assert set(types.__all__) <= set(dir(types))
    for name in types.__all__:
        assert getattr(types, name) is not None


def test_unknown_names_raise_attribute_error() -> None:
    """A name that is not a type is an AttributeError (so ``hasattr`` and ``from ... import`` behave)."""
    with pytest.raises(AttributeError):
        types.NoSuchSchema  # noqa: B018
    assert not hasattr(types, "no_such_thing")


def test_importing_one_type_loads_only_its_area() -> None:
    """``from openai_async.types import ChatCompletion`` imports the chat area (and shared), nothing else."""
    code = (
        "import sys; from openai_async.types import ChatCompletion; "
        "print(' '.join(sorted(m for m in sys.modules if m.startswith('openai_async.types.'))))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    assert out.stdout.split() == ["openai_async.types.chat", "openai_async.types.shared"]


def test_official_sdk_names_are_aliases() -> None:
    """The official SDK's names point at the spec's schemas."""
    assert ChatCompletion is CreateChatCompletionResponse
    assert ChatCompletionChunk is CreateChatCompletionStreamResponse
    assert FileObject is OpenAIFile
    assert types.Batch.__name__ == "Batch"


def test_classes_live_at_their_public_module() -> None:
    """Tracebacks and reprs name the public module ``openai_async.types.<area>``."""
    assert CreateChatCompletionResponse.__module__ == "openai_async.types.chat"
    assert Response.__module__ == "openai_async.types.responses"
    assert issubclass(Response, BaseModel)


def test_to_dict_and_to_json_drop_unset_fields_and_use_wire_names() -> None:
    """``to_dict``/``to_json`` give the wire shape without unset fields; ``model_dump`` has every field by name."""
    log = AuditLog(id="log_1", api_key_created=None)
    assert log.to_dict() == {"id": "log_1"}
    log = decode(b'{"id": "log_1", "api_key.created": {"id": "key_1"}}', AuditLog)
    assert log.api_key_created is not None and log.api_key_created.id == "key_1"
    assert log.to_dict() == {"id": "log_1", "api_key.created": {"id": "key_1"}}
    assert msgspec.json.decode(log.to_json()) == log.to_dict()
    assert log.to_json(indent=None) == '{"id":"log_1","api_key.created":{"id":"key_1"}}'
    dumped = log.model_dump()
    assert dumped["id"] == "log_1" and dumped["api_key_created"] == {"id": "key_1", "data": None}
    assert dumped["actor"] is None and len(dumped) == len(AuditLog.__struct_fields__)
    assert log.model_dump(exclude_unset=True, by_alias=True) == log.to_dict()
    assert msgspec.json.decode(log.model_dump_json()) == dumped
    assert repr(OpenAIFile(id="file_1")) == "OpenAIFile(id='file_1')"


def test_tagged_types_always_encode_their_type() -> None:
    """Union members carry their ``type`` as a class attribute and always send it."""
    tool = FunctionTool(name="get_weather", strict=True)
    assert tool.type == "function"
    assert msgspec.json.decode(msgspec.json.encode(tool)) == {
        "type": "function",
        "name": "get_weather",
        "strict": True,
    }


def test_a_type_with_several_tag_values_decodes_each() -> None:
    """``web_search`` and ``web_search_2025_08_26`` tools both decode as WebSearchTool (a subclass per value)."""
    body = b'{"id": "r", "tools": [{"type": "web_search"}, {"type": "web_search_2025_08_26"}]}'
    resp = decode(body, Response)
    assert all(isinstance(t, WebSearchTool) for t in resp.tools)
    assert [t.type for t in resp.tools] == ["web_search", "web_search_2025_08_26"]
    assert msgspec.json.decode(resp.to_json())["tools"] == [
        {"type": "web_search"},
        {"type": "web_search_2025_08_26"},
    ]


def test_output_text_concatenates_message_text_parts() -> None:
    """``Response.output_text`` joins the output_text parts of message items, skipping everything else."""
    body = {
        "id": "r",
        "output": [
            {"type": "reasoning", "id": "rs", "summary": [{"type": "summary_text", "text": "thinking"}]},
            {"type": "message", "id": "m1", "role": "assistant",
             "content": [{"type": "output_text", "text": "Hello, ", "annotations": []},
                         {"type": "refusal", "refusal": "no"}]},
            {"type": "function_call", "id": "fc", "call_id": "c", "name": "f", "arguments": "{}"},
            {"type": "message", "id": "m2", "role": "assistant",
             "content": [{"type": "output_text", "text": "world", "annotations": []}]},
        ],
    }  # fmt: skip
    assert decode(msgspec.json.encode(body), Response).output_text == "Hello, world"
    assert Response().output_text == ""


def test_unknown_is_the_raw_dict() -> None:
    """``Unknown`` is a dict with ``.type`` and ``.raw``, and encodes as the original object."""
    u = Unknown({"type": "new", "x": [1]})
    assert isinstance(u, dict) and u.type == "new" and u.raw is u and u["x"] == [1]
    assert msgspec.json.decode(msgspec.json.encode(u)) == {"type": "new", "x": [1]}
    assert u.to_dict() == {"type": "new", "x": [1]} and "Unknown(" in repr(u)


def test_unions_the_spec_discriminates_by_another_field() -> None:
    """Chat request messages are tagged by ``role`` and usage results by ``object``, new values stay Unknown."""
    body = {
        "model": "m",
        "messages": [
            {"role": "system", "content": "be brief"},
            {"role": "user", "content": "hi"},
            {"role": "x"},
        ],
    }
    req = decode(msgspec.json.encode(body), CreateChatCompletionRequest)
    system, user, new = req.messages
    assert isinstance(system, ChatCompletionRequestSystemMessage) and system.role == "system"
    assert isinstance(user, ChatCompletionRequestUserMessage) and user.content == "hi"
    assert isinstance(new, Unknown) and new["role"] == "x"
    assert msgspec.json.decode(msgspec.json.encode(ChatCompletionRequestUserMessage(content="yo"))) == {
        "role": "user",
        "content": "yo",
    }
    bucket = {
        "object": "bucket",
        "results": [
            {"object": "organization.usage.completions.result", "input_tokens": 5},
            {"object": "organization.costs.result", "amount": {"value": 1.5, "currency": "usd"}},
            {"object": "organization.usage.teleports.result", "count": 1},
        ],
    }
    results = decode(msgspec.json.encode(bucket), UsageTimeBucket).results
    assert isinstance(results[0], UsageCompletionsResult) and results[0].input_tokens == 5
    assert isinstance(results[1], CostsResult) and results[1].amount.value == 1.5
    assert isinstance(results[2], Unknown) and results[2]["count"] == 1


def test_base64_embeddings_decode_on_the_fast_path() -> None:
    """`encoding_format="base64"` answers carry the vector as a string: it decodes strictly, no lenient pass."""
    import array
    import base64

    from openai_async._core.decode import decoder_for
    from openai_async.types import CreateEmbeddingResponse

    vector = array.array("f", [0.5, -1.25, 3.0])
    body = msgspec.json.encode(
        {
            "object": "list",
            "model": "text-embedding-3-small",
            "data": [
                {"object": "embedding", "index": 0, "embedding": base64.b64encode(vector.tobytes()).decode()},
                {"object": "embedding", "index": 1, "embedding": [0.5, -1.25, 3.0]},
            ],
        }
    )
    result = decoder_for(CreateEmbeddingResponse).decode(
        body
    )  # the strict decoder: raises on a type mismatch
    b64, floats = result.data
    assert array.array("f", base64.b64decode(b64.embedding)).tolist() == floats.embedding == [0.5, -1.25, 3.0]
