"""Credentials and paths under hostile input: who wins the Authorization header, what dot segments and odd path
parameters send (or refuse to send), and that no exception we raise or chain can show a key.

The user lines are the official SDK's; where both SDKs can run them, both do, against the same loopback server.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import traceback
from collections.abc import AsyncIterator, Iterator
from typing import Any

import anyio
import openai
import pytest
from aiohttp import web

import openai_async
from openai_async import APIConnectionError, APIStatusError, AsyncOpenAI, OpenAIError

from ._drip import SDKS, make_client
from ._server import serve

pytestmark = pytest.mark.anyio

KEY = "sk-env-secret-0123456789"
QUERY_SECRET = "q-secret-9876"
GATEWAY = "Bearer gw-token"
LIST = {"object": "list", "data": []}
MODEL = {"id": "m", "object": "model", "created": 0, "owned_by": "me"}
DELETED = {"id": "file_123", "object": "vector_store.file.deleted", "deleted": True}


class Recorder:
    """A loopback app answering every path; it records each request's method, raw path and headers."""

    def __init__(self, answer: dict[str, Any] | None = None) -> None:
        self.seen: list[tuple[str, str, dict[str, str]]] = []
        self.answer = answer or LIST

    def app(self) -> web.Application:
        @web.middleware
        async def record(request: web.Request, handler: Any) -> web.StreamResponse:
            self.seen.append((request.method, request.raw_path, dict(request.headers)))
            await request.read()
            return web.json_response(self.answer, headers={"x-request-id": "req_rec"})

        return web.Application(middlewares=[record])

    def auth(self) -> list[str | None]:
        """The Authorization header of each request (any case), None when absent."""
        return [
            next((v for k, v in h.items() if k.lower() == "authorization"), None) for _, _, h in self.seen
        ]


@contextlib.asynccontextmanager
async def recorded(answer: dict[str, Any] | None = None) -> AsyncIterator[tuple[Recorder, str]]:
    rec = Recorder(answer)
    async with serve(rec.app()) as url:
        yield rec, url


