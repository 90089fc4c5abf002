"""Instructions per event of the stream hot paths, counted by valgrind: the same on a quiet or a busy machine.

    apt-get install -y valgrind
    .venv/bin/python benchmarks/instructions.py [--events 5000]

For each scenario of ``inprocess.py`` and each of its two contestants, cachegrind counts the instructions of a
process that warms up and runs the stream 0 times, then 2 times; the difference over 2 x events is the cost of
one event. ``PYTHONHASHSEED=0`` keeps dict and set layouts, and so the counts, the same from run to run.
Instructions are not time (cache misses and branch stalls differ), but a change that removes work shows here
even when the machine is too noisy for ``inprocess.py`` to see it. About 3 minutes.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR))

import _server  # noqa: E402
import inprocess  # noqa: E402


def instructions(scenario: str, contestant: str, events: int, runs: int) -> int:
    cmd = [
        "valgrind", "--tool=cachegrind", "--cache-sim=no", "--cachegrind-out-file=/dev/null",
        sys.executable, str(BENCH_DIR / "inprocess.py"), "--events", str(events), "--reps", str(runs),
        "--one", scenario, contestant,
    ]
    env = {**os.environ, "PYTHONHASHSEED": "0"}
    out = subprocess.run(cmd, capture_output=True, text=True, env=env, check=True).stderr
    found = re.search(r"I\s+refs:\s+([\d,]+)", out)
    if found is None:
        raise RuntimeError(f"no instruction count in valgrind's output:\n{out[-2000:]}")
    return int(found.group(1).replace(",", ""))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=5000)
    args = parser.parse_args(argv)
    if shutil.which("valgrind") is None:
        raise SystemExit("valgrind is required: apt-get install -y valgrind")
    runs = inprocess.scenarios(_server.chat_stream(10), _server.responses_stream(10), 65536)
    print(f"instructions per event ({args.events:,} events per stream, 65,536-byte reads)\n")
    print("| scenario | ours | against | ratio |")
    print("| --- | --- | --- | --- |")
    for name, pair in runs.items():
        per_event = {}
        for contestant in pair:
            base = instructions(name, contestant, args.events, 0)
            per_event[contestant] = (instructions(name, contestant, args.events, 2) - base) / (2 * args.events)
        (ours, a), (other, b) = per_event.items()
        print(f"| {name} | {a:,.0f} | {other}: {b:,.0f} | {a / b:.2f}x |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
