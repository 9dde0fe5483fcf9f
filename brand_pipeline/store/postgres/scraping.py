"""Scraping: ads, the creatives they show, and per-item outcomes of a scrape."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from brand_pipeline.domain.ads import AdRecord
from brand_pipeline.store.models import AdCreativeLink, Creative, ItemOutcome, StoredAds
from brand_pipeline.store.postgres.base import PostgresRows, batches, dedupe, json_rows


class ScrapeRows(PostgresRows):
    async def upsert_ads(self, brand_slug: str, ads: Sequence[AdRecord], run_id: str | None = None) -> StoredAds:
        result = StoredAds()
        rows = dedupe((_ad_row(ad) for ad in ads), "ad_archive_id")
        for batch in batches(rows):
            async with self._pool.connection() as conn, conn.transaction():
                await conn.execute(
                    """
                    INSERT INTO ads (ad_archive_id, page_id, page_name, is_active, start_date, end_date,
                        publisher_platforms, collation_id, collation_count, title, body, caption,
                        cta_text, cta_type, link_url, link_description, display_format,
                        copy_text, copy_hash, snapshot)
                    SELECT ad_archive_id, page_id, page_name, is_active, start_date, end_date,
                        publisher_platforms, collation_id, collation_count, title, body, caption,
                        cta_text, cta_type, link_url, link_description, display_format,
                        copy_text, copy_hash, snapshot
                    FROM jsonb_to_recordset(%s) AS x(ad_archive_id text, page_id text, page_name text,
                        is_active boolean, start_date timestamptz, end_date timestamptz,
                        publisher_platforms text[], collation_id text, collation_count integer,
                        title text, body text, caption text, cta_text text, cta_type text,
                        link_url text, link_description text, display_format text,
                        copy_text text, copy_hash text, snapshot jsonb)
                    ON CONFLICT (ad_archive_id) DO UPDATE SET
                        page_id = EXCLUDED.page_id, page_name = EXCLUDED.page_name,
                        is_active = EXCLUDED.is_active, start_date = EXCLUDED.start_date,
                        end_date = EXCLUDED.end_date, publisher_platforms = EXCLUDED.publisher_platforms,
                        collation_id = EXCLUDED.collation_id, collation_count = EXCLUDED.collation_count,
                        title = EXCLUDED.title, body = EXCLUDED.body, caption = EXCLUDED.caption,
                        cta_text = EXCLUDED.cta_text, cta_type = EXCLUDED.cta_type,
                        link_url = EXCLUDED.link_url, link_description = EXCLUDED.link_description,
                        display_format = EXCLUDED.display_format, copy_text = EXCLUDED.copy_text,
                        copy_hash = EXCLUDED.copy_hash, snapshot = EXCLUDED.snapshot,
                        last_seen_at = now()
                    """,
                    [json_rows(batch)],
                )
                cursor = await conn.execute(
                    """
                    INSERT INTO brand_ads (brand_slug, ad_archive_id, last_run_id)
                    SELECT %s, ad_id, %s FROM unnest(%s::text[]) AS ad_id
                    ON CONFLICT (brand_slug, ad_archive_id) DO UPDATE SET
                        last_seen_at = now(), last_run_id = EXCLUDED.last_run_id
                    RETURNING ad_archive_id, (xmax = 0) AS inserted
                    """,
                    [brand_slug, run_id, [row["ad_archive_id"] for row in batch]],
                )
                for row in await cursor.fetchall():
                    (result.new if row["inserted"] else result.updated).append(row["ad_archive_id"])
        return result

    async def stored_slots(self, ad_ids: Sequence[str]) -> set[tuple[str, str]]:
        rows = await self._fetch(
            "SELECT ad_archive_id, slot FROM ad_creatives WHERE ad_archive_id = ANY(%s)", [list(ad_ids)]
        )
        return {(row["ad_archive_id"], row["slot"]) for row in rows}

    async def known_creatives(self, sha256s: Sequence[str]) -> set[str]:
        rows = await self._fetch("SELECT sha256 FROM creatives WHERE sha256 = ANY(%s)", [list(sha256s)])
        return {row["sha256"] for row in rows}

    async def save_creatives(self, creatives: Sequence[Creative], links: Sequence[AdCreativeLink]) -> None:
        creative_rows = dedupe((c.model_dump(mode="json") for c in creatives), "sha256")
        link_rows = dedupe((link.model_dump(mode="json") for link in links), "ad_archive_id", "slot")
        async with self._pool.connection() as conn, conn.transaction():
            for batch in batches(creative_rows):
                await conn.execute(
                    """
                    INSERT INTO creatives (sha256, kind, mime_type, size_bytes, blob_path)
                    SELECT * FROM jsonb_to_recordset(%s) AS x(sha256 text, kind text, mime_type text,
                                                               size_bytes bigint, blob_path text)
                    ON CONFLICT (sha256) DO NOTHING
                    """,
                    [json_rows(batch)],
                )
            for batch in batches(link_rows):
                await conn.execute(
                    """
                    INSERT INTO ad_creatives (ad_archive_id, slot, sha256, source_url, run_id)
                    SELECT * FROM jsonb_to_recordset(%s) AS x(ad_archive_id text, slot text,
                                                               sha256 text, source_url text, run_id text)
                    ON CONFLICT (ad_archive_id, slot) DO UPDATE SET
                        sha256 = EXCLUDED.sha256, source_url = EXCLUDED.source_url,
                        run_id = EXCLUDED.run_id, stored_at = now()
                    """,
                    [json_rows(batch)],
                )

    async def replace_outcomes(self, brand_slug: str, asset: str, run_id: str, outcomes: Sequence[ItemOutcome]) -> None:
        rows = dedupe(
            (
                o.model_dump(mode="json") | {"brand_slug": brand_slug, "asset": asset, "run_id": run_id}
                for o in outcomes
            ),
            "item_key",
        )
        async with self._pool.connection() as conn, conn.transaction():
            for batch in batches(rows):
                await conn.execute(
                    """
                    INSERT INTO item_outcomes (brand_slug, asset, item_key, kind, ad_archive_id, slot,
                                               status, reason, detail, run_id)
                    SELECT brand_slug, asset, item_key, kind, ad_archive_id, slot, status, reason, detail, run_id
                    FROM jsonb_to_recordset(%s) AS x(brand_slug text, asset text, item_key text, kind text,
                                                     ad_archive_id text, slot text, status text, reason text,
                                                     detail text, run_id text)
                    ON CONFLICT (brand_slug, asset, item_key) DO UPDATE SET
                        kind = EXCLUDED.kind, ad_archive_id = EXCLUDED.ad_archive_id, slot = EXCLUDED.slot,
                        status = EXCLUDED.status, reason = EXCLUDED.reason, detail = EXCLUDED.detail,
                        run_id = EXCLUDED.run_id, updated_at = now()
                    """,
                    [json_rows(batch)],
                )
            await conn.execute(
                "DELETE FROM item_outcomes WHERE brand_slug = %s AND asset = %s AND run_id IS DISTINCT FROM %s",
                [brand_slug, asset, run_id],
            )

    async def outcomes(self, brand_slug: str, asset: str | None = None) -> list[ItemOutcome]:
        rows = await self._fetch(
            "SELECT * FROM item_outcomes WHERE brand_slug = %s AND (%s::text IS NULL OR asset = %s) "
            "ORDER BY asset, item_key",
            [brand_slug, asset, asset],
        )
        return [ItemOutcome.model_validate(row) for row in rows]


def _ad_row(ad: AdRecord) -> dict[str, Any]:
    row = ad.model_dump(mode="json", exclude={"media"})
    row["copy_text"] = ad.copy_text
    row["copy_hash"] = ad.copy_hash
    return row
