"""Every operation, called through AsyncOpenAI against Prism (a spec-validating mock), is accepted and decodes.

Needs a running Prism: ``pid=$(scripts/prism.sh 4010)`` and ``OPENAI_ASYNC_PRISM_URL=http://127.0.0.1:4010``.
Without that variable the test is skipped.
"""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "scripts"))

import conformance

pytestmark = pytest.mark.prism


@pytest.mark.timeout(300)
def test_operations_conform_to_the_spec() -> None:
    """At least conformance.FLOOR of the 288 operations are accepted by Prism and decode into their types."""
    url = os.environ.get("OPENAI_ASYNC_PRISM_URL")
    if not url:
        pytest.skip("Prism is not running (set OPENAI_ASYNC_PRISM_URL, see scripts/prism.sh)")
    outcomes = asyncio.run(conformance.run(url))
    assert len(outcomes) == 288
    failing = sorted(f"{o.name} ({o.op_id}): {o.reason}" for o in outcomes if not o.ok)
    passed = len(outcomes) - len(failing)
    assert passed >= conformance.FLOOR, "\n".join(
        [f"conformance {passed}/288 < {conformance.FLOOR}", *failing]
    )
