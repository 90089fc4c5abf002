"""openai_async vs the official SDK vs a raw aiohttp + msgspec floor, against nginx on 127.0.0.1.

    .venv/bin/python benchmarks/run.py [--quick] [--only chat,stream] [--reps N] [--json out.json]

Every repetition of every contestant is a fresh interpreter (``_child.py``), run interleaved
(ours, floor, openai, openai-aiohttp, ours, ...), so drift on the machine hits everyone alike. The table
shows median (min-max) over the repetitions and the ratios ours/floor and ours/openai. CPU is user+sys of
the client process over the measured section only (after warm-up); peak RSS is the process's ``VmHWM``
(absolute, MiB; ``ru_maxrss`` would include the parent's RSS at fork), and "RSS growth" is how much that peak
rose during the measured section.
"""

from __future__ import annotations

import argparse
import ast
import compileall
import datetime
import os
import platform
import signal
import statistics
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

import msgspec

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent
sys.path.insert(0, str(BENCH_DIR))

import _server  # noqa: E402

CONTESTANTS = ("ours", "floor", "openai", "openai-aiohttp")
CHILD_MODULES = {"ours": "_ours", "floor": "_floor", "openai": "_official", "openai-aiohttp": "_official"}

IMPORTS = {
    "ours": "from openai_async import AsyncOpenAI",
    "floor": "import aiohttp, msgspec, anyio",
    "openai": "from openai import AsyncOpenAI",
    "openai-aiohttp": "from openai import AsyncOpenAI, DefaultAioHttpClient",
}

IMPORT_CODE = """\
import resource, time
r0 = resource.getrusage(resource.RUSAGE_SELF); t0 = time.perf_counter()
{stmt}
t1 = time.perf_counter(); r1 = resource.getrusage(resource.RUSAGE_SELF)
cpu = (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
hwm = [int(x.split()[1]) for x in open("/proc/self/status") if x.startswith("VmHWM:")][0]
print("RESULT " + repr({{"cpu_ms": cpu * 1e3, "wall_ms": (t1 - t0) * 1e3, "rss_mib": hwm / 1024}}))
"""


# Import, build a client and make one chat call, all in a fresh interpreter: what lazy loading moves out of
# the import (resource modules, generated types, the HTTP session) shows up here.
FIRST_CALL_STMT = """\
import asyncio, sys
sys.path.insert(0, {bench_dir!r})
import {module} as mod
async def go():
    client = mod.Client({url!r})
    try:
        return await client.chat("gpt-4o-mini", [{{"role": "user", "content": "Say hello."}}])
    finally:
        await client.close()
assert asyncio.run(go()) == {want!r}"""


@dataclass(frozen=True)
class Metric:
    key: str
    label: str
    target: float | None = None  # max ratio ours/floor
    higher_is_better: bool = False
    absolute_target: float | None = None  # max value for ours, same unit as the metric


@dataclass(frozen=True)
class Scenario:
    name: str
    title: str
    metrics: tuple[Metric, ...]
    note: str = ""


