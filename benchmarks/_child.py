"""One repetition of one scenario for one contestant, in a fresh interpreter (started by run.py).

Only the standard library is imported here, so a contestant's process holds nothing but what it needs.
Each scenario warms up first (connections, lazy imports, decoder caches), collects garbage, then measures
its section with ``resource.getrusage(RUSAGE_SELF)`` (user + sys CPU), ``perf_counter`` and the peak RSS of
the process (``VmHWM`` in /proc/self/status: ``ru_maxrss`` would also count the parent's RSS at fork time).
The last stdout line is ``RESULT {...}`` (a Python literal), or ``RESULT {'error': ...}``.
"""

from __future__ import annotations

import ast
import asyncio
import gc
import importlib
import os
import resource
import sys
import tempfile
import time
import traceback
from collections.abc import Awaitable, Callable
from typing import Any

MODULES = {"ours": "_ours", "floor": "_floor", "openai": "_official", "openai-aiohttp": "_official"}
MODEL = "gpt-4o-mini"
MESSAGES = [{"role": "user", "content": "Say hello."}]
EMB_MODEL = "text-embedding-3-small"


def peak_rss_kib() -> int:
    """Peak resident set size of this process so far, KiB (Linux ``VmHWM``, reset by exec unlike ru_maxrss)."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


class Meter:
    """CPU (user+sys), wall time and peak RSS around one measured section."""

    def __enter__(self) -> Meter:
        gc.collect()
        self.hwm0 = peak_rss_kib()
        self.r0 = resource.getrusage(resource.RUSAGE_SELF)
        self.t0 = time.perf_counter()
        return self

    def __exit__(self, *exc: object) -> None:
        self.t1 = time.perf_counter()
        self.r1 = resource.getrusage(resource.RUSAGE_SELF)
        self.hwm1 = peak_rss_kib()

    @property
    def cpu(self) -> float:
        r0, r1 = self.r0, self.r1
        return (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)

    @property
    def wall(self) -> float:
        return self.t1 - self.t0

    def rss(self) -> dict[str, float]:
        return {"peak_rss_mib": self.hwm1 / 1024, "rss_growth_mib": (self.hwm1 - self.hwm0) / 1024}


def check(what: str, got: object, want: object) -> None:
    if got != want:
        raise AssertionError(f"{what}: got {got!r}, want {want!r}")


async def run_concurrently(
    call: Callable[[], Awaitable[object]], n: int, concurrency: int, want: object
) -> None:
    remaining = n

    async def worker() -> None:
        nonlocal remaining
        while remaining > 0:
            remaining -= 1
            got = await call()
            if got != want:
                check("result", got, want)

    await asyncio.gather(*(worker() for _ in range(min(concurrency, n))))


async def scenario(mod: Any, name: str, a: dict[str, Any]) -> dict[str, float]:
    sizes, urls, expect = a["sizes"], a["urls"], a["expect"]

    if name in ("chat", "latency"):
        client = mod.Client(urls["chat"])
        try:

            async def call() -> object:
                return await client.chat(MODEL, MESSAGES)

            want = expect["chat_content"]
            if name == "chat":
                n, conc = sizes["chat_calls"], sizes["chat_concurrency"]
                await run_concurrently(call, conc * 4, conc, want)
                with Meter() as m:
                    await run_concurrently(call, n, conc, want)
                return {"cpu_us_per_call": m.cpu / n * 1e6, "calls_per_s": n / m.wall, "wall_s": m.wall}
            n = sizes["latency_calls"]
            await run_concurrently(call, 50, 1, want)
            times = []
            with Meter() as m:
                for _ in range(n):
                    t0 = time.perf_counter()
                    got = await call()
                    times.append(time.perf_counter() - t0)
                    if got != want:
                        check("result", got, want)
            times.sort()
            return {
                "latency_p50_us": times[len(times) // 2] * 1e6,
                "latency_p99_us": times[int(len(times) * 0.99)] * 1e6,
                "cpu_us_per_call": m.cpu / n * 1e6,
            }
        finally:
            await client.close()

    if name in ("stream", "chat_helper"):
        client = mod.Client(urls["s1"])
        try:
            want, chunks = expect["s1_chars"], sizes["stream_chunks"]
            run = client.chat_stream if name == "stream" else client.chat_helper
            await warm_up(mod, urls["sm"], run.__name__, expect["sm_chars"])
            with Meter() as m:
                got = await run(MODEL, MESSAGES)
            check("stream chars", got, want)
            return {"cpu_us_per_chunk": m.cpu / chunks * 1e6, "wall_ms": m.wall * 1e3, **m.rss()}
        finally:
            await client.close()

    if name == "streams":
        client = mod.Client(urls["sm"])
        try:
            want, streams, chunks = expect["sm_chars"], sizes["multi_streams"], sizes["multi_chunks"]

            async def one() -> object:
                return await client.chat_stream(MODEL, MESSAGES)

            await run_concurrently(one, 16, 16, want)
            with Meter() as m:
                await run_concurrently(one, streams, streams, want)
            return {"cpu_us_per_chunk": m.cpu / (streams * chunks) * 1e6, "wall_ms": m.wall * 1e3, **m.rss()}
        finally:
            await client.close()

    if name in ("responses", "responses_helper"):
        client = mod.Client(urls["resp"])
        try:
            run = client.responses_stream if name == "responses" else client.responses_helper
            want, events = expect["resp_chars"], sizes["resp_events"]
            await warm_up(mod, urls["respw"], run.__name__, expect["respw_chars"])
            with Meter() as m:
                got = await run(MODEL, "Say hello.")
            check("delta chars", got, want)
            return {"cpu_us_per_event": m.cpu / events * 1e6, "wall_ms": m.wall * 1e3, **m.rss()}
        finally:
            await client.close()

    if name == "bulk":
        client = mod.Client(urls["chat"])
        try:
            n, conc = sizes["bulk_requests"], sizes["chat_concurrency"]
            with tempfile.TemporaryDirectory() as tmp:
                await client.bulk(MODEL, MESSAGES, conc * 4, conc, os.path.join(tmp, "warm.jsonl"))
                path = os.path.join(tmp, "results.jsonl")
                with Meter() as m:
                    done = await client.bulk(MODEL, MESSAGES, n, conc, path)
                check("bulk results", done, n)
                with open(path, "rb") as f:  # noqa: ASYNC230 (after the measured section)
                    check("result lines", sum(1 for _ in f), n)
            return {"cpu_us_per_request": m.cpu / n * 1e6, "requests_per_cpu_s": n / m.cpu, "wall_s": m.wall}
        finally:
            await client.close()

    if name == "upload":
        client = mod.Client(urls["up"])
        try:
            with tempfile.TemporaryDirectory() as tmp:
                small, big = os.path.join(tmp, "warm.bin"), os.path.join(tmp, "upload.bin")
                size = sizes["upload_mib"] << 20
                for path, n in ((small, 1 << 20), (big, size)):
                    with open(path, "wb") as f:  # noqa: ASYNC230 (set-up, before the measured section)
                        f.truncate(n)  # sparse: the page cache serves it, the disk is not measured
                check("warm-up upload", await client.upload(small), "file-bench0001")
                with Meter() as m:
                    got = await client.upload(big)
                check("upload", got, "file-bench0001")
            return {"cpu_ms": m.cpu * 1e3, "mib_per_s": size / (1 << 20) / m.wall, **m.rss()}
        finally:
            await client.close()

    if name == "embed_decode":
        out: dict[str, Any] = {}
        for kind, b64 in (("float", False), ("b64", True)):
            out.update(await guarded(kind, embed_decode(mod, a, b64)))
        return out

    if name == "embed_call":
        out = {}
        for kind, b64 in (("float", False), ("b64", True)):
            out.update(await guarded(kind, embed_call(mod, a, b64)))
        return out

    if name == "construct":
        n = sizes["constructs"]
        for obj in [mod.construct(urls["chat"]) for _ in range(5)]:
            await mod.destroy(obj)
        url = urls["chat"]
        with Meter() as m:
            objs = [mod.construct(url) for _ in range(n)]
        for obj in objs:
            await mod.destroy(obj)
        return {"cpu_us_per_client": m.cpu / n * 1e6, "wall_us_per_client": m.wall / n * 1e6}

    raise ValueError(f"unknown scenario {name!r}")


async def warm_up(mod: Any, url: str, method: str, want: object) -> None:
    """Warm a stream scenario on a short body with a separate client (imports, caches, decoders)."""
    client = mod.Client(url)
    try:
        args = (MODEL, MESSAGES) if method.startswith("chat") else (MODEL, "Say hello.")
        check("warm-up result", await getattr(client, method)(*args), want)
    finally:
        await client.close()


async def guarded(kind: str, work: Awaitable[dict[str, float]]) -> dict[str, Any]:
    """One variant failing (say base64) leaves the other's numbers and names the error per metric."""
    try:
        return await work
    except Exception as exc:
        msg = first_line(exc)
        return {f"error:cpu_ms_{kind}": msg, f"error:wall_ms_{kind}": msg}


