"""Resuming a bulk run over a big results file: time and peak RSS of reading it back (no requests sent).

    .venv/bin/python benchmarks/resume.py                      # 1,000,000 records (~0.8 GB in a temp dir)
    .venv/bin/python benchmarks/resume.py --records 100000 --reps 3

Writes a results file of N records as the runner writes them (one compact line each, a 2xx chat completion
body of ~600 bytes, every 50th record a failure), then measures, each in a fresh interpreter:

- ``scan``: ``scan_results(path)``, the resume index alone (the set of done ``custom_id``s);
- ``rerun``: ``await run_bulk(client, requests, results_path=path)`` with the same N requests, all already
  done, so nothing is sent: what ``openai-async bulk in.jsonl -o out.jsonl`` costs after a finished run
  (the requests are generated in-process, so the input file's own reading is not in this figure).

Figures: wall seconds, CPU seconds (user + sys), peak RSS (``ru_maxrss``, MiB) and how far it rose over the
interpreter's start (imports included). The file is removed at the end.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import msgspec

_BODY = msgspec.json.encode({
    "id": "chatcmpl-B9MHDbslfkBeAs8l4bebGdFOJ6PeG", "object": "chat.completion", "created": 1741570283,
    "model": "gpt-4o-mini-2024-07-18",
    "choices": [{"index": 0, "message": {"role": "assistant", "content": "The answer to the question, in a few "
                 "short sentences of plain text as a model would give it.", "refusal": None, "annotations": []},
                 "logprobs": None, "finish_reason": "stop"}],
    "usage": {"prompt_tokens": 19, "completion_tokens": 10, "total_tokens": 29,
              "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
              "completion_tokens_details": {"reasoning_tokens": 0, "audio_tokens": 0,
                                            "accepted_prediction_tokens": 0, "rejected_prediction_tokens": 0}},
    "service_tier": "default", "system_fingerprint": "fp_06737a9306"})

_CHILD = r"""
import resource, sys, time
start_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
mode, path, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
import anyio
from openai_async import AsyncOpenAI
from openai_async._workloads.bulk import run_bulk, scan_results
t0, c0 = time.perf_counter(), time.process_time()
if mode == "scan":
    done = scan_results(path)
    assert len(done) == n, len(done)
else:
    def requests():
        for i in range(n):
            yield {"custom_id": f"req-{i:07d}", "method": "POST", "url": "/v1/chat/completions",
                   "body": {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "q"}]}}
    async def main():
        async with AsyncOpenAI(api_key="sk-none", base_url="http://127.0.0.1:9/v1") as client:
            return await run_bulk(client, requests(), results_path=path, progress=False, total=n)
    summary = anyio.run(main, backend="asyncio")
    assert summary.skipped == n and summary.succeeded == summary.failed == 0, summary
wall, cpu = time.perf_counter() - t0, time.process_time() - c0
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(f"{wall} {cpu} {peak / 1024} {(peak - start_rss) / 1024}")
"""


def write_file(path: Path, n: int) -> int:
    ok = b',"response":{"status_code":200,"request_id":"req_5f1a0c2b","body":' + _BODY + b'},"error":null}\n'
    failed = (b',"response":{"status_code":400,"request_id":"req_5f1a0c2b","body":{"error":{"message":"Invalid '
              b'model","type":"invalid_request_error","code":"model_not_found"}}},"error":{"code":"model_not_found",'
              b'"message":"Invalid model","type":"BadRequestError"}}\n')
    with open(path, "wb") as f:
        block = []
        for i in range(n):
            head = b'{"id":"bulk_req_0a1b2c3d4e5f_%d","custom_id":"req-%07d"' % (i, i)
            block.append(head + (failed if i % 50 == 49 else ok))
            if len(block) == 10_000:
                f.write(b"".join(block))
                block.clear()
        f.write(b"".join(block))
    return path.stat().st_size


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--reps", type=int, default=3)
    args = parser.parse_args()
    root = Path(__file__).resolve().parent.parent
    with tempfile.TemporaryDirectory(prefix="bench-resume-") as tmp:
        path = Path(tmp) / "out.jsonl"
        started = time.perf_counter()
        size = write_file(path, args.records)
        print(f"{args.records:,} records, {size / 2**20:,.0f} MiB written in {time.perf_counter() - started:.1f} s")
        print("| case | wall s | CPU s | peak RSS MiB | RSS over start MiB |")
        print("| --- | --- | --- | --- | --- |")
        for mode in ("scan", "rerun"):
            rows = []
            for _ in range(args.reps):
                out = subprocess.run([sys.executable, "-c", _CHILD, mode, str(path), str(args.records)],
                                     capture_output=True, text=True, cwd=root, check=False)
                if out.returncode != 0:
                    print(out.stderr, file=sys.stderr)
                    return 1
                rows.append([float(x) for x in out.stdout.split()])
                assert path.stat().st_size == size, "resuming a finished file must not change it"
            med = [statistics.median(col) for col in zip(*rows, strict=True)]
            spread = f"(min {min(r[0] for r in rows):.2f})"
            print(f"| {mode} | {med[0]:.2f} {spread} | {med[1]:.2f} | {med[2]:,.0f} | {med[3]:,.0f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
