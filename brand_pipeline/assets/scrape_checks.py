"""The scrape's blocking checks, declared on ``scraped_ads`` and evaluated in its store session.

Declared on the asset (not as separate ``@asset_check`` steps) so that a run scraping a batch of
brands checks each of them with the pool it already holds, instead of opening one pool per check.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import dagster as dg

from brand_pipeline.assets.check_metadata import check_metadata
from brand_pipeline.partitions import brands_partitions
from brand_pipeline.resources.supabase import Storage

# Partitioned asset checks are marked preview in Dagster 1.13; they are what lets a check run per
# brand, so we use them and keep the notice out of every log.
warnings.filterwarnings("ignore", message="Specifying a partitions_def on an AssetCheckSpec")

SCRAPED_ADS = dg.AssetKey("scraped_ads")
CREATIVES_HAVE_THEIR_FILES = "creatives_have_their_files"
ADS_WITH_MEDIA_HAVE_CREATIVES = "ads_with_media_have_creatives"

SCRAPE_CHECK_SPECS = [
    dg.AssetCheckSpec(
        CREATIVES_HAVE_THEIR_FILES,
        asset=SCRAPED_ADS,
        blocking=True,
        partitions_def=brands_partitions,
        description="Every creative of the brand's ads has its file in the blob store.",
    ),
    dg.AssetCheckSpec(
        ADS_WITH_MEDIA_HAVE_CREATIVES,
        asset=SCRAPED_ADS,
        blocking=True,
        partitions_def=brands_partitions,
        description="No ad that shows media is left without a stored creative or a recorded reason why not.",
    ),
]


@dataclass(frozen=True)
class CheckOutcome:
    name: str
    passed: bool
    metadata: dict[str, dg.RawMetadataValue]


async def creatives_have_their_files(storage: Storage, brand_slug: str) -> CheckOutcome:
    creatives = await storage.store.brand_creatives(brand_slug)
    missing = [
        f"{c.sha256[:12]} ({c.kind}) → {c.blob_path}" for c in creatives if not await storage.blobs.exists(c.blob_path)
    ]
    return CheckOutcome(CREATIVES_HAVE_THEIR_FILES, not missing, check_metadata(missing, len(creatives), "creative"))


async def ads_with_media_have_creatives(storage: Storage, brand_slug: str) -> CheckOutcome:
    orphans = await storage.store.ads_missing_creatives(brand_slug)
    total = (await storage.store.brand_summary(brand_slug)).ads
    problems = [f"ad {ad_id}" for ad_id in orphans]
    return CheckOutcome(ADS_WITH_MEDIA_HAVE_CREATIVES, not orphans, check_metadata(problems, total, "ad"))


_CHECKS = {
    CREATIVES_HAVE_THEIR_FILES: creatives_have_their_files,
    ADS_WITH_MEDIA_HAVE_CREATIVES: ads_with_media_have_creatives,
}


async def run_scrape_checks(storage: Storage, brand_slug: str, selected: set[str]) -> list[CheckOutcome]:
    """The selected checks of one brand, in declaration order, on the caller's store session."""
    return [await check(storage, brand_slug) for name, check in _CHECKS.items() if name in selected]
