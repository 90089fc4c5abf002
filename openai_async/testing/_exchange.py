"""The two halves of an exchange with FakeOpenAI: the request it recorded and the response it was told to send."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Literal

import msgspec
from aiohttp.multipart import parse_content_disposition
from multidict import CIMultiDict, MultiDict

from ._sse_encode import encode_chat_stream, encode_responses_stream

__all__ = ["FakeResponse", "RecordedPart", "RecordedRequest"]

_STATUS_ERRORS = {
    400: ("invalid_request_error", None),
    401: ("invalid_request_error", "invalid_api_key"),
    403: ("invalid_request_error", None),
    404: ("invalid_request_error", None),
    409: ("invalid_request_error", None),
    422: ("invalid_request_error", None),
    429: ("requests", "rate_limit_exceeded"),
}


@dataclass
class FakeResponse:
    """What FakeOpenAI sends back for one request; ``FakeOpenAI.add`` takes the same keywords.

    Exactly one body source is used: ``stream`` (Chat-style SSE), ``events`` (Responses-style SSE), ``json``
    or ``body``. An error status with no body gets OpenAI's error envelope.

    Attributes:
        status: the HTTP status.
        json: a value sent as JSON (``None`` means "no JSON body"; send ``body=b"null"`` for a JSON null).
        body: raw bytes (or text) sent with ``content_type`` (default ``application/octet-stream``).
        content_type: overrides the content type.
        headers: extra response headers (they override the defaults, such as ``x-request-id``).
        stream: Chat Completions chunks (dicts, or str/bytes payloads), each sent as a ``data:`` event.
        done: end ``stream`` with ``data: [DONE]``.
        events: Responses events (dicts with ``type``, or ``(name, payload)`` pairs) sent as ``event:`` +
            ``data:``.
        reset: drop the connection ``"before_body"`` (no response at all: the client sees a disconnect) or
            ``"mid_body"`` (headers and the first ``reset_after`` body bytes, then the connection is cut).
        reset_after: body bytes to send before a ``"mid_body"`` reset (default: half the body).
        stall: seconds to wait before sending the response headers (a slow server, for timeout tests).
        chunk_size: write the body in pieces of this many bytes (default: JSON in one write, SSE one event
            per write).
        delay_between_chunks: seconds to wait between two writes (a slow or idle stream).
    """

    status: int = 200
    json: Any = None
    body: bytes | str | None = None
    content_type: str | None = None
    headers: Mapping[str, str] | None = None
    stream: Sequence[Any] | None = None
    done: bool = True
    events: Sequence[Any] | None = None
    reset: Literal["before_body", "mid_body"] | None = None
    reset_after: int | None = None
    stall: float = 0.0
    chunk_size: int | None = None
    delay_between_chunks: float = 0.0

    def __post_init__(self) -> None:
        sources = [n for n in ("json", "body", "stream", "events") if getattr(self, n) is not None]
        if len(sources) > 1:
            raise ValueError(f"give one body source, not {' and '.join(sources)}")
        if self.reset not in (None, "before_body", "mid_body"):
            raise ValueError(f"reset must be 'before_body' or 'mid_body', not {self.reset!r}")
        if self.chunk_size is not None and self.chunk_size < 1:
            raise ValueError("chunk_size must be at least 1")

    def render(self) -> tuple[str | None, list[bytes], bool]:
        """Return ``(content_type, pieces to write, is_event_stream)``."""
        if self.stream is not None:
            content_type, pieces, sse = (
                "text/event-stream",
                encode_chat_stream(self.stream, done=self.done),
                True,
            )
        elif self.events is not None:
            content_type, pieces, sse = "text/event-stream", encode_responses_stream(self.events), True
        elif self.json is not None:
            content_type, pieces, sse = "application/json", [msgspec.json.encode(self.json)], False
        elif self.body is not None:
            raw = self.body.encode() if isinstance(self.body, str) else bytes(self.body)
            default = (
                "text/plain; charset=utf-8" if isinstance(self.body, str) else "application/octet-stream"
            )
            content_type, pieces, sse = default, [raw], False
        elif self.status >= 400:
            type_, code = _STATUS_ERRORS.get(self.status, ("server_error", None))
            error = {
                "message": f"FakeOpenAI scripted error {self.status}",
                "type": type_,
                "param": None,
                "code": code,
            }
            content_type, pieces, sse = "application/json", [msgspec.json.encode({"error": error})], False
        else:
            content_type, pieces, sse = None, [], False
        if self.content_type is not None:
            content_type = self.content_type
        if self.chunk_size is not None:
            whole = b"".join(pieces)
            size = self.chunk_size
            pieces = [whole[i : i + size] for i in range(0, len(whole), size)]
        return content_type, pieces, sse


@dataclass
class RecordedPart:
    """One part of a ``multipart/form-data`` request body."""

    name: str
    filename: str | None
    content_type: str | None
    data: bytes

    @property
    def text(self) -> str:
        """The part decoded as UTF-8."""
        return self.data.decode("utf-8", "replace")


@dataclass(eq=False)
class RecordedRequest:
    """A request FakeOpenAI received.

    Attributes:
        method: the HTTP verb, upper case.
        path: the path relative to the API root, without ``/v1`` (``"/chat/completions"``).
        query: the query string as a multidict (``query["limit"]``, ``query.getall("include[]")``).
        headers: the request headers, case-insensitive.
        body: the raw body.
        path_params: the ``{name}`` placeholders of the scripted route that answered, if any.
    """

    method: str
    path: str
    query: MultiDict[str]
    headers: CIMultiDict[str]
    body: bytes
    path_params: dict[str, str] = field(default_factory=dict)

    @property
    def content_type(self) -> str:
        """The media type of the body, lower case, without parameters (``""`` when absent)."""
        return self.headers.get("Content-Type", "").split(";", 1)[0].strip().lower()

    @cached_property
    def json(self) -> Any:
        """The body decoded as JSON; None when the body is empty or not JSON.

        Raises:
            ValueError: the request says it is JSON but its body does not parse.
        """
        if not self.body or "json" not in self.content_type:
            return None
        try:
            return msgspec.json.decode(self.body)
        except msgspec.DecodeError as exc:
            raise ValueError(f"request body is not valid JSON: {exc}") from exc

    @cached_property
    def parts(self) -> list[RecordedPart]:
        """The parts of a ``multipart/form-data`` body, in order ([] for other bodies)."""
        if self.content_type != "multipart/form-data":
            return []
        return _parse_multipart(self.headers["Content-Type"], self.body)

    @property
    def form(self) -> dict[str, str]:
        """The multipart fields that are not files, as text (the last value wins for repeated names)."""
        return {p.name: p.text for p in self.parts if p.filename is None}

    @property
    def files(self) -> dict[str, RecordedPart]:
        """The multipart parts that carry a filename, by field name."""
        return {p.name: p for p in self.parts if p.filename is not None}

    def __repr__(self) -> str:
        return f"<RecordedRequest {self.method} {self.path} ({len(self.body)} bytes)>"


def _parse_multipart(content_type: str, body: bytes) -> list[RecordedPart]:
    # The body is already in memory, so split it on the boundary (RFC 7578 / RFC 2046 framing).
    boundary = ""
    for param in content_type.split(";")[1:]:
        key, _, value = param.strip().partition("=")
        if key.lower() == "boundary":
            boundary = value.strip('"')
    if not boundary:
        raise ValueError("multipart/form-data without a boundary")
    delimiter = b"--" + boundary.encode()
    parts = []
    for chunk in body.split(delimiter)[1:]:
        if chunk.startswith(b"--"):
            break  # the close delimiter
        head, _, data = chunk.partition(b"\r\n\r\n")
        if data.endswith(b"\r\n"):
            data = data[:-2]  # the CRLF belongs to the next delimiter
        headers: CIMultiDict[str] = CIMultiDict()
        for line in head.decode("utf-8", "replace").split("\r\n"):
            name, sep, value = line.partition(":")
            if sep:
                headers.add(name.strip(), value.strip())
        _, params = parse_content_disposition(headers.get("Content-Disposition"))
        parts.append(
            RecordedPart(
                name=params.get("name", ""),
                filename=params.get("filename"),
                content_type=headers.get("Content-Type"),
                data=data,
            )
        )
    return parts
