"""videos.create_and_poll / poll, files.retrieve_content, checkpoint permissions.retrieve: both SDKs, loopback."""

from __future__ import annotations

import time
from typing import Any

import pytest
from aiohttp import web

from openai_async import AsyncOpenAI
from openai_async.testing import FakeOpenAI

from ._drip import SDKS, make_client
from ._server import routes, serve

pytestmark = [
    pytest.mark.anyio,
    # The official SDK warns on every videos call (the Sora API shutdown notice); that is not under test.
    pytest.mark.filterwarnings("ignore:The Sora API is scheduled:DeprecationWarning"),
]


async def video_flow(sdk: str, base_url: str) -> list[Any]:
    """The docs' lines: create and poll a video job, then check its status."""
    async with make_client(sdk, base_url) as client:
        video = await client.videos.create_and_poll(model="sora-2", prompt="A calico cat playing a piano")
        again = await client.videos.poll(video.id)
        return [video.object, video.status, video.progress, video.model, video.prompt, again.status]


async def test_video_create_and_poll_matches_the_official_sdk() -> None:
    """queued -> in_progress -> completed on the fake: both SDKs return the same completed video, quickly."""
    results = {}
    for sdk in SDKS:
        async with FakeOpenAI() as fake:
            started = time.monotonic()
            results[sdk] = await video_flow(sdk, fake.base_url)
            assert time.monotonic() - started < 2.0  # openai-poll-after-ms: 10, not the 1 s default
            assert [r.path for r in fake.requests].count(
                f"/videos/{fake.requests[-1].path.split('/')[-1]}"
            ) >= 2
    assert results["ours"] == results["official"]
    assert results["ours"] == [
        "video",
        "completed",
        100,
        "sora-2",
        "A calico cat playing a piano",
        "completed",
    ]


async def test_video_poll_reports_progress_and_downloads() -> None:
    """on_progress sees each read (50 %, then 100 %); the completed video's content downloads."""
    seen: list[tuple[str, int]] = []
    async with FakeOpenAI() as fake, fake.client() as client:
        video = await client.videos.create_and_poll(
            prompt="waves", on_progress=lambda v: seen.append((v.status or "", v.progress or 0))
        )
        content = await client.videos.download_content(video.id)
        data = content.read()
    assert seen == [("in_progress", 50), ("completed", 100)]
    assert data[4:8] == b"ftyp"


async def test_video_poll_interval_overrides_the_header() -> None:
    """An explicit poll_interval_ms wins over a long openai-poll-after-ms (the official rule)."""
    reads = 0

    async def retrieve(request: web.Request) -> web.Response:
        nonlocal reads
        reads += 1
        status = "completed" if reads == 3 else "in_progress"
        return web.json_response(
            {"id": "video_1", "object": "video", "status": status, "progress": reads * 33},
            headers={"openai-poll-after-ms": "5000"},
        )

    async with serve(routes(("GET", "/v1/videos/{video_id}", retrieve))) as url:
        for sdk in SDKS:
            reads = 0
            started = time.monotonic()
            async with make_client(sdk, url) as client:
                video = await client.videos.poll("video_1", poll_interval_ms=10)
            assert (video.status, reads) == ("completed", 3)
            assert time.monotonic() - started < 1.0


async def test_retrieve_content_is_deprecated_text() -> None:
    """files.retrieve_content returns the content as str and warns, as the official SDK does."""
    results = {}
    for sdk in SDKS:
        async with FakeOpenAI() as fake, make_client(sdk, fake.base_url) as client:
            uploaded = await client.files.create(file=("data.jsonl", b'{"a": "\xc3\xa9"}\n'), purpose="batch")
            with pytest.warns(DeprecationWarning, match="content"):
                results[sdk] = await client.files.retrieve_content(uploaded.id)
    assert results["ours"] == results["official"] == '{"a": "\u00e9"}\n'


