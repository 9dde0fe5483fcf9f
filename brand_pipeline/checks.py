"""Asset checks a data team relies on, per brand partition (the scrape's are on the asset itself).

The ones that guard what downstream assets read are blocking: if a scrape left a creative row
without its file, or an analysis names an ad that is gone, the assets after it do not run on bad
ground. The persona evidence check warns.

No ``from __future__ import annotations``: Dagster reads the parameter annotations.
"""

import dagster as dg

from brand_pipeline.assets import check_metadata, copy_analyses, image_analyses, personas, video_analyses
from brand_pipeline.domain.kinds import AnalysisKind
from brand_pipeline.partitions import brands_partitions
from brand_pipeline.resources.supabase import SupabaseResource

# Dagster's preview notice for partitioned checks is silenced once, in assets/scrape_checks.py.


def _result(passed: bool, problems: list[str], checked: int, what: str) -> dg.AssetCheckResult:
    return dg.AssetCheckResult(passed=passed, metadata=check_metadata(problems, checked, what))


def _analyses_reference_check(asset: dg.AssetsDefinition, kind: AnalysisKind) -> dg.AssetChecksDefinition:
    item = "copy" if kind == "copy" else "creative"

    @dg.asset_check(
        asset=asset,
        name="analyses_point_at_existing_creatives_and_ads",
        blocking=True,
        partitions_def=brands_partitions,
        description=f"Every {kind} analysis of the brand points at a stored {item} and at ads that exist.",
    )
    async def check(context: dg.AssetCheckExecutionContext, supabase: SupabaseResource) -> dg.AssetCheckResult:
        async with supabase.open() as storage:
            dangling = await storage.store.dangling_analyses(context.partition_key, kind)
            summary = await storage.store.brand_summary(context.partition_key)
        problems = [
            f"{row.item[:12]} names {'ad ' + row.ad_id if row.ad_id else 'a missing creative'}" for row in dangling
        ]
        checked = summary.found(kind)
        return _result(not problems, problems, checked, f"{kind} analysis")

    return check


class PersonaEvidenceConfig(dg.Config):
    min_distinct_ads: int = 3


@dg.asset_check(asset=personas, blocking=False, partitions_def=brands_partitions)
async def personas_cite_enough_ads(
    context: dg.AssetCheckExecutionContext, config: PersonaEvidenceConfig, supabase: SupabaseResource
) -> dg.AssetCheckResult:
    """The brand's latest personas cite at least `min_distinct_ads` distinct ads, and each cites one."""
    async with supabase.open() as storage:
        synthesis = await storage.store.latest_persona_synthesis(context.partition_key)
    if synthesis is None or synthesis.status != "done":
        reason = synthesis.reason if synthesis else "personas were never materialised"
        return dg.AssetCheckResult(passed=True, metadata={"skipped": f"no personas to check: {reason}"})
    cited = {ad for persona in synthesis.personas for ad in persona.evidence_ad_ids}
    uncited = [persona.name for persona in synthesis.personas if not persona.evidence_ad_ids]
    problems = [f"{name} cites no ad" for name in uncited]
    if len(cited) < config.min_distinct_ads:
        problems.append(f"only {len(cited)} distinct ads cited, fewer than {config.min_distinct_ads}")
    return _result(not problems, problems, len(synthesis.personas), "persona")


# The scrape's own checks (creatives_have_their_files, ads_with_media_have_creatives) are declared
# on `scraped_ads` itself and run in its store session: see assets/scrape_checks.py.
ALL_CHECKS = [
    _analyses_reference_check(video_analyses, "video"),
    _analyses_reference_check(image_analyses, "image"),
    _analyses_reference_check(copy_analyses, "copy"),
    personas_cite_enough_ads,
]
