"""Pillow drawing helpers shared by images and video frames: boxes, gradients, text, product motifs."""

from __future__ import annotations

from functools import cache

from PIL import Image, ImageDraw, ImageFont

from brand_pipeline.sample.specs import RGB

Box = tuple[int, int, int, int]


@cache
def default_font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    """Pillow's bundled font at `size`, loaded once per size."""
    return ImageFont.load_default(size=size)


def part(box: Box, x0: float, y0: float, x1: float, y1: float) -> Box:
    """The sub-box of `box` between fractions (x0, y0) and (x1, y1)."""
    bx, by, ex, ey = box
    w, h = ex - bx, ey - by
    return (bx + int(w * x0), by + int(h * y0), bx + int(w * x1), by + int(h * y1))


def gradient(size: tuple[int, int], top: RGB, bottom: RGB, horizontal: bool = False) -> Image.Image:
    mask = Image.linear_gradient("L")  # 256x256, black at the top, white at the bottom
    if horizontal:
        mask = mask.transpose(Image.Transpose.ROTATE_90)
    mask = mask.resize(size, Image.Resampling.BILINEAR)
    return Image.composite(Image.new("RGB", size, bottom), Image.new("RGB", size, top), mask)


def ink(*colours: RGB) -> RGB:
    """Black-ish or white-ish text, whichever reads better on the average of `colours`."""
    luma = sum(299 * c[0] + 587 * c[1] + 114 * c[2] for c in colours) // (1000 * len(colours))
    return (24, 20, 18) if luma > 140 else (250, 248, 244)


def text_block(draw: ImageDraw.ImageDraw, text: str, box: Box, size: int, fill: RGB) -> None:
    """Word-wrap `text` into `box`, centred."""
    font = default_font(size)
    width = box[2] - box[0]
    lines: list[str] = []
    for word in text.split():
        trial = f"{lines[-1]} {word}" if lines else word
        if lines and draw.textlength(trial, font=font) <= width:
            lines[-1] = trial
        else:
            lines.append(word)
    step = int(size * 1.25)
    y = (box[1] + box[3]) // 2 - step * len(lines) // 2
    for line in lines:
        x = (box[0] + box[2]) // 2 - int(draw.textlength(line, font=font)) // 2
        draw.text((x, y), line, font=font, fill=fill)
        y += step


def _mug(d: ImageDraw.ImageDraw, box: Box, pal: tuple[RGB, ...]) -> None:
    w = box[2] - box[0]
    d.ellipse(part(box, 0.55, 0.42, 0.9, 0.8), outline=pal[0], width=max(3, w // 14))
    d.rounded_rectangle(part(box, 0.12, 0.3, 0.72, 1.0), radius=max(4, w // 10), fill=pal[0])
    d.rectangle(part(box, 0.12, 0.55, 0.72, 0.68), fill=pal[3])
    for i in range(3):
        d.arc(part(box, 0.2 + 0.16 * i, 0.0, 0.32 + 0.16 * i, 0.26), 90, 270, fill=pal[2], width=3)


def _beans(d: ImageDraw.ImageDraw, box: Box, pal: tuple[RGB, ...]) -> None:
    for x, y in ((0.05, 0.1), (0.45, 0.3), (0.15, 0.58)):
        bean = part(box, x, y, x + 0.45, y + 0.34)
        d.ellipse(bean, fill=pal[0], outline=pal[2], width=2)
        d.arc(part(bean, 0.3, 0.1, 0.7, 0.9), 300, 60, fill=pal[1], width=3)


def _mountains(d: ImageDraw.ImageDraw, box: Box, pal: tuple[RGB, ...]) -> None:
    bx, by, ex, ey = box
    w, h = ex - bx, ey - by
    d.ellipse(part(box, 0.62, 0.0, 0.9, 0.28), fill=pal[3])
    d.polygon([(bx, ey), (bx + w * 3 // 8, by + h // 5), (bx + w * 3 // 4, ey)], fill=pal[0])
    d.polygon([(bx + w * 2 // 5, ey), (bx + w * 7 // 10, by + h * 2 // 5), (ex, ey)], fill=pal[1])
    d.polygon(
        [(bx + w * 3 // 8, by + h // 5), (bx + w * 3 // 10, by + h * 2 // 5), (bx + w * 9 // 20, by + h * 2 // 5)],
        fill=pal[2],
    )


def _pack(d: ImageDraw.ImageDraw, box: Box, pal: tuple[RGB, ...]) -> None:
    w = box[2] - box[0]
    d.rounded_rectangle(part(box, 0.22, 0.12, 0.78, 1.0), radius=max(4, w // 8), fill=pal[3])
    d.rounded_rectangle(part(box, 0.2, 0.08, 0.8, 0.3), radius=max(3, w // 12), fill=pal[0])
    d.rounded_rectangle(part(box, 0.32, 0.55, 0.68, 0.88), radius=max(3, w // 16), fill=pal[0])
    d.line(part(box, 0.3, 0.3, 0.3, 0.95), fill=pal[2], width=2)
    d.line(part(box, 0.7, 0.3, 0.7, 0.95), fill=pal[2], width=2)


def _bottle(d: ImageDraw.ImageDraw, box: Box, pal: tuple[RGB, ...]) -> None:
    w = box[2] - box[0]
    d.rectangle(part(box, 0.42, 0.0, 0.58, 0.16), fill=pal[0])
    d.rectangle(part(box, 0.45, 0.16, 0.55, 0.26), fill=pal[1])
    d.rounded_rectangle(part(box, 0.28, 0.26, 0.72, 1.0), radius=max(4, w // 9), fill=pal[2], outline=pal[0], width=2)
    d.rectangle(part(box, 0.33, 0.5, 0.67, 0.75), fill=pal[3])


def _drops(d: ImageDraw.ImageDraw, box: Box, pal: tuple[RGB, ...]) -> None:
    for x, y, s, c in ((0.1, 0.35, 0.35, pal[3]), (0.5, 0.15, 0.4, pal[0]), (0.45, 0.62, 0.25, pal[1])):
        bx, by, ex, ey = part(box, x, y, x + s, y + s)
        r = (ex - bx) // 2
        d.polygon([(bx, by + r), (bx + r, by - r), (ex, by + r)], fill=c)
        d.ellipse((bx, by, ex, ey), fill=c)


MOTIFS = {"mug": _mug, "beans": _beans, "mountains": _mountains, "pack": _pack, "bottle": _bottle, "drops": _drops}
