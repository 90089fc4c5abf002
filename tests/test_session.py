"""The send path on real sockets: headers, bodies, query, retries, timeouts, resets and error mapping."""

from __future__ import annotations

import asyncio
import gzip
import os
import pathlib

import msgspec
import pytest
from aiohttp import web

from openai_async import (
    APIConnectionError,
    APIResponseValidationError,
    APITimeoutError,
    AsyncOpenAI,
    BadRequestError,
    InternalServerError,
    NotFoundError,
    RateLimitError,
    ResponseTooLargeError,
    RetryPolicy,
    Timeout,
)
from openai_async._core.types import UNSET

from ._server import routes, serve

pytestmark = pytest.mark.anyio


def client_for(base_url: str, **kw: object) -> AsyncOpenAI:
    kw.setdefault("retry", RetryPolicy.instant())
    return AsyncOpenAI(api_key="sk-test-secret", base_url=base_url, **kw)  # type: ignore[arg-type]


async def test_json_call_sends_auth_headers_and_body() -> None:
    """A POST carries auth, org/project, JSON content type and an Idempotency-Key; UNSET fields are not sent."""
    seen: dict[str, object] = {}

    async def handler(request: web.Request) -> web.Response:
        seen.update(
            headers=dict(request.headers), body=await request.read(), query=list(request.query.items())
        )
        return web.json_response({"id": "x", "ok": True})

    class Body(msgspec.Struct, omit_defaults=True):
        model: str
        temperature: float | None | msgspec.UnsetType = UNSET

    async with serve(routes(("POST", "/v1/things", handler))) as url:
        async with client_for(url, organization="org-1", project="proj-1") as client:
            result = await client.post("/things", body=Body(model="m"), cast_to=dict)
    assert result == {"id": "x", "ok": True}
    headers = seen["headers"]
    assert isinstance(headers, dict)
    assert headers["Authorization"] == "Bearer sk-test-secret"
    assert headers["OpenAI-Organization"] == "org-1" and headers["OpenAI-Project"] == "proj-1"
    assert headers["Content-Type"] == "application/json"
    assert headers["Idempotency-Key"].startswith("openai-async-")
    assert seen["body"] == b'{"model":"m"}'


async def test_query_arrays_bools_and_extras() -> None:
    """Arrays go as name[]=, bools as true/false, UNSET/None dropped; extra_query/headers/body merge in."""
    seen: dict[str, object] = {}

    async def handler(request: web.Request) -> web.Response:
        seen.update(
            query=list(request.query.items()), headers=dict(request.headers), body=await request.json()
        )
        return web.json_response({})

    async with serve(routes(("POST", "/v1/q", handler))) as url:
        client = client_for(url, default_query={"api-version": "1"})
        await client.request(
            "POST",
            "/q",
            body={"a": 1},
            query={"include": ["x", "y"], "flag": True, "skip": UNSET, "none": None, "n": 3},
            extra_query={"more": "1"},
            extra_headers={"X-Extra": "yes", "User-Agent": None},
            extra_body={"b": 2},
        )
        await client.close()
    assert seen["query"] == [
        ("api-version", "1"),
        ("include[]", "x"),
        ("include[]", "y"),
        ("flag", "true"),
        ("n", "3"),
        ("more", "1"),
    ]
    headers = seen["headers"]
    assert isinstance(headers, dict)
    assert headers["X-Extra"] == "yes" and "User-Agent" not in headers
    assert seen["body"] == {"a": 1, "b": 2}


async def test_async_key_provider_is_called_per_request() -> None:
    """api_key may be an async callable, asked before every request (rotating tokens)."""
    tokens = iter(["tok-1", "tok-2"])
    seen: list[str] = []

    async def provider() -> str:
        return next(tokens)

    async def handler(request: web.Request) -> web.Response:
        seen.append(request.headers["Authorization"])
        return web.json_response({})

    async with serve(routes(("GET", "/v1/m", handler))) as url:
        async with AsyncOpenAI(api_key=provider, base_url=url) as client:
            await client.get("/m")
            await client.get("/m")
    assert seen == ["Bearer tok-1", "Bearer tok-2"]


