"""PostgresStore and its migrations, on a real Postgres."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

import psycopg
import pytest

from brand_pipeline.domain.ads import AdRecord
from brand_pipeline.domain.brands import Brand
from brand_pipeline.sources.ad_items import parse_ad_item
from brand_pipeline.store.migrate import apply_migrations, migration_files
from brand_pipeline.store.models import AdCreativeLink, Creative, ItemOutcome
from brand_pipeline.store.postgres import PostgresStore, open_postgres_store
from brand_pipeline.store.protocol import StoreError

T = TypeVar("T")


def _ad(ad_id: str, **snapshot: object) -> AdRecord:
    return parse_ad_item({"ad_archive_id": ad_id, "snapshot": {"body": {"text": "hello"}, **snapshot}})


def run(database_url: str, work: Callable[[PostgresStore], Awaitable[T]]) -> T:
    async def main() -> T:
        async with open_postgres_store(database_url) as store:
            return await work(store)

    return asyncio.run(main())


def test_migrations_applied_twice_are_a_no_op(database_url: str) -> None:
    async def apply() -> tuple[list[str], list[str], int]:
        async with await psycopg.AsyncConnection.connect(database_url) as conn:
            first = await apply_migrations(conn)
            cursor = await conn.execute("SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'")
            tables = (await cursor.fetchone())[0]
            second = await apply_migrations(conn)
            return first, second, tables

    first, second, tables = asyncio.run(apply())
    assert first == [version for version, _ in migration_files()]
    assert second == []
    assert tables >= 10


def test_a_batch_holding_the_same_key_twice_writes_one_row_last_wins(database_url: str) -> None:
    async def work(store):
        await store.upsert_brands([Brand(slug="acme", name="Acme")])
        stored = await store.upsert_ads("acme", [_ad("1", title="first"), _ad("1", title="second")])
        async with store._pool.connection() as conn:
            rows = await (await conn.execute("SELECT title FROM ads")).fetchall()
        return stored, rows

    stored, rows = run(database_url, work)
    assert stored.new == ["1"]
    assert rows == [{"title": "second"}]


def test_a_partial_brand_update_leaves_other_columns_intact(database_url: str) -> None:
    async def work(store):
        await store.upsert_brands([Brand(slug="acme", name="Acme", ad_library_url="https://x", facebook_page_id="42")])
        await store.upsert_brands([Brand(slug="acme", name="Acme Inc")])
        return await store.get_brand("acme")

    brand = run(database_url, work)
    assert (brand.name, brand.ad_library_url, brand.facebook_page_id) == ("Acme Inc", "https://x", "42")


def test_bulk_writes_and_reads_are_not_capped(database_url: str) -> None:
    async def work(store):
        await store.upsert_brands([Brand(slug="acme", name="Acme")])
        stored = await store.upsert_ads("acme", [_ad(str(i)) for i in range(2500)])
        new_ads = await store.new_ads_since(0)
        summary = await store.brand_summary("acme")
        return stored, new_ads, summary

    stored, new_ads, summary = run(database_url, work)
    assert len(stored.new) == 2500
    assert [(n.brand_slug, n.count) for n in new_ads] == [("acme", 2500)]
    assert summary.ads == 2500


def test_outcomes_of_a_run_replace_the_previous_runs(database_url: str) -> None:
    def outcome(key: str) -> ItemOutcome:
        return ItemOutcome(
            brand_slug="acme", asset="scraped_ads", kind="record", item_key=key, status="invalid", reason="bad"
        )

    async def work(store):
        await store.replace_outcomes("acme", "scraped_ads", "run-1", [outcome("a"), outcome("b"), outcome("a")])
        await store.replace_outcomes("acme", "scraped_ads", "run-2", [outcome("b")])
        return await store.outcomes("acme")

    assert [(o.item_key, o.run_id) for o in run(database_url, work)] == [("b", "run-2")]


def test_a_link_to_a_creative_that_was_never_stored_is_refused(database_url: str) -> None:
    async def work(store):
        await store.upsert_brands([Brand(slug="acme", name="Acme")])
        await store.upsert_ads("acme", [_ad("1")])
        await store.save_creatives([], [AdCreativeLink(ad_archive_id="1", slot="images[0]", sha256="f" * 64)])

    with pytest.raises(StoreError) as refused:
        run(database_url, work)
    assert refused.value.sqlstate == "23503"  # foreign_key_violation


def test_the_same_creative_saved_twice_is_one_row(database_url: str) -> None:
    creative = Creative(sha256="a" * 64, kind="image", mime_type="image/png", size_bytes=3, blob_path="aa/a.png")

    async def work(store):
        await store.upsert_brands([Brand(slug="acme", name="Acme")])
        await store.upsert_ads("acme", [_ad("1"), _ad("2")])
        for ad_id in ("1", "2"):
            await store.save_creatives(
                [creative], [AdCreativeLink(ad_archive_id=ad_id, slot="images[0]", sha256=creative.sha256)]
            )
        return await store.count_creatives("acme", "image"), await store.known_creatives([creative.sha256])

    assert run(database_url, work) == (1, {creative.sha256})


def test_brand_slugs_are_validated_before_reaching_the_database() -> None:
    with pytest.raises(ValueError):
        Brand(slug="Not A Slug", name="x")
