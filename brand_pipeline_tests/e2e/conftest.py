"""Fixtures for the end-to-end tests: a real ``dagster dev`` started from the repository root.

``dagster_dev`` (one per test module that uses it) is what a user runs: the project's own
workspace.yaml, the embedded Postgres started by the code server inside a temporary
``BRAND_PIPELINE_HOME``, the generated sample brands, and a temporary ``DAGSTER_HOME`` whose
dagster.yaml turns off the onboarding modal and telemetry, gives every pool one slot and dequeues
runs every second. The one difference from a user's setup: Gemini is the repository's fake server
on 127.0.0.1 (``fake_gemini``), so Gemini-bound steps do real work that takes measurable time.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from brand_pipeline.store.embedded import EmbeddedPostgres
from brand_pipeline_tests.e2e.harness import DEV_DAGSTER_YAML, REPO_ROOT, DevEnv, gemini_env, running_dagster_dev
from brand_pipeline_tests.fakes.gemini import FakeGemini

# Every model call of the fake answers after this long, so a Gemini-bound step lasts at least as
# long and steps that were allowed to run at once would visibly overlap.
FAKE_GEMINI_LATENCY_S = 1.0


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    """Screenshots and dagster dev logs for CI to collect (``BRAND_PIPELINE_ARTIFACTS``)."""
    folder = Path(os.environ.get("BRAND_PIPELINE_ARTIFACTS") or REPO_ROOT / "artifacts")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture(scope="module")
def fake_gemini() -> Iterator[FakeGemini]:
    with FakeGemini(api_key="e2e-fake-key", latency=FAKE_GEMINI_LATENCY_S) as server:
        yield server


@pytest.fixture(scope="module")
def dagster_dev(
    tmp_path_factory: pytest.TempPathFactory, fake_gemini: FakeGemini, artifacts_dir: Path
) -> Iterator[DevEnv]:
    with running_dagster_dev(
        "dev", tmp_path_factory.mktemp("e2e_dev"), DEV_DAGSTER_YAML, artifacts_dir, env=gemini_env(fake_gemini)
    ) as dev:
        # Nothing in the test process has touched the store yet: brands_sensor's first tick, in the
        # code server, starts the embedded Postgres inside BRAND_PIPELINE_HOME, as for a user.
        dev.diag.wait_for(
            "the code server to start the embedded Postgres",
            lambda: EmbeddedPostgres(dev.pipeline_home).status().running,
            timeout=60,
        )
        yield dev
