"""``client.files`` conveniences: waiting for a file to be processed; the deprecated ``retrieve_content``."""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING, Any

from .._core.polling import poll
from .._core.resource import path_segment
from .._core.types import UNSET, RequestOptions, Unpack
from ..types.files import OpenAIFile

if TYPE_CHECKING:
    from .._client import AsyncOpenAI
    from .._core.response import RawResponse

__all__ = ["FilesHelpers"]

_TERMINAL = frozenset({"processed", "error", "deleted"})


class FilesHelpers:
    """Hand-written methods of ``client.files`` (a mixin the generated ``Files`` class inherits)."""

    _client: AsyncOpenAI

    async def wait_for_processing(
        self,
        id: str,
        *,
        poll_interval: float | None = None,
        max_wait_seconds: float | None = 30 * 60,
        **options: Unpack[RequestOptions],
    ) -> OpenAIFile:
        """Poll a file until its status is ``processed``, ``error`` or ``deleted``, and return it.

        Args:
            id: the file id.
            poll_interval: seconds between reads; by default the ``openai-poll-after-ms`` header, else a backoff.
            max_wait_seconds: give up after this long (``PollTimeoutError``, a ``TimeoutError``); None waits forever.
        """

        async def fetch() -> RawResponse[OpenAIFile]:
            raw: Any = await self._client._raw_view()._request(
                "GET", f"/files/{path_segment(id, 'id')}", cast=OpenAIFile, options=options
            )
            return raw  # type: ignore[no-any-return]

        return await poll(
            fetch,
            done=lambda f: f.status in _TERMINAL,
            poll_interval_ms=UNSET if poll_interval is None else poll_interval * 1000,
            max_wait_seconds=max_wait_seconds,
            what=f"file {id}",
            maximum=5.0,
        )

    async def retrieve_content(self, file_id: str, **options: Unpack[RequestOptions]) -> str:
        """Deprecated (as in the official SDK): the file's content as text; use ``content()`` for bytes."""
        warnings.warn("The `.content()` method should be used instead", DeprecationWarning, stacklevel=2)
        if not file_id:
            raise ValueError(f"Expected a non-empty value for `file_id` but received {file_id!r}")
        content = await self._client.files.content(file_id, **options)
        return content.text
