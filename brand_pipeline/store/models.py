"""Row shapes the store reads and writes, and the typed read models it answers with.

The domain types (``brand_pipeline.domain``) are what the rest of the project speaks; these are
the store's own shapes: work items, stored rows, outcomes, summaries and lineage.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field, model_validator

from brand_pipeline.domain.analysis import SemanticResult
from brand_pipeline.domain.kinds import AnalysisKind, CreativeKind, FactsStatus, OutcomeKind


class StoredAds(BaseModel):
    """What an ``upsert_ads`` call changed for one brand: which ads were new to it, rewritten
    (the source said something new) or unchanged, and which started, stopped or kept running
    since the brand's previous sighting of them."""

    new: list[str] = []
    updated: list[str] = []
    unchanged: list[str] = []
    started: list[str] = []
    stopped: list[str] = []
    still_running: list[str] = []

    def merge(self, other: StoredAds) -> None:
        for field in type(self).model_fields:
            getattr(self, field).extend(getattr(other, field))


class AdSighting(BaseModel):
    """One ad of a scrape as its raw item's hash, before it is parsed (``sight_ads``)."""

    ad_archive_id: str
    item_hash: str


class SightedAds(BaseModel):
    """What a ``sight_ads`` call recognised: ads whose item is the same as last time, sighted
    again without being parsed or rewritten; every other ad given is to be stored in full."""

    unchanged: list[str] = []
    still_running: list[str] = []
    media_stored: int = 0  # creatives the unchanged ads show, all stored

    def as_stored(self) -> StoredAds:
        return StoredAds(unchanged=self.unchanged, still_running=self.still_running)

    def merge(self, other: SightedAds) -> None:
        self.unchanged += other.unchanged
        self.still_running += other.still_running
        self.media_stored += other.media_stored


class ScrapeChanges(BaseModel):
    """What one scrape of a brand found, against the one before it."""

    scrape_id: int
    previous_scrape_id: int | None  # None: the brand's first scrape (everything it found is new)
    complete: bool  # the source listed every ad of the brand, so absent ones stopped
    seen: int
    started: int
    stopped: int
    still_running: int
    no_longer_seen: int  # running before, absent from this complete scrape


class Creative(BaseModel):
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    kind: CreativeKind
    mime_type: str
    size_bytes: int
    blob_path: str


class AdCreativeLink(BaseModel):
    ad_archive_id: str
    slot: str
    sha256: str
    source_url: str | None = None
    run_id: str | None = None


class ItemOutcome(BaseModel):
    """A per-item result that produced no normal row: a bad record, or unusable media of one slot.

    ``item_key`` identifies the item within (brand, asset): a record by a digest of its content, a
    media slot by its ad and slot. The ad and slot are columns of their own, so queries never parse
    the key.
    """

    brand_slug: str
    asset: str
    kind: OutcomeKind
    item_key: str = ""
    ad_archive_id: str | None = None
    slot: str | None = None
    status: str
    reason: str
    detail: str | None = None
    run_id: str | None = None

    @model_validator(mode="after")
    def _key(self) -> ItemOutcome:
        if self.kind == "media":
            if not (self.ad_archive_id and self.slot):
                raise ValueError("a media outcome names its ad and slot")
            self.item_key = f"media:{self.ad_archive_id}:{self.slot}"
        elif not self.item_key:
            raise ValueError("a record outcome needs an item_key")
        return self

    @classmethod
    def for_media(cls, brand_slug: str, asset: str, ad_archive_id: str, slot: str, **fields: Any) -> ItemOutcome:
        return cls(brand_slug=brand_slug, asset=asset, kind="media", ad_archive_id=ad_archive_id, slot=slot, **fields)


class CreativeToAnalyse(BaseModel):
    sha256: str
    kind: CreativeKind
    mime_type: str
    size_bytes: int
    blob_path: str
    ad_ids: list[str]
    copy_text: str | None = None  # the copy of one ad that shows it, as context for the model
    # Facts from an earlier run under this prompt version: reused when only the model part is retried.
    facts: dict[str, Any] | None = None


class CopyToAnalyse(BaseModel):
    copy_hash: str
    copy_text: str
    ad_ids: list[str]
    facts: dict[str, Any] | None = None


class AnalysisRow(BaseModel):
    """What every analysis row holds, whatever it analyses."""

    prompt_version: str
    facts: dict[str, Any] | None
    facts_status: FactsStatus
    facts_error: str | None = None
    semantic: SemanticResult
    ad_ids: list[str]
    run_id: str | None = None


