"""Bulk results files stay JSONL whatever the server's formatting; resume streams them and repairs damage."""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import anyio
import msgspec
import pytest
from aiohttp import web

from openai_async import AsyncOpenAI, RetryPolicy
from openai_async._workloads.bulk import ResultsFileError, run_bulk

from ._server import routes, serve

pytestmark = pytest.mark.anyio


def chat_line(i: int, content: str | None = None) -> dict[str, Any]:
    text = content or f"q{i}"
    return {
        "custom_id": f"r{i}",
        "method": "POST",
        "url": "/v1/chat/completions",
        "body": {"model": "m", "messages": [{"role": "user", "content": text}]},
    }


def completion(content: str) -> dict[str, Any]:
    return {
        "id": f"chatcmpl-{content}",
        "object": "chat.completion",
        "created": 0,
        "model": "m",
        "choices": [
            {
                "index": 0,
                "finish_reason": "stop",
                "message": {"role": "assistant", "content": f"echo:\n{content}"},
            }
        ],
        "usage": {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5},
    }


class Pretty:
    """Answers chat completions as indented multi-line JSON (as the real API formats it), LF or CRLF line ends;
    a user message starting with "bad" gets an indented 400 error body."""

    def __init__(self, *, crlf: bool = False, delay: float = 0.0) -> None:
        self.crlf = crlf
        self.delay = delay
        self.calls = 0

    def _body(self, obj: Any) -> bytes:
        text = msgspec.json.format(msgspec.json.encode(obj), indent=2)
        return text.replace(b"\n", b"\r\n") if self.crlf else text + b"\n"

    async def chat(self, request: web.Request) -> web.Response:
        self.calls += 1
        content = (await request.json())["messages"][0]["content"]
        if self.delay:
            await anyio.sleep(self.delay)
        if content.startswith("bad"):
            error = {"error": {"message": "Invalid model", "type": "invalid_request_error", "code": "bad"}}
            return web.Response(body=self._body(error), status=400, content_type="application/json")
        return web.Response(
            body=self._body(completion(content)),
            content_type="application/json",
            headers={"x-request-id": f"req_{content}"},
        )

    def app(self) -> web.Application:
        return routes(("POST", "/v1/chat/completions", self.chat))


def records(path: Path) -> list[dict[str, Any]]:
    """Read a results file line by line, as any JSONL reader would: every line must be one JSON record."""
    out = []
    with open(path, "rb") as f:
        for line in f:
            assert line.endswith(b"\n") and b"\r" not in line and line.count(b"\n") == 1
            out.append(msgspec.json.decode(line))
    return out


def client_for(url: str) -> AsyncOpenAI:
    return AsyncOpenAI(api_key="sk-test", base_url=url, retry=RetryPolicy.instant(3))


@pytest.mark.parametrize("crlf", [False, True], ids=["indented-lf", "indented-crlf"])
async def test_results_are_one_compact_line_per_record_whatever_the_body_formatting(
    tmp_path: Path, crlf: bool
) -> None:
    """Indented multi-line bodies (LF or CRLF) are written as one compact JSON line per record, errors too."""
    server = Pretty(crlf=crlf)
    out = tmp_path / "out.jsonl"
    items = [chat_line(i, "bad" if i == 3 else None) for i in range(20)]
    with anyio.fail_after(30):
        async with serve(server.app()) as url, client_for(url) as client:
            summary = await run_bulk(client, items, results_path=out, progress=False, concurrency=4)
            async with run_bulk(client, items[:2], progress=False) as run:
                yielded = [r async for r in run]
    got = {r["custom_id"]: r for r in records(out)}
    assert len(got) == 20 and (summary.succeeded, summary.failed) == (19, 1)
    assert got["r0"]["response"]["body"] == completion("q0")
    assert got["r3"]["error"]["type"] == "BadRequestError" and got["r3"]["response"]["status_code"] == 400
    assert b"\n" not in bytes(yielded[0].response.body)  # type: ignore[union-attr, arg-type]
    assert (
        yielded[0].json()["choices"][0]["message"]["content"]
        == f"echo:\n{yielded[0].custom_id.replace('r', 'q')}"
    )
    line = out.read_bytes().splitlines()[0]
    assert msgspec.json.format(line, indent=-1) == line  # compact: no whitespace between tokens


async def test_cli_output_is_jsonl_and_a_rerun_after_completion_sends_nothing(tmp_path: Path) -> None:
    """openai-async bulk against indented bodies writes valid JSONL; running it again sends nothing, exits 0."""
    server = Pretty()
    src = tmp_path / "in.jsonl"
    src.write_bytes(b"".join(msgspec.json.encode(chat_line(i)) + b"\n" for i in range(30)))
    out = tmp_path / "out.jsonl"
    with anyio.fail_after(30):
        async with serve(server.app()) as url:
            first = await _cli(url, "bulk", str(src), "-o", str(out), "--no-progress")
            calls = server.calls
            second = await _cli(url, "bulk", str(src), "-o", str(out), "--no-progress")
    assert first.returncode == 0, first.stderr
    assert second.returncode == 0, second.stderr
    assert b"0 succeeded, 0 failed, 30 already done" in second.stderr
    assert server.calls == calls == 30
    assert sorted(r["custom_id"] for r in records(out)) == sorted(f"r{i}" for i in range(30))


