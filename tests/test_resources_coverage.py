"""Every operation of the vendored spec is a method of AsyncOpenAI, under the official SDK's name."""

from __future__ import annotations

import inspect
import sys
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from openai_async import AsyncOpenAI

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))

import gen_resources  # noqa: E402

# Names the issue lists explicitly (client.<name>), checked one by one.
EXPECTED = """
chat.completions.create chat.completions.list chat.completions.retrieve chat.completions.update
chat.completions.delete chat.completions.messages.list
responses.create responses.retrieve responses.delete responses.cancel responses.compact
responses.input_items.list responses.input_tokens.count
audio.speech.create audio.transcriptions.create audio.translations.create
fine_tuning.jobs.create fine_tuning.jobs.list fine_tuning.jobs.retrieve fine_tuning.jobs.cancel
fine_tuning.jobs.list_events fine_tuning.jobs.pause fine_tuning.jobs.resume fine_tuning.jobs.checkpoints.list
fine_tuning.checkpoints.permissions.create fine_tuning.checkpoints.permissions.list
fine_tuning.checkpoints.permissions.delete fine_tuning.alpha.graders.run fine_tuning.alpha.graders.validate
batches.create batches.retrieve batches.list batches.cancel
uploads.create uploads.complete uploads.cancel uploads.parts.create
files.create files.retrieve files.list files.delete files.content
embeddings.create images.generate images.edit images.create_variation moderations.create
models.list models.retrieve models.delete completions.create
vector_stores.create vector_stores.retrieve vector_stores.update vector_stores.list vector_stores.delete
vector_stores.search vector_stores.files.create vector_stores.files.retrieve vector_stores.files.update
vector_stores.files.list vector_stores.files.delete vector_stores.files.content
vector_stores.file_batches.create vector_stores.file_batches.retrieve vector_stores.file_batches.cancel
vector_stores.file_batches.list_files
conversations.create conversations.retrieve conversations.update conversations.delete
conversations.items.create conversations.items.retrieve conversations.items.list conversations.items.delete
evals.create evals.retrieve evals.update evals.list evals.delete evals.runs.create evals.runs.retrieve
evals.runs.list evals.runs.delete evals.runs.cancel evals.runs.output_items.retrieve evals.runs.output_items.list
containers.create containers.retrieve containers.list containers.delete containers.files.create
containers.files.retrieve containers.files.list containers.files.delete containers.files.content.retrieve
videos.create videos.retrieve videos.list videos.delete videos.download_content videos.remix
skills.create skills.retrieve skills.update skills.list skills.delete skills.content.retrieve
skills.versions.create skills.versions.retrieve skills.versions.list skills.versions.delete
skills.versions.content.retrieve
realtime.calls.create realtime.calls.accept realtime.calls.hangup realtime.calls.refer realtime.calls.reject
realtime.client_secrets.create
beta.chatkit.sessions.create beta.chatkit.sessions.cancel beta.chatkit.threads.retrieve
beta.chatkit.threads.list beta.chatkit.threads.delete beta.chatkit.threads.list_items
beta.assistants.create beta.threads.create beta.threads.runs.create beta.threads.messages.list
beta.chat.completions.create beta.chat.completions.list
admin.organization.admin_api_keys.list admin.organization.audit_logs.list admin.organization.invites.create
admin.organization.users.retrieve admin.organization.projects.create admin.organization.projects.users.create
admin.organization.projects.service_accounts.create admin.organization.usage.completions
admin.organization.usage.costs admin.organization.groups.users.create admin.organization.roles.list
""".split()


@cache
def spec() -> dict[str, Any]:
    return gen_resources._load_spec()


@cache
def table() -> dict[str, dict[str, Any]]:
    return gen_resources.load_table()


def resolve(client: Any, dotted: str) -> Any:
    obj = client
    for part in dotted.split("."):
        obj = getattr(obj, part)
    return obj


@pytest.fixture(scope="module")
def client() -> AsyncOpenAI:
    return AsyncOpenAI(api_key="sk-test", base_url="http://127.0.0.1:9")


def test_table_lists_every_operation_once() -> None:
    """operations.toml has exactly one entry per operationId of the spec (288)."""
    ids = [op["operationId"] for _, _, op, _ in gen_resources.iter_operations(spec())]
    assert len(ids) == len(set(ids)) == 288
    assert set(table()) == set(ids)
    routes = {
        op["operationId"]: f"{verb} {path}" for verb, path, op, _ in gen_resources.iter_operations(spec())
    }
    assert {op_id: entry["http"] for op_id, entry in table().items()} == routes


