"""What the wire said about a result object: which fields it set (nulls included), the fields it added, and dumps.

A ``BaseModel`` keeps its fields in msgspec slots, and what the wire said beyond them in two more places:

- the ``_src_`` slot: the JSON it was decoded from (bytes, or the parsed ``dict``), kept by ``decode.decode`` on
  the fast path and read on first need (``model_fields_set``, ``model_extra``, a dump, an unknown attribute) by
  ``materialize``, which then sets the keys below on that object and every object under it, and drops it;
- its ``__dict__``, created only then, under three private keys:
  - ``_nulls_``: the fields the wire set to ``null`` (a ``None`` the server sent, not a default);
  - ``_extra_``: the fields this release does not know, as raw JSON values;
  - ``_constructed_``: set by ``model_construct``, whose unknown keys are not "set" (as in the official SDK).

``fields_set`` is then: fields whose value is not the default, plus ``_nulls_``, the tag field of a tagged type
and the unknown fields. The walks here are for cold paths only (dumps, validation); decoding never runs them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import msgspec

if TYPE_CHECKING:
    from .model import BaseModel

__all__ = ["Table", "dump", "mark", "materialize", "table"]

_any_decoder = msgspec.json.Decoder()
_NODEFAULT = msgspec.NODEFAULT


class Table:
    """Per-class field facts, computed once. Strictly private."""

    __slots__ = ("by_name", "by_wire", "fields", "model", "tag", "tag_field")

    def __init__(self, cls: type[msgspec.Struct]) -> None:
        # (python name, wire name, default, default_factory) in declaration order.
        self.fields = tuple(
            (f.name, f.encode_name, f.default, f.default_factory) for f in msgspec.structs.fields(cls)
        )
        self.by_wire = {wire: name for name, wire, _, _ in self.fields}
        self.by_name = {name: wire for name, wire, _, _ in self.fields}
        config = cls.__struct_config__
        self.tag_field = (
            config.tag_field if config.tag is not None and config.tag_field not in self.by_name else None
        )
        self.tag = config.tag
        # A BaseModel (room for the private keys); other Structs dump as msgspec does.
        self.model = config.dict


_tables: dict[type, Table] = {}


def table(cls: type[msgspec.Struct]) -> Table:
    """The field table of ``cls``."""
    t = _tables.get(cls)
    if t is None:
        t = _tables[cls] = Table(cls)
    return t


def is_default(value: Any, default: Any, factory: Any) -> bool:
    """Whether ``value`` is the field's default, as msgspec's ``omit_defaults`` decides it."""
    if default is not _NODEFAULT:
        return value is default or (type(value) is type(default) and value == default)
    if factory is not _NODEFAULT:
        return type(value) in (list, dict, set) and not value and type(value) is factory
    return False


def materialize(obj: BaseModel) -> dict[str, Any]:
    """Read ``obj``'s kept JSON (if any) into ``_nulls_``/``_extra_`` of it and its sub-objects; return its dict."""
    src = _take_src(obj)
    if src is not None:
        mark(obj, src if isinstance(src, dict) else _any_decoder.decode(src))
    return obj.__dict__


def _take_src(obj: Any) -> Any:
    """Remove and return ``obj``'s kept JSON (its ``_src_`` slot), or None when it has none."""
    try:
        src = obj._src_
    except AttributeError:
        return None
    del obj._src_
    return src


def mark(obj: Any, raw: Any) -> None:
    """Record, on every ``BaseModel`` in ``obj``, the nulls and unknown fields of the matching JSON ``raw``."""
    if isinstance(obj, msgspec.Struct):
        if type(raw) is not dict:
            return
        t = _tables.get(type(obj)) or table(type(obj))
        if not t.model:
            return
        by_wire = t.by_wire
        nulls: list[str] = []
        extra: dict[str, Any] | None = None
        for key, value in raw.items():
            name = by_wire.get(key)
            if name is None:
                if key != t.tag_field:
                    if extra is None:
                        extra = {}
                    extra[key] = value
            elif value is None:
                nulls.append(name)
            elif type(value) is dict or type(value) is list:
                mark(getattr(obj, name), value)
        _take_src(obj)
        state = obj.__dict__
        if nulls:
            state["_nulls_"] = frozenset(nulls)
        if extra is not None:
            state["_extra_"] = extra
    elif type(obj) is list:
        if type(raw) is list:
            for item, raw_item in zip(obj, raw, strict=False):
                if type(raw_item) is dict or type(raw_item) is list:
                    mark(item, raw_item)
    elif type(obj) is dict and type(raw) is dict:  # not Unknown (a dict subclass): it is the raw JSON already
        for key, item in obj.items():
            raw_item = raw.get(key)
            if type(raw_item) is dict or type(raw_item) is list:
                mark(item, raw_item)


def fields_set(obj: BaseModel) -> set[str]:
    """The names of the fields ``obj`` has set: non-default values, wire nulls, the tag field, unknown fields.

    Unknown fields count, as in pydantic's ``model_validate`` (the official SDK leaves them out of the objects it
    builds from a response without validation, but not out of those it validates).
    """
    state = materialize(obj)
    t = table(type(obj))
    out = {
        name for name, _, default, factory in t.fields if not is_default(getattr(obj, name), default, factory)
    }
    out.update(state.get("_nulls_", ()))
    if not state.get("_constructed_"):
        out.update(state.get("_extra_") or ())
    if t.tag_field is not None:
        out.add(t.tag_field)
    return out


