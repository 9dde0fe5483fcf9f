"""Ads and their history: each scrape of a brand, what it saw, and what started or stopped.

An ad's row is rewritten only when what the source says about it changed (a content hash); every
sighting still moves the brand's ``last_seen_at`` and ``times_seen`` for it. Whether an ad runs is
kept per brand at each sighting, so a scrape can tell which ads started, stopped or kept running
since the previous one; an ad missing from a complete scrape is marked no longer seen.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from brand_pipeline.domain.ads import AdRecord, is_running
from brand_pipeline.store.models import ScrapeChanges, StoredAds
from brand_pipeline.store.postgres.base import PostgresRows, batches, dedupe, json_rows

_AD_COLUMNS = {
    "ad_archive_id": "text", "page_id": "text", "page_name": "text", "is_active": "boolean",
    "start_date": "timestamptz", "end_date": "timestamptz", "publisher_platforms": "text[]",
    "collation_id": "text", "collation_count": "integer", "title": "text", "body": "text", "caption": "text",
    "cta_text": "text", "cta_type": "text", "link_url": "text", "link_description": "text",
    "display_format": "text", "copy_text": "text", "copy_hash": "text", "snapshot": "jsonb", "content_hash": "text",
}  # fmt: skip
_NAMES = ", ".join(_AD_COLUMNS)
_UPSERT_ADS = f"""
    INSERT INTO ads ({_NAMES})
    SELECT {_NAMES} FROM jsonb_to_recordset(%s) AS x({", ".join(f"{n} {t}" for n, t in _AD_COLUMNS.items())})
    ON CONFLICT (ad_archive_id) DO UPDATE SET
        {", ".join(f"{n} = EXCLUDED.{n}" for n in _AD_COLUMNS if n != "ad_archive_id")},
        last_seen_at = now()
    WHERE ads.content_hash IS DISTINCT FROM EXCLUDED.content_hash
    RETURNING ad_archive_id
"""
_SIGHTINGS = """
    INSERT INTO brand_ads (brand_slug, ad_archive_id, last_run_id, last_scrape_id, running)
    SELECT %(brand)s, s.ad_archive_id, %(run)s, %(scrape)s, s.running
    FROM jsonb_to_recordset(%(rows)s) AS s(ad_archive_id text, running boolean)
    ON CONFLICT (brand_slug, ad_archive_id) DO UPDATE SET
        last_seen_at = now(), last_run_id = EXCLUDED.last_run_id, running = EXCLUDED.running,
        times_seen = brand_ads.times_seen
            + CASE WHEN brand_ads.last_scrape_id IS NOT DISTINCT FROM EXCLUDED.last_scrape_id
                        AND EXCLUDED.last_scrape_id IS NOT NULL THEN 0 ELSE 1 END,
        last_scrape_id = EXCLUDED.last_scrape_id, no_longer_seen_at = NULL
    RETURNING ad_archive_id, (xmax = 0) AS inserted
