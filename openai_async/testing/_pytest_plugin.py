"""pytest plugin: the ``openai_fake`` fixture. Registered through the ``pytest11`` entry point ``openai_async``.

pytest imports every installed plugin at start-up, so this module imports the server (and aiohttp.web) only
when a test asks for the fixture.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from ._server import FakeOpenAI

__all__ = ["openai_fake"]


@pytest.fixture
def openai_fake() -> Iterator[FakeOpenAI]:
    """A running ``FakeOpenAI`` (background thread, so any async test framework can use it).

    Point the code under test at ``openai_fake.base_url``, or use ``openai_fake.client()``. The test errors at
    teardown if a dynamic handler or a ``match`` predicate raised (see ``FakeOpenAI.errors``).
    """
    from ._server import FakeOpenAI  # lazy: the plugin loads in every pytest run; the server only when used

    with FakeOpenAI() as fake:
        yield fake
