"""The Batch pipeline: requests in, results out in input order, through the 50%-cheaper Batch API.

    summary = await client.batches.run("requests.jsonl", output="results.jsonl")   # run to a file

    async with client.batches.run(requests) as results:                           # or iterate
        async for result in results:                                               # input order
            print(result.custom_id, result.ok, result.response.body if result.ok else result.error)

What one run does:

1. reads the requests lazily (Batch input lines: ``custom_id``, ``method``, ``url``, ``body``; the same items the
   bulk runner takes) and writes them as JSONL files of at most ``max_requests`` lines / ``max_bytes`` bytes
   (the API's 50,000 / 200 MB), one endpoint per file: one file per batch;
2. uploads each file (Files API; the Uploads API in concurrent parts above ``upload_threshold`` bytes) and
   creates its batch;
3. polls the batches (honouring ``openai-poll-after-ms``, else a backoff up to a minute), reporting
   ``request_counts`` to a callback and/or stderr;
4. downloads each batch's output and error files and puts their lines back in input order (``BatchResult``,
   the API's output line with the body decoded into the endpoint's type), appended to ``output`` if given.

Resuming: with ``output`` (or ``state_path``) the ids of the uploaded files and of the batches, and how much of
the output file is final, are kept in ``OUT.jsonl.state.json``. Run the same command again after a crash or a
timeout and it polls the batches it created instead of creating new ones, and skips what is already written.

Failures never vanish: a request the API answered with an error keeps its ``response``; a request without a
line in the output (batch ``failed``, ``expired``, ``cancelled``) becomes a record whose ``error.code`` says so
(``batch_failed``, ``batch_expired``, ``batch_cancelled``, ``missing_result``); partial results are kept.
"""

from __future__ import annotations

import array
import hashlib
import os
import pathlib
import re
import secrets
import shutil
import sys
import tempfile
import time
from collections.abc import AsyncIterable, Callable, Generator, Iterable
from typing import IO, TYPE_CHECKING, Any, TextIO, cast

import anyio
import anyio.to_thread
import msgspec

from ..._core.decode import decode
from ..._core.errors import APIConnectionError, APIStatusError, OpenAIError
from ..._core.polling import PollSchedule, PollTimeoutError
from ..._core.resource import path_segment
from ..._core.retry import retry_delay
from ..._core.types import RequestOptions
from ..requestline import RequestLine, RequestLineError, check_item, endpoint_of, parse_line

if sys.version_info < (3, 11):  # pragma: no cover
    from exceptiongroup import BaseExceptionGroup

if TYPE_CHECKING:
    from types import TracebackType

    from typing_extensions import Self

    from ..._client import AsyncOpenAI
    from ...types.batch import Batch

__all__ = [
    "BatchInputError",
    "BatchProgress",
    "BatchRequestError",
    "BatchResponse",
    "BatchResult",
    "BatchRun",
    "BatchStateError",
    "BatchSummary",
    "run_batch",
]

MAX_REQUESTS = 50_000
MAX_BYTES = 200 * 1024 * 1024
UPLOAD_THRESHOLD = 64 * 1024 * 1024
TERMINAL = frozenset({"completed", "failed", "expired", "cancelled"})
_STATE_VERSION = 1

BatchInput = Iterable[Any] | AsyncIterable[Any] | str | os.PathLike[str]


# --------------------------------------------------------------------------------------------------- records
class BatchResponse(msgspec.Struct, kw_only=True):
    """The HTTP answer to one request of a batch."""

    status_code: int
    request_id: str | None = None
    body: Any = None
    """The body: the endpoint's type (``CreateChatCompletionResponse``...) for a 2xx, else the decoded JSON."""


class BatchRequestError(msgspec.Struct, kw_only=True):
    """Why a request has no answer: the API's per-request error, or ``batch_failed`` / ``batch_expired`` /
    ``batch_cancelled`` / ``missing_result`` when its batch ended without it."""

    code: str | None = None
    message: str | None = None


class BatchResult(msgspec.Struct, kw_only=True):
    """One output line of the Batch API (also the shape of bulk runner results)."""

    custom_id: str
    id: str | None = None
    response: BatchResponse | None = None
    error: BatchRequestError | None = None

    @property
    def ok(self) -> bool:
        """True when the request got a 2xx answer and no ``error``: the same test as ``BulkResult.ok``."""
        return self.error is None and self.response is not None and 200 <= self.response.status_code < 300

    @property
    def body(self) -> Any:
        """The response body (None without a response)."""
        return self.response.body if self.response is not None else None


