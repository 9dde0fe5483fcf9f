from collections.abc import Awaitable, Callable

import dagster as dg

from brand_pipeline.analysis.copies import analyse_copies
from brand_pipeline.analysis.creatives import analyse_creatives
from brand_pipeline.analysis.report import AnalysisFailed, AnalysisReport
from brand_pipeline.analysis.semantic import Analyser
from brand_pipeline.analysis.versions import analysis_version
from brand_pipeline.assets.metadata import report_metadata
from brand_pipeline.assets.scraped_ads import scraped_ads
from brand_pipeline.domain.kinds import AnalysisKind, CreativeKind
from brand_pipeline.interrupts import until_stop_signal
from brand_pipeline.partitions import brands_partitions
from brand_pipeline.resources.gemini import GeminiResource
from brand_pipeline.resources.supabase import Storage, SupabaseResource

# Every asset that may call Gemini runs in this pool, so a backfill over many brands cannot
# exceed the API quota however many runs it launches.
GEMINI_POOL = "gemini"


async def _analysed(
    context: dg.AssetExecutionContext,
    supabase: SupabaseResource,
    gemini: GeminiResource,
    analyse: Callable[[Storage, Analyser], Awaitable[AnalysisReport]],
) -> dg.MaterializeResult:
    """Open the store and the model, run one analysis, report it (or fail with its counts).
    A stop signal cancels it: the results that arrived are saved and no further call starts."""
    return await until_stop_signal(_analysed_until_done(context, supabase, gemini, analyse))


async def _analysed_until_done(
    context: dg.AssetExecutionContext,
    supabase: SupabaseResource,
    gemini: GeminiResource,
    analyse: Callable[[Storage, Analyser], Awaitable[AnalysisReport]],
) -> dg.MaterializeResult:
    async with supabase.open() as storage, gemini.open() as analyser:
        try:
            report = await analyse(storage, analyser)
        except AnalysisFailed as error:
            raise dg.Failure(
                description=str(error),
                metadata=report_metadata(context, error.report.counts(), error.report.markdown()),
            ) from None
    return dg.MaterializeResult(metadata=report_metadata(context, report.counts(), report.markdown()))


# One analysis, given its run's context, the model's settings, and the opened store and model.
AnalysisStep = Callable[[dg.AssetExecutionContext, GeminiResource, Storage, Analyser], Awaitable[AnalysisReport]]


def _analysis_asset(kind: AnalysisKind, description: str, analyse: AnalysisStep) -> dg.AssetsDefinition:
    """An analysis asset: partitioned, after the scrape, in the Gemini pool; ``analyse`` is what it runs."""

    @dg.asset(
        name=f"{kind}_analyses",
        description=description,
        partitions_def=brands_partitions,
        deps=[scraped_ads],
        group_name="brand_research",
        code_version=analysis_version(kind),
        pool=GEMINI_POOL,
        kinds={"gemini"},
    )
    async def analyses(
        context: dg.AssetExecutionContext, supabase: SupabaseResource, gemini: GeminiResource
    ) -> dg.MaterializeResult:
        return await _analysed(
            context, supabase, gemini, lambda storage, analyser: analyse(context, gemini, storage, analyser)
        )

    return analyses


def _creatives_of_kind(kind: CreativeKind) -> AnalysisStep:
    """Video and image analyses differ only in the kind they hand ``analyse_creatives``."""

    def analyse(
        context: dg.AssetExecutionContext, gemini: GeminiResource, storage: Storage, analyser: Analyser
    ) -> Awaitable[AnalysisReport]:
        return analyse_creatives(
            context.partition_key,
            kind,
            store=storage.store,
            blobs=storage.blobs,
            analyser=analyser,
            run_id=context.run.run_id,
            max_failed_share=gemini.max_failed_share,
        )

    return analyse


def _copies(
    context: dg.AssetExecutionContext, gemini: GeminiResource, storage: Storage, analyser: Analyser
) -> Awaitable[AnalysisReport]:
    return analyse_copies(
        context.partition_key,
        store=storage.store,
        analyser=analyser,
        run_id=context.run.run_id,
        max_failed_share=gemini.max_failed_share,
    )


video_analyses = _analysis_asset(
    "video",
    "Every video of the brand's ads analysed under the current version: exact facts (duration, "
    "aspect ratio, fps, cuts, audio) and the model's reading (hook, scenes, transcript, CTA …).",
    _creatives_of_kind("video"),
)
image_analyses = _analysis_asset(
    "image",
    "Every image of the brand's ads analysed under the current version: exact facts (size, aspect "
    "ratio, palette, brightness) and the model's reading (text, hooks, structure, persona signals …).",
    _creatives_of_kind("image"),
)
copy_analyses = _analysis_asset(
    "copy",
    "Every distinct ad copy of the brand analysed once: hook, CTA, offers, numbers, emoji, and the "
    "model's reading (angle, pain points, desires, objections).",
    _copies,
)
