"""Result objects as the official SDK's README uses them, run against both SDKs on one loopback server.

The body has wire nulls, fields left out and fields neither SDK knows, at several depths. What a user observes
(``model_dump()``, ``to_dict()``, ``to_json()``, ``model_extra``, ``model_fields_set`` ...) must be the same.
"""

from __future__ import annotations

import copy
import pickle
from collections.abc import Mapping
from typing import Any

import msgspec
import pytest

from openai_async._core.decode import decode
from openai_async.types import ChatCompletion, ChatCompletionChunk, Response

from ._drip import MODES, SDKS, body_handler, make_client, sse_handler
from ._server import routes, serve

pytestmark = pytest.mark.anyio

BODY: dict[str, Any] = {
    "id": "chatcmpl-1",
    "object": "chat.completion",
    "created": 1763900000,
    "model": "gpt-4o-mini",
    "choices": [
        {
            "index": 0,
            "logprobs": None,
            "finish_reason": "stop",
            "new_choice_field": [1, None],
            "message": {
                "role": "assistant",
                "content": "Hello!",
                "refusal": None,
                "annotations": [],
                "audio": None,
                "reasoning_content": "The user greets me.",
            },
        }
    ],
    "usage": {
        "prompt_tokens": 9,
        "completion_tokens": 3,
        "total_tokens": 12,
        "prompt_tokens_details": {"cached_tokens": 0, "new_detail": None},
    },
    "service_tier": "default",
    "system_fingerprint": None,
    "new_top_field": {"nested": None, "list": [{"x": 1}]},
    "new_null_field": None,
}
# Left out of BODY on purpose: metadata, moderation, completion_tokens_details, message.tool_calls ...

CHUNKS: list[dict[str, Any]] = [
    {"id": "c1", "object": "chat.completion.chunk", "created": 1, "model": "m", "system_fingerprint": "fp",
     "choices": [{"index": 0, "delta": {"role": "assistant", "content": "", "refusal": None},
                  "logprobs": None, "finish_reason": None}]},
    {"id": "c1", "object": "chat.completion.chunk", "created": 1, "model": "m", "system_fingerprint": "fp",
     "new_chunk_field": "x",
     "choices": [{"index": 0, "delta": {"content": "Hi", "reasoning_content": "hmm"},
                  "logprobs": None, "finish_reason": None}]},
    {"id": "c1", "object": "chat.completion.chunk", "created": 1, "model": "m", "system_fingerprint": "fp",
     "choices": [{"index": 0, "delta": {}, "logprobs": None, "finish_reason": "stop", "new_choice_field": 1}]},
]  # fmt: skip


async def _completions(mode: str = "whole") -> dict[str, Any]:
    """The same ChatCompletion, as each SDK returns it from ``chat.completions.create``."""
    app = routes(("POST", "/v1/chat/completions", body_handler(BODY, mode=mode, chunk=64)))  # type: ignore[arg-type]
    out = {}
    async with serve(app) as url:
        for sdk in SDKS:
            async with make_client(sdk, url) as client:
                out[sdk] = await client.chat.completions.create(
                    model="gpt-4o-mini", messages=[{"role": "user", "content": "Hello"}]
                )
    return out


@pytest.mark.parametrize("sdk", SDKS)
async def test_model_dump_keeps_wire_nulls_and_new_fields(sdk: str) -> None:
    """``model_dump()`` has every field (wire nulls and absent ones as None) and the fields no SDK knows."""
    completion = (await _completions())[sdk]
    dumped = completion.model_dump()
    assert dumped["choices"][0]["logprobs"] is None
    assert dumped["choices"][0]["message"]["refusal"] is None
    assert dumped["choices"][0]["message"]["tool_calls"] is None  # not sent: None in a full dump
    assert dumped["choices"][0]["message"]["reasoning_content"] == "The user greets me."
    assert dumped["choices"][0]["new_choice_field"] == [1, None]
    assert dumped["new_top_field"] == {"nested": None, "list": [{"x": 1}]}
    assert dumped["usage"]["prompt_tokens_details"]["new_detail"] is None


