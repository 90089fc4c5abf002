"""The base class of every resource namespace (``client.chat``, ``client.chat.completions``, ...)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import quote

if TYPE_CHECKING:
    from typing_extensions import Self

    from .._client import AsyncOpenAI  # type-only: resources are bound to the assembled client

__all__ = ["APIResource", "path_segment"]


def path_segment(value: Any) -> str:
    """Escape one path parameter so that ``/``, ``?``, ``#`` and friends cannot change the URL's meaning."""
    if not isinstance(value, str):
        value = str(value)
    if not value:
        raise ValueError("a path parameter must be a non-empty string")
    return quote(value, safe="")


class APIResource:
    """A namespace of operations bound to one client."""

    def __init__(self, client: AsyncOpenAI) -> None:
        self._client = client

    @property
    def with_raw_response(self) -> Self:
        """The same operations, returning ``RawResponse`` (status, headers, request id, ``parse()``)."""
        return type(self)(self._client._raw_view())

    def __repr__(self) -> str:
        return f"<{type(self).__name__}>"
