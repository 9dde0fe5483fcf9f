"""Many brands in one `scraped_ads` run: each brand still its own partition, with its own
materialisation, metadata and checks, and a brand that fails fails only itself."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import dagster as dg
import pytest

from brand_pipeline.assets import scraped_ads
from brand_pipeline.sample import read_manifest
from brand_pipeline_tests.helpers import register_sample_brands, resources_for
from brand_pipeline_tests.stores import StoreRunner

RANGE_START, RANGE_END = "dagster/asset_partition_range_start", "dagster/asset_partition_range_end"
CHECKS = {"creatives_have_their_files", "ads_with_media_have_creatives"}
# What differs between any two materialisations, however they were made.
RUN_SPECIFIC = {"dagster_run"}


@pytest.fixture
def instance() -> dg.DagsterInstance:
    with dg.instance_for_test() as instance:
        yield instance


def _batch(slugs: list[str], resources: dict, instance: dg.DagsterInstance) -> dg.ExecuteInJobResult:
    """One run over the brands' partition range, as a backfill or the daily schedule launches it."""
    return dg.materialize(
        [scraped_ads],
        instance=instance,
        resources=resources,
        tags={RANGE_START: slugs[0], RANGE_END: slugs[-1]},
        raise_on_error=False,
    )


def _materialisations(result: dg.ExecuteInJobResult) -> dict[str, dg.AssetMaterialization]:
    return {m.partition: m for m in result.asset_materializations_for_node("scraped_ads")}


def _checks(result: dg.ExecuteInJobResult) -> dict[tuple[str, str], bool]:
    return {(e.partition, e.check_name): e.passed for e in result.get_asset_check_evaluations()}


def _plain(metadata: dict) -> dict:
    return {key: value.value for key, value in metadata.items() if key not in RUN_SPECIFIC}


def test_a_batch_of_three_brands_gives_each_its_own_materialisation_metadata_and_checks(
    database_url: str, tmp_path: Path, sample_dir: Path, instance: dg.DagsterInstance
) -> None:
    resources = resources_for(database_url, tmp_path / "home", sample_dir)
    slugs = register_sample_brands(resources, sample_dir, instance)
    assert len(slugs) == 3
    result = _batch(slugs, resources, instance)
    assert result.success
    [run] = [result.run_id]
    materialisations = _materialisations(result)
    assert sorted(materialisations) == sorted(slugs)
    manifest = read_manifest(sample_dir)
    for slug in slugs:
        metadata = _plain(materialisations[slug].metadata)
        assert metadata["ads_new"] == manifest.brand(slug).expected.importable_ads, slug
        assert materialisations[slug].metadata["dagster_run"].value == run
    assert len({m.metadata["preview"].value for m in materialisations.values()}) == 3, "each brand its own preview"
    assert _checks(result) == {(slug, name): True for slug in slugs for name in CHECKS}
    # Dagster's own view of each partition: materialised, with its checks on that materialisation.
    assert instance.get_materialized_partitions(scraped_ads.key) == set(slugs)
    for slug in slugs:
        [record] = instance.fetch_materializations(
            dg.AssetRecordsFilter(asset_key=scraped_ads.key, asset_partitions=[slug]), limit=1
        ).records
        assert record.asset_materialization.metadata["ads_new"].value == manifest.brand(slug).expected.importable_ads


def test_a_brand_in_a_batch_looks_the_same_as_the_brand_scraped_on_its_own(
    database_url: str, tmp_path: Path, sample_dir: Path, instance: dg.DagsterInstance
) -> None:
    resources = resources_for(database_url, tmp_path / "home", sample_dir)
    slugs = register_sample_brands(resources, sample_dir, instance)
    alone = dg.materialize([scraped_ads], partition_key=slugs[1], instance=instance, resources=resources)
    batch = _batch(slugs, resources, instance)  # the same brand again, nothing changed, in a batch
    [single] = alone.asset_materializations_for_node("scraped_ads")
    batched = _materialisations(batch)[slugs[1]]
    assert set(batched.metadata) == set(single.metadata)
    assert {k: v for k, v in batched.tags.items() if k.startswith("dagster/")} == {
        k: v for k, v in single.tags.items() if k.startswith("dagster/")
    }, "same code and data version tags: the UI shows no staleness difference"
    assert {e.check_name: e.partition for e in alone.get_asset_check_evaluations()} == dict.fromkeys(CHECKS, slugs[1])
    targets = {
        e.check_name: e.target_materialization_data.run_id
        for e in batch.get_asset_check_evaluations()
        if e.partition == slugs[1] and e.check_name in CHECKS
    }
    assert targets == dict.fromkeys(CHECKS, batch.run_id), "each check points at the batch's materialisation"


