"""Ad Library items as they enter the pipeline: Apify-style items, validated into ``AdRecord``.

Items arrive in two key styles (``ad_archive_id``/``adArchiveID``, ``page_id``/``pageID`` …) and
with media in several places (``images``, ``videos``, ``cards``, ``extra_*``). ``parse_ad_item``
turns any of them into one shape, or raises ``InvalidAdRecord`` with a reason a person can act on.
"""

from __future__ import annotations

import functools
import hashlib
import html
import re
from typing import Any

import orjson
from pydantic import ValidationError

from brand_pipeline.domain.ads import AdRecord, MediaRef
from brand_pipeline.domain.kinds import CreativeKind
from brand_pipeline.store.models import AdSighting

_IMAGE_URL_KEYS = ("original_image_url", "resized_image_url", "watermarked_resized_image_url")
_VIDEO_URL_KEYS = ("video_hd_url", "video_sd_url", "watermarked_video_hd_url", "watermarked_video_sd_url")
_TAG = re.compile(r"<[^>]+>")
# Where a snapshot lists its media, in slot order, and which URL keys each kind is read from.
_MEDIA_LISTS: tuple[tuple[str, CreativeKind, tuple[str, ...]], ...] = (
    ("videos", "video", _VIDEO_URL_KEYS),
    ("images", "image", _IMAGE_URL_KEYS),
    ("extra_videos", "video", _VIDEO_URL_KEYS),
    ("extra_images", "image", _IMAGE_URL_KEYS),
)
# The top-level fields the parser reads; everything else outside the snapshot is ignored.
_TOP_FIELDS = (
    "page_id", "page_name", "is_active", "start_date", "end_date", "publisher_platform", "publisher_platforms",
    "collation_id", "collation_count",
)  # fmt: skip


class InvalidAdRecord(ValueError):
    """An item that cannot become an ad; the message says why."""


def parse_ad_item(item: Any) -> AdRecord:
    """Validate one Apify Ad Library item (either key style)."""
    try:
        return _parse(item)
    except RecursionError:  # a hostile item nested thousands deep
        raise InvalidAdRecord("the item is nested too deeply to be an ad") from None


def _parse(item: Any) -> AdRecord:
    if not isinstance(item, dict):
        raise InvalidAdRecord(f"expected a JSON object, got {type(item).__name__}")
    # Keys of the top level only: the few values read from it are converted when read, and the
    # snapshot (stored with the ad) is converted whole. The rest of the item is never looked at.
    top = {_snake(key) if isinstance(key, str) else key: value for key, value in item.items()}
    ad_id = snake_keys(top.get("ad_archive_id"))
    if ad_id is None or (isinstance(ad_id, str) and not ad_id.strip()):
        raise InvalidAdRecord("missing ad_archive_id")
    snapshot = snake_keys(top.get("snapshot"))
    if not isinstance(snapshot, dict):
        raise InvalidAdRecord(
            f"ad {ad_id}: snapshot is {'missing' if snapshot is None else type(snapshot).__name__}, expected an object"
        )
    try:
        return AdRecord(**_record_fields(str(ad_id).strip(), top, snapshot))
    except ValidationError as error:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'record'}: {e['msg']}" for e in error.errors())
        raise InvalidAdRecord(f"ad {ad_id}: {problems}") from None


def _record_fields(ad_id: str, top: dict[str, Any], snapshot: dict[str, Any]) -> dict[str, Any]:
    """``AdRecord``'s fields, not validated yet, from an item whose top-level keys are snake_case."""
    item = {key: snake_keys(top.get(key)) for key in _TOP_FIELDS}
    cards = [card for card in snapshot.get("cards") or [] if isinstance(card, dict)]
    first_card = cards[0] if cards else {}
    platforms = item.get("publisher_platform") or item.get("publisher_platforms") or []
    return {
        "ad_archive_id": ad_id,
        "page_id": _text(item.get("page_id") or snapshot.get("page_id")),
        "page_name": _text(item.get("page_name") or snapshot.get("page_name")),
        "is_active": item.get("is_active"),
        "start_date": item.get("start_date"),
        "end_date": item.get("end_date"),
        "publisher_platforms": [str(p) for p in (platforms if isinstance(platforms, list) else [platforms])],
        "collation_id": _text(item.get("collation_id")),
        "collation_count": item.get("collation_count"),
        "title": _text(snapshot.get("title")) or _text(first_card.get("title")),
        "body": _body_text(snapshot.get("body")) or _body_text(first_card.get("body")),
        "caption": _text(snapshot.get("caption")),
        "cta_text": _text(snapshot.get("cta_text")) or _text(first_card.get("cta_text")),
        "cta_type": _text(snapshot.get("cta_type")) or _text(first_card.get("cta_type")),
        "link_url": _text(snapshot.get("link_url")) or _text(first_card.get("link_url")),
        "link_description": _text(snapshot.get("link_description")),
        "display_format": _text(snapshot.get("display_format")),
        "media": _media(snapshot, cards),
        "snapshot": snapshot,
    }