async def embed_decode(mod: Any, a: dict[str, Any], b64: bool) -> dict[str, float]:
    kind = "b64" if b64 else "float"
    data = a["bodies"]["embb" if b64 else "embf"]
    decoder = mod.Decoder(b64)
    try:
        check_vectors(await decoder.decode(data), a["expect"])
        k = a["sizes"]["emb_decodes"]
        with Meter() as m:
            for _ in range(k):
                await decoder.decode(data)
        return {f"cpu_ms_{kind}": m.cpu / k * 1e3}
    finally:
        await decoder.close()


async def embed_call(mod: Any, a: dict[str, Any], b64: bool) -> dict[str, float]:
    kind = "b64" if b64 else "float"
    inputs = [f"text number {i}" for i in range(a["sizes"]["emb_rows"])]
    client = mod.Client(a["urls"]["embb" if b64 else "embf"])
    try:
        check_vectors(await client.embeddings(EMB_MODEL, inputs, b64), a["expect"])
        k = a["sizes"]["emb_calls"]
        with Meter() as m:
            for _ in range(k):
                await client.embeddings(EMB_MODEL, inputs, b64)
        return {f"cpu_ms_{kind}": m.cpu / k * 1e3, f"wall_ms_{kind}": m.wall / k * 1e3}
    finally:
        await client.close()


