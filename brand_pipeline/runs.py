"""Materialising assets for one brand from the command line, through Dagster (so the runs show
in the UI), and reading back what each asset reported."""

from __future__ import annotations

from typing import Any

import dagster as dg
from pydantic import BaseModel

from brand_pipeline.assets import ALL_ASSETS, scraped_ads
from brand_pipeline.checks import ALL_CHECKS
from brand_pipeline.partitions import add_brand_partitions
from brand_pipeline.run_tags import FRESH_SCRAPE_TAG

# Step-by-step event logs belong in the UI; the terminal shows warnings and the summary.
QUIET_RUN = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}


class PartitionRun(BaseModel):
    """What one run of a brand's partition did: success, each asset's counts, the first failure."""

    slug: str
    run_id: str
    success: bool
    asset_counts: dict[str, dict[str, Any]]
    failure: str | None = None

    @property
    def counts(self) -> dict[str, Any]:
        return self.asset_counts.get("scraped_ads", {})


def materialise_partition(
    instance: dg.DagsterInstance,
    resources: dict[str, Any],
    slug: str,
    selection: list[Any],
    tags: dict[str, str] | None = None,
) -> PartitionRun:
    result = dg.materialize(
        selection,
        partition_key=slug,
        instance=instance,
        resources=resources,
        raise_on_error=False,
        tags=tags,
        run_config=QUIET_RUN,
    )
    counts: dict[str, dict[str, Any]] = {}
    for asset in ALL_ASSETS:
        name = asset.key.to_user_string()
        for materialization in result.asset_materializations_for_node(name):
            counts[name] = {
                key: value.value
                for key, value in materialization.metadata.items()
                if isinstance(value.value, (int, float, str)) and key not in ("preview", "dagster_run")
            }
    failures = result.get_step_failure_events()
    failure = None
    if failures:
        data = failures[0].step_failure_data
        failure = (data.user_failure_data.description if data.user_failure_data else None) or (
            data.error.message.strip() if data.error else "failed"
        )
    return PartitionRun(slug=slug, run_id=result.run_id, success=result.success, asset_counts=counts, failure=failure)


def scrape_partition(
    instance: dg.DagsterInstance, resources: dict[str, Any], slug: str, *, fresh: bool = False
) -> PartitionRun:
    """One `scraped_ads` run of ``slug`` (with its checks), registering the partition if needed."""
    add_brand_partitions(instance, [slug])
    checks = [check for check in ALL_CHECKS if scraped_ads.key in {k.asset_key for k in check.check_keys}]
    tags = {FRESH_SCRAPE_TAG: "true"} if fresh else None
    return materialise_partition(instance, resources, slug, [scraped_ads, *checks], tags)
