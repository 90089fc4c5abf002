"""Where does a contestant spend CPU? Sample one scenario with py-spy and print the hottest functions.

    .venv/bin/python benchmarks/profile.py chat [--contestant ours] [--quick] [--top 25] [--rate 500]
    .venv/bin/python benchmarks/profile.py responses --size resp_events=300000   # more samples

Needs ``py-spy`` (``.venv/bin/pip install py-spy``). Only samples taken inside the scenario (warm-up and
measured section, not interpreter start-up or imports) are counted. "self" is the share of samples whose
innermost Python frame is the function; "total" the share in which it is anywhere on the stack. Idle
samples (the event loop waiting in ``select``) are dropped, so the shares are of CPU-busy samples.
"""

from __future__ import annotations

import argparse
import collections
import dataclasses
import shutil
import subprocess
import sys
import tempfile
from dataclasses import asdict
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR))

import _server  # noqa: E402
import run  # noqa: E402


def py_spy() -> str:
    found = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    if not Path(found).exists():
        raise SystemExit("py-spy is required: .venv/bin/pip install py-spy")
    return found


def main() -> int:
    names = [s.name for s in run.scenarios(_server.Sizes()) if s.name != "import"]
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("scenario", choices=names)
    parser.add_argument("--contestant", default="ours", choices=run.CONTESTANTS)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--rate", type=int, default=500, help="samples per second")
    parser.add_argument("--raw", type=Path, help="keep py-spy's collapsed stacks here")
    parser.add_argument(
        "--size",
        action="append",
        default=[],
        metavar="NAME=N",
        help="override a size, e.g. resp_events=300000",
    )
    args = parser.parse_args()

    sizes = _server.QUICK if args.quick else _server.Sizes()
    overrides = dict(item.split("=", 1) for item in args.size)
    sizes = dataclasses.replace(sizes, **{k: int(v) for k, v in overrides.items()})
    sc = next(s for s in run.scenarios(sizes) if s.name == args.scenario)
    with _server.Nginx(sizes) as server, tempfile.TemporaryDirectory() as tmp:
        assert server.tmp is not None
        child_args = {
            "contestant": args.contestant,
            "scenario": sc.name,
            "bench_dir": str(BENCH_DIR),
            "sizes": asdict(sizes),
            "expect": run.expectations(server, sizes),
            "urls": {p: server.base_url(p) for p in server.bodies},
            "files": {
                p: str(server.tmp / "www" / p / "v1" / "embeddings")
                for p in (_server.EMB_FLOAT, _server.EMB_B64)
            },
        }
        raw = args.raw or Path(tmp) / "stacks.txt"
        cmd = [py_spy(), "record", "-r", str(args.rate), "-f", "raw", "-o", str(raw), "--"]
        cmd += [sys.executable, str(BENCH_DIR / "_child.py"), repr(child_args)]
        proc = subprocess.run(cmd, capture_output=True, text=True, env=run.child_env(args.contestant))
        result = [line for line in proc.stdout.splitlines() if line.startswith("RESULT ")]
        print(result[-1] if result else proc.stderr[-2000:])
        report(raw.read_text(), args.top)
    return 0


def report(stacks: str, top: int) -> None:
    self_count: collections.Counter[str] = collections.Counter()
    total_count: collections.Counter[str] = collections.Counter()
    samples = 0
    for line in stacks.splitlines():
        stack, _, count = line.rpartition(" ")
        frames = stack.split(";")
        if not any("asyncio/runners.py" in f for f in frames):
            continue  # start-up, imports: everything outside asyncio.run(scenario(...))
        leaf = frames[-1]
        if "selectors.py" in leaf:
            continue  # idle: the event loop waiting for the network
        n = int(count)
        samples += n
        self_count[short(leaf)] += n
        for f in set(map(short, frames)):
            total_count[f] += n
    print(f"\n{samples} busy samples inside the scenario\n")
    print(f"{'self %':>7} {'total %':>8}  function (file)")
    for name, n in self_count.most_common(top):
        print(f"{100 * n / samples:7.1f} {100 * total_count[name] / samples:8.1f}  {name}")
    print(f"\n{'total %':>8}  function (file), by inclusive share")
    for name, n in total_count.most_common(top):
        print(f"{100 * n / samples:8.1f}  {name}")


def short(frame: str) -> str:
    """``func (path/to/file.py:123)`` -> ``func (file.py)``: aggregate by function, not by line."""
    name, _, where = frame.partition(" (")
    path = where.rstrip(")").rsplit(":", 1)[0]
    parts = Path(path).parts
    for anchor in (
        "openai_async",
        "openai",
        "aiohttp",
        "httpx2",
        "httpcore2",
        "pydantic",
        "asyncio",
        "benchmarks",
    ):
        if anchor in parts:
            path = "/".join(parts[parts.index(anchor) :])
            break
    else:
        path = Path(path).name
    return f"{name} ({path})"


if __name__ == "__main__":
    sys.exit(main())