@pytest.mark.parametrize("sdk", SDKS)
@pytest.mark.parametrize("name", ["Authorization", "authorization", "AUTHORIZATION"])
async def test_gateway_token_in_default_headers_replaces_the_env_key(
    sdk: str, name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """default_headers={"Authorization": token} (any case) sends the token, never OPENAI_API_KEY."""
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    async with recorded() as (rec, url):
        async with make_client(sdk, url, api_key=None, default_headers={name: GATEWAY}) as client:
            await client.models.list()
    assert rec.auth() == [GATEWAY]
    assert all(KEY not in value for value in rec.seen[0][2].values())


@pytest.mark.parametrize("sdk", SDKS)
async def test_gateway_token_given_through_with_options(sdk: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """client.with_options(default_headers={"authorization": token}) sends the token instead of the key."""
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    async with recorded() as (rec, url):
        async with make_client(sdk, url, api_key=None) as client:
            await client.with_options(default_headers={"authorization": GATEWAY}).models.list()
            await client.models.list()
    assert rec.auth() == [GATEWAY, f"Bearer {KEY}"]


@pytest.mark.parametrize("sdk", SDKS)
async def test_gateway_token_wins_over_a_key_provider(sdk: str) -> None:
    """With an async api_key provider, a default Authorization header still wins."""

    async def provider() -> str:
        return KEY

    async with recorded() as (rec, url):
        async with make_client(
            sdk, url, api_key=provider, default_headers={"Authorization": GATEWAY}
        ) as client:
            await client.models.list()
    assert rec.auth() == [GATEWAY]


@pytest.mark.parametrize("sdk", SDKS)
@pytest.mark.parametrize("name", ["Authorization", "authorization"])
async def test_extra_headers_replace_the_key_whatever_the_case(sdk: str, name: str) -> None:
    """extra_headers={"authorization": token} replaces the key for that call only, under one header."""
    async with recorded() as (rec, url):
        async with make_client(sdk, url, api_key=KEY) as client:
            await client.models.list(extra_headers={name: GATEWAY})
            await client.models.list()
    assert rec.auth() == [GATEWAY, f"Bearer {KEY}"]
    assert [k.lower() for k in rec.seen[0][2]].count("authorization") == 1


@pytest.mark.parametrize("sdk", SDKS)
async def test_extra_headers_omit_removes_the_authorization_header(sdk: str) -> None:
    """extra_headers={"authorization": omit} sends no Authorization header at all."""
    omit = openai.omit if sdk == "official" else openai_async.omit
    async with recorded() as (rec, url):
        async with make_client(sdk, url, api_key=KEY) as client:
            await client.models.list(extra_headers={"authorization": omit})
    assert rec.auth() == [None]


async def test_extra_headers_none_removes_the_authorization_header() -> None:
    """extra_headers={"authorization": None} removes the header (the official SDK raises TypeError instead)."""
    async with recorded() as (rec, url):
        async with make_client("ours", url, api_key=KEY) as client:
            await client.models.list(extra_headers={"authorization": None})
            await client.with_options(default_headers={"AUTHORIZATION": None}).models.list()
    assert rec.auth() == [None, None]


@pytest.mark.parametrize("sdk", SDKS)
async def test_a_key_is_still_required_beside_an_authorization_header(sdk: str) -> None:
    """As the official SDK: no key and no OPENAI_API_KEY is refused even with a default Authorization header."""
    with pytest.raises((OpenAIError, openai.OpenAIError)):
        async with make_client(
            sdk, "http://127.0.0.1:9/v1", api_key=None, default_headers={"Authorization": GATEWAY}
        ):
            pass


@pytest.mark.parametrize("where", ["default_headers", "extra_headers"])
@pytest.mark.parametrize("value", ["a\r\nX-Injected: 1", "a\nb", "a\0b"])
async def test_header_injection_is_refused_before_sending(where: str, value: str) -> None:
    """A header value with CR, LF or NUL raises ValueError naming the header; nothing reaches the server."""
    async with recorded() as (rec, url):
        with pytest.raises(ValueError, match="X-Custom"):
            if where == "default_headers":
                AsyncOpenAI(api_key=KEY, base_url=url, default_headers={"X-Custom": value})
            else:
                async with make_client("ours", url) as client:
                    await client.models.list(extra_headers={"X-Custom": value})
    assert rec.seen == []


# -- path parameters -------------------------------------------------------------------------------------------

REFUSED_BY_BOTH = [".", "..", None, ""]
REFUSED_BY_US = ["%2e", "%2e%2e", "%2E%2e", ".%2E", "%2E.", "%252e%252e", "%2525252e%2525252e"]


@pytest.mark.parametrize("sdk", SDKS)
@pytest.mark.parametrize("value", REFUSED_BY_BOTH)
async def test_dot_segments_none_and_empty_are_refused_by_both(sdk: str, value: Any) -> None:
    """vector_stores.files.delete("file_123", vector_store_id="..") raises ValueError; nothing is sent (ours names
    the parameter; the official SDK names the path for dot segments)."""
    async with recorded(DELETED) as (rec, url), make_client(sdk, url) as client:
        with pytest.raises(
            ValueError, match="vector_store_id" if sdk == "ours" or not value else "dot-segment"
        ):
            await client.vector_stores.files.delete("file_123", vector_store_id=value)
    assert rec.seen == []


@pytest.mark.parametrize("value", REFUSED_BY_US)
async def test_percent_encoded_dot_segments_are_refused(value: str) -> None:
    """ "%2e%2e" and friends (also encoded up to four times over) are refused too, so no proxy can decode them into "..";
    the official SDK sends them escaped."""
    async with recorded(DELETED) as (rec, url), make_client("ours", url) as client:
        with pytest.raises(ValueError, match="thread_id"):
            await client.beta.threads.messages.delete("msg_1", thread_id=value)
        with pytest.raises(ValueError, match="message_id"):
            await client.beta.threads.messages.delete(value, thread_id="t")
    assert rec.seen == []


@pytest.mark.parametrize("sdk", SDKS)
async def test_a_numeric_path_parameter_is_sent_as_its_text(sdk: str) -> None:
    """models.retrieve(7) fetches /models/7: a path parameter that is not a str is sent as its text."""
    async with recorded(MODEL) as (rec, url), make_client(sdk, url) as client:
        model = await client.models.retrieve(7)  # type: ignore[arg-type]
    assert model.id == "m"
    assert [(method, path) for method, path, _ in rec.seen] == [("GET", "/v1/models/7")]


async def test_an_empty_header_name_is_refused_before_sending() -> None:
    """extra_headers={"": "x"} raises TypeError saying header names must be non-empty strings; nothing is sent."""
    async with recorded() as (rec, url), make_client("ours", url) as client:
        with pytest.raises(TypeError, match="header names must be non-empty strings"):
            await client.models.list(extra_headers={"": "x"})
    assert rec.seen == []


async def test_models_retrieve_none_is_refused() -> None:
    """models.retrieve(None) raises ValueError naming `model` instead of fetching /models/None."""
    async with recorded(MODEL) as (rec, url), make_client("ours", url) as client:
        with pytest.raises(ValueError, match="`model`"):
            await client.models.retrieve(None)  # type: ignore[arg-type]
    assert rec.seen == []


@pytest.mark.parametrize(
    "value", ["a/b", "a/../b", "../x", "a?b#c", "a\r\nX-Injected: 1", " ", "é/ü", "a%2Fb"]
)
async def test_odd_path_parameters_stay_one_escaped_segment(value: str) -> None:
    """Slashes, ?, #, CRLF, spaces and non-ASCII reach the server escaped inside the one segment, as with
    the official SDK."""
    paths = {}
    for sdk in SDKS:
        async with recorded(DELETED) as (rec, url), make_client(sdk, url) as client:
            await client.vector_stores.files.delete("file_123", vector_store_id=value)
        assert len(rec.seen) == 1 and "X-Injected" not in rec.seen[0][2]
        paths[sdk] = rec.seen[0][1]
    assert paths["ours"] == paths["official"]
    assert paths["ours"].startswith("/v1/vector_stores/") and paths["ours"].endswith("/files/file_123")
    assert paths["ours"].count("/") == 5


async def test_a_huge_path_parameter_fails_cleanly() -> None:
    """A 100 kB id gives the server's 4xx as an APIStatusError (or a connection error), promptly, no hang."""
    async with recorded(MODEL) as (_rec, url), make_client("ours", url) as client:
        with anyio.fail_after(10), pytest.raises((APIStatusError, APIConnectionError)):
            await client.models.retrieve("x" * 100_000)


# -- secrets in errors -----------------------------------------------------------------------------------------

BAD_HEADS = {
    "bad status line": b"HTTP/1.1 abc OK\r\n\r\n",
    "bad header line": b"HTTP/1.1 200 OK\r\nBad Header Line\r\n\r\n",
    "header over 256 KiB": b"HTTP/1.1 200 OK\r\nX-Big: " + b"a" * 300_000 + b"\r\n\r\n",
}


@contextlib.asynccontextmanager
async def raw_server(head: bytes) -> AsyncIterator[str]:
    """A loopback server that answers every request with ``head`` and closes."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(Exception):
            await reader.readuntil(b"\r\n\r\n")
            writer.write(head)
            await writer.drain()
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    try:
        yield f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}/v1"
    finally:
        server.close()


def _reachable(root: BaseException) -> Iterator[object]:
    """Every object reachable from ``root`` through causes, contexts, args and attributes (bounded walk)."""
    seen: set[int] = set()
    todo: list[tuple[object, int]] = [(root, 0)]
    while todo:
        obj, depth = todo.pop()
        if id(obj) in seen or depth > 6:
            continue
        seen.add(id(obj))
        yield obj
        children: list[object] = []
        if isinstance(obj, BaseException):
            children += [obj.__cause__, obj.__context__, *obj.args]
        if isinstance(obj, (list, tuple, set, frozenset)):
            children += list(obj)
        elif isinstance(obj, dict):
            children += [*obj.keys(), *obj.values()]
        elif hasattr(obj, "items") and callable(obj.items) and not isinstance(obj, type):
            with contextlib.suppress(Exception):
                children += [v for kv in obj.items() for v in kv]
        if not isinstance(obj, (str, bytes, int, float, type)) and obj is not None:
            with contextlib.suppress(TypeError):
                children += list(vars(obj).values())
            for slot in getattr(type(obj), "__slots__", ()):
                with contextlib.suppress(Exception):
                    children.append(getattr(obj, slot))
            for name in ("request_info", "request", "response", "headers", "history", "url", "real_url"):
                with contextlib.suppress(Exception):
                    children.append(getattr(obj, name))
        todo += [(c, depth + 1) for c in children if c is not None]


def assert_no_secret(err: BaseException, *secrets: str, in_locals: tuple[str, ...] = (KEY,)) -> None:
    """No secret in any reachable object, nor in the printed traceback; ``in_locals`` are also looked for in a
    traceback printed with every frame's locals (the query secret can show there in aiohttp's response repr)."""
    for obj in _reachable(err):
        for text in (repr(obj), str(obj)):
            for secret in secrets:
                assert secret not in text, f"{secret!r} reachable via {type(obj).__name__}: {text[:300]}"
    text = "".join(traceback.format_exception(err))
    assert not [s for s in secrets if s in text]
    text = "".join(traceback.TracebackException.from_exception(err, capture_locals=True).format())
    assert not [s for s in in_locals if s in text]


@pytest.mark.parametrize("head", list(BAD_HEADS), ids=list(BAD_HEADS))
async def test_a_malformed_response_head_exposes_no_credential(
    head: str, caplog: pytest.LogCaptureFixture
) -> None:
    """A bad status line, bad header line or an over-long header: the error, its chained aiohttp causes,
    their args, reprs, attributes, tracebacks with locals and logger.error("%r", exc.__cause__) hold no key."""
    async with raw_server(BAD_HEADS[head]) as url:
        async with make_client(
            "ours",
            url,
            api_key=KEY,
            default_query={"key": QUERY_SECRET},
            default_headers={"X-Gateway-Key": "gw-secret"},
        ) as client:
            with pytest.raises(APIConnectionError) as info:
                await client.models.list()
    err = info.value
    assert err.__cause__ is not None
    assert_no_secret(err, KEY, QUERY_SECRET, "gw-secret", in_locals=(KEY, QUERY_SECRET, "gw-secret"))
    with caplog.at_level(logging.ERROR):
        logging.getLogger("user").error("%r", err.__cause__)
        logging.getLogger("user").exception("failed", exc_info=err)
    assert KEY not in caplog.text and QUERY_SECRET not in caplog.text
    assert err.request is not None and err.request.headers["Authorization"] == "Bearer ***"
    assert err.request.url.endswith("/v1/models?key=***")


async def test_status_and_connection_errors_expose_no_credential() -> None:
    """A 401 and a refused connection: the request they carry has the key and default_query values masked."""

    async def unauthorized(request: web.Request) -> web.Response:
        return web.json_response(
            {
                "error": {
                    "message": "bad key",
                    "type": "invalid_request_error",
                    "code": "invalid_api_key",
                    "param": None,
                }
            },
            status=401,
        )

    app = web.Application()
    app.router.add_get("/v1/models", unauthorized)
    async with (
        serve(app) as url,
        make_client("ours", url, default_query={"key": QUERY_SECRET}, api_key=KEY) as client,
    ):
        with pytest.raises(openai_async.AuthenticationError) as status:
            await client.models.list(extra_query={"limit": 5})
    assert_no_secret(status.value, KEY, QUERY_SECRET)
    assert "limit=5" in status.value.request.url  # type: ignore[union-attr]
    async with make_client(
        "ours", "http://127.0.0.1:9/v1", api_key=KEY, default_query={"key": QUERY_SECRET}
    ) as c:
        with pytest.raises(APIConnectionError) as refused:
            await c.models.list()
    assert_no_secret(refused.value, KEY, QUERY_SECRET)


@pytest.mark.parametrize("url", ["http://user:pass@127.0.0.1:9/v1", "https://:tok@example.invalid/v1"])
async def test_user_info_in_base_url_is_refused(url: str) -> None:
    """base_url with user:password@ is refused at construction (aiohttp could not send it beside the key), and
    the message does not repeat the password."""
    with pytest.raises(ValueError, match="user info") as info:
        AsyncOpenAI(api_key=KEY, base_url=url)
    assert "pass" not in str(info.value).replace("password", "") and "tok" not in str(info.value)


async def test_reprs_of_kept_headers_are_masked() -> None:
    """repr(client), err.request and the per-call header dicts never show the key."""
    client = AsyncOpenAI(api_key=KEY, base_url="http://127.0.0.1:9/v1", max_retries=0)
    async with client:
        with pytest.raises(APIConnectionError) as info:
            await client.models.list()
    assert KEY not in repr(client)
    assert KEY not in repr(info.value.request) and KEY not in repr(info.value.request.headers)  # type: ignore[union-attr]


@pytest.mark.parametrize("sdk", SDKS)
async def test_azure_api_key_header_can_be_replaced_by_default_headers(sdk: str) -> None:
    """AsyncAzureOpenAI(default_headers={"API-KEY": gateway}) sends the gateway value as the one api-key header
    (the official SDK sends the key there: its Azure client puts api-key above default_headers)."""
    module: Any = openai if sdk == "official" else openai_async
    async with recorded() as (rec, url):
        client = module.AsyncAzureOpenAI(
            api_key=KEY,
            api_version="2024-10-21",
            azure_endpoint=url[: -len("/v1")],
            default_headers={"API-KEY": "gw-key"},
            max_retries=0,
        )
        async with client:
            await client.models.list()
    keys = [v for k, v in rec.seen[0][2].items() if k.lower() == "api-key"]
    assert keys == (["gw-key"] if sdk == "ours" else [KEY]) and rec.seen[0][1].startswith(
        "/openai/models?api-version="
    )


async def test_a_huge_header_value_fails_cleanly_without_the_key() -> None:
    """A 100 kB header value gives the server's refusal as an error, promptly, and the error shows no key."""
    async with recorded() as (_rec, url), make_client("ours", url, api_key=KEY) as client:
        with anyio.fail_after(10), pytest.raises((APIStatusError, APIConnectionError)) as info:
            await client.models.list(extra_headers={"X-Big": "a" * 100_000})
    assert_no_secret(info.value, KEY)
