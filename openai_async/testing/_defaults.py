"""What FakeOpenAI answers when a test scripted nothing: small, deterministic, realistic-shaped replies.

Chat Completions, Responses and legacy Completions echo the last user message or prompt (streamed word by word
when ``stream`` is true). When the request offers function tools, the answer calls the chosen (or first) one
with arguments built from its parameter schema; once the last input is a tool result, it answers with that
result as text. A structured-output request (``json_schema``) gets a JSON value valid against its schema, so
``parse()`` works offline. Embeddings are unit vectors derived from a hash of each input; models are a fixed
list; files live in memory; speech is silent audio; images are white PNGs. Batches, uploads, fine-tuning jobs
and vector stores are stateful too, and advance one step per read (``_defaults_jobs``), as do Assistants runs
(``queued -> in_progress -> requires_action -> completed``, streamed when asked) and video jobs
(``_defaults_assistants``). Anything else gets OpenAI's 404 error shape.
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import re
import struct
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import msgspec

from ._builders import (
    DEFAULT_MODEL,
    chat_completion,
    chat_completion_chunks,
    error,
    function_call,
    response,
    response_events,
    tokens,
    tool_call,
    words,
)
from ._defaults_assistants import ASSISTANT_PATTERNS, ASSISTANT_ROUTES, AssistantStore
from ._defaults_jobs import JOB_PATTERNS, JOB_ROUTES, JobStore
from ._exchange import FakeResponse, RecordedRequest

__all__ = ["DefaultState", "default_response"]

FALLBACK_TEXT = "Hello from FakeOpenAI."
MODELS = (
    "gpt-4o",
    "gpt-4o-mini",
    "gpt-4.1",
    "gpt-4.1-mini",
    "o3-mini",
    "gpt-4o-mini-tts",
    "tts-1",
    "whisper-1",
    "text-embedding-3-small",
    "text-embedding-3-large",
    "omni-moderation-latest",
)
_AUDIO_TYPES = {
    "mp3": "audio/mpeg",
    "opus": "audio/ogg",
    "aac": "audio/aac",
    "flac": "audio/flac",
    "wav": "audio/wav",
    "pcm": "audio/pcm",
}


@dataclass
class DefaultState:
    """Strictly private: the default routes' memory (uploaded files, id counters, batches, jobs ...)."""

    files: dict[str, tuple[dict[str, Any], bytes]] = field(default_factory=dict)
    jobs: JobStore = field(default_factory=JobStore)
    assistants: AssistantStore = field(default_factory=AssistantStore)
    counter: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def new_id(self, prefix: str) -> str:
        return f"{prefix}{next(self.counter):06d}fake"


def default_response(state: DefaultState, request: RecordedRequest) -> FakeResponse | None:
    """The built-in reply for ``request``, or None when there is none for its route."""
    key = (request.method, request.path)
    handler = _ROUTES.get(key)
    if handler is not None:
        return handler(state, request)
    for method, pattern, handler in _PATTERNS:
        m = pattern.fullmatch(request.path)
        if m is not None and method == request.method:
            return handler(state, request, *m.groups())
    return None


# -- helpers ----------------------------------------------------------------------------------------------------


def _json(data: Any, status: int = 200) -> FakeResponse:
    return FakeResponse(status=status, json=data)


def _body_json(request: RecordedRequest) -> dict[str, Any]:
    try:
        body = request.json
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _text_of(content: Any) -> str | None:
    # A message's content: a string, or a list of parts with "text" (input_text, text, output_text ...).
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        texts = [p["text"] for p in content if isinstance(p, dict) and isinstance(p.get("text"), str)]
        return " ".join(texts) if texts else None
    return None


def _last_user_text(messages: Any) -> str:
    if isinstance(messages, str):
        return messages
    if isinstance(messages, list):
        for message in reversed(messages):
            if isinstance(message, dict) and message.get("role", "user") == "user":
                text = _text_of(message.get("content"))
                if text is not None:
                    return text
    return FALLBACK_TEXT


def _not_found(message: str, code: str | None = None) -> FakeResponse:
    return _json(error(message, code=code), status=404)


# -- chat completions --------------------------------------------------------------------------------------------


