"""Scrape one brand: stream its ads from the source into the store, fetch each creative once, and
record what changed since the previous scrape.

- Streaming: items are parsed and stored a batch at a time as the source yields them, so memory
  does not grow with the number of ads; creatives download while later batches are still read.
- Incremental: an unchanged ad is recognised and not rewritten (its sighting is still recorded);
  a creative is fetched only for an (ad, slot) that has none stored yet, and a media URL shared by
  several ads is fetched once per scrape.
- History: every ad's first/last sighting, times seen and whether it runs are kept per brand; the
  report says which ads started, stopped or kept running since the previous scrape, and a complete
  scrape marks the ads it no longer saw as stopped.
- Bad records and unusable media become per-item outcomes; nothing stored before is ever deleted.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import AsyncIterator

from pydantic import BaseModel

from brand_pipeline.domain.ads import AdRecord
from brand_pipeline.domain.brands import Brand
from brand_pipeline.markdown import cell
from brand_pipeline.sources.ad_items import InvalidAdRecord, item_sighting, parse_ad_item
from brand_pipeline.sources.base import AdSource, SourceItem
from brand_pipeline.sources.downloads import CreativeDownloads, DownloadTally
from brand_pipeline.sources.media import MediaFetcher
from brand_pipeline.store.models import AdSighting, ItemOutcome, ScrapeChanges, StoredAds
from brand_pipeline.store.protocol import BlobStore, BrandStore

ASSET = "scraped_ads"
# Ads parsed and stored per round trip while the source is still being read.
AD_BATCH = 500


class ScrapeReport(BaseModel):
    brand: str
    records: int = 0
    ads_new: int = 0
    ads_changed: int = 0
    ads_unchanged: int = 0
    invalid_records: int = 0
    downloads: DownloadTally = DownloadTally()
    changes: ScrapeChanges | None = None
    outcomes: list[ItemOutcome] = []

    @property
    def ads_already_stored(self) -> int:
        return self.ads_changed + self.ads_unchanged

    @property
    def media_failed_by_status(self) -> dict[str, int]:
        return dict(Counter(o.status for o in self.outcomes if o.kind == "media"))

    def counts(self) -> dict[str, int]:
        changes = self.changes
        counts = {
            "records": self.records,
            "ads_new": self.ads_new,
            "ads_already_stored": self.ads_already_stored,
            "ads_changed": self.ads_changed,
            "ads_unchanged": self.ads_unchanged,
            "invalid_records": self.invalid_records,
            "ads_started": changes.started if changes else 0,
            "ads_stopped": changes.stopped if changes else 0,
            "ads_still_running": changes.still_running if changes else 0,
            "ads_no_longer_seen": changes.no_longer_seen if changes else 0,
            "creatives_new": self.downloads.creatives_new,
            "creatives_reused": self.downloads.creatives_reused,
            "media_already_stored": self.downloads.media_already_stored,
            "media_failed": sum(self.media_failed_by_status.values()),
        }
        return counts | {f"media_{status}": n for status, n in sorted(self.media_failed_by_status.items())}

    def markdown(self) -> str:
        changes = self.changes
        lines = [
            f"**{self.brand}**: {self.records} records → {self.ads_new} new ads, "
            f"{self.ads_already_stored} already stored ({self.ads_changed} changed), {self.invalid_records} invalid; "
            f"{self.downloads.creatives_new} new creatives, {self.counts()['media_failed']} media failed.",
        ]
        if changes:
            lines.append(
                f"Since the previous scrape: {changes.started} started, {changes.stopped} stopped, "
                f"{changes.still_running} still running" + ("." if changes.complete else " (the source listed a part).")
            )
        if self.outcomes:
            lines += ["", "| item | status | reason |", "|---|---|---|"]
            lines += [f"| `{o.item_key}` | {o.status} | {cell(o.reason, 160)} |" for o in self.outcomes[:20]]
            if len(self.outcomes) > 20:
                lines.append(f"| … | | {len(self.outcomes) - 20} more |")
        return "\n".join(lines)


async def scrape_brand(
    brand: Brand,
    *,
    source: AdSource,
    fetcher: MediaFetcher,
    store: BrandStore,
    blobs: BlobStore,
    run_id: str,
    concurrency: int = 8,
) -> ScrapeReport:
    report = ScrapeReport(brand=brand.slug)
    scrape_id = await store.begin_scrape(brand.slug, run_id, source.name)
    seen = StoredAds()
    invalid: list[ItemOutcome] = []
    async with CreativeDownloads(
        brand.slug, ASSET, fetcher=fetcher, store=store, blobs=blobs, run_id=run_id, concurrency=concurrency
    ) as downloads:
        async for batch in _item_batches(source.items(brand), report, invalid):
            sightings = [sighting for _, sighting in batch if sighting is not None]
            sighted = await store.sight_ads(brand.slug, sightings, run_id, scrape_id=scrape_id)
            seen.merge(sighted.as_stored())
            downloads.tally.media_already_stored += sighted.media_stored  # stored, so not wanted
            ads, items_stored = _parsed_ads(batch, set(sighted.unchanged), report.brand, invalid)
            if ads:
                seen.merge(await store.upsert_ads(brand.slug, ads, run_id, scrape_id=scrape_id))
                await store.remember_items(brand.slug, items_stored)
                await downloads.want(ads)
    report.ads_new, report.ads_changed, report.ads_unchanged = len(seen.new), len(seen.updated), len(seen.unchanged)
    report.downloads = downloads.tally
    report.invalid_records = len(invalid)
    report.outcomes = invalid + downloads.outcomes
    # The outcomes before the scrape counts as finished: an ad of a finished scrape without a
    # failed creative recorded is one the next scrape may sight without looking at its media.
    await store.replace_outcomes(brand.slug, ASSET, run_id, report.outcomes)
    report.changes = await store.finish_scrape(brand.slug, scrape_id, complete=source.complete, seen=seen)
    return report


_Entry = tuple[SourceItem, AdSighting | None]


async def _item_batches(
    items: AsyncIterator[SourceItem], report: ScrapeReport, invalid: list[ItemOutcome]
) -> AsyncIterator[list[_Entry]]:
    """The source's usable items in batches as it yields them, each with its sighting (None when
    the item is not plainly an ad: parsing will say why); items it could not read become outcomes."""
    batch: list[_Entry] = []
    async for item in items:
        report.records += 1
        if item.error is None:
            batch.append((item, item_sighting(item.item)))
        else:
            invalid.append(_record_outcome(report.brand, item.position, item.item, item.error))
        if len(batch) >= AD_BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def _parsed_ads(
    entries: list[_Entry], unchanged: set[str], brand_slug: str, invalid: list[ItemOutcome]
) -> tuple[list[AdRecord], list[AdSighting]]:
    """The ads parsed from ``entries`` but the ``unchanged`` ones, and the item hashes to remember
    for them (the last item of an ad wins, as when storing); bad items and refused ads become outcomes."""
    ads: list[AdRecord] = []
    remembered: dict[str, AdSighting] = {}
    for item, sighting in entries:
        if sighting is not None and sighting.ad_archive_id in unchanged:
            continue
        try:
            ad = parse_ad_item(item.item)
        except InvalidAdRecord as error:
            invalid.append(_record_outcome(brand_slug, item.position, item.item, str(error)))
            continue
        refusal = item.refuse(ad) if item.refuse is not None else None
        if refusal is not None:
            invalid.append(_record_outcome(brand_slug, item.position, item.item, refusal))
            continue
        ads.append(ad)
        if sighting is not None:
            remembered[ad.ad_archive_id] = sighting
        else:
            remembered.pop(ad.ad_archive_id, None)
    return ads, list(remembered.values())


def _record_outcome(brand_slug: str, position: str, item: object, reason: str) -> ItemOutcome:
    # Keyed by the item's content, so the same bad record seen again updates one row.
    body = json.dumps(item, sort_keys=True, default=str) if item is not None else position
    digest = hashlib.sha256(body.encode()).hexdigest()[:16]
    return ItemOutcome(
        brand_slug=brand_slug,
        asset=ASSET,
        kind="record",
        item_key=f"record:{digest}",
        status="invalid",
        reason=reason,
        detail=position,
    )
