from contextlib import AbstractAsyncContextManager, nullcontext

import dagster as dg

from brand_pipeline.assets.batch_events import brand_check_evaluation, brand_materialization, latest_materialization
from brand_pipeline.assets.metadata import report_metadata
from brand_pipeline.assets.reexecution import finished_in_lineage
from brand_pipeline.assets.scrape_checks import SCRAPE_CHECK_SPECS, SCRAPED_ADS, CheckOutcome, run_scrape_checks
from brand_pipeline.interrupts import until_stop_signal
from brand_pipeline.partitions import brands_partitions
from brand_pipeline.reporting import alert_new_ads, report_path
from brand_pipeline.resources.ad_library import AdLibrary, AdLibraryResource
from brand_pipeline.resources.reports import ReportsResource
from brand_pipeline.resources.supabase import Storage, SupabaseResource
from brand_pipeline.run_tags import FRESH_SCRAPE_TAG
from brand_pipeline.sources.base import PaidRun, SourceError
from brand_pipeline.sources.scrape import scrape_brand

SCRAPE_VERSION = "scrape-2"

_DESCRIPTION = """Every ad the brand runs, each creative downloaded once and stored by its sha256, and what
started, stopped or kept running since the previous scrape.

Bad records and unusable media are recorded per item (see `item_outcomes`), never fatal. A paid
source run (Apify) is recorded before it is waited for: a retried or re-executed step reads that
run again instead of paying for another. A run may scrape a batch of brands: each brand gets its
own materialisation and check results, and a brand that fails fails only its own partition."""


class BrandFailed(Exception):
    """One brand of a batch could not be scraped; the others go on."""

    def __init__(self, brand_slug: str, description: str, metadata: dict[str, object]) -> None:
        super().__init__(f"{brand_slug}: {description}")
        self.brand_slug = brand_slug
        self.description = description
        self.metadata = metadata


@dg.multi_asset(
    name="scraped_ads",
    specs=[
        dg.AssetSpec(
            SCRAPED_ADS,
            description=_DESCRIPTION,
            group_name="brand_research",
            code_version=SCRAPE_VERSION,
            kinds={"postgres"},
            skippable=True,  # a failed brand of a batch has no materialisation
        )
    ],
    check_specs=SCRAPE_CHECK_SPECS,
    partitions_def=brands_partitions,
    can_subset=True,  # "Execute checks" runs the checks alone, without a scrape
)
async def scraped_ads(
    context: dg.AssetExecutionContext,
    supabase: SupabaseResource,
    ad_library: AdLibraryResource,
    reports: ReportsResource,
):  # no return annotation: Dagster would read an async generator's as its outputs' types
    """Scrape the run's brand, or each brand of its partition range, on one store session."""
    batched = context.has_partition_key_range
    events, failures, skipped = await until_stop_signal(
        _scrape_run(context, supabase, ad_library, reports, batched=batched)
    )
    for event in events:
        if isinstance(event, _ChecksAfterMaterialization):
            # Resolved only now: the brand's materialisation yielded before is stored.
            for evaluation in event.evaluations():
                yield evaluation
        else:
            yield event
    if failures:
        raise _batch_failure(len(context.partition_keys) - len(skipped), failures, skipped)


def _batch_failure(scraped: int, failures: list[BrandFailed], skipped: dict[str, str]) -> dg.Failure:
    """The step's failure, naming the brands that failed (and those a re-execution left alone)."""
    left_alone = f" ({len(skipped)} more were scraped by an earlier run of this run's lineage)" if skipped else ""
    return dg.Failure(
        description=f"{len(failures)} of {scraped} brands failed{left_alone}: " + "; ".join(str(f) for f in failures),
        metadata={"failed_brands": [f.brand_slug for f in failures]}
        | ({"skipped_brands": sorted(skipped)} if skipped else {})
        | (failures[0].metadata if len(failures) == 1 else {}),
    )


