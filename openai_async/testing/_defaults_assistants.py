"""FakeOpenAI's defaults for the Assistants run lifecycle and for video generation jobs.

Like the other slow APIs (``_defaults_jobs``), objects live in memory and move one step per read:

- a run goes ``queued -> in_progress`` and then, when it may call a function tool (the run's ``tools``, else the
  assistant's; not with ``tool_choice: "none"``) and no outputs were submitted yet, ``requires_action`` with one
  call of the first function, its arguments built from the parameter schema; otherwise ``completed``, after
  writing an assistant message that echoes the thread's last user message (after tool outputs: the outputs).
  ``submit_tool_outputs`` puts it back ``in_progress``. With ``stream: true`` the same lifecycle is streamed as
  ``thread.run.*``, ``thread.run.step.*`` and ``thread.message.*`` events (the text word by word, the function
  arguments in two fragments), ending with ``event: done`` / ``data: [DONE]`` as the API does.
- a video goes ``queued (0 %) -> in_progress (50 %) -> completed (100 %)``; its content is a few bytes of MP4.

Moving objects carry ``openai-poll-after-ms: 10``.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import msgspec

from ._builders import DEFAULT_MODEL, error, words
from ._exchange import FakeResponse, RecordedRequest

if TYPE_CHECKING:
    from ._defaults import DefaultState

__all__ = ["ASSISTANT_PATTERNS", "ASSISTANT_ROUTES", "AssistantStore"]

POLL_HEADERS = {"openai-poll-after-ms": "10"}
_MOVING = frozenset({"queued", "in_progress", "cancelling"})
_MP4 = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + bytes(40)
Event = tuple[str, Any]


@dataclass
class AssistantStore:
    """Strictly private: assistants, threads (with their messages and runs) and videos."""

    assistants: dict[str, dict[str, Any]] = field(default_factory=dict)
    threads: dict[str, dict[str, Any]] = field(default_factory=dict)
    messages: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    runs: dict[str, dict[str, Any]] = field(default_factory=dict)
    steps: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    videos: dict[str, dict[str, Any]] = field(default_factory=dict)


def _json(data: Any, *, status: int = 200, polling: bool = False) -> FakeResponse:
    return FakeResponse(status=status, json=data, headers=POLL_HEADERS if polling else None)


def _body(request: RecordedRequest) -> dict[str, Any]:
    try:
        body = request.json
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _missing(what: str, object_id: str) -> FakeResponse:
    return _json(error(f"No {what} found with id '{object_id}'."), status=404)


def _public(obj: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in obj.items() if not k.startswith("_")}


def _list(items: list[dict[str, Any]], request: RecordedRequest) -> dict[str, Any]:
    items = items if request.query.get("order") == "asc" else items[::-1]
    return {
        "object": "list",
        "data": items,
        "first_id": items[0]["id"] if items else None,
        "last_id": items[-1]["id"] if items else None,
        "has_more": False,
    }


# -- assistants, threads, messages ------------------------------------------------------------------------------


def _assistant_create(state: DefaultState, request: RecordedRequest) -> FakeResponse:
    body = _body(request)
    if not isinstance(body.get("model"), str):
        return _json(error("Missing required parameter: 'model'.", param="model"), status=400)
    assistant = {
        "id": state.new_id("asst_"),
        "object": "assistant",
        "created_at": int(time.time()),
        "name": body.get("name"),
        "description": body.get("description"),
        "model": body["model"],
        "instructions": body.get("instructions"),
        "tools": body.get("tools") or [],
        "tool_resources": body.get("tool_resources") or {},
        "metadata": body.get("metadata") or {},
        "temperature": body.get("temperature", 1.0),
        "top_p": body.get("top_p", 1.0),
        "response_format": body.get("response_format", "auto"),
    }
    state.assistants.assistants[assistant["id"]] = assistant
    return _json(assistant)


def _assistant_get(state: DefaultState, request: RecordedRequest, assistant_id: str) -> FakeResponse:
    assistant = state.assistants.assistants.get(assistant_id)
    return _missing("assistant", assistant_id) if assistant is None else _json(assistant)


def _new_thread(state: DefaultState, body: dict[str, Any]) -> dict[str, Any]:
    thread: dict[str, Any] = {
        "id": state.new_id("thread_"),
        "object": "thread",
        "created_at": int(time.time()),
        "metadata": body.get("metadata") or {},
        "tool_resources": body.get("tool_resources") or {},
    }
    store = state.assistants
    store.threads[thread["id"]] = thread
    store.messages[thread["id"]] = []
    for message in body.get("messages") or []:
        _add_message(state, thread["id"], message.get("role", "user"), _text_of(message.get("content")))
    return thread


def _text_of(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(p.get("text", "") for p in content if isinstance(p, dict) and p.get("type") == "text")
    return ""


def _message(state: DefaultState, thread_id: str, role: str, text: str, **extra: Any) -> dict[str, Any]:
    now = int(time.time())
    return {
        "id": state.new_id("msg_"),
        "object": "thread.message",
        "created_at": now,
        "thread_id": thread_id,
        "status": "completed",
        "incomplete_details": None,
        "completed_at": now,
        "incomplete_at": None,
        "role": role,
        "content": [{"type": "text", "text": {"value": text, "annotations": []}}],
        "assistant_id": None,
        "run_id": None,
        "attachments": [],
        "metadata": {},
        **extra,
    }


def _add_message(state: DefaultState, thread_id: str, role: str, text: str) -> dict[str, Any]:
    message = _message(state, thread_id, role, text)
    state.assistants.messages[thread_id].append(message)
    return message


def _thread_create(state: DefaultState, request: RecordedRequest) -> FakeResponse:
    return _json(_new_thread(state, _body(request)))


def _thread_get(state: DefaultState, request: RecordedRequest, thread_id: str) -> FakeResponse:
    thread = state.assistants.threads.get(thread_id)
    return _missing("thread", thread_id) if thread is None else _json(thread)


def _message_create(state: DefaultState, request: RecordedRequest, thread_id: str) -> FakeResponse:
    if thread_id not in state.assistants.threads:
        return _missing("thread", thread_id)
    body = _body(request)
    return _json(_add_message(state, thread_id, body.get("role", "user"), _text_of(body.get("content"))))


def _message_list(state: DefaultState, request: RecordedRequest, thread_id: str) -> FakeResponse:
    if thread_id not in state.assistants.threads:
        return _missing("thread", thread_id)
    messages = state.assistants.messages[thread_id]
    run_id = request.query.get("run_id")
    return _json(_list([m for m in messages if run_id is None or m["run_id"] == run_id], request))


# -- runs ---------------------------------------------------------------------------------------------------------


def _function_of(state: DefaultState, run: dict[str, Any]) -> dict[str, Any] | None:
    if run["tool_choice"] == "none" or run["_outputs"] is not None:
        return None
    tools = run["tools"]
    return next((t["function"] for t in tools if t.get("type") == "function" and "function" in t), None)


def _arguments(schema: Any) -> dict[str, Any]:
    samples = {"string": "fake", "number": 1.5, "integer": 1, "boolean": True, "array": [], "object": {}}
    properties = schema.get("properties") if isinstance(schema, dict) else None
    out: dict[str, Any] = {}
    for name, prop in (properties or {}).items():
        kind = prop.get("type") if isinstance(prop, dict) else None
        enum = prop.get("enum") if isinstance(prop, dict) else None
        out[name] = enum[0] if enum else samples.get(kind if isinstance(kind, str) else "", None)
    return out


def _new_run(state: DefaultState, request: RecordedRequest, thread_id: str, body: dict[str, Any]) -> Any:
    store = state.assistants
    assistant = store.assistants.get(str(body.get("assistant_id")))
    if not isinstance(body.get("assistant_id"), str):
        return _json(error("Missing required parameter: 'assistant_id'.", param="assistant_id"), status=400)
    for message in body.get("additional_messages") or []:
        _add_message(state, thread_id, message.get("role", "user"), _text_of(message.get("content")))
    default = assistant or {}
    run = {
        "id": state.new_id("run_"),
        "object": "thread.run",
        "created_at": int(time.time()),
        "thread_id": thread_id,
        "assistant_id": body["assistant_id"],
        "status": "queued",
        "required_action": None,
        "last_error": None,
        "expires_at": int(time.time()) + 600,
        "started_at": None,
        "cancelled_at": None,
        "failed_at": None,
        "completed_at": None,
        "incomplete_details": None,
        "model": body.get("model") or default.get("model") or DEFAULT_MODEL,
        "instructions": body.get("instructions") or default.get("instructions") or "",
        "tools": body.get("tools") if body.get("tools") is not None else default.get("tools", []),
        "metadata": body.get("metadata") or {},
        "usage": None,
        "temperature": 1.0,
        "top_p": 1.0,
        "max_prompt_tokens": None,
        "max_completion_tokens": None,
        "truncation_strategy": {"type": "auto", "last_messages": None},
        "tool_choice": body.get("tool_choice", "auto"),
        "parallel_tool_calls": True,
        "response_format": "auto",
        "_outputs": None,
    }
    store.runs[run["id"]] = run
    store.steps[run["id"]] = []
    return run


def _run_of(state: DefaultState, thread_id: str, run_id: str) -> dict[str, Any] | FakeResponse:
    run = state.assistants.runs.get(run_id)
    if run is None or run["thread_id"] != thread_id:
        return _missing("run", run_id)
    return run


def _answer(run: dict[str, Any], store: AssistantStore) -> str:
    if run["_outputs"]:
        return " ".join(str(o.get("output", "")) for o in run["_outputs"])
    users = [m for m in store.messages[run["thread_id"]] if m["role"] == "user"]
    text = _text_of(users[-1]["content"][0]["text"]["value"]) if users else ""
    return text or "Hello from FakeOpenAI."


def _step(state: DefaultState, run: dict[str, Any], details: dict[str, Any]) -> dict[str, Any]:
    step = {
        "id": state.new_id("step_"),
        "object": "thread.run.step",
        "created_at": int(time.time()),
        "assistant_id": run["assistant_id"],
        "thread_id": run["thread_id"],
        "run_id": run["id"],
        "type": details["type"],
        "status": "in_progress",
        "step_details": details,
        "last_error": None,
        "expired_at": None,
        "cancelled_at": None,
        "failed_at": None,
        "completed_at": None,
        "metadata": {},
        "usage": None,
    }
    state.assistants.steps[run["id"]].append(step)
    return step


def _usage(text: str) -> dict[str, int]:
    n = max(1, len(text.split()))
    return {"prompt_tokens": 10, "completion_tokens": n, "total_tokens": 10 + n}


def _advance(state: DefaultState, run: dict[str, Any]) -> list[Event]:
    """Move a run one step (queued -> in_progress -> requires_action | completed); the events of that move."""
    now = int(time.time())
    if run["status"] == "queued":
        run["status"], run["started_at"] = "in_progress", now
        return [("thread.run.in_progress", _public(run))]
    if run["status"] != "in_progress":
        return []
    function = _function_of(state, run)
    if function is not None:
        return _call_function(state, run, function)
    return _write_message(state, run)


def _call_function(state: DefaultState, run: dict[str, Any], function: dict[str, Any]) -> list[Event]:
    call_id = state.new_id("call_")
    arguments = _json_text(_arguments(function.get("parameters")))
    step = _step(state, run, {"type": "tool_calls", "tool_calls": []})
    events: list[Event] = [
        ("thread.run.step.created", dict(step)),
        ("thread.run.step.in_progress", dict(step)),
    ]
    half = len(arguments) // 2
    first = {
        "index": 0,
        "id": call_id,
        "type": "function",
        "function": {"name": function.get("name"), "arguments": arguments[:half], "output": None},
    }
    second = {"index": 0, "type": "function", "function": {"arguments": arguments[half:]}}
    for fragment in (first, second):
        delta = {
            "id": step["id"],
            "object": "thread.run.step.delta",
            "delta": {"step_details": {"type": "tool_calls", "tool_calls": [fragment]}},
        }
        events.append(("thread.run.step.delta", delta))
    call: dict[str, Any] = {
        "id": call_id,
        "type": "function",
        "function": {"name": function.get("name"), "arguments": arguments},
    }
    step["step_details"] = {
        "type": "tool_calls",
        "tool_calls": [{**call, "function": {**call["function"], "output": None}}],
    }
    run["status"] = "requires_action"
    run["required_action"] = {"type": "submit_tool_outputs", "submit_tool_outputs": {"tool_calls": [call]}}
    run["_step"] = step
    events.append(("thread.run.requires_action", _public(run)))
    return events


def _write_message(state: DefaultState, run: dict[str, Any]) -> list[Event]:
    store = state.assistants
    now = int(time.time())
    text = _answer(run, store)
    message = _message(
        state,
        run["thread_id"],
        "assistant",
        text,
        assistant_id=run["assistant_id"],
        run_id=run["id"],
        status="in_progress",
        completed_at=None,
    )
    message["content"] = []
    step = _step(state, run, {"type": "message_creation", "message_creation": {"message_id": message["id"]}})
    events: list[Event] = [
        ("thread.run.step.created", dict(step)),
        ("thread.run.step.in_progress", dict(step)),
        ("thread.message.created", dict(message)),
        ("thread.message.in_progress", dict(message)),
    ]
    for i, piece in enumerate(words(text)):
        part: dict[str, Any] = {"index": 0, "type": "text", "text": {"value": piece}}
        if i == 0:
            part["text"]["annotations"] = []
        events.append(
            (
                "thread.message.delta",
                {"id": message["id"], "object": "thread.message.delta", "delta": {"content": [part]}},
            )
        )
    message.update(
        status="completed",
        completed_at=now,
        content=[{"type": "text", "text": {"value": text, "annotations": []}}],
    )
    store.messages[run["thread_id"]].append(message)
    events.append(("thread.message.completed", dict(message)))
    step.update(status="completed", completed_at=now, usage=_usage(text))
    events.append(("thread.run.step.completed", dict(step)))
    run.update(status="completed", completed_at=now, required_action=None, usage=_usage(text))
    events.append(("thread.run.completed", _public(run)))
    return events


def _json_text(value: Any) -> str:
    return msgspec.json.encode(value).decode()


def _run_answer(
    state: DefaultState, run: dict[str, Any], body: dict[str, Any], prelude: list[Event]
) -> FakeResponse:
    if not body.get("stream"):
        return _json(_public(run), polling=run["status"] in _MOVING)
    events = [*prelude]
    while run["status"] in ("queued", "in_progress"):
        events.extend(_advance(state, run))
    events.append(("done", "[DONE]"))
    return FakeResponse(events=events)


def _run_create(state: DefaultState, request: RecordedRequest, thread_id: str) -> FakeResponse:
    if thread_id not in state.assistants.threads:
        return _missing("thread", thread_id)
    body = _body(request)
    run = _new_run(state, request, thread_id, body)
    if isinstance(run, FakeResponse):
        return run
    prelude = [("thread.run.created", _public(run)), ("thread.run.queued", _public(run))]
    return _run_answer(state, run, body, prelude)


def _thread_and_run(state: DefaultState, request: RecordedRequest) -> FakeResponse:
    body = _body(request)
    thread = _new_thread(state, body.get("thread") or {})
    run = _new_run(state, request, thread["id"], body)
    if isinstance(run, FakeResponse):
        return run
    prelude = [
        ("thread.created", thread),
        ("thread.run.created", _public(run)),
        ("thread.run.queued", _public(run)),
    ]
    return _run_answer(state, run, body, prelude)


def _run_get(state: DefaultState, request: RecordedRequest, thread_id: str, run_id: str) -> FakeResponse:
    run = _run_of(state, thread_id, run_id)
    if isinstance(run, FakeResponse):
        return run
    _advance(state, run)
    return _json(_public(run), polling=run["status"] in _MOVING)


def _submit(state: DefaultState, request: RecordedRequest, thread_id: str, run_id: str) -> FakeResponse:
    run = _run_of(state, thread_id, run_id)
    if isinstance(run, FakeResponse):
        return run
    if run["status"] != "requires_action":
        return _json(
            error(f'Runs in status "{run["status"]}" do not accept tool outputs.', param="tool_outputs"),
            status=400,
        )
    body = _body(request)
    outputs = body.get("tool_outputs")
    if not isinstance(outputs, list) or not outputs:
        return _json(error("Missing required parameter: 'tool_outputs'.", param="tool_outputs"), status=400)
    run.update(status="queued", required_action=None, _outputs=outputs)
    step = run.pop("_step")
    now = int(time.time())
    for call, output in zip(step["step_details"]["tool_calls"], outputs, strict=False):
        call["function"]["output"] = output.get("output")
    step.update(status="completed", completed_at=now)
    prelude: list[Event] = [("thread.run.queued", _public(run)), ("thread.run.step.completed", dict(step))]
    if not body.get("stream"):
        run["status"] = "in_progress"
    return _run_answer(state, run, body, prelude)


def _run_cancel(state: DefaultState, request: RecordedRequest, thread_id: str, run_id: str) -> FakeResponse:
    run = _run_of(state, thread_id, run_id)
    if isinstance(run, FakeResponse):
        return run
    if run["status"] in _MOVING or run["status"] == "requires_action":
        run.update(status="cancelled", cancelled_at=int(time.time()), required_action=None)
    return _json(_public(run))


def _step_list(state: DefaultState, request: RecordedRequest, thread_id: str, run_id: str) -> FakeResponse:
    run = _run_of(state, thread_id, run_id)
    if isinstance(run, FakeResponse):
        return run
    return _json(_list(state.assistants.steps[run_id], request))


# -- videos -------------------------------------------------------------------------------------------------------


def _video_create(state: DefaultState, request: RecordedRequest) -> FakeResponse:
    form = (
        request.form
        if "multipart" in request.content_type
        else {k: str(v) for k, v in _body(request).items()}
    )
    if not form.get("prompt"):
        return _json(error("Missing required parameter: 'prompt'.", param="prompt"), status=400)
    video: dict[str, Any] = {
        "id": state.new_id("video_"),
        "object": "video",
        "model": form.get("model") or "sora-2",
        "status": "queued",
        "progress": 0,
        "created_at": int(time.time()),
        "completed_at": None,
        "expires_at": None,
        "prompt": form["prompt"],
        "seconds": form.get("seconds") or "4",
        "size": form.get("size") or "720x1280",
        "remixed_from_video_id": None,
        "error": None,
    }
    state.assistants.videos[video["id"]] = video
    return _json(video, polling=True)


def _video_get(state: DefaultState, request: RecordedRequest, video_id: str) -> FakeResponse:
    video = state.assistants.videos.get(video_id)
    if video is None:
        return _missing("video", video_id)
    if video["status"] == "queued":
        video.update(status="in_progress", progress=50)
    elif video["status"] == "in_progress":
        now = int(time.time())
        video.update(status="completed", progress=100, completed_at=now, expires_at=now + 3600)
    return _json(video, polling=video["status"] != "completed")


def _video_content(state: DefaultState, request: RecordedRequest, video_id: str) -> FakeResponse:
    video = state.assistants.videos.get(video_id)
    if video is None:
        return _missing("video", video_id)
    if video["status"] != "completed":
        return _json(error(f"Video {video_id} is not ready (status {video['status']})."), status=400)
    return FakeResponse(body=_MP4, content_type="video/mp4")


_Handler = Callable[..., FakeResponse]

ASSISTANT_ROUTES: dict[tuple[str, str], _Handler] = {
    ("POST", "/assistants"): _assistant_create,
    ("POST", "/threads"): _thread_create,
    ("POST", "/threads/runs"): _thread_and_run,
    ("POST", "/videos"): _video_create,
}
"""Exact ``(method, path)`` routes of these defaults."""

_SEG = "([^/]+)"
ASSISTANT_PATTERNS: list[tuple[str, re.Pattern[str], _Handler]] = [
    ("GET", re.compile(f"/assistants/{_SEG}"), _assistant_get),
    ("GET", re.compile(f"/threads/{_SEG}"), _thread_get),
    ("POST", re.compile(f"/threads/{_SEG}/messages"), _message_create),
    ("GET", re.compile(f"/threads/{_SEG}/messages"), _message_list),
    ("POST", re.compile(f"/threads/{_SEG}/runs"), _run_create),
    ("GET", re.compile(f"/threads/{_SEG}/runs/{_SEG}"), _run_get),
    ("POST", re.compile(f"/threads/{_SEG}/runs/{_SEG}/submit_tool_outputs"), _submit),
    ("POST", re.compile(f"/threads/{_SEG}/runs/{_SEG}/cancel"), _run_cancel),
    ("GET", re.compile(f"/threads/{_SEG}/runs/{_SEG}/steps"), _step_list),
    ("GET", re.compile(f"/videos/{_SEG}"), _video_get),
    ("GET", re.compile(f"/videos/{_SEG}/content"), _video_content),
]
"""``(method, regex, handler)`` routes; the regex groups are passed to the handler after the request."""