def scenarios(s: _server.Sizes) -> list[Scenario]:
    return [
        Scenario(
            "import",
            "import, fresh interpreter",
            (
                Metric("cpu_ms", "CPU ms", target=1.2),
                Metric("wall_ms", "wall ms"),
                Metric("rss_mib", "RSS after import MiB"),
            ),
            "floor = `import aiohttp, msgspec, anyio`; SDKs = `from <pkg> import AsyncOpenAI`",
        ),
        Scenario(
            "first_call",
            "import + client + first chat call, fresh interpreter",
            (
                Metric("cpu_ms", "CPU ms"),
                Metric("wall_ms", "wall ms"),
                Metric("rss_mib", "peak RSS MiB"),
            ),
            "the contestant's module (`_ours.py` ...) imported, one `Client`, one call, closed",
        ),
        Scenario(
            "construct",
            f"client construction (x{s.constructs})",
            (Metric("cpu_us_per_client", "CPU us/client", absolute_target=100.0),),
            "floor = `aiohttp.ClientSession(connector=TCPConnector(limit=1000))`",
        ),
        Scenario(
            "chat",
            f"chat.completions.create, {s.chat_calls:,} calls @ concurrency {s.chat_concurrency}",
            (
                Metric("cpu_us_per_call", "CPU us/call", target=1.5),
                Metric("calls_per_s", "calls/s", higher_is_better=True),
            ),
        ),
        Scenario(
            "latency",
            f"chat.completions.create, {s.latency_calls:,} sequential calls",
            (
                Metric("latency_p50_us", "p50 latency us"),
                Metric("latency_p99_us", "p99 latency us"),
                Metric("cpu_us_per_call", "CPU us/call", target=1.5),
            ),
        ),
        Scenario(
            "stream",
            f"chat stream, 1 x {s.stream_chunks:,} chunks",
            (
                Metric("cpu_us_per_chunk", "CPU us/chunk", target=1.5),
                Metric("wall_ms", "wall ms"),
                Metric("peak_rss_mib", "peak RSS MiB"),
            ),
        ),
        Scenario(
            "chat_helper",
            f"chat.completions.stream() helper, 1 x {s.stream_chunks:,} chunks",
            (Metric("cpu_us_per_chunk", "CPU us/chunk"),),
            "floor has no helper: its row is the raw stream again",
        ),
        Scenario(
            "streams",
            f"chat streams, {s.multi_streams} concurrent x {s.multi_chunks} chunks",
            (
                Metric("cpu_us_per_chunk", "CPU us/chunk", target=1.5),
                Metric("wall_ms", "wall ms"),
                Metric("peak_rss_mib", "peak RSS MiB", target=1.1),
                Metric("rss_growth_mib", "RSS growth MiB"),
            ),
        ),
        Scenario(
            "responses",
            f"responses.create(stream=True), {s.resp_events:,} output_text.delta events",
            (Metric("cpu_us_per_event", "CPU us/event", target=1.5), Metric("wall_ms", "wall ms")),
        ),
        Scenario(
            "responses_helper",
            f"responses.stream() helper, {s.resp_events:,} output_text.delta events",
            (Metric("cpu_us_per_event", "CPU us/event"),),
            "floor has no helper: its row is the raw stream again",
        ),
        Scenario(
            "bulk",
            f"bulk runner, {s.bulk_requests:,} chat requests @ concurrency {s.chat_concurrency} to a JSONL file",
            (
                Metric("cpu_us_per_request", "CPU us/request"),
                Metric("requests_per_cpu_s", "requests per CPU second", higher_is_better=True,
                       absolute_target=3000.0),
                Metric("wall_s", "wall s"),
            ),
            "ours: `run_bulk(client, batch_lines, results_path=...)` (exactly-once file, resumable); floor and "
            "SDKs: the same calls under a semaphore, one JSON line appended per result (no resume, no dedup)",
        ),
        Scenario(
            "upload",
            f"files.create of a {s.upload_mib} MiB file (multipart, streamed from disk)",
            (
                Metric("cpu_ms", "CPU ms"),
                Metric("mib_per_s", "MiB/s", higher_is_better=True),
                Metric("rss_growth_mib", "RSS growth MiB"),
            ),
            "floor: `aiohttp.FormData` with the open file; openai: `files.create(file=open(path, 'rb'))`",
        ),
        Scenario(
            "embed_decode",
            f"embeddings {s.emb_rows}x{s.emb_dim}, in-process decode of the bytes (x{s.emb_decodes})",
            (
                Metric("cpu_ms_float", "CPU ms/decode, float", target=1.3),
                Metric("cpu_ms_b64", "CPU ms/decode, base64", target=1.3),
            ),
            "openai: whole SDK call over httpx2.MockTransport; ours: `_decode.decode` + model; "
            "openai-aiohttp is the same as openai here",
        ),
        Scenario(
            "embed_call",
            f"embeddings {s.emb_rows}x{s.emb_dim}, end-to-end call (x{s.emb_calls})",
            (
                Metric("cpu_ms_float", "CPU ms/call, float"),
                Metric("wall_ms_float", "wall ms/call, float"),
                Metric("cpu_ms_b64", "CPU ms/call, base64"),
                Metric("wall_ms_b64", "wall ms/call, base64"),
            ),
            "openai base64 = `encoding_format` omitted (its default: asks base64, decodes to floats)",
        ),
    ]


@dataclass
class Outcome:
    runs: list[dict[str, float]] = field(default_factory=list)
    error: str | None = None
    skipped: str | None = None


# -- running children -------------------------------------------------------------------------------------


