"""Strict JSON schemas from Python types (msgspec's schema rewritten for the API's strict mode; pydantic models
take the official SDK's rules in ``pydantic_support``), and the ``response_format`` / ``text.format`` params."""

from __future__ import annotations

import re
from typing import Any

import msgspec

from .. import pydantic_support

__all__ = [
    "is_rich_format",
    "response_format_param",
    "schema_name",
    "text_format_param",
    "to_strict_json_schema",
]

_REF = "#/$defs/"
_NAME_OK = re.compile(r"[^a-zA-Z0-9_-]")


def to_strict_json_schema(type_: Any) -> dict[str, Any]:
    """Return the strict-mode JSON schema of ``type_`` (a Struct, dataclass, TypedDict or pydantic model).

    Raises:
        TypeError: ``type_`` does not describe a JSON object.
    """
    if pydantic_support.is_pydantic(type_):
        return pydantic_support.strict_schema(type_)
    schema = msgspec.json.schema(type_)
    defs: dict[str, Any] = schema.pop("$defs", {})
    root = schema
    root_name = None
    ref = schema.get("$ref")
    if isinstance(ref, str) and ref.startswith(_REF) and len(schema) == 1:
        root_name = ref[len(_REF) :]
        root = defs[root_name]
    if root.get("type") != "object":
        raise TypeError(f"structured outputs need a type that encodes as a JSON object, not {type_!r}")
    out: dict[str, Any] = _strict(root, defs)
    new_defs = {name: _strict(d, defs) for name, d in defs.items()}
    # Keep only the definitions still referenced from the root (directly or through other definitions).
    used: set[str] = set()
    _collect_refs(out, used)
    todo = list(used)
    while todo:
        name = todo.pop()
        found: set[str] = set()
        _collect_refs(new_defs[name], found)
        for n in found - used:
            used.add(n)
            todo.append(n)
    if used:
        out["$defs"] = {name: new_defs[name] for name in sorted(used)}
    return out


def _collect_refs(node: Any, into: set[str]) -> None:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith(_REF):
            into.add(ref[len(_REF) :])
        for value in node.values():
            _collect_refs(value, into)
    elif isinstance(node, list):
        for value in node:
            _collect_refs(value, into)


def _strict(node: Any, defs: dict[str, Any]) -> Any:
    if isinstance(node, list):
        return [_strict(v, defs) for v in node]
    if not isinstance(node, dict):
        return node
    ref = node.get("$ref")
    if isinstance(ref, str) and len(node) > 1 and ref.startswith(_REF):
        # Strict mode rejects keywords next to $ref: inline the target one level (its own refs stay refs).
        node = {**defs[ref[len(_REF) :]], **{k: v for k, v in node.items() if k != "$ref"}}
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key in ("default", "discriminator"):
            continue
        if key == "properties":
            out[key] = {name: _strict(v, defs) for name, v in value.items()}
        elif key in ("$defs", "enum", "const", "required"):
            out[key] = value
        else:
            out[key] = _strict(value, defs)
    if out.get("type") == "object" and not isinstance(out.get("additionalProperties"), dict):
        props: dict[str, Any] = out.setdefault("properties", {})
        required = set(out.get("required", ()))
        for name, prop in props.items():
            if name not in required:
                props[name] = _nullable(prop)
        out["required"] = list(props)
        out["additionalProperties"] = False
    return out


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    t = schema.get("type")
    if t == "null" or (isinstance(t, list) and "null" in t):
        return schema
    for member in schema.get("anyOf", ()):
        if isinstance(member, dict) and member.get("type") == "null":
            return schema
    return {"anyOf": [schema, {"type": "null"}]}


def schema_name(type_: Any, name: str | None) -> str:
    return _NAME_OK.sub("_", name or str(getattr(type_, "__name__", "response")))[:64]


def is_rich_format(value: Any) -> bool:
    """True when ``value`` is a type to build a schema from (not a ready ``response_format`` dict)."""
    return isinstance(value, type)


def response_format_param(type_: Any, name: str | None = None) -> dict[str, Any]:
    """The Chat Completions ``response_format`` for ``type_``."""
    return {
        "type": "json_schema",
        "json_schema": {
            "name": schema_name(type_, name),
            "schema": to_strict_json_schema(type_),
            "strict": True,
        },
    }


def text_format_param(type_: Any, name: str | None = None) -> dict[str, Any]:
    """The Responses ``text.format`` for ``type_``."""
    return {
        "type": "json_schema",
        "name": schema_name(type_, name),
        "schema": to_strict_json_schema(type_),
        "strict": True,
    }
