"""Materialising assets for one brand from the command line, through Dagster (so the runs show
in the UI), and reading back what each asset reported."""

from __future__ import annotations

import warnings
from typing import Any

import dagster as dg
from pydantic import BaseModel

from brand_pipeline.assets import brand_report, scraped_ads
from brand_pipeline.checks import ALL_CHECKS
from brand_pipeline.partitions import add_brand_partitions
from brand_pipeline.run_tags import FRESH_SCRAPE_TAG

# Step-by-step event logs (and failures' stack traces) belong in the UI; the terminal shows the
# summary and each failure's description (``PartitionRun.failures``).
QUIET_RUN = {"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}}


class PartitionRun(BaseModel):
    """What one run of a brand's partition did: success, each asset's counts, the first failure."""

    slug: str | None  # None for unpartitioned assets
    run_id: str
    success: bool
    asset_counts: dict[str, dict[str, Any]]
    failures: dict[str, str] = {}  # failed step (an asset, or a check) -> what went wrong

    @property
    def failure(self) -> str | None:
        return next(iter(self.failures.values()), None)

    @property
    def counts(self) -> dict[str, Any]:
        return self.asset_counts.get("scraped_ads", {})


def materialise_assets(
    instance: dg.DagsterInstance, resources: dict[str, Any], selection: list[Any], tags: dict[str, str] | None = None
) -> PartitionRun:
    """Unpartitioned assets (the comparison): one run."""
    return materialise_partition(instance, resources, None, selection, tags)


def materialise_partition(
    instance: dg.DagsterInstance,
    resources: dict[str, Any],
    slug: str | None,
    selection: list[Any],
    tags: dict[str, str] | None = None,
) -> PartitionRun:
    result = materialise_in_process(selection, slug, instance=instance, resources=resources, tags=tags)
    counts: dict[str, dict[str, Any]] = {}
    for key in {key for definition in selection for key in getattr(definition, "keys", ())}:
        name = key.to_user_string()
        for materialization in result.asset_materializations_for_node(name):
            counts[name] = {
                field: value.value
                for field, value in materialization.metadata.items()
                if isinstance(value.value, (int, float, str)) and field not in ("preview", "dagster_run")
            }
    failures = {event.step_key or "run": _failure_text(event) for event in result.get_step_failure_events()}
    return PartitionRun(slug=slug, run_id=result.run_id, success=result.success, asset_counts=counts, failures=failures)


def materialise_in_process(
    definitions: list[Any],
    slug: str | None,
    *,
    instance: dg.DagsterInstance,
    resources: dict[str, Any],
    tags: dict[str, str] | None = None,
    selection: dg.AssetSelection | None = None,
    quiet: bool = True,
) -> dg.ExecuteInProcessResult:
    """One in-process run of ``definitions`` (of ``selection`` among them, when given) for ``slug``:
    quiet on the terminal unless asked (tests keep the step logs), and never raising, so what went
    wrong is read from the result."""
    with warnings.catch_warnings():
        # One partition per run here: the batching policy of `scraped_ads` (for backfills) does not
        # apply, and Dagster's notice that the selection mixes policies is noise on a terminal.
        warnings.filterwarnings("ignore", message="Asset job .* materializes assets with varying BackfillPolicies")
        return dg.materialize(
            definitions,
            selection=selection,
            partition_key=slug,
            instance=instance,
            resources=resources,
            raise_on_error=False,
            tags=tags,
            run_config=QUIET_RUN if quiet else None,
        )


def _failure_text(event: dg.DagsterEvent) -> str:
    """A step failure's description (``dg.Failure``), else the message of the error that caused it."""
    data = event.step_failure_data
    if data.user_failure_data and data.user_failure_data.description:
        return data.user_failure_data.description
    error = (data.error.cause or data.error) if data.error else None
    return error.message.strip() if error else "failed"


def scrape_partition(
    instance: dg.DagsterInstance, resources: dict[str, Any], slug: str, *, fresh: bool = False
) -> PartitionRun:
    """One `scraped_ads` run of ``slug`` (with its checks), registering the partition if needed."""
    add_brand_partitions(instance, [slug])
    checks = [check for check in ALL_CHECKS if scraped_ads.key in {k.asset_key for k in check.check_keys}]
    tags = {FRESH_SCRAPE_TAG: "true"} if fresh else None
    return materialise_partition(instance, resources, slug, [scraped_ads, *checks], tags)


def report_partition(instance: dg.DagsterInstance, resources: dict[str, Any], slug: str) -> PartitionRun:
    """One `brand_report` run of ``slug``."""
    add_brand_partitions(instance, [slug])
    return materialise_partition(instance, resources, slug, [brand_report])