def test_a_failing_brand_fails_only_its_own_partition(
    database_url: str, tmp_path: Path, sample_dir: Path, instance: dg.DagsterInstance
) -> None:
    export = tmp_path / "export"
    shutil.copytree(sample_dir, export)
    manifest = read_manifest(export)
    resources = resources_for(database_url, tmp_path / "home", export)
    slugs = register_sample_brands(resources, export, instance)
    broken = slugs[1]
    (export / manifest.brand(broken).export).unlink()  # its source has nothing to give

    result = _batch(slugs, resources, instance)
    assert not result.success
    assert sorted(_materialisations(result)) == sorted(s for s in slugs if s != broken)
    assert {slug for slug, _ in _checks(result)} == set(slugs) - {broken}
    [failure] = [e for e in result.all_events if e.event_type == dg.DagsterEventType.STEP_FAILURE]
    assert f"1 of 3 brands failed: {broken}: no export for brand" in failure.step_failure_data.error.message
    # The UI's partition view: the others materialised, only the broken brand failed.
    assert instance.get_materialized_partitions(scraped_ads.key) == set(slugs) - {broken}
    assert _failed_partitions(instance) == {broken}


_WHERE = "BRAND_PIPELINE_TEST_BATCH_WHERE"


def batch_job() -> dg.JobDefinition:
    """The scrape as a job Dagster can load again by reference, as a re-execution does, over the
    database and export folder the test names in the environment."""
    where = json.loads(os.environ[_WHERE])
    resources = resources_for(where["database_url"], Path(where["home"]), Path(where["export"]))
    job = dg.define_asset_job("scrape_batch", selection=[scraped_ads], executor_def=dg.in_process_executor)
    return dg.Definitions(assets=[scraped_ads], jobs=[job], resources=resources).resolve_job_def("scrape_batch")


def test_re_executing_a_failed_batch_from_failure_scrapes_only_the_brand_that_failed(
    database_url: str, tmp_path: Path, sample_dir: Path, instance: dg.DagsterInstance, monkeypatch: pytest.MonkeyPatch
) -> None:
    export, home = tmp_path / "export", tmp_path / "home"
    shutil.copytree(sample_dir, export)
    slugs = register_sample_brands(resources_for(database_url, home, export), export, instance)
    broken = export / read_manifest(export).brand(slugs[1]).export
    exported = broken.read_bytes()
    broken.unlink()  # its source has nothing to give
    monkeypatch.setenv(_WHERE, json.dumps({"database_url": database_url, "home": str(home), "export": str(export)}))
    job, tags = dg.reconstructable(batch_job), {RANGE_START: slugs[0], RANGE_END: slugs[-1]}
    with dg.execute_job(job, instance, tags=tags) as first:
        assert not first.success
    broken.write_bytes(exported)  # the cause fixed

    options = dg.ReexecutionOptions.from_failure(first.run_id, instance)
    with dg.execute_job(job, instance, tags=tags, reexecution_options=options) as again:
        assert again.success
        materialised = {m.partition for m in again.asset_materializations_for_node("scraped_ads")}
        left_alone = {o.partition: o.metadata for o in again.asset_observations_for_node("scraped_ads")}
        checked = {e.partition for e in again.get_asset_check_evaluations()}
    assert materialised == checked == {slugs[1]}
    assert {slug: metadata["scraped_by_run"].value for slug, metadata in left_alone.items()} == {
        slugs[0]: first.run_id,
        slugs[2]: first.run_id,
    }, "the re-execution records which run scraped the brands it left alone"
    scrapes = StoreRunner("postgres", database_url, None).sql("SELECT run_id, brand_slug FROM scrapes ORDER BY id")
    assert [slug for run, slug in scrapes if run == first.run_id] == slugs, "the first run tried them all"
    assert [slug for run, slug in scrapes if run == again.run_id] == [slugs[1]], "the re-execution, the failed one"
    # Dagster's view: every brand materialised once, none failed any more.
    assert instance.get_materialized_partitions(scraped_ads.key) == set(slugs)
    assert _failed_partitions(instance) == set()


def _failed_partitions(instance: dg.DagsterInstance) -> set[str]:
    """The partitions the UI shows as failed (Dagster's asset status cache, as the UI reads it)."""
    from dagster._core.storage.partition_status_cache import get_and_update_asset_status_cache_value

    from brand_pipeline.partitions import brands_partitions

    value = get_and_update_asset_status_cache_value(instance, scraped_ads.key, brands_partitions)
    return set(value.deserialize_failed_partition_subsets(brands_partitions).get_partition_keys())


