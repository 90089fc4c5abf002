"""The bulk runner end to end against a local aiohttp server on 127.0.0.1: exactly-once results, resume, order."""

from __future__ import annotations

import io
import os
import random
import signal
import subprocess
import sys
import textwrap
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import anyio
import msgspec
import pytest
from aiohttp import web

from openai_async import AsyncOpenAI, RetryPolicy
from openai_async._workloads.bulk import BulkInputError, BulkResult, ResultsFileError, run_bulk, scan_results

from ._server import routes, serve

pytestmark = pytest.mark.anyio

RATE_HEADERS = {
    "x-ratelimit-limit-requests": "10000",
    "x-ratelimit-remaining-requests": "0",
    "x-ratelimit-reset-requests": "6ms",
    "x-ratelimit-limit-tokens": "1000000",
    "x-ratelimit-remaining-tokens": "999000",
    "x-ratelimit-reset-tokens": "60ms",
}


class Flaky:
    """A chat endpoint that answers 429 20 % of the time, 500 5 %, and resets the connection 1 %."""

    def __init__(self, seed: int = 7, *, delay: float = 0.0, fail: bool = True) -> None:
        self.rng = random.Random(seed)
        self.delay = delay
        self.fail = fail
        self.calls = 0

    async def handler(self, request: web.Request) -> web.StreamResponse:
        self.calls += 1
        body = await request.json()
        if self.delay:
            await anyio.sleep(self.rng.random() * self.delay)
        content = body["messages"][0]["content"]
        if content.startswith("bad"):
            return web.json_response(
                {
                    "error": {
                        "message": "Invalid model",
                        "type": "invalid_request_error",
                        "code": "model_not_found",
                    }
                },
                status=400,
                headers={"x-request-id": f"req_bad_{content}"},
            )
        if self.fail:
            r = self.rng.random()
            if r < 0.20:
                headers = {"retry-after": "1", **RATE_HEADERS}
                error = {"message": "Rate limit reached", "type": "requests", "code": "rate_limit_exceeded"}
                return web.json_response({"error": error}, status=429, headers=headers)
            if r < 0.25:
                return web.json_response({"error": {"message": "boom", "type": "server_error"}}, status=500)
            if r < 0.26:
                assert request.transport is not None
                request.transport.abort()
                return web.Response()
        return web.json_response(
            {"object": "chat.completion", "echo": content, "usage": {"total_tokens": 7}},
            headers={"x-request-id": f"req_{content}"},
        )

    def app(self) -> web.Application:
        return routes(("POST", "/v1/chat/completions", self.handler))


def chat_line(i: int, content: str | None = None) -> dict[str, Any]:
    return {
        "custom_id": f"r{i}",
        "method": "POST",
        "url": "/v1/chat/completions",
        "body": {"model": "m", "messages": [{"role": "user", "content": content or f"r{i}"}]},
    }


def client_for(url: str, retries: int = 10) -> AsyncOpenAI:
    return AsyncOpenAI(api_key="sk-test", base_url=url, retry=RetryPolicy.instant(retries))


def read_records(path: Path) -> list[dict[str, Any]]:
    return [msgspec.json.decode(line) for line in path.read_bytes().splitlines()]


async def test_10000_flaky_requests_give_exactly_10000_results(tmp_path: Path) -> None:
    """Against 20 % 429s, 5 % 500s and 1 % resets, 10,000 requests give 10,000 records, one per custom_id."""
    server = Flaky()
    out = tmp_path / "out.jsonl"
    with anyio.fail_after(50):
        async with serve(server.app()) as url, client_for(url) as client:
            lines = (chat_line(i) for i in range(10_000))
            summary = await run_bulk(client, lines, results_path=out, progress=False, total=10_000)
    records = read_records(out)
    assert len(records) == 10_000
    assert len({r["custom_id"] for r in records}) == 10_000
    assert summary.succeeded + summary.failed == 10_000
    assert server.calls > 12_000  # the failures really happened and were retried
    ok = [r for r in records if r["error"] is None]
    assert len(ok) == summary.succeeded and summary.tokens == 7 * summary.succeeded
    sample = ok[0]
    assert sample["response"]["status_code"] == 200
    assert sample["response"]["request_id"] == f"req_{sample['custom_id']}"
    assert sample["response"]["body"]["echo"] == sample["custom_id"]
    assert sample["id"].startswith("bulk_req_")