def child_env(contestant: str) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), env.get("PYTHONPATH", "")) if p)
    env["BENCH_OPENAI_TRANSPORT"] = "aiohttp" if contestant == "openai-aiohttp" else "httpx"
    for var in ("OPENAI_BASE_URL", "OPENAI_LOG", "PYTHONASYNCIODEBUG", "PYTHONTRACEMALLOC", "PYTHONDEVMODE"):
        env.pop(var, None)
    if UVLOOP:
        env["BENCH_UVLOOP"] = "1"
    return env


UVLOOP = False  # --uvloop: every child runs its scenario on uvloop's event loop


def _pin_to_client_core() -> None:
    split = _server.cores()
    if split is not None:
        os.sched_setaffinity(0, split[0])


def run_child(cmd: list[str], contestant: str, timeout: float) -> dict[str, Any]:
    try:
        proc = subprocess.run(
            cmd,
            capture_output=True,
            text=True,
            timeout=timeout,
            env=child_env(contestant),
            cwd=str(REPO),
            stdin=subprocess.DEVNULL,
            preexec_fn=_pin_to_client_core,
        )
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {timeout:.0f} s"}
    for line in reversed(proc.stdout.splitlines()):
        if line.startswith("RESULT "):
            result: dict[str, Any] = ast.literal_eval(line[len("RESULT ") :])
            if "error" in result and proc.stderr.strip():
                (BENCH_DIR / ".work").mkdir(exist_ok=True)
                (BENCH_DIR / ".work" / f"{contestant}.stderr.txt").write_text(proc.stderr)
            return result
    tail = (proc.stderr.strip().splitlines() or [f"exit status {proc.returncode}"])[-1]
    return {"error": f"crashed: {tail}"}


def run_one(
    sc: Scenario,
    contestant: str,
    server: _server.Nginx,
    sizes: _server.Sizes,
    expect: dict[str, Any],
    timeout: float,
) -> dict[str, Any]:
    if sc.name == "import":
        code = IMPORT_CODE.format(stmt=IMPORTS[contestant])
        return run_child([sys.executable, "-c", code], contestant, timeout)
    if sc.name == "first_call":
        stmt = FIRST_CALL_STMT.format(
            bench_dir=str(BENCH_DIR),
            module=CHILD_MODULES[contestant],
            url=server.base_url(_server.CHAT),
            want=expect["chat_content"],
        )
        return run_child([sys.executable, "-c", IMPORT_CODE.format(stmt=stmt)], contestant, timeout)
    assert server.tmp is not None
    args = {
        "contestant": contestant,
        "scenario": sc.name,
        "bench_dir": str(BENCH_DIR),
        "sizes": asdict(sizes),
        "expect": expect,
        "urls": {p: server.base_url(p) for p in server.bodies},
        "files": {
            p: str(server.tmp / "www" / p / "v1" / "embeddings") for p in (_server.EMB_FLOAT, _server.EMB_B64)
        },
    }
    return run_child([sys.executable, str(BENCH_DIR / "_child.py"), repr(args)], contestant, timeout)


def expectations(server: _server.Nginx, sizes: _server.Sizes) -> dict[str, Any]:
    chat = msgspec.json.decode(server.bodies[_server.CHAT])
    return {
        "chat_content": chat["choices"][0]["message"]["content"],
        "s1_chars": _server.chat_stream_text(sizes.stream_chunks),
        "sm_chars": _server.chat_stream_text(sizes.multi_chunks),
        "resp_chars": _server.chat_stream_text(sizes.resp_events),
        "respw_chars": _server.chat_stream_text(_server.WARM_EVENTS),
        "emb_rows": sizes.emb_rows,
        "emb_dim": sizes.emb_dim,
        "emb_head": [round(x, 5) for x in _server.embedding_vector(0, sizes.emb_dim)[:4]],
    }


def warm_bytecode() -> None:
    """Compile every contestant's modules once, so no repetition pays for writing .pyc files."""
    for contestant, stmt in IMPORTS.items():
        subprocess.run(
            [sys.executable, "-c", stmt],
            env=child_env(contestant),
            cwd=str(REPO),
            capture_output=True,
            timeout=120,
        )


# -- reporting --------------------------------------------------------------------------------------------


def fmt(x: float) -> str:
    if x >= 1000:
        return f"{x:,.0f}"
    if x >= 100:
        return f"{x:.0f}"
    if x >= 10:
        return f"{x:.1f}"
    return f"{x:.2f}"


def summary(outcome: Outcome, key: str) -> tuple[float, float, float] | None:
    values = [r[key] for r in outcome.runs if key in r]
    if not values:
        return None
    return statistics.median(values), min(values), max(values)


