"""``client.fine_tuning.jobs.wait(job_id)``: follow a fine-tuning job to its end while streaming its events; the
deprecated ``checkpoints.permissions.retrieve`` (one page of the permissions list, as the official SDK has it)."""

from __future__ import annotations

import warnings
from collections import deque
from collections.abc import Generator
from typing import TYPE_CHECKING, Any, Literal

from .._core.polling import PollSchedule, PollTimeoutError
from .._core.resource import path_segment
from .._core.types import UNSET, RequestOptions, Unpack, UnsetType
from ..types.fine_tuning import FineTuningJob, FineTuningJobEvent, ListFineTuningCheckpointPermissionResponse

if TYPE_CHECKING:
    from .._client import AsyncOpenAI

__all__ = ["FineTuningJobWatch", "FineTuningJobsHelpers", "PermissionsHelpers"]

TERMINAL_STATUSES = frozenset({"succeeded", "failed", "cancelled"})


class FineTuningJobWatch:
    """A fine-tuning job being followed: ``async for event in watch`` yields each of its events once, oldest
    first, and stops when the job has ended; ``await watch`` does the same silently and returns the final job.

    ``job`` is the job as last read. Each read is a plain request (no connection is held between events), so
    breaking out of the loop needs no cleanup.
    """

    def __init__(
        self,
        client: AsyncOpenAI,
        job_id: str,
        *,
        poll_interval_ms: float | UnsetType,
        max_wait_seconds: float | None,
        options: RequestOptions,
    ) -> None:
        self._client = client
        self.job_id = job_id
        self.job: FineTuningJob | None = None
        self._options = options
        self._schedule = PollSchedule(
            poll_interval_ms=poll_interval_ms, max_wait_seconds=max_wait_seconds, maximum=10.0
        )
        self._pending: deque[FineTuningJobEvent] = deque()
        self._seen: set[str] = set()
        self._headers: Any = None
        self._started = False
        self._finished = False

    def __aiter__(self) -> FineTuningJobWatch:
        return self

    async def __anext__(self) -> FineTuningJobEvent:
        while not self._pending:
            if self._finished:
                raise StopAsyncIteration
            await self._step()
        return self._pending.popleft()

    def __await__(self) -> Generator[Any, None, FineTuningJob]:
        return self._drain().__await__()

    async def _drain(self) -> FineTuningJob:
        async for _ in self:
            pass
        assert self.job is not None
        return self.job

    async def _step(self) -> None:
        if self._started and not await self._schedule.sleep(self._headers):
            status = self.job.status if self.job is not None else None
            raise PollTimeoutError(
                f"Gave up waiting for fine-tuning job {self.job_id} after {self._schedule.max_wait_seconds} s "
                f"(last status: {status!r}).",
                last=self.job,
            )
        self._started = True
        raw = await self._client._raw_view()._request(
            "GET",
            f"/fine_tuning/jobs/{path_segment(self.job_id, 'job_id')}",
            cast=FineTuningJob,
            options=self._options,
        )
        self._headers = raw.headers
        self.job = raw.parse()
        # Events are listed newest first: walk back until one already seen, then hand them out oldest first.
        fresh: list[FineTuningJobEvent] = []
        paginator = self._client._paginate(
            f"/fine_tuning/jobs/{path_segment(self.job_id, 'job_id')}/events",
            query={"limit": 100},
            item=FineTuningJobEvent,
            page="cursor",
            options=self._options,
        )
        page = await paginator
        while True:
            known = next(
                (i for i, e in enumerate(page.data) if e.id is not None and e.id in self._seen), None
            )
            fresh.extend(page.data if known is None else page.data[:known])
            if known is not None or not page.has_next_page():
                break
            page = await page.get_next_page()
        fresh.reverse()
        for event in fresh:
            if event.id is not None:
                self._seen.add(event.id)
        self._pending.extend(fresh)
        if self.job.status in TERMINAL_STATUSES:
            self._finished = True


class FineTuningJobsHelpers:
    """Hand-written methods of ``client.fine_tuning.jobs`` (a mixin of the generated class)."""

    _client: AsyncOpenAI

    def wait(
        self,
        job_id: str,
        *,
        poll_interval_ms: int | UnsetType = UNSET,
        max_wait_seconds: float | None = None,
        **options: Unpack[RequestOptions],
    ) -> FineTuningJobWatch:
        """Follow a job until it succeeds, fails or is cancelled.

        ``async for event in client.fine_tuning.jobs.wait(job_id)`` streams its events (oldest first, each once);
        ``job = await client.fine_tuning.jobs.wait(job_id)`` just returns the final job. Polls honour
        ``openai-poll-after-ms``; ``max_wait_seconds`` bounds the wait (``PollTimeoutError``).
        """
        return FineTuningJobWatch(
            self._client,
            job_id,
            poll_interval_ms=poll_interval_ms,
            max_wait_seconds=max_wait_seconds,
            options=options,
        )


class PermissionsHelpers:
    """Hand-written methods of ``client.fine_tuning.checkpoints.permissions`` (a mixin of the generated class)."""

    _client: AsyncOpenAI

    async def retrieve(
        self,
        fine_tuned_model_checkpoint: str,
        *,
        after: str | UnsetType = UNSET,
        limit: int | UnsetType = UNSET,
        order: Literal["ascending", "descending"] | UnsetType = UNSET,
        project_id: str | UnsetType = UNSET,
        **options: Unpack[RequestOptions],
    ) -> ListFineTuningCheckpointPermissionResponse:
        """Deprecated (as in the official SDK): one page of a checkpoint's permissions, as the list object;
        ``list()`` is the same GET, paginated. See https://platform.openai.com/docs/api-reference/fine-tuning"""
        warnings.warn(
            "Retrieve is deprecated. Please swap to the paginated list method instead.",
            DeprecationWarning,
            stacklevel=2,
        )
        if not fine_tuned_model_checkpoint:
            raise ValueError(
                "Expected a non-empty value for `fine_tuned_model_checkpoint` but received "
                f"{fine_tuned_model_checkpoint!r}"
            )
        return await self._client._request(  # type: ignore[no-any-return]
            "GET",
            f"/fine_tuning/checkpoints/{path_segment(fine_tuned_model_checkpoint)}/permissions",
            query={"after": after, "limit": limit, "order": order, "project_id": project_id},
            cast=ListFineTuningCheckpointPermissionResponse,
            options=options,
        )
