"""Exact facts about an image, measured with Pillow."""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageStat, UnidentifiedImageError
from pydantic import BaseModel

from brand_pipeline.analysis.media_shape import Orientation, aspect_ratio, orientation
from brand_pipeline.analysis.video_facts import MediaDecodeError

FACTS_VERSION = "image-facts-1"
_PALETTE_SIZE = 5


class DominantColour(BaseModel):
    hex: str
    share: float


class ImageFacts(BaseModel):
    width: int
    height: int
    format: str
    aspect_ratio: str
    orientation: Orientation
    has_transparency: bool
    brightness: float  # mean luma, 0 (black) to 1 (white)
    contrast: float  # standard deviation of luma, 0 to ~0.5
    dominant_colours: list[DominantColour]


def image_facts(path: Path) -> ImageFacts:
    try:
        with Image.open(path) as image:
            image.load()
            width, height = image.size
            image_format = image.format or "unknown"
            has_transparency = image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info
            rgb = image.convert("RGB")
    except (UnidentifiedImageError, OSError, SyntaxError) as error:
        raise MediaDecodeError(f"Pillow could not decode the image: {error}") from error
    luma = ImageStat.Stat(rgb.convert("L"))
    return ImageFacts(
        width=width,
        height=height,
        format=image_format,
        aspect_ratio=aspect_ratio(width, height),
        orientation=orientation(width, height),
        has_transparency=has_transparency,
        brightness=round(luma.mean[0] / 255, 3),
        contrast=round(luma.stddev[0] / 255, 3),
        dominant_colours=_dominant_colours(rgb),
    )


def _dominant_colours(rgb: Image.Image) -> list[DominantColour]:
    small = rgb.resize((64, 64))
    quantised = small.quantize(colors=_PALETTE_SIZE, method=Image.Quantize.MEDIANCUT)
    palette = quantised.getpalette() or []
    counts = sorted(quantised.getcolors() or [], reverse=True)
    total = sum(count for count, _ in counts) or 1
    colours = []
    for count, index in counts:
        r, g, b = palette[index * 3 : index * 3 + 3]
        colours.append(DominantColour(hex=f"#{r:02x}{g:02x}{b:02x}", share=round(count / total, 3)))
    return colours
