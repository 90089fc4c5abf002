"""The base Struct every generated type inherits, and the pieces the generated code refers to.

- ``BaseModel``: ``msgspec.Struct`` with ``kw_only=True`` (field order never matters), ``omit_defaults=True`` (unset
  fields, all ``None`` by default, are not sent), ``repr_omit_defaults=True`` (reprs show only what is set),
  ``forbid_unknown_fields=True`` (so a payload with fields this release does not know leaves the strict decoder
  for the lenient one, which keeps them) and ``dict=True`` (room for what the wire said beyond the fields:
  ``openai_async._core.wire``). It answers the official models' pydantic methods (``model_dump``, ``to_dict``,
  ``model_fields_set``, ``model_extra``, ``model_validate``, ...).
- ``Unknown``: what the lenient decoder (``openai_async._core.decode``) returns for an object it cannot place, such as
  a union member whose ``type`` this version does not know. It is the raw JSON ``dict`` itself, with ``.type``
  and ``.raw`` for convenience, and it encodes back to the same JSON.
- ``Alternatives``: ``Annotated`` metadata on a union that msgspec cannot express as a whole (several members
  share a ``type`` tag, or have none). The annotation keeps the members msgspec can tell apart; the lenient
  decoder uses the full list to place the others.
- Mixins with hand-written conveniences, attached to generated classes through ``scripts/overrides.toml``.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Literal, TypeVar

import msgspec

from . import wire as _wire

if TYPE_CHECKING:
    from typing_extensions import Self

__all__ = ["Alternatives", "BaseModel", "ResponseMixin", "Unknown"]

_encoder = msgspec.json.Encoder()
T = TypeVar("T")


class _Kept:
    """Slots for what is written on hot paths: ``_src_`` (the JSON a result was decoded from, read once by
    ``wire.materialize``), ``_request_id``, and ``_aux_`` (a stream helper's state on an event, e.g. the text
    so far behind a delta's ``snapshot``). A slot write costs a third of creating the object's ``__dict__``,
    which stays for the rare state (``wire``'s ``_nulls_``/``_extra_``). Strictly private."""

    __slots__ = ("_aux_", "_request_id", "_src_")
    if TYPE_CHECKING:  # for type checkers only: msgspec evaluates every annotation of a Struct's bases
        _request_id: str | None  # read as None when unset (``BaseModel.__getattr__``)
        _src_: Any
        _aux_: Any


class BaseModel(
    _Kept,
    msgspec.Struct,
    kw_only=True,
    omit_defaults=True,
    repr_omit_defaults=True,
    dict=True,
    forbid_unknown_fields=True,
):
    """Base of every generated type (named like the official SDK's base; the spec has its own ``Model``).

    It answers the official models' (pydantic's) methods: ``model_dump``/``model_dump_json``, ``to_dict``/``to_json``,
    ``model_fields_set``, ``model_extra``, ``model_validate``/``model_validate_json``/``model_construct``,
    ``model_copy``. Fields the server sent that this release does not know are kept: read them as attributes, in
    ``model_extra`` and in every dump. ``forbid_unknown_fields`` makes the strict decoder fail on them, which sends
    the payload to the lenient path that keeps them (``openai_async._core.decode``).
    """

    @property
    def model_fields_set(self) -> set[str]:
        """The names of the fields that were set: sent by the server (``null`` included) or given when built."""
        return _wire.fields_set(self)

    @property
    def model_extra(self) -> dict[str, Any]:
        """The fields this release does not know, as the server sent them (raw JSON values)."""
        state = _wire.materialize(self)
        extra = state.get("_extra_")
        if extra is None:
            extra = state["_extra_"] = {}
        return extra

    def model_dump(
        self,
        *,
        mode: Literal["json", "python"] | str = "python",
        include: Any = None,
        exclude: Any = None,
        context: Any = None,
        by_alias: bool | None = None,
        exclude_unset: bool = False,
        exclude_defaults: bool = False,
        exclude_none: bool = False,
        exclude_computed_fields: bool = False,
        round_trip: bool = False,
        warnings: bool | Literal["none", "warn", "error"] = True,
        fallback: Any = None,
        serialize_as_any: bool = False,
    ) -> dict[str, Any]:
        """Return the object as a ``dict``, as pydantic's ``model_dump`` does.

        Every field is there (``None`` when unset) unless ``exclude_unset`` (only what the server sent or the
        caller gave, wire ``null`` included), ``exclude_none`` or ``exclude_defaults`` say otherwise; fields this
        release does not know are included as sent. Keys are attribute names, or wire names with ``by_alias``.
        ``context``, ``round_trip``, ``warnings``, ``fallback`` and ``serialize_as_any`` are accepted and have no
        effect (there are no validators or computed fields here).
        """
        opts = _wire.Options(
            mode=mode,
            by_alias=bool(by_alias),
            exclude_unset=exclude_unset,
            exclude_defaults=exclude_defaults,
            exclude_none=exclude_none,
        )
        return _wire.dump(self, opts, include, exclude)  # type: ignore[no-any-return]

    def model_dump_json(
        self,
        *,
        indent: int | None = None,
        ensure_ascii: bool = False,
        include: Any = None,
        exclude: Any = None,
        context: Any = None,
        by_alias: bool | None = None,
        exclude_unset: bool = False,
        exclude_defaults: bool = False,
        exclude_none: bool = False,
        exclude_computed_fields: bool = False,
        round_trip: bool = False,
        warnings: bool | Literal["none", "warn", "error"] = True,
        fallback: Any = None,
        serialize_as_any: bool = False,
    ) -> str:
        """Return ``model_dump(mode="json", ...)`` as JSON text: compact, or indented by ``indent`` spaces."""
        if ensure_ascii:
            raise ValueError("ensure_ascii=True is not supported: the JSON text is UTF-8")
        data = self.model_dump(
            mode="json",
            include=include,
            exclude=exclude,
            by_alias=by_alias,
            exclude_unset=exclude_unset,
            exclude_defaults=exclude_defaults,
            exclude_none=exclude_none,
        )
        return _to_text(data, indent)

    def to_dict(
        self,
        *,
        mode: Literal["json", "python"] = "python",
        use_api_names: bool = True,
        exclude_unset: bool = True,
        exclude_defaults: bool = False,
        exclude_none: bool = False,
        warnings: bool = True,
    ) -> dict[str, Any]:
        """Return the ``dict`` the API sent: the fields it set (``null`` included), under their wire names."""
        return self.model_dump(
            mode=mode,
            by_alias=use_api_names,
            exclude_unset=exclude_unset,
            exclude_defaults=exclude_defaults,
            exclude_none=exclude_none,
        )

    def to_json(
        self,
        *,
        indent: int | None = 2,
        use_api_names: bool = True,
        exclude_unset: bool = True,
        exclude_defaults: bool = False,
        exclude_none: bool = False,
        warnings: bool = True,
    ) -> str:
        """Return ``to_dict()`` as JSON text, indented by ``indent`` spaces (2 by default; None for compact)."""
        return self.model_dump_json(
            indent=indent,
            by_alias=use_api_names,
            exclude_unset=exclude_unset,
            exclude_defaults=exclude_defaults,
            exclude_none=exclude_none,
        )

    @classmethod
    def model_validate(
        cls,
        obj: Any,
        *,
        strict: bool | None = None,
        extra: Any = None,
        from_attributes: bool | None = None,
        context: Any = None,
        by_alias: bool | None = None,
        by_name: bool | None = None,
    ) -> Self:
        """Build an instance from a ``dict`` of wire names (an instance of ``cls`` is returned as is).

        As leniently as a response is decoded: unknown fields are kept, values of an unexpected type are kept
        raw. Anything but a mapping raises ``msgspec.ValidationError`` (a ``ValueError``).
        """
        if isinstance(obj, cls):
            return obj
        if not isinstance(obj, Mapping):
            raise msgspec.ValidationError(
                f"{cls.__name__}.model_validate(obj): obj must be a dict or a {cls.__name__}, got {type(obj).__name__}"
            )
        from .decode import convert  # lazy: cycle (decode imports this module)

        return _checked(cls, convert(dict(obj), cls), "model_validate")

    @classmethod
    def model_validate_json(
        cls,
        json_data: str | bytes | bytearray,
        *,
        strict: bool | None = None,
        extra: Any = None,
        context: Any = None,
        by_alias: bool | None = None,
        by_name: bool | None = None,
    ) -> Self:
        """Decode JSON text into an instance, as a response body is decoded (``msgspec.DecodeError`` if not JSON)."""
        from .decode import decode  # lazy: cycle (decode imports this module)

        if not isinstance(json_data, (bytes, str)):
            # The object keeps what it was decoded from: never a buffer the caller reuses.
            json_data = bytes(json_data)
        return _checked(cls, decode(json_data, cls), "model_validate_json")

    @classmethod
    def model_construct(cls, _fields_set: set[str] | None = None, **values: Any) -> Self:
        """Build an instance from trusted values without validation; keys may be attribute or wire names.

        The given keys are the fields set (``_fields_set`` overrides them); unknown keys go to ``model_extra``.
        """
        t = _wire.table(cls)
        known: dict[str, Any] = {}
        extra: dict[str, Any] = {}
        for key, value in values.items():
            if key in t.by_name:
                known[key] = value
            elif key in t.by_wire:
                known[t.by_wire[key]] = value
            elif key != t.tag_field:
                extra[key] = value
        obj = cls(**known)
        chosen = known.keys() if _fields_set is None else _fields_set
        nulls = frozenset(name for name in chosen if name in t.by_name)
        if nulls:
            obj.__dict__["_nulls_"] = nulls
        if extra:
            obj.__dict__["_extra_"] = extra
            obj.__dict__["_constructed_"] = True
        return obj

    def model_copy(self, *, update: Mapping[str, Any] | None = None, deep: bool = False) -> Self:
        """Return a copy (``deep`` copies sub-objects too), with ``update``'s attribute values set on it."""
        new = copy.deepcopy(self) if deep else copy.copy(self)
        if update:
            t = _wire.table(type(self))
            extra = new.__dict__.get("_extra_")
            for key, value in update.items():
                if key in t.by_name:
                    setattr(new, key, value)
                    new.__dict__["_nulls_"] = new.__dict__.get("_nulls_", frozenset()) | {key}
                else:
                    extra = new.__dict__["_extra_"] = dict(extra or {})
                    extra[key] = value
        return new

    def __eq__(self, other: object) -> bool:
        """Equal when of the same type with equal fields and equal unknown fields (as pydantic compares)."""
        same = msgspec.Struct.__eq__(self, other)
        if same is not True:
            return same
        mine = _wire.materialize(self).get("_extra_") or {}
        return mine == (_wire.materialize(other).get("_extra_") or {})  # type: ignore[arg-type]

    __hash__ = None  # type: ignore[assignment]

    def __reduce__(self) -> tuple[Any, ...]:
        state = _wire.materialize(self)
        keep = {k: v for k, v in state.items() if k in _PRIVATE}
        return (_rebuild, (type(self), msgspec.structs.asdict(self), keep or None))

    def __copy__(self) -> Self:
        state = _wire.materialize(self)
        new = msgspec.structs.replace(self)
        for key in _PRIVATE:
            if key in state:
                new.__dict__[key] = dict(state[key]) if key == "_extra_" else state[key]
        return new

    if not TYPE_CHECKING:  # type checkers keep reporting unknown attributes (as pydantic's models do)

        def __getattr__(self, name: str) -> Any:
            if name[:2] == "__" or name in _PRIVATE:
                if name == "_request_id":  # the x-request-id of the response a result came from, when set
                    return None
                raise AttributeError(name)
            extra = _wire.materialize(self).get("_extra_")
            if extra is not None and name in extra:
                return extra[name]
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")


_PRIVATE = frozenset(("_src_", "_request_id", "_aux_", "_nulls_", "_extra_", "_constructed_"))
_formatter = msgspec.json.format


def _to_text(data: Any, indent: int | None) -> str:
    text = _encoder.encode(data)
    if indent is not None:
        text = _formatter(text, indent=indent)
    return text.decode()


def _rebuild(cls: type[BaseModel], fields: dict[str, Any], state: dict[str, Any] | None) -> BaseModel:
    """Unpickle a ``BaseModel`` with its private state. Strictly private."""
    obj = cls(**fields)
    if state:
        obj.__dict__.update(state)
    return obj


def _checked(cls: type[T], obj: Any, method: str) -> T:
    if not isinstance(obj, cls):
        raise msgspec.ValidationError(
            f"{cls.__name__}.{method}: the data does not describe a {cls.__name__} (got {type(obj).__name__})"
        )
    return obj


class Unknown(dict):  # type: ignore[type-arg]
    """A JSON object the decoder could not match to a known type (e.g. an event ``type`` added after this release).

    It is the raw ``dict``: index it (``obj["field"]``), or read ``.type`` and ``.raw``.
    """

    __slots__ = ()

    @property
    def type(self) -> Any:
        """The object's ``type`` field, or None."""
        return self.get("type")

    @property
    def raw(self) -> dict[str, Any]:
        """The raw JSON object (this dict itself)."""
        return self

    def to_dict(self, **_: Any) -> dict[str, Any]:
        """Return a plain ``dict`` copy (the keyword arguments of ``BaseModel.to_dict`` are accepted)."""
        return dict(self)

    def to_json(self, *, indent: int | None = 2, **_: Any) -> str:
        """Return the JSON text, indented by ``indent`` spaces (2 by default; None for compact)."""
        return _to_text(self, indent)

    def model_dump(self, **_: Any) -> dict[str, Any]:
        """Return a plain ``dict`` copy (the keyword arguments of ``BaseModel.model_dump`` are accepted)."""
        return dict(self)

    def model_dump_json(self, *, indent: int | None = None, **_: Any) -> str:
        """Return the JSON text: compact, or indented by ``indent`` spaces."""
        return _to_text(self, indent)

    def __repr__(self) -> str:
        return f"Unknown({dict.__repr__(self)})"


class Alternatives:
    """``Annotated`` metadata listing every member of a union msgspec cannot express in full. Strictly private."""

    __slots__ = ("types",)

    def __init__(self, *types: Any) -> None:
        self.types = types

    def __repr__(self) -> str:
        return f"Alternatives({', '.join(getattr(t, '__name__', repr(t)) for t in self.types)})"


class ResponseMixin:
    """Conveniences of the Responses API ``Response`` object."""

    __slots__ = ()

    @property
    def output_text(self) -> str:
        """All ``output_text`` parts of the ``message`` output items, concatenated (``""`` when there are none)."""
        parts: list[str] = []
        for item in getattr(self, "output", None) or ():
            if getattr(item, "type", None) != "message":
                continue
            for content in getattr(item, "content", None) or ():
                if getattr(content, "type", None) == "output_text":
                    text = getattr(content, "text", None)
                    if isinstance(text, str):
                        parts.append(text)
        return "".join(parts)
