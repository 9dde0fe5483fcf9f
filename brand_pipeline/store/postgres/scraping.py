"""Scraping: the creatives ads show, and per-item outcomes of a scrape."""

from __future__ import annotations

from collections.abc import Sequence

from brand_pipeline.store.models import AdCreativeLink, Creative, ItemOutcome
from brand_pipeline.store.postgres.base import PostgresRows, batches, dedupe, json_rows


class ScrapeRows(PostgresRows):
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
