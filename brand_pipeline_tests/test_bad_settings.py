"""A bad setting is a short message naming the variable and its value: at most three lines on
stderr and exit status 2 from the command, and the step's failure description in Dagster."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import dagster as dg
import pytest

from brand_pipeline.assets import scraped_ads
from brand_pipeline.definitions import resources_from_env

ROOT = Path(__file__).resolve().parents[1]
COMMAND = Path(sys.executable).parent / "brand-pipeline"


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _run(args: list[str], setting: dict[str, str], tmp_path: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DAGSTER_", "GEMINI_", "DATABASE_URL"))}
    env |= {"PYTHONPATH": str(ROOT), "BRAND_PIPELINE_HOME": str(tmp_path / "home"), "COLUMNS": "80"} | setting
    return subprocess.run([str(COMMAND), *args], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize(
    "args, setting, shown",
    [
        (["brands", "list"], {"GEMINI_REQUESTS_PER_MINUTE": "abc"}, ["GEMINI_REQUESTS_PER_MINUTE", "'abc'"]),
        (["demo"], {"BRAND_PIPELINE_SOURCE": "nonsense"}, ["BRAND_PIPELINE_SOURCE", "'nonsense'", "'sample'"]),
        (["brands", "list"], {"DATABASE_URL": "postgresql://u:secretpw@127.0.0.1:{port}/db"}, ["DATABASE_URL"]),
    ],
    ids=["not-a-number", "unknown-source", "unreachable-database"],
)
def test_a_bad_setting_is_a_short_message_and_exit_status_2(
    tmp_path: Path, args: list[str], setting: dict[str, str], shown: list[str]
) -> None:
    port = _closed_port()
    setting = {name: value.format(port=port) for name, value in setting.items()}
    if "DATABASE_URL" in setting:
        shown = [*shown, f"127.0.0.1:{port}", "Connection refused"]
    done = _run(args, setting, tmp_path)
    assert done.returncode == 2, done.stdout + done.stderr
    lines = done.stderr.strip().splitlines()
    assert 1 <= len(lines) <= 3, done.stderr
    assert "Traceback" not in done.stderr + done.stdout
    for part in shown:
        assert part in done.stderr, f"{part!r} is not named in {done.stderr!r}"
    assert "secretpw" not in done.stderr + done.stdout
    assert not (tmp_path / "home" / "pgdata").exists(), "nothing started for a command that cannot run"


def test_in_dagster_a_bad_setting_is_the_steps_failure_description(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, database_url: str
) -> None:
    monkeypatch.setenv("BRAND_PIPELINE_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("BRAND_PIPELINE_SOURCE", "nonsense")
    resources = resources_from_env()  # as Dagster loads the project: the setting is kept, not raised

    with dg.DagsterInstance.ephemeral() as instance:
        instance.add_dynamic_partitions("brands", ["acme"])
        result = dg.materialize(
            [scraped_ads], partition_key="acme", instance=instance, resources=resources, raise_on_error=False
        )

    assert not result.success
    (failure,) = result.get_step_failure_events()
    data = failure.step_failure_data
    description = data.user_failure_data.description if data.user_failure_data else data.error.message
    assert "BRAND_PIPELINE_SOURCE='nonsense'" in description
    assert "'sample', 'file', 'apify' or 'meta'" in description
