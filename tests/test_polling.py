"""Poll helpers: openai-poll-after-ms, explicit intervals, max wait, and the objects they follow (on 127.0.0.1)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from openai_async import AsyncOpenAI, RetryPolicy
from openai_async._core.polling import PollSchedule, PollTimeoutError, poll_after_ms

from ._fake_batch_server import FakeOpenAI
from ._server import serve

pytestmark = pytest.mark.anyio


def _client(url: str) -> AsyncOpenAI:
    return AsyncOpenAI(api_key="k", base_url=url, retry=RetryPolicy.instant())


def test_schedule_prefers_fixed_interval_then_header_then_backoff() -> None:
    """An explicit interval beats the header, the header beats the backoff, and the backoff grows to its cap."""
    assert PollSchedule(poll_interval_ms=250).delay({"openai-poll-after-ms": "10"}) == 0.25
    backoff = PollSchedule(initial=1.0, factor=2.0, maximum=3.0)
    assert backoff.delay({"openai-poll-after-ms": "40"}) == 0.04
    assert [backoff.delay(), backoff.delay(), backoff.delay(), backoff.delay()] == [1.0, 2.0, 3.0, 3.0]
    assert poll_after_ms({"openai-poll-after-ms": "nope"}) is None
    assert poll_after_ms({}) is None


async def test_create_and_poll_waits_as_long_as_the_header_says() -> None:
    """vector_stores.files.create_and_poll sleeps openai-poll-after-ms between reads (not its 1 s backoff)."""
    fake = FakeOpenAI(poll_after_ms=40, steps=4)
    async with serve(fake.app()) as url, _client(url) as client:
        started = time.monotonic()
        vs_file = await client.vector_stores.files.create_and_poll("file-abc", vector_store_id="vs_1")
        elapsed = time.monotonic() - started
    reads = fake.calls_to("GET", "/v1/vector_stores/vs_1/files/file-abc")
    gaps = [b - a for a, b in zip(reads, reads[1:], strict=False)]
    assert vs_file.status == "completed" and len(reads) == 4
    assert all(0.035 <= gap < 0.5 for gap in gaps), gaps
    assert elapsed < 1.0


async def test_explicit_poll_interval_overrides_the_header() -> None:
    """poll_interval_ms given by the caller wins over a (long) openai-poll-after-ms."""
    fake = FakeOpenAI(poll_after_ms=5000, steps=3)
    async with serve(fake.app()) as url, _client(url) as client:
        started = time.monotonic()
        vs_file = await client.vector_stores.files.create_and_poll(
            "file-abc", vector_store_id="vs_1", poll_interval_ms=20
        )
    assert vs_file.status == "completed"
    assert time.monotonic() - started < 1.0


async def test_max_wait_raises_with_the_last_object() -> None:
    """A poll that never settles stops at max_wait_seconds with PollTimeoutError carrying the last read."""
    fake = FakeOpenAI(poll_after_ms=50, steps=10**9)
    async with serve(fake.app()) as url, _client(url) as client:
        batch = await client.vector_stores.file_batches.create("vs_1", file_ids=["file-1"])
        assert batch.id is not None
        started = time.monotonic()
        with pytest.raises(PollTimeoutError) as caught:
            await client.vector_stores.file_batches.poll(
                batch.id, vector_store_id="vs_1", max_wait_seconds=0.3
            )
        elapsed = time.monotonic() - started
    assert 0.28 <= elapsed < 0.8
    assert isinstance(caught.value, TimeoutError)
    assert caught.value.last.status == "in_progress"
    assert 5 <= len(fake.calls_to("GET", f"/v1/vector_stores/vs_1/file_batches/{batch.id}")) <= 9


async def test_file_batches_upload_and_poll_uploads_every_file(tmp_path: Path) -> None:
    """upload_and_poll uploads each file (streamed from disk), batches them with the given ids, and waits."""
    fake = FakeOpenAI(poll_after_ms=5, steps=2)
    paths = []
    for i in range(3):
        path = tmp_path / f"doc{i}.txt"
        path.write_bytes(f"document {i}".encode())
        paths.append(path)
    async with serve(fake.app()) as url, _client(url) as client:
        batch = await client.vector_stores.file_batches.upload_and_poll(
            "vs_9", files=paths, file_ids=["file-existing"], max_concurrency=2
        )
    assert batch.status == "completed"
    assert batch.file_counts is not None and batch.file_counts.total == 4
    uploaded = sorted(fake.contents[fid] for fid, f in fake.files.items() if f["purpose"] == "assistants")
    assert uploaded == [b"document 0", b"document 1", b"document 2"]


async def test_upload_and_poll_attaches_the_uploaded_file(tmp_path: Path) -> None:
    """vector_stores.files.upload_and_poll uploads with purpose assistants, attaches the file and polls it."""
    fake = FakeOpenAI(poll_after_ms=5, steps=2)
    path = tmp_path / "notes.md"
    path.write_bytes(b"# notes")
    async with serve(fake.app()) as url, _client(url) as client:
        vs_file = await client.vector_stores.files.upload_and_poll(vector_store_id="vs_2", file=path)
    (file_id,) = fake.files
    assert vs_file.id == file_id and vs_file.status == "completed"
    assert fake.files[file_id]["purpose"] == "assistants" and fake.contents[file_id] == b"# notes"


async def test_wait_for_processing_returns_processed_and_times_out_otherwise() -> None:
    """files.wait_for_processing returns a processed file at once and gives up on one that never is."""
    fake = FakeOpenAI()
    done = fake.add_file(b"x", purpose="fine-tune", filename="a.jsonl")
    stuck = fake.add_file(b"y", purpose="fine-tune", filename="b.jsonl", status="uploaded")
    async with serve(fake.app()) as url, _client(url) as client:
        got = await client.files.wait_for_processing(done["id"])
        with pytest.raises(PollTimeoutError):
            await client.files.wait_for_processing(stuck["id"], poll_interval=0.02, max_wait_seconds=0.15)
    assert got.status == "processed"
    assert len(fake.calls_to("GET", f"/v1/files/{done['id']}")) == 1
    assert len(fake.calls_to("GET", f"/v1/files/{stuck['id']}")) >= 5


async def test_fine_tuning_wait_streams_each_event_once_in_order() -> None:
    """fine_tuning.jobs.wait yields every event once, oldest first, then stops when the job ends."""
    fake = FakeOpenAI(poll_after_ms=5, steps=4)
    fake.add_job("ftjob-1", final="succeeded", events_per_read=3)
    fake.add_job("ftjob-2", final="failed", events_per_read=1)
    async with serve(fake.app()) as url, _client(url) as client:
        watch = client.fine_tuning.jobs.wait("ftjob-1")
        messages = [event.message async for event in watch]
        job2 = await client.fine_tuning.jobs.wait("ftjob-2")
    assert messages == [f"step {n}" for n in range(1, 13)]
    assert watch.job is not None and watch.job.status == "succeeded"
    assert job2.status == "failed"


async def test_fine_tuning_wait_honours_max_wait() -> None:
    """A job that keeps running makes wait() raise PollTimeoutError after max_wait_seconds."""
    fake = FakeOpenAI(poll_after_ms=20, steps=10**9)
    fake.add_job("ftjob-slow")
    async with serve(fake.app()) as url, _client(url) as client:
        started = time.monotonic()
        seen = []
        with pytest.raises(PollTimeoutError):
            async for event in client.fine_tuning.jobs.wait("ftjob-slow", max_wait_seconds=0.2):
                seen.append(event.id)
    assert time.monotonic() - started < 0.7
    assert len(seen) == len(set(seen)) >= 4
