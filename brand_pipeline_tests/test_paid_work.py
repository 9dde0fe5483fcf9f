"""Model calls are money: a rerun with nothing new makes none, and every call that returned usage is
counted — in the demo's totals too — even when the step that made it failed."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import psycopg
import pytest

from brand_pipeline.demo import model_totals, run_demo
from brand_pipeline_tests.fakes.gemini import FakeGemini, Fault, GenerateRequest
from brand_pipeline_tests.helpers import resources_for

FAST = {"requests_per_minute": 6000, "backoff_initial_s": 0.01, "backoff_max_s": 0.02}


@pytest.fixture
def fake() -> Iterator[FakeGemini]:
    with FakeGemini(api_key="paid-key") as server:
        yield server


def persona_rows(database_url: str) -> tuple[int, int]:
    with psycopg.connect(database_url) as conn:
        syntheses = conn.execute("SELECT count(*) FROM persona_syntheses").fetchone()[0]
        personas = conn.execute("SELECT count(*) FROM personas").fetchone()[0]
    return syntheses, personas


def test_three_demo_runs_with_unchanged_data_pay_for_the_first_only(
    database_url: str, tmp_path: Path, sample_dir: Path, instance: dg.DagsterInstance, fake: FakeGemini
) -> None:
    resources = resources_for(
        database_url, tmp_path / "home", sample_dir, api_key="paid-key", base_url=fake.base_url, **FAST
    )
    first = run_demo(instance, resources, tmp_path / "home")
    calls_after_first = fake.stats.total_generate_calls
    tables_after_first = persona_rows(database_url)
    assert calls_after_first > 0 and all(run.persona_status == "done" for run in first)

    for _ in range(2):
        again = run_demo(instance, resources, tmp_path / "home")
        assert all(run.success for run in again)
        assert fake.stats.total_generate_calls == calls_after_first, "nothing new: no model request at all"
        assert persona_rows(database_url) == tables_after_first, "the persona tables do not grow"
        assert {run.persona_status for run in again} == {"unchanged"}
        assert model_totals(again)["cost_usd"] == 0.0


def test_tokens_and_cost_of_failed_steps_are_counted_like_any_other(
    database_url: str, tmp_path: Path, sample_dir: Path, instance: dg.DagsterInstance, fake: FakeGemini
) -> None:
    # Most copy replies are unusable (so copy_analyses fails above its failure share), a few
    # calls meet a 503 first; every reply that arrived still carried usage the user pays for.
    def reply(request: GenerateRequest) -> Fault | None:
        return Fault.invalid_json() if "Ad copy" in request.text and request.seq % 3 else None

    fake.reply_with(reply)
    fake.queue(Fault.server_error(), Fault.server_error())
    resources = resources_for(
        database_url, tmp_path / "home", sample_dir, api_key="paid-key", base_url=fake.base_url, **FAST
    )
    runs = run_demo(instance, resources, tmp_path / "home")
    assert any("copy_analyses" in run.failed_assets for run in runs), "the fault mix fails some steps"

    totals = model_totals(runs)
    assert totals["input_tokens"] == fake.stats.input_tokens_served > 0
    assert totals["output_tokens"] == fake.stats.output_tokens_served > 0
    with psycopg.connect(database_url) as conn:
        stored = conn.execute("SELECT sum(input_tokens), sum(output_tokens) FROM model_usage").fetchone()
    assert stored == (fake.stats.input_tokens_served, fake.stats.output_tokens_served)
