#!/usr/bin/env bash
# Packaging check: build sdist + wheel, `twine check` them, check the wheel ships py.typed and the stubs,
# install the wheel (not the source tree) into a fresh venv and run an example offline from outside the tree.
# Usage: scripts/check_wheel.sh [python]   (the python must have `build` and `twine`; CI passes the dev venv's)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
py="${1:-python3}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

"$py" -m build --sdist --wheel --outdir "$work/dist" . >"$work/build.log" 2>&1 || { cat "$work/build.log"; exit 1; }
# setuptools warns about deprecated licence metadata and the like: the build must be warning-free.
if grep -iE 'warning|deprecat' "$work/build.log" | grep -viE 'byte-compiling is disabled' >&2; then
  echo "build printed warnings (above)" >&2; exit 1
fi
"$py" -m twine check --strict "$work"/dist/*

wheel=$(ls "$work"/dist/*.whl)
version=$("$py" -c 'import runpy; print(runpy.run_path("openai_async/_version.py")["__version__"])')
case "$wheel" in *"-$version-"*) ;; *) echo "wheel $wheel does not carry version $version" >&2; exit 1 ;; esac
"$py" - "$wheel" <<'PY'
import sys, zipfile
names = set(zipfile.ZipFile(sys.argv[1]).namelist())
need = ["openai_async/py.typed", "openai_async/types/__init__.pyi", "openai_async/testing/__init__.py"]
missing = [n for n in need if n not in names]
meta = next(n for n in names if n.endswith(".dist-info/METADATA"))
text = zipfile.ZipFile(sys.argv[1]).read(meta).decode()
if "License-Expression: MIT" not in text:
    missing.append("METADATA License-Expression: MIT")
if not any(n.endswith(".dist-info/licenses/LICENSE") for n in names):
    missing.append("dist-info/licenses/LICENSE")
stray = [n for n in names if n.startswith(("tests/", "examples/", "scripts/", "benchmarks/"))]
if missing or stray:
    sys.exit(f"wheel content: missing {missing}, stray {stray}")
print(f"wheel ok: {len(names)} files, py.typed, stubs, licence")
PY

"$py" -m venv "$work/venv"
"$work/venv/bin/pip" install -q --disable-pip-version-check "$wheel" >"$work/pip.log" 2>&1 || { cat "$work/pip.log"; exit 1; }
mkdir "$work/run" && cp examples/_offline.py examples/chat.py "$work/run/"
# Run from an empty folder so `import openai_async` can only come from the installed wheel.
(cd "$work/run" && env -u OPENAI_API_KEY -u OPENAI_BASE_URL PYTHONSAFEPATH=1 "$work/venv/bin/python" -c '
import openai_async, runpy, sys
assert "site-packages" in openai_async.__file__, openai_async.__file__
sys.path.insert(0, ".")
runpy.run_path("chat.py", run_name="__main__")
print("installed", openai_async.__version__, "from", openai_async.__file__)
' >"$work/run.log") || { cat "$work/run.log"; exit 1; }
tail -1 "$work/run.log"
