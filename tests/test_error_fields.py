"""Error fields as the official SDK fills them, compared on the same loopback server: ``body`` (the inner error
object), ``message``, ``code``, ``param``, ``type``, ``status_code``, ``request_id``, ``response`` and ``request``.
"""

from __future__ import annotations

from typing import Any

import openai
import pytest
from aiohttp import web

import openai_async

from ._drip import SDKS, body_handler, make_client
from ._server import routes, serve

pytestmark = pytest.mark.anyio

ERROR = {
    "error": {
        "message": "Invalid model",
        "type": "invalid_request_error",
        "param": "model",
        "code": "model_not_found",
    }
}
BODIES: dict[str, tuple[int, bytes | dict[str, Any], str | None]] = {
    "error document": (400, ERROR, None),
    "numeric code": (
        429,
        {"error": {"message": "slow", "type": "requests", "param": None, "code": 429}},
        None,
    ),
    "no error member": (422, {"detail": "bad", "code": "x"}, None),
    "error without message": (404, {"error": {"type": "not_found"}}, None),
    "html page": (502, b"  <html><body>Bad gateway</body></html>\n", "text/html"),
    "empty body": (500, b"", "text/plain"),
    "error is a string": (403, {"error": "forbidden"}, None),
}


def _fields(err: Any) -> dict[str, Any]:
    response = err.response
    return {
        "class": type(err).__name__,
        "message": err.message,
        "body": err.body,
        "code": err.code,
        "param": err.param,
        "type": err.type,
        "status_code": err.status_code,
        "request_id": err.request_id,
        "response.status_code": response.status_code,
        "response.text": response.text,
        "response.json": _json(response),
        "response.headers[x-request-id]": response.headers.get("x-request-id"),
        "response.request.method": response.request.method,
        "request.method": err.request.method,
        "request.url": str(err.request.url),
    }


def _json(response: Any) -> Any:
    try:
        return response.json()
    except Exception as exc:  # both SDKs raise their JSON library's error for a non-JSON body
        return type(exc).__base__ is not None and "not json"


@pytest.mark.parametrize("case", list(BODIES))
async def test_status_error_fields_match_the_official_sdk(case: str) -> None:
    """Every status error field a user reads is the same with both SDKs (err.body["message"] works)."""
    status, body, ctype = BODIES[case]
    app = routes(("POST", "/v1/embeddings", body_handler(body, status=status, content_type=ctype)))
    seen = {}
    async with serve(app) as url:
        for sdk in SDKS:
            async with make_client(sdk, url) as client:
                with pytest.raises((openai.APIStatusError, openai_async.APIStatusError)) as info:
                    await client.embeddings.create(model="m", input="x", extra_query={"trace": "1"})
            seen[sdk] = _fields(info.value)
    assert seen["ours"] == seen["official"]
    assert seen["ours"]["request.url"].endswith("/v1/embeddings?trace=1")


async def test_inner_body_as_the_readme_reads_it() -> None:
    """The README's lines: err.status_code, err.response, err.request_id; err.body["message"] is the message."""
    app = routes(("POST", "/v1/chat/completions", body_handler(ERROR, status=400)))
    async with serve(app) as url, make_client("ours", url) as client:
        try:
            await client.chat.completions.create(messages=[{"role": "user", "content": "hi"}], model="gpt-4o")
        except openai_async.APIStatusError as e:
            assert e.status_code == 400 and e.request_id == "req_drip"
            assert e.body["message"] == "Invalid model"  # type: ignore[index]
            assert repr(e.response) == "<Response [400 Bad Request]>"
            assert e.response.request is e.request
            assert e.request.headers["Authorization"] == "Bearer ***"  # type: ignore[union-attr]
            assert str(e) == "Error code: 400 - Invalid model (request id: req_drip)"


@pytest.mark.parametrize("sdk", SDKS)
async def test_connection_errors_carry_the_request(sdk: str) -> None:
    """A refused connection raises APIConnectionError whose .request has the method and URL; .body is None."""
    async with make_client(sdk, "http://127.0.0.1:9/v1") as client:
        with pytest.raises((openai.APIConnectionError, openai_async.APIConnectionError)) as info:
            await client.files.retrieve("file_1")
    err: Any = info.value
    assert err.request.method == "GET" and str(err.request.url) == "http://127.0.0.1:9/v1/files/file_1"
    assert err.body is None and err.code is None and err.__cause__ is not None


async def test_stream_error_event_body_is_the_inner_error() -> None:
    """A stream that sends {"error": {...}} raises APIError whose body is the inner object, as the official SDK."""
    from ._drip import sse_handler

    app = routes(("POST", "/v1/chat/completions", sse_handler([ERROR])))
    seen = {}
    async with serve(app) as url:
        for sdk in SDKS:
            async with make_client(sdk, url) as client:
                stream = await client.chat.completions.create(
                    model="m", messages=[{"role": "user", "content": "hi"}], stream=True
                )
                with pytest.raises((openai.APIError, openai_async.APIError)) as info:
                    async for _ in stream:
                        pass
            seen[sdk] = (
                info.value.message,
                info.value.body,
                info.value.code,
                info.value.param,
                info.value.type,
            )
    assert seen["ours"] == seen["official"]


async def test_error_request_headers_are_masked_but_others_kept() -> None:
    """err.request.headers masks Authorization and key-like headers and keeps the rest (the official SDK keeps
    the real values in its httpx request)."""

    async def fail(request: web.Request) -> web.Response:
        return web.json_response(ERROR, status=400)

    async with serve(routes(("GET", "/v1/models", fail))) as url:
        async with make_client(
            "ours",
            url,
            api_key="sk-abc",
            organization="org-1",
            default_headers={"X-Api-Key": "k2", "X-Trace": "t"},
        ) as client:
            with pytest.raises(openai_async.BadRequestError) as info:
                await client.models.list()
    headers = info.value.request.headers  # type: ignore[union-attr]
    assert headers["Authorization"] == "Bearer ***" and headers["X-Api-Key"] == "***"
    assert headers["X-Trace"] == "t" and headers["OpenAI-Organization"] == "org-1"
