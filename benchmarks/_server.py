"""Canned response bodies and a throw-away nginx that serves them on 127.0.0.1.

nginx (not Python) is the server so the server is never the bottleneck and costs the client nothing it would
not pay against the real API. Every body lives under its own URL prefix, so a contestant picks a body by its
``base_url`` alone (``http://127.0.0.1:PORT/<prefix>/v1``) and sends exactly the request it would send to the
real API.
"""

from __future__ import annotations

import array
import base64
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import msgspec

MODEL = "gpt-4o-mini"
CREATED = 1_763_900_000

# One prefix per canned body: prefix -> (path under /v1, content type).
CHAT = "chat"  # POST /v1/chat/completions -> one chat completion
STREAM_ONE = "s1"  # POST /v1/chat/completions -> SSE of sizes.stream_chunks chunks
STREAM_MANY = "sm"  # POST /v1/chat/completions -> SSE of sizes.multi_chunks chunks
RESPONSES = "resp"  # POST /v1/responses -> Responses SSE of sizes.resp_events deltas
RESPONSES_WARM = "respw"  # POST /v1/responses -> a short Responses SSE, for warming up
EMB_FLOAT = "embf"  # POST /v1/embeddings -> float embeddings
EMB_B64 = "embb"  # POST /v1/embeddings -> base64 embeddings
UPLOAD = "up"  # POST /v1/files -> a file object (nginx reads and drops the multipart body)

SSE_PREFIXES = (STREAM_ONE, STREAM_MANY, RESPONSES, RESPONSES_WARM)
WARM_EVENTS = 500


@dataclass(frozen=True)
class Sizes:
    """How much work each scenario does; ``quick`` shrinks everything that is not a fixed-size body."""

    chat_calls: int = 20_000
    chat_concurrency: int = 64
    latency_calls: int = 2_000
    stream_chunks: int = 20_000
    multi_streams: int = 256
    multi_chunks: int = 500
    resp_events: int = 20_000
    emb_rows: int = 256
    emb_dim: int = 1536
    emb_decodes: int = 5
    emb_calls: int = 5
    constructs: int = 100
    bulk_requests: int = 10_000
    upload_mib: int = 256


QUICK = Sizes(
    chat_calls=1_000,
    latency_calls=200,
    stream_chunks=2_000,
    multi_streams=64,
    multi_chunks=100,
    resp_events=2_000,
    emb_rows=64,
    emb_decodes=2,
    emb_calls=2,
    constructs=20,
    bulk_requests=1_000,
    upload_mib=32,
)


def _json(obj: object) -> bytes:
    return msgspec.json.encode(obj)


def token(i: int) -> str:
    """The i-th streamed text piece (short, like real tokens)."""
    return f"tok{i % 1000} "


def chat_completion() -> bytes:
    """A realistic non-streaming chat completion body."""
    return _json(
        {
            "id": "chatcmpl-BENCH0000000000000000000001",
            "object": "chat.completion",
            "created": CREATED,
            "model": MODEL,
            "choices": [
                {
                    "index": 0,
                    "message": {
                        "role": "assistant",
                        "content": "Hello! How can I help you today? This is a canned benchmark answer.",
                        "refusal": None,
                        "annotations": [],
                    },
                    "logprobs": None,
                    "finish_reason": "stop",
                }
            ],
            "usage": {
                "prompt_tokens": 19,
                "completion_tokens": 16,
                "total_tokens": 35,
                "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
                "completion_tokens_details": {
                    "reasoning_tokens": 0,
                    "audio_tokens": 0,
                    "accepted_prediction_tokens": 0,
                    "rejected_prediction_tokens": 0,
                },
            },
            "service_tier": "default",
            "system_fingerprint": "fp_bench",
        }
    )


def chat_stream(n: int) -> bytes:
    """An SSE body of ``n`` content chunks between a role chunk and a finish chunk, then ``[DONE]``."""

    def chunk(delta: dict[str, object], finish: str | None) -> bytes:
        return _json(
            {
                "id": "chatcmpl-BENCH0000000000000000000002",
                "object": "chat.completion.chunk",
                "created": CREATED,
                "model": MODEL,
                "service_tier": "default",
                "system_fingerprint": "fp_bench",
                "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}],
            }
        )

    parts = [b"data: " + chunk({"role": "assistant", "content": "", "refusal": None}, None) + b"\n\n"]
    parts.extend(b"data: " + chunk({"content": token(i)}, None) + b"\n\n" for i in range(n))
    parts.append(b"data: " + chunk({}, "stop") + b"\n\n")
    parts.append(b"data: [DONE]\n\n")
    return b"".join(parts)


