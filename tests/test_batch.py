"""The Batch pipeline against the fake Files/Uploads/Batch API on 127.0.0.1."""

from __future__ import annotations

import argparse
import io
from pathlib import Path
from typing import Any

import msgspec
import pytest

from openai_async import AsyncOpenAI, InternalServerError, RetryPolicy
from openai_async._cli import add_batch_arguments, batch_command
from openai_async._core.polling import PollTimeoutError
from openai_async._workloads.batch.pipeline import (
    BatchInputError,
    BatchProgress,
    BatchResult,
    BatchStateError,
    run_batch,
)
from openai_async.types.chat import CreateChatCompletionResponse
from openai_async.types.embeddings import CreateEmbeddingResponse

from ._fake_batch_server import FakeOpenAI
from ._server import serve

pytestmark = pytest.mark.anyio


def _client(url: str) -> AsyncOpenAI:
    return AsyncOpenAI(api_key="k", base_url=url, retry=RetryPolicy.instant())


def chat(n: int, *, fail: bool = False, url: str = "/v1/chat/completions") -> dict[str, Any]:
    body: dict[str, Any] = {"model": "gpt-test", "messages": [{"role": "user", "content": f"q{n}"}]}
    if fail:
        body["fail"] = True
    return {"custom_id": f"req-{n}", "method": "POST", "url": url, "body": body}


def read_lines(path: Path) -> list[dict[str, Any]]:
    return [msgspec.json.decode(line) for line in path.read_bytes().splitlines()]


async def test_results_come_back_complete_typed_and_in_input_order(tmp_path: Path) -> None:
    """25 requests split into 3 batches come back in input order, typed, with per-request errors kept."""
    fake = FakeOpenAI(max_requests=10)
    items = [chat(i, fail=i % 7 == 3) for i in range(25)]
    out = tmp_path / "out.jsonl"
    seen: list[BatchProgress] = []
    async with serve(fake.app()) as url, _client(url) as client:
        summary = await client.batches.run(items, output=out, max_requests=10, on_progress=seen.append)
    lines = read_lines(out)
    assert [line["custom_id"] for line in lines] == [f"req-{i}" for i in range(25)]
    assert len(fake.batches) == 3 and summary.batch_ids == list(fake.batches)
    assert set(summary.batch_statuses.values()) == {"completed"}
    failing = [i for i in range(25) if i % 7 == 3]
    assert summary.failed == len(failing) and summary.succeeded == 25 - len(failing)
    assert summary.errors == {"400": len(failing)}
    assert all(lines[i]["response"]["status_code"] == 400 for i in failing)
    assert lines[0]["response"]["body"]["choices"][0]["message"]["content"] == "echo: q0"
    assert seen[-1].finished_batches == 3 and seen[-1].completed + seen[-1].failed == 25
    walked = {status for p in seen for status in p.statuses}
    assert {"validating", "in_progress", "finalizing", "completed"} <= walked
    done = [p.completed + p.failed for p in seen]
    assert done == sorted(done)
    state = msgspec.json.decode((tmp_path / "out.jsonl.state.json").read_bytes())
    assert [c["batch_id"] for c in state["chunks"]] == summary.batch_ids


async def test_iterating_yields_typed_results_in_order_without_an_output_file() -> None:
    """async for over a run yields BatchResult in input order, 2xx bodies decoded into the endpoint's type."""
    fake = FakeOpenAI()
    items = [chat(i, fail=i == 4) for i in range(12)]
    async with serve(fake.app()) as url, _client(url) as client:
        async with client.batches.run(items, max_requests=5) as run:
            results = [r async for r in run]
    assert [r.custom_id for r in results] == [f"req-{i}" for i in range(12)]
    assert all(isinstance(r, BatchResult) for r in results)
    assert isinstance(results[0].body, CreateChatCompletionResponse)
    assert results[0].body.choices[0].message.content == "echo: q0"
    assert not results[4].ok and results[4].response is not None and results[4].response.status_code == 400
    assert isinstance(results[4].body, dict) and results[4].body["error"]["code"] == "bad"
    assert run.summary.succeeded == 11 and run.summary.failed == 1


async def test_byte_limit_and_endpoint_changes_split_batches() -> None:
    """Batches never exceed max_bytes (the fake rejects larger ones) and never mix endpoints."""
    limit = 1000
    fake = FakeOpenAI(max_bytes=limit)
    items = [chat(i) for i in range(10)]
    for i in range(10, 14):
        items.append(
            {
                "custom_id": f"req-{i}",
                "method": "POST",
                "url": "/embeddings",
                "body": {"model": "emb", "input": "x" * 200},
            }
        )
    async with serve(fake.app()) as url, _client(url) as client:
        results = [r async for r in run_batch(client, items, max_bytes=limit, progress=io.StringIO())]
    assert [r.custom_id for r in results] == [f"req-{i}" for i in range(14)]
    assert all(r.ok for r in results)
    assert isinstance(results[-1].body, CreateEmbeddingResponse)
    sizes = [len(fake.contents[b["input_file_id"]]) for b in fake.batches.values()]
    assert len(sizes) == 4 and max(sizes) <= limit
    endpoints = [b["endpoint"] for b in fake.batches.values()]
    assert endpoints[0] == "/v1/chat/completions" and endpoints[-1] == "/v1/embeddings"


