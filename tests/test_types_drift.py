"""Decoding never fails on API drift: unknown fields, enum values, union members, nulls and missing fields."""

from __future__ import annotations

import random
from typing import Any

import msgspec
import pytest

from openai_async._core.decode import convert, decode
from openai_async.types import (
    AuditLog,
    AuditLogActor,
    Batch,
    ChatCompletion,
    ChatCompletionChunk,
    CreateEmbeddingResponse,
    FileObject,
    FineTuningJob,
    InputMessageResource,
    OutputMessage,
    OutputTextContent,
    Response,
    ResponseCompletedEvent,
    ResponseItemList,
    ResponseStreamEvent,
    ResponseTextDeltaEvent,
    Unknown,
)

enc = msgspec.json.encode


def chat_completion(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "created": 1741569952,
        "model": "gpt-4.1",
        "choices": [
            {
                "index": 0,
                "finish_reason": "stop",
                "logprobs": None,
                "message": {
                    "role": "assistant",
                    "content": "Hello",
                    "refusal": None,
                    "tool_calls": [
                        {"id": "call_1", "type": "function", "function": {"name": "f", "arguments": "{}"}}
                    ],
                },
            }
        ],
        "usage": {"prompt_tokens": 5, "completion_tokens": 2, "total_tokens": 7},
    }
    body.update(changes)
    return body


def response(output: list[Any] | None = None, **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": "resp_1",
        "object": "response",
        "created_at": 1741476542,
        "status": "completed",
        "model": "gpt-4.1",
        "output": output
        if output is not None
        else [
            {"type": "reasoning", "id": "rs_1", "summary": []},
            {
                "type": "message",
                "id": "msg_1",
                "status": "completed",
                "role": "assistant",
                "content": [{"type": "output_text", "text": "Hi there", "annotations": []}],
            },
        ],
        "usage": {"input_tokens": 3, "output_tokens": 2, "total_tokens": 5},
    }
    body.update(changes)
    return body


def test_conforming_chat_completion_decodes() -> None:
    """The baseline payload decodes into the generated structs with every field in place."""
    cc = decode(enc(chat_completion()), ChatCompletion)
    assert isinstance(cc, ChatCompletion)
    assert cc.choices[0].message.content == "Hello"
    assert cc.choices[0].message.tool_calls[0].function.name == "f"
    assert cc.choices[0].message.tool_calls[0].type == "function"
    assert cc.usage.total_tokens == 7


@pytest.mark.parametrize(
    ("tp", "payload"),
    [
        (ChatCompletion, chat_completion(brand_new={"x": [1, 2]})),
        (Response, response(brand_new=1)),
        (Batch, {"id": "batch_1", "object": "batch", "status": "completed", "brand_new": {"a": None}}),
        (FineTuningJob, {"id": "ftjob-1", "object": "fine_tuning.job", "brand_new": [1]}),
    ],
)
def test_unknown_top_level_fields_are_kept(tp: Any, payload: dict[str, Any]) -> None:
    """A field the spec does not know is kept (attribute, ``model_extra``, dumps) and the known ones stay readable."""
    obj = decode(enc(payload), tp)
    assert type(obj) is tp
    assert obj.id == payload["id"]
    assert obj.brand_new == payload["brand_new"]
    assert obj.model_extra == {"brand_new": payload["brand_new"]}
    assert obj.to_dict()["brand_new"] == obj.model_dump()["brand_new"] == payload["brand_new"]


def test_unknown_nested_fields_are_kept() -> None:
    """New fields deep inside choices, messages and tool calls are kept where they were sent."""
    body = chat_completion()
    body["choices"][0]["new"] = 1
    body["choices"][0]["message"]["new"] = {"deep": True}
    body["choices"][0]["message"]["tool_calls"][0]["function"]["new"] = []
    cc = decode(enc(body), ChatCompletion)
    assert cc.choices[0].message.tool_calls[0].function.arguments == "{}"
    assert cc.choices[0].new == 1 and cc.choices[0].message.new == {"deep": True}
    assert cc.choices[0].message.tool_calls[0].function.model_extra == {"new": []}
    assert cc.to_dict() == body


