"""The base class of every resource namespace (``client.chat``, ``client.chat.completions``, ...)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import quote, unquote

from .streamed import StreamingView
from .types import UNSET

if TYPE_CHECKING:
    from typing_extensions import Self

    from .._client import AsyncOpenAI  # type-only: resources are bound to the assembled client

__all__ = ["APIResource", "path_segment"]


def path_segment(value: Any, name: str = "path parameter") -> str:
    """Escape one path parameter so that ``/``, ``?``, ``#`` and friends cannot change the URL's meaning.

    ``None``, an empty string and the dot segments ``.`` and ``..`` (also percent-encoded, as ``%2e%2E``) are
    refused: the URL layer would resolve them and send the request to another resource (``DELETE
    /vector_stores/../files/x`` is ``DELETE /files/x``).

    Raises:
        ValueError: naming ``name``, the parameter, before anything is sent.
    """
    if isinstance(value, str):
        text = value
    elif value is None or value is UNSET:
        raise ValueError(f"Expected a non-empty value for `{name}` but received {value!r}")
    else:
        text = str(value)
    if not text:
        raise ValueError(f"Expected a non-empty value for `{name}` but received {value!r}")
    if text[0] in ".%" and _is_dot_segment(text):
        raise ValueError(f"`{name}` cannot be {value!r}: a dot segment would change the request's path")
    return quote(text, safe="")


def _is_dot_segment(text: str) -> bool:
    # Decode repeatedly (bounded): a proxy that decodes once more must not see ".." either.
    for _ in range(4):
        if text in (".", ".."):
            return True
        decoded = unquote(text)
        if decoded == text:
            return False
        text = decoded
    return text in (".", "..")


class APIResource:
    """A namespace of operations bound to one client."""

    def __init__(self, client: AsyncOpenAI) -> None:
        self._client = client

    @property
    def with_raw_response(self) -> Self:
        """The same operations, returning ``RawResponse`` (status, headers, request id, ``parse()``)."""
        return type(self)(self._client._raw_view())

    @property
    def with_streaming_response(self) -> Any:
        """The same operations as ``async with`` blocks giving a ``StreamedResponse`` before the body is read:
        ``async with client.files.with_streaming_response.content(id) as r: await r.stream_to_file(path)``."""
        return StreamingView(type(self)(self._client._raw_view("stream")))

    def __repr__(self) -> str:
        return f"<{type(self).__name__}>"
