"""``multipart/form-data`` bodies, rebuilt for every attempt so that a retry sends the same bytes.

Files given as paths are opened per attempt and streamed from disk by aiohttp (never read into memory); open
file objects are rewound to where they stood at the first attempt, and one that cannot be rewound (a pipe) is
read once and its bytes sent again.
"""

from __future__ import annotations

import io
import os
from collections.abc import Mapping
from typing import IO, Any

import aiohttp

from .types import UNSET

__all__ = ["MultipartBody"]


class MultipartBody:
    """Strictly private: the fields of a multipart request, turned into a fresh FormData per attempt."""

    __slots__ = ("_fields", "_opened", "_positions")

    def __init__(self, fields: Mapping[str, Any], file_fields: tuple[str, ...] = ()) -> None:
        self._fields = [(name, value) for name, value in fields.items() if value is not UNSET]
        self._opened: list[IO[bytes]] = []
        # Per borrowed file: where it stood at the first attempt, or (not seekable) its bytes, read once.
        self._positions: dict[int, int | bytes] = {}
        for name in file_fields:
            value = fields.get(name, UNSET)
            for item in value if isinstance(value, list) else (value,):
                _check_file(name, item)

    def form(self) -> aiohttp.FormData:
        """Build the FormData for one attempt (close the previous attempt's files first)."""
        self.close()
        # Multipart even when no file is among the fields: the API refuses a urlencoded form (415).
        form = aiohttp.FormData(quote_fields=False, default_to_multipart=True)
        for name, value in self._fields:
            self._add(form, name, value)
        return form

    def close(self) -> None:
        """Close the files this body opened itself."""
        for f in self._opened:
            f.close()
        self._opened.clear()

    def _add(self, form: aiohttp.FormData, name: str, value: Any) -> None:
        if value is None or value is UNSET:
            return
        if isinstance(value, tuple):
            filename, content, *rest = value
            self._add_file(form, name, content, filename, rest[0] if rest else None)
        elif isinstance(value, (bytes, bytearray, memoryview, os.PathLike, io.IOBase)) or hasattr(
            value, "read"
        ):
            self._add_file(form, name, value, None, None)
        elif isinstance(value, Mapping):
            for key, item in value.items():
                self._add(form, f"{name}[{key}]", item)
        elif isinstance(value, (list, tuple)):
            for item in value:
                self._add(form, f"{name}[]", item)
        elif isinstance(value, bool):
            form.add_field(name, "true" if value else "false")
        else:
            form.add_field(name, str(value))

    def _add_file(
        self, form: aiohttp.FormData, name: str, content: Any, filename: str | None, content_type: str | None
    ) -> None:
        if isinstance(content, (str, os.PathLike)):
            path = os.fspath(content)
            f: Any = open(path, "rb")  # closed by close() after the attempt
            self._opened.append(f)
            filename = filename or os.path.basename(path)
        elif isinstance(content, (bytes, bytearray, memoryview)):
            f = bytes(content)
        else:
            key = id(content)
            kept = self._positions.get(key)
            if isinstance(kept, bytes):
                f = kept
            elif kept is not None:
                content.seek(kept)
                f = _Borrowed(content)
            elif _seekable(content):
                self._positions[key] = content.tell()
                f = _Borrowed(content)
            else:
                # A pipe or a socket cannot be rewound: read it once, so that a retry sends the same bytes.
                f = self._positions[key] = bytes(content.read())
            filename = filename or os.path.basename(str(getattr(content, "name", "") or "")) or None
        form.add_field(
            name, f, filename=filename or "upload", content_type=content_type or "application/octet-stream"
        )


def _seekable(content: Any) -> bool:
    """Whether ``content`` can be rewound (a pipe's file object has ``seek`` and ``tell``, which raise)."""
    try:
        return bool(content.seekable())
    except (AttributeError, OSError, ValueError):
        return False


def _check_file(name: str, value: Any) -> None:
    """A file parameter given text would be sent as the file's content: refuse it before anything is sent."""
    if isinstance(value, str):
        raise TypeError(
            f"`{name}` takes bytes, a path (pathlib.Path or another os.PathLike), an open binary file or a "
            f"(filename, content[, content_type]) tuple, not str: for the file at a path, pass "
            f"pathlib.Path(...); for text, pass it encoded (bytes)"
        )


class _Borrowed(io.RawIOBase):
    """The caller's open file, lent to aiohttp for one attempt: aiohttp closes this wrapper, not the file."""

    def __init__(self, inner: IO[bytes]) -> None:
        self._inner = inner

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        return self._inner.read(size)