def _chat(state: DefaultState, request: RecordedRequest) -> FakeResponse:
    body = _body_json(request)
    model = body.get("model") or DEFAULT_MODEL
    messages = body.get("messages") if isinstance(body.get("messages"), list) else []
    last = messages[-1] if messages and isinstance(messages[-1], dict) else {}
    text: str | None = _last_user_text(messages)
    calls = None
    tools: list[dict[str, Any]] = [
        t["function"]
        for t in body.get("tools") or ()
        if isinstance(t, dict) and t.get("type") == "function" and isinstance(t.get("function"), dict)
    ]
    tools = [t for t in tools if isinstance(t.get("name"), str)]
    if last.get("role") == "tool":
        text = f"Tool result: {_text_of(last.get('content'))}"
    elif tools and body.get("tool_choice") != "none":
        tool = _chosen(tools, body.get("tool_choice"), lambda c: (c.get("function") or {}).get("name"))
        calls = [tool_call(tool["name"], _instance(tool.get("parameters") or {"type": "object"}))]
        text = None
    else:
        text = _structured(body.get("response_format"), text or "")
    prompt = tokens(_last_user_text(messages))
    if not body.get("stream"):
        return _json(chat_completion(text, tool_calls=calls, model=model, prompt_tokens=prompt))
    include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
    chunks = chat_completion_chunks(
        text, tool_calls=calls, model=model, include_usage=include_usage, prompt_tokens=prompt
    )
    return FakeResponse(stream=chunks)


def _chosen(
    tools: list[dict[str, Any]], choice: Any, name_of: Callable[[dict[str, Any]], Any]
) -> dict[str, Any]:
    # tool_choice naming one function picks it; anything else ("auto", "required") picks the first.
    if isinstance(choice, dict):
        wanted = name_of(choice)
        for tool in tools:
            if tool["name"] == wanted:
                return tool
    return tools[0]


def _structured(response_format: Any, text: str) -> str:
    # Structured outputs: a JSON value valid against the requested schema, so .parse() works offline.
    if not isinstance(response_format, dict):
        return text
    if response_format.get("type") == "json_schema":
        spec = response_format.get("json_schema") or response_format  # chat nests it; Responses does not
        return msgspec.json.encode(_instance(spec.get("schema") or {})).decode()
    if response_format.get("type") == "json_object":
        return msgspec.json.encode({"text": text}).decode()
    return text


def _instance(schema: Any, root: Any = None, depth: int = 0) -> Any:
    """A small value valid against ``schema`` (the JSON-schema subset structured outputs and tools use)."""
    root = schema if root is None else root
    if not isinstance(schema, dict) or depth > 32:
        return None
    ref = schema.get("$ref")
    if isinstance(ref, str):
        target: Any = root
        for part in ref.lstrip("#").strip("/").split("/") if ref != "#" else ():
            target = (
                target.get(part.replace("~1", "/").replace("~0", "~")) if isinstance(target, dict) else None
            )
        return _instance(target, root, depth + 1)
    if "const" in schema:
        return schema["const"]
    if schema.get("enum"):
        return schema["enum"][0]
    for key in ("anyOf", "oneOf", "allOf"):
        options = schema.get(key)
        if isinstance(options, list) and options:
            return _instance(options[0], root, depth + 1)
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    if kind == "object" or "properties" in schema:
        properties = schema.get("properties") or {}
        required = schema.get("required", list(properties))
        return {name: _instance(sub, root, depth + 1) for name, sub in properties.items() if name in required}
    if kind == "array":
        return [
            _instance(schema.get("items"), root, depth + 1) for _ in range(int(schema.get("minItems", 0)))
        ]
    if kind == "string":
        formats = {"date-time": "2024-01-01T00:00:00Z", "date": "2024-01-01", "email": "user@example.com"}
        value = formats.get(schema.get("format", ""), "example")
        return value if len(value) <= schema.get("maxLength", len(value)) else ""
    if kind == "integer":
        return int(schema.get("minimum", 0))
    if kind == "number":
        return float(schema.get("minimum", 0))
    if kind == "boolean":
        return False
    return None


