"""Is a staged file the creative it claims to be? Magic bytes first, then a check that it is whole.

The magic bytes come from the file's head only (``sniff_media_type`` never reads more than
``SNIFF_BYTES``), so a 200 MiB file of an unknown type costs one small read.

Images are not decoded here when a cheaper proof that the file is whole exists, because
``image_analyses`` decodes every image fully anyway to measure it: a JPEG whose headers parse and
whose data runs to the end marker, or a PNG whose chunk checksums all verify through its end
chunk (the pixels are not inflated). Anything else (a cut-off file, GIF, WebP) is decoded, as
before, so no file the decode accepts is refused. A video's first frame is decoded.
"""

from __future__ import annotations

from pathlib import Path
from typing import BinaryIO, Literal

import av
import filetype
from PIL import Image, UnidentifiedImageError

from brand_pipeline.domain.kinds import CreativeKind

MediaErrorStatus = Literal["expired", "unavailable", "refused", "too_large", "not_media", "broken"]

# What filetype reads to guess a type; the HTML check looks at the first 512 bytes of it.
SNIFF_BYTES = 8192
_HTML_HEAD = 512
_MIME_BY_KIND: dict[CreativeKind, set[str]] = {
    "image": {"image/jpeg", "image/png", "image/webp", "image/gif"},
    "video": {"video/mp4", "video/quicktime", "video/webm", "video/x-m4v"},
}
_JPEG_END = b"\xff\xd9"  # EOI: in entropy-coded data 0xFF is always stuffed, so only the end reads so


class MediaError(Exception):
    def __init__(self, status: MediaErrorStatus, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


def inspect_media(path: Path, expected: CreativeKind) -> tuple[str, str]:
    """(mime type, extension) of a verified creative, or ``MediaError``.

    Checks the magic bytes first (cheap, catches HTML error pages), then that the file is whole,
    so a truncated download is caught here rather than deep in an analysis.
    """
    with path.open("rb") as stream:
        mime, extension = sniff_media_type(stream, expected)
    if expected == "video":
        _check_video_decodes(path)
    else:
        _check_image_is_whole(path)
    return mime, extension


def sniff_media_type(stream: BinaryIO, expected: CreativeKind) -> tuple[str, str]:
    """(mime type, extension) from the first ``SNIFF_BYTES`` of ``stream``, or ``MediaError`` not_media."""
    head = b""
    while len(head) < SNIFF_BYTES and (chunk := stream.read(SNIFF_BYTES - len(head))):
        head += chunk
    guess = filetype.guess(head)
    if guess is None:
        start = head[:_HTML_HEAD].lstrip().lower()
        if start.startswith((b"<!doctype html", b"<html", b"<?xml", b"<head", b"<body")):
            raise MediaError("not_media", f"expected a {expected}, got an HTML page")
        raise MediaError("not_media", f"expected a {expected}, got an unrecognised file type")
    mime = "video/mp4" if guess.mime == "video/x-m4v" else guess.mime
    if mime not in _MIME_BY_KIND[expected]:
        raise MediaError("not_media", f"expected a {expected}, got {guess.mime}")
    return mime, "." + ("mp4" if mime == "video/mp4" else guess.extension)


def _check_video_decodes(path: Path) -> None:
    try:
        with av.open(str(path)) as container:
            if not container.streams.video:
                raise MediaError("broken", "the video file has no video stream")
            next(container.decode(video=0))
    except (av.error.FFmpegError, StopIteration) as error:
        raise MediaError("broken", f"the video file cannot be decoded: {error or 'no frames'}") from None


def _check_image_is_whole(path: Path) -> None:
    try:
        if not _proven_whole(path):
            with Image.open(path) as image:
                image.load()
    except (UnidentifiedImageError, OSError, SyntaxError) as error:
        raise MediaError("broken", f"the image cannot be decoded: {error}") from None


def _proven_whole(path: Path) -> bool:
    """A cheap proof that the image is complete; False means "decode it to decide", never "broken"."""
    with Image.open(path) as image:  # parses the headers: unreadable ones raise here
        if image.format == "JPEG":
            return _ends_with(path, _JPEG_END)
        if image.format != "PNG":
            return False
        try:
            image.verify()  # every chunk's CRC through IEND, without inflating the pixels
        except (OSError, SyntaxError):
            return False  # e.g. a PNG cut after its pixel data but before IEND still decodes
        return True


def _ends_with(path: Path, marker: bytes) -> bool:
    with path.open("rb") as stream:
        size = stream.seek(0, 2)
        if size < len(marker):
            return False
        stream.seek(size - len(marker))
        return stream.read() == marker