def chat_stream_text(n: int) -> int:
    """Total characters of content a consumer of ``chat_stream(n)`` sees."""
    return sum(len(token(i)) for i in range(n))


def _response(status: str, text: str | None) -> dict[str, object]:
    output: list[object] = []
    if text is not None:
        output.append(
            {
                "id": "msg_bench0001",
                "type": "message",
                "status": "completed",
                "role": "assistant",
                "content": [{"type": "output_text", "text": text, "annotations": [], "logprobs": []}],
            }
        )
    return {
        "id": "resp_bench0001",
        "object": "response",
        "created_at": CREATED,
        "status": status,
        "background": False,
        "error": None,
        "incomplete_details": None,
        "instructions": None,
        "max_output_tokens": None,
        "model": MODEL,
        "output": output,
        "parallel_tool_calls": True,
        "previous_response_id": None,
        "reasoning": {"effort": None, "summary": None},
        "service_tier": "default",
        "store": True,
        "temperature": 1.0,
        "text": {"format": {"type": "text"}, "verbosity": "medium"},
        "tool_choice": "auto",
        "tools": [],
        "top_p": 1.0,
        "truncation": "disabled",
        "usage": (
            {
                "input_tokens": 9,
                "input_tokens_details": {"cached_tokens": 0},
                "output_tokens": 1000,
                "output_tokens_details": {"reasoning_tokens": 0},
                "total_tokens": 1009,
            }
            if text is not None
            else None
        ),
        "user": None,
        "metadata": {},
    }


def responses_stream(n: int) -> bytes:
    """A Responses SSE body: created, item/part added, ``n`` output_text deltas, the done events, completed."""
    seq = 0
    parts: list[bytes] = []

    def event(payload: dict[str, object]) -> None:
        nonlocal seq
        payload["sequence_number"] = seq
        seq += 1
        parts.append(b"event: " + str(payload["type"]).encode() + b"\ndata: " + _json(payload) + b"\n\n")

    text = "".join(token(i) for i in range(n))
    item = {
        "id": "msg_bench0001",
        "type": "message",
        "status": "in_progress",
        "role": "assistant",
        "content": [],
    }
    event({"type": "response.created", "response": _response("in_progress", None)})
    event({"type": "response.in_progress", "response": _response("in_progress", None)})
    event({"type": "response.output_item.added", "output_index": 0, "item": item})
    event(
        {
            "type": "response.content_part.added",
            "item_id": "msg_bench0001",
            "output_index": 0,
            "content_index": 0,
            "part": {"type": "output_text", "text": "", "annotations": [], "logprobs": []},
        }
    )
    for i in range(n):
        event(
            {
                "type": "response.output_text.delta",
                "item_id": "msg_bench0001",
                "output_index": 0,
                "content_index": 0,
                "delta": token(i),
                "logprobs": [],
            }
        )
    event(
        {
            "type": "response.output_text.done",
            "item_id": "msg_bench0001",
            "output_index": 0,
            "content_index": 0,
            "text": text,
            "logprobs": [],
        }
    )
    done_part = {"type": "output_text", "text": text, "annotations": [], "logprobs": []}
    event(
        {
            "type": "response.content_part.done",
            "item_id": "msg_bench0001",
            "output_index": 0,
            "content_index": 0,
            "part": done_part,
        }
    )
    event(
        {
            "type": "response.output_item.done",
            "output_index": 0,
            "item": {**item, "status": "completed", "content": [done_part]},
        }
    )
    event({"type": "response.completed", "response": _response("completed", text)})
    return b"".join(parts)


def embedding_vector(row: int, dim: int) -> list[float]:
    """Deterministic float32-exact values in (-1, 1), so float and base64 bodies carry the same numbers."""
    vec = array.array("f", (((row * 7919 + j * 104729) % 20011) / 10005.5 - 1.0 for j in range(dim)))
    return vec.tolist()


