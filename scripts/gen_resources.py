"""Generate ``openai_async/resources/**``: one typed coroutine per operation of the vendored OpenAPI spec.

``render(spec, spec_hash)`` is called by ``scripts/generate.py``; it returns ``{relpath under openai_async/:
text}``. What each operation is called (namespace, method, kind) comes from ``scripts/operations.toml``, the
committed source of truth. That table was derived from the official ``openai`` SDK and the spec's
``x-oaiMeta`` Python snippets; ``python scripts/gen_resources.py --verify`` re-derives it and prints every
difference, ``--derive`` rewrites it (then review ``git diff``).

The shape of the generated code is fixed by ``docs/CONTRACTS.md`` ("Generated resources call the core").
"""

from __future__ import annotations

import argparse
import ast
import importlib.util
import keyword
import re
import sys
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import tomllib

ROOT = Path(__file__).resolve().parent.parent
TABLE_PATH = ROOT / "scripts" / "operations.toml"
OVERRIDES_PATH = ROOT / "scripts" / "overrides.toml"
HTTP_METHODS = ("get", "post", "put", "patch", "delete")
REFERENCE = "https://platform.openai.com/docs/api-reference"
# Keys of RequestOptions: a spec parameter with one of these names would shadow a per-call option.
RESERVED = {
    "self",
    "options",
    "extra_headers",
    "extra_query",
    "extra_body",
    "timeout",
    "max_retries",
    "idempotency_key",
    "retry",
}
# Event types of stream-capable operations whose spec declares no text/event-stream schema.
STREAM_EVENT_FALLBACK = {
    "createCompletion": "CreateCompletionResponse",
    "createThreadAndRun": "AssistantStreamEvent",
    "createRun": "AssistantStreamEvent",
    "submitToolOuputsToRun": "AssistantStreamEvent",
    "getResponse": "ResponseStreamEvent",
    "beta_getResponse": "BetaResponseStreamEvent",
}
# The spec declares only the JSON bodies of these operations, but response_format picks the body: plain text
# for text/srt/vtt (returned as str), one struct per JSON format. (operationId: (parameter, default, format ->
# return type)); the official SDK has the same overloads.
RESPONSE_FORMATS: dict[str, tuple[str, str, dict[str, str]]] = {
    "createTranscription": (
        "response_format",
        "json",
        {
            "json": "CreateTranscriptionResponseJson",
            "verbose_json": "CreateTranscriptionResponseVerboseJson",
            "diarized_json": "CreateTranscriptionResponseDiarizedJson",
            "text": "str",
            "srt": "str",
            "vtt": "str",
        },
    ),
    "createTranslation": (
        "response_format",
        "json",
        {
            "json": "CreateTranslationResponseJson",
            "verbose_json": "CreateTranslationResponseVerboseJson",
            "text": "str",
            "srt": "str",
            "vtt": "str",
        },
    ),
}
# client.beta.<name> aliases of top-level namespaces that the official SDK still exposes (same routes, so the
# operation table names them once, at the top level).
BETA_ALIASES = {"chat": "chat"}
SDK_PAGE_KIND = {
    "AsyncCursorPage": "cursor",
    "AsyncConversationCursorPage": "cursor",
    "AsyncNextCursorPage": "next",
    "AsyncPage": "single",
}


# --------------------------------------------------------------------------------------------- spec access


def iter_operations(spec: dict[str, Any]) -> list[tuple[str, str, dict[str, Any], list[Any]]]:
    """Every operation as ``(METHOD, path key, operation, path-level parameters)``, in spec order."""
    return [
        (method.upper(), path, item[method], item.get("parameters", []))
        for path, item in spec["paths"].items()
        for method in HTTP_METHODS
        if method in item
    ]


class Spec:
    """Strictly private. ``$ref`` resolution and schema walking over the parsed spec."""

    def __init__(self, spec: dict[str, Any]) -> None:
        self.spec = spec
        self.schemas: dict[str, Any] = spec.get("components", {}).get("schemas", {})

    def deref(self, obj: Any) -> Any:
        seen = 0
        while isinstance(obj, dict) and "$ref" in obj and seen < 50:
            parts = obj["$ref"].lstrip("#/").split("/")
            target: Any = self.spec
            for part in parts:
                target = target[part]
            obj, seen = target, seen + 1
        return obj

    @staticmethod
    def ref_name(obj: Any) -> str | None:
        if isinstance(obj, dict) and "$ref" in obj:
            return str(obj["$ref"]).rsplit("/", 1)[-1]
        return None

    def object_fields(self, schema: Any) -> tuple[dict[str, Any], list[str]]:
        """Properties and required names of an object schema, following ``allOf`` (not ``anyOf``/``oneOf``)."""
        schema = self.deref(schema)
        props: dict[str, Any] = {}
        required: list[str] = []
        if not isinstance(schema, dict):
            return props, required
        for part in schema.get("allOf", []):
            sub_props, sub_req = self.object_fields(part)
            props.update(sub_props)
            required += [r for r in sub_req if r not in required]
        props.update(schema.get("properties", {}))
        required += [r for r in schema.get("required", []) if r not in required]
        return props, required

    type_names: frozenset[str] = frozenset()
    """Schema names the types layer defines; an object parameter of such a schema accepts that struct too."""

    def annotation(self, schema: Any, depth: int = 0) -> str:
        """A Python annotation for a parameter schema: exact for scalars; objects as ``Mapping[str, Any]`` (a
        ``dict``, or a ``TypedDict`` such as ``ChatCompletionUserMessageParam``), or ``Mapping[str, Any] | Name``
        when they are a named schema of the types layer."""
        if depth > 6:
            return "Any"
        name = self.ref_name(schema)
        if name is not None and isinstance(schema, dict) and schema.get("nullable"):
            # {$ref: X, nullable: true} (CreateRunRequest.response_format): X, or None
            return _union([self.annotation({"$ref": schema["$ref"]}, depth), "None"])
        schema = self.deref(schema)
        if name in self.type_names and self._object_like(schema):
            return _union(["Mapping[str, Any]", str(name), *(["None"] if self._nullable(schema) else [])])
        if not isinstance(schema, dict) or not schema:
            return "Any"
        parts: list[str] = []
        real = [a for a in schema.get("allOf", []) if not _modifier(a)]
        if len(real) == 1 and len(schema["allOf"]) > 1 and "properties" not in schema:
            # allOf [X, {nullable: true}]: X, or None (CreateRunRequest.tool_choice / truncation_strategy)
            nullable = schema.get("nullable") or any(a.get("nullable") for a in schema["allOf"])
            return _union([self.annotation(real[0], depth + 1), *(["None"] if nullable else [])])
        if "const" in schema:
            parts.append(f"Literal[{_literal(schema['const'])}]")
        elif "enum" in schema:
            values = [v for v in schema["enum"] if v is not None]
            parts.append(f"Literal[{', '.join(_literal(v) for v in values)}]" if values else "None")
            if None in schema["enum"]:
                parts.append("None")
        elif "anyOf" in schema or "oneOf" in schema:
            parts += [self.annotation(s, depth + 1) for s in schema.get("anyOf", schema.get("oneOf", []))]
        elif len(schema.get("allOf", [])) == 1 and "properties" not in schema:
            parts.append(self.annotation(schema["allOf"][0], depth + 1))
        else:
            types = schema.get("type")
            for t in types if isinstance(types, list) else [types]:
                parts.append(self._scalar(t, schema, depth))
        if schema.get("nullable"):
            parts.append("None")
        return _union(parts)

    def _nullable(self, schema: dict[str, Any]) -> bool:
        """``nullable``, or an ``anyOf`` / ``oneOf`` alternative of type null (``Metadata``)."""
        alternatives = schema.get("anyOf") or schema.get("oneOf") or []
        return bool(schema.get("nullable")) or any(self.deref(a).get("type") == "null" for a in alternatives)

    def _object_like(self, schema: Any, depth: int = 0) -> bool:
        schema = self.deref(schema)
        if not isinstance(schema, dict) or "enum" in schema or "const" in schema or depth > 8:
            return False
        alternatives = schema.get("oneOf") or schema.get("anyOf")
        if alternatives and "properties" not in schema:
            real = [a for a in alternatives if self.deref(a).get("type") != "null"]
            return bool(real) and all(self._object_like(a, depth + 1) for a in real)
        return schema.get("type") == "object" or "properties" in schema or "allOf" in schema

    def _scalar(self, t: str | None, schema: dict[str, Any], depth: int) -> str:
        if t == "string":
            return "FileTypes" if schema.get("format") == "binary" else "str"
        if t == "integer":
            return "int"
        if t == "number":
            return "float"
        if t == "boolean":
            return "bool"
        if t == "null":
            return "None"
        if t == "array":
            inner = self.annotation(schema.get("items", {}), depth + 1)
            # Iterable (covariant, as the official SDK types ``messages``, ``tools``, ``input``) where items may be
            # structs: a list[SomeStruct] or a generator is accepted; the body encoder reads any iterable as a list.
            return f"{'Iterable' if 'Mapping[' in inner else 'list'}[{inner}]"
        if t == "object" or "properties" in schema or "allOf" in schema:
            return "Mapping[str, Any]"
        return "Any"