@pytest.mark.parametrize("sdk", SDKS)
async def test_to_dict_and_to_json_give_back_the_wire_body(sdk: str) -> None:
    """``to_dict()`` is the body as sent (nulls kept, absent fields absent); ``to_json()`` is it, indented by 2."""
    completion = (await _completions())[sdk]
    assert completion.to_dict() == BODY
    text = completion.to_json()
    assert text.startswith('{\n  "') and msgspec.json.decode(text) == BODY
    assert msgspec.json.decode(completion.model_dump_json(indent=2)) == completion.model_dump(mode="json")
    assert "\n" not in completion.model_dump_json()


@pytest.mark.parametrize("sdk", SDKS)
async def test_new_fields_are_attributes_and_in_model_extra(sdk: str) -> None:
    """A field the SDK does not know reads as an attribute and shows in ``model_extra``, at any depth."""
    completion = (await _completions())[sdk]
    message = completion.choices[0].message
    assert message.reasoning_content == "The user greets me."
    assert message.model_extra == {"reasoning_content": "The user greets me."}
    assert completion.choices[0].new_choice_field == [1, None]
    assert completion.new_top_field["list"] == [{"x": 1}]
    assert completion.model_extra == {"new_top_field": BODY["new_top_field"], "new_null_field": None}
    assert completion.usage.model_extra == {}
    with pytest.raises(AttributeError):
        completion.no_such_field  # noqa: B018


@pytest.mark.parametrize("mode", MODES)
async def test_both_sdks_give_the_same_dumps(mode: str) -> None:
    """Every dump, ``model_extra`` and ``model_fields_set`` is the same from both SDKs, however the body arrives."""
    got = await _completions(mode)
    official, ours = got["official"], got["ours"]
    for kwargs in (
        {},
        {"mode": "json"},
        {"exclude_unset": True},
        {"exclude_none": True},
        {"exclude_defaults": True},
        {"by_alias": True, "exclude_unset": True},
        {"include": {"id", "choices"}, "exclude": {"choices": {0: {"message": {"audio"}}}}},
    ):
        assert ours.model_dump(**kwargs) == official.model_dump(**kwargs), kwargs
    assert ours.to_dict() == official.to_dict()
    assert ours.to_dict(exclude_none=True) == official.to_dict(exclude_none=True)
    # The same text, key order included: fields are declared in the official models' order (required first,
    # ``id`` leading, then by name), and unknown fields come after them.
    assert ours.to_json() == official.to_json()
    assert ours.model_dump_json() == official.model_dump_json()
    assert _key_order(ours.model_dump()) == _key_order(official.model_dump())
    for path in (
        (),
        ("choices", 0),
        ("choices", 0, "message"),
        ("usage",),
        ("usage", "prompt_tokens_details"),
    ):
        a, b = _at(ours, path), _at(official, path)
        assert a.model_extra == b.model_extra, path
        # Unknown fields: in pydantic's model_fields_set (and ours); the official SDK adds them only on the
        # sub-objects it validates rather than constructs, so compare the declared fields.
        assert a.model_fields_set - a.model_extra.keys() == b.model_fields_set - b.model_extra.keys(), path
    validated = {sdk: type(got[sdk]).model_validate(BODY) for sdk in SDKS}
    for path in ((), ("choices", 0), ("choices", 0, "message"), ("usage", "prompt_tokens_details")):
        a, b = _at(validated["ours"], path), _at(validated["official"], path)
        assert a.model_fields_set == b.model_fields_set, path


def _key_order(value: Any) -> Any:
    """The keys of every dict in ``value``, in order, as nested lists."""
    if isinstance(value, dict):
        return [(k, _key_order(v)) for k, v in value.items()]
    if isinstance(value, list):
        return [_key_order(v) for v in value]
    return None


def _at(obj: Any, path: tuple[Any, ...]) -> Any:
    for step in path:
        obj = obj[step] if isinstance(step, int) else getattr(obj, step)
    return obj


