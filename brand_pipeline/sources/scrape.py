"""Scrape one brand: read its ads from the source, store them, fetch each creative once.

Incremental by construction: ads are upserted; a creative is fetched only for an (ad, slot) that
has none stored yet, and a media URL shared by several ads is fetched once per run. Bad records
and unusable media become per-item outcomes; nothing stored before is ever deleted.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections import Counter
from collections.abc import Sequence

from pydantic import BaseModel

from brand_pipeline.domain.ads import AdRecord, MediaRef
from brand_pipeline.domain.brands import Brand
from brand_pipeline.markdown import cell
from brand_pipeline.sources.ad_items import InvalidAdRecord, parse_ad_item
from brand_pipeline.sources.base import AdSource
from brand_pipeline.sources.media import FetchedMedia, MediaError, MediaFetcher
from brand_pipeline.store.models import AdCreativeLink, Creative, ItemOutcome
from brand_pipeline.store.protocol import BlobStore, BrandStore

ASSET = "scraped_ads"
# Media fetched and saved per chunk, so a killed run keeps what it already downloaded.
SAVE_EVERY = 50


class ScrapeReport(BaseModel):
    brand: str
    records: int = 0
    ads_new: int = 0
    ads_already_stored: int = 0
    invalid_records: int = 0
    creatives_new: int = 0
    creatives_reused: int = 0  # bytes already stored (another ad or brand uses them)
    media_already_stored: int = 0
    media_failed_by_status: dict[str, int] = {}  # e.g. expired (needs a re-scrape), not_media, refused
    outcomes: list[ItemOutcome] = []

    @property
    def media_failed(self) -> int:
        return sum(self.media_failed_by_status.values())

    def counts(self) -> dict[str, int]:
        return {
            "records": self.records,
            "ads_new": self.ads_new,
            "ads_already_stored": self.ads_already_stored,
            "invalid_records": self.invalid_records,
            "creatives_new": self.creatives_new,
            "creatives_reused": self.creatives_reused,
            "media_already_stored": self.media_already_stored,
            "media_failed": self.media_failed,
        } | {f"media_{status}": count for status, count in sorted(self.media_failed_by_status.items())}

    def markdown(self) -> str:
        lines = [
            f"**{self.brand}**: {self.records} records → {self.ads_new} new ads, "
            f"{self.ads_already_stored} already stored, {self.invalid_records} invalid; "
            f"{self.creatives_new} new creatives, {self.media_failed} media failed.",
        ]
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
    records: list[AdRecord] = []
    outcomes: list[ItemOutcome] = []
    async for item in source.items(brand):
        report.records += 1
        if item.error is None:
            try:
                records.append(parse_ad_item(item.item))
                continue
            except InvalidAdRecord as error:
                reason = str(error)
        else:
            reason = item.error
        outcomes.append(_record_outcome(brand.slug, item.position, item.item, reason))
    report.invalid_records = len(outcomes)

    stored = await store.upsert_ads(brand.slug, records, run_id)
    report.ads_new, report.ads_already_stored = len(stored.new), len(stored.updated)

    have = await store.stored_slots([record.ad_archive_id for record in records])
    wanted: dict[tuple[str, str], list[tuple[str, MediaRef]]] = {}
    for record in records:
        for ref in record.media:
            if (record.ad_archive_id, ref.slot) in have:
                report.media_already_stored += 1
            else:
                wanted.setdefault((ref.url, ref.kind), []).append((record.ad_archive_id, ref))

    semaphore = asyncio.Semaphore(concurrency)
    groups = list(wanted.values())
    for start in range(0, len(groups), SAVE_EVERY):
        chunk = groups[start : start + SAVE_EVERY]
        results = await asyncio.gather(*(_fetch(fetcher, users[0][1], semaphore) for users in chunk))
        outcomes += await _store_chunk(brand.slug, chunk, results, store, blobs, report, run_id)

    report.media_failed_by_status = dict(Counter(o.status for o in outcomes if o.kind == "media"))
    report.outcomes = outcomes
    await store.replace_outcomes(brand.slug, ASSET, run_id, outcomes)
    return report


async def _fetch(fetcher: MediaFetcher, ref: MediaRef, semaphore: asyncio.Semaphore) -> FetchedMedia | MediaError:
    async with semaphore:
        try:
            return await fetcher.fetch(ref)
        except MediaError as error:
            return error


async def _store_chunk(
    brand_slug: str,
    chunk: Sequence[list[tuple[str, MediaRef]]],
    results: Sequence[FetchedMedia | MediaError],
    store: BrandStore,
    blobs: BlobStore,
    report: ScrapeReport,
    run_id: str,
) -> list[ItemOutcome]:
    outcomes: list[ItemOutcome] = []
    fetched = [r for r in results if isinstance(r, FetchedMedia)]
    known = await store.known_creatives([media.sha256 for media in fetched])
    creatives: dict[str, Creative] = {}
    links: list[AdCreativeLink] = []
    for users, result in zip(chunk, results, strict=True):
        if isinstance(result, MediaError):
            outcomes += [
                ItemOutcome.for_media(
                    brand_slug,
                    ASSET,
                    ad_id,
                    ref.slot,
                    status=result.status,
                    reason=result.reason,
                    detail=_redact(ref.url),
                )
                for ad_id, ref in users
            ]
            continue
        # Blob first, row second: a creative row never points at a missing file.
        blob_path = await blobs.put_file(result.path, result.sha256, result.extension)
        if result.sha256 not in creatives:
            creatives[result.sha256] = Creative(
                sha256=result.sha256,
                kind=result.kind,
                mime_type=result.mime_type,
                size_bytes=result.size_bytes,
                blob_path=blob_path,
            )
        links += [
            AdCreativeLink(
                ad_archive_id=ad_id, slot=ref.slot, sha256=result.sha256, source_url=_redact(ref.url), run_id=run_id
            )
            for ad_id, ref in users
        ]
    report.creatives_new += len(set(creatives) - known)
    report.creatives_reused += len(set(creatives) & known)
    await store.save_creatives(list(creatives.values()), links)
    return outcomes


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


def _redact(url: str) -> str:
    # Signed CDN URLs carry short-lived tokens in the query string: keep them out of the tables.
    return url.split("?", 1)[0]