async def test_large_inputs_go_through_the_uploads_api(tmp_path: Path) -> None:
    """An input file over upload_threshold is sent as Upload parts (md5-checked), then batched."""
    fake = FakeOpenAI()
    items = [chat(i) for i in range(30)]
    async with serve(fake.app()) as url, _client(url) as client:
        summary = await client.batches.run(
            items, output=tmp_path / "o.jsonl", upload_threshold=1000, part_size=700
        )
    (upload,) = fake.uploads.values()
    assert upload["status"] == "completed" and len(upload["part_ids"]) > 1
    (batch,) = fake.batches.values()
    assert batch["input_file_id"] == upload["file"]["id"]
    assert not fake.calls_to("POST", "/v1/files")
    assert summary.succeeded == 30


async def test_failed_expired_and_cancelled_batches_surface_as_error_records(tmp_path: Path) -> None:
    """Requests a failed/expired/cancelled batch did not run become error records; partial results are kept."""
    fake = FakeOpenAI(outcomes=["completed", "expired", "failed", "cancelled"])
    items = [chat(i) for i in range(16)]
    out = tmp_path / "out.jsonl"
    async with serve(fake.app()) as url, _client(url) as client:
        summary = await client.batches.run(items, output=out, max_requests=4)
    lines = read_lines(out)
    assert [line["custom_id"] for line in lines] == [f"req-{i}" for i in range(16)]
    codes = [line["error"]["code"] if line.get("error") else "ok" for line in lines]
    assert codes[:4] == ["ok"] * 4
    assert codes[4:8] == ["ok", "ok", "batch_expired", "batch_expired"]
    assert codes[8:12] == ["batch_failed"] * 4
    assert codes[12:16] == ["ok", "ok", "batch_cancelled", "batch_cancelled"]
    assert "failed" in lines[8]["error"]["message"]
    assert list(summary.batch_statuses.values()) == ["completed", "expired", "failed", "cancelled"]
    assert summary.succeeded == 8 and summary.errors == {
        "batch_expired": 2,
        "batch_failed": 4,
        "batch_cancelled": 2,
    }


async def test_a_rerun_resumes_the_recorded_batches_and_repairs_a_torn_output(tmp_path: Path) -> None:
    """After a stop mid-run (and a torn last line), a rerun creates no new batch and ends with each result once."""
    fake = FakeOpenAI()
    items = [chat(i) for i in range(20)]
    out = tmp_path / "out.jsonl"
    async with serve(fake.app()) as url, _client(url) as client:
        async with client.batches.run(items, output=out, max_requests=6) as run:
            async for result in run:
                if result.custom_id == "req-7":
                    break  # stop inside the second batch: the first one is written
        assert len(fake.batches) == 4
        uploads_before = len(fake.calls_to("POST", "/v1/files"))
        with open(out, "ab") as f:
            f.write(b'{"custom_id": "req-6", "respo')  # a crash in the middle of a write
        resumed = [r.custom_id async for r in client.batches.run(items, output=out, max_requests=6)]
    assert len(fake.batches) == 4
    assert len(fake.calls_to("POST", "/v1/files")) == uploads_before
    assert resumed == [f"req-{i}" for i in range(20)]
    assert [line["custom_id"] for line in read_lines(out)] == [f"req-{i}" for i in range(20)]


async def test_a_failed_batch_creation_resumes_without_uploading_again(tmp_path: Path) -> None:
    """If creating a batch fails for good, a rerun reuses the uploaded input file and the batches already made."""
    fake = FakeOpenAI()
    fake.fail_creates_after = 1
    items = [chat(i) for i in range(6)]
    out = tmp_path / "out.jsonl"
    async with serve(fake.app()) as url, _client(url) as client:
        with pytest.raises(InternalServerError):
            await client.batches.run(items, output=out, max_requests=3)
        assert len(fake.batches) == 1 and len(fake.calls_to("POST", "/v1/files")) == 2
        fake.fail_creates_after = None
        summary = await client.batches.run(items, output=out, max_requests=3)
    assert len(fake.batches) == 2 and len(fake.calls_to("POST", "/v1/files")) == 2
    assert summary.succeeded == 6
    assert [line["custom_id"] for line in read_lines(out)] == [f"req-{i}" for i in range(6)]


