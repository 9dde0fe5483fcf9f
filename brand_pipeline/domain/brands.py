"""A brand under research: one Dagster partition, keyed by its slug."""

from __future__ import annotations

from datetime import datetime
from urllib.parse import parse_qs, urlsplit

from pydantic import BaseModel, Field

BRAND_SLUG_PATTERN = r"^[a-z0-9][a-z0-9-]{0,62}$"


class Brand(BaseModel):
    slug: str = Field(pattern=BRAND_SLUG_PATTERN)
    name: str = Field(min_length=1)
    facebook_page_id: str | None = None
    ad_library_url: str | None = None
    website: str | None = None
    group: str | None = Field(default=None, max_length=64)  # e.g. a brand and its competitors
    archived_at: datetime | None = None


class NotAnAdLibraryUrl(ValueError):
    """A URL that is not a Meta Ad Library URL; the message says why."""


_AD_LIBRARY_HOSTS = {"facebook.com", "www.facebook.com", "m.facebook.com", "web.facebook.com"}


def page_id_from_ad_library_url(url: str) -> str | None:
    """The Facebook page id in a Meta Ad Library URL (``view_all_page_id``), or None for a search
    URL without one. Raises ``NotAnAdLibraryUrl`` for anything else."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https"):
        raise NotAnAdLibraryUrl(f"{url!r} is not a web address (expected https://www.facebook.com/ads/library/?…)")
    if (parts.hostname or "").lower() not in _AD_LIBRARY_HOSTS:
        raise NotAnAdLibraryUrl(f"{parts.hostname!r} is not facebook.com: the Ad Library lives at facebook.com")
    if not parts.path.rstrip("/").endswith("/ads/library"):
        raise NotAnAdLibraryUrl(f"the path {parts.path!r} is not the Ad Library's (/ads/library/)")
    page_ids = parse_qs(parts.query).get("view_all_page_id") or [""]
    page_id = page_ids[0].strip()
    if page_id and not page_id.isdigit():
        raise NotAnAdLibraryUrl(f"view_all_page_id={page_id!r} is not a page id (page ids are numbers)")
    return page_id or None
