"""Request bodies read as streams: Content-Length or chunked, and multipart/form-data parsed on the fly.

Uploads are never held in memory: the file part of a multipart body is copied to its sink in 64 KiB
steps while the boundary is searched for, so an upload of any size costs a constant amount of RAM.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from email.message import Message
from typing import BinaryIO

CHUNK = 64 * 1024
_MAX_PART_HEADER = 16 * 1024


class MalformedBody(ValueError):
    """The body does not follow its declared framing or multipart layout."""


class BodyStream:
    """A request body, read once, whatever its transfer framing."""

    def __init__(self, rfile: BinaryIO, headers: Message) -> None:
        self._rfile = rfile
        self._chunked = "chunked" in (headers.get("Transfer-Encoding") or "").lower()
        self._remaining = 0 if self._chunked else int(headers.get("Content-Length") or 0)
        self._chunk_left = 0
        self._finished = not self._chunked and self._remaining == 0

    @property
    def declared_length(self) -> int | None:
        return None if self._chunked else self._remaining

    def read(self, size: int = CHUNK) -> bytes:
        """Up to ``size`` bytes; ``b""`` at the end of the body."""
        if self._finished:
            return b""
        if not self._chunked:
            data = self._rfile.read(min(size, self._remaining))
            if not data:
                raise MalformedBody("the body ended before its Content-Length")
            self._remaining -= len(data)
            self._finished = self._remaining == 0
            return data
        if self._chunk_left == 0:
            line = self._rfile.readline(1024).strip()
            length = int(line.split(b";")[0] or b"0", 16)
            if length == 0:
                while self._rfile.readline(1024).strip():  # trailer fields, then the blank line
                    pass
                self._finished = True
                return b""
            self._chunk_left = length
        data = self._rfile.read(min(size, self._chunk_left))
        self._chunk_left -= len(data)
        if self._chunk_left == 0:
            self._rfile.readline(8)  # the CRLF closing the chunk
        return data

    def read_all(self, limit: int) -> bytes:
        parts, total = [], 0
        while data := self.read():
            total += len(data)
            if total > limit:
                raise MalformedBody(f"the body is larger than {limit} bytes")
            parts.append(data)
        return b"".join(parts)

    def drain(self) -> None:
        while self.read():
            pass


def multipart_boundary(content_type: str | None) -> str | None:
    if not content_type or not content_type.lower().startswith("multipart/form-data"):
        return None
    match = re.search(r'boundary="?([^";]+)"?', content_type)
    return match[1] if match else None


class MultipartReader:
    """Walks the parts of a multipart/form-data body, handing each part's bytes to a sink as they come."""

    def __init__(self, body: BodyStream, boundary: str) -> None:
        self._body = body
        self._delimiter = b"\r\n--" + boundary.encode("latin-1")
        self._buffer = b"\r\n"  # so the first boundary looks like every later one
        self._done = False
        self._unread = True  # content (at first: the preamble) stands before the next delimiter

    def _fill(self) -> bool:
        data = self._body.read()
        self._buffer += data
        return bool(data)

    def _skip_to_delimiter(self, sink: Callable[[bytes], None] | None) -> None:
        while True:
            index = self._buffer.find(self._delimiter)
            if index >= 0:
                if sink:
                    sink(self._buffer[:index])
                self._buffer = self._buffer[index + len(self._delimiter) :]
                return
            keep = len(self._delimiter)  # a delimiter may straddle two reads
            if sink and len(self._buffer) > keep:
                sink(self._buffer[:-keep])
            self._buffer = self._buffer[-keep:]
            if not self._fill():
                raise MalformedBody("multipart body ended inside a part")

    def _after_delimiter(self) -> bool:
        """True when another part follows; False at the closing ``--``."""
        while len(self._buffer) < 2 and self._fill():
            pass
        if self._buffer.startswith(b"--"):
            self._done = True
            self._body.drain()
            return False
        while b"\r\n" not in self._buffer and self._fill():
            pass
        if b"\r\n" not in self._buffer:
            raise MalformedBody("multipart boundary line is not terminated")
        self._buffer = self._buffer[self._buffer.index(b"\r\n") + 2 :]
        return True

    def next_part(self) -> dict[str, str] | None:
        """The next part's headers (lower-cased names, plus ``name``/``filename``), or None at the end."""
        if self._done:
            return None
        if self._unread:  # skip whatever of the previous part was not read
            self._skip_to_delimiter(None)
        if not self._after_delimiter():
            return None
        while b"\r\n\r\n" not in self._buffer:
            if len(self._buffer) > _MAX_PART_HEADER or not self._fill():
                raise MalformedBody("multipart part headers are missing or too long")
        raw, self._buffer = self._buffer.split(b"\r\n\r\n", 1)
        headers: dict[str, str] = {}
        for line in raw.decode("utf-8", "replace").split("\r\n"):
            key, _, value = line.partition(":")
            headers[key.strip().lower()] = value.strip()
        disposition = headers.get("content-disposition", "")
        for key in ("name", "filename"):
            match = re.search(rf'\b{key}="([^"]*)"', disposition)
            if match:
                headers[key] = match[1]
        self._unread = True
        return headers

    def read_part(self, sink: Callable[[bytes], None]) -> None:
        """Send the current part's content to ``sink``, up to (not including) the next boundary."""
        self._skip_to_delimiter(sink)
        self._unread = False
