"""SSE decoder: literal bytes in, events out, whatever the chunk boundaries."""

from __future__ import annotations

import re

import pytest

from openai_async import APIError, StreamEventTooLargeError
from openai_async._core.sse import ServerSentEvent, SSEDecoder

try:
    import hypothesis
    from hypothesis import strategies as st
except ImportError:  # pragma: no cover - hypothesis is a dev extra
    hypothesis = None  # type: ignore[assignment]


def decode(*chunks: bytes) -> tuple[list[ServerSentEvent], SSEDecoder]:
    """Feed ``chunks`` to a fresh decoder, then flush; return every event and the decoder."""
    decoder = SSEDecoder()
    events: list[ServerSentEvent] = []
    for chunk in chunks:
        events += decoder.feed(chunk)
    events += decoder.flush()
    return events, decoder


def reference(stream: bytes) -> tuple[list[ServerSentEvent], str | None]:
    """The WHATWG algorithm spelled out literally on the whole stream: the oracle for the split tests."""
    text = stream.decode("utf-8", "replace")
    if text.startswith("\ufeff"):
        text = text[1:]
    # Only terminated lines count: whatever follows the last line end is an unfinished line.
    *lines, _unfinished = re.split(r"\r\n|\r|\n", text)
    events: list[ServerSentEvent] = []
    data: list[str] = []
    event = ""
    last_id: str | None = None
    retry: int | None = None
    for line in lines:
        if line == "":
            if data:
                events.append(ServerSentEvent(event or None, "\n".join(data).encode(), last_id, retry))
            data, event, retry = [], "", None
            continue
        if line.startswith(":"):
            continue
        name, colon, value = line.partition(":")
        if colon and value.startswith(" "):
            value = value[1:]
        if name == "data":
            data.append(value)
        elif name == "event":
            event = value
        elif name == "id" and "\0" not in value:
            last_id = value
        elif name == "retry" and value and all(c in "0123456789" for c in value):
            retry = int(value)
    return events, last_id


CHAT = (
    b'data: {"id":"c1","choices":[{"delta":{"content":"Hel"}}]}\n\n'
    b'data: {"id":"c1","choices":[{"delta":{"content":"lo \xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80"}}]}\n\n'
    b"data: [DONE]\n\n"
)
RESPONSES = (
    b"event: response.created\n"
    b'data: {"type":"response.created","sequence_number":0}\n\n'
    b"event: response.output_text.delta\n"
    b'data: {"type":"response.output_text.delta","delta":"\xe2\x82\xac"}\n\n'
)
KITCHEN_SINK = (
    b"\xef\xbb\xbf: a comment first\r\n"
    b"retry: 1500\r"
    b"id: 7\r\n"
    b"event: first\n"
    b"data:  two spaces\n"
    b"data:no space\r\n"
    b"data\n"
    b"\r\n"
    b"id: bad\x00id\n"
    b"event: dropped\n"
    b"\n"
    b"unknown: field\n"
    b"retry: 12x\n"
    b"data: \xe6\x97\xa5\xe6\x9c\xac\r"
    b"\r"
    b"event\n"
    b"data:\n"
    b"data:\n"
    b"\n"
    b"id\n"
    b"data: last\n"
    b"\n"
)
STREAMS = {"chat": CHAT, "responses": RESPONSES, "kitchen_sink": KITCHEN_SINK}


def test_chat_stream() -> None:
    """`data:` events come out in order, data as raw bytes without the `data: ` prefix, event None."""
    events, decoder = decode(CHAT)
    assert [e.event for e in events] == [None, None, None]
    assert events[0].json() == {"id": "c1", "choices": [{"delta": {"content": "Hel"}}]}
    assert events[1].json()["choices"][0]["delta"]["content"] == "lo é€😀"
    assert events[2].data == b"[DONE]"
    assert events[2].text == "[DONE]"
    assert not decoder.pending


def test_responses_stream() -> None:
    """`event:` names the event; the data is the following `data:` line."""
    events, _ = decode(RESPONSES)
    assert [e.event for e in events] == ["response.created", "response.output_text.delta"]
    assert events[1].json() == {"type": "response.output_text.delta", "delta": "€"}
    assert events[0].id is None and events[0].retry is None


def test_kitchen_sink_fields() -> None:
    """BOM, comments, CR/LF/CRLF, one-space stripping, no-colon lines, id/retry rules, data-less blocks."""
    events, decoder = decode(KITCHEN_SINK)
    assert events == [
        ServerSentEvent("first", b" two spaces\nno space\n", "7", 1500),
        ServerSentEvent(None, "日本".encode(), "7", None),
        ServerSentEvent(None, b"\n", "7", None),
        ServerSentEvent(None, b"last", "", None),
    ]
    assert decoder.retry == 1500
    assert decoder.last_event_id == ""
    assert not decoder.pending


