"""FakeOpenAI's defaults for the slow APIs: Batch, Uploads, fine-tuning jobs and vector stores.

Their objects live in memory and move one step per read, never on a clock, so code that polls them finishes in
a few round trips:

- a batch goes ``validating -> in_progress -> finalizing -> completed`` over successive retrieves (``failed``
  when an input line is malformed; ``cancelling -> cancelled`` after a cancel). Its output file holds one line
  per request, answered by the same defaults as a direct call (a chat request gets the echoing chat default), in
  a shuffled order, since the real API does not keep input order; non-2xx answers go to the error file.
- an upload takes parts of at most 64 MB and completes into a File when they add up to the declared ``bytes``
  (and to the ``md5``, when one is given).
- a fine-tuning job goes ``validating_files -> queued -> running -> succeeded`` over four retrieves, logging
  events and checkpoints on the way, and ends with a ``fine_tuned_model`` and a result file.
- a file attached to a vector store (alone or in a file batch) is ``in_progress`` in the create response and
  ``completed`` from the next read of it, its batch or its store; search scores chunks by shared words.

Objects still moving carry ``openai-poll-after-ms: 10``, so the client's poll helpers wait 10 ms, not seconds.
Expiry and failures past validation are not simulated: script them with ``fake.add``.
"""

from __future__ import annotations

import hashlib
import random
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import msgspec
from multidict import CIMultiDict, MultiDict

from ._builders import error
from ._exchange import FakeResponse, RecordedRequest

if TYPE_CHECKING:
    from ._defaults import DefaultState

__all__ = ["JOB_PATTERNS", "JOB_ROUTES", "JobStore", "store_file"]

POLL_HEADERS = {"openai-poll-after-ms": "10"}
MAX_PART_BYTES = 64 * 1024 * 1024
MAX_UPLOAD_BYTES = 8 * 1024 * 1024 * 1024
BATCH_ENDPOINTS = (
    "/v1/responses",
    "/v1/chat/completions",
    "/v1/embeddings",
    "/v1/completions",
    "/v1/moderations",
    "/v1/images/generations",
    "/v1/images/edits",
    "/v1/videos",
)
_BATCH_FINAL = frozenset({"completed", "failed", "expired", "cancelled"})
_JOB_FINAL = frozenset({"succeeded", "failed", "cancelled"})
_FILE_COUNTS = ("in_progress", "completed", "failed", "cancelled")
_CHUNKING = {"type": "static", "static": {"max_chunk_size_tokens": 800, "chunk_overlap_tokens": 400}}


@dataclass
class JobStore:
    """Strictly private: the memory of the Batch, Uploads, fine-tuning and vector store defaults."""

    batches: dict[str, dict[str, Any]] = field(default_factory=dict)
    uploads: dict[str, dict[str, Any]] = field(default_factory=dict)
    parts: dict[str, tuple[str, bytes]] = field(default_factory=dict)
    fine_tuning: dict[str, dict[str, Any]] = field(default_factory=dict)
    vector_stores: dict[str, dict[str, Any]] = field(default_factory=dict)
    vector_store_files: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    file_batches: dict[str, dict[str, Any]] = field(default_factory=dict)


# -- helpers ----------------------------------------------------------------------------------------------------


def _json(data: Any, *, status: int = 200, polling: bool = False) -> FakeResponse:
    return FakeResponse(status=status, json=data, headers=POLL_HEADERS if polling else None)


def _body(request: RecordedRequest) -> dict[str, Any]:
    try:
        body = request.json
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _bad(message: str, param: str | None = None) -> FakeResponse:
    return _json(error(message, param=param), status=400)


def _missing(message: str) -> FakeResponse:
    return _json(error(message), status=404)


def _public(obj: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in obj.items() if not k.startswith("_")}


def _page(items: list[dict[str, Any]], request: RecordedRequest, *, limit: int = 20) -> dict[str, Any]:
    # Cursor pagination: items come in list order; ``after`` is the id of the last item of the previous page.
    after = request.query.get("after")
    if after is not None:
        ids = [item["id"] for item in items]
        items = items[ids.index(after) + 1 :] if after in ids else []
    try:
        limit = max(1, int(request.query.get("limit", limit)))
    except ValueError:
        pass
    page = items[:limit]
    return {
        "object": "list",
        "data": page,
        "first_id": page[0]["id"] if page else None,
        "last_id": page[-1]["id"] if page else None,
        "has_more": len(items) > limit,
    }


def _newest_first(objects: dict[str, dict[str, Any]], request: RecordedRequest) -> list[dict[str, Any]]:
    items = list(objects.values())
    return items if request.query.get("order") == "asc" else items[::-1]


def store_file(state: DefaultState, data: bytes, *, filename: str, purpose: str) -> dict[str, Any]:
    """Keep ``data`` as a processed File (as ``POST /files`` does) and return its object."""
    file_id = state.new_id("file-")
    meta = {
        "id": file_id,
        "object": "file",
        "bytes": len(data),
        "created_at": int(time.time()),
        "expires_at": None,
        "filename": filename,
        "purpose": purpose,
        "status": "processed",
        "status_details": None,
    }
    state.files[file_id] = (meta, data)
    return meta


