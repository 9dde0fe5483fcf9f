"""A brand's media files on disk: their paths, the sound images and videos, and the deliberately broken ones."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Literal

from brand_pipeline.sample.images import encode_image, image_size, render_image
from brand_pipeline.sample.manifest import MediaFile
from brand_pipeline.sample.specs import BrandSpec
from brand_pipeline.sample.videos import write_video

_HTML_ERROR_PAGE = """<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>Error</title></head>
<body>
<h1>URL signature expired</h1>
<p>The link to this video has expired (oe=69A1F2C0). Request a fresh link from the Ad Library.</p>
</body>
</html>
"""
_TRUNCATED_BYTES = 2048
# How a bad record's detail describes each kind of broken file (see expectations).
DEFECT_DETAILS = {
    "html_error_page": "an HTML error page saved as .mp4",
    "truncated": f"the first {_TRUNCATED_BYTES} bytes of an mp4 (no moov box)",
}


def media_path(brand: BrandSpec, key: str) -> str:
    """Relative path of a media key: brand images/videos, or "!name.ext" (broken or missing files)."""
    if key.startswith("!"):
        return f"media/{brand.slug}-{key[1:]}"
    ext = next((".jpg" if i.fmt == "JPEG" else ".png" for i in brand.images if i.key == key), ".mp4")
    return f"media/{brand.slug}-{key}{ext}"


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def write_media(dest: Path, brand: BrandSpec) -> list[MediaFile]:
    """Write the brand's images, videos and deliberately broken videos under `dest`; describe each file."""
    keys = [i.key for i in brand.images] + [v.key for v in brand.videos]
    if len(set(keys)) != len(keys):
        raise ValueError(f"sample {brand.slug}: image and video keys must be unique: {keys}")
    return _write_images(dest, brand) + _write_videos(dest, brand) + _write_broken_videos(dest, brand)


def _write_images(dest: Path, brand: BrandSpec) -> list[MediaFile]:
    files: list[MediaFile] = []
    for index, spec in enumerate(brand.images):
        path = media_path(brand, spec.key)
        data = encode_image(render_image(brand, spec, index), spec.fmt)
        (dest / path).write_bytes(data)
        w, h = image_size(spec.aspect)
        files.append(
            MediaFile(
                path=path,
                brand=brand.slug,
                kind="image",
                format=spec.fmt,
                bytes=len(data),
                sha256=sha256_hex(data),
                width=w,
                height=h,
            )
        )
    return files


def _write_videos(dest: Path, brand: BrandSpec) -> list[MediaFile]:
    files: list[MediaFile] = []
    for spec in brand.videos:
        path = media_path(brand, spec.key)
        write_video(dest / path, brand, spec)
        data = (dest / path).read_bytes()
        frames = round(spec.seconds * spec.fps)
        files.append(
            MediaFile(
                path=path,
                brand=brand.slug,
                kind="video",
                format="MP4",
                bytes=len(data),
                sha256=sha256_hex(data),
                width=spec.size[0],
                height=spec.size[1],
                fps=spec.fps,
                frames=frames,
                duration_s=frames / spec.fps,
                scene_cuts=len(spec.scenes) - 1,
                has_audio=spec.tone_hz > 0,
            )
        )
    return files


def _write_broken_videos(dest: Path, brand: BrandSpec) -> list[MediaFile]:
    """An HTML error page saved as .mp4, and the head of the brand's first video (written before this)."""
    first_video = (dest / media_path(brand, brand.videos[0].key)).read_bytes()
    broken: dict[str, tuple[str, Literal["html_error_page", "truncated"], bytes]] = {
        "!expired.mp4": ("HTML", "html_error_page", _HTML_ERROR_PAGE.encode()),
        "!truncated.mp4": ("MP4-truncated", "truncated", first_video[:_TRUNCATED_BYTES]),
    }
    files: list[MediaFile] = []
    for key, (fmt, defect, data) in broken.items():
        path = media_path(brand, key)
        (dest / path).write_bytes(data)
        files.append(
            MediaFile(
                path=path,
                brand=brand.slug,
                kind="broken_video",
                format=fmt,
                bytes=len(data),
                sha256=sha256_hex(data),
                defect=defect,
            )
        )
    return files