class CreativeAnalysis(AnalysisRow):
    sha256: str
    kind: CreativeKind


class CopyAnalysis(AnalysisRow):
    copy_hash: str
    copy_text: str


class NewAds(BaseModel):
    """Ads stored for a brand after a cursor position."""

    brand_slug: str
    newest_seq: int
    count: int


class BrandSummary(BaseModel):
    """What the store holds for one brand: items found and analysed, per kind."""

    ads: int
    bad_items: int
    videos: int
    images: int
    copies: int
    videos_analysed: int
    images_analysed: int
    copies_analysed: int
    copies_skipped: int
    personas: int

    def found(self, kind: AnalysisKind) -> int:
        """Distinct items of ``kind`` the brand's ads show."""
        return {"video": self.videos, "image": self.images, "copy": self.copies}[kind]

    def analysed(self, kind: AnalysisKind) -> int:
        """Distinct items of ``kind`` with exact facts under some analysis version."""
        return {"video": self.videos_analysed, "image": self.images_analysed, "copy": self.copies_analysed}[kind]


class DanglingAnalysis(BaseModel):
    """An analysis row that names a creative or an ad which does not exist."""

    item: str  # the creative's sha256 or the copy's hash
    ad_id: str | None  # the missing ad; None when the creative itself is missing


class AnalysisTrace(BaseModel):
    """One analysis of an item, as lineage shows it."""

    prompt_version: str
    model: str | None
    facts_status: str
    semantic_status: str
    semantic_reason: str | None
    run_id: str | None
    updated_at: datetime


class CreativeTrace(BaseModel):
    slot: str
    sha256: str
    kind: CreativeKind
    stored_in_run: str | None
    analyses: list[AnalysisTrace] = []


class AdTrace(BaseModel):
    ad_archive_id: str
    display_format: str | None
    start_date: datetime | None
    end_date: datetime | None
    copy_hash: str | None
    scraped_in_run: str | None
    copy_analyses: list[AnalysisTrace] = []
    creatives: list[CreativeTrace] = []


class PersonaHeader(BaseModel):
    id: int
    name: str
    brand_slug: str
    run_id: str | None
    created_at: datetime | None = None
    prompt_version: str | None = None
    model: str | None = None
    status: str | None = None


class PersonaLineage(BaseModel):
    """persona → cited ads → their copy and creatives → every analysis, each with its run."""

    persona: PersonaHeader
    ads: list[AdTrace]


class CreativeShownBy(BaseModel):
    ad_archive_id: str
    slot: str
    stored_in_run: str | None
    brands: list[str]


class CreativeLineage(BaseModel):
    """creative → its analyses → the ads and brands that show it → personas citing it."""

    creative: Creative
    analyses: list[AnalysisTrace]
    ads: list[CreativeShownBy]
    personas: list[PersonaHeader]


class ModelUsage(BaseModel):
    """One model call's usage, attributed to the brand and asset whose step paid for it."""

    brand_slug: str
    asset: str
    run_id: str | None
    model: str
    item_key: str  # the creative's sha256, the copy's hash, or the brand for a synthesis
    status: str
    input_tokens: int
    output_tokens: int
    cost_usd: float
    attempts: int


class ModelCost(BaseModel):
    """What a brand's model calls of one model cost."""

    brand_slug: str
    model: str
    calls: int
    attempts: int
    input_tokens: int
    output_tokens: int
    cost_usd: float


class ReportCreativeRow(BaseModel):
    slot: str
    kind: CreativeKind
    sha256: str
    blob_path: str


class ReportAdRow(BaseModel):
    """One ad of a brand as its report shows it: dates, sightings, copy facts, creatives."""

    ad_archive_id: str
    display_format: str | None
    is_active: bool | None  # running at the brand's last sighting of it
    start_date: datetime | None
    end_date: datetime | None
    first_seen_at: datetime
    last_seen_at: datetime
    hook: str | None
    offers: list[str]
    cta: str | None
    angle: str | None
    creatives: list[ReportCreativeRow]


class PendingAlert(BaseModel):
    """A new-ads alert not yet delivered (a failing webhook is retried by the next scrape)."""

    id: int
    brand_slug: str
    scrape_id: int
    ads_started: int
    run_url: str | None  # the scrape's run in the Dagster UI
    attempts: int