def test_unknown_enum_values_are_kept_as_strings() -> None:
    """An enum value the spec does not list decodes as the plain string, at the top and nested."""
    batch = decode(enc({"id": "b", "status": "paused_for_lunch"}), Batch)
    assert batch.status == "paused_for_lunch"
    body = chat_completion()
    body["choices"][0]["finish_reason"] = "ran_out_of_tea"
    body["choices"][0]["message"]["role"] = "narrator"
    cc = decode(enc(body), ChatCompletion)
    assert cc.choices[0].finish_reason == "ran_out_of_tea"
    assert cc.choices[0].message.role == "narrator"
    job = decode(enc({"id": "j", "status": "thinking", "method": {"type": "telepathy"}}), FineTuningJob)
    assert job.status == "thinking"
    assert job.method is not None


def test_unknown_union_member_nested_in_a_chat_completion() -> None:
    """A tool call with a new ``type`` becomes ``Unknown`` beside the known calls, whose fields stay typed."""
    body = chat_completion()
    body["choices"][0]["message"]["tool_calls"].append(
        {"id": "call_2", "type": "hologram", "hologram": {"x": 1}}
    )
    cc = decode(enc(body), ChatCompletion)
    known, new = cc.choices[0].message.tool_calls
    assert known.function.name == "f"
    assert isinstance(new, Unknown)
    assert new.type == "hologram"
    assert new["hologram"] == {"x": 1}
    assert new.raw == body["choices"][0]["message"]["tool_calls"][1]
    assert cc.usage.total_tokens == 7


def test_unknown_union_members_at_several_depths_of_a_response() -> None:
    """New output item, content part and annotation types are reachable as ``Unknown``; the rest is typed."""
    output = [
        {"type": "teleport_call", "id": "tp_1", "destination": "mars"},
        {
            "type": "message",
            "id": "msg_1",
            "role": "assistant",
            "content": [
                {"type": "output_text", "text": "Hello, ", "annotations": [{"type": "footnote", "n": 1}]},
                {"type": "output_smell", "smell": "roses"},
                {"type": "output_text", "text": "world", "annotations": []},
            ],
        },
    ]
    resp = decode(enc(response(output)), Response)
    assert isinstance(resp, Response)
    teleport, message = resp.output
    assert isinstance(teleport, Unknown) and teleport["destination"] == "mars"
    assert isinstance(message, OutputMessage)
    first, smell, last = message.content
    assert isinstance(first, OutputTextContent) and first.text == "Hello, "
    assert isinstance(first.annotations[0], Unknown) and first.annotations[0]["n"] == 1
    assert isinstance(smell, Unknown) and smell.type == "output_smell"
    assert last.text == "world"
    assert resp.output_text == "Hello, world"
    assert resp.usage.total_tokens == 5


def test_null_where_the_spec_says_non_nullable() -> None:
    """``null`` for a required string, number, object or list decodes as None, at any depth."""
    body = chat_completion(id=None, created=None, usage=None)
    body["choices"][0]["message"]["tool_calls"][0]["function"] = None
    body["choices"][0]["index"] = None
    cc = decode(enc(body), ChatCompletion)
    assert cc.id is None and cc.created is None and cc.usage is None
    assert cc.choices[0].index is None
    assert cc.choices[0].message.tool_calls[0].function is None
    assert cc.choices[0].message.content == "Hello"


def test_null_inside_a_list_of_numbers_is_kept() -> None:
    """An embedding vector with a null element keeps the other numbers and the null in place."""
    body = {
        "object": "list",
        "model": "m",
        "data": [{"object": "embedding", "index": 0, "embedding": [0.5, None, 1]}],
        "usage": {"prompt_tokens": 1, "total_tokens": 1},
    }
    emb = decode(enc(body), CreateEmbeddingResponse)
    assert emb.data[0].embedding == [0.5, None, 1.0]
    assert emb.usage.total_tokens == 1


def test_required_fields_missing() -> None:
    """Missing required fields read as None, at the top and nested."""
    body = chat_completion()
    del body["id"], body["model"]
    del body["choices"][0]["message"]["role"], body["choices"][0]["finish_reason"]
    cc = decode(enc(body), ChatCompletion)
    assert cc.id is None and cc.model is None
    assert cc.choices[0].finish_reason is None
    assert cc.choices[0].message.content == "Hello"
    assert decode(b"{}", FileObject) == FileObject()


def test_missing_tag_picks_the_member_with_the_most_matching_fields() -> None:
    """A union member without its ``type`` is placed by its fields rather than lost."""
    body = chat_completion()
    del body["choices"][0]["message"]["tool_calls"][0]["type"]
    cc = decode(enc(body), ChatCompletion)
    assert cc.choices[0].message.tool_calls[0].function.name == "f"


