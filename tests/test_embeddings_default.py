"""``embeddings.create`` as the official SDK does it: base64 asked by default and decoded to the same floats,
an explicit ``encoding_format`` sent and returned as given. Both SDKs against one loopback server."""

from __future__ import annotations

import base64
import random
import struct
from typing import Any

import msgspec
import pytest
from aiohttp import web

from ._drip import SDKS, make_client
from ._server import routes, serve

pytestmark = pytest.mark.anyio

DIM = 64
_rng = random.Random(7)


def _f32(x: float) -> float:
    return float(struct.unpack("<f", struct.pack("<f", x))[0])


# float32 values, with the awkward ones: signed zero, the smallest normal, the largest, a rounded decimal.
VECTORS = [
    [_f32(_rng.uniform(-1, 1)) for _ in range(DIM - 4)] + [-0.0, _f32(1.2e-38), _f32(3.4e38), _f32(0.1)]
    for _ in range(3)
]


def _embedding(vector: list[float], fmt: str) -> Any:
    if fmt == "base64":
        return base64.b64encode(struct.pack(f"<{len(vector)}f", *vector)).decode()
    return vector


def _app(seen: list[Any]) -> web.Application:
    async def handler(request: web.Request) -> web.Response:
        body = msgspec.json.decode(await request.read())
        seen.append(body.get("encoding_format", "(left out)"))
        fmt = body.get("encoding_format", "float")
        data = [
            {"object": "embedding", "index": i, "embedding": _embedding(v, fmt)}
            for i, v in enumerate(VECTORS)
        ]
        payload = {
            "object": "list",
            "data": data,
            "model": body["model"],
            "usage": {"prompt_tokens": 3, "total_tokens": 3},
        }
        return web.Response(body=msgspec.json.encode(payload), content_type="application/json")

    return routes(("POST", "/v1/embeddings", handler))


async def _run(call: dict[str, Any], raw: bool = False) -> tuple[dict[str, Any], dict[str, list[Any]]]:
    results: dict[str, Any] = {}
    sent: dict[str, list[Any]] = {}
    for sdk in SDKS:
        sent[sdk] = []
        async with serve(_app(sent[sdk])) as url, make_client(sdk, url) as client:
            if raw:
                result = (await client.embeddings.with_raw_response.create(**call)).parse()
            else:
                result = await client.embeddings.create(**call)
        results[sdk] = [(e.index, e.object, e.embedding) for e in result.data]
    return results, sent


async def test_default_asks_base64_and_returns_the_official_floats() -> None:
    """Without encoding_format both SDKs ask for base64 and return the same list[float] (the float32 values)."""
    results, sent = await _run({"model": "text-embedding-3-small", "input": ["a", "b", "c"]})
    assert sent == {"official": ["base64"], "ours": ["base64"]}
    assert results["ours"] == results["official"]
    for i, ((index, obj, vector), expected) in enumerate(zip(results["ours"], VECTORS, strict=True)):
        assert (
            (index, obj) == (i, "embedding")
            and isinstance(vector, list)
            and all(type(x) is float for x in vector)
        )
        assert vector == expected and len(vector) == DIM
    assert str(results["ours"][0][2][-4]) == "-0.0"


async def test_default_through_with_raw_response_parse_is_decoded_too() -> None:
    """with_raw_response.create(...).parse() gives the decoded floats, as the official SDK's post-parser does."""
    results, _ = await _run({"model": "m", "input": "a"}, raw=True)
    assert results["ours"] == results["official"]
    assert results["ours"][0][2] == VECTORS[0]


@pytest.mark.parametrize("fmt", ["float", "base64"])
async def test_explicit_encoding_format_is_sent_and_returned_as_given(fmt: str) -> None:
    """encoding_format="float" gives the JSON lists, "base64" the strings: each SDK sends it and returns it as is."""
    results, sent = await _run({"model": "m", "input": "a", "encoding_format": fmt})
    assert sent == {"official": [fmt], "ours": [fmt]}
    assert results["ours"] == results["official"]
    first = results["ours"][0][2]
    assert first == (VECTORS[0] if fmt == "float" else _embedding(VECTORS[0], "base64"))


async def test_dimensions_and_user_reach_the_body() -> None:
    """dimensions and user are sent beside the default base64 format; the answer is still decoded."""
    bodies: list[Any] = []

    async def handler(request: web.Request) -> web.Response:
        bodies.append(msgspec.json.decode(await request.read()))
        data = [{"object": "embedding", "index": 0, "embedding": _embedding(VECTORS[0][:8], "base64")}]
        return web.json_response({"object": "list", "data": data, "model": "m"})

    async with serve(routes(("POST", "/v1/embeddings", handler))) as url, make_client("ours", url) as client:
        result = await client.embeddings.create(
            model="m", input=[1, 2, 3], dimensions=8, user="u-1", extra_body={"note": "x"}
        )
    assert bodies == [
        {
            "input": [1, 2, 3],
            "model": "m",
            "encoding_format": "base64",
            "dimensions": 8,
            "user": "u-1",
            "note": "x",
        }
    ]
    assert result.data[0].embedding == VECTORS[0][:8]
