"""``client.with_options(...)``/``client.copy(...)`` and client construction checks, as users write them, against both
SDKs on 127.0.0.1 where they can be compared: what a copy sends, what it leaves of the original, what it refuses."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

import anyio
import pytest
from aiohttp import web

from openai_async import AsyncOpenAI, DefaultAioHttpClient, RequestHooks

from ._drip import SDKS, make_client
from ._server import serve

pytestmark = pytest.mark.anyio

PAGE = {"object": "list", "data": []}


@contextlib.asynccontextmanager
async def recording(delay: float = 0.0) -> AsyncIterator[tuple[list[dict[str, Any]], str]]:
    """A server answering every GET with an empty list page, recording path, query and (lower-cased) headers."""
    seen: list[dict[str, Any]] = []

    async def handler(request: web.Request) -> web.Response:
        seen.append(
            {
                "path": request.path,
                "query": dict(request.query),
                "headers": {k.lower(): v for k, v in request.headers.items()},
            }
        )
        if delay:
            await anyio.sleep(delay)
        return web.json_response(PAGE)

    app = web.Application()
    app.router.add_route("GET", "/{tail:.*}", handler)
    async with serve(app) as url:
        yield seen, url


@pytest.mark.parametrize("sdk", SDKS)
async def test_a_copy_sends_its_own_key_organization_project_base_url_headers_and_query(sdk: str) -> None:
    """with_options(api_key=, organization=, project=, base_url=, set_default_headers=, default_query=) is what the
    copy sends; the original keeps sending its own settings."""
    with anyio.fail_after(10):
        async with recording() as (seen, url):
            async with make_client(
                sdk,
                url,
                organization="org-a",
                project="proj-a",
                default_headers={"X-Team": "a"},
                default_query={"tenant": "a"},
            ) as client:
                copy = client.with_options(
                    api_key="sk-other",
                    organization="org-b",
                    project="proj-b",
                    base_url=url.replace("/v1", "/gateway/v1"),
                    max_retries=0,
                    set_default_headers={"X-Region": "eu"},
                    default_query={"shard": "2"},
                )
                await copy.models.list()
                await client.models.list()
                await client.copy(set_default_query={"only": "this"}).models.list()
    mine, original, replaced = seen
    assert mine["path"] == "/gateway/v1/models"
    assert mine["query"] == {"tenant": "a", "shard": "2"}
    assert mine["headers"]["authorization"] == "Bearer sk-other"
    assert (mine["headers"]["openai-organization"], mine["headers"]["openai-project"]) == ("org-b", "proj-b")
    assert mine["headers"]["x-region"] == "eu" and "x-team" not in mine["headers"]
    assert original["path"] == "/v1/models" and original["query"] == {"tenant": "a"}
    assert original["headers"]["authorization"] == "Bearer sk-test"
    assert (original["headers"]["openai-organization"], original["headers"]["x-team"]) == ("org-a", "a")
    assert "x-region" not in original["headers"]
    assert replaced["query"] == {"only": "this"}


@pytest.mark.parametrize("sdk", SDKS)
@pytest.mark.parametrize(
    ("kwargs", "names"),
    [
        ({"default_headers": {"a": "1"}, "set_default_headers": {"b": "2"}}, "`default_headers` and `set_default_headers`"),
        ({"default_query": {"a": "1"}, "set_default_query": {"b": "2"}}, "`default_query` and `set_default_query`"),
    ],
)  # fmt: skip
async def test_a_copy_refuses_merging_and_replacing_defaults_at_once(
    sdk: str, kwargs: dict[str, Any], names: str
) -> None:
    """Giving both the merging and the replacing form of default headers (or query) raises ValueError naming both."""
    async with make_client(sdk, "http://127.0.0.1:9/v1") as client:
        with pytest.raises(ValueError, match=f"{names} arguments are mutually exclusive"):
            client.with_options(**kwargs)


async def test_a_copy_cannot_change_the_http_client() -> None:
    """with_options(http_client=...) raises TypeError saying a copy shares its client's connection pool."""
    async with AsyncOpenAI(api_key="sk-test", base_url="http://127.0.0.1:9/v1") as client:
        with pytest.raises(
            TypeError, match="cannot change http_client: a copy shares its client's connection pool"
        ):
            client.with_options(http_client=DefaultAioHttpClient())


async def test_default_aiohttp_client_max_connections_bounds_concurrent_requests() -> None:
    """http_client=DefaultAioHttpClient(max_connections=1) sends one request at a time over one connection."""
    assert repr(DefaultAioHttpClient(max_connections=1)) == "DefaultAioHttpClient()"
    with anyio.fail_after(10):
        async with recording(delay=0.05) as (seen, url):
            client = AsyncOpenAI(
                api_key="sk-test", base_url=url, http_client=DefaultAioHttpClient(max_connections=1)
            )
            async with client:

                async def list_models() -> None:
                    await client.models.list()

                started = anyio.current_time()
                async with anyio.create_task_group() as tg:
                    for _ in range(3):
                        tg.start_soon(list_models)
                elapsed = anyio.current_time() - started
    assert len(seen) == 3
    assert elapsed >= 0.15  # three 0.05 s answers, one after another


@pytest.mark.parametrize("value", [0, -1, 1.5, True])
def test_max_connections_must_be_a_positive_integer(value: Any) -> None:
    """max_connections=0 (or negative, a float, a bool) raises ValueError naming it, in both places it is taken."""
    with pytest.raises(ValueError, match="max_connections must be a positive integer"):
        AsyncOpenAI(api_key="sk-test", max_connections=value)
    with pytest.raises(ValueError, match="max_connections must be a positive integer"):
        DefaultAioHttpClient(max_connections=value)


@pytest.mark.parametrize("url", ["ftp://example.com/v1", "example.com/v1", "http:///v1"])
def test_base_url_must_be_an_http_url(url: str) -> None:
    """A base_url that is not http(s) with a host raises ValueError quoting it, at construction and in a copy."""
    with pytest.raises(ValueError, match="base_url must be an http:// or https:// URL"):
        AsyncOpenAI(api_key="sk-test", base_url=url)
    with pytest.raises(ValueError, match="base_url must be an http:// or https:// URL"):
        AsyncOpenAI(api_key="sk-test").with_options(base_url=url)


def test_hooks_must_be_request_hooks() -> None:
    """hooks= given something that is not a RequestHooks raises TypeError naming what it got."""
    with pytest.raises(TypeError, match="hooks must be RequestHooks instances"):
        AsyncOpenAI(api_key="sk-test", hooks=[RequestHooks(), "log"])  # type: ignore[list-item]


@pytest.mark.parametrize("sdk", SDKS)
@pytest.mark.parametrize("verb", ["post", "put", "patch"])
async def test_generic_verbs_refuse_a_body_or_files_beside_content(sdk: str, verb: str) -> None:
    """client.post/put/patch with content= and also body= or files= raise TypeError before anything is sent."""
    async with make_client(sdk, "http://127.0.0.1:9/v1") as client:
        with pytest.raises(TypeError, match="Passing both `body` and `content` is not supported"):
            await getattr(client, verb)("/x", cast_to=dict, body={"a": 1}, content=b"raw")
        with pytest.raises(TypeError, match="Passing both `files` and `content` is not supported"):
            await getattr(client, verb)("/x", cast_to=dict, files=[("file", b"x")], content=b"raw")
