"""FakeOpenAI's stateful defaults for Batch, Uploads, fine-tuning and vector stores, driven through AsyncOpenAI."""

from __future__ import annotations

import hashlib
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import msgspec
import pytest

from openai_async import AsyncOpenAI, BadRequestError, NotFoundError
from openai_async.testing import FakeOpenAI

pytestmark = pytest.mark.anyio


@pytest.fixture
async def fake() -> AsyncIterator[FakeOpenAI]:
    """A running FakeOpenAI with its defaults on."""
    async with FakeOpenAI() as server:
        yield server


@pytest.fixture
async def client(fake: FakeOpenAI) -> AsyncIterator[AsyncOpenAI]:
    """A client of the fake that never retries (errors surface at once)."""
    async with fake.client(max_retries=0) as c:
        yield c


def chat_lines(n: int, *, url: str = "/v1/chat/completions") -> bytes:
    """A Batch input file of ``n`` chat requests ``r0`` .. ``r{n-1}``."""
    items = [
        {
            "custom_id": f"r{i}",
            "method": "POST",
            "url": url,
            "body": {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": f"question {i}"}]},
        }
        for i in range(n)
    ]
    return b"".join(msgspec.json.encode(item) + b"\n" for item in items)


def id_of(obj: Any) -> str:
    """The ``id`` of an API object, which must have one."""
    assert isinstance(obj.id, str)
    return obj.id


async def batch_file(client: AsyncOpenAI, content: bytes) -> str:
    """Upload a Batch input file; return its id."""
    uploaded = await client.files.create(file=("input.jsonl", content), purpose="batch")
    assert uploaded.id is not None
    return uploaded.id


# -- batches ----------------------------------------------------------------------------------------------------


async def test_batch_walks_to_completed_one_step_per_retrieve(client: AsyncOpenAI) -> None:
    """A batch goes validating -> in_progress -> finalizing -> completed, one status per retrieve."""
    file_id = await batch_file(client, chat_lines(4))
    batch = await client.batches.create(
        input_file_id=file_id, endpoint="/v1/chat/completions", completion_window="24h"
    )
    batch_id = id_of(batch)
    seen = [batch.status]
    counts = []
    while batch.status != "completed":
        batch = await client.batches.retrieve(batch_id)
        seen.append(batch.status)
        assert batch.request_counts is not None
        counts.append((batch.request_counts.completed, batch.request_counts.total))
    assert seen == ["validating", "in_progress", "finalizing", "completed"]
    assert counts == [(2, 4), (4, 4), (4, 4)]
    assert batch.error_file_id is None
    assert batch.in_progress_at and batch.finalizing_at and batch.completed_at
    assert batch.usage is not None and batch.usage.total_tokens and batch.usage.total_tokens > 0


async def test_batch_output_has_one_chat_answer_per_line(client: AsyncOpenAI) -> None:
    """The output file answers every request with the chat default (an echo of its question)."""
    file_id = await batch_file(client, chat_lines(6))
    batch = await client.batches.create(
        input_file_id=file_id, endpoint="/v1/chat/completions", completion_window="24h"
    )
    assert batch.id is not None
    for _ in range(3):
        batch = await client.batches.retrieve(batch.id)
    assert batch.status == "completed" and batch.output_file_id is not None
    content = (await client.files.content(batch.output_file_id)).content
    lines = [msgspec.json.decode(line) for line in content.splitlines()]
    assert sorted(line["custom_id"] for line in lines) == [f"r{i}" for i in range(6)]
    for line in lines:
        assert line["error"] is None and line["response"]["status_code"] == 200
        answer = line["response"]["body"]["choices"][0]["message"]["content"]
        assert answer == f"question {line['custom_id'][1:]}"


async def test_refused_requests_go_to_the_error_file(client: AsyncOpenAI) -> None:
    """A batch whose lines the defaults refuse (videos with no prompt: 400) puts every line in the error file."""
    content = chat_lines(2, url="/v1/videos")
    file_id = await batch_file(client, content)
    batch = await client.batches.create(input_file_id=file_id, endpoint="/v1/videos", completion_window="24h")
    batch_id = id_of(batch)
    for _ in range(3):
        batch = await client.batches.retrieve(batch_id)
    assert batch.status == "completed" and batch.output_file_id is None and batch.error_file_id is not None
    assert batch.request_counts is not None and batch.request_counts.failed == 2
    content = (await client.files.content(batch.error_file_id)).content
    statuses = [msgspec.json.decode(line)["response"]["status_code"] for line in content.splitlines()]
    assert statuses == [400, 400]


async def test_batches_run_decodes_responses_and_embeddings(client: AsyncOpenAI) -> None:
    """Responses and embeddings batches get the same defaults as direct calls, decoded into their types."""
    items = [
        {"custom_id": "a", "url": "/v1/responses", "body": {"model": "gpt-4o-mini", "input": "ping"}},
        {
            "custom_id": "b",
            "url": "/v1/embeddings",
            "body": {"model": "text-embedding-3-small", "input": "x"},
        },
    ]
    results = {r.custom_id: r async for r in client.batches.run(items)}
    assert results["a"].ok and results["a"].body.output_text == "ping"
    assert results["b"].ok and len(results["b"].body.data[0].embedding) == 1536


async def test_pollable_reads_carry_the_poll_after_header(client: AsyncOpenAI) -> None:
    """Retrieves of a batch still moving send openai-poll-after-ms: 10; the final one does not."""
    file_id = await batch_file(client, chat_lines(1))
    batch = await client.batches.create(
        input_file_id=file_id, endpoint="/v1/chat/completions", completion_window="24h"
    )
    assert batch.id is not None
    hints = []
    status = batch.status
    while status != "completed":
        raw: Any = await client.batches.with_raw_response.retrieve(batch.id)
        hints.append(raw.headers.get("openai-poll-after-ms"))
        status = raw.parse().status
    assert hints == ["10", "10", None]


async def test_batch_with_a_malformed_line_fails_validation(client: AsyncOpenAI) -> None:
    """A line for another endpoint fails the batch on its first retrieve, naming the line."""
    content = chat_lines(2) + chat_lines(1, url="/v1/embeddings").replace(b'"r0"', b'"other"')
    file_id = await batch_file(client, content)
    batch = await client.batches.create(
        input_file_id=file_id, endpoint="/v1/chat/completions", completion_window="24h"
    )
    assert batch.id is not None
    batch = await client.batches.retrieve(batch.id)
    assert batch.status == "failed"
    assert batch.errors is not None and batch.errors.data
    assert [e.line for e in batch.errors.data] == [3]
    assert batch.output_file_id is None


async def test_batch_create_checks_the_input_file(client: AsyncOpenAI) -> None:
    """An unknown input file or a file not uploaded for batch is a 400."""
    with pytest.raises(BadRequestError):
        await client.batches.create(
            input_file_id="file-nope", endpoint="/v1/chat/completions", completion_window="24h"
        )
    other = await client.files.create(file=("x.jsonl", chat_lines(1)), purpose="assistants")
    assert other.id is not None
    with pytest.raises(BadRequestError):
        await client.batches.create(
            input_file_id=other.id, endpoint="/v1/chat/completions", completion_window="24h"
        )


async def test_cancelled_batch_keeps_the_answers_it_had(client: AsyncOpenAI) -> None:
    """Cancel mid-run: cancelling, then cancelled with the first half answered; a second cancel is refused."""
    file_id = await batch_file(client, chat_lines(4))
    batch = await client.batches.create(
        input_file_id=file_id, endpoint="/v1/chat/completions", completion_window="24h"
    )
    batch_id = id_of(batch)
    await client.batches.retrieve(batch_id)  # in_progress, 2 of 4 done
    cancelling = await client.batches.cancel(batch_id)
    assert cancelling.status == "cancelling"
    batch = await client.batches.retrieve(batch_id)
    assert batch.status == "cancelled" and batch.cancelled_at
    assert batch.request_counts is not None and batch.request_counts.completed == 2
    assert batch.output_file_id is not None
    content = (await client.files.content(batch.output_file_id)).content
    assert len(content.splitlines()) == 2
    with pytest.raises(BadRequestError):
        await client.batches.cancel(batch_id)


async def test_batch_list_is_newest_first_and_pages(client: AsyncOpenAI) -> None:
    """batches.list pages through every batch, newest first."""
    file_id = await batch_file(client, chat_lines(1))
    ids = []
    for _ in range(3):
        created = await client.batches.create(
            input_file_id=file_id, endpoint="/v1/chat/completions", completion_window="24h"
        )
        ids.append(created.id)
    listed = [b.id async for b in client.batches.list(limit=2)]
    assert listed == ids[::-1]
    with pytest.raises(NotFoundError):
        await client.batches.retrieve("batch_nope")


async def test_batches_run_gets_results_in_input_order(client: AsyncOpenAI, tmp_path: Path) -> None:
    """The Batch pipeline helper runs offline against the defaults, quickly, results in input order."""
    requests = [msgspec.json.decode(line) for line in chat_lines(12).splitlines()]
    started = time.monotonic()
    summary = await client.batches.run(requests, output=tmp_path / "out.jsonl")
    elapsed = time.monotonic() - started
    assert summary.succeeded == 12 and summary.failed == 0
    assert list(summary.batch_statuses.values()) == ["completed"]
    written = [msgspec.json.decode(line) for line in (tmp_path / "out.jsonl").read_bytes().splitlines()]
    assert [line["custom_id"] for line in written] == [f"r{i}" for i in range(12)]
    assert elapsed < 2.0  # 10 ms poll hints; the backoff without them would take over 4 s


# -- uploads ----------------------------------------------------------------------------------------------------


async def test_upload_parts_complete_into_a_file(client: AsyncOpenAI) -> None:
    """Parts added to an upload complete into a processed File holding their bytes, in part_ids order."""
    upload = await client.uploads.create(
        filename="data.bin", purpose="assistants", bytes=10, mime_type="application/octet-stream"
    )
    assert upload.id is not None and upload.status == "pending"
    first = await client.uploads.parts.create(upload.id, data=("data.bin", b"hello"))
    second = await client.uploads.parts.create(upload.id, data=("data.bin", b"world"))
    assert first.object == "upload.part" and first.upload_id == upload.id
    md5 = hashlib.md5(b"worldhello", usedforsecurity=False).hexdigest()
    done = await client.uploads.complete(upload.id, part_ids=[second.id, first.id], md5=md5)  # type: ignore[list-item]
    assert done.status == "completed"
    file: Any = done.file
    assert file["bytes"] == 10 and file["filename"] == "data.bin" and file["status"] == "processed"
    assert (await client.files.content(file["id"])).content == b"worldhello"


async def test_upload_complete_checks_sizes_and_md5(client: AsyncOpenAI) -> None:
    """Completion is refused when the parts do not add up to bytes or do not match the md5."""
    upload = await client.uploads.create(
        filename="a.txt", purpose="assistants", bytes=4, mime_type="text/plain"
    )
    assert upload.id is not None
    part = await client.uploads.parts.create(upload.id, data=("a.txt", b"abc"))
    assert part.id is not None
    with pytest.raises(BadRequestError, match="declared 4"):
        await client.uploads.complete(upload.id, part_ids=[part.id])
    more = await client.uploads.parts.create(upload.id, data=("a.txt", b"d"))
    assert more.id is not None
    with pytest.raises(BadRequestError, match="md5"):
        await client.uploads.complete(upload.id, part_ids=[part.id, more.id], md5="0" * 32)
    cancelled = await client.uploads.cancel(upload.id)
    assert cancelled.status == "cancelled"
    with pytest.raises(BadRequestError):
        await client.uploads.parts.create(upload.id, data=("a.txt", b"e"))


async def test_upload_file_chunked_against_the_defaults(client: AsyncOpenAI, tmp_path: Path) -> None:
    """The chunked-upload helper sends every part and gets back the File with the whole size."""
    path = tmp_path / "big.bin"
    path.write_bytes(bytes(range(256)) * 1000)
    upload = await client.uploads.upload_file_chunked(
        file=path, mime_type="application/octet-stream", purpose="assistants", part_size=50_000, concurrency=3
    )
    file: Any = upload.file
    assert upload.status == "completed" and file["bytes"] == 256_000
    assert (await client.files.content(file["id"])).content == path.read_bytes()


# -- fine-tuning ------------------------------------------------------------------------------------------------


async def fine_tune_file(client: AsyncOpenAI, examples: int = 5) -> str:
    """Upload a small chat-format training file; return its id."""
    line = {"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Ahoy!"}]}
    content = (msgspec.json.encode(line) + b"\n") * examples
    uploaded = await client.files.create(file=("train.jsonl", content), purpose="fine-tune")
    assert uploaded.id is not None
    return uploaded.id


