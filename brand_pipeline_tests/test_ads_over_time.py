"""Every scrape turns into history: which ads started, stopped or kept running, when each was
first and last seen and how often, and expired media fetched again once a fresh URL arrives.
A re-scrape recognises unchanged ads by their items' hashes and parses only what changed."""

from __future__ import annotations

import asyncio
import io
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import dagster as dg
import psycopg
from PIL import Image

from brand_pipeline.assets import scraped_ads
from brand_pipeline.domain.ads import AdRecord
from brand_pipeline.domain.brands import Brand
from brand_pipeline.registry import register_brands
from brand_pipeline.resources.ad_library import AdLibraryResource
from brand_pipeline.resources.gemini import GeminiResource
from brand_pipeline.resources.reports import ReportsResource
from brand_pipeline.resources.supabase import SupabaseResource
from brand_pipeline.sources.ad_items import item_sighting, parse_ad_item
from brand_pipeline.sources.base import SourceItem
from brand_pipeline.sources.scrape import ScrapeReport, scrape_brand
from brand_pipeline.store.protocol import BrandStore
from brand_pipeline_tests.fakes.cdn import FakeCDN
from brand_pipeline_tests.helpers import materialize_brand, metadata_of

DAY = 86_400
START = 1_764_547_200  # 2025-12-01


def ad(ad_id: str, *, active: bool = True, media: list[dict[str, str]] | None = None) -> dict[str, Any]:
    item: dict[str, Any] = {
        "ad_archive_id": ad_id,
        "is_active": active,
        "start_date": START + int(ad_id) * DAY,
        "snapshot": {"body": {"text": f"Copy of ad {ad_id}"}, "images": media or []},
    }
    if not active:
        item["end_date"] = START + 40 * DAY
    return item


class Brandscape:
    """One brand whose export changes between scrapes, scraped through Dagster each time."""

    def __init__(self, database_url: str, tmp_path: Path, instance: dg.DagsterInstance, **library: Any) -> None:
        self.exports = tmp_path / "exports"
        self.exports.mkdir()
        home = str(tmp_path / "home")
        self.database_url, self.instance = database_url, instance
        self.resources = {
            "supabase": SupabaseResource(database_url=database_url, home=home),
            "ad_library": AdLibraryResource(source="file", export_dir=str(self.exports), home=home, **library),
            "gemini": GeminiResource(),
            "reports": ReportsResource(home=home),
        }
        register_brands(self.resources["supabase"], instance, [Brand(slug="acme", name="Acme")])

    def scrape(self, items: list[dict[str, Any]]) -> dict[str, Any]:
        (self.exports / "acme.json").write_text(json.dumps(items))
        result = materialize_brand("acme", self.resources, self.instance, [scraped_ads])
        assert result.success
        return metadata_of(result, "scraped_ads")

    def sightings(self) -> dict[str, tuple[Any, ...]]:
        with psycopg.connect(self.database_url) as conn:
            rows = conn.execute(
                "SELECT ad_archive_id, times_seen, first_seen_at, last_seen_at, running, no_longer_seen_at "
                "FROM brand_ads WHERE brand_slug = 'acme'"
            ).fetchall()
        return {row[0]: row[1:] for row in rows}


def changes(metadata: dict[str, Any]) -> tuple[int, int, int]:
    return metadata["ads_started"], metadata["ads_stopped"], metadata["ads_still_running"]


def test_three_scrapes_of_a_changing_brand_track_every_ad_over_time(
    database_url: str, tmp_path: Path, instance: dg.DagsterInstance
) -> None:
    brand = Brandscape(database_url, tmp_path, instance)
    first = brand.scrape([ad("1"), ad("2"), ad("3")])
    assert changes(first) == (3, 0, 0)
    after_first = brand.sightings()

    # Ad 2 is reported ended, ad 3 is gone from a complete listing, ad 4 is new.
    second = brand.scrape([ad("1"), ad("2", active=False), ad("4")])
    assert changes(second) == (1, 2, 1)
    assert second["ads_no_longer_seen"] == 1 and second["ads_new"] == 1
    after_second = brand.sightings()

    # Ad 3 is back; ad 2 (already stopped) is absent and counts as nothing new.
    third = brand.scrape([ad("1"), ad("3"), ad("4")])
    assert changes(third) == (1, 0, 2)
    final = brand.sightings()

    times_seen = {ad_id: row[0] for ad_id, row in final.items()}
    assert times_seen == {"1": 3, "2": 2, "3": 2, "4": 2}
    assert final["1"][1] == after_first["1"][1], "first_seen_at never moves"
    assert final["4"][1] == after_second["4"][1] > after_first["1"][1]
    assert final["1"][2] > after_second["1"][2] > after_first["1"][2], "last_seen_at moves with each sighting"
    assert final["2"][2] == after_second["2"][2], "an absent ad keeps its last sighting"
    assert final["2"][3] is False and final["2"][4] is not None, "no longer seen, not running"
    assert final["3"][3] is True and final["3"][4] is None, "seen again, running again"


