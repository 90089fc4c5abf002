"""The per-call cost of the send path (``Session.request`` and the transport) against a loopback server.

    .venv/bin/python benchmarks/send_path.py [--calls 3000] [--reps 7] [--concurrency 1]

The server is a raw asyncio protocol in a child process that answers every request with one canned chat
completion over keep-alive, so it costs the client nothing. The figure is the best of ``--reps`` runs of client
CPU per call (``time.process_time``), for ``chat.completions.create`` (JSON in, a typed object out).
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import socket
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from openai_async import AsyncOpenAI

_BODY = (
    b'{"id":"chatcmpl-1","object":"chat.completion","created":1763900000,"model":"gpt-4o-mini",'
    b'"choices":[{"index":0,"message":{"role":"assistant","content":"Hello there!"},"finish_reason":"stop"}],'
    b'"usage":{"prompt_tokens":5,"completion_tokens":3,"total_tokens":8}}'
)
_REPLY = (
    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nx-request-id: req_1\r\n"
    b"Content-Length: " + str(len(_BODY)).encode() + b"\r\n\r\n" + _BODY
)


class _Echo(asyncio.Protocol):
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport
        self.buffer = b""

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while True:
            head_end = self.buffer.find(b"\r\n\r\n")
            if head_end < 0:
                return
            head = self.buffer[:head_end].lower()
            length = 0
            for line in head.split(b"\r\n"):
                if line.startswith(b"content-length:"):
                    length = int(line.split(b":", 1)[1])
            end = head_end + 4 + length
            if len(self.buffer) < end:
                return
            self.buffer = self.buffer[end:]
            self.transport.write(_REPLY)  # type: ignore[attr-defined]


def _serve(sock: socket.socket) -> None:
    async def main() -> None:
        server = await asyncio.get_running_loop().create_server(_Echo, sock=sock)
        await server.serve_forever()

    asyncio.run(main())


async def _run(base_url: str, calls: int, concurrency: int) -> float:
    async with AsyncOpenAI(api_key="sk-bench", base_url=base_url) as client:
        messages = [{"role": "user", "content": "Hi"}]

        async def worker(n: int) -> None:
            for _ in range(n):
                await client.chat.completions.create(model="gpt-4o-mini", messages=messages)

        await worker(50)  # warm the pool and the decoders
        started = time.process_time()
        await asyncio.gather(*(worker(calls // concurrency) for _ in range(concurrency)))
        return (time.process_time() - started) / calls


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=3000)
    parser.add_argument("--reps", type=int, default=7)
    parser.add_argument("--concurrency", type=int, default=1)
    args = parser.parse_args()
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    child = multiprocessing.Process(target=_serve, args=(sock,), daemon=True)
    child.start()
    base_url = f"http://127.0.0.1:{sock.getsockname()[1]}/v1"
    try:
        best = min(asyncio.run(_run(base_url, args.calls, args.concurrency)) for _ in range(args.reps))
    finally:
        child.terminate()
    print(f"client CPU per call: {best * 1e6:.1f} us (best of {args.reps} x {args.calls}, "
          f"concurrency {args.concurrency})")


if __name__ == "__main__":
    main()
