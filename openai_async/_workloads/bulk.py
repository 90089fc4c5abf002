"""Run many requests through one client: bounded concurrency, lazy input, a resumable exactly-once JSONL file.

    summary = await run_bulk(client, requests, results_path="out.jsonl")      # run to a file

    async with run_bulk(client, requests) as results:                        # or consume as they finish
        async for result in results:
            ...

Requests are Batch-API input lines (``{"custom_id", "method", "url", "body"}``; ``url`` may keep its ``/v1``
prefix) or coroutine functions ``async def call(client) -> value`` (their ``custom_id`` is their position in the
input, ``"0"``, ``"1"``, ...). Results look like Batch-API output lines (``BulkResult``), so bulk and batch
results can be read by the same code.

The results file is exactly-once JSONL: each record is one line of JSON (a response body the server formatted
over several lines is compacted first), appended with one ``write`` as soon as it is known (a crash, even
``kill -9``, loses nothing that was written). A new run on the same file first reads it back line by line,
keeping only the ``custom_id``s, cuts a torn last line, and skips every ``custom_id`` already there. A bad line
anywhere else stops the run with ``ResultsFileError`` naming the line; ``repair=True`` rebuilds the file from
what can be saved instead. Failures are records too (``error`` set), never dropped; pass ``retry_failed=True``
to give them another chance (they are removed from the file first).

Memory stays bounded by ``concurrency`` (plus ``window`` when ``ordered=True``), except for the set of
``custom_id``s seen, which is needed to refuse duplicates and to resume.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import sys
import time
from collections import Counter, deque
from collections.abc import AsyncIterable, Awaitable, Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, TextIO

import anyio
import anyio.lowlevel
import msgspec
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream

from .._core.decode import convert, decode
from .._core.errors import APIConnectionError, APIStatusError, APITimeoutError, OpenAIError
from .requestline import RequestLineError, api_path, check_item

if TYPE_CHECKING:
    from types import TracebackType

    from typing_extensions import Self

    from .._client import AsyncOpenAI
    from .ratelimit import RateLimiter

__all__ = [
    "BulkError",
    "BulkInputError",
    "BulkResponse",
    "BulkResult",
    "BulkRun",
    "BulkSummary",
    "ResultsFileError",
    "api_path",
    "compact_json",
    "repair_results",
    "run_bulk",
    "scan_results",
]

BulkCall = Callable[["AsyncOpenAI"], Awaitable[Any]]
BulkInput = Iterable[Any] | AsyncIterable[Any]


# --------------------------------------------------------------------------------------------------- records
class BulkResponse(msgspec.Struct, kw_only=True):
    """The HTTP part of a result, as in a Batch output line."""

    status_code: int
    request_id: str | None = None
    body: Any = None
    """The decoded JSON body (``msgspec.Raw`` bytes for Batch-style requests; decode with ``msgspec.json``)."""


class BulkError(msgspec.Struct, kw_only=True):
    """Why a request failed for good (after the client's retries)."""

    code: str | None
    """The API's error code (``rate_limit_exceeded``, ``invalid_request_error``...) when it sent one."""
    message: str
    type: str
    """The exception class: ``RateLimitError``, ``APIConnectionError``, ``ValueError``..."""


class BulkResult(msgspec.Struct, kw_only=True):
    """One output line: ``response`` for an HTTP answer (also the failed ones), ``error`` when it failed."""

    id: str
    custom_id: str
    response: BulkResponse | None = None
    error: BulkError | None = None

    @property
    def ok(self) -> bool:
        """True when the request got a 2xx answer and no ``error``: the same test as ``BatchResult.ok``.

        (It used to read ``error is None``: the runner only writes a record without ``error`` for a 2xx answer,
        so both readings agree on every record it writes.)
        """
        response = self.response
        return self.error is None and response is not None and 200 <= response.status_code < 300

    @property
    def body(self) -> Any:
        """The response body as recorded (None without a response), as ``BatchResult.body``."""
        return self.response.body if self.response is not None else None

    def json(self, type: Any = Any) -> Any:
        """The response body decoded as ``type`` (``Any``: plain Python objects)."""
        if self.response is None:
            return None
        body = self.response.body
        if isinstance(body, msgspec.Raw):
            return msgspec.json.decode(body) if type is Any else decode(bytes(body), type)
        return body if type is Any else convert(body, type)


class BulkSummary(msgspec.Struct, kw_only=True):
    """What a finished run did."""

    succeeded: int = 0
    failed: int = 0
    skipped: int = 0
    """Requests already in the results file from an earlier run."""
    tokens: int = 0
    """``usage.total_tokens`` summed over the successful responses of this run."""
    elapsed: float = 0.0
    errors: dict[str, int] = msgspec.field(default_factory=dict)
    """Failures by kind: HTTP status (``"429"``), ``"timeout"``, ``"connection"`` or an exception name."""


BulkInputError = RequestLineError
"""An input item is malformed (no ``custom_id``, a duplicate one, no ``url``...): the one request-line error."""


class ResultsFileError(OpenAIError, ValueError):
    """The results file to resume holds a line that is not a bulk result record (not a torn last line)."""


class _Present(msgspec.Struct):
    """Strictly private. Any JSON object, its fields skipped unread."""


class _Done(msgspec.Struct):
    custom_id: str
    error: _Present | None = None


class _Usage(msgspec.Struct):
    total_tokens: int = 0


class _UsageOf(msgspec.Struct):
    usage: _Usage | None = None


_usage_decoder = msgspec.json.Decoder(_UsageOf)
_done_decoder = msgspec.json.Decoder(_Done)
_encoder = msgspec.json.Encoder(enc_hook=repr)


def compact_json(data: msgspec.Raw) -> msgspec.Raw:
    """``data`` on one line. JSON holding a line break or a tab (only ever formatting whitespace: JSON strings
    cannot hold them raw) is re-encoded without whitespace, in C by ``msgspec.json.format(indent=-1)`` (the
    cheapest way measured: 1.6-1.9 us for a 500-700-byte chat completion, decode + encode 2.2-3.3 us);
    anything else, the usual compact body, is returned as is after a copy and three ``memchr`` scans (about a
    fifth of a format)."""
    raw = bytes(data)
    if 10 in raw or 13 in raw or 9 in raw:  # LF, CR, TAB: int membership is a memchr (b"\n" in raw is slower)
        return msgspec.Raw(msgspec.json.format(raw, indent=-1))
    return data


def _tokens_of(body: Any) -> int:
    try:
        if isinstance(body, msgspec.Raw):
            usage = _usage_decoder.decode(body).usage
            return usage.total_tokens if usage else 0
        usage = body.get("usage") if isinstance(body, Mapping) else getattr(body, "usage", None)
        total = usage.get("total_tokens") if isinstance(usage, Mapping) else getattr(usage, "total_tokens", 0)
        return total if isinstance(total, int) else 0
    except (msgspec.DecodeError, AttributeError):
        return 0


def error_kind(exc: BaseException) -> str:
    """Group failures for the progress line: the HTTP status, ``timeout``, ``connection`` or the class name."""
    if isinstance(exc, APIStatusError):
        return str(exc.status_code)
    if isinstance(exc, APITimeoutError):
        return "timeout"
    if isinstance(exc, APIConnectionError):
        return "connection"
    return type(exc).__name__


# --------------------------------------------------------------------------------------------------- input
def _prepare(item: Any, index: int) -> tuple[str, Any]:
    """Return ``(custom_id, job)`` for one input item; raise ``RequestLineError`` when it is malformed."""
    if callable(item):
        return str(getattr(item, "custom_id", index)), item
    line = check_item(item, f"item {index}")
    return line.custom_id, (line.method, api_path(line.url), line.body)


# --------------------------------------------------------------------------------------------------- results file
_REPAIR_MAX_LINES = 100_000
"""``repair``: the most lines joined back into one record (a body written over several lines)."""
_REPAIR_MAX_BYTES = 64 * 1024 * 1024


class Repaired(msgspec.Struct, kw_only=True):
    """What ``scan_results(repair=True)`` did to a results file. Strictly private."""

    kept: int = 0
    """Records kept as they were."""
    joined: int = 0
    """Records that were split over several lines (an old runner wrote raw multi-line bodies), now one line."""
    dropped: int = 0
    """Lines that were no record at all: their requests run again."""
    dropped_lines: list[int] = msgspec.field(default_factory=list)
    """The first dropped line numbers (at most 20)."""


def scan_results(path: str | os.PathLike[str], *, retry_failed: bool = False) -> set[str]:
    """Read an existing results file, line by line, and return the ``custom_id``s it already holds.

    Memory holds the ids only, never the records. A torn last line (a crash mid-write) is cut off. A line that is
    not a record anywhere else raises ``ResultsFileError`` naming it (``repair_results`` rebuilds such a file from
    what can be saved). When the file holds the same ``custom_id`` twice, or
    ``retry_failed`` asks to drop the failed records, the file is rewritten (atomically) without them.
    """
    done: set[str] = set()
    if not os.path.exists(path):
        return done
    keep_all = True
    good_end = 0
    with open(path, "rb") as f:
        for lineno, line in enumerate(f, 1):
            try:
                record = _done_decoder.decode(line)
            except (msgspec.DecodeError, msgspec.ValidationError):
                if _blank_to_end(f):
                    break  # the torn last line of a crash
                raise ResultsFileError(
                    f"{os.fspath(path)}:{lineno}: not a bulk result record, and not the torn last line of a "
                    "crash: the file is damaged or is not a results file. Run again with --repair "
                    "(run_bulk(..., repair=True)) to keep every record that can be read and re-run the rest."
                ) from None
            if record.custom_id in done or (retry_failed and record.error is not None):
                keep_all = False
            else:
                done.add(record.custom_id)
            good_end += len(line)
            if not line.endswith(b"\n"):  # complete JSON, newline lost: keep the record, restore the newline
                with open(path, "r+b") as g:
                    g.seek(good_end)
                    g.write(b"\n")
                good_end += 1
    if os.path.getsize(path) != good_end:
        os.truncate(path, good_end)
    if not keep_all:
        _rewrite_without(path, retry_failed)
    return done


def _blank_to_end(f: Any) -> bool:
    """Whether the rest of ``f`` is whitespace (read in blocks: memory stays flat whatever the file size)."""
    while True:
        block = f.read(1 << 20)
        if not block:
            return True
        if block.strip():
            return False


def repair_results(path: str | os.PathLike[str], *, retry_failed: bool = False) -> tuple[set[str], Repaired]:
    """Rebuild a damaged results file from what can be saved; return the ``custom_id``s kept and a report.

    Records are kept one per line (compacted), in file order, the first of duplicate ``custom_id``s only. A
    line that is no record starts a join: the following lines are appended until the text decodes as one record
    (a body once written over several lines), up to 100,000 lines / 64 MB; when no record comes of it, the first
    line is dropped and reading resumes on the next. The old file is replaced atomically.
    """
    report = Repaired()
    done: set[str] = set()
    tmp = f"{os.fspath(path)}.{secrets.token_hex(4)}.tmp"
    with open(path, "rb") as src, open(tmp, "wb") as dst:
        pending: deque[tuple[int, bytes]] = deque()  # lines read ahead by a failed join, read again next

        def lines() -> Any:
            lineno = 0
            while True:
                if pending:
                    yield pending.popleft()
                    continue
                line = src.readline()
                if not line:
                    return
                lineno += 1
                yield lineno, line

        stream = lines()
        for lineno, line in stream:
            if not line.strip():
                continue
            try:
                record = _done_decoder.decode(line)
                text = line
                report.kept += 1
            except (msgspec.DecodeError, msgspec.ValidationError):
                joined = _join(line, stream, pending)
                if joined is None:
                    report.dropped += 1
                    if len(report.dropped_lines) < 20:
                        report.dropped_lines.append(lineno)
                    continue
                record, text = joined
                report.joined += 1
            if record.custom_id in done or (retry_failed and record.error is not None):
                continue
            done.add(record.custom_id)
            dst.write(msgspec.json.format(text, indent=-1) + b"\n")
        dst.flush()
        os.fsync(dst.fileno())
    os.replace(tmp, path)
    return done, report


def _join(first: bytes, stream: Any, pending: deque[tuple[int, bytes]]) -> tuple[_Done, bytes] | None:
    parts = [first]
    taken: list[tuple[int, bytes]] = []
    size = len(first)
    for lineno, line in stream:
        taken.append((lineno, line))
        if line.startswith(b"{"):  # a record of its own ends the join (a body's lines are indented or nested)
            try:
                _done_decoder.decode(line)
                break
            except (msgspec.DecodeError, msgspec.ValidationError):
                pass
        parts.append(line)
        size += len(line)
        if line.rstrip().endswith(b"}"):
            text = b"".join(parts)
            try:
                return _done_decoder.decode(text), text
            except (msgspec.DecodeError, msgspec.ValidationError):
                pass
        if len(parts) > _REPAIR_MAX_LINES or size > _REPAIR_MAX_BYTES:
            break
    pending.extendleft(reversed(taken))  # no record: read these lines again, on their own
    return None


def _rewrite_without(path: str | os.PathLike[str], drop_failed: bool) -> None:
    seen: set[str] = set()
    tmp = f"{os.fspath(path)}.{secrets.token_hex(4)}.tmp"
    with open(path, "rb") as src, open(tmp, "wb") as dst:
        for line in src:
            record = _done_decoder.decode(line)
            if record.custom_id in seen or (drop_failed and record.error is not None):
                continue
            seen.add(record.custom_id)
            dst.write(line)
        dst.flush()
        os.fsync(dst.fileno())
    os.replace(tmp, path)


# --------------------------------------------------------------------------------------------------- progress
class _Progress:
    """Counters and the throttled progress line on stderr."""

    def __init__(self, total: int | None, stream: TextIO | None, interval: float, client: Any) -> None:
        self.total = total
        self.stream = stream
        self.tty = bool(stream is not None and getattr(stream, "isatty", lambda: False)())
        self.interval = interval if self.tty else max(interval, 10.0)
        self.limiter: RateLimiter | None = getattr(client, "rate_limiter", None)
        self.started = time.monotonic()
        self.last = self.started
        self.summary = BulkSummary()
        self.errors: Counter[str] = Counter()

    def add(self, result: BulkResult, kind: str | None, tokens: int) -> None:
        summary = self.summary
        if kind is None:
            summary.succeeded += 1
            summary.tokens += tokens
        else:
            summary.failed += 1
            self.errors[kind] += 1
        if self.stream is not None:
            now = time.monotonic()
            if now - self.last >= self.interval:
                self.last = now
                self.show()

    def line(self) -> str:
        s = self.summary
        elapsed = max(time.monotonic() - self.started, 1e-9)
        new = s.succeeded + s.failed
        done = new + s.skipped
        rate = new / elapsed
        parts = [f"{done:,}/{self.total:,}" if self.total is not None else f"{done:,}"]
        if self.total:
            parts[0] += f" ({100.0 * done / self.total:.1f}%)"
        parts.append(f"{rate:,.0f} req/s")
        parts.append(f"{_human(s.tokens)} tok")
        if self.total is not None and rate > 0:
            left = max(0, self.total - done) / rate
            parts.append(f"ETA {int(left // 3600)}:{int(left % 3600 // 60):02d}:{int(left % 60):02d}")
        if s.skipped:
            parts.append(f"{s.skipped:,} skipped")
        if self.errors:
            parts.append("errors " + " ".join(f"{k}:{v}" for k, v in self.errors.most_common()))
        if self.limiter is not None and self.limiter.throttled:
            parts.append(f"429 seen {self.limiter.throttled}")
        return "bulk: " + " | ".join(parts)

    def show(self, final: bool = False) -> None:
        if self.stream is None:
            return
        if self.tty:
            self.stream.write("\r\x1b[2K" + self.line() + ("\n" if final else ""))
        else:
            self.stream.write(self.line() + "\n")
        self.stream.flush()

    def finish(self) -> BulkSummary:
        self.summary.elapsed = time.monotonic() - self.started
        self.summary.errors = dict(self.errors)
        self.show(final=True)
        return self.summary


def _human(n: int) -> str:
    if n >= 1_000_000:
        return f"{n / 1_000_000:.1f}M"
    if n >= 10_000:
        return f"{n / 1000:.0f}k"
    return str(n)


# --------------------------------------------------------------------------------------------------- the run
class BulkRun:
    """One bulk run: ``await`` it, ``async with`` it and iterate, or iterate it directly.

    Made by ``run_bulk``; see there for the arguments. Strictly private constructor.
    """

    def __init__(
        self,
        client: AsyncOpenAI,
        requests: BulkInput,
        *,
        concurrency: int,
        ordered: bool,
        window: int | None,
        results_path: str | os.PathLike[str] | None,
        retry_failed: bool,
        repair: bool,
        progress: bool | TextIO,
        progress_interval: float,
        total: int | None,
    ) -> None:
        if concurrency < 1:
            raise ValueError("concurrency must be at least 1")
        self._client = client
        self._requests = requests
        self._concurrency = concurrency
        self._ordered = ordered
        self._window = window if window is not None else max(4 * concurrency, 256)
        if self._window < concurrency:
            raise ValueError("window must be at least concurrency")
        self._results_path = results_path
        self._retry_failed = retry_failed
        self._repair = repair
        if total is None and hasattr(requests, "__len__"):
            total = len(requests)  # type: ignore[arg-type]
        stream = sys.stderr if progress is True else (progress or None)
        self._progress = _Progress(total, stream, progress_interval, client)
        self._run_id = f"bulk_req_{secrets.token_hex(6)}_"
        self._count = 0
        self._file: Any = None
        self._results: MemoryObjectReceiveStream[tuple[int, BulkResult, str | None, int]] | None = None
        self._pending: dict[int, tuple[BulkResult, str | None, int]] = {}
        self._next_seq = 0
        self._slots: anyio.Semaphore | None = None
        self._tg: Any = None
        self._task: asyncio.Task[None] | None = None
        self._done_ids: set[str] = set()
        self._finished = False
        self.summary: BulkSummary | None = None
        """Set when the run has finished."""

    # ---------------------------------------------------------------- entry points
    def __await__(self) -> Any:
        return self.run().__await__()

    async def run(self) -> BulkSummary:
        """Run every request, write the results file, and return the summary."""
        async with self as results:
            async for _ in results:
                pass
        assert self.summary is not None
        return self.summary

    async def __aenter__(self) -> Self:
        self._start()
        self._tg = anyio.create_task_group()
        await self._tg.__aenter__()
        self._tg.start_soon(self._drive)
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> bool | None:
        tg, self._tg = self._tg, None
        if not self._finished:
            tg.cancel_scope.cancel()
        try:
            await tg.__aexit__(exc_type, exc, tb)
        except BaseException as error:
            _raise_single(error)
        finally:
            self._close()
        return None

    def __aiter__(self) -> Self:
        return self

    async def __anext__(self) -> BulkResult:
        if self._results is None:  # iterated without `async with`: drive it from a task owned by this object
            self._start()
            self._task = asyncio.get_running_loop().create_task(self._drive())
        while True:
            if self._ordered:
                item = self._pending.pop(self._next_seq, None)
                if item is not None:
                    self._next_seq += 1
                    assert self._slots is not None
                    self._slots.release()
                    return self._emit(*item)
            try:
                seq, result, kind, tokens = await _receive(self._results)  # type: ignore[arg-type]
            except (anyio.EndOfStream, anyio.ClosedResourceError):
                await self._end_of_results()
                raise StopAsyncIteration from None
            if not self._ordered:
                return self._emit(result, kind, tokens)
            self._pending[seq] = (result, kind, tokens)

    async def aclose(self) -> None:
        """Stop a run that is iterated without ``async with`` (cancels what is in flight)."""
        task, self._task = self._task, None
        if task is not None and not task.done():
            task.cancel()
            with anyio.CancelScope(shield=True):
                await asyncio.wait([task])
        self._close()

    async def _end_of_results(self) -> None:
        self._finished = True
        task, self._task = self._task, None
        if task is not None:
            try:
                await task
            except BaseException as error:
                self._close()
                _raise_single(error)
        if self.summary is None:
            self.summary = self._progress.finish()
        if task is not None:
            self._close()

    # ---------------------------------------------------------------- machinery
    def _start(self) -> None:
        if self._results is not None:
            raise RuntimeError("a BulkRun runs once")
        if self._results_path is not None:
            self._done_ids = self._resume(self._results_path)
            self._file = open(self._results_path, "ab", buffering=0)  # closed in _close()
        self._slots = anyio.Semaphore(self._window) if self._ordered else None
        send, receive = anyio.create_memory_object_stream[Any](self._concurrency)
        self._send = send
        self._results = receive

    def _resume(self, path: str | os.PathLike[str]) -> set[str]:
        try:
            return scan_results(path, retry_failed=self._retry_failed)
        except ResultsFileError as exc:
            if not self._repair:
                raise
            damage = str(exc).split(": not a bulk result record", 1)[0]
        done, report = repair_results(path, retry_failed=self._retry_failed)
        stream = self._progress.stream
        if stream is not None:
            where = ", ".join(map(str, report.dropped_lines)) + (", ..." if report.dropped > 20 else "")
            stream.write(
                f"bulk: repaired {os.fspath(path)} (first damage at {damage}): {report.kept:,} records kept, "
                f"{report.joined:,} rebuilt from lines split by a multi-line body, {report.dropped:,} lines "
                f"dropped{f' (lines {where})' if report.dropped else ''}; their requests run again\n"
            )
            stream.flush()
        return done

    def _close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
        if self._results is not None:
            self._results.close()

    def _emit(self, result: BulkResult, kind: str | None, tokens: int) -> BulkResult:
        if self._file is not None:
            # One write per record, straight to the OS (unbuffered): a kill -9 can only tear the line being written.
            data = memoryview(_encoder.encode(result) + b"\n")
            while data:
                data = data[self._file.write(data) :]
        self._progress.add(result, kind, tokens)
        return result

    async def _drive(self) -> None:
        send = self._send
        jobs_send, jobs_receive = anyio.create_memory_object_stream[tuple[int, str, Any]](self._concurrency)
        async with send, anyio.create_task_group() as tg:
            for _ in range(self._concurrency):
                tg.start_soon(self._work, jobs_receive.clone(), send.clone())
            jobs_receive.close()
            tg.start_soon(self._feed, jobs_send)

    async def _feed(self, jobs: MemoryObjectSendStream[tuple[int, str, Any]]) -> None:
        seen: set[str] = set()
        done = self._done_ids
        seq = 0
        index = 0
        slots = self._slots
        requests = self._requests
        async with jobs:
            if isinstance(requests, AsyncIterable):
                async for item in requests:
                    seq = await self._offer(jobs, item, index, seq, seen, done, slots)
                    index += 1
            else:
                for item in requests:
                    seq = await self._offer(jobs, item, index, seq, seen, done, slots)
                    index += 1
        self._progress.total = self._progress.total if self._progress.total is not None else index

    async def _offer(
        self,
        jobs: MemoryObjectSendStream[Any],
        item: Any,
        index: int,
        seq: int,
        seen: set[str],
        done: set[str],
        slots: anyio.Semaphore | None,
    ) -> int:
        # A resumed run skips the done ids first: a line that ran before is not checked again (a 1M-line resume
        # spends its time here).
        custom_id = item.get("custom_id") if done and type(item) is dict else None
        if type(custom_id) is not str or custom_id not in done:
            custom_id, job = _prepare(item, index)
            if custom_id in seen:
                raise BulkInputError(f"item {index}: duplicate custom_id {custom_id!r}")
        seen.add(custom_id)
        if custom_id in done:
            done.discard(custom_id)  # now in `seen`: one set per id, not two
            summary = self._progress.summary
            summary.skipped += 1
            if summary.skipped % 1024 == 0:  # a long run of done ids must not hold the event loop
                await anyio.lowlevel.checkpoint()
            return seq
        if slots is not None:
            try:
                slots.acquire_nowait()
            except anyio.WouldBlock:
                await slots.acquire()
        await _send(jobs, (seq, custom_id, job))
        return seq + 1

    async def _work(
        self, jobs: MemoryObjectReceiveStream[tuple[int, str, Any]], results: MemoryObjectSendStream[Any]
    ) -> None:
        client = self._client
        # Status code and request id of successful calls come from the raw view of the client.
        raw_client = client._raw_view()
        # Keep bodies as raw JSON bytes: the session reads usage.total_tokens for a limiter straight from them.
        cast: Any = msgspec.Raw
        async with jobs, results:
            while True:
                try:
                    seq, custom_id, job = await _receive(jobs)
                except anyio.EndOfStream:
                    return
                self._count += 1
                record_id = f"{self._run_id}{self._count}"
                kind: str | None = None
                tokens = 0
                try:
                    if isinstance(job, tuple):
                        method, path, body = job
                        raw = await raw_client.request(method, path, body=body, cast_to=cast)
                        value = compact_json(raw.parse())  # one record, one line
                        response = BulkResponse(
                            status_code=raw.status_code, request_id=raw.request_id, body=value
                        )
                    else:
                        value = await job(client)
                        if isinstance(value, msgspec.Raw):
                            value = compact_json(value)
                        response = BulkResponse(status_code=200, request_id=None, body=value)
                    tokens = _tokens_of(value)
                    result = BulkResult(id=record_id, custom_id=custom_id, response=response)
                except Exception as exc:  # every failure becomes a record; cancellation passes through
                    kind = error_kind(exc)
                    result = _error_result(record_id, custom_id, exc)
                await _send(results, (seq, result, kind, tokens))


# The memory streams' `send`/`receive` always yield to the event loop first. On the hot path that turns every
# hand-over into an extra loop iteration and serialises the workers behind the feeder (one request started per
# iteration, measured: half the throughput). Take the non-blocking path when it succeeds; await only when it
# would block. The HTTP call in every worker iteration still yields, so cancellation stays prompt.
async def _send(stream: MemoryObjectSendStream[Any], item: Any) -> None:
    try:
        stream.send_nowait(item)
    except anyio.WouldBlock:
        await stream.send(item)


async def _receive(stream: MemoryObjectReceiveStream[Any]) -> Any:
    try:
        return stream.receive_nowait()
    except anyio.WouldBlock:
        return await stream.receive()


def _error_result(record_id: str, custom_id: str, exc: Exception) -> BulkResult:
    response = None
    code = getattr(exc, "code", None)
    message = getattr(exc, "message", None) or str(exc) or type(exc).__name__
    if isinstance(exc, APIStatusError):
        response = BulkResponse(status_code=exc.status_code, request_id=exc.request_id, body=_document(exc))
    error = BulkError(code=code if isinstance(code, str) else None, message=message, type=type(exc).__name__)
    return BulkResult(id=record_id, custom_id=custom_id, response=response, error=error)


def _document(exc: APIStatusError) -> Any:
    """The whole error document as the server sent it (``exc.body`` is only its ``error`` member), as the
    Batch API records it."""
    content = exc.response.content
    if content:
        try:
            return msgspec.json.decode(content)
        except msgspec.DecodeError:
            pass
    return exc.body


def _raise_single(error: BaseException) -> None:
    """Re-raise the one real error inside anyio's exception groups, so callers can catch it by type."""
    # Duck-typed (an exception group is the only exception with a tuple `exceptions`), so Python 3.10 needs
    # no `exceptiongroup` import here.
    while True:
        inner = getattr(error, "exceptions", None)
        if not (isinstance(inner, tuple) and len(inner) == 1 and isinstance(inner[0], BaseException)):
            raise error
        error = inner[0]


def run_bulk(
    client: AsyncOpenAI,
    requests: BulkInput,
    *,
    concurrency: int = 64,
    ordered: bool = False,
    window: int | None = None,
    results_path: str | os.PathLike[str] | None = None,
    retry_failed: bool = False,
    repair: bool = False,
    progress: bool | TextIO = True,
    progress_interval: float = 0.5,
    total: int | None = None,
) -> BulkRun:
    """Run many requests through ``client`` with bounded concurrency.

    Args:
        client: The client; its retries, timeouts and rate limiter apply to every request.
        requests: An iterable or async iterable, read lazily, of Batch-API request mappings
            (``custom_id``, ``method``, ``url``, ``body``) or coroutine functions taking the client.
        concurrency: Requests in flight at once.
        ordered: Yield and write results in input order (held back at most ``window`` results).
        window: With ``ordered``, how many requests may start past the oldest unfinished one
            (default ``max(4 * concurrency, 256)``).
        results_path: A JSONL file to append results to; an existing file is resumed (done ids are skipped).
        retry_failed: On resume, run again the requests whose earlier record is a failure.
        repair: On resume, when a line of ``results_path`` other than a torn last one is not a record, rebuild
            the file from every record that can be read (records split over lines are joined back) and run the
            rest again, instead of raising ``ResultsFileError``.
        progress: Show a progress line on stderr (``True``), on the given text stream, or not at all.
        progress_interval: Seconds between progress updates on a terminal (10 s when not a terminal).
        total: The number of requests, for the ETA, when ``requests`` has no ``len()``.

    Returns:
        A ``BulkRun``: ``await`` it for a ``BulkSummary``, or iterate it (``async for``, preferably inside
        ``async with``) for ``BulkResult``s as they finish. Input errors raise ``RequestLineError`` (alias
        ``BulkInputError``); a damaged results file raises ``ResultsFileError``.
    """
    return BulkRun(
        client,
        requests,
        concurrency=concurrency,
        ordered=ordered,
        window=window,
        results_path=results_path,
        retry_failed=retry_failed,
        repair=repair,
        progress=progress,
        progress_interval=progress_interval,
        total=total,
    )
