"""``client.batches.run(...)``: the Batch pipeline (see ``openai_async._workloads.batch.pipeline``) as a method of the resource."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TextIO

from .pipeline import (
    MAX_BYTES,
    MAX_REQUESTS,
    UPLOAD_THRESHOLD,
    BatchInput,
    BatchProgress,
    BatchRun,
    run_batch,
)

if TYPE_CHECKING:
    from ..._client import AsyncOpenAI

__all__ = ["BatchesHelpers"]


class BatchesHelpers:
    """Hand-written methods of ``client.batches`` (a mixin of the generated class)."""

    _client: AsyncOpenAI

    def run(
        self,
        requests: BatchInput,
        *,
        output: str | os.PathLike[str] | None = None,
        state_path: str | os.PathLike[str] | None = None,
        completion_window: str = "24h",
        metadata: dict[str, str] | None = None,
        max_requests: int = MAX_REQUESTS,
        max_bytes: int = MAX_BYTES,
        upload_threshold: int = UPLOAD_THRESHOLD,
        part_size: int | None = None,
        poll_interval_ms: float | None = None,
        max_wait_seconds: float | None = None,
        on_progress: Callable[[BatchProgress], object] | None = None,
        progress: bool | TextIO = False,
        typed: bool = True,
        **options: Any,
    ) -> BatchRun:
        """Run requests through the Batch API: split, upload, create, poll, download, results in input order.

        ``await client.batches.run(requests, output="out.jsonl")`` writes the results and returns a
        ``BatchSummary`` (run it again to resume); ``async for result in client.batches.run(requests)`` yields
        ``BatchResult``s. Arguments as for ``openai_async._workloads.batch.pipeline.run_batch``.
        """
        return run_batch(
            self._client,
            requests,
            output=output,
            state_path=state_path,
            completion_window=completion_window,
            metadata=metadata,
            max_requests=max_requests,
            max_bytes=max_bytes,
            upload_threshold=upload_threshold,
            part_size=part_size,
            poll_interval_ms=poll_interval_ms,
            max_wait_seconds=max_wait_seconds,
            on_progress=on_progress,
            progress=progress,
            typed=typed,
            **options,
        )
