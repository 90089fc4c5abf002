"""Events from a newer server stay readable: unknown event types and unknown fields, by attribute and in dumps.

The Realtime connection and ``client.webhooks.unwrap`` decode events into the generated Structs, which know only
the fields of this release's spec. A server (or a webhook sender) newer than the release adds event types and
fields; the official SDK's models keep both (pydantic ``extra="allow"``). Two pieces do the same here:

- ``Loose``: an ``Unknown`` (the raw ``dict``, so ``ev["field"]`` and ``isinstance(ev, Unknown)`` still hold)
  whose keys also read as attributes, nested objects included: ``ev.data.id``. A key named like a ``dict``
  method (``items``, ``keys``, ``get`` ...) is reached by indexing only.
- ``with_extras(event, raw)``: ``event`` plus every field of ``raw`` (the JSON object it was decoded from) its
  Struct does not declare. Such an event is an instance of a cached subclass of its class with a ``__dict__``
  (``isinstance`` and the class name are unchanged); the extra fields read as attributes (objects as
  ``Loose``) and appear in ``to_dict()`` / ``to_json()`` and the repr.

The Realtime connection looks at every level (``deep=True``: a second decode of the frame), except on the
frequent ``*.delta`` events (text and audio streams), where it looks at the top level only (a cheap pass:
``raw_fields``); webhooks are looked at in full. When the shared decoder (``openai_async._core.decode``) keeps
unknown fields itself, ``with_extras`` and ``Loose`` can be replaced by it: the callers are ``parse_event`` in
the Realtime connection and ``unwrap`` in the webhooks.
"""

from __future__ import annotations

import copy
import types
from functools import cache
from typing import Any

import msgspec

from .._core.model import Unknown

__all__ = ["Loose", "loosen", "raw_fields", "with_extras"]

_encoder = msgspec.json.Encoder()
_raw_object = msgspec.json.Decoder(dict[str, msgspec.Raw])


class Loose(Unknown):
    """An object this release cannot place, readable by key (``ev["data"]``) and by attribute (``ev.data.id``)."""

    __slots__ = ()

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(f"{type(self).__name__} object has no field {name!r}") from None

    def __dir__(self) -> list[str]:
        return sorted({*super().__dir__(), *(k for k in self if isinstance(k, str) and k.isidentifier())})

    def __repr__(self) -> str:
        return f"Loose({dict.__repr__(self)})"


def loosen(value: Any) -> Any:
    """``value`` (decoded JSON) with every object in it turned into a ``Loose``."""
    if isinstance(value, dict):
        return Loose({k: loosen(v) for k, v in value.items()})
    if isinstance(value, list):
        return [loosen(v) for v in value]
    return value


def raw_fields(data: bytes | str) -> dict[str, msgspec.Raw] | None:
    """The top-level values of a JSON object, undecoded (None when ``data`` is not a JSON object)."""
    try:
        return _raw_object.decode(data)
    except msgspec.DecodeError:
        return None


def with_extras(event: Any, raw: dict[str, Any], *, deep: bool = False) -> Any:
    """``event`` plus the fields of ``raw`` (the JSON object it was decoded from) its Struct does not declare.

    ``raw``'s values are ``msgspec.Raw`` (from ``raw_fields``: the top level only, cheap) or, with ``deep``,
    decoded JSON (the whole payload decoded: nested objects and lists of objects are looked at too). Returns
    ``event`` itself when nothing is undeclared.
    """
    if isinstance(event, Unknown):
        return event if isinstance(event, Loose) else loosen(event)
    if not isinstance(event, msgspec.Struct):
        return event
    cls = type(event)
    known = _known_names(cls)
    nested = deep and _nested_extras(event, raw)
    if not nested and raw.keys() <= known:
        return event
    open_cls = _open_class(cls)
    kept = open_cls(**{name: getattr(event, name) for name in cls.__struct_fields__})
    kept.__dict__.update((name, loosen(_value(raw[name]))) for name in raw.keys() - known)
    return kept


def _value(value: Any) -> Any:
    return msgspec.json.decode(value) if isinstance(value, msgspec.Raw) else value