def test_the_daily_schedule_asks_for_batches_of_consecutive_brands(instance: dg.DagsterInstance) -> None:
    from datetime import datetime

    from brand_pipeline.schedules import daily_scrape_schedule

    instance.add_dynamic_partitions("brands", ["acme", "globex", "initech", "umbrella", "wayne"])
    context = dg.build_schedule_context(instance=instance, scheduled_execution_time=datetime(2026, 11, 25, 5))
    requests = daily_scrape_schedule(batch_size=2)(context)
    assert [(r.tags.get(RANGE_START), r.tags.get(RANGE_END), r.partition_key) for r in requests] == [
        ("acme", "globex", None),
        ("initech", "umbrella", None),
        (None, None, "wayne"),  # a batch of one is the plain one-brand run
    ]
    assert [r.run_key for r in requests] == [
        "daily-scrape:2026-11-25:acme..globex",
        "daily-scrape:2026-11-25:initech..umbrella",
        "daily-scrape:2026-11-25:wayne",
    ]


def test_the_batch_size_comes_from_the_environment_and_a_bad_one_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    from brand_pipeline.definitions import scrape_batching_from_env
    from brand_pipeline.schedules import DAILY_SCRAPE_BATCH_SIZE

    monkeypatch.setenv("BRAND_PIPELINE_SCRAPE_BATCH_SIZE", "7")
    assert scrape_batching_from_env() == (scrape_batching_from_env()[0], [])
    assert scrape_batching_from_env()[0].scrape_batch_size == 7
    monkeypatch.setenv("BRAND_PIPELINE_SCRAPE_BATCH_SIZE", "0")
    batching, [error] = scrape_batching_from_env()
    assert batching.scrape_batch_size == DAILY_SCRAPE_BATCH_SIZE == 100
    assert "BRAND_PIPELINE_SCRAPE_BATCH_SIZE='0' is not accepted" in str(error)


def test_backfills_batch_the_scrape_only_when_asked_the_daily_scrape_always_does(
    monkeypatch: pytest.MonkeyPatch, instance: dg.DagsterInstance
) -> None:
    from datetime import datetime

    from brand_pipeline.definitions import ScrapeBatching, scrape_asset, scrape_batching_from_env
    from brand_pipeline.schedules import daily_scrape_schedule

    assert scrape_asset(ScrapeBatching()).backfill_policy is None, "a UI backfill runs one brand per run"
    batched = scrape_asset(ScrapeBatching(batch_scrape_backfills=True))
    assert batched.backfill_policy == dg.BackfillPolicy.multi_run(100)
    monkeypatch.setenv("BRAND_PIPELINE_BATCH_SCRAPE_BACKFILLS", "ture")
    batching, [error] = scrape_batching_from_env()
    assert not batching.batch_scrape_backfills and "BRAND_PIPELINE_BATCH_SCRAPE_BACKFILLS='ture'" in str(error)

    brands = [f"brand-{n:03d}" for n in range(250)]
    instance.add_dynamic_partitions("brands", brands)
    context = dg.build_schedule_context(instance=instance, scheduled_execution_time=datetime(2026, 12, 2, 5))
    requests = daily_scrape_schedule()(context)
    assert [(r.tags[RANGE_START], r.tags[RANGE_END]) for r in requests[:2]] == [
        ("brand-000", "brand-099"),
        ("brand-100", "brand-199"),
    ]
    assert len(requests) == 3 and requests[2].tags[RANGE_END] == "brand-249"


_PARTS = dg.StaticPartitionsDefinition(["a", "b", "c"])


@dg.multi_asset(
    specs=[dg.AssetSpec("batch_of_three", skippable=True)],
    check_specs=[dg.AssetCheckSpec("whole", asset="batch_of_three", blocking=True)],
    partitions_def=_PARTS,
)
def _batch_of_three():
    """A batch run whose "a" is done, whose "b" was materialised but failed its blocking check,
    and whose "c" failed."""
    key = dg.AssetKey("batch_of_three")
    yield dg.AssetMaterialization(key, partition="a")
    yield dg.AssetMaterialization(key, partition="b")
    yield dg.AssetCheckEvaluation(asset_key=key, check_name="whole", passed=False, partition="b", blocking=True)
    raise dg.Failure("c failed")


def test_a_re_execution_leaves_alone_only_what_its_lineage_materialised_with_no_check_failed(
    instance: dg.DagsterInstance,
) -> None:
    from brand_pipeline.assets.reexecution import finished_in_lineage

    first = dg.materialize(
        [_batch_of_three], instance=instance, tags={RANGE_START: "a", RANGE_END: "c"}, raise_on_error=False
    )
    key, brands = dg.AssetKey("batch_of_three"), ["a", "b", "c"]
    reexecution = dg.DagsterRun(job_name="j", run_id="later", parent_run_id=first.run_id, root_run_id=first.run_id)
    assert finished_in_lineage(instance, reexecution, key, brands) == {"a": first.run_id}
    assert finished_in_lineage(instance, dg.DagsterRun(job_name="j", run_id="new"), key, brands) == {}, "a new run"
