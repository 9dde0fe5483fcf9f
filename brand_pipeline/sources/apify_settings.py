"""What an Apify Ad Library scrape is configured with, and the actor input built from it.

The actor (by default ``curious_coder/facebook-ads-library-scraper``) takes its page filters as keys
with literal dots in them (``"scrapePageAds.countryCode"``); they are not nested objects.
"""

from __future__ import annotations

import uuid
from typing import Any, Literal
from urllib.parse import quote

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

from brand_pipeline.domain.brands import Brand
from brand_pipeline.redaction import non_blank_secret
from brand_pipeline.sources.base import SourceError

DEFAULT_ACTOR_ID = "curious_coder/facebook-ads-library-scraper"
DEFAULT_API_URL = "https://api.apify.com"
TOKEN_ENV = "APIFY_TOKEN"
# An input key the actor does not read: it tags the run so a start whose reply was lost can be found.
RUN_TAG_KEY = "brandPipelineRunTag"
RUN_TAG_PREFIX = "brand_pipeline"

ActiveStatus = Literal["all", "active", "inactive"]
Period = Literal["", "last24h", "last7d", "last14d", "last30d"]
SortBy = Literal["impressions_desc", "most_recent"]


class ApifyScrape(BaseModel):
    """What to ask the actor for and how to reach Apify: everything but the token. Each field can
    be set as ``BRAND_PIPELINE_APIFY_<FIELD>``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    actor_id: str = Field(default=DEFAULT_ACTOR_ID, pattern=r"^[\w.-]+(/[\w.-]+)?$")
    api_url: str = Field(default=DEFAULT_API_URL, pattern=r"^https?://", description="API base; /v2 is appended.")
    count: int = Field(default=200, ge=10, description="Most ads scraped per brand (the actor refuses < 10).")
    scrape_ad_details: bool = Field(default=False, description="Also open each ad's detail view (slower, dearer).")
    active_status: ActiveStatus = "all"
    country_code: str = Field(default="ALL", pattern=r"^(ALL|[A-Z]{2})$")
    period: Period = Field(default="", description='"" for any time, else only ads of the last 24 h … 30 days.')
    sort_by: SortBy = "impressions_desc"
    wait_timeout_s: float = Field(default=3600.0, gt=0, description="Longest wait for the run to finish.")
    usd_per_1000_items: float = Field(default=0.75, ge=0, description="Price used when Apify reports no cost.")
    fresh_scrape: bool = Field(default=False, description="Start a new run even if one was recorded for the brand.")
    start_timeout_s: float = Field(default=60.0, gt=0, description="Longest wait for the reply to a start.")
    read_retries: int = Field(default=4, ge=0, description="Retries of a failed read (status, dataset, listing).")
    retry_backoff_s: float = Field(default=0.5, gt=0, description="First delay between retries; doubles each time.")
    find_run_attempts: int = Field(default=3, ge=1, description="Listings tried to find a run whose start failed.")


class ApifySettings(ApifyScrape):
    """``ApifyScrape`` plus the token, which never shows in repr or dumps."""

    token: SecretStr = Field(description=f"Apify API token ({TOKEN_ENV}).")

    @field_validator("token")
    @classmethod
    def _token_present(cls, token: SecretStr) -> SecretStr:
        return non_blank_secret(token, f"is empty; set {TOKEN_ENV}")


def ad_library_url(brand: Brand, settings: ApifySettings) -> str:
    """The brand's own Ad Library URL, else one built from its Facebook page id."""
    if brand.ad_library_url and brand.ad_library_url.strip():
        return brand.ad_library_url.strip()
    if brand.facebook_page_id and brand.facebook_page_id.strip():
        page_id = quote(brand.facebook_page_id.strip(), safe="")
        return (
            "https://www.facebook.com/ads/library/?active_status=all&ad_type=all"
            f"&country={settings.country_code}&view_all_page_id={page_id}"
        )
    raise SourceError(
        f"brand {brand.slug!r} has neither ad_library_url nor facebook_page_id; set one to scrape it from Apify"
    )


def run_tag(brand: Brand, run_key: str | None = None) -> str:
    """A tag unique to this scrape of this brand (``run_key``: e.g. the Dagster run id)."""
    return f"{RUN_TAG_PREFIX}:{brand.slug}:{run_key or uuid.uuid4().hex}"


def actor_input(brand: Brand, settings: ApifySettings, tag: str) -> dict[str, Any]:
    """The run input for one brand; the dotted keys are literal keys of the actor's input schema."""
    return {
        "urls": [{"url": ad_library_url(brand, settings)}],
        "count": settings.count,
        "scrapeAdDetails": settings.scrape_ad_details,
        "scrapePageAds.activeStatus": settings.active_status,
        "scrapePageAds.countryCode": settings.country_code,
        "scrapePageAds.period": settings.period,
        "scrapePageAds.sortBy": settings.sort_by,
        RUN_TAG_KEY: tag,
    }