class BatchProgress(msgspec.Struct, kw_only=True):
    """Where a run stands, passed to ``on_progress`` after every poll that changed something."""

    batches: int
    finished_batches: int
    total: int
    """Requests in the whole run."""
    completed: int
    failed: int
    statuses: dict[str, int]
    """Batches by status (``validating``, ``in_progress``, ...)."""


class BatchSummary(msgspec.Struct, kw_only=True):
    """What a finished run did."""

    succeeded: int = 0
    failed: int = 0
    batch_ids: list[str] = msgspec.field(default_factory=list)
    batch_statuses: dict[str, str] = msgspec.field(default_factory=dict)
    """Final status of each batch, by id (``completed``, ``expired``, ...)."""
    batch_errors: dict[str, str] = msgspec.field(default_factory=dict)
    """Why a batch ended without running all its requests, by id (its errors mapped to input lines)."""
    errors: dict[str, int] = msgspec.field(default_factory=dict)
    """Failed requests by error code or HTTP status."""
    output: str | None = None
    elapsed: float = 0.0


BatchInputError = RequestLineError
"""An input item is malformed (no ``custom_id``, a duplicate one, a method other than POST, a ``url`` that is no
Batch endpoint, ...): the one request-line error, whose text names the line."""


class BatchStateError(OpenAIError):
    """The state file does not match this run (other inputs or limits), or the output exists without one."""


# --------------------------------------------------------------------------------------------------- state
class _Chunk(msgspec.Struct, kw_only=True):
    index: int
    count: int
    size: int
    digest: str
    endpoint: str
    input_file_id: str | None = None
    batch_id: str | None = None
    status: str | None = None
    completed: int = 0
    failed: int = 0
    create_sent: bool = False
    """A ``batches.create`` was sent; without ``batch_id`` its answer was lost (look the batch up by its tags)."""
    out_end: int | None = None
    """Bytes of the output file that are final once this chunk is written (None: not written yet)."""


class _State(msgspec.Struct, kw_only=True):
    version: int = _STATE_VERSION
    max_requests: int
    max_bytes: int
    run_id: str | None = None
    """Tags this run's batches (metadata ``openai_async_run``, with ``openai_async_part``)."""
    created_at: int = 0
    chunks: list[_Chunk] = msgspec.field(default_factory=list)


class _RawResponse(msgspec.Struct):
    status_code: int
    request_id: str | None = None
    body: msgspec.Raw = msgspec.Raw(b"null")


class _Line(msgspec.Struct):
    custom_id: str
    id: str | None = None
    response: _RawResponse | None = None
    error: BatchRequestError | None = None


class _CustomId(msgspec.Struct):
    custom_id: str


_line_decoder = msgspec.json.Decoder(_Line)
_id_decoder = msgspec.json.Decoder(_CustomId)
_state_decoder = msgspec.json.Decoder(_State)
_encoder = msgspec.json.Encoder()


def _body_types() -> dict[str, Any]:
    # lazy: cold start (each types module is built on first use; a run needs only these, once)
    from ...types.chat import CreateChatCompletionResponse
    from ...types.completions import CreateCompletionResponse
    from ...types.embeddings import CreateEmbeddingResponse
    from ...types.images import ImagesResponse
    from ...types.moderations import CreateModerationResponse
    from ...types.responses import Response
    from ...types.videos import VideoResource

    return {
        "/v1/chat/completions": CreateChatCompletionResponse,
        "/v1/responses": Response,
        "/v1/embeddings": CreateEmbeddingResponse,
        "/v1/completions": CreateCompletionResponse,
        "/v1/moderations": CreateModerationResponse,
        "/v1/images/generations": ImagesResponse,
        "/v1/images/edits": ImagesResponse,
        "/v1/videos": VideoResource,
    }


def _result_from_line(line: bytes, body_type: Any) -> BatchResult:
    raw = _line_decoder.decode(line)
    response = None
    if raw.response is not None:
        ok = 200 <= raw.response.status_code < 300 and body_type is not None
        body = decode(raw.response.body, body_type if ok else Any)
        response = BatchResponse(
            status_code=raw.response.status_code, request_id=raw.response.request_id, body=body
        )
    return BatchResult(custom_id=raw.custom_id, id=raw.id, response=response, error=raw.error)


def _error_kind(result: BatchResult) -> str:
    if result.error is not None:
        return result.error.code or "error"
    if result.response is not None:
        return str(result.response.status_code)
    return "error"


