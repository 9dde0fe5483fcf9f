"""Rows the store reads and writes. Pydantic, because every one of them crosses a boundary."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from brand_pipeline.sources.records import CreativeKind

BRAND_SLUG_PATTERN = r"^[a-z0-9][a-z0-9-]{0,62}$"

# Outcome of the model ("semantic") part of an analysis.
SemanticStatus = Literal[
    "done",  # the model answered with a valid result
    "skipped",  # not attempted (no key, nothing to analyse); reason says why
    "blocked",  # the model refused (safety, recitation …): final, not retried
    "invalid_reply",  # the reply did not match the schema even after a retry
    "quota_exhausted",  # 429 after every allowed attempt
    "transient_error",  # 5xx / timeout after every allowed attempt
    "permanent_error",  # 4xx or unusable media; retrying the same input will not help
]
# Statuses a later run tries again (a key may have been added, the quota may have reset).
RETRYABLE_SEMANTIC = ("skipped", "invalid_reply", "quota_exhausted", "transient_error")
FactsStatus = Literal["done", "failed", "skipped"]


class Brand(BaseModel):
    slug: str = Field(pattern=BRAND_SLUG_PATTERN)
    name: str = Field(min_length=1)
    facebook_page_id: str | None = None
    ad_library_url: str | None = None
    website: str | None = None
    archived_at: datetime | None = None


class StoredAds(BaseModel):
    """What an ``upsert_ads`` call changed for one brand."""

    new: list[str] = []
    updated: list[str] = []


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
    """A per-item result that produced no normal row (bad record, unusable media)."""

    brand_slug: str
    asset: str
    item_key: str
    status: str
    reason: str
    detail: str | None = None
    run_id: str | None = None


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


class SemanticResult(BaseModel):
    """The model part of one analysis, however it ended."""

    status: SemanticStatus
    reason: str | None = None
    result: dict[str, Any] | None = None
    raw_reply: str | None = None
    model: str | None = None
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0
    attempts: int = 0


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


class EvidenceAd(BaseModel):
    """One ad of a brand with everything known about it, for persona synthesis."""

    ad_archive_id: str
    display_format: str | None
    is_active: bool | None
    start_date: datetime | None
    end_date: datetime | None
    days_running: float
    title: str | None
    body: str | None
    cta_text: str | None
    copy_hash: str | None
    copy_facts: dict[str, Any] | None = None
    copy_semantic: dict[str, Any] | None = None
    creatives: list[dict[str, Any]] = []  # sha256, kind, facts, semantic


class Persona(BaseModel):
    id: int | None = None  # set once stored
    name: str
    profile: dict[str, Any]
    evidence_ad_ids: list[str]
    evidence_creative_shas: list[str] = []
    evidence_copy_hashes: list[str] = []


class PersonaSynthesis(BaseModel):
    brand_slug: str
    prompt_version: str
    status: SemanticStatus
    reason: str | None = None
    evidence: dict[str, Any]
    model: str | None = None
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0
    dropped_citations: int = 0
    personas: list[Persona] = []
    run_id: str | None = None


class NewAds(BaseModel):
    """Ads stored for a brand after a cursor position."""

    brand_slug: str
    newest_seq: int
    count: int