def snake_keys(value: Any) -> Any:
    """Recursively turn ``adArchiveID``-style keys into ``ad_archive_id``-style keys."""
    if isinstance(value, dict):
        return _snake_dict(value)
    if isinstance(value, list):
        return _snake_list(value)
    return value


# snake_keys unrolled: most values are strings, numbers or None, so they are tested inline rather
# than each paying a function call.
def _snake_dict(value: dict[Any, Any]) -> dict[Any, Any]:
    converted = {}
    for key, item in value.items():
        if isinstance(item, dict):
            item = _snake_dict(item)
        elif isinstance(item, list):
            item = _snake_list(item)
        converted[_snake(key) if isinstance(key, str) else key] = item
    return converted


def _snake_list(value: list[Any]) -> list[Any]:
    return [
        _snake_dict(item) if isinstance(item, dict) else _snake_list(item) if isinstance(item, list) else item
        for item in value
    ]


# Keys repeat across items (Apify's ~80 are the same in every one), so each is converted once;
# bounded, so items with ever-new keys cannot grow it without limit.
@functools.lru_cache(maxsize=8192)
def _snake(key: str) -> str:
    key = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1_\2", key)
    key = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", key)
    return key.lower()


def _text(value: Any) -> str | None:
    if value is None or isinstance(value, (dict, list)):
        return None
    text = str(value).strip()
    return text or None


def _body_text(body: Any) -> str | None:
    if isinstance(body, str):
        return _text(body)
    if not isinstance(body, dict):
        return None
    if body.get("text"):
        return _text(body["text"])
    markup = body.get("markup")
    if isinstance(markup, dict) and markup.get("__html"):
        return _text(html.unescape(_TAG.sub(" ", str(markup["__html"]))).replace("  ", " "))
    return None


def _first_url(entry: dict[str, Any], keys: tuple[str, ...]) -> str | None:
    for key in keys:
        url = entry.get(key)
        if isinstance(url, str) and url.strip():
            return url.strip()
    return None


def _media(snapshot: dict[str, Any], cards: list[dict[str, Any]]) -> list[MediaRef]:
    refs: list[MediaRef] = []
    for name, kind, keys in _MEDIA_LISTS:
        for index, entry in enumerate(snapshot.get(name) or ()):
            if isinstance(entry, dict) and (url := _first_url(entry, keys)):
                refs.append(MediaRef(slot=f"{name}[{index}]", kind=kind, url=url))
    for index, card in enumerate(cards):
        if url := _first_url(card, _VIDEO_URL_KEYS):
            refs.append(MediaRef(slot=f"cards[{index}].video", kind="video", url=url))
        if url := _first_url(card, _IMAGE_URL_KEYS):
            refs.append(MediaRef(slot=f"cards[{index}].image", kind="image", url=url))
    return refs


# Bump when parse_ad_item reads items differently: every ad's item hash changes, so the next scrape
# parses and stores each ad again instead of keeping what an older parser made of it.
PARSER_VERSION = "ad-items-1"
_HASHED_TOP_FIELDS = frozenset((*_TOP_FIELDS, "ad_archive_id", "snapshot"))
# A JSON string value that is a URL with a query: the query (a CDN's short-lived signature) is left
# out of the hash, as it changes on every scrape while the creative does not.
_SIGNED_URL_VALUE = re.compile(rb'(?<![\\])"(https?://[^"?]*)\?[^"]*"')
_PARSER_VERSION_PREFIX = PARSER_VERSION.encode() + b"\0"


def item_sighting(item: Any) -> AdSighting | None:
    """The ad id and item hash of a raw item, without parsing it: the same hash means the parser
    would make the same ad of it. None for an item that is not plainly an ad (parsing says why)."""
    if not isinstance(item, dict):
        return None
    read = {}
    for key, value in item.items():
        if isinstance(key, str) and (name := _snake(key)) in _HASHED_TOP_FIELDS:
            read[name] = value
    ad_id = read.get("ad_archive_id")
    if isinstance(ad_id, bool) or not isinstance(ad_id, (str, int)) or not str(ad_id).strip():
        return None
    try:  # orjson: the encoding is most of a re-scrape's work, and it is 5x faster than json's
        text = orjson.dumps(read, option=orjson.OPT_SORT_KEYS)
    except (TypeError, orjson.JSONEncodeError):  # not plain JSON (a huge integer, nested too deep)
        return None
    digest = hashlib.sha256(_PARSER_VERSION_PREFIX + _SIGNED_URL_VALUE.sub(rb'"\1"', text)).hexdigest()
    return AdSighting(ad_archive_id=str(ad_id).strip(), item_hash=digest)