def _modifier(schema: Any) -> bool:
    """An ``allOf`` entry that only qualifies the others (``{nullable: true}``, a description): no type of its own."""
    shape = ("$ref", "type", "properties", "allOf", "anyOf", "oneOf", "enum", "const", "items")
    return isinstance(schema, dict) and not any(k in schema for k in shape)


def _literal(value: Any) -> str:
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return repr(value)


def _union(parts: list[str]) -> str:
    out: list[str] = []
    for p in parts:
        for piece in _split_union(p):
            if piece not in out:
                out.append(piece)
    if "Any" in out or not out:
        return "Any"
    if "str" in out:  # a Literal next to plain str says nothing more
        out = [
            p
            for p in out
            if not (p.startswith("Literal[") and all(v.startswith('"') for v in p[8:-1].split(", ")))
        ]
    if "None" in out:
        out = [p for p in out if p != "None"] + ["None"]
    return " | ".join(out)


def _split_union(text: str) -> list[str]:
    pieces, depth, cur = [], 0, ""
    for ch in text:
        depth += ch == "["
        depth -= ch == "]"
        if ch == "|" and depth == 0:
            pieces.append(cur.strip())
            cur = ""
        else:
            cur += ch
    pieces.append(cur.strip())
    return pieces


def python_name(wire: str) -> str:
    """Spec parameter or field name -> Python identifier (``include[]`` -> ``include``, ``from`` -> ``from_``)."""
    name = re.sub(r"\W", "_", wire.removesuffix("[]")).strip("_") or "value"
    if name[0].isdigit():
        name = "_" + name
    if keyword.iskeyword(name) or name in RESERVED:
        name += "_"
    return name


def camel(text: str) -> str:
    return "".join(p[:1].upper() + p[1:] for p in re.split(r"[^0-9A-Za-z]+", text) if p)


# ------------------------------------------------------------------------------------------ operation table


def load_table(path: Path = TABLE_PATH) -> dict[str, dict[str, Any]]:
    """The committed operation table: ``{operationId: {http, ns, method, kind, ...}}``."""
    with path.open("rb") as fh:
        return tomllib.load(fh)


def dump_table(table: dict[str, dict[str, Any]]) -> str:
    lines = [
        "# operationId -> official-SDK name: the source of truth for scripts/gen_resources.py.",
        "# http: the operation; ns + method: where it lives on AsyncOpenAI (client.<ns>.<method>);",
        "# kind: plain | list (page: cursor | next | single) | stream (stream_event: the SSE payload schema)",
        "#       | binary (BinaryResponse) | empty (no body, returns None) | text (str);",
        "# body: json | multipart | sdp (absent: no request body);",
        "# source: sdk (the installed official SDK hits this path) | snippet (spec x-oaiMeta example) | ours.",
        "# Re-derive and diff: python scripts/gen_resources.py --verify",
        "",
    ]
    keys = ("http", "ns", "method", "kind", "page", "stream_event", "body", "source")
    for op_id, entry in table.items():
        lines.append(f"[{_toml_key(op_id)}]")
        lines += [f'{k} = "{entry[k]}"' for k in keys if k in entry]
        lines.append("")
    return "\n".join(lines)


def _toml_key(key: str) -> str:
    return key if re.fullmatch(r"[A-Za-z0-9_-]+", key) else f'"{key}"'


def _norm_path(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "{}", path)


def scan_sdk() -> list[dict[str, Any]]:
    """Every public method of the installed official SDK's async resources that calls the API.

    Reads the SDK's source with ``ast`` (facts only: namespace, method name, HTTP method, path, page class).
    """
    import ast
    import functools
    import inspect
    import textwrap

    import openai
    from openai._resource import AsyncAPIResource

    verbs = {
        "_get": "GET",
        "_post": "POST",
        "_delete": "DELETE",
        "_patch": "PATCH",
        "_put": "PUT",
        "_get_api_list": "LIST",
    }
    found: list[dict[str, Any]] = []

    def methods(cls: type) -> list[dict[str, Any]]:
        tree = ast.parse(textwrap.dedent(inspect.getsource(cls)))
        rows = []
        for node in tree.body[0].body:  # type: ignore[attr-defined]
            if not isinstance(node, ast.AsyncFunctionDef | ast.FunctionDef) or node.name.startswith("_"):
                continue
            deprecated = any("deprecated" in ast.unparse(d) for d in node.decorator_list)
            for call in ast.walk(node):
                if not (
                    isinstance(call, ast.Call)
                    and isinstance(call.func, ast.Attribute)
                    and isinstance(call.func.value, ast.Name)
                    and call.func.value.id == "self"
                    and call.func.attr in verbs
                    and call.args
                ):
                    continue
                arg = call.args[0]
                if isinstance(arg, ast.Call) and getattr(arg.func, "id", "") == "path_template":
                    arg = arg.args[0]
                if not (isinstance(arg, ast.Constant) and isinstance(arg.value, str)):
                    continue
                verb, page = verbs[call.func.attr], None
                if verb == "LIST":
                    kw = {k.arg: ast.unparse(k.value) for k in call.keywords}
                    verb = "POST" if "post" in kw.get("method", "") else "GET"
                    page = kw.get("page", "").split("[")[0]
                rows.append(
                    {
                        "method": node.name,
                        "verb": verb,
                        "path": arg.value,
                        "deprecated": deprecated,
                        "page": page,
                        "returns": ast.unparse(node.returns) if node.returns else "",
                    }
                )
        return rows

    def walk(obj: Any, prefix: tuple[str, ...]) -> None:
        for name in dir(type(obj)):
            if name.startswith("_") or name.startswith("with_"):
                continue
            if isinstance(inspect.getattr_static(type(obj), name), functools.cached_property):
                child = getattr(obj, name)
                if isinstance(child, AsyncAPIResource):
                    found.extend({"ns": ".".join((*prefix, name)), **row} for row in methods(type(child)))
                    walk(child, (*prefix, name))

    walk(openai.AsyncOpenAI(api_key="unused", base_url="http://127.0.0.1:9"), ())
    return found


