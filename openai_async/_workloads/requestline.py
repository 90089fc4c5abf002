"""One Batch-style request line, ``{"custom_id", "method", "url", "body"}``: its one validator and its one error.

The bulk runner, the Batch pipeline and the ``openai-async`` command all read these lines, from Python objects
(``check_item``) or from JSONL bytes (``parse_line``), and report a bad one the same way: ``RequestLineError``
whose text names where the line is (``in.jsonl:7`` or ``item 6 (custom_id)``) and what is wrong with it.
``batch=True`` adds the Batch API's own rules: POST only, a JSON object body, and a ``url`` that is one of the
endpoints the API's spec lists for ``batches.create``.
"""

from __future__ import annotations

import typing
from collections.abc import Mapping
from typing import Any, NamedTuple

import msgspec

from .._core.errors import OpenAIError

__all__ = [
    "RequestLine",
    "RequestLineError",
    "api_path",
    "batch_endpoints",
    "check_item",
    "endpoint_of",
    "parse_line",
]


class RequestLineError(OpenAIError, ValueError):
    """Bad request lines: ``problems`` holds one ``where: what`` text per line, ``str()`` lists them."""

    def __init__(self, problems: str | list[str], more: int = 0) -> None:
        self.problems = [problems] if isinstance(problems, str) else list(problems)
        self.more = more
        text = "\n".join(self.problems)
        if more:
            text += f"\n... and {more} more bad lines"
        super().__init__(text)


class RequestLine(NamedTuple):
    """A checked line. ``body`` is a mapping, ``msgspec.Raw`` JSON (read from bytes) or None (no body)."""

    custom_id: str
    method: str
    url: str
    body: Any


_NULL = msgspec.Raw(b"null")


class _Line(msgspec.Struct):
    custom_id: str
    url: str
    method: str = "POST"
    body: msgspec.Raw = _NULL  # passed through undecoded (msgspec cannot put Raw in a union with None)


_line_decoder = msgspec.json.Decoder(_Line)
_endpoints: frozenset[str] | None = None


def batch_endpoints() -> frozenset[str]:
    """The ``endpoint`` values ``batches.create`` accepts, from the spec (``CreateBatchRequest.endpoint``)."""
    global _endpoints
    if _endpoints is None:
        from ..types.batch import CreateBatchRequest  # lazy: cold start (only Batch checks need the types)

        hint = typing.get_type_hints(CreateBatchRequest)["endpoint"]
        _endpoints = frozenset(
            value for arg in typing.get_args(hint) for value in typing.get_args(arg) if isinstance(value, str)
        )
    return _endpoints


def endpoint_of(url: str) -> str:
    """The batch ``endpoint`` of a request ``url``: ``/chat/completions`` and ``/v1/chat/completions`` alike."""
    path = url.split("?", 1)[0]
    return path if path.startswith("/v1/") else "/v1" + path


def api_path(url: str) -> str:
    """Turn a Batch ``url`` (``/v1/chat/completions``) into a path relative to the client's base URL."""
    return url[3:] if url.startswith("/v1/") else url


def _problem(custom_id: Any, method: Any, url: Any, body_kind: str, *, batch: bool) -> str | None:
    """What is wrong with a line's fields (None: nothing). ``body_kind``: object, null, absent or other."""
    if not isinstance(custom_id, str) or not custom_id:
        return "missing or empty custom_id"
    if not isinstance(method, str):
        return "method must be a string"
    if batch and method.upper() != "POST":
        return f"the Batch API only runs POST requests, not {method!r}"
    if not isinstance(url, str) or not url.startswith("/"):
        return f"url must be a path such as /v1/chat/completions, got {url!r}"
    if batch and endpoint_of(url) not in batch_endpoints():
        return f"url {url!r} is not a Batch API endpoint ({', '.join(sorted(batch_endpoints()))})"
    if body_kind == "other" or (batch and body_kind != "object"):
        return "body must be a JSON object"
    return None


def check_item(item: Any, where: str, *, batch: bool = False) -> RequestLine:
    """Check one input object (a mapping, or a struct/dataclass msgspec can turn into one)."""
    if not isinstance(item, Mapping):
        try:
            item = msgspec.to_builtins(item)
        except TypeError:
            item = None
        if not isinstance(item, Mapping):
            raise RequestLineError(
                f"{where}: expected a Batch request mapping (custom_id, method, url, body)"
            )
    custom_id = item.get("custom_id")
    method = item.get("method", "POST")
    url = item.get("url")
    body = item.get("body")
    if isinstance(body, Mapping):
        kind = "object"
    elif isinstance(body, msgspec.Raw):  # JSON passed through as is
        kind = _raw_kind(body)
    else:
        kind = "absent" if body is None else "other"
    problem = _problem(custom_id, method, url, kind, batch=batch)
    if problem is not None:
        if isinstance(custom_id, str) and custom_id:
            where = f"{where} ({custom_id})"
        raise RequestLineError(f"{where}: {problem}")
    return RequestLine(str(custom_id), str(method).upper(), str(url), body)


def parse_line(data: bytes, where: str, *, batch: bool = False) -> RequestLine:
    """Decode and check one JSONL line; the body stays raw JSON (``msgspec.Raw``), None when absent or null."""
    try:
        line = _line_decoder.decode(data)
    except msgspec.ValidationError as exc:
        raise RequestLineError(f"{where}: " + str(exc).replace("`$.", "`")) from None
    except msgspec.DecodeError as exc:
        raise RequestLineError(f"{where}: invalid JSON: {exc}") from None
    kind = _raw_kind(line.body)
    problem = _problem(line.custom_id, line.method, line.url, kind, batch=batch)
    if problem is not None:
        raise RequestLineError(f"{where}: {problem}")
    return RequestLine(line.custom_id, line.method.upper(), line.url, None if kind == "null" else line.body)


def _raw_kind(body: msgspec.Raw) -> str:
    data = bytes(body).lstrip()
    if data.startswith(b"{"):
        return "object"
    return "null" if data == b"null" else "other"
