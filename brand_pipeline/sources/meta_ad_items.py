"""Ads from the Ad Library API (``ads_archive``) in the Apify item shape ``parse_ad_item`` reads.

The API gives no media URLs, so every ad is text only (``display_format`` TEXT). What the Apify
shape has no place for is kept in the snapshot, which is stored with the ad: every dynamic-creative
variant under ``variants``, the EU reach and targeting fields under ``meta_reach``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import httpx
from pydantic import BaseModel, ConfigDict, Field, field_validator

GRAPH_FIELDS = (
    "id", "ad_creative_bodies", "ad_creative_link_titles", "ad_creative_link_captions",
    "ad_creative_link_descriptions", "ad_delivery_start_time", "ad_delivery_stop_time", "ad_snapshot_url",
    "page_id", "page_name", "publisher_platforms", "languages", "eu_total_reach", "target_ages",
    "target_gender", "target_locations", "age_country_gender_reach_breakdown", "beneficiary_payers",
)  # fmt: skip


class GraphAd(BaseModel):
    """One ``ads_archive`` ad, as far as the source reads it."""

    model_config = ConfigDict(coerce_numbers_to_str=True)

    id: str = Field(min_length=1)
    page_id: str | None = None
    page_name: str | None = None
    ad_creative_bodies: list[str] = []
    ad_creative_link_titles: list[str] = []
    ad_creative_link_captions: list[str] = []
    ad_creative_link_descriptions: list[str] = []
    ad_delivery_start_time: datetime | None = None
    ad_delivery_stop_time: datetime | None = None
    ad_snapshot_url: str | None = None
    publisher_platforms: list[str] = []
    languages: list[str] = []
    eu_total_reach: int | None = None
    target_ages: list[str] = []
    target_gender: str | None = None
    target_locations: list[dict[str, Any]] = []
    age_country_gender_reach_breakdown: list[dict[str, Any]] = []
    beneficiary_payers: list[dict[str, Any]] = []

    @field_validator("ad_delivery_start_time", "ad_delivery_stop_time", mode="before")
    @classmethod
    def _graph_time(cls, value: Any) -> Any:
        # Graph sends "2026-03-02" or "2026-03-02T00:00:00+0000"; both are UTC.
        if isinstance(value, str) and value.strip():
            parsed = datetime.fromisoformat(value.strip())
            return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
        return value or None


def apify_item(ad: GraphAd, now: datetime, redact: Callable[[str], str]) -> dict[str, Any]:
    """The ad in the Apify Ad Library item shape ``parse_ad_item`` reads."""
    stop = ad.ad_delivery_stop_time
    snapshot = {
        "page_id": ad.page_id,
        "page_name": ad.page_name,
        "body": {"text": ad.ad_creative_bodies[0]} if ad.ad_creative_bodies else None,
        "title": _first(ad.ad_creative_link_titles),
        "caption": _first(ad.ad_creative_link_captions),
        "link_description": _first(ad.ad_creative_link_descriptions),
        "display_format": "TEXT",  # the API gives no media URLs
        "ad_snapshot_url": _without_token(ad.ad_snapshot_url, redact),
        "images": [],
        "videos": [],
        "cards": [],
        "variants": {  # dynamic creative: every body, title, caption and description it rotates
            "bodies": ad.ad_creative_bodies,
            "link_titles": ad.ad_creative_link_titles,
            "link_captions": ad.ad_creative_link_captions,
            "link_descriptions": ad.ad_creative_link_descriptions,
        },
        "meta_reach": {
            "eu_total_reach": ad.eu_total_reach,
            "languages": ad.languages,
            "target_ages": ad.target_ages,
            "target_gender": ad.target_gender,
            "target_locations": ad.target_locations,
            "age_country_gender_reach_breakdown": ad.age_country_gender_reach_breakdown,
            "beneficiary_payers": ad.beneficiary_payers,
        },
        "source": "meta_ad_library_api",
    }
    return {
        "ad_archive_id": ad.id,
        "page_id": ad.page_id,
        "page_name": ad.page_name,
        "is_active": stop is None or stop > now,
        "start_date": _epoch(ad.ad_delivery_start_time),
        "end_date": _epoch(stop),
        "publisher_platform": [platform.upper() for platform in ad.publisher_platforms],  # Apify spells them so
        "ad_library_url": f"https://www.facebook.com/ads/library/?id={ad.id}",
        "snapshot": snapshot,
    }


def _first(values: list[str]) -> str | None:
    return values[0] if values else None


def _epoch(moment: datetime | None) -> int | None:
    return int(moment.timestamp()) if moment else None


def _without_token(url: str | None, redact: Callable[[str], str]) -> str | None:
    # Graph signs snapshot links with the caller's token; the stored link must not carry it.
    if not url:
        return None
    try:
        return str(httpx.URL(url).copy_remove_param("access_token"))
    except httpx.InvalidURL:
        return redact(url)
