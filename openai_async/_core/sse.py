"""Server-sent events decoder: bytes in, events out, no I/O.

Implements the "event stream interpretation" of the WHATWG HTML standard
(https://html.spec.whatwg.org/multipage/server-sent-events.html#event-stream-interpretation):

- lines end with CR, LF or CRLF; a CRLF split across two chunks is still one line end;
- one UTF-8 byte order mark at the very start of the stream is dropped;
- ``:`` starts a comment; ``name: value`` loses exactly one space after the colon; a line with no colon is a
  field with an empty value; unknown fields are ignored;
- ``data`` lines accumulate, joined by LF; an empty line dispatches the event, unless it had no ``data`` line;
- ``id`` containing NUL is ignored; ``retry`` counts only when it is all ASCII digits.

The decoder works on bytes until a line is complete, so multi-byte UTF-8 characters split across chunks need no
special care, and ``data`` stays as bytes for msgspec to decode directly.

It is tuned for what OpenAI sends: ``data: {...}\\n\\n`` (chat) and ``event: x\\ndata: {...}\\n\\n`` (Responses),
often several events per network chunk. A chunk is scanned with ``bytes`` methods (C loops), never byte by byte
in Python, and a partial line that keeps growing is only joined once its line end arrives.
"""

from __future__ import annotations

import re
from itertools import repeat
from operator import itemgetter
from typing import Any

import msgspec

from .errors import StreamEventTooLargeError

__all__ = ["MAX_EVENT_SIZE", "SSEDecoder", "ServerSentEvent"]

MAX_EVENT_SIZE = 16 * 1024 * 1024
"""The default cap on one line or event (bytes): past it ``feed``/``feed_runs`` raise ``StreamEventTooLargeError``
instead of buffering a line that never ends. Real events are a few KB; a whole Response object a few MB."""

_BOM = b"\xef\xbb\xbf"
_json_decode = msgspec.json.decode
# The common shapes, and the bytes each adds around its values. The fast paths check that the matches of a
# span add up to the span's length exactly, so the overheads below must stay what the patterns frame.
_DATA = b"data: "
_EVENT = b"event: "
_DATA_LEN = len(_DATA)
_EVENT_LEN = len(_EVENT)
_LF_DATA = b"\n" + _DATA  # a data line that is not the first line of a span
_DATA_FRAME = len(_DATA) + 2  # `data: X\n\n` is len(X) + 8
_EVENT_FRAME = len(_EVENT) + 1  # `event: E\n` is len(E) + 8
# `.` (anything but LF, no DOTALL) scans about twice as fast in `re` as the equivalent `[^\n]`.
_COMMON_EVENT = re.compile(b"(?:" + _EVENT + rb"(.*)\n)?" + _DATA + rb"(.*)\n\n")
_DATA_ONLY = re.compile(_DATA + rb"(.*)\n\n")
_NAMED_EVENT = re.compile(_EVENT + rb"(.*)\n" + _DATA + rb"(.*)\n\n")
_WINDOW = 32768  # bytes of named events matched at once (see _tiled_run)
# Decoded `event:` names (b"" -> None), shared by every stream: the API uses a few dozen.
_EVENT_NAMES: dict[bytes, str | None] = {b"": None}
_NO_NAME = object()
_data_value = itemgetter(slice(len(_DATA), None))  # b"data: X" -> b"X"
_event_value = itemgetter(slice(len(_EVENT), None))  # b"event: E" -> b"E"


class ServerSentEvent(msgspec.Struct, gc=False, repr_omit_defaults=True):
    """One dispatched event.

    Attributes:
        event: the ``event:`` field, or None when the event had none (the standard calls that type "message").
        data: the ``data`` lines joined with LF, as raw bytes.
        id: the last event ID at dispatch time: like ``EventSource.lastEventId`` it persists across events until
            an ``id:`` field changes it; None when the stream has not sent one yet.
        retry: the ``retry:`` value (milliseconds) given inside this event, else None.
    """

    # A msgspec Struct: slots, __eq__ and __repr__ for free, and ~3x cheaper to build than a Python __init__.
    # gc=False is safe: the fields only ever hold str, bytes, int or None.
    event: str | None
    data: bytes
    id: str | None = None
    retry: int | None = None

    def json(self) -> Any:
        """Decode ``data`` as JSON (msgspec, no schema)."""
        return _json_decode(self.data)

    @property
    def text(self) -> str:
        """``data`` decoded as UTF-8 (invalid bytes replaced, as the standard says)."""
        return self.data.decode("utf-8", "replace")


