"""Generated resource methods put the right method, path, query, headers and body on the wire."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import msgspec
import pytest
from aiohttp import web

from openai_async import AsyncOpenAI
from openai_async._core.response import BinaryResponse
from openai_async._core.streaming import AsyncStream
from openai_async.types.chat import CreateChatCompletionResponse, CreateChatCompletionStreamResponse
from openai_async.types.files import OpenAIFile

from ._server import serve

pytestmark = pytest.mark.anyio

FILE = {
    "id": "file-1",
    "object": "file",
    "bytes": 3,
    "created_at": 1,
    "filename": "a.jsonl",
    "purpose": "batch",
    "status": "processed",
}
COMPLETION = {
    "id": "chatcmpl-1",
    "object": "chat.completion",
    "created": 1,
    "model": "gpt-4o",
    "choices": [
        {
            "index": 0,
            "finish_reason": "stop",
            "logprobs": None,
            "message": {"role": "assistant", "content": "hi", "refusal": None},
        }
    ],
}
CHUNK = {
    "id": "chatcmpl-1",
    "object": "chat.completion.chunk",
    "created": 1,
    "model": "gpt-4o",
    "choices": [{"index": 0, "delta": {"content": "hi"}, "finish_reason": None}],
}


@dataclass
class Seen:
    """One request as the server saw it."""

    method: str
    raw_path: str
    query: list[tuple[str, str]]
    headers: dict[str, str]
    body: bytes
    form: dict[str, Any] = field(default_factory=dict)


class Recorder:
    """A catch-all aiohttp app: records every request and answers from a {(METHOD, path): reply} table."""

    def __init__(self, replies: dict[tuple[str, str], Any]) -> None:
        self.replies = replies
        self.seen: list[Seen] = []

    async def handle(self, request: web.Request) -> web.StreamResponse:
        seen = Seen(request.method, request.raw_path, list(request.query.items()), dict(request.headers), b"")
        if request.content_type == "multipart/form-data":
            reader = await request.multipart()
            async for part in reader:
                data = await part.read()  # type: ignore[union-attr]
                seen.form[part.name] = (part.filename, data) if part.filename else data.decode()  # type: ignore[union-attr]
        else:
            seen.body = await request.read()
        self.seen.append(seen)
        reply = self.replies.get((request.method, request.path), {})
        if callable(reply):
            return await reply(request)
        if isinstance(reply, bytes):
            return web.Response(body=reply, content_type="application/octet-stream")
        if reply is None:
            return web.Response(status=200)
        return web.json_response(reply)

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self.handle)
        return app


async def sse(request: web.Request) -> web.StreamResponse:
    response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
    await response.prepare(request)
    await response.write(b"data: " + msgspec.json.encode(CHUNK) + b"\n\n")
    await response.write(b"data: [DONE]\n\n")
    await response.write_eof()
    return response


@pytest.fixture
async def wire() -> AsyncIterator[tuple[AsyncOpenAI, Recorder]]:
    recorder = Recorder(
        {
            ("POST", "/v1/chat/completions"): COMPLETION,
            ("GET", "/v1/files"): {"object": "list", "data": [FILE], "has_more": False},
            ("POST", "/v1/files"): FILE,
            ("GET", "/v1/files/a/b?c"): FILE,
            ("POST", "/v1/audio/speech"): b"ID3audio",
            ("DELETE", "/v1/containers/c1"): None,
            ("POST", "/v1/realtime/calls"): lambda r: _sdp_answer(r),
        }
    )
    async with (
        serve(recorder.app()) as url,
        AsyncOpenAI(api_key="sk-test", base_url=url, max_retries=0) as client,
    ):
        yield client, recorder


async def _sdp_answer(request: web.Request) -> web.Response:
    return web.Response(text="v=0\r\nanswer\r\n", content_type="application/sdp", status=201)


async def test_json_body_sends_only_given_fields(wire: tuple[AsyncOpenAI, Recorder]) -> None:
    """chat.completions.create posts exactly the given fields as JSON and decodes the typed result."""
    client, rec = wire
    result = await client.chat.completions.create(
        messages=[{"role": "user", "content": "hi"}], model="gpt-4o", temperature=0.5, stop=None
    )
    seen = rec.seen[-1]
    assert (seen.method, seen.raw_path) == ("POST", "/v1/chat/completions")
    assert msgspec.json.decode(seen.body) == {
        "messages": [{"role": "user", "content": "hi"}],
        "model": "gpt-4o",
        "temperature": 0.5,
        "stop": None,
    }
    assert seen.headers["Content-Type"].startswith("application/json")
    assert isinstance(result, CreateChatCompletionResponse)
    assert result.choices[0].message.content == "hi"


async def test_stream_true_returns_an_event_stream(wire: tuple[AsyncOpenAI, Recorder]) -> None:
    """create(stream=True) sends "stream": true, asks for SSE and yields typed chunks."""
    client, rec = wire
    rec.replies[("POST", "/v1/chat/completions")] = sse
    stream = await client.chat.completions.create(messages=[], model="gpt-4o", stream=True)
    assert isinstance(stream, AsyncStream)
    async with stream:
        chunks = [chunk async for chunk in stream]
    assert msgspec.json.decode(rec.seen[-1].body)["stream"] is True
    assert rec.seen[-1].headers["Accept"] == "text/event-stream"
    assert [type(c) for c in chunks] == [CreateChatCompletionStreamResponse]
    assert chunks[0].choices[0].delta.content == "hi"


async def test_query_arrays_and_scalars(wire: tuple[AsyncOpenAI, Recorder]) -> None:
    """List parameters go out as repeated name[]=v; unset ones are left out; bools as true/false."""
    client, rec = wire
    await client.admin.organization.audit_logs.list(project_ids=["p1", "p2"], limit=2)
    await client.admin.organization.projects.list(include_archived=True)
    assert rec.seen[-2].raw_path.startswith("/v1/organization/audit_logs?")
    assert rec.seen[-2].query == [("project_ids[]", "p1"), ("project_ids[]", "p2"), ("limit", "2")]
    assert rec.seen[-1].query == [("include_archived", "true")]


async def test_path_parameters_are_escaped_and_positional(wire: tuple[AsyncOpenAI, Recorder]) -> None:
    """The last path parameter is positional, the others keywords; each is escaped as one segment."""
    client, rec = wire
    result = await client.files.retrieve("a/b?c")
    await client.vector_stores.files.retrieve("file 1", vector_store_id="vs#1")
    assert rec.seen[-2].raw_path == "/v1/files/a%2Fb%3Fc"
    assert rec.seen[-1].raw_path == "/v1/vector_stores/vs%231/files/file%201"
    assert isinstance(result, OpenAIFile)


async def test_multipart_upload(wire: tuple[AsyncOpenAI, Recorder]) -> None:
    """files.create sends multipart/form-data with the file part and plain fields; unset fields are absent."""
    client, rec = wire
    result = await client.files.create(file=("a.jsonl", b"{}\n"), purpose="batch")
    seen = rec.seen[-1]
    assert seen.headers["Content-Type"].startswith("multipart/form-data")
    assert seen.form == {"file": ("a.jsonl", b"{}\n"), "purpose": "batch"}
    assert result.id == "file-1"


async def test_a_str_for_a_file_parameter_is_refused_before_sending(
    wire: tuple[AsyncOpenAI, Recorder], tmp_path: Any
) -> None:
    """A file parameter given a str (a path, or text) would upload the str itself: it raises a TypeError that
    names the parameter, and nothing is sent. Paths go as pathlib.Path; lists of files are checked item by item."""
    client, rec = wire
    with pytest.raises(TypeError, match="`file` takes bytes, a path .* not str"):
        await client.files.create(file="a.jsonl", purpose="batch")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="`image` takes"):
        await client.images.edit(image=[b"png", "b.png"], prompt="x")  # type: ignore[list-item]
    assert rec.seen == []
    path = tmp_path / "a.jsonl"
    path.write_bytes(b"{}\n")
    await client.files.create(file=path, purpose="batch")
    assert rec.seen[-1].form["file"] == ("a.jsonl", b"{}\n")


async def test_list_awaits_first_page_and_iterates(wire: tuple[AsyncOpenAI, Recorder]) -> None:
    """files.list() is awaitable (first page) and async-iterable (every item), typed by the item schema."""
    client, rec = wire
    page = await client.files.list(limit=1, purpose="batch")
    items = [f async for f in client.files.list()]
    assert rec.seen[0].query == [("purpose", "batch"), ("limit", "1")]
    assert [f.id for f in page.data] == ["file-1"] and isinstance(page.data[0], OpenAIFile)
    assert [f.id for f in items] == ["file-1"]


async def test_binary_and_empty_responses(wire: tuple[AsyncOpenAI, Recorder]) -> None:
    """audio.speech.create returns a BinaryResponse, body read; containers.delete returns None."""
    client, rec = wire
    speech = await client.audio.speech.create(input="hi", model="gpt-4o-mini-tts", voice="alloy")
    assert isinstance(speech, BinaryResponse)
    assert speech.content == speech.read() == await speech.aread() == b"ID3audio"
    assert rec.seen[-1].headers["Accept"] == "application/octet-stream"
    assert await client.containers.delete("c1") is None
    assert (rec.seen[-1].method, rec.seen[-1].raw_path) == ("DELETE", "/v1/containers/c1")


async def test_beta_responses_query_and_header(wire: tuple[AsyncOpenAI, Recorder]) -> None:
    """beta.responses.* add ?beta=true, and betas=[...] becomes the openai-beta header."""
    client, rec = wire
    await client.beta.responses.delete("resp_1", betas=["responses_multi_agent=v1"])
    seen = rec.seen[-1]
    assert (seen.method, seen.raw_path) == ("DELETE", "/v1/responses/resp_1?beta=true")
    assert seen.headers["openai-beta"] == "responses_multi_agent=v1"


async def test_realtime_call_sends_sdp(wire: tuple[AsyncOpenAI, Recorder]) -> None:
    """realtime.calls.create(sdp=...) posts application/sdp and returns the SDP answer as text."""
    client, rec = wire
    answer = await client.realtime.calls.create(sdp="v=0\r\noffer\r\n")
    seen = rec.seen[-1]
    assert seen.headers["Content-Type"] == "application/sdp"
    assert seen.body == b"v=0\r\noffer\r\n"
    assert answer == "v=0\r\nanswer\r\n"


async def test_retrieve_with_stream_resumes_as_sse(wire: tuple[AsyncOpenAI, Recorder]) -> None:
    """responses.retrieve(id, stream=True) sends ?stream=true, asks for SSE and returns an AsyncStream."""
    client, rec = wire
    rec.replies[("GET", "/v1/responses/resp_1")] = sse
    stream = await client.responses.retrieve("resp_1", stream=True, starting_after=3)
    async with stream:
        events = [e async for e in stream]
    seen = rec.seen[-1]
    assert (seen.method, seen.raw_path) == ("GET", "/v1/responses/resp_1?stream=true&starting_after=3")
    assert seen.headers["Accept"] == "text/event-stream"
    assert len(events) == 1


async def test_post_list_sends_its_body(wire: tuple[AsyncOpenAI, Recorder]) -> None:
    """vector_stores.search is a POST list: the JSON body goes out and the page's items are typed."""
    client, rec = wire
    hit = {"file_id": "file-1", "filename": "a.txt", "score": 0.5, "attributes": {}, "content": []}
    rec.replies[("POST", "/v1/vector_stores/vs_1/search")] = {
        "object": "vector_store.search_results.page",
        "search_query": ["q"],
        "data": [hit],
        "has_more": False,
        "next_page": None,
    }
    page = await client.vector_stores.search("vs_1", query="q", max_num_results=2)
    seen = rec.seen[-1]
    assert (seen.method, seen.raw_path) == ("POST", "/v1/vector_stores/vs_1/search")
    assert msgspec.json.decode(seen.body) == {"query": "q", "max_num_results": 2}
    assert [h.file_id for h in page.data] == ["file-1"]


