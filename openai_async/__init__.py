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

# Names whose modules load the generated types (or more) are imported on first use, keeping `import openai_async`
# as cheap as importing aiohttp.
_LAZY: dict[str, str] = {
    "function_tool": "._structured",
    "pydantic_function_tool": "._structured",
    "ParsedChatCompletion": "._structured",
    "ParsedChatCompletionMessage": "._structured",
    "ParsedChoice": "._structured",
    "ParsedFunction": "._structured",
    "ParsedFunctionToolCall": "._structured",
    "ParsedResponse": "._structured",
    "ParsedResponseFunctionToolCall": "._structured",
    "ParsedResponseOutputText": "._structured",
    "to_strict_json_schema": "._structured",
    "ChatCompletionStream": "._chat_stream",
    "ChatCompletionStreamEvent": "._chat_stream",
    "ChatCompletionStreamManager": "._chat_stream",
    "ChatCompletionStreamState": "._chat_stream",
    "ChunkEvent": "._chat_stream",
    "ContentDeltaEvent": "._chat_stream",
    "ContentDoneEvent": "._chat_stream",
    "FunctionToolCallArgumentsDeltaEvent": "._chat_stream",
    "FunctionToolCallArgumentsDoneEvent": "._chat_stream",
    "LogprobsContentDeltaEvent": "._chat_stream",
    "LogprobsContentDoneEvent": "._chat_stream",
    "LogprobsRefusalDeltaEvent": "._chat_stream",
    "LogprobsRefusalDoneEvent": "._chat_stream",
    "RefusalDeltaEvent": "._chat_stream",
    "RefusalDoneEvent": "._chat_stream",
    "ResponseFailedError": "._responses_stream",
    "ResponseStream": "._responses_stream",
    "ResponseStreamManager": "._responses_stream",
    "ResponseStreamState": "._responses_stream",
    "BatchInputError": "._batch",
    "BatchProgress": "._batch",
    "BatchRequestError": "._batch",
    "BatchResponse": "._batch",
    "BatchResult": "._batch",
    "BatchRun": "._batch",
    "BatchStateError": "._batch",
    "BatchSummary": "._batch",
    "run_batch": "._batch",
    "PollTimeoutError": "._polling",
    "FineTuningJobWatch": "._helpers.fine_tuning",
    "RealtimeConnection": "._realtime",
    "RealtimeConnectionManager": "._realtime",
    "audio_bytes": "._realtime",
    "RateLimiter": "._ratelimit",
    "ModelRateLimiter": "._ratelimit",
    "RateLimitHook": "._ratelimit",
    "InMemoryBackend": "._ratelimit",
    "ScaledClock": "._ratelimit",
    "RedisBackend": "._ratelimit_redis",
    "run_bulk": "._bulk",
    "BulkResult": "._bulk",
    "BulkSummary": "._bulk",
    "BulkInputError": "._bulk",
    "BulkRun": "._bulk",
    "BaseModel": "._model",
    "Unknown": "._model",
}

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
    "BaseModel",
    "BatchInputError",
    "BatchProgress",
    "BatchRequestError",
    "BatchResponse",
    "BatchResult",
    "BatchRun",
    "BatchStateError",
    "BatchSummary",
    "BinaryResponse",
    "BulkInputError",
    "BulkResult",
    "BulkRun",
    "BulkSummary",
    "ChatCompletionStream",
    "ChatCompletionStreamEvent",
    "ChatCompletionStreamManager",
    "ChatCompletionStreamState",
    "ChunkEvent",
    "ConflictError",
    "ContentDeltaEvent",
    "ContentDoneEvent",
    "ContentFilterFinishReasonError",
    "FineTuningJobWatch",
    "FunctionToolCallArgumentsDeltaEvent",
    "FunctionToolCallArgumentsDoneEvent",
    "InMemoryBackend",
    "InternalServerError",
    "InvalidWebhookSignatureError",
    "LengthFinishReasonError",
    "LogprobsContentDeltaEvent",
    "LogprobsContentDoneEvent",
    "LogprobsRefusalDeltaEvent",
    "LogprobsRefusalDoneEvent",
    "ModelRateLimiter",
    "NotFoundError",
    "NotGiven",
    "OpenAIError",
    "ParsedChatCompletion",
    "ParsedChatCompletionMessage",
    "ParsedChoice",
    "ParsedFunction",
    "ParsedFunctionToolCall",
    "ParsedResponse",
    "ParsedResponseFunctionToolCall",
    "ParsedResponseOutputText",
    "PermissionDeniedError",
    "PollTimeoutError",
    "RateLimitError",
    "RateLimitHook",
    "RateLimitInfo",
    "RateLimiter",
    "RawResponse",
    "RealtimeAPIError",
    "RealtimeConnection",
    "RealtimeConnectionManager",
    "RedisBackend",
    "RefusalDeltaEvent",
    "RefusalDoneEvent",
    "RequestOptions",
    "ResponseFailedError",
    "ResponseStream",
    "ResponseStreamManager",
    "ResponseStreamState",
    "RetryPolicy",
    "ScaledClock",
    "Timeout",
    "Unknown",
    "UnprocessableEntityError",
    "__version__",
    "audio_bytes",
    "function_tool",
    "pydantic_function_tool",
    "run_batch",
    "run_bulk",
    "to_strict_json_schema",
]



def __getattr__(name: str) -> object:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'openai_async' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module, __name__), name if name != "pydantic_function_tool" else "function_tool")
    if isinstance(value, type) and value.__module__.startswith("openai_async._"):
        value.__module__ = "openai_async"
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


# Tracebacks and reprs show the public path (openai_async.RateLimitError), not the private module.
for _name in __all__:
    if _name in _LAZY:
        continue
    _obj = globals()[_name]
    if isinstance(_obj, type) and _obj.__module__.startswith("openai_async._"):
        _obj.__module__ = "openai_async"
del _name, _obj
