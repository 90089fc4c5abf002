"""The ``openai-async`` command: run a Batch-style JSONL file through the API, or stream one chat answer.

    openai-async bulk requests.jsonl -o results.jsonl --rpm 5000 --tpm 2000000 --concurrency 64
    openai-async batch requests.jsonl -o results.jsonl          # the same file through the Batch API
    openai-async chat "Write a haiku about retries" --model gpt-4o-mini

``OPENAI_API_KEY`` and ``OPENAI_BASE_URL`` come from the environment.

``bulk`` reads the input twice: a first streaming pass checks every line (valid JSON object, a non-empty string
``custom_id``, no duplicate ``custom_id``, a ``url`` path, an object ``body``) and reports the bad lines by number
before any request is sent; it also counts the lines for the ETA. For inputs too large to read twice, pass
``--no-validate``: lines are then checked as they are read, and a bad line stops the run there (the results
written so far stay in the output file, so fixing the line and re-running resumes). The output file is resumed
when it exists: done ``custom_id``s are skipped (a torn last line from a crash is cut; any other line that is
not a record stops the run, exit 2, naming the line, and ``--repair`` rebuilds the file from what can be
read). Every record is one line of JSON, whatever the server's formatting. Exit status (as for ``batch``): 0 when every request
succeeded, 1 when some failed (their error records are in the output) or on a runtime error, 2 on bad usage or
a bad input file.

``batch`` runs the Batch pipeline (``openai_async._workloads.batch.pipeline.run_batch``). Every argparse line of
the package is in this module.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Iterator, Sequence
from typing import Any

import anyio

from ._client import AsyncOpenAI
from ._core.errors import OpenAIError
from ._core.polling import PollTimeoutError
from ._workloads.batch.pipeline import MAX_BYTES, MAX_REQUESTS, BatchStateError, run_batch
from ._workloads.bulk import ResultsFileError, run_bulk
from ._workloads.ratelimit import RateLimiter
from ._workloads.requestline import RequestLineError, parse_line

__all__ = ["main"]

MAX_REPORTED_ERRORS = 20


InputFileError = RequestLineError
"""Bad lines in a bulk input file (the one request-line error); ``str()`` lists them as ``path:line: problem``."""


def read_input(path: str, *, check_duplicates: bool) -> Iterator[dict[str, Any]]:
    """Yield the requests of a JSONL file lazily; raise ``RequestLineError`` at the first bad line."""
    seen: set[str] = set()
    with open(path, "rb") as f:
        for lineno, data in enumerate(f, 1):
            if not data.strip():
                continue
            line = parse_line(data, f"{path}:{lineno}")
            if check_duplicates:
                if line.custom_id in seen:
                    raise RequestLineError(f"{path}:{lineno}: duplicate custom_id {line.custom_id!r}")
                seen.add(line.custom_id)
            yield {"custom_id": line.custom_id, "method": line.method, "url": line.url, "body": line.body}


def validate_input(path: str) -> int:
    """Check every line of a JSONL input file; return the number of requests or raise ``RequestLineError``."""
    first_line: dict[str, int] = {}
    problems: list[str] = []
    more = 0
    count = 0
    with open(path, "rb") as f:
        for lineno, data in enumerate(f, 1):
            if not data.strip():
                continue
            try:
                line = parse_line(data, f"{path}:{lineno}")
            except RequestLineError as exc:
                problem = exc.problems[0]
            else:
                count += 1
                first = first_line.setdefault(line.custom_id, lineno)
                if first == lineno:
                    continue
                problem = f"{path}:{lineno}: duplicate custom_id {line.custom_id!r} (first on line {first})"
            if len(problems) < MAX_REPORTED_ERRORS:
                problems.append(problem)
            else:
                more += 1
    if problems:
        raise RequestLineError(problems, more)
    return count


# --------------------------------------------------------------------------------------------------- commands
async def _bulk(args: argparse.Namespace) -> int:
    total = None if args.no_validate else validate_input(args.input)
    limiter = RateLimiter(rpm=args.rpm, tpm=args.tpm) if args.rpm or args.tpm else None
    requests = read_input(args.input, check_duplicates=args.no_validate)
    async with AsyncOpenAI(max_retries=args.max_retries, rate_limiter=limiter) as client:
        summary = await run_bulk(
            client,
            requests,
            concurrency=args.concurrency,
            ordered=args.ordered,
            results_path=args.output,
            retry_failed=args.retry_failed,
            repair=args.repair,
            progress=not args.no_progress,
            total=total,
        )
    errors = ", ".join(f"{kind}: {n}" for kind, n in sorted(summary.errors.items()))
    sys.stderr.write(
        f"{summary.succeeded} succeeded, {summary.failed} failed{f' ({errors})' if errors else ''}, "
        f"{summary.skipped} already done; {summary.tokens} tokens in {summary.elapsed:.1f}s -> {args.output}\n"
    )
    return 0 if summary.failed == 0 else 1


async def _chat(args: argparse.Namespace) -> int:
    prompt = args.prompt if args.prompt not in (None, "-") else sys.stdin.read()
    messages = [{"role": "system", "content": args.system}] if args.system else []
    messages.append({"role": "user", "content": prompt})
    out = sys.stdout
    async with AsyncOpenAI() as client:
        stream = await client.chat.completions.create(model=args.model, messages=messages, stream=True)
        async with stream:
            async for chunk in stream:
                for choice in getattr(chunk, "choices", None) or ():
                    text = getattr(getattr(choice, "delta", None), "content", None)
                    if text:
                        out.write(text)
                        out.flush()
    out.write("\n")
    out.flush()
    return 0


def add_batch_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the ``openai-async batch`` options to ``parser``."""
    parser.add_argument("input", help="JSONL file of Batch requests (custom_id, method, url, body)")
    parser.add_argument(
        "-o",
        "--output",
        required=True,
        help="JSONL file for the results, in input order (resumed via OUTPUT.state.json)",
    )
    parser.add_argument("--completion-window", default="24h", help="batch completion window (default 24h)")
    parser.add_argument(
        "--metadata", action="append", default=[], metavar="KEY=VALUE", help="batch metadata (repeatable)"
    )
    parser.add_argument("--max-requests", type=int, default=MAX_REQUESTS, help="requests per batch at most")
    parser.add_argument("--max-bytes", type=int, default=MAX_BYTES, help="bytes per batch input file at most")
    parser.add_argument(
        "--poll-interval",
        type=float,
        default=None,
        help="seconds between polls (default: the server's hint, else a backoff)",
    )
    parser.add_argument(
        "--max-wait",
        type=float,
        default=None,
        help="give up after this many seconds (exit 3; run again to resume)",
    )
    parser.add_argument("--max-retries", type=int, default=5, help="retries per API call (default 5)")
    parser.add_argument("--no-progress", action="store_true", help="no progress lines on stderr")