def test_wrong_scalar_types_are_kept_raw() -> None:
    """A value of the wrong JSON type is kept as sent, and its neighbours still decode."""
    body = chat_completion(created="yesterday")
    body["usage"]["prompt_tokens"] = "five"
    body["choices"][0]["message"]["tool_calls"] = {"not": "a list"}
    cc = decode(enc(body), ChatCompletion)
    assert cc.created == "yesterday"
    assert cc.usage.prompt_tokens == "five" and cc.usage.total_tokens == 7
    assert cc.choices[0].message.tool_calls == {"not": "a list"}
    assert cc.choices[0].message.content == "Hello"


def test_a_top_level_value_of_the_wrong_shape_is_returned_raw() -> None:
    """A JSON array where an object is expected comes back as the parsed JSON."""
    assert decode(b"[1, 2]", Batch) == [1, 2]


def test_stream_event_with_unknown_type() -> None:
    """A Responses stream event with a new ``type`` decodes as ``Unknown`` holding the raw event."""
    event = decode(
        b'{"type":"response.mind_reading.delta","sequence_number":7,"delta":"hm"}', ResponseStreamEvent
    )
    assert isinstance(event, Unknown)
    assert event.type == "response.mind_reading.delta"
    assert event["sequence_number"] == 7


def test_known_stream_event_with_a_new_field() -> None:
    """A known event with an extra field decodes into its struct."""
    data = enc(
        {
            "type": "response.output_text.delta",
            "item_id": "msg_1",
            "output_index": 0,
            "content_index": 0,
            "delta": "Hel",
            "sequence_number": 3,
            "obfuscation": "abc",
            "new": {"x": 1},
        }
    )
    event = decode(data, ResponseStreamEvent)
    assert isinstance(event, ResponseTextDeltaEvent)
    assert event.delta == "Hel" and event.sequence_number == 3
    assert event.type == "response.output_text.delta"


def test_stream_event_with_null_where_a_string_is_expected() -> None:
    """``null`` for a string field of a stream event reads as None; a number for a string is kept."""
    event = decode(
        b'{"type":"response.output_text.delta","delta":null,"item_id":42,"output_index":0}',
        ResponseStreamEvent,
    )
    assert isinstance(event, ResponseTextDeltaEvent)
    assert event.delta is None and event.item_id == 42 and event.output_index == 0


def test_deeply_nested_drift_in_a_stream_event() -> None:
    """response.completed carrying a Response with unknown items keeps the whole tree readable."""
    output = [
        {
            "type": "message",
            "id": "m",
            "role": "assistant",
            "content": [{"type": "output_text", "text": "ok", "annotations": [{"type": "sticker"}]}],
        },
        {"type": "new_tool_call", "id": "x"},
    ]
    data = enc(
        {"type": "response.completed", "sequence_number": 9, "response": response(output, status="done")}
    )
    event = decode(data, ResponseStreamEvent)
    assert isinstance(event, ResponseCompletedEvent)
    assert event.response.status == "done"
    assert event.response.output_text == "ok"
    assert isinstance(event.response.output[1], Unknown)
    assert event.response.output[0].content[0].annotations[0].type == "sticker"


def test_chat_completion_chunk_drift() -> None:
    """A chunk with a new finish reason, a null delta field and a new field decodes."""
    data = enc(
        {
            "id": "c",
            "object": "chat.completion.chunk",
            "created": 1,
            "model": "m",
            "new": 1,
            "choices": [{"index": 0, "finish_reason": "vibes", "delta": {"content": None, "role": "oracle"}}],
        }
    )
    chunk = decode(data, ChatCompletionChunk)
    assert chunk.choices[0].finish_reason == "vibes"
    assert chunk.choices[0].delta.role == "oracle" and chunk.choices[0].delta.content is None


def test_unknown_round_trips_to_the_same_json() -> None:
    """Encoding a decoded object that holds ``Unknown`` members gives back their raw JSON."""
    output = [{"type": "teleport_call", "id": "tp_1", "destination": "mars"}]
    resp = decode(enc(response(output)), Response)
    again = msgspec.json.decode(resp.to_json())
    assert again["output"] == output
    assert resp.to_dict()["output"] == output
    assert resp.model_dump(exclude_unset=True, by_alias=True) == resp.to_dict()


def test_convert_is_lenient_too() -> None:
    """``convert`` of parsed JSON follows the same rules as ``decode``."""
    event = convert({"type": "response.brand_new"}, ResponseStreamEvent)
    assert isinstance(event, Unknown)
    batch = convert({"id": "b", "created_at": "soon"}, Batch)
    assert batch.id == "b" and batch.created_at == "soon"


