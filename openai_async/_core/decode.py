"""Decoding entry points: one cached msgspec Decoder per type, and a lenient fallback for API drift.

The fast path is a plain ``msgspec.json.Decoder(T).decode``: generated types make every field optional and
nullable (``T | None = None``) and string enums open (``Literal[...] | str``), so most drift (new enum values,
nulls, missing fields, new top-level fields) decodes on the fast path at full speed. The result keeps the bytes
it came from; ``wire`` reads the top-level unknown fields and the wire nulls from them on first need.

Unknown fields below the top level fail the strict decode (``forbid_unknown_fields``): the lenient path below
builds the object and records them (and the nulls) on each sub-object, so they are attributes, ``model_extra``
and in every dump at any depth.

When the strict decode still raises ``msgspec.ValidationError`` (a union member with a ``type`` this release does
not know, a value of the wrong JSON type, ...), the payload is decoded to builtins and a lenient converter walks
the target type and builds the structs field by field, at any depth:

- a JSON object whose ``type`` tag is unknown -> ``Unknown`` (the raw ``dict``, with ``.type`` and ``.raw``);
- a union member whose ``type`` is missing -> the member whose fields clearly fit best, else ``Unknown``;
- a value of the wrong JSON type (a string where a number is expected, an object where a list is expected ...)
  -> kept as the raw JSON value, so nothing is lost;
- a union msgspec cannot express in full (``Annotated[..., Alternatives(...)]``) -> the member that fits best;
- subtrees that conform are still converted by msgspec itself.

Only bytes that are not JSON raise (``msgspec.DecodeError``).
"""

from __future__ import annotations

import types
import typing
from typing import Any, TypeVar

import msgspec

from .model import Alternatives, BaseModel, Unknown
from .wire import mark

T = TypeVar("T")

__all__ = ["convert", "decode", "decoder_for", "root_decoder"]

_decoders: dict[Any, msgspec.json.Decoder[Any]] = {}
_any_decoder = msgspec.json.Decoder()


def decoder_for(type_: Any) -> msgspec.json.Decoder[Any]:
    """Return the cached JSON decoder for ``type_``."""
    dec = _decoders.get(type_)
    if dec is None:
        dec = _decoders[type_] = msgspec.json.Decoder(type_)
    return dec


@typing.overload
def decode(data: bytes | bytearray | memoryview | str, type_: type[T]) -> T: ...
@typing.overload
def decode(data: bytes | bytearray | memoryview | str, type_: Any) -> Any: ...
def decode(data: bytes | bytearray | memoryview | str, type_: Any) -> Any:
    """Decode JSON ``data`` into ``type_``; never raises for schema drift, only for bytes that are not JSON.

    The result is typed as ``type_``; under drift a part of it (or, for a payload of the wrong shape, all of it)
    may be ``Unknown`` or the raw JSON value instead, as the module docstring says. A ``BaseModel`` result keeps
    a reference to ``data``: pass bytes or str, never a buffer that is reused afterwards.
    """
    try:
        dec, cls, publics = _roots[type_]
    except KeyError:
        dec, cls, publics = _root_entry(type_)
    try:
        obj = dec(data)
    except msgspec.ValidationError:
        return _drifted(data, type_)
    if cls is not None:
        if cls is not _KEEP:
            obj.__class__ = cls  # from the twin that lets unknown top-level fields through (same layout)
        obj._src_ = (
            data  # read by ``wire`` on first need; the callers pass bytes or str (never a reused buffer)
        )
    elif publics is not None:
        cls = publics.get(type(obj))
        if cls is not None:
            if cls is not _KEEP:
                obj.__class__ = cls
            obj._src_ = data
    return obj