async def batch_command(args: argparse.Namespace, client: AsyncOpenAI | None = None) -> int:
    """Run ``openai-async batch``; returns the exit status.

    0: every request succeeded; 1: some requests or batches failed (see the output), or an API call failed for
    good (the results fetched so far stay in the output); 2: bad input or state; 3: ``--max-wait`` ran out (run
    the same command again to resume).
    """
    metadata: dict[str, str] = {}
    for pair in args.metadata or ():
        key, sep, value = pair.partition("=")
        if not sep:
            sys.stderr.write(f"openai-async batch: --metadata wants KEY=VALUE, got {pair!r}\n")
            return 2
        metadata[key] = value
    own = client is None
    if client is None:
        client = AsyncOpenAI(max_retries=args.max_retries)
    try:
        run = run_batch(
            client,
            args.input,
            output=args.output,
            completion_window=args.completion_window,
            metadata=metadata or None,
            max_requests=args.max_requests,
            max_bytes=args.max_bytes,
            poll_interval_ms=args.poll_interval * 1000 if args.poll_interval is not None else None,
            max_wait_seconds=args.max_wait,
            progress=not args.no_progress,
        )
        summary = await run
    except (RequestLineError, BatchStateError) as exc:
        sys.stderr.write(f"openai-async batch: {exc}\n")
        return 2
    except PollTimeoutError as exc:
        sys.stderr.write(f"openai-async batch: {exc}\n")
        return 3
    except OpenAIError as exc:
        sys.stderr.write(
            f"openai-async batch: {type(exc).__name__}: {exc}\nopenai-async batch: the results of "
            f"the batches finished before this are in {args.output}; run the same command again to "
            "resume (batches already created are not created again)\n"
        )
        return 1
    finally:
        if own:
            await client.close()
    for batch_id, status in summary.batch_statuses.items():
        if status != "completed":
            why = summary.batch_errors.get(batch_id)
            sys.stderr.write(
                f"openai-async batch: {why or f'batch {batch_id} {status}'}; its unfinished requests "
                f"are error records (batch_{status}) in {args.output}\n"
            )
    errors = ", ".join(f"{k}: {v}" for k, v in sorted(summary.errors.items()))
    sys.stderr.write(
        f"openai-async batch: {summary.succeeded} succeeded, {summary.failed} failed"
        f"{f' ({errors})' if errors else ''} in {len(summary.batch_ids)} batch(es); "
        f"results in {args.output}\n"
    )
    return 0 if summary.failed == 0 else 1


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="openai-async", description="Command-line tools of openai_async.")
    commands = parser.add_subparsers(dest="command", required=True)

    bulk = commands.add_parser("bulk", help="run a Batch-style JSONL file through the API, resumably")
    bulk.add_argument("input", help="JSONL input: one {custom_id, method, url, body} per line")
    bulk.add_argument("-o", "--output", required=True, help="JSONL results file (resumed when it exists)")
    bulk.add_argument("--rpm", type=float, help="requests per minute to stay under")
    bulk.add_argument("--tpm", type=float, help="tokens per minute to stay under")
    bulk.add_argument("--concurrency", type=int, default=64, help="requests in flight (default 64)")
    bulk.add_argument("--ordered", action="store_true", help="write results in input order")
    bulk.add_argument("--max-retries", type=int, default=5, help="retries per request (default 5)")
    bulk.add_argument("--retry-failed", action="store_true", help="run again the requests recorded as failed")
    bulk.add_argument(
        "--repair",
        action="store_true",
        help="rebuild a damaged output file from the records that can be read; run the rest again",
    )
    bulk.add_argument(
        "--no-validate", action="store_true", help="check lines as they are read, not all first"
    )
    bulk.add_argument("--no-progress", action="store_true", help="no progress line on stderr")
    bulk.set_defaults(run=_bulk)

    batch = commands.add_parser(
        "batch", help="run a Batch-style JSONL file through the Batch API (resumable)"
    )
    add_batch_arguments(batch)
    batch.set_defaults(run=batch_command)

    chat = commands.add_parser("chat", help="stream one chat completion to the terminal")
    chat.add_argument("prompt", nargs="?", help="the user message ('-' or nothing: read stdin)")
    chat.add_argument("--model", default=os.environ.get("OPENAI_MODEL", "gpt-4o-mini"), help="model name")
    chat.add_argument("--system", help="a system message")
    chat.set_defaults(run=_chat)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``openai-async`` console script; returns the exit status."""
    parser = _parser()
    args = parser.parse_args(argv)
    if getattr(args, "concurrency", 1) < 1:
        parser.error("--concurrency must be at least 1")
    try:
        return int(anyio.run(args.run, args, backend="asyncio"))
    except RequestLineError as exc:
        sys.stderr.write(f"openai-async: bad input:\n{exc}\n")
        return 2
    except ResultsFileError as exc:
        sys.stderr.write(f"openai-async: {exc}\n")
        return 2
    except FileNotFoundError as exc:
        sys.stderr.write(f"openai-async: {exc.strerror}: {exc.filename}\n")
        return 2
    except OpenAIError as exc:
        sys.stderr.write(f"openai-async: {type(exc).__name__}: {exc}\n")
        return 1
    except KeyboardInterrupt:
        sys.stderr.write("openai-async: interrupted (results written so far are kept; run again to resume)\n")
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
