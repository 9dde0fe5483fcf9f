"""What a marketer looks at: each brand's ads with their history and copy facts for its report,
and the new-ads alerts owed to a brand (kept until delivered)."""

from __future__ import annotations

from datetime import datetime

from brand_pipeline.store.models import PendingAlert, ReportAdRow
from brand_pipeline.store.postgres.base import PostgresRows


class ReportRows(PostgresRows):
    async def report_ads(self, brand_slug: str, copy_version: str) -> list[ReportAdRow]:
        """Every ad of the brand with its sighting history, its copy's facts and the model's angle,
        and the creatives it shows."""
        rows = await self._fetch(
            """
            SELECT a.ad_archive_id, a.display_format, ba.running AS is_active, a.start_date, a.end_date,
                   ba.first_seen_at, ba.last_seen_at, a.cta_text AS cta,
                   ca.facts ->> 'hook' AS hook,
                   COALESCE(ARRAY(SELECT jsonb_array_elements_text(ca.facts -> 'offers')), '{}') AS offers,
                   ca.semantic ->> 'angle' AS angle,
                   COALESCE((
                       SELECT jsonb_agg(jsonb_build_object('slot', ac.slot, 'kind', c.kind, 'sha256', c.sha256,
                                                           'blob_path', c.blob_path) ORDER BY ac.slot)
                       FROM ad_creatives ac JOIN creatives c ON c.sha256 = ac.sha256
                       WHERE ac.ad_archive_id = a.ad_archive_id), '[]') AS creatives
            FROM brand_ads ba
            JOIN ads a ON a.ad_archive_id = ba.ad_archive_id
            LEFT JOIN copy_analyses ca ON ca.copy_hash = a.copy_hash AND ca.prompt_version = %(copy)s
            WHERE ba.brand_slug = %(brand)s
            ORDER BY a.ad_archive_id
            """,
            {"brand": brand_slug, "copy": copy_version},
        )
        return [ReportAdRow.model_validate(row) for row in rows]

    async def latest_scrape_at(self, brand_slug: str) -> datetime | None:
        """When the brand's ads were last seen: the moment its report describes."""
        rows = await self._fetch("SELECT max(last_seen_at) AS at FROM brand_ads WHERE brand_slug = %s", [brand_slug])
        return rows[0]["at"]

    async def record_alert(self, brand_slug: str, scrape_id: int, ads_started: int, run_url: str | None) -> None:
        async with self._pool.connection() as conn:
            await conn.execute(
                "INSERT INTO alerts (brand_slug, scrape_id, ads_started, run_url) VALUES (%s, %s, %s, %s) "
                "ON CONFLICT (scrape_id) DO NOTHING",
                [brand_slug, scrape_id, ads_started, run_url],
            )

    async def pending_alerts(self, brand_slug: str) -> list[PendingAlert]:
        rows = await self._fetch(
            "SELECT id, brand_slug, scrape_id, ads_started, run_url, attempts FROM alerts "
            "WHERE brand_slug = %s AND status <> 'sent' ORDER BY id",
            [brand_slug],
        )
        return [PendingAlert.model_validate(row) for row in rows]

    async def finish_alert(self, alert_id: int, *, sent: bool, reason: str | None) -> None:
        async with self._pool.connection() as conn:
            await conn.execute(
                """
                UPDATE alerts SET status = CASE WHEN %(sent)s THEN 'sent' ELSE 'failed' END, reason = %(reason)s,
                    attempts = attempts + 1, sent_at = CASE WHEN %(sent)s THEN now() END
                WHERE id = %(id)s
                """,
                {"sent": sent, "reason": reason, "id": alert_id},
            )
