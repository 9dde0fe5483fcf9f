"""What a report needs, exactly, and what rendering one gives back.

Callers (assets, the CLI) read these from the store; the renderers never touch a store. Every
date is timezone-aware, so "the last 7 days" means the same thing wherever the report is built.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from brand_pipeline.domain.ads import AdDelivery
from brand_pipeline.domain.brands import BRAND_SLUG_PATTERN
from brand_pipeline.domain.kinds import CreativeKind, SemanticStatus
from brand_pipeline.domain.personas import Persona

# Part of every inputs hash: a change to what the pages show re-renders reports whose inputs did not change.
REPORT_VERSION = "brand-report-1"


class ReportCreative(BaseModel):
    """One creative an ad shows: the ``creatives`` row behind an ``ad_creatives`` slot."""

    model_config = ConfigDict(frozen=True)

    slot: str
    kind: CreativeKind
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    blob_path: str


class ReportAd(AdDelivery[AwareDatetime]):
    """One ad of the brand with what the report shows of it: its delivery (dates timezone-aware),
    and ``hook``, ``offers`` and ``cta``, the copy's exact facts; ``angle`` is the copy analysis'
    angle (None without a model)."""

    ad_archive_id: str
    first_seen_at: AwareDatetime | None = None
    last_seen_at: AwareDatetime | None = None
    hook: str | None = None
    offers: list[str] = []
    cta: str | None = None
    angle: str | None = None
    creatives: list[ReportCreative] = []

    def running_at(self, now: AwareDatetime) -> bool:
        """Active now: as the source said, or (when it did not say) no end date yet reached."""
        if self.is_active is not None:
            return self.is_active
        return self.end_date is None or self.end_date > now


class BrandReportInput(BaseModel):
    """Everything one brand's report shows. ``blob_files`` maps a creative's sha256 to a local
    copy of its blob (a missing key shows a placeholder); only which creatives have a file, not
    where, enters the inputs hash.

    ``generated_at`` is the moment the report describes: every "now" (days running, the last 7
    days) is measured from it. Pass the time of the brand's latest scrape rather than the clock,
    and an unchanged store gives an unchanged inputs hash."""

    brand_slug: str = Field(pattern=BRAND_SLUG_PATTERN)
    brand_name: str
    generated_at: AwareDatetime
    ads: list[ReportAd]
    personas: list[Persona] = []
    persona_status: SemanticStatus | None = None  # None: personas were never synthesised
    persona_reason: str | None = None
    model_spend_usd: float = 0.0
    blob_files: dict[str, Path] = {}
    gallery_size: int = Field(default=24, ge=0)  # the longest-running creatives shown

    def inputs_hash(self) -> str:
        payload = self.model_dump(mode="json", exclude={"blob_files"})
        return canonical_hash(payload | {"blob_files": sorted(self.blob_files)})


class ComparisonBrand(BaseModel):
    """One brand in a side-by-side comparison."""

    brand_slug: str = Field(pattern=BRAND_SLUG_PATTERN)
    brand_name: str
    ads: list[ReportAd]
    personas: list[Persona] = []


class BrandHeadline(BaseModel):
    """The brand at a glance, as of ``generated_at``."""

    ads_seen: int
    active_now: int
    started_last_7_days: int
    started_last_30_days: int
    stopped_last_7_days: int
    stopped_last_30_days: int
    median_days_running: float | None
    longest_days_running: float | None
    longest_running_ad_id: str | None
    model_spend_usd: float


class BrandReport(BaseModel):
    html: str
    headline: BrandHeadline
    markdown: str  # the headline as a Markdown table, for a materialisation's preview
    inputs_hash: str


class ComparisonRow(BaseModel):
    """One brand's column of a comparison."""

    brand_slug: str
    brand_name: str
    ads_seen: int
    active_now: int
    launches_per_week: list[int]  # oldest week first, the last one ending at ``generated_at``
    format_mix: dict[str, float]  # share of the brand's ads per display format
    offer_share: float | None  # share of ads whose copy makes an offer; None without ads
    median_days_running: float | None
    top_angles: list[str]
    angles_from: str  # "copy analyses" or "hooks" (no analysed angle yet)
    persona_terms: int  # distinct desire / pain-point words across the brand's personas


class Comparison(BaseModel):
    html: str
    markdown: str
    rows: list[ComparisonRow]
    persona_overlap: dict[str, dict[str, float | None]]  # slug -> slug -> Jaccard index
    inputs_hash: str


def canonical_hash(payload: Any) -> str:
    """sha256 of ``payload`` as canonical JSON (sorted keys, no spaces) with the report version."""
    text = json.dumps({"report_version": REPORT_VERSION, "input": payload}, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()
