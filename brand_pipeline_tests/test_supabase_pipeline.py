"""The pipeline on the Supabase configuration: tables and Storage through the local fake.

All five assets with their checks, then the sensors, once; and the deployment shape this makes
possible: scraping in one home (one pod) and analysis in another, empty one, with the results of
a single home.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import dagster as dg
import psycopg
import pytest
from psycopg import sql

from brand_pipeline.assets import ALL_ASSETS, ANALYSIS_AND_PERSONAS, scraped_ads
from brand_pipeline.checks import ALL_CHECKS
from brand_pipeline.partitions import brands_partitions
from brand_pipeline.resources.ad_library import AdLibraryResource
from brand_pipeline.resources.gemini import GeminiResource
from brand_pipeline.resources.reports import ReportsResource
from brand_pipeline.resources.supabase import SupabaseResource
from brand_pipeline.sample import read_manifest
from brand_pipeline.sensors import brands_sensor, new_ads_sensor
from brand_pipeline.store.embedded import EmbeddedPostgres
from brand_pipeline_tests.fakes.postgrest import FakeSupabase
from brand_pipeline_tests.helpers import materialize_brand, metadata_of, register_sample_brands, resources_for
from brand_pipeline_tests.stores import migrate

ANALYSIS_ASSETS = ("video_analyses", "image_analyses", "copy_analyses")


@pytest.fixture
def instance() -> Iterator[dg.DagsterInstance]:
    with dg.instance_for_test() as instance:
        yield instance


def _pod(fake: FakeSupabase, sample_dir: Path, home: Path, database_url: str | None = None) -> dict[str, Any]:
    """Resources for one pod with its own home: creatives in Storage, rows in the project's tables
    (through its API) or, given ``database_url``, in its database."""
    return {
        "supabase": SupabaseResource(
            database_url=database_url,
            supabase_url=fake.base_url,
            supabase_service_role_key=fake.service_key,
            home=str(home),
        ),
        "ad_library": AdLibraryResource(source="file", export_dir=str(sample_dir), home=str(home)),
        "gemini": GeminiResource(),
        "reports": ReportsResource(home=str(home)),
    }


@pytest.fixture
def on_supabase(fake_supabase: FakeSupabase, database_url: str, sample_dir: Path) -> Callable[[Path], dict[str, Any]]:
    migrate(database_url)
    return lambda home: _pod(fake_supabase, sample_dir, home)


@pytest.fixture(params=["supabase tables", "postgres rows"])
def pods(
    request: pytest.FixtureRequest, fake_supabase: FakeSupabase, database_url: str, sample_dir: Path
) -> Callable[[Path], dict[str, Any]]:
    """Pods with Storage for creatives and rows in the project's tables or (DATABASE_URL) its database."""
    migrate(database_url)
    rows_in_database = database_url if request.param == "postgres rows" else None
    return lambda home: _pod(fake_supabase, sample_dir, home, rows_in_database)


@pytest.fixture
def other_database_url(pg_server: EmbeddedPostgres) -> Iterator[str]:
    """A second fresh database on the session server, for a baseline run beside the test's own."""
    name = f"test_{uuid.uuid4().hex[:12]}"
    admin = pg_server.status().dsn("postgres")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    yield pg_server.status().dsn(name)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def _summary(resources: dict[str, Any], slug: str) -> dict[str, int]:
    return resources["supabase"].run_with_store(lambda store: store.brand_summary(slug)).model_dump()


def _counts(result: dg.ExecuteInJobResult, asset: str) -> tuple[Any, ...]:
    metadata = metadata_of(result, asset)
    return tuple(metadata.get(key) for key in ("analysed_new", "total", "failed", "status", "personas"))


def test_the_five_assets_their_checks_and_the_sensors_run_on_supabase(
    on_supabase: Callable[[Path], dict[str, Any]], instance: dg.DagsterInstance, sample_dir: Path, tmp_path: Path,
    fake_supabase: FakeSupabase,
) -> None:  # fmt: skip
    resources = on_supabase(tmp_path / "home")
    [slug, *_] = register_sample_brands(resources, sample_dir, instance)
    result = materialize_brand(slug, resources, instance, assets=[*ALL_ASSETS, *ALL_CHECKS])
    assert result.success
    checks = result.get_asset_check_evaluations()
    assert len(checks) >= 5 and all(check.passed for check in checks), [c.check_name for c in checks if not c.passed]

    expected = read_manifest(sample_dir).brand(slug).expected
    summary = _summary(resources, slug)
    assert summary["ads"] == expected.importable_ads
    assert summary["images"] == summary["images_analysed"] == expected.image_files
    assert summary["videos"] == summary["videos_analysed"] == expected.video_files
    assert not (tmp_path / "home" / "creatives").exists(), "creatives went to Storage, not the home"
    assert fake_supabase.requests_to("POST", "/storage/v1/object/creatives")

    new_ads = dg.build_sensor_context(instance=instance, resources=resources)
    assert [r.partition_key for r in new_ads_sensor(new_ads).run_requests] == sorted(
        s for s in instance.get_dynamic_partitions(brands_partitions.name)
        if _summary(resources, s)["ads"]
    )  # fmt: skip
    assert isinstance(brands_sensor(dg.build_sensor_context(instance=instance, resources=resources)), dg.SkipReason)


def test_scraping_in_one_home_and_analysing_in_another_gives_the_results_of_one_home(
    pods: Callable[[Path], dict[str, Any]], instance: dg.DagsterInstance, sample_dir: Path, tmp_path: Path,
    other_database_url: str,
) -> None:  # fmt: skip
    scraper, analyser = pods(tmp_path / "scraper-home"), pods(tmp_path / "analyser-home")
    [slug, *_] = register_sample_brands(scraper, sample_dir, instance)
    assert materialize_brand(slug, scraper, instance, assets=[scraped_ads]).success
    (tmp_path / "analyser-home").mkdir()
    split = materialize_brand(slug, analyser, instance, assets=ANALYSIS_AND_PERSONAS)
    assert split.success
    assert sorted(p.name for p in (tmp_path / "analyser-home").iterdir()) == [], "the analyser needed no disk"

    # The same brand on one home (the embedded-style default: Postgres rows, creatives in the home).
    with dg.instance_for_test() as baseline_instance:
        one_home = resources_for(other_database_url, tmp_path / "one-home", sample_dir)
        register_sample_brands(one_home, sample_dir, baseline_instance)
        baseline = materialize_brand(slug, one_home, baseline_instance)
        assert baseline.success
        assert _summary(analyser, slug) == _summary(one_home, slug)
        for asset in (*ANALYSIS_ASSETS, "personas"):
            assert _counts(split, asset) == _counts(baseline, asset), asset
