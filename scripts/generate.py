"""Regenerate the generated parts of openai_async from spec/openapi.yaml.

Usage:
    python scripts/generate.py           # write openai_async/types/ (and resources/, when gen_resources exists)
    python scripts/generate.py --check   # write nothing; exit 1 listing every file that differs

Generators are modules in scripts/ with ``render(spec, spec_hash) -> {path under openai_async/: text}``:
``gen_types`` always, ``gen_resources`` when the file exists. A file in ``openai_async/types/`` or
``openai_async/resources/`` that carries the DO-NOT-EDIT header but is no longer produced is stale: it is
removed (or, with ``--check``, reported).
"""

from __future__ import annotations

import argparse
import importlib
import sys
from pathlib import Path
from typing import Any

SCRIPTS = Path(__file__).resolve().parent
ROOT = SCRIPTS.parent
PACKAGE = ROOT / "openai_async"
GENERATED_DIRS = ("types", "resources")
MARKER = "DO NOT EDIT"

if str(SCRIPTS) not in sys.path:
    sys.path.insert(0, str(SCRIPTS))


def render_all(loaded: tuple[dict[str, Any], str] | None = None) -> dict[str, str]:
    """Run every generator on ``loaded`` (``(spec, sha256)``, default: spec/openapi.yaml); return
    ``{path relative to openai_async/: text}``."""
    import gen_types

    spec, spec_hash = loaded or gen_types.load_spec()
    files: dict[str, str] = {}
    generators: list[Any] = [gen_types]
    if (SCRIPTS / "gen_resources.py").exists():
        generators.append(importlib.import_module("gen_resources"))
    for gen in generators:
        for rel, text in gen.render(spec, spec_hash).items():
            if rel in files:
                raise SystemExit(f"{gen.__name__} and another generator both produce {rel}")
            files[rel] = text
    return files


def stale_files(files: dict[str, str]) -> list[str]:
    """Generated files on disk (they carry the DO-NOT-EDIT header) that ``files`` no longer contains."""
    stale = []
    for d in GENERATED_DIRS:
        base = PACKAGE / d
        if not base.is_dir():
            continue
        for path in sorted(p for p in base.rglob("*.py*") if p.suffix in (".py", ".pyi")):
            rel = path.relative_to(PACKAGE).as_posix()
            if rel in files:
                continue
            with open(path, encoding="utf-8", errors="replace") as f:
                head = f.read(600)
            if MARKER in head:
                stale.append(rel)
    return stale


def differences(files: dict[str, str]) -> list[str]:
    """Paths (relative to openai_async/) whose content on disk differs from ``files``, plus stale ones."""
    diff = []
    for rel, text in sorted(files.items()):
        path = PACKAGE / rel
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            diff.append(rel)
    return diff + [f"{rel} (stale)" for rel in stale_files(files)]


def write(files: dict[str, str]) -> list[str]:
    """Write changed files, remove stale ones; return what changed."""
    changed = []
    for rel, text in sorted(files.items()):
        path = PACKAGE / rel
        if path.exists() and path.read_text(encoding="utf-8") == text:
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        changed.append(rel)
    for rel in stale_files(files):
        (PACKAGE / rel).unlink()
        changed.append(f"{rel} (removed)")
    return changed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 if any file differs")
    args = parser.parse_args(argv)
    files = render_all()
    if args.check:
        diff = differences(files)
        for rel in diff:
            print(f"differs: openai_async/{rel}")
        if diff:
            print(f"{len(diff)} generated file(s) out of date: run `python scripts/generate.py`")
            return 1
        print(f"{len(files)} generated files up to date")
        return 0
    changed = write(files)
    for rel in changed:
        print(f"wrote openai_async/{rel}")
    print(f"{len(files)} files generated, {len(changed)} changed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
