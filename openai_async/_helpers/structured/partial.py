"""``PartialJSON``: the JSON received so far while it streams, parsed leniently (dicts and lists)."""

from __future__ import annotations

import re
from typing import Any

import msgspec

__all__ = ["PartialJSON"]

_WS = re.compile(r"[ \t\n\r]*")
_STRING_BODY = re.compile(r'(?:[^"\\]|\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4}))*')
_SCALAR = re.compile(r"-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?|true|false|null")
_CLOSE = {"{": "}", "[": "]"}
_DELIMITERS = frozenset(" \t\n\r,]}")
# Object phases: 0 key or "}" expected, 2 ":" expected, 3 value expected, 4 "," or "}" expected.
# Array phases: 0 value or "]" expected, 4 "," or "]" expected.


class PartialJSON:
    """Incremental scanner of a JSON document that arrives in pieces; ``value(text)`` is the part received so far.

    Each character is scanned once (regexes skip string bodies in C), so feeding a whole stream is O(n). The
    value is built on request: the longest prefix that ends on a complete value (or inside a string value,
    which is kept as a partial string) is closed with the brackets still open and decoded by msgspec.
    """

    __slots__ = ("_closers", "_in_key", "_in_string", "_pos", "_safe", "_stack", "_str_pos", "_broken")

    def __init__(self) -> None:
        self._pos = 0
        self._stack: list[list[Any]] = []  # [bracket, phase]
        self._in_string = False
        self._in_key = False
        self._str_pos = 0
        self._safe = 0  # text[:_safe] + _closers is valid JSON (when _safe > 0)
        self._closers = ""
        self._broken = False

    def _mark_safe(self, pos: int) -> None:
        self._safe = pos
        self._closers = "".join(_CLOSE[b] for b, _ in reversed(self._stack))

    def _after_value(self, pos: int) -> None:
        if self._stack:
            top = self._stack[-1]
            top[1] = 4
            self._mark_safe(pos)
        else:
            self._mark_safe(pos)  # a complete top-level value

    def feed(self, text: str) -> None:
        """Scan ``text`` (the whole document so far; it only ever grows) from where the last call stopped."""
        pos = self._pos
        end = len(text)
        stack = self._stack
        while pos < end and not self._broken:
            if self._in_string:
                m = _STRING_BODY.match(text, pos)
                pos = m.end()  # type: ignore[union-attr]
                self._str_pos = pos
                if pos < end and text[pos] == '"':
                    pos += 1
                    self._in_string = False
                    if self._in_key:
                        self._in_key = False
                        stack[-1][1] = 2
                    else:
                        self._after_value(pos)
                    continue
                if pos < end and text[pos] != "\\":
                    self._broken = True  # a raw control character or similar: stop guessing
                break  # the string (or an escape) continues in a later piece
            pos = _WS.match(text, pos).end()  # type: ignore[union-attr]
            if pos >= end:
                break
            ch = text[pos]
            top = stack[-1] if stack else None
            phase = top[1] if top is not None else 3
            if ch in "{[":
                if phase not in (0, 3) or (top is not None and top[0] == "{" and phase == 0):
                    self._broken = True
                    break
                stack.append([ch, 0])
                pos += 1
                self._mark_safe(pos)
            elif ch in "}]":
                if top is None or _CLOSE[top[0]] != ch or phase not in (0, 4):
                    self._broken = True
                    break
                stack.pop()
                pos += 1
                self._after_value(pos)
            elif ch == ",":
                if top is None or phase != 4:
                    self._broken = True
                    break
                top[1] = 0 if top[0] == "{" else 3
                pos += 1
            elif ch == ":":
                if top is None or top[0] != "{" or phase != 2:
                    self._broken = True
                    break
                top[1] = 3
                pos += 1
            elif ch == '"':
                pos += 1
                self._in_string = True
                self._in_key = top is not None and top[0] == "{" and phase == 0
                self._str_pos = pos
            else:
                m = _SCALAR.match(text, pos)
                if m is None or m.end() >= end or text[m.end()] not in _DELIMITERS:
                    break  # not complete yet (a number may go on)
                pos = m.end()
                self._after_value(pos)
        self._pos = pos

    def value(self, text: str) -> Any:
        """The partial value of ``text`` (which must extend what was fed before), or None if nothing is complete."""
        self.feed(text)
        if self._in_string and not self._in_key and self._stack:
            closers = "".join(_CLOSE[b] for b, _ in reversed(self._stack))
            candidate = text[: self._str_pos] + '"' + closers
        elif self._safe:
            candidate = text[: self._safe] + self._closers
        else:
            return None
        try:
            return msgspec.json.decode(candidate)
        except msgspec.DecodeError:
            return None
