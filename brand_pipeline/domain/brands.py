"""A brand under research: one Dagster partition, keyed by its slug."""

from __future__ import annotations

from datetime import datetime

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