_CHILD = textwrap.dedent(
    """
    import sys, anyio
    from openai_async import AsyncOpenAI, RetryPolicy
    from openai_async._workloads.bulk import run_bulk

    url, path, n = sys.argv[1], sys.argv[2], int(sys.argv[3])

    def lines():
        for i in range(n):
            yield {"custom_id": f"r{i}", "method": "POST", "url": "/v1/chat/completions",
                   "body": {"model": "m", "messages": [{"role": "user", "content": f"r{i}"}]}}

    async def main():
        async with AsyncOpenAI(api_key="sk-test", base_url=url, retry=RetryPolicy.instant(10)) as client:
            await run_bulk(client, lines(), results_path=path, progress=False, concurrency=32)

    anyio.run(main, backend="asyncio")
    """
)


async def test_kill_9_at_a_random_moment_then_resume_gives_exactly_10000(tmp_path: Path) -> None:
    """A run killed with SIGKILL mid-way and resumed on the same file ends with exactly 10,000 unique records."""
    server = Flaky(seed=11)
    out = tmp_path / "out.jsonl"
    kill_after = random.Random().randint(500, 8_000)
    with anyio.fail_after(55):
        async with serve(server.app()) as url:
            env = {**os.environ, "OPENAI_API_KEY": "sk-test"}
            async with await anyio.open_process(
                [sys.executable, "-c", _CHILD, url, str(out), "10000"], env=env, stderr=subprocess.PIPE
            ) as child:
                while not out.exists() or out.stat().st_size < kill_after * 150:
                    assert child.returncode is None, "the child finished before it could be killed"
                    await anyio.sleep(0.005)
                child.send_signal(signal.SIGKILL)
                await child.wait()
            assert child.returncode == -signal.SIGKILL
            written = len(out.read_bytes().splitlines())
            assert 0 < written < 10_000
            async with client_for(url) as client:
                lines = (chat_line(i) for i in range(10_000))
                summary = await run_bulk(client, lines, results_path=out, progress=False)
    records = read_records(out)
    assert len(records) == 10_000
    assert len({r["custom_id"] for r in records}) == 10_000
    assert summary.skipped >= written - 1  # a torn last line is the only record that may be redone
    assert summary.skipped + summary.succeeded + summary.failed == 10_000


async def test_resume_cuts_a_torn_line_and_skips_done_ids(tmp_path: Path) -> None:
    """A torn last line is truncated and only the missing custom_ids are sent again."""
    server = Flaky(fail=False)
    out = tmp_path / "out.jsonl"
    async with serve(server.app()) as url, client_for(url) as client:
        await run_bulk(client, [chat_line(i) for i in range(5)], results_path=out, progress=False)
        with out.open("ab") as f:
            f.write(b'{"id":"x","custom_id":"r5","resp')  # the crash happened here
        calls = server.calls
        summary = await run_bulk(client, [chat_line(i) for i in range(8)], results_path=out, progress=False)
    assert server.calls - calls == 3
    assert (summary.skipped, summary.succeeded) == (5, 3)
    assert [r["custom_id"] for r in read_records(out)] == [f"r{i}" for i in range(8)]


