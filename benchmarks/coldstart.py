"""Cold start per resource family: a fresh interpreter imports the client, builds one, makes its first call.

    .venv/bin/python benchmarks/coldstart.py [--reps 5] [--families chat,responses,embeddings,files]
    .venv/bin/python benchmarks/coldstart.py --importtime chat   # where the first call's time goes

For each family and contestant, ``--reps`` fresh interpreters, interleaved (ours, floor, ours, ...), against
nginx serving the canned bodies of ``_server.py``. Each child measures, with its own clock:

- import: CPU ms (user + sys of the process, ``getrusage``) of ``from openai_async import AsyncOpenAI``
  (floor: ``import aiohttp, msgspec``) and RSS after it (``VmRSS``);
- first call: CPU ms of building the client and making the family's first call (chat: a completion;
  responses: a short ``responses.create(stream=True)`` read to its end; embeddings: 256 x 1536 with the
  default format; files: ``files.create`` of 1 KiB), and RSS after it.

The floor is an ``aiohttp.ClientSession`` posting a msgspec-encoded body and decoding the answer with
``msgspec.json.decode`` (untyped; streams split on newlines). Ratios are ours/floor of medians in the same run.
``--importtime`` runs one ``ours`` child under ``-X importtime`` and lists the modules the first call loads
(self time), which is what per-family lazy loading can still save.
"""

from __future__ import annotations

import argparse
import ast
import os
import re
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
FAMILIES = ("chat", "responses", "embeddings", "files")
PREFIX = {"chat": "chat", "responses": "respw", "embeddings": "embb", "files": "up"}


def _cpu_ms() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return (r.ru_utime + r.ru_stime) * 1e3


def _rss_mib() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


# -- the child --------------------------------------------------------------------------------------------


async def _ours_call(family: str, url: str) -> None:
    from openai_async import AsyncOpenAI

    async with AsyncOpenAI(api_key="x", base_url=url, max_retries=0) as client:
        if family == "chat":
            r = await client.chat.completions.create(model="m", messages=[{"role": "user", "content": "hi"}])
            assert r.choices[0].message.content
        elif family == "responses":
            stream = await client.responses.create(model="m", input="hi", stream=True)
            n = 0
            async for event in stream:
                if event.type == "response.output_text.delta":
                    n += len(event.delta)
            assert n
        elif family == "embeddings":
            e = await client.embeddings.create(model="m", input=[f"t{i}" for i in range(256)])
            assert isinstance(e.data[0].embedding, list) or e.data[0].embedding
        elif family == "files":
            f = await client.files.create(file=("a.bin", b"x" * 1024), purpose="batch")
            assert f.id


async def _floor_call(family: str, url: str) -> None:
    import aiohttp
    import msgspec

    body: dict[str, object] = {"model": "m"}
    async with aiohttp.ClientSession() as session:
        if family == "files":
            form = aiohttp.FormData()
            form.add_field("purpose", "batch")
            form.add_field("file", b"x" * 1024, filename="a.bin")
            async with session.post(url + "/files", data=form, headers={"Authorization": "Bearer x"}) as r:
                assert msgspec.json.decode(await r.read())["id"]
            return
        path = {"chat": "/chat/completions", "responses": "/responses", "embeddings": "/embeddings"}[family]
        if family == "chat":
            body["messages"] = [{"role": "user", "content": "hi"}]
        elif family == "responses":
            body.update(input="hi", stream=True)
        else:
            body.update(input=[f"t{i}" for i in range(256)], encoding_format="base64")
        headers = {"Authorization": "Bearer x", "Content-Type": "application/json"}
        async with session.post(url + path, data=msgspec.json.encode(body), headers=headers) as r:
            if family == "responses":
                n = 0
                async for line in r.content:
                    if line.startswith(b"data: "):
                        n += len(msgspec.json.decode(line[6:]).get("delta", ""))
                assert n
            elif family == "embeddings":
                import array
                import base64

                data = msgspec.json.decode(await r.read())["data"]
                assert [array.array("f", base64.b64decode(e["embedding"])).tolist() for e in data]
            else:
                assert msgspec.json.decode(await r.read())["choices"][0]["message"]["content"]


def child(contestant: str, family: str, url: str) -> None:
    import asyncio

    c0 = _cpu_ms()
    if contestant == "bare":
        return
    if contestant == "ours":
        from openai_async import AsyncOpenAI  # noqa: F401
    else:
        import aiohttp  # noqa: F401
        import msgspec  # noqa: F401
    c1 = _cpu_ms()
    rss_import = _rss_mib()
    if family == "none":
        return
    asyncio.run((_ours_call if contestant == "ours" else _floor_call)(family, url))
    c2 = _cpu_ms()
    result = {"import_ms": c1 - c0, "first_ms": c2 - c1, "rss_import": rss_import, "rss_first": _rss_mib(),
              "startup_ms": c0}
    print("RESULT " + repr(result), flush=True)


# -- the parent -------------------------------------------------------------------------------------------


def _run_child(contestant: str, family: str, url: str, extra: list[str] | None = None,
               prefix: list[str] | None = None) -> subprocess.CompletedProcess[str]:
    cmd = [*(prefix or []), sys.executable, *(extra or []), str(Path(__file__)), "--child", contestant, family, url]
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONHASHSEED": "0"}
    return subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=600)


