"""openai_async: an asyncio-first client for the whole OpenAI API, on aiohttp, msgspec and anyio.

    from openai_async import AsyncOpenAI

    async with AsyncOpenAI() as client:
        completion = await client.chat.completions.create(model="gpt-4o-mini", messages=[...])
"""

from __future__ import annotations

from ._azure import AsyncAzureOpenAI as AsyncAzureOpenAI
from ._client import AsyncOpenAI as AsyncOpenAI
from ._errors import APIConnectionError as APIConnectionError
from ._errors import APIError as APIError
from ._errors import APIResponseValidationError as APIResponseValidationError
from ._errors import APIStatusError as APIStatusError
from ._errors import APITimeoutError as APITimeoutError
from ._errors import AuthenticationError as AuthenticationError
from ._errors import BadRequestError as BadRequestError
from ._errors import ConflictError as ConflictError
from ._errors import ContentFilterFinishReasonError as ContentFilterFinishReasonError
from ._errors import InternalServerError as InternalServerError
from ._errors import InvalidWebhookSignatureError as InvalidWebhookSignatureError
from ._errors import LengthFinishReasonError as LengthFinishReasonError
from ._errors import NotFoundError as NotFoundError
from ._errors import OpenAIError as OpenAIError
from ._errors import PermissionDeniedError as PermissionDeniedError
from ._errors import RateLimitError as RateLimitError
from ._errors import RealtimeAPIError as RealtimeAPIError
from ._errors import UnprocessableEntityError as UnprocessableEntityError
from ._pagination import AsyncPage as AsyncPage
from ._pagination import AsyncPaginator as AsyncPaginator
from ._response import BinaryResponse as BinaryResponse
from ._response import RateLimitInfo as RateLimitInfo
from ._response import RawResponse as RawResponse
from ._retry import RetryPolicy as RetryPolicy
from ._streaming import AsyncStream as AsyncStream
from ._types import NOT_GIVEN as NOT_GIVEN
from ._types import UNSET as UNSET
from ._types import NotGiven as NotGiven
from ._types import RequestOptions as RequestOptions
from ._types import Timeout as Timeout
from ._version import __version__ as __version__

__all__ = [
    "NOT_GIVEN",
    "UNSET",
    "APIConnectionError",
    "APIError",
    "APIResponseValidationError",
    "APIStatusError",
    "APITimeoutError",
    "AsyncAzureOpenAI",
    "AsyncOpenAI",
    "AsyncPage",
    "AsyncPaginator",
    "AsyncStream",
    "AuthenticationError",
    "BadRequestError",
    "BinaryResponse",
    "ConflictError",
    "ContentFilterFinishReasonError",
    "InternalServerError",
    "InvalidWebhookSignatureError",
    "LengthFinishReasonError",
    "NotFoundError",
    "NotGiven",
    "OpenAIError",
    "PermissionDeniedError",
    "RateLimitError",
    "RateLimitInfo",
    "RawResponse",
    "RealtimeAPIError",
    "RequestOptions",
    "RetryPolicy",
    "Timeout",
    "UnprocessableEntityError",
    "__version__",
]

# Tracebacks and reprs show the public path (openai_async.RateLimitError), not the private module.
for _name in __all__:
    _obj = globals()[_name]
    if isinstance(_obj, type) and _obj.__module__.startswith("openai_async._"):
        _obj.__module__ = "openai_async"
del _name, _obj