async def test_max_wait_stops_and_the_same_run_resumes_later(tmp_path: Path) -> None:
    """max_wait_seconds raises PollTimeoutError with the state saved; running again finishes the same batches."""
    fake = FakeOpenAI(poll_after_ms=400)
    items = [chat(i) for i in range(8)]
    out = tmp_path / "out.jsonl"
    async with serve(fake.app()) as url, _client(url) as client:
        with pytest.raises(PollTimeoutError):
            await client.batches.run(items, output=out, max_requests=4, max_wait_seconds=0.1)
        assert len(fake.batches) == 2
        fake.poll_after_ms = 5
        summary = await client.batches.run(items, output=out, max_requests=4)
    assert len(fake.batches) == 2 and summary.succeeded == 8
    assert [line["custom_id"] for line in read_lines(out)] == [f"req-{i}" for i in range(8)]


async def test_changed_inputs_or_a_stray_output_are_refused(tmp_path: Path) -> None:
    """A state file recorded for other inputs, or an output file without state, raises BatchStateError."""
    fake = FakeOpenAI()
    out = tmp_path / "out.jsonl"
    async with serve(fake.app()) as url, _client(url) as client:
        await client.batches.run([chat(i) for i in range(3)], output=out)
        with pytest.raises(BatchStateError, match="differ"):
            await client.batches.run([chat(i) for i in range(1, 4)], output=out)
        stray = tmp_path / "stray.jsonl"
        stray.write_text("something else\n")
        with pytest.raises(BatchStateError, match="exists"):
            await client.batches.run([chat(0)], output=stray)
    assert stray.read_text() == "something else\n"


@pytest.mark.parametrize(
    ("items", "message"),
    [
        ([chat(1), chat(1)], "duplicate custom_id 'req-1'"),
        ([{**chat(1), "method": "GET"}], "only runs POST"),
        ([{"method": "POST", "url": "/v1/embeddings", "body": {}}], "item 0: missing or empty custom_id"),
        ([{**chat(2), "body": "text"}], "body must be a JSON object"),
        ([], "no requests"),
    ],
)
async def test_bad_items_are_named(items: list[dict[str, Any]], message: str) -> None:
    """Malformed inputs raise BatchInputError naming the item, before anything is uploaded."""
    fake = FakeOpenAI()
    async with serve(fake.app()) as url, _client(url) as client:
        with pytest.raises(BatchInputError, match=message):
            await client.batches.run(items)
    assert not fake.calls


def _args(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_batch_arguments(parser)
    return parser.parse_args(list(argv))


async def test_cli_entry_runs_a_jsonl_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """batch_command reads INPUT.jsonl, writes OUT.jsonl in order and exits 1 when some requests failed."""
    fake = FakeOpenAI()
    source = tmp_path / "in.jsonl"
    source.write_bytes(b"".join(msgspec.json.encode(chat(i, fail=i == 2)) + b"\n" for i in range(6)))
    out = tmp_path / "out.jsonl"
    async with serve(fake.app()) as url, _client(url) as client:
        code = await batch_command(
            _args(str(source), "-o", str(out), "--max-requests", "4", "--metadata", "job=test"), client=client
        )
        bad = tmp_path / "bad.jsonl"
        bad.write_bytes(msgspec.json.encode(chat(0)) + b"\n{not json\n")
        bad_code = await batch_command(_args(str(bad), "-o", str(tmp_path / "bad-out.jsonl")), client=client)
    err = capsys.readouterr().err
    assert code == 1 and bad_code == 2
    assert [line["custom_id"] for line in read_lines(out)] == [f"req-{i}" for i in range(6)]
    assert "5 succeeded, 1 failed" in err and "batch: created batch_" in err and "requests done" in err
    assert f"{bad}:2: invalid JSON" in err
    assert all(
        b["metadata"]["job"] == "test" and b["metadata"]["openai_async_part"] for b in fake.batches.values()
    )


async def test_untyped_results_and_a_state_file_without_output(tmp_path: Path) -> None:
    """typed=False keeps bodies as plain JSON; state_path alone lets an iterator resume its batches."""
    fake = FakeOpenAI()
    items = [chat(i) for i in range(5)]
    state = tmp_path / "run.state.json"
    async with serve(fake.app()) as url, _client(url) as client:
        async with client.batches.run(items, state_path=state, typed=False) as run:
            first = [r async for r in run]
        again = [r async for r in client.batches.run(items, state_path=state, typed=False)]
    assert isinstance(first[0].body, dict) and first[0].body["object"] == "chat.completion"
    assert [r.custom_id for r in again] == [r.custom_id for r in first]
    assert len(fake.batches) == 1


async def test_cli_entry_builds_its_client_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without a client, batch_command uses OPENAI_API_KEY / OPENAI_BASE_URL and exits 0 when all succeed."""
    fake = FakeOpenAI()
    source = tmp_path / "in.jsonl"
    source.write_bytes(b"".join(msgspec.json.encode(chat(i)) + b"\n" for i in range(3)))
    out = tmp_path / "out.jsonl"
    async with serve(fake.app()) as url:
        monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
        monkeypatch.setenv("OPENAI_BASE_URL", url)
        code = await batch_command(
            _args(str(source), "-o", str(out), "--no-progress", "--poll-interval", "0.01")
        )
    assert code == 0
    assert [line["custom_id"] for line in read_lines(out)] == ["req-0", "req-1", "req-2"]
