"""GraphQL documents, deadline waits and event-log readers for the end-to-end tests.

Every wait has a deadline; on timeout it fails the test with what a CI log reader needs: the tail
of the ``dagster dev`` log and the event messages of the runs involved.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

import dagster as dg
import pytest
from dagster import DagsterEventType, DagsterRunStatus, RunsFilter

from brand_pipeline_tests.e2e.devserver import DevServer

LOCATION = "brand_pipeline"  # location_name in workspace.yaml
REPOSITORY = "__repository__"  # the repository a Definitions object becomes
ALL_ASSETS = ["scraped_ads", "video_analyses", "image_analyses", "copy_analyses", "personas"]
DOWNSTREAM_ASSETS = ["video_analyses", "image_analyses", "copy_analyses", "personas"]
GEMINI_STEPS = set(DOWNSTREAM_ASSETS)  # every asset with pool="gemini"
# What new_ads_sensor refreshes for a brand: the analyses, the personas and the brand's report.
NEW_ADS_ASSETS = [*DOWNSTREAM_ASSETS, "brand_report"]
FINISHED = {DagsterRunStatus.SUCCESS, DagsterRunStatus.FAILURE, DagsterRunStatus.CANCELED}

T = TypeVar("T")


def repository_selector() -> dict[str, str]:
    return {"repositoryLocationName": LOCATION, "repositoryName": REPOSITORY}


def sensor_selector(name: str) -> dict[str, str]:
    return {**repository_selector(), "sensorName": name}


START_SENSOR = """
mutation($sel: SensorSelector!) {
  startSensor(sensorSelector: $sel) {
    __typename
    ... on Sensor { name sensorState { status } }
    ... on PythonError { message }
    ... on SensorNotFoundError { message }
    ... on UnauthorizedError { message }
  }
}"""

SENSOR_TICKS = """
query($sel: SensorSelector!, $limit: Int) {
  sensorOrError(sensorSelector: $sel) {
    __typename
    ... on Sensor {
      name minIntervalSeconds
      sensorState { status ticks(limit: $limit) {
        tickId status timestamp endTimestamp runIds runKeys skipReason cursor
        dynamicPartitionsRequestResults { partitionsDefName partitionKeys skippedPartitionKeys type }
        error { message }
      } }
    }
    ... on PythonError { message }
  }
}"""

SET_CONCURRENCY_LIMIT = """
mutation($key: String!, $limit: Int!) { setConcurrencyLimit(concurrencyKey: $key, limit: $limit) }
"""

INSTANCE_INFO = """
query {
  instance {
    runQueueConfig { maxConcurrentRuns tagConcurrencyLimitsYaml }
    poolConfig { poolGranularity defaultPoolLimit }
    concurrencyLimits { concurrencyKey limit usingDefaultLimit slotCount }
    daemonHealth { allDaemonStatuses { daemonType healthy required } }
  }
}"""

BACKFILL_STATUS = """
query($id: String!) {
  partitionBackfillOrError(backfillId: $id) {
    __typename
    ... on PartitionBackfill {
      id status numPartitions partitionNames
      assetSelection { path }
      runs(limit: 100) { runId status tags { key value } }
      error { message }
    }
    ... on PythonError { message }
    ... on BackfillNotFoundError { message }
  }
}"""

ADD_DYNAMIC_PARTITION = """
mutation($repositorySelector: RepositorySelector!, $partitionsDefName: String!, $partitionKey: String!) {
  addDynamicPartition(repositorySelector: $repositorySelector,
                      partitionsDefName: $partitionsDefName, partitionKey: $partitionKey) {
    __typename
    ... on PythonError { message }
    ... on UnauthorizedError { message }
  }
}"""


# ------------------------------------------------------------------------------------ diagnostics


def run_events_text(instance: dg.DagsterInstance, run_id: str, limit: int = 60) -> str:
    """A run's status and its last event messages, errors included."""
    run = instance.get_run_by_id(run_id)
    if run is None:
        return f"run {run_id}: not found"
    lines = [
        f"run {run_id} [{run.status.value}] partition={run.tags.get('dagster/partition')} "
        f"assets={sorted(k.to_user_string() for k in run.asset_selection or [])}"
    ]
    for record in instance.all_logs(run_id)[-limit:]:
        kind = record.dagster_event.event_type_value if record.is_dagster_event else "LOG"
        message = (record.message or "").strip().replace("\n", " ")[:300]
        lines.append(f"  {record.timestamp:.2f} {record.step_key or '-':45s} {kind:24s} {message}")
        if record.is_dagster_event and record.dagster_event.event_type in (
            DagsterEventType.STEP_FAILURE,
            DagsterEventType.RUN_FAILURE,
        ):
            error = getattr(record.dagster_event.event_specific_data, "error", None)
            if error is not None:
                lines.append("    " + error.to_string().replace("\n", "\n    ")[-2000:])
    return "\n".join(lines)