def _drifted(data: bytes | bytearray | memoryview | str, type_: Any) -> Any:
    """The strict decode failed: try the twin (unknown top-level fields only), else the lenient path."""
    twin_entry = _twins.get(type_)
    if twin_entry is not None and _roots[type_] is not twin_entry:
        try:
            obj = twin_entry[0](data)
        except msgspec.ValidationError:
            pass
        else:
            _roots[type_] = twin_entry  # this type's bodies carry new top-level fields: start with the twin
            cls = twin_entry[1] or twin_entry[2].get(type(obj))  # type: ignore[union-attr]
            if cls is not None:
                obj.__class__ = cls
                obj._src_ = data
            return obj
    raw = _any_decoder.decode(data)
    obj = _converter(type_)(raw)
    mark(obj, raw)
    return obj


@typing.overload
def convert(obj: Any, type_: type[T]) -> T: ...
@typing.overload
def convert(obj: Any, type_: Any) -> Any: ...
def convert(obj: Any, type_: Any) -> Any:
    """Convert already-parsed JSON ``obj`` into ``type_`` with the same leniency as ``decode``."""
    try:
        # Encode + cached Decoder: ~20x cheaper than msgspec.convert for the big unions of this API.
        out = decoder_for(type_).decode(_encoder.encode(obj))
    except (msgspec.ValidationError, msgspec.EncodeError, TypeError):
        out = _converter(type_)(obj)
    mark(out, obj)
    return out


# The decoder ``decode`` starts with, per type: the strict one (the object keeps the bytes, from which ``wire``
# reads the wire nulls when first asked). When a body fails it only for unknown fields at its top level, the type
# switches for good to a twin subclass that lets those through: the object is switched back to the real class (same
# layout) and keeps the bytes, from which ``wire`` also reads those fields. Unknown fields deeper down fail both
# (``forbid_unknown_fields``) and take the lenient path, which records them as it goes.
_Decode = typing.Callable[[Any], Any]
_Entry = tuple[
    _Decode, Any, "dict[type, Any] | None"
]  # decode, class to switch to (or _KEEP), the same per member
_roots: dict[Any, _Entry] = {}
_twins: dict[Any, _Entry] = {}
_KEEP = object()  # keep the class the decoder made


def root_decoder(type_: Any) -> msgspec.json.Decoder[Any]:
    """The twin decoder ``decode`` uses for ``type_`` once its bodies carry unknown top-level fields."""
    _root_entry(type_)
    entry = _twins.get(type_) or _roots[type_]
    return entry[0].__self__  # type: ignore[attr-defined, no-any-return]


def _root_entry(type_: Any) -> _Entry:
    publics: dict[type, Any] = {}
    twin = _twin_type(type_, publics)
    strict = decoder_for(type_).decode
    entry: _Entry
    if not publics:
        entry = (strict, None, None)
    elif twin in publics:
        entry = (strict, _KEEP, None)
        _twins[type_] = (msgspec.json.Decoder(twin).decode, type_, None)
    else:
        entry = (strict, None, dict.fromkeys(publics.values(), _KEEP))
        _twins[type_] = (msgspec.json.Decoder(twin).decode, None, publics)
    _roots[type_] = entry
    return entry


def _twin_type(tp: Any, publics: dict[type, type]) -> Any:
    """``tp`` with each BaseModel at its top replaced by a twin that lets unknown fields through."""
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        config = tp.__struct_config__
        tag: dict[str, Any] = (
            {"tag": config.tag, "tag_field": config.tag_field} if config.tag is not None else {}
        )
        twin = msgspec.defstruct(
            tp.__name__, [], bases=(tp,), module=tp.__module__, forbid_unknown_fields=False, **tag
        )
        publics[twin] = tp
        return twin
    origin = typing.get_origin(tp)
    if origin is typing.Annotated:
        return typing.Annotated[(_twin_type(tp.__origin__, publics), *tp.__metadata__)]
    if origin is typing.Union or origin is types.UnionType:
        return typing.Union[tuple(_twin_type(a, publics) for a in typing.get_args(tp))]  # noqa: UP007
    return tp


# ---------------------------------------------------------------------------------------------------------------
# The lenient converter: one function per type, built on first use and cached. Sub-converters are resolved once
# and kept in closures (hashing big typing unions on every call would cost more than the conversion).
# ---------------------------------------------------------------------------------------------------------------

