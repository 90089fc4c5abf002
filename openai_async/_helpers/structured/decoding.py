"""Model output decoded into the requested type (msgspec, or pydantic for pydantic models).

Because the strict schema made optional fields nullable, a ``null`` sent for a field that does not accept ``None``
is dropped first so the field's default applies.
"""

from __future__ import annotations

from typing import Any, TypeVar

import msgspec
from msgspec import inspect as mi

from .. import pydantic_support

__all__ = ["json_decode", "parse_json"]

T = TypeVar("T")
json_decode = msgspec.json.decode


class _Plan:
    """Strictly private. How to decode JSON into one type: directly, or after dropping nulls the schema allowed."""

    __slots__ = ("decoder", "info", "strip")

    def __init__(self, type_: Any) -> None:
        self.decoder = msgspec.json.Decoder(type_)
        self.info = mi.type_info(type_)
        self.strip = _has_null_trap(self.info, set())


_plans: dict[Any, _Plan] = {}


def _fields(info: Any) -> tuple[Any, ...] | None:
    if isinstance(info, (mi.StructType, mi.DataclassType, mi.TypedDictType)):
        return info.fields
    return None


def _accepts_none(info: Any) -> bool:
    while isinstance(info, mi.Metadata):
        info = info.type
    if isinstance(info, (mi.NoneType, mi.AnyType)):
        return True
    return isinstance(info, mi.UnionType) and any(
        isinstance(t, (mi.NoneType, mi.AnyType)) for t in info.types
    )


def _children(info: Any) -> tuple[Any, ...]:
    if isinstance(info, mi.Metadata):
        return (info.type,)
    if isinstance(info, (mi.ListType, mi.SetType, mi.FrozenSetType, mi.VarTupleType)):
        return (info.item_type,)
    if isinstance(info, mi.TupleType):
        return info.item_types
    if isinstance(info, mi.DictType):
        return (info.value_type,)
    if isinstance(info, mi.UnionType):
        return info.types
    fields = _fields(info)
    return tuple(f.type for f in fields) if fields else ()


def _has_null_trap(info: Any, seen: set[int]) -> bool:
    """True when some optional field of the type graph does not accept ``None`` (the schema made it nullable)."""
    if id(info) in seen:
        return False
    seen.add(id(info))
    fields = _fields(info)
    if fields and any(not f.required and not _accepts_none(f.type) for f in fields):
        return True
    return any(_has_null_trap(child, seen) for child in _children(info))


def _strip(obj: Any, info: Any) -> Any:
    while isinstance(info, mi.Metadata):
        info = info.type
    if isinstance(obj, list):
        children = _children(info) if not isinstance(info, mi.UnionType) else ()
        if isinstance(info, mi.TupleType):
            return [_strip(v, t) for v, t in zip(obj, info.item_types, strict=False)] + obj[
                len(info.item_types) :
            ]
        if len(children) == 1:
            item = children[0]
            return [_strip(v, item) for v in obj]
        return obj
    if not isinstance(obj, dict):
        return obj
    if isinstance(info, mi.UnionType):
        info = _pick_member(obj, info)
        if info is None:
            return obj
    if isinstance(info, mi.DictType):
        return {k: _strip(v, info.value_type) for k, v in obj.items()}
    fields = _fields(info)
    if not fields:
        return obj
    by_name = {f.encode_name: f for f in fields}
    out = {}
    for key, value in obj.items():
        f = by_name.get(key)
        if f is None:
            out[key] = value
        elif value is None and not f.required and not _accepts_none(f.type):
            continue  # the schema allowed null only because the field is optional: use its default
        else:
            out[key] = _strip(value, f.type)
    return out


def _pick_member(obj: dict[str, Any], info: Any) -> Any:
    members = [t for t in info.types if _fields(t) is not None or isinstance(t, mi.DictType)]
    if len(members) == 1:
        return members[0]
    for t in members:
        if isinstance(t, mi.StructType) and t.tag_field is not None and obj.get(t.tag_field) == t.tag:
            return t
    return None


def parse_json(type_: type[T] | Any, data: str | bytes) -> T:
    """Decode model output ``data`` into ``type_``.

    Raises:
        msgspec.DecodeError: ``data`` is not JSON.
        msgspec.ValidationError: the JSON does not match ``type_``.
        pydantic.ValidationError: for a pydantic ``type_``, the JSON does not validate.
    """
    plan = _plans.get(type_)
    if plan is None:
        if pydantic_support.is_pydantic(type_):
            return pydantic_support.validate_json(type_, data)  # type: ignore[no-any-return]
        plan = _plans[type_] = _Plan(type_)
    if not plan.strip:
        return plan.decoder.decode(data)  # type: ignore[no-any-return]
    return msgspec.convert(_strip(json_decode(data), plan.info), type_)
