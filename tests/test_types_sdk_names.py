"""The official SDK's type names (pinned openai in the dev extra) exist in openai_async.types, under the same module
path where we have that module; what is missing is explained."""

from __future__ import annotations
import __future__

import collections
import importlib
import inspect
import pkgutil
from pathlib import Path
from typing import Any

import pytest

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib  # type: ignore[no-redef]

openai_types = pytest.importorskip("openai.types")

import openai_async.types as ours  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
SDK_NAMES = tomllib.loads((ROOT / "scripts" / "sdk_names.toml").read_text(encoding="utf-8"))

# Why a name of the official tree is not in ours (the keys of [unmatched] in scripts/sdk_names.toml).
REASONS = {
    "shape": "no schema of spec/openapi.yaml has this type's wire fields and tag (the API is not in the spec, "
    "or its shape differs: see scripts/sdk_names.py)",
    "params": "a method's parameter bundle: our methods take those parameters as keywords",
    "alias": "a union / literal alias with no same-named or same-member alias of ours",
    "clash": "the name means another type in another official module; ours follows the first",
}
# Official module paths that are not modules of ours: one module per API area (types/<area>.py), so sub-packages
# (chat.completions, beta.threads, admin.organization, ...) have no counterpart; their matched names are importable
# from `openai_async.types` itself.
OUR_MODULES = {
    Path(p).stem for p in ours.__path__ for p in Path(p).glob("*.py") if not p.name.startswith("_")
}


def _official() -> dict[tuple[str, str], Any]:
    out: dict[tuple[str, str], Any] = {}
    packages = ["openai.types"] + [
        m.name for m in pkgutil.walk_packages(openai_types.__path__, "openai.types.") if m.ispkg
    ]
    for package in packages:
        module = importlib.import_module(package)
        for name in dir(module):
            value = getattr(module, name)
            if name.startswith("_") or inspect.ismodule(value) or isinstance(value, __future__._Feature):
                continue
            out[(package[len("openai.types") :].lstrip("."), name)] = value
    return out


OFFICIAL = _official()


def _ours(module: str) -> Any:
    return importlib.import_module(f"openai_async.types.{module}" if module else "openai_async.types")


def _missing() -> set[tuple[str, str]]:
    """Official (module, name) that ours lacks. For an official module path we have no module for, a name counts
    as present when scripts/sdk_names.py matched it and openai_async.types has it."""
    unmatched = SDK_NAMES["unmatched"]
    missing: set[tuple[str, str]] = set()
    for module, name in OFFICIAL:
        if module == "" or module in OUR_MODULES:
            if not hasattr(_ours(module), name) or unmatched.get(f"{module}:{name}") == "clash":
                missing.add((module, name))
        elif f"{module}:{name}" in unmatched or not hasattr(ours, name):
            missing.add((module, name))
    return missing


def test_the_chat_and_responses_names_users_import_exist() -> None:
    """The names the official docs import exist at the same path (request TypedDicts, parsed types)."""
    from openai_async.types.chat import (  # noqa: F401
        ChatCompletionAssistantMessageParam,
        ChatCompletionMessageParam,
        ChatCompletionSystemMessageParam,
        ChatCompletionToolMessageParam,
        ChatCompletionUserMessageParam,
        ParsedChatCompletion,
    )
    from openai_async.types.responses import ParsedResponse, ResponseInputParam  # noqa: F401

    message: ChatCompletionUserMessageParam = {"role": "user", "content": "hi"}
    assert ChatCompletionUserMessageParam.__annotations__.keys() == {"role", "content", "name"}
    assert message == {"role": "user", "content": "hi"}
    assert ParsedChatCompletion.__name__ == "ParsedChatCompletion"
    assert ParsedResponse.__name__ == "ParsedResponse"


def test_every_official_name_exists_or_is_explained() -> None:
    """Each public name of openai.types exists at the same module path (or, for an official sub-package we have
    no module for, in openai_async.types), or is in [unmatched] with a known reason; none is left unexplained."""
    unmatched = SDK_NAMES["unmatched"]
    assert set(unmatched.values()) <= set(REASONS)
    unexplained = sorted(f"{m}:{n}" for (m, n) in _missing() if f"{m}:{n}" not in unmatched)
    assert not unexplained, f"{len(unexplained)} official names missing without a reason: {unexplained[:40]}"


def test_the_allow_list_holds_only_missing_names() -> None:
    """No [unmatched] entry names a type that exists now (the list shrinks as coverage grows)."""
    missing = {f"{m}:{n}" for (m, n) in _missing()}
    official = {f"{m}:{n}" for (m, n) in OFFICIAL}
    unmatched = SDK_NAMES["unmatched"]
    # a "clash" name exists, meaning the type of another official module
    stale = sorted(k for k in unmatched if k in official and k not in missing and unmatched[k] != "clash")
    assert not stale, (
        f"now present, drop from scripts/sdk_names.toml (rerun scripts/sdk_names.py): {stale[:40]}"
    )


def test_coverage_report() -> None:
    """At least 1,040 of the 1,757 official names are present; the summary of what is missing prints with -s."""
    missing = _missing()
    by_area = collections.Counter(
        (m.split(".")[0] or "openai.types", SDK_NAMES["unmatched"].get(f"{m}:{n}", "?")) for (m, n) in missing
    )
    print(
        f"\n{len(OFFICIAL) - len(missing)}/{len(OFFICIAL)} official type names present; missing by area/reason:"
    )
    for (area, reason), count in sorted(by_area.items()):
        print(f"  {area:<16} {reason:<7} {count}")
    assert len(OFFICIAL) - len(missing) >= 1040  # the count when this test was written: coverage only grows