def _completion(state: DefaultState, request: RecordedRequest) -> FakeResponse:
    # Legacy /completions: echo the prompt.
    body = _body_json(request)
    prompt = body.get("prompt")
    text = prompt if isinstance(prompt, str) else prompt[0] if isinstance(prompt, list) and prompt else ""
    text = text if isinstance(text, str) else FALLBACK_TEXT
    base = {
        "id": state.new_id("cmpl-"),
        "object": "text_completion",
        "created": int(time.time()),
        "model": body.get("model") or "gpt-3.5-turbo-instruct",
    }
    if not body.get("stream"):
        choice = {"text": text, "index": 0, "logprobs": None, "finish_reason": "stop"}
        usage = {
            "prompt_tokens": tokens(text),
            "completion_tokens": tokens(text),
            "total_tokens": 2 * tokens(text),
        }
        return _json({**base, "choices": [choice], "usage": usage})
    chunks = [
        {**base, "choices": [{"text": word, "index": 0, "logprobs": None, "finish_reason": None}]}
        for word in words(text)
    ]
    chunks.append({**base, "choices": [{"text": "", "index": 0, "logprobs": None, "finish_reason": "stop"}]})
    return FakeResponse(stream=chunks)


# -- responses ----------------------------------------------------------------------------------------------------


def _responses(state: DefaultState, request: RecordedRequest) -> FakeResponse:
    body = _body_json(request)
    items = body.get("input")
    last = items[-1] if isinstance(items, list) and items and isinstance(items[-1], dict) else {}
    text: str | None = _last_user_text(items)
    calls = None
    tools = [t for t in body.get("tools") or () if isinstance(t, dict) and t.get("type") == "function"]
    tools = [t for t in tools if isinstance(t.get("name"), str)]
    if last.get("type") == "function_call_output":
        text = f"Tool result: {last.get('output')}"
    elif tools and body.get("tool_choice") != "none":
        tool = _chosen(tools, body.get("tool_choice"), lambda c: c.get("name"))
        calls = [function_call(tool["name"], _instance(tool.get("parameters") or {"type": "object"}))]
        text = None
    else:
        text = _structured((body.get("text") or {}).get("format"), text or "")
    fields = {
        "model": body.get("model") or DEFAULT_MODEL,
        "input_tokens": tokens(_last_user_text(items)),
        "instructions": body.get("instructions"),
        "max_output_tokens": body.get("max_output_tokens"),
        "previous_response_id": body.get("previous_response_id"),
        "store": body.get("store", True),
        "temperature": body.get("temperature", 1.0),
        "top_p": body.get("top_p", 1.0),
        "metadata": body.get("metadata") or {},
        "tools": body.get("tools") or [],
    }
    if body.get("text"):
        fields["text"] = body["text"]
    if not body.get("stream"):
        return _json(response(text, function_calls=calls, **fields))
    return FakeResponse(events=response_events(text, function_calls=calls, **fields))


# -- embeddings, moderations, audio ---------------------------------------------------------------------------


def _vector(seed: bytes, dims: int) -> list[float]:
    raw = b""
    block = 0
    while len(raw) < dims * 4:
        raw += hashlib.sha256(seed + block.to_bytes(4, "little")).digest()
        block += 1
    values = [(v - 2147483648) / 2147483648 for v in struct.unpack(f"<{dims}I", raw[: dims * 4])]
    norm = sum(v * v for v in values) ** 0.5 or 1.0
    return [round(v / norm, 7) for v in values]


def _embeddings(state: DefaultState, request: RecordedRequest) -> FakeResponse:
    body = _body_json(request)
    model = body.get("model") or "text-embedding-3-small"
    dims = body.get("dimensions") or (3072 if "large" in str(model) else 1536)
    inputs = body.get("input", "")
    if isinstance(inputs, str) or (isinstance(inputs, list) and inputs and isinstance(inputs[0], int)):
        inputs = [inputs]  # one string, or one list of token ids
    if not isinstance(inputs, list):
        inputs = [inputs]
    data = []
    used = 0
    for index, item in enumerate(inputs):
        seed = item.encode() if isinstance(item, str) else repr(item).encode()
        vector = _vector(seed, int(dims))
        used += tokens(item) if isinstance(item, str) else max(1, len(item) if isinstance(item, list) else 1)
        embedding: Any = vector
        if body.get("encoding_format") == "base64":
            embedding = base64.b64encode(struct.pack(f"<{len(vector)}f", *vector)).decode()
        data.append({"object": "embedding", "index": index, "embedding": embedding})
    return _json(
        {
            "object": "list",
            "data": data,
            "model": model,
            "usage": {"prompt_tokens": used, "total_tokens": used},
        }
    )