def derive_table(spec: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Rebuild the operation table from the installed SDK, the spec snippets and the spec itself."""
    s = Spec(spec)
    by_route: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for row in scan_sdk():
        by_route[(row["verb"], _norm_path(row["path"]))].append(row)
    table: dict[str, dict[str, Any]] = {}
    for verb, path, op, _ in iter_operations(spec):
        op_id = op["operationId"]
        entry: dict[str, Any] = {"http": f"{verb} {path}"}
        # Prefer a current, non-deprecated, non-alias SDK method (beta.chat.* mirrors chat.*).
        rows = sorted(
            by_route.get((verb, _norm_path(path)), []),
            key=lambda r: (r["deprecated"], r["ns"].startswith("beta.chat")),
        )
        snippets = _snippet_calls(op)
        sdk = rows[0] if rows else None
        if sdk:
            entry.update(ns=sdk["ns"], method=sdk["method"], source="sdk")
        elif snippets:
            ns, _, method = snippets[0].rpartition(".")
            entry.update(ns=ns, method=method, source="snippet")
        else:
            entry.update(ns="?", method="?", source="ours")
        body = _body_kind(op)
        success = _success(op)
        content = success.get("content") or {}
        if sdk and sdk["page"]:
            entry.update(kind="list", page=SDK_PAGE_KIND[sdk["page"]])
        elif "application/sdp" in content:
            entry["kind"] = "text"  # the SDP answer; the SDK hands back raw bytes, text is what callers use
        elif (sdk and "BinaryResponse" in sdk["returns"]) or (
            content and not any(ct.endswith("json") or ct == "text/event-stream" for ct in content)
        ):
            entry["kind"] = "binary"
        elif _stream_event(s, op):
            entry.update(kind="stream", stream_event=_stream_event(s, op))
        elif not content:
            entry["kind"] = "empty"
        else:
            entry["kind"] = "plain"
        if body:
            entry["body"] = body
        table[op_id] = entry
    return table


def _snippet_calls(op: dict[str, Any]) -> list[str]:
    examples = (op.get("x-oaiMeta") or {}).get("examples")
    examples = examples if isinstance(examples, list) else [examples] if examples else []
    calls: list[str] = []
    for ex in examples:
        request = (ex or {}).get("request") if isinstance(ex, dict) else None
        code = request.get("python") if isinstance(request, dict) else None
        for call in re.findall(r"client\.([A-Za-z_.]+)\(", code or ""):
            if call not in calls:
                calls.append(call)
    return calls


def _success(op: dict[str, Any]) -> dict[str, Any]:
    for code, response in op.get("responses", {}).items():
        if str(code).startswith("2"):
            return response if isinstance(response, dict) else {}
    return {}


def _body_kind(op: dict[str, Any]) -> str | None:
    content = (op.get("requestBody") or {}).get("content") or {}
    if "application/sdp" in content:
        return "sdp"
    if "multipart/form-data" in content:
        return "multipart"
    if "application/json" in content:
        return "json"
    return None


def _stream_event(s: Spec, op: dict[str, Any]) -> str | None:
    event = (_success(op).get("content") or {}).get("text/event-stream")
    has_flag = any(s.deref(p).get("name") == "stream" for p in op.get("parameters", []))
    for media in ((op.get("requestBody") or {}).get("content") or {}).values():
        has_flag = has_flag or "stream" in s.object_fields(media.get("schema", {}))[0]
    if not has_flag:
        return None  # e.g. audio.speech: SSE only through stream_format; the SDK gives it no stream keyword
    return (s.ref_name((event or {}).get("schema")) if event else None) or STREAM_EVENT_FALLBACK.get(
        op["operationId"]
    )


# ------------------------------------------------------------------------------------------------ rendering


HEADER = (
    "# Generated by `python scripts/generate.py` from spec/openapi.yaml (sha256 {hash}).\n"
    "# DO NOT EDIT: change scripts/gen_resources.py, scripts/operations.toml or scripts/overrides.toml.\n"
)
# The core's _request is typed Any -> Any; each method's annotation is the typed contract.
MYPY_DIRECTIVE = '# mypy: disable-error-code="no-any-return"\n'


@dataclass
class Param:
    """Strictly private. One method parameter: where it goes on the wire and how it is typed."""

    name: str  # Python name
    wire: str  # name on the wire (query key without [], body field, path placeholder, header)
    where: str  # path | query | body | header
    annotation: str
    required: bool
    description: str = ""  # first sentence of the spec's description (the docstring's ``Args:`` entry)


@dataclass
class Operation:
    """Strictly private. Everything the templates need about one operation."""

    op_id: str
    verb: str
    path: str  # without ?query
    fixed_query: dict[str, str]
    entry: dict[str, Any]
    op: dict[str, Any]
    path_params: list[Any] = field(default_factory=list)  # path-item level parameters of the spec
    params: list[Param] = field(default_factory=list)
    returns: str = "None"  # schema name, "dict[str, Any]", "BinaryResponse", "str" or "None"
    item: str | None = None
    stream_event: str | None = None


@dataclass
class Namespace:
    """Strictly private. One resource class."""

    path: str  # "chat.completions"
    module: str  # module key, e.g. "chat" or "beta/threads"
    class_name: str = ""
    operations: list[Operation] = field(default_factory=list)
    children: list[str] = field(default_factory=list)


def _module_of(ns: str) -> str:
    parts = ns.split(".")
    if parts[0] == "beta" and len(parts) > 1:
        return f"beta/{parts[1]}"
    return parts[0]


def _load_schema_module(spec: dict[str, Any]) -> dict[str, str] | None:
    """The types layer's schema -> module map (``gen_types.schema_modules``), or None before it exists."""
    module = sys.modules.get("gen_types")
    if module is None:
        path = ROOT / "scripts" / "gen_types.py"
        loader_spec = importlib.util.spec_from_file_location("gen_types", path) if path.exists() else None
        if loader_spec is None or loader_spec.loader is None:
            return None
        module = importlib.util.module_from_spec(loader_spec)
        sys.modules["gen_types"] = module
        loader_spec.loader.exec_module(module)
    if hasattr(module, "schema_modules"):
        return dict(module.schema_modules(spec))
    mapping = getattr(module, "SCHEMA_MODULE", None)
    return dict(mapping) if mapping else None


def _load_overrides() -> dict[str, Any]:
    if not OVERRIDES_PATH.exists():
        return {}
    with OVERRIDES_PATH.open("rb") as fh:
        data = tomllib.load(fh)
    section = data.get("resources", {})
    return section if isinstance(section, dict) else {}


def build(
    spec: dict[str, Any], table: dict[str, dict[str, Any]], type_names: frozenset[str] = frozenset()
) -> dict[str, Namespace]:
    """Turn spec + table into namespaces holding fully described operations."""
    s = Spec(spec)
    s.type_names = type_names
    spaces: dict[str, Namespace] = {}

    def ensure(ns: str) -> Namespace:
        if ns not in spaces:
            spaces[ns] = Namespace(ns, _module_of(ns))
            parent, _, _ = ns.rpartition(".")
            if parent:
                ensure(parent).children.append(ns)
        return spaces[ns]

    missing = [op["operationId"] for _, _, op, _ in iter_operations(spec) if op["operationId"] not in table]
    if missing:
        raise SystemExit(f"operations.toml has no entry for: {', '.join(missing)}")
    for verb, path_key, op, path_params in iter_operations(spec):
        entry = table[op["operationId"]]
        path, _, qs = path_key.partition("?")
        fixed = dict(p.split("=", 1) for p in qs.split("&") if "=" in p)
        o = Operation(op["operationId"], verb, path, fixed, entry, op, path_params)
        o.params = _params(s, op, path_params, entry)
        _returns(s, o)
        ensure(entry["ns"]).operations.append(o)
    for ns in spaces.values():
        names = [o.entry["method"] for o in ns.operations] + [c.rsplit(".", 1)[1] for c in ns.children]
        dupes = {n for n in names if names.count(n) > 1}
        if dupes:
            raise SystemExit(f"{ns.path}: duplicate attribute names {sorted(dupes)}")
    _name_classes(spaces, set(s.schemas))
    return spaces


def _params(s: Spec, op: dict[str, Any], path_params: list[Any], entry: dict[str, Any]) -> list[Param]:
    params: list[Param] = []
    by_name: dict[str, Any] = {}
    for raw in [*path_params, *op.get("parameters", [])]:
        p = s.deref(raw)
        by_name[(p["in"], p["name"])] = p
    for (where, wire), p in by_name.items():
        schema = p.get("schema", {})
        name = python_name(s.deref(schema).get("x-stainless-param") or wire)
        wire_key = wire.removesuffix("[]") if where == "query" else wire
        params.append(
            Param(
                name,
                wire_key,
                where,
                s.annotation(schema),
                bool(p.get("required")) or where == "path",
                _first_sentence(p.get("description") or s.deref(schema).get("description")),
            )
        )
    body = entry.get("body")
    content = (op.get("requestBody") or {}).get("content") or {}
    if body == "sdp":
        params.append(Param("sdp", "sdp", "body", "str", True))
        mp = content.get("multipart/form-data")
        if mp:
            props, _ = s.object_fields(mp["schema"])
            for wire, schema in props.items():
                if wire != "sdp":
                    params.append(Param(python_name(wire), wire, "body", s.annotation(schema), False))
    elif body:
        media = content["multipart/form-data" if body == "multipart" else "application/json"]
        props, required = s.object_fields(media.get("schema", {}))
        for wire, schema in props.items():
            description = schema.get("description") or s.deref(schema).get("description")
            params.append(
                Param(python_name(wire), wire, "body", s.annotation(schema), wire in required, _first_sentence(description))
            )
    # One Python name per parameter: a body field that repeats a query name keeps a suffix.
    seen: set[str] = set()
    for p in params:
        while p.name in seen:
            p.name += "_" + p.where
        seen.add(p.name)
    return params


def _returns(s: Spec, o: Operation) -> None:
    kind = o.entry["kind"]
    content = _success(o.op).get("content") or {}
    schema = (content.get("application/json") or {}).get("schema")
    if kind == "binary":
        o.returns = "BinaryResponse"
    elif kind == "text":
        o.returns = "str"
    elif kind == "empty" or not schema:
        o.returns = "None"
    else:
        o.returns = s.ref_name(schema) or "dict[str, Any]"
    if o.op_id in RESPONSE_FORMATS:  # the default format's body (see RESPONSE_FORMATS)
        _, default, by_format = RESPONSE_FORMATS[o.op_id]
        o.returns = by_format[default]
    if kind == "list":
        props, _ = s.object_fields(schema or {})
        items = s.deref(props.get("data", {})).get("items", {}) if "data" in props else {}
        o.item = s.ref_name(items) or "dict[str, Any]"
    if kind == "stream":
        o.stream_event = o.entry["stream_event"]


def _name_classes(spaces: dict[str, Namespace], taken: set[str]) -> None:
    """Shortest unique CamelCase suffix of the namespace path; never a schema name (those get imported)."""
    by_module: dict[str, list[Namespace]] = defaultdict(list)
    for ns in spaces.values():
        by_module[ns.module].append(ns)
    for group in by_module.values():
        for ns in group:
            parts = ns.path.split(".")
            for n in range(1, len(parts) + 1):
                suffix = parts[-n:]
                if not any(o is not ns and o.path.split(".")[-n:] == suffix for o in group):
                    break
            name = camel("_".join(suffix))
            ns.class_name = next(c for c in (name, name + "Resource", name + "Namespace") if c not in taken)


# ---------------------------------------------------------------------------------------------- templates


class _Module:
    """Strictly private. Collects the text and imports of one generated module."""

    def __init__(self, key: str, schema_module: dict[str, str] | None) -> None:
        self.key = key
        self.depth = key.count("/") + 1  # dots to reach openai_async
        self.schema_module = schema_module
        self.types: dict[str, set[str]] = defaultdict(set)
        self.hints: dict[str, set[str]] = defaultdict(set)  # names only annotations use: TYPE_CHECKING
        self.needs: set[str] = set()
        self.mixins: dict[str, set[str]] = defaultdict(set)
        self.helper_hints: dict[str, set[str]] = defaultdict(set)  # helper return types: TYPE_CHECKING
        self.structs: list[str] = []
        self.classes: list[str] = []

    def use_type(self, name: str | None) -> None:
        if name and name[:1].isupper() and name not in ("BinaryResponse", "None"):
            module = (self.schema_module or {}).get(name, "")
            self.types[module].add(name)

    def use_hints(self, annotation: str) -> None:
        """Import (for type checkers only) the schema names an annotation mentions."""
        for token in re.findall(r"[A-Za-z_][A-Za-z0-9_]*", annotation):
            if self.schema_module and token in self.schema_module and token[:1].isupper():
                self.hints[self.schema_module[token]].add(token)
        if "Iterable[" in annotation:
            self.needs.add("Iterable")
        if "Mapping[" in annotation:
            self.needs.add("Mapping")
        if "Literal[" in annotation:
            self.needs.add("Literal")

    def header_and_imports(self, spec_hash: str, doc: str) -> str:
        up = "." * (self.depth + 1)
        runtime = {n for names in self.types.values() for n in names}
        hints = {m: names - runtime for m, names in self.hints.items() if names - runtime}
        if hints or self.helper_hints:
            self.needs.add("TYPE_CHECKING")
        lines = [
            HEADER.format(hash=spec_hash) + MYPY_DIRECTIVE.rstrip("\n"),
            f'"""{doc}"""',
            "",
            "from __future__ import annotations",
            "",
        ]
        if "builtins" in self.needs:
            lines.append("import builtins")
        abc = [n for n in ("Iterable", "Mapping") if n in self.needs]
        if abc:
            lines.append(f"from collections.abc import {', '.join(abc)}")
        if "cached_property" in self.needs:
            lines.append("from functools import cached_property")
        typing_names = [
            n for n in ("TYPE_CHECKING", "Any", "Literal", "overload") if n in self.needs or n == "Any"
        ]
        lines.append(f"from typing import {', '.join(typing_names)}")
        lines.append("")
        if "msgspec" in self.needs:
            lines += ["import msgspec", ""]
        core = [
            ("_core.resource", ["APIResource"] + (["path_segment"] if "path_segment" in self.needs else [])),
            (
                "_core.types",
                [
                    n
                    for n in ("UNSET", "FileTypes", "RequestOptions", "UnsetType", "Unpack")
                    if n in self.needs or n in ("RequestOptions", "Unpack")
                ],
            ),
        ]
        if "AsyncStream" in self.needs:
            core.append(("_core.streaming", ["AsyncStream"]))
        if "AsyncPaginator" in self.needs:
            core.append(("_core.pagination", ["AsyncPaginator"]))
        if "BinaryResponse" in self.needs:
            core.append(("_core.response", ["BinaryResponse"]))
        for mod, names in core:
            lines.append(_import(f"{up}{mod}", names))
        for mod, names in sorted(self.types.items()):
            lines.append(_import(f"{up}types.{mod}" if mod else f"{up}types", sorted(names)))
        for mod, names in sorted(self.mixins.items()):
            lines.append(_import(mod, sorted(names)))
        if hints or self.helper_hints:
            lines += ["", "if TYPE_CHECKING:"]
            for mod, names in sorted(self.helper_hints.items()):
                lines += ["    " + line for line in _import(mod, sorted(names)).split("\n")]
            for mod, names in sorted(hints.items()):
                lines += ["    " + line for line in _import(f"{up}types.{mod}", sorted(names)).split("\n")]
        return "\n".join(lines) + "\n"


def _import(module: str, names: list[str]) -> str:
    line = f"from {module} import {', '.join(names)}"
    if len(line) <= 110:
        return line
    return f"from {module} import (\n" + "".join(f"    {n},\n" for n in names) + ")"


def render(spec: dict[str, Any], spec_hash: str) -> dict[str, str]:
    """Render every resource module: ``{relpath under openai_async/: text}``."""
    table = load_table()
    overrides = _load_overrides()
    mixins: dict[str, str] = dict(overrides.get("mixins", {}))
    helpers: dict[str, dict[str, Any]] = dict(overrides.get("helpers", {}))
    schema_module = _load_schema_module(spec)
    type_names = frozenset(n for n in (schema_module or {}) if n.isidentifier())
    spaces = build(spec, table, type_names)
    modules: dict[str, _Module] = {}
    for ns in spaces.values():
        if ns.module == "beta":
            continue  # the beta/__init__.py container is written below
        mod = modules.setdefault(ns.module, _Module(ns.module, schema_module))
        _render_class(mod, ns, spaces, mixins, helpers)
    files: dict[str, str] = {}
    for key, mod in sorted(modules.items()):
        doc = f"The ``{key.replace('/', '.')}`` API area."
        text = mod.header_and_imports(spec_hash, doc)
        if mod.structs:
            text += "\n\n" + "\n\n\n".join(mod.structs)
        text += "\n\n\n" + "\n\n\n".join(mod.classes)
        files[f"resources/{key}.py"] = text.rstrip("\n") + "\n"
    files["resources/beta/__init__.py"] = (
        _render_container(
            spec_hash,
            spaces["beta"],
            spaces,
            "The ``beta`` namespace: endpoints the official SDK files under beta.",
            depth=3,
            mixins=mixins,
        )
        if "beta" in spaces
        else ""
    )
    top = [ns for ns in spaces.values() if "." not in ns.path]
    files["resources/_root.py"] = _render_root(spec_hash, top, spaces)
    files["resources/__init__.py"] = HEADER.format(hash=spec_hash) + (
        '"""Generated resource namespaces of ``AsyncOpenAI``; built lazily by ``_root.Resources``."""\n\n'
        "from __future__ import annotations\n\n"
        "from ._root import Resources as Resources\n\n"
        '__all__ = ["Resources"]\n'
    )
    return {k: v for k, v in files.items() if v}


def _render_root(spec_hash: str, top: list[Namespace], spaces: dict[str, Namespace]) -> str:
    lines = [
        HEADER.format(hash=spec_hash).rstrip("\n"),
        '"""``Resources``: the top-level namespaces of ``AsyncOpenAI``, each imported on first use."""',
        "",
        "from __future__ import annotations",
        "",
        "from functools import cached_property",
        "from typing import TYPE_CHECKING",
        "",
        "if TYPE_CHECKING:",
    ]
    for ns in sorted(top, key=lambda n: n.path):
        mod = "beta" if ns.path == "beta" else ns.module
        lines.append(f"    from .{mod.replace('/', '.')} import {ns.class_name}")
    lines += [
        "",
        "",
        "class Resources:",
        '    """Strictly private. The resource namespaces; ``AsyncOpenAI`` inherits them."""',
        "",
    ]
    for ns in sorted(top, key=lambda n: n.path):
        mod = "beta" if ns.path == "beta" else ns.module
        lines += [
            "    @cached_property",
            f"    def {ns.path}(self) -> {ns.class_name}:",
            f"        from .{mod.replace('/', '.')} import {ns.class_name}",
            "",
            f"        return {ns.class_name}(self)  # type: ignore[arg-type]",
            "",
        ]
    return "\n".join(lines).rstrip("\n") + "\n"


def _render_container(
    spec_hash: str, ns: Namespace, spaces: dict[str, Namespace], doc: str, depth: int, mixins: dict[str, str]
) -> str:
    """A class without operations whose children live in sibling modules (only ``beta``)."""
    up = "." * depth
    lines = [
        HEADER.format(hash=spec_hash).rstrip("\n"),
        f'"""{doc}"""',
        "",
        "from __future__ import annotations",
        "",
        "from functools import cached_property",
        "from typing import TYPE_CHECKING",
        "",
        f"from {up}_core.resource import APIResource",
        "",
        "if TYPE_CHECKING:",
    ]
    for child in ns.children:
        c = spaces[child]
        lines.append(f"    from .{c.module.split('/')[1]} import {c.class_name}")
    lines += [
        "",
        "",
        f"class {ns.class_name}(APIResource):",
        f'    """The ``client.{ns.path}`` namespace."""',
        "",
    ]
    for child in ns.children:
        c = spaces[child]
        attr = child.rsplit(".", 1)[1]
        lines += [
            "    @cached_property",
            f"    def {attr}(self) -> {c.class_name}:",
            f"        from .{c.module.split('/')[1]} import {c.class_name}",
            "",
            f"        return {c.class_name}(self._client)",
            "",
        ]
    for attr, target in BETA_ALIASES.items():
        c = spaces[target]
        lines[lines.index("if TYPE_CHECKING:") + 1 : lines.index("if TYPE_CHECKING:") + 1] = [
            f"    from ..{c.module} import {c.class_name}"
        ]
        lines += [
            "    @cached_property",
            f"    def {attr}(self) -> {c.class_name}:",
            f'        """The same namespace as ``client.{target}`` (the official SDK keeps this alias)."""',
            f"        from ..{c.module} import {c.class_name}",
            "",
            f"        return {c.class_name}(self._client)",
            "",
        ]
    return "\n".join(lines).rstrip("\n") + "\n"


def _render_class(
    mod: _Module,
    ns: Namespace,
    spaces: dict[str, Namespace],
    mixins: dict[str, str],
    helpers: dict[str, dict[str, Any]],
) -> None:
    bases = ["APIResource"]
    if ns.path in mixins:
        target, _, cls = mixins[ns.path].partition(":")
        mod.mixins[target].add(cls)
        bases.insert(0, cls)
    lines = [
        f"class {ns.class_name}({', '.join(bases)}):",
        f'    """The ``client.{ns.path}`` namespace."""',
        "",
    ]
    for child in ns.children:
        c = spaces[child]
        if c.module != mod.key:
            raise SystemExit(f"{child}: sub-namespace in another module than {ns.path}")
        mod.needs.add("cached_property")
        lines += [
            "    @cached_property",
            f"    def {child.rsplit('.', 1)[1]}(self) -> {c.class_name}:",
            f"        return {c.class_name}(self._client)",
            "",
        ]
    methods: list[str] = []
    # A helper named like an operation's method (embeddings.create) replaces the generated method.
    replaced = {m.rpartition(".")[2] for m in helpers if m.rpartition(".")[0] == ns.path}
    for o in ns.operations:
        if o.entry["method"] not in replaced:
            methods += _render_method(mod, o)
    for method, conf in sorted(helpers.items()):
        namespace, _, name = method.rpartition(".")
        if namespace == ns.path:
            methods += _render_helper(mod, ns, name, conf, mixins[ns.path])
    if any(o.entry["method"] == "list" for o in ns.operations):
        # inside this class body `list` names the method: annotations must say builtins.list
        methods = [
            re.sub(r"(?<![\w.])list\[", "builtins.list[", m) if m.startswith("        ") else m
            for m in methods
        ]
        if any("builtins.list[" in m for m in methods):
            mod.needs.add("builtins")
    lines += methods
    mod.classes.append("\n".join(lines).rstrip("\n"))


def _summary(op: dict[str, Any]) -> str:
    text = op.get("summary") or op.get("description") or (op.get("x-oaiMeta") or {}).get("name") or ""
    paragraphs = [
        p
        for p in re.split(r"\n\s*\n", text)
        if p.strip() and not p.lstrip().startswith("**") and not re.fullmatch(r"\s*[-*_]{3,}\s*", p)
    ]
    text = paragraphs[0] if paragraphs else (op.get("x-oaiMeta") or {}).get("name", "")
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)
    text = " ".join(text.replace("`", "").split())
    match = re.match(r"(.+?[.!?])(\s|$)", text)
    sentence = match.group(1) if match else text
    sentence = sentence.replace('"""', "'''").replace("\\", "\\\\")
    if sentence and sentence[-1] not in ".!?":
        sentence += "."
    return sentence[:1].upper() + sentence[1:]


