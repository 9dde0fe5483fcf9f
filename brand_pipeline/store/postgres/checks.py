"""Integrity queries the asset checks run. Each is one indexed query per brand."""

from __future__ import annotations

from brand_pipeline.domain.kinds import AnalysisKind
from brand_pipeline.store.models import Creative, DanglingAnalysis
from brand_pipeline.store.postgres.base import PostgresRows

_MEDIA_KEYS = "ARRAY['images', 'videos', 'cards', 'extra_images', 'extra_videos']"


class CheckRows(PostgresRows):
    async def brand_creatives(self, brand_slug: str) -> list[Creative]:
        rows = await self._fetch(
            """
            SELECT DISTINCT c.sha256, c.kind, c.mime_type, c.size_bytes, c.blob_path
            FROM brand_ads ba JOIN ad_creatives ac ON ac.ad_archive_id = ba.ad_archive_id
            JOIN creatives c ON c.sha256 = ac.sha256 WHERE ba.brand_slug = %s ORDER BY c.sha256
            """,
            [brand_slug],
        )
        return [Creative.model_validate(row) for row in rows]

    async def ads_missing_creatives(self, brand_slug: str) -> list[str]:
        """Ads whose snapshot shows media but that have neither a stored creative nor a recorded
        reason (a media outcome) for lacking one."""
        rows = await self._fetch(
            f"""
            SELECT a.ad_archive_id FROM brand_ads ba JOIN ads a ON a.ad_archive_id = ba.ad_archive_id
            WHERE ba.brand_slug = %(brand)s
              AND EXISTS (
                  SELECT 1 FROM unnest({_MEDIA_KEYS}) AS k
                  WHERE jsonb_typeof(a.snapshot -> k) = 'array' AND jsonb_array_length(a.snapshot -> k) > 0)
              AND NOT EXISTS (SELECT 1 FROM ad_creatives ac WHERE ac.ad_archive_id = a.ad_archive_id)
              AND NOT EXISTS (
                  SELECT 1 FROM item_outcomes o
                  WHERE o.brand_slug = %(brand)s AND o.asset = 'scraped_ads' AND o.kind = 'media'
                    AND o.ad_archive_id = a.ad_archive_id)
            ORDER BY a.ad_archive_id
            """,
            {"brand": brand_slug},
        )
        return [row["ad_archive_id"] for row in rows]

    async def dangling_analyses(self, brand_slug: str, kind: AnalysisKind) -> list[DanglingAnalysis]:
        """Analysis rows of this brand's items that name a creative or an ad that does not exist."""
        if kind == "copy":
            query = """
                SELECT ca.copy_hash AS item, missing.ad_id FROM copy_analyses ca
                CROSS JOIN LATERAL unnest(ca.ad_ids) AS missing(ad_id)
                WHERE ca.copy_hash IN (SELECT a.copy_hash FROM brand_ads ba JOIN ads a USING (ad_archive_id)
                                       WHERE ba.brand_slug = %(brand)s)
                  AND NOT EXISTS (SELECT 1 FROM ads WHERE ads.ad_archive_id = missing.ad_id)
            """
        else:
            query = """
                SELECT an.sha256 AS item, missing.ad_id FROM creative_analyses an
                CROSS JOIN LATERAL unnest(an.ad_ids || ARRAY[NULL::text]) AS missing(ad_id)
                WHERE an.kind = %(kind)s
                  AND an.sha256 IN (SELECT ac.sha256 FROM brand_ads ba JOIN ad_creatives ac USING (ad_archive_id)
                                    WHERE ba.brand_slug = %(brand)s)
                  AND (NOT EXISTS (SELECT 1 FROM creatives c WHERE c.sha256 = an.sha256)
                       OR (missing.ad_id IS NOT NULL
                           AND NOT EXISTS (SELECT 1 FROM ads WHERE ads.ad_archive_id = missing.ad_id)))
            """
        rows = await self._fetch(query, {"brand": brand_slug, "kind": kind})
        return [DanglingAnalysis.model_validate(row) for row in rows]
