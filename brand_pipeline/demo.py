"""The offline demo: the sample brands, scraped, analysed and summarised end to end.

Runs the real assets through Dagster (``materialize``) into the persistent instance, so the runs,
partitions and materialisations appear in ``dagster dev`` afterwards. A stop signal ends the
demo: the run in flight is interrupted (see ``interrupts``) and no further brand starts.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import dagster as dg
from pydantic import BaseModel

from brand_pipeline.assets import ALL_ASSETS, BRAND_ASSETS, brand_comparison
from brand_pipeline.checks import ALL_CHECKS
from brand_pipeline.domain.brands import Brand
from brand_pipeline.registry import register_brands
from brand_pipeline.reporting import report_path
from brand_pipeline.resources.supabase import SupabaseResource
from brand_pipeline.runs import PartitionRun, materialise_assets, materialise_partition
from brand_pipeline.sample import SampleManifest, ensure_sample
from brand_pipeline.store.models import BrandSummary, ModelCost
from brand_pipeline.store.protocol import BrandStore


class BrandRun(BaseModel):
    """One brand's demo run: whether it succeeded, what each asset reported, and the store totals."""

    slug: str
    success: bool
    failed_assets: list[str]
    asset_counts: dict[str, dict[str, Any]]
    totals: BrandSummary
    # Every model call of this run that returned usage, failed steps included (model_usage).
    usage: list[ModelCost] = []
    failures: dict[str, str] = {}
    """Failed step (an asset, or a check) -> what went wrong, as its failure says."""
    report: Path | None = None  # the brand's report page, when it was written

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
    check_stop: Callable[[], None] = lambda: None,
) -> list[BrandRun]:
    """Materialise every asset for each sample brand, one brand after another.

    ``check_stop`` raises when the demo should stop (a signal arrived); it is asked before each
    brand and after each run, so an interrupted run is never followed by the next brand's.
    """
    # Resolved for our own calls; `materialize` gets the resources unresolved, secrets as EnvVar.
    supabase: SupabaseResource = resources["supabase"].process_config_and_initialize()
    manifest = ensure_sample(home / "sample")
    slugs = register_brands(supabase, instance, sample_brands(manifest))

    runs = []
    for slug in slugs:
        check_stop()
        on_brand(slug)
        run = materialise_partition(
            instance, resources, slug, BRAND_ASSETS + ALL_CHECKS, {"brand_pipeline/trigger": "demo"}
        )
        check_stop()
        runs.append(_brand_run(run, supabase, resources["reports"].folder()))
    return runs


def compare_demo_brands(instance: dg.DagsterInstance, resources: dict[str, Any]) -> list[Path]:
    """The comparison pages of the brands (one per group), written by ``brand_comparison``."""
    run = materialise_assets(instance, resources, [brand_comparison], {"brand_pipeline/trigger": "demo"})
    folder = resources["reports"].folder()
    return sorted(folder.glob("comparison-*.html")) if run.success else []


async def _totals_and_usage(store: BrandStore, run: PartitionRun) -> tuple[BrandSummary, list[ModelCost]]:
    """What the demo's table shows of a brand's run, read on one store session."""
    return await store.brand_summary(run.slug), await store.model_costs(run_ids=[run.run_id])


def _brand_run(run: PartitionRun, supabase: SupabaseResource, reports_dir: Path) -> BrandRun:
    page = report_path(reports_dir, run.slug)
    totals, usage = supabase.run_with_store(lambda store: _totals_and_usage(store, run))
    return BrandRun(
        report=page if "brand_report" in run.asset_counts else None,
        slug=run.slug,
        success=run.success,
        failed_assets=[a.key.to_user_string() for a in ALL_ASSETS if a.key.to_user_string() not in run.asset_counts],
        asset_counts=run.asset_counts,
        totals=totals,
        failures=run.failures,
        usage=usage,
    )
