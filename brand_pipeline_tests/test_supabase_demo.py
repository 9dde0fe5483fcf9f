"""`brand-pipeline demo` on the Supabase configuration (tables and Storage through the local fake)
gives the same totals as on the embedded default."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from brand_pipeline_tests.fakes.postgrest import FakeSupabase
from brand_pipeline_tests.helpers import demo_summary_rows
from brand_pipeline_tests.stores import migrate

ROOT = Path(__file__).resolve().parents[1]
_OURS = ("DAGSTER_", "GEMINI_", "DATABASE_URL", "SUPABASE_", "BRAND_PIPELINE_")


def _cli(args: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    env = env | {"PYTHONPATH": str(ROOT), "COLUMNS": "120"}  # this checkout's package
    command = [sys.executable, "-m", "brand_pipeline.cli", *args]
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=600, check=False)


def test_the_demo_on_supabase_gives_the_totals_of_the_embedded_default(
    tmp_path: Path, fake_supabase: FakeSupabase, database_url: str
) -> None:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(_OURS)}
    migrate(database_url)  # the project's schema, as `brand-pipeline db migrate` leaves it
    on_supabase = clean | {
        "BRAND_PIPELINE_HOME": str(tmp_path / "supabase-home"),
        "SUPABASE_URL": fake_supabase.base_url,
        "SUPABASE_SERVICE_ROLE_KEY": fake_supabase.service_key,
    }
    embedded = clean | {"BRAND_PIPELINE_HOME": str(tmp_path / "embedded-home")}
    supabase_demo = _cli(["demo"], tmp_path, on_supabase)
    try:
        embedded_demo = _cli(["demo"], tmp_path, embedded)
    finally:
        _cli(["db", "stop"], tmp_path, embedded)

    assert supabase_demo.returncode == 0, supabase_demo.stdout + supabase_demo.stderr
    assert embedded_demo.returncode == 0, embedded_demo.stdout + embedded_demo.stderr
    rows = demo_summary_rows(supabase_demo.stdout)
    assert len(rows) == 3 and all(row[-1] == "ok" for row in rows.values())
    assert rows == demo_summary_rows(embedded_demo.stdout)
    assert fake_supabase.service_key not in supabase_demo.stdout + supabase_demo.stderr
    assert not (tmp_path / "supabase-home" / "pgdata").exists(), "no embedded server on the Supabase configuration"
    assert fake_supabase.requests_to("POST", "/storage/v1/object/creatives"), "creatives went to Storage"
