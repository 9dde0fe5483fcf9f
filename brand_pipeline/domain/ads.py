"""An ad as the pipeline knows it, whatever source it came from, and the media it shows."""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from datetime import UTC, datetime, timedelta
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field, field_validator

from brand_pipeline.domain.kinds import CreativeKind

_TEMPLATE_VARIABLE = re.compile(r"\{\{\s*[^{}]*?\s*\}\}")


class MediaRef(BaseModel):
    """One creative an ad shows, at a slot that is stable across scrapes of the same ad."""

    model_config = ConfigDict(frozen=True)

    slot: str
    kind: CreativeKind
    url: str


When = TypeVar("When", bound=datetime)


class AdDelivery(BaseModel, Generic[When]):
    """How an ad is shown and when it ran, as its source said: what every view of an ad (the
    scraped record, the report's ad) knows of it. ``When`` is how strictly its dates are typed."""

    model_config = ConfigDict(frozen=True)

    display_format: str | None = None
    is_active: bool | None = None
    start_date: When | None = None
    end_date: When | None = None

    def days_running(self, now: datetime) -> float:
        """Days run as of ``now``: the domain's one definition (``days_running``)."""
        return days_running(self.start_date, self.end_date, now, is_active=self.is_active)


class AdRecord(AdDelivery[datetime]):
    """A validated ad, independent of the source's key style."""

    ad_archive_id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")
    page_id: str | None = None
    page_name: str | None = None
    publisher_platforms: list[str] = []
    collation_id: str | None = None
    collation_count: int | None = None
    title: str | None = None
    body: str | None = None
    caption: str | None = None
    cta_text: str | None = None
    cta_type: str | None = None
    link_url: str | None = None
    link_description: str | None = None
    media: list[MediaRef] = []
    snapshot: dict[str, Any]

    @field_validator("start_date", "end_date", mode="before")
    @classmethod
    def _epoch_seconds(cls, value: Any) -> Any:
        seconds = value if isinstance(value, (int, float)) and not isinstance(value, bool) else None
        if isinstance(value, str) and value.isdigit():
            seconds = int(value)
        if seconds is None:
            return value
        try:
            return datetime.fromtimestamp(seconds, tz=UTC)
        except (OverflowError, OSError, ValueError):
            raise ValueError(f"{value!r} is not a date (epoch seconds out of range)") from None

    @property
    def copy_text(self) -> str:
        """The ad's copy in reading order: primary text (its first line is the hook), headline,
        description, button."""
        parts = [self.body, self.title, self.link_description, self.cta_text]
        return "\n".join(part for part in parts if part)

    @property
    def content_hash(self) -> str:
        """Identity of what the source said about the ad, so an unchanged ad is not rewritten.
        Signed media URLs get a new signature on every scrape: their query strings are left out."""
        body = self.model_dump(mode="json", exclude={"media"})
        body["media"] = [[ref.slot, ref.kind, _unsigned(ref.url)] for ref in self.media]
        body["snapshot"] = _without_signatures(body["snapshot"])
        return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()

    @property
    def copy_hash(self) -> str | None:
        """Identity of the copy, so the same text run on many ads is analysed once."""
        return copy_hash(self.copy_text) if self.copy_text.strip() else None


def _unsigned(url: str) -> str:
    return url.split("?", 1)[0] if url.startswith(("http://", "https://")) else url


def _without_signatures(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _without_signatures(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_without_signatures(item) for item in value]
    return _unsigned(value) if isinstance(value, str) else value


def copy_hash(text: str) -> str:
    normalised = " ".join(unicodedata.normalize("NFKC", text).casefold().split())
    return hashlib.sha256(normalised.encode()).hexdigest()


def template_variables(text: str) -> list[str]:
    """Unfilled dynamic-creative placeholders such as ``{{product.name}}``."""
    return sorted(set(_TEMPLATE_VARIABLE.findall(text)))


def is_running(ad: AdRecord) -> bool:
    """Whether the source shows the ad as running: active, or (when it does not say) without an end."""
    if ad.is_active is not None:
        return ad.is_active
    return ad.end_date is None


def days_running(
    start: datetime | None, end: datetime | None, now: datetime, *, is_active: bool | None = None
) -> float:
    """How many days an ad has run: from its start to its end, or to ``now`` while it is active.

    The one definition every part uses (scrape, evidence, reports). An active ad runs to ``now``
    whatever end date it carries (the Ad Library stamps some active ads with the day of the
    scrape); an end after ``now`` is capped at ``now``; no start date means nothing is known: 0.
    """
    if start is None:
        return 0.0
    stop = now if is_active or end is None else min(end, now)
    return max((stop - start) / timedelta(days=1), 0.0)
