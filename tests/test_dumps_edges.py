"""Dumps, copies and validation of result objects on their less-travelled paths, as pydantic users write them.

The same lines run against the official SDK's objects and ours, decoded from one loopback server: ``include``/
``exclude`` reaching into lists, dicts, tagged items and fields no SDK knows; models of your own on each SDK's
``BaseModel``; ``model_copy``/``model_construct``/``model_validate`` edges.
"""

from __future__ import annotations

from typing import Any

import anyio
import msgspec
import openai
import pytest

import openai_async

from ._drip import SDKS, body_handler, make_client
from ._server import routes, serve

pytestmark = pytest.mark.anyio

RESPONSE: dict[str, Any] = {
    "id": "resp_1",
    "object": "response",
    "created_at": 1,
    "model": "gpt-4o",
    "status": "completed",
    "metadata": {"team": "a", "run": "7"},
    "output": [
        {
            "type": "message",
            "id": "msg_1",
            "status": "completed",
            "role": "assistant",
            "content": [
                {"type": "refusal", "refusal": "I can't share that."},
                {"type": "output_text", "text": "Hi", "annotations": [], "new_part_field": 1},
                {"type": "output_text", "text": "!", "annotations": []},
            ],
        },
        {"type": "reasoning", "id": "rs_1", "summary": []},
    ],
    "new_top_field": {"a": [1, {"b": None}]},
}


async def _responses() -> dict[str, Any]:
    """The same Response, as each SDK returns it from ``responses.retrieve``."""
    app = routes(("GET", "/v1/responses/resp_1", body_handler(RESPONSE)))
    out = {}
    with anyio.fail_after(10):
        async with serve(app) as url:
            for sdk in SDKS:
                async with make_client(sdk, url) as client:
                    out[sdk] = await client.responses.retrieve("resp_1")
    return out


async def test_include_picks_list_items_dict_keys_and_values_inside_new_fields() -> None:
    """``include`` narrows to list indexes (``__all__`` or one), dict keys, and items of fields no SDK knows."""
    got = await _responses()
    for spec in (
        {"output": {0: {"type", "content"}}},
        {"output": {"__all__": {"id"}}, "metadata": {"team"}},
        {"output": {1: ...}, "id": True},
        {"new_top_field": {"a": {0}}},
        {"output": {0: {"content": {1: {"text", "new_part_field"}}}}},
        ["id", "model"],
    ):
        assert got["ours"].model_dump(include=spec) == got["official"].model_dump(include=spec), spec
        assert got["ours"].model_dump(include=spec, exclude_unset=True) == got["official"].model_dump(
            include=spec, exclude_unset=True
        ), spec


async def test_exclude_drops_tags_dict_keys_list_items_and_values_inside_new_fields() -> None:
    """``exclude`` drops an item's ``type``, a dict key, one list item, and an item inside a field no SDK knows."""
    got = await _responses()
    for spec in (
        {"output": {"__all__": {"type"}}, "metadata": {"run"}},
        {"output": {0: {"content": {0}}}, "new_top_field": {"a": {1}}},
    ):
        ours, official = (got[sdk].model_dump(exclude=spec) for sdk in ("ours", "official"))
        for key in ("output", "metadata", "new_top_field"):
            assert ours[key] == official[key], (spec, key)


async def test_a_bad_include_is_a_type_error() -> None:
    """``include=5`` (not a set or a dict of names) raises TypeError from both SDKs."""
    got = await _responses()
    for sdk in SDKS:
        with pytest.raises(TypeError, match="must be a set or"):
            got[sdk].model_dump(include=5)


async def test_tagged_items_count_their_type_as_set_and_output_text_skips_refusals() -> None:
    """An output item's and a content part's ``type`` are in ``model_fields_set``; ``output_text`` joins the text
    parts and leaves the refusal out."""
    got = await _responses()
    for sdk in SDKS:
        message = got[sdk].output[0]
        assert message.model_fields_set == {"type", "id", "status", "role", "content"}, sdk
        assert message.content[1].model_fields_set == {"type", "text", "annotations", "new_part_field"}, sdk
        assert got[sdk].output_text == "Hi!", sdk