def test_every_operation_has_a_method(client: AsyncOpenAI) -> None:
    """Each of the 288 operations resolves to a callable on the client: a coroutine, or a paginator for lists."""
    missing = []
    for op_id, entry in table().items():
        try:
            method = resolve(client, f"{entry['ns']}.{entry['method']}")
        except AttributeError:
            missing.append(op_id)
            continue
        if entry["kind"] == "list":
            assert not inspect.iscoroutinefunction(method), op_id
        else:
            assert inspect.iscoroutinefunction(method), op_id
        assert method.__doc__ and "https://platform.openai.com/docs/api-reference" in method.__doc__, op_id
    assert missing == []


@pytest.mark.parametrize("dotted", EXPECTED)
def test_official_sdk_names(client: AsyncOpenAI, dotted: str) -> None:
    """The names the issue lists exist, spelled as in the official SDK."""
    assert callable(resolve(client, dotted))


def test_same_names_and_positional_parameters_as_the_official_sdk(client: AsyncOpenAI) -> None:
    """Where the installed official SDK hits the same route, our method has its name, positional and keyword names."""
    openai = pytest.importorskip("openai")
    sdk = openai.AsyncOpenAI(api_key="sk-test", base_url="http://127.0.0.1:9")
    per_call = {"extra_headers", "extra_query", "extra_body", "timeout"}
    problems = []
    for op_id, entry in table().items():
        if entry["source"] != "sdk":
            continue
        ours = inspect.signature(resolve(client, f"{entry['ns']}.{entry['method']}"))
        theirs = inspect.signature(resolve(sdk, f"{entry['ns']}.{entry['method']}"))

        def split(sig: inspect.Signature) -> tuple[list[str], set[str]]:
            params = sig.parameters.values()
            positional = [p.name for p in params if p.kind is p.POSITIONAL_OR_KEYWORD and p.name != "self"]
            return positional, {p.name for p in params if p.kind is p.KEYWORD_ONLY} - per_call

        (our_pos, our_kw), (their_pos, their_kw) = split(ours), split(theirs)
        if our_pos != their_pos:
            problems.append(f"{op_id}: positional {our_pos} != {their_pos}")
        # The SDK may know parameters newer than the vendored spec; ours must all be spelled like theirs.
        extra = our_kw - their_kw
        if extra and op_id != "create-realtime-session":  # the SDK's beta.realtime.sessions lags the spec
            problems.append(f"{op_id}: keywords the SDK does not have: {sorted(extra)}")
    assert problems == []


def test_stream_capable_operations_take_stream() -> None:
    """Operations that can answer text/event-stream (or take a stream flag) accept stream=True."""
    client = AsyncOpenAI(api_key="sk-test", base_url="http://127.0.0.1:9")
    streaming = {op_id: e for op_id, e in table().items() if e["kind"] == "stream"}
    assert {f"{e['ns']}.{e['method']}" for e in streaming.values()} >= {
        "chat.completions.create",
        "responses.create",
        "responses.retrieve",
        "completions.create",
        "audio.transcriptions.create",
        "beta.threads.runs.create",
        "beta.threads.create_and_run",
        "beta.threads.runs.submit_tool_outputs",
        "images.generate",
        "images.edit",
    }
    for entry in streaming.values():
        params = inspect.signature(resolve(client, f"{entry['ns']}.{entry['method']}")).parameters
        assert "stream" in params, entry


def test_generated_files_carry_the_header() -> None:
    """Every generated resource module opens with the DO-NOT-EDIT header naming the command and spec hash."""
    files = sorted((ROOT / "openai_async" / "resources").rglob("*.py"))
    assert len(files) > 20
    for path in files:
        head = path.read_text().splitlines()[:2]
        assert "python scripts/generate.py" in head[0] and "sha256" in head[0], path
        assert "DO NOT EDIT" in head[1], path


def test_python_names_for_wire_names() -> None:
    """Wire names become identifiers: brackets dropped, keywords and per-call option names get a trailing _."""
    assert gen_resources.python_name("include[]") == "include"
    assert gen_resources.python_name("from") == "from_"
    assert gen_resources.python_name("timeout") == "timeout_"
    assert gen_resources.python_name("openai-beta") == "openai_beta"


def test_docstring_summary_is_the_first_plain_sentence() -> None:
    """Summaries skip bold notes and rules, drop markdown links, and stop after the first sentence."""
    op = {"summary": "**Note** read this.\n\n---\n\nCreates a [model](/docs/x) response. More text here."}
    assert gen_resources._summary(op) == "Creates a model response."


# -- the whole official surface, helpers included ----------------------------------------------------------------

PER_CALL = {"self", "extra_headers", "extra_query", "extra_body", "timeout"}

