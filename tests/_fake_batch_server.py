"""A local fake of the Files, Uploads and Batch endpoints (plus the pollable vector store and fine-tuning objects).

It walks each batch through ``validating -> in_progress -> finalizing -> completed`` one step per retrieve (or
to ``failed``, ``expired`` or ``cancelled`` when scripted), sends ``openai-poll-after-ms`` on objects still being
processed, answers output and error files in shuffled order, and checks uploads strictly: parts must belong to
the upload, sizes must add up, and the md5 given on completion must match the bytes received.

Part bodies are parsed by hand from the raw stream (one header block, the bytes, the closing boundary) so a
gigabyte goes through at memory speed; with ``keep_part_bytes=False`` the bytes are only hashed, never kept.
"""

from __future__ import annotations

import hashlib
import itertools
import random
import time
from typing import Any

import msgspec
from aiohttp import web

__all__ = ["FakeOpenAI"]

_decode = msgspec.json.decode
_encode = msgspec.json.encode


def _error(status: int, message: str, code: str = "invalid_request_error") -> web.Response:
    body = {"error": {"message": message, "type": "invalid_request_error", "code": code, "param": None}}
    return web.json_response(body, status=status)


class FakeOpenAI:
    """State and handlers of the fake API; ``app()`` builds the aiohttp application.

    Args:
        outcomes: the final state of each batch created, in creation order (default all ``"completed"``):
            ``"completed"``, ``"failed"``, ``"expired"`` or ``"cancelled"``.
        poll_after_ms: the ``openai-poll-after-ms`` value sent on objects still in progress (None: no header).
        keep_part_bytes: keep upload parts in memory (needed to check the md5 of the whole file); when False
            only each part's size is kept and ``expected_md5`` is checked instead.
        max_requests / max_bytes: a batch input file over these limits fails validation, as the real API's.
        steps: retrieves a pollable vector store / fine-tuning object stays ``in_progress``/``running``.
    """

    def __init__(
        self,
        *,
        outcomes: list[str] | None = None,
        poll_after_ms: int | None = 5,
        keep_part_bytes: bool = True,
        expected_md5: str | None = None,
        max_requests: int = 50_000,
        max_bytes: int = 200 * 1024 * 1024,
        seed: int = 7,
        steps: int = 3,
    ) -> None:
        self.outcomes = list(outcomes or [])
        self.poll_after_ms = poll_after_ms
        self.keep_part_bytes = keep_part_bytes
        self.expected_md5 = expected_md5
        self.max_requests = max_requests
        self.max_bytes = max_bytes
        self.steps = steps
        self.rng = random.Random(seed)
        self.ids = itertools.count(1)
        self.files: dict[str, dict[str, Any]] = {}
        self.contents: dict[str, bytes] = {}
        self.uploads: dict[str, dict[str, Any]] = {}
        self.parts: dict[str, dict[str, Any]] = {}
        self.batches: dict[str, dict[str, Any]] = {}
        self.batch_inputs: dict[str, list[dict[str, Any]]] = {}
        self.pollables: dict[str, dict[str, Any]] = {}
        self.calls: list[tuple[float, str, str]] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self.fail_creates_after: int | None = None
        """Once this many batches exist, answer 500 to every further batch creation."""
        self.fail_parts_after: int | None = None
        """Once this many parts are stored, answer 500 to every further part, to test cancellation."""

    # -- plumbing ------------------------------------------------------------------------------------------

    def _id(self, prefix: str) -> str:
        return f"{prefix}_{next(self.ids):06d}"

    def _json(self, obj: dict[str, Any], *, polling: bool = False) -> web.Response:
        headers = {}
        if polling and self.poll_after_ms is not None:
            headers["openai-poll-after-ms"] = str(self.poll_after_ms)
        return web.Response(body=_encode(obj), content_type="application/json", headers=headers)

    @web.middleware
    async def _record(self, request: web.Request, handler: Any) -> web.StreamResponse:
        self.calls.append((time.monotonic(), request.method, request.path))
        return await handler(request)  # type: ignore[no-any-return]

    def app(self) -> web.Application:
        """The aiohttp application serving this fake under ``/v1``."""
        app = web.Application(middlewares=[self._record], client_max_size=1024**3)
        r = app.router
        r.add_post("/v1/files", self.create_file)
        r.add_get("/v1/files/{id}", self.retrieve_file)
        r.add_get("/v1/files/{id}/content", self.file_content)
        r.add_post("/v1/uploads", self.create_upload)
        r.add_post("/v1/uploads/{id}/parts", self.add_part)
        r.add_post("/v1/uploads/{id}/complete", self.complete_upload)
        r.add_post("/v1/uploads/{id}/cancel", self.cancel_upload)
        r.add_post("/v1/batches", self.create_batch)
        r.add_get("/v1/batches", self.list_batches)
        r.add_get("/v1/batches/{id}", self.retrieve_batch)
        r.add_post("/v1/batches/{id}/cancel", self.cancel_batch)
        r.add_post("/v1/vector_stores/{vs}/files", self.create_vs_file)
        r.add_get("/v1/vector_stores/{vs}/files/{id}", self.retrieve_pollable)
        r.add_post("/v1/vector_stores/{vs}/file_batches", self.create_vs_batch)
        r.add_get("/v1/vector_stores/{vs}/file_batches/{id}", self.retrieve_pollable)
        r.add_get("/v1/fine_tuning/jobs/{id}", self.retrieve_job)
        r.add_get("/v1/fine_tuning/jobs/{id}/events", self.list_job_events)
        return app

    def calls_to(self, method: str, prefix: str) -> list[float]:
        """Times of the calls with this method whose path starts with ``prefix``."""
        return [t for t, m, p in self.calls if m == method and p.startswith(prefix)]

    # -- files ---------------------------------------------------------------------------------------------

    def add_file(
        self, content: bytes, *, purpose: str, filename: str, status: str = "processed"
    ) -> dict[str, Any]:
        """Store a file as if uploaded; returns its File object."""
        file_id = self._id("file")
        obj = {
            "id": file_id,
            "object": "file",
            "bytes": len(content),
            "created_at": int(time.time()),
            "filename": filename,
            "purpose": purpose,
            "status": status,
        }
        self.files[file_id] = obj
        self.contents[file_id] = content
        return obj

    async def create_file(self, request: web.Request) -> web.Response:
        form = await request.post()
        upload = form.get("file")
        purpose = form.get("purpose")
        if not isinstance(upload, web.FileField) or not isinstance(purpose, str):
            return _error(400, "file and purpose are required")
        content = upload.file.read()
        return self._json(self.add_file(content, purpose=purpose, filename=upload.filename))

    async def retrieve_file(self, request: web.Request) -> web.Response:
        obj = self.files.get(request.match_info["id"])
        if obj is None:
            return _error(404, "No such file", "not_found")
        return self._json(obj)

    async def file_content(self, request: web.Request) -> web.Response:
        content = self.contents.get(request.match_info["id"])
        if content is None:
            return _error(404, "No such file", "not_found")
        return web.Response(body=content, content_type="application/octet-stream")

    # -- uploads -------------------------------------------------------------------------------------------

    async def create_upload(self, request: web.Request) -> web.Response:
        body = _decode(await request.read())
        for key in ("filename", "purpose", "bytes", "mime_type"):
            if key not in body:
                return _error(400, f"missing {key}")
        upload_id = self._id("upload")
        self.uploads[upload_id] = {
            "id": upload_id,
            "object": "upload",
            "status": "pending",
            "filename": body["filename"],
            "purpose": body["purpose"],
            "bytes": body["bytes"],
            "mime_type": body["mime_type"],
            "created_at": int(time.time()),
            "expires_at": int(time.time()) + 3600,
        }
        return self._json(self.uploads[upload_id])

    async def add_part(self, request: web.Request) -> web.Response:
        upload = self.uploads.get(request.match_info["id"])
        if upload is None or upload["status"] != "pending":
            return _error(404, "No such pending upload", "not_found")
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            size, digest, data = await self._read_part(request)
        finally:
            self.in_flight -= 1
        stored = sum(1 for p in self.parts.values() if p["upload_id"] == upload["id"])
        if self.fail_parts_after is not None and stored >= self.fail_parts_after:
            return _error(500, "part storage failed", "server_error")
        part_id = self._id("part")
        self.parts[part_id] = {
            "id": part_id,
            "upload_id": upload["id"],
            "size": size,
            "md5": digest,
            "data": data,
        }
        return self._json(
            {
                "id": part_id,
                "object": "upload.part",
                "upload_id": upload["id"],
                "created_at": int(time.time()),
            }
        )

    async def _read_part(self, request: web.Request) -> tuple[int, str, bytes | None]:
        """Stream one ``multipart/form-data`` body with a single ``data`` field; hash (and maybe keep) the bytes."""
        ctype = request.headers.get("Content-Type", "")
        if not ctype.startswith("multipart/form-data") or "boundary=" not in ctype:
            raise web.HTTPBadRequest(text="expected multipart/form-data")
        boundary = ctype.split("boundary=", 1)[1].split(";")[0].strip().strip('"').encode()
        closing = b"\r\n--" + boundary
        hold = len(closing) + 8  # never hash bytes that may turn out to be the closing boundary
        digest = hashlib.md5(usedforsecurity=False)
        kept: list[bytes] | None = [] if self.keep_part_bytes else None
        head = b""
        buffer = b""
        in_body = False
        size = 0
        async for chunk in request.content.iter_any():
            if not in_body:
                head += chunk
                end = head.find(b"\r\n\r\n")
                if end < 0:
                    continue
                headers = head[:end]
                if not headers.startswith(b"--" + boundary) or b'name="data"' not in headers:
                    raise web.HTTPBadRequest(text="the part field must be named data")
                in_body = True
                chunk = head[end + 4 :]
            buffer += chunk
            if len(buffer) > hold:
                ready = buffer[:-hold]
                buffer = buffer[-hold:]
                digest.update(ready)
                size += len(ready)
                if kept is not None:
                    kept.append(ready)
        cut = buffer.rfind(closing)
        if not in_body or cut < 0:
            raise web.HTTPBadRequest(text="truncated multipart body")
        digest.update(buffer[:cut])
        size += cut
        if kept is not None:
            kept.append(buffer[:cut])
        return size, digest.hexdigest(), b"".join(kept) if kept is not None else None

    async def complete_upload(self, request: web.Request) -> web.Response:
        upload = self.uploads.get(request.match_info["id"])
        if upload is None or upload["status"] != "pending":
            return _error(404, "No such pending upload", "not_found")
        body = _decode(await request.read())
        part_ids = body.get("part_ids") or []
        parts = [self.parts.get(pid) for pid in part_ids]
        if any(p is None or p["upload_id"] != upload["id"] for p in parts):
            return _error(400, "unknown part id")
        if len(set(part_ids)) != len(part_ids):
            return _error(400, "duplicate part id")
        total = sum(p["size"] for p in parts)  # type: ignore[index]
        if total != upload["bytes"]:
            return _error(400, f"parts add up to {total} bytes, the upload declared {upload['bytes']}")
        md5 = body.get("md5")
        content = b""
        if self.keep_part_bytes:
            content = b"".join(p["data"] for p in parts)  # type: ignore[index]
            expected = hashlib.md5(content, usedforsecurity=False).hexdigest()
        else:
            expected = self.expected_md5
        if md5 is not None and expected is not None and md5 != expected:
            return _error(400, f"md5 mismatch: got {md5}, the parts hash to {expected}")
        upload["status"] = "completed"
        upload["md5"] = md5
        upload["part_ids"] = part_ids
        upload["file"] = self.add_file(content, purpose=upload["purpose"], filename=upload["filename"])
        return self._json(upload)

    async def cancel_upload(self, request: web.Request) -> web.Response:
        upload = self.uploads.get(request.match_info["id"])
        if upload is None:
            return _error(404, "No such upload", "not_found")
        upload["status"] = "cancelled"
        return self._json(upload)

    # -- batches -------------------------------------------------------------------------------------------

    async def create_batch(self, request: web.Request) -> web.Response:
        body = _decode(await request.read())
        if self.fail_creates_after is not None and len(self.batches) >= self.fail_creates_after:
            return _error(500, "batch creation failed", "server_error")
        content = self.contents.get(body.get("input_file_id", ""))
        if content is None:
            return _error(400, "input file not found")
        if body.get("completion_window") != "24h" or not str(body.get("endpoint", "")).startswith("/v1/"):
            return _error(400, "bad completion_window or endpoint")
        batch_id = self._id("batch")
        outcome = self.outcomes.pop(0) if self.outcomes else "completed"
        errors: list[dict[str, Any]] = []
        requests: list[dict[str, Any]] = []
        seen: set[str] = set()
        for line_no, line in enumerate(content.splitlines(), 1):
            item = _decode(line)
            requests.append(item)
            if item.get("url") != body["endpoint"] or item.get("method") != "POST":
                errors.append({"code": "invalid_request", "message": "url/method mismatch", "line": line_no})
            if item.get("custom_id") in seen:
                errors.append(
                    {"code": "duplicate_custom_id", "message": "duplicate custom_id", "line": line_no}
                )
            seen.add(item.get("custom_id"))
        if len(requests) > self.max_requests or len(content) > self.max_bytes:
            errors.append({"code": "too_large", "message": "input file over the batch limits", "line": None})
        if errors:
            outcome = "failed"
        self.batch_inputs[batch_id] = requests
        batch = {
            "id": batch_id,
            "object": "batch",
            "endpoint": body["endpoint"],
            "status": "validating",
            "input_file_id": body["input_file_id"],
            "completion_window": "24h",
            "created_at": int(time.time()),
            "metadata": body.get("metadata"),
            "request_counts": {"total": 0, "completed": 0, "failed": 0},
            "output_file_id": None,
            "error_file_id": None,
            "errors": None,
            "_outcome": outcome,
            "_steps": 0,
            "_read": False,
            "_errors": errors,
        }
        self.batches[batch_id] = batch
        return self._json(self._public(batch), polling=True)

    async def list_batches(self, request: web.Request) -> web.Response:
        newest_first = [self._public(b) for b in reversed(self.batches.values())]
        after = request.query.get("after")
        limit = int(request.query.get("limit", "20"))
        start = next((i + 1 for i, b in enumerate(newest_first) if b["id"] == after), 0) if after else 0
        page = newest_first[start : start + limit]
        return self._json(
            {
                "object": "list",
                "data": page,
                "has_more": start + limit < len(newest_first),
                "first_id": page[0]["id"] if page else None,
                "last_id": page[-1]["id"] if page else None,
            }
        )

    @staticmethod
    def _public(batch: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in batch.items() if not k.startswith("_")}

    async def retrieve_batch(self, request: web.Request) -> web.Response:
        batch = self.batches.get(request.match_info["id"])
        if batch is None:
            return _error(404, "No such batch", "not_found")
        if batch["_read"]:  # the first read still shows the state the batch was created in
            self._advance(batch)
        batch["_read"] = True
        final = batch["status"] in ("completed", "failed", "expired", "cancelled")
        return self._json(self._public(batch), polling=not final)

    async def cancel_batch(self, request: web.Request) -> web.Response:
        batch = self.batches.get(request.match_info["id"])
        if batch is None:
            return _error(404, "No such batch", "not_found")
        batch["_outcome"] = "cancelled"
        batch["status"] = "cancelling"
        return self._json(self._public(batch), polling=True)

    def _advance(self, batch: dict[str, Any]) -> None:
        requests = self.batch_inputs[batch["id"]]
        n = len(requests)
        outcome = batch["_outcome"]
        status = batch["status"]
        batch["_steps"] += 1
        if status == "validating":
            if outcome == "failed":
                batch["status"] = "failed"
                batch["failed_at"] = int(time.time())
                batch["errors"] = {
                    "object": "list",
                    "data": batch["_errors"]
                    or [{"code": "failed", "message": "the batch failed", "line": None}],
                }
                return
            batch["status"] = "in_progress"
            batch["request_counts"] = {"total": n, "completed": 0, "failed": 0}
        elif status == "in_progress":
            done = min(n, batch["request_counts"]["completed"] + max(1, n // 2))
            if outcome in ("expired", "cancelled") and done >= n // 2:
                self._finish(batch, upto=n // 2, final="expired" if outcome == "expired" else "cancelled")
                return
            batch["request_counts"]["completed"] = done
            if done >= n:
                batch["status"] = "finalizing"
        elif status == "cancelling":
            self._finish(batch, upto=n // 2, final="cancelled")
        elif status == "finalizing":
            self._finish(batch, upto=n, final="completed")

    def _finish(self, batch: dict[str, Any], *, upto: int, final: str) -> None:
        """Write the output and error files (shuffled) and move the batch to its final state."""
        requests = self.batch_inputs[batch["id"]]
        out_lines: list[bytes] = []
        err_lines: list[bytes] = []
        for index, item in enumerate(requests):
            cid = item["custom_id"]
            rid = self._id("batch_req")
            if index >= upto:
                code = "batch_expired" if final == "expired" else "batch_cancelled"
                err_lines.append(
                    _encode(
                        {
                            "id": rid,
                            "custom_id": cid,
                            "response": None,
                            "error": {"code": code, "message": f"the batch was {final}"},
                        }
                    )
                )
            elif (item.get("body") or {}).get("fail"):
                body = {"error": {"message": "bad request", "type": "invalid_request_error", "code": "bad"}}
                err_lines.append(
                    _encode(
                        {
                            "id": rid,
                            "custom_id": cid,
                            "error": None,
                            "response": {"status_code": 400, "request_id": f"req_{rid}", "body": body},
                        }
                    )
                )
            else:
                out_lines.append(
                    _encode(
                        {
                            "id": rid,
                            "custom_id": cid,
                            "error": None,
                            "response": {
                                "status_code": 200,
                                "request_id": f"req_{rid}",
                                "body": self._answer(batch["endpoint"], item),
                            },
                        }
                    )
                )
        self.rng.shuffle(out_lines)
        self.rng.shuffle(err_lines)
        counts = {"total": len(requests), "completed": len(out_lines), "failed": len(err_lines)}
        batch["request_counts"] = counts
        if out_lines:
            out = self.add_file(
                b"\n".join(out_lines) + b"\n", purpose="batch_output", filename="output.jsonl"
            )
            batch["output_file_id"] = out["id"]
        if err_lines:
            err = self.add_file(
                b"\n".join(err_lines) + b"\n", purpose="batch_output", filename="errors.jsonl"
            )
            batch["error_file_id"] = err["id"]
        batch["status"] = final
        batch[f"{final}_at"] = int(time.time())

    @staticmethod
    def _answer(endpoint: str, item: dict[str, Any]) -> dict[str, Any]:
        body = item.get("body") or {}
        if endpoint == "/v1/embeddings":
            return {
                "object": "list",
                "model": body.get("model"),
                "data": [
                    {"object": "embedding", "index": 0, "embedding": [0.5, float(len(item["custom_id"]))]}
                ],
                "usage": {"prompt_tokens": 1, "total_tokens": 1},
            }
        messages = body.get("messages") or [{}]
        return {
            "id": f"chatcmpl-{item['custom_id']}",
            "object": "chat.completion",
            "created": 0,
            "model": body.get("model", "gpt-test"),
            "choices": [
                {
                    "index": 0,
                    "finish_reason": "stop",
                    "message": {"role": "assistant", "content": f"echo: {messages[-1].get('content')}"},
                }
            ],
            "usage": {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5},
        }

    # -- pollable objects: vector store files / file batches, fine-tuning jobs ----------------------------

    def _pollable(self, obj: dict[str, Any]) -> dict[str, Any]:
        obj["_reads"] = 0
        self.pollables[obj["id"]] = obj
        return obj

    async def create_vs_file(self, request: web.Request) -> web.Response:
        body = _decode(await request.read())
        obj = self._pollable(
            {
                "id": body["file_id"],
                "object": "vector_store.file",
                "status": "in_progress",
                "vector_store_id": request.match_info["vs"],
                "usage_bytes": 0,
            }
        )
        return self._json(self._public(obj), polling=True)

    async def create_vs_batch(self, request: web.Request) -> web.Response:
        body = _decode(await request.read())
        ids = body.get("file_ids") or []
        obj = self._pollable(
            {
                "id": self._id("vsfb"),
                "object": "vector_store.files_batch",
                "status": "in_progress",
                "vector_store_id": request.match_info["vs"],
                "_file_ids": ids,
                "file_counts": {
                    "in_progress": len(ids),
                    "completed": 0,
                    "failed": 0,
                    "cancelled": 0,
                    "total": len(ids),
                },
            }
        )
        return self._json(self._public(obj), polling=True)

    async def retrieve_pollable(self, request: web.Request) -> web.Response:
        obj = self.pollables.get(request.match_info["id"])
        if obj is None:
            return _error(404, "not found", "not_found")
        obj["_reads"] += 1
        if obj["status"] == "in_progress" and obj["_reads"] >= self.steps:
            obj["status"] = "completed"
            if "file_counts" in obj:
                n = obj["file_counts"]["total"]
                obj["file_counts"].update(in_progress=0, completed=n)
        return self._json(self._public(obj), polling=obj["status"] == "in_progress")

    def add_job(self, job_id: str, *, final: str = "succeeded", events_per_read: int = 2) -> None:
        """A fine-tuning job that logs ``events_per_read`` events per retrieve and ends after ``steps`` reads."""
        self._pollable(
            {
                "id": job_id,
                "object": "fine_tuning.job",
                "status": "running",
                "_final": final,
                "_per": events_per_read,
                "_events": [],
            }
        )

    async def retrieve_job(self, request: web.Request) -> web.Response:
        job = self.pollables.get(request.match_info["id"])
        if job is None:
            return _error(404, "not found", "not_found")
        job["_reads"] += 1
        for _ in range(job["_per"]):
            n = len(job["_events"]) + 1
            job["_events"].append(
                {
                    "id": f"ftevent-{n:04d}",
                    "object": "fine_tuning.job.event",
                    "created_at": n,
                    "level": "info",
                    "message": f"step {n}",
                    "type": "message",
                }
            )
        if job["status"] == "running" and job["_reads"] >= self.steps:
            job["status"] = job["_final"]
        return self._json(self._public(job), polling=job["status"] == "running")

    async def list_job_events(self, request: web.Request) -> web.Response:
        job = self.pollables.get(request.match_info["id"])
        if job is None:
            return _error(404, "not found", "not_found")
        newest_first = list(reversed(job["_events"]))
        after = request.query.get("after")
        limit = int(request.query.get("limit", "20"))
        start = next((i + 1 for i, e in enumerate(newest_first) if e["id"] == after), 0) if after else 0
        page = newest_first[start : start + limit]
        return self._json({"object": "list", "data": page, "has_more": start + limit < len(newest_first)})
