"""The Batch pipeline and `openai-async batch` under faults, against the testing kit's FakeOpenAI.

Each fault is scripted on the kit's built-in Files/Batches answers (``fake.default(request)`` altered by a
handler): a later batch failing validation, a download cut mid-body, a truncated output file, a create whose
answer is lost, and input lines whose ``url`` is no Batch endpoint.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import msgspec
import pytest

from openai_async import RetryPolicy
from openai_async._cli import add_batch_arguments, batch_command
from openai_async.testing import FakeOpenAI, FakeResponse, RecordedRequest

pytestmark = pytest.mark.anyio


def chat(n: int, url: str = "/v1/chat/completions") -> dict[str, Any]:
    return {
        "custom_id": f"req-{n}",
        "method": "POST",
        "url": url,
        "body": {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": f"q{n}"}]},
    }


def write_input(path: Path, items: list[dict[str, Any]]) -> Path:
    path.write_bytes(b"".join(msgspec.json.encode(item) + b"\n" for item in items))
    return path


def read_lines(path: Path) -> list[dict[str, Any]]:
    return [msgspec.json.decode(line) for line in path.read_bytes().splitlines()]


async def run_cli(fake: FakeOpenAI, *argv: str, retries: int = 2) -> int:
    """`openai-async batch ARGV` against the fake (the command's own function, the fake's client)."""
    parser = argparse.ArgumentParser()
    add_batch_arguments(parser)
    args = parser.parse_args([*argv, "--poll-interval", "0.001", "--no-progress"])
    async with fake.client(retry=RetryPolicy.instant(retries)) as client:
        return await batch_command(args, client=client)


def part_of(answer: FakeResponse) -> str | None:
    metadata = (answer.json or {}).get("metadata") or {}
    return metadata.get("openai_async_part")


async def test_a_validation_error_in_a_later_batch_names_the_input_line_and_custom_id(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Batch 3 of 3 failing on its line 2 is reported on input line 8 (req-7), not on line 2 of the input."""
    src = write_input(tmp_path / "in.jsonl", [chat(i) for i in range(9)])
    out = tmp_path / "out.jsonl"

    async with FakeOpenAI() as fake:

        def third_fails(request: RecordedRequest) -> FakeResponse:
            answer = fake.default(request)
            if part_of(answer) == "3":
                error = {
                    "code": "invalid_value",
                    "message": "messages[0].content is invalid",
                    "param": "body",
                    "line": 2,
                }
                answer.json.update(
                    status="failed",
                    output_file_id=None,
                    error_file_id=None,
                    errors={"object": "list", "data": [error]},
                )
                answer.headers = None
            return answer

        fake.add("GET", "/batches/{batch_id}", handler=third_fails)
        code = await run_cli(fake, str(src), "-o", str(out), "--max-requests", "3")
    err = capsys.readouterr().err
    lines = read_lines(out)
    assert code == 1
    assert [line["custom_id"] for line in lines] == [f"req-{i}" for i in range(9)]
    assert all(line["response"]["status_code"] == 200 for line in lines[:6])
    own = lines[7]["error"]
    assert own["code"] == "batch_failed"
    assert (
        f"invalid_value: messages[0].content is invalid (input {src}:8, custom_id 'req-7')" in own["message"]
    )
    assert f"(input {src}:8, custom_id 'req-7')" in lines[6]["error"]["message"]
    assert "(line 2)" not in err + out.read_text()
    assert "3 failed (batch_failed: 3) in 3 batch(es)" in err
    assert f"is invalid (input {src}:8, custom_id 'req-7'); its unfinished requests are error records" in err


@pytest.mark.parametrize("honours_range", [True, False], ids=["range-206", "range-ignored"])
async def test_a_download_cut_mid_body_is_fetched_again(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], honours_range: bool
) -> None:
    """An output file cut mid-body is fetched again (from the cut with Range when the server allows it)."""
    src = write_input(tmp_path / "in.jsonl", [chat(i) for i in range(6)])
    out = tmp_path / "out.jsonl"
    async with FakeOpenAI() as fake:

        def cut(request: RecordedRequest) -> FakeResponse:
            answer = fake.default(request)
            answer.reset = (
                "mid_body"  # half the file arrives (in pieces, so the client has read them), then the cut
            )
            answer.chunk_size = 256
            answer.delay_between_chunks = 0.005
            return answer

        ranges: list[str | None] = []

        def whole(request: RecordedRequest) -> FakeResponse:
            ranges.append(request.headers.get("Range"))
            if not honours_range:
                request.headers.popall("Range")
            return fake.default(request)

        fake.add("GET", "/files/{file_id}/content", handler=cut, times=1)
        fake.add("GET", "/files/{file_id}/content", handler=whole, times=1)
        code = await run_cli(fake, str(src), "-o", str(out))
        gets = fake.requests_to("GET", fake.routes[0].requests[0].path)
    assert code == 0, capsys.readouterr().err
    assert [line["custom_id"] for line in read_lines(out)] == [f"req-{i}" for i in range(6)]
    assert len(gets) == 2 and "Range" not in gets[0].headers
    (asked,) = ranges
    assert asked is not None and asked.startswith("bytes=") and asked != "bytes=0-"


