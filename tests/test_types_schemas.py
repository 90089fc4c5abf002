"""Every component schema of the spec has a generated type that decodes an instance and round-trips it."""

from __future__ import annotations

import re
import sys
import typing
from pathlib import Path
from typing import Any

import msgspec
import pytest

import openai_async.types as types
from openai_async._core.decode import decode, root_decoder
from openai_async._core.model import Alternatives, BaseModel, Unknown

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))

import gen_types  # noqa: E402

SPEC, _ = gen_types.load_spec()
SCHEMAS: dict[str, Any] = SPEC["components"]["schemas"]
REF = gen_types.REF_PREFIX


def _deref(s: Any) -> Any:
    while isinstance(s, dict) and "$ref" in s:
        s = SCHEMAS[s["$ref"][len(REF) :]]
    return s


def synthesize(s: Any, depth: int = 0) -> Any:
    """A small JSON value that conforms to schema ``s`` (the spec's own example wins where there is one)."""
    s = _deref(s)
    if not isinstance(s, dict) or depth > 8:
        return None
    if "const" in s:
        return s["const"]
    if isinstance(s.get("enum"), list) and s["enum"]:
        return next((v for v in s["enum"] if v is not None), None)
    for key in ("oneOf", "anyOf"):
        if key in s and "properties" not in s:
            options = [o for o in s[key] if _deref(o).get("type") != "null"]
            return synthesize(options[0], depth + 1) if options else None
    if "allOf" in s and "properties" not in s:
        out: dict[str, Any] = {}
        for part in s["allOf"]:
            value = synthesize(part, depth + 1)
            if isinstance(value, dict):
                out.update(value)
            elif value is not None and not out:
                return value
        return out
    t = s.get("type")
    if isinstance(t, list):
        t = next((x for x in t if x != "null"), None)
    if t == "string":
        return "eA==" if s.get("format") == "binary" else "x"
    if t == "integer":
        return 1
    if t == "number":
        return 1.5
    if t == "boolean":
        return True
    if t == "null":
        return None
    if t == "array" or "items" in s:
        item = synthesize(s.get("items", {}), depth + 1)
        return [] if item is None else [item]
    if "properties" in s or t == "object":
        obj = {}
        for name, prop in (s.get("properties") or {}).items():
            if name == "type":
                tag = _deref(prop)
                value = tag.get("const", (tag.get("enum") or [None])[0]) if isinstance(tag, dict) else None
                obj[name] = value if value is not None else "x"
            elif name in s.get("required", ()) or depth < 2:
                value = synthesize(prop, depth + 1)
                if value is not None:
                    obj[name] = value
        return obj
    return None


def instance(name: str) -> Any:
    schema = SCHEMAS[name]
    if "example" in schema and not isinstance(schema["example"], str):
        return schema["example"]
    return synthesize(schema)


def _contains_unknown(v: Any) -> bool:
    if isinstance(v, Unknown):
        return True
    if isinstance(v, msgspec.Struct):
        return any(_contains_unknown(getattr(v, f)) for f in v.__struct_fields__)
    if isinstance(v, list):
        return any(_contains_unknown(x) for x in v)
    if isinstance(v, dict):
        return any(_contains_unknown(x) for x in v.values())
    return False


NAMES = sorted(SCHEMAS)


def _alternative_tags() -> set[str]:
    """Tags of the union members msgspec cannot tell apart (listed in an ``Alternatives`` annotation)."""
    tags: set[str] = set()
    seen: set[int] = set()

    def walk(tp: Any) -> None:
        if id(tp) in seen:
            return
        seen.add(id(tp))
        if typing.get_origin(tp) is typing.Annotated:
            for m in tp.__metadata__:
                if isinstance(m, Alternatives):
                    tags.update(t.__struct_config__.tag for t in m.types if hasattr(t, "__struct_config__"))
        for arg in typing.get_args(tp):
            walk(arg)

    for name in types.__all__:
        tp = getattr(types, name)
        if isinstance(tp, type) and issubclass(tp, msgspec.Struct):
            for f in msgspec.structs.fields(tp):
                walk(f.type)
        else:
            walk(tp)
    tags.discard(None)  # type: ignore[arg-type]
    return tags


AMBIGUOUS_TAGS = _alternative_tags()


def test_only_a_few_tags_are_ambiguous() -> None:
    """Tags shared by several members of one union (decoded by the lenient path) stay the exception."""
    assert AMBIGUOUS_TAGS <= {"message", "item_reference"}, AMBIGUOUS_TAGS


def test_every_schema_has_a_type() -> None:
    """Each of the spec's component schemas is importable from openai_async.types under its own name."""
    missing = [n for n in NAMES if gen_types.py_name(n) not in types.__all__]
    assert missing == []
    assert len(NAMES) == 1422


@pytest.mark.parametrize("area", sorted(set(gen_types.SCHEMA_MODULE.values())))
def test_every_schema_decodes_and_round_trips(area: str) -> None:
    """A conforming instance of every schema decodes on the fast path, and to_json->decode is identity."""
    failures = []
    for name in (n for n in NAMES if gen_types.SCHEMA_MODULE[n] == area):
        tp = getattr(types, gen_types.py_name(name))
        data = msgspec.json.encode(instance(name))
        obj = decode(data, tp)
        try:
            strict = root_decoder(tp).decode(data)
        except msgspec.ValidationError as exc:
            strict = exc
        again = decode(obj.to_json() if isinstance(obj, BaseModel) else msgspec.json.encode(obj), tp)
        if again != obj:
            failures.append((name, "round trip", obj, again))
        if isinstance(strict, Exception):
            # Only members that share a tag with another member may miss the fast path (see _decode.py).
            m = re.match(r"Invalid value '([^']*)' - at `[^`]*type`", str(strict))
            if not (m and m.group(1) in AMBIGUOUS_TAGS):
                failures.append((name, "strict decode", str(strict)))
        if _contains_unknown(obj):
            failures.append((name, "an Unknown in a conforming instance", obj))
        if isinstance(tp, type) and issubclass(tp, msgspec.Struct) and not isinstance(obj, tp):
            failures.append((name, "type", type(obj)))
    assert failures == []
