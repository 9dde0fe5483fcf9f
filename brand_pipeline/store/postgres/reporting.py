"""Sensors and reporting: ads stored since a cursor, and what the store holds for a brand."""

from __future__ import annotations

from brand_pipeline.store.models import BrandSummary, NewAds
from brand_pipeline.store.postgres.base import PostgresRows


class ReportingRows(PostgresRows):
    async def new_ads_since(self, cursor: int) -> list[NewAds]:
        rows = await self._fetch(
            """
            SELECT ba.brand_slug, max(ba.stored_seq) AS newest_seq, count(*) AS count
            FROM brand_ads ba JOIN brands b ON b.slug = ba.brand_slug AND b.archived_at IS NULL
            WHERE ba.stored_seq > %s
            GROUP BY ba.brand_slug ORDER BY ba.brand_slug
            """,
            [cursor],
        )
        return [NewAds.model_validate(row) for row in rows]

    async def brand_summary(self, brand_slug: str) -> BrandSummary:
        rows = await self._fetch(
            """
            WITH brand_creatives AS (
                SELECT DISTINCT c.sha256, c.kind FROM brand_ads ba
                JOIN ad_creatives ac ON ac.ad_archive_id = ba.ad_archive_id
                JOIN creatives c ON c.sha256 = ac.sha256 WHERE ba.brand_slug = %(b)s
            ), brand_copies AS (
                SELECT DISTINCT a.copy_hash FROM brand_ads ba JOIN ads a USING (ad_archive_id)
                WHERE ba.brand_slug = %(b)s AND a.copy_hash IS NOT NULL
            )
            SELECT
              (SELECT count(*) FROM brand_ads WHERE brand_slug = %(b)s) AS ads,
              (SELECT count(*) FROM item_outcomes WHERE brand_slug = %(b)s AND asset = 'scraped_ads') AS bad_items,
              (SELECT count(*) FROM brand_creatives WHERE kind = 'video') AS videos,
              (SELECT count(*) FROM brand_creatives WHERE kind = 'image') AS images,
              (SELECT count(*) FROM brand_copies) AS copies,
              (SELECT count(DISTINCT an.sha256) FROM creative_analyses an JOIN brand_creatives bc USING (sha256, kind)
                 WHERE an.kind = 'video' AND an.facts_status = 'done') AS videos_analysed,
              (SELECT count(DISTINCT an.sha256) FROM creative_analyses an JOIN brand_creatives bc USING (sha256, kind)
                 WHERE an.kind = 'image' AND an.facts_status = 'done') AS images_analysed,
              (SELECT count(DISTINCT ca.copy_hash) FROM copy_analyses ca JOIN brand_copies USING (copy_hash)
                 WHERE ca.facts_status = 'done') AS copies_analysed,
              (SELECT count(DISTINCT ca.copy_hash) FROM copy_analyses ca JOIN brand_copies USING (copy_hash)
                 WHERE ca.facts_status = 'skipped') AS copies_skipped,
              (SELECT count(*) FROM personas WHERE synthesis_id =
                 (SELECT max(id) FROM persona_syntheses WHERE brand_slug = %(b)s)) AS personas
            """,
            {"b": brand_slug},
        )
        return BrandSummary.model_validate({key: int(value) for key, value in rows[0].items()})
