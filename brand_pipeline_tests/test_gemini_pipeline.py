"""Gemini analysis through Dagster and the real store: each item once, honest failures, safe reruns."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import dagster as dg
import psycopg
import pytest

from brand_pipeline.analysis.versions import analysis_version
from brand_pipeline.assets import copy_analyses, image_analyses, personas, scraped_ads
from brand_pipeline.definitions import defs, resources_from_env
from brand_pipeline.partitions import brands_partitions
from brand_pipeline.run_tags import FRESH_PERSONAS_TAG
from brand_pipeline.sample import read_manifest
from brand_pipeline_tests.fakes.gemini import FakeGemini, Fault, GenerateRequest
from brand_pipeline_tests.helpers import (
    materialize_brand,
    metadata_of,
    register_sample_brands,
    resources_for,
    store_call,
    write_copy_export,
)

FAST = {"backoff_initial_s": 0.01, "backoff_max_s": 0.05, "requests_per_minute": 6000}


@pytest.fixture
def fake() -> FakeGemini:
    with FakeGemini(api_key="test-key") as server:
        yield server


def with_gemini(database_url: str, home: Path, export_dir: Path, fake: FakeGemini, **extra) -> dict:
    return resources_for(database_url, home, export_dir, api_key=fake.api_key, base_url=fake.base_url, **(FAST | extra))


def test_with_a_key_every_sample_brand_gets_analyses_and_personas_that_cite_its_ads(
    database_url: str, tmp_path: Path, sample_dir: Path, instance: dg.DagsterInstance, fake: FakeGemini
) -> None:
    resources = with_gemini(database_url, tmp_path / "home", sample_dir, fake)
    manifest = read_manifest(sample_dir)
    for slug in register_sample_brands(resources, sample_dir, instance):
        result = materialize_brand(slug, resources, instance)
        assert result.success
        for asset in ("video_analyses", "image_analyses", "copy_analyses"):
            metadata = metadata_of(result, asset)
            # Every item was analysed by the model, except copy still holding template variables.
            assert metadata["model_done"] + metadata.get("model_skipped", 0) == metadata["analysed_new"]
            assert metadata["model_done"] > 0 and metadata["failed"] == 0
            assert metadata["input_tokens"] > 0 and metadata["cost_usd"] > 0
        personas = metadata_of(result, "personas")
        assert personas["status"] == "done" and 3 <= personas["personas"] <= 6
        assert "### " in personas["preview"] and "_Evidence: ads " in personas["preview"]

        synthesis = store_call(resources, "latest_persona_synthesis", slug)
        brand_ads = set(_brand_ad_ids(database_url, slug))
        for persona in synthesis.personas:
            assert persona.evidence_ad_ids and set(persona.evidence_ad_ids) <= brand_ads
        assert set(manifest.brand(slug).expected.valid_ad_ids) <= brand_ads

    calls_before = fake.stats.total_generate_calls
    for slug in [b.slug for b in manifest.brands]:
        assert materialize_brand(slug, resources, instance, [scraped_ads, image_analyses, copy_analyses]).success
    assert fake.stats.total_generate_calls == calls_before, "a rerun calls the model for nothing already done"


def _brand_ad_ids(database_url: str, slug: str) -> list[str]:
    with psycopg.connect(database_url) as conn:
        return [r[0] for r in conn.execute("SELECT ad_archive_id FROM brand_ads WHERE brand_slug = %s", [slug])]


def test_a_creative_shared_by_two_brands_is_analysed_once(
    database_url: str, tmp_path: Path, sample_dir: Path, instance: dg.DagsterInstance, fake: FakeGemini
) -> None:
    exports = tmp_path / "exports"
    shutil.copytree(sample_dir, exports)
    original = read_manifest(sample_dir).brands[0]
    # A second brand whose ads run the first brand's image files (e.g. a reseller).
    items = []
    for line in (exports / original.export).read_text().splitlines():
        try:
            items.append(json.loads(line))
        except json.JSONDecodeError:
            continue  # the sample's deliberately broken line
    copies = [
        dict(item, ad_archive_id=f"77{i}", snapshot=item["snapshot"])
        for i, item in enumerate(items)
        if isinstance(item.get("snapshot"), dict) and item["snapshot"].get("images")
    ]
    (exports / "reseller.ndjson").write_text("\n".join(json.dumps(c) for c in copies) + "\n")
    resources = with_gemini(database_url, tmp_path / "home", exports, fake)
    register_sample_brands(resources, exports, instance)
    instance.add_dynamic_partitions(brands_partitions.name, ["reseller"])

    assert materialize_brand(original.slug, resources, instance, [scraped_ads, image_analyses]).success
    image_calls = fake.stats.total_generate_calls
    result = materialize_brand("reseller", resources, instance, [scraped_ads, image_analyses])
    assert result.success
    metadata = metadata_of(result, "image_analyses")
    assert metadata["total"] > 0 and metadata["analysed_new"] == 0 and metadata["already_done"] == metadata["total"]
    assert fake.stats.total_generate_calls == image_calls, "no second call for the same bytes"


def test_three_failures_in_fifty_are_counted_and_a_rerun_retries_only_them(
    database_url: str, tmp_path: Path, instance: dg.DagsterInstance, fake: FakeGemini
) -> None:
    exports = tmp_path / "exports"
    write_copy_export(exports, "fifty", 50)
    failing = {"Offer number 7:", "Offer number 21:", "Offer number 42:"}

    def reply(request: GenerateRequest) -> Fault | None:
        return Fault.invalid_json() if any(marker in request.text for marker in failing) else None

    fake.reply_with(reply)
    resources = with_gemini(database_url, tmp_path / "home", exports, fake)
    instance.add_dynamic_partitions(brands_partitions.name, ["fifty"])
    result = materialize_brand("fifty", resources, instance, [scraped_ads, copy_analyses])
    assert result.success, "6% failed, under the 20% threshold"
    metadata = metadata_of(result, "copy_analyses")
    assert (metadata["analysed_new"], metadata["failed"], metadata["model_invalid_reply"]) == (50, 3, 3)

    fake.reply_with(None)
    calls = fake.stats.total_generate_calls
    rerun = materialize_brand("fifty", resources, instance, [copy_analyses])
    assert metadata_of(rerun, "copy_analyses")["analysed_new"] == 3
    assert fake.stats.total_generate_calls - calls == 3
    with psycopg.connect(database_url) as conn:
        statuses = conn.execute("SELECT semantic_status, count(*) FROM copy_analyses GROUP BY 1").fetchall()
    assert statuses == [("done", 50)]


def test_a_step_fails_above_the_failure_threshold_but_keeps_what_it_analysed(
    database_url: str, tmp_path: Path, instance: dg.DagsterInstance, fake: FakeGemini
) -> None:
    exports = tmp_path / "exports"
    write_copy_export(exports, "fifty", 50)
    fake.reply_with(lambda request: Fault.invalid_json() if "number 1" in request.text else None)  # 11 of 50
    resources = with_gemini(database_url, tmp_path / "home", exports, fake, max_failed_share=0.1)
    instance.add_dynamic_partitions(brands_partitions.name, ["fifty"])
    result = materialize_brand("fifty", resources, instance, [scraped_ads, copy_analyses])
    assert not result.success
    [failure] = [e for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
    assert "11 of 50 copy_analyses items failed" in failure.step_failure_data.error.message
    with psycopg.connect(database_url) as conn:
        assert conn.execute("SELECT count(*) FROM copy_analyses").fetchone() == (50,)


def test_a_run_killed_mid_way_loses_nothing_and_duplicates_nothing(
    database_url: str,
    tmp_path: Path,
    instance: dg.DagsterInstance,
    fake: FakeGemini,
    killable_run: Callable[[int], str],
) -> None:
    exports = tmp_path / "exports"
    write_copy_export(exports, "fifty", 50)
    resources = with_gemini(database_url, tmp_path / "home", exports, fake)
    instance.add_dynamic_partitions(brands_partitions.name, ["fifty"])
    assert materialize_brand("fifty", resources, instance, [scraped_ads]).success

    fake.latency = 0.1
    worker = subprocess.Popen(
        [sys.executable, "-c", killable_run(1), database_url, str(tmp_path / "home"), str(exports), fake.base_url],
        cwd=Path(__file__).parents[1],
    )
    saved = 0
    deadline = time.monotonic() + 60
    while saved < 20 and time.monotonic() < deadline and worker.poll() is None:
        time.sleep(0.1)
        with psycopg.connect(database_url) as conn:
            saved = conn.execute("SELECT count(*) FROM copy_analyses").fetchone()[0]
    worker.kill()  # SIGKILL: no cleanup, no final save
    worker.wait()
    assert 20 <= saved < 50, "killed part-way through"
    with psycopg.connect(database_url) as conn:
        saved = conn.execute("SELECT count(*) FROM copy_analyses").fetchone()[0]

    fake.latency = 0.0
    calls = fake.stats.total_generate_calls
    rerun = materialize_brand("fifty", resources, instance, [copy_analyses])
    assert rerun.success
    assert metadata_of(rerun, "copy_analyses")["analysed_new"] == 50 - saved
    assert fake.stats.total_generate_calls - calls == 50 - saved
    with psycopg.connect(database_url) as conn:
        rows = conn.execute("SELECT count(*), count(DISTINCT copy_hash) FROM copy_analyses").fetchone()
    assert rows == (50, 50)


def test_the_api_key_never_appears_in_logs_metadata_rows_or_errors(
    database_url: str, tmp_path: Path, sample_dir: Path, instance: dg.DagsterInstance
) -> None:
    secret = "AIza-test-secret-0123456789"
    with FakeGemini(api_key=secret) as fake:
        fake.queue(Fault.quota(retry_delay="0.01s"), Fault.server_error())
        resources = resources_for(
            database_url, tmp_path / "home", sample_dir, api_key=secret, base_url=fake.base_url, **FAST
        )
        [slug, *_] = register_sample_brands(resources, sample_dir, instance)
        assert materialize_brand(slug, resources, instance).success
        # And a wrong key: every call fails, the key stays out of what is recorded.
        wrong = resources_for(
            database_url, tmp_path / "home", sample_dir, api_key=secret + "-wrong", base_url=fake.base_url, **FAST
        )
        failed = materialize_brand(slug, wrong, instance, [copy_analyses, personas], tags={FRESH_PERSONAS_TAG: "true"})
    assert failed.success
    logs = "\n".join(str(record) for run in instance.get_runs() for record in instance.all_logs(run.run_id))
    with psycopg.connect(database_url) as conn:
        dumps = [
            json.dumps(conn.execute(f"SELECT json_agg(t) FROM {table} t").fetchone()[0], default=str)
            for table in ("creative_analyses", "copy_analyses", "persona_syntheses", "personas", "item_outcomes")
        ]
    everything = logs + "".join(dumps)
    assert secret not in everything
    assert "permanent_error" in everything, "the wrong-key failure was recorded"


def test_the_key_reaches_dagster_only_as_an_environment_variable_reference(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GEMINI_API_KEY", "AIza-from-env")
    gemini = resources_from_env()["gemini"]
    assert isinstance(gemini.api_key, dg.EnvVar) and gemini.api_key.env_var_name == "GEMINI_API_KEY"


def test_each_analysis_assets_code_version_is_its_prompt_version() -> None:
    graph = defs.resolve_asset_graph()
    for kind in ("video", "image", "copy"):
        node = graph.get(dg.AssetKey(f"{kind}_analyses"))
        assert node.code_version == analysis_version(kind)
