"""``client.vector_stores.files`` / ``.file_batches`` conveniences: create or upload, then poll until processed.

Names and arguments follow the official SDK (``create_and_poll``, ``upload``, ``upload_and_poll``, ``poll``);
every poll honours ``openai-poll-after-ms`` and takes ``max_wait_seconds`` (``PollTimeoutError`` when it runs out).
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import anyio

from .._core.polling import poll
from .._core.resource import path_segment
from .._core.types import UNSET, FileTypes, RequestOptions, Unpack, UnsetType
from ..types.vector_stores import VectorStoreFileBatchObject, VectorStoreFileObject
from .uploads import first_error

if sys.version_info < (3, 11):  # pragma: no cover
    from exceptiongroup import BaseExceptionGroup

if TYPE_CHECKING:
    from .._client import AsyncOpenAI
    from .._core.response import RawResponse

__all__ = ["VectorStoreFileBatchesHelpers", "VectorStoreFilesHelpers"]


def _settled(obj: VectorStoreFileObject | VectorStoreFileBatchObject) -> bool:
    # in_progress is the only state that still moves: completed, failed and cancelled are final.
    return obj.status != "in_progress"


class VectorStoreFilesHelpers:
    """Hand-written methods of ``client.vector_stores.files`` (a mixin of the generated class)."""

    _client: AsyncOpenAI

    async def poll(
        self,
        file_id: str,
        *,
        vector_store_id: str,
        poll_interval_ms: int | UnsetType = UNSET,
        max_wait_seconds: float | None = None,
        **options: Unpack[RequestOptions],
    ) -> VectorStoreFileObject:
        """Wait until a vector store file is no longer ``in_progress``, and return it."""
        path = f"/vector_stores/{path_segment(vector_store_id, 'vector_store_id')}/files/{path_segment(file_id, 'file_id')}"

        async def fetch() -> RawResponse[VectorStoreFileObject]:
            raw: Any = await self._client._raw_view()._request(
                "GET", path, cast=VectorStoreFileObject, options=options
            )
            return raw  # type: ignore[no-any-return]

        return await poll(
            fetch,
            done=_settled,
            poll_interval_ms=poll_interval_ms,
            max_wait_seconds=max_wait_seconds,
            what=f"vector store file {file_id}",
        )

    async def create_and_poll(
        self,
        file_id: str,
        *,
        vector_store_id: str,
        attributes: dict[str, Any] | None | UnsetType = UNSET,
        chunking_strategy: dict[str, Any] | UnsetType = UNSET,
        poll_interval_ms: int | UnsetType = UNSET,
        max_wait_seconds: float | None = None,
        **options: Unpack[RequestOptions],
    ) -> VectorStoreFileObject:
        """Attach a file to a vector store and wait until it is processed."""
        await self._client.vector_stores.files.create(
            vector_store_id,
            file_id=file_id,
            attributes=attributes,
            chunking_strategy=chunking_strategy,
            **options,
        )
        return await self.poll(
            file_id,
            vector_store_id=vector_store_id,
            poll_interval_ms=poll_interval_ms,
            max_wait_seconds=max_wait_seconds,
            **options,
        )

    async def upload(
        self,
        *,
        vector_store_id: str,
        file: FileTypes,
        chunking_strategy: dict[str, Any] | UnsetType = UNSET,
        **options: Unpack[RequestOptions],
    ) -> VectorStoreFileObject:
        """Upload a file (purpose ``assistants``, streamed from disk) and attach it to a vector store."""
        uploaded = await self._client.files.create(file=file, purpose="assistants", **options)
        assert uploaded.id is not None
        return await self._client.vector_stores.files.create(
            vector_store_id, file_id=uploaded.id, chunking_strategy=chunking_strategy, **options
        )

    async def upload_and_poll(
        self,
        *,
        vector_store_id: str,
        file: FileTypes,
        attributes: dict[str, Any] | None | UnsetType = UNSET,
        chunking_strategy: dict[str, Any] | UnsetType = UNSET,
        poll_interval_ms: int | UnsetType = UNSET,
        max_wait_seconds: float | None = None,
        **options: Unpack[RequestOptions],
    ) -> VectorStoreFileObject:
        """Upload a file, attach it to a vector store and wait until it is processed."""
        uploaded = await self._client.files.create(file=file, purpose="assistants", **options)
        assert uploaded.id is not None
        return await self.create_and_poll(
            uploaded.id,
            vector_store_id=vector_store_id,
            attributes=attributes,
            chunking_strategy=chunking_strategy,
            poll_interval_ms=poll_interval_ms,
            max_wait_seconds=max_wait_seconds,
            **options,
        )


class VectorStoreFileBatchesHelpers:
    """Hand-written methods of ``client.vector_stores.file_batches`` (a mixin of the generated class)."""

    _client: AsyncOpenAI

    async def poll(
        self,
        batch_id: str,
        *,
        vector_store_id: str,
        poll_interval_ms: int | UnsetType = UNSET,
        max_wait_seconds: float | None = None,
        **options: Unpack[RequestOptions],
    ) -> VectorStoreFileBatchObject:
        """Wait until a vector store file batch is no longer ``in_progress``, and return it."""
        path = f"/vector_stores/{path_segment(vector_store_id, 'vector_store_id')}/file_batches/{path_segment(batch_id, 'batch_id')}"

        async def fetch() -> RawResponse[VectorStoreFileBatchObject]:
            raw: Any = await self._client._raw_view()._request(
                "GET", path, cast=VectorStoreFileBatchObject, options=options
            )
            return raw  # type: ignore[no-any-return]

        return await poll(
            fetch,
            done=_settled,
            poll_interval_ms=poll_interval_ms,
            max_wait_seconds=max_wait_seconds,
            what=f"vector store file batch {batch_id}",
        )

    async def create_and_poll(
        self,
        vector_store_id: str,
        *,
        file_ids: list[str] | UnsetType = UNSET,
        files: list[dict[str, Any]] | UnsetType = UNSET,
        attributes: dict[str, Any] | None | UnsetType = UNSET,
        chunking_strategy: dict[str, Any] | UnsetType = UNSET,
        poll_interval_ms: int | UnsetType = UNSET,
        max_wait_seconds: float | None = None,
        **options: Unpack[RequestOptions],
    ) -> VectorStoreFileBatchObject:
        """Create a vector store file batch and wait until every file in it is processed."""
        batch = await self._client.vector_stores.file_batches.create(
            vector_store_id,
            file_ids=file_ids,
            files=files,
            attributes=attributes,
            chunking_strategy=chunking_strategy,
            **options,
        )
        assert batch.id is not None
        return await self.poll(
            batch.id,
            vector_store_id=vector_store_id,
            poll_interval_ms=poll_interval_ms,
            max_wait_seconds=max_wait_seconds,
            **options,
        )

    async def upload_and_poll(
        self,
        vector_store_id: str,
        *,
        files: Iterable[FileTypes],
        max_concurrency: int = 5,
        file_ids: list[str] | None = None,
        attributes: dict[str, Any] | None | UnsetType = UNSET,
        chunking_strategy: dict[str, Any] | UnsetType = UNSET,
        poll_interval_ms: int | UnsetType = UNSET,
        max_wait_seconds: float | None = None,
        **options: Unpack[RequestOptions],
    ) -> VectorStoreFileBatchObject:
        """Upload files (at most ``max_concurrency`` at once), add them as one batch and wait until processed.

        ``file_ids`` are files already uploaded that join the same batch.
        """
        sources = list(files)
        if not sources and not file_ids:
            raise ValueError("upload_and_poll needs at least one file or file id")
        uploaded: list[str] = [""] * len(sources)
        limit = anyio.Semaphore(max(1, max_concurrency))

        async def upload_one(index: int, source: FileTypes) -> None:
            async with limit:
                obj = await self._client.files.create(file=source, purpose="assistants", **options)
            assert obj.id is not None
            uploaded[index] = obj.id

        try:
            async with anyio.create_task_group() as tg:
                for index, source in enumerate(sources):
                    tg.start_soon(upload_one, index, source)
        except BaseExceptionGroup as group:
            raise first_error(group) from None
        return await self.create_and_poll(
            vector_store_id,
            file_ids=[*(file_ids or ()), *uploaded],
            attributes=attributes,
            chunking_strategy=chunking_strategy,
            poll_interval_ms=poll_interval_ms,
            max_wait_seconds=max_wait_seconds,
            **options,
        )
