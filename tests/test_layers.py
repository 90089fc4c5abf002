"""Import contracts: the package's layers depend downwards only (docs/CONTRACTS.md, "The map").

Walks every module's imports with ``ast`` (nothing is imported), so a cycle hidden in a function body is seen
as well as a module-level one.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "openai_async"

# What each layer may import at run time (besides itself and the stdlib / third-party packages).
ALLOWED: dict[str, set[str]] = {
    "_core": {"_version"},
    "types": {"_core"},
    "_helpers": {"_core", "types", "_version"},
    "_workloads": {"_core", "types", "_helpers", "_version"},
    "resources": {"_core", "types", "_helpers", "_workloads"},
    "_integrations": {"_core", "types", "_version"},
}
# Type-only imports (under ``if TYPE_CHECKING:``) may also name the assembled client, which every resource and
# helper is bound to; they create no run-time edge.
TYPE_ONLY_EXTRA = {"_client"}
# The official SDK's paths `openai.types.chat.ParsedChatCompletion` / `openai.types.responses.ParsedResponse`
# name helper types: `types` re-exports them through a module `__getattr__` (no import at run time) and names them
# for type checkers only.
TYPE_ONLY_REEXPORTS = {("types", ("_helpers", "structured"))}
GENERATED = {"types", "resources"}


def _layer(module: tuple[str, ...]) -> str:
    """``("_core", "sse")`` -> ``"_core"``; top-level modules (``_client``, ``_cli``, ``testing`` ...) are their own."""
    return module[0] if module else "__init__"


def _module_of(path: Path) -> tuple[str, ...]:
    parts = path.relative_to(PACKAGE).with_suffix("").parts
    return parts[:-1] if parts[-1] == "__init__" else parts


def _target(node: ast.ImportFrom | ast.Import, here: tuple[str, ...], is_pkg: bool) -> list[tuple[str, ...]]:
    """The package modules an import names, as tuples under ``openai_async`` (empty list: not ours)."""
    if isinstance(node, ast.Import):
        return [tuple(a.name.split(".")[1:]) for a in node.names if a.name.split(".")[0] == "openai_async"]
    if node.level == 0:
        name = node.module or ""
        return [tuple(name.split(".")[1:])] if name.split(".")[0] == "openai_async" else []
    base = list(here if is_pkg else here[:-1])
    base = base[: len(base) - (node.level - 1)] if node.level > 1 else base
    mod = tuple(base) + tuple((node.module or "").split(".") if node.module else ())
    if node.module is None:  # `from . import x`: each name is a module
        return [mod + (a.name,) for a in node.names]
    return [mod]


class _Imports(ast.NodeVisitor):
    """Collects (lineno, targets, type_only, in_function) for every import of the package."""

    def __init__(self, here: tuple[str, ...], is_pkg: bool) -> None:
        self.here, self.is_pkg = here, is_pkg
        self.found: list[tuple[int, list[tuple[str, ...]], bool, bool]] = []
        self._type_only = 0
        self._function = 0

    def visit_If(self, node: ast.If) -> None:
        test = node.test
        guarded = (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
            isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
        )
        self._type_only += guarded
        for child in node.body:
            self.visit(child)
        self._type_only -= guarded
        for child in node.orelse:
            self.visit(child)

    def _in_function(self, node: ast.AST) -> None:
        self._function += 1
        self.generic_visit(node)
        self._function -= 1

    visit_FunctionDef = visit_AsyncFunctionDef = visit_Lambda = _in_function

    def _import(self, node: ast.Import | ast.ImportFrom) -> None:
        targets = _target(node, self.here, self.is_pkg)
        if targets:
            self.found.append((node.lineno, targets, self._type_only > 0, self._function > 0))

    visit_Import = visit_ImportFrom = _import


def _imports() -> list[tuple[Path, int, tuple[str, ...], tuple[str, ...], bool, bool]]:
    rows = []
    for path in sorted(PACKAGE.rglob("*.py")):
        here = _module_of(path)
        visitor = _Imports(here, path.name == "__init__.py")
        visitor.visit(ast.parse(path.read_text(), str(path)))
        for lineno, targets, type_only, in_function in visitor.found:
            rows.extend((path, lineno, here, target, type_only, in_function) for target in targets)
    return rows


IMPORTS = _imports()


def test_the_walk_sees_the_package() -> None:
    """The walk finds the layers and a known edge, so the contracts below are not vacuous."""
    layers = {_layer(here) for _, _, here, _, _, _ in IMPORTS}
    assert {"_core", "_helpers", "_workloads", "types", "resources"} <= layers
    assert any(
        target == ("_core", "streaming")
        for _, _, here, target, _, _ in IMPORTS
        if here == ("_core", "session")
    )


@pytest.mark.parametrize("layer", sorted(ALLOWED))
def test_layers_depend_downwards_only(layer: str) -> None:
    """Each layer imports only the layers beneath it (type-only imports may also name the assembled client)."""
    wrong = []
    for path, lineno, here, target, type_only, _ in IMPORTS:
        if _layer(here) != layer:
            continue
        allowed = ALLOWED[layer] | {layer} | (TYPE_ONLY_EXTRA if type_only else set())
        if type_only and (layer, target) in TYPE_ONLY_REEXPORTS:
            continue
        if _layer(target) not in allowed:
            wrong.append(
                f"{path.relative_to(PACKAGE.parent)}:{lineno} imports openai_async.{'.'.join(target)}"
            )
    assert not wrong, "\n".join(wrong)


def test_function_level_imports_say_why() -> None:
    """A hand-written import inside a function carries a comment (on its line or the one above) saying why."""
    silent = []
    for path, lineno, here, _, type_only, in_function in IMPORTS:
        if not in_function or type_only or _layer(here) in GENERATED:
            continue
        lines = path.read_text().splitlines()
        if "#" in lines[lineno - 1]:
            continue
        above = lineno - 2  # a comment above a run of imports speaks for the whole run
        while above >= 0 and lines[above].strip().startswith(("from ", "import ")):
            above -= 1
        if above < 0 or not lines[above].strip().startswith("#"):
            silent.append(f"{path.relative_to(PACKAGE.parent)}:{lineno}: {lines[lineno - 1].strip()}")
    assert not silent, "function-level imports without a reason:\n" + "\n".join(sorted(set(silent)))


def test_core_knows_nothing_above_it() -> None:
    """Not even a type-only import in ``_core`` names helpers, workloads or generated resources."""
    wrong = [
        f"{path.relative_to(PACKAGE.parent)}:{lineno}"
        for path, lineno, here, target, _, _ in IMPORTS
        if _layer(here) == "_core" and _layer(target) in {"_helpers", "_workloads", "resources"}
    ]
    assert not wrong, wrong
