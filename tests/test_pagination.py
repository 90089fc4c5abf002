"""list() results: await for the first page, async for over every item, with each cursor style."""

from __future__ import annotations

import msgspec
import pytest
from aiohttp import web

from openai_async import AsyncOpenAI, RetryPolicy

from ._server import routes, serve

pytestmark = pytest.mark.anyio


class Item(msgspec.Struct):
    id: str
    n: int = 0


ITEMS = [{"id": f"item_{i}", "n": i} for i in range(7)]


def page_after(request: web.Request, size: int = 3) -> tuple[list[dict[str, object]], bool]:
    after = request.query.get("after")
    start = next((i + 1 for i, it in enumerate(ITEMS) if it["id"] == after), 0) if after else 0
    chunk = ITEMS[start : start + size]
    return chunk, start + size < len(ITEMS)


async def cursor(request: web.Request) -> web.Response:
    chunk, more = page_after(request)
    return web.json_response(
        {
            "object": "list",
            "data": chunk,
            "has_more": more,
            "first_id": chunk[0]["id"],
            "last_id": chunk[-1]["id"],
        }
    )


async def next_style(request: web.Request) -> web.Response:
    chunk, more = page_after(request)
    return web.json_response({"data": chunk, "has_more": more, "next": chunk[-1]["id"] if more else None})


async def single(request: web.Request) -> web.Response:
    return web.json_response({"object": "list", "data": ITEMS[:2]})


def app() -> web.Application:
    return routes(("GET", "/v1/c", cursor), ("GET", "/v1/n", next_style), ("GET", "/v1/s", single))


@pytest.mark.parametrize(("path", "kind"), [("/c", "cursor"), ("/n", "next")])
async def test_async_for_walks_every_page(path: str, kind: str) -> None:
    """async for over a list call yields every item of every page, fetched lazily."""
    async with (
        serve(app()) as url,
        AsyncOpenAI(api_key="k", base_url=url, retry=RetryPolicy.instant()) as client,
    ):
        items = [
            it async for it in client._paginate(path, query={"limit": 3}, item=Item, page=kind, options={})
        ]
    assert [it.n for it in items] == list(range(7))


async def test_await_gives_first_page_with_navigation() -> None:
    """Awaiting a list call returns the first page; get_next_page walks on; the page is iterable too."""
    async with serve(app()) as url, AsyncOpenAI(api_key="k", base_url=url) as client:
        page = await client._paginate("/c", query={}, item=Item, page="cursor", options={})
        assert [it.id for it in page.data] == ["item_0", "item_1", "item_2"] and page.has_more
        second = await page.get_next_page()
        assert second.data[0].id == "item_3"
        assert len([it async for it in page]) == 7


async def test_single_page_lists_stop() -> None:
    """A list with no has_more is one page."""
    async with serve(app()) as url, AsyncOpenAI(api_key="k", base_url=url) as client:
        page = await client._paginate("/s", item=Item, page="single", options={})
        assert not page.has_next_page()
        assert [it.id async for it in page] == ["item_0", "item_1"]


async def drifted(request: web.Request) -> web.Response:
    return web.json_response(
        {
            "object": "list",
            "has_more": "maybe",
            "data": [{"id": "a", "n": "not-a-number"}, {"id": "b", "n": 2}],
        }
    )


async def test_a_drifted_page_still_yields_its_items() -> None:
    """A page whose envelope or items drift from the spec still gives every item, read leniently."""
    async with (
        serve(routes(("GET", "/v1/d", drifted))) as url,
        AsyncOpenAI(api_key="k", base_url=url) as client,
    ):
        page = await client._paginate("/d", item=Item, page="cursor", options={})
        assert [getattr(it, "id", None) or it.get("id") for it in page.data] == ["a", "b"]
        assert not page.has_more
