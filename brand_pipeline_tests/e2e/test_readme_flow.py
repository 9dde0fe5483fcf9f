"""The README's flow as a new user follows it: `brand-pipeline demo`, then plain `dagster dev` in
the same folder (no DAGSTER_HOME), which must show the five assets, the brand partitions and the
demo's materialisations.

The folder is a temporary copy of the repository's `dagster.yaml` and `workspace.yaml` (the
package itself is installed in the virtualenv), so the test never touches the repository's own
`.brand_pipeline`.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from brand_pipeline.store.embedded import EmbeddedPostgres
from brand_pipeline_tests.e2e import devserver

pytestmark = pytest.mark.e2e

REPO_ROOT = Path(__file__).resolve().parents[2]
ASSETS = [
    "brand_comparison", "brand_report", "copy_analyses", "image_analyses", "personas", "scraped_ads", "video_analyses"
]  # fmt: skip
ACROSS_BRANDS = {"brand_comparison"}  # not partitioned: one materialisation per demo

ASSETS_QUERY = """
query { assetNodes { assetKey { path } partitionKeysByDimension { partitionKeys }
  assetMaterializations(limit: 100) { partition runId } }
  runsOrError { ... on Runs { results { runId tags { key value } } } } }
"""


def test_dagster_dev_in_the_project_folder_shows_what_the_demo_made(tmp_path: Path, artifacts_dir: Path) -> None:
    project = tmp_path / "project"
    project.mkdir()
    for name in ("dagster.yaml", "workspace.yaml"):
        shutil.copy(REPO_ROOT / name, project / name)
    env = devserver.clean_env({})
    server = None
    try:
        demo = subprocess.run(
            [sys.executable, "-m", "brand_pipeline.cli", "demo"],
            cwd=project,
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert demo.returncode == 0, demo.stdout + demo.stderr
        server = devserver.start(project, env, artifacts_dir / "dagster_dev_readme.log")
        devserver.wait_ready(server)
        answer = server.gql(ASSETS_QUERY)
        nodes = {"/".join(n["assetKey"]["path"]): n for n in answer["assetNodes"]}
        runs = answer["runsOrError"]["results"]
    finally:
        if server is not None:
            leftovers = devserver.stop(server)
            assert not leftovers, leftovers
        EmbeddedPostgres(project / ".brand_pipeline").stop()

    assert sorted(nodes) == ASSETS
    brands = {"lumen-hollow", "cairnpeak", "dewveil"}
    for name, node in nodes.items():
        if name in ACROSS_BRANDS:
            assert len(node["assetMaterializations"]) == 1, name
            continue
        assert set(node["partitionKeysByDimension"][0]["partitionKeys"]) == brands, name
        assert {m["partition"] for m in node["assetMaterializations"]} == brands, f"{name} materialised per brand"
    demo_runs = {r["runId"] for r in runs if {"key": "brand_pipeline/trigger", "value": "demo"} in r["tags"]}
    assert len(demo_runs) == len(brands) + 1, "dagster dev lists the demo's runs: one per brand, one comparison"
    shown = {m["runId"] for node in nodes.values() for m in node["assetMaterializations"]}
    assert shown == demo_runs, "every materialisation shown was made by the demo"
