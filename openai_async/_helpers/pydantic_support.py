"""pydantic models as structured-output formats and tool arguments, without making pydantic a dependency.

``import openai_async`` never imports pydantic. A pydantic model can only exist once its user imported pydantic,
so ``is_pydantic(tp)`` looks for the module in ``sys.modules`` and answers False at no cost otherwise.

The schema sent for a pydantic model is the one the official SDK sends: pydantic's own JSON schema made strict
by the API's published rules (https://platform.openai.com/docs/guides/structured-outputs#supported-schemas):

- every object gets ``additionalProperties: false`` and lists all its properties as required (a field with a
  default is still required: the model must fill it);
- ``$defs`` are made strict too; an ``allOf`` of one schema is merged into its parent;
- a ``default: null`` is dropped (the field's type already admits null);
- a ``$ref`` with sibling keywords is replaced by the target merged with the siblings (siblings win).

The answer is validated by pydantic itself (``model_validate_json``, or a ``TypeAdapter`` for pydantic
dataclasses), so validators, aliases and coercions behave as the user's model says.
"""

from __future__ import annotations

import copy
import dataclasses
import sys
from typing import Any

__all__ = ["is_pydantic", "strict_schema", "validate_json"]

_adapters: dict[Any, Any] = {}


def _pydantic() -> Any:
    return sys.modules.get("pydantic")


def is_pydantic(tp: Any) -> bool:
    """True for a pydantic v2 model class or pydantic dataclass (TypeError for a pydantic v1 model)."""
    pydantic = _pydantic()
    if pydantic is None or not isinstance(tp, type):
        return False
    if issubclass(tp, pydantic.BaseModel):
        return True
    v1 = sys.modules.get("pydantic.v1")
    if v1 is not None and issubclass(tp, v1.BaseModel):
        raise TypeError(f"{tp.__name__} is a pydantic v1 model: structured outputs need pydantic v2 models")
    return dataclasses.is_dataclass(tp) and hasattr(tp, "__pydantic_config__")


def strict_schema(tp: Any) -> dict[str, Any]:
    """The strict-mode JSON schema of a pydantic model or dataclass (the rules in the module docstring)."""
    pydantic = _pydantic()
    if issubclass(tp, pydantic.BaseModel):
        schema = tp.model_json_schema()
    else:
        schema = _adapter(tp).json_schema()
    schema = copy.deepcopy(schema)
    return _make_strict(schema, schema)


def validate_json(tp: Any, data: str | bytes) -> Any:
    """Validate model output ``data`` with pydantic (raises ``pydantic.ValidationError``)."""
    if issubclass(tp, _pydantic().BaseModel):
        return tp.model_validate_json(data)
    return _adapter(tp).validate_json(data)


def _adapter(tp: Any) -> Any:
    adapter = _adapters.get(tp)
    if adapter is None:
        adapter = _adapters[tp] = _pydantic().TypeAdapter(tp)
    return adapter


def _make_strict(node: Any, root: dict[str, Any]) -> dict[str, Any]:
    """Make ``node`` strict in place and return it (``root`` resolves ``$ref``s)."""
    if not isinstance(node, dict):
        raise TypeError(f"a JSON schema node must be an object, got {node!r}")
    for key in ("$defs", "definitions"):
        defs = node.get(key)
        if isinstance(defs, dict):
            for sub in defs.values():
                _make_strict(sub, root)
    if node.get("type") == "object":
        node.setdefault("additionalProperties", False)
    properties = node.get("properties")
    if isinstance(properties, dict):
        node["required"] = list(properties)
        node["properties"] = {name: _make_strict(sub, root) for name, sub in properties.items()}
    if isinstance(node.get("items"), dict):
        node["items"] = _make_strict(node["items"], root)
    if isinstance(node.get("anyOf"), list):
        node["anyOf"] = [_make_strict(sub, root) for sub in node["anyOf"]]
    all_of = node.get("allOf")
    if isinstance(all_of, list):
        if len(all_of) == 1:
            node.update(_make_strict(all_of[0], root))
            node.pop("allOf")
        else:
            node["allOf"] = [_make_strict(sub, root) for sub in all_of]
    if "default" in node and node["default"] is None:
        del node["default"]
    ref = node.get("$ref")
    if isinstance(ref, str) and len(node) > 1:
        target = _resolve(root, ref)
        merged = {**target, **node}
        merged.pop("$ref")
        node.clear()
        node.update(merged)
        return _make_strict(node, root)  # the merged-in target may need the object rules again
    return node


def _resolve(root: dict[str, Any], ref: str) -> dict[str, Any]:
    if not ref.startswith("#/"):
        raise ValueError(f"only local $refs (#/...) can be resolved, got {ref!r}")
    node: Any = root
    for part in ref[2:].split("/"):
        node = node[part]
    if not isinstance(node, dict):
        raise ValueError(f"$ref {ref!r} does not point at a schema object")
    return node
