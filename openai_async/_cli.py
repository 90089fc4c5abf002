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

``batch`` is the Batch pipeline's command (``_batch.batch_command``), listed here so both share one entry point.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Iterator, Sequence
from typing import Any

import anyio

from ._core.errors import OpenAIError
from ._workloads.bulk import ResultsFileError, run_bulk
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
    from ._client import AsyncOpenAI
    from ._workloads.ratelimit import RateLimiter

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
    from ._client import AsyncOpenAI

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

    from ._workloads.batch.pipeline import add_batch_arguments, batch_command

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
