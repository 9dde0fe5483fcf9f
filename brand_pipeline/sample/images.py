"""Static ad creatives: their sizes, how they are drawn, and their deterministic JPEG/PNG encoding."""

from __future__ import annotations

import io

from PIL import Image, ImageDraw

from brand_pipeline.sample.drawing import MOTIFS, default_font, gradient, ink, part, text_block
from brand_pipeline.sample.specs import BrandSpec, ImageSpec

ASPECTS = {"square": (1080, 1080), "portrait": (1080, 1350), "landscape": (1200, 628)}
SCALE = 0.25  # media are drawn at a quarter of the real ad sizes to keep the set small


def image_size(aspect: str) -> tuple[int, int]:
    w, h = ASPECTS[aspect]
    return round(w * SCALE), round(h * SCALE)


def render_image(brand: BrandSpec, spec: ImageSpec, index: int) -> Image.Image:
    """A static ad creative: gradient, decorative shapes, product motif, headline, brand name."""
    dark, mid, light, accent = brand.palette
    w, h = size = image_size(spec.aspect)
    top, bottom = ((light, mid), (mid, light), (light, accent))[index % 3]
    img = gradient(size, top, bottom, horizontal=index % 2 == 1)
    d = ImageDraw.Draw(img)
    r = min(w, h) // 3
    d.ellipse((w - r, -r // 2, w + r // 2, r), fill=accent)
    d.ellipse((-r // 2, h - r, r, h + r // 2), fill=light, outline=dark, width=2)
    if w > h * 3 // 2:  # landscape: motif left, headline right
        motif, band = (w // 14, h // 7, w * 2 // 5, h * 6 // 7), (w * 9 // 20, h // 4, w - w // 14, h * 3 // 4)
    else:
        motif, band = (w // 4, h // 7, w * 3 // 4, h * 3 // 5), (w // 10, h * 2 // 3, w - w // 10, h - h // 12)
    MOTIFS[spec.motif](d, motif, brand.palette)
    d.rounded_rectangle(band, radius=8, fill=dark)
    text_block(d, spec.text, part(band, 0.06, 0.0, 0.94, 1.0), max(12, min(w, h) // 13), light)
    d.text((8, 6), brand.name.upper(), font=default_font(10), fill=ink(top))
    return img


def encode_image(img: Image.Image, fmt: str) -> bytes:
    buf = io.BytesIO()
    if fmt == "JPEG":
        img.save(buf, "JPEG", quality=85, optimize=False, progressive=False)
    else:
        img.save(buf, "PNG", compress_level=9)
    return buf.getvalue()
