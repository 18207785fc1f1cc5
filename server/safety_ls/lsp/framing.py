"""LSP base-protocol framing that survives a bad message: `Content-Length` headers, then JSON bodies.

pygls reads a header line by line and then exactly `Content-Length` bytes. A wrong length or a
header it does not recognise puts it out of step with the stream for good: bodies carry no line
break, so every later line it reads is a body glued to the next header, and it never answers
again. Here a bad message is dropped, reported, and reading starts again at the next
`Content-Length:` header; the client's later messages are answered.
"""

from __future__ import annotations

import json
import re
from typing import Any, Callable

_HEADER_END = b"\r\n\r\n"
_CONTENT_LENGTH = re.compile(rb"content-length:", re.IGNORECASE)
# RFC 7230's field: a token, a colon, a value. Header names are case-insensitive.
_HEADER_FIELD = re.compile(rb"([!#$%&'*+.^_`|~0-9A-Za-z-]+):[ \t]*(.*?)[ \t]*")
# A header is two short fields; bytes without an end of header beyond this are not one.
_MAX_HEADER_BYTES = 8192


class _BadHeader(Exception):
    pass


# What `_read_body` returns instead of a message (any JSON value, None included, is one).
_INCOMPLETE = object()
_DROPPED = object()


class MessageStream:
    """Bytes in (`feed`), decoded JSON messages out; `report` hears of every message dropped."""

    def __init__(self, report: Callable[[str], None]) -> None:
        self._report = report
        self._buffer = bytearray()
        self._body_start: int | None = None  # set once a header is read: where its body begins
        self._length = 0
        # How far the body read so far was searched for a following header (see `_cut_short`).
        self._searched = 0
        # After a bad message: the bytes up to the next `Content-Length:` are its rest, dropped unread.
        self._skipping = False

    def feed(self, data: bytes) -> list[Any]:
        """The messages completed by `data`, in order."""
        self._buffer += data
        messages = []
        while self._body_start is not None or self._read_header():
            message = self._read_body()
            if message is _INCOMPLETE:
                break
            if message is not _DROPPED:
                messages.append(message)
        return messages

    def _read_header(self) -> bool:
        """Whether a header was read (its body begins at `_body_start`); bad headers are skipped."""
        if self._skipping and not self._skip_to_header(0):
            return False
        while (end := self._buffer.find(_HEADER_END)) != -1:
            header = bytes(self._buffer[:end])
            try:
                self._length = _content_length(header)
            except _BadHeader as error:
                self._drop(f"bad header {header[:200]!r}: {error}")
                if not self._skip_to_header(1):
                    return False
                continue
            self._body_start = self._searched = end + len(_HEADER_END)
            return True
        if len(self._buffer) > _MAX_HEADER_BYTES:
            self._drop(f"no end of header in {len(self._buffer)} bytes")
            self._skip_to_header(1)
        return False

    def _read_body(self) -> Any:
        start = self._body_start
        assert start is not None
        end = start + self._length
        if len(self._buffer) < end:
            return _DROPPED if self._cut_short(start) else _INCOMPLETE
        self._body_start = None
        try:
            message = json.loads(self._buffer[start:end])
        except ValueError as error:  # not JSON, or not UTF-8
            self._drop(f"the body is not JSON ({error}; Content-Length {self._length})")
            # A length too large swallows the start of the next message: read on from its header.
            following = _CONTENT_LENGTH.search(self._buffer, start, end)
            self._skip_to_header(following.start() if following else end)
            return _DROPPED
        del self._buffer[:end]
        return message

    def _cut_short(self, start: int) -> bool:
        """Whether a header follows a complete JSON body before `Content-Length` bytes arrived.

        Then the length was too large: the client waits for an answer to its next message,
        whose bytes would never complete this one. A body that is valid JSON as a whole is not
        valid JSON up to a `Content-Length:` inside it, so a good message is never cut.
        """
        following = _CONTENT_LENGTH.search(self._buffer, max(self._searched, start))
        self._searched = max(len(self._buffer) - len(b"content-length:") + 1, start)
        while following is not None:
            try:
                json.loads(self._buffer[start : following.start()])
            except ValueError:
                following = _CONTENT_LENGTH.search(self._buffer, following.end())
                continue
            self._body_start = None
            self._drop(
                f"Content-Length {self._length} is larger than the message: "
                f"a header follows {following.start() - start} bytes of JSON"
            )
            self._skip_to_header(following.start())
            return True
        return False

    def _drop(self, problem: str) -> None:
        self._skipping = True
        self._report(f"{problem}; the message is dropped and reading goes on at the next Content-Length header")

    def _skip_to_header(self, search_from: int) -> bool:
        """Drop the bytes before the next `Content-Length:` at or after `search_from`; whether one was there."""
        following = _CONTENT_LENGTH.search(self._buffer, search_from)
        if following is None:  # keep what may be the start of a header split across reads
            del self._buffer[: max(len(self._buffer) - len(b"content-length:") + 1, search_from)]
            return False
        del self._buffer[: following.start()]
        self._skipping = False
        return True


def _content_length(header: bytes) -> int:
    lengths = []
    for line in header.split(b"\r\n"):
        field = _HEADER_FIELD.fullmatch(line)
        if field is None:
            raise _BadHeader(f"{line[:80]!r} is not a header field")
        if field[1].lower() == b"content-length":
            lengths.append(field[2])
    if len(lengths) != 1:
        raise _BadHeader("no Content-Length" if not lengths else "more than one Content-Length")
    if not lengths[0].isdigit():
        raise _BadHeader(f"Content-Length {lengths[0][:40]!r} is not a number")
    return int(lengths[0])
