"""Conformance tier: call EVERY operation of the vendored spec through AsyncOpenAI against Prism.

Prism (``scripts/prism.sh``) validates each request against the spec and answers with the spec's example.
For every operation this script synthesises a minimal valid call (required parameters only, values from the
spec's examples, enums, defaults and formats), sends it with our client, and checks that

* the request is accepted: no 422 problem+json and no 400 carrying ``sl-violations`` (the client sent
  something the spec does not allow), no other 4xx/5xx either;
* the response decodes into the method's return type (a strict re-check of what the client returned).

Usage::

    pid=$(scripts/prism.sh 4010)
    OPENAI_ASYNC_PRISM_URL=http://127.0.0.1:4010 .venv/bin/python scripts/conformance.py [-k NAME] [-v]
    kill $pid

It prints one line per failing operation with the reason, then ``conformance: N/288``.
``tests/test_conformance.py`` runs the same code and asserts N against ``FLOOR`` below.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import msgspec

SCRIPTS = Path(__file__).resolve().parent
if str(SCRIPTS) not in sys.path:
    sys.path.insert(0, str(SCRIPTS))

import gen_resources as gen  # noqa: E402

FLOOR = 288
"""The committed lower bound of operations that pass (out of 288); tests/test_conformance.py enforces it."""

FILE = ("upload.bin", b"conformance\n", "application/octet-stream")


@dataclass
class Outcome:
    """Strictly private. The result of one operation."""

    op_id: str
    name: str
    ok: bool
    reason: str = ""


# ---------------------------------------------------------------------------------------- value synthesis


def synth(s: gen.Spec, schema: Any, depth: int = 0) -> Any:
    """A minimal value valid for ``schema``: required fields only, spec examples and enums preferred."""
    schema = s.deref(schema)
    if not isinstance(schema, dict) or depth > 12:
        return "string"
    if "const" in schema:
        return schema["const"]
    if "enum" in schema:
        values = [v for v in schema["enum"] if v is not None]
        return values[0] if values else None
    for key in ("oneOf", "anyOf"):
        if key in schema and "properties" not in schema:
            options = [o for o in schema[key] if s.deref(o).get("type") != "null"]
            if not options:
                return None
            # the simplest alternative: a scalar, then an object, then an array (a multipart array goes
            # out as name[] while Prism looks for name)
            return synth(s, min(options, key=lambda o: _rank(s.deref(o))), depth + 1)
    if "allOf" in schema:
        merged: dict[str, Any] = {}
        shaping = ("type", "properties", "$ref", "allOf", "anyOf", "oneOf", "enum", "const", "items")
        for part in schema["allOf"]:
            if isinstance(part, dict) and not any(k in part for k in shaping):
                continue  # e.g. {nullable: true}: says nothing about the value's shape
            value = synth(s, part, depth + 1)
            if isinstance(value, dict):
                merged.update(value)
            else:
                return value
        props, required = s.object_fields(schema)
        merged.update({k: synth(s, props[k], depth + 1) for k in required if k in props and k not in merged})
        return merged
    types = schema.get("type")
    kind = next((t for t in types if t != "null"), "null") if isinstance(types, list) else types
    if kind is None and ("properties" in schema or "additionalProperties" in schema):
        kind = "object"
    if "example" in schema and kind not in ("object", "array", None) and schema["example"] is not None:
        return schema["example"]
    if "default" in schema and schema["default"] is not None and kind not in ("object", "array"):
        return schema["default"]
    if kind == "string":
        fmt = schema.get("format")
        if fmt == "binary":
            return FILE
        if fmt == "date-time":
            return "2025-01-01T00:00:00Z"
        if fmt == "uri":
            return "https://example.com/x"
        if fmt == "email":
            return "user@example.com"
        return "x" * max(int(schema.get("minLength", 1)), 1)
    if kind in ("integer", "number"):
        low = schema.get("minimum", schema.get("exclusiveMinimum", 0))
        value = max(low if isinstance(low, (int, float)) else 0, 1)
        high = schema.get("maximum")
        if isinstance(high, (int, float)) and value > high:
            value = high
        return int(value) if kind == "integer" else float(value)
    if kind == "boolean":
        return False
    if kind == "array":
        count = max(int(schema.get("minItems", 1)), 1)
        return [synth(s, schema.get("items", {}), depth + 1) for _ in range(count)]
    if kind == "object":
        props, required = s.object_fields(schema)
        return {k: synth(s, props[k], depth + 1) for k in required if k in props}
    return "string"


def _rank(schema: Any) -> int:
    kind = schema.get("type") if isinstance(schema, dict) else None
    if isinstance(kind, list):
        kind = next((t for t in kind if t != "null"), None)
    if kind in ("string", "integer", "number", "boolean") or "enum" in schema or "const" in schema:
        return 0
    return 2 if kind == "array" else 1


def _body_required(s: gen.Spec, schema: Any) -> list[str]:
    """Required body fields, including those of the first ``anyOf``/``oneOf`` alternative of an object."""
    schema = s.deref(schema)
    props, required = s.object_fields(schema)
    for key in ("anyOf", "oneOf"):
        for alt in schema.get(key, [])[:1] if isinstance(schema, dict) else []:
            required += [r for r in s.deref(alt).get("required", []) if r not in required]
    if not required and props:  # a required body with no required field: send one, never an empty body
        required = [next(iter(props))]
    return required


def call_arguments(s: gen.Spec, op: gen.Operation, full: bool = False) -> tuple[list[Any], dict[str, Any]]:
    """Positional and keyword arguments for a minimal valid call of ``op`` (``full``: every parameter)."""
    raw_params = {
        (p["in"], p["name"]): p for p in (s.deref(x) for x in [*op.path_params, *op.op.get("parameters", [])])
    }
    content = (op.op.get("requestBody") or {}).get("content") or {}
    media = content.get("multipart/form-data" if op.entry.get("body") == "multipart" else "application/json")
    body_props = s.object_fields(media["schema"])[0] if media else {}
    args: list[Any] = []
    kwargs: dict[str, Any] = {}
    path_params = [p for p in op.params if p.where == "path"]
    extra = set(_body_required(s, media["schema"])) if media else set()
    for p in op.params:
        if not full and not p.required and not (p.where == "body" and p.wire in extra):
            continue
        if p.where == "body":
            value = "v=0\r\n" if p.name == "sdp" else synth(s, body_props.get(p.wire, {}))
        else:
            wire = p.wire + "[]" if (p.where, p.wire + "[]") in raw_params else p.wire
            raw = raw_params.get((p.where, wire), {})
            example = raw.get("example", s.deref(raw.get("schema", {})).get("example"))
            value = example if example is not None else synth(s, raw.get("schema", {}))
            if p.where == "path" and not isinstance(value, (str, int)):
                value = "abc123"
        if path_params and p is path_params[-1]:
            args.append(value)
        else:
            kwargs[p.name] = value
    return args, kwargs


# ------------------------------------------------------------------------------------------------ checks


def _type_of(name: str, modules: dict[str, str]) -> Any:
    module = importlib.import_module(f"openai_async.types.{modules[name]}")
    return getattr(module, name)


def union_members(typ: Any) -> set[Any]:
    """The members of a union alias, nested unions and ``Alternatives`` (same-tag members) flattened."""
    from openai_async._core.decode import _union_args

    return set(_union_args(typ))


def check_result(op: gen.Operation, result: Any, modules: dict[str, str]) -> str:
    """'' when ``result`` has the method's return type, else why not."""
    from openai_async._core.pagination import AsyncPage
    from openai_async._core.response import BinaryResponse

    kind = op.entry["kind"]
    if kind == "list":
        if not isinstance(result, AsyncPage):
            return f"list returned {type(result).__name__}, not a page"
        expected, values = op.item, list(result.data)
    else:
        expected, values = op.returns, [result]
    for value in values:
        if expected == "None":
            ok = value is None
        elif expected == "BinaryResponse":
            ok = isinstance(value, BinaryResponse)
        elif expected == "str":
            ok = isinstance(value, str)
        elif expected == "dict[str, Any]":
            ok = isinstance(value, dict)
        else:
            typ = _type_of(str(expected), modules)
            if isinstance(typ, type) and issubclass(typ, msgspec.Struct):
                ok = isinstance(value, typ)
            else:  # a union alias: the value must be one of its structs (Alternatives members included)
                ok = isinstance(value, msgspec.Struct) and type(value) in union_members(typ)
            if ok and isinstance(value, msgspec.Struct):
                try:  # strict re-check: what we decoded must satisfy the type without leniency
                    msgspec.convert(msgspec.to_builtins(value), type(value))
                except msgspec.ValidationError as exc:
                    return f"decoded {type(value).__name__} fails strict check: {exc}"
        if not ok:
            return f"response is {type(value).__name__}, expected {expected}"
    return ""


