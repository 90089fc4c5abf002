"""The base Struct every generated type inherits, and the pieces the generated code refers to.

- ``BaseModel``: ``msgspec.Struct`` with ``kw_only=True`` (field order never matters), ``omit_defaults=True`` (unset
  fields, all ``None`` by default, are not sent) and ``repr_omit_defaults=True`` (reprs show only what is set).
  ``to_dict()`` / ``to_json()`` mirror the official SDK's ``model_dump()`` / ``model_dump_json()``, which are
  kept as aliases.
- ``Unknown``: what the lenient decoder (``openai_async._core.decode``) returns for an object it cannot place, such as
  a union member whose ``type`` this version does not know. It is the raw JSON ``dict`` itself, with ``.type``
  and ``.raw`` for convenience, and it encodes back to the same JSON.
- ``Alternatives``: ``Annotated`` metadata on a union that msgspec cannot express as a whole (several members
  share a ``type`` tag, or have none). The annotation keeps the members msgspec can tell apart; the lenient
  decoder uses the full list to place the others.
- Mixins with hand-written conveniences, attached to generated classes through ``scripts/overrides.toml``.
"""

from __future__ import annotations

from typing import Any

import msgspec

__all__ = ["Alternatives", "BaseModel", "ResponseMixin", "Unknown"]

_encoder = msgspec.json.Encoder()


class BaseModel(msgspec.Struct, kw_only=True, omit_defaults=True, repr_omit_defaults=True):
    """Base of every generated type (named like the official SDK's base; the spec has its own ``Model``)."""

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON-ready ``dict`` of the fields that are set (wire names as keys)."""
        return msgspec.to_builtins(self)  # type: ignore[no-any-return]

    def to_json(self) -> str:
        """Return the JSON text of the fields that are set."""
        return _encoder.encode(self).decode()

    model_dump = to_dict
    model_dump_json = to_json


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

    def to_dict(self) -> dict[str, Any]:
        """Return a plain ``dict`` copy."""
        return dict(self)

    def to_json(self) -> str:
        """Return the JSON text."""
        return _encoder.encode(self).decode()

    model_dump = to_dict
    model_dump_json = to_json

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
