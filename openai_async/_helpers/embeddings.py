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
from typing import TYPE_CHECKING, Any, Literal

from .._core.types import UNSET, RequestOptions, Unpack, UnsetType
from ..types.embeddings import CreateEmbeddingResponse

if TYPE_CHECKING:
    from .._client import AsyncOpenAI
    from .._core.response import RawResponse

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

    async def create(
        self,
        *,
        input: str | list[str] | list[int] | list[list[int]],
        model: str,
        encoding_format: Literal["float", "base64"] | UnsetType = UNSET,
        dimensions: int | UnsetType = UNSET,
        user: str | UnsetType = UNSET,
        **options: Unpack[RequestOptions],
    ) -> CreateEmbeddingResponse:
        """Creates an embedding vector representing the input text. See https://platform.openai.com/docs/api-reference/embeddings

        Args:
            input: the text (or token ids) to embed: a string, a list of strings, or lists of token ids.
            model: the model id, e.g. ``"text-embedding-3-small"``.
            encoding_format: left out, the request asks for ``"base64"`` and each ``embedding`` is returned as a
                ``list[float]`` (decoded in C; the same values as float JSON). ``"float"`` or ``"base64"`` are
                sent as given and the answer returned as it came (``"base64"``: the base64 strings).
            dimensions: the number of dimensions of the vectors (``text-embedding-3`` models and later).
            user: an id of your end user.
        """
        body: dict[str, Any] = {
            "input": input,
            "model": model,
            "encoding_format": "base64" if encoding_format is UNSET else encoding_format,
        }
        if dimensions is not UNSET:
            body["dimensions"] = dimensions
        if user is not UNSET:
            body["user"] = user
        result = await self._client._request(
            "POST", "/embeddings", body=body, cast=CreateEmbeddingResponse, options=options)
        if encoding_format is UNSET:
            raw: RawResponse[CreateEmbeddingResponse] | CreateEmbeddingResponse = result
            decode_base64_embeddings(raw.parse() if not isinstance(raw, CreateEmbeddingResponse) else raw)
        return result  # type: ignore[no-any-return]
