"""Big bulk runs against nginx: memory over the run, requests per client-CPU second, the CLI, a shared limiter.

    .venv/bin/python benchmarks/bulk_big.py --requests 200000            # run_bulk in one process
    .venv/bin/python benchmarks/bulk_big.py --requests 200000 --cli      # `openai-async bulk in.jsonl -o out`
    .venv/bin/python benchmarks/bulk_big.py --requests 40000 --redis 2 --rpm 600000
        # 2 processes sharing one RateLimiter over Redis (redis-server on a free loopback port, started here)

Requests are Batch-style chat lines (``custom_id``, ``POST /v1/chat/completions``) generated lazily (the CLI
reads them from a file), sent to nginx's canned chat completion (``_server.py``) at ``--concurrency`` 64, with
results appended to a JSONL file in a temp dir (removed at the end). Figures: wall, client CPU (user + sys;
for the CLI and the Redis processes, of the children), requests per client-CPU second, peak RSS
(``ru_maxrss``) and RSS sampled every 10% of the run, which is flat when memory is O(concurrency).
With ``--redis P``: P processes each run ``requests / P`` requests under
``RateLimiter(rpm=R, backend=RedisBackend)`` sharing one key; the combined rate over the run is compared with R
(the first second is the burst the limiter allows, so the rate is measured from the 2nd to the last request).
"""

from __future__ import annotations

import argparse
import ast
import asyncio
import os
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
MESSAGES = [{"role": "user", "content": "Say something short."}]


def _rss_mib() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def requests(start: int, n: int) -> Iterator[dict[str, Any]]:
    for i in range(start, start + n):
        yield {"custom_id": f"req-{i}", "method": "POST", "url": "/v1/chat/completions",
               "body": {"model": "gpt-4o-mini", "messages": MESSAGES, "max_tokens": 16}}


async def one_process(url: str, start: int, n: int, concurrency: int, path: str, rpm: float | None,
                      redis_url: str | None) -> dict[str, Any]:
    from openai_async import AsyncOpenAI, RateLimiter, run_bulk

    limiter = None
    if rpm is not None:
        from openai_async import RedisBackend

        backend = RedisBackend.from_url(redis_url) if redis_url else None
        limiter = RateLimiter(rpm=rpm, backend=backend)
    samples: list[float] = []
    stamps: list[float] = []
    async with AsyncOpenAI(api_key="x", base_url=url, max_retries=0, rate_limiter=limiter) as client:
        c0 = resource.getrusage(resource.RUSAGE_SELF)
        t0 = time.perf_counter()
        step = max(n // 10, 1)
        done = 0
        async with run_bulk(client, requests(start, n), concurrency=concurrency, results_path=path,
                            progress=False, total=n) as results:
            async for _ in results:
                done += 1
                if rpm is not None:
                    stamps.append(time.time())
                if done % step == 0:
                    samples.append(_rss_mib())
        wall = time.perf_counter() - t0
        c1 = resource.getrusage(resource.RUSAGE_SELF)
    cpu = c1.ru_utime - c0.ru_utime + c1.ru_stime - c0.ru_stime
    return {"done": done, "wall": wall, "cpu": cpu, "rss_samples": samples,
            "peak_rss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "first_stamp": stamps[0] if stamps else 0.0, "stamps": stamps[:: max(len(stamps) // 2000, 1)]}


def _child(argv: list[str]) -> None:
    url, start, n, conc, path, rpm, redis_url = argv
    result = asyncio.run(one_process(url, int(start), int(n), int(conc), path, float(rpm) if rpm != "-" else None,
                                     redis_url if redis_url != "-" else None))
    print("RESULT " + repr(result), flush=True)


def _spawn(url: str, start: int, n: int, conc: int, path: str, rpm: float | None,
           redis_url: str | None) -> subprocess.Popen[str]:
    cmd = [sys.executable, __file__, "--child", url, str(start), str(n), str(conc), path,
           str(rpm) if rpm is not None else "-", redis_url or "-"]
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})


