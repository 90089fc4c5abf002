"""Auto-pagination: ``list()`` returns an ``AsyncPaginator`` you can ``await`` (first page) or ``async for``.

Three page shapes exist in the API:
- ``"cursor"``: ``{data, has_more, first_id?, last_id?}``; the next page is ``after=<id of the last item>``
  (or ``last_id`` when items carry no id; conversations use that);
- ``"next"``: ``{data, has_more, next}``; the next page is ``after=<next>``;
- ``"single"``: ``{data}``: one page, unless the server adds ``has_more``/``last_id`` (some compatible servers
  paginate ``models.list``): then it is followed like ``"cursor"`` (the official SDK stops after one page).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Generator
from typing import TYPE_CHECKING, Any, Generic, Literal, TypeVar

import msgspec

from .decode import convert
from .model import BaseModel
from .types import UNSET

if TYPE_CHECKING:
    from .session import Session
    from .types import RequestOptions

__all__ = ["AsyncPage", "AsyncPaginator", "PageInfo", "PageKind"]

T = TypeVar("T")
PageKind = Literal["cursor", "next", "single"]


class _PageBody(BaseModel, Generic[T]):
    data: list[T] = msgspec.field(default_factory=list)
    has_more: bool | None = None
    first_id: str | None = None
    last_id: str | None = None
    next: str | None = None
    object: str | None = None


def _lenient_page(raw: Any, item: Any) -> _PageBody[Any]:
    envelope = raw if isinstance(raw, dict) else {}
    data = envelope.get("data")

    def text(name: str) -> str | None:
        value = envelope.get(name)
        return value if isinstance(value, str) else None

    return _PageBody(
        data=[convert(x, item) for x in data] if isinstance(data, list) else [],
        has_more=envelope.get("has_more") is True,
        first_id=text("first_id"),
        last_id=text("last_id"),
        next=text("next"),
        object=text("object"),
    )


class PageInfo:
    """What the next page's request changes, as the official SDK's ``next_page_info()`` returns it.

    ``params`` holds the query parameters (``{"after": cursor}``); ``url`` and ``json`` are never used by
    this API's pages and stay ``NOT_GIVEN``.
    """

    __slots__ = ("json", "params", "url")

    def __init__(self, *, params: dict[str, Any]) -> None:
        self.params = params
        self.url: Any = UNSET
        self.json: Any = UNSET

    def __repr__(self) -> str:
        return f"PageInfo(params={self.params})"


class AsyncPage(Generic[T]):
    """One page of a list: ``data`` holds its items; ``async for`` goes on through the following pages."""

    def __init__(self, paginator: AsyncPaginator[T], body: _PageBody[T]) -> None:
        self._paginator = paginator
        self.data: list[T] = body.data
        self.has_more = body.has_more is True
        self.first_id = body.first_id
        self.last_id = body.last_id
        self.next = body.next
        self.object = body.object
        self._request_id: str | None = body._request_id
        """The ``x-request-id`` of the response this page came from."""

    def _next_cursor(self) -> str | None:
        return self._cursor() if self.has_more else None

    def _cursor(self) -> str | None:
        # The cursor this page points at, whatever has_more says (the official next_page_info() ignores it too).
        kind = self._paginator._page
        if (kind == "single" and not self.has_more) or not self.data:
            return None
        if kind == "next":
            return self.next
        last = self.data[-1]
        item_id = last.get("id") if isinstance(last, dict) else getattr(last, "id", None)
        return item_id if isinstance(item_id, str) else self.last_id

    def has_next_page(self) -> bool:
        """True when another page can be fetched."""
        return self._next_cursor() is not None

    def next_page_info(self) -> PageInfo | None:
        """The query a next page would be fetched with (``PageInfo(params={"after": ...})``), as the official
        SDK computes it: from the last item's id (or ``next``/``last_id``) even when ``has_more`` is false;
        ``has_next_page()`` says whether there is one. None when this page names no cursor.
        """
        cursor = self._cursor()
        return PageInfo(params={"after": cursor}) if cursor is not None else None

    async def get_next_page(self) -> AsyncPage[T]:
        """Fetch the next page (raises ``RuntimeError`` when there is none)."""
        cursor = self._next_cursor()
        if cursor is None:
            raise RuntimeError("No more pages: check has_next_page() first")
        return await self._paginator._fetch(cursor)

    async def iter_pages(self) -> AsyncIterator[AsyncPage[T]]:
        """This page and each following one."""
        page: AsyncPage[T] | None = self
        while page is not None:
            yield page
            page = await page.get_next_page() if page.has_next_page() else None

    async def __aiter__(self) -> AsyncIterator[T]:
        async for page in self.iter_pages():
            for item in page.data:
                yield item

    def __repr__(self) -> str:
        return f"<AsyncPage items={len(self.data)} has_more={self.has_more}>"


class AsyncPaginator(Generic[T]):
    """The not-yet-sent request of a ``list`` call: ``await`` it for the first page, ``async for`` for all items."""

    def __init__(
        self,
        session: Session,
        path: str,
        *,
        query: dict[str, Any] | None,
        item: Any,
        page: PageKind,
        options: RequestOptions,
        method: str = "GET",
        body: Any = None,
        raw: bool | str = False,
    ) -> None:
        self._session = session
        self._raw = raw  # with_raw_response / with_streaming_response: the first page comes wrapped
        self._path = path
        self._query = dict(query) if query else {}
        self._item = item
        self._page = page
        self._options = options
        self._method = method
        self._body = body

    async def _send(self, after: str | None, raw: bool | str) -> Any:
        query = self._query
        if after is not None:
            query = {**query, "after": after}
        return await self._session.request(
            self._method,
            self._path,
            query=query,
            body=self._body,
            cast=_PageBody[self._item],  # type: ignore[name-defined]
            options=self._options,
            raw=raw,
        )

    async def _fetch(self, after: str | None) -> AsyncPage[T]:
        return self._page_of(await self._send(after, False))

    async def _fetch_first(self) -> Any:
        after = self._query.get("after")
        if not self._raw:
            return await self._fetch(None if after is UNSET else after)
        result = await self._send(None if after is UNSET else after, self._raw)
        result.map_parsed(self._page_of)  # a RawResponse / StreamedResponse whose parse() gives the page
        return result

    def _page_of(self, body: Any) -> AsyncPage[T]:
        if not isinstance(body, _PageBody):
            # The page drifted from the spec: read the envelope as-is and each item leniently on its own.
            body = _lenient_page(body, self._item)
        return AsyncPage(self, body)

    def __await__(self) -> Generator[Any, None, AsyncPage[T]]:
        return self._fetch_first().__await__()

    async def __aiter__(self) -> AsyncIterator[T]:
        after = self._query.get("after")
        page = await self._fetch(None if after is UNSET else after)
        async for item in page:
            yield item
