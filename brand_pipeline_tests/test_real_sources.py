"""Real ad sources through Dagster: a brand researched from its Ad Library URL with an Apify token
(against a local Apify API and CDN), Meta's Ad Library API, and a paid run never started twice."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import dagster as dg
import psycopg
import pytest
from PIL import Image

from brand_pipeline.assets import ALL_ASSETS, scraped_ads
from brand_pipeline.domain.brands import Brand
from brand_pipeline.resources.ad_library import AdLibraryResource, ApifyConfig, MetaConfig
from brand_pipeline.resources.gemini import GeminiResource
from brand_pipeline.resources.reports import ReportsResource
from brand_pipeline.resources.supabase import SupabaseResource
from brand_pipeline_tests.fakes.apify import FakeApify, Fault, RunPlan, actor_item
from brand_pipeline_tests.fakes.cdn import FakeCDN
from brand_pipeline_tests.fakes.graph_api import FakeGraphAPI, graph_ad
from brand_pipeline_tests.helpers import materialize_brand, metadata_of, store_call

TOKEN = "apify_api_SECRET_0123456789abcdef"
GRAPH_TOKEN = "EAAB-graph-secret-token-0123"
AD_LIBRARY_URL = "https://www.facebook.com/ads/library/?active_status=all&ad_type=all&country=US&view_all_page_id=4242"


def png(colour: tuple[int, int, int]) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), colour).save(buffer, format="PNG")
    return buffer.getvalue()


def apify_item(ad_id: str, image_url: str) -> dict[str, Any]:
    """An item as the Ad Library actor returns it (camelCase keys, epoch dates)."""
    return actor_item(
        ad_id,
        publisherPlatform=["FACEBOOK", "INSTAGRAM"],
        snapshot={
            "body": {"text": f"Hot coffee for 6 hours. Ad {ad_id}. Shop now"},
            "title": "The mug that keeps it hot",
            "ctaText": "Shop now",
            "linkUrl": "https://acme.example/shop",
            "displayFormat": "IMAGE",
            "images": [{"originalImageUrl": image_url}],
        },
    )


def library(**fields: Any) -> AdLibraryResource:
    local_cdn = {"media_hosts": ["127.0.0.1"], "allow_plain_http_media": True, "allow_private_media_hosts": True}
    return AdLibraryResource(**(local_cdn | fields))


def apify_resources(database_url: str, home: Path, fake: FakeApify, **apify: Any) -> dict[str, Any]:
    fast = {"api_url": fake.base_url, "wait_timeout_s": 5.0, "retry_backoff_s": 0.01, "read_retries": 1}
    return {
        "supabase": SupabaseResource(database_url=database_url, home=str(home)),
        "ad_library": library(source="apify", home=str(home), apify_token=TOKEN, apify=ApifyConfig(**(fast | apify))),
        "gemini": GeminiResource(),
        "reports": ReportsResource(home=str(home)),
    }


def register(resources: dict[str, Any], instance: dg.DagsterInstance, brand: Brand) -> None:
    from brand_pipeline.registry import register_brands

    register_brands(resources["supabase"], instance, [brand])


def test_a_brand_is_researched_from_its_ad_library_url_with_an_apify_token(
    database_url: str, tmp_path: Path, instance: dg.DagsterInstance, cdn: FakeCDN
) -> None:
    urls = [cdn.serve(f"/img/{n}.png", png((n * 40, 90, 120)), "image/png") + f"?oe=ffffffff&sig={n}" for n in range(3)]
    with FakeApify(token=TOKEN) as fake:
        fake.plan = RunPlan(items=[apify_item(f"9{n}", urls[n % 3]) for n in range(5)], usage_total_usd=0.0042)
        resources = apify_resources(database_url, tmp_path / "home", fake)
        register(resources, instance, Brand(slug="acme", name="Acme Coffee", ad_library_url=AD_LIBRARY_URL))
        result = materialize_brand("acme", resources, instance, ALL_ASSETS)
        assert result.success
        (start,) = fake.starts
    assert start.input["urls"] == [{"url": AD_LIBRARY_URL}]
    scraped = metadata_of(result, "scraped_ads")
    assert (scraped["ads_new"], scraped["creatives_new"], scraped["ads_started"]) == (5, 3, 5)
    assert scraped["source_run_id"] and scraped["source_run_cost_usd"] == pytest.approx(0.0042)
    assert scraped["source_run_started_new"] is True
    assert metadata_of(result, "copy_analyses")["analysed_new"] == 5
    summary = store_call(resources, "brand_summary", "acme")
    assert (summary.ads, summary.images, summary.images_analysed) == (5, 3, 3)
    with psycopg.connect(database_url) as conn:
        stored_urls = [row[0] for row in conn.execute("SELECT source_url FROM ad_creatives")]
        (status,) = conn.execute("SELECT status FROM source_runs WHERE brand_slug = 'acme'").fetchone()
    assert status == "SUCCEEDED"
    assert stored_urls and not any("sig=" in url for url in stored_urls), "signed query strings are not stored"
    logs = "\n".join(str(record) for run in instance.get_runs() for record in instance.all_logs(run.run_id))
    assert TOKEN not in logs and TOKEN not in repr(resources["ad_library"])


def test_an_actor_run_that_fails_fails_the_step_with_its_status_and_link(
    database_url: str, tmp_path: Path, instance: dg.DagsterInstance
) -> None:
    with FakeApify(token=TOKEN) as fake:
        fake.plan = RunPlan(items=[], final_status="FAILED", status_message="the page could not be loaded")
        resources = apify_resources(database_url, tmp_path / "home", fake)
        register(resources, instance, Brand(slug="acme", name="Acme", facebook_page_id="4242"))
        result = materialize_brand("acme", resources, instance, [scraped_ads])
    assert not result.success
    [failure] = result.get_step_failure_events()
    description = failure.step_failure_data.user_failure_data.description
    assert "ended FAILED" in description and "console.apify.com" in description and TOKEN not in description


# -- a paid start is never repeated by a re-executed step ---------------------------------------------

_JOB_ENV = "BRAND_PIPELINE_TEST_SCRAPE_JOB"


def scrape_job() -> dg.JobDefinition:
    """A reconstructable scrape job (re-execution loads it again by reference), configured from
    the environment the test sets."""
    import json
    import os

    config = json.loads(os.environ[_JOB_ENV])
    resources = apify_resources(config["database_url"], Path(config["home"]), _Endpoint(config["apify_url"]))
    defs = dg.Definitions(
        assets=[scraped_ads],
        jobs=[dg.define_asset_job("scrape", selection=[scraped_ads])],
        resources=resources,
        executor=dg.in_process_executor,
    )
    return defs.resolve_job_def("scrape")


class _Endpoint:
    def __init__(self, base_url: str) -> None:
        self.base_url = base_url


def test_a_re_executed_scrape_resumes_the_paid_run_instead_of_starting_another(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cdn: FakeCDN
) -> None:
    import json

    url = cdn.serve("/img/a.png", png((10, 200, 30)), "image/png")
    with FakeApify(token=TOKEN) as fake, dg.instance_for_test() as instance:
        fake.plan = RunPlan(items=[apify_item("71", url), apify_item("72", url)])
        config = {"database_url": database_url, "home": str(tmp_path / "home"), "apify_url": fake.base_url}
        monkeypatch.setenv(_JOB_ENV, json.dumps(config))
        resources = apify_resources(database_url, tmp_path / "home", fake)
        register(resources, instance, Brand(slug="acme", name="Acme", facebook_page_id="4242"))
        # The run starts (and is paid for), then its dataset cannot be read: the step fails.
        # read_retries=1: two attempts per page, both refused.
        fake.inject("items", Fault(status=503), times=2)
        job = dg.reconstructable(scrape_job)
        tags = {"dagster/partition": "acme"}
        with dg.execute_job(job, instance, tags=tags) as first:
            assert not first.success
            first_id = first.run_id
        assert len(fake.starts) == 1
        options = dg.ReexecutionOptions.from_failure(first_id, instance)
        with dg.execute_job(job, instance, tags=tags, reexecution_options=options) as again:
            assert again.success
            [materialization] = again.asset_materializations_for_node("scraped_ads")
            metadata = {k: v.value for k, v in materialization.metadata.items()}
    assert len(fake.starts) == 1, "the re-executed step read the run it had paid for"
    assert metadata["source_run_started_new"] is False and metadata["ads_new"] == 2


# -- Meta's Ad Library API: text and reach ------------------------------------------------------------


def test_ads_from_metas_api_go_through_copy_analysis_and_keep_their_reach(
    database_url: str, tmp_path: Path, instance: dg.DagsterInstance
) -> None:
    home = tmp_path / "home"
    with FakeGraphAPI(access_token=GRAPH_TOKEN) as graph:
        graph.add_ads(
            "4242",
            [
                graph_ad(
                    f"88{n}",
                    "4242",
                    ad_creative_bodies=[f"Cold brew, offer {n}: 20% off today"],
                    eu_total_reach=1000 * n,
                )
                for n in range(1, 4)
            ],
        )
        meta = MetaConfig(base_url=graph.base_url, reached_countries=["DE"], backoff_initial_s=0.01)
        resources = {
            "supabase": SupabaseResource(database_url=database_url, home=str(home)),
            "ad_library": library(source="meta", home=str(home), meta_access_token=GRAPH_TOKEN, meta=meta),
            "gemini": GeminiResource(),
            "reports": ReportsResource(home=str(home)),
        }
        register(resources, instance, Brand(slug="acme", name="Acme", facebook_page_id="4242"))
        result = materialize_brand("acme", resources, instance, ALL_ASSETS)
    assert result.success
    assert metadata_of(result, "scraped_ads")["ads_new"] == 3
    assert metadata_of(result, "copy_analyses")["analysed_new"] == 3
    with psycopg.connect(database_url) as conn:
        reach = sorted(r[0] for r in conn.execute("SELECT snapshot -> 'meta_reach' ->> 'eu_total_reach' FROM ads"))
    assert reach == ["1000", "2000", "3000"]
