"""Reports and alerts, as use cases: read what the store knows, render it, write the pages, and
tell a webhook when a competitor starts a push.

Rendering redoes nothing unchanged: each page is written with a sidecar holding the hash of its
inputs, and a page whose inputs hash has not moved is left as it is (``unchanged``).
"""

from __future__ import annotations

import asyncio
import json
from contextlib import AsyncExitStack
from datetime import UTC, datetime
from pathlib import Path

from pydantic import BaseModel, SecretStr

from brand_pipeline.analysis.versions import analysis_version
from brand_pipeline.domain.brands import Brand
from brand_pipeline.report import (
    BrandReportInput,
    ComparisonBrand,
    ReportAd,
    ThumbnailCache,
    comparison_inputs_hash,
    render_brand_report,
    render_comparison,
)
from brand_pipeline.report.alerts import AlertOutcome, NewAdsAlert, send_new_ads_alert
from brand_pipeline.store.models import ScrapeChanges
from brand_pipeline.store.protocol import BlobStore, BrandStore

UNGROUPED = "all-brands"  # the comparison of brands that belong to no group


class WrittenPage(BaseModel):
    path: Path
    unchanged: bool  # its inputs had not changed: the page on disk was kept
    markdown: str  # the headline (or side-by-side) table, for the materialisation
    numbers: dict[str, float | int | str | None] = {}


def report_path(reports_dir: Path, brand_slug: str) -> Path:
    return reports_dir / f"{brand_slug}.html"


async def write_brand_report(brand: Brand, *, store: BrandStore, blobs: BlobStore, reports_dir: Path) -> WrittenPage:
    """The brand's self-contained report page, as of its latest scrape."""
    report = await _brand_report_input(brand, store)
    path = report_path(reports_dir, brand.slug)
    known = _read_sidecar(path)
    if known and known["inputs_hash"] == report.inputs_hash() and path.exists():
        return WrittenPage(path=path, unchanged=True, markdown=known["markdown"], numbers=known["numbers"])
    thumbnails = ThumbnailCache(reports_dir / ".thumbnails")
    async with AsyncExitStack() as files:
        for sha256, blob_path in _blob_paths(report).items():
            if not thumbnails.has(sha256):  # only blobs whose thumbnail is not made yet are opened
                report.blob_files[sha256] = await files.enter_async_context(blobs.local_path(blob_path))
        rendered = await asyncio.to_thread(render_brand_report, report, thumbnails=thumbnails)
    numbers = rendered.headline.model_dump()
    await asyncio.to_thread(_write_page, path, rendered.html, rendered.inputs_hash, rendered.markdown, numbers)
    return WrittenPage(path=path, unchanged=False, markdown=rendered.markdown, numbers=numbers)


async def _brand_report_input(brand: Brand, store: BrandStore) -> BrandReportInput:
    ads = await _report_ads(brand.slug, store)
    synthesis = await store.latest_persona_synthesis(brand.slug)
    spend = sum(cost.cost_usd for cost in await store.model_costs(brand.slug))
    report = BrandReportInput(
        brand_slug=brand.slug,
        brand_name=brand.name,
        generated_at=await store.latest_scrape_at(brand.slug) or datetime.now(UTC),
        ads=ads,
        personas=synthesis.personas if synthesis else [],
        persona_status=synthesis.status if synthesis else None,
        persona_reason=synthesis.reason if synthesis else None,
        model_spend_usd=round(spend, 6),
    )
    # Which creatives have a file is part of the inputs; where the file is is not.
    report.blob_files = {sha256: Path(blob_path) for sha256, blob_path in _blob_paths(report).items()}
    return report


async def _report_ads(brand_slug: str, store: BrandStore) -> list[ReportAd]:
    rows = await store.report_ads(brand_slug, analysis_version("copy"))
    return [ReportAd.model_validate(row.model_dump()) for row in rows]


def _blob_paths(report: BrandReportInput) -> dict[str, str]:
    return {c.sha256: c.blob_path for ad in report.ads for c in ad.creatives}


async def write_comparisons(store: BrandStore, reports_dir: Path) -> list[WrittenPage]:
    """One comparison page per group of brands (brands in no group are compared together)."""
    groups: dict[str, list[Brand]] = {}
    for brand in await store.list_brands():
        groups.setdefault(brand.group or UNGROUPED, []).append(brand)
    return [await _write_comparison(group, brands, store, reports_dir) for group, brands in sorted(groups.items())]


async def _write_comparison(group: str, brands: list[Brand], store: BrandStore, reports_dir: Path) -> WrittenPage:
    compared, latest = [], []
    for brand in brands:
        synthesis = await store.latest_persona_synthesis(brand.slug)
        ads = await _report_ads(brand.slug, store)
        compared.append(ComparisonBrand(brand_slug=brand.slug, brand_name=brand.name, ads=ads,
                                        personas=synthesis.personas if synthesis else []))  # fmt: skip
        latest.append(await store.latest_scrape_at(brand.slug))
    generated_at = max((at for at in latest if at), default=None) or datetime.now(UTC)
    named = None if group == UNGROUPED else group
    path = reports_dir / f"comparison-{group}.html"
    known = _read_sidecar(path)
    inputs_hash = comparison_inputs_hash(compared, named, generated_at=generated_at)
    if known and known["inputs_hash"] == inputs_hash and path.exists():
        return WrittenPage(path=path, unchanged=True, markdown=known["markdown"])
    comparison = render_comparison(compared, named, generated_at=generated_at)
    await asyncio.to_thread(_write_page, path, comparison.html, comparison.inputs_hash, comparison.markdown, {})
    return WrittenPage(path=path, unchanged=False, markdown=comparison.markdown)


def _read_sidecar(page: Path) -> dict | None:
    sidecar = page.with_suffix(".json")
    try:
        return json.loads(sidecar.read_text())
    except (OSError, ValueError):
        return None


def _write_page(path: Path, html: str, inputs_hash: str, markdown: str, numbers: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".html.part")
    partial.write_text(html, encoding="utf-8")
    partial.replace(path)  # a reader never sees half a page
    sidecar = {"inputs_hash": inputs_hash, "markdown": markdown, "numbers": numbers}
    path.with_suffix(".json").write_text(json.dumps(sidecar, default=str))


async def alert_new_ads(
    brand: Brand,
    changes: ScrapeChanges,
    *,
    store: BrandStore,
    webhook_url: SecretStr | None,
    threshold: int,
    run_url: str,
    report_url: str,
) -> list[AlertOutcome]:
    """Owe the brand an alert when this scrape started at least ``threshold`` ads (not on its first
    scrape: everything is new then), and send every alert still owed. A failing webhook is recorded
    and tried again after the next scrape; it never fails the scrape."""
    if webhook_url is None:
        return []
    if changes.previous_scrape_id is not None and changes.started >= threshold:
        await store.record_alert(brand.slug, changes.scrape_id, changes.started, run_url)
    outcomes = []
    for owed in await store.pending_alerts(brand.slug):
        alert = NewAdsAlert(brand_slug=brand.slug, brand_name=brand.name, started=owed.ads_started,
                            threshold=threshold, run_url=owed.run_url or run_url, report_url=report_url)  # fmt: skip
        outcome = await send_new_ads_alert(alert, webhook_url)
        await store.finish_alert(owed.id, sent=outcome.status == "sent", reason=outcome.reason)
        outcomes.append(outcome)
    return outcomes