async def test_fine_tuning_job_walks_to_succeeded(client: AsyncOpenAI) -> None:
    """A job goes validating_files -> queued -> running -> running -> succeeded with a fine-tuned model."""
    job = await client.fine_tuning.jobs.create(
        model="gpt-4o-mini-2024-07-18", training_file=await fine_tune_file(client), suffix="pirate"
    )
    job_id = id_of(job)
    statuses = [job.status]
    while job.status != "succeeded":
        job = await client.fine_tuning.jobs.retrieve(job_id)
        statuses.append(job.status)
    assert statuses == ["validating_files", "queued", "running", "running", "succeeded"]
    assert job.fine_tuned_model is not None
    assert job.fine_tuned_model.startswith("ft:gpt-4o-mini-2024-07-18:fake-org:pirate:")
    assert job.finished_at and job.trained_tokens and job.result_files
    assert job.hyperparameters is not None and job.hyperparameters.n_epochs == 3
    model = await client.models.retrieve(job.fine_tuned_model)
    assert model.id == job.fine_tuned_model
    checkpoints = await client.fine_tuning.jobs.checkpoints.list(job_id)
    assert [c.step_number for c in checkpoints.data] == [15, 7]  # 5 examples x 3 epochs, newest first


async def test_fine_tuning_wait_streams_each_event_once(client: AsyncOpenAI) -> None:
    """jobs.wait yields every event oldest first, once, then stops on the final job, quickly."""
    job = await client.fine_tuning.jobs.create(
        model="gpt-4o-mini", training_file=await fine_tune_file(client)
    )
    assert job.id is not None
    started = time.monotonic()
    watch = client.fine_tuning.jobs.wait(job.id)
    messages = [str(event.message) async for event in watch]
    elapsed = time.monotonic() - started
    assert watch.job is not None and watch.job.status == "succeeded"
    assert messages[0] == f"Created fine-tuning job: {job.id}"
    assert messages[-1] == "The job has successfully completed"
    assert len(messages) == len(set(messages)) >= 10
    assert any(m.startswith("Step 1/") for m in messages)
    assert elapsed < 2.0  # 10 ms poll hints; the backoff without them would take over 4 s
    listed = await client.fine_tuning.jobs.list_events(job.id, limit=3)
    assert [e.message for e in listed.data][0] == "The job has successfully completed"
    assert listed.has_more


