"""The brand report and the comparison as assets, checked against the store, and the new-ads alert
against a local Slack-compatible webhook: sent once per scrape that starts enough ads, never on a
re-run with nothing new, retried after a failure, and never failing the scrape."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import dagster as dg
import psycopg
import pytest

from brand_pipeline.assets import brand_comparison, brand_report, scraped_ads
from brand_pipeline.domain.brands import Brand
from brand_pipeline.registry import register_brands
from brand_pipeline.resources.ad_library import AdLibraryResource
from brand_pipeline.resources.gemini import GeminiResource
from brand_pipeline.resources.reports import ReportsResource
from brand_pipeline.resources.supabase import SupabaseResource
from brand_pipeline_tests.fakes.webhook import FakeWebhook
from brand_pipeline_tests.helpers import materialize_brand, metadata_of

DAY = 86_400
NOW = int(time.time())  # the ads' dates are relative to the scrape


def ad(ad_id: str, started_days_ago: int, *, ended_days_ago: int | None = None) -> dict[str, Any]:
    item: dict[str, Any] = {
        "ad_archive_id": ad_id,
        "is_active": ended_days_ago is None,
        "start_date": NOW - started_days_ago * DAY,
        "snapshot": {"body": {"text": f"Ad {ad_id}: 20% off today. Shop now"}, "display_format": "IMAGE"},
    }
    if ended_days_ago is not None:
        item["end_date"] = NOW - ended_days_ago * DAY
    return item


class Setup:
    def __init__(self, database_url: str, tmp_path: Path, instance: dg.DagsterInstance, webhook: str | None) -> None:
        self.exports = tmp_path / "exports"
        self.exports.mkdir()
        home = str(tmp_path / "home")
        self.reports_dir = tmp_path / "home" / "reports"
        self.database_url, self.instance = database_url, instance
        self.resources = {
            "supabase": SupabaseResource(database_url=database_url, home=home),
            "ad_library": AdLibraryResource(source="file", export_dir=str(self.exports), home=home),
            "gemini": GeminiResource(),
            "reports": ReportsResource(home=home, alert_webhook_url=webhook, alert_min_new_ads=3),
        }
        brands = [Brand(slug="acme", name="Acme", group="coffee"), Brand(slug="rival", name="Rival", group="coffee")]
        register_brands(self.resources["supabase"], instance, brands)

    def scrape(self, slug: str, items: list[dict[str, Any]]) -> dict[str, Any]:
        (self.exports / f"{slug}.json").write_text(json.dumps(items))
        result = materialize_brand(slug, self.resources, self.instance, [scraped_ads])
        assert result.success, "a failing webhook never fails the scrape"
        return metadata_of(result, "scraped_ads")

    def report(self, slug: str) -> dict[str, Any]:
        result = materialize_brand(slug, self.resources, self.instance, [brand_report])
        assert result.success
        return metadata_of(result, "brand_report")


def test_the_report_shows_the_numbers_the_store_holds_and_is_not_redone_when_unchanged(
    database_url: str, tmp_path: Path, instance: dg.DagsterInstance
) -> None:
    setup = Setup(database_url, tmp_path, instance, webhook=None)
    items = [ad("1", 200), ad("2", 90, ended_days_ago=20), ad("3", 40, ended_days_ago=5), ad("4", 3), ad("5", 12)]
    setup.scrape("acme", items)
    first = setup.report("acme")
    with psycopg.connect(database_url) as conn:
        store = conn.execute(
            """
            WITH b AS (SELECT a.*, ba.running, max(ba.last_seen_at) OVER () AS at
                       FROM brand_ads ba JOIN ads a USING (ad_archive_id) WHERE ba.brand_slug = 'acme')
            SELECT count(*), count(*) FILTER (WHERE running),
                   count(*) FILTER (WHERE start_date >= at - interval '7 days'),
                   count(*) FILTER (WHERE start_date >= at - interval '30 days'),
                   count(*) FILTER (WHERE NOT running AND end_date >= at - interval '7 days'),
                   count(*) FILTER (WHERE NOT running AND end_date >= at - interval '30 days')
            FROM b
            """
        ).fetchone()
    shown = tuple(
        first[key]
        for key in ("ads_seen", "active_now", "started_last_7_days", "started_last_30_days",
                    "stopped_last_7_days", "stopped_last_30_days")
    )  # fmt: skip
    assert shown == store == (5, 3, 1, 2, 1, 2)
    assert first["longest_days_running"] == pytest.approx(200, abs=0.1)
    assert first["unchanged"] is False
    page = Path(first["report"])
    html = page.read_text()
    assert all(f'data-chart="{chart}"' in html for chart in ("ads-over-time", "new-ads-per-week", "days-running"))
    assert "Acme" in html and "proxy" in html

    again = setup.report("acme")
    assert again["unchanged"] is True and again["ads_seen"] == 5, "nothing changed: the page is kept"


def test_the_comparison_puts_a_groups_brands_side_by_side(
    database_url: str, tmp_path: Path, instance: dg.DagsterInstance
) -> None:
    setup = Setup(database_url, tmp_path, instance, webhook=None)
    setup.scrape("acme", [ad("1", 10), ad("2", 30)])
    setup.scrape("rival", [ad("7", 5), ad("8", 6), ad("9", 7)])
    result = dg.materialize([brand_comparison], instance=instance, resources=setup.resources)
    assert result.success
    [materialization] = result.asset_materializations_for_node("brand_comparison")
    metadata = {k: v.value for k, v in materialization.metadata.items()}
    assert metadata["groups"] == 1
    html = Path(metadata["comparison-coffee"]).read_text()
    assert "Acme" in html and "Rival" in html and 'data-chart="launches-per-week"' in html


def test_a_new_ads_alert_is_sent_once_per_scrape_that_starts_enough_ads(
    database_url: str, tmp_path: Path, instance: dg.DagsterInstance
) -> None:
    with FakeWebhook() as webhook:
        setup = Setup(database_url, tmp_path, instance, webhook=webhook.url)
        base = [ad("1", 50), ad("2", 40)]
        first = setup.scrape("acme", base)
        assert webhook.posts == [] and first["alerts_sent"] == 0, "a brand's first scrape finds everything new"

        push = [*base, ad("3", 1), ad("4", 1), ad("5", 2)]
        second = setup.scrape("acme", push)
        assert second["ads_started"] == 3 and second["alerts_sent"] == 1
        [post] = webhook.posts
        assert "Acme" in post["text"] and "3" in post["text"]
        assert "/runs/" in json.dumps(post) and "acme.html" in json.dumps(post)

        unchanged = setup.scrape("acme", push)
        assert unchanged["ads_started"] == 0 and len(webhook.posts) == 1, "a re-run with nothing new sends nothing"

        webhook.fail_with(500, "busy")
        failed = setup.scrape("acme", [*push, ad("6", 0), ad("7", 0), ad("8", 0)])
        assert failed["alerts_failed"] == 1 and len(webhook.posts) == 1
        webhook.failure = None
        retried = setup.scrape("acme", [*push, ad("6", 0), ad("7", 0), ad("8", 0)])
        assert retried["alerts_sent"] == 1 and len(webhook.posts) == 2, "the failed alert is sent by the next scrape"
    with psycopg.connect(database_url) as conn:
        statuses = [row[0] for row in conn.execute("SELECT status FROM alerts ORDER BY id")]
    assert statuses == ["sent", "sent"]
    assert webhook.url not in json.dumps(retried)