def rejection(exc: Exception) -> str:
    """A one-line reason for a failed call (Prism's validation messages when it rejected the request)."""
    from openai_async import APIStatusError

    if not isinstance(exc, APIStatusError):
        return f"{type(exc).__name__}: {exc}"[:300]
    detail = ""
    body = exc.body
    if isinstance(body, dict) and isinstance(body.get("validation"), list):
        detail = "; ".join(f"{v.get('location')}: {v.get('message')}" for v in body["validation"][:4])
    violations = exc.headers.get("sl-violations") if exc.headers else None
    if violations:
        try:
            items = msgspec.json.decode(violations)
            detail = "; ".join(f"{v.get('location')}: {v.get('message')}" for v in items[:4])
        except msgspec.DecodeError:
            detail = violations[:200]
    return f"HTTP {exc.status_code}: {detail or str(body)[:200]}"


# -------------------------------------------------------------------------------------------------- runner


def operations(spec: dict[str, Any]) -> list[gen.Operation]:
    spaces = gen.build(spec, gen.load_table())
    return [o for ns in spaces.values() for o in ns.operations]


async def run_one(
    client: Any, s: gen.Spec, op: gen.Operation, modules: dict[str, str], full: bool = False
) -> Outcome:
    name = f"{op.entry['ns']}.{op.entry['method']}"
    method: Any = client
    for part in name.split("."):
        method = getattr(method, part)
    try:
        args, kwargs = call_arguments(s, op, full)
        call = method(*args, **kwargs)
        result = await asyncio.wait_for(_resolve(call), 90)
        try:
            problem = check_result(op, result, modules)
        finally:
            if hasattr(result, "aclose"):
                await result.aclose()
    except Exception as exc:  # every failure is reported, none stops the run
        return Outcome(op.op_id, name, False, rejection(exc))
    return Outcome(op.op_id, name, not problem, problem)