async def test_retries_429_then_succeeds_with_one_idempotency_key() -> None:
    """429 with Retry-After and 5xx are retried; every attempt reuses the same Idempotency-Key."""
    keys: list[str] = []
    answers = [
        web.json_response({"error": {"message": "slow down"}}, status=429, headers={"retry-after-ms": "5"}),
        web.json_response({"error": {"message": "boom"}}, status=503),
        web.json_response({"ok": 1}),
    ]

    async def handler(request: web.Request) -> web.Response:
        keys.append(request.headers["Idempotency-Key"])
        return answers[len(keys) - 1]

    async with serve(routes(("POST", "/v1/r", handler))) as url:
        async with client_for(url, retry=RetryPolicy(initial_wait=0.001, max_wait=0.001)) as client:
            assert await client.post("/r", body={}) == {"ok": 1}
    assert len(keys) == 3 and len(set(keys)) == 1


async def test_retry_after_hint_is_honoured() -> None:
    """The wait before a retry follows retry-after-ms."""
    times: list[float] = []
    loop = asyncio.get_running_loop()

    async def handler(request: web.Request) -> web.Response:
        times.append(loop.time())
        if len(times) == 1:
            return web.json_response({}, status=429, headers={"retry-after-ms": "200"})
        return web.json_response({})

    async with serve(routes(("GET", "/v1/r", handler))) as url:
        async with AsyncOpenAI(api_key="k", base_url=url) as client:
            await client.get("/r")
    assert 0.19 <= times[1] - times[0] < 1.0


async def test_errors_after_retries_raise_the_last_error_with_fields() -> None:
    """When retries run out the last error is raised itself, with status, request id, code, param, type."""
    calls = 0

    async def handler(request: web.Request) -> web.Response:
        nonlocal calls
        calls += 1
        body = {
            "error": {
                "message": "Rate limit reached",
                "type": "requests",
                "code": "rate_limit_exceeded",
                "param": None,
            }
        }
        return web.json_response(body, status=429, headers={"x-request-id": f"req_{calls}"})

    async with serve(routes(("GET", "/v1/r", handler))) as url:
        async with client_for(url, max_retries=3) as client:
            with pytest.raises(RateLimitError) as info:
                await client.get("/r")
    err = info.value
    assert calls == 4
    assert err.status_code == 429 and err.request_id == "req_4"
    assert err.code == "rate_limit_exceeded" and err.type == "requests" and err.param is None
    assert "Rate limit reached" in str(err) and "req_4" in str(err)
    assert "sk-test-secret" not in str(err) and "sk-test-secret" not in repr(err.headers)


async def test_insufficient_quota_and_should_retry_false_are_not_retried() -> None:
    """A 429 insufficient_quota, and any answer with x-should-retry: false, fail at once."""
    calls = 0

    async def quota(request: web.Request) -> web.Response:
        nonlocal calls
        calls += 1
        return web.json_response({"error": {"message": "quota", "code": "insufficient_quota"}}, status=429)

    async def no_retry(request: web.Request) -> web.Response:
        nonlocal calls
        calls += 1
        return web.json_response({"error": {"message": "x"}}, status=500, headers={"x-should-retry": "false"})

    async with serve(routes(("GET", "/v1/q", quota), ("GET", "/v1/n", no_retry))) as url:
        async with client_for(url) as client:
            with pytest.raises(RateLimitError):
                await client.get("/q")
            assert calls == 1
            with pytest.raises(InternalServerError):
                await client.get("/n")
            assert calls == 2