@pytest.mark.parametrize("sdk", SDKS)
async def test_model_validate_and_model_construct(sdk: str) -> None:
    """``model_validate(d)``/``model_validate_json(s)`` rebuild the object; ``model_construct`` sets what it is given."""
    completion = (await _completions())[sdk]
    cls = type(completion)
    again = cls.model_validate(BODY)
    assert again == completion and again.to_dict() == BODY
    assert again.choices[0].message.reasoning_content == "The user greets me."
    from_json = cls.model_validate_json(completion.to_json())
    assert from_json.to_dict() == BODY and from_json.choices[0].message.model_fields_set == {
        "role", "content", "refusal", "annotations", "audio", "reasoning_content"
    }  # fmt: skip
    built = cls.model_construct(id="chatcmpl-2", usage=None, brand_new=1)
    assert built.id == "chatcmpl-2" and built.brand_new == 1
    assert built.model_fields_set == {"id", "usage"}
    assert built.to_dict() == {"id": "chatcmpl-2", "usage": None, "brand_new": 1}


@pytest.mark.parametrize("sdk", SDKS)
async def test_equality_pickle_and_deepcopy_keep_everything(sdk: str) -> None:
    """Pickled, deep-copied and copied objects equal the original and dump the same, new fields included."""
    completion = (await _completions())[sdk]
    for twin in (pickle.loads(pickle.dumps(completion)), copy.deepcopy(completion), copy.copy(completion)):
        assert twin == completion
        assert twin.to_dict() == BODY
        assert twin.choices[0].message.reasoning_content == "The user greets me."
    changed = completion.model_copy(update={"model": "other"})
    assert changed.model == "other" and completion.model == "gpt-4o-mini"
    assert changed != completion


@pytest.mark.parametrize("sdk", SDKS)
@pytest.mark.parametrize("mode", MODES)
async def test_stream_chunks_keep_new_fields(sdk: str, mode: str) -> None:
    """Chunks of ``create(stream=True)`` keep fields no SDK knows (chunk and delta level) and dump alike."""
    app = routes(("POST", "/v1/chat/completions", sse_handler(CHUNKS, mode=mode, pause=0.002)))  # type: ignore[arg-type]
    async with serve(app) as url, make_client(sdk, url) as client:
        stream = await client.chat.completions.create(model="m", messages=[], stream=True)
        chunks = [chunk async for chunk in stream]
    assert len(chunks) == 3
    assert chunks[1].new_chunk_field == "x" and chunks[1].choices[0].delta.reasoning_content == "hmm"
    assert chunks[1].model_extra == {"new_chunk_field": "x"}
    assert chunks[2].choices[0].model_extra == {"new_choice_field": 1}
    assert chunks[1].to_dict() == CHUNKS[1] and chunks[2].to_dict() == CHUNKS[2]
    assert [c.model_dump()["choices"][0]["logprobs"] for c in chunks] == [None] * 3
    dumps = [c.model_dump() for c in chunks]
    assert dumps[1]["choices"][0]["delta"]["reasoning_content"] == "hmm"
    assert (
        dumps[0]["choices"][0]["delta"]["refusal"] is None and dumps[0]["choices"][0]["finish_reason"] is None
    )


async def test_stream_chunks_dump_the_same_from_both_sdks() -> None:
    """``model_dump()`` of every streamed chunk is the same from both SDKs."""
    app = routes(("POST", "/v1/chat/completions", sse_handler(CHUNKS, mode="whole")))  # type: ignore[arg-type]
    dumps: dict[str, list[Any]] = {}
    async with serve(app) as url:
        for sdk in SDKS:
            async with make_client(sdk, url) as client:
                stream = await client.chat.completions.create(model="m", messages=[], stream=True)
                dumps[sdk] = [chunk.model_dump() async for chunk in stream]
    for dump in dumps["official"]:
        dump["choices"][0]["delta"].pop(
            "audio"
        )  # the official model declares delta.audio; the pinned spec does not
    assert dumps["ours"] == dumps["official"]