# -- batches ------------------------------------------------------------------------------------------------------


def _batch_create(state: DefaultState, request: RecordedRequest) -> FakeResponse:
    body = _body(request)
    endpoint, file_id = body.get("endpoint"), body.get("input_file_id")
    if endpoint not in BATCH_ENDPOINTS:
        return _bad(f"Invalid endpoint {endpoint!r}: use one of {', '.join(BATCH_ENDPOINTS)}.", "endpoint")
    if body.get("completion_window") != "24h":
        return _bad("completion_window must be '24h'.", "completion_window")
    stored = state.files.get(file_id) if isinstance(file_id, str) else None
    if stored is None:
        return _bad(f"No input file with id {file_id!r}.", "input_file_id")
    if stored[0]["purpose"] != "batch":
        return _bad("The input file must be uploaded with purpose 'batch'.", "input_file_id")
    lines, errors = _batch_lines(stored[1], endpoint)
    now = int(time.time())
    batch: dict[str, Any] = {
        "id": state.new_id("batch_"),
        "object": "batch",
        "endpoint": endpoint,
        "errors": None,
        "input_file_id": file_id,
        "completion_window": "24h",
        "status": "validating",
        "output_file_id": None,
        "error_file_id": None,
        "created_at": now,
        "in_progress_at": None,
        "expires_at": now + 24 * 3600,
        "finalizing_at": None,
        "completed_at": None,
        "failed_at": None,
        "expired_at": None,
        "cancelling_at": None,
        "cancelled_at": None,
        "request_counts": {"total": 0, "completed": 0, "failed": 0},
        "metadata": body.get("metadata"),
        "_lines": lines,
        "_errors": errors,
        "_results": [],
        "_done": 0,
    }
    state.jobs.batches[batch["id"]] = batch
    return _json(_public(batch), polling=True)