# --------------------------------------------------------------------------------------------------- input
class _Prepared:
    """Strictly private. One chunk of input as written to disk: its JSONL file and its custom_ids in order."""

    def __init__(self, index: int, endpoint: str, path: str, source: str) -> None:
        self.index = index
        self.endpoint = endpoint
        self.path = path
        self.custom_ids: list[str] = []
        self.source = source
        """What the input line numbers count: ``in.jsonl:`` (lines of a file) or ``item `` (items)."""
        self.numbers = array.array("q")
        """The input line (or item) number of each request, 8 bytes each."""
        self.size = 0
        self.hash = hashlib.sha256()
        self.file: IO[bytes] | None = open(path, "wb")  # closed by close()

    def add(self, custom_id: str, number: int, line: bytes) -> None:
        assert self.file is not None
        self.file.write(line)
        self.hash.update(line)
        self.size += len(line)
        self.custom_ids.append(custom_id)
        self.numbers.append(number)

    def where(self, position: int) -> str:
        """Where the request at ``position`` in this chunk came from: ``in.jsonl:57`` or ``item 56``."""
        return f"{self.source}{self.numbers[position]}"

    def close(self) -> None:
        if self.file is not None:
            self.file.close()
            self.file = None


def _encode_line(line: RequestLine) -> tuple[str, bytes]:
    """The endpoint and the JSONL line the API gets for a checked request."""
    endpoint = endpoint_of(line.url)
    data = _encoder.encode(
        {"custom_id": line.custom_id, "method": "POST", "url": endpoint, "body": line.body}
    )
    return endpoint, data + b"\n"


async def _items(requests: BatchInput) -> Any:
    """Yield ``(where, number, RequestLine)`` from an iterable, an async iterable or a JSONL file path (``number``:
    the line or item number ``where`` names), each checked against the Batch API's rules (``RequestLineError``
    names the first bad one)."""
    if isinstance(requests, (str, os.PathLike)):
        path = os.fspath(requests)
        async with await anyio.open_file(path, "rb") as f:
            lineno = 0
            async for data in f:
                lineno += 1
                if not data.strip():
                    continue
                where = f"{path}:{lineno}"
                yield where, lineno, parse_line(data, where, batch=True)
    elif isinstance(requests, AsyncIterable):
        index = 0
        async for item in requests:
            yield f"item {index}", index, check_item(item, f"item {index}", batch=True)
            index += 1
    else:
        for index, item in enumerate(requests):
            yield f"item {index}", index, check_item(item, f"item {index}", batch=True)