async def _scrape_run(
    context: dg.AssetExecutionContext,
    supabase: SupabaseResource,
    ad_library: AdLibraryResource,
    reports: ReportsResource,
    *,
    batched: bool,
) -> tuple[list[object], list[BrandFailed], dict[str, str]]:
    """Every brand's events, the brands that failed (raised at once outside a batch), and those a
    re-execution skips (brand -> the earlier run of its lineage that scraped it)."""
    scrape = SCRAPED_ADS in context.selected_asset_keys
    checks = {key.name for key in context.selected_asset_check_keys}
    skipped: dict[str, str] = {}
    if scrape and batched:  # a one-brand run that failed has nothing finished to leave alone
        skipped = finished_in_lineage(context.instance, context.run, SCRAPED_ADS, context.partition_keys)
    if skipped:
        context.log.info(
            f"re-execution: skipping {len(skipped)} brands an earlier run of it scraped: {sorted(skipped)}"
        )
    events: list[object] = [_already_scraped(slug, run_id) for slug, run_id in skipped.items()]
    failures: list[BrandFailed] = []
    async with supabase.open() as storage, _library_for_the_run(context, storage, ad_library, scrape) as library:
        for slug in (slug for slug in context.partition_keys if slug not in skipped):
            try:
                metadata = await _scrape_one(context, storage, library, ad_library, reports, slug) if library else None
            except BrandFailed as failure:
                if not batched:
                    raise dg.Failure(description=failure.description, metadata=failure.metadata) from None
                failures.append(failure)
            except Exception as error:
                if not batched:
                    raise
                failures.append(BrandFailed(slug, f"{type(error).__name__}: {error}", {}))
            else:
                outcomes = await run_scrape_checks(storage, slug, checks)
                make = _batch_events if batched else _single_events
                events.extend(make(context, slug, metadata, outcomes))
                continue
            context.log.error(f"scraping {failures[-1]} — the batch goes on without it")
    return events, failures, skipped


def _already_scraped(slug: str, run_id: str) -> dg.AssetObservation:
    """What a re-execution records for a brand it leaves alone: which run of its lineage scraped it."""
    return dg.AssetObservation(
        asset_key=SCRAPED_ADS,
        partition=slug,
        metadata={
            "skipped": "scraped by an earlier run of this re-execution's lineage",
            "scraped_by_run": dg.MetadataValue.dagster_run(run_id),
        },
    )


def _single_events(
    context: dg.AssetExecutionContext, slug: str, metadata: dict[str, object] | None, outcomes: list[CheckOutcome]
) -> list[object]:
    """A one-brand run: the result Dagster records as the partition's materialisation and checks."""
    results = [dg.AssetCheckResult(check_name=o.name, passed=o.passed, metadata=o.metadata) for o in outcomes]
    if metadata is None:
        return list(results)  # the checks alone ("Execute checks")
    return [dg.MaterializeResult(asset_key=SCRAPED_ADS, metadata=metadata, check_results=results)]


def _batch_events(
    context: dg.AssetExecutionContext, slug: str, metadata: dict[str, object] | None, outcomes: list[CheckOutcome]
) -> list[object]:
    """One brand of a batch: its own materialisation, then its checks pointing at it."""
    events: list[object] = []
    if metadata is not None:
        events.append(brand_materialization(SCRAPED_ADS, SCRAPE_VERSION, slug, metadata))
    if outcomes:
        events.append(_ChecksAfterMaterialization(context, slug, outcomes))
    return events


class _ChecksAfterMaterialization:
    """A brand's check results in a batch, made into evaluations once they are yielded."""

    def __init__(self, context: dg.AssetExecutionContext, slug: str, outcomes: list[CheckOutcome]) -> None:
        self.context, self.slug, self.outcomes = context, slug, outcomes

    def evaluations(self) -> list[dg.AssetCheckEvaluation]:
        target = latest_materialization(self.context.instance, SCRAPED_ADS, self.slug)
        return [
            brand_check_evaluation(
                dg.AssetCheckKey(SCRAPED_ADS, o.name), self.slug, target, passed=o.passed, metadata=o.metadata
            )
            for o in self.outcomes
        ]


def _library_for_the_run(
    context: dg.AssetExecutionContext, storage: Storage, ad_library: AdLibraryResource, scrape: bool
) -> AbstractAsyncContextManager[AdLibrary | None]:
    """One source and media client for every brand of the run (none for the checks alone)."""
    if not scrape:
        return nullcontext(None)
    run_key = context.run.root_run_id or context.run.run_id
    fresh = context.run.tags.get(FRESH_SCRAPE_TAG) == "true"
    return ad_library.open(storage.blobs.staging_dir(), store=storage.store, run_key=run_key, fresh=fresh)


async def _scrape_one(
    context: dg.AssetExecutionContext,
    storage: Storage,
    library: AdLibrary,
    ad_library: AdLibraryResource,
    reports: ReportsResource,
    slug: str,
) -> dict[str, object]:
    brand = await storage.store.ensure_brand(slug)
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
        raise BrandFailed(slug, str(error), _paid_run(library.source.paid_run)) from None
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
    return report_metadata(context, counts, report.markdown()) | _paid_run(library.source.paid_run)


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