async def test_transcription_result_follows_response_format(wire: tuple[AsyncOpenAI, Recorder]) -> None:
    """audio.transcriptions.create decodes JSON formats into their struct and returns text formats as str."""
    client, rec = wire

    async def transcribe(request: web.Request) -> web.Response:
        if rec.seen[-1].form.get("response_format") == "srt":  # the recorder has read the form already
            return web.Response(text="1\n00:00:00,000 --> 00:00:01,000\nhi\n", content_type="text/plain")
        return web.json_response({"text": "hi"})

    rec.replies[("POST", "/v1/audio/transcriptions")] = transcribe
    default = await client.audio.transcriptions.create(file=("a.wav", b"RIFF"), model="whisper-1")
    srt = await client.audio.transcriptions.create(
        file=("a.wav", b"RIFF"), model="whisper-1", response_format="srt"
    )
    assert default.text == "hi"
    assert type(default).__name__ == "CreateTranscriptionResponseJson"
    assert srt.startswith("1\n00:00:00,000")


async def test_with_raw_response_wraps_a_generated_method(wire: tuple[AsyncOpenAI, Recorder]) -> None:
    """client.files.with_raw_response.retrieve(...) gives status, headers and the typed parse()."""
    client, _ = wire
    raw = await client.files.with_raw_response.retrieve("file-1")
    assert raw.status_code == 200
    assert isinstance(raw.parse(), OpenAIFile)
