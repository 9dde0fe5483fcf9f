"""The getting-started flow from the command line: a real brand added from its Ad Library URL and
scraped with an Apify token (here a local Apify API and CDN), through Dagster, then its costs."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import psycopg
from PIL import Image

from brand_pipeline_tests.fakes.apify import FakeApify, RunPlan
from brand_pipeline_tests.fakes.cdn import FakeCDN

CLI = [sys.executable, "-m", "brand_pipeline.cli"]
TOKEN = "apify_api_CLI_SECRET_0123456789"
URL = "https://www.facebook.com/ads/library/?active_status=all&ad_type=all&country=US&view_all_page_id=20531316728"


def run(args: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(CLI + args, cwd=cwd, env=env, capture_output=True, text=True, timeout=300)


def user_env(tmp_path: Path, database_url: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DAGSTER_", "GEMINI_", "BRAND_PIPELINE_"))}
    dagster_home = tmp_path / "dagster"
    dagster_home.mkdir(exist_ok=True)
    return env | {
        "DATABASE_URL": database_url,
        "DAGSTER_HOME": str(dagster_home),
        "BRAND_PIPELINE_HOME": str(tmp_path / "home"),
        "COLUMNS": "160",
        **extra,
    }


def test_a_brand_added_from_its_ad_library_url_is_scraped_through_dagster(tmp_path: Path, database_url: str) -> None:
    buffer = io.BytesIO()
    Image.new("RGB", (40, 40), (20, 120, 220)).save(buffer, format="PNG")
    with FakeApify(token=TOKEN) as apify, FakeCDN() as cdn:
        image = cdn.serve("/a.png", buffer.getvalue(), "image/png")
        item = {
            "ad_archive_id": "555",
            "is_active": True,
            "snapshot": {"body": {"text": "Shop now"}, "images": [{"original_image_url": image}]},
        }
        apify.plan = RunPlan(items=[item], usage_total_usd=0.0011)
        env = user_env(
            tmp_path,
            database_url,
            APIFY_TOKEN=TOKEN,
            BRAND_PIPELINE_SOURCE="apify",
            BRAND_PIPELINE_APIFY_API_URL=apify.base_url,
            BRAND_PIPELINE_MEDIA_HOSTS="127.0.0.1",
            BRAND_PIPELINE_ALLOW_PLAIN_HTTP_MEDIA="true",
            BRAND_PIPELINE_ALLOW_PRIVATE_MEDIA_HOSTS="true",
        )
        added = run(["brands", "add", "acme", "--ad-library-url", URL], tmp_path, env)
        assert added.returncode == 0, added.stdout + added.stderr
        assert "page id 20531316728" in added.stdout
        scraped = run(["scrape", "acme"], tmp_path, env)
        assert scraped.returncode == 0, scraped.stdout + scraped.stderr
        assert len(apify.starts) == 1 and apify.starts[0].input["urls"] == [{"url": URL}]
    assert "1 new ads" in scraped.stdout and "1 started, 0 stopped, 0 still running" in scraped.stdout
    assert "$0.0011" in scraped.stdout
    assert TOKEN not in scraped.stdout + scraped.stderr
    with psycopg.connect(database_url) as conn:
        assert conn.execute("SELECT facebook_page_id FROM brands WHERE slug = 'acme'").fetchone() == ("20531316728",)


def test_a_url_that_is_not_an_ad_library_url_is_refused_with_the_reason(tmp_path: Path, database_url: str) -> None:
    env = user_env(tmp_path, database_url)
    refused = run(["brands", "add", "acme", "--ad-library-url", "https://www.facebook.com/acme/posts"], tmp_path, env)
    assert refused.returncode == 2
    assert "not the Ad Library's" in refused.stderr
    with psycopg.connect(database_url) as conn:
        assert conn.execute("SELECT to_regclass('brands')").fetchone() == (None,), "nothing was written"


def test_costs_are_listed_per_brand_and_model(tmp_path: Path, database_url: str) -> None:
    env = user_env(tmp_path, database_url)
    assert run(["brands", "add", "acme"], tmp_path, env).returncode == 0
    with psycopg.connect(database_url) as conn:
        conn.execute(
            "INSERT INTO model_usage (brand_slug, asset, run_id, model, item_key, status, input_tokens, "
            "output_tokens, cost_usd, attempts) VALUES "
            "('acme', 'copy_analyses', 'r1', 'gemini-3.8-flash', 'c1', 'done', 1000, 200, 0.0015, 1), "
            "('acme', 'copy_analyses', 'r2', 'gemini-3.8-flash', 'c2', 'transient_error', 0, 0, 0, 5), "
            "('acme', 'personas', 'r1', 'gemini-3.1-pro-preview', 'acme', 'done', 5000, 900, 0.0208, 1)"
        )
    listed = run(["costs", "acme"], tmp_path, env)
    assert listed.returncode == 0, listed.stderr
    lines = [line.split() for line in listed.stdout.splitlines()]
    assert ["acme", "gemini-3.8-flash", "2", "1000", "200", "0.0015"] in lines
    assert ["acme", "gemini-3.1-pro-preview", "1", "5000", "900", "0.0208"] in lines
    assert ["total", "3", "6000", "1100", "0.0223"] in lines
