"""openai_async: an asyncio-first client for the whole OpenAI API, on aiohttp, msgspec and anyio.

from openai_async import AsyncOpenAI

async with AsyncOpenAI() as client:
    completion = await client.chat.completions.create(model="gpt-4o-mini", messages=[...])
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ._azure import AsyncAzureOpenAI as AsyncAzureOpenAI
from ._client import AsyncOpenAI as AsyncOpenAI
from ._core.client import DefaultAioHttpClient as DefaultAioHttpClient
from ._core.errors import APIConnectionError as APIConnectionError
from ._core.errors import APIError as APIError
from ._core.errors import APIResponseValidationError as APIResponseValidationError
from ._core.errors import APIStatusError as APIStatusError
from ._core.errors import APITimeoutError as APITimeoutError
from ._core.errors import AuthenticationError as AuthenticationError
from ._core.errors import BadRequestError as BadRequestError
from ._core.errors import ConflictError as ConflictError
from ._core.errors import ContentFilterFinishReasonError as ContentFilterFinishReasonError
from ._core.errors import InternalServerError as InternalServerError
from ._core.errors import InvalidWebhookSignatureError as InvalidWebhookSignatureError
from ._core.errors import LengthFinishReasonError as LengthFinishReasonError
from ._core.errors import NotFoundError as NotFoundError
from ._core.errors import OpenAIError as OpenAIError
from ._core.errors import PermissionDeniedError as PermissionDeniedError
from ._core.errors import RateLimitError as RateLimitError
from ._core.errors import RealtimeAPIError as RealtimeAPIError
from ._core.errors import ResponseTooLargeError as ResponseTooLargeError
from ._core.errors import StreamDecodeError as StreamDecodeError
from ._core.errors import StreamEventTooLargeError as StreamEventTooLargeError
from ._core.errors import UnprocessableEntityError as UnprocessableEntityError
from ._core.hooks import CallInfo as CallInfo
from ._core.hooks import RequestHooks as RequestHooks
from ._core.pagination import AsyncPage as AsyncPage
from ._core.pagination import AsyncPaginator as AsyncPaginator
from ._core.response import BinaryResponse as BinaryResponse
from ._core.response import BinaryResponse as HttpxBinaryResponseContent  # the official SDK's name
from ._core.response import RateLimitInfo as RateLimitInfo
from ._core.response import RawResponse as RawResponse
from ._core.retry import RetryPolicy as RetryPolicy
from ._core.streamed import StreamAlreadyConsumed as StreamAlreadyConsumed
from ._core.streamed import StreamedResponse as AsyncAPIResponse  # the official SDK's name
from ._core.streamed import StreamedResponse as StreamedResponse
from ._core.streaming import AsyncStream as AsyncStream
from ._core.types import NOT_GIVEN as NOT_GIVEN
from ._core.types import UNSET as UNSET
from ._core.types import NotGiven as NotGiven
from ._core.types import Omit as Omit
from ._core.types import RequestOptions as RequestOptions
from ._core.types import Timeout as Timeout
from ._core.types import not_given as not_given
from ._core.types import omit as omit
from ._version import __version__ as __version__

# The lazy names, for type checkers and IDEs (never executed; __getattr__ below loads them).
if TYPE_CHECKING:
    from ._core.model import BaseModel as BaseModel
    from ._core.model import Unknown as Unknown
    from ._core.polling import PollTimeoutError as PollTimeoutError
    from ._core.types import RateLimitHook as RateLimitHook
    from ._helpers.assistants.handler import AsyncAssistantEventHandler as AsyncAssistantEventHandler
    from ._helpers.assistants.handler import AsyncAssistantStreamManager as AsyncAssistantStreamManager
    from ._helpers.chat.stream import ChatCompletionStream as ChatCompletionStream
    from ._helpers.chat.stream import ChatCompletionStreamEvent as ChatCompletionStreamEvent
    from ._helpers.chat.stream import ChatCompletionStreamManager as ChatCompletionStreamManager
    from ._helpers.chat.stream import ChatCompletionStreamState as ChatCompletionStreamState
    from ._helpers.chat.stream import ChunkEvent as ChunkEvent
    from ._helpers.chat.stream import ContentDeltaEvent as ContentDeltaEvent
    from ._helpers.chat.stream import ContentDoneEvent as ContentDoneEvent
    from ._helpers.chat.stream import (
        FunctionToolCallArgumentsDeltaEvent as FunctionToolCallArgumentsDeltaEvent,
    )
    from ._helpers.chat.stream import FunctionToolCallArgumentsDoneEvent as FunctionToolCallArgumentsDoneEvent
    from ._helpers.chat.stream import LogprobsContentDeltaEvent as LogprobsContentDeltaEvent
    from ._helpers.chat.stream import LogprobsContentDoneEvent as LogprobsContentDoneEvent
    from ._helpers.chat.stream import LogprobsRefusalDeltaEvent as LogprobsRefusalDeltaEvent
    from ._helpers.chat.stream import LogprobsRefusalDoneEvent as LogprobsRefusalDoneEvent
    from ._helpers.chat.stream import RefusalDeltaEvent as RefusalDeltaEvent
    from ._helpers.chat.stream import RefusalDoneEvent as RefusalDoneEvent
    from ._helpers.fine_tuning import FineTuningJobWatch as FineTuningJobWatch
    from ._helpers.realtime.connection import RealtimeConnection as RealtimeConnection
    from ._helpers.realtime.connection import RealtimeConnectionManager as RealtimeConnectionManager
    from ._helpers.realtime.connection import audio_bytes as audio_bytes
    from ._helpers.responses.stream import ResponseFailedError as ResponseFailedError
    from ._helpers.responses.stream import ResponseStream as ResponseStream
    from ._helpers.responses.stream import ResponseStreamManager as ResponseStreamManager
    from ._helpers.responses.stream import ResponseStreamState as ResponseStreamState
    from ._helpers.structured import ParsedChatCompletion as ParsedChatCompletion
    from ._helpers.structured import ParsedChatCompletionMessage as ParsedChatCompletionMessage
    from ._helpers.structured import ParsedChoice as ParsedChoice
    from ._helpers.structured import ParsedFunction as ParsedFunction
    from ._helpers.structured import ParsedFunctionToolCall as ParsedFunctionToolCall
    from ._helpers.structured import ParsedResponse as ParsedResponse
    from ._helpers.structured import ParsedResponseFunctionToolCall as ParsedResponseFunctionToolCall
    from ._helpers.structured import ParsedResponseOutputText as ParsedResponseOutputText
    from ._helpers.structured import function_tool as function_tool
    from ._helpers.structured import function_tool as pydantic_function_tool
    from ._helpers.structured import to_strict_json_schema as to_strict_json_schema
    from ._integrations.otel import OpenTelemetryHooks as OpenTelemetryHooks
    from ._workloads.batch.pipeline import BatchInputError as BatchInputError
    from ._workloads.batch.pipeline import BatchProgress as BatchProgress
    from ._workloads.batch.pipeline import BatchRequestError as BatchRequestError
    from ._workloads.batch.pipeline import BatchResponse as BatchResponse
    from ._workloads.batch.pipeline import BatchResult as BatchResult
    from ._workloads.batch.pipeline import BatchRun as BatchRun
    from ._workloads.batch.pipeline import BatchStateError as BatchStateError
    from ._workloads.batch.pipeline import BatchSummary as BatchSummary
    from ._workloads.batch.pipeline import run_batch as run_batch
    from ._workloads.bulk import BulkInputError as BulkInputError
    from ._workloads.bulk import BulkResult as BulkResult
    from ._workloads.bulk import BulkRun as BulkRun
    from ._workloads.bulk import BulkSummary as BulkSummary
    from ._workloads.bulk import run_bulk as run_bulk
    from ._workloads.ratelimit import InMemoryBackend as InMemoryBackend
    from ._workloads.ratelimit import ModelRateLimiter as ModelRateLimiter
    from ._workloads.ratelimit import RateLimiter as RateLimiter
    from ._workloads.ratelimit import ScaledClock as ScaledClock
    from ._workloads.ratelimit_redis import RedisBackend as RedisBackend
    from ._workloads.requestline import RequestLineError as RequestLineError

# Names whose modules load the generated types (or more) are imported on first use, keeping `import openai_async`
# as cheap as importing aiohttp.
_LAZY: dict[str, str] = {
    "OpenTelemetryHooks": "._integrations.otel",
    "function_tool": "._helpers.structured",
    "pydantic_function_tool": "._helpers.structured",
    "ParsedChatCompletion": "._helpers.structured",
    "ParsedChatCompletionMessage": "._helpers.structured",
    "ParsedChoice": "._helpers.structured",
    "ParsedFunction": "._helpers.structured",
    "ParsedFunctionToolCall": "._helpers.structured",
    "ParsedResponse": "._helpers.structured",
    "ParsedResponseFunctionToolCall": "._helpers.structured",
    "ParsedResponseOutputText": "._helpers.structured",
    "to_strict_json_schema": "._helpers.structured",
    "ChatCompletionStream": "._helpers.chat.stream",
    "ChatCompletionStreamEvent": "._helpers.chat.stream",
    "ChatCompletionStreamManager": "._helpers.chat.stream",
    "ChatCompletionStreamState": "._helpers.chat.stream",
    "ChunkEvent": "._helpers.chat.stream",
    "ContentDeltaEvent": "._helpers.chat.stream",
    "ContentDoneEvent": "._helpers.chat.stream",
    "FunctionToolCallArgumentsDeltaEvent": "._helpers.chat.stream",
    "FunctionToolCallArgumentsDoneEvent": "._helpers.chat.stream",
    "LogprobsContentDeltaEvent": "._helpers.chat.stream",
    "LogprobsContentDoneEvent": "._helpers.chat.stream",
    "LogprobsRefusalDeltaEvent": "._helpers.chat.stream",
    "LogprobsRefusalDoneEvent": "._helpers.chat.stream",
    "RefusalDeltaEvent": "._helpers.chat.stream",
    "RefusalDoneEvent": "._helpers.chat.stream",
    "ResponseFailedError": "._helpers.responses.stream",
    "ResponseStream": "._helpers.responses.stream",
    "ResponseStreamManager": "._helpers.responses.stream",
    "ResponseStreamState": "._helpers.responses.stream",
    "BatchInputError": "._workloads.batch.pipeline",
    "BatchProgress": "._workloads.batch.pipeline",
    "BatchRequestError": "._workloads.batch.pipeline",
    "BatchResponse": "._workloads.batch.pipeline",
    "BatchResult": "._workloads.batch.pipeline",
    "BatchRun": "._workloads.batch.pipeline",
    "BatchStateError": "._workloads.batch.pipeline",
    "BatchSummary": "._workloads.batch.pipeline",
    "run_batch": "._workloads.batch.pipeline",
    "PollTimeoutError": "._core.polling",
    "AsyncAssistantEventHandler": "._helpers.assistants.handler",
    "AsyncAssistantStreamManager": "._helpers.assistants.handler",
    "FineTuningJobWatch": "._helpers.fine_tuning",
    "RealtimeConnection": "._helpers.realtime.connection",
    "RealtimeConnectionManager": "._helpers.realtime.connection",
    "audio_bytes": "._helpers.realtime.connection",
    "RateLimiter": "._workloads.ratelimit",
    "ModelRateLimiter": "._workloads.ratelimit",
    "RateLimitHook": "._core.types",
    "InMemoryBackend": "._workloads.ratelimit",
    "ScaledClock": "._workloads.ratelimit",
    "RedisBackend": "._workloads.ratelimit_redis",
    "run_bulk": "._workloads.bulk",
    "BulkResult": "._workloads.bulk",
    "BulkSummary": "._workloads.bulk",
    "BulkInputError": "._workloads.bulk",
    "RequestLineError": "._workloads.requestline",
    "BulkRun": "._workloads.bulk",
    "BaseModel": "._core.model",
    "Unknown": "._core.model",
}

__all__ = [
    "NOT_GIVEN",
    "UNSET",
    "APIConnectionError",
    "APIError",
    "APIResponseValidationError",
    "APIStatusError",
    "APITimeoutError",
    "AsyncAPIResponse",
    "AsyncAssistantEventHandler",
    "AsyncAssistantStreamManager",
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
    "CallInfo",
    "ChatCompletionStream",
    "ChatCompletionStreamEvent",
    "ChatCompletionStreamManager",
    "ChatCompletionStreamState",
    "ChunkEvent",
    "ConflictError",
    "ContentDeltaEvent",
    "ContentDoneEvent",
    "ContentFilterFinishReasonError",
    "DefaultAioHttpClient",
    "FineTuningJobWatch",
    "FunctionToolCallArgumentsDeltaEvent",
    "FunctionToolCallArgumentsDoneEvent",
    "HttpxBinaryResponseContent",
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
    "Omit",
    "OpenAIError",
    "OpenTelemetryHooks",
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
    "RequestHooks",
    "RequestLineError",
    "RequestOptions",
    "ResponseFailedError",
    "ResponseStream",
    "ResponseStreamManager",
    "ResponseStreamState",
    "ResponseTooLargeError",
    "RetryPolicy",
    "ScaledClock",
    "StreamAlreadyConsumed",
    "StreamDecodeError",
    "StreamEventTooLargeError",
    "StreamedResponse",
    "Timeout",
    "Unknown",
    "UnprocessableEntityError",
    "__version__",
    "audio_bytes",
    "function_tool",
    "not_given",
    "omit",
    "pydantic_function_tool",
    "run_batch",
    "run_bulk",
    "to_strict_json_schema",
]


def _publish(cls: type) -> None:
    """Show ``cls`` as ``openai_async.<name>``, its string annotations first resolved where they were written.

    ``typing.get_type_hints``, ``help()`` and msgspec read a class's annotations in the namespace of its
    ``__module__``; once that is ``openai_async`` the defining module's names (``Any``, a sibling struct) are
    out of reach, so they are resolved here, in the defining module, while it is still known.
    """
    import sys  # lazy: only for the classes re-exported here

    namespace = vars(sys.modules[cls.__module__])
    own = cls.__dict__.get("__annotations__")
    if isinstance(own, dict):
        for key, hint in own.items():
            if isinstance(hint, str):
                try:
                    own[key] = eval(hint, namespace, dict(vars(cls)))  # our own annotation text
                except NameError:  # a name only imported for type checkers: left as text
                    pass
    cls.__module__ = "openai_async"


def __getattr__(name: str) -> object:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'openai_async' has no attribute {name!r}")
    import importlib

    value = getattr(
        importlib.import_module(module, __name__),
        name if name != "pydantic_function_tool" else "function_tool",
    )
    if isinstance(value, type) and value.__module__.startswith("openai_async._"):
        _publish(value)
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
        _publish(_obj)
del _name, _obj
