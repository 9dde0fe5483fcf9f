"""A real ``dagster dev`` for a test: started from the repository root with fresh DAGSTER_HOME
and BRAND_PIPELINE_HOME folders, and everything it started ended afterwards.

Teardown ends the ``dagster dev`` process group (SIGINT, then SIGKILL), stops the embedded
Postgres, keeps the dagster dev log in the artifacts folder, and fails if any process that mentions
the test's temporary folders is still alive.
"""

from __future__ import annotations

import os
import shutil
import signal
import textwrap
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import dagster as dg
import pytest
from dagster._core.instance import InstanceRef
from dagster_graphql import DagsterGraphQLClient

from brand_pipeline.resources.supabase import SupabaseResource
from brand_pipeline.sample import SampleManifest, ensure_sample
from brand_pipeline.store.embedded import EmbeddedPostgres
from brand_pipeline_tests.e2e import devserver
from brand_pipeline_tests.e2e.support import ALL_ASSETS, LOCATION, REPOSITORY, Diagnostics

if TYPE_CHECKING:
    from brand_pipeline_tests.fakes.gemini import FakeGemini

REPO_ROOT = Path(__file__).resolve().parents[2]

DEV_DAGSTER_YAML = textwrap.dedent("""\
    nux:
      enabled: false
    telemetry:
      enabled: false
    concurrency:
      pools:
        default_limit: 1
    run_coordinator:
      module: dagster._core.run_coordinator
      class: QueuedRunCoordinator
      config:
        dequeue_interval_seconds: 1
""")


@dataclass
class DevEnv:
    """One running ``dagster dev`` and handles on the state it shares with the test process."""

    name: str
    server: devserver.DevServer
    instance: dg.DagsterInstance
    dagster_home: Path
    pipeline_home: Path
    supabase: SupabaseResource
    manifest: SampleManifest
    diag: Diagnostics
    notes: dict = field(default_factory=dict)

    @property
    def resources(self) -> dict:
        return {"supabase": self.supabase}

    @property
    def port(self) -> int:
        return self.server.port

    def gql(self, query: str, variables: dict | None = None) -> dict:
        return self.server.gql(query, variables)

    def materialise_partition(self, slug: str, timeout: float = 180) -> str:
        """Launch all five assets for ``slug`` through GraphQL, as the UI does; wait for success."""
        run_id = DagsterGraphQLClient("127.0.0.1", port_number=self.port, timeout=60).submit_job_execution(
            "__ASSET_JOB",
            repository_location_name=LOCATION,
            repository_name=REPOSITORY,
            asset_selection=ALL_ASSETS,
            tags={"dagster/partition": slug},
        )
        self.diag.wait_run(run_id, timeout=timeout)
        return run_id


def _stop_leftovers(leftovers: list[str]) -> None:
    """Kill, by pid, processes this module started that outlived their shutdown."""
    for line in leftovers:
        try:
            os.kill(int(line.split()[0]), signal.SIGKILL)
        except (ProcessLookupError, ValueError):
            pass


@contextmanager
def running_dagster_dev(
    name: str,
    root: Path,
    dagster_yaml: str,
    artifacts: Path,
    env: dict[str, str] | None = None,
    supabase: SupabaseResource | None = None,
    stop_postgres: tuple[Path, ...] = (),
) -> Iterator[DevEnv]:
    """``dagster dev`` from the repository root with a fresh DAGSTER_HOME and BRAND_PIPELINE_HOME
    under ``root``; everything it started is ended on exit."""
    dagster_home = root / "dagster_home"
    pipeline_home = root / "pipeline_home"
    dagster_home.mkdir(parents=True)
    pipeline_home.mkdir(parents=True)
    (dagster_home / "dagster.yaml").write_text(dagster_yaml)
    # Generated before the server starts, so the code server finds it ready (it is deterministic).
    manifest = ensure_sample(pipeline_home / "sample")
    full_env = devserver.clean_env(
        {"DAGSTER_HOME": str(dagster_home), "BRAND_PIPELINE_HOME": str(pipeline_home), **(env or {})}
    )
    log_path = dagster_home / "dagster_dev.log"
    t0 = time.monotonic()
    server = devserver.start(REPO_ROOT, full_env, log_path)
    instance = None
    survivors: list[str] = []
    try:
        devserver.wait_ready(server)
        instance = dg.DagsterInstance.from_ref(InstanceRef.from_dir(str(dagster_home)))
        dev = DevEnv(
            name=name,
            server=server,
            instance=instance,
            dagster_home=dagster_home,
            pipeline_home=pipeline_home,
            supabase=supabase or SupabaseResource(home=str(pipeline_home)),
            manifest=manifest,
            diag=Diagnostics(server, instance),
        )
        print(f"\n[{name}] dagster dev ready on port {server.port}: {server.timings}")
        yield dev
    finally:
        survivors = devserver.stop(server)
        # After dagster dev: its runs and sensors use these servers until they stop.
        for folder in (pipeline_home, *stop_postgres):
            try:
                EmbeddedPostgres(folder).stop()
            except Exception as error:  # the leftover check below reports what survived
                print(f"[{name}] could not stop the embedded Postgres in {folder}: {error!r}")
        if instance is not None:
            instance.dispose()
        try:
            shutil.copy(log_path, artifacts / f"dagster_dev_{name}.log")
        except OSError as error:
            print(f"[{name}] could not keep the dagster dev log: {error}")
        print(f"\n[{name}] dagster dev up {time.monotonic() - t0:.0f}s; stop: {server.timings}")
    leftovers = survivors + devserver.processes_mentioning(str(root))
    if leftovers:
        _stop_leftovers(leftovers)
        pytest.fail(f"[{name}] processes left behind after shutdown (killed now): {leftovers}")


def gemini_env(fake: FakeGemini) -> dict[str, str]:
    """What points a deployment's Gemini resource at the fake."""
    return {
        "GEMINI_API_KEY": fake.api_key,
        "GEMINI_BASE_URL": fake.base_url,
        # The fake has no quota; the default 60 requests/minute would only make steps slower.
        "GEMINI_REQUESTS_PER_MINUTE": "6000",
        "GEMINI_BACKOFF_INITIAL_S": "0.05",
        "GEMINI_BACKOFF_MAX_S": "0.2",
    }
