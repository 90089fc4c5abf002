"""The generated code on disk is exactly what scripts/generate.py produces from the vendored spec."""

from __future__ import annotations

import functools
import hashlib
import sys
import time
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))

import gen_types  # noqa: E402
import generate  # noqa: E402


@functools.lru_cache(maxsize=1)
def loaded() -> tuple[dict[str, Any], str]:
    return gen_types.load_spec()


@functools.lru_cache(maxsize=1)
def rendered() -> dict[str, str]:
    return generate.render_all(loaded())


def test_generated_files_are_up_to_date() -> None:
    """Regenerating in memory gives byte-identical files and no stale ones (run scripts/generate.py if not)."""
    assert generate.differences(rendered()) == []


def test_check_mode_passes_and_is_fast(capsys: pytest.CaptureFixture[str]) -> None:
    """``generate.py --check`` exits 0 on a clean tree, writes nothing and takes a few seconds at most."""
    start = time.perf_counter()
    assert generate.main(["--check"]) == 0
    assert time.perf_counter() - start < 10
    assert "up to date" in capsys.readouterr().out


def test_types_generation_is_deterministic() -> None:
    """Two renders of the same spec are identical."""
    again = gen_types.render(*loaded())
    assert again == {rel: text for rel, text in rendered().items() if rel in again}
    assert again.keys() <= rendered().keys()


def test_every_generated_types_file_names_its_source() -> None:
    """Each file under types/ opens with the command, the spec's sha256 and DO NOT EDIT."""
    digest = hashlib.sha256(gen_types.SPEC_PATH.read_bytes()).hexdigest()
    types_files = {rel: text for rel, text in rendered().items() if rel.startswith("types/")}
    assert len(types_files) > 20
    for rel, text in types_files.items():
        first = text.splitlines()[0]
        assert "python scripts/generate.py" in first and digest in first, rel
        assert generate.MARKER in text[:400], rel


def test_spec_source_records_the_current_hash() -> None:
    """spec/SOURCE.md names the sha256 of the vendored spec."""
    digest = hashlib.sha256(gen_types.SPEC_PATH.read_bytes()).hexdigest()
    assert digest in (ROOT / "spec" / "SOURCE.md").read_text(encoding="utf-8")


def test_stale_generated_files_are_reported_and_removed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A generated file that is no longer produced is listed by --check and removed on write; others stay."""
    monkeypatch.setattr(generate, "PACKAGE", tmp_path)
    files = {"types/a.py": f"# {generate.MARKER}\nA = 1\n"}
    generate.write(files)
    (tmp_path / "types" / "old.py").write_text(f"# x\n# {generate.MARKER}\n")
    (tmp_path / "types" / "hand.py").write_text("# written by hand\n")
    assert generate.differences(files) == ["types/old.py (stale)"]
    files["types/a.py"] += "B = 2\n"
    assert generate.differences(files) == ["types/a.py", "types/old.py (stale)"]
    assert generate.write(files) == ["types/a.py", "types/old.py (removed)"]
    assert not (tmp_path / "types" / "old.py").exists()
    assert (tmp_path / "types" / "hand.py").exists()
    assert generate.differences(files) == []


def test_definitions_come_after_what_they_name_and_cycles_are_found() -> None:
    """Classes and aliases are emitted after the names they use; a class naming itself or a partner is a cycle."""
    refs = {"Alias": {"Leaf", "Node"}, "Leaf": set(), "Node": {"Leaf", "str"}, "Self": {"Self"}}
    node_of = {"Alias": "Alias", "Leaf": "Leaf", "Node": "Node", "Node_Sub": "Node", "Self": "Self"}
    order, cyclic = gen_types._dependency_order(refs, node_of)
    assert order.index("Leaf") < order.index("Node") < order.index("Alias")
    assert cyclic == {"Self"}
    order, cyclic = gen_types._dependency_order({"A": {"B"}, "B": {"A"}}, {"A": "A", "B": "B"})
    assert cyclic == {"A", "B"}
    names = gen_types._names_in('Literal["Leaf"] | _shared.Node | Leaf | None')
    assert names == {"Literal", "Leaf", "None", "_shared"}


def test_modules_that_import_each_other_are_untied_where_only_annotations_need_the_other() -> None:
    """Of two areas that import each other, the one naming the other in class annotations only imports it last;
    a cycle of aliases (needed at import) is refused with the areas named."""
    deps = {
        "graders": ({"fine_tuning", "shared"}, set()),
        "fine_tuning": ({"shared"}, {"graders"}),
        "shared": (set(), set()),
    }
    assert gen_types.lazy_imports(deps) == {"fine_tuning": frozenset({"graders"})}
    with pytest.raises(SystemExit, match="import cycle"):
        gen_types.lazy_imports({"a": ({"b"}, set()), "b": ({"a"}, set())})


@pytest.mark.parametrize("first", ["fine_tuning", "graders", "responses", "evals"])
def test_each_types_module_imports_on_its_own_and_has_real_annotations(first: str) -> None:
    """A types module imports first in a fresh interpreter (whichever of a cycle comes first), then every other;
    no generated module postpones its annotations, so msgspec reads types, not strings to compile."""
    import subprocess

    code = (
        "import importlib, pkgutil, msgspec, openai_async.types as T\n"
        f"importlib.import_module('openai_async.types.{first}')\n"
        "for m in pkgutil.iter_modules(T.__path__):\n"
        "    mod = importlib.import_module('openai_async.types.' + m.name)\n"
        "import openai_async.types.responses as R\n"
        "assert not isinstance(R.Response.__annotations__['output'], str)\n"
        "msgspec.json.Decoder(R.ResponseStreamEvent)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    for path in (ROOT / "openai_async" / "types").glob("*.py"):
        if path.name != "__init__.py":
            assert "from __future__ import annotations" not in path.read_text(), path.name


def test_request_typeddicts_load_on_first_access() -> None:
    """An area module does not build its request TypedDicts at import; the first one asked for loads them all,
    through the area module (``from openai_async.types.chat import ...Param``), and ``dir()`` lists them."""
    import subprocess

    code = (
        "import sys\n"
        "import openai_async.types.chat as chat\n"
        "assert 'openai_async.types._params_chat' not in sys.modules\n"
        "assert 'ChatCompletionMessageParam' in dir(chat)\n"
        "from openai_async.types.chat import ChatCompletionUserMessageParam\n"
        "assert 'openai_async.types._params_chat' in sys.modules\n"
        "assert ChatCompletionUserMessageParam(role='user', content='hi') == {'role': 'user', 'content': 'hi'}\n"
        "from openai_async.types.responses import ResponseInputParam\n"
        "assert ResponseInputParam is not None\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr


def test_the_types_package_names_every_type_and_star_imports_them() -> None:
    """``openai_async.types`` lists every type in ``__all__`` and ``dir()`` and loads each from its area module."""
    import openai_async.types as types_pkg

    namespace: dict[str, Any] = {}
    exec("from openai_async.types import *", namespace)
    wanted = {"ChatCompletion", "ResponseStreamEvent", "ChatCompletionMessageParam", "Unknown"}
    assert wanted <= set(namespace)
    assert "Response" in dir(types_pkg) and "Response" in types_pkg.__all__
    assert types_pkg.ChatCompletion.__module__ == "openai_async.types.chat"
    with pytest.raises(AttributeError, match="NoSuchType"):
        types_pkg.NoSuchType  # noqa: B018
