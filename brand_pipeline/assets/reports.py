from collections.abc import Callable
from typing import Any

import dagster as dg

from brand_pipeline.assets.metadata import report_metadata
from brand_pipeline.assets.personas import personas
from brand_pipeline.assets.scraped_ads import scraped_ads
from brand_pipeline.interrupts import until_stop_signal
from brand_pipeline.partitions import brands_partitions
from brand_pipeline.reporting import write_brand_report, write_comparisons
from brand_pipeline.resources.reports import ReportsResource
from brand_pipeline.resources.supabase import SupabaseResource

REPORT_VERSION = "report-1"


def _report_asset(**placement: Any) -> Callable[..., dg.AssetsDefinition]:
    """The decorator both report assets share: research group, ``REPORT_VERSION``, HTML pages;
    ``placement`` is what the asset reads and how it is partitioned."""
    return dg.asset(group_name="brand_research", code_version=REPORT_VERSION, kinds={"html"}, **placement)


@_report_asset(partitions_def=brands_partitions, deps=[personas])
async def brand_report(
    context: dg.AssetExecutionContext, supabase: SupabaseResource, reports: ReportsResource
) -> dg.MaterializeResult:
    """One self-contained HTML page for the brand — its ads over time, formats, longest-running
    creatives, hooks and offers, personas with their evidence — readable offline and printable.
    Unchanged inputs leave the page as it is."""
    return await until_stop_signal(_reported(context, supabase, reports))


async def _reported(
    context: dg.AssetExecutionContext, supabase: SupabaseResource, reports: ReportsResource
) -> dg.MaterializeResult:
    async with supabase.open() as storage:
        brand = await storage.store.ensure_brand(context.partition_key)
        page = await write_brand_report(brand, store=storage.store, blobs=storage.blobs, reports_dir=reports.folder())
    counts = {k: v for k, v in page.numbers.items() if isinstance(v, (int, float, str))}
    metadata = report_metadata(context, counts | {"unchanged": page.unchanged}, page.markdown)
    metadata["report"] = dg.MetadataValue.path(str(page.path))
    return dg.MaterializeResult(metadata=metadata)


@_report_asset(
    deps=[
        dg.AssetDep(scraped_ads, partition_mapping=dg.AllPartitionMapping()),
        dg.AssetDep(personas, partition_mapping=dg.AllPartitionMapping()),
    ],
)
async def brand_comparison(
    context: dg.AssetExecutionContext, supabase: SupabaseResource, reports: ReportsResource
) -> dg.MaterializeResult:
    """The brands side by side, one page per group (a brand and its competitors): active ads,
    launches per week, format mix, offer share, days running, top angles, persona overlap."""
    async with supabase.open() as storage:
        pages = await write_comparisons(storage.store, reports.folder())
    preview = "\n\n".join(page.markdown for page in pages) or "_no brands yet_"
    metadata = report_metadata(context, {"groups": len(pages), "unchanged": sum(p.unchanged for p in pages)}, preview)
    for page in pages:
        metadata[page.path.stem] = dg.MetadataValue.path(str(page.path))
    return dg.MaterializeResult(metadata=metadata)