def test_an_unchanged_rescrape_rewrites_no_ad_but_records_the_sighting(
    database_url: str, tmp_path: Path, instance: dg.DagsterInstance
) -> None:
    brand = Brandscape(database_url, tmp_path, instance)
    items = [ad(str(n)) for n in range(1, 30)]
    brand.scrape(items)
    with psycopg.connect(database_url) as conn:
        versions = conn.execute("SELECT ad_archive_id, xmin::text FROM ads ORDER BY 1").fetchall()
    again = brand.scrape(items)
    with psycopg.connect(database_url) as conn:
        assert conn.execute("SELECT ad_archive_id, xmin::text FROM ads ORDER BY 1").fetchall() == versions
    assert (again["ads_unchanged"], again["ads_changed"], again["ads_new"]) == (29, 0, 0)
    assert {row[0] for row in brand.sightings().values()} == {2}

    items[0]["snapshot"]["body"]["text"] = "New copy for ad 1"
    changed = brand.scrape(items)
    assert (changed["ads_changed"], changed["ads_unchanged"]) == (1, 28)


# Media from the fake CDN on this machine (over plain http).
LOCAL_CDN = {"media_hosts": ["127.0.0.1"], "allow_plain_http_media": True, "allow_private_media_hosts": True}


def png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (32, 32), (200, 40, 40)).save(buffer, format="PNG")
    return buffer.getvalue()


def test_expired_media_is_fetched_again_when_a_later_scrape_brings_a_fresh_url(
    database_url: str, tmp_path: Path, instance: dg.DagsterInstance
) -> None:
    with FakeCDN() as cdn:
        brand = Brandscape(database_url, tmp_path, instance, **LOCAL_CDN)
        expired = [{"original_image_url": f"{cdn.base_url}/expired?oe=00000001"}]
        first = brand.scrape([ad("1", media=expired)])
        assert first["media_expired"] == 1 and first["creatives_new"] == 0

        fresh = [{"original_image_url": cdn.serve("/fresh.png", png(), "image/png") + "?oe=ffffffff"}]
        second = brand.scrape([ad("1", media=fresh)])
    assert second["creatives_new"] == 1 and second.get("media_expired", 0) == 0
    with psycopg.connect(database_url) as conn:
        assert conn.execute("SELECT count(*) FROM item_outcomes WHERE kind = 'media'").fetchone() == (0,)
        assert conn.execute("SELECT count(*) FROM ad_creatives WHERE ad_archive_id = '1'").fetchone() == (1,)


def test_a_fresh_signature_on_the_same_media_is_not_a_change(
    database_url: str, tmp_path: Path, instance: dg.DagsterInstance
) -> None:
    brand = Brandscape(database_url, tmp_path, instance)
    # Plain http is refused before any lookup: the media never leave this machine.
    signed = [{"original_image_url": "http://127.0.0.1/v/t1/123.jpg?oe=6A1B2C3D&_nc_sid=abc"}]
    brand.scrape([ad("1", media=signed)])
    signed[0]["original_image_url"] = "http://127.0.0.1/v/t1/123.jpg?oe=6A9F0000&_nc_sid=xyz"
    again = brand.scrape([ad("1", media=signed)])
    assert (again["ads_unchanged"], again["ads_changed"]) == (1, 0)


def test_an_unchanged_ad_whose_creative_failed_is_looked_at_again(
    database_url: str, tmp_path: Path, instance: dg.DagsterInstance
) -> None:
    with FakeCDN() as cdn:
        brand = Brandscape(database_url, tmp_path, instance, **LOCAL_CDN)
        url = cdn.serve("/v/t39/1.png", png(), "image/png")
        first = brand.scrape([ad("1", media=[{"original_image_url": f"{url}?oe=00000001"}])])
        assert first["media_expired"] == 1
        # The same creative re-signed: the ad is unchanged, but its creative is still missing.
        again = brand.scrape([ad("1", media=[{"original_image_url": f"{url}?oe=ffffffff"}])])
    assert (again["ads_unchanged"], again["creatives_new"], again.get("media_expired", 0)) == (1, 1, 0)


