"""Assistants stream events as typed objects: ``event.event`` is the SSE event name, ``event.data`` its object
(``thread.run.created`` -> a ``RunObject``, ``thread.message.delta`` -> a ``MessageDeltaObject`` ...)."""

from __future__ import annotations

import re
from functools import cache
from typing import Any

import msgspec

from ..._core.decode import convert
from ..._core.model import BaseModel
from ...types import assistants as _types

__all__ = ["UnknownAssistantEvent", "to_event"]

# The generated event classes are named after their event: "thread.run.step.delta" is
# RunStepStreamEventThreadRunStepDelta; the family prefix comes from the longest matching name prefix.
_FAMILIES = (
    ("thread.run.step.", "RunStepStreamEvent"),
    ("thread.run.", "RunStreamEvent"),
    ("thread.message.", "MessageStreamEvent"),
)


class UnknownAssistantEvent(BaseModel):
    """An Assistants event this version does not know: its name and its data as sent."""

    event: str
    data: Any = None


@cache
def _event_class(name: str) -> tuple[type[Any], Any] | None:
    if name == "thread.created":
        cls: Any = _types.ThreadStreamEvent
    elif name == "error":
        cls = _types.ErrorEvent
    else:
        prefix = next((p for n, p in _FAMILIES if name.startswith(n)), None)
        if prefix is None:
            return None
        cls = getattr(_types, prefix + "".join(w.capitalize() for w in re.split(r"[._]", name)), None)
        if cls is None:
            return None
    data_type = next(f.type for f in msgspec.structs.fields(cls) if f.name == "data")
    return cls, data_type


def to_event(item: Any) -> Any:
    """The typed event for one item of a run's ``AsyncStream`` (a ``{"event", "data"}`` dict, or an event object)."""
    if isinstance(item, dict):
        name, data = item.get("event"), item.get("data")
    else:
        name, data = getattr(item, "event", None), getattr(item, "data", None)
    name = str(name)
    known = _event_class(name)
    if known is None:
        return UnknownAssistantEvent(event=name, data=data)
    cls, data_type = known
    if isinstance(data, msgspec.Struct):
        if type(item) is cls:
            return item
        data = msgspec.to_builtins(data)
    return cls(event=name, data=convert(data, data_type))