def _moderations(state: DefaultState, request: RecordedRequest) -> FakeResponse:
    body = _body_json(request)
    inputs = body.get("input", "")
    count = len(inputs) if isinstance(inputs, list) and inputs and isinstance(inputs[0], str) else 1
    categories = ["harassment", "hate", "self-harm", "sexual", "violence"]
    result = {
        "flagged": False,
        "categories": dict.fromkeys(categories, False),
        "category_scores": dict.fromkeys(categories, 0.0),
    }
    return _json(
        {
            "id": state.new_id("modr-"),
            "model": body.get("model") or "omni-moderation-latest",
            "results": [result] * count,
        }
    )


def _png(width: int = 1, height: int = 1) -> bytes:
    # A valid, all-white grayscale PNG.
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\x00" + b"\xff" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def _images(state: DefaultState, request: RecordedRequest) -> FakeResponse:
    # generations (JSON body) and edits/variations (multipart): n white PNGs, as b64_json or a data: URL.
    body = _body_json(request) or request.form
    n = int(body.get("n") or 1)
    png = base64.b64encode(_png()).decode()
    if body.get("response_format") == "url":
        items = [{"url": "data:image/png;base64," + png} for _ in range(n)]
    else:
        items = [{"b64_json": png} for _ in range(n)]
    return _json({"created": int(time.time()), "data": items})


def _silent_wav(seconds: float, rate: int = 8000) -> bytes:
    frames = int(seconds * rate)
    data = b"\x00\x00" * frames
    return (
        b"RIFF"
        + struct.pack("<I", 36 + len(data))
        + b"WAVEfmt "
        + struct.pack("<IHHIIHH", 16, 1, 1, rate, rate * 2, 2, 16)
        + b"data"
        + struct.pack("<I", len(data))
        + data
    )


def _speech(state: DefaultState, request: RecordedRequest) -> FakeResponse:
    body = _body_json(request)
    fmt = body.get("response_format") or "mp3"
    seconds = min(10.0, 0.1 + 0.05 * len(str(body.get("input", ""))))
    audio = _silent_wav(seconds)
    if fmt != "wav":
        # Not a playable file: a tagged placeholder of plausible size.
        audio = f"FAKE-{fmt.upper()}-AUDIO\n".encode() + audio[44:]
    return FakeResponse(body=audio, content_type=_AUDIO_TYPES.get(fmt, "application/octet-stream"))


def _transcription(state: DefaultState, request: RecordedRequest) -> FakeResponse:
    fields = request.form
    fmt = fields.get("response_format", "json")
    text = "This is a fake transcript."
    if fmt in ("text", "srt", "vtt"):
        return FakeResponse(body=text, content_type="text/plain; charset=utf-8")
    return _json({"text": text, "usage": {"type": "duration", "seconds": 1}})


# -- models ------------------------------------------------------------------------------------------------------


def _model(name: str) -> dict[str, Any]:
    return {"id": name, "object": "model", "created": 1700000000, "owned_by": "openai"}


def _models(state: DefaultState, request: RecordedRequest) -> FakeResponse:
    return _json({"object": "list", "data": [_model(m) for m in MODELS]})


def _model_get(state: DefaultState, request: RecordedRequest, name: str) -> FakeResponse:
    if name not in MODELS and not name.startswith("ft:"):
        return _not_found(f"The model '{name}' does not exist", code="model_not_found")
    return _json(_model(name))


def _model_delete(state: DefaultState, request: RecordedRequest, name: str) -> FakeResponse:
    return _json({"id": name, "object": "model", "deleted": True})


# -- files ---------------------------------------------------------------------------------------------------------


