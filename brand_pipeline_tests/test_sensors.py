"""Sensors, evaluated with ``build_sensor_context`` against a real instance and the real store."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import dagster as dg
import pytest

from brand_pipeline.assets import ANALYSIS_AND_PERSONAS, brand_report
from brand_pipeline.definitions import defs
from brand_pipeline.domain.ads import AdRecord
from brand_pipeline.domain.brands import Brand
from brand_pipeline.partitions import brands_partitions
from brand_pipeline.resources.supabase import SupabaseResource
from brand_pipeline.schedules import daily_scrape_schedule
from brand_pipeline.sensors import brands_sensor, new_ads_sensor
from brand_pipeline.sources.ad_items import parse_ad_item
from brand_pipeline_tests.helpers import store_call


@pytest.fixture
def resources(database_url: str, tmp_path: Path) -> dict:
    return {"supabase": SupabaseResource(database_url=database_url, home=str(tmp_path))}


def _tick(sensor: dg.SensorDefinition, instance: dg.DagsterInstance, resources: dict, cursor: str | None = None):
    context = dg.build_sensor_context(instance=instance, cursor=cursor, resources=resources)
    return sensor(context)


def _apply(result: dg.SensorResult, instance: dg.DagsterInstance) -> None:
    """Do what the daemon does with a sensor's partition requests."""
    for request in result.dynamic_partitions_requests or []:
        if isinstance(request, dg.AddDynamicPartitionsRequest):
            instance.add_dynamic_partitions(request.partitions_def_name, list(request.partition_keys))
        else:
            for key in request.partition_keys:
                instance.delete_dynamic_partition(request.partitions_def_name, key)


def _sensor_target(sensor: dg.SensorDefinition) -> set[dg.AssetKey]:
    job = defs.resolve_job_def(defs.resolve_sensor_def(sensor.name).job_name)
    return set(job.asset_layer.selected_asset_keys)


def _partitions(instance: dg.DagsterInstance) -> set[str]:
    return set(instance.get_dynamic_partitions(brands_partitions.name))


def _ad(ad_id: str) -> AdRecord:
    return parse_ad_item({"ad_archive_id": ad_id, "snapshot": {"body": {"text": f"copy of {ad_id}"}}})


def test_brand_partitions_follow_the_brands_table(instance: dg.DagsterInstance, resources: dict) -> None:
    store_call(resources, "upsert_brands", [Brand(slug="acme", name="Acme"), Brand(slug="globex", name="Globex")])
    result = _tick(brands_sensor, instance, resources)
    _apply(result, instance)
    assert _partitions(instance) == {"acme", "globex"}

    assert isinstance(_tick(brands_sensor, instance, resources), dg.SkipReason), "nothing to do twice"

    store_call(resources, "archive_brand", "globex")
    _apply(_tick(brands_sensor, instance, resources), instance)
    assert _partitions(instance) == {"acme"}
    assert store_call(resources, "get_brand", "globex") is not None, "archiving keeps the brand's data"


def test_a_partition_added_in_the_ui_is_registered_as_a_brand(instance: dg.DagsterInstance, resources: dict) -> None:
    instance.add_dynamic_partitions(brands_partitions.name, ["initech"])
    result = _tick(brands_sensor, instance, resources)
    assert isinstance(result, dg.SkipReason), "the partition already exists; only the table changes"
    brand = store_call(resources, "get_brand", "initech")
    assert brand is not None and brand.archived_at is None
    assert _partitions(instance) == {"initech"}


def test_new_ads_launch_one_run_per_brand_with_keys_stable_across_ticks(
    instance: dg.DagsterInstance, resources: dict
) -> None:
    store_call(resources, "upsert_brands", [Brand(slug="acme", name="Acme"), Brand(slug="globex", name="Globex")])
    instance.add_dynamic_partitions(brands_partitions.name, ["acme", "globex"])
    store_call(resources, "upsert_ads", "acme", [_ad("1"), _ad("2")])
    store_call(resources, "upsert_ads", "globex", [_ad("3")])

    first = _tick(new_ads_sensor, instance, resources)
    assert sorted(r.partition_key for r in first.run_requests) == ["acme", "globex"]
    assert _sensor_target(new_ads_sensor) == {a.key for a in [*ANALYSIS_AND_PERSONAS, brand_report]}

    # A repeated tick from the same cursor (e.g. the cursor update was lost) asks for the same keys,
    # which Dagster will not launch twice.
    again = _tick(new_ads_sensor, instance, resources)
    assert [r.run_key for r in again.run_requests] == [r.run_key for r in first.run_requests]

    # From the new cursor: nothing until more ads arrive; re-storing known ads is not new.
    store_call(resources, "upsert_ads", "acme", [_ad("1")])
    idle = _tick(new_ads_sensor, instance, resources, cursor=first.cursor)
    assert idle.run_requests == [] and idle.cursor == first.cursor

    store_call(resources, "upsert_ads", "acme", [_ad("4")])
    later = _tick(new_ads_sensor, instance, resources, cursor=first.cursor)
    assert [r.partition_key for r in later.run_requests] == ["acme"]
    assert later.run_requests[0].run_key not in {r.run_key for r in first.run_requests}
    assert int(later.cursor) > int(first.cursor)


def test_new_ads_for_a_brand_without_a_partition_add_it_in_the_same_tick(
    instance: dg.DagsterInstance, resources: dict
) -> None:
    store_call(resources, "upsert_brands", [Brand(slug="acme", name="Acme")])
    store_call(resources, "upsert_ads", "acme", [_ad("1")])
    result = _tick(new_ads_sensor, instance, resources)
    [request] = result.dynamic_partitions_requests
    assert list(request.partition_keys) == ["acme"]
    assert [r.partition_key for r in result.run_requests] == ["acme"]


def test_daily_schedule_requests_a_scrape_of_every_brand(instance: dg.DagsterInstance) -> None:
    instance.add_dynamic_partitions(brands_partitions.name, ["acme", "globex"])
    context = dg.build_schedule_context(instance=instance, scheduled_execution_time=datetime(2026, 11, 25, 5))
    requests = daily_scrape_schedule(batch_size=1)(context)  # batches: test_scrape_batches.py
    assert sorted(r.partition_key for r in requests) == ["acme", "globex"]
    assert {r.run_key for r in requests} == {"daily-scrape:2026-11-25:acme", "daily-scrape:2026-11-25:globex"}
