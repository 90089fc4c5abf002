"""``client.uploads.upload_file_chunked``: a large file sent as concurrent parts streamed from disk.

Each part is a window of the file handed to the multipart body as a file object, so aiohttp reads it in small
chunks off the event loop: memory stays at a few chunks per part in flight, whatever the file size. The md5 the
API checks on completion is computed by one sequential pass over the file in a worker thread, alongside the
part uploads. If anything fails (or the caller is cancelled) the upload is cancelled on the server.
"""

from __future__ import annotations

import hashlib
import io
import os
import sys
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Literal

import anyio
import anyio.to_thread

from .._core.types import UNSET, RequestOptions, Unpack, UnsetType
from ..types.uploads import Upload

if sys.version_info < (3, 11):  # pragma: no cover
    from exceptiongroup import BaseExceptionGroup

if TYPE_CHECKING:
    from .._client import AsyncOpenAI

__all__ = ["DEFAULT_PART_SIZE", "UploadsHelpers", "first_error"]

DEFAULT_PART_SIZE = 64 * 1024 * 1024
"""The largest part the Uploads API accepts (64 MB)."""
_HASH_BUFFER = 1024 * 1024


def first_error(group: BaseExceptionGroup[Any]) -> BaseException:
    """The first error of a task group's exception group that is not a cancellation (else the first one)."""
    leaves: list[BaseException] = []

    def walk(exc: BaseException) -> None:
        if isinstance(exc, BaseExceptionGroup):
            for inner in exc.exceptions:
                walk(inner)
        else:
            leaves.append(exc)

    walk(group)
    cancelled = anyio.get_cancelled_exc_class()
    return next((e for e in leaves if not isinstance(e, cancelled)), leaves[0])


class FileWindow(io.RawIOBase):
    """Strictly private. Bytes ``[offset, offset + length)`` of a file on disk, as a seekable read-only file."""

    def __init__(self, path: str, offset: int, length: int) -> None:
        super().__init__()
        self._file = open(path, "rb", buffering=0)  # closed by close()
        self._offset = offset
        self._length = length
        self._pos = 0
        self._file.seek(offset)

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, pos: int, whence: int = os.SEEK_SET) -> int:
        base = {os.SEEK_SET: 0, os.SEEK_CUR: self._pos, os.SEEK_END: self._length}[whence]
        self._pos = max(0, min(self._length, base + pos))
        self._file.seek(self._offset + self._pos)
        return self._pos

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        want = min(len(view), self._length - self._pos)
        if want <= 0:
            return 0
        got = self._file.readinto(view[:want]) or 0
        self._pos += got
        return got

    def close(self) -> None:
        self._file.close()
        super().close()


def _md5_of_file(path: str, stop: threading.Event) -> str:
    digest = hashlib.md5(usedforsecurity=False)
    buffer = bytearray(_HASH_BUFFER)
    view = memoryview(buffer)
    with open(path, "rb", buffering=0) as f:
        while n := f.readinto(buffer):
            if stop.is_set():  # the upload was abandoned: stop reading the file
                break
            digest.update(view[:n])  # hashlib releases the GIL on large buffers
    return digest.hexdigest()


class UploadsHelpers:
    """Hand-written methods of ``client.uploads`` (a mixin of the generated class)."""

    _client: AsyncOpenAI

    async def upload_file_chunked(
        self,
        *,
        file: str | os.PathLike[str] | bytes,
        mime_type: str,
        purpose: Literal["assistants", "batch", "fine-tune", "vision"],
        filename: str | None = None,
        bytes: int | None = None,
        part_size: int | None = None,
        md5: str | UnsetType = UNSET,
        concurrency: int = 4,
        on_part: Callable[[int, int], object] | None = None,
        **options: Unpack[RequestOptions],
    ) -> Upload:
        """Upload a file in parts through the Uploads API and return the completed ``Upload`` (``.file`` is the File).

        Args:
            file: a path (streamed from disk, never read whole) or bytes.
            mime_type / purpose: as for ``uploads.create``.
            filename: defaults to the path's base name.
            bytes: the size, if known (default: from the file).
            part_size: bytes per part, at most 64 MB (the default).
            md5: the file's md5 if you know it; computed while uploading otherwise.
            concurrency: parts in flight at once.
            on_part: called with (bytes uploaded so far, total) after each part.

        Raises:
            Whatever a part or the completion raised; the upload is cancelled first.
        """
        size_hint = bytes  # the parameter shadows the builtin, as in the official SDK
        part_size = part_size or DEFAULT_PART_SIZE
        if part_size <= 0 or concurrency <= 0:
            raise ValueError("part_size and concurrency must be positive")
        data: builtins_bytes | None = None
        path: str | None = None
        if isinstance(file, (str, os.PathLike)):
            path = os.fspath(file)
            total = size_hint if size_hint is not None else os.stat(path).st_size
            filename = filename or os.path.basename(path)
        else:
            data = file
            total = size_hint if size_hint is not None else len(data)
            if filename is None:
                raise ValueError("filename is required when file is bytes")
        if total <= 0:
            raise ValueError("cannot upload an empty file in parts")
        offsets = list(range(0, total, part_size))
        part_ids: list[str] = [""] * len(offsets)
        checksum: list[str] = [md5] if isinstance(md5, str) else []
        next_part = iter(range(len(offsets)))
        sent = 0

        upload = await self._client.uploads.create(
            filename=filename, purpose=purpose, bytes=total, mime_type=mime_type, **options
        )
        upload_id = upload.id
        assert upload_id is not None

        async def send_parts() -> None:
            nonlocal sent
            for index in next_part:  # shared iterator: each worker takes the next part number
                offset = offsets[index]
                length = min(part_size, total - offset)
                source: Any
                if path is not None:
                    source = FileWindow(path, offset, length)
                else:
                    assert data is not None
                    source = memoryview(data)[offset : offset + length].tobytes()
                try:
                    part = await self._client.uploads.parts.create(
                        upload_id, data=(filename, source, "application/octet-stream"), **options
                    )
                finally:
                    if isinstance(source, FileWindow):
                        source.close()
                assert part.id is not None
                part_ids[index] = part.id
                sent += length
                if on_part is not None:
                    on_part(sent, total)

        async def hash_file() -> None:
            if path is not None:
                stop = threading.Event()
                try:
                    checksum.append(
                        await anyio.to_thread.run_sync(_md5_of_file, path, stop, abandon_on_cancel=True)
                    )
                finally:
                    stop.set()
            else:
                assert data is not None
                checksum.append(hashlib.md5(data, usedforsecurity=False).hexdigest())

        try:
            try:
                async with anyio.create_task_group() as tg:
                    if not checksum:
                        tg.start_soon(hash_file)
                    for _ in range(min(concurrency, len(offsets))):
                        tg.start_soon(send_parts)
            except BaseExceptionGroup as group:
                raise first_error(group) from None
            return await self._client.uploads.complete(
                upload_id, part_ids=part_ids, md5=checksum[0], **options
            )
        except BaseException:
            with anyio.CancelScope(shield=True):
                try:
                    await self._client.uploads.cancel(upload_id, **options)
                except Exception:  # the original error matters more than a failed cleanup
                    pass
            raise


builtins_bytes = bytes
