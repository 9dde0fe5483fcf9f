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

from brand_pipeline.assets import ALL_ASSETS
from brand_pipeline.checks import ALL_CHECKS
from brand_pipeline.domain.brands import Brand
from brand_pipeline.registry import register_brands
from brand_pipeline.resources.supabase import SupabaseResource
from brand_pipeline.sample import SampleManifest, ensure_sample
from brand_pipeline.store.models import BrandSummary

# Step-by-step event logs (and failures' stack traces) belong in the UI; the terminal shows the
# summary table and each failure's description (``BrandRun.failures``).
_QUIET_RUN = {"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}}


class BrandRun(BaseModel):
    """One brand's demo run: whether it succeeded, what each asset reported, and the store totals."""

    slug: str
    success: bool
    failed_assets: list[str]
    asset_counts: dict[str, dict[str, Any]]
    totals: BrandSummary
    failures: dict[str, str] = {}
    """Failed step (an asset, or a check) -> what went wrong, as its failure says."""

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
    """Model outcomes, tokens and estimated cost over every asset of every brand run."""
    keys = ("model_done", "failed", "input_tokens", "output_tokens", "cost_usd")
    return {key: sum(float(counts.get(key, 0)) for run in runs for counts in run.asset_counts.values()) for key in keys}


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
        result = dg.materialize(
            ALL_ASSETS + ALL_CHECKS,
            partition_key=slug,
            instance=instance,
            resources=resources,
            raise_on_error=False,
            tags={"brand_pipeline/trigger": "demo"},
            run_config=_QUIET_RUN,
        )
        check_stop()
        runs.append(_brand_run(slug, result, supabase))
    return runs


def _brand_run(slug: str, result: dg.ExecuteInProcessResult, supabase: SupabaseResource) -> BrandRun:
    counts = {}
    for asset in ALL_ASSETS:
        for materialization in result.asset_materializations_for_node(asset.key.to_user_string()):
            counts[asset.key.to_user_string()] = {
                key: value.value
                for key, value in materialization.metadata.items()
                if isinstance(value.value, (int, float, str)) and key not in ("preview", "dagster_run")
            }
    return BrandRun(
        slug=slug,
        success=result.success,
        failed_assets=[a.key.to_user_string() for a in ALL_ASSETS if a.key.to_user_string() not in counts],
        asset_counts=counts,
        totals=supabase.run_with_store(lambda store: store.brand_summary(slug)),
        failures={event.step_key or "run": _failure_text(event) for event in result.get_step_failure_events()},
    )


def _failure_text(event: dg.DagsterEvent) -> str:
    """A step failure's description (``dg.Failure``), else the message of the error that caused it."""
    data = event.step_failure_data
    if data.user_failure_data and data.user_failure_data.description:
        return data.user_failure_data.description
    error = (data.error.cause or data.error) if data.error else None
    return error.message.strip() if error else "failed"