"""


class AdRows(PostgresRows):
    async def begin_scrape(self, brand_slug: str, run_id: str | None, source: str) -> int:
        rows = await self._fetch(
            "INSERT INTO scrapes (brand_slug, run_id, source) VALUES (%s, %s, %s) RETURNING id",
            [brand_slug, run_id, source],
        )
        return rows[0]["id"]

    async def upsert_ads(
        self, brand_slug: str, ads: Sequence[AdRecord], run_id: str | None = None, *, scrape_id: int | None = None
    ) -> StoredAds:
        """Store what the source said (only changed ads are rewritten) and this sighting of each."""
        result = StoredAds()
        rows = dedupe((_ad_row(ad) for ad in ads), "ad_archive_id")
        for batch in batches(rows):
            ids = [row["ad_archive_id"] for row in batch]
            async with self._pool.connection() as conn, conn.transaction():
                cursor = await conn.execute(
                    "SELECT ad_archive_id, running, last_scrape_id, no_longer_seen_at FROM brand_ads "
                    "WHERE brand_slug = %s AND ad_archive_id = ANY(%s)",
                    [brand_slug, ids],
                )
                before = {row["ad_archive_id"]: row for row in await cursor.fetchall()}
                cursor = await conn.execute(_UPSERT_ADS, [json_rows(batch)])
                written = {row["ad_archive_id"] for row in await cursor.fetchall()}
                sightings = [{"ad_archive_id": row["ad_archive_id"], "running": row["running"]} for row in batch]
                cursor = await conn.execute(
                    _SIGHTINGS, {"brand": brand_slug, "run": run_id, "scrape": scrape_id, "rows": json_rows(sightings)}
                )
                inserted = {row["ad_archive_id"] for row in await cursor.fetchall() if row["inserted"]}
            for row in batch:
                _count_sighting(result, row, before.get(row["ad_archive_id"]), scrape_id, inserted, written)
        return result

    async def finish_scrape(self, brand_slug: str, scrape_id: int, *, complete: bool, seen: StoredAds) -> ScrapeChanges:
        """Close the scrape: after a complete one, ads of the brand it did not see stop running."""
        async with self._pool.connection() as conn, conn.transaction():
            gone_running = 0
            if complete:
                cursor = await conn.execute(
                    """
                    WITH gone AS (
                        SELECT ad_archive_id, running FROM brand_ads
                        WHERE brand_slug = %(brand)s AND no_longer_seen_at IS NULL
                          AND last_scrape_id IS DISTINCT FROM %(scrape)s
                        FOR UPDATE
                    )
                    UPDATE brand_ads b SET running = false, no_longer_seen_at = now()
                    FROM gone WHERE b.brand_slug = %(brand)s AND b.ad_archive_id = gone.ad_archive_id
                    RETURNING gone.running AS was_running
                    """,
                    {"brand": brand_slug, "scrape": scrape_id},
                )
                gone_running = sum(1 for row in await cursor.fetchall() if row["was_running"])
            cursor = await conn.execute(
                "SELECT max(id) AS id FROM scrapes WHERE brand_slug = %s AND id < %s", [brand_slug, scrape_id]
            )
            previous = (await cursor.fetchone())["id"]
            changes = ScrapeChanges(
                scrape_id=scrape_id,
                previous_scrape_id=previous,
                complete=complete,
                seen=len(seen.new) + len(seen.updated) + len(seen.unchanged),
                started=len(seen.started),
                stopped=len(seen.stopped) + gone_running,
                still_running=len(seen.still_running),
                no_longer_seen=gone_running,
            )
            await conn.execute(
                """
                UPDATE scrapes SET finished_at = now(), complete = %s, ads_seen = %s, ads_started = %s,
                    ads_stopped = %s, ads_running = %s
                WHERE id = %s
                """,
                [complete, changes.seen, changes.started, changes.stopped, changes.still_running, scrape_id],
            )
        return changes


def _count_sighting(
    result: StoredAds,
    row: dict[str, Any],
    before: dict[str, Any] | None,
    scrape_id: int | None,
    inserted: set[str],
    written: set[str],
) -> None:
    ad_id = row["ad_archive_id"]
    if ad_id in inserted:
        result.new.append(ad_id)
    elif ad_id in written:
        result.updated.append(ad_id)
    else:
        result.unchanged.append(ad_id)
    if before is not None and scrape_id is not None and before["last_scrape_id"] == scrape_id:
        return  # already counted earlier in this scrape
    was_running = bool(before and before["running"] and before["no_longer_seen_at"] is None)
    if row["running"] and not was_running:
        result.started.append(ad_id)
    elif was_running and not row["running"]:
        result.stopped.append(ad_id)
    elif was_running:
        result.still_running.append(ad_id)


def _ad_row(ad: AdRecord) -> dict[str, Any]:
    row = ad.model_dump(mode="json", exclude={"media"})
    row["copy_text"] = ad.copy_text
    row["copy_hash"] = ad.copy_hash
    row["content_hash"] = ad.content_hash
    row["running"] = is_running(ad)
    return row