_Conv = typing.Callable[[Any], Any]
_converters: dict[Any, _Conv] = {}
_NoneType = type(None)
_encoder = msgspec.json.Encoder()


def _identity(v: Any) -> Any:
    return v


def _converter(tp: Any) -> _Conv:
    conv = _converters.get(tp)
    if conv is None:
        conv = _converters[tp] = _build(tp)
    return conv


def _lazy(tp: Any) -> _Conv:
    """The converter of ``tp``, looked up on first call (types may be recursive)."""
    cell: list[_Conv] = []

    def conv(v: Any) -> Any:
        if not cell:
            cell.append(_converter(tp))
        return cell[0](v)

    return conv


def _strict_first(tp: Any, slow: _Conv) -> _Conv:
    """Try msgspec on the subtree first (a cached Decoder: much cheaper than ``msgspec.convert`` for big unions);
    walk it by hand only when that fails."""
    cell: list[msgspec.json.Decoder[Any]] = []

    def conv(v: Any) -> Any:
        if not cell:
            cell.append(decoder_for(tp))
        try:
            return cell[0].decode(_encoder.encode(v))
        except (msgspec.ValidationError, TypeError, msgspec.EncodeError):
            return slow(v)

    return conv


def _build(tp: Any) -> _Conv:
    if tp is Any or tp is object or tp is _NoneType or tp is None:
        return _identity
    origin = typing.get_origin(tp)
    if origin is typing.Annotated:
        inner = tp.__origin__
        alts = [m for m in tp.__metadata__ if isinstance(m, Alternatives)]
        if alts:
            return _union_converter(tp, _union_args(inner), alts[0].types)
        return _converter(inner)
    if origin is typing.Union or origin is types.UnionType:
        return _union_converter(tp, _union_args(tp), ())
    if isinstance(tp, type) and issubclass(tp, msgspec.Struct):
        return _StructConverter(tp)
    if origin in (list, typing.List):  # noqa: UP006
        args = typing.get_args(tp)
        return _strict_first(tp, _list_converter(args[0] if args else Any))
    if origin in (dict, typing.Dict):  # noqa: UP006
        args = typing.get_args(tp)
        return _strict_first(tp, _dict_converter(args[1] if len(args) == 2 else Any))
    if tp is float:
        return _to_float
    return _identity  # str, int, bool, bytes, Literal: keep the raw value whatever it is


def _to_float(v: Any) -> Any:
    return float(v) if type(v) is int else v


def _list_converter(item: Any) -> _Conv:
    item_conv = _lazy(item)

    def conv(v: Any) -> Any:
        if not isinstance(v, list):
            return v
        return [item_conv(x) for x in v]

    return conv


def _dict_converter(value: Any) -> _Conv:
    value_conv = _lazy(value)

    def conv(v: Any) -> Any:
        if not isinstance(v, dict):
            return v
        return {k: value_conv(x) for k, x in v.items()}

    return conv


def _union_args(tp: Any) -> list[Any]:
    """Members of a union, with nested unions and Annotated members flattened."""
    out: list[Any] = []
    for a in typing.get_args(tp) if typing.get_origin(tp) in (typing.Union, types.UnionType) else (tp,):
        if typing.get_origin(a) is typing.Annotated:
            out.extend(_union_args(a.__origin__))
            for m in a.__metadata__:
                if isinstance(m, Alternatives):
                    out.extend(m.types)
        elif typing.get_origin(a) in (typing.Union, types.UnionType):
            out.extend(_union_args(a))
        else:
            out.append(a)
    return out


def _json_kind(tp: Any) -> str:
    origin = typing.get_origin(tp) or tp
    if origin is typing.Literal:
        values = typing.get_args(tp)
        return "str" if all(isinstance(x, str) for x in values) else "other"
    if isinstance(origin, type):
        if issubclass(origin, msgspec.Struct) or issubclass(origin, dict):
            return "object"
        if issubclass(origin, list):
            return "array"
        if origin is bool:
            return "bool"
        if origin is int:
            return "int"
        if origin is float:
            return "float"
        if issubclass(origin, (str, bytes)):
            return "str"
    return "other"


