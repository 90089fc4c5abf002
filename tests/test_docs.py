"""The documentation's code: every Python block compiles, the blocks marked runnable run offline on the fake server.

A block is runnable when the line before its opening fence is ``<!-- run -->``. It runs with top-level ``await``
(as ``python -m asyncio`` allows), with ``OPENAI_API_KEY`` unset, and with ``client`` (an ``AsyncOpenAI``) and
``fake`` (the ``FakeOpenAI`` it talks to) defined, as the pages say. ``mkdocs build --strict`` runs in .ci/run.
"""

from __future__ import annotations

import ast
import contextlib
import io
import re
import sys
from pathlib import Path

import pytest

from openai_async.testing import FakeOpenAI

ROOT = Path(__file__).resolve().parent.parent
PAGES = sorted((ROOT / "docs").rglob("*.md")) + [ROOT / "README.md"]
FENCE = re.compile(r"^```python[^\n]*\n(.*?)^```\s*$", re.S | re.M)


def _blocks() -> list[tuple[str, str, bool]]:
    found = []
    for page in PAGES:
        text = page.read_text()
        for match in FENCE.finditer(text):
            line = text.count("\n", 0, match.start()) + 1
            before = text[: match.start()].rstrip("\n").rsplit("\n", 1)[-1].strip()
            found.append((f"{page.relative_to(ROOT)}:{line}", match.group(1), before == "<!-- run -->"))
    return found


BLOCKS = _blocks()
RUNNABLE = [(name, code) for name, code, run in BLOCKS if run]


def _compile(name: str, code: str) -> object:
    return compile(code, name, "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)


@pytest.mark.parametrize(("name", "code"), [(n, c) for n, c, _ in BLOCKS], ids=[n for n, _, _ in BLOCKS])
def test_block_compiles(name: str, code: str) -> None:
    """Every Python block of the docs and the README is valid Python (top-level await allowed)."""
    _compile(name, code)


@pytest.mark.anyio
@pytest.mark.parametrize(("name", "code"), RUNNABLE, ids=[n for n, _ in RUNNABLE])
async def test_runnable_block_runs_offline(name: str, code: str) -> None:
    """A block marked runnable runs to the end against the fake server, with no API key in the environment."""
    out = io.StringIO()
    async with FakeOpenAI() as fake, fake.client() as client:
        namespace = {"__name__": "__docs__", "client": client, "fake": fake}
        with contextlib.redirect_stdout(out):
            result = eval(
                _compile(name, code), namespace
            )  # the docs' own code, compiled with top-level await
            if result is not None:
                await result
    sys.stdout.write(out.getvalue())


def test_there_are_runnable_blocks_on_most_guides() -> None:
    """The marker is not silently lost: the quickstart, streaming and testing pages keep runnable blocks."""
    pages = {name.split(":")[0] for name, _ in RUNNABLE}
    assert {"docs/quickstart.md", "docs/streaming.md", "docs/testing.md"} <= pages


def test_readme_links_to_the_site_pages() -> None:
    """Every docs/ link of the README names an existing page, and every guide of mkdocs.yml is linked."""
    readme = (ROOT / "README.md").read_text()
    links = re.findall(r"\]\((docs/[^)#]+)", readme)
    assert links and all((ROOT / link).exists() for link in links)
    nav = re.findall(r":\s+([\w./-]+\.md)\s*$", (ROOT / "mkdocs.yml").read_text(), re.M)
    missing = [
        page
        for page in nav
        if f"docs/{page}" not in links
        and page
        not in ("index.md", "operations.md", "CONTRACTS.md", "reference/client.md", "reference/testing.md")
    ]
    assert not missing
