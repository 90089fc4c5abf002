"""Every public class of openai_async can be introspected: help(), typing.get_type_hints() and msgspec."""

from __future__ import annotations

import inspect
import pydoc
import typing

import msgspec
import pytest

import openai_async

PUBLIC_CLASSES = sorted(name for name in openai_async.__all__ if inspect.isclass(getattr(openai_async, name)))


@pytest.mark.parametrize("name", PUBLIC_CLASSES)
def test_help_and_type_hints_work_on_every_public_class(name: str) -> None:
    """help() renders and typing.get_type_hints() resolves every annotation of each exported class."""
    cls = getattr(openai_async, name)
    hints = typing.get_type_hints(cls)
    assert all(not isinstance(hint, str) for hint in hints.values())
    assert cls.__name__ in pydoc.render_doc(cls)


def test_public_result_structs_convert_from_plain_data() -> None:
    """msgspec.convert builds the exported result structs (their annotations resolve from the public module)."""
    bulk = msgspec.convert(
        {"id": "r1", "custom_id": "a", "response": {"status_code": 200, "body": {"x": 1}}},
        openai_async.BulkResult,
    )
    batch = msgspec.convert({"custom_id": "a", "response": {"status_code": 200}}, openai_async.BatchResult)
    assert bulk.ok and bulk.response is not None and bulk.response.body == {"x": 1}
    assert batch.ok and batch.response is not None and batch.response.status_code == 200