def _first_sentence(text: Any, limit: int = 110) -> str:
    """The first sentence of a spec description, as plain text for a docstring line."""
    if not isinstance(text, str):
        return ""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)  # markdown links -> their text
    text = " ".join(text.replace('"""', "'''").replace("\\", "\\\\").split())
    match = re.match(r"(.+?[.!?])(\s|$)", text)
    text = match.group(1) if match else text
    return text if len(text) <= limit else text[: limit - 3].rstrip() + "..."


def _method_docstring(o: Operation) -> str:
    """Summary and reference link, then an ``Args:`` entry per parameter that the spec describes (IDE hovers)."""
    head = f"{_summary(o.op)} See {_reference(o.op)}"
    ordered = sorted(o.params, key=lambda p: not p.required)  # the signature's order: required ones first
    args = [f"            {p.name}: {p.description}" for p in ordered if p.description]
    if not args:
        return f'        """{head}"""'
    return "\n".join([f'        """{head}', "", "        Args:", *args, '        """'])


def _reference(op: dict[str, Any]) -> str:
    meta = op.get("x-oaiMeta") or {}
    group, path = meta.get("group"), meta.get("path")
    if group and path:
        return f"{REFERENCE}/{group}/{path}"
    return f"{REFERENCE}/{group}" if group else REFERENCE