# --------------------------------------------------------------------------------------------------- the run
class BatchRun:
    """One Batch pipeline run: ``await`` it for a ``BatchSummary``, or iterate it (preferably inside
    ``async with``) for ``BatchResult``s in input order. Made by ``run_batch`` / ``client.batches.run``."""

    def __init__(
        self,
        client: AsyncOpenAI,
        requests: BatchInput,
        *,
        output: str | os.PathLike[str] | None,
        state_path: str | os.PathLike[str] | None,
        completion_window: str,
        metadata: dict[str, str] | None,
        max_requests: int,
        max_bytes: int,
        upload_threshold: int,
        part_size: int | None,
        poll_interval_ms: float | None,
        max_wait_seconds: float | None,
        on_progress: Callable[[BatchProgress], object] | None,
        progress: bool | TextIO,
        typed: bool,
        options: RequestOptions,
    ) -> None:
        if max_requests < 1 or max_bytes < 1:
            raise ValueError("max_requests and max_bytes must be positive")
        self._client = client
        self._requests = requests
        self._output = os.fspath(output) if output is not None else None
        if state_path is None and self._output is not None:
            state_path = self._output + ".state.json"
        self._state_path = os.fspath(state_path) if state_path is not None else None
        self._window = completion_window
        self._metadata = metadata
        self._max_requests = max_requests
        self._max_bytes = max_bytes
        self._upload_threshold = upload_threshold
        self._part_size = part_size
        self._schedule = PollSchedule(
            poll_interval_ms=poll_interval_ms,
            max_wait_seconds=max_wait_seconds,
            initial=1.0,
            factor=1.5,
            maximum=60.0,
        )
        self._on_progress = on_progress
        self._stream: TextIO | None = sys.stderr if progress is True else (progress or None)
        self._typed = typed
        self._options = options
        self._state: _State | None = None
        self._prepared: list[_Prepared] = []
        self._work_dir: str | None = None
        self._started = 0.0
        self._next_chunk = 0
        self._reader: IO[bytes] | None = None
        self._reader_end = 0
        self._body_type: Any = None
        self._last_progress: tuple[Any, ...] | None = None
        self._closed = False
        self._ready = False
        self.summary = BatchSummary(output=self._output)
        """Counts so far; complete once the run has finished."""

    # -- public protocol -----------------------------------------------------------------------------------

    def __aiter__(self) -> BatchRun:
        return self

    async def __anext__(self) -> BatchResult:
        if self._closed:
            raise StopAsyncIteration
        if not self._ready:
            if self._state is not None:
                raise RuntimeError("this batch run failed while starting; start a new run to resume it")
            await self._prepare()
            self._ready = True
        while True:
            if self._reader is not None:
                line = self._read_line()
                if line is not None:
                    result = _result_from_line(line, self._body_type)
                    self._count(result)
                    return result
            if self._next_chunk >= len(self._prepared):
                self.summary.elapsed = time.monotonic() - self._started
                await self.aclose()
                raise StopAsyncIteration
            await self._open_chunk(self._next_chunk)
            self._next_chunk += 1

    def __await__(self) -> Generator[Any, None, BatchSummary]:
        return self._drain().__await__()

    async def _drain(self) -> BatchSummary:
        async with self:
            async for _ in self:
                pass
        return self.summary

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close files and remove the working directory. The batches keep running on the server; a new run
        with the same state file picks them up."""
        if self._closed:
            return
        self._closed = True
        if self._reader is not None:
            self._reader.close()
            self._reader = None
        for prepared in self._prepared:
            prepared.close()
        if self._work_dir is not None:
            shutil.rmtree(self._work_dir, ignore_errors=True)

    # -- step 1 and 2: chunk, upload, create ---------------------------------------------------------------

    async def _prepare(self) -> None:
        self._started = time.monotonic()
        self._work_dir = tempfile.mkdtemp(prefix="openai-async-batch-")
        state = self._load_state()
        fresh = state is None
        if state is None:
            state = _State(max_requests=self._max_requests, max_bytes=self._max_bytes)
        if state.run_id is None:
            state.run_id = f"run_{secrets.token_hex(8)}"
            state.created_at = int(time.time())
        elif (state.max_requests, state.max_bytes) != (self._max_requests, self._max_bytes):
            raise BatchStateError(
                f"{self._state_path} was written with max_requests={state.max_requests}, "
                f"max_bytes={state.max_bytes}: run with the same limits, or delete it (and the output) to start over"
            )
        await self._split_input()
        known = state.chunks
        chunks: list[_Chunk] = []
        for prepared in self._prepared:
            digest = prepared.hash.hexdigest()
            old = known[prepared.index] if prepared.index < len(known) else None
            if old is not None and (old.digest != digest or old.endpoint != prepared.endpoint):
                raise BatchStateError(
                    f"the requests of batch #{prepared.index + 1} differ from those recorded in {self._state_path}: "
                    "resume with the same input, or delete the state file and the output to start over"
                )
            chunks.append(
                old
                or _Chunk(
                    index=prepared.index,
                    count=len(prepared.custom_ids),
                    size=prepared.size,
                    digest=digest,
                    endpoint=prepared.endpoint,
                )
            )
        if len(known) > len(chunks):
            raise BatchStateError(f"{self._state_path} records more batches than this input makes")
        state.chunks = chunks
        self._state = state
        if fresh:
            self._check_fresh_output()
        else:
            self._repair_output()
        self._save_state()
        for prepared, chunk in zip(self._prepared, chunks, strict=True):
            if chunk.out_end is None and chunk.batch_id is None:
                await self._submit(prepared, chunk)
            prepared.close()
            os.unlink(prepared.path)

    async def _split_input(self) -> None:
        assert self._work_dir is not None
        seen: set[str] = set()
        current: _Prepared | None = None
        source = (
            f"{os.fspath(self._requests)}:" if isinstance(self._requests, (str, os.PathLike)) else "item "
        )
        async for where, number, request in _items(self._requests):
            custom_id = request.custom_id
            endpoint, line = _encode_line(request)
            if custom_id in seen:
                raise BatchInputError(f"{where}: duplicate custom_id {custom_id!r}")
            seen.add(custom_id)
            if len(line) > self._max_bytes:
                raise BatchInputError(
                    f"{where} ({custom_id}): {len(line)} bytes, over max_bytes={self._max_bytes}"
                )
            if (
                current is None
                or current.endpoint != endpoint
                or len(current.custom_ids) >= self._max_requests
                or current.size + len(line) > self._max_bytes
            ):
                if current is not None:
                    current.close()
                index = len(self._prepared)
                current = _Prepared(
                    index, endpoint, os.path.join(self._work_dir, f"input-{index}.jsonl"), source
                )
                self._prepared.append(current)
            current.add(custom_id, number, line)
        if current is not None:
            current.close()
        if not self._prepared:
            raise BatchInputError("no requests to run")

    async def _submit(self, prepared: _Prepared, chunk: _Chunk) -> None:
        client = self._client
        if chunk.input_file_id is None:
            name = f"batch-input-{chunk.index + 1}.jsonl"
            if chunk.size > self._upload_threshold:
                upload = await client.uploads.upload_file_chunked(
                    file=prepared.path,
                    filename=name,
                    mime_type="application/jsonl",
                    purpose="batch",
                    part_size=self._part_size,
                    **self._options,
                )
                file_id = (
                    upload.file.get("id")
                    if isinstance(upload.file, dict)
                    else getattr(upload.file, "id", None)
                )
            else:
                uploaded = await client.files.create(
                    file=(name, pathlib.Path(prepared.path), "application/jsonl"),
                    purpose="batch",
                    **self._options,
                )
                file_id = uploaded.id
            if not isinstance(file_id, str):
                raise OpenAIError(f"the upload of batch #{chunk.index + 1} returned no file id")
            chunk.input_file_id = file_id
            self._save_state()
        batch = await self._create(chunk)
        chunk.batch_id = batch.id
        chunk.status = batch.status
        self._save_state()
        if self._stream is not None:
            ids = prepared.custom_ids
            self._stream.write(
                f"batch: created {batch.id} ({chunk.endpoint}, {chunk.count} requests, "
                f"{ids[0]} .. {ids[-1]})\n"
            )
            self._stream.flush()

    async def _create(self, chunk: _Chunk) -> Batch:
        """Create ``chunk``'s batch exactly once. Before every attempt after one whose answer never came (a dropped
        connection, a timeout, a 5xx, or a run killed meanwhile: ``create_sent`` is saved first), the batch is
        looked up by its tags, so the retry (this run's or a later one's) does not make a second batch."""
        options: dict[str, Any] = dict(self._options)
        policy = options.pop("retry", self._client.retry)
        if "max_retries" in options:
            policy = policy.with_retries(options.pop("max_retries"))
        tags = self._tags(chunk)
        failures = 0
        while True:
            if chunk.create_sent:
                found = await self._find_created(chunk, tags)
                if found is not None:
                    return found
            chunk.create_sent = True
            self._save_state()
            try:
                return await self._client.batches.create(
                    input_file_id=chunk.input_file_id,  # type: ignore[arg-type]
                    endpoint=chunk.endpoint,  # type: ignore[arg-type]
                    completion_window=self._window,  # type: ignore[arg-type]
                    metadata={**(self._metadata or {}), **tags},
                    max_retries=0,
                    **options,
                )
            except (APIConnectionError, APIStatusError) as exc:
                status = exc.status_code if isinstance(exc, APIStatusError) else None
                if status is not None and status < 500 and status != 429:
                    chunk.create_sent = False  # refused: no batch was made, nothing to look up
                    self._save_state()
                    raise
                if failures >= policy.max_retries:
                    raise
                headers = exc.headers if isinstance(exc, APIStatusError) else None
                await anyio.sleep(retry_delay(policy, failures, headers))
                failures += 1

    def _tags(self, chunk: _Chunk) -> dict[str, str]:
        assert self._state is not None and self._state.run_id is not None
        return {"openai_async_run": self._state.run_id, "openai_async_part": str(chunk.index + 1)}

    async def _find_created(self, chunk: _Chunk, tags: dict[str, str]) -> Batch | None:
        """The batch an earlier run created for ``chunk`` but never heard back about (listed newest first; the
        search stops at batches older than the run)."""
        assert self._state is not None
        oldest = self._state.created_at - 600  # clocks of client and server may differ a little
        async for batch in self._client.batches.list(limit=100, **self._options):
            metadata = batch.metadata if isinstance(batch.metadata, dict) else {}
            if (
                all(metadata.get(k) == v for k, v in tags.items())
                and batch.input_file_id == chunk.input_file_id
            ):
                if self._stream is not None:
                    self._stream.write(
                        f"batch: found {batch.id}, created for batch #{chunk.index + 1} by the "
                        "interrupted run (its answer was lost); not creating it again\n"
                    )
                return batch
            if batch.created_at is not None and batch.created_at < oldest:
                break
        return None

    # -- step 3: poll --------------------------------------------------------------------------------------

    async def _wait_for(self, chunk: _Chunk) -> Batch:
        from ...types.batch import Batch  # lazy: cold start (the batch types load with the first poll)

        assert self._state is not None
        latest: dict[int, tuple[Batch, Any]] = {}

        async def refresh(c: _Chunk) -> None:
            assert c.batch_id is not None
            raw = await self._client._raw_view()._request(
                "GET", f"/batches/{path_segment(c.batch_id, 'batch_id')}", cast=Batch, options=self._options
            )
            batch = raw.parse()
            latest[c.index] = (batch, raw.headers)
            c.status = batch.status
            counts = batch.request_counts
            if counts is not None:
                c.completed = counts.completed or 0
                c.failed = counts.failed or 0

        while True:
            pending = [c for c in self._state.chunks if c.out_end is None and c.status not in TERMINAL]
            if chunk not in pending:
                pending.append(chunk)  # one read of a finished batch to get its file ids
            try:
                async with anyio.create_task_group() as tg:
                    for c in pending:
                        tg.start_soon(refresh, c)
            except BaseExceptionGroup as group:
                from ..._helpers.uploads import first_error  # lazy: only on a failed upload

                raise first_error(group) from None
            self._save_state()
            self._report()
            batch, headers = latest[chunk.index]
            if chunk.status in TERMINAL:
                return batch
            if not await self._schedule.sleep(headers):
                raise PollTimeoutError(
                    f"Gave up waiting for batch {chunk.batch_id} after {self._schedule.max_wait_seconds} s "
                    f"(status {chunk.status!r}); run again with the same output/state file to resume.",
                    last=batch,
                )

    def _report(self) -> None:
        assert self._state is not None
        chunks = self._state.chunks
        statuses: dict[str, int] = {}
        for c in chunks:
            state = "written" if c.out_end is not None else (c.status or "pending")
            statuses[state] = statuses.get(state, 0) + 1
        progress = BatchProgress(
            batches=len(chunks),
            finished_batches=sum(1 for c in chunks if c.out_end is not None or c.status in TERMINAL),
            total=sum(c.count for c in chunks),
            completed=sum(c.completed for c in chunks),
            failed=sum(c.failed for c in chunks),
            statuses=statuses,
        )
        key = (
            progress.finished_batches,
            progress.completed,
            progress.failed,
            tuple(sorted(statuses.items())),
        )
        if key == self._last_progress:
            return
        self._last_progress = key
        if self._on_progress is not None:
            self._on_progress(progress)
        if self._stream is not None:
            states = ", ".join(f"{n} {s}" for s, n in sorted(statuses.items()))
            elapsed = time.monotonic() - self._started
            self._stream.write(
                f"batch: {progress.completed + progress.failed}/{progress.total} requests done "
                f"({progress.failed} failed); batches {progress.finished_batches}/{progress.batches} finished "
                f"[{states}] {elapsed:.0f}s\n"
            )
            self._stream.flush()

    # -- step 4: download and order ------------------------------------------------------------------------

    async def _open_chunk(self, index: int) -> None:
        assert self._state is not None and self._work_dir is not None
        chunk = self._state.chunks[index]
        start = 0
        if self._output is not None and index > 0:
            start = self._state.chunks[index - 1].out_end  # type: ignore[assignment]
            assert start is not None
        if chunk.out_end is None:
            batch = await self._wait_for(chunk)
            files = []
            for kind, file_id in (("output", batch.output_file_id), ("error", batch.error_file_id)):
                if file_id:
                    path = os.path.join(self._work_dir, f"{kind}-{index}.jsonl")
                    await self._download(file_id, path)
                    files.append((path, f"{kind} file {file_id}"))
            target = self._output or os.path.join(self._work_dir, f"results-{index}.jsonl")
            missing, specific, why = _missing_errors(batch, self._prepared[index])
            end = await anyio.to_thread.run_sync(
                _write_in_order,
                self._prepared[index].custom_ids,
                files,
                target,
                start,
                missing,
                specific,
                f"batch {batch.id}",
            )
            for path, _ in files:
                os.unlink(path)
            chunk.out_end = end if self._output is not None else None
            if self._output is not None:
                self._save_state()
            if batch.id:
                self.summary.batch_statuses[batch.id] = batch.status or "unknown"
                if why:
                    self.summary.batch_errors[batch.id] = why
        else:
            target = self._output  # type: ignore[assignment]
            assert target is not None
            end = chunk.out_end
            if chunk.batch_id:
                self.summary.batch_statuses[chunk.batch_id] = chunk.status or "unknown"
        if chunk.batch_id:
            self.summary.batch_ids.append(chunk.batch_id)
        self._body_type = _body_types().get(chunk.endpoint) if self._typed else None
        self._open_reader(target, start, end)

    async def _download(self, file_id: str, path: str) -> None:
        """Save a file's content to ``path``. A download cut mid-body is taken up again, from where it stopped when
        the server answers the ``Range`` request with 206 (else from the start), as often as the client's retry
        policy allows; the last error is raised when they run out."""
        options: dict[str, Any] = dict(self._options)
        extra = dict(options.pop("extra_headers", None) or {})
        policy = options.get("retry", self._client.retry)
        if "max_retries" in options:
            policy = policy.with_retries(options["max_retries"])
        have = 0
        failures = 0
        async with await anyio.open_file(path, "wb") as f:
            while True:
                headers = {**extra, "Range": f"bytes={have}-"} if have else extra
                try:
                    async with self._client.files.with_streaming_response.content(  # unbuffered
                        file_id, extra_headers=headers, **options
                    ) as content:
                        if have and not _resumes_at(content.status_code, content.headers, have):
                            await f.seek(0)  # the server sent the whole file again
                            await f.truncate()
                            have = 0
                        async for chunk in content.iter_bytes():  # as they arrive: a cut keeps what came
                            await f.write(chunk)
                            have += len(chunk)
                    return
                except APIStatusError as exc:
                    if (
                        exc.status_code == 416 and have
                    ):  # the cut came after the last byte: nothing is missing
                        return
                    raise
                except APIConnectionError:
                    if failures >= policy.max_retries:
                        raise
                    failures += 1
                    await anyio.sleep(retry_delay(policy, failures - 1))

    def _open_reader(self, path: str, start: int, end: int) -> None:
        if self._reader is not None:
            self._reader.close()
        self._reader = open(path, "rb")  # closed by aclose() or the next chunk
        self._reader.seek(start)
        self._reader_end = end

    def _read_line(self) -> bytes | None:
        assert self._reader is not None
        if self._reader.tell() >= self._reader_end:
            return None
        line = self._reader.readline()
        return line or None

    def _count(self, result: BatchResult) -> None:
        if result.ok:
            self.summary.succeeded += 1
        else:
            self.summary.failed += 1
            kind = _error_kind(result)
            self.summary.errors[kind] = self.summary.errors.get(kind, 0) + 1

    # -- state and output files ----------------------------------------------------------------------------

    def _load_state(self) -> _State | None:
        if self._state_path is None or not os.path.exists(self._state_path):
            return None
        with open(self._state_path, "rb") as f:
            try:
                state = _state_decoder.decode(f.read())
            except (msgspec.DecodeError, msgspec.ValidationError) as exc:
                raise BatchStateError(f"{self._state_path} is not a batch state file: {exc}") from None
        if state.version != _STATE_VERSION:
            raise BatchStateError(f"{self._state_path}: unknown state version {state.version}")
        return state

    def _save_state(self) -> None:
        if self._state_path is None or self._state is None:
            return
        tmp = f"{self._state_path}.tmp"
        with open(tmp, "wb") as f:
            f.write(msgspec.json.format(_encoder.encode(self._state), indent=1))
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, self._state_path)

    def _check_fresh_output(self) -> None:
        if self._output is not None and os.path.exists(self._output) and os.path.getsize(self._output) > 0:
            raise BatchStateError(
                f"{self._output} exists but {self._state_path} does not: it is not from a batch run to resume. "
                "Choose another output or delete it."
            )

    def _repair_output(self) -> None:
        """Cut the output back to the last fully written batch (a crash may have left a partial one)."""
        if self._output is None or self._state is None:
            return
        final = 0
        for c in self._state.chunks:
            if c.out_end is None:
                break
            final = c.out_end
        if not os.path.exists(self._output):
            if final:
                raise BatchStateError(
                    f"{self._output} is missing but {self._state_path} says results were written"
                )
            return
        size = os.path.getsize(self._output)
        if size < final:
            raise BatchStateError(f"{self._output} is shorter than {self._state_path} records")
        if size > final:
            os.truncate(self._output, final)


def _missing_errors(
    batch: Batch, prepared: _Prepared
) -> tuple[BatchRequestError, dict[str, BatchRequestError], str]:
    """The error of a request the batch gave no answer for, and the errors of the requests the batch's own
    errors point at. ``errors.data[].line`` counts lines of the uploaded file: it is mapped back to the user's
    input line (``in.jsonl:57`` or ``item 56``) and ``custom_id``. Last, the batch's own story in a line."""
    status = batch.status or "unknown"
    if status == "completed":
        return (
            BatchRequestError(
                code="missing_result", message=f"batch {batch.id} completed without this request"
            ),
            {},
            "",
        )
    code = f"batch_{status}"
    message = f"batch {batch.id} {status} before running this request"
    why = f"batch {batch.id} {status}"
    specific: dict[str, BatchRequestError] = {}
    if batch.errors is not None and batch.errors.data:
        details = []
        for e in batch.errors.data:
            text = f"{e.code}: {e.message}"
            index = e.line - 1 if e.line is not None else -1
            if 0 <= index < len(prepared.custom_ids):
                custom_id = prepared.custom_ids[index]
                text += f" (input {prepared.where(index)}, custom_id {custom_id!r})"
                specific.setdefault(
                    custom_id, BatchRequestError(code=code, message=f"batch {batch.id} {status}: {text}")
                )
            elif e.line is not None:
                text += f" (line {e.line} of the batch's input file)"
            details.append(text)
        listed = (
            ": " + "; ".join(details[:5]) + (f"; and {len(details) - 5} more" if len(details) > 5 else "")
        )
        message += listed
        why += listed
    return BatchRequestError(code=code, message=message), specific, why


