"""Match the official SDK's public type names to ours; write scripts/sdk_names.toml for the types generator.

Usage (after bumping the pinned ``openai`` in the dev extra, then run ``python scripts/generate.py``):
    python scripts/sdk_names.py

Every public name of every ``openai.types`` package is matched to a name of ``openai_async.types``, in order:

1. the same name exists (a spec schema name, a generated class, or an alias of overrides.toml);
2. ``[types.sdk_aliases]`` of overrides.toml names it;
3. a model or TypedDict: our struct with the same wire fields and the same tag (``type`` / ``role`` / ``object``
   constant), when it has a tag or more than two fields; among several, the one of the official module's area,
   then the closest name;
4. a union (or a list of a union): our alias whose members are the matches of the official members;
   When we have no such alias, the union of the matched members (``union``; for a non-request union, only when
   they share an area);
5. ``<X>Param`` / ``<X>Params``: whatever ``<X>`` matched.

The official name is then generated as an alias of the match (a ``TypedDict`` when the official type is one),
in the match's area module, and re-exported from the area module of each official module path where that differs.
What stays unmatched is written with why, and tests/test_types_sdk_names.py lists it against its allow-list.
A name that means different types in different official modules is matched only where it means the first.
"""

from __future__ import annotations
import __future__

import collections
import difflib
import importlib
import inspect
import pkgutil
import re
import sys
import typing
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "scripts" / "sdk_names.toml"
TAG_FIELDS = ("type", "role", "object")


def official_tree() -> dict[tuple[str, str], Any]:
    """``{(module path under openai.types, name): object}`` for every public, non-module name."""
    import openai.types

    out: dict[tuple[str, str], Any] = {}
    packages = ["openai.types"] + [
        m.name for m in pkgutil.walk_packages(openai.types.__path__, "openai.types.") if m.ispkg
    ]
    for package in packages:
        module = importlib.import_module(package)
        for name in dir(module):
            value = getattr(module, name)
            if name.startswith("_") or inspect.ismodule(value) or isinstance(value, __future__._Feature):
                continue
            out[(package[len("openai.types") :].lstrip("."), name)] = value
    return out


def _is_typeddict(value: Any) -> bool:
    import typing_extensions

    return bool(typing_extensions.is_typeddict(value))


def _is_param(value: Any) -> bool:
    """A TypedDict, or a union / list whose members are TypedDicts."""
    if _is_typeddict(value):
        return True
    args = typing.get_args(value)
    if typing.get_origin(value) is list and len(args) == 1:
        args = typing.get_args(args[0]) or args
    return bool(args) and all(_is_typeddict(a) for a in args if a is not type(None))


def official_shape(value: Any) -> tuple[frozenset[str], Any] | None:
    """(wire field names, tag constant) of an official model or TypedDict, else None."""
    if isinstance(value, type) and hasattr(value, "model_fields"):
        fields = value.model_fields
        tag = None
        for tf in TAG_FIELDS:
            f = fields.get(tf)
            if f is not None and typing.get_origin(f.annotation) is typing.Literal:
                args = typing.get_args(f.annotation)
                if len(args) == 1:
                    tag = args[0]
                    break
        return frozenset(f.alias or n for n, f in fields.items()), tag
    if _is_typeddict(value):
        annotations: dict[str, Any] = {}
        for base in reversed(value.__mro__):
            annotations.update(getattr(base, "__annotations__", {}))
        tag = None
        for tf in TAG_FIELDS:
            m = re.search(r"Literal\[['\"]([^'\"]+)['\"]\]", str(annotations.get(tf, "")))
            if m:
                tag = m.group(1)
                break
        return frozenset(annotations), tag
    return None


def _field_types(value: Any) -> dict[str, Any]:
    """Wire name -> annotation of an official model or TypedDict ({} when they cannot be resolved)."""
    try:
        if hasattr(value, "model_fields"):
            return {f.alias or n: f.annotation for n, f in value.model_fields.items()}
        return dict(typing.get_type_hints(value))
    except Exception:  # an unresolvable forward reference: no nested evidence
        return {}


