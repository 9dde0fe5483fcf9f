"""The two ports the assets know: ``BrandStore`` (rows) and ``BlobStore`` (creative files).

Implementations: ``PostgresStore`` (any Postgres: the embedded default, a local server, a
Supabase project's database URL) and ``SupabaseStore`` (a Supabase project's tables through its
API); ``LocalBlobStore`` (a folder) and ``SupabaseBlobStore`` (a Storage bucket).
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager
from datetime import datetime
from pathlib import Path
from typing import Protocol

from brand_pipeline.domain.ads import AdRecord
from brand_pipeline.domain.brands import Brand
from brand_pipeline.domain.kinds import AnalysisKind, CreativeKind
from brand_pipeline.domain.personas import EvidenceAd, PersonaSynthesis
from brand_pipeline.store.models import (
    AdCreativeLink,
    AdSighting,
    BrandSummary,
    CopyAnalysis,
    CopyToAnalyse,
    Creative,
    CreativeAnalysis,
    CreativeLineage,
    CreativeToAnalyse,
    DanglingAnalysis,
    ItemOutcome,
    ModelCost,
    ModelUsage,
    NewAds,
    PendingAlert,
    PersonaLineage,
    ReportAdRow,
    ScrapeChanges,
    SightedAds,
    StoredAds,
)


class StoreError(RuntimeError):
    """The store refused an operation; the message says which and why.

    ``sqlstate`` is the database's error code when the database refused it (``23503``: a row
    points at one that does not exist), whichever store passed the refusal on.
    """

    def __init__(self, message: str, *, sqlstate: str | None = None) -> None:
        super().__init__(message)
        self.sqlstate = sqlstate


class StoreUnavailable(StoreError):
    """The database cannot be reached; the message names where (never a password) and why."""


class RowMissing(StoreError):
    """An update or delete that should have touched a row touched none (the row does not exist,
    or row-level security hid it): an error, never an empty success."""


class BlobTooLarge(StoreError):
    """A creative is larger than the blob store accepts; it was not uploaded."""


class BrandStore(Protocol):
    """Intention-named, bulk operations on the brand research tables."""

    # brands
    async def upsert_brands(self, brands: Sequence[Brand]) -> None: ...
    async def ensure_brand(self, slug: str) -> Brand: ...
    async def get_brand(self, slug: str) -> Brand | None: ...
    async def list_brands(self, *, include_archived: bool = False) -> list[Brand]: ...
    async def archive_brand(self, slug: str) -> bool: ...

    # scraping and ads over time
    async def begin_scrape(self, brand_slug: str, run_id: str | None, source: str) -> int: ...
    async def sight_ads(
        self, brand_slug: str, sightings: Sequence[AdSighting], run_id: str | None = None, *, scrape_id: int
    ) -> SightedAds: ...
    async def remember_items(self, brand_slug: str, sightings: Sequence[AdSighting]) -> None: ...
    async def upsert_ads(
        self, brand_slug: str, ads: Sequence[AdRecord], run_id: str | None = None, *, scrape_id: int | None = None
    ) -> StoredAds: ...
    async def finish_scrape(
        self, brand_slug: str, scrape_id: int, *, complete: bool, seen: StoredAds
    ) -> ScrapeChanges: ...
    async def stored_slots(self, ad_ids: Sequence[str]) -> set[tuple[str, str]]: ...
    async def known_creatives(self, sha256s: Sequence[str]) -> set[str]: ...
    async def save_creatives(self, creatives: Sequence[Creative], links: Sequence[AdCreativeLink]) -> None: ...
    async def replace_outcomes(
        self, brand_slug: str, asset: str, run_id: str, outcomes: Sequence[ItemOutcome]
    ) -> None: ...
    async def outcomes(self, brand_slug: str, asset: str | None = None) -> list[ItemOutcome]: ...

    # analysis
    async def creatives_to_analyse(
        self, brand_slug: str, kind: CreativeKind, prompt_version: str, *, retry_semantic: bool
    ) -> list[CreativeToAnalyse]: ...
    async def count_creatives(self, brand_slug: str, kind: CreativeKind) -> int: ...
    async def save_analyses(self, analyses: Sequence[CreativeAnalysis]) -> None: ...
    async def copies_to_analyse(
        self, brand_slug: str, prompt_version: str, *, retry_semantic: bool
    ) -> list[CopyToAnalyse]: ...
    async def count_copies(self, brand_slug: str) -> int: ...
    async def save_copy_analyses(self, analyses: Sequence[CopyAnalysis]) -> None: ...

    # personas
    async def brand_evidence(
        self, brand_slug: str, *, video_version: str, image_version: str, copy_version: str
    ) -> list[EvidenceAd]: ...
    async def save_persona_synthesis(self, synthesis: PersonaSynthesis) -> int: ...
    async def latest_persona_synthesis(self, brand_slug: str) -> PersonaSynthesis | None: ...

    # lineage and checks
    async def persona_lineage(self, persona_id: int) -> PersonaLineage | None: ...
    async def creative_lineage(self, sha256_prefix: str) -> CreativeLineage | None: ...
    async def brand_creatives(self, brand_slug: str) -> list[Creative]: ...
    async def ads_missing_creatives(self, brand_slug: str) -> list[str]: ...
    async def dangling_analyses(self, brand_slug: str, kind: AnalysisKind) -> list[DanglingAnalysis]: ...

    # what was paid for
    async def source_run(self, brand_slug: str, run_key: str) -> str | None: ...
    async def record_source_run(
        self, brand_slug: str, run_key: str, source: str, external_run_id: str, dataset_id: str | None, tag: str
    ) -> None: ...
    async def finish_source_run(
        self, brand_slug: str, run_key: str, external_run_id: str, status: str, cost_usd: float, items: int
    ) -> None: ...
    async def record_model_usage(self, usage: Sequence[ModelUsage]) -> None: ...
    async def model_costs(
        self, brand_slug: str | None = None, *, run_ids: Sequence[str] | None = None
    ) -> list[ModelCost]: ...

    # reports and alerts
    async def report_ads(self, brand_slug: str, copy_version: str) -> list[ReportAdRow]: ...
    async def latest_scrape_at(self, brand_slug: str) -> datetime | None: ...
    async def record_alert(self, brand_slug: str, scrape_id: int, ads_started: int, run_url: str | None) -> None: ...
    async def pending_alerts(self, brand_slug: str) -> list[PendingAlert]: ...
    async def finish_alert(self, alert_id: int, *, sent: bool, reason: str | None) -> None: ...

    # sensors and reporting
    async def new_ads_since(self, cursor: int) -> list[NewAds]: ...
    async def brand_summary(self, brand_slug: str) -> BrandSummary: ...


class BlobStore(Protocol):
    """Content-addressed creative files."""

    def staging_dir(self) -> Path:
        """A folder for partial downloads, on the same filesystem as the blobs where possible."""
        ...

    async def put_file(self, source: Path, sha256: str, extension: str) -> str:
        """Move ``source`` into the store under its hash; storing the same bytes twice is a no-op.
        Returns the blob path."""
        ...

    async def exists(self, blob_path: str) -> bool: ...

    def local_path(self, blob_path: str) -> AbstractAsyncContextManager[Path]:
        """A local file with the blob's bytes, valid inside the ``async with``."""
        ...
