import dagster as dg

from brand_pipeline.analysis.personas import synthesise_personas
from brand_pipeline.analysis.semantic import ModelUnreachable
from brand_pipeline.analysis.versions import PROMPT_VERSIONS
from brand_pipeline.assets.analyses import GEMINI_POOL, copy_analyses, image_analyses, video_analyses
from brand_pipeline.assets.metadata import report_metadata
from brand_pipeline.interrupts import until_stop_signal
from brand_pipeline.partitions import brands_partitions
from brand_pipeline.resources.gemini import GeminiResource
from brand_pipeline.resources.supabase import SupabaseResource
from brand_pipeline.run_tags import FRESH_PERSONAS_TAG


class PersonasConfig(dg.Config):
    fresh_synthesis: bool = False  # synthesise (a paid call) even if the inputs are unchanged


@dg.asset(
    partitions_def=brands_partitions,
    deps=[video_analyses, image_analyses, copy_analyses],
    group_name="brand_research",
    code_version=PROMPT_VERSIONS["personas"],
    pool=GEMINI_POOL,
    kinds={"gemini"},
)
async def personas(
    context: dg.AssetExecutionContext, config: PersonasConfig, supabase: SupabaseResource, gemini: GeminiResource
) -> dg.MaterializeResult:
    """The brand's customer personas, each citing the ads that evidence it, with the
    longevity-weighted evidence summary they were built from. Unchanged inputs make no new call."""
    fresh = config.fresh_synthesis or context.run.tags.get(FRESH_PERSONAS_TAG) == "true"
    return await until_stop_signal(_synthesised(context, supabase, gemini, fresh=fresh))


async def _synthesised(
    context: dg.AssetExecutionContext, supabase: SupabaseResource, gemini: GeminiResource, *, fresh: bool
) -> dg.MaterializeResult:
    async with supabase.open() as storage, gemini.open() as analyser:
        try:
            report = await synthesise_personas(
                context.partition_key,
                store=storage.store,
                analyser=analyser,
                run_id=context.run.run_id,
                max_evidence_ads=gemini.max_evidence_ads,
                fresh=fresh,
            )
        except ModelUnreachable as error:
            raise dg.Failure(description=str(error)) from None
    return dg.MaterializeResult(metadata=report_metadata(context, report.counts(), report.markdown()))
