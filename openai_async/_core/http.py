"""The request and response facts errors carry (``err.request``, ``err.response``), and what
``client.get/post(..., cast_to=httpx.Response)`` returns: plain values, read once, with credentials masked.
"""

from __future__ import annotations

from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

import msgspec

from .headers import mask_headers

__all__ = ["Request", "Response"]


class Request:
    """A sent request as errors report it: ``method``, ``url`` and ``headers``, credentials masked (``***``).

    Like ``httpx.Request`` for the attributes users read; nothing here can re-send it.
    """

    __slots__ = ("headers", "method", "url")

    def __init__(self, method: str, url: str, headers: Mapping[str, str]) -> None:
        self.method = method
        self.url = url
        self.headers: dict[str, str] = mask_headers(headers)

    def __repr__(self) -> str:
        return f"<Request({self.method!r}, {self.url!r})>"


class Response:
    """A complete HTTP response: ``status_code``, ``headers`` (case-insensitive), ``content``, ``text``,
    ``json()`` and the ``request`` it answers, like the ``httpx.Response`` the official SDK exposes.
    """

    __slots__ = ("content", "headers", "request", "status_code")

    def __init__(
        self, status_code: int, headers: Mapping[str, str], content: bytes, request: Request | None
    ) -> None:
        self.status_code = status_code
        self.headers = headers
        self.content = content
        self.request = request

    @property
    def text(self) -> str:
        """The body decoded as UTF-8 (undecodable bytes replaced)."""
        return self.content.decode("utf-8", "replace")

    def json(self) -> Any:
        """The body decoded as JSON."""
        return msgspec.json.decode(self.content)

    @property
    def is_success(self) -> bool:
        """True for a 2xx status."""
        return 200 <= self.status_code < 300

    @property
    def reason_phrase(self) -> str:
        """The standard reason phrase of the status code ("Not Found")."""
        try:
            return HTTPStatus(self.status_code).phrase
        except ValueError:
            return ""

    @property
    def url(self) -> str:
        """The URL of the request this answers."""
        return self.request.url if self.request is not None else ""

    def __repr__(self) -> str:
        return f"<Response [{self.status_code} {self.reason_phrase}]>"