@pytest.mark.parametrize("name", sorted(STREAMS))
def test_matches_reference(name: str) -> None:
    """The decoder agrees with the literal WHATWG algorithm on each sample stream."""
    stream = STREAMS[name]
    events, decoder = decode(stream)
    expected, last_id = reference(stream)
    assert events == expected
    assert decoder.last_event_id == last_id


@pytest.mark.parametrize("name", sorted(STREAMS))
def test_every_two_way_split(name: str) -> None:
    """Splitting the stream at any byte (inside CRLF, BOM, UTF-8 sequences, field names) changes nothing."""
    stream = STREAMS[name]
    whole, _ = decode(stream)
    for i in range(len(stream) + 1):
        events, decoder = decode(stream[:i], stream[i:])
        assert events == whole, f"split at {i}: {stream[:i]!r} | {stream[i:]!r}"
        assert not decoder.pending


@pytest.mark.parametrize("name", sorted(STREAMS))
def test_byte_at_a_time(name: str) -> None:
    """Feeding one byte per call yields the same events as one big chunk."""
    stream = STREAMS[name]
    whole, _ = decode(stream)
    events, _ = decode(*(stream[i : i + 1] for i in range(len(stream))))
    assert events == whole


def test_three_way_splits_of_chat() -> None:
    """Any two cut points in a chat stream give the same events."""
    stream = CHAT[:90]  # first event and part of the second
    whole, _ = decode(stream)
    for i in range(len(stream) + 1):
        for j in range(i, len(stream) + 1):
            assert decode(stream[:i], stream[i:j], stream[j:])[0] == whole


def test_events_completed_by_each_feed() -> None:
    """feed() returns exactly the events its chunk completes, and nothing for a partial line."""
    decoder = SSEDecoder()
    assert decoder.feed(b"data: {") == []
    assert decoder.feed(b'"a": 1}') == []
    assert decoder.feed(b"\n") == []
    assert decoder.pending
    assert decoder.feed(b"\ndata: 2\n\ndata: 3\n\nda") == [
        ServerSentEvent(None, b'{"a": 1}'),
        ServerSentEvent(None, b"2"),
        ServerSentEvent(None, b"3"),
    ]
    assert decoder.pending
    assert decoder.feed(b"ta: 4\n\n") == [ServerSentEvent(None, b"4")]
    assert not decoder.pending


def test_crlf_split_across_feeds_is_one_line_end() -> None:
    """CR at the end of one chunk and LF at the start of the next make one line end, not an extra blank line."""
    decoder = SSEDecoder()
    assert decoder.feed(b"data: a\r") == []
    assert decoder.feed(b"\ndata: b\r") == []  # no dispatch: the LF belonged to the CR
    assert decoder.feed(b"\n\r") == [ServerSentEvent(None, b"a\nb")]
    assert decoder.feed(b"\n") == []  # LF after the blank line's CR: still nothing more


def test_lone_cr_is_a_line_end() -> None:
    """A CR alone ends a line, and CR CR dispatches."""
    assert decode(b"data: x\r\rdata: y\r\r")[0] == [ServerSentEvent(None, b"x"), ServerSentEvent(None, b"y")]


def test_bom_only_at_stream_start() -> None:
    """One leading BOM is dropped; a second one, or one later in the stream, is kept as data/field bytes."""
    events, _ = decode(b"\xef\xbb\xbfdata: a\n\n\xef\xbb\xbfdata: b\n\n")
    assert events == [ServerSentEvent(None, b"a")]  # the second block's field name is "\ufeffdata": unknown
    events, _ = decode(b"\xef", b"\xbb", b"\xbf", b"\xef\xbb\xbfdata: x\n\n")
    assert events == []
    assert decode(b"\xef", b"\xbbdata: x\n\n")[0] == []  # not a BOM: an unknown field


def test_leading_space_stripped_once() -> None:
    """Exactly one space after the colon is removed, in every field."""
    events, decoder = decode(b"event:  spaced\nid:  1\ndata:   x\n\n")
    assert events == [ServerSentEvent(" spaced", b"  x", " 1")]
    assert decoder.last_event_id == " 1"


def test_comments_are_ignored() -> None:
    """Lines starting with a colon change nothing, even between data lines."""
    events, decoder = decode(b": ping\n\n:\ndata: a\n: mid\ndata: b\n\n")
    assert events == [ServerSentEvent(None, b"a\nb")]
    assert not decoder.pending


