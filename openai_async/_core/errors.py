"""The exceptions openai_async raises, shaped like the official SDK's so existing ``except`` clauses keep working.

    OpenAIError
    ├── APIError                      message, body, code, param, type, request_id
    │   ├── APIConnectionError        the request never got a complete response (``request``)
    │   │   └── APITimeoutError       ... because a connect/read/idle/total timeout fired
    │   ├── APIResponseValidationError  a 2xx body that is not JSON at all
    │   │   └── StreamDecodeError     an event of a stream whose data is not JSON (or not UTF-8): payload
    │   ├── ResponseTooLargeError     a body beyond max_response_size (the connection is dropped)
    │   ├── StreamEventTooLargeError  one SSE line or event grew past AsyncStream.max_event_size
    │   ├── RealtimeAPIError          an `error` event of a Realtime session (opt-in: raise_errors=True)
    │   └── APIStatusError            a non-2xx response: status_code, headers, response, request
    │       ├── BadRequestError            400
    │       ├── AuthenticationError        401
    │       ├── PermissionDeniedError      403
    │       ├── NotFoundError              404
    │       ├── ConflictError              409
    │       ├── UnprocessableEntityError   422
    │       ├── RateLimitError             429
    │       └── InternalServerError        >= 500
    ├── LengthFinishReasonError / ContentFilterFinishReasonError (structured-output parsing)
    └── InvalidWebhookSignatureError

A stream that receives ``{"error": {...}}`` mid-way raises ``APIError`` with the decoded fields.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import msgspec

from .headers import retry_after as _retry_after
from .http import Request, Response

__all__ = [
    "APIConnectionError",
    "APIError",
    "APIResponseValidationError",
    "APIStatusError",
    "APITimeoutError",
    "AuthenticationError",
    "BadRequestError",
    "ConflictError",
    "ContentFilterFinishReasonError",
    "InternalServerError",
    "InvalidWebhookSignatureError",
    "LengthFinishReasonError",
    "NotFoundError",
    "OpenAIError",
    "PermissionDeniedError",
    "RateLimitError",
    "RealtimeAPIError",
    "ResponseTooLargeError",
    "StreamDecodeError",
    "StreamEventTooLargeError",
    "UnprocessableEntityError",
]


class OpenAIError(Exception):
    """Base class of every error this package raises."""


class APIError(OpenAIError):
    """An error reported by (or on the way to) the API.

    Attributes mirror the official SDK: ``message``; ``request`` (method, url, headers with credentials masked;
    None where no HTTP request was involved); ``body``, the API's error object (``{"message", "type", "param",
    "code"}``, i.e. the ``error`` member of the response document), the whole decoded body when it has no
    ``error`` member, or the text when it was not JSON; and ``code``, ``param``, ``type`` read from ``body``.
    """

    message: str
    request: Request | None
    body: object | None
    code: str | None
    param: str | None
    type: str | None
    request_id: str | None

    def __init__(
        self,
        message: str,
        request: Request | None = None,
        *,
        body: object | None = None,
        request_id: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.request = request
        self.body = body
        self.request_id = request_id
        if isinstance(body, Mapping):
            # Callers that still hand over the whole document ({"error": {...}}) get the same fields.
            inner = body.get("error")
            info = inner if isinstance(inner, Mapping) else body
            self.code = _str_or_none(info.get("code"))
            self.param = _str_or_none(info.get("param"))
            self.type = _str_or_none(info.get("type"))
        else:
            self.code = self.param = self.type = None

    def __str__(self) -> str:
        if self.request_id:
            return f"{self.message} (request id: {self.request_id})"
        return self.message


class APIConnectionError(APIError):
    """The request failed before a complete response arrived (refused, reset, cut mid-body)."""

    def __init__(
        self,
        message: str = "Connection error.",
        *,
        request: Request | None = None,
        request_id: str | None = None,
    ) -> None:
        super().__init__(message, request, request_id=request_id)


class APITimeoutError(APIConnectionError):
    """A connect, read, stream-idle or total timeout fired."""

    def __init__(
        self,
        message: str = "Request timed out.",
        *,
        request: Request | None = None,
        request_id: str | None = None,
    ) -> None:
        super().__init__(message, request=request, request_id=request_id)


class APIResponseValidationError(APIError):
    """A successful response whose body could not be read as JSON."""

    def __init__(
        self,
        message: str,
        *,
        status_code: int,
        body: object | None = None,
        request_id: str | None = None,
        response: Response | None = None,
    ) -> None:
        super().__init__(
            message, response.request if response is not None else None, body=body, request_id=request_id
        )
        self.status_code = status_code
        self.response = response


class ResponseTooLargeError(APIError):
    """A non-streaming response body (decompressed) went beyond ``max_response_size``; nothing more was read."""

    def __init__(
        self,
        message: str,
        *,
        status_code: int,
        limit: int,
        request: Request | None = None,
        request_id: str | None = None,
    ) -> None:
        super().__init__(message, request, request_id=request_id)
        self.status_code = status_code
        self.limit = limit


class StreamDecodeError(APIResponseValidationError):
    """An event of a stream whose data is not valid JSON (or not valid UTF-8); ``payload`` is its raw bytes and
    ``body`` the same decoded as text (invalid bytes replaced)."""

    def __init__(
        self, message: str, *, payload: bytes, status_code: int = 200, request_id: str | None = None
    ) -> None:
        super().__init__(
            message, status_code=status_code, body=payload.decode("utf-8", "replace"), request_id=request_id
        )
        self.payload = payload


class StreamEventTooLargeError(APIError):
    """One line or event of a stream grew past the cap (``AsyncStream.max_event_size``, 16 MiB by default):
    the stream was stopped and its connection closed rather than buffering without bound."""

    def __init__(self, message: str, *, limit: int, request_id: str | None = None) -> None:
        super().__init__(message, request_id=request_id)
        self.limit = limit


class APIStatusError(APIError):
    """The API answered with a 4xx or 5xx status.

    ``response`` is the whole response (``status_code``, ``headers``, ``text``, ``json()``, ``request``);
    ``status_code``, ``headers`` and ``request_id`` are read from it.
    """

    status_code: int
    response: Response

    def __init__(
        self,
        message: str,
        *,
        response: Response | None = None,
        body: object | None = None,
        status_code: int | None = None,
        headers: Mapping[str, str] | None = None,
        request_id: str | None = None,
    ) -> None:
        if response is None:
            response = Response(status_code or 0, headers if headers is not None else {}, b"", None)
        if request_id is None:
            request_id = response.headers.get("x-request-id")
        super().__init__(message, response.request, body=body, request_id=request_id)
        self.response = response
        self.status_code = response.status_code if status_code is None else status_code
        self.headers = response.headers

    @property
    def response_headers(self) -> Mapping[str, str]:
        """The response headers (alias kept for readability)."""
        return self.headers

    @property
    def retry_after(self) -> float | None:
        """The server's ``retry-after-ms``/``Retry-After`` wait in seconds, if it sent one."""
        return _retry_after(self.headers)