async def test_non_json_error_body_and_malformed_success() -> None:
    """An HTML 404 gives the official message and the page as body and response text; malformed 200 JSON raises."""

    async def html(request: web.Request) -> web.Response:
        return web.Response(status=404, text="<html><body>Not Found</body></html>", content_type="text/html")

    async def broken(request: web.Request) -> web.Response:
        return web.Response(status=200, body=b'{"id": "x", ', content_type="application/json")

    async with serve(routes(("GET", "/v1/h", html), ("GET", "/v1/b", broken))) as url:
        async with client_for(url) as client:
            with pytest.raises(NotFoundError) as info:
                await client.get("/h")
            assert (
                info.value.message == "Error code: 404"
                and info.value.body == "<html><body>Not Found</body></html>"
            )
            assert info.value.response.text == "<html><body>Not Found</body></html>"
            with pytest.raises(APIResponseValidationError):
                await client.get("/b")


async def test_400_is_not_retried_and_carries_param() -> None:
    """A 400 raises BadRequestError at once with the param named by the API."""
    calls = 0

    async def handler(request: web.Request) -> web.Response:
        nonlocal calls
        calls += 1
        return web.json_response(
            {
                "error": {
                    "message": "bad temperature",
                    "param": "temperature",
                    "type": "invalid_request_error",
                    "code": None,
                }
            },
            status=400,
        )

    async with serve(routes(("POST", "/v1/c", handler))) as url:
        async with client_for(url) as client:
            with pytest.raises(BadRequestError) as info:
                await client.post("/c", body={"temperature": 9})
    assert calls == 1 and info.value.param == "temperature"


async def test_reset_before_and_during_body_is_retried() -> None:
    """A connection dropped before the answer, or in the middle of the body, is retried and then succeeds."""
    calls = 0

    async def handler(request: web.Request) -> web.StreamResponse:
        nonlocal calls
        calls += 1
        if calls == 1:  # reset before any byte of the answer
            assert request.transport is not None
            request.transport.abort()
            return web.Response()
        if calls == 2:  # a promised body cut half way
            resp = web.StreamResponse(headers={"Content-Length": "100", "Content-Type": "application/json"})
            await resp.prepare(request)
            await resp.write(b'{"partial": ')
            assert request.transport is not None
            request.transport.abort()
            return resp
        return web.json_response({"ok": True})

    async with serve(routes(("GET", "/v1/x", handler))) as url:
        async with client_for(url) as client:
            assert await client.get("/x") == {"ok": True}
    assert calls == 3


async def test_connection_refused_raises_connection_error() -> None:
    """Nothing listening: APIConnectionError after the retries."""
    import socket

    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    async with client_for(f"http://127.0.0.1:{port}/v1", max_retries=1) as client:
        with pytest.raises(APIConnectionError) as info:
            await client.get("/x")
    assert not isinstance(info.value, APITimeoutError)


async def test_total_timeout_per_call() -> None:
    """A server slower than the per-call timeout raises APITimeoutError (retried, then given up)."""
    calls = 0

    async def slow(request: web.Request) -> web.Response:
        nonlocal calls
        calls += 1
        await asyncio.sleep(2)
        return web.json_response({})

    async with serve(routes(("GET", "/v1/s", slow))) as url:
        async with client_for(url, max_retries=1) as client:
            with pytest.raises(APITimeoutError):
                await client.get("/s", timeout=0.2)
    assert calls == 2


async def test_bytes_flushed_one_at_a_time() -> None:
    """A body trickled byte by byte decodes exactly."""
    payload = b'{"id": "chatcmpl-1", "choices": [{"index": 0, "message": {"content": "h\xc3\xa9llo"}}]}'

    async def trickle(request: web.Request) -> web.StreamResponse:
        resp = web.StreamResponse(headers={"Content-Type": "application/json"})
        resp.enable_chunked_encoding()
        await resp.prepare(request)
        for i in range(len(payload)):
            await resp.write(payload[i : i + 1])
        await resp.write_eof()
        return resp

    async with serve(routes(("GET", "/v1/t", trickle))) as url:
        async with client_for(url) as client:
            result = await client.get("/t")
    assert result["choices"][0]["message"]["content"] == "héllo"