def table(scs: list[Scenario], results: dict[str, dict[str, Outcome]], contestants: list[str]) -> str:
    notes: list[str] = []

    def note(text: str) -> str:
        if text not in notes:
            notes.append(text)
        return f"[{notes.index(text) + 1}]"

    head = ["scenario", "metric", *contestants, "ours/floor", "ours/openai", "target"]
    rows = [head, ["---"] * len(head)]
    for sc in scs:
        if sc.name not in results:
            continue
        first = True
        for m in sc.metrics:
            cells = [
                f"{sc.title} {note(sc.note)}" if first and sc.note else (sc.title if first else ""),
                m.label,
            ]
            first = False
            med: dict[str, float] = {}
            for c in contestants:
                out = results[sc.name].get(c, Outcome())
                s = summary(out, m.key)
                if s is not None:
                    med[c] = s[0]
                    cells.append(f"{fmt(s[0])} ({fmt(s[1])}-{fmt(s[2])})")
                elif any(f"error:{m.key}" in r for r in out.runs):
                    err = next(r[f"error:{m.key}"] for r in out.runs if f"error:{m.key}" in r)
                    cells.append(f"n/a {note(f'{c}: {err}')}")
                elif out.skipped:
                    cells.append(f"= {note(out.skipped)}")
                else:
                    cells.append(f"n/a {note(f'{c}: ' + (out.error or 'not run'))}")
            for other in ("floor", "openai"):
                if "ours" in med and other in med and med[other]:
                    cells.append(f"{med['ours'] / med[other]:.2f}x")
                else:
                    cells.append("")
            cells.append(verdict(m, med))
            rows.append(cells)
    lines = ["| " + " | ".join(r) + " |" for r in rows]
    lines += [""] + [f"[{i}] {text}" for i, text in enumerate(notes, 1)]
    return "\n".join(lines)


def verdict(m: Metric, med: dict[str, float]) -> str:
    if m.absolute_target is not None:
        sign = ">=" if m.higher_is_better else "<="
        if "ours" not in med:
            return f"{sign} {fmt(m.absolute_target)}"
        ratio = med["ours"] / m.absolute_target
        ok = ratio >= 1 if m.higher_is_better else ratio <= 1
        return f"{sign} {fmt(m.absolute_target)}: " + ("ok" if ok else f"MISS x{ratio:.2f}")
    if m.target is None:
        return ""
    if "ours" not in med or not med.get("floor"):
        return f"<= {m.target}x floor"
    ratio = med["ours"] / med["floor"]
    return f"<= {m.target}x floor: " + ("ok" if ratio <= m.target else f"MISS by {ratio / m.target - 1:.0%}")


def machine() -> dict[str, str]:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    versions = {"python": platform.python_version()}
    installed = {d.metadata["Name"].lower(): d.version for d in metadata.distributions()}
    for pkg in ("aiohttp", "msgspec", "anyio", "openai", "httpx2", "pydantic"):
        versions[pkg] = installed.get(pkg, "missing")
    versions["nginx"] = _server.nginx_version(_server.nginx_binary())
    commit = subprocess.run(
        ["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"], capture_output=True, text=True
    ).stdout.strip()
    versions["openai_async (git)"] = commit or "unknown"
    versions["load average at start"] = " ".join(f"{x:.1f}" for x in os.getloadavg())
    return {"nproc": str(os.cpu_count()), "cpu": cpu, **versions}