def check_vectors(vectors: list[list[float]], expect: dict[str, Any]) -> None:
    check("rows", len(vectors), expect["emb_rows"])
    check("dim", len(vectors[-1]), expect["emb_dim"])
    check("first values", [round(x, 5) for x in vectors[0][:4]], expect["emb_head"])


def first_line(exc: BaseException) -> str:
    detail = "".join(traceback.format_exception_only(type(exc), exc)).strip().splitlines()
    return detail[0] if detail else type(exc).__name__


def main() -> None:
    a = ast.literal_eval(sys.argv[1])
    try:
        sys.path.insert(0, a["bench_dir"])
        mod = importlib.import_module(MODULES[a["contestant"]])
        a["bodies"] = {}
        if a["scenario"] == "embed_decode":
            for prefix, path in a["files"].items():
                with open(path, "rb") as f:
                    a["bodies"][prefix] = f.read()
        if os.environ.get("BENCH_UVLOOP"):
            import uvloop

            result: dict[str, Any] = uvloop.run(scenario(mod, a["scenario"], a))
        else:
            result = asyncio.run(scenario(mod, a["scenario"], a))
    except BaseException as exc:  # report, never crash the run
        result = {"error": first_line(exc)}
        traceback.print_exc(file=sys.stderr)
    print("RESULT " + repr(result), flush=True)


if __name__ == "__main__":
    main()