def _tiled_run(chunk: bytes, pos: int, cut: int) -> tuple[str | None | list[str | None], list[bytes]] | None:
    """The event names and payloads of ``chunk[pos:cut]`` (which ends with a blank line) when it is nothing but
    common-shape events, else None (the caller's slower loop takes over). The names come as one name when
    every event has it (None: unnamed, as in chat), else as a list parallel to the payloads.

    ``findall`` does the work at C speed (``feed_runs`` tries ``_split_named`` first on a read of named events);
    its matches are accepted only when they tile the span exactly: each is ``_DATA_FRAME + len(X)`` bytes long,
    plus ``_EVENT_FRAME + len(E)`` with an ``event:`` line (an unmatched optional group and an empty ``event: ``
    both give b"" and are counted as no line, so the lengths cannot add up when an empty one is there).
    Unnamed events are matched with one group, which gives bare ``bytes``; named ones give a tuple each, so
    they are matched a window at a time. Both keep the garbage collector out of it: thousands of live
    tuples from one large network read would trigger full collections.
    """
    names: list[bytes] | None = None  # stays None while every event is unnamed (chat)
    payloads: list[bytes] = []
    start = pos
    while start < cut:
        end = cut if cut - start <= _WINDOW else chunk.rfind(b"\n\n", start, start + _WINDOW) + 2
        if end <= start + 1:  # one event longer than the window
            end = cut
        data_only = _DATA_ONLY.findall(chunk, start, end) if chunk.startswith(_DATA, start) else None
        if data_only and end - start == _DATA_FRAME * len(data_only) + sum(map(len, data_only)):
            if names is not None:
                names += repeat(b"", len(data_only))
            payloads += data_only
        else:
            # Named only (Responses) first: ~15% faster than the pattern that also takes unnamed events.
            named = chunk.startswith(_EVENT, start)
            for pattern in (_NAMED_EVENT, _COMMON_EVENT) if named else (_COMMON_EVENT,):
                found = pattern.findall(chunk, start, end)
                if not found:
                    continue
                some_names, some_payloads = zip(*found, strict=True)
                framing = (_DATA_FRAME + _EVENT_FRAME) * len(found) - _EVENT_FRAME * some_names.count(b"")
                size = framing + sum(map(len, some_names))
                if end - start == size + sum(map(len, some_payloads)):
                    break
            else:
                return None
            if names is None:
                names = [b""] * len(payloads)
            names += some_names
            payloads += some_payloads
        start = end
    if names is None:
        return None, payloads
    decoded = _decoded_names(names)
    return None if decoded is _NO_NAME else (decoded, payloads)  # type: ignore[return-value]


def _split_named(chunk: bytes, cut: int) -> tuple[str | None | list[str | None], list[bytes]] | None:
    """``_tiled_run`` for a read that opens with named events only (Responses) up to ``cut``, or None. No regex:
    ``split`` at LF (a C loop over the bytes, about twice as fast as matching them), then checks that every
    event is its three lines ``event: E``, ``data: X`` and a blank one. Only lines follow one another here (no
    LF inside one), so the count of LF + ``data: `` is the count of data lines that are neither the first line
    nor blank; once the first of every three lines is known to be an ``event:`` line, the data lines can only
    be the second."""
    # Split, then drop the pieces of the unfinished event after `cut` (no copy of the span).
    lines = chunk.split(b"\n")
    del lines[len(lines) - chunk.count(b"\n", cut) - 1 :]
    heads = lines[0::3]
    n = len(heads)
    if not n or len(lines) != 3 * n or lines[2::3].count(b"") != n or chunk.count(_LF_DATA, 0, cut) != n:
        return None
    first = heads[0]
    if heads.count(first) == n:  # one name throughout, as in a run of deltas
        if not first.startswith(_EVENT):
            return None
        names: Any = _decoded_names([_event_value(first)])
    elif all(map(bytes.startswith, heads, repeat(_EVENT))):
        names = _decoded_names(list(map(_event_value, heads)))
    else:
        return None
    if names is _NO_NAME:
        return None
    return names, list(map(_data_value, lines[1::3]))


