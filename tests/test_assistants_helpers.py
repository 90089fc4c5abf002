"""Assistants run helpers, run as the official docs show them against both SDKs on loopback servers."""

from __future__ import annotations

import time
import warnings
from collections.abc import Iterator
from typing import Any

import pytest
from aiohttp import web

from openai_async import AsyncOpenAI, PollTimeoutError
from openai_async._helpers.assistants.deltas import merge_delta
from openai_async.testing import FakeOpenAI

from ._drip import MODES, SDKS, make_client, sse_handler
from ._server import routes, serve

pytestmark = pytest.mark.anyio

WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    },
}


@pytest.fixture(autouse=True)
def _assistants_deprecation() -> Iterator[None]:
    """The official SDK marks the whole Assistants API deprecated (a warning per call); that is not under test."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="^deprecated$", category=DeprecationWarning)
        warnings.filterwarnings(
            "ignore", message=".*Assistants API is deprecated.*", category=DeprecationWarning
        )
        yield


def handler_class(sdk: str, log: list[Any]) -> type:
    """An event handler subclass of the SDK under test that logs what a user would print."""
    if sdk == "official":
        from openai import AsyncAssistantEventHandler as Base
    else:
        from openai_async import AsyncAssistantEventHandler as Base

    class Logger(Base):  # type: ignore[misc,valid-type]
        async def on_event(self, event: Any) -> None:
            log.append(("event", event.event))

        async def on_text_created(self, text: Any) -> None:
            log.append(("text_created", text.value))

        async def on_text_delta(self, delta: Any, snapshot: Any) -> None:
            log.append(("text_delta", delta.value, snapshot.value))

        async def on_text_done(self, text: Any) -> None:
            log.append(("text_done", text.value))

        async def on_message_created(self, message: Any) -> None:
            log.append(("message_created", message.id))

        async def on_message_delta(self, delta: Any, snapshot: Any) -> None:
            log.append(("message_delta", [c.text.value for c in snapshot.content if c.type == "text"]))

        async def on_message_done(self, message: Any) -> None:
            log.append(("message_done", [c.text.value for c in message.content if c.type == "text"]))

        async def on_run_step_created(self, step: Any) -> None:
            log.append(("step_created", step.type))

        async def on_run_step_delta(self, delta: Any, snapshot: Any) -> None:
            log.append(("step_delta", snapshot.step_details.type))

        async def on_run_step_done(self, step: Any) -> None:
            log.append(("step_done", step.status))

        async def on_tool_call_created(self, call: Any) -> None:
            log.append(("tool_created", call.id, call.function.name, call.function.arguments))

        async def on_tool_call_delta(self, delta: Any, snapshot: Any) -> None:
            log.append(("tool_delta", delta.function.arguments, snapshot.function.arguments))

        async def on_tool_call_done(self, call: Any) -> None:
            log.append(("tool_done", call.function.arguments))

        async def on_exception(self, exception: Exception) -> None:
            log.append(("exception", type(exception).__name__))

        async def on_end(self) -> None:
            log.append("end")

    return Logger


async def docs_flow(sdk: str, base_url: str) -> list[Any]:
    """The helpers.md flow: stream a run with an event handler, answer its tool call, stream the rest."""
    log: list[Any] = []
    Logger = handler_class(sdk, log)
    async with make_client(sdk, base_url) as client:
        assistant = await client.beta.assistants.create(
            model="gpt-4o", instructions="Be brief.", tools=[WEATHER]
        )
        thread = await client.beta.threads.create(messages=[{"role": "user", "content": "Weather in Paris?"}])
        async with client.beta.threads.runs.stream(
            thread_id=thread.id, assistant_id=assistant.id, event_handler=Logger()
        ) as stream:
            await stream.until_done()
        run = stream.current_run
        call = run.required_action.submit_tool_outputs.tool_calls[0]
        log.append(("run", run.status, call.function.name, call.function.arguments))
        async with client.beta.threads.runs.submit_tool_outputs_stream(
            thread_id=thread.id,
            run_id=run.id,
            tool_outputs=[{"tool_call_id": call.id, "output": "Sunny, 22 C"}],
            event_handler=Logger(),
        ) as stream:
            final = await stream.get_final_run()
            messages = await stream.get_final_messages()
        log.append(("final", final.status, [m.content[0].text.value for m in messages]))
        page = await client.beta.threads.messages.list(thread_id=thread.id, order="asc")
        log.append(("thread", [(m.role, m.content[0].text.value) for m in page.data]))
    return log


async def test_stream_with_event_handler_matches_the_official_sdk() -> None:
    """The documented stream flow (tool call, outputs, answer) gives the same callbacks in the same order."""
    async with FakeOpenAI() as fake:
        official = await docs_flow("official", fake.base_url)
    async with FakeOpenAI() as fake:
        ours = await docs_flow("ours", fake.base_url)
    assert ours == official
    assert ("run", "requires_action", "get_weather", '{"city":"fake"}') in ours
    assert ("text_delta", " 22", "Sunny, 22") in ours
    assert ours[-2] == ("final", "completed", ["Sunny, 22 C"])
    assert ours[-1] == ("thread", [("user", "Weather in Paris?"), ("assistant", "Sunny, 22 C")])


def _message(mid: str, content: list[Any], status: str = "in_progress") -> dict[str, Any]:
    return {
        "id": mid,
        "object": "thread.message",
        "created_at": 1,
        "thread_id": "thread_1",
        "status": status,
        "role": "assistant",
        "content": content,
        "assistant_id": "asst_1",
        "run_id": "run_1",
        "attachments": [],
        "metadata": {},
    }


def _run(status: str) -> dict[str, Any]:
    return {
        "id": "run_1",
        "object": "thread.run",
        "created_at": 1,
        "thread_id": "thread_1",
        "assistant_id": "asst_1",
        "status": status,
        "model": "gpt-4o",
        "instructions": "",
        "tools": [],
        "metadata": {},
        "parallel_tool_calls": True,
        "tool_choice": "auto",
        "truncation_strategy": {"type": "auto"},
        "response_format": "auto",
    }


def _step(sid: str, details: dict[str, Any], status: str = "in_progress") -> dict[str, Any]:
    return {
        "id": sid,
        "object": "thread.run.step",
        "created_at": 1,
        "assistant_id": "asst_1",
        "thread_id": "thread_1",
        "run_id": "run_1",
        "type": details["type"],
        "status": status,
        "step_details": details,
    }


def _text(index: int, value: str) -> dict[str, Any]:
    return {"index": index, "type": "text", "text": {"value": value}}


def _call(index: int, **fields: Any) -> dict[str, Any]:
    return {"index": index, "type": "function", **fields}


def two_blocks_and_two_calls() -> list[Any]:
    """A run whose message has two text blocks and whose tool step has two calls (the order rules show)."""
    tools = {"type": "tool_calls", "tool_calls": []}
    text_a, text_b = "First block.", "Second block."
    return [
        ("thread.run.created", _run("queued")),
        ("thread.run.in_progress", _run("in_progress")),
        (
            "thread.run.step.created",
            _step("step_1", {"type": "message_creation", "message_creation": {"message_id": "msg_1"}}),
        ),
        ("thread.message.created", _message("msg_1", [])),
        ("thread.message.delta", {"id": "msg_1", "delta": {"content": [_text(0, "First")]}}),
        ("thread.message.delta", {"id": "msg_1", "delta": {"content": [_text(0, " block.")]}}),
        ("thread.message.delta", {"id": "msg_1", "delta": {"content": [_text(1, "Second")]}}),
        ("thread.message.delta", {"id": "msg_1", "delta": {"content": [_text(1, " block.")]}}),
        (
            "thread.message.completed",
            _message(
                "msg_1",
                [
                    {"type": "text", "text": {"value": text_a, "annotations": []}},
                    {"type": "text", "text": {"value": text_b, "annotations": []}},
                ],
                status="completed",
            ),
        ),
        (
            "thread.run.step.completed",
            _step(
                "step_1",
                {"type": "message_creation", "message_creation": {"message_id": "msg_1"}},
                "completed",
            ),
        ),
        ("thread.run.step.created", _step("step_2", tools)),
        (
            "thread.run.step.delta",
            {
                "id": "step_2",
                "delta": {
                    "step_details": {
                        "type": "tool_calls",
                        "tool_calls": [
                            _call(0, id="call_a", function={"name": "a", "arguments": '{"x"', "output": None})
                        ],
                    }
                },
            },
        ),
        (
            "thread.run.step.delta",
            {
                "id": "step_2",
                "delta": {
                    "step_details": {
                        "type": "tool_calls",
                        "tool_calls": [_call(0, function={"arguments": ": 1}"})],
                    }
                },
            },
        ),
        (
            "thread.run.step.delta",
            {
                "id": "step_2",
                "delta": {
                    "step_details": {
                        "type": "tool_calls",
                        "tool_calls": [
                            _call(1, id="call_b", function={"name": "b", "arguments": "{}", "output": None})
                        ],
                    }
                },
            },
        ),
        (
            "thread.run.requires_action",
            {
                **_run("requires_action"),
                "required_action": {
                    "type": "submit_tool_outputs",
                    "submit_tool_outputs": {
                        "tool_calls": [
                            {
                                "id": "call_a",
                                "type": "function",
                                "function": {"name": "a", "arguments": '{"x": 1}'},
                            },
                            {
                                "id": "call_b",
                                "type": "function",
                                "function": {"name": "b", "arguments": "{}"},
                            },
                        ]
                    },
                },
            },
        ),
        ("done", "[DONE]"),
    ]


async def observe_drip(sdk: str, url: str) -> list[Any]:
    log: list[Any] = []
    async with make_client(sdk, url) as client:
        async with client.beta.threads.runs.stream(
            thread_id="thread_1", assistant_id="asst_1", event_handler=handler_class(sdk, log)()
        ) as stream:
            steps = await stream.get_final_run_steps()
            run = await stream.get_final_run()
        log.append(("steps", [s.id for s in steps], run.status))
    return log


@pytest.mark.parametrize("mode", MODES)
async def test_block_and_tool_call_order_matches_the_official_sdk(mode: str) -> None:
    """Two text blocks and two tool calls, dripped per event or per byte: the same callbacks, same snapshots."""
    app = routes(
        (
            "POST",
            "/v1/threads/{thread_id}/runs",
            sse_handler(two_blocks_and_two_calls(), mode=mode, pause=0.001, done=False),
        )
    )
    async with serve(app) as url:
        logs = {sdk: await observe_drip(sdk, url) for sdk in SDKS}
    assert logs["ours"] == logs["official"]
    ours = logs["ours"]
    assert ("text_done", "First block.") in ours and ("text_done", "Second block.") in ours
    assert ("tool_delta", ": 1}", '{"x": 1}') in ours
    assert ours[-1] == ("steps", ["step_1", "step_2"], "requires_action")


async def test_text_deltas_and_error_event() -> None:
    """text_deltas yields the fragments; an `event: error` reaches on_exception, on_end, then the reader."""
    events = two_blocks_and_two_calls()[:6] + [
        ("error", {"error": {"message": "boom", "type": "server_error"}})
    ]
    app = routes(
        ("POST", "/v1/threads/{thread_id}/runs", sse_handler(events, mode="events", pause=0.001, done=False))
    )
    results: dict[str, Any] = {}
    async with serve(app) as url:
        for sdk in SDKS:
            log: list[Any] = []
            texts: list[str] = []
            async with make_client(sdk, url) as client:
                with pytest.raises(Exception) as info:
                    async with client.beta.threads.runs.stream(
                        thread_id="thread_1", assistant_id="asst_1", event_handler=handler_class(sdk, log)()
                    ) as stream:
                        async for text in stream.text_deltas:
                            texts.append(text)
            results[sdk] = (
                texts,
                [x for x in log if x == "end" or x[0] == "exception"],
                type(info.value).__name__,
                info.value.message,
            )
    assert results["ours"] == results["official"]
    assert results["ours"][0] == ["First", " block."]
    assert results["ours"][1] == [("exception", "APIError"), "end"]


async def poll_flow(sdk: str, base_url: str) -> list[Any]:
    """create_and_poll, submit_tool_outputs_and_poll and create_and_run_poll, as the docs call them."""
    async with make_client(sdk, base_url) as client:
        assistant = await client.beta.assistants.create(model="gpt-4o", tools=[WEATHER])
        thread = await client.beta.threads.create(messages=[{"role": "user", "content": "Weather?"}])
        run = await client.beta.threads.runs.create_and_poll(thread_id=thread.id, assistant_id=assistant.id)
        seen = [run.status, run.required_action.submit_tool_outputs.tool_calls[0].function.name]
        run = await client.beta.threads.runs.submit_tool_outputs_and_poll(
            thread_id=thread.id,
            run_id=run.id,
            tool_outputs=[
                {"tool_call_id": run.required_action.submit_tool_outputs.tool_calls[0].id, "output": "rain"}
            ],
        )
        seen.append(run.status)
        messages = await client.beta.threads.messages.list(thread_id=thread.id, run_id=run.id)
        seen.append([m.content[0].text.value for m in messages.data])
        run = await client.beta.threads.create_and_run_poll(
            assistant_id=assistant.id,
            thread={"messages": [{"role": "user", "content": "Hello"}]},
            tool_choice="none",
            poll_interval_ms=5,
        )
        seen.append(run.status)
        again = await client.beta.threads.runs.poll(run.id, run.thread_id)
        seen.append(again.status)
    return seen


async def test_poll_helpers_follow_the_fake_run_lifecycle() -> None:
    """queued -> in_progress -> requires_action, outputs, completed: both SDKs see the same run states."""
    results = {}
    for sdk in SDKS:
        async with FakeOpenAI() as fake:
            started = time.monotonic()
            results[sdk] = await poll_flow(sdk, fake.base_url)
            elapsed = time.monotonic() - started
            reads = [r for r in fake.requests if r.method == "GET" and "/runs/" in r.path]
        assert elapsed < 2.0  # openai-poll-after-ms: 10 is honoured (the default wait is 1 s per read)
        assert len(reads) >= 5
    assert results["ours"] == results["official"]
    assert results["ours"] == [
        "requires_action",
        "get_weather",
        "completed",
        ["rain"],
        "completed",
        "completed",
    ]


async def test_create_and_run_stream_events_match() -> None:
    """create_and_run_stream iterated directly yields the same event names, thread.created first."""
    names = {}
    for sdk in SDKS:
        async with FakeOpenAI() as fake, make_client(sdk, fake.base_url) as client:
            assistant = await client.beta.assistants.create(model="gpt-4o")
            async with client.beta.threads.create_and_run_stream(
                assistant_id=assistant.id, thread={"messages": [{"role": "user", "content": "Say hi"}]}
            ) as stream:
                names[sdk] = [event.event async for event in stream]
    assert names["ours"] == names["official"]
    assert names["ours"][0] == "thread.created" and names["ours"][-1] == "thread.run.completed"


async def test_poll_honours_the_header_and_max_wait_seconds() -> None:
    """A run kept in_progress is read every openai-poll-after-ms; max_wait_seconds ends it with PollTimeoutError."""
    reads: list[float] = []

    async def retrieve(request: web.Request) -> web.Response:
        reads.append(time.monotonic())
        return web.json_response(_run("in_progress"), headers={"openai-poll-after-ms": "20"})

    async with serve(routes(("GET", "/v1/threads/{t}/runs/{r}", retrieve))) as url:
        async with AsyncOpenAI(api_key="sk-test", base_url=url, max_retries=0) as client:
            with pytest.raises(PollTimeoutError) as info:
                await client.beta.threads.runs.poll("run_1", "thread_1", max_wait_seconds=0.25)
    assert info.value.last.status == "in_progress"
    gaps = [b - a for a, b in zip(reads, reads[1:], strict=False)]
    assert 5 <= len(reads) <= 16
    assert all(gap >= 0.015 for gap in gaps[:-1])


def test_merge_delta_literals() -> None:
    """Strings append, index/type replace, indexed list entries merge by index, scalar lists grow."""
    snapshot = {"type": "text", "text": {"value": "Hel", "annotations": []}, "tags": ["a"]}
    merge_delta(
        snapshot,
        {
            "index": 0,
            "type": "text",
            "text": {"value": "lo", "annotations": [{"index": 0, "type": "file_path", "text": "x"}]},
            "tags": ["b"],
        },
    )
    assert snapshot == {
        "type": "text",
        "index": 0,
        "tags": ["a", "b"],
        "text": {"value": "Hello", "annotations": [{"index": 0, "type": "file_path", "text": "x"}]},
    }
    merge_delta(snapshot, {"text": {"annotations": [{"index": 0, "text": "y"}, {"index": 1, "text": "z"}]}})
    assert snapshot["text"]["annotations"] == [
        {"index": 0, "type": "file_path", "text": "xy"},
        {"index": 1, "text": "z"},
    ]
    with pytest.raises(TypeError, match="integer 'index'"):
        merge_delta({"calls": [{"index": 0}]}, {"calls": [{"index": "0"}]})


async def test_fake_run_states_step_by_step() -> None:
    """The fake moves a run one state per read, refuses outputs out of turn, and cancels a moving run."""
    async with FakeOpenAI() as fake, fake.client() as client:
        assistant = await client.beta.assistants.create(model="gpt-4o", tools=[WEATHER])
        thread = await client.beta.threads.create(messages=[{"role": "user", "content": "Hi"}])
        run = await client.beta.threads.runs.create(thread.id, assistant_id=assistant.id)
        states = [run.status]
        for _ in range(2):
            run = await client.beta.threads.runs.retrieve(run.id, thread_id=thread.id)
            states.append(run.status)
        call = run.required_action.submit_tool_outputs.tool_calls[0]
        run = await client.beta.threads.runs.submit_tool_outputs(
            run.id, thread_id=thread.id, tool_outputs=[{"tool_call_id": call.id, "output": "ok"}]
        )
        states.append(run.status)
        run = await client.beta.threads.runs.retrieve(run.id, thread_id=thread.id)
        states.append(run.status)
        with pytest.raises(Exception, match="do not accept tool outputs") as info:
            await client.beta.threads.runs.submit_tool_outputs(
                run.id, thread_id=thread.id, tool_outputs=[{"tool_call_id": call.id, "output": "again"}]
            )
        other = await client.beta.threads.runs.create(
            thread.id, assistant_id=assistant.id, tool_choice="none"
        )
        cancelled = await client.beta.threads.runs.cancel(other.id, thread_id=thread.id)
        steps = await client.beta.threads.runs.steps.list(run.id, thread_id=thread.id)
    assert states == ["queued", "in_progress", "requires_action", "in_progress", "completed"]
    assert getattr(info.value, "status_code", None) == 400
    assert cancelled.status == "cancelled"
    assert sorted(s.type for s in steps.data) == ["message_creation", "tool_calls"]


# The run helpers whose keywords are generated from the operation they wrap (scripts/overrides.toml), and the
# keywords ours add to the official ones.
RUN_HELPERS = {
    "beta.threads.runs.create_and_poll": {"max_wait_seconds"},
    "beta.threads.runs.stream": set(),
    "beta.threads.runs.create_and_stream": set(),
    "beta.threads.runs.submit_tool_outputs_and_poll": {"max_wait_seconds"},
    "beta.threads.runs.submit_tool_outputs_stream": set(),
    "beta.threads.create_and_run_poll": {"max_wait_seconds"},
    "beta.threads.create_and_run_stream": set(),
}
PER_CALL = {"extra_headers", "extra_query", "extra_body", "timeout"}


def _method(client: Any, dotted: str) -> Any:
    target = client
    for part in dotted.split("."):
        target = getattr(target, part)
    return target


def test_run_helper_signatures_match_the_official_sdk() -> None:
    """Each run helper takes the official keywords (keyword-only, same required ones, omitted by default, None
    where the SDK takes None), plus max_wait_seconds on the poll helpers and nothing else."""
    import inspect

    import openai

    from openai_async._core.types import UNSET

    theirs_client, ours_client = openai.AsyncOpenAI(api_key="sk-test"), AsyncOpenAI(api_key="sk-test")
    problems = []
    for dotted, ours_only in RUN_HELPERS.items():
        theirs = inspect.signature(_method(theirs_client, dotted)).parameters
        ours = inspect.signature(_method(ours_client, dotted)).parameters
        their_names = set(theirs) - PER_CALL
        our_names = {n for n, p in ours.items() if p.kind is not p.VAR_KEYWORD}
        if our_names != their_names | ours_only:
            problems.append(f"{dotted}: {sorted(our_names ^ (their_names | ours_only))}")
        if [p.kind for p in ours.values()][-1] is not inspect.Parameter.VAR_KEYWORD:
            problems.append(f"{dotted}: no **options")
        for name in their_names & our_names:
            t, o = theirs[name], ours[name]
            if o.kind is not o.KEYWORD_ONLY:
                problems.append(f"{dotted}({name}): not keyword-only")
            if (t.default is t.empty) != (o.default is o.empty):
                problems.append(
                    f"{dotted}({name}): required {t.default is t.empty} != {o.default is o.empty}"
                )
            elif t.default is None and o.default is not None:
                problems.append(f"{dotted}({name}): default {o.default!r}, not None")
            elif t.default not in (None, t.empty) and o.default is not UNSET:
                problems.append(f"{dotted}({name}): default {o.default!r}, not omitted")
            their_none = "Optional[" in str(t.annotation) or "None" in str(t.annotation)
            if their_none != ("None" in str(o.annotation)):
                problems.append(f"{dotted}({name}): None in {t.annotation!r} vs {o.annotation!r}")
    assert problems == []


def _seen(requests: list[Any]) -> list[Any]:
    """What a server sees of each request, with the fake's generated ids made comparable."""
    import json
    import re

    def plain(text: str) -> str:
        return re.sub(r"\b(asst|thread|run|call|msg|step)_[A-Za-z0-9]+", r"\1_*", text)

    return [
        (
            r.method,
            plain(r.path),
            sorted(r.query.items()),
            r.headers.get("X-Test"),
            plain(json.dumps(r.json, sort_keys=True)) if r.body else None,
        )
        for r in requests
    ]