def _resumes_at(status: int, headers: Any, have: int) -> bool:
    """Whether a response to ``Range: bytes=HAVE-`` carries the rest of the file from byte ``have``."""
    if status != 206:
        return False
    match = re.match(r"bytes (\d+)-", headers.get("Content-Range", ""))
    return match is not None and int(match.group(1)) == have


_CUSTOM_ID = re.compile(rb'"custom_id"\s*:\s*"((?:[^"\\]|\\.)*)"')


def _write_in_order(
    custom_ids: list[str],
    files: list[tuple[str, str]],
    target: str,
    start: int,
    missing: BatchRequestError,
    specific: dict[str, BatchRequestError],
    batch: str,
) -> int:
    """Write the lines of ``files`` (``(path, name)``) to ``target`` (from byte ``start``) in ``custom_ids`` order,
    one compact JSON line each; return the end. A line that is not JSON (a file cut mid-line) becomes an error
    record (``result_unreadable``) for the ``custom_id`` it starts with, naming the batch and the file."""
    index: dict[str, tuple[int, int, int]] = {}
    handles = [open(path, "rb") for path, _ in files]  # closed below
    errors = dict(specific)
    try:
        for n, handle in enumerate(handles):
            offset = 0
            for lineno, line in enumerate(handle, 1):
                if line.strip():
                    try:
                        index[_id_decoder.decode(line).custom_id] = (n, offset, len(line))
                    except (msgspec.DecodeError, msgspec.ValidationError):
                        found = _CUSTOM_ID.search(line)
                        place = f"{batch}: line {lineno} of its {files[n][1]}"
                        cut = "ends mid-line" if not line.endswith(b"\n") else "is not a JSON result line"
                        error = BatchRequestError(
                            code="result_unreadable", message=f"{place} {cut}: this request's result is lost"
                        )
                        if found is not None:
                            errors[found.group(1).decode("utf-8", "replace")] = error
                offset += len(line)
        mode = "r+b" if os.path.exists(target) else "wb"
        with open(target, mode) as out:
            out.seek(start)
            out.truncate()
            for custom_id in custom_ids:
                where = index.get(custom_id)
                if where is None:
                    record = BatchResult(custom_id=custom_id, error=errors.get(custom_id, missing))
                    out.write(_encoder.encode(record) + b"\n")
                    continue
                n, offset, length = where
                handles[n].seek(offset)
                line = handles[n].read(length).rstrip(b"\r\n")
                if b"\r" in line or b"\t" in line:  # formatting whitespace: one compact line
                    line = msgspec.json.format(line, indent=-1)
                out.write(line + b"\n")
            out.flush()
            os.fsync(out.fileno())
            return out.tell()
    finally:
        for handle in handles:
            handle.close()