async def test_fine_tuning_cancel_pause_and_checks(client: AsyncOpenAI) -> None:
    """Jobs can be paused, resumed and cancelled; a wrong-purpose training file is refused."""
    training = await fine_tune_file(client)
    job = await client.fine_tuning.jobs.create(model="gpt-4o-mini", training_file=training)
    job_id = id_of(job)
    for _ in range(2):
        job = await client.fine_tuning.jobs.retrieve(job_id)
    assert job.status == "running"
    assert (await client.fine_tuning.jobs.pause(job_id)).status == "paused"
    assert (await client.fine_tuning.jobs.retrieve(job_id)).status == "paused"  # no progress while paused
    assert (await client.fine_tuning.jobs.resume(job_id)).status == "running"
    assert (await client.fine_tuning.jobs.cancel(job_id)).status == "cancelled"
    with pytest.raises(BadRequestError):
        await client.fine_tuning.jobs.cancel(job_id)
    batch_input = await batch_file(client, chat_lines(1))
    with pytest.raises(BadRequestError):
        await client.fine_tuning.jobs.create(model="gpt-4o-mini", training_file=batch_input)
    jobs = [j.id async for j in client.fine_tuning.jobs.list()]
    assert jobs == [job_id]


# -- vector stores ----------------------------------------------------------------------------------------------