async def test_downloads_failing_for_good_keep_the_batches_already_written(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """When retries run out on batch 2's download, batch 1's results stay written; a rerun finishes the rest."""
    src = write_input(tmp_path / "in.jsonl", [chat(i) for i in range(6)])
    out = tmp_path / "out.jsonl"
    async with FakeOpenAI() as fake:
        served: list[str] = []

        def second_file_breaks(request: RecordedRequest) -> FakeResponse:
            answer = fake.default(request)
            file_id = request.path_params["file_id"]
            if served and file_id != served[0]:
                answer.reset = "mid_body"
            else:
                served.append(file_id)
            return answer

        route = fake.add("GET", "/files/{file_id}/content", handler=second_file_breaks)
        code = await run_cli(fake, str(src), "-o", str(out), "--max-requests", "3")
        err = capsys.readouterr().err
        assert code == 1
        assert [line["custom_id"] for line in read_lines(out)] == [f"req-{i}" for i in range(3)]
        assert "APIConnectionError" in err and f"are in {out}; run the same command again" in err
        assert len(route.requests) == 1 + 3  # one good download, then the first try and two retries
        route.times = 0  # the fault is over
        again = await run_cli(fake, str(src), "-o", str(out), "--max-requests", "3")
        assert len(fake.requests_to("POST", "/batches")) == 2
    assert again == 0
    assert [line["custom_id"] for line in read_lines(out)] == [f"req-{i}" for i in range(6)]


@pytest.mark.parametrize("url", ["/v1/chat/completion", "/v1/audio/speech"])
async def test_a_line_with_no_batch_endpoint_is_refused_before_any_upload(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], url: str
) -> None:
    """A url that is not a Batch endpoint exits 2 naming IN:LINE, before anything is uploaded or created."""
    src = write_input(tmp_path / "in.jsonl", [chat(0), chat(1), chat(2, url=url), chat(3)])
    out = tmp_path / "out.jsonl"
    async with FakeOpenAI() as fake:
        code = await run_cli(fake, str(src), "-o", str(out), "--max-requests", "2")
        assert fake.requests == []
    err = capsys.readouterr().err
    assert code == 2
    assert (
        f"openai-async batch: {src}:3: url '{url}' is not a Batch API endpoint (/v1/chat/completions," in err
    )