def _render_method(mod: _Module, o: Operation) -> list[str]:
    name = o.entry["method"]
    kind = o.entry["kind"]
    path_params = [p for p in o.params if p.where == "path"]
    # Like the official SDK: the last path parameter is positional, the others keyword-only.
    positional = path_params[-1:] if path_params else []
    keyword_required = [p for p in o.params if p.required and p not in positional]
    keyword_optional = [p for p in o.params if not p.required]
    stream_param = next((p for p in o.params if p.wire == "stream" and p.where in ("body", "query")), None)

    def sig(overrides: dict[str, tuple[str, bool]] | None = None) -> list[str]:
        """The parameter lines; ``overrides`` maps a parameter to (annotation, required) for one overload."""
        overrides = overrides or {}
        required = [p for p in keyword_required if p.name not in overrides]
        required += [p for p in o.params if overrides.get(p.name, ("", False))[1]]
        optional = [p for p in keyword_optional if not overrides.get(p.name, ("", False))[1]]
        out = ["        self,"]
        out += [f"        {p.name}: {p.annotation}," for p in positional]
        if required or optional:
            out.append("        *,")
        out += [f"        {p.name}: {overrides.get(p.name, (p.annotation,))[0]}," for p in required]
        out += [
            f"        {p.name}: {overrides.get(p.name, (p.annotation,))[0]} | UnsetType = UNSET,"
            for p in optional
        ]
        out.append("        **options: Unpack[RequestOptions],")
        return out

    for p in o.params:
        mod.use_hints(p.annotation)
        if "FileTypes" in p.annotation:
            mod.needs.add("FileTypes")
        if "Literal[" in p.annotation:
            mod.needs.add("Literal")
    if keyword_optional:
        mod.needs.add("UNSET")
        mod.needs.add("UnsetType")
    if path_params:
        mod.needs.add("path_segment")

    ret = o.returns
    if kind == "list":
        mod.needs.add("AsyncPaginator")
        mod.use_type(o.item)
        ret = f"AsyncPaginator[{o.item}]"
    else:
        mod.use_type(o.returns)
    if o.returns == "BinaryResponse":
        mod.needs.add("BinaryResponse")
    lines: list[str] = []
    streaming = kind == "stream" and stream_param is not None
    variants: list[tuple[dict[str, tuple[str, bool]], str]] = []
    not_streaming: dict[str, tuple[str, bool]] = {}
    if streaming:
        assert stream_param is not None
        no = "Literal[False] | None" if "None" in stream_param.annotation else "Literal[False]"
        not_streaming = {stream_param.name: (no, False)}
    formats = RESPONSE_FORMATS.get(o.op_id)
    if formats:
        # One overload per response_format, as the official SDK types them; the first group is the default.
        param, default, by_format = formats
        groups: dict[str, list[str]] = {}
        for fmt, typ in by_format.items():
            groups.setdefault(typ, []).append(fmt)
            mod.use_type(typ)
        for typ, fmts in groups.items():
            literal = "Literal[" + ", ".join(_literal(f) for f in fmts) + "]"
            variants.append(({param: (literal, default not in fmts), **not_streaming}, typ))
        ret = _union(list(groups))
    elif streaming:
        variants.append((not_streaming, ret))
    if streaming:
        assert stream_param is not None
        mod.use_type(o.stream_event)
        stream_ret = f"AsyncStream[{o.stream_event}]"
        variants.append(({stream_param.name: ("Literal[True]", True)}, stream_ret))
        ret = f"{ret} | {stream_ret}"
    if variants:
        mod.needs.update({"overload", "Literal"} | ({"AsyncStream"} if streaming else set()))
        if streaming:  # the catch-all for a plain bool
            assert stream_param is not None
            variants.append(({stream_param.name: (stream_param.annotation, False)}, ret))
        else:
            variants.append(({}, ret))
        for overrides, r in variants:
            lines += ["    @overload", f"    async def {name}(", *sig(overrides), f"    ) -> {r}: ...", ""]
    is_async = kind != "list"
    lines += [f"    {'async def' if is_async else 'def'} {name}(", *sig(), f"    ) -> {ret}:"]
    lines.append(_method_docstring(o))
    lines += _call(mod, o, streaming)
    lines.append("")
    return lines


