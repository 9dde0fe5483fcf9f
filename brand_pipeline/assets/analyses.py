import dagster as dg

from brand_pipeline.analysis.copies import analyse_copies
from brand_pipeline.analysis.creatives import analyse_creatives
from brand_pipeline.analysis.report import AnalysisFailed, AnalysisReport
from brand_pipeline.analysis.versions import analysis_version
from brand_pipeline.assets.metadata import report_metadata
from brand_pipeline.assets.scraped_ads import scraped_ads
from brand_pipeline.partitions import brands_partitions
from brand_pipeline.resources.gemini import GeminiResource
from brand_pipeline.resources.supabase import SupabaseResource

# Every asset that may call Gemini runs in this pool, so a backfill over many brands cannot
# exceed the API quota however many runs it launches.
GEMINI_POOL = "gemini"


def _result(context: dg.AssetExecutionContext, report: AnalysisReport) -> dg.MaterializeResult:
    return dg.MaterializeResult(metadata=report_metadata(context, report.counts(), report.markdown()))


def _failure(context: dg.AssetExecutionContext, error: AnalysisFailed) -> dg.Failure:
    return dg.Failure(
        description=str(error),
        metadata=report_metadata(context, error.report.counts(), error.report.markdown()),
    )


@dg.asset(
    partitions_def=brands_partitions,
    deps=[scraped_ads],
    group_name="brand_research",
    code_version=analysis_version("video"),
    pool=GEMINI_POOL,
    kinds={"gemini"},
)
async def video_analyses(
    context: dg.AssetExecutionContext, supabase: SupabaseResource, gemini: GeminiResource
) -> dg.MaterializeResult:
    """Every video of the brand's ads analysed under the current version: exact facts (duration,
    aspect ratio, fps, cuts, audio) and the model's reading."""
    async with supabase.open() as storage, gemini.open() as analyser:
        try:
            report = await analyse_creatives(
                context.partition_key, "video", store=storage.store, blobs=storage.blobs,
                analyser=analyser, run_id=context.run.run_id, max_failed_share=gemini.max_failed_share,
            )
        except AnalysisFailed as error:
            raise _failure(context, error) from None
    return _result(context, report)


@dg.asset(
    partitions_def=brands_partitions,
    deps=[scraped_ads],
    group_name="brand_research",
    code_version=analysis_version("image"),
    pool=GEMINI_POOL,
    kinds={"gemini"},
)
async def image_analyses(
    context: dg.AssetExecutionContext, supabase: SupabaseResource, gemini: GeminiResource
) -> dg.MaterializeResult:
    """Every image of the brand's ads analysed under the current version: exact facts (size,
    aspect ratio, palette, brightness) and the model's reading."""
    async with supabase.open() as storage, gemini.open() as analyser:
        try:
            report = await analyse_creatives(
                context.partition_key, "image", store=storage.store, blobs=storage.blobs,
                analyser=analyser, run_id=context.run.run_id, max_failed_share=gemini.max_failed_share,
            )
        except AnalysisFailed as error:
            raise _failure(context, error) from None
    return _result(context, report)


@dg.asset(
    partitions_def=brands_partitions,
    deps=[scraped_ads],
    group_name="brand_research",
    code_version=analysis_version("copy"),
    pool=GEMINI_POOL,
    kinds={"gemini"},
)
async def copy_analyses(
    context: dg.AssetExecutionContext, supabase: SupabaseResource, gemini: GeminiResource
) -> dg.MaterializeResult:
    """Every distinct ad copy of the brand analysed once: hook, CTA, offers, numbers, emoji, and
    the model's reading (angle, pain points, desires, objections)."""
    async with supabase.open() as storage, gemini.open() as analyser:
        try:
            report = await analyse_copies(
                context.partition_key, store=storage.store, analyser=analyser, run_id=context.run.run_id,
                max_failed_share=gemini.max_failed_share,
            )
        except AnalysisFailed as error:
            raise _failure(context, error) from None
    return _result(context, report)