def run_batch(
    client: AsyncOpenAI,
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
    """Run requests through the Batch API and get the results back in input order.

    Args:
        client: the client (its retries and timeouts apply to every call).
        requests: Batch input items (``custom_id``, ``method`` = POST, ``url``, ``body``) as an iterable, an
            async iterable, or the path of a JSONL file; read once, lazily.
        output: a JSONL file for the results (the API's output lines, in input order); enables resuming.
        state_path: where to keep the batch ids (default ``OUTPUT.state.json``; none without output).
        completion_window / metadata: passed to ``batches.create``.
        max_requests / max_bytes: the most requests / bytes per batch (the API's limits by default).
        upload_threshold: input files larger than this go through the Uploads API in parts.
        part_size: part size for those uploads (default 64 MB).
        poll_interval_ms: a fixed poll interval; by default ``openai-poll-after-ms``, else a backoff to 60 s.
        max_wait_seconds: give up waiting after this long (``PollTimeoutError``; resume later).
        on_progress: called with a ``BatchProgress`` when the counts change.
        progress: print progress lines on stderr (True) or on the given text stream.
        typed: decode 2xx bodies into the endpoint's type (False: plain JSON objects).
        options: request options (``extra_headers``, ``timeout``...) for every call.

    Returns:
        A ``BatchRun``: ``await`` it for a ``BatchSummary``, or ``async for`` over it for ``BatchResult``s.
    """
    return BatchRun(
        client,
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
        options=cast("RequestOptions", options),
    )