def _decoded_names(names: list[bytes]) -> str | None | list[str | None] | object:
    """``event:`` values (b"" for none) as one ``str | None`` when all are the same, else a list of them;
    ``_NO_NAME`` when there are too many distinct names to cache."""
    distinct = set(names)
    new = distinct.difference(_EVENT_NAMES)
    if new:
        if len(_EVENT_NAMES) + len(new) > 512:  # a server inventing names: not cached, decoded one by one
            return _NO_NAME
        for name in new:
            _EVENT_NAMES[name] = name.decode("utf-8", "replace")
    if len(distinct) == 1:
        return _EVENT_NAMES[names[0]]
    return list(map(_EVENT_NAMES.__getitem__, names))


def _runs(name: str | None | list[str | None], payloads: list[bytes]) -> list[tuple[str | None, list[bytes]]]:
    """``_tiled_run``'s answer as runs of consecutive events that share one name."""
    if not isinstance(name, list):
        return [(name, payloads)]
    runs: list[tuple[str | None, list[bytes]]] = []
    current: list[bytes] = []
    previous: Any = _NO_NAME
    for event, data in zip(name, payloads, strict=True):
        if event != previous:
            current = []
            runs.append((event, current))
            previous = event
        current.append(data)
    return runs


class SSEDecoder:
    """Incremental SSE decoder: ``feed()`` raw chunks, get back the events each one completes.

    Args:
        max_event_size: the cap on one line, and on the data lines of one event (bytes); past it ``feed`` and
            ``feed_runs`` raise ``StreamEventTooLargeError`` (an ``APIError``) and drop what they held.

    Attributes:
        last_event_id: the last ``id:`` value seen (updated even by events that are not dispatched), or None.
        retry: the last valid ``retry:`` value seen (the stream's reconnection time, ms), or None.
    """

    __slots__ = (
        "_data",
        "_event",
        "_head",
        "_max",
        "_partial",
        "_partial_size",
        "_retry",
        "_size",
        "_skip_lf",
        "_slow",
        "_split_misses",
        "_start",
        "last_event_id",
        "retry",
    )

    def __init__(self, *, max_event_size: int = MAX_EVENT_SIZE) -> None:
        self._max = max_event_size
        self._partial: list[bytes] = []  # pieces of a line whose end has not arrived yet
        self._partial_size = 0  # their total length
        self._size = 0  # bytes of the data lines of the event being built (slow path only)
        self._data: list[bytes] = []  # data lines of the event being built
        self._event: str | None = None
        self._retry: int | None = None
        self._start = True  # still looking for a BOM at the head of the stream
        self._head = b""  # the first bytes, while too few to tell whether they are a BOM
        self._skip_lf = False  # the last chunk ended in CR: a LF opening the next one belongs to it
        self._slow = True  # _start, _skip_lf or a non-empty _partial: feed() must go through _prepare()
        self._split_misses = 0  # reads of named events that _split_named could not take
        self.last_event_id: str | None = None
        self.retry: int | None = None

    @property
    def pending(self) -> bool:
        """True while an event has started but not been terminated (at EOF: the stream was cut)."""
        return bool(
            self._partial or self._head or self._data or self._event is not None or self._retry is not None
        )

    def feed_runs(self, chunk: bytes) -> list[tuple[str | None, list[bytes]]]:
        """``feed()``, as runs ``(event, [data, ...])`` of consecutive events sharing one ``event`` name: what a
        stream reader needs, with no object built per event where the chunk holds only the common shapes (the
        usual case, and usually one run: every chat chunk, most Responses deltas)."""
        if self._slow:
            chunk = self._prepare(chunk)
            if not chunk:
                return []
        if (
            not self._slow
            and 13 not in chunk
            and not self._data
            and self._event is None
            and self._retry is None
        ):
            cut = chunk.rfind(b"\n\n") + 2
            run = None
            if cut > 1 and self._split_misses < 4 and chunk.startswith(_EVENT):
                run = _split_named(chunk, cut)
                if run is None:  # a server whose named events have other lines: stop trying after a few
                    self._split_misses += 1
            if run is None and cut > 1:
                run = _tiled_run(chunk, 0, cut)
            if run is not None:
                if cut < len(chunk):
                    self._partial.append(chunk[cut:])
                    self._partial_size = len(chunk) - cut
                    self._slow = True
                return _runs(*run)
        events = self._feed(chunk)
        return _runs([e.event for e in events], [e.data for e in events])

    def feed(self, chunk: bytes) -> list[ServerSentEvent]:
        """Consume ``chunk`` and return the events it completes (often none)."""
        if self._slow:
            chunk = self._prepare(chunk)
            if not chunk:
                return []
        return self._feed(chunk)

    def _feed(self, chunk: bytes) -> list[ServerSentEvent]:
        # `chunk` has been through _prepare(). Membership tests use ints (`10 in chunk` is a bare memchr;
        # `b"\n" in chunk` costs ~10x more).
        if 13 not in chunk and not self._data and self._event is None and self._retry is None:
            # Fast path: a chunk holding exactly one common-shape event.
            m = _COMMON_EVENT.match(chunk)
            if m is not None and m.end() == len(chunk):
                name, payload = m.groups()
                return [
                    ServerSentEvent(
                        name.decode("utf-8", "replace") if name else None, payload, self.last_event_id
                    )
                ]
        if 13 in chunk:
            self._skip_lf = self._slow = chunk[-1] == 13
            chunk = chunk.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        events: list[ServerSentEvent] = []
        data = self._data
        event = self._event
        retry = self._retry
        pos = 0
        end = len(chunk)
        while pos < end:
            if not data and event is None and retry is None:
                # Between events: take the run of common-shape events that starts here in one go.
                pos = self._common_run(chunk, pos, events)
                if pos >= end:
                    break
            eol = chunk.find(b"\n", pos)
            if eol < 0:
                break
            first = chunk[pos]
            if first == 10:  # empty line: dispatch
                if data:
                    events.append(
                        ServerSentEvent(
                            event or None,
                            data[0] if len(data) == 1 else b"\n".join(data),
                            self.last_event_id,
                            retry,
                        )
                    )
                    data.clear()
                self._size = 0
                event = retry = None
                pos = eol + 1
            elif first == 100 and chunk.startswith(_DATA, pos):  # 100: "d"
                if not data and eol + 1 < end and chunk[eol + 1] == 10:
                    # The common case, a single data line and its blank line: dispatch without buffering.
                    events.append(
                        ServerSentEvent(
                            event or None, chunk[pos + _DATA_LEN : eol], self.last_event_id, retry
                        )
                    )
                    event = retry = None
                    pos = eol + 2
                else:
                    data.append(chunk[pos + _DATA_LEN : eol])
                    self._grow(eol - pos)
                    pos = eol + 1
            elif first == 101 and chunk.startswith(_EVENT, pos):  # 101: "e"
                event = chunk[pos + _EVENT_LEN : eol].decode("utf-8", "replace")
                pos = eol + 1
            else:
                self._event, self._retry = event, retry
                self._field(chunk[pos:eol])
                event, retry = self._event, self._retry
                pos = eol + 1
        if pos < end:
            self._partial.append(chunk[pos:] if pos else chunk)
            self._partial_size = end - pos  # checked against the cap as the line grows (_prepare)
            self._slow = True
        self._event = event
        self._retry = retry
        return events

    def _common_run(self, chunk: bytes, pos: int, events: list[ServerSentEvent]) -> int:
        """Append the events of the common shapes (``data: X`` and ``event: E\\ndata: X``, then a blank line) that
        follow one another from ``pos``; return where the run ends."""
        last_id = self.last_event_id
        cut = chunk.rfind(b"\n\n", pos) + 2
        run = _tiled_run(chunk, pos, cut) if cut > pos else None
        if run is not None:
            name, payloads = run
            names = name if isinstance(name, list) else repeat(name)
            events.extend(map(ServerSentEvent, names, payloads, repeat(last_id)))
            return cut
        # Match back to back from `pos` (a scanner does not re-parse arguments; `Pattern.scanner` is
        # undocumented but is what the stdlib's own `re.Scanner` is built on).
        next_match = _COMMON_EVENT.scanner(chunk, pos).match  # type: ignore[attr-defined]
        append = events.append
        while (m := next_match()) is not None:
            name, payload = m.groups()
            append(ServerSentEvent(name.decode("utf-8", "replace") if name else None, payload, last_id))
            pos = m.end()
        return pos

    def flush(self) -> list[ServerSentEvent]:
        """Signal end of stream. An unterminated event is never dispatched (see ``pending``), so this returns [].

        The fast path of ``feed_runs`` keeps what follows a read's last event as one partial line, even when it
        holds whole lines (an ``id:`` or a comment after the last event): those are interpreted here, so that
        ``last_event_id`` is right and ``pending`` is True only for an unterminated event or line."""
        if self._partial:
            chunk = b"".join(self._partial)
            self._partial.clear()
            self._partial_size = 0
            self._slow = self._start or self._skip_lf
            if 10 in chunk or 13 in chunk:
                self._feed(chunk)  # no blank line in it: it dispatches nothing
            else:
                self._partial.append(chunk)
        return []

    def _prepare(self, chunk: bytes) -> bytes:
        # The slow entry: BOM detection, a LF owed to a CR, or a partial line to complete.
        if self._start:
            chunk = self._head + chunk
            if len(chunk) < 3 and _BOM.startswith(chunk):
                self._head = chunk  # too short to tell whether it opens a BOM: hold it back
                return b""
            self._head = b""
            self._start = False
            if chunk.startswith(_BOM):
                chunk = chunk[3:]
        if self._skip_lf and chunk:
            self._skip_lf = False
            if chunk[0] == 10:  # b"\n"
                chunk = chunk[1:]
        partial = self._partial
        if partial:
            partial.append(chunk)
            if 10 not in chunk and 13 not in chunk:
                self._partial_size += len(chunk)
                self._check(self._partial_size)
                return b""  # the line goes on: do not rescan or copy what came before
            chunk = b"".join(partial)
            partial.clear()
            self._partial_size = 0
        self._slow = self._start or self._skip_lf
        return chunk

    def _check(self, size: int) -> None:
        if size > self._max:
            self._partial.clear()
            self._data.clear()
            raise StreamEventTooLargeError(
                f"A server-sent event line or event exceeded {self._max} bytes (AsyncStream.max_event_size)",
                limit=self._max,
            )

    def _grow(self, size: int) -> None:
        # A data line joined the event being built: events of many lines are capped as a whole.
        self._size += size
        self._check(self._size)

    def _field(self, line: bytes) -> None:
        # Any line but an empty one and the fast `data: `/`event: ` shapes.
        colon = line.find(b":")
        if colon == 0:
            return  # comment
        if colon < 0:
            name, value = line, b""
        else:
            name, value = line[:colon], line[colon + 1 :]
            if value[:1] == b" ":
                value = value[1:]
        if name == b"data":
            self._data.append(value)
            self._grow(len(line))
        elif name == b"event":
            self._event = value.decode("utf-8", "replace")
        elif name == b"id":
            if b"\x00" not in value:
                self.last_event_id = value.decode("utf-8", "replace")
        elif name == b"retry":
            # bytes.isdigit: ASCII digits only, False when empty. Past 4300 digits int() refuses (CPython's
            # int_max_str_digits); no reconnection time is that long, so such a value is ignored.
            if value.isdigit() and len(value) <= 4300:
                self._retry = self.retry = int(value)
