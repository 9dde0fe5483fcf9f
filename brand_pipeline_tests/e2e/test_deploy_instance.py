"""The production instance config, ``deploy/dagster.yaml``, on a real ``dagster dev``.

DAGSTER_HOME holds an unmodified copy of deploy/dagster.yaml; every value it reads from the
environment is set as a deployment would: ``DAGSTER_PG_URL`` (Dagster's storage, a ``dagster``
database on a throwaway embedded Postgres), ``DAGSTER_COMPUTE_LOGS_DIR``, ``DAGSTER_ARTIFACTS_DIR``,
and ``DATABASE_URL`` for the pipeline's own tables on the same server (as a managed Postgres would
be). No Gemini key: the default, keyless path.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
import yaml
from dagster import DagsterEventType
from psycopg import sql

from brand_pipeline.resources.supabase import SupabaseResource
from brand_pipeline.store.embedded import EmbeddedPostgres
from brand_pipeline_tests.e2e.harness import REPO_ROOT, DevEnv, gemini_env, running_dagster_dev
from brand_pipeline_tests.e2e.pool_backfill import backfill_under_a_pool_of_one
from brand_pipeline_tests.e2e.support import (
    ADD_DYNAMIC_PARTITION,
    ALL_ASSETS,
    INSTANCE_INFO,
    materialised,
    max_in_flight,
    repository_selector,
)
from brand_pipeline_tests.fakes.gemini import FakeGemini
from brand_pipeline_tests.helpers import store_call

pytestmark = pytest.mark.e2e

DEPLOY_YAML = REPO_ROOT / "deploy" / "dagster.yaml"


@pytest.fixture(scope="module")
def deploy_dev(
    tmp_path_factory: pytest.TempPathFactory, artifacts_dir: Path, fake_gemini: FakeGemini
) -> Iterator[DevEnv]:
    root = tmp_path_factory.mktemp("e2e_deploy")
    postgres = EmbeddedPostgres(root / "postgres", durable=False)
    try:
        pipeline_dsn = postgres.ensure_running()  # also creates the pipeline's database
        status = postgres.status()
        with psycopg.connect(status.dsn("postgres"), autocommit=True) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier("dagster")))
        env = {
            # +psycopg2: Dagster's storage needs it (see the comment in deploy/dagster.yaml).
            "DAGSTER_PG_URL": f"postgresql+psycopg2://postgres@127.0.0.1:{status.port}/dagster",
            "DAGSTER_COMPUTE_LOGS_DIR": str(root / "compute_logs"),
            "DAGSTER_ARTIFACTS_DIR": str(root / "dagster_artifacts"),
            "DATABASE_URL": pipeline_dsn,
        } | gemini_env(fake_gemini)
        supabase = SupabaseResource(database_url=pipeline_dsn, home=str(root / "pipeline_home"))
        with pytest.MonkeyPatch.context() as patch:
            # The test process opens the same instance, so it reads the same variables.
            for key in ("DAGSTER_PG_URL", "DAGSTER_COMPUTE_LOGS_DIR", "DAGSTER_ARTIFACTS_DIR"):
                patch.setenv(key, env[key])
            with running_dagster_dev(
                "deploy",
                root,
                DEPLOY_YAML.read_text(),
                artifacts_dir,
                env=env,
                supabase=supabase,
                stop_postgres=(root / "postgres",),
            ) as dev:
                dev.notes["dagster_dsn"] = status.dsn("dagster")
                dev.notes["root"] = root
                yield dev
    finally:
        postgres.stop()  # already stopped unless dagster dev failed to start


def test_deploy_config_materialises_a_partition_end_to_end(deploy_dev: DevEnv) -> None:
    dev = deploy_dev
    config = yaml.safe_load(DEPLOY_YAML.read_text())
    ref = dev.instance.get_ref()
    assert ref.run_storage_data.class_name == "PostgresRunStorage", ref.run_storage_data
    assert ref.event_storage_data.class_name == "PostgresEventLogStorage", ref.event_storage_data

    # The daemons the config turns on: the run queue, run monitoring, run retries (event log consumer).
    wanted = {"QUEUED_RUN_COORDINATOR", "MONITORING", "EVENT_LOG_CONSUMER", "SENSOR", "BACKFILL", "SCHEDULER"}

    def daemons() -> dict[str, bool]:
        statuses = dev.gql(INSTANCE_INFO)["instance"]["daemonHealth"]["allDaemonStatuses"]
        return {d["daemonType"]: d["healthy"] for d in statuses}

    dev.diag.wait_for(
        f"daemons {sorted(wanted)} to be healthy",
        lambda: all(daemons().get(name) for name in wanted),
        timeout=60,
        extra=lambda: f"daemons: {daemons()}",
    )
    info = dev.gql(INSTANCE_INFO)["instance"]
    runs_config = config["concurrency"]["runs"]
    assert info["runQueueConfig"]["maxConcurrentRuns"] == runs_config["max_concurrent_runs"]
    assert yaml.safe_load(info["runQueueConfig"]["tagConcurrencyLimitsYaml"]) == runs_config["tag_concurrency_limits"]
    assert info["poolConfig"]["defaultPoolLimit"] == config["concurrency"]["pools"]["default_limit"]

    slug = "cairnpeak"
    added = dev.gql(
        ADD_DYNAMIC_PARTITION,
        {
            "repositorySelector": repository_selector(),
            "partitionsDefName": "brands",
            "partitionKey": slug,
        },
    )["addDynamicPartition"]
    assert added["__typename"] == "AddDynamicPartitionSuccess", added

    run_id = dev.materialise_partition(slug)
    assert materialised(dev.instance, run_id) == {asset: slug for asset in ALL_ASSETS}
    kinds = {r.dagster_event.event_type for r in dev.instance.all_logs(run_id) if r.is_dagster_event}
    assert DagsterEventType.RUN_ENQUEUED in kinds, "the run did not go through the queue"

    # Dagster's storage is the Postgres database of DAGSTER_PG_URL.
    with psycopg.connect(dev.notes["dagster_dsn"]) as conn:
        stored = conn.execute("SELECT status FROM runs WHERE run_id = %s", [run_id]).fetchone()
    assert stored == ("SUCCESS",), stored
    # Compute logs land under DAGSTER_COMPUTE_LOGS_DIR.
    logs = [p for p in (dev.notes["root"] / "compute_logs").rglob("*") if p.is_file()]
    assert logs, "no compute logs under DAGSTER_COMPUTE_LOGS_DIR"

    # The pipeline's tables are in DATABASE_URL's database, with what the sample promises.
    expected = dev.manifest.brand(slug).expected
    summary = store_call(dev.resources, "brand_summary", slug)
    assert summary.ads == expected.importable_ads, summary
    assert summary.images == summary.images_analysed == expected.image_files, summary
    assert summary.videos == summary.videos_analysed == expected.video_files, summary
    assert store_call(dev.resources, "get_brand", slug) is not None


def test_a_backfill_never_runs_more_gemini_steps_than_the_pool(deploy_dev: DevEnv) -> None:
    """On Postgres storage Dagster claims a pool slot atomically: the limit holds across runs."""
    dev = deploy_dev
    slugs = sorted(brand.slug for brand in dev.manifest.brands)
    for slug in set(slugs) - set(dev.instance.get_dynamic_partitions("brands")):
        selector = {"repositorySelector": repository_selector(), "partitionsDefName": "brands", "partitionKey": slug}
        added = dev.gql(ADD_DYNAMIC_PARTITION, selector)["addDynamicPartition"]
        assert added["__typename"] == "AddDynamicPartitionSuccess", added
    backfill = backfill_under_a_pool_of_one(dev, slugs)
    assert max_in_flight(backfill.steps) == 1, f"more Gemini steps at once than the pool allows\n{backfill.timeline}"
    assert max_in_flight(backfill.runs) >= 2, (
        f"the runs did not overlap, so the pool was never tested\n{backfill.timeline}"
    )
    assert backfill.blocked, f"no step ever waited for the gemini pool\n{backfill.timeline}"
