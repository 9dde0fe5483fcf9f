"""Customer personas and the evidence they rest on: the brand's ads and what was learnt of each."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel

from brand_pipeline.domain.kinds import CreativeKind, SemanticStatus


class EvidenceCreative(BaseModel):
    """One creative an evidence ad shows, with its exact facts and the model's reading (if any)."""

    slot: str
    sha256: str
    kind: CreativeKind
    facts: dict[str, Any] | None = None
    semantic: dict[str, Any] | None = None


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
    creatives: list[EvidenceCreative] = []


class Persona(BaseModel):
    id: int | None = None  # set once stored
    name: str
    profile: dict[str, Any]
    evidence_ad_ids: list[str]
    evidence_creative_shas: list[str] = []
    evidence_copy_hashes: list[str] = []


class PersonaSynthesis(BaseModel):
    """One synthesis of a brand's personas: the outcome, the evidence summary, and its cost.

    ``inputs_hash`` identifies what it was made from (the evidence shown, the prompt version, the
    model): the same inputs never need another paid call.
    """

    id: int | None = None  # set once stored
    brand_slug: str
    prompt_version: str
    status: SemanticStatus
    reason: str | None = None
    evidence: dict[str, Any]
    model: str | None = None
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0
    attempts: int = 0  # model calls made for it (not stored: usage is kept per call)
    dropped_citations: int = 0
    personas: list[Persona] = []
    run_id: str | None = None
    inputs_hash: str | None = None