def test_line_without_colon_is_field_with_empty_value() -> None:
    """`data` alone adds an empty data line; `event` alone clears the type."""
    assert decode(b"data\ndata\n\n")[0] == [ServerSentEvent(None, b"\n")]
    assert decode(b"event: x\nevent\ndata: 1\n\n")[0] == [ServerSentEvent(None, b"1")]


def test_dataless_event_not_dispatched_but_id_kept() -> None:
    """A block without data lines dispatches nothing, yet its id becomes the last event ID."""
    events, decoder = decode(b"event: ping\nid: 42\nretry: 10\n\ndata: after\n\n")
    assert events == [ServerSentEvent(None, b"after", "42")]
    assert decoder.last_event_id == "42"
    assert decoder.retry == 10


def test_id_persists_and_nul_is_ignored() -> None:
    """The id carries over to later events; an id containing NUL is ignored; an empty id resets it."""
    events, _ = decode(b"id: 1\ndata: a\n\ndata: b\n\nid: x\x00y\ndata: c\n\nid\ndata: d\n\n")
    assert [e.id for e in events] == ["1", "1", "1", ""]


def test_retry_needs_ascii_digits() -> None:
    """retry counts only when all ASCII digits; other values are ignored."""
    events, decoder = decode(
        b"retry: 25\ndata: a\n\nretry: -1\ndata: b\n\nretry: \xd9\xa3\ndata: c\n\nretry:\ndata: d\n\n"
    )
    assert [e.retry for e in events] == [25, None, None, None]
    assert decoder.retry == 25
    huge, decoder = decode(b"retry: " + b"9" * 5000 + b"\ndata: e\n\n")
    assert huge == [ServerSentEvent(None, b"e")]  # too many digits for int(): ignored, not a crash
    assert decoder.retry is None


def test_unknown_fields_ignored() -> None:
    """Fields the standard does not define, and case variants of known ones, are ignored."""
    assert decode(b"foo: bar\nData: no\nDATA: no\ndata: yes\n\n")[0] == [ServerSentEvent(None, b"yes")]


def test_empty_event_name_means_none() -> None:
    """`event:` with an empty value leaves the event unnamed."""
    assert decode(b"event: \ndata: a\n\nevent:\ndata: b\n\n")[0] == [
        ServerSentEvent(None, b"a"),
        ServerSentEvent(None, b"b"),
    ]


def test_utf8_split_inside_character() -> None:
    """A multi-byte character split across feeds arrives whole."""
    payload = "€😀 日本".encode()
    stream = b"event: \xc3\xa9v\ndata: " + payload + b"\n\n"
    for i in range(len(stream) + 1):
        events, _ = decode(stream[:i], stream[i:])
        assert events == [ServerSentEvent("év", payload)]
        assert events[0].text == "€😀 日本"


def test_unterminated_final_event_is_dropped() -> None:
    """At EOF an event without its blank line is not dispatched, and pending says the stream was cut."""
    for tail in (b"data: partial", b"data: partial\n", b"event: x\n", b"retry: 5\n", b"data: a\r"):
        decoder = SSEDecoder()
        assert decoder.feed(b"data: ok\n\n" + tail) == [ServerSentEvent(None, b"ok")]
        assert decoder.flush() == []
        assert decoder.pending, tail


def test_clean_end_is_not_pending() -> None:
    """A stream ending right after a blank line (or only comments) is not pending."""
    for stream in (b"", b"data: [DONE]\n\n", b": keep-alive\n", b"id: 3\n\n"):
        events, decoder = decode(stream)
        assert not decoder.pending, stream
        assert decoder.flush() == []


def test_done_sentinel_is_plain_data() -> None:
    """`data: [DONE]` is an ordinary event; ending the stream is the caller's job."""
    events, _ = decode(b"data: [DONE]\n\n")
    assert events == [ServerSentEvent(None, b"[DONE]")]


def test_many_events_in_one_big_feed() -> None:
    """A 64 KB buffer of events decodes to all of them, in order."""
    one = b'data: {"i":%d}\n\n'
    stream = b"".join(one % i for i in range(5000))
    events, _ = decode(stream[:65536], stream[65536:])
    assert [e.json()["i"] for e in events] == list(range(5000))


def test_long_line_growing_over_many_feeds() -> None:
    """A line delivered in many small pieces is assembled once, correctly."""
    body = b"x" * 100_000
    decoder = SSEDecoder()
    chunks = [b"data: "] + [body[i : i + 1000] for i in range(0, len(body), 1000)]
    assert all(decoder.feed(c) == [] for c in chunks)
    assert decoder.feed(b"\n\n") == [ServerSentEvent(None, body)]


