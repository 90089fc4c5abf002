"""``client.videos.create_and_poll`` / ``poll``: start a video generation job and wait for it.

As in the official SDK, ``queued`` and ``in_progress`` keep polling (``progress`` counts up to 100) and
``completed`` or ``failed`` returns: check ``video.status`` (and ``video.error``) before downloading.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Literal

from .._core.polling import poll
from .._core.types import UNSET, FileTypes, RequestOptions, Unpack, UnsetType
from ..types.videos import VideoResource

if TYPE_CHECKING:
    from .._client import AsyncOpenAI
    from .._core.response import RawResponse

__all__ = ["VideosHelpers"]

_MOVING = frozenset({"queued", "in_progress"})


class VideosHelpers:
    """Hand-written methods of ``client.videos`` (a mixin of the generated class)."""

    _client: AsyncOpenAI

    async def poll(
        self,
        video_id: str,
        *,
        poll_interval_ms: int | UnsetType = UNSET,
        max_wait_seconds: float | None = None,
        on_progress: Callable[[VideoResource], object] | None = None,
        **options: Unpack[RequestOptions],
    ) -> VideoResource:
        """Read a video job until it is ``completed`` or ``failed``, and return it.

        Args:
            poll_interval_ms: a fixed interval; by default the ``openai-poll-after-ms`` header, else one second.
            max_wait_seconds: give up after this long (``PollTimeoutError``); None waits forever.
            on_progress: called with the video after every read (``video.progress`` is 0-100).
        """
        raw_videos = self._client._raw_view().videos

        async def fetch() -> RawResponse[VideoResource]:
            raw: Any = await raw_videos.retrieve(video_id, **options)
            return raw  # type: ignore[no-any-return]

        return await poll(
            fetch,
            done=lambda v: v.status not in _MOVING,
            poll_interval_ms=poll_interval_ms,
            max_wait_seconds=max_wait_seconds,
            on_update=on_progress,
            what=f"video {video_id}",
            initial=1.0,
            maximum=1.0,
        )

    async def create_and_poll(
        self,
        *,
        prompt: str,
        input_reference: FileTypes | dict[str, Any] | UnsetType = UNSET,
        model: str | UnsetType = UNSET,
        seconds: Literal["4", "8", "12"] | UnsetType = UNSET,
        size: Literal["720x1280", "1280x720", "1024x1792", "1792x1024"] | UnsetType = UNSET,
        poll_interval_ms: int | UnsetType = UNSET,
        max_wait_seconds: float | None = None,
        on_progress: Callable[[VideoResource], object] | None = None,
        **options: Unpack[RequestOptions],
    ) -> VideoResource:
        """Create a video generation job and poll it until it is ``completed`` or ``failed``."""
        video = await self._client.videos.create(
            prompt=prompt, input_reference=input_reference, model=model, seconds=seconds, size=size, **options
        )
        if video.id is None:
            raise ValueError("the video creation response carries no id")
        return await self.poll(
            video.id,
            poll_interval_ms=poll_interval_ms,
            max_wait_seconds=max_wait_seconds,
            on_progress=on_progress,
            **options,
        )