# Official methods we do not have, by dotted name or namespace prefix, with the reason. The test below checks that
# each one really is outside the vendored spec (no route of the spec with the method's verb and path).
NOT_OURS = {
    "admin.organization.external_keys.": "operations absent from the vendored spec",
    "admin.organization.external_storage.": "operations absent from the vendored spec",
    "admin.organization.workload_identity_providers.": "operations absent from the vendored spec",
    "admin.organization.projects.service_tier_settings.": "operations absent from the vendored spec",
    "admin.organization.projects.api_keys.update": "the spec has no POST on a project API key",
    "admin.organization.usage.decisions": "operation absent from the vendored spec",
    "audio.voices.delete": "operation absent from the vendored spec",
    "beta.agents.": "the Agents beta is absent from the vendored spec",
    "decisions.create": "operation absent from the vendored spec",
    "live.": "the Live API is absent from the vendored spec",
    "safety.": "operations absent from the vendored spec",
    "webhooks.create": "webhook endpoint management is absent from the spec (we have unwrap/verify_signature)",
    "webhooks.delete": "webhook endpoint management is absent from the vendored spec",
    "webhooks.list": "webhook endpoint management is absent from the vendored spec",
    "webhooks.retrieve": "webhook endpoint management is absent from the vendored spec",
    "webhooks.rotate_secret": "webhook endpoint management is absent from the vendored spec",
    "webhooks.test": "webhook endpoint management is absent from the vendored spec",
    "webhooks.update": "webhook endpoint management is absent from the vendored spec",
    "webhooks.event_types.list": "operation absent from the vendored spec",
    "responses.connect": "Responses WebSocket mode: the spec has its event schemas but no operation; not built yet",
    "beta.responses.connect": "Responses WebSocket mode (beta): no operation in the spec; not built yet",
    "beta.realtime.connect": "the beta Realtime namespace's socket; `realtime.connect` is the GA one we have",
    "realtime.translations.connect": "translation sockets: no operation in the vendored spec",
}

# Helpers (methods no spec operation generates) whose keywords differ from the official ones, with the reason.
HELPER_KEYWORD_GAPS = {}

# Keywords our helpers add to the official ones, with the reason.
OUR_HELPER_KEYWORDS = {
    "max_wait_seconds": "every poll helper can be bounded in time (PollTimeoutError)",
    "on_progress": "videos: called with each read of the job (progress 0-100)",
    "concurrency": "uploads.upload_file_chunked: parts in flight at once",
    "on_part": "uploads.upload_file_chunked: progress callback",
    "attributes": "file_batches.upload_and_poll: the spec's batch attributes, which the SDK's helper omits",
    "tolerance": "webhooks.unwrap: the timestamp tolerance verify_signature takes",
    "reconnect": "realtime.connect: reconnection on or off (or its RetryPolicy)",
    "raise_errors": "realtime.connect: raise `error` events instead of yielding them",
    "heartbeat": "realtime.connect: WebSocket ping interval",
    "max_message_size": "realtime.connect: the largest frame accepted",
}


def _official_methods() -> dict[str, Any]:
    """Every public method of the official AsyncOpenAI's resources, by dotted name."""
    openai = pytest.importorskip("openai")
    from openai._resource import AsyncAPIResource

    found: dict[str, Any] = {}

    def walk(obj: Any, prefix: str, seen: set[int]) -> None:
        for name in dir(type(obj)):
            if name.startswith("_") or name in ("with_raw_response", "with_streaming_response"):
                continue
            value = getattr(obj, name)
            if isinstance(value, AsyncAPIResource):
                if id(value) not in seen:
                    seen.add(id(value))
                    walk(value, f"{prefix}{name}.", seen)
            elif inspect.ismethod(value):
                found[f"{prefix}{name}"] = value

    sdk = openai.AsyncOpenAI(api_key="sk-test", base_url="http://127.0.0.1:9")
    for name in dir(sdk):
        if not name.startswith("_") and isinstance(getattr(sdk, name, None), AsyncAPIResource):
            walk(getattr(sdk, name), f"{name}.", set())
    return found


def _not_ours(dotted: str) -> str | None:
    return next(
        (
            why
            for key, why in NOT_OURS.items()
            if dotted == key or (key.endswith(".") and dotted.startswith(key))
        ),
        None,
    )


def _route_of(method: Any) -> tuple[str, str] | None:
    """The (verb, path) an official method sends, read from its source (None for sockets and local helpers)."""
    import re

    try:
        source = inspect.getsource(method)
    except (OSError, TypeError):
        return None
    verb = re.search(r"self\._(get|post|put|patch|delete|get_api_list)\(", source)
    path = re.search(r'"(/[A-Za-z0-9_/{}.-]+)"', source)
    if verb is None or path is None:
        return None
    name = "GET" if verb.group(1) == "get_api_list" else verb.group(1).upper()
    return name, re.sub(r"\{[^}]+\}", "{}", path.group(1))


