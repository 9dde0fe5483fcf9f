"""Small JPEG thumbnails of creatives, inlined as ``data:`` URIs: an image scaled down, a video's
poster frame. Made locally from the blob files (Pillow, PyAV), never fetched.

A thumbnail depends only on the creative's bytes (its sha256) and the size, so it is made once
and kept: in memory for the cache's life and, given a folder, on disk across reports.
"""

from __future__ import annotations

import base64
import io
import os
import tempfile
import threading
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import av
from PIL import Image

from brand_pipeline.domain.kinds import CreativeKind

THUMBNAIL_PX = 300  # longest side; shown at up to 220 CSS px, so sharp on paper too
JPEG_QUALITY = 72
# Poster frame: the first frame at or after this time (openings are often a fade from black).
POSTER_AT_S = 0.5
POSTER_MAX_FRAMES = 30
# Making thumbnails is decoding: PyAV and Pillow release the GIL while they do it.
WORKERS = min(4, os.cpu_count() or 1)

_DECODE_ERRORS = (OSError, ValueError, av.error.FFmpegError, Image.DecompressionBombError)


class ThumbnailCache:
    """``data:image/jpeg`` URIs by creative; ``None`` for a file that cannot be decoded."""

    def __init__(self, folder: Path | None = None, max_px: int = THUMBNAIL_PX) -> None:
        self.folder = Path(folder) if folder else None
        self.max_px = max_px
        self._uris: dict[str, str | None] = {}
        self.made = 0  # thumbnails decoded from a blob (not found in memory or on disk)
        self._count = threading.Lock()

    def data_uri(self, sha256: str, kind: CreativeKind, path: Path) -> str | None:
        if sha256 not in self._uris:
            jpeg = self._read_disk(sha256)
            if jpeg is None:
                jpeg = make_thumbnail(kind, path, self.max_px)
                with self._count:
                    self.made += 1
                if jpeg is not None:
                    self._write_disk(sha256, jpeg)
            self._uris[sha256] = None if jpeg is None else "data:image/jpeg;base64," + base64.b64encode(jpeg).decode()
        return self._uris[sha256]

    def has(self, sha256: str) -> bool:
        """Whether ``sha256``'s thumbnail is known already (no blob file needed to show it)."""
        path = self._disk_path(sha256)
        return sha256 in self._uris or bool(path and path.is_file())

    def prepare(self, creatives: Iterable[tuple[str, CreativeKind, Path]]) -> None:
        """Make the missing thumbnails of ``creatives`` in parallel, ahead of rendering."""
        todo = {sha: (sha, kind, path) for sha, kind, path in creatives if sha not in self._uris}
        with ThreadPoolExecutor(max(1, min(WORKERS, len(todo)))) as pool:
            list(pool.map(lambda item: self.data_uri(*item), todo.values()))

    def _disk_path(self, sha256: str) -> Path | None:
        return self.folder / sha256[:2] / f"{sha256}-{self.max_px}.jpg" if self.folder else None

    def _read_disk(self, sha256: str) -> bytes | None:
        path = self._disk_path(sha256)
        return path.read_bytes() if path and path.is_file() else None

    def _write_disk(self, sha256: str, jpeg: bytes) -> None:
        path = self._disk_path(sha256)
        if path is None:
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        # Atomic: a report made at the same time never reads half a thumbnail.
        with tempfile.NamedTemporaryFile(dir=path.parent, suffix=".part", delete=False) as part:
            part.write(jpeg)
        os.replace(part.name, path)


def make_thumbnail(kind: CreativeKind, path: Path, max_px: int = THUMBNAIL_PX) -> bytes | None:
    """JPEG bytes of the image scaled to ``max_px``, or of the video's poster frame; None if undecodable."""
    try:
        picture = _poster_frame(path) if kind == "video" else _image(path, max_px)
        if picture is None:
            return None
        picture.thumbnail((max_px, max_px))
        out = io.BytesIO()
        _flatten(picture).save(out, "JPEG", quality=JPEG_QUALITY)
        return out.getvalue()
    except _DECODE_ERRORS:
        return None


def _image(path: Path, max_px: int) -> Image.Image:
    with Image.open(path) as opened:
        opened.draft("RGB", (max_px, max_px))  # JPEG: decode at a fraction of full size
        opened.load()
        return opened.copy()


def _poster_frame(path: Path) -> Image.Image | None:
    with av.open(str(path)) as container:
        if not container.streams.video:
            return None
        picture = None
        for count, frame in enumerate(container.decode(container.streams.video[0])):
            picture = frame.to_image()
            if (frame.time or 0.0) >= POSTER_AT_S or count + 1 >= POSTER_MAX_FRAMES:
                break
        return picture


def _flatten(picture: Image.Image) -> Image.Image:
    """RGB on white: JPEG has no alpha, and a transparent PNG should not turn black."""
    if picture.mode in ("RGBA", "LA", "P"):
        rgba = picture.convert("RGBA")
        background = Image.new("RGB", rgba.size, "white")
        background.paste(rgba, mask=rgba.getchannel("A"))
        return background
    return picture.convert("RGB")
