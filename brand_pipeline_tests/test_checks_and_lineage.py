"""Asset checks (each broken on purpose) and row-level lineage from the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import dagster as dg
import psycopg
import pytest
from typer.testing import CliRunner

from brand_pipeline.assets import ALL_ASSETS, scraped_ads
from brand_pipeline.checks import ALL_CHECKS
from brand_pipeline.cli import app
from brand_pipeline_tests.fakes.gemini import FakeGemini
from brand_pipeline_tests.helpers import register_sample_brands, resources_for, store_call

FAST = {"backoff_initial_s": 0.01, "requests_per_minute": 6000}


@pytest.fixture
def analysed(database_url: str, tmp_path: Path, sample_dir: Path, instance: dg.DagsterInstance):
    """Every sample brand fully materialised, with a (fake) Gemini key, checks included."""
    with FakeGemini(api_key="test-key") as fake:
        resources = resources_for(
            database_url, tmp_path / "home", sample_dir, api_key=fake.api_key, base_url=fake.base_url, **FAST
        )
        slugs = register_sample_brands(resources, sample_dir, instance)
        for slug in slugs:
            result = dg.materialize(ALL_ASSETS + ALL_CHECKS, partition_key=slug, instance=instance, resources=resources)
            assert all(e.passed for e in result.get_asset_check_evaluations())
            # The scrape's checks are declared on scraped_ads itself, the others separately.
            assert len(result.get_asset_check_evaluations()) == len(scraped_ads.check_keys) + len(ALL_CHECKS)
        yield resources, slugs, fake


def run_checks(resources: dict, instance: dg.DagsterInstance, slug: str, config: dict | None = None) -> dict[str, bool]:
    """Execute only the checks for one brand, as "Execute checks" in the UI does."""
    job = dg.define_asset_job("checks_only", selection=dg.AssetSelection.all_asset_checks())
    defs = dg.Definitions(assets=ALL_ASSETS, asset_checks=ALL_CHECKS, jobs=[job], resources=resources)
    # Partitioned checks are preview in Dagster 1.13: a checks-only job cannot take partition_key
    # (no asset in it has partitions), but the partition tag is what the checks read.
    result = defs.resolve_job_def("checks_only").execute_in_process(
        tags={"dagster/partition": slug}, instance=instance, raise_on_error=False, run_config=config or {}
    )
    return {f"{e.asset_key.to_user_string()}:{e.check_name}": e.passed for e in result.get_asset_check_evaluations()}


def sql(database_url: str, statement: str, *params: object) -> None:
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(statement, params)


def test_a_creative_whose_file_disappeared_fails_its_check(analysed, instance, tmp_path: Path) -> None:
    resources, [slug, *_], _ = analysed
    [creative, *_] = store_call(resources, "brand_creatives", slug)
    (tmp_path / "home" / "creatives" / creative.blob_path).unlink()
    checks = run_checks(resources, instance, slug)
    assert checks["scraped_ads:creatives_have_their_files"] is False
    assert checks["scraped_ads:ads_with_media_have_creatives"] is True


def test_an_ad_with_media_but_no_creative_and_no_reason_fails_its_check(analysed, instance, database_url) -> None:
    resources, [slug, *_], _ = analysed
    with psycopg.connect(database_url) as conn:
        [ad_id] = conn.execute(
            "SELECT ac.ad_archive_id FROM ad_creatives ac JOIN brand_ads ba USING (ad_archive_id) "
            "WHERE ba.brand_slug = %s LIMIT 1",
            [slug],
        ).fetchone()
    sql(database_url, "DELETE FROM ad_creatives WHERE ad_archive_id = %s", ad_id)
    assert run_checks(resources, instance, slug)["scraped_ads:ads_with_media_have_creatives"] is False
    # A recorded reason makes the same gap acceptable: the item is accounted for.
    sql(
        database_url,
        "INSERT INTO item_outcomes (brand_slug, asset, item_key, kind, ad_archive_id, slot, status, reason) "
        "VALUES (%s, 'scraped_ads', %s, 'media', %s, 'videos[0]', 'expired', 'URL expired')",
        slug,
        f"media:{ad_id}:videos[0]",
        ad_id,
    )
    assert run_checks(resources, instance, slug)["scraped_ads:ads_with_media_have_creatives"] is True


@pytest.mark.parametrize("table, asset", [("creative_analyses", "image_analyses"), ("copy_analyses", "copy_analyses")])
def test_an_analysis_naming_an_ad_that_is_gone_fails_its_check(analysed, instance, database_url, table, asset) -> None:
    resources, [slug, *_], _ = analysed
    kind_filter = "AND kind = 'image'" if table == "creative_analyses" else ""
    sql(
        database_url,
        f"UPDATE {table} SET ad_ids = ad_ids || '{{ghost-ad}}' WHERE ctid = "
        f"(SELECT ctid FROM {table} WHERE true {kind_filter} LIMIT 1)",
    )
    checks = run_checks(resources, instance, slug)
    assert checks[f"{asset}:analyses_point_at_existing_creatives_and_ads"] is False


def test_personas_citing_too_few_ads_fail_their_check(analysed, instance) -> None:
    resources, [slug, *_], _ = analysed
    config = {"ops": {"personas_personas_cite_enough_ads": {"config": {"min_distinct_ads": 1000}}}}
    assert run_checks(resources, instance, slug, config)["personas:personas_cite_enough_ads"] is False
    assert run_checks(resources, instance, slug)["personas:personas_cite_enough_ads"] is True


def test_a_failing_blocking_check_stops_the_assets_downstream(analysed, instance, tmp_path: Path) -> None:
    resources, [slug, *_], fake = analysed
    [creative, *_] = store_call(resources, "brand_creatives", slug)
    (tmp_path / "home" / "creatives" / creative.blob_path).unlink()
    calls = fake.stats.total_generate_calls
    result = dg.materialize(
        ALL_ASSETS + ALL_CHECKS, partition_key=slug, instance=instance, resources=resources, raise_on_error=False
    )
    assert not result.success
    assert not result.asset_materializations_for_node("personas")
    assert fake.stats.total_generate_calls == calls


def test_lineage_traces_every_persona_and_every_creative(analysed, database_url, tmp_path, monkeypatch) -> None:
    resources, slugs, _ = analysed
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("BRAND_PIPELINE_HOME", str(tmp_path / "home"))
    with psycopg.connect(database_url) as conn:
        persona_ids = [row[0] for row in conn.execute("SELECT id FROM personas")]
        shas = [row[0] for row in conn.execute("SELECT sha256 FROM creatives")]
    assert len(persona_ids) >= 3 * len(slugs) and shas
    runner = CliRunner()
    for persona_id in persona_ids:
        result = runner.invoke(app, ["lineage", "persona", str(persona_id), "--format", "json"])
        assert result.exit_code == 0, result.output
        lineage = json.loads(result.output)
        assert lineage["persona"]["id"] == persona_id and lineage["ads"]
        for ad in lineage["ads"]:
            assert ad["scraped_in_run"]
            assert ad["creatives"] or ad["copy_analyses"]
            for creative in ad["creatives"]:
                assert creative["stored_in_run"] and creative["analyses"]
                assert all(a["run_id"] and a["model"] for a in creative["analyses"])
        assert lineage["runs"]
    for sha in shas:
        result = runner.invoke(app, ["lineage", "creative", sha[:10], "--format", "json"])
        assert result.exit_code == 0, result.output
        lineage = json.loads(result.output)
        assert lineage["creative"]["sha256"] == sha and lineage["ads"] and lineage["analyses"]
    text = runner.invoke(app, ["lineage", "persona", str(persona_ids[0])])
    assert f"persona {persona_ids[0]}" in text.output and "runs:" in text.output
    assert runner.invoke(app, ["lineage", "persona", "999999"]).exit_code == 1
    assert runner.invoke(app, ["lineage", "creative", "abc"]).exit_code != 0