async def test_checkpoint_permissions_retrieve_is_the_list_object() -> None:
    """permissions.retrieve GETs one page of permissions (query passed through) and returns the list object."""
    queries: list[dict[str, str]] = []

    async def listing(request: web.Request) -> web.Response:
        queries.append(dict(request.query))
        perm = {"id": "cp_1", "object": "checkpoint.permission", "created_at": 1, "project_id": "proj_1"}
        return web.json_response(
            {"object": "list", "data": [perm], "first_id": "cp_1", "last_id": "cp_1", "has_more": False}
        )

    app = routes(("GET", "/v1/fine_tuning/checkpoints/{checkpoint}/permissions", listing))
    results = {}
    async with serve(app) as url:
        for sdk in SDKS:
            async with make_client(sdk, url) as client:
                with pytest.warns(DeprecationWarning, match="paginated list"):
                    page = await client.fine_tuning.checkpoints.permissions.retrieve(
                        "ft:gpt-4o-mini:org:custom:ckpt-step-100", limit=5, order="descending"
                    )
            results[sdk] = (page.object, [(p.id, p.project_id) for p in page.data], page.has_more)
    assert results["ours"] == results["official"] == ("list", [("cp_1", "proj_1")], False)
    assert queries[0] == queries[1] == {"limit": "5", "order": "descending"}


async def test_helpers_reject_empty_ids() -> None:
    """An empty id is refused before any request, naming the parameter."""
    async with AsyncOpenAI(api_key="sk-test", base_url="http://127.0.0.1:9") as client:
        with pytest.warns(DeprecationWarning), pytest.raises(ValueError, match="file_id"):
            await client.files.retrieve_content("")
        with pytest.warns(DeprecationWarning), pytest.raises(ValueError, match="fine_tuned_model_checkpoint"):
            await client.fine_tuning.checkpoints.permissions.retrieve("")


async def test_parse_and_stream_keywords_reach_the_body() -> None:
    """The spelled-out keywords of parse()/stream() are sent as body fields; per-call options are not."""
    import msgspec

    class Answer(msgspec.Struct):
        text: str

    async with FakeOpenAI() as fake, fake.client() as client:
        await client.chat.completions.parse(
            model="gpt-4o-mini",
            messages=iter([{"role": "user", "content": "hi"}]),
            response_format=Answer,
            temperature=0.25,
            seed=7,
            extra_headers={"x-test": "1"},
        )
        chat = fake.last_request
        async with client.responses.stream(
            model="gpt-4o-mini", input="hi", max_output_tokens=50, store=False
        ) as stream:
            await stream.until_done()
        responses = fake.last_request
        parsed = await client.responses.parse(
            model="gpt-4o-mini", input="hi", text_format=Answer, parse_as=None
        )
        with pytest.raises(ValueError, match="stream=True"):
            await client.responses.parse(model="gpt-4o-mini", input="hi", stream=True)
    assert chat.json["temperature"] == 0.25 and chat.json["seed"] == 7
    assert chat.json["messages"] == [{"role": "user", "content": "hi"}] and chat.headers["x-test"] == "1"
    assert "extra_headers" not in chat.json
    assert responses.json["max_output_tokens"] == 50 and responses.json["store"] is False
    assert responses.json["stream"] is True
    assert parsed.output_parsed is None  # parse_as=None: the schema is sent, nothing is decoded


async def test_wait_for_processing_gives_up_like_the_official_sdk() -> None:
    """A file stuck in `uploaded` ends files.wait_for_processing with a RuntimeError in both SDKs."""
    reads = 0

    async def retrieve(request: web.Request) -> web.Response:
        nonlocal reads
        reads += 1
        return web.json_response(
            {
                "id": "file-1",
                "object": "file",
                "bytes": 1,
                "created_at": 1,
                "filename": "a.jsonl",
                "purpose": "batch",
                "status": "uploaded",
            }
        )

    async with serve(routes(("GET", "/v1/files/{file_id}", retrieve))) as url:
        for sdk in SDKS:
            reads = 0
            async with make_client(sdk, url) as client:
                with pytest.raises(RuntimeError, match="file-1"):
                    await client.files.wait_for_processing("file-1", poll_interval=0.01, max_wait_seconds=0.1)
            assert reads >= 3
