"""The offline demo: the sample brands, scraped, analysed and summarised end to end.

Runs the real assets through Dagster (``materialize``) into the persistent instance, so the runs,
partitions and materialisations appear in ``dagster dev`` afterwards.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import dagster as dg
from pydantic import BaseModel

from brand_pipeline.assets import ALL_ASSETS
from brand_pipeline.checks import ALL_CHECKS
from brand_pipeline.domain.brands import Brand
from brand_pipeline.registry import register_brands
from brand_pipeline.resources.supabase import SupabaseResource
from brand_pipeline.sample import SampleManifest, ensure_sample
from brand_pipeline.store.models import BrandSummary, ModelCost

# Step-by-step event logs belong in the UI; the terminal shows warnings and the summary table.
_QUIET_RUN = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}


class BrandRun(BaseModel):
    """One brand's demo run: whether it succeeded, what each asset reported, and the store totals."""

    slug: str
    success: bool
    failed_assets: list[str]
    asset_counts: dict[str, dict[str, Any]]
    totals: BrandSummary
    # Every model call of this run that returned usage, failed steps included (model_usage).
    usage: list[ModelCost] = []

    @property
    def new_items(self) -> int:
        """Ads, creatives and analyses this run added (0 when everything was already done)."""
        keys = (
            ("scraped_ads", "ads_new"),
            ("scraped_ads", "creatives_new"),
            ("video_analyses", "analysed_new"),
            ("image_analyses", "analysed_new"),
            ("copy_analyses", "analysed_new"),
        )
        return sum(int(self.asset_counts.get(asset, {}).get(key, 0)) for asset, key in keys)

    @property
    def persona_status(self) -> str:
        return str(self.asset_counts.get("personas", {}).get("status", "not run"))


def model_totals(runs: list[BrandRun]) -> dict[str, float]:
    """Model outcomes over every asset of every brand run, and the tokens and estimated cost of
    every call they made — also of steps that failed afterwards (they report no materialisation)."""
    outcomes = {
        key: sum(float(counts.get(key, 0)) for run in runs for counts in run.asset_counts.values())
        for key in ("model_done", "failed")
    }
    spent = {
        key: sum(float(getattr(cost, key)) for run in runs for cost in run.usage)
        for key in ("input_tokens", "output_tokens", "cost_usd")
    }
    return outcomes | spent


def sample_brands(manifest: SampleManifest) -> list[Brand]:
    """The sample's brands, as rows of the brands table."""
    return [
        Brand(slug=b.slug, name=b.name, facebook_page_id=b.facebook_page_id, ad_library_url=b.ad_library_url)
        for b in manifest.brands
    ]


def run_demo(
    instance: dg.DagsterInstance,
    resources: dict[str, Any],
    home: Path,
    *,
    on_brand: Callable[[str], None] = lambda slug: None,
) -> list[BrandRun]:
    # Resolved for our own calls; `materialize` gets the resources unresolved, secrets as EnvVar.
    supabase: SupabaseResource = resources["supabase"].process_config_and_initialize()
    manifest = ensure_sample(home / "sample")
    slugs = register_brands(supabase, instance, sample_brands(manifest))

    runs = []
    for slug in slugs:
        on_brand(slug)
        result = dg.materialize(
            ALL_ASSETS + ALL_CHECKS,
            partition_key=slug,
            instance=instance,
            resources=resources,
            raise_on_error=False,
            tags={"brand_pipeline/trigger": "demo"},
            run_config=_QUIET_RUN,
        )
        counts = {}
        for asset in ALL_ASSETS:
            for materialization in result.asset_materializations_for_node(asset.key.to_user_string()):
                counts[asset.key.to_user_string()] = {
                    key: value.value
                    for key, value in materialization.metadata.items()
                    if isinstance(value.value, (int, float, str)) and key not in ("preview", "dagster_run")
                }
        failed = [a.key.to_user_string() for a in ALL_ASSETS if a.key.to_user_string() not in counts]
        runs.append(
            BrandRun(
                slug=slug,
                success=result.success,
                failed_assets=failed,
                asset_counts=counts,
                totals=supabase.run_with_store(lambda store, slug=slug: store.brand_summary(slug)),
                usage=supabase.run_with_store(lambda store, run=result.run_id: store.model_costs(run_ids=[run])),
            )
        )
    return runs