def embeddings(rows: int, dim: int, b64: bool) -> bytes:
    """A CreateEmbeddingResponse of ``rows`` x ``dim`` floats, as JSON numbers or as base64 float32."""
    data = []
    for i in range(rows):
        vec = embedding_vector(i, dim)
        emb: object = base64.b64encode(array.array("f", vec).tobytes()).decode() if b64 else vec
        data.append({"object": "embedding", "index": i, "embedding": emb})
    return _json(
        {
            "object": "list",
            "data": data,
            "model": "text-embedding-3-small",
            "usage": {"prompt_tokens": rows * 8, "total_tokens": rows * 8},
        }
    )


def file_object() -> bytes:
    """The answer to ``POST /v1/files``."""
    return _json({"id": "file-bench0001", "object": "file", "bytes": 0, "created_at": CREATED,
                  "filename": "upload.bin", "purpose": "batch", "status": "processed"})


def write_bodies(root: Path, sizes: Sizes) -> dict[str, bytes]:
    """Write every canned body under ``root`` at ``<prefix>/v1/<path>``; return the bodies by prefix."""
    bodies = {
        CHAT: ("chat/completions", chat_completion()),
        STREAM_ONE: ("chat/completions", chat_stream(sizes.stream_chunks)),
        STREAM_MANY: ("chat/completions", chat_stream(sizes.multi_chunks)),
        RESPONSES: ("responses", responses_stream(sizes.resp_events)),
        RESPONSES_WARM: ("responses", responses_stream(WARM_EVENTS)),
        EMB_FLOAT: ("embeddings", embeddings(sizes.emb_rows, sizes.emb_dim, b64=False)),
        EMB_B64: ("embeddings", embeddings(sizes.emb_rows, sizes.emb_dim, b64=True)),
        UPLOAD: ("files", file_object()),
    }
    for prefix, (path, body) in bodies.items():
        target = root / prefix / "v1" / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(body)
    (root / "ping").write_bytes(b"pong")
    return {prefix: body for prefix, (_, body) in bodies.items()}


NGINX_CONF = """\
# Generated by benchmarks/_server.py for one benchmark run; everything lives in {tmp}.
worker_processes 2;
daemon off;
pid {tmp}/nginx.pid;
error_log {tmp}/error.log warn;
{user}

events {{
    worker_connections 8192;
}}

http {{
    access_log off;
    server_tokens off;
    sendfile on;
    tcp_nopush on;
    tcp_nodelay on;
    keepalive_timeout 300s;
    keepalive_requests 10000000;
    client_max_body_size 0;  # uploads of any size (read and dropped)
    client_body_temp_path {tmp}/client_body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
    etag off;
    types {{ }}
    default_type application/json;

    server {{
        listen 127.0.0.1:{port} backlog=4096;
        root {tmp}/www;
        # The static module answers POST with 405; turn that into a 200 with the file (internal GET redirect).
        error_page 405 =200 $uri;

        location / {{ }}
        location ~ ^/({sse})/ {{
            default_type text/event-stream;
        }}
    }}
}}
"""


def nginx_binary() -> str:
    """Path of nginx, or raise with the install hint."""
    found = shutil.which("nginx") or next(
        (p for p in ("/usr/sbin/nginx", "/usr/local/sbin/nginx") if os.path.exists(p)), None
    )
    if found:
        return found
    if os.geteuid() == 0 and shutil.which("apt-get"):
        print("nginx not found: installing nginx-light with apt-get ...", flush=True)
        subprocess.run(["apt-get", "update", "-qq"], check=False)
        subprocess.run(["apt-get", "install", "-y", "-qq", "nginx-light"], check=True)
        # Debian starts the packaged service on port 80 after install; we only need the binary.
        subprocess.run(["service", "nginx", "stop"], check=False, capture_output=True)
        found = shutil.which("nginx") or "/usr/sbin/nginx"
        if os.path.exists(found):
            return found
    raise SystemExit("nginx is required: run `apt-get install -y nginx-light` (Debian/Ubuntu) and retry")


