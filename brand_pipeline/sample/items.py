"""Export items in the shape of the Apify Facebook Ad Library actor, and the export files that hold them."""

from __future__ import annotations

import html
import json
from datetime import UTC, datetime
from typing import Any

from brand_pipeline.sample.media import media_path
from brand_pipeline.sample.specs import AdCopy, AdSpec, BrandSpec

_CTA_TEXT = {
    "SHOP_NOW": "Shop Now",
    "LEARN_MORE": "Learn More",
    "SUBSCRIBE": "Subscribe",
    "ORDER_NOW": "Order Now",
    "GET_OFFER": "Get Offer",
    "SIGN_UP": "Sign Up",
}
_PLATFORMS = {"F": "FACEBOOK", "I": "INSTAGRAM", "A": "AUDIENCE_NETWORK", "M": "MESSENGER", "T": "THREADS"}
_REFERENCE_DAY = "2026-06-02"  # the pretend scrape day; all ads start and end before it
_DAY = 86_400


def _epoch(day: str) -> int:
    """07:00 UTC (midnight Pacific) on an ISO day."""
    return int(datetime.fromisoformat(day).replace(hour=7, tzinfo=UTC).timestamp())


def camel(key: str) -> str:
    """ad_archive_id -> adArchiveID, video_hd_url -> videoHdUrl; keys like __html stay."""
    if key.startswith("_") or "_" not in key:
        return key
    first, *rest = key.split("_")
    return first + "".join("ID" if part == "id" else part.capitalize() for part in rest)


def camelise(value: Any) -> Any:
    """``value`` with every dict key, at any depth, made ``camel``: an item as the actor writes it."""
    if isinstance(value, dict):
        return {camel(k): camelise(v) for k, v in value.items()}
    if isinstance(value, list):
        return [camelise(v) for v in value]
    return value


def _body(text: str, markup: bool) -> dict[str, Any]:
    if markup:
        return {"markup": {"__html": html.escape(text, quote=False).replace("\n", "<br />")}}
    return {"text": text}


def _is_video(brand: BrandSpec, key: str) -> bool:
    return key.endswith(".mp4") or any(v.key == key for v in brand.videos)


def _poster(brand: BrandSpec, key: str) -> str:
    video = next((v for v in brand.videos if v.key == key), brand.videos[0])
    return media_path(brand, video.poster)


def _image_entry(path: str) -> dict[str, Any]:
    return {"original_image_url": path, "resized_image_url": path, "watermarked_resized_image_url": None}


def _video_entry(brand: BrandSpec, key: str) -> dict[str, Any]:
    path = media_path(brand, key)
    return {
        "video_hd_url": path,
        "video_sd_url": path,
        "video_preview_image_url": _poster(brand, key),
        "watermarked_video_hd_url": None,
    }


def _card(brand: BrandSpec, key: str, link: str) -> dict[str, Any]:
    title, body, cta = brand.cards[key]
    video = _is_video(brand, key)
    path = media_path(brand, key)
    return {
        "title": title,
        "body": body,
        "caption": brand.domain,
        "cta_text": _CTA_TEXT[cta],
        "cta_type": cta,
        "link_url": link,
        "link_description": None,
        "original_image_url": None if video else path,
        "resized_image_url": None if video else path,
        "video_hd_url": path if video else None,
        "video_sd_url": path if video else None,
        "video_preview_image_url": _poster(brand, key) if video else None,
    }