def _file_create(state: DefaultState, request: RecordedRequest) -> FakeResponse:
    upload = request.files.get("file")
    purpose = request.form.get("purpose")
    if upload is None or purpose is None:
        return _json(error("A multipart 'file' and 'purpose' are required."), status=400)
    file_id = state.new_id("file-")
    meta = {
        "id": file_id,
        "object": "file",
        "bytes": len(upload.data),
        "created_at": int(time.time()),
        "expires_at": None,
        "filename": upload.filename or "upload",
        "purpose": purpose,
        "status": "processed",
        "status_details": None,
    }
    state.files[file_id] = (meta, upload.data)
    return _json(meta)


def _file_list(state: DefaultState, request: RecordedRequest) -> FakeResponse:
    query = request.query
    metas = [meta for meta, _ in state.files.values()]
    if "purpose" in query:
        metas = [m for m in metas if m["purpose"] == query["purpose"]]
    if query.get("order", "desc") == "desc":
        metas.reverse()
    if "after" in query:
        ids = [m["id"] for m in metas]
        metas = metas[ids.index(query["after"]) + 1 :] if query["after"] in ids else []
    limit = int(query.get("limit", "10000"))
    page = metas[:limit]
    return _json(
        {
            "object": "list",
            "data": page,
            "first_id": page[0]["id"] if page else None,
            "last_id": page[-1]["id"] if page else None,
            "has_more": len(metas) > limit,
        }
    )


def _file_get(state: DefaultState, request: RecordedRequest, file_id: str) -> FakeResponse:
    if file_id not in state.files:
        return _not_found(f"No such File object: {file_id}")
    return _json(state.files[file_id][0])


def _file_content(state: DefaultState, request: RecordedRequest, file_id: str) -> FakeResponse:
    if file_id not in state.files:
        return _not_found(f"No such File object: {file_id}")
    data = state.files[file_id][1]
    wanted = re.fullmatch(r"bytes=(\d+)-", request.headers.get("Range", "").strip())
    if wanted is not None:  # the open-ended range a resumed download asks for
        start = int(wanted.group(1))
        if start >= len(data):
            return FakeResponse(status=416, headers={"Content-Range": f"bytes */{len(data)}"})
        return FakeResponse(
            status=206,
            body=data[start:],
            content_type="application/octet-stream",
            headers={"Content-Range": f"bytes {start}-{len(data) - 1}/{len(data)}", "Accept-Ranges": "bytes"},
        )
    return FakeResponse(
        body=data, content_type="application/octet-stream", headers={"Accept-Ranges": "bytes"}
    )


def _file_delete(state: DefaultState, request: RecordedRequest, file_id: str) -> FakeResponse:
    if state.files.pop(file_id, None) is None:
        return _not_found(f"No such File object: {file_id}")
    return _json({"id": file_id, "object": "file", "deleted": True})


_Handler = Callable[..., FakeResponse]

_ROUTES: dict[tuple[str, str], _Handler] = {
    ("POST", "/chat/completions"): _chat,
    ("POST", "/completions"): _completion,
    ("POST", "/responses"): _responses,
    ("POST", "/images/generations"): _images,
    ("POST", "/images/edits"): _images,
    ("POST", "/images/variations"): _images,
    ("POST", "/embeddings"): _embeddings,
    ("POST", "/moderations"): _moderations,
    ("POST", "/audio/speech"): _speech,
    ("POST", "/audio/transcriptions"): _transcription,
    ("POST", "/audio/translations"): _transcription,
    ("GET", "/models"): _models,
    ("POST", "/files"): _file_create,
    ("GET", "/files"): _file_list,
    **JOB_ROUTES,
    **ASSISTANT_ROUTES,
}
_PATTERNS: list[tuple[str, re.Pattern[str], _Handler]] = [
    ("GET", re.compile(r"/models/([^/]+)"), _model_get),
    ("DELETE", re.compile(r"/models/([^/]+)"), _model_delete),
    ("GET", re.compile(r"/files/([^/]+)"), _file_get),
    ("GET", re.compile(r"/files/([^/]+)/content"), _file_content),
    ("DELETE", re.compile(r"/files/([^/]+)"), _file_delete),
    *JOB_PATTERNS,
    *ASSISTANT_PATTERNS,
]