async def test_cli_killed_with_sigkill_then_rerun_completes_each_request_exactly_once(tmp_path: Path) -> None:
    """`openai-async bulk` killed with SIGKILL mid-run, then run again, holds every custom_id exactly once."""
    n = 400
    server = Pretty(delay=0.002)
    src = tmp_path / "in.jsonl"
    src.write_bytes(b"".join(msgspec.json.encode(chat_line(i)) + b"\n" for i in range(n)))
    out = tmp_path / "out.jsonl"
    with anyio.fail_after(60):
        async with serve(server.app()) as url:
            env = {**os.environ, "OPENAI_API_KEY": "sk-test", "OPENAI_BASE_URL": url}
            argv = [
                sys.executable,
                "-m",
                "openai_async._cli",
                "bulk",
                str(src),
                "-o",
                str(out),
                "--no-progress",
                "--concurrency",
                "8",
            ]
            async with await anyio.open_process(argv, env=env, stderr=subprocess.DEVNULL) as child:
                while not out.exists() or out.read_bytes().count(b"\n") < n // 4:
                    assert child.returncode is None, "the child finished before it could be killed"
                    await anyio.sleep(0.005)
                child.send_signal(signal.SIGKILL)
                await child.wait()
            assert child.returncode == -signal.SIGKILL
            written = out.read_bytes().count(b"\n")
            assert n // 4 <= written < n
            rerun = await _cli(url, "bulk", str(src), "-o", str(out), "--no-progress")
    assert rerun.returncode == 0, rerun.stderr
    ids = [r["custom_id"] for r in records(out)]
    assert len(ids) == n and set(ids) == {f"r{i}" for i in range(n)}
    assert server.calls <= n + 8 + 1  # only what was in flight (and a torn line) is sent twice


def _record(i: int) -> bytes:
    return (
        msgspec.json.encode(
            {"id": f"b{i}", "custom_id": f"r{i}", "response": {"status_code": 200, "body": {}}, "error": None}
        )
        + b"\n"
    )


async def test_a_damaged_middle_line_is_named_and_repair_keeps_what_can_be_read(tmp_path: Path) -> None:
    """A bad line mid-file stops the run naming it (exit 2 in the CLI); --repair keeps every readable record."""
    server = Pretty()
    out = tmp_path / "out.jsonl"
    out.write_bytes(_record(0) + _record(1) + b'{"id": "b2", "custom_id": "r2", "resp\n' + _record(3))
    src = tmp_path / "in.jsonl"
    src.write_bytes(b"".join(msgspec.json.encode(chat_line(i)) + b"\n" for i in range(5)))
    with anyio.fail_after(30):
        async with serve(server.app()) as url:
            refused = await _cli(url, "bulk", str(src), "-o", str(out), "--no-progress")
            assert server.calls == 0
            repaired = await _cli(url, "bulk", str(src), "-o", str(out), "--repair")
    assert refused.returncode == 2
    assert f"{out}:3: not a bulk result record".encode() in refused.stderr and b"--repair" in refused.stderr
    assert repaired.returncode == 0, repaired.stderr
    assert b"3 records kept, 0 rebuilt from lines split by a multi-line body, 1 lines dropped (lines 3)" in (
        repaired.stderr
    )
    assert server.calls == 2  # r2 (its line was lost) and r4 (never run)
    assert sorted(r["custom_id"] for r in records(out)) == [f"r{i}" for i in range(5)]


async def test_repair_joins_records_an_old_runner_split_over_lines(tmp_path: Path) -> None:
    """A file whose records embed multi-line bodies (older versions) is rebuilt, one record per line, none lost."""
    out = tmp_path / "out.jsonl"
    pieces = []
    for i in range(3):
        body = msgspec.json.format(msgspec.json.encode(completion(f"q{i}")), indent=2)
        pieces.append(
            b'{"id":"b%d","custom_id":"r%d","response":{"status_code":200,"request_id":null,"body":%s},'
            b'"error":null}\n' % (i, i, body)
        )
    out.write_bytes(b"".join(pieces))
    server = Pretty()
    stream = io.StringIO()
    with anyio.fail_after(30):
        async with serve(server.app()) as url, client_for(url) as client:
            with pytest.raises(ResultsFileError, match="out.jsonl:1: not a bulk result record"):
                await run_bulk(client, [chat_line(i) for i in range(4)], results_path=out, progress=False)
            summary = await run_bulk(
                client, [chat_line(i) for i in range(4)], results_path=out, repair=True, progress=stream
            )
    assert "3 records kept" not in stream.getvalue() and "3 rebuilt from lines split" in stream.getvalue()
    assert (summary.skipped, summary.succeeded, server.calls) == (3, 1, 1)
    got = records(out)
    assert [r["custom_id"] for r in got] == ["r0", "r1", "r2", "r3"]
    assert got[1]["response"]["body"] == completion("q1")


async def _cli(url: str, *args: str) -> Any:
    env = {"OPENAI_API_KEY": "sk-test", "OPENAI_BASE_URL": url, "PATH": "/usr/bin:/bin"}
    return await anyio.run_process([sys.executable, "-m", "openai_async._cli", *args], env=env, check=False)