async def test_raw_response_gives_status_headers_and_rate_limits() -> None:
    """with_raw_response-style access: status, headers, request id and parsed rate-limit headers."""

    async def handler(request: web.Request) -> web.Response:
        return web.json_response(
            {"ok": 1},
            headers={
                "x-request-id": "req_9",
                "x-ratelimit-limit-requests": "500",
                "x-ratelimit-remaining-requests": "499",
                "x-ratelimit-reset-requests": "120ms",
                "x-ratelimit-limit-tokens": "30000",
                "x-ratelimit-remaining-tokens": "29000",
                "x-ratelimit-reset-tokens": "1m2.5s",
            },
        )

    async with serve(routes(("GET", "/v1/r", handler))) as url:
        async with client_for(url) as client:
            raw = await client._raw_view().get("/r")
    assert raw.status_code == 200 and raw.request_id == "req_9" and raw.parse() == {"ok": 1}
    limits = raw.rate_limits
    assert limits.limit_requests == 500 and limits.remaining_requests == 499
    assert limits.reset_requests == pytest.approx(0.12) and limits.reset_tokens == pytest.approx(62.5)
    assert limits.remaining_tokens == 29000


async def test_multipart_streams_files_and_replays_on_retry(tmp_path: os.PathLike[str]) -> None:
    """A file given by path is streamed as multipart and sent again, whole, on a retry."""
    path = os.path.join(os.fspath(tmp_path), "train.jsonl")
    data = os.urandom(300_000)
    with open(path, "wb") as f:
        f.write(data)
    received: list[tuple[str, bytes, str | None]] = []
    calls = 0

    async def upload(request: web.Request) -> web.Response:
        nonlocal calls
        calls += 1
        reader = await request.multipart()
        parts = []
        async for part in reader:
            parts.append((part.name, await part.read(), part.filename))  # type: ignore[union-attr]
        received[:] = parts
        if calls == 1:
            return web.json_response({"error": {"message": "try again"}}, status=500)
        return web.json_response({"id": "file-1"})

    with open(path, "rb") as handle:
        async with serve(routes(("POST", "/v1/files", upload))) as url:
            async with client_for(url) as client:
                result = await client._request(
                    "POST",
                    "/files",
                    multipart={
                        "purpose": "fine-tune",
                        "file": pathlib.Path(path),
                        "other": handle,
                        "skip": UNSET,
                        "tags": ["a", "b"],
                    },
                    cast=dict,
                    options={},
                )
    assert result == {"id": "file-1"} and calls == 2
    by_name = {name: (body, filename) for name, body, filename in received}
    assert by_name["purpose"][0] == b"fine-tune"
    assert by_name["file"] == (data, "train.jsonl")
    assert by_name["other"][0] == data  # rewound for the second attempt
    assert [n for n, _, _ in received if n == "tags[]"] == ["tags[]", "tags[]"]
    assert "skip" not in by_name


async def test_binary_response_streams_to_file(tmp_path: os.PathLike[str]) -> None:
    """A binary body arrives read: it can be written to a file, blocking or not, and read whole."""
    from openai_async import BinaryResponse

    audio = os.urandom(200_000)

    async def speech(request: web.Request) -> web.Response:
        return web.Response(body=audio, content_type="audio/mpeg")

    async with serve(routes(("POST", "/v1/audio/speech", speech))) as url:
        async with client_for(url) as client:
            resp = await client._request(
                "POST", "/audio/speech", body={"input": "hi"}, cast=BinaryResponse, options={}
            )
            out = os.path.join(os.fspath(tmp_path), "speech.mp3")
            resp.write_to_file(out)
            out2 = os.path.join(os.fspath(tmp_path), "speech2.mp3")
            await resp.astream_to_file(out2, chunk_size=4096)
            resp2 = await client._request(
                "POST", "/audio/speech", body={"input": "hi"}, cast=BinaryResponse, options={}
            )
            assert resp2.read() == audio and resp2.content == audio
    for path in (out, out2):
        with open(path, "rb") as f:
            assert f.read() == audio


