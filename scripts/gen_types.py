"""Generate ``openai_async/types/`` (msgspec structs) from the OpenAPI spec.

Entry point: ``render(spec, spec_hash) -> {relpath under openai_async/: text}``, called by
``scripts/generate.py``. ``SCHEMA_MODULE`` (schema name -> area module name, e.g. ``"chat"``) is importable
for the resources generator: ``from gen_types import SCHEMA_MODULE`` (computed from spec/openapi.yaml on
first access), or ``schema_modules(spec)`` when you already hold the loaded spec.

Areas
-----
Each component schema lives in one module named after its API area (``types/chat.py``, ``types/responses.py``,
...). The area of a schema is, in order:

1. an explicit pin in ``[types.areas]`` of ``scripts/overrides.toml``;
2. a name prefix in ``[types.prefix_areas]`` (longest prefix wins);
3. the area of the operations that reach it through ``$ref`` (area = first path segment, mapped through
   ``[types.path_areas]``; webhooks -> ``webhooks``; the ``x-oaiMeta`` event groups -> their area). When several
   areas reach it, areas listed in ``consumer_areas`` (they only embed other areas' types) are dropped; if one
   area remains it wins, otherwise the schema goes to ``shared``;
4. ``shared`` for schemas no operation reaches.
"""

from __future__ import annotations

import collections
import functools
import hashlib
import keyword
import re
import tomllib
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SPEC_PATH = ROOT / "spec" / "openapi.yaml"
OVERRIDES_PATH = ROOT / "scripts" / "overrides.toml"
REF_PREFIX = "#/components/schemas/"

_META_GROUP_AREAS = {
    "responses": "responses",
    "chat": "chat",
    "assistants": "assistants",
    "realtime": "realtime",
    "images": "images",
    "webhook": "webhooks",
}


@functools.lru_cache(maxsize=1)
def load_overrides() -> dict[str, Any]:
    """Return the ``[types]`` table of scripts/overrides.toml."""
    with open(OVERRIDES_PATH, "rb") as f:
        return tomllib.load(f).get("types", {})  # type: ignore[no-any-return]


def load_spec(path: Path = SPEC_PATH) -> tuple[dict[str, Any], str]:
    """Load the spec with the C YAML loader; return ``(spec, sha256 hex of the file)``."""
    import yaml

    data = path.read_bytes()
    spec = yaml.load(data, Loader=yaml.CSafeLoader)  # noqa: S506 (CSafeLoader is the safe loader)
    return spec, hashlib.sha256(data).hexdigest()


def py_name(schema_name: str) -> str:
    """Python identifier for a schema name (verbatim unless it is not an identifier)."""
    name = re.sub(r"\W", "_", schema_name)
    if not name.isidentifier() or keyword.iskeyword(name):
        name = f"{name}_"
    return name


def refs_in(node: Any, out: set[str] | None = None) -> set[str]:
    """Every component schema name referenced (``$ref``) anywhere under ``node``."""
    if out is None:
        out = set()
    stack = [node]
    while stack:
        n = stack.pop()
        if isinstance(n, dict):
            r = n.get("$ref")
            if isinstance(r, str) and r.startswith(REF_PREFIX):
                out.add(r[len(REF_PREFIX) :])
            stack.extend(n.values())
        elif isinstance(n, list):
            stack.extend(n)
    return out


def schema_modules(spec: dict[str, Any]) -> dict[str, str]:
    """Map every component schema name to its area module name (see the module docstring)."""
    ov = load_overrides()
    schemas: dict[str, Any] = spec["components"]["schemas"]
    path_areas: dict[str, str] = ov.get("path_areas", {})
    consumers = set(ov.get("consumer_areas", []))
    prefixes = sorted(ov.get("prefix_areas", {}).items(), key=lambda kv: (-len(kv[0]), kv[0]))
    pins: dict[str, str] = ov.get("areas", {})

    roots: dict[str, set[str]] = collections.defaultdict(set)
    for path, ops in spec.get("paths", {}).items():
        seg = path.strip("/").split("/")[0].split("?")[0]
        refs_in(ops, roots[path_areas.get(seg, seg)])
    for hook in spec.get("webhooks", {}).values():
        refs_in(hook, roots["webhooks"])
    for group in spec.get("x-oaiMeta", {}).get("groups", []):
        area = next((a for k, a in _META_GROUP_AREAS.items() if group.get("id", "").startswith(k)), None)
        if area is None:
            continue
        for section in group.get("sections", []) or []:
            if section.get("key") in schemas:
                roots[area].add(section["key"])

    deps = {name: refs_in(s) for name, s in schemas.items()}
    reached: dict[str, set[str]] = collections.defaultdict(set)
    for area, start in roots.items():
        seen: set[str] = set()
        todo = [n for n in start if n in schemas]
        while todo:
            n = todo.pop()
            if n in seen:
                continue
            seen.add(n)
            todo.extend(d for d in deps[n] if d in schemas)
        for n in seen:
            reached[n].add(area)

    out: dict[str, str] = {}
    for name in schemas:
        if name in pins:
            out[name] = pins[name]
            continue
        area = next((a for p, a in prefixes if name.startswith(p)), None)
        if area is None:
            areas = reached.get(name, set())
            if len(areas) > 1:
                areas = (areas - consumers) or areas
            area = next(iter(areas)) if len(areas) == 1 else "shared"
        out[name] = area
    return out


@functools.lru_cache(maxsize=1)
def _schema_module_from_disk() -> dict[str, str]:
    spec, _ = load_spec()
    return schema_modules(spec)


def __getattr__(name: str) -> Any:
    if name == "SCHEMA_MODULE":
        return _schema_module_from_disk()
    raise AttributeError(name)