def _nested_extras(event: msgspec.Struct, raw: dict[str, Any]) -> bool:
    """Replace, in place, each nested Struct of ``event`` that has undeclared fields in ``raw`` by its kept form.

    Returns whether one was replaced (``event`` must then dump its fields through ``_dump``).
    """
    changed = False
    for name, wire in zip(event.__struct_fields__, event.__struct_encode_fields__, strict=True):
        value = getattr(event, name)
        sub = raw.get(wire)
        if isinstance(value, (msgspec.Struct, Unknown)) and isinstance(sub, dict):
            kept = with_extras(value, sub, deep=True)
            if kept is not value:
                setattr(event, name, kept)
                changed = True
        elif isinstance(value, list) and isinstance(sub, list) and len(value) == len(sub):
            for index, (item, item_raw) in enumerate(zip(value, sub, strict=True)):
                if isinstance(item, (msgspec.Struct, Unknown)) and isinstance(item_raw, dict):
                    kept = with_extras(item, item_raw, deep=True)
                    if kept is not item:
                        value[index] = kept
                        changed = True
    return changed


@cache
def _known_names(cls: type[msgspec.Struct]) -> frozenset[str]:
    names = set(cls.__struct_encode_fields__)
    tag_field = cls.__struct_config__.tag_field
    if tag_field is not None:
        names.add(tag_field)
    return frozenset(names)


def _to_dict(self: Any) -> dict[str, Any]:
    """Return the JSON-ready ``dict`` of the fields that are set, the ones this release does not declare included."""
    out: dict[str, Any] = msgspec.to_builtins(self)
    for name, wire in zip(self.__struct_fields__, self.__struct_encode_fields__, strict=True):
        if wire in out:
            value = getattr(self, name)
            if _has_open(value):
                out[wire] = _dump(value)
    out.update(msgspec.to_builtins(self.__dict__))
    return out


def _has_open(value: Any) -> bool:
    if isinstance(value, list):
        return any(_has_open(v) for v in value)
    return type(value) in _OPEN_CLASSES


def _dump(value: Any) -> Any:
    if isinstance(value, list):
        return [_dump(v) for v in value]
    if type(value) in _OPEN_CLASSES:
        return _to_dict(value)
    return msgspec.to_builtins(value)


def _to_json(self: Any) -> str:
    """Return the JSON text of the fields that are set, the ones this release does not declare included."""
    return _encoder.encode(_to_dict(self)).decode()


def _repr(self: Any) -> str:
    base: str = type(self).__mro__[1].__repr__(self)  # type: ignore[call-arg]
    shown = ", ".join(f"{k}={v!r}" for k, v in self.__dict__.items())
    return f"{base[:-1]}, {shown})" if not base.endswith("()") else f"{base[:-1]}{shown})"


def _fields(self: Any) -> dict[str, Any]:
    return {name: getattr(self, name) for name in self.__struct_fields__}


def _copy(self: Any) -> Any:
    kept = type(self)(**_fields(self))
    kept.__dict__.update(self.__dict__)
    return kept


def _deepcopy(self: Any, memo: dict[int, Any]) -> Any:
    kept = type(self)(**copy.deepcopy(_fields(self), memo))
    kept.__dict__.update(copy.deepcopy(self.__dict__, memo))
    return kept


def _reduce(self: Any) -> tuple[Any, ...]:
    return _rebuild, (type(self).__mro__[1], _fields(self), dict(self.__dict__))


def _rebuild(cls: type[msgspec.Struct], fields: dict[str, Any], extra: dict[str, Any]) -> Any:
    """Unpickle an event with undeclared fields (pickle finds the generated class, then its open subclass)."""
    kept = _open_class(cls)(**fields)
    kept.__dict__.update(extra)
    return kept


@cache
def _open_class(cls: type[msgspec.Struct]) -> type[msgspec.Struct]:
    """A subclass of ``cls`` whose instances also carry undeclared fields (same name, tag and fields)."""

    def body(ns: dict[str, Any]) -> None:
        ns.update(
            to_dict=_to_dict,
            to_json=_to_json,
            model_dump=_to_dict,
            model_dump_json=_to_json,
            __repr__=_repr,
            __copy__=_copy,
            __deepcopy__=_deepcopy,
            __reduce__=_reduce,
            __module__=cls.__module__,
            __qualname__=cls.__qualname__,
            __doc__=cls.__doc__,
        )

    options: dict[str, Any] = {"dict": True}
    if cls.__struct_config__.tag is not None:
        options["tag"] = cls.__struct_config__.tag
    open_cls = types.new_class(cls.__name__, (cls,), options, body)
    _OPEN_CLASSES.add(open_cls)
    return open_cls


_OPEN_CLASSES: set[type] = set()
