"""Embeddings decode in one process: ours, the floor and the official SDK over the same bytes, alternating.

    .venv/bin/python benchmarks/embeddings.py [--rows 256] [--dim 1536] [--reps 15]

Each contestant's ``Decoder`` (``_ours.py``, ``_floor.py``, ``_official.py``) decodes the canned 256 x 1536 body
of ``_server.py``, as base64 and as float JSON, into lists of floats; contestants alternate, each repetition is
one decode, CPU time by ``time.process_time``. Prints best and median per cell and the median of the paired
ours/floor ratios (one pair per repetition, so a slow moment of the machine hits both). Seconds to run.
The official SDK decodes base64 when ``encoding_format`` is left out (its default); ours does the same since
the embeddings helper (``openai_async/_helpers/embeddings.py``).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR))
sys.path.insert(0, str(BENCH_DIR.parent))

import _floor  # noqa: E402
import _server  # noqa: E402


async def run(rows: int, dim: int, reps: int, official: bool) -> None:
    import _ours

    names = ["ours", "floor"] + (["openai"] if official else [])
    mods: dict[str, Any] = {"ours": _ours, "floor": _floor}
    if official:
        import _official

        mods["openai"] = _official
    print(f"embeddings {rows} x {dim}, in-process decode, {reps} alternating repetitions, CPU ms per decode, "
          f"load average {os.getloadavg()[0]:.1f}, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}\n")
    print("| format | " + " | ".join(f"{n} best / median" for n in names) + " | ours/floor paired median |")
    print("| --- | " + " | ".join("---" for _ in names) + " | --- |")
    for b64 in (True, False):
        data = _server.embeddings(rows, dim, b64=b64)
        decoders = {n: mods[n].Decoder(b64) for n in names}
        expect = await decoders["floor"].decode(data)
        for n, d in decoders.items():
            got = await d.decode(data)
            assert len(got) == rows and got[0] == expect[0] and got[-1] == expect[-1], f"{n} decodes differently"
        times: dict[str, list[float]] = {n: [] for n in names}
        for _ in range(reps):
            for n, d in decoders.items():
                gc.collect()
                t = time.process_time()
                await d.decode(data)
                times[n].append((time.process_time() - t) * 1e3)
        for d in decoders.values():
            await d.close()
        paired = statistics.median(o / f for o, f in zip(times["ours"], times["floor"], strict=True) if f > 0)
        cells = " | ".join(f"{min(times[n]):.1f} / {statistics.median(times[n]):.1f}" for n in names)
        print(f"| {'base64' if b64 else 'float'} | {cells} | {paired:.2f}x |")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=256)
    parser.add_argument("--dim", type=int, default=1536)
    parser.add_argument("--reps", type=int, default=15)
    parser.add_argument("--no-official", action="store_true")
    args = parser.parse_args(argv)
    asyncio.run(run(args.rows, args.dim, args.reps, not args.no_official))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
