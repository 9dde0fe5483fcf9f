"""The Apify item parser as it was before key conversion was memoised: the oracle of the fast one.

``test_ad_item_equivalence`` checks that ``parse_ad_item`` gives exactly what this gives, and
``benchmarks/parse_items`` measures against it. What the speed-up rewrote is kept here as it was
(only ``reference_parse`` was renamed): the whole item converted before anything is read, the
unmemoised recursive key conversion, and the media walk. The helpers it left untouched (text,
body markup and URL picking, and the URL key lists) are imported from ``ad_items`` rather than
copied, so the comparison checks the rewritten parts, not those shared helpers.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import ValidationError

from brand_pipeline.domain.ads import AdRecord, MediaRef
from brand_pipeline.domain.kinds import CreativeKind
from brand_pipeline.sources.ad_items import (
    _IMAGE_URL_KEYS,
    _VIDEO_URL_KEYS,
    InvalidAdRecord,
    _body_text,
    _first_url,
    _text,
)


def reference_parse(item: Any) -> AdRecord:
    """Validate one Apify Ad Library item (either key style)."""
    if not isinstance(item, dict):
        raise InvalidAdRecord(f"expected a JSON object, got {type(item).__name__}")
    item = snake_keys(item)
    ad_id = item.get("ad_archive_id")
    if ad_id is None or (isinstance(ad_id, str) and not ad_id.strip()):
        raise InvalidAdRecord("missing ad_archive_id")
    snapshot = item.get("snapshot")
    if not isinstance(snapshot, dict):
        raise InvalidAdRecord(
            f"ad {ad_id}: snapshot is {'missing' if snapshot is None else type(snapshot).__name__}, expected an object"
        )
    cards = [card for card in snapshot.get("cards") or [] if isinstance(card, dict)]
    first_card = cards[0] if cards else {}
    platforms = item.get("publisher_platform") or item.get("publisher_platforms") or []
    try:
        return AdRecord(
            ad_archive_id=str(ad_id).strip(),
            page_id=_text(item.get("page_id") or snapshot.get("page_id")),
            page_name=_text(item.get("page_name") or snapshot.get("page_name")),
            is_active=item.get("is_active"),
            start_date=item.get("start_date"),
            end_date=item.get("end_date"),
            publisher_platforms=[str(p) for p in (platforms if isinstance(platforms, list) else [platforms])],
            collation_id=_text(item.get("collation_id")),
            collation_count=item.get("collation_count"),
            title=_text(snapshot.get("title")) or _text(first_card.get("title")),
            body=_body_text(snapshot.get("body")) or _body_text(first_card.get("body")),
            caption=_text(snapshot.get("caption")),
            cta_text=_text(snapshot.get("cta_text")) or _text(first_card.get("cta_text")),
            cta_type=_text(snapshot.get("cta_type")) or _text(first_card.get("cta_type")),
            link_url=_text(snapshot.get("link_url")) or _text(first_card.get("link_url")),
            link_description=_text(snapshot.get("link_description")),
            display_format=_text(snapshot.get("display_format")),
            media=_media(snapshot, cards),
            snapshot=snapshot,
        )
    except ValidationError as error:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'record'}: {e['msg']}" for e in error.errors())
        raise InvalidAdRecord(f"ad {ad_id}: {problems}") from None


def snake_keys(value: Any) -> Any:
    """Recursively turn ``adArchiveID``-style keys into ``ad_archive_id``-style keys."""
    if isinstance(value, dict):
        return {_snake(key) if isinstance(key, str) else key: snake_keys(v) for key, v in value.items()}
    if isinstance(value, list):
        return [snake_keys(v) for v in value]
    return value


def _snake(key: str) -> str:
    key = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1_\2", key)
    key = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", key)
    return key.lower()


def _media(snapshot: dict[str, Any], cards: list[dict[str, Any]]) -> list[MediaRef]:
    refs: list[MediaRef] = []

    def add(slot: str, kind: CreativeKind, entry: Any) -> None:
        if not isinstance(entry, dict):
            return
        url = _first_url(entry, _VIDEO_URL_KEYS if kind == "video" else _IMAGE_URL_KEYS)
        if url:
            refs.append(MediaRef(slot=slot, kind=kind, url=url))

    for name, kind in (("videos", "video"), ("images", "image"), ("extra_videos", "video"), ("extra_images", "image")):
        for index, entry in enumerate(snapshot.get(name) or []):
            add(f"{name}[{index}]", kind, entry)
    for index, card in enumerate(cards):
        add(f"cards[{index}].video", "video", card)
        add(f"cards[{index}].image", "image", card)
    return refs