async def test_timeout_forms_apply_per_call() -> None:
    """A Timeout with only a read limit also stops a server that never answers."""

    async def never(request: web.Request) -> web.Response:
        await asyncio.sleep(5)
        return web.json_response({})

    async with serve(routes(("GET", "/v1/n", never))) as url:
        async with client_for(url, max_retries=0) as client:
            with pytest.raises(APITimeoutError):
                await client.get("/n", timeout=Timeout(total=None, connect=1, read=0.2))


async def test_multipart_without_files_is_still_multipart() -> None:
    """A multipart operation called with plain fields only still sends multipart/form-data, never urlencoded."""
    seen: list[str] = []

    async def handler(request: web.Request) -> web.Response:
        seen.append(request.headers["Content-Type"])
        return web.json_response({})

    async with serve(routes(("POST", "/v1/videos", handler))) as url, client_for(url) as client:
        await client._request(
            "POST", "/videos", multipart={"prompt": "a cat", "seconds": 4}, cast=dict, options={}
        )
    assert seen[0].startswith("multipart/form-data")


async def test_idempotency_keys_differ_between_calls() -> None:
    """Each logical POST gets its own Idempotency-Key."""
    keys: list[str] = []

    async def handler(request: web.Request) -> web.Response:
        keys.append(request.headers["Idempotency-Key"])
        return web.json_response({})

    async with serve(routes(("POST", "/v1/k", handler))) as url, client_for(url) as client:
        await client.post("/k", body={})
        await client.post("/k", body={})
        await client.post("/k", body={}, idempotency_key="mine")
    assert keys[0] != keys[1] and keys[2] == "mine"


async def test_same_origin_redirect_is_followed_with_the_key() -> None:
    """A 307 to another path on the same origin is followed: same method, body and Authorization."""
    seen: list[tuple[str, str | None, bytes]] = []

    async def moved(request: web.Request) -> web.Response:
        seen.append((request.path, request.headers.get("Authorization"), await request.read()))
        raise web.HTTPTemporaryRedirect("/v1/new?x=1")

    async def new(request: web.Request) -> web.Response:
        seen.append((request.path_qs, request.headers.get("Authorization"), await request.read()))
        return web.json_response({"ok": True})

    async with serve(routes(("POST", "/v1/old", moved), ("POST", "/v1/new", new))) as url:
        async with client_for(url) as client:
            assert await client.post("/old", body={"a": 1}) == {"ok": True}
    assert seen == [
        ("/v1/old", "Bearer sk-test-secret", b'{"a":1}'),
        ("/v1/new?x=1", "Bearer sk-test-secret", b'{"a":1}'),
    ]


async def test_cross_origin_redirect_never_carries_the_key() -> None:
    """A 302 to another origin (another port) is followed as a GET without Authorization; 303 likewise."""
    seen: list[dict[str, str]] = []

    async def elsewhere(request: web.Request) -> web.Response:
        seen.append({"method": request.method, **request.headers})
        return web.json_response({"object": "list", "data": []})

    async with serve(routes(("GET", "/v1/models", elsewhere), ("POST", "/v1/models", elsewhere))) as other:

        async def moved(request: web.Request) -> web.Response:
            raise web.HTTPFound(other + "/models")

        async with serve(routes(("GET", "/v1/models", moved), ("POST", "/v1/go", moved))) as url:
            async with client_for(url) as client:
                assert (await client.models.list()).data == []
                assert await client.post("/go", body={"a": 1}) == {"object": "list", "data": []}
    assert [s["method"] for s in seen] == ["GET", "GET"]
    assert not [s for s in seen if "sk-test-secret" in str(s) or "Authorization" in s]