class Options:
    """The keyword arguments of one dump. Strictly private."""

    __slots__ = ("by_alias", "exclude_defaults", "exclude_none", "exclude_unset", "json")

    def __init__(
        self, *, mode: str, by_alias: bool, exclude_unset: bool, exclude_defaults: bool, exclude_none: bool
    ) -> None:
        if mode not in ("python", "json"):
            raise ValueError(f"mode must be 'python' or 'json', got {mode!r}")
        self.json = mode == "json"
        self.by_alias = by_alias
        self.exclude_unset = exclude_unset
        self.exclude_defaults = exclude_defaults
        self.exclude_none = exclude_none


_SCALARS = frozenset((str, int, float, bool, type(None)))


def dump(obj: Any, opts: Options, include: Any = None, exclude: Any = None) -> Any:
    """``obj`` as builtins, the way pydantic's ``model_dump`` gives it (``include``/``exclude`` as pydantic takes)."""
    kind = type(obj)
    if kind in _SCALARS:
        return obj
    if isinstance(obj, msgspec.Struct):
        t = _tables.get(kind) or table(kind)
        if t.model:
            return _dump_model(obj, t, opts, include, exclude)
        return msgspec.to_builtins(obj)
    if kind is list or kind is tuple:
        if include is None and exclude is None:
            return [x if type(x) in _SCALARS else dump(x, opts) for x in obj]
        out = []
        for i, item in enumerate(obj):
            sub_inc, sub_exc, skip = _narrow(include, exclude, i)
            if not skip:
                out.append(dump(item, opts, sub_inc, sub_exc))
        return out
    if isinstance(obj, dict):  # dicts, and Unknown (a dict); exclude_none is for fields only, as in pydantic
        if include is None and exclude is None:
            return {k: v if type(v) in _SCALARS else dump(v, opts) for k, v in obj.items()}
        result = {}
        for key, item in obj.items():
            sub_inc, sub_exc, skip = _narrow(include, exclude, key)
            if not skip:
                result[key] = dump(item, opts, sub_inc, sub_exc)
        return result
    return msgspec.to_builtins(obj) if opts.json else obj


def _dump_model(obj: Any, t: Table, opts: Options, include: Any, exclude: Any) -> dict[str, Any]:
    state = materialize(obj)
    nulls = state.get("_nulls_", ())
    filtered = include is not None or exclude is not None
    exclude_unset, exclude_defaults, by_alias = opts.exclude_unset, opts.exclude_defaults, opts.by_alias
    out: dict[str, Any] = {}
    sub_inc = sub_exc = None
    if t.tag_field is not None:
        if not (filtered and _narrow(include, exclude, t.tag_field)[2]):
            out[t.tag_field] = t.tag
    for name, wire, default, factory in t.fields:
        value = getattr(obj, name)
        if value is None:
            if (
                opts.exclude_none
                or (exclude_unset and name not in nulls)
                or (exclude_defaults and default is None)
            ):
                continue
        elif (exclude_unset or exclude_defaults) and is_default(value, default, factory):
            continue
        if filtered:
            sub_inc, sub_exc, skip = _narrow(include, exclude, name)
            if skip:
                continue
        out[wire if by_alias else name] = (
            value if type(value) in _SCALARS else dump(value, opts, sub_inc, sub_exc)
        )
    extra = state.get("_extra_")
    if extra:
        for key, value in extra.items():
            if opts.exclude_none and value is None:
                continue
            if filtered:
                sub_inc, sub_exc, skip = _narrow(include, exclude, key)
                if skip:
                    continue
            out[key] = value if type(value) in _SCALARS else dump(value, opts, sub_inc, sub_exc)
    return out


def _narrow(include: Any, exclude: Any, key: Any) -> tuple[Any, Any, bool]:
    """The include/exclude specs for ``key``'s value, and whether ``key`` is left out altogether."""
    sub_inc = sub_exc = None
    if include is not None:
        sub_inc = _pick(include, key)
        if sub_inc is None:
            return None, None, True
        if sub_inc is True:
            sub_inc = None
    if exclude is not None:
        sub_exc = _pick(exclude, key)
        if sub_exc is True:
            return None, None, True
    return sub_inc, sub_exc, False


def _pick(spec: Any, key: Any) -> Any:
    """``spec``'s entry for ``key`` (``True`` for all of it, a nested spec, or None when absent)."""
    if isinstance(spec, Mapping):
        hit = spec.get(key, spec.get("__all__"))
        if hit is None:
            return None
        if hit is True or hit is Ellipsis:
            return True
        return hit
    if isinstance(spec, (set, frozenset, list, tuple)):
        return True if key in spec or "__all__" in spec else None
    if isinstance(spec, str):
        return True if key == spec else None
    raise TypeError(f"include/exclude must be a set or a dict of field names, got {type(spec).__name__}")
