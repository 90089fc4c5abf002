"""Events from a newer server: unknown event types and undeclared fields stay readable by attribute and in dumps."""

from __future__ import annotations

import copy
import pickle

import msgspec
import pytest

from openai_async._core.model import Unknown
from openai_async._helpers.drift import Loose, loosen, raw_fields
from openai_async._helpers.realtime.connection import RealtimeConnection
from openai_async.types.realtime import RealtimeServerEventResponseDone, RealtimeServerEventResponseTextDelta

TEXT_DELTA = (
    b'{"type":"response.output_text.delta","event_id":"e1","response_id":"r","item_id":"i",'
    b'"output_index":0,"content_index":0,"delta":"Hi","obfuscation":"abc","hints":[{"k":1}]}'
)


def test_an_unknown_event_type_reads_by_attribute_and_by_key() -> None:
    """A type this release does not know is a Loose: ``ev.future.level``, ``ev["future"]["level"]``, to_dict()."""
    event = RealtimeConnection.parse_event(
        b'{"type":"response.future","future":{"level":2,"tags":[{"a":1}]}}'
    )
    assert isinstance(event, Loose) and isinstance(event, Unknown)
    assert event.type == "response.future"
    assert event.future.level == 2 and event["future"]["level"] == 2
    assert event.future.tags[0].a == 1
    assert event.to_dict() == {"type": "response.future", "future": {"level": 2, "tags": [{"a": 1}]}}
    assert msgspec.json.decode(event.to_json()) == event.to_dict()
    with pytest.raises(AttributeError, match="'missing'"):
        _ = event.missing
    assert not hasattr(event, "missing")


def test_a_known_event_keeps_undeclared_fields() -> None:
    """A new field on a known event is an attribute, in to_dict()/to_json() and the repr; the class is unchanged."""
    event = RealtimeConnection.parse_event(TEXT_DELTA)
    assert isinstance(event, RealtimeServerEventResponseTextDelta)
    assert type(event).__name__ == "RealtimeServerEventResponseTextDelta"
    assert event.delta == "Hi" and event.obfuscation == "abc" and event.hints[0].k == 1
    assert event.to_dict() == msgspec.json.decode(TEXT_DELTA)
    assert msgspec.json.decode(event.to_json()) == msgspec.json.decode(TEXT_DELTA)
    assert event.model_dump() == event.to_dict()
    assert "obfuscation='abc'" in repr(event)


def test_an_event_without_new_fields_is_returned_as_decoded() -> None:
    """No undeclared field: the plain generated Struct, not a subclass."""
    event = RealtimeConnection.parse_event(b'{"type":"response.done","response":{"status":"completed"}}')
    assert type(event) is RealtimeServerEventResponseDone


def test_nested_fields_are_kept_except_on_delta_events() -> None:
    """Undeclared nested fields are kept and dumped; on ``*.delta`` events only the top level is looked at."""
    data = {"type": "response.done", "response": {"status": "completed", "later": {"x": [1]}}}
    event = RealtimeConnection.parse_event(msgspec.json.encode(data))
    assert event.response.later.x == [1] and event.response.status == "completed"
    assert event.to_dict() == data
    delta = RealtimeConnection.parse_event(
        TEXT_DELTA.replace(b'"hints"', b'"nested":{"deep":{"n":1}},"hints"')
    )
    assert delta.nested.deep.n == 1  # a new top-level field, whatever it holds


def test_frames_that_are_not_objects_and_plain_values() -> None:
    """A frame that is not a JSON object is a Loose with type None; loosen() leaves scalars alone."""
    assert RealtimeConnection.parse_event(b"[1, 2]") == {"type": None, "data": [1, 2]}
    assert RealtimeConnection.parse_event(b"not json").data == b"not json"
    assert raw_fields(b"[1]") is None
    assert loosen([{"a": {"b": 1}}, 2])[0].a.b == 1 and loosen("s") == "s"


def test_keys_named_like_dict_methods_are_reached_by_index() -> None:
    """``items`` is the dict method on a Loose; the field of that name is ``ev["items"]`` (documented)."""
    event = loosen({"type": "x", "items": [1]})
    assert event["items"] == [1] and callable(event.items)
    assert "items" in dir(event) and "type" in dir(event)


def test_kept_fields_survive_copy_deepcopy_and_pickle() -> None:
    """copy, deepcopy and pickle keep the undeclared fields and the class."""
    event = RealtimeConnection.parse_event(TEXT_DELTA)
    for clone in (copy.copy(event), copy.deepcopy(event), pickle.loads(pickle.dumps(event))):
        assert (
            type(clone) is type(event) and clone.to_dict() == event.to_dict() and clone.obfuscation == "abc"
        )
    assert copy.deepcopy(event).hints[0] is not event.hints[0]
    loose = RealtimeConnection.parse_event(b'{"type":"later","a":{"b":1}}')
    assert pickle.loads(pickle.dumps(loose)).a.b == 1
