"""The Batch API pipeline: 20 chat requests in, answers back in input order (half price, done within 24 h).

`client.batches.run` writes the requests as JSONL, uploads them, creates the batch, polls it and writes the
results to `output` in input order. Against the real API, keep `output` somewhere permanent: running the same
call again after an interruption resumes the same batch instead of paying twice.
"""

from __future__ import annotations

import asyncio
import os
import tempfile

import anyio
import msgspec
from _offline import open_client


def requests() -> list[dict[str, object]]:
    """20 requests in the Batch input shape: custom_id, method, url, body."""
    return [
        {
            "custom_id": f"square-{n}",
            "method": "POST",
            "url": "/v1/chat/completions",
            "body": {
                "model": "gpt-4o-mini",
                "messages": [{"role": "user", "content": f"What is {n} squared?"}],
            },
        }
        for n in range(1, 21)
    ]


async def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        output = os.path.join(tmp, "answers.jsonl")
        async with open_client() as client:
            summary = await client.batches.run(requests(), output=output, progress=True)
        lines = (await anyio.Path(output).read_bytes()).splitlines()
        for line in lines[:3] + lines[-1:]:  # the results come back in input order
            result = msgspec.json.decode(line)
            answer = result["response"]["body"]["choices"][0]["message"]["content"]
            print(f"{result['custom_id']:>10}: {answer}")
        print(f"{summary.succeeded} succeeded, {summary.failed} failed in {summary.elapsed:.2f} s")
        print(f"batches: {summary.batch_statuses}")


if __name__ == "__main__":
    asyncio.run(main())
