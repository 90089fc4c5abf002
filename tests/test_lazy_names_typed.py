"""Every lazily exported top-level name is also imported for type checkers (else mypy/pyright see `object`)."""

from __future__ import annotations

import ast
from pathlib import Path

import openai_async

INIT = Path(openai_async.__file__)


def _type_checking_names() -> dict[str, str]:
    """``{exported name: module}`` of the imports under ``if TYPE_CHECKING:`` in ``openai_async/__init__.py``."""
    names: dict[str, str] = {}
    for node in ast.parse(INIT.read_text()).body:
        if isinstance(node, ast.If) and isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING":
            for stmt in node.body:
                if isinstance(stmt, ast.ImportFrom):
                    for alias in stmt.names:
                        names[alias.asname or alias.name] = "." * stmt.level + (stmt.module or "")
    return names


def test_every_lazy_name_is_visible_to_type_checkers() -> None:
    """_LAZY and the TYPE_CHECKING block name the same things from the same modules."""
    typed = _type_checking_names()
    lazy: dict[str, str] = openai_async._LAZY
    missing = sorted(name for name in lazy if name not in typed)
    wrong = sorted(name for name in lazy if name in typed and typed[name] != lazy[name])
    assert not missing, f"lazy names missing from the TYPE_CHECKING block: {missing}"
    assert not wrong, f"lazy names typed from another module than they load from: {wrong}"