def test_nulls_and_absent_fields_are_told_apart() -> None:
    """A field sent as null is set (in ``to_dict``), one left out is not, on the fast and the lenient path."""
    fast = decode(b'{"id": "c", "system_fingerprint": null}', ChatCompletion)
    assert fast.to_dict() == {"id": "c", "system_fingerprint": None}
    assert fast.model_fields_set == {"id", "system_fingerprint"}
    slow = decode(
        b'{"id": "c", "system_fingerprint": null, "choices": [{"index": 0, "new": 1}]}', ChatCompletion
    )
    assert slow.to_dict() == {"id": "c", "system_fingerprint": None, "choices": [{"index": 0, "new": 1}]}
    assert slow.choices[0].model_fields_set == {"index", "new"}


def test_unknown_fields_inside_union_members_are_kept() -> None:
    """A Responses output item with a new field keeps it (attribute, ``model_extra``, dumps)."""
    body = {
        "id": "resp_1", "object": "response", "store": True,
        "output": [{"type": "message", "id": "m", "role": "assistant", "status": "completed", "phase": "final",
                    "content": [{"type": "output_text", "text": "hi", "annotations": [], "new": None}]}],
    }  # fmt: skip
    resp = decode(msgspec.json.encode(body), Response)
    assert resp.store is True and resp.output[0].phase == "final"
    assert resp.output[0].content[0].model_extra == {"new": None}
    assert resp.to_dict() == body
    assert resp.output_text == "hi"


def test_include_and_exclude_take_sets_and_nested_dicts() -> None:
    """``include``/``exclude`` take field names as pydantic does: a set, or a dict down to list indexes."""
    completion = ChatCompletion.model_validate(BODY)
    assert completion.model_dump(include={"id", "model"}) == {"id": "chatcmpl-1", "model": "gpt-4o-mini"}
    trimmed = completion.model_dump(
        exclude={"choices": {"__all__": {"message"}}, "usage": True}, exclude_unset=True
    )
    assert trimmed["choices"] == [{"index": 0, "logprobs": None, "finish_reason": "stop",
                                   "new_choice_field": [1, None]}]  # fmt: skip
    assert "usage" not in trimmed
    with pytest.raises(ValueError, match="mode"):
        completion.model_dump(mode="yaml")


def test_model_validate_refuses_what_is_not_a_mapping() -> None:
    """``model_validate`` takes a dict (or an instance, returned as is); anything else is a clear ValueError."""
    completion = ChatCompletion.model_validate(BODY)
    assert ChatCompletion.model_validate(completion) is completion
    with pytest.raises(ValueError, match=r"model_validate\(obj\): obj must be a dict"):
        ChatCompletion.model_validate([BODY])
    with pytest.raises(ValueError):  # not JSON
        ChatCompletion.model_validate_json(b"{nope")
    assert isinstance(ChatCompletionChunk.model_validate(CHUNKS[1]), Mapping) is False


RESPONSE = {
    "id": "resp_1",
    "object": "response",
    "created_at": 1,
    "model": "m",
    "store": True,
    "new_resp_flag": True,
    "new_resp_field": None,
}
EVENTS: list[dict[str, Any]] = [
    {"type": "response.created", "sequence_number": 0, "response": {**RESPONSE, "status": "in_progress", "output": []}},
    {"type": "response.output_text.delta", "sequence_number": 1, "item_id": "m1", "output_index": 0,
     "content_index": 0, "delta": "Hi", "logprobs": [], "new_event_field": "x"},
    {"type": "response.completed", "sequence_number": 2, "response": {
        **RESPONSE, "status": "completed",
        "output": [{"type": "message", "id": "m1", "status": "completed", "role": "assistant",
                    "content": [{"type": "output_text", "text": "Hi", "annotations": [], "new_part_field": 1}]}]}},
]  # fmt: skip