def test_scan_dedupes_and_drops_failures_on_request(tmp_path: Path) -> None:
    """A file holding a custom_id twice is rewritten once; retry_failed removes the failure records."""
    out = tmp_path / "out.jsonl"
    ok = b'{"id":"1","custom_id":"a","response":{"status_code":200},"error":null}\n'
    bad = b'{"id":"2","custom_id":"b","response":null,"error":{"code":null,"message":"x","type":"E"}}\n'
    out.write_bytes(ok + bad + ok)
    assert scan_results(out) == {"a", "b"}
    assert out.read_bytes() == ok + bad
    assert scan_results(out, retry_failed=True) == {"a"}
    assert out.read_bytes() == ok
    out.write_bytes(ok + b"garbage\n" + ok)
    with pytest.raises(ResultsFileError, match="out.jsonl:2: not a bulk result record"):
        scan_results(out)


async def test_permanent_failures_are_error_records(tmp_path: Path) -> None:
    """A 400 becomes a record with the error class, status, message and request id; nothing is dropped."""
    server = Flaky(fail=False)
    out = tmp_path / "out.jsonl"
    lines = [chat_line(0), chat_line(1, "bad1"), chat_line(2)]
    async with serve(server.app()) as url, client_for(url) as client:
        summary = await run_bulk(client, lines, results_path=out, progress=False)
    assert (summary.succeeded, summary.failed, summary.errors) == (2, 1, {"400": 1})
    bad = next(r for r in read_records(out) if r["custom_id"] == "r1")
    assert bad["error"] == {
        "code": "model_not_found",
        "message": "Error code: 400 - Invalid model",
        "type": "BadRequestError",
    }
    assert bad["response"]["status_code"] == 400
    assert bad["response"]["request_id"] == "req_bad_bad1"
    assert bad["response"]["body"]["error"]["type"] == "invalid_request_error"


async def test_connection_failures_after_retries_are_error_records() -> None:
    """A server that is gone gives APIConnectionError records, not an exception out of the run."""
    async with (
        client_for("http://127.0.0.1:9/v1", retries=0) as client,
        run_bulk(client, [chat_line(0)], progress=False) as results,
    ):
        got = [r async for r in results]
    assert len(got) == 1 and not got[0].ok
    assert got[0].error is not None and got[0].error.type == "APIConnectionError" and got[0].response is None


async def test_ordered_results_follow_input_order() -> None:
    """ordered=True yields in input order although responses finish out of order."""
    server = Flaky(fail=False, delay=0.01)
    async with serve(server.app()) as url, client_for(url) as client:
        async with run_bulk(
            client,
            [chat_line(i) for i in range(300)],
            ordered=True,
            concurrency=16,
            window=32,
            progress=False,
        ) as results:
            ids = [r.custom_id async for r in results]
    assert ids == [f"r{i}" for i in range(300)]


async def test_unordered_results_come_as_completed() -> None:
    """Without ordered, every result arrives once, in completion order."""
    server = Flaky(fail=False, delay=0.01)
    async with serve(server.app()) as url, client_for(url) as client:
        ids = [
            r.custom_id async for r in run_bulk(client, [chat_line(i) for i in range(200)], progress=False)
        ]
    assert sorted(ids) == sorted(f"r{i}" for i in range(200))
    assert ids != [f"r{i}" for i in range(200)]


async def test_input_is_read_lazily() -> None:
    """A huge async input is pulled only as fast as the workers (plus the reorder window) need it."""
    server = Flaky(fail=False)
    pulled = 0
    seen_gap = 0

    async def source() -> AsyncIterator[dict[str, Any]]:
        nonlocal pulled
        for i in range(10**9):
            pulled += 1
            yield chat_line(i)

    async with serve(server.app()) as url, client_for(url) as client:
        async with run_bulk(
            client, source(), concurrency=8, ordered=True, window=16, progress=False
        ) as results:
            n = 0
            async for _ in results:
                n += 1
                seen_gap = max(seen_gap, pulled - n)
                if n == 500:
                    break
    assert seen_gap <= 16 + 2


