"""A backfill of every sample brand under a `gemini` pool of one slot, as both e2e modules run it:
launched through GraphQL, waited for, and read back as the intervals of its runs and steps."""

from __future__ import annotations

from dataclasses import dataclass

from dagster import DagsterEventType, DagsterRun
from dagster_graphql.client.query import LAUNCH_PARTITION_BACKFILL_MUTATION

from brand_pipeline_tests.e2e.harness import DevEnv
from brand_pipeline_tests.e2e.support import (
    ALL_ASSETS,
    BACKFILL_STATUS,
    GEMINI_STEPS,
    INSTANCE_INFO,
    SET_CONCURRENCY_LIMIT,
    format_intervals,
    run_intervals,
    step_intervals,
)


@dataclass
class PoolBackfill:
    run_ids: list[str]
    steps: list[tuple]  # (start, end, run_id, step_key) of every Gemini-bound step
    runs: list[tuple]  # (start, end, run_id)
    blocked: list[tuple[str, str]]  # (run, step) that logged waiting for the pool
    timeline: str


def backfill_under_a_pool_of_one(dev: DevEnv, slugs: list[str]) -> PoolBackfill:
    """Every asset of every brand in ``slugs``, one backfill, with the `gemini` pool set to 1."""
    assert dev.gql(SET_CONCURRENCY_LIMIT, {"key": "gemini", "limit": 1})["setConcurrencyLimit"] is True
    info = dev.gql(INSTANCE_INFO)["instance"]
    assert {c["concurrencyKey"]: c["limit"] for c in info["concurrencyLimits"]}["gemini"] == 1
    # The queue would let all the runs go at once: only the pool can serialise their steps.
    assert info["runQueueConfig"]["maxConcurrentRuns"] >= 3, info["runQueueConfig"]
    launched = dev.gql(
        LAUNCH_PARTITION_BACKFILL_MUTATION,
        {
            "backfillParams": {
                "assetSelection": [{"path": [a]} for a in ALL_ASSETS],
                "partitionNames": slugs,
                "title": "e2e: all sample brands",
            }
        },
    )["launchPartitionBackfill"]
    assert launched["__typename"] == "LaunchBackfillSuccess", launched
    backfill_id = launched["backfillId"]

    def backfill() -> dict:
        return dev.gql(BACKFILL_STATUS, {"id": backfill_id})["partitionBackfillOrError"]

    # The backfill daemon loops every 30 s: one pass to launch the runs, one to see them done.
    done = dev.diag.wait_for(
        f"backfill {backfill_id} to complete",
        lambda: (b := backfill())["status"] not in ("REQUESTED", "CANCELING", "FAILING") and b,
        timeout=180,
        interval=1,
        run_ids=lambda: [r["runId"] for r in backfill()["runs"]],
        extra=lambda: f"backfill: {backfill()}",
    )
    run_ids = [r["runId"] for r in done["runs"]]
    if done["status"] != "COMPLETED_SUCCESS" or any(r["status"] != "SUCCESS" for r in done["runs"]):
        dev.diag.fail(f"backfill ended {done['status']}: {done['runs']}", run_ids)
    keys = dev.instance.get_dynamic_partitions("brands")
    partitions = sorted(brand for r in run_ids for brand in brands_of(dev.instance.get_run_by_id(r), keys))
    assert sorted(set(partitions)) == slugs, partitions

    steps = step_intervals(dev.instance, run_ids, GEMINI_STEPS)
    runs = run_intervals(dev.instance, run_ids)
    origin = runs[0][0]
    timeline = f"runs:\n{format_intervals(runs, origin)}\ngemini steps:\n{format_intervals(steps, origin)}"
    print(f"\nbackfill {backfill_id}: {len(run_ids)} runs\n{timeline}")
    assert len(steps) == len(GEMINI_STEPS) * len(slugs), timeline
    blocked = [
        (record.run_id[:8], record.step_key)
        for run_id in run_ids
        for record in dev.instance.all_logs(run_id, of_type=DagsterEventType.ENGINE_EVENT)
        if (record.message or "").startswith("Step blocked by limit for pool gemini")
    ]
    return PoolBackfill(run_ids, steps, runs, blocked, timeline)


def brands_of(run: DagsterRun, keys: list[str]) -> list[str]:
    """The brands a backfill run is for: a partition tag, or a range (the scrape's batching)."""
    tags = run.tags
    if "dagster/partition" in tags:
        return [tags["dagster/partition"]]
    start, end = tags["dagster/asset_partition_range_start"], tags["dagster/asset_partition_range_end"]
    return keys[keys.index(start) : keys.index(end) + 1]