def _render_helper(mod: _Module, ns: Namespace, name: str, conf: dict[str, Any], mixin: str) -> list[str]:
    """A hand-written helper's method (``stream()``, ``parse()``, ``create_and_poll()``) with the keyword
    parameters of the operation it wraps (``[resources.helpers]`` in overrides.toml): its path parameters
    (keyword-only, as the official helpers take ``thread_id=``), query parameters and body fields, then the
    helper's ``extra`` keywords. It gathers them into one dict for the mixin's ``impl``, whose docstring it carries,
    so names and types stay the spec's and IDEs list them."""
    o = next((o for o in ns.operations if o.op_id == conf["operation"]), None)
    if o is None:
        raise SystemExit(f"overrides.toml: helper {ns.path}.{name}: no operation {conf['operation']} there")
    drop = set(conf.get("drop", ()))
    unknown = drop - {p.name for p in o.params}
    if unknown:
        raise SystemExit(f"overrides.toml: helper {ns.path}.{name}: drops unknown {sorted(unknown)}")
    replace: dict[str, str] = conf.get("replace", {})
    params = [p for p in o.params if p.where in ("path", "query", "body") and p.name not in drop]
    extra = {n: _helper_extra(f"{ns.path}.{name}", n, v) for n, v in conf.get("extra", {}).items()}
    clash = set(extra) & {p.name for p in params}
    if clash:
        raise SystemExit(
            f"overrides.toml: helper {ns.path}.{name}: extra {sorted(clash)} already a parameter"
        )
    required = [p for p in params if p.required]
    optional = [p for p in params if not p.required]
    target, _, cls = mixin.partition(":")
    imported: set[str] = set()
    for module, names in conf.get("imports", {}).items():
        mod.helper_hints[module].update(names)
        imported.update(names)
    # schema names of `returns` not listed in `imports` (RunObject): imported like the other annotations' names
    mod.use_hints(" ".join(t for t in re.findall(r"\w+", conf["returns"]) if t not in imported))
    if optional or any(default == "UNSET" for _, default in extra.values()):
        mod.needs.update({"UNSET", "UnsetType"})

    def annotation(p: Param) -> str:
        text = replace.get(p.name, "{}").format(p.annotation)
        mod.use_hints(text)
        return text

    lines = [f"    {'async def' if conf.get('async') else 'def'} {name}(", "        self,", "        *,"]
    lines += [f"        {p.name}: {annotation(p)}," for p in required]
    lines += [f"        {p.name}: {annotation(p)} | UnsetType = UNSET," for p in optional]
    for n, (ann, default) in extra.items():
        mod.use_hints(ann)
        given = f"{ann} | UnsetType = UNSET" if default == "UNSET" else f"{ann} = {default}"
        lines.append(f"        {n}: {given},")
    lines += ["        **options: Unpack[RequestOptions],", f"    ) -> {conf['returns']}:"]
    args = [f"    {p.name}: {p.description}" for p in [*required, *optional] if p.description]
    lines.append(f"        {_mixin_docstring(target, cls, conf['impl'], args)}")
    # Keys: a body field's wire name (an impl may send the dict as the body); a path or query parameter's Python
    # name (an impl hands those to the operation's own method); an extra's name.
    keys = [(p.wire if p.where == "body" else p.name, p.name) for p in [*required, *optional]]
    keys += [(n, n) for n in extra]
    call = f"        return {'await ' if conf.get('async') else ''}self.{conf['impl']}("
    args = [f'"{key}": {n}' for key, n in keys] + ["**options"]
    lines += [call + "{", *[f"            {a}," for a in args], "        })", ""]
    return lines