async def test_vector_store_file_completes_on_the_next_read(client: AsyncOpenAI) -> None:
    """An attached file is in_progress, then completed on the next read; create_and_poll returns it completed."""
    store = await client.vector_stores.create(name="docs")
    store_id = id_of(store)
    assert store.status == "completed"
    doc = await client.files.create(
        file=("notes.txt", b"asyncio sockets and event loops"), purpose="assistants"
    )
    assert doc.id is not None
    attached = await client.vector_stores.files.create(store_id, file_id=doc.id)
    assert attached.status == "in_progress"
    again = await client.vector_stores.files.retrieve(doc.id, vector_store_id=store_id)
    assert again.status == "completed" and again.usage_bytes == 31
    other = await client.files.create(file=("other.txt", b"gardening tips"), purpose="assistants")
    assert other.id is not None
    polled = await client.vector_stores.files.create_and_poll(other.id, vector_store_id=store_id)
    assert polled.status == "completed"
    store = await client.vector_stores.retrieve(store_id)
    assert store.file_counts is not None and (store.file_counts.completed, store.file_counts.total) == (2, 2)
    results = [r async for r in client.vector_stores.search(store_id, query="event loops")]
    assert [r.file_id for r in results] == [doc.id]


async def test_vector_store_file_batch_upload_and_poll(client: AsyncOpenAI) -> None:
    """file_batches.upload_and_poll uploads, attaches and returns a completed batch with its counts."""
    store = await client.vector_stores.create(name="kb")
    assert store.id is not None
    batch = await client.vector_stores.file_batches.upload_and_poll(
        store.id, files=[("a.txt", b"alpha"), ("b.txt", b"beta")]
    )
    assert batch.status == "completed"
    assert batch.file_counts is not None and (batch.file_counts.completed, batch.file_counts.total) == (2, 2)
    assert batch.id is not None
    listed = [
        f.status
        async for f in client.vector_stores.file_batches.list_files(batch.id, vector_store_id=store.id)
    ]
    assert listed == ["completed", "completed"]
    with pytest.raises(NotFoundError):
        await client.vector_stores.files.create(store.id, file_id="file-nope")
