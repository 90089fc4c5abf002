"""The openai-async command: input checks by line number, bulk runs and chat streaming against 127.0.0.1."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import anyio
import msgspec
import pytest
from aiohttp import web

from openai_async._cli import main

from ._server import routes, serve


def write_jsonl(path: Path, lines: list[Any]) -> Path:
    path.write_bytes(b"".join((x if isinstance(x, bytes) else msgspec.json.encode(x)) + b"\n" for x in lines))
    return path


def chat_line(i: int) -> dict[str, Any]:
    return {
        "custom_id": f"r{i}",
        "method": "POST",
        "url": "/v1/chat/completions",
        "body": {"model": "m", "messages": [{"role": "user", "content": f"r{i}"}]},
    }


@pytest.fixture
def nowhere(monkeypatch: pytest.MonkeyPatch) -> None:
    """A key and a base URL where nothing listens: any request sent would fail loudly."""
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")


@pytest.mark.usefixtures("nowhere")
def test_bad_lines_are_reported_by_number_before_any_request(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Invalid JSON, a missing custom_id, a bad url and a duplicate id are listed by line; nothing is sent."""
    src = write_jsonl(
        tmp_path / "in.jsonl",
        [
            chat_line(0),
            b'{"custom_id": "r1", "url": "/v1/chat/completions", "body": {',
            {"url": "/v1/chat/completions", "body": {}},
            b"",
            {"custom_id": "r3", "url": "chat/completions"},
            chat_line(0),
            {"custom_id": "r5", "url": "/v1/x", "body": [1]},
        ],
    )
    out = tmp_path / "out.jsonl"
    assert main(["bulk", str(src), "-o", str(out), "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert f"{src}:2: invalid JSON" in err
    assert f"{src}:3: Object missing required field `custom_id`" in err
    assert f"{src}:5: url must be a path" in err
    assert f"{src}:6: duplicate custom_id 'r0' (first on line 1)" in err
    assert f"{src}:7: body must be a JSON object" in err
    assert not out.exists()


@pytest.mark.usefixtures("nowhere")
def test_missing_input_file_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A missing input file exits 2 with the file name."""
    assert main(["bulk", str(tmp_path / "nope.jsonl"), "-o", str(tmp_path / "o.jsonl")]) == 2
    assert "nope.jsonl" in capsys.readouterr().err


def test_missing_api_key_is_reported(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Without OPENAI_API_KEY the command says so and exits 1."""
    src = write_jsonl(tmp_path / "in.jsonl", [chat_line(0)])
    assert main(["bulk", str(src), "-o", str(tmp_path / "o.jsonl"), "--no-progress"]) == 1
    assert "OPENAI_API_KEY" in capsys.readouterr().err


class Server:
    def __init__(self) -> None:
        self.calls = 0

    async def chat(self, request: web.Request) -> web.StreamResponse:
        self.calls += 1
        body = await request.json()
        if body.get("stream"):
            resp = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
            await resp.prepare(request)
            for piece in ("Hello", ", ", "world"):
                chunk = {
                    "id": "c",
                    "object": "chat.completion.chunk",
                    "created": 0,
                    "model": body["model"],
                    "choices": [{"index": 0, "delta": {"content": piece}, "finish_reason": None}],
                }
                await resp.write(b"data: " + msgspec.json.encode(chunk) + b"\n\n")
            await resp.write(b"data: [DONE]\n\n")
            return resp
        return web.json_response({"echo": body["messages"][0]["content"], "usage": {"total_tokens": 3}})

    def app(self) -> web.Application:
        return routes(("POST", "/v1/chat/completions", self.chat))


async def run_cli(url: str, *args: str, stdin: bytes | None = None) -> Any:
    env = {"OPENAI_API_KEY": "sk-test", "OPENAI_BASE_URL": url, "PATH": "/usr/bin:/bin"}
    return await anyio.run_process(
        [sys.executable, "-m", "openai_async._cli", *args], env=env, input=stdin, check=False
    )


@pytest.mark.anyio
async def test_bulk_runs_and_resumes(tmp_path: Path) -> None:
    """bulk writes one record per line in order; a second run skips everything already done."""
    server = Server()
    src = write_jsonl(tmp_path / "in.jsonl", [chat_line(i) for i in range(50)])
    out = tmp_path / "out.jsonl"
    with anyio.fail_after(30):
        async with serve(server.app()) as url:
            first = await run_cli(
                url, "bulk", str(src), "-o", str(out), "--ordered", "--concurrency", "8", "--rpm", "100000"
            )
            second = await run_cli(url, "bulk", str(src), "-o", str(out))
    assert first.returncode == 0, first.stderr
    assert b"50 succeeded, 0 failed, 0 already done; 150 tokens" in first.stderr
    assert second.returncode == 0 and b"0 succeeded, 0 failed, 50 already done" in second.stderr
    records = [msgspec.json.decode(line) for line in out.read_bytes().splitlines()]
    assert [r["custom_id"] for r in records] == [f"r{i}" for i in range(50)]
    assert records[7]["response"]["body"] == {"echo": "r7", "usage": {"total_tokens": 3}}
    assert server.calls == 50


@pytest.mark.anyio
async def test_no_validate_stops_at_the_bad_line_and_keeps_results(tmp_path: Path) -> None:
    """With --no-validate a bad line stops the run when it is read; the results before it are kept."""
    server = Server()
    src = write_jsonl(tmp_path / "in.jsonl", [chat_line(0), chat_line(1), b"{oops", chat_line(3)])
    out = tmp_path / "out.jsonl"
    with anyio.fail_after(30):
        async with serve(server.app()) as url:
            done = await run_cli(url, "bulk", str(src), "-o", str(out), "--no-validate", "--concurrency", "1")
    assert done.returncode == 2
    assert f"{src}:3: invalid JSON".encode() in done.stderr
    ids = {msgspec.json.decode(line)["custom_id"] for line in out.read_bytes().splitlines()}
    assert ids <= {"r0", "r1"} and "r3" not in ids


@pytest.mark.anyio
async def test_failed_requests_give_exit_status_1(tmp_path: Path) -> None:
    """A run that completes with failure records exits 1 and says how many failed, by kind."""

    async def fail(request: web.Request) -> web.Response:
        return web.json_response({"error": {"message": "nope", "code": "invalid_model"}}, status=400)

    src = write_jsonl(tmp_path / "in.jsonl", [chat_line(0), chat_line(1)])
    out = tmp_path / "out.jsonl"
    with anyio.fail_after(30):
        async with serve(routes(("POST", "/v1/chat/completions", fail))) as url:
            done = await run_cli(url, "bulk", str(src), "-o", str(out), "--no-progress")
    assert done.returncode == 1
    assert b"0 succeeded, 2 failed (400: 2)" in done.stderr
    assert len(out.read_bytes().splitlines()) == 2


def test_batch_subcommand_is_listed(capsys: pytest.CaptureFixture[str]) -> None:
    """`openai-async batch --help` reaches the Batch pipeline's options."""
    with pytest.raises(SystemExit) as info:
        main(["batch", "--help"])
    assert info.value.code == 0
    assert "--completion-window" in capsys.readouterr().out


@pytest.mark.anyio
async def test_chat_streams_the_answer(tmp_path: Path) -> None:
    """chat prints the streamed deltas as they come, then a newline."""
    server = Server()
    with anyio.fail_after(30):
        async with serve(server.app()) as url:
            done = await run_cli(url, "chat", "Say hello", "--model", "m")
            piped = await run_cli(url, "chat", "--model", "m", stdin=b"from stdin")
    assert done.returncode == 0, done.stderr
    assert done.stdout == b"Hello, world\n"
    assert piped.stdout == b"Hello, world\n"