def _helper_extra(where: str, name: str, value: Any) -> tuple[str, str]:
    """One ``extra`` keyword of a helper, ``name = "<annotation>"`` (default UNSET) or
    ``name = { type = "<annotation>", default = "<Python expression>" }``, as (annotation, default). The impl's
    docstring documents it (its ``Args:`` entries follow the generated ones)."""
    if isinstance(value, str):
        return value, "UNSET"
    if isinstance(value, dict) and isinstance(value.get("type"), str) and set(value) <= {"type", "default"}:
        return value["type"], str(value.get("default", "UNSET"))
    raise SystemExit(
        f"overrides.toml: helper {where}: extra {name} is neither a string nor {{type, default}}"
    )


def _mixin_docstring(module: str, cls: str, method: str, args: list[str]) -> str:
    """The docstring of ``module:cls.method``, read from its source (the generator imports nothing of the package),
    with an ``Args:`` section of ``args`` (before ``Returns:`` / ``Raises:``; at the top of the impl's own ``Args:``
    section when it has one), indented for a method body."""
    base = ROOT.joinpath(*module.split("."))
    path = base.with_suffix(".py") if base.with_suffix(".py").exists() else base / "__init__.py"
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ClassDef) and node.name == cls:
            for item in node.body:
                if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)) and item.name == method:
                    doc = ast.get_docstring(item)
                    if doc:
                        doc_lines = doc.splitlines()
                        own = next((i for i, line in enumerate(doc_lines) if line == "Args:"), None)
                        at = next((i for i, line in enumerate(doc_lines) if line in ("Returns:", "Raises:")), None)
                        section = ["Args:", *args] if args else []
                        # the impl documents its own keywords (the extras): the generated ones go first
                        if own is not None:
                            doc_lines[own + 1 : own + 1] = args
                        elif at is None:
                            doc_lines += ["", *section] if section else []
                        else:
                            doc_lines[at:at] = [*section, ""] if section else []
                        body = "\n".join(f"        {line}" if line else "" for line in doc_lines[1:])
                        first = doc_lines[0]
                        return f'"""{first}' + (f"\n{body}\n        " if body else "") + '"""'
    raise SystemExit(f"overrides.toml: helper impl {module}:{cls}.{method} has no docstring")