async def every_helper_flow(sdk: str, base_url: str) -> list[Any]:
    """Each run helper called with its keywords (generators for the lists, None where the SDK takes it)."""
    statuses: list[Any] = []
    Logger = handler_class(sdk, [])
    async with make_client(sdk, base_url) as client:
        runs = client.beta.threads.runs
        assistant = await client.beta.assistants.create(model="gpt-4o", tools=[WEATHER])
        thread = await client.beta.threads.create()
        run = await runs.create_and_poll(
            thread_id=thread.id,
            assistant_id=assistant.id,
            include=["step_details.tool_calls[*].file_search.results[*].content"],
            additional_instructions="Short.",
            additional_messages=(m for m in [{"role": "user", "content": "Weather in Paris?"}]),
            instructions="Be brief.",
            max_completion_tokens=100,
            max_prompt_tokens=1000,
            metadata={"k": "v"},
            model="gpt-4o",
            parallel_tool_calls=False,
            reasoning_effort="low",
            response_format="auto",
            temperature=0.5,
            tool_choice="auto",
            tools=(t for t in [WEATHER]),
            top_p=0.9,
            truncation_strategy={"type": "auto"},
            poll_interval_ms=1,
            extra_headers={"X-Test": "1"},
            extra_query={"trace": "a"},
        )
        call = run.required_action.submit_tool_outputs.tool_calls[0]
        statuses.append(run.status)
        run = await runs.submit_tool_outputs_and_poll(
            tool_outputs=(o for o in [{"tool_call_id": call.id, "output": "rain"}]),
            run_id=run.id,
            thread_id=thread.id,
            poll_interval_ms=1,
            extra_query={"trace": "b"},
        )
        statuses.append(run.status)
        async with runs.stream(
            thread_id=thread.id,
            assistant_id=assistant.id,
            tool_choice="none",
            metadata=None,
            event_handler=Logger(),
        ) as stream:
            await stream.until_done()
        statuses.append(stream.current_run.status)
        async with runs.create_and_stream(
            thread_id=thread.id, assistant_id=assistant.id, response_format=None, truncation_strategy=None
        ) as stream:
            await stream.until_done()
        run = stream.current_run
        statuses.append(run.status)
        call = run.required_action.submit_tool_outputs.tool_calls[0]
        async with runs.submit_tool_outputs_stream(
            tool_outputs=[{"tool_call_id": call.id, "output": "sun"}], run_id=run.id, thread_id=thread.id
        ) as stream:
            statuses.append((await stream.get_final_run()).status)
        run = await client.beta.threads.create_and_run_poll(
            assistant_id=assistant.id,
            thread={"messages": [{"role": "user", "content": "Hi"}]},
            tool_choice="none",
            tool_resources=None,
            metadata={"a": "b"},
            poll_interval_ms=1,
        )
        statuses.append(run.status)
        async with client.beta.threads.create_and_run_stream(
            assistant_id=assistant.id, tools=(t for t in [WEATHER]), tool_choice="none", temperature=None
        ) as stream:
            await stream.until_done()
        statuses.append(stream.current_run.status)
    return statuses


async def test_every_run_helper_sends_what_the_official_sdk_sends() -> None:
    """Every keyword of the seven run helpers reaches the server as the official SDK sends it (query, body,
    per-call options on the reads too), and the runs end in the same states."""
    seen, statuses = {}, {}
    for sdk in SDKS:
        async with FakeOpenAI() as fake:
            statuses[sdk] = await every_helper_flow(sdk, fake.base_url)
            seen[sdk] = _seen(fake.requests)
    assert statuses["ours"] == statuses["official"]
    assert (
        statuses["ours"]
        == ["requires_action", "completed", "completed", "requires_action"] + ["completed"] * 3
    )
    assert seen["ours"] == seen["official"]
