"""The Dagster instance the CLI writes to: the same one ``dagster dev`` in the project root reads.

- ``DAGSTER_HOME`` set: that instance, as for every Dagster command.
- otherwise: the project's ``dagster.yaml`` (in the current folder) configures it. Its storage
  points at a folder under ``.brand_pipeline``, so runs made by ``brand-pipeline demo`` show up in a
  later ``dagster dev`` started in the same folder.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import dagster as dg
from dagster._core.instance.ref import InstanceRef

from brand_pipeline.settings import pipeline_home


@contextmanager
def project_instance() -> Iterator[dg.DagsterInstance]:
    if os.environ.get("DAGSTER_HOME"):
        with dg.DagsterInstance.get() as instance:
            yield instance
        return
    home = pipeline_home() / "dagster"
    home.mkdir(parents=True, exist_ok=True)
    config_dir = Path.cwd() if (Path.cwd() / "dagster.yaml").exists() else home
    with dg.DagsterInstance.from_ref(InstanceRef.from_dir(str(home), config_dir=str(config_dir))) as instance:
        yield instance