def test_every_official_method_exists_or_is_listed(client: AsyncOpenAI) -> None:
    """Each method of the official client (helpers included) exists on ours, or is listed with a reason."""
    import re

    routes = {
        (verb.upper(), re.sub(r"\{[^}]+\}", "{}", path))
        for verb, path, _, _ in gen_resources.iter_operations(spec())
    }
    missing, listed_but_present, in_spec = [], [], []
    used: set[str] = set()
    for dotted, method in _official_methods().items():
        try:
            resolve(client, dotted)
            present = True
        except AttributeError:
            present = False
        reason = _not_ours(dotted)
        if reason is not None:
            used.update(k for k in NOT_OURS if dotted == k or (k.endswith(".") and dotted.startswith(k)))
            if present:
                listed_but_present.append(dotted)
            route = _route_of(method)
            if route is not None and route in routes:
                in_spec.append(f"{dotted}: {route}")
        elif not present:
            missing.append(dotted)
    assert missing == []
    assert listed_but_present == []  # a listed method we now have: drop it from NOT_OURS
    assert in_spec == []  # a listed method whose operation is in the spec: build it instead
    assert sorted(set(NOT_OURS) - used) == []  # no stale entries


def _signature(method: Any) -> tuple[set[str], list[str], list[str]]:
    params = inspect.signature(method).parameters.values()
    names = {p.name for p in params if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)} - PER_CALL
    required_positional = [
        p.name for p in params if p.kind is p.POSITIONAL_OR_KEYWORD and p.default is p.empty
    ]
    var_keyword = [p.name for p in params if p.kind is p.VAR_KEYWORD]
    return names, required_positional, var_keyword


def test_helpers_take_the_official_keywords(client: AsyncOpenAI) -> None:
    """Helper methods (no spec operation of their own) take the official keywords, spelled out, in the same order
    of required positionals; only per-call options travel as **options."""
    generated = {f"{e['ns']}.{e['method']}" for e in table().values()}
    problems, checked = [], []
    for dotted, theirs in _official_methods().items():
        if dotted in generated or _not_ours(dotted) is not None or dotted in HELPER_KEYWORD_GAPS:
            continue
        ours = resolve(client, dotted)
        (their_names, their_pos, _), (our_names, our_pos, our_var) = _signature(theirs), _signature(ours)
        checked.append(dotted)
        if their_names - our_names:
            problems.append(f"{dotted}: lacks {sorted(their_names - our_names)}")
        if our_names - their_names - set(OUR_HELPER_KEYWORDS):
            problems.append(f"{dotted}: keywords the SDK does not have: {sorted(our_names - their_names)}")
        if our_pos != their_pos:
            problems.append(f"{dotted}: required positionals {our_pos} != {their_pos}")
        if our_var not in ([], ["options"]):
            problems.append(f"{dotted}: takes **{our_var[0]}")
    assert problems == []
    assert {
        "beta.threads.runs.create_and_poll",
        "beta.threads.runs.poll",
        "beta.threads.runs.stream",
        "beta.threads.runs.create_and_stream",
        "beta.threads.runs.submit_tool_outputs_and_poll",
        "beta.threads.runs.submit_tool_outputs_stream",
        "beta.threads.create_and_run_poll",
        "beta.threads.create_and_run_stream",
        "videos.create_and_poll",
        "videos.poll",
        "files.retrieve_content",
        "files.wait_for_processing",
        "fine_tuning.checkpoints.permissions.retrieve",
        "uploads.upload_file_chunked",
        "vector_stores.files.create_and_poll",
        "vector_stores.files.upload_and_poll",
        "vector_stores.files.poll",
        "vector_stores.files.upload",
        "vector_stores.file_batches.create_and_poll",
        "vector_stores.file_batches.upload_and_poll",
        "vector_stores.file_batches.poll",
    } <= set(checked)


def test_helper_keyword_gaps_are_real(client: AsyncOpenAI) -> None:
    """Every entry of HELPER_KEYWORD_GAPS still differs from the official signature (no stale entries)."""
    official = _official_methods()
    stale = []
    for dotted in HELPER_KEYWORD_GAPS:
        (their_names, their_pos, _), (our_names, our_pos, our_var) = (
            _signature(official[dotted]),
            _signature(resolve(client, dotted)),
        )
        if not (their_names - our_names) and our_pos == their_pos and our_var in ([], ["options"]):
            stale.append(dotted)
    assert stale == []
