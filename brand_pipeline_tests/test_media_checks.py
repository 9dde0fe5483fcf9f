"""Checking a staged creative: the type from the file's head only, wholeness as cheaply as each
format allows, and every broken file still refused."""

from __future__ import annotations

import io
import zlib
from pathlib import Path

import pytest
from PIL import Image

from brand_pipeline.analysis.image_facts import image_facts
from brand_pipeline.analysis.video_facts import MediaDecodeError
from brand_pipeline.sample import read_manifest
from brand_pipeline.sources.media_checks import SNIFF_BYTES, MediaError, inspect_media, sniff_media_type

FIFTY_MB = 50 * 1024 * 1024


class CountingReader(io.RawIOBase):
    """A file opened for reading that counts every byte handed out."""

    def __init__(self, path: Path) -> None:
        self._file = path.open("rb", buffering=0)
        self.bytes_read = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:
        count = self._file.readinto(buffer) or 0
        self.bytes_read += count
        return count

    def close(self) -> None:
        self._file.close()
        super().close()


def sparse_file(path: Path, head: bytes = b"") -> Path:
    """``head`` followed by zeros up to 50 MB, without writing them (a sparse file)."""
    with path.open("wb") as file:
        file.write(head)
        file.truncate(FIFTY_MB)
    return path


@pytest.mark.parametrize(
    "head, reason",
    [
        (b"", "expected a video, got an unrecognised file type"),
        (b"\n  <!DOCTYPE html><html><body>Sorry, this content isn't available", "expected a video, got an HTML page"),
    ],
)
def test_a_large_file_of_no_media_type_is_refused_after_reading_only_its_head(
    head: bytes, reason: str, tmp_path: Path
) -> None:
    path = sparse_file(tmp_path / "download.part", head)
    with CountingReader(path) as reader:
        with pytest.raises(MediaError) as caught:
            sniff_media_type(reader, "video")
        assert reader.bytes_read <= SNIFF_BYTES < FIFTY_MB
    assert caught.value.status == "not_media" and caught.value.reason == reason
    with pytest.raises(MediaError, match=reason):
        inspect_media(path, "video")


def test_the_head_of_a_real_video_is_enough_to_type_it(sample_dir: Path) -> None:
    video = next(m for m in read_manifest(sample_dir).media if m.kind == "video")
    with CountingReader(sample_dir / video.path) as reader:
        assert sniff_media_type(reader, "video") == ("video/mp4", ".mp4")
        assert reader.bytes_read == min(SNIFF_BYTES, video.bytes)


def _sample_image(sample_dir: Path, image_format: str) -> bytes:
    made = next(m for m in read_manifest(sample_dir).media if m.kind == "image" and m.format == image_format)
    return (sample_dir / made.path).read_bytes()


@pytest.mark.parametrize("image_format", ["JPEG", "PNG"])
def test_whole_images_pass_and_cut_off_ones_are_refused_as_broken(
    image_format: str, sample_dir: Path, tmp_path: Path
) -> None:
    data = _sample_image(sample_dir, image_format)
    whole, cut = tmp_path / "whole", tmp_path / "cut"
    whole.write_bytes(data)
    cut.write_bytes(data[: len(data) * 2 // 3])
    assert inspect_media(whole, "image")[0] == f"image/{image_format.lower()}"
    with pytest.raises(MediaError) as caught:
        inspect_media(cut, "image")
    assert caught.value.status == "broken" and "the image cannot be decoded" in caught.value.reason


def test_what_a_decode_accepts_is_still_accepted(sample_dir: Path, tmp_path: Path) -> None:
    # A JPEG with bytes after its end marker, a PNG cut just before its end chunk: no cheap proof
    # that they are whole, so they are decoded, and the decode reads them fine.
    trailing, no_end = tmp_path / "trailing.jpg", tmp_path / "no_end.png"
    trailing.write_bytes(_sample_image(sample_dir, "JPEG") + b"\x00" * 64)
    no_end.write_bytes(_sample_image(sample_dir, "PNG")[:-12])
    for path in (trailing, no_end):
        with Image.open(path) as image:
            image.load()
        assert inspect_media(path, "image")


def _png_with_valid_checksums_but_garbage_pixels() -> bytes:
    def chunk(kind: bytes, body: bytes) -> bytes:
        return len(body).to_bytes(4, "big") + kind + body + zlib.crc32(kind + body).to_bytes(4, "big")

    header = (8).to_bytes(4, "big") * 2 + bytes([8, 2, 0, 0, 0])  # 8x8, 8-bit RGB
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", b"not deflate data") + chunk(b"IEND", b"")


def test_a_png_is_verified_not_decoded_so_its_pixels_are_first_read_by_the_image_facts(tmp_path: Path) -> None:
    # The documented trade-off: the scrape checks that every chunk arrived intact; inflating the
    # pixels is left to image_analyses, which decodes every image anyway and records a failure.
    path = tmp_path / "crafted.png"
    path.write_bytes(_png_with_valid_checksums_but_garbage_pixels())
    assert inspect_media(path, "image") == ("image/png", ".png")
    with pytest.raises(MediaDecodeError):
        image_facts(path)


def test_a_png_with_a_damaged_chunk_is_refused(sample_dir: Path, tmp_path: Path) -> None:
    data = bytearray(_sample_image(sample_dir, "PNG"))
    data[len(data) // 2] ^= 0xFF  # inside the pixel data: its checksum no longer matches
    path = tmp_path / "damaged.png"
    path.write_bytes(bytes(data))
    with pytest.raises(MediaError) as caught:
        inspect_media(path, "image")
    assert caught.value.status == "broken"