async def _resolve(call: Any) -> Any:
    return await call


async def run(
    base_url: str, only: str | None = None, concurrency: int = 4, full: bool = False
) -> list[Outcome]:
    """Call every operation (or those whose id/name contains ``only``) once; return the outcomes.

    ``full`` also sends every optional parameter (a diagnostic for wire names; some optional parameters
    exclude each other, so this mode has no floor).
    """
    from openai_async import AsyncOpenAI

    spec = gen._load_spec()
    s = gen.Spec(spec)
    modules = gen._load_schema_module(spec) or {}
    ops = [
        o
        for o in operations(spec)
        if not only or only in o.op_id or only in f"{o.entry['ns']}.{o.entry['method']}"
    ]
    limit = asyncio.Semaphore(concurrency)
    async with AsyncOpenAI(api_key="sk-conformance", base_url=base_url, max_retries=0, timeout=120) as client:

        async def guarded(op: gen.Operation) -> Outcome:
            async with limit:
                return await run_one(client, s, op, modules, full)

        return list(await asyncio.gather(*(guarded(o) for o in ops)))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default=os.environ.get("OPENAI_ASYNC_PRISM_URL"), help="Prism base URL")
    parser.add_argument("-k", dest="only", help="only operations whose id or name contains this")
    parser.add_argument("-v", action="store_true", help="also list passing operations")
    parser.add_argument("--full", action="store_true", help="send every optional parameter too (diagnostic)")
    args = parser.parse_args(argv)
    if not args.url:
        parser.error("no Prism URL: start scripts/prism.sh and pass --url or set OPENAI_ASYNC_PRISM_URL")
    started = time.perf_counter()
    outcomes = asyncio.run(run(args.url, args.only, full=args.full))
    for o in sorted(outcomes, key=lambda o: o.name):
        if not o.ok:
            print(f"FAIL {o.name} ({o.op_id}): {o.reason}")
        elif args.v:
            print(f"ok   {o.name} ({o.op_id})")
    passed = sum(o.ok for o in outcomes)
    print(f"conformance: {passed}/{len(outcomes)} ({time.perf_counter() - started:.1f}s)")
    return 0 if passed == len(outcomes) else 1


if __name__ == "__main__":
    raise SystemExit(main())
