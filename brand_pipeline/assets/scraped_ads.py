import dagster as dg

from brand_pipeline.assets.metadata import report_metadata
from brand_pipeline.interrupts import until_stop_signal
from brand_pipeline.partitions import brands_partitions
from brand_pipeline.resources.ad_library import AdLibraryResource
from brand_pipeline.resources.supabase import SupabaseResource
from brand_pipeline.sources.base import SourceError
from brand_pipeline.sources.scrape import scrape_brand

SCRAPE_VERSION = "scrape-1"


@dg.asset(
    partitions_def=brands_partitions,
    group_name="brand_research",
    code_version=SCRAPE_VERSION,
    kinds={"postgres"},
)
async def scraped_ads(
    context: dg.AssetExecutionContext, supabase: SupabaseResource, ad_library: AdLibraryResource
) -> dg.MaterializeResult:
    """Every ad the brand runs, each creative downloaded once and stored by its sha256.

    Bad records and unusable media are recorded per item (see `item_outcomes`), never fatal.
    """
    return await until_stop_signal(_scraped(context, supabase, ad_library))


async def _scraped(
    context: dg.AssetExecutionContext, supabase: SupabaseResource, ad_library: AdLibraryResource
) -> dg.MaterializeResult:
    async with supabase.open() as storage, ad_library.open(storage.blobs.staging_dir()) as library:
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
            raise dg.Failure(description=str(error)) from None
    return dg.MaterializeResult(metadata=report_metadata(context, report.counts(), report.markdown()))