def nginx_version(binary: str) -> str:
    out = subprocess.run([binary, "-v"], capture_output=True, text=True)
    return (out.stderr or out.stdout).strip().split("/")[-1]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Nginx:
    """Context manager: write bodies + config to a temp dir, run nginx in the foreground, stop it on exit."""

    def __init__(self, sizes: Sizes) -> None:
        self.sizes = sizes
        self.binary = nginx_binary()
        self.port = 0
        self.tmp: Path | None = None
        self.proc: subprocess.Popen[bytes] | None = None
        self.bodies: dict[str, bytes] = {}

    def base_url(self, prefix: str) -> str:
        return f"http://127.0.0.1:{self.port}/{prefix}/v1"

    def __enter__(self) -> Nginx:
        self.tmp = Path(tempfile.mkdtemp(prefix="oa-bench-"))
        try:
            self._start()
        except BaseException:
            self.stop()
            raise
        return self

    def _start(self) -> None:
        assert self.tmp is not None
        www = self.tmp / "www"
        self.bodies = write_bodies(www, self.sizes)
        # nginx workers drop root privileges: let them read the files.
        for dirpath, _dirs, files in os.walk(self.tmp):
            os.chmod(dirpath, 0o755)
            for f in files:
                os.chmod(os.path.join(dirpath, f), 0o644)
        self.port = _free_port()
        conf = self.tmp / "nginx.conf"
        conf.write_text(
            NGINX_CONF.format(
                tmp=self.tmp,
                port=self.port,
                sse="|".join(SSE_PREFIXES),
                user="user root;" if os.geteuid() == 0 else "",
            )
        )
        self.proc = subprocess.Popen(
            [self.binary, "-p", str(self.tmp), "-c", str(conf), "-e", str(self.tmp / "error.log")],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            start_new_session=True,  # Ctrl-C goes to us; we stop nginx ourselves
            preexec_fn=_die_with_parent,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                err = self.proc.stderr.read().decode() if self.proc.stderr else ""
                log = (self.tmp / "error.log").read_text() if (self.tmp / "error.log").exists() else ""
                raise RuntimeError(f"nginx exited with {self.proc.returncode}: {err}{log}")
            try:
                if _http(self.port, "GET", "/ping")[1] == b"pong":
                    break
            except OSError:
                time.sleep(0.05)
        else:
            raise RuntimeError("nginx did not answer on 127.0.0.1 within 10 s")
        self._verify()

    def _verify(self) -> None:
        """POST and GET must both return the canned body with the right content type."""
        for prefix, path, ctype in (
            (CHAT, "chat/completions", "application/json"),
            (STREAM_MANY, "chat/completions", "text/event-stream"),
            (RESPONSES, "responses", "text/event-stream"),
        ):
            for method in ("POST", "GET"):
                headers, body = _http(self.port, method, f"/{prefix}/v1/{path}", b'{"model": "x"}')
                if body != self.bodies[prefix] or f"content-type: {ctype}" not in headers.lower():
                    raise RuntimeError(f"nginx check failed: {method} /{prefix}/v1/{path}: {headers!r}")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)  # fast shutdown of master + workers
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc is not None and self.proc.stderr:
            self.proc.stderr.close()
        self.proc = None
        if self.tmp is not None:
            shutil.rmtree(self.tmp, ignore_errors=True)
            self.tmp = None

    def __exit__(self, *exc: object) -> None:
        self.stop()


PIN = True
"""Split the cores between client and server (``run.py --no-pin`` turns it off)."""


def cores() -> tuple[set[int], set[int]] | None:
    """(client cores, server cores) when pinning is on and this machine has at least two to split, else None.

    The client runs on the first core and nginx on the others, so that neither steals the other's core
    mid-measurement (on 2 cores, sharing them made the per-chunk CPU figures bimodal, up to +70%).
    """
    if not PIN:
        return None
    try:
        available = sorted(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return None
    if len(available) < 2:
        return None
    return {available[0]}, set(available[1:])


def _die_with_parent() -> None:
    """In the nginx child before exec: get SIGTERM if the benchmark process dies without cleaning up (Linux),
    and stay off the client's core."""
    split = cores()
    if split is not None:
        os.sched_setaffinity(0, split[1])
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # 1 = PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def _http(port: int, method: str, path: str, body: bytes = b"") -> tuple[str, bytes]:
    """Minimal HTTP/1.0 request for start-up checks (no client library involved)."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        head = f"{method} {path} HTTP/1.0\r\nHost: 127.0.0.1\r\nContent-Length: {len(body)}\r\n"
        if body:
            head += "Content-Type: application/json\r\n"
        s.sendall(head.encode() + b"\r\n" + body)
        chunks = []
        while data := s.recv(1 << 20):
            chunks.append(data)
    raw = b"".join(chunks)
    headers, _, payload = raw.partition(b"\r\n\r\n")
    if not headers.startswith(b"HTTP/1.1 200"):
        raise RuntimeError(f"{method} {path}: {headers.decode(errors='replace')}")
    return headers.decode(), payload
