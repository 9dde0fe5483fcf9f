"""The project on a real ``dagster dev``: sensors under the real daemon, a partition materialised
through GraphQL, a backfill under the ``gemini`` pool, and the UI in a real browser.

One ``dagster dev`` serves the whole module, and the tests run in file order. ``new_ads_sensor``
evaluates at most every 30 s, so its scenario is split in three steps with the other scenarios
in between, instead of waiting a minute and a half on its own:

1. ads stored for a brand -> exactly one run (``test_stored_ads_launch_one_analysis_run``)
2. two later ticks launch nothing new; another ad is stored (``test_later_ticks_launch_nothing_new``)
3. that ad -> exactly one more run (``test_another_ad_launches_exactly_one_more_run``)

While the sensor is on, the scrapes of the other scenarios store ads too, and it launches analysis
runs for those brands as well: that is the documented flow (new ads flow into analysis by
themselves), so the scenarios count their own runs only, and the last test checks that every run
of the module succeeded.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import psycopg
import pytest
from dagster import AssetCheckKey, DagsterRunStatus

from brand_pipeline.assets import scraped_ads
from brand_pipeline.checks import ALL_CHECKS
from brand_pipeline.demo import sample_brands
from brand_pipeline.domain.ads import AdRecord
from brand_pipeline.domain.brands import Brand
from brand_pipeline.sources.ad_items import parse_ad_item
from brand_pipeline.store.embedded import EmbeddedPostgres
from brand_pipeline_tests.e2e.harness import DevEnv
from brand_pipeline_tests.e2e.pool_backfill import backfill_under_a_pool_of_one
from brand_pipeline_tests.e2e.support import (
    ALL_ASSETS,
    NEW_ADS_ASSETS,
    SENSOR_TICKS,
    START_SENSOR,
    check_evaluations,
    materialised,
    max_in_flight,
    runs_for_partition,
    sensor_selector,
)
from brand_pipeline_tests.fakes.gemini import FakeGemini
from brand_pipeline_tests.helpers import store_call

pytestmark = pytest.mark.e2e

SENSOR_BRAND = Brand(slug="e2e-sensor-brand", name="E2E sensor brand")
NEW_ADS_SENSOR = {"dagster/sensor_name": "new_ads_sensor"}
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-dev-shm-usage",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def _copy_ad(ad_id: str) -> AdRecord:
    return parse_ad_item(
        {"ad_archive_id": ad_id, "snapshot": {"body": {"text": f"E2E ad {ad_id}: save 20% on your first order today."}}}
    )


def _ticks(dev: DevEnv, sensor: str, limit: int = 100) -> list[dict]:
    result = dev.gql(SENSOR_TICKS, {"sel": sensor_selector(sensor), "limit": limit})["sensorOrError"]
    assert result["__typename"] == "Sensor", result
    return sorted(result["sensorState"]["ticks"], key=lambda tick: tick["timestamp"])


def _ticks_text(dev: DevEnv, sensor: str) -> str:
    return f"{sensor} ticks:\n" + "\n".join(
        f"  {t['timestamp']:.1f} {t['status']:8s} runKeys={t['runKeys']} skip={t['skipReason']!r} "
        f"partitions={t['dynamicPartitionsRequestResults']} error={t['error']}"
        for t in _ticks(dev, sensor)
    )


def _sensor_runs(dev: DevEnv) -> list:
    return runs_for_partition(dev.instance, SENSOR_BRAND.slug, **NEW_ADS_SENSOR)


# ------------------------------------------------------------------------ new_ads_sensor, step 1


def test_stored_ads_launch_one_analysis_run(dagster_dev: DevEnv) -> None:
    dev = dagster_dev
    store_call(dev.resources, "upsert_brands", [SENSOR_BRAND])
    store_call(dev.resources, "upsert_ads", SENSOR_BRAND.slug, [_copy_ad(f"e2e-{i}") for i in (1, 2, 3)])

    started = dev.gql(START_SENSOR, {"sel": sensor_selector("new_ads_sensor")})["startSensor"]
    assert started["__typename"] == "Sensor" and started["sensorState"]["status"] == "RUNNING", started

    runs = dev.diag.wait_for(
        "new_ads_sensor to launch a run for the stored ads",
        lambda: _sensor_runs(dev),
        timeout=60,
        extra=lambda: _ticks_text(dev, "new_ads_sensor"),
    )
    assert len(runs) == 1, [r.run_id for r in runs]
    [run] = runs
    assert run.tags["dagster/run_key"].startswith(f"new-ads:{SENSOR_BRAND.slug}:")
    assert run.tags["brand_pipeline/new_ads"] == "3"
    dev.diag.wait_run(run.run_id, timeout=120)
    # The sensor targets a job of these assets (the run has no asset_selection of its own).
    assert materialised(dev.instance, run.run_id) == {asset: SENSOR_BRAND.slug for asset in NEW_ADS_ASSETS}

    [launching] = [t for t in _ticks(dev, "new_ads_sensor") if run.run_id in t["runIds"]]
    dev.notes["new_ads_first_run"] = run.run_id
    dev.notes["new_ads_launch_tick"] = launching["timestamp"]


# ------------------------------------------------------------------------------- brands_sensor


def test_a_brand_inserted_in_the_table_becomes_a_partition(dagster_dev: DevEnv) -> None:
    dev = dagster_dev
    slugs = {brand.slug for brand in dev.manifest.brands}
    assert not slugs & set(dev.instance.get_dynamic_partitions("brands")), "the sample brands are new here"

    # Only the table row: the partition is the sensor's to add.
    dev.supabase.run_with_store(lambda store: store.upsert_brands(sample_brands(dev.manifest)))

    # brands_sensor runs at most every 30 s; the daemon looks at it every ~5 s.
    dev.diag.wait_for(
        "brands_sensor to add the sample brands as partitions",
        lambda: slugs <= set(dev.instance.get_dynamic_partitions("brands")),
        timeout=75,
        extra=lambda: _ticks_text(dev, "brands_sensor"),
    )
    # The partitions did not exist before, so a brands_sensor tick that added them is the proof.
    added = {
        key
        for tick in _ticks(dev, "brands_sensor")
        for request in tick["dynamicPartitionsRequestResults"]
        if request["type"] == "ADD_PARTITIONS" and request["partitionsDefName"] == "brands"
        for key in request["partitionKeys"]
    }
    assert slugs <= added, f"the partitions were not added by brands_sensor:\n{_ticks_text(dev, 'brands_sensor')}"


# ------------------------------------------------------------------- one partition via GraphQL


def test_a_partition_materialised_through_graphql(dagster_dev: DevEnv) -> None:
    dev = dagster_dev
    slug = "lumen-hollow"
    run_id = dev.materialise_partition(slug)

    assert materialised(dev.instance, run_id) == {asset: slug for asset in ALL_ASSETS}

    expected = dev.manifest.brand(slug).expected
    summary = store_call(dev.resources, "brand_summary", slug)
    assert summary.ads == expected.importable_ads, summary
    assert summary.images == summary.images_analysed == expected.image_files, summary
    assert summary.videos == summary.videos_analysed == expected.video_files, summary
    assert summary.copies > 0 and summary.copies_analysed + summary.copies_skipped == summary.copies, summary
    assert 3 <= summary.personas <= 6, summary

    # The separate checks, and those declared on the scrape itself (evaluated in its session).
    wanted_checks = {key for check in ALL_CHECKS for key in check.check_keys} | set(scraped_ads.check_keys)
    evaluations = check_evaluations(dev.instance, run_id)
    assert {AssetCheckKey(e.asset_key, e.check_name) for e in evaluations} == wanted_checks
    failed = [(e.asset_key.to_user_string(), e.check_name, e.metadata) for e in evaluations if not e.passed]
    assert not failed, failed
    assert {e.partition for e in evaluations} == {slug}
    # The same through the instance's check history, as the UI's checks tab reads it. (With
    # new_ads_sensor on, this scrape also triggers an analysis run whose checks may be newer.)
    for key in wanted_checks:
        history = dev.instance.event_log_storage.get_asset_check_execution_history(key, limit=20)
        ours = [record for record in history if record.run_id == run_id]
        assert [record.status.value for record in ours] == ["SUCCEEDED"], (key, history)


# ---------------------------------------------------------------- backfill under the gemini pool


def test_a_backfill_of_all_brands_waits_for_the_gemini_pool_and_cites_each_brands_ads(
    dagster_dev: DevEnv, fake_gemini: FakeGemini
) -> None:
    """The pool at work on the folder's own instance (SQLite storage). That the pool is never
    exceeded is asserted on the production config (Postgres storage, test_deploy_instance.py):
    Dagster's slot claim on SQLite is not atomic across processes, so two runs claiming at the
    same moment can both get the last slot."""
    dev = dagster_dev
    slugs = sorted(brand.slug for brand in dev.manifest.brands)
    calls_before = fake_gemini.stats.total_generate_calls
    backfill = backfill_under_a_pool_of_one(dev, slugs)
    assert max_in_flight(backfill.runs) >= 2, f"the runs did not overlap\n{backfill.timeline}"
    assert backfill.blocked, f"no step ever waited for the gemini pool\n{backfill.timeline}"

    # Personas with citations, end to end: each cites ads of its own brand.
    assert fake_gemini.stats.total_generate_calls > calls_before
    dsn = EmbeddedPostgres(dev.pipeline_home).status().dsn()
    for slug in slugs:
        synthesis = store_call(dev.resources, "latest_persona_synthesis", slug)
        assert synthesis.status == "done" and 3 <= len(synthesis.personas) <= 6, synthesis
        with psycopg.connect(dsn) as conn:
            brand_ads = {
                r[0] for r in conn.execute("SELECT ad_archive_id FROM brand_ads WHERE brand_slug = %s", [slug])
            }
        for persona in synthesis.personas:
            assert persona.evidence_ad_ids and set(persona.evidence_ad_ids) <= brand_ads, (slug, persona)


# ------------------------------------------------------------------------ new_ads_sensor, step 2


def test_later_ticks_launch_nothing_new(dagster_dev: DevEnv) -> None:
    dev = dagster_dev
    if "new_ads_launch_tick" not in dev.notes:
        pytest.fail("needs test_stored_ads_launch_one_analysis_run to have passed")
    launch_tick = dev.notes["new_ads_launch_tick"]

    def later_ticks() -> list[dict]:
        return [t for t in _ticks(dev, "new_ads_sensor") if t["timestamp"] > launch_tick and t["status"] != "STARTED"]

    # new_ads_sensor runs at most every 30 s: two more ticks take a minute from the first.
    ticks = dev.diag.wait_for(
        "two more new_ads_sensor ticks",
        lambda: len(later_ticks()) >= 2 and later_ticks(),
        timeout=max(30.0, launch_tick + 180 - time.time()),
        interval=2,
        extra=lambda: _ticks_text(dev, "new_ads_sensor"),
    )
    assert all(t["status"] in ("SKIPPED", "SUCCESS") for t in ticks), _ticks_text(dev, "new_ads_sensor")
    for tick in ticks:
        assert not any(key.startswith(f"new-ads:{SENSOR_BRAND.slug}:") for key in tick["runKeys"]), tick
    assert [r.run_id for r in _sensor_runs(dev)] == [dev.notes["new_ads_first_run"]]

    store_call(dev.resources, "upsert_ads", SENSOR_BRAND.slug, [_copy_ad("e2e-4")])
    dev.notes["new_ads_second_ad_at"] = time.time()


# ------------------------------------------------------------------------------------- the UI


SCREENSHOTS = ("e2e_1_asset_graph.png", "e2e_2_materialize_dialog.png", "e2e_3_run_success.png")


def _materialise_in_ui(page, url: str, slug: str, shots: Path) -> str:
    """Asset graph -> scraped_ads -> Materialize… -> one partition -> Launch -> Success; the run id."""
    from playwright.sync_api import expect

    page.goto(f"{url}/asset-groups")
    for asset in ALL_ASSETS:
        expect(page.get_by_text(asset, exact=True).first).to_be_visible()
    # The nodes' live data (latest materialisation, checks, partitions) has loaded.
    expect(page.get_by_text(re.compile(r"^Loading"))).to_have_count(0)
    page.screenshot(path=shots / SCREENSHOTS[0])

    page.goto(f"{url}/assets/scraped_ads")
    page.get_by_role("button", name="Materialize…").click()  # U+2026
    dialog = page.get_by_role("dialog").filter(has_text="Launch runs to materialize")
    expect(dialog).to_be_visible()
    dialog.get_by_text("Select a partition or create one").click()
    page.get_by_placeholder("Filter partitions").fill(slug)
    page.get_by_role("menuitem").filter(has=page.locator(f'[title="{slug}"]')).click()
    # Close the picker by clicking the dialog's title (Escape would close the dialog).
    dialog.get_by_text("Launch runs to materialize").click()
    expect(page.get_by_placeholder("Filter partitions")).to_be_hidden()
    expect(dialog.get_by_text("1 partition", exact=True)).to_be_visible()
    page.screenshot(path=shots / SCREENSHOTS[1])

    launch = dialog.get_by_role("button", name="Launch 1 run")
    expect(launch).to_be_enabled()
    with page.expect_response(
        lambda r: "/graphql" in r.url and "LaunchPipelineExecution" in (r.request.post_data or "")
    ) as response:
        launch.click()
    body = response.value.json()
    run = body["data"]["launchPipelineExecution"].get("run")
    assert run, f"the UI's launch answered {body}"
    run_id = run.get("runId") or run["id"]

    page.goto(f"{url}/runs/{run_id}")
    expect(page.get_by_text("Success", exact=True).first).to_be_visible(timeout=120_000)
    page.screenshot(path=shots / SCREENSHOTS[2])
    return run_id


def test_materialise_a_partition_in_the_ui(dagster_dev: DevEnv, artifacts_dir: Path, chromium: Path) -> None:
    from playwright.sync_api import sync_playwright

    dev = dagster_dev
    slug = "dewveil"
    for name in (*SCREENSHOTS, "e2e_ui_failure.png"):
        (artifacts_dir / name).unlink(missing_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(chromium), headless=True, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            page.set_default_timeout(30_000)
            try:
                run_id = _materialise_in_ui(page, dev.server.url, slug, artifacts_dir)
            except Exception as error:  # a Playwright timeout or assertion: say where, show the state
                page.screenshot(path=artifacts_dir / "e2e_ui_failure.png")
                latest = [r.run_id for r in runs_for_partition(dev.instance, slug)][:1]
                dev.diag.fail(f"UI flow failed at {page.url} (screenshot e2e_ui_failure.png): {error}", latest)
        finally:
            browser.close()

    run = dev.diag.wait_run(run_id, timeout=30)
    assert run.tags["dagster/partition"] == slug
    assert materialised(dev.instance, run_id) == {"scraped_ads": slug}
    for name in SCREENSHOTS:
        assert (artifacts_dir / name).stat().st_size > 10_000, name


# ------------------------------------------------------------------------ new_ads_sensor, step 3


def test_another_ad_launches_exactly_one_more_run(dagster_dev: DevEnv) -> None:
    dev = dagster_dev
    if "new_ads_second_ad_at" not in dev.notes:
        pytest.fail("needs test_later_ticks_launch_nothing_new to have passed")
    first = dev.notes["new_ads_first_run"]
    runs = dev.diag.wait_for(
        "new_ads_sensor to launch a run for the new ad",
        lambda: len(_sensor_runs(dev)) >= 2 and _sensor_runs(dev),
        timeout=max(30.0, dev.notes["new_ads_second_ad_at"] + 120 - time.time()),
        interval=1,
        extra=lambda: _ticks_text(dev, "new_ads_sensor"),
    )
    assert len(runs) == 2, [r.run_id for r in runs]
    [second] = [r for r in runs if r.run_id != first]
    assert second.tags["brand_pipeline/new_ads"] == "1"
    keys = {r.tags["dagster/run_key"] for r in runs}
    assert len(keys) == 2 and all(re.fullmatch(rf"new-ads:{SENSOR_BRAND.slug}:\d+", k) for k in keys), keys
    dev.diag.wait_run(second.run_id, timeout=120)
    assert materialised(dev.instance, second.run_id) == {asset: SENSOR_BRAND.slug for asset in NEW_ADS_ASSETS}
    summary = store_call(dev.resources, "brand_summary", SENSOR_BRAND.slug)
    assert summary.ads == 4 and summary.copies_analysed == 4, summary


def test_every_run_and_tick_of_the_module_succeeded(dagster_dev: DevEnv) -> None:
    dev = dagster_dev
    dev.diag.wait_for(
        "every run to finish",
        lambda: all(r.status.value in ("SUCCESS", "FAILURE", "CANCELED") for r in dev.instance.get_runs()),
        timeout=120,
        run_ids=lambda: [r.run_id for r in dev.instance.get_runs() if r.status.value not in ("SUCCESS",)],
    )
    bad = [r.run_id for r in dev.instance.get_runs() if r.status != DagsterRunStatus.SUCCESS]
    if bad:
        dev.diag.fail(f"runs that did not succeed: {bad}", bad)
    for sensor in ("brands_sensor", "new_ads_sensor"):
        failed = [t for t in _ticks(dev, sensor) if t["status"] == "FAILURE"]
        assert not failed, f"{sensor} ticks failed: {failed}"
    print(f"\n{len(dev.instance.get_runs())} runs in the module, all SUCCESS")
