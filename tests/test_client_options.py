"""Client options as the official README writes them, run against both SDKs where they can be compared: timeout
objects, max_retries checks, the omit/not_given sentinels, http_client, the generic get/post/... methods,
next_page_info() and calls on a closed client.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import anyio
import httpx2
import msgspec
import openai
import pytest
from aiohttp import web

import openai_async
from openai_async import NOT_GIVEN, AsyncOpenAI, NotGiven, Omit, not_given, omit

from ._drip import SDKS, make_client
from ._server import serve

pytestmark = pytest.mark.anyio

EMBEDDING = {
    "object": "list",
    "data": [{"object": "embedding", "index": 0, "embedding": [0.5]}],
    "model": "m",
    "usage": {"prompt_tokens": 1, "total_tokens": 1},
}


class Recorder:
    """Answers every path with ``answer`` (after ``delay`` s) and records method, path, query, headers, body."""

    def __init__(self, answer: Any = None, delay: float = 0.0) -> None:
        self.seen: list[dict[str, Any]] = []
        self.answer = answer if answer is not None else {"ok": True}
        self.delay = delay

    def app(self) -> web.Application:
        @web.middleware
        async def record(request: web.Request, handler: Any) -> web.StreamResponse:
            body = await request.read()
            self.seen.append(
                {
                    "method": request.method,
                    "path": request.path,
                    "query": dict(request.query),
                    "headers": dict(request.headers),
                    "body": msgspec.json.decode(body) if body else None,
                }
            )
            if self.delay:
                await anyio.sleep(self.delay)
            answer = self.answer(request) if callable(self.answer) else self.answer
            return web.json_response(answer, headers={"x-request-id": "req_opt", "x-foo": "bar"})

        return web.Application(middlewares=[record])


@contextlib.asynccontextmanager
async def recorded(answer: Any = None, delay: float = 0.0) -> AsyncIterator[tuple[Recorder, str]]:
    rec = Recorder(answer, delay)
    async with serve(rec.app()) as url:
        yield rec, url


# -- timeout ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("sdk", SDKS)
async def test_httpx_timeout_object_sets_the_read_limit(sdk: str) -> None:
    """timeout=httpx2.Timeout(60.0, read=0.2, write=10.0, connect=2.0): a 1 s silent server times out."""
    async with recorded(EMBEDDING, delay=1.0) as (_rec, url):
        timeout = httpx2.Timeout(60.0, read=0.2, write=10.0, connect=2.0)
        async with make_client(sdk, url, timeout=timeout) as client:
            with anyio.fail_after(5), pytest.raises((openai.APITimeoutError, openai_async.APITimeoutError)):
                await client.embeddings.create(model="m", input="x")


@pytest.mark.parametrize("sdk", SDKS)
async def test_per_call_and_with_options_timeouts(sdk: str) -> None:
    """client.with_options(timeout=0.2) and timeout=0.2 per call time out; timeout=5.0 waits for the answer."""
    async with recorded(EMBEDDING, delay=0.5) as (_rec, url), make_client(sdk, url) as client:
        with pytest.raises((openai.APITimeoutError, openai_async.APITimeoutError)):
            await client.with_options(timeout=0.2).embeddings.create(model="m", input="x")
        with pytest.raises((openai.APITimeoutError, openai_async.APITimeoutError)):
            await client.embeddings.create(model="m", input="x", timeout=0.2)
        done = await client.embeddings.create(model="m", input="x", timeout=5.0)
        assert done.data[0].embedding == [0.5]


@pytest.mark.parametrize(
    ("value", "error"),
    [
        (-1, ValueError),
        (float("nan"), ValueError),
        ("10", TypeError),
        (True, TypeError),
        (httpx2.Timeout(1.0, read=-1.0), ValueError),
    ],
)
async def test_invalid_timeouts_are_refused_at_construction(value: Any, error: type[Exception]) -> None:
    """A negative, NaN or non-number timeout raises before any request (the official SDK accepts them)."""
    with pytest.raises(error, match="timeout"):
        AsyncOpenAI(api_key="k", timeout=value)


# -- max_retries -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("sdk", SDKS)
@pytest.mark.parametrize(("value", "error"), [(-1, ValueError), (2.5, TypeError), ("2", TypeError)])
async def test_invalid_max_retries_raise_before_any_request(
    sdk: str, value: Any, error: type[Exception]
) -> None:
    """max_retries=-1 raises ValueError, a non-integer TypeError, in the constructor and in with_options()."""
    async with recorded() as (rec, url):
        with pytest.raises(error, match="max_retries"):
            async with make_client(sdk, url, max_retries=value):
                pass
        async with make_client(sdk, url) as client:
            with pytest.raises(error, match="max_retries"):
                client.with_options(max_retries=value)
    assert rec.seen == []


async def test_invalid_per_call_max_retries_raise_before_any_request() -> None:
    """max_retries=-1 on one call raises ValueError and sends nothing (the official SDK has no such keyword)."""
    async with recorded() as (rec, url), make_client("ours", url) as client:
        with pytest.raises(ValueError, match="max_retries"):
            await client.models.list(max_retries=-1)
        with pytest.raises(ValueError, match="timeout"):
            await client.models.list(timeout=-3)
    assert rec.seen == []


# -- sentinels -------------------------------------------------------------------------------------------------


async def test_sentinels_are_exported_as_in_the_official_sdk() -> None:
    """omit, not_given, NOT_GIVEN, NotGiven and Omit import from openai_async; Omit()/NotGiven() work too."""
    assert {omit, not_given, NOT_GIVEN, Omit(), NotGiven()} == {openai_async.UNSET}
    assert isinstance(omit, Omit) and isinstance(NOT_GIVEN, NotGiven)


@pytest.mark.parametrize("sdk", SDKS)
async def test_sentinels_mean_not_sent_in_bodies_and_headers(sdk: str) -> None:
    """dimensions=omit, user=not_given are left out of the body; extra_headers={name: omit} drops a default."""
    sdk_omit, sdk_not_given = (openai.omit, openai.not_given) if sdk == "official" else (omit, not_given)
    async with recorded(EMBEDDING) as (rec, url):
        async with make_client(sdk, url, organization="org-1", default_headers={"X-Team": "a"}) as client:
            await client.embeddings.create(
                model="m",
                input="x",
                dimensions=sdk_omit,
                user=sdk_not_given,
                extra_headers={"OpenAI-Organization": sdk_omit, "x-team": sdk_omit},
            )
    seen = rec.seen[0]
    assert {k: v for k, v in seen["body"].items() if k != "encoding_format"} == {"model": "m", "input": "x"}
    assert not {"openai-organization", "x-team"} & {k.lower() for k in seen["headers"]}


async def test_sentinels_in_plain_dicts_and_queries_are_dropped() -> None:
    """omit inside a plain dict body, extra_body, a query value or a list is dropped, not sent or an error."""
    async with recorded() as (rec, url), make_client("ours", url) as client:
        await client.post(
            "/things",
            cast_to=dict,
            body={"a": 1, "b": omit, "nested": [{"c": omit, "d": 2}, omit]},
            extra_body={"e": not_given},
            extra_query={"q": omit, "r": "1", "tags": ["x", omit]},
        )
        await client.embeddings.create(model="m", input="x", extra_body={"dimensions": omit})
    assert rec.seen[0]["body"] == {"a": 1, "nested": [{"d": 2}]}
    assert rec.seen[0]["query"] == {"r": "1", "tags[]": "x"}
    assert rec.seen[1]["body"] == {
        "model": "m",
        "input": "x",
        "encoding_format": "base64",
    }  # the default, as the official SDK


async def test_not_given_options_keep_the_client_settings() -> None:
    """timeout=NOT_GIVEN, max_retries=NOT_GIVEN (per call, in with_options and in the constructor) keep defaults."""
    async with recorded(EMBEDDING) as (rec, url):
        async with make_client("ours", url, timeout=NOT_GIVEN) as client:
            copy = client.with_options(timeout=NOT_GIVEN, max_retries=NOT_GIVEN)
            assert copy.timeout == client.timeout and copy.max_retries == client.max_retries == 0
            await client.embeddings.create(model="m", input="x", timeout=NOT_GIVEN, max_retries=NOT_GIVEN)
    assert len(rec.seen) == 1


# -- http_client -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("sdk", SDKS)
async def test_default_aiohttp_client_as_the_readme_writes_it(sdk: str) -> None:
    """AsyncOpenAI(api_key=..., http_client=DefaultAioHttpClient()) works in `async with`, and closes with it."""
    module: Any = openai if sdk == "official" else openai_async
    async with recorded(EMBEDDING) as (rec, url):
        async with module.AsyncOpenAI(
            api_key="sk-test", base_url=url, http_client=module.DefaultAioHttpClient(), max_retries=0
        ) as client:
            out = await client.embeddings.create(model="m", input="x")
        assert out.data[0].embedding == [0.5] and len(rec.seen) == 1
        with pytest.raises(RuntimeError, match="closed"):
            await client.embeddings.create(model="m", input="x")
    assert len(rec.seen) == 1


async def test_an_aiohttp_session_is_used_and_left_open() -> None:
    """http_client=aiohttp.ClientSession() sends the calls and is not closed by the client (you close it)."""
    async with recorded(EMBEDDING) as (rec, url), aiohttp.ClientSession() as session:
        async with AsyncOpenAI(api_key="k", base_url=url, http_client=session) as client:
            await client.embeddings.create(model="m", input="x")
        assert not session.closed and len(rec.seen) == 1
        async with AsyncOpenAI(api_key="k", base_url=url, http_client=session) as again:
            await again.embeddings.create(model="m", input="x")
    assert len(rec.seen) == 2


@pytest.mark.parametrize("bad", [httpx2.AsyncClient, object, lambda: "aiohttp"])
async def test_other_http_clients_are_refused_at_construction(bad: Any) -> None:
    """An httpx client (or anything else) raises TypeError saying what is accepted."""
    value = bad()
    with pytest.raises(TypeError, match=r"aiohttp\.ClientSession .*DefaultAioHttpClient\(\)"):
        AsyncOpenAI(api_key="k", http_client=value)
    if isinstance(value, httpx2.AsyncClient):
        await value.aclose()


async def test_a_closed_aiohttp_session_is_reported() -> None:
    """A call through a user session that was closed raises RuntimeError instead of opening a new one."""
    async with recorded() as (rec, url):
        session = aiohttp.ClientSession()
        await session.close()
        async with AsyncOpenAI(api_key="k", base_url=url, http_client=session) as client:
            with pytest.raises(RuntimeError, match="http_client"):
                await client.models.list()
    assert rec.seen == []


@pytest.mark.parametrize("sdk", SDKS)
async def test_a_call_on_a_closed_client_raises(sdk: str) -> None:
    """After `async with` (or close()) a call raises RuntimeError mentioning the close; nothing is sent."""
    async with recorded() as (rec, url):
        async with make_client(sdk, url) as client:
            pass
        with pytest.raises(RuntimeError, match="closed"):
            await client.models.list()
        with pytest.raises(RuntimeError, match="closed"):
            await client.with_options(timeout=3).models.list()
    assert rec.seen == []


# -- generic methods -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("sdk", SDKS)
async def test_post_with_cast_to_httpx_response_as_the_readme(sdk: str) -> None:
    """response = await client.post("/foo", cast_to=httpx2.Response, body={"my_param": True}) gives the response."""
    async with recorded({"echo": 1}) as (rec, url), make_client(sdk, url) as client:
        response = await client.post("/foo", cast_to=httpx2.Response, body={"my_param": True})
        assert response.headers.get("x-foo") == "bar"
        assert (response.status_code, response.json(), response.text) == (200, {"echo": 1}, '{"echo": 1}')
    assert rec.seen[0]["path"] == "/v1/foo" and rec.seen[0]["body"] == {"my_param": True}


@pytest.mark.parametrize("sdk", SDKS)
async def test_cast_to_httpx_response_of_an_unusual_success_status(sdk: str) -> None:
    """cast_to=httpx2.Response on a 299 answer: is_success is true and the reason phrase is empty, as in httpx."""

    async def odd(request: web.Request) -> web.Response:
        return web.json_response({"ok": True}, status=299)

    app = web.Application()
    app.router.add_route("GET", "/v1/odd", odd)
    async with serve(app) as url, make_client(sdk, url) as client:
        response = await client.get("/odd", cast_to=httpx2.Response)
    assert (response.status_code, response.is_success, response.reason_phrase) == (299, True, "")
    assert response.json() == {"ok": True}


@pytest.mark.parametrize("sdk", SDKS)
@pytest.mark.parametrize("verb", ["get", "post", "put", "patch", "delete"])
async def test_generic_verbs_take_the_official_options_dict(sdk: str, verb: str) -> None:
    """client.<verb>(path, cast_to=dict, options={"headers", "params", "max_retries"}) sends them and decodes."""
    async with recorded({"echo": 2}) as (rec, url), make_client(sdk, url) as client:
        kwargs: dict[str, Any] = {"body": {"x": 1}} if verb in ("post", "put", "patch") else {}
        result = await getattr(client, verb)(
            "/things/1",
            cast_to=dict,
            options={"headers": {"X-Extra": "y"}, "params": {"page": "2"}, "max_retries": 0},
            **kwargs,
        )
    assert result == {"echo": 2}
    seen = rec.seen[0]
    assert (seen["method"], seen["path"], seen["query"]) == (verb.upper(), "/v1/things/1", {"page": "2"})
    assert {k.lower(): v for k, v in seen["headers"].items()}["x-extra"] == "y"
    assert seen["body"] == kwargs.get("body")


async def test_cast_to_raw_response_and_bytes() -> None:
    """cast_to=RawResponse gives status, headers and parse(); cast_to=bytes the body; a bad options key is named."""
    async with recorded({"echo": 3}) as (_rec, url), make_client("ours", url) as client:
        raw = await client.get("/x", cast_to=openai_async.RawResponse)
        assert raw.status_code == 200 and raw.request_id == "req_opt" and raw.parse() == {"echo": 3}
        assert await client.get("/x", cast_to=bytes) == b'{"echo": 3}'
        with pytest.raises(TypeError, match="unsupported key 'retries'"):
            await client.get("/x", cast_to=dict, options={"retries": 3})  # type: ignore[dict-item]


# -- pagination ------------------------------------------------------------------------------------------------


def _jobs_page(request: web.Request) -> dict[str, Any]:
    job = {
        "object": "fine_tuning.job",
        "created_at": 0,
        "fine_tuned_model": None,
        "finished_at": None,
        "hyperparameters": {},
        "model": "m",
        "organization_id": "o",
        "result_files": [],
        "seed": 0,
        "status": "succeeded",
        "trained_tokens": None,
        "training_file": "f",
        "validation_file": None,
        "error": None,
    }
    if request.query.get("after") == "ftjob-2":
        return {"object": "list", "data": [{**job, "id": "ftjob-3"}], "has_more": False}
    return {"object": "list", "data": [{**job, "id": "ftjob-1"}, {**job, "id": "ftjob-2"}], "has_more": True}


@pytest.mark.parametrize("sdk", SDKS)
async def test_next_page_info_as_the_readme(sdk: str) -> None:
    """first_page.has_next_page(), .next_page_info().params and .get_next_page() as the README shows them."""
    async with recorded(_jobs_page) as (rec, url), make_client(sdk, url) as client:
        first_page = await client.fine_tuning.jobs.list(limit=20)
        assert first_page.has_next_page()
        assert first_page.next_page_info().params == {"after": "ftjob-2"}
        assert "after" in repr(first_page.next_page_info())
        next_page = await first_page.get_next_page()
        assert [j.id for j in next_page.data] == ["ftjob-3"] and not next_page.has_next_page()
        assert next_page.next_page_info().params == {"after": "ftjob-3"}
    assert rec.seen[1]["query"] == {"limit": "20", "after": "ftjob-2"}


async def test_post_with_files_sends_a_multipart_form() -> None:
    """client.post(path, cast_to=dict, body={...}, files=[("file", (name, bytes, type))]) sends multipart (the
    official SDK also needs options={"headers": {"Content-Type": "multipart/form-data"}} for it)."""
    parts: list[tuple[str, str | None, bytes]] = []

    async def upload(request: web.Request) -> web.Response:
        reader = await request.multipart()
        async for part in reader:
            parts.append((part.name, part.filename, await part.read()))  # type: ignore[union-attr,arg-type]
        return web.json_response({"ok": True})

    app = web.Application()
    app.router.add_post("/v1/upload", upload)
    async with serve(app) as url, make_client("ours", url) as client:
        result = await client.post(
            "/upload",
            cast_to=dict,
            body={"purpose": "batch"},
            files=[("file", ("a.jsonl", b'{"x": 1}\n', "application/jsonl"))],
        )
    assert result == {"ok": True}
    assert sorted(parts) == [("file", "a.jsonl", b'{"x": 1}\n'), ("purpose", None, b"batch")]
