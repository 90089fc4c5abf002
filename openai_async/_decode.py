"""Decoding entry points: one cached msgspec Decoder per type, and a lenient fallback.

The fast path is a plain ``msgspec.json.Decoder(T).decode``. When the live API drifts from the spec and the
strict decode raises ``msgspec.ValidationError``, the lenient path takes over (see ``_lenient``).
"""

from __future__ import annotations

from typing import Any, TypeVar

import msgspec

T = TypeVar("T")

_decoders: dict[Any, msgspec.json.Decoder[Any]] = {}
_any_decoder = msgspec.json.Decoder()


def decoder_for(type_: Any) -> msgspec.json.Decoder[Any]:
    """Return the cached JSON decoder for ``type_``."""
    dec = _decoders.get(type_)
    if dec is None:
        dec = _decoders[type_] = msgspec.json.Decoder(type_)
    return dec


def decode(data: bytes | bytearray | memoryview | str, type_: type[T] | Any) -> T:
    """Decode JSON ``data`` into ``type_``; never raises for schema drift, only for bytes that are not JSON."""
    dec = _decoders.get(type_)
    if dec is None:
        dec = decoder_for(type_)
    try:
        return dec.decode(data)  # type: ignore[no-any-return]
    except msgspec.ValidationError:
        return convert(_any_decoder.decode(data), type_)


def convert(obj: Any, type_: type[T] | Any) -> T:
    """Convert already-parsed JSON ``obj`` into ``type_`` with the same leniency as ``decode``."""
    try:
        return msgspec.convert(obj, type_)  # type: ignore[no-any-return]
    except msgspec.ValidationError:
        return _lenient(obj, type_)


def _lenient(obj: Any, type_: Any) -> Any:
    # Placeholder until the generated types land: hand back the raw JSON value.
    return obj