def _literal_strings(tp: Any) -> frozenset[str]:
    """The string literals a field type lists (``Literal["a", "b"] | str | None`` -> {"a", "b"})."""
    out: set[str] = set()
    for a in _union_args(tp):
        if typing.get_origin(a) is typing.Literal:
            out.update(x for x in typing.get_args(a) if isinstance(x, str))
    return frozenset(out)


def _second_discriminator(classes: list[type[msgspec.Struct]]) -> tuple[str, dict[str, Any]] | None:
    """A field whose listed values tell ``classes`` (which share a tag) apart, e.g. a message's ``role``."""
    fields = [{f.encode_name: _literal_strings(f.type) for f in msgspec.structs.fields(c)} for c in classes]
    for name in sorted(set.intersection(*(set(f) for f in fields))):
        values = [f[name] for f in fields]
        if all(values) and sum(map(len, values)) == len(frozenset().union(*values)):
            return name, {v: c for c, vs in zip(classes, values, strict=True) for v in vs}
    return None


def _union_converter(tp: Any, members: list[Any], alternatives: tuple[Any, ...]) -> _Conv:
    members = [m for m in members if m is not _NoneType]
    if any(m is Any for m in members):
        return _identity
    structs: list[type[msgspec.Struct]] = []
    others: dict[str, Any] = {}
    for m in [*members, *alternatives]:
        if isinstance(m, type) and issubclass(m, msgspec.Struct):
            if m not in structs:
                structs.append(m)
        else:
            others.setdefault(_json_kind(m), m)
    # The union's tag field ("type", or e.g. "role" / "object" where the spec discriminates by those).
    tag_field = next(
        (s.__struct_config__.tag_field for s in structs if s.__struct_config__.tag_field), "type"
    )
    tagged: dict[Any, type[msgspec.Struct]] = {}
    ambiguous: set[Any] = set()
    for s in structs:
        tag = s.__struct_config__.tag
        if tag is not None and s.__struct_config__.tag_field == tag_field:
            if tag in tagged:
                ambiguous.add(tag)
            tagged[tag] = s
    for tag in ambiguous:
        del tagged[tag]
    dict_type = others.get("object")

    by_field: dict[Any, tuple[str, dict[str, Any]] | None] = {}

    def on_object(v: dict[str, Any]) -> Any:
        tag = _tag_of(v, tag_field)
        if tag in tagged:
            return _converter(tagged[tag])(v)
        if tag in ambiguous:
            if tag not in by_field:
                by_field[tag] = _second_discriminator([s for s in structs if s.__struct_config__.tag == tag])
            by = by_field[tag]
            key = _tag_of(v, by[0]) if by is not None else None
            if by is not None and key in by[1]:
                return _converter(by[1][key])(v)
        # No usable tag: an untagged member, or (tag missing) any member, whichever shares most keys.
        # The first that decodes strictly wins; else the best fit is converted leniently.
        candidates = [s for s in structs if tag is None or s.__struct_config__.tag in (None, tag)]
        candidates.sort(key=lambda s: (s.__struct_config__.tag != tag, -len(v.keys() & _encode_names(s))))
        if tag is None and len(candidates) > 1:
            # Without a tag, guess only when one member fits clearly better than all others (a type's own
            # per-tag subclasses do not compete with it).
            candidates = [
                c for c in candidates if not any(c is not o and issubclass(c, o) for o in candidates)
            ]
        if tag is None and len(candidates) > 1:
            first, second = (len(v.keys() & _encode_names(c)) for c in candidates[:2])
            candidates = candidates[:1] if first > second else []
        if len(candidates) > 1:
            data = _encoder.encode(v)
            for c in candidates:
                obj = _try_decode(c, data)
                if obj is not _FAILED:
                    return obj
        if candidates:
            best = candidates[0]
            if len(structs) == 1 or best.__struct_config__.tag == tag or _encode_names(best) & v.keys():
                return _converter(best)(v)
        if dict_conv is not None:
            return dict_conv(v)
        return Unknown(v)

    list_type = others.get("array")
    list_conv = _lazy(list_type) if list_type is not None else None
    dict_conv = _lazy(dict_type) if dict_type is not None else None

    def slow(v: Any) -> Any:
        if v is None:
            return None
        if isinstance(v, dict):
            return on_object(v) if (structs or dict_type is not None) else v
        if isinstance(v, list):
            return list_conv(v) if list_conv is not None else v
        if isinstance(v, float) and "float" in others:
            return v
        if type(v) is int and "int" not in others and "float" in others:
            return float(v)
        return v

    strict = _strict_first(tp, slow)

    # Tags msgspec is sure to reject: shared by several members, or unknown where every object member is tagged.
    all_tagged = (
        bool(tagged)
        and dict_type is None
        and all(
            s.__struct_config__.tag is not None and s.__struct_config__.tag_field == tag_field
            for s in structs
        )
    )

    def conv(v: Any) -> Any:
        if isinstance(v, dict):
            tag = _tag_of(v, tag_field)
            if tag in ambiguous or (all_tagged and tag is not None and tag not in tagged):
                return on_object(v)
        return strict(v)

    return conv