# -- main -------------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="2 repetitions, smaller sizes (< 2 minutes)")
    parser.add_argument(
        "--only", help="comma-separated scenarios: " + ", ".join(s.name for s in scenarios(_server.Sizes()))
    )
    parser.add_argument("--contestants", default=",".join(CONTESTANTS), help="comma-separated, in run order")
    parser.add_argument("--reps", type=int, help="repetitions per contestant (default 5, 2 with --quick)")
    parser.add_argument(
        "--sdk-reps",
        type=int,
        help="repetitions for the official SDK rows (default: at most 2; they are 10-60x slower)",
    )
    parser.add_argument("--json", type=Path, help="write the raw numbers here")
    parser.add_argument("--markdown", type=Path, help="write the report (machine, versions, table) here")
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds per child process")
    parser.add_argument("--uvloop", action="store_true", help="run every scenario on uvloop (pip install uvloop)")
    parser.add_argument("--no-pin", action="store_true",
                        help="let client and nginx share all cores (default: client on the first, nginx on the rest)")
    args = parser.parse_args(argv)
    _server.PIN = not args.no_pin
    global UVLOOP
    UVLOOP = args.uvloop

    sizes = _server.QUICK if args.quick else _server.Sizes()
    reps = args.reps or (2 if args.quick else 5)
    sdk_reps = min(reps, args.sdk_reps or 2)
    all_scenarios = scenarios(sizes)
    wanted = {s.strip() for s in args.only.split(",")} if args.only else {s.name for s in all_scenarios}
    unknown = wanted - {s.name for s in all_scenarios}
    if unknown:
        parser.error(f"unknown scenario(s): {', '.join(sorted(unknown))}")
    scs = [s for s in all_scenarios if s.name in wanted]
    # The package's bytecode, as a wheel install has it: with PYTHONDONTWRITEBYTECODE=1 (set on this machine)
    # every child would compile openai_async from source while aiohttp and openai load their .pyc.
    compileall.compile_dir(str(REPO / "openai_async"), quiet=1)
    contestants = [c.strip() for c in args.contestants.split(",") if c.strip()]
    if not set(contestants) <= set(CONTESTANTS):
        parser.error(f"contestants are {', '.join(CONTESTANTS)}")

    def on_term(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_term)
    signal.signal(
        signal.SIGINT, signal.default_int_handler
    )  # even when started with SIGINT ignored (`cmd &`)
    started = time.monotonic()
    info = machine()
    command = "python benchmarks/run.py " + " ".join(argv if argv is not None else sys.argv[1:])
    print(f"# {command}\n# {info}", flush=True)
    warm_bytecode()
    results: dict[str, dict[str, Outcome]] = {}
    try:
        with _server.Nginx(sizes) as server:
            print(f"# nginx {info['nginx']} on 127.0.0.1:{server.port}", flush=True)
            expect = expectations(server, sizes)
            for sc in scs:
                outcomes = results[sc.name] = {c: Outcome() for c in contestants}
                if sc.name == "embed_decode" and "openai-aiohttp" in outcomes:
                    outcomes[
                        "openai-aiohttp"
                    ].skipped = "openai-aiohttp: in-process decode is the same as openai"
                t0 = time.monotonic()
                for rep in range(reps):
                    line = []
                    for c in contestants:
                        out = outcomes[c]
                        if out.error or out.skipped or (c.startswith("openai") and rep >= sdk_reps):
                            continue
                        result = run_one(sc, c, server, sizes, expect, args.timeout)
                        if "error" in result:
                            out.error = str(result["error"])[:200]
                            line.append(f"{c}=n/a")
                        else:
                            out.runs.append(result)
                            key = sc.metrics[0].key
                            line.append(f"{c}={fmt(result[key])}" if key in result else f"{c}=n/a")
                    print(
                        f"  {sc.name} rep {rep + 1}/{reps} {sc.metrics[0].label}: {' '.join(line)}",
                        flush=True,
                    )
                print(f"  ({sc.name}: {time.monotonic() - t0:.0f} s)", flush=True)
    except KeyboardInterrupt:
        print("\ninterrupted: nginx stopped; partial results follow", flush=True)

    info["load average at end"] = " ".join(f"{x:.1f}" for x in os.getloadavg())
    report = table(scs, results, contestants)
    elapsed = time.monotonic() - started
    reps_text = f"{reps} repetitions" + (f" ({sdk_reps} for the official SDK)" if sdk_reps < reps else "")
    print(f"\n{report}\n\n({elapsed:.0f} s, {reps_text}, median (min-max))")
    if args.json:
        raw = {
            "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
            "command": command,
            "machine": info,
            "sizes": asdict(sizes),
            "reps": reps,
            "sdk_reps": sdk_reps,
            "results": {sc: {c: asdict(o) for c, o in outs.items()} for sc, outs in results.items()},
        }
        args.json.write_bytes(msgspec.json.format(msgspec.json.encode(raw)))
    if args.markdown:
        date = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
        header = (
            f"Date: {date}  \nCommand: `{command}` ({reps_text}, {elapsed:.0f} s)  \n"
            f"Machine: {info['nproc']} cores, {info['cpu']}; "
            + ("client pinned to one core, nginx to the others" if _server.cores() else "cores shared")
            + "  \n"
            "Versions: "
            + ", ".join(f"{k} {v}" for k, v in info.items() if k not in ("nproc", "cpu"))
            + "\n\n"
        )
        args.markdown.write_text(header + report + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