def _result(proc: subprocess.Popen[str]) -> dict[str, Any]:
    out, err = proc.communicate(timeout=3600)
    line = next((ln for ln in out.splitlines() if ln.startswith("RESULT ")), None)
    if line is None:
        raise SystemExit(f"child failed:\n{err[-3000:]}")
    return ast.literal_eval(line[7:])  # type: ignore[no-any-return]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--child"]:
        _child(argv[1:])
        return 0
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=200_000)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--cli", action="store_true", help="run the `openai-async bulk` command instead")
    parser.add_argument("--redis", type=int, metavar="P", help="P processes sharing one Redis limiter")
    parser.add_argument("--rpm", type=float, help="with --redis: the shared requests-per-minute budget")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(BENCH_DIR))
    import _server

    tmp = Path(tempfile.mkdtemp(prefix="oa-bulk-"))
    redis_proc = None
    try:
        with _server.Nginx(_server.QUICK) as nginx:
            url = nginx.base_url(_server.CHAT)
            load = os.getloadavg()[0]
            if args.redis:
                if shutil.which("redis-server") is None:
                    raise SystemExit("redis-server is required: apt-get install -y redis-server")
                port = _free_port()
                redis_proc = subprocess.Popen(
                    ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                time.sleep(0.5)
                redis_url = f"redis://127.0.0.1:{port}/0"
                share = args.requests // args.redis
                t0 = time.perf_counter()
                procs = [_spawn(url, i * share, share, args.concurrency, str(tmp / f"out{i}.jsonl"), args.rpm,
                                redis_url) for i in range(args.redis)]
                results = [_result(p) for p in procs]
                wall = time.perf_counter() - t0
                stamps = sorted(s for r in results for s in r["stamps"])
                total = sum(r["done"] for r in results)
                every = total / len(stamps)
                # from the first stamp one second in (past the allowed burst) to the last
                begin = next(i for i, s in enumerate(stamps) if s >= stamps[0] + 1.0)
                rate = (len(stamps) - 1 - begin) * every / (stamps[-1] - stamps[begin]) * 60
                cpu = sum(r["cpu"] for r in results)
                print(f"{args.redis} processes x {share:,} requests, one RedisBackend key, rpm {args.rpm:,.0f}, "
                      f"concurrency {args.concurrency} each, load average {load:.1f}\n")
                print("| figure | value |\n| --- | --- |")
                print(f"| requests done | {total:,} |")
                print(f"| wall s | {wall:.1f} |")
                print(f"| combined rate, RPM (after the first second) | {rate:,.0f} ({rate / args.rpm:.3f}x the budget) |")
                print(f"| client CPU s (all processes) | {cpu:.1f} |")
                print(f"| requests per client-CPU second | {total / cpu:,.0f} |")
                peaks = ", ".join(f"{r['peak_rss']:.0f}" for r in results)
                print(f"| peak RSS per process MiB | {peaks} |")
                return 0
            if args.cli:
                inp = tmp / "in.jsonl"
                import msgspec

                enc = msgspec.json.Encoder()
                with inp.open("wb") as f:
                    for r in requests(0, args.requests):
                        f.write(enc.encode(r) + b"\n")
                env = {**os.environ, "OPENAI_BASE_URL": url, "OPENAI_API_KEY": "x", "PYTHONPATH": str(ROOT)}
                before = resource.getrusage(resource.RUSAGE_CHILDREN)
                t0 = time.perf_counter()
                cmd = [str(Path(sys.executable).with_name("openai-async")), "bulk", str(inp), "-o",
                       str(tmp / "out.jsonl"), "--concurrency", str(args.concurrency), "--no-progress",
                       "--max-retries", "0"]
                proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=3600)
                wall = time.perf_counter() - t0
                after = resource.getrusage(resource.RUSAGE_CHILDREN)
                if proc.returncode != 0:
                    raise SystemExit(f"the CLI failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
                cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
                lines = sum(1 for _ in (tmp / "out.jsonl").open("rb"))
                print(f"`openai-async bulk` of {args.requests:,} lines @ {args.concurrency}, load average {load:.1f}\n")
                print("| figure | value |\n| --- | --- |")
                print(f"| result lines | {lines:,} |\n| wall s | {wall:.1f} |\n| client CPU s | {cpu:.1f} |")
                print(f"| requests per client-CPU second | {args.requests / cpu:,.0f} |")
                print(f"| peak RSS MiB | {after.ru_maxrss / 1024:.0f} |")
                return 0
            r = _result(_spawn(url, 0, args.requests, args.concurrency, str(tmp / "out.jsonl"), None, None))
            print(f"run_bulk of {args.requests:,} requests @ {args.concurrency}, one process, "
                  f"load average {load:.1f}\n")
            print("| figure | value |\n| --- | --- |")
            print(f"| done | {r['done']:,} |\n| wall s | {r['wall']:.1f} |\n| client CPU s | {r['cpu']:.1f} |")
            print(f"| requests per client-CPU second | {r['done'] / r['cpu']:,.0f} |")
            print(f"| peak RSS MiB | {r['peak_rss']:.0f} |")
            print(f"| RSS at each 10% MiB | {', '.join(f'{s:.0f}' for s in r['rss_samples'])} |")
    finally:
        if redis_proc is not None:
            redis_proc.kill()
            redis_proc.wait()
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