async def test_an_output_file_cut_mid_line_keeps_the_complete_lines(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A truncated output file keeps every complete line; the cut one is an error record naming batch and file."""
    src = write_input(tmp_path / "in.jsonl", [chat(i) for i in range(5)])
    out = tmp_path / "out.jsonl"
    async with FakeOpenAI() as fake:
        cut_ids: list[str] = []

        def truncated(request: RecordedRequest) -> FakeResponse:
            answer = fake.default(request)
            data = answer.body
            assert isinstance(data, bytes)
            cut_ids.append(msgspec.json.decode(data.splitlines()[-1])["custom_id"])
            answer.body = data[:-40]  # the file itself ends mid-line; the download is complete
            return answer

        fake.add("GET", "/files/{file_id}/content", handler=truncated, times=1)
        code = await run_cli(fake, str(src), "-o", str(out))
        batch = fake.requests_to("POST", "/batches")[0]
        file_id = fake.routes[0].requests[0].path_params["file_id"]
    err = capsys.readouterr().err
    lines = {line["custom_id"]: line for line in read_lines(out)}
    assert code == 1 and len(lines) == 5 and batch is not None
    (cut,) = cut_ids
    error = lines[cut]["error"]
    assert error["code"] == "result_unreadable"
    assert (
        f"line 5 of its output file {file_id} ends mid-line" in error["message"]
        and "batch batch_" in error["message"]
    )
    assert all(line["response"]["status_code"] == 200 for cid, line in lines.items() if cid != cut)
    assert "4 succeeded, 1 failed (result_unreadable: 1)" in err


async def test_a_lost_create_answer_is_looked_up_not_created_twice(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A batch created while its answer was lost is found by its tags on the rerun; no second batch is made."""
    src = write_input(tmp_path / "in.jsonl", [chat(i) for i in range(4)])
    out = tmp_path / "out.jsonl"
    async with FakeOpenAI() as fake:

        def lost(request: RecordedRequest) -> FakeResponse:
            answer = fake.default(request)  # the batch is made ...
            answer.reset = "before_body"  # ... and the connection drops before its answer
            return answer

        fake.add("POST", "/batches", handler=lost, times=1)
        first = await run_cli(fake, str(src), "-o", str(out), "--max-requests", "2", retries=0)
        err = capsys.readouterr().err
        second = await run_cli(fake, str(src), "-o", str(out), "--max-requests", "2")
        lookups = len(fake.requests_to("GET", "/batches"))
        async with fake.client() as client:
            batches = [b async for b in client.batches.list()]
    assert first == 1 and "APIConnectionError" in err
    assert second == 0
    assert len(batches) == 2
    assert sorted(b.metadata["openai_async_part"] for b in batches) == ["1", "2"]  # type: ignore[index]
    assert len({b.metadata["openai_async_run"] for b in batches}) == 1  # type: ignore[index]
    assert [line["custom_id"] for line in read_lines(out)] == [f"req-{i}" for i in range(4)]
    assert lookups == 1  # one lookup, on the rerun


async def test_a_lost_create_answer_within_one_run_is_looked_up_before_retrying(tmp_path: Path) -> None:
    """With retries left, the run itself looks the batch up after a lost answer instead of creating another."""
    async with FakeOpenAI() as fake:

        def lost(request: RecordedRequest) -> FakeResponse:
            answer = fake.default(request)
            answer.reset = "before_body"
            return answer

        fake.add("POST", "/batches", handler=lost, times=1)
        async with fake.client(retry=RetryPolicy.instant(2)) as client:
            summary = await client.batches.run(
                [chat(i) for i in range(3)], output=tmp_path / "out.jsonl", poll_interval_ms=1
            )
            batches = [b async for b in client.batches.list()]
    assert summary.succeeded == 3 and len(batches) == 1
    assert len(fake.requests_to("POST", "/batches")) == 1


async def test_output_files_with_crlf_line_ends_give_one_compact_line_per_result(tmp_path: Path) -> None:
    """Batch output files with CRLF line ends and tab-indented bodies are written one compact JSON line each."""
    async with FakeOpenAI() as fake:

        def crlf(request: RecordedRequest) -> FakeResponse:
            answer = fake.default(request)
            assert isinstance(answer.body, bytes)
            answer.body = answer.body.replace(b'"body":', b'"body":\t').replace(b"\n", b"\r\n")
            return answer

        fake.add("GET", "/files/{file_id}/content", handler=crlf, times=1)
        async with fake.client(retry=RetryPolicy.instant()) as client:
            summary = await client.batches.run(
                [chat(i) for i in range(4)], output=tmp_path / "out.jsonl", poll_interval_ms=1
            )
    data = (tmp_path / "out.jsonl").read_bytes()
    assert summary.succeeded == 4 and b"\r" not in data and b"\t" not in data
    assert [line["custom_id"] for line in read_lines(tmp_path / "out.jsonl")] == [
        f"req-{i}" for i in range(4)
    ]


async def test_the_fakes_file_content_answers_an_open_ended_range() -> None:
    """The testing kit's file content answers `Range: bytes=N-` with 206, the rest of the file and Content-Range."""
    async with FakeOpenAI() as fake, fake.client() as client:
        uploaded = await client.files.create(file=("a.jsonl", b"0123456789"), purpose="batch")
        whole = await client.files.content(uploaded.id)
        rest = await client.files.content(uploaded.id, extra_headers={"Range": "bytes=4-"})
        assert (whole.status_code, whole.read(), whole.headers["Accept-Ranges"]) == (
            200,
            b"0123456789",
            "bytes",
        )
        assert (rest.status_code, rest.read()) == (206, b"456789")
        assert rest.headers["Content-Range"] == "bytes 4-9/10"