@dataclass
class Diagnostics:
    """What to print when an end-to-end wait or assertion fails."""

    server: DevServer
    instance: dg.DagsterInstance

    def report(self, run_ids: Iterable[str] = (), extra: str = "") -> str:
        parts = []
        if extra:
            parts.append(extra)
        for run_id in run_ids:
            try:
                parts.append(run_events_text(self.instance, run_id))
            except Exception as error:  # diagnostics must never hide the real failure
                parts.append(f"run {run_id}: could not read events ({error!r})")
        parts.append(f"--- dagster dev log (tail, {self.server.log_path}) ---\n{self.server.log_tail()}")
        return "\n".join(parts)

    def fail(self, why: str, run_ids: Iterable[str] = (), extra: str = "") -> None:
        pytest.fail(f"{why}\n{self.report(run_ids, extra)}", pytrace=False)

    def wait_for(
        self,
        what: str,
        probe: Callable[[], T],
        timeout: float,
        interval: float = 0.5,
        run_ids: Callable[[], Iterable[str]] = lambda: (),
        extra: Callable[[], str] = lambda: "",
    ) -> T:
        """Poll ``probe`` until it returns something truthy; fail with diagnostics at the deadline."""
        deadline = time.monotonic() + timeout
        while True:
            if self.server.proc.poll() is not None:
                self.fail(f"dagster dev exited (code {self.server.proc.returncode}) while waiting for {what}")
            value = probe()
            if value:
                return value
            if time.monotonic() > deadline:
                self.fail(f"timed out after {timeout:.0f}s waiting for {what}", list(run_ids()), extra())
            time.sleep(interval)

    def wait_run(self, run_id: str, timeout: float) -> dg.DagsterRun:
        """Until the run finishes; fail unless it succeeded."""
        run = self.wait_for(
            f"run {run_id} to finish",
            lambda: (r := self.instance.get_run_by_id(run_id)) is not None and r.status in FINISHED and r,
            timeout,
            run_ids=lambda: [run_id],
        )
        if run.status != DagsterRunStatus.SUCCESS:
            self.fail(f"run {run_id} ended {run.status.value}", [run_id])
        return run


# ------------------------------------------------------------------------------------ event log


def runs_for_partition(instance: dg.DagsterInstance, partition: str, **tags: str) -> list[dg.DagsterRun]:
    return list(instance.get_runs(filters=RunsFilter(tags={"dagster/partition": partition, **tags})))


def step_intervals(instance: dg.DagsterInstance, run_ids: Iterable[str], steps: set[str]) -> list[tuple]:
    """(start, end, run_id, step_key) of every execution of ``steps`` in the runs, from the event
    log: STEP_START to STEP_SUCCESS / STEP_FAILURE."""
    intervals = []
    for run_id in run_ids:
        started: dict[str, float] = {}
        for record in instance.all_logs(run_id):
            if not record.is_dagster_event or record.step_key not in steps:
                continue
            kind = record.dagster_event.event_type
            if kind == DagsterEventType.STEP_START:
                started[record.step_key] = record.timestamp
            elif kind in (DagsterEventType.STEP_SUCCESS, DagsterEventType.STEP_FAILURE):
                intervals.append((started.pop(record.step_key), record.timestamp, run_id, record.step_key))
        assert not started, f"steps of run {run_id} started and never finished: {started}"
    return sorted(intervals)


def run_intervals(instance: dg.DagsterInstance, run_ids: Iterable[str]) -> list[tuple]:
    """(start, end, run_id) of each run: RUN_START to RUN_SUCCESS / RUN_FAILURE, from the event log."""
    intervals = []
    for run_id in run_ids:
        times = {}
        for record in instance.all_logs(run_id):
            if record.is_dagster_event:
                times.setdefault(record.dagster_event.event_type, record.timestamp)
        end = times.get(DagsterEventType.RUN_SUCCESS) or times.get(DagsterEventType.RUN_FAILURE)
        intervals.append((times[DagsterEventType.RUN_START], end, run_id))
    return sorted(intervals)


def max_in_flight(intervals: Iterable[tuple]) -> int:
    """Most intervals open at one instant (an end at the same instant as a start closes first)."""
    edges = sorted([(start, 1) for start, *_ in intervals] + [(end, -1) for _, end, *_ in intervals])
    current = best = 0
    for _, delta in edges:
        current += delta
        best = max(best, current)
    return best


def format_intervals(intervals: Iterable[tuple], origin: float) -> str:
    return "\n".join(
        f"  {start - origin:7.2f} -> {end - origin:7.2f}  {' '.join(str(x)[:12] for x in rest)}"
        for start, end, *rest in intervals
    )


def materialised(instance: dg.DagsterInstance, run_id: str) -> dict[str, str | None]:
    """``{asset: partition}`` of the materialisations a run recorded."""
    return {
        record.dagster_event.asset_key.to_user_string(): record.dagster_event.partition
        for record in instance.all_logs(run_id, of_type=DagsterEventType.ASSET_MATERIALIZATION)
    }


def check_evaluations(instance: dg.DagsterInstance, run_id: str) -> list[Any]:
    """The asset check evaluations a run recorded."""
    return [
        record.dagster_event.event_specific_data
        for record in instance.all_logs(run_id, of_type=DagsterEventType.ASSET_CHECK_EVALUATION)
    ]