def _batch_lines(content: bytes, endpoint: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The requests of an input file, and the validation errors that fail the batch (BatchError shape)."""
    lines: list[dict[str, Any]] = []
    errors: list[dict[str, Any]] = []
    seen: set[str] = set()
    for number, raw in enumerate(content.splitlines(), 1):
        if not raw.strip():
            continue
        try:
            item = msgspec.json.decode(raw)
        except msgspec.DecodeError:
            item = None
        if not isinstance(item, dict) or not isinstance(item.get("body"), dict):
            errors.append(
                {"code": "invalid_json_line", "message": "Not a JSON request object.", "line": number}
            )
            continue
        custom_id = item.get("custom_id")
        if not isinstance(custom_id, str) or custom_id in seen:
            message = "custom_id is missing or repeats an earlier line."
            errors.append(
                {"code": "duplicate_custom_id", "message": message, "param": "custom_id", "line": number}
            )
        elif item.get("method") != "POST" or item.get("url") != endpoint:
            message = f"Every request must be POST {endpoint}, the batch's endpoint."
            errors.append({"code": "mismatched_endpoint", "message": message, "param": "url", "line": number})
        seen.add(str(custom_id))
        lines.append(item)
    if not lines and not errors:
        errors.append({"code": "empty_file", "message": "The input file has no requests.", "line": None})
    return lines, errors


def _batch_get(state: DefaultState, request: RecordedRequest, batch_id: str) -> FakeResponse:
    batch = state.jobs.batches.get(batch_id)
    if batch is None:
        return _missing(f"No batch found with id '{batch_id}'.")
    _batch_step(state, batch)
    return _json(_public(batch), polling=batch["status"] not in _BATCH_FINAL)


def _batch_step(state: DefaultState, batch: dict[str, Any]) -> None:
    now = int(time.time())
    status = batch["status"]
    total = len(batch["_lines"])
    if status == "validating" and batch["_errors"]:
        batch.update(status="failed", failed_at=now, errors={"object": "list", "data": batch["_errors"]})
    elif status == "validating":
        batch["_results"] = [_batch_answer(state, batch["endpoint"], item) for item in batch["_lines"]]
        batch.update(status="in_progress", in_progress_at=now, model=_model_of(batch["_lines"]))
        _batch_count(batch, (total + 1) // 2)
    elif status == "in_progress":
        batch.update(status="finalizing", finalizing_at=now)
        _batch_count(batch, total)
    elif status in ("finalizing", "cancelling"):
        _batch_finish(state, batch, "completed" if status == "finalizing" else "cancelled")


def _model_of(lines: list[dict[str, Any]]) -> str | None:
    model = lines[0]["body"].get("model") if lines else None
    return model if isinstance(model, str) else None


def _batch_count(batch: dict[str, Any], done: int) -> None:
    batch["_done"] = done
    finished = batch["_results"][:done]
    ok = sum(1 for status, _ in finished if 200 <= status < 300)
    batch["request_counts"] = {"total": len(batch["_lines"]), "completed": ok, "failed": done - ok}


def _batch_answer(state: DefaultState, endpoint: str, item: dict[str, Any]) -> tuple[int, Any]:
    """What a direct call would have answered: ``(status, JSON body)`` from the defaults."""
    from ._defaults import default_response  # the module that imports this one

    body = {k: v for k, v in item["body"].items() if k != "stream"}
    direct = RecordedRequest(
        method="POST",
        path=endpoint.removeprefix("/v1"),
        query=MultiDict(),
        headers=CIMultiDict({"Content-Type": "application/json"}),
        body=msgspec.json.encode(body),
    )
    answer = default_response(state, direct)
    if answer is None or answer.json is None:
        return 404, error(f"FakeOpenAI has no default answer for POST {endpoint}.")
    return answer.status, answer.json


def _batch_finish(state: DefaultState, batch: dict[str, Any], final: str) -> None:
    # Output and error files as the API writes them: one line per finished request, in no particular order.
    done = batch["_done"]
    output: list[bytes] = []
    errors: list[bytes] = []
    usage: dict[str, int] = {"input_tokens": 0, "output_tokens": 0}
    for item, (status, body) in zip(batch["_lines"][:done], batch["_results"][:done], strict=True):
        line_id = state.new_id("batch_req_")
        response = {"status_code": status, "request_id": f"req_{line_id}", "body": body}
        line = {"id": line_id, "custom_id": item.get("custom_id"), "response": response, "error": None}
        (output if 200 <= status < 300 else errors).append(msgspec.json.encode(line))
        counted = body.get("usage") if isinstance(body, dict) else None
        if isinstance(counted, dict):
            usage["input_tokens"] += int(counted.get("prompt_tokens") or counted.get("input_tokens") or 0)
            usage["output_tokens"] += int(
                counted.get("completion_tokens") or counted.get("output_tokens") or 0
            )
    shuffle = random.Random(batch["id"]).shuffle
    for lines, kind in ((output, "output"), (errors, "error")):
        if lines:
            shuffle(lines)
            content = b"\n".join(lines) + b"\n"
            meta = store_file(state, content, filename=f"{batch['id']}_{kind}.jsonl", purpose="batch_output")
            batch[f"{kind}_file_id"] = meta["id"]
    batch["usage"] = {
        **usage,
        "total_tokens": usage["input_tokens"] + usage["output_tokens"],
        "input_tokens_details": {"cached_tokens": 0},
        "output_tokens_details": {"reasoning_tokens": 0},
    }
    batch.update({"status": final, f"{final}_at": int(time.time())})


def _batch_cancel(state: DefaultState, request: RecordedRequest, batch_id: str) -> FakeResponse:
    batch = state.jobs.batches.get(batch_id)
    if batch is None:
        return _missing(f"No batch found with id '{batch_id}'.")
    if batch["status"] in _BATCH_FINAL:
        return _bad(f"Cannot cancel a batch with status '{batch['status']}'.")
    if batch["status"] != "cancelling":  # a second cancel is a no-op
        batch.update(status="cancelling", cancelling_at=int(time.time()))
    return _json(_public(batch), polling=True)


def _batch_list(state: DefaultState, request: RecordedRequest) -> FakeResponse:
    items = [_public(b) for b in reversed(state.jobs.batches.values())]
    return _json(_page(items, request))


# -- uploads ------------------------------------------------------------------------------------------------------


def _upload_create(state: DefaultState, request: RecordedRequest) -> FakeResponse:
    body = _body(request)
    for key in ("filename", "purpose", "bytes", "mime_type"):
        if key not in body:
            return _bad(f"Missing required parameter: '{key}'.", key)
    if body["purpose"] not in ("assistants", "batch", "fine-tune", "vision"):
        return _bad(f"Invalid purpose {body['purpose']!r}.", "purpose")
    size = body["bytes"]
    if not isinstance(size, int) or not 0 < size <= MAX_UPLOAD_BYTES:
        return _bad("bytes must be a positive size of at most 8 GB.", "bytes")
    now = int(time.time())
    upload: dict[str, Any] = {
        "id": state.new_id("upload_"),
        "object": "upload",
        "bytes": size,
        "created_at": now,
        "filename": body["filename"],
        "purpose": body["purpose"],
        "status": "pending",
        "expires_at": now + 3600,
        "file": None,
    }
    state.jobs.uploads[upload["id"]] = upload
    return _json(upload)


def _pending_upload(state: DefaultState, upload_id: str) -> dict[str, Any] | FakeResponse:
    upload = state.jobs.uploads.get(upload_id)
    if upload is None:
        return _missing(f"No upload found with id '{upload_id}'.")
    if upload["status"] != "pending":
        return _bad(f"Upload {upload_id} is {upload['status']}, not pending.")
    return upload


def _upload_part(state: DefaultState, request: RecordedRequest, upload_id: str) -> FakeResponse:
    upload = _pending_upload(state, upload_id)
    if isinstance(upload, FakeResponse):
        return upload
    data = next((part.data for part in request.parts if part.name == "data"), None)
    if data is None:
        return _bad("A multipart 'data' field is required.", "data")
    if len(data) > MAX_PART_BYTES:
        return _bad("A part may be at most 64 MB.", "data")
    part_id = state.new_id("part_")
    state.jobs.parts[part_id] = (upload_id, data)
    return _json(
        {"id": part_id, "object": "upload.part", "created_at": int(time.time()), "upload_id": upload_id}
    )


def _upload_complete(state: DefaultState, request: RecordedRequest, upload_id: str) -> FakeResponse:
    upload = _pending_upload(state, upload_id)
    if isinstance(upload, FakeResponse):
        return upload
    body = _body(request)
    part_ids = body.get("part_ids")
    if not isinstance(part_ids, list) or len(set(map(str, part_ids))) != len(part_ids):
        return _bad("part_ids must list each part once.", "part_ids")
    parts = [state.jobs.parts.get(part_id) for part_id in part_ids]
    if any(part is None or part[0] != upload_id for part in parts):
        return _bad(f"part_ids holds ids that are not parts of {upload_id}.", "part_ids")
    content = b"".join(part[1] for part in parts if part is not None)
    if len(content) != upload["bytes"]:
        return _bad(
            f"The parts hold {len(content)} bytes; the upload declared {upload['bytes']}.", "part_ids"
        )
    md5 = body.get("md5")
    if md5 and md5 != hashlib.md5(content, usedforsecurity=False).hexdigest():
        return _bad("The md5 does not match the bytes of the parts.", "md5")
    for part_id in part_ids:
        del state.jobs.parts[part_id]
    meta = store_file(state, content, filename=upload["filename"], purpose=upload["purpose"])
    upload.update(status="completed", file=meta)
    return _json(upload)


def _upload_cancel(state: DefaultState, request: RecordedRequest, upload_id: str) -> FakeResponse:
    upload = _pending_upload(state, upload_id)
    if isinstance(upload, FakeResponse):
        return upload
    for part_id in [p for p, (owner, _) in state.jobs.parts.items() if owner == upload_id]:
        del state.jobs.parts[part_id]
    upload["status"] = "cancelled"
    return _json(upload)


# -- fine-tuning ------------------------------------------------------------------------------------------------


def _job_create(state: DefaultState, request: RecordedRequest) -> FakeResponse:
    body = _body(request)
    model, training = body.get("model"), body.get("training_file")
    if not isinstance(model, str) or not isinstance(training, str):
        return _bad("model and training_file are required.", "model" if not isinstance(model, str) else None)
    for param in ("training_file", "validation_file"):
        file_id = body.get(param)
        if file_id is not None and file_id not in state.files:
            return _bad(f"Invalid file {file_id!r}: no such file.", param)
        if file_id is not None and state.files[file_id][0]["purpose"] != "fine-tune":
            return _bad(f"File {file_id} must be uploaded with purpose 'fine-tune'.", param)
    method: Any = body.get("method")
    kind = str(method.get("type") or "supervised") if isinstance(method, dict) else "supervised"
    settings: Any = method.get(kind) if isinstance(method, dict) else None
    settings = settings if isinstance(settings, dict) else {}
    hyper: dict[str, Any] = {"batch_size": "auto", "learning_rate_multiplier": "auto", "n_epochs": "auto"}
    hyper.update(body.get("hyperparameters") or settings.get("hyperparameters") or {})
    job: dict[str, Any] = {
        "id": state.new_id("ftjob-"),
        "object": "fine_tuning.job",
        "created_at": int(time.time()),
        "error": None,
        "fine_tuned_model": None,
        "finished_at": None,
        "hyperparameters": hyper,
        "model": model,
        "organization_id": "org-fake",
        "result_files": [],
        "seed": body.get("seed", 42),
        "status": "validating_files",
        "trained_tokens": None,
        "training_file": training,
        "validation_file": body.get("validation_file"),
        "integrations": body.get("integrations") or [],
        "estimated_finish": None,
        "method": {"type": kind, kind: {**settings, "hyperparameters": hyper}},
        "metadata": body.get("metadata"),
        "user_provided_suffix": body.get("suffix"),
        "_events": [],
        "_checkpoints": [],
        "_reads": 0,
    }
    state.jobs.fine_tuning[job["id"]] = job
    _event(state, job, f"Created fine-tuning job: {job['id']}")
    return _json(_public(job), polling=True)


def _event(
    state: DefaultState, job: dict[str, Any], message: str, *, kind: str = "message", data: Any = None
) -> None:
    job["_events"].append(
        {
            "object": "fine_tuning.job.event",
            "id": state.new_id("ftevent-"),
            "created_at": int(time.time()),
            "level": "info",
            "message": message,
            "type": kind,
            "data": data if data is not None else {},
        }
    )


def _job_get(state: DefaultState, request: RecordedRequest, job_id: str) -> FakeResponse:
    job = state.jobs.fine_tuning.get(job_id)
    if job is None:
        return _missing(f"Could not find fine-tuning job {job_id}.")
    _job_step(state, job)
    return _json(_public(job), polling=job["status"] not in _JOB_FINAL)


def _job_step(state: DefaultState, job: dict[str, Any]) -> None:
    status = job["status"]
    if status == "validating_files":
        _event(state, job, f"Validating training file: {job['training_file']}")
        _event(state, job, "Files validated, moving job to queued state")
        job["status"] = "queued"
    elif status == "queued":
        hyper = job["hyperparameters"]
        for name, value in (("n_epochs", 3), ("batch_size", 1), ("learning_rate_multiplier", 1.8)):
            if hyper.get(name) in (None, "auto"):
                hyper[name] = value
        _event(state, job, "Fine-tuning job started")
        job["status"] = "running"
        job["estimated_finish"] = int(time.time()) + 60
        _train(state, job, first=True)
    elif status == "running":
        job["_reads"] += 1
        if job["_reads"] == 1:
            _train(state, job, first=False)
        else:
            _succeed(state, job)


def _examples(state: DefaultState, job: dict[str, Any]) -> tuple[int, int]:
    # (training examples, rough tokens) of the training file: one example per non-blank JSONL line.
    content = state.files.get(job["training_file"], ({}, b""))[1]
    lines = [line for line in content.splitlines() if line.strip()]
    return max(1, len(lines)), max(1, len(content.split()))


def _train(state: DefaultState, job: dict[str, Any], *, first: bool) -> None:
    # Each read logs half the training steps as metrics events, and a checkpoint at the end of the epoch seen.
    examples, _ = _examples(state, job)
    epochs = int(job["hyperparameters"]["n_epochs"])
    total = max(2, examples * epochs // int(job["hyperparameters"]["batch_size"]))
    steps = range(1, total // 2 + 1) if first else range(total // 2 + 1, total + 1)
    for step in sorted({steps[(len(steps) - 1) * k // 2] for k in range(3)}):  # first, middle, last
        loss = round(2.0 / (1 + step), 4)
        data = {"step": step, "train_loss": loss, "total_steps": total, "train_mean_token_accuracy": 0.5}
        _event(state, job, f"Step {step}/{total}: training loss={loss}", kind="metrics", data=data)
    step = steps[-1]
    name = (
        f"ft:{job['model']}:fake-org:{job['user_provided_suffix'] or ''}:{_short(job['id'])}:ckpt-step-{step}"
    )
    job["_checkpoints"].append(
        {
            "id": state.new_id("ftckpt-"),
            "object": "fine_tuning.job.checkpoint",
            "created_at": int(time.time()),
            "fine_tuned_model_checkpoint": name,
            "fine_tuning_job_id": job["id"],
            "step_number": step,
            "metrics": {"step": float(step), "train_loss": round(2.0 / (1 + step), 4)},
        }
    )
    _event(state, job, f"Checkpoint created at step {step}")


def _short(job_id: str) -> str:
    # The last part of a fine-tuned model's name: 8 characters that look random but stay deterministic.
    return hashlib.sha256(job_id.encode()).hexdigest()[:8]


def _succeed(state: DefaultState, job: dict[str, Any]) -> None:
    examples, words = _examples(state, job)
    epochs = int(job["hyperparameters"]["n_epochs"])
    model = f"ft:{job['model']}:fake-org:{job['user_provided_suffix'] or ''}:{_short(job['id'])}"
    rows = "".join(f"{c['step_number']},{c['metrics']['train_loss']}\n" for c in job["_checkpoints"])
    results = store_file(
        state, b"step,train_loss\n" + rows.encode(), filename="step_metrics.csv", purpose="fine-tune-results"
    )
    job.update(
        status="succeeded",
        fine_tuned_model=model,
        finished_at=int(time.time()),
        trained_tokens=words * epochs,
        result_files=[results["id"]],
        estimated_finish=None,
    )
    _event(state, job, f"New fine-tuned model created: {model} ({examples} examples, {epochs} epochs)")
    _event(state, job, "The job has successfully completed")


def _job_cancel(state: DefaultState, request: RecordedRequest, job_id: str) -> FakeResponse:
    job = state.jobs.fine_tuning.get(job_id)
    if job is None:
        return _missing(f"Could not find fine-tuning job {job_id}.")
    if job["status"] in _JOB_FINAL:
        return _bad(f"Job {job_id} has already {job['status']}.")
    job.update(status="cancelled", estimated_finish=None)
    _event(state, job, "Fine-tuning job cancelled")
    return _json(_public(job))


def _job_pause(state: DefaultState, request: RecordedRequest, job_id: str, action: str) -> FakeResponse:
    job = state.jobs.fine_tuning.get(job_id)
    if job is None:
        return _missing(f"Could not find fine-tuning job {job_id}.")
    before, after = ("running", "paused") if action == "pause" else ("paused", "running")
    if job["status"] != before:
        return _bad(f"Job {job_id} is {job['status']}; only a {before} job can be {action}d.")
    job["status"] = after
    _event(state, job, f"Fine-tuning job {action}d")
    return _json(_public(job), polling=True)


def _job_list(state: DefaultState, request: RecordedRequest) -> FakeResponse:
    items = [_public(j) for j in reversed(state.jobs.fine_tuning.values())]
    wanted = {key[9:-1]: value for key, value in request.query.items() if key.startswith("metadata[")}
    items = [j for j in items if all((j["metadata"] or {}).get(k) == v for k, v in wanted.items())]
    page = _page(items, request)
    return _json({"object": "list", "data": page["data"], "has_more": page["has_more"]})


def _job_events(state: DefaultState, request: RecordedRequest, job_id: str) -> FakeResponse:
    job = state.jobs.fine_tuning.get(job_id)
    if job is None:
        return _missing(f"Could not find fine-tuning job {job_id}.")
    page = _page(job["_events"][::-1], request)
    return _json({"object": "list", "data": page["data"], "has_more": page["has_more"]})


def _job_checkpoints(state: DefaultState, request: RecordedRequest, job_id: str) -> FakeResponse:
    job = state.jobs.fine_tuning.get(job_id)
    if job is None:
        return _missing(f"Could not find fine-tuning job {job_id}.")
    return _json(_page(job["_checkpoints"][::-1], request, limit=10))


# -- vector stores ----------------------------------------------------------------------------------------------


def _store_of(state: DefaultState, store_id: str) -> dict[str, Any] | FakeResponse:
    store = state.jobs.vector_stores.get(store_id)
    if store is None:
        return _missing(f"No vector store found with id '{store_id}'.")
    return store


def _settle(state: DefaultState, store_id: str) -> None:
    # Files attached before this read are done processing now.
    for obj in state.jobs.vector_store_files.get(store_id, {}).values():
        if obj["status"] == "in_progress":
            obj["status"] = "completed"
    for batch in state.jobs.file_batches.values():
        if batch["vector_store_id"] == store_id and batch["status"] == "in_progress":
            batch["status"] = "completed"


def _counts(files: list[dict[str, Any]]) -> dict[str, int]:
    counts = {status: sum(1 for f in files if f["status"] == status) for status in _FILE_COUNTS}
    return {**counts, "total": len(files)}


def _store_view(state: DefaultState, store: dict[str, Any]) -> dict[str, Any]:
    files = list(state.jobs.vector_store_files.get(store["id"], {}).values())
    counts = _counts(files)
    status = "in_progress" if counts["in_progress"] else "completed"
    usage = sum(f["usage_bytes"] for f in files if f["status"] == "completed")
    return {**store, "file_counts": counts, "status": status, "usage_bytes": usage}


def _attach(
    state: DefaultState, store_id: str, file_id: Any, attributes: Any = None, chunking: Any = None
) -> dict[str, Any] | FakeResponse:
    stored = state.files.get(file_id) if isinstance(file_id, str) else None
    if stored is None:
        return _missing(f"No file found with id '{file_id}'.")
    obj: dict[str, Any] = {
        "id": file_id,
        "object": "vector_store.file",
        "usage_bytes": len(stored[1]),
        "created_at": int(time.time()),
        "vector_store_id": store_id,
        "status": "in_progress",
        "last_error": None,
        "chunking_strategy": chunking if isinstance(chunking, dict) else _CHUNKING,
        "attributes": attributes if isinstance(attributes, dict) else {},
    }
    state.jobs.vector_store_files.setdefault(store_id, {})[file_id] = obj
    return obj


def _vs_create(state: DefaultState, request: RecordedRequest) -> FakeResponse:
    body = _body(request)
    now = int(time.time())
    store: dict[str, Any] = {
        "id": state.new_id("vs_"),
        "object": "vector_store",
        "created_at": now,
        "name": body.get("name") or "",
        "expires_after": body.get("expires_after"),
        "expires_at": None,
        "last_active_at": now,
        "metadata": body.get("metadata") or {},
    }
    state.jobs.vector_stores[store["id"]] = store
    for file_id in body.get("file_ids") or ():
        attached = _attach(state, store["id"], file_id, chunking=body.get("chunking_strategy"))
        if isinstance(attached, FakeResponse):
            del state.jobs.vector_stores[store["id"]]
            state.jobs.vector_store_files.pop(store["id"], None)
            return attached
    return _json(_store_view(state, store), polling=True)


def _vs_get(state: DefaultState, request: RecordedRequest, store_id: str) -> FakeResponse:
    store = _store_of(state, store_id)
    if isinstance(store, FakeResponse):
        return store
    _settle(state, store_id)
    return _json(_store_view(state, store))


def _vs_update(state: DefaultState, request: RecordedRequest, store_id: str) -> FakeResponse:
    store = _store_of(state, store_id)
    if isinstance(store, FakeResponse):
        return store
    body = _body(request)
    store.update({k: body[k] for k in ("name", "metadata", "expires_after") if k in body})
    return _json(_store_view(state, store))


def _vs_delete(state: DefaultState, request: RecordedRequest, store_id: str) -> FakeResponse:
    if state.jobs.vector_stores.pop(store_id, None) is None:
        return _missing(f"No vector store found with id '{store_id}'.")
    state.jobs.vector_store_files.pop(store_id, None)
    return _json({"id": store_id, "object": "vector_store.deleted", "deleted": True})


def _vs_list(state: DefaultState, request: RecordedRequest) -> FakeResponse:
    stores = [_store_view(state, s) for s in _newest_first(state.jobs.vector_stores, request)]
    return _json(_page(stores, request))


def _vs_file_create(state: DefaultState, request: RecordedRequest, store_id: str) -> FakeResponse:
    store = _store_of(state, store_id)
    if isinstance(store, FakeResponse):
        return store
    body = _body(request)
    attached = _attach(
        state, store_id, body.get("file_id"), body.get("attributes"), body.get("chunking_strategy")
    )
    return attached if isinstance(attached, FakeResponse) else _json(attached, polling=True)


def _vs_file_of(state: DefaultState, store_id: str, file_id: str) -> dict[str, Any] | FakeResponse:
    obj = state.jobs.vector_store_files.get(store_id, {}).get(file_id)
    if obj is None:
        return _missing(f"No file '{file_id}' in vector store '{store_id}'.")
    return obj


def _vs_file_get(state: DefaultState, request: RecordedRequest, store_id: str, file_id: str) -> FakeResponse:
    obj = _vs_file_of(state, store_id, file_id)
    if isinstance(obj, FakeResponse):
        return obj
    _settle(state, store_id)
    return _json(obj)


def _vs_file_update(
    state: DefaultState, request: RecordedRequest, store_id: str, file_id: str
) -> FakeResponse:
    obj = _vs_file_of(state, store_id, file_id)
    if isinstance(obj, FakeResponse):
        return obj
    attributes = _body(request).get("attributes")
    obj["attributes"] = attributes if isinstance(attributes, dict) else {}
    return _json(obj)


def _vs_file_delete(
    state: DefaultState, request: RecordedRequest, store_id: str, file_id: str
) -> FakeResponse:
    obj = _vs_file_of(state, store_id, file_id)
    if isinstance(obj, FakeResponse):
        return obj
    del state.jobs.vector_store_files[store_id][file_id]
    return _json({"id": file_id, "object": "vector_store.file.deleted", "deleted": True})


def _vs_file_content(
    state: DefaultState, request: RecordedRequest, store_id: str, file_id: str
) -> FakeResponse:
    obj = _vs_file_of(state, store_id, file_id)
    if isinstance(obj, FakeResponse):
        return obj
    text = state.files.get(file_id, ({}, b""))[1].decode("utf-8", "replace")
    page = {"object": "vector_store.file_content.page", "data": [{"type": "text", "text": text}]}
    return _json({**page, "has_more": False, "next_page": None})


def _vs_files(
    state: DefaultState, request: RecordedRequest, store_id: str, batch_id: str | None = None
) -> FakeResponse:
    store = _store_of(state, store_id)
    if isinstance(store, FakeResponse):
        return store
    _settle(state, store_id)
    files = _newest_first(state.jobs.vector_store_files.get(store_id, {}), request)
    if batch_id is not None:
        batch = state.jobs.file_batches.get(batch_id)
        if batch is None or batch["vector_store_id"] != store_id:
            return _missing(f"No file batch found with id '{batch_id}'.")
        files = [f for f in files if f["id"] in batch["_file_ids"]]
    if "filter" in request.query:
        files = [f for f in files if f["status"] == request.query["filter"]]
    return _json(_page(files, request))


def _batch_view(state: DefaultState, batch: dict[str, Any]) -> dict[str, Any]:
    files = state.jobs.vector_store_files.get(batch["vector_store_id"], {})
    mine = [files[i] for i in batch["_file_ids"] if i in files]
    return {**_public(batch), "file_counts": _counts(mine)}


def _fb_create(state: DefaultState, request: RecordedRequest, store_id: str) -> FakeResponse:
    store = _store_of(state, store_id)
    if isinstance(store, FakeResponse):
        return store
    body = _body(request)
    entries = [{"file_id": file_id} for file_id in body.get("file_ids") or ()]
    entries += [e for e in body.get("files") or () if isinstance(e, dict)]
    if not entries:
        return _bad("Give file_ids or files.", "file_ids")
    ids: list[str] = []
    for entry in entries:
        attributes = entry.get("attributes", body.get("attributes"))
        chunking = entry.get("chunking_strategy", body.get("chunking_strategy"))
        attached = _attach(state, store_id, entry.get("file_id"), attributes, chunking)
        if isinstance(attached, FakeResponse):
            return attached
        ids.append(attached["id"])
    batch: dict[str, Any] = {
        "id": state.new_id("vsfb_"),
        "object": "vector_store.files_batch",
        "created_at": int(time.time()),
        "vector_store_id": store_id,
        "status": "in_progress",
        "_file_ids": ids,
    }
    state.jobs.file_batches[batch["id"]] = batch
    return _json(_batch_view(state, batch), polling=True)


def _fb_of(state: DefaultState, store_id: str, batch_id: str) -> dict[str, Any] | FakeResponse:
    batch = state.jobs.file_batches.get(batch_id)
    if batch is None or batch["vector_store_id"] != store_id:
        return _missing(f"No file batch found with id '{batch_id}'.")
    return batch


def _fb_get(state: DefaultState, request: RecordedRequest, store_id: str, batch_id: str) -> FakeResponse:
    batch = _fb_of(state, store_id, batch_id)
    if isinstance(batch, FakeResponse):
        return batch
    _settle(state, store_id)
    return _json(_batch_view(state, batch))


def _fb_cancel(state: DefaultState, request: RecordedRequest, store_id: str, batch_id: str) -> FakeResponse:
    batch = _fb_of(state, store_id, batch_id)
    if isinstance(batch, FakeResponse):
        return batch
    files = state.jobs.vector_store_files.get(store_id, {})
    for file_id in batch["_file_ids"]:
        if file_id in files and files[file_id]["status"] == "in_progress":
            files[file_id]["status"] = "cancelled"
    if batch["status"] == "in_progress":
        batch["status"] = "cancelled"
    return _json(_batch_view(state, batch))


def _vs_search(state: DefaultState, request: RecordedRequest, store_id: str) -> FakeResponse:
    # Not embeddings: a chunk scores the share of the query's words it contains, enough to rank a toy corpus.
    store = _store_of(state, store_id)
    if isinstance(store, FakeResponse):
        return store
    body = _body(request)
    queries = body.get("query")
    queries = [queries] if isinstance(queries, str) else [q for q in queries or () if isinstance(q, str)]
    wanted = {w for q in queries for w in re.findall(r"\w+", q.lower())}
    results = []
    for obj in state.jobs.vector_store_files.get(store_id, {}).values():
        if obj["status"] != "completed" or not wanted:
            continue
        meta, data = state.files.get(obj["id"], ({"filename": obj["id"]}, b""))
        text = data.decode("utf-8", "replace")
        for start in range(0, max(1, len(text)), 2000):
            chunk = text[start : start + 2000]
            score = len(wanted & set(re.findall(r"\w+", chunk.lower()))) / len(wanted)
            if score > 0:
                results.append(
                    {
                        "file_id": obj["id"],
                        "filename": meta["filename"],
                        "score": round(score, 4),
                        "attributes": obj["attributes"],
                        "content": [{"type": "text", "text": chunk}],
                    }
                )
    results.sort(key=lambda r: -r["score"])
    limit = int(body.get("max_num_results") or 10)
    page = {"object": "vector_store.search_results.page", "search_query": queries, "data": results[:limit]}
    return _json({**page, "has_more": False, "next_page": None})


_Handler = Callable[..., FakeResponse]

JOB_ROUTES: dict[tuple[str, str], _Handler] = {
    ("POST", "/batches"): _batch_create,
    ("GET", "/batches"): _batch_list,
    ("POST", "/uploads"): _upload_create,
    ("POST", "/fine_tuning/jobs"): _job_create,
    ("GET", "/fine_tuning/jobs"): _job_list,
    ("POST", "/vector_stores"): _vs_create,
    ("GET", "/vector_stores"): _vs_list,
}
"""Exact ``(method, path)`` routes of these defaults."""

_SEG = "([^/]+)"
JOB_PATTERNS: list[tuple[str, re.Pattern[str], _Handler]] = [
    ("GET", re.compile(f"/batches/{_SEG}"), _batch_get),
    ("POST", re.compile(f"/batches/{_SEG}/cancel"), _batch_cancel),
    ("POST", re.compile(f"/uploads/{_SEG}/parts"), _upload_part),
    ("POST", re.compile(f"/uploads/{_SEG}/complete"), _upload_complete),
    ("POST", re.compile(f"/uploads/{_SEG}/cancel"), _upload_cancel),
    ("GET", re.compile(f"/fine_tuning/jobs/{_SEG}"), _job_get),
    ("POST", re.compile(f"/fine_tuning/jobs/{_SEG}/cancel"), _job_cancel),
    ("POST", re.compile(f"/fine_tuning/jobs/{_SEG}/(pause|resume)"), _job_pause),
    ("GET", re.compile(f"/fine_tuning/jobs/{_SEG}/events"), _job_events),
    ("GET", re.compile(f"/fine_tuning/jobs/{_SEG}/checkpoints"), _job_checkpoints),
    ("GET", re.compile(f"/vector_stores/{_SEG}"), _vs_get),
    ("POST", re.compile(f"/vector_stores/{_SEG}"), _vs_update),
    ("DELETE", re.compile(f"/vector_stores/{_SEG}"), _vs_delete),
    ("POST", re.compile(f"/vector_stores/{_SEG}/search"), _vs_search),
    ("GET", re.compile(f"/vector_stores/{_SEG}/files"), _vs_files),
    ("POST", re.compile(f"/vector_stores/{_SEG}/files"), _vs_file_create),
    ("GET", re.compile(f"/vector_stores/{_SEG}/files/{_SEG}"), _vs_file_get),
    ("POST", re.compile(f"/vector_stores/{_SEG}/files/{_SEG}"), _vs_file_update),
    ("DELETE", re.compile(f"/vector_stores/{_SEG}/files/{_SEG}"), _vs_file_delete),
    ("GET", re.compile(f"/vector_stores/{_SEG}/files/{_SEG}/content"), _vs_file_content),
    ("POST", re.compile(f"/vector_stores/{_SEG}/file_batches"), _fb_create),
    ("GET", re.compile(f"/vector_stores/{_SEG}/file_batches/{_SEG}"), _fb_get),
    ("POST", re.compile(f"/vector_stores/{_SEG}/file_batches/{_SEG}/cancel"), _fb_cancel),
    ("GET", re.compile(f"/vector_stores/{_SEG}/file_batches/{_SEG}/files"), _vs_files),
]
"""``(method, regex, handler)`` routes; the regex groups are passed to the handler after the request."""