def test_invented_event_names_past_the_name_cache() -> None:
    """More distinct `event:` names than the shared name cache holds still decode, each to its own name."""
    stream = b"".join(b"event: kind-%d\ndata: {}\n\n" % i for i in range(1500))
    events, _ = decode(stream)
    assert [e.event for e in events] == [f"kind-{i}" for i in range(1500)]


EVENT_PIECES = [
    # The common shapes (taken a run at a time) and their near misses (each must end the run correctly).
    b'data: {"a":1}\n\n',
    b"event: response.output_text.delta\ndata: x\n\n",
    b"event: \ndata: empty name\n\n",
    b"event: e\n\n",
    b"data: a\ndata: b\n\n",
    b"id: 9\ndata: with id\n\n",
    b"retry: 5\ndata: with retry\n\n",
    b": comment\n",
    b"data: [DONE]\n\n",
    b"data:no space\n\n",
    b"data: \n\n",
    b"event: e\r\ndata: crlf\r\n\r\n",
    b"\n",
    # near misses of the three-line named shape (fields swapped or repeated, a comment between them)
    b"data: x\nevent: swapped\n\n",
    b"event: a\nevent: b\ndata: two names\n\n",
    b"event: e\ndata: a\ndata: b\n\n",
    b"event: e\n: c\ndata: x\n\n",
    b"event: other.name\ndata: y\n\n",
]


def test_runs_of_common_events_match_reference() -> None:
    """Seeded random streams of whole events, in big and small chunks, decode like the WHATWG algorithm."""
    import random

    rng = random.Random(7)
    for _ in range(300):
        stream = b"".join(rng.choice(EVENT_PIECES) for _ in range(rng.randrange(1, 60)))
        size = rng.choice([1, 7, 64, 4096, len(stream)])
        chunks = [stream[i : i + size] for i in range(0, len(stream), size)]
        events, decoder = decode(*chunks)
        expected, last_id = reference(stream)
        assert events == expected, stream
        assert decoder.last_event_id == last_id
        runs_decoder = SSEDecoder()
        runs = [r for c in chunks for r in runs_decoder.feed_runs(c)]
        assert [(event, data) for event, run in runs for data in run] == [(e.event, e.data) for e in expected]
        assert all(run for _, run in runs)  # no empty run


@pytest.mark.parametrize(
    "odd",
    [
        b"",
        b"id: 5\ndata: odd\n\n",
        b"event: \ndata: odd\n\n",
        b": c\n",
        b"data: odd\nevent: swapped\n\n",
        b"event: e\ndata: a\ndata: b\n\n",
    ],
)
@pytest.mark.parametrize("named", [False, True])
def test_large_reads_of_common_events_match_reference(named: bool, odd: bytes) -> None:
    """A read of ~150 KB (several matching windows), with one unusual event at a random place, decodes like
    the WHATWG algorithm, in one feed and cut at a window-sized boundary."""
    import random

    rng = random.Random(len(odd) + named)
    one = (b"event: response.output_text.delta\n" if named else b"") + b'data: {"i":%d,"t":"%s"}\n\n'
    events = [one % (i, b"x" * rng.randrange(40)) for i in range(3000)]
    events.insert(rng.randrange(len(events)), odd)
    stream = b"".join(events)
    expected, last_id = reference(stream)
    for chunks in ([stream], [stream[:32768], stream[32768:]], [stream[:100_001], stream[100_001:]]):
        got, decoder = decode(*chunks)
        assert got == expected
        assert decoder.last_event_id == last_id
        runs_decoder = SSEDecoder()  # what streams read: the same events as runs sharing a name
        pairs = [
            (event, data) for chunk in chunks for event, run in runs_decoder.feed_runs(chunk) for data in run
        ]
        assert pairs == [(e.event, e.data) for e in expected]