async def test_callables_run_with_the_client() -> None:
    """Coroutine functions get the client; their return value is the body; custom_id is the position."""
    server = Flaky(fail=False)

    def make(i: int) -> Any:
        async def call(client: AsyncOpenAI) -> Any:
            if i == 2:
                raise ValueError("no luck")
            return await client.post("/chat/completions", body=chat_line(i)["body"])

        return call

    async with serve(server.app()) as url, client_for(url) as client:
        async with run_bulk(client, [make(i) for i in range(4)], ordered=True, progress=False) as results:
            got = [r async for r in results]
    assert [r.custom_id for r in got] == ["0", "1", "2", "3"]
    assert got[0].json()["echo"] == "r0"
    assert got[2].error is not None and (got[2].error.type, got[2].error.message) == ("ValueError", "no luck")


@pytest.mark.parametrize(
    ("items", "message"),
    [
        ([{"method": "POST", "url": "/v1/x", "body": {}}], "item 0: missing or empty custom_id"),
        ([chat_line(0), chat_line(0)], "item 1: duplicate custom_id 'r0'"),
        ([{"custom_id": "a", "url": "v1/x"}], "item 0 \\(a\\): url must be a path"),
        ([42], "item 0: expected a Batch request mapping"),
    ],
)
async def test_bad_input_raises_bulk_input_error(items: list[Any], message: str) -> None:
    """Malformed items stop the run with BulkInputError naming the item."""
    server = Flaky(fail=False)
    async with serve(server.app()) as url, client_for(url) as client:
        with pytest.raises(BulkInputError, match=message):
            await run_bulk(client, items, progress=False)


async def test_progress_line_on_a_stream() -> None:
    """The progress line shows done/total, rate, tokens and errors by kind."""
    server = Flaky(fail=False)
    stream = io.StringIO()
    async with serve(server.app()) as url, client_for(url) as client:
        lines = [chat_line(0), chat_line(1, "bad"), chat_line(2)]
        await run_bulk(client, lines, progress=stream)
    text = stream.getvalue()
    assert text.startswith("bulk: 3/3 (100.0%) | ") and "14 tok" in text and "errors 400:1" in text


async def test_bare_iteration_can_stop_early() -> None:
    """Iterating without `async with` works, and aclose() stops what is still in flight."""
    server = Flaky(fail=False, delay=0.01)

    def many() -> Iterator[dict[str, Any]]:
        i = 0
        while True:
            yield chat_line(i)
            i += 1

    async with serve(server.app()) as url, client_for(url) as client:
        run = run_bulk(client, many(), progress=False)
        got: list[BulkResult] = []
        async for result in run:
            got.append(result)
            if len(got) == 50:
                break
        with anyio.fail_after(5):
            await run.aclose()
    assert len(got) == 50 and all(r.ok for r in got)


async def test_retry_failed_runs_failures_again_and_replaces_their_records(tmp_path: Path) -> None:
    """retry_failed=True drops the failure records of an earlier run and sends those requests again."""
    server = Flaky(fail=False)
    out = tmp_path / "out.jsonl"
    async with serve(server.app()) as url, client_for(url) as client:
        first = await run_bulk(client, [chat_line(0), chat_line(1, "bad1")], results_path=out, progress=False)
        again = await run_bulk(client, [chat_line(0), chat_line(1)], results_path=out, progress=False)
        fixed = await run_bulk(
            client, [chat_line(0), chat_line(1)], results_path=out, retry_failed=True, progress=False
        )
    assert (first.failed, again.skipped, again.succeeded) == (1, 2, 0)
    assert (fixed.skipped, fixed.succeeded) == (1, 1)
    records = read_records(out)
    assert [(r["custom_id"], r["error"]) for r in records] == [("r0", None), ("r1", None)]


async def test_an_error_in_the_loop_body_stops_the_run_and_propagates() -> None:
    """An exception raised while consuming results cancels the requests in flight and reaches the caller."""
    server = Flaky(fail=False, delay=0.01)
    async with serve(server.app()) as url, client_for(url) as client:
        with anyio.fail_after(10), pytest.raises(KeyError):
            async with run_bulk(client, (chat_line(i) for i in range(10**6)), progress=False) as results:
                async for _ in results:
                    raise KeyError("stop")
    assert server.calls < 1000