async def test_validating_the_wrong_tagged_type_raises_a_value_error() -> None:
    """``OutputMessage.model_validate`` of a reasoning item raises ValueError (pydantic's ValidationError is one)."""
    got = await _responses()
    for sdk in SDKS:
        message_cls = type(got[sdk].output[0])
        with pytest.raises(ValueError):
            message_cls.model_validate({"type": "reasoning", "id": "rs_2", "summary": []})


def _step_classes() -> dict[str, Any]:
    """The same model of the user's own, written once on each SDK's ``BaseModel``."""

    class OfficialStep(openai.BaseModel):
        name: str
        tags: list[str] = []
        note: str | None = None

    class Step(openai_async.BaseModel):
        name: str
        tags: list[str] = []
        note: str | None = None

    return {"official": OfficialStep, "ours": Step}


@pytest.mark.parametrize("sdk", SDKS)
def test_a_model_of_your_own_dumps_copies_and_validates_as_pydantic(sdk: str) -> None:
    """A BaseModel subclass with a list default: exclude_defaults drops the empty list; model_copy(update=) sets a
    field and a new key (in model_extra) without touching the original; model_validate_json takes a bytearray."""
    step_cls = _step_classes()[sdk]
    step = step_cls.model_validate({"name": "plan", "tags": [], "extra_key": 2})
    assert step.model_dump(exclude_defaults=True) == {"name": "plan", "extra_key": 2}
    changed = step.model_copy(update={"note": "n", "brand_new": 1})
    assert changed.model_dump() == {"name": "plan", "tags": [], "note": "n", "extra_key": 2, "brand_new": 1}
    assert changed.model_extra == {"extra_key": 2, "brand_new": 1} and changed.brand_new == 1
    assert step.model_dump() == {"name": "plan", "tags": [], "note": None, "extra_key": 2}
    same = step.model_copy()
    assert same == step and same is not step
    loaded = step_cls.model_validate_json(bytearray(b'{"name": "b", "tags": ["x"]}'))
    assert loaded.model_dump(exclude_defaults=True) == {"name": "b", "tags": ["x"]}


async def test_model_construct_takes_wire_names_and_the_tag() -> None:
    """``model_construct`` of a tagged type takes a field by its wire name and the ``type`` key, and to_dict() gives
    back what it was given."""
    body = {
        **RESPONSE,
        "text": {
            "format": {"type": "json_schema", "name": "x", "schema": {"type": "object"}, "strict": True}
        },
    }
    app = routes(("GET", "/v1/responses/resp_1", body_handler(body)))
    with anyio.fail_after(10):
        async with serve(app) as url:
            for sdk in SDKS:
                async with make_client(sdk, url) as client:
                    response = await client.responses.retrieve("resp_1")
                format_cls = type(response.text.format)
                built = format_cls.model_construct(name="y", schema={"type": "object"}, type="json_schema")
                assert built.to_dict() == {
                    "type": "json_schema",
                    "name": "y",
                    "schema": {"type": "object"},
                }, sdk
                assert built.model_dump(by_alias=True, exclude_none=True) == built.to_dict(), sdk


def test_json_dumps_are_utf8_only() -> None:
    """``model_dump_json(ensure_ascii=True)`` raises ValueError saying the JSON text is UTF-8 (it stays readable)."""
    completion = openai_async.types.ChatCompletion.model_validate({"id": "c", "model": "é"})
    assert completion.model_dump_json(include={"model"}) == '{"model":"é"}'
    with pytest.raises(ValueError, match="ensure_ascii=True is not supported"):
        completion.model_dump_json(ensure_ascii=True)