def _nested_fit(value: Any, ours: Any) -> int:
    """How many object fields of an official type have the same wire fields as ours (tells same-shaped
    candidates apart by what they hold: ``{"type": "custom", "custom": {...}}`` tool vs tool choice)."""
    import msgspec

    theirs = _field_types(value)
    hints = typing.get_type_hints(ours)
    fit = 0
    for f in msgspec.structs.fields(ours):
        official = theirs.get(f.encode_name)
        if official is None:
            continue
        leaves_a: set[Any] = set()
        _leaf_types(official, leaves_a)
        leaves_b: set[Any] = set()
        _leaf_types(hints.get(f.name), leaves_b)
        shapes_a = {shape[0] for shape in map(official_shape, leaves_a) if shape is not None}
        shapes_b = {
            frozenset(x.encode_name for x in msgspec.structs.fields(t))
            for t in leaves_b
            if isinstance(t, type) and issubclass(t, msgspec.Struct)
        }
        fit += bool(shapes_a & shapes_b)
    return fit


def _leaf_types(tp: Any, out: set[Any]) -> None:
    args = typing.get_args(tp)
    if args:
        for a in args:
            _leaf_types(a, out)
    elif isinstance(tp, type):
        out.add(tp)


def our_tree() -> tuple[dict[str, str], dict[str, Any]]:
    """(name -> area module, name -> object) of openai_async.types."""
    import openai_async.types as ours

    generated = set()
    if OUT.exists():  # names this script made last time are not ours to match against
        import tomllib

        generated = set(tomllib.loads(OUT.read_text(encoding="utf-8")).get("names", {}))
    table = {n: m for n, m in ours._table().items() if n not in generated}
    return table, {n: getattr(importlib.import_module(f"openai_async.types.{m}"), n) for n, m in table.items()}


def _leaf_classes(tp: Any, out: set[str]) -> None:
    origin = typing.get_origin(tp)
    if origin is typing.Annotated:
        _leaf_classes(typing.get_args(tp)[0], out)
        for meta in tp.__metadata__:
            for t in getattr(meta, "types", ()):
                _leaf_classes(t, out)
    elif origin is not None:
        for a in typing.get_args(tp):
            _leaf_classes(a, out)
    elif isinstance(tp, type) and tp is not type(None):
        out.add(tp.__name__)


def match(
    tree: dict[tuple[str, str], Any],
    table: dict[str, str],
    objects: dict[str, Any],
    aliases: dict[str, str],
    helpers: dict[str, dict[str, str]],
) -> tuple[dict[tuple[str, str], str], dict[tuple[str, str], str]]:
    """(official key -> our name, official key -> why unmatched)."""
    import msgspec

    by_shape: dict[tuple[frozenset[str], Any], list[str]] = collections.defaultdict(list)
    for name, obj in objects.items():
        if isinstance(obj, type) and issubclass(obj, msgspec.Struct) and obj.__name__ == name:
            config = obj.__struct_config__
            keys = {f.encode_name for f in msgspec.structs.fields(obj)}
            if config.tag is not None and config.tag_field is not None:
                keys.add(config.tag_field)
            by_shape[(frozenset(keys), config.tag)].append(name)
    union_of: dict[frozenset[str], list[str]] = collections.defaultdict(list)
    for name, obj in objects.items():
        if not isinstance(obj, type):
            leaves: set[str] = set()
            _leaf_classes(obj, leaves)
            if len(leaves) > 1:
                union_of[frozenset(leaves)].append(name)

    def norm(n: str) -> str:
        return re.sub(r"Params?$", "", n).lower()

    found: dict[tuple[str, str], str] = {}
    why: dict[tuple[str, str], str] = {}

    def resolve(key: tuple[str, str], value: Any, depth: int = 0) -> str | None:
        module, name = key
        if key in found:
            return found[key]
        if name in table:
            return name
        if name in aliases:
            return aliases[name]
        shape = official_shape(value) if value is not None else None
        if shape is not None and (len(shape[0]) > 2 or shape[1] is not None):  # one or two fields prove nothing
            candidates = by_shape.get(shape, [])
            if candidates:
                area = module.split(".")[0]
                return min(
                    candidates,
                    key=lambda c: (
                        -_nested_fit(value, objects[c]),
                        table[c] != area,
                        -difflib.SequenceMatcher(None, norm(name), norm(c)).ratio(),
                        c,
                    ),
                )
        if value is not None and depth < 2:
            args = typing.get_args(value)
            if typing.get_origin(value) is list and len(args) == 1:
                args = typing.get_args(args[0])
            members = [a for a in args if isinstance(a, type)]
            if len(members) > 1 and len(members) == len(args):
                mapped = set()
                for m in members:
                    hit = resolve((module, m.__name__), m, depth + 1)
                    if hit is None or not isinstance(objects.get(hit), type):
                        break
                    mapped.add(objects[hit].__name__)
                hits = union_of.get(frozenset(mapped), []) if len(mapped) == len(members) else []
                if hits:
                    return min(hits, key=lambda c: (table[c] != module.split(".")[0], c))
                areas = {table.get(m) for m in mapped}
                if len(mapped) == len(members) and (len(areas) == 1 or _is_param(value)):
                    return " | ".join(sorted(mapped))  # no alias of ours: the union of the matched members
        base = re.sub(r"Params?$", "", name)
        if base != name and depth < 2:
            if base in table or base in aliases:
                return resolve((module, base), None, depth + 1)
            if (module, base) in tree:
                return resolve((module, base), tree[(module, base)], depth + 1)
        return None

    for key in sorted(tree):
        value = tree[key]
        if key[1] in helpers.get(key[0], {}):
            continue  # a hand-written type of ours (overrides.toml [types.helper_exports])
        hit = resolve(key, value)
        while hit in aliases:
            hit = aliases[hit]
        if hit is not None:
            found[key] = hit
        elif key[1].endswith("Params"):
            why[key] = "params"
        elif official_shape(value) is not None:
            why[key] = "shape"  # no struct of ours has these wire fields and tag
        else:
            why[key] = "alias"  # a union / literal / scalar alias without a same-named or same-member alias
    return found, why