def compile_package() -> None:
    """Write the package's bytecode first, as installing a wheel does.

    With ``PYTHONDONTWRITEBYTECODE=1`` (set on some machines, this one included) a source checkout is compiled
    from source in every fresh interpreter, while site-packages (aiohttp, msgspec) have their ``.pyc``: that
    compile time, not the package, was most of the measured first call.
    """
    import compileall

    compileall.compile_dir(str(ROOT / "openai_async"), quiet=1)


def instructions(contestant: str, family: str, url: str) -> int:
    proc = _run_child(contestant, family, url, prefix=[
        "valgrind", "--tool=cachegrind", "--cache-sim=no", "--cachegrind-out-file=/dev/null"])
    found = re.search(r"I\s+refs:\s+([\d,]+)", proc.stderr)
    if found is None:
        raise RuntimeError(f"no instruction count in valgrind's output:\n{proc.stderr[-2000:]}")
    return int(found.group(1).replace(",", ""))


def instruction_table(families: list[str], base_url: Any) -> None:
    bare = instructions("bare", "none", "")
    imp = {c: instructions(c, "none", "") - bare for c in ("ours", "floor")}
    print(f"instructions (valgrind, millions) beyond a bare interpreter ({bare / 1e6:.0f} M), load average "
          f"{os.getloadavg()[0]:.1f}\n")
    print("| family | ours import | ours first call | floor import | floor first call | ours/floor (import + first) |")
    print("| --- | --- | --- | --- | --- | --- |")
    for family in families:
        url = base_url(PREFIX[family])
        first = {c: instructions(c, family, url) - bare - imp[c] for c in ("ours", "floor")}
        ratio = (imp["ours"] + first["ours"]) / (imp["floor"] + first["floor"])
        print(f"| {family} | {imp['ours'] / 1e6:.0f} | {first['ours'] / 1e6:.0f} | {imp['floor'] / 1e6:.0f} | "
              f"{first['floor'] / 1e6:.0f} | {ratio:.2f}x |", flush=True)


def _result(proc: subprocess.CompletedProcess[str]) -> dict[str, float]:
    for line in proc.stdout.splitlines():
        if line.startswith("RESULT "):
            return ast.literal_eval(line[7:])  # type: ignore[no-any-return]
    raise RuntimeError(f"child failed: {proc.stderr[-2000:]}")


def importtime(family: str, url: str, top: int) -> None:
    proc = _run_child("ours", family, url, ["-X", "importtime"])
    _result(proc)
    rows = []
    after_import = False
    for line in proc.stderr.splitlines():
        m = re.match(r"import time:\s+(\d+) \|\s+(\d+) \|( *)(\S+)", line)
        if not m:
            continue
        self_us, cum_us, indent, name = int(m[1]), int(m[2]), len(m[3]), m[4]
        if name == "openai_async" and indent == 1:
            after_import = True
            print(f"`from openai_async import AsyncOpenAI`: {cum_us / 1e3:.1f} ms cumulative (under importtime)")
            continue
        if after_import:
            rows.append((self_us, name))
    total = sum(s for s, _ in rows)
    print(f"modules loaded by the first {family} call: {len(rows)}, {total / 1e3:.1f} ms self time in all\n")
    print("| module | self ms |\n| --- | --- |")
    for self_us, name in sorted(rows, reverse=True)[:top]:
        print(f"| {name} | {self_us / 1e3:.2f} |")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--child", nargs=3, metavar=("CONTESTANT", "FAMILY", "URL"), help=argparse.SUPPRESS)
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--families", default=",".join(FAMILIES))
    parser.add_argument("--importtime", metavar="FAMILY")
    parser.add_argument("--top", type=int, default=15)
    parser.add_argument("--instructions", action="store_true", help="valgrind instruction counts (minutes)")
    parser.add_argument("--no-compile", action="store_true", help="leave the package's bytecode as it is")
    args = parser.parse_args(argv)
    if args.child:
        child(*args.child)
        return 0
    sys.path.insert(0, str(BENCH_DIR))
    import _server

    families = args.importtime.split(",") if args.importtime else args.families.split(",")
    if not args.no_compile:
        compile_package()
    with _server.Nginx(_server.QUICK) as nginx:
        if args.instructions:
            instruction_table(families, nginx.base_url)
            return 0
        if args.importtime:
            for family in families:
                importtime(family, nginx.base_url(PREFIX[family]), args.top)
            return 0
        results: dict[tuple[str, str], list[dict[str, float]]] = {}
        for _ in range(args.reps):
            for family in families:
                for contestant in ("ours", "floor"):
                    proc = _run_child(contestant, family, nginx.base_url(PREFIX[family]))
                    results.setdefault((family, contestant), []).append(_result(proc))
    load = os.getloadavg()[0]
    print(f"cold start, {args.reps} fresh interpreters per cell (median), load average {load:.1f}, "
          f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}\n")
    print("| family | ours import CPU ms | ours first call CPU ms | floor import | floor first call "
          "| ours/floor (import + first) | ours RSS after import / first MiB | floor RSS MiB |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for family in families:
        med = {c: {k: statistics.median(r[k] for r in results[(family, c)]) for k in results[(family, c)][0]}
               for c in ("ours", "floor")}
        o, f = med["ours"], med["floor"]
        ratio = (o["import_ms"] + o["first_ms"]) / (f["import_ms"] + f["first_ms"])
        print(f"| {family} | {o['import_ms']:.1f} | {o['first_ms']:.1f} | {f['import_ms']:.1f} | "
              f"{f['first_ms']:.1f} | {ratio:.2f}x | {o['rss_import']:.1f} / {o['rss_first']:.1f} | "
              f"{f['rss_import']:.1f} / {f['rss_first']:.1f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