def _call(mod: _Module, o: Operation, streaming: bool) -> list[str]:
    kind = o.entry["kind"]
    body_kind = o.entry.get("body")
    path = o.path
    for p in o.params:
        if p.where == "path":
            path = path.replace("{" + p.wire + "}", "{path_segment(" + p.name + ", '" + p.name + "')}")
    path_expr = f'f"{path}"' if "{" in path else f'"{path}"'
    pre: list[str] = []
    args: list[str] = []
    query = [f'"{k}": "{v}"' for k, v in o.fixed_query.items()]
    query += [f'"{p.wire}": {p.name}' for p in o.params if p.where == "query"]
    headers = [p for p in o.params if p.where == "header"]
    body_params = [p for p in o.params if p.where == "body"]
    media = list((_success(o.op).get("content") or {}).keys())
    json_too = any(m.endswith("json") for m in media)
    if kind == "binary" or (kind == "text" and not json_too):
        # Ask for what the operation produces (the core defaults to application/json): e.g. audio/speech;
        # downloads that declare no media type, or JSON among theirs (files.content, skills and videos
        # content), get application/binary, as the official SDK sends.
        accept = media[0] if media and not json_too else "application/binary"
        pre.append(
            f'        options["extra_headers"] = {{"Accept": "{accept}", **(options.get("extra_headers") or {{}})}}'
        )
    for h in headers:
        join = f'",".join({h.name})' if h.annotation.startswith("list[") else f"str({h.name})"
        pre += [
            f"        if {h.name} is not UNSET:",
            f'            options["extra_headers"] = {{"{h.wire}": {join}, **(options.get("extra_headers") or {{}})}}',
        ]
    if body_kind == "json":
        struct = f"_{camel(o.op_id)}Body"
        mod.needs.add("msgspec")
        fields = []
        for p in body_params:
            default = "UNSET" if not p.required else None
            if p.name != p.wire:
                spec = (
                    f"msgspec.field(default={default}, name={_literal(p.wire)})"
                    if default
                    else f"msgspec.field(name={_literal(p.wire)})"
                )
                fields.append(f"    {p.name}: Any = {spec}")
            else:
                fields.append(f"    {p.name}: Any" + (" = UNSET" if default else ""))
        if any(not p.required for p in body_params):
            mod.needs.add("UNSET")
        # required fields first: msgspec needs no ordering with kw_only, but it reads better
        fields.sort(key=lambda f: "=" in f)
        mod.structs.append(
            f"class {struct}(msgspec.Struct, kw_only=True, omit_defaults=True):\n"
            f'    """Strictly private. Request body of {o.verb} {o.path}."""\n\n'
            + "\n".join(fields or ["    pass"])
        )
        inner = ", ".join(f"{p.name}={p.name}" for p in body_params)
        if len(inner) > 70:
            inner = (
                "\n" + "".join(f"                {p.name}={p.name},\n" for p in body_params) + "            "
            )
        args.append(f"body={struct}({inner})")
    elif body_kind == "multipart":
        inner = ", ".join(f'"{p.wire}": {p.name}' for p in body_params)
        if len(inner) > 70:
            inner = (
                "\n"
                + "".join(f'                "{p.wire}": {p.name},\n' for p in body_params)
                + "            "
            )
        args.append("multipart={" + inner + "}")
        file_fields = [p.wire for p in body_params if "FileTypes" in p.annotation]
        if file_fields:
            args.append("file_fields=(" + ", ".join(f'"{w}"' for w in file_fields) + ("," * (len(file_fields) == 1)) + ")")
    elif body_kind == "sdp":
        others = [p for p in body_params if p.name != "sdp"]
        mod.needs.add("msgspec")
        cond = " and ".join(f"{p.name} is UNSET" for p in others) or "True"
        parts = ", ".join(
            ['"sdp": sdp']
            + [
                f'"{p.wire}": msgspec.json.encode({p.name}).decode()'
                if len(others) == 1
                else f'"{p.wire}": msgspec.json.encode({p.name}).decode() if {p.name} is not UNSET else UNSET'
                for p in others
            ]
        )
        pre += [
            f"        if {cond}:",
            f"            return await self._client._request(\n"
            f'                "{o.verb}", {path_expr}, content=sdp, content_type="application/sdp", cast=str, '
            "options=options\n            )",
        ]
        args.append("multipart={" + parts + "}")
    if query:
        args.insert(0, "query={" + ", ".join(query) + "}")
    if kind == "list":
        mod.use_type(o.item)
        call_args = [path_expr, *args, f"item={o.item}", f'page="{o.entry["page"]}"']
        if o.verb != "GET":
            call_args.append(f'method="{o.verb}"')
        call_args.append("options=options")
        return [*pre, *_wrap("        return self._client._paginate(", call_args)]
    cast = {"None": "None", "dict[str, Any]": "dict[str, Any]"}.get(o.returns, o.returns)
    formats = RESPONSE_FORMATS.get(o.op_id)
    if formats:
        param, default, by_format = formats
        table = "_" + re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", camel(o.op_id)).upper() + "_CASTS"
        choices = "".join(f'    "{f}": {t},\n' for f, t in by_format.items() if f != default)
        mod.structs.append(
            f"# response_format -> the type its body decodes into\n{table}: dict[object, Any] = {{\n{choices}}}"
        )
        cast = f"{table}.get({python_name(param)}, {by_format[default]})"
    call_args = [f'"{o.verb}"', path_expr, *args, f"cast={cast}"]
    if streaming:
        call_args += ["stream=stream is True", f"stream_cls={o.stream_event}"]
    call_args.append("options=options")
    # Always returned, None included: the raw and streaming views of a method give what ``_request`` gives
    # them (the response), whatever the method itself returns.
    opening = "        return await self._client._request("
    return [*pre, *_wrap(opening, call_args)]


def _wrap(opening: str, args: list[str]) -> list[str]:
    one_line = opening + ", ".join(args) + ")"
    if len(one_line) <= 110:
        return [one_line]
    return [opening, *[f"            {a}," for a in args], "        )"]


# ------------------------------------------------------------------------------------------------------ CLI


def _load_spec() -> dict[str, Any]:
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    with (ROOT / "spec" / "openapi.yaml").open("rb") as fh:
        return yaml.load(fh, Loader=loader)  # type: ignore[no-any-return]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Rebuild or verify scripts/operations.toml.")
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--derive", action="store_true", help="rewrite operations.toml from the SDK + spec")
    group.add_argument(
        "--verify", action="store_true", help="print where operations.toml and a re-derivation differ"
    )
    args = parser.parse_args(argv)
    spec = _load_spec()
    derived = derive_table(spec)
    if args.derive:
        current = load_table() if TABLE_PATH.exists() else {}
        for op_id, entry in derived.items():  # keep hand decisions for what the SDK does not name
            if entry["source"] != "sdk" and op_id in current:
                derived[op_id] = current[op_id]
        TABLE_PATH.write_text(dump_table(derived))
        print(f"wrote {TABLE_PATH.relative_to(ROOT)}: {len(derived)} operations")
        return 0
    table = load_table()
    diffs = 0
    for op_id in sorted(set(table) | set(derived)):
        a, b = table.get(op_id), derived.get(op_id)
        if a != b:
            diffs += 1
            print(f"{op_id}:\n  table:   {a}\n  derived: {b}")
    print(f"{len(table)} operations in the table, {diffs} differ from a fresh derivation")
    return 1 if diffs else 0


if __name__ == "__main__":
    raise SystemExit(main())