def render(found: dict[tuple[str, str], str], why: dict[tuple[str, str], str], tree: dict[Any, Any], version: str,
           table: dict[str, str]) -> str:
    """The TOML text: ``[names]`` official name -> {target, modules, param}; ``[unmatched]`` key -> why."""
    by_name: dict[str, list[tuple[str, str]]] = collections.defaultdict(list)
    for key, target in found.items():
        by_name[key[1]].append((key[0], target))
    lines = [
        f"# Generated by `python scripts/sdk_names.py` from openai=={version}. DO NOT EDIT: rerun it.",
        "# [names]: an official type name -> our match (`target`), the official module paths that export it",
        "# (`modules`, \"\" = openai.types), and whether the official type is a request TypedDict, or a union",
        "# or list of them (`param`); `list`: the official alias is a list (of our target's list member);",
        "# `union` instead of `target`: our classes whose union it is (we have no alias of it).",
        "# [unmatched]: \"<module path>:<name>\" -> why (shape: no struct of ours has its wire fields and tag;",
        "# params: a method's parameter bundle; alias: a union/literal alias with no match; clash: the name means",
        "# another type in another official module).",
        "",
        "[names]",
    ]
    for name in sorted(by_name):
        if name in table and all(t == name for _, t in by_name[name]):
            continue  # the same name already exists: nothing to generate (re-exports are computed from `modules`)
        targets = collections.Counter(t for _, t in by_name[name])
        target = targets.most_common(1)[0][0]
        modules = sorted(m for m, t in by_name[name] if t == target)
        for m, t in by_name[name]:
            if t != target:
                why[(m, name)] = "clash"
        for key in [k for k in why if k[1] == name]:
            why[key] = "clash"  # matched elsewhere: here the same name means a type we do not match
        param = all(_is_param(tree[(m, name)]) for m in modules)
        is_list = typing.get_origin(tree[(modules[0], name)]) is list
        what = (
            "union = [" + ", ".join(f'"{t}"' for t in target.split(" | ")) + "]"
            if " | " in target
            else f'target = "{target}"'
        )
        lines.append(
            f'{name} = {{ {what}, modules = [{", ".join(chr(34) + m + chr(34) for m in modules)}]'
            f"{', param = true' if param else ''}{', list = true' if is_list else ''} }}"
        )
    lines += ["", "# Names that exist as ours under the same name, and where the official SDK exports them.", "[same]"]
    for name in sorted(by_name):
        if name in table and all(t == name for _, t in by_name[name]):
            modules = sorted(m for m, _ in by_name[name])
            lines.append(f'{name} = [{", ".join(chr(34) + m + chr(34) for m in modules)}]')
    lines += ["", "[unmatched]"]
    for (module, name), reason in sorted(why.items()):
        lines.append(f'"{module}:{name}" = "{reason}"')
    return "\n".join(lines) + "\n"


def main() -> int:
    sys.path.insert(0, str(ROOT))
    import gen_types
    import openai

    tree = official_tree()
    table, objects = our_tree()
    overrides = gen_types.load_overrides()
    aliases = dict(overrides.get("sdk_aliases", {}))
    found, why = match(tree, table, objects, aliases, overrides.get("helper_exports", {}))
    OUT.write_text(render(found, why, tree, openai.__version__, table), encoding="utf-8")
    print(f"{len(tree)} official names: {len(found)} matched, {len(why)} unmatched -> {OUT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