_FAILED = object()


def _tag_of(v: dict[str, Any], field: str) -> Any:
    """``v[field]`` when it can be a tag (a string or an int), else None."""
    tag = v.get(field)
    return tag if isinstance(tag, (str, int)) and not isinstance(tag, bool) else None


def _try_decode(tp: Any, data: bytes) -> Any:
    try:
        return decoder_for(tp).decode(data)
    except msgspec.ValidationError:
        return _FAILED


def _encode_names(cls: type[msgspec.Struct]) -> frozenset[str]:
    names = _ENCODE_NAMES.get(cls)
    if names is None:
        names = _ENCODE_NAMES[cls] = frozenset(cls.__struct_encode_fields__)
    return names


_ENCODE_NAMES: dict[type, frozenset[str]] = {}


class _StructConverter:
    """Build a Struct from a dict field by field, keeping what does not fit as raw JSON. Strictly private."""

    __slots__ = ("cls", "fields", "subclasses")

    def __init__(self, cls: type[msgspec.Struct]) -> None:
        self.cls = cls
        self.fields: list[tuple[str, str, Any]] | None = None
        self.subclasses: dict[Any, type[msgspec.Struct]] | None = None

    def _prepare(self) -> list[tuple[str, str, Any]]:
        self.fields = [(f.encode_name, f.name, _lazy(f.type)) for f in msgspec.structs.fields(self.cls)]
        subs: dict[Any, type[msgspec.Struct]] = {}
        todo = [self.cls]
        while todo:
            c = todo.pop()
            tag = c.__struct_config__.tag
            if tag is not None:
                subs.setdefault(tag, c)
            todo.extend(c.__subclasses__())
        self.subclasses = subs
        return self.fields

    def __call__(self, v: Any) -> Any:
        if not isinstance(v, dict):
            return v
        fields = self.fields if self.fields is not None else self._prepare()
        cls = self.cls
        config = cls.__struct_config__
        if config.tag is not None and config.tag_field is not None:
            tag = _tag_of(v, config.tag_field)
            if tag is not None and tag != config.tag:
                assert self.subclasses is not None
                sub = self.subclasses.get(tag)
                if sub is None:
                    return Unknown(v)
                return _converter(sub)(v)
        try:
            return decoder_for(cls).decode(_encoder.encode(v))
        except (msgspec.ValidationError, TypeError, msgspec.EncodeError):
            pass
        kwargs = {}
        for wire, name, conv in fields:
            if wire in v:
                kwargs[name] = conv(v[wire])
        return cls(**kwargs)