async def test_an_output_item_of_a_new_type_is_an_unknown_dict_that_dumps_as_sent() -> None:
    """An output item whose ``type`` this release does not know is the raw dict (``Unknown``): indexable, with
    ``.type``/``.raw``, and every dump of it (and of the Response) is the JSON as sent."""
    item = {"type": "brand_new_item", "id": "x1", "payload": {"k": [1, None]}}
    app = routes(("GET", "/v1/responses/resp_1", body_handler({**RESPONSE, "output": [item]})))
    with anyio.fail_after(10):
        async with serve(app) as url, make_client("ours", url) as client:
            response = await client.responses.retrieve("resp_1")
    unknown = response.output[0]
    assert isinstance(unknown, openai_async.Unknown)
    assert (
        unknown["payload"] == {"k": [1, None]} and unknown.type == "brand_new_item" and unknown.raw is unknown
    )
    assert unknown.model_dump() == unknown.to_dict() == item
    assert msgspec.json.decode(unknown.model_dump_json()) == item and "\n" not in unknown.model_dump_json()
    assert unknown.to_json().startswith('{\n  "type"') and msgspec.json.decode(unknown.to_json()) == item
    assert repr(unknown).startswith("Unknown({'type': 'brand_new_item'")
    assert response.model_dump()["output"] == [item]
    assert msgspec.json.decode(response.model_dump_json(include={"output"})) == {"output": [item]}


@pytest.mark.parametrize("sdk", ["official", "ours"])
async def test_moderation_categories_read_by_the_official_attribute_names(sdk: str) -> None:
    """``result.categories.violence_graphic`` and ``category_scores.self_harm_intent`` read as the official docs
    write them (the wire says "violence/graphic", "self-harm/intent")."""
    names = ["harassment", "harassment/threatening", "hate", "hate/threatening", "illicit", "illicit/violent",
             "self-harm", "self-harm/intent", "self-harm/instructions", "sexual", "sexual/minors", "violence",
             "violence/graphic"]  # fmt: skip
    result = {
        "flagged": True,
        "categories": {name: name == "violence/graphic" for name in names},
        "category_scores": {name: 0.5 if name == "self-harm/intent" else 0.0 for name in names},
        "category_applied_input_types": {name: ["text"] for name in names},
    }
    body = {"id": "modr-1", "model": "omni-moderation-latest", "results": [result]}
    app = routes(("POST", "/v1/moderations", body_handler(body)))
    with anyio.fail_after(10):
        async with serve(app) as url, make_client(sdk, url) as client:
            moderation = await client.moderations.create(model="omni-moderation-latest", input="...")
    (first,) = moderation.results
    assert first.categories.violence_graphic is True
    assert first.category_scores.self_harm_intent == 0.5
    assert first.categories.to_dict()["violence/graphic"] is True  # dumps keep the wire names


async def test_map_values_of_an_unexpected_type_are_kept_as_sent() -> None:
    """A string map (``metadata``) holding a number and a null, and a JSON-schema object sent as a number, are kept
    as the server sent them: as attributes, in ``to_dict()`` and in a JSON dump."""
    body = {
        **RESPONSE,
        "metadata": {"team": 1, "note": None},
        "text": {"format": {"type": "json_schema", "name": "x", "schema": 5}},
    }
    app = routes(("GET", "/v1/responses/resp_1", body_handler(body)))
    with anyio.fail_after(10):
        async with serve(app) as url, make_client("ours", url) as client:
            response = await client.responses.retrieve("resp_1")
    assert response.metadata == {"team": 1, "note": None}
    assert response.text.format.name == "x" and response.text.format.schema_ == 5
    assert response.to_dict()["metadata"] == body["metadata"] and response.to_dict()["text"] == body["text"]
    assert msgspec.json.decode(
        response.model_dump_json(include={"metadata", "text"}, exclude_unset=True)
    ) == {  # attribute names without by_alias, as pydantic dumps: the official SDK's attribute is schema_ too
        "metadata": {"team": 1, "note": None},
        "text": {"format": {"type": "json_schema", "name": "x", "schema_": 5}},
    }
