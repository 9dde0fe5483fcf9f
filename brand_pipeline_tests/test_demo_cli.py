"""The README's first command, as a new user runs it: `brand-pipeline demo`, twice."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import dagster as dg
import pytest
from dagster._core.instance.ref import InstanceRef

from brand_pipeline_tests.helpers import demo_summary_rows

CLI = [sys.executable, "-m", "brand_pipeline.cli"]
ROOT = Path(__file__).resolve().parents[1]


def _cli(args: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(CLI + args, cwd=cwd, env=env, capture_output=True, text=True, timeout=600)


@pytest.fixture
def user_env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DAGSTER_", "GEMINI_", "DATABASE_URL"))}
    # PYTHONPATH: this checkout's package, not whichever one is installed (`-m` adds only the cwd).
    env |= {"BRAND_PIPELINE_HOME": str(tmp_path / "home"), "COLUMNS": "120", "PYTHONPATH": str(ROOT)}
    return env


def test_demo_runs_every_sample_brand_offline_and_a_second_run_repeats_no_work(
    tmp_path: Path, user_env: dict[str, str]
) -> None:
    try:
        first = _cli(["demo"], tmp_path, user_env)
        assert first.returncode == 0, first.stdout + first.stderr
        second = _cli(["demo"], tmp_path, user_env)
        assert second.returncode == 0, second.stdout + second.stderr
    finally:
        _cli(["db", "stop"], tmp_path, user_env)

    rows_1, rows_2 = demo_summary_rows(first.stdout), demo_summary_rows(second.stdout)
    assert len(rows_1) == 3, first.stdout
    for brand, (ads, bad, videos, images, copy, new, personas, result) in rows_1.items():
        assert int(ads) > 0 and int(bad) > 0 and result == "ok"
        for analysed in (videos, images, copy):
            done, found = map(int, analysed.split("/"))
            assert done > 0 and found > 0
        assert int(new) > 0
        assert personas == "skipped"
        # Same totals the second time, and nothing new to do.
        assert rows_2[brand][:5] == rows_1[brand][:5]
        assert rows_2[brand][5] == "0"
    assert "GEMINI_API_KEY is not set" in first.stdout

    # The runs and partitions landed in the persistent instance that `dagster dev` will read.
    home = tmp_path / "home" / "dagster"
    with dg.DagsterInstance.from_ref(InstanceRef.from_dir(str(home))) as instance:
        assert sorted(instance.get_dynamic_partitions("brands")) == sorted(rows_1)
        # Per demo: one run per brand and one of the comparison across brands.
        assert len(instance.get_runs()) == 2 * (len(rows_1) + 1)


def test_db_commands_report_and_control_the_embedded_server(tmp_path: Path, user_env: dict[str, str]) -> None:
    try:
        assert _cli(["db", "status"], tmp_path, user_env).returncode == 3
        started = _cli(["db", "start"], tmp_path, user_env)
        assert started.returncode == 0 and "running on 127.0.0.1:" in started.stdout
        status = _cli(["db", "status"], tmp_path, user_env)
        assert status.returncode == 0 and "running" in status.stdout
        added = _cli(["brands", "add", "acme", "--name", "Acme"], tmp_path, user_env)
        assert added.returncode == 0, added.stdout + added.stderr
        bad = _cli(["brands", "add", "Not A Slug", "--name", "x"], tmp_path, user_env)
        assert bad.returncode != 0 and "SLUG" in bad.stdout + bad.stderr
        listed = _cli(["brands", "list"], tmp_path, user_env)
        assert "acme" in listed.stdout
    finally:
        stopped = _cli(["db", "stop"], tmp_path, user_env)
    assert "stopped" in stopped.stdout
    assert _cli(["db", "status"], tmp_path, user_env).returncode == 3
    shutil.rmtree(tmp_path / "home", ignore_errors=True)


def test_demo_and_commands_work_against_a_database_url(
    tmp_path: Path, user_env: dict[str, str], database_url: str
) -> None:
    # DATABASE_URL reaches the resources as an EnvVar reference: commands must resolve it.
    env = user_env | {"DATABASE_URL": database_url}
    demo = _cli(["demo"], tmp_path, env)
    assert demo.returncode == 0, demo.stdout + demo.stderr
    assert len(demo_summary_rows(demo.stdout)) == 3
    listed = _cli(["brands", "list"], tmp_path, env)
    assert listed.returncode == 0 and "lumen-hollow" in listed.stdout
    assert database_url.rsplit("@", 1)[0] not in demo.stdout + demo.stderr + listed.stdout
    assert not (tmp_path / "home" / "pgdata").exists(), "no embedded server when a database URL is given"


def test_demo_with_a_key_produces_personas_with_citations_for_every_brand(
    tmp_path: Path, user_env: dict[str, str]
) -> None:
    from brand_pipeline_tests.fakes.gemini import FakeGemini

    with FakeGemini(api_key="demo-key") as fake:
        env = user_env | {
            "GEMINI_API_KEY": "demo-key",
            "GEMINI_BASE_URL": fake.base_url,
            "GEMINI_REQUESTS_PER_MINUTE": "6000",
        }
        try:
            demo = _cli(["demo"], tmp_path, env)
            shown = {
                slug: _cli(["personas", "show", slug, "--format", "json"], tmp_path, env)
                for slug in demo_summary_rows(demo.stdout)
            }
        finally:
            _cli(["db", "stop"], tmp_path, env)
    assert demo.returncode == 0, demo.stdout + demo.stderr
    assert "demo-key" not in demo.stdout + demo.stderr
    assert "Gemini:" in demo.stdout and "0 failed" in demo.stdout
    rows = demo_summary_rows(demo.stdout)
    assert len(rows) == 3
    for slug, row in rows.items():
        assert 3 <= int(row[6]) <= 6, f"{slug}: personas column is {row[6]}"
        synthesis = json.loads(shown[slug].stdout)
        assert synthesis["status"] == "done"
        assert all(persona["evidence_ad_ids"] for persona in synthesis["personas"])