@pytest.mark.parametrize("sdk", SDKS)
async def test_responses_stream_events_keep_new_fields(sdk: str) -> None:
    """Events of ``responses.create(stream=True)`` keep new fields: on the event, its response, its output parts."""
    events_sent = [(e["type"], e) for e in EVENTS]
    app = routes(("POST", "/v1/responses", sse_handler(events_sent, mode="events", pause=0.002, done=False)))  # type: ignore[arg-type]
    async with serve(app) as url, make_client(sdk, url) as client:
        stream = await client.responses.create(model="m", input="Hello", stream=True)
        events = [event async for event in stream]
    assert [e.type for e in events] == [e["type"] for e in EVENTS]
    assert [e.to_dict() for e in events] == EVENTS
    # A field of ours (the spec's schema lacks it), an extra of theirs.
    assert events[0].response.store is True
    assert events[0].response.new_resp_flag is True
    extra = events[0].response.model_extra
    assert extra is not None
    assert {k: v for k, v in extra.items() if k != "store"} == {"new_resp_flag": True, "new_resp_field": None}
    assert events[1].new_event_field == "x"
    assert events[2].response.output[0].content[0].new_part_field == 1
    assert events[2].response.output_text == "Hi"


@pytest.mark.parametrize("sdk", SDKS)
async def test_equality_counts_new_fields(sdk: str) -> None:
    """Two objects that differ only in a field no SDK knows are not equal (pydantic compares ``model_extra``)."""
    cls = type((await _completions())[sdk])
    changed = {**BODY, "new_top_field": "other"}
    assert cls.model_validate(BODY) == cls.model_validate(BODY)
    assert cls.model_validate(BODY) != cls.model_validate(changed)


@pytest.mark.parametrize("sdk", SDKS)
async def test_list_items_keep_new_fields(sdk: str) -> None:
    """Items of a list page keep fields no SDK knows, with their nulls, as the page hands them out."""
    item = {"id": "file-1", "object": "file", "bytes": 3, "created_at": 1, "filename": "a.jsonl",
            "purpose": "batch", "status": "processed", "expires_at": None, "new_file_field": {"k": None}}  # fmt: skip
    body = {"object": "list", "data": [item], "has_more": False, "first_id": "file-1", "last_id": "file-1"}
    app = routes(("GET", "/v1/files", body_handler(body)))  # type: ignore[arg-type]
    async with serve(app) as url, make_client(sdk, url) as client:
        files = [f async for f in client.files.list()]
    assert files[0].new_file_field == {"k": None}
    assert files[0].to_dict() == item


def test_a_sub_object_asked_first_knows_its_new_fields_and_learns_its_nulls_from_the_whole() -> None:
    """The documented difference (docs/migrating.md): a sub-object's own ``to_dict()`` asked before the whole
    object's lacks the wire nulls; unknown fields and values are there either way; the whole object's first
    dump teaches every sub-object its nulls."""
    body = (
        b'{"id": "c", "object": "chat.completion", "created": 1, "model": "m", "choices": [{"index": 0,'
        b' "finish_reason": "stop", "logprobs": null, "message": {"role": "assistant", "content": "hi",'
        b' "refusal": null}}]}'
    )
    first = decode(body, ChatCompletion)
    assert first.choices[0].message.to_dict() == {"role": "assistant", "content": "hi"}
    assert first.to_dict()["choices"][0]["message"] == {"role": "assistant", "content": "hi", "refusal": None}
    assert first.choices[0].message.to_dict() == {"role": "assistant", "content": "hi", "refusal": None}
    drifted = decode(body.replace(b'"refusal": null', b'"refusal": null, "mood": "calm"'), ChatCompletion)
    message = drifted.choices[0].message
    assert message.mood == "calm" and message.model_extra == {"mood": "calm"}
    assert message.to_dict() == {"role": "assistant", "content": "hi", "refusal": None, "mood": "calm"}


def test_output_text_is_a_property_not_a_dumped_field() -> None:
    """``response.output_text`` joins the output text, as officially, and no dump carries an ``output_text`` key
    (the spec lists it as an SDK-only convenience property, never sent)."""
    body = {
        "id": "resp_1", "object": "response",
        "output": [{"type": "message", "id": "m", "role": "assistant", "status": "completed",
                    "content": [{"type": "output_text", "text": "Hi", "annotations": []},
                                {"type": "output_text", "text": " there", "annotations": []}]}],
    }  # fmt: skip
    response = decode(msgspec.json.encode(body), Response)
    assert response.output_text == "Hi there"
    assert not {"output_text", "output_text_"} & response.model_dump().keys()
    assert response.to_dict() == body