def _snapshot(brand: BrandSpec, ad: AdSpec, copy: AdCopy, link: str) -> dict[str, Any]:
    """The ad's creative as the Ad Library shows it: page, copy, call to action and media."""
    media = ad.media
    multi = ad.fmt in ("CAROUSEL", "DCO")
    videos = [] if multi else [_video_entry(brand, k) for k in media if _is_video(brand, k)]
    images = [] if multi else [_image_entry(media_path(brand, k)) for k in media if not _is_video(brand, k)]
    return {
        "page_id": brand.page_id,
        "page_name": brand.name,
        "page_profile_uri": f"https://www.facebook.com/{brand.slug}/",
        "page_like_count": brand.likes,
        "page_categories": [brand.category],
        "body": _body(copy.body, ad.markup),
        "title": copy.title,
        "caption": brand.domain,
        "cta_text": _CTA_TEXT[copy.cta],
        "cta_type": copy.cta,
        "link_url": link,
        "link_description": copy.description,
        "display_format": ad.fmt,
        "images": images[:1],
        "videos": videos[:1],
        "cards": [_card(brand, k, link) for k in media] if multi else [],
        "extra_images": images[1:],
        "extra_videos": videos[1:],
        "extra_links": [],
        "extra_texts": [],
        "byline": None,
        "disclaimer_label": None,
        "is_reshared": False,
    }


def _item(brand: BrandSpec, ad: AdSpec, ad_id: str, collation: tuple[str, int]) -> dict[str, Any]:
    """One Apify item in snake_case."""
    copy = brand.copy[ad.copy]
    start = _epoch(ad.start)
    end = None if ad.days is None else start + ad.days * _DAY
    link = f"https://{brand.domain}{copy.path}?utm_source=facebook&utm_medium=paid_social&utm_content={ad_id}"
    return {
        "ad_archive_id": ad_id,
        "collation_id": collation[0],
        "collation_count": collation[1],
        "page_id": brand.page_id,
        "page_name": brand.name,
        "is_active": end is None,
        "start_date": start,
        "end_date": end,
        "publisher_platform": [_PLATFORMS[p] for p in ad.platforms],
        "categories": ["UNKNOWN"],
        "contains_sensitive_content": False,
        "entity_type": "PERSON_PROFILE",
        "gated_type": "ELIGIBLE",
        "currency": "",
        "total_active_time": (end or _epoch(_REFERENCE_DAY)) - start,
        "snapshot": _snapshot(brand, ad, copy, link),
    }


def _break(item: dict[str, Any], bad: str | None) -> dict[str, Any]:
    """Apply a record-level defect (media and copy defects come from the table itself)."""
    if bad == "missing_ad_id":
        del item["ad_archive_id"]
    elif bad == "invalid_snapshot:missing":
        del item["snapshot"]
    elif bad == "invalid_snapshot:null":
        item["snapshot"] = None
    elif bad == "invalid_snapshot:list":
        item["snapshot"] = []
    return item


def _collations(brand_index: int, brand: BrandSpec) -> dict[int, tuple[str, int]]:
    """Ad index -> (collation id, collation count): ads with the same copy and creatives form one collation."""
    groups: dict[tuple[str, tuple[str, ...]], list[int]] = {}
    for n, ad in enumerate(brand.ads):
        groups.setdefault((ad.copy, ad.media), []).append(n)
    collation = {}
    for g, members in enumerate(groups.values(), start=1):
        for n in members:
            collation[n] = (f"88{brand_index + 1}{g:012d}", len(members))
    return collation


def export_bytes(brand_index: int, brand: BrandSpec) -> bytes:
    """The brand's export file: NDJSON lines or a JSON array, snake_case or camelCase keys."""
    collation = _collations(brand_index, brand)
    items: list[dict[str, Any]] = []
    for n, ad in enumerate(brand.ads):
        item = _break(_item(brand, ad, f"99{brand_index + 1}{n + 1:012d}", collation[n]), ad.bad)
        items.append(camelise(item) if brand.keys == "camel" else item)
    if brand.export_format == "json":
        return (json.dumps(items, ensure_ascii=False, indent=2) + "\n").encode()
    lines = [json.dumps(item, ensure_ascii=False, separators=(",", ":")) for item in items]
    for n, ad in enumerate(brand.ads):
        if ad.bad == "invalid_json":  # an export cut off mid-record
            lines[n] = lines[n][: len(lines[n]) // 2]
    return ("\n".join(lines) + "\n").encode()