@pytest.mark.parametrize("data", [b"{nope", b"", b'{"id": "x"', b"\xff\xfe"])
def test_bytes_that_are_not_json_raise(data: bytes) -> None:
    """Only a body that is not JSON at all raises, as msgspec.DecodeError."""
    with pytest.raises(msgspec.DecodeError):
        decode(data, ChatCompletion)
    with pytest.raises(msgspec.DecodeError):
        decode(data, ResponseStreamEvent)


def test_members_sharing_a_tag_are_told_apart_by_their_fields() -> None:
    """Input and output messages (both ``type: message``) in one list decode into their own structs."""
    data = enc(
        {
            "object": "list",
            "has_more": False,
            "data": [
                {
                    "type": "message",
                    "role": "user",
                    "id": "m1",
                    "status": "completed",
                    "content": [{"type": "input_text", "text": "hi"}],
                },
                {
                    "type": "message",
                    "role": "assistant",
                    "id": "m2",
                    "status": "completed",
                    "content": [{"type": "output_text", "text": "yo", "annotations": []}],
                },
                {"type": "brand_new_item", "id": "m3"},
            ],
        }
    )
    items = decode(data, ResponseItemList).data
    assert isinstance(items[0], InputMessageResource) and items[0].content[0].text == "hi"
    assert isinstance(items[1], OutputMessage) and items[1].content[0].text == "yo"
    assert isinstance(items[2], Unknown) and items[2]["id"] == "m3"


def test_missing_tag_with_no_clear_fit_stays_unknown() -> None:
    """An event without ``type`` whose fields fit several events is not guessed: it is ``Unknown``."""
    data = b'{"sequence_number":1,"delta":"x","item_id":"i","output_index":0,"content_index":0}'
    event = decode(data, ResponseStreamEvent)
    assert isinstance(event, Unknown) and event["delta"] == "x"


def test_missing_tag_on_a_type_with_several_tag_values() -> None:
    """An audit log actor without ``type`` still decodes as the actor type, not its per-tag subclass."""
    log = decode(b'{"id": "l", "actor": {"session": {"ip_address": "1.2.3.4"}}}', AuditLog)
    assert type(log.actor) is AuditLogActor
    assert log.actor.session.ip_address == "1.2.3.4"


@pytest.mark.parametrize("tag", [[1], {"a": 1}, 3.5, True, None])
def test_a_type_field_that_is_not_a_string(tag: Any) -> None:
    """A ``type`` that is a list, object, number or null never raises; the event stays reachable."""
    event = decode(enc({"type": tag, "delta": "x"}), ResponseStreamEvent)
    assert isinstance(event, (Unknown, msgspec.Struct))
    body = chat_completion()
    body["choices"][0]["message"]["tool_calls"][0]["type"] = tag
    cc = decode(enc(body), ChatCompletion)
    assert cc.choices[0].message.content == "Hello"
    assert decode(enc({"id": "x", "output": [{"type": tag, "role": "user"}]}), Response).id == "x"


def _mutations(value: Any, rng: random.Random) -> Any:
    """``value`` with one randomly chosen node replaced by a random JSON value."""
    junk = [None, "", "surprise", 0, -1, 2.5, True, [], [None], {}, {"type": "zzz"}, [{"type": 1}]]
    if isinstance(value, dict) and value and rng.random() < 0.8:
        key = rng.choice(sorted(value))
        return {**value, key: _mutations(value[key], rng)}
    if isinstance(value, list) and value and rng.random() < 0.8:
        i = rng.randrange(len(value))
        return [*value[:i], _mutations(value[i], rng), *value[i + 1 :]]
    return rng.choice(junk)


@pytest.mark.parametrize(
    ("tp", "payload"),
    [
        (ChatCompletion, chat_completion()),
        (Response, response()),
        (ResponseStreamEvent, {"type": "response.completed", "sequence_number": 1, "response": response()}),
    ],
)
def test_random_drift_never_raises(tp: Any, payload: dict[str, Any]) -> None:
    """300 random single-node corruptions of a valid payload all decode without raising."""
    rng = random.Random(1234)
    for _ in range(300):
        mutated = _mutations(payload, rng)
        for _ in range(rng.randrange(3)):
            mutated = _mutations(mutated, rng)
        result = decode(enc(mutated), tp)
        assert result is not None or mutated is None