class BadRequestError(APIStatusError):
    """400."""


class AuthenticationError(APIStatusError):
    """401."""


class PermissionDeniedError(APIStatusError):
    """403."""


class NotFoundError(APIStatusError):
    """404."""


class ConflictError(APIStatusError):
    """409."""


class UnprocessableEntityError(APIStatusError):
    """422."""


class RateLimitError(APIStatusError):
    """429."""


class InternalServerError(APIStatusError):
    """>= 500."""


class RealtimeAPIError(APIError):
    """An ``error`` event of a Realtime session, raised when the connection was opened with ``raise_errors=True``.

    ``code``, ``param``, ``type`` and ``message`` come from the event's ``error`` object; ``event`` is the typed
    event itself and ``event_id`` the id of the client event that caused it (when the server names one).
    """

    def __init__(self, event: Any) -> None:
        raw = getattr(event, "error", None)
        error: dict[str, Any] = msgspec.to_builtins(raw) if raw is not None else {}
        message = error.get("message") or "The Realtime API reported an error"
        super().__init__(f"Realtime error: {message}", body=error)
        self.event = event
        self.event_id: str | None = error.get("event_id")


class LengthFinishReasonError(OpenAIError):
    """Structured output could not be parsed because generation stopped at the token limit."""

    def __init__(self, *, completion: Any = None) -> None:
        super().__init__("Could not parse response content as the length limit was reached")
        self.completion = completion


class ContentFilterFinishReasonError(OpenAIError):
    """Structured output could not be parsed because the content filter stopped generation."""

    def __init__(self) -> None:
        super().__init__("Could not parse response content as the request was rejected by the content filter")


class InvalidWebhookSignatureError(OpenAIError, ValueError):
    """A webhook payload's signature did not verify."""


_STATUS_ERRORS: dict[int, type[APIStatusError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    422: UnprocessableEntityError,
    429: RateLimitError,
}


def status_error(
    status: int,
    headers: Mapping[str, str],
    body: object | None,
    *,
    content: bytes = b"",
    request: Request | None = None,
) -> APIStatusError:
    """Build the ``APIStatusError`` subclass for ``status`` as the official SDK does: ``body`` is the decoded
    document's ``error`` member (or the document, or its text), the message ``Error code: N - <error message>``.
    """
    cls = _STATUS_ERRORS.get(status) or (InternalServerError if status >= 500 else APIStatusError)
    message = f"Error code: {status}"
    data = body.get("error", body) if isinstance(body, Mapping) else body
    info = data if isinstance(data, Mapping) else None
    if info is not None and isinstance(info.get("message"), str) and info["message"]:
        message = f"{message} - {info['message']}"
    response = Response(status, headers, content, request)
    return cls(message, response=response, body=data)


def _str_or_none(value: object) -> str | None:
    if value is None:
        return None
    return value if isinstance(value, str) else str(value)
