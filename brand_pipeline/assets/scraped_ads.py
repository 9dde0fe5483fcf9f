import dagster as dg

from brand_pipeline.assets.metadata import report_metadata
from brand_pipeline.interrupts import until_stop_signal
from brand_pipeline.partitions import brands_partitions
from brand_pipeline.reporting import alert_new_ads, report_path
from brand_pipeline.resources.ad_library import AdLibraryResource
from brand_pipeline.resources.reports import ReportsResource
from brand_pipeline.resources.supabase import SupabaseResource
from brand_pipeline.run_tags import FRESH_SCRAPE_TAG
from brand_pipeline.sources.base import PaidRun, SourceError
from brand_pipeline.sources.scrape import scrape_brand

SCRAPE_VERSION = "scrape-2"


@dg.asset(
    partitions_def=brands_partitions,
    group_name="brand_research",
    code_version=SCRAPE_VERSION,
    kinds={"postgres"},
)
async def scraped_ads(
    context: dg.AssetExecutionContext,
    supabase: SupabaseResource,
    ad_library: AdLibraryResource,
    reports: ReportsResource,
) -> dg.MaterializeResult:
    """Every ad the brand runs, each creative downloaded once and stored by its sha256, and what
    started, stopped or kept running since the previous scrape.

    Bad records and unusable media are recorded per item (see `item_outcomes`), never fatal. A
    paid source run (Apify) is recorded before it is waited for: a retried or re-executed step
    reads that run again instead of paying for another.
    """
    return await until_stop_signal(_scraped(context, supabase, ad_library, reports))


async def _scraped(
    context: dg.AssetExecutionContext,
    supabase: SupabaseResource,
    ad_library: AdLibraryResource,
    reports: ReportsResource,
) -> dg.MaterializeResult:
    run_key = context.run.root_run_id or context.run.run_id
    fresh = context.run.tags.get(FRESH_SCRAPE_TAG) == "true"
    async with supabase.open() as storage:
        staging = storage.blobs.staging_dir()
        async with ad_library.open(staging, store=storage.store, run_key=run_key, fresh=fresh) as library:
            brand = await storage.store.ensure_brand(context.partition_key)
            try:
                report = await scrape_brand(
                    brand,
                    source=library.source,
                    fetcher=library.fetcher,
                    store=storage.store,
                    blobs=storage.blobs,
                    run_id=context.run.run_id,
                    concurrency=ad_library.download_concurrency,
                )
            except SourceError as error:
                raise dg.Failure(description=str(error), metadata=_paid_run(library.source.paid_run)) from None
            alerts = await alert_new_ads(
                brand,
                report.changes,
                store=storage.store,
                webhook_url=reports.webhook(),
                threshold=reports.alert_min_new_ads,
                run_url=reports.run_url(context.run.run_id),
                report_url=str(report_path(reports.folder(), brand.slug)),
            )
    counts = report.counts() | {"alerts_sent": sum(a.status == "sent" for a in alerts),
                                "alerts_failed": sum(a.status == "failed" for a in alerts)}  # fmt: skip
    metadata = report_metadata(context, counts, report.markdown()) | _paid_run(library.source.paid_run)
    return dg.MaterializeResult(metadata=metadata)


def _paid_run(run: PaidRun | None) -> dict[str, object]:
    """The paid source run's id, link, status and cost (nothing for a free source)."""
    if run is None:
        return {}
    return {
        "source_run_id": run.run_id,
        "source_run": dg.MetadataValue.url(run.run_url),
        "source_run_status": run.status,
        "source_run_items": run.items,
        "source_run_cost_usd": run.cost_usd,
        "source_run_cost_estimated": run.cost_estimated,
        "source_run_started_new": run.started_new,
    }
