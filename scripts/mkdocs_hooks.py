"""MkDocs hooks (mkdocs.yml ``hooks:``): the API reference pages are generated at build time.

``scripts/gen_api_docs.py`` lists every public name of ``openai_async`` and ``openai_async.testing``; the pages
are added to the build as generated files, so they can never be out of date and nothing generated is committed.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from mkdocs.structure.files import File, Files

sys.path.insert(0, str(Path(__file__).resolve().parent))
import gen_api_docs


def on_files(files: Files, config: Any) -> Files:
    docs = Path(config["docs_dir"]).resolve()
    for path, text in gen_api_docs.pages().items():
        files.append(File.generated(config, path.relative_to(docs).as_posix(), content=text))
    return files
