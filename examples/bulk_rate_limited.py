"""Run 200 chat requests concurrently within a requests/min and tokens/min budget, resumably, to a JSONL file.

Kill it half way and run it again: the results file is resumed, nothing is lost or sent twice.
"""

from __future__ import annotations

import asyncio
import os
import tempfile

from _offline import open_client

from openai_async import RateLimiter, run_bulk


def requests(n: int) -> list[dict[str, object]]:
    return [
        {
            "custom_id": f"q-{i}",
            "method": "POST",
            "url": "/v1/chat/completions",
            "body": {
                "model": "gpt-4o-mini",
                "max_tokens": 20,
                "messages": [{"role": "user", "content": f"Give one fun fact about the number {i}."}],
            },
        }
        for i in range(n)
    ]


async def main() -> None:
    out = os.path.join(tempfile.gettempdir(), "openai_async_bulk_results.jsonl")
    async with open_client() as client:
        limited = client.with_options(rate_limiter=RateLimiter(rpm=6000, tpm=400_000))
        summary = await run_bulk(
            limited, requests(200), concurrency=32, ordered=True, results_path=out, progress=False
        )
    print(
        f"{summary.succeeded} succeeded, {summary.failed} failed, {summary.skipped} already done, "
        f"{summary.tokens} tokens in {summary.elapsed:.2f}s -> {out}"
    )
    os.remove(out)  # a real job would keep it: rerunning with the same file resumes


if __name__ == "__main__":
    asyncio.run(main())
