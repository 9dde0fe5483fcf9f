"""Sensors: keep the ``brands`` partitions in step with the ``brands`` table, and analyse new ads.

Sensors are synchronous; each enters async code once through ``SupabaseResource.run_with_store``,
which opens the store on a fresh event loop and closes it before returning (the async rule).
"""

import re
from dataclasses import dataclass

import dagster as dg

from brand_pipeline.assets import ANALYSIS_AND_PERSONAS, brand_report
from brand_pipeline.domain.brands import BRAND_SLUG_PATTERN, Brand
from brand_pipeline.partitions import brands_partitions
from brand_pipeline.resources.supabase import SupabaseResource
from brand_pipeline.store.models import NewAds
from brand_pipeline.store.protocol import BrandStore

_SLUG = re.compile(BRAND_SLUG_PATTERN)


@dataclass(frozen=True)
class PartitionSync:
    add: list[str]  # active brands without a partition
    delete: list[str]  # partitions of archived brands
    register: list[str]  # partitions created in the UI that the table does not know yet


def plan_partition_sync(brands: list[Brand], partitions: set[str]) -> PartitionSync:
    known = {brand.slug for brand in brands}
    active = {brand.slug for brand in brands if brand.archived_at is None}
    return PartitionSync(
        add=sorted(active - partitions),
        delete=sorted((known - active) & partitions),
        register=sorted(key for key in partitions - known if _SLUG.match(key)),
    )


async def _sync_brands(store: BrandStore, partitions: set[str]) -> PartitionSync:
    plan = plan_partition_sync(await store.list_brands(include_archived=True), partitions)
    if plan.register:
        await store.upsert_brands([Brand(slug=slug, name=slug) for slug in plan.register])
    return plan


@dg.sensor(minimum_interval_seconds=30, default_status=dg.DefaultSensorStatus.RUNNING)
def brands_sensor(context: dg.SensorEvaluationContext, supabase: SupabaseResource) -> dg.SensorResult | dg.SkipReason:
    """Adds a partition for every active brand, deletes those of archived brands, and registers
    brands added as partitions in the UI."""
    partitions = set(context.instance.get_dynamic_partitions(brands_partitions.name))
    plan = supabase.run_with_store(lambda store: _sync_brands(store, partitions))
    if plan.register:
        context.log.info(f"registered brands added in the UI: {', '.join(plan.register)}")
    if not plan.add and not plan.delete:
        return dg.SkipReason(f"{len(partitions)} brand partitions already match the brands table")
    requests = []
    if plan.add:
        requests.append(brands_partitions.build_add_request(plan.add))
    if plan.delete:
        requests.append(brands_partitions.build_delete_request(plan.delete))
    return dg.SensorResult(dynamic_partitions_requests=requests)


def new_ads_run_key(new: NewAds) -> str:
    # Brand + the newest ad stored: the same data always gives the same key, so Dagster never
    # launches it twice; any newly stored ad gives a new key.
    return f"new-ads:{new.brand_slug}:{new.newest_seq}"


@dg.sensor(minimum_interval_seconds=30, target=[*ANALYSIS_AND_PERSONAS, brand_report])
def new_ads_sensor(context: dg.SensorEvaluationContext, supabase: SupabaseResource) -> dg.SensorResult:
    """For every brand with ads stored since the cursor, one run of its analyses and personas."""
    cursor = int(context.cursor or 0)
    new = supabase.run_with_store(lambda store: store.new_ads_since(cursor))
    if not new:
        return dg.SensorResult(skip_reason=f"no ads stored after position {cursor}", cursor=str(cursor))
    partitions = set(context.instance.get_dynamic_partitions(brands_partitions.name))
    missing = sorted({n.brand_slug for n in new} - partitions)
    return dg.SensorResult(
        run_requests=[
            dg.RunRequest(
                partition_key=n.brand_slug,
                run_key=new_ads_run_key(n),
                tags={"brand_pipeline/trigger": "new_ads", "brand_pipeline/new_ads": str(n.count)},
            )
            for n in new
        ],
        dynamic_partitions_requests=[brands_partitions.build_add_request(missing)] if missing else [],
        cursor=str(max(cursor, *(n.newest_seq for n in new))),
    )
