"""The spec types the sample's brand tables are written in: brands, ad copy, images, videos and ads."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, NamedTuple

RGB = tuple[int, int, int]


class AdCopy(NamedTuple):
    body: str
    title: str
    description: str  # link_description
    cta: str  # cta_type
    path: str  # landing page path on the brand's domain


class ImageSpec(NamedTuple):
    key: str
    aspect: Literal["square", "portrait", "landscape"]
    fmt: Literal["JPEG", "PNG"]
    motif: str
    text: str


class VideoSpec(NamedTuple):
    key: str
    size: tuple[int, int]
    fps: int
    seconds: float
    tone_hz: int  # 0 = silent
    poster: str  # image key used as video_preview_image_url
    scenes: tuple[tuple[int, int, str], ...]  # (top colour, bottom colour, caption); palette indexes


class AdSpec(NamedTuple):
    copy: str
    fmt: Literal["IMAGE", "VIDEO", "CAROUSEL", "DCO"]
    media: tuple[str, ...]  # image/video keys; "!name.ext" = media/<slug>-name.ext (broken or missing)
    start: str  # ISO date, 2026
    days: int | None  # how long it ran; None = still active
    platforms: str = "FI"  # F(acebook), I(nstagram), A(udience network), M(essenger), T(hreads)
    bad: str | None = None  # intended defect: a BAD_KINDS kind, invalid_snapshot:<missing|null|list>
    markup: bool = False  # older body form: {"markup": {"__html": ...}}


@dataclass(frozen=True)
class BrandSpec:
    slug: str
    name: str
    page_id: str
    domain: str
    category: str
    likes: int
    palette: tuple[RGB, RGB, RGB, RGB]  # dark, mid, light, accent
    keys: Literal["snake", "camel"]
    export_format: Literal["json", "ndjson"]
    copy: dict[str, AdCopy]
    cards: dict[str, tuple[str, str, str]]  # media key -> card (title, body, cta_type)
    images: tuple[ImageSpec, ...]
    videos: tuple[VideoSpec, ...]
    ads: tuple[AdSpec, ...]

    @property
    def export(self) -> str:
        return f"{self.slug}.{self.export_format}"

    @property
    def ad_library_url(self) -> str:
        return (
            "https://www.facebook.com/ads/library/?active_status=all&ad_type=all&country=US"
            f"&view_all_page_id={self.page_id}"
        )
