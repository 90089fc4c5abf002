"""``client.embeddings.create``: asks for base64 by default and hands back lists of floats, as the official SDK.

Without ``encoding_format`` the request says ``"base64"`` (a quarter of the bytes of float JSON, and no float
parsing) and each vector is decoded in C: ``array.array("f", base64.b64decode(s)).tolist()``. The API sends
little-endian float32; the values are those the official SDK returns. An explicit ``encoding_format`` is sent as
given and its answer returned as it came (``"float"``: lists from the JSON; ``"base64"``: the strings).
"""

from __future__ import annotations

import sys
from array import array
from binascii import a2b_base64
from typing import TYPE_CHECKING, Any

from ..types.embeddings import CreateEmbeddingResponse
from .chat.resource import split_params

if TYPE_CHECKING:
    from .._client import AsyncOpenAI

__all__ = ["EmbeddingsHelpers", "decode_base64_embedding", "decode_base64_embeddings"]

_BIG_ENDIAN = sys.byteorder == "big"


def decode_base64_embedding(text: str) -> list[float]:
    """One base64 embedding (little-endian float32, as the API sends it) as a list of Python floats."""
    values = array("f", a2b_base64(text))
    if _BIG_ENDIAN:
        values.byteswap()
    return values.tolist()


def decode_base64_embeddings(response: CreateEmbeddingResponse) -> CreateEmbeddingResponse:
    """Replace, in place, each base64 ``embedding`` string of ``response`` by its list of floats; return it."""
    for item in response.data or ():
        vector = item.embedding
        if type(vector) is str:
            item.embedding = decode_base64_embedding(vector)
    return response


class EmbeddingsHelpers:
    """Hand-written ``client.embeddings.create`` (a mixin the generated ``Embeddings`` class inherits)."""

    _client: AsyncOpenAI

    async def _create(self, params: dict[str, Any]) -> CreateEmbeddingResponse:
        """Creates an embedding vector representing the input text. See https://platform.openai.com/docs/api-reference/embeddings

        Left out, ``encoding_format`` is sent as ``"base64"`` (as the official SDK does) and each ``embedding``
        comes back as a ``list[float]``, decoded in C: the values float JSON would give, at a quarter of the
        bytes. ``"float"`` or ``"base64"`` are sent as given and the answer returned as it came (``"base64"``:
        the base64 strings).
        """
        body, options = split_params(params)
        default = "encoding_format" not in body
        if default:
            body["encoding_format"] = "base64"
        result = await self._client._request(
            "POST", "/embeddings", body=body, cast=CreateEmbeddingResponse, options=options
        )
        if default:
            decode_base64_embeddings(
                result if isinstance(result, CreateEmbeddingResponse) else result.parse()
            )
        return result  # type: ignore[no-any-return]