async def test_too_many_redirects_name_the_location() -> None:
    """A redirect loop ends with ``APIConnectionError`` naming where it went."""

    async def loop(request: web.Request) -> web.Response:
        raise web.HTTPFound("/v1/loop")

    async with serve(routes(("GET", "/v1/loop", loop))) as url, client_for(url) as client:
        with pytest.raises(APIConnectionError, match="/v1/loop"):
            await client.get("/loop")


async def test_body_size_limit_raises_a_typed_error_and_frees_the_connection() -> None:
    """A body beyond ``max_response_size`` (plain, chunked, or a gzip bomb) raises ``ResponseTooLargeError``; the
    client keeps working afterwards."""
    big = b'{"data":"' + b"x" * 300_000 + b'"}'
    bomb = gzip.compress(b" " * 5_000_000)

    async def plain(request: web.Request) -> web.Response:
        return web.Response(body=big, content_type="application/json")

    async def chunked(request: web.Request) -> web.StreamResponse:
        resp = web.StreamResponse(headers={"Content-Type": "application/json"})
        await resp.prepare(request)
        for i in range(0, len(big), 50_000):
            await resp.write(big[i : i + 50_000])
        return resp

    async def gzipped(request: web.Request) -> web.Response:
        return web.Response(
            body=bomb, headers={"Content-Type": "application/json", "Content-Encoding": "gzip"}
        )

    async def small(request: web.Request) -> web.Response:
        return web.json_response({"ok": True})

    app = routes(
        ("GET", "/v1/plain", plain),
        ("GET", "/v1/chunked", chunked),
        ("GET", "/v1/gzip", gzipped),
        ("GET", "/v1/small", small),
    )
    async with serve(app) as url, client_for(url, max_response_size=100_000) as client:
        for path in ("/plain", "/chunked", "/gzip"):
            with pytest.raises(ResponseTooLargeError, match="max_response_size=100000") as info:
                await client.get(path)
            assert info.value.status_code == 200 and info.value.limit == 100_000
        assert await client.get("/small") == {"ok": True}
    async with serve(app) as url, client_for(url, max_response_size=None) as client:
        assert len((await client.get("/plain"))["data"]) == 300_000


async def test_retry_after_beyond_the_cap_raises_at_once() -> None:
    """A 429 asking for 3600 s is raised at once (one request) with ``retry_after``, not retried early."""
    calls = 0

    async def busy(request: web.Request) -> web.Response:
        nonlocal calls
        calls += 1
        return web.json_response(
            {"error": {"message": "come back later"}}, status=429, headers={"Retry-After": "3600"}
        )

    async with serve(routes(("GET", "/v1/models", busy))) as url:
        async with AsyncOpenAI(api_key="sk-x", base_url=url) as client:
            with pytest.raises(RateLimitError) as info:
                await client.models.list()
    assert calls == 1
    assert info.value.retry_after == 3600.0


async def test_models_list_follows_has_more() -> None:
    """A ``models.list()`` answered with ``has_more``/``last_id`` follows the pages (``after=<last id>``)."""
    seen: list[str | None] = []

    async def models(request: web.Request) -> web.Response:
        after = request.query.get("after")
        seen.append(after)
        ids = ["m1", "m2"] if after is None else ["m3"]
        data = [{"id": i, "object": "model", "created": 0, "owned_by": "o"} for i in ids]
        return web.json_response(
            {"object": "list", "data": data, "has_more": after is None, "last_id": ids[-1]}
        )

    async with serve(routes(("GET", "/v1/models", models))) as url, client_for(url) as client:
        assert [m.id async for m in client.models.list()] == ["m1", "m2", "m3"]
    assert seen == [None, "m2"]