if hypothesis is not None:
    PIECES = [
        b"data: ",
        b"data:",
        b"data",
        b"event: e",
        b"event:",
        b"id: 1",
        b"id",
        b"retry: 7",
        b"retry: x",
        b": c",
        b":",
        b"x",
        b" ",
        b'{"a":1}',
        b"\xc3\xa9",
        b"\xef\xbb\xbf",
        b"\x00",
        b"\n",
        b"\n",
        b"\r",
        b"\r\n",
    ]

    @hypothesis.settings(max_examples=400, deadline=None)
    @hypothesis.given(parts=st.lists(st.sampled_from(PIECES), max_size=40), data=st.data())
    def test_random_streams_match_reference(parts: list[bytes], data: st.DataObject) -> None:
        """Any stream of SSE fragments, cut anywhere, decodes like the literal WHATWG algorithm."""
        stream = b"".join(parts)
        cuts = data.draw(st.lists(st.integers(min_value=0, max_value=len(stream)), max_size=8))
        bounds = sorted(set(cuts))
        chunks = [stream[a:b] for a, b in zip([0, *bounds], [*bounds, len(stream)], strict=True)]
        events, decoder = decode(*chunks)
        expected, last_id = reference(stream)
        assert events == expected
        assert decoder.last_event_id == last_id

    RUN_PIECES = [
        *PIECES,
        b'data: {"a":1}\n\n',
        b"data: x\n\n",
        b"data: \n\n",
        b"event: e\ndata: x\n\n",
        b"event: f\ndata: y\n\n",
        b"event: \ndata: z\n\n",
        b"event: e\n",
        b"data: [DONE]\n\n",
    ]

    @hypothesis.settings(max_examples=400, deadline=None)
    @hypothesis.given(parts=st.lists(st.sampled_from(RUN_PIECES), max_size=60), data=st.data())
    def test_random_streams_feed_runs_match_reference(parts: list[bytes], data: st.DataObject) -> None:
        """feed_runs (the streams' entry, with its tiled and split fast paths) gives the (event, data) pairs of
        the literal WHATWG algorithm, for any stream of fragments and common-shape events cut anywhere."""
        stream = b"".join(parts)
        cuts = data.draw(st.lists(st.integers(min_value=0, max_value=len(stream)), max_size=8))
        bounds = sorted(set(cuts))
        chunks = [stream[a:b] for a, b in zip([0, *bounds], [*bounds, len(stream)], strict=True)]
        decoder = SSEDecoder()
        pairs = [
            (event, payload) for chunk in chunks for event, run in decoder.feed_runs(chunk) for payload in run
        ]
        assert decoder.flush() == []
        expected, last_id = reference(stream)
        assert pairs == [(e.event, e.data) for e in expected]
        assert decoder.last_event_id == last_id


def test_a_line_past_the_cap_raises_and_drops_what_it_held() -> None:
    """A line that never ends raises StreamEventTooLargeError (an APIError) once it passes max_event_size,
    through feed() and feed_runs() alike, however it is cut; under the cap it is kept."""
    for method in ("feed", "feed_runs"):
        decoder = SSEDecoder(max_event_size=1000)
        feed = getattr(decoder, method)
        assert feed(b"data: " + b"x" * 500) == []
        with pytest.raises(StreamEventTooLargeError) as info:
            for _ in range(10):
                feed(b"x" * 100)
        assert isinstance(info.value, APIError) and info.value.limit == 1000
        assert not decoder.pending  # what it held is gone


def test_an_event_of_many_lines_past_the_cap_raises() -> None:
    """An event made of many complete data lines is capped as a whole, not line by line."""
    decoder = SSEDecoder(max_event_size=1000)
    with pytest.raises(StreamEventTooLargeError):
        for _ in range(100):
            decoder.feed(b"data: " + b"y" * 50 + b"\n")
    small = SSEDecoder(max_event_size=1000)
    events = small.feed(b"".join(b"data: " + b"y" * 50 + b"\n" for _ in range(10)) + b"\n")
    assert len(events) == 1 and len(events[0].data) == 10 * 50 + 9


def test_the_default_cap_is_generous() -> None:
    """The default cap (16 MiB) takes a 4 MiB event fed in 64 KiB reads."""
    decoder = SSEDecoder()
    body = b"data: " + b"z" * (4 << 20) + b"\n\n"
    got = [
        data
        for i in range(0, len(body), 65536)
        for _, run in decoder.feed_runs(body[i : i + 65536])
        for data in run
    ]
    assert [len(d) for d in got] == [4 << 20]


def test_whole_lines_after_the_last_event_of_a_read_count_at_the_end() -> None:
    """An `id:` or a comment line after a read's last event (no blank line follows) is interpreted by flush():
    the id is kept and nothing is pending, while a data line with no blank line after it stays pending."""
    decoder = SSEDecoder()
    assert decoder.feed_runs(b"data: x\n\nid: 7\n: ping\n") == [(None, [b"x"])]
    assert decoder.flush() == [] and decoder.last_event_id == "7" and not decoder.pending
    cut = SSEDecoder()
    assert cut.feed_runs(b"data: x\n\ndata: y\n") == [(None, [b"x"])]
    assert cut.flush() == [] and cut.pending