def test_a_scrape_that_did_not_finish_leaves_its_ads_to_be_looked_at_again(
    database_url: str, tmp_path: Path, instance: dg.DagsterInstance
) -> None:
    with FakeCDN() as cdn:
        brand = Brandscape(database_url, tmp_path, instance, **LOCAL_CDN)
        item = ad("1", media=[{"original_image_url": cdn.serve("/v/t39/2.png", png(), "image/png")}])
        # What a scrape stopped after storing its ads, before their creatives, leaves behind.
        parsed, sighting = parse_ad_item(item), item_sighting(item)
        assert sighting is not None

        async def stopped_after_storing_the_ads(store: BrandStore) -> None:
            scrape_id = await store.begin_scrape("acme", "stopped-run", "file")
            await store.upsert_ads("acme", [parsed], "stopped-run", scrape_id=scrape_id)
            await store.remember_items("acme", [sighting])

        brand.resources["supabase"].run_with_store(stopped_after_storing_the_ads)
        again = brand.scrape([item])
    assert (again["ads_unchanged"], again["creatives_new"]) == (1, 1)


class ListedItems:
    """A source listing given items, counting the ads the scrape parsed (it asks each one's refusal)."""

    name, complete, paid_run, media_base_dir = "file", True, None, None

    def __init__(self, items: list[dict[str, Any]]) -> None:
        self.listed, self.parsed = items, 0

    def refuse_gated(self, record: AdRecord) -> str | None:
        self.parsed += 1
        return None if record.body != "login required" else "the ad is shown to logged-in users only"

    async def items(self, brand: Brand) -> AsyncIterator[SourceItem]:
        for n, item in enumerate(self.listed):
            yield SourceItem(position=f"item {n}", item=item, refuse=self.refuse_gated)


def test_a_rescrape_parses_only_the_ads_whose_items_changed(database_url: str, tmp_path: Path) -> None:
    supabase = SupabaseResource(database_url=database_url, home=str(tmp_path))
    library = AdLibraryResource(source="file", export_dir=str(tmp_path), home=str(tmp_path))

    async def scrape(source: ListedItems, run_id: str) -> ScrapeReport:
        async with supabase.open() as storage:
            await storage.store.upsert_brands([Brand(slug="acme", name="Acme")])
            async with library.open(storage.blobs.staging_dir()) as lib:
                brand = await storage.store.ensure_brand("acme")
                return await scrape_brand(
                    brand, source=source, fetcher=lib.fetcher, store=storage.store, blobs=storage.blobs, run_id=run_id
                )

    items = [ad(str(n)) for n in range(1, 11)] + [
        {"ad_archive_id": "99", "snapshot": {"body": {"text": "login required"}}}
    ]
    first = ListedItems(items)
    report = asyncio.run(scrape(first, "run-1"))
    assert (first.parsed, report.ads_new, report.invalid_records) == (11, 10, 1)
    assert report.outcomes[0].reason == "the ad is shown to logged-in users only"

    again = ListedItems(items)
    report = asyncio.run(scrape(again, "run-2"))
    assert (again.parsed, report.ads_unchanged, report.invalid_records) == (1, 10, 1), "only the refused one"
    assert report.changes is not None and report.changes.still_running == 10

    items[0]["snapshot"]["body"]["text"] = "New copy for ad 1"
    changed = ListedItems(items)
    report = asyncio.run(scrape(changed, "run-3"))
    assert (changed.parsed, report.ads_changed, report.ads_unchanged) == (2, 1, 9)


def test_an_items_hash_ignores_signatures_and_key_order_but_not_what_the_parser_reads() -> None:
    item = ad("7", media=[{"original_image_url": "https://scontent.fbcdn.net/v/t39/7.jpg?oe=6A1B2C3D&_nc_sid=a"}])
    sighting = item_sighting(item)
    assert sighting is not None and sighting.ad_archive_id == "7"
    resigned = json.loads(json.dumps(item).replace("oe=6A1B2C3D&_nc_sid=a", "oe=6A9F0000&_nc_sid=b"))
    reordered = dict(reversed(list(item.items())))
    camel = {"adArchiveID": "7"} | {k: v for k, v in item.items() if k != "ad_archive_id"}
    assert item_sighting(resigned) == item_sighting(reordered) == sighting
    assert item_sighting(camel) is not None and item_sighting(camel).ad_archive_id == "7"
    # A query in the copy is copy, not a signature; a field the parser does not read is no change.
    with_link = ad("7") | {"snapshot": {"body": {"text": "Order at https://acme.example/?ref=spring now"}}}
    other_link = ad("7") | {"snapshot": {"body": {"text": "Order at https://acme.example/?ref=autumn now"}}}
    assert item_sighting(with_link) != item_sighting(other_link)
    assert item_sighting(item | {"scraped_at": "2026-12-02T04:00:00Z"}) == sighting
    assert item_sighting(item | {"is_active": False}) != sighting
    not_plainly_an_ad = ({"snapshot": {}}, {"ad_archive_id": " "}, ["7"], ad("7") | {"snapshot": {"n": 2**70}})
    assert [item_sighting(odd) for odd in not_plainly_an_ad] == [None] * 4, "parsed in full, every time"
