"""Lineage: persona → ads → creatives and copy → analyses → runs, and a creative's uses."""

from __future__ import annotations

from typing import Literal

from brand_pipeline.store.models import (
    AdTrace,
    AnalysisTrace,
    Creative,
    CreativeLineage,
    CreativeShownBy,
    CreativeTrace,
    PersonaHeader,
    PersonaLineage,
)
from brand_pipeline.store.postgres.base import PostgresRows
from brand_pipeline.store.protocol import StoreError

# Analysis tables and the column that names their item.
_ANALYSED_BY = {"creative_analyses": "sha256", "copy_analyses": "copy_hash"}


class LineageRows(PostgresRows):
    async def persona_lineage(self, persona_id: int) -> PersonaLineage | None:
        """The persona, the ads it cites, their copy and creatives with every analysis, and the runs."""
        personas = await self._fetch(
            """
            SELECT p.id, p.name, p.brand_slug, p.evidence_ad_ids, p.run_id, p.created_at,
                   s.prompt_version, s.model, s.status
            FROM personas p JOIN persona_syntheses s ON s.id = p.synthesis_id WHERE p.id = %s
            """,
            [persona_id],
        )
        if not personas:
            return None
        persona = personas[0]
        ads = await self._lineage_ads(persona["brand_slug"], persona.pop("evidence_ad_ids"))
        return PersonaLineage(persona=PersonaHeader.model_validate(persona), ads=ads)

    async def creative_lineage(self, sha256_prefix: str) -> CreativeLineage | None:
        """The creative, its analyses, the ads (and brands) that show it, and personas citing it."""
        creatives = await self._fetch(
            "SELECT * FROM creatives WHERE sha256 LIKE %s ORDER BY sha256 LIMIT 2", [sha256_prefix.lower() + "%"]
        )
        if len(creatives) != 1:
            if creatives:
                raise StoreError(f"{sha256_prefix!r} matches more than one creative; give more characters")
            return None
        creative = Creative.model_validate(creatives[0])
        analyses = await self._analyses("creative_analyses", [creative.sha256])
        ads = await self._fetch(
            """
            SELECT ac.ad_archive_id, ac.slot, ac.run_id AS stored_in_run,
                   array_agg(ba.brand_slug ORDER BY ba.brand_slug) AS brands
            FROM ad_creatives ac JOIN brand_ads ba ON ba.ad_archive_id = ac.ad_archive_id
            WHERE ac.sha256 = %s GROUP BY ac.ad_archive_id, ac.slot, ac.run_id ORDER BY ac.ad_archive_id, ac.slot
            """,
            [creative.sha256],
        )
        personas = await self._fetch(
            "SELECT id, name, brand_slug, run_id FROM personas WHERE %s = ANY(evidence_creative_shas) ORDER BY id",
            [creative.sha256],
        )
        return CreativeLineage(
            creative=creative,
            analyses=analyses.get(creative.sha256, []),
            ads=[CreativeShownBy.model_validate(ad) for ad in ads],
            personas=[PersonaHeader.model_validate(p) for p in personas],
        )

    async def _lineage_ads(self, brand_slug: str, ad_ids: list[str]) -> list[AdTrace]:
        ads = await self._fetch(
            """
            SELECT a.ad_archive_id, a.display_format, a.start_date, a.end_date, a.copy_hash,
                   ba.last_run_id AS scraped_in_run
            FROM ads a JOIN brand_ads ba ON ba.ad_archive_id = a.ad_archive_id AND ba.brand_slug = %s
            WHERE a.ad_archive_id = ANY(%s) ORDER BY a.ad_archive_id
            """,
            [brand_slug, ad_ids],
        )
        links = await self._fetch(
            """
            SELECT ac.ad_archive_id, ac.slot, ac.sha256, ac.run_id AS stored_in_run, c.kind
            FROM ad_creatives ac JOIN creatives c ON c.sha256 = ac.sha256
            WHERE ac.ad_archive_id = ANY(%s) ORDER BY ac.ad_archive_id, ac.slot
            """,
            [ad_ids],
        )
        creative_analyses = await self._analyses("creative_analyses", [link["sha256"] for link in links])
        copy_analyses = await self._analyses("copy_analyses", [ad["copy_hash"] for ad in ads])
        creatives_by_ad: dict[str, list[CreativeTrace]] = {}
        for link in links:
            trace = CreativeTrace.model_validate(link | {"analyses": creative_analyses.get(link["sha256"], [])})
            creatives_by_ad.setdefault(link["ad_archive_id"], []).append(trace)
        return [
            AdTrace.model_validate(
                ad
                | {
                    "copy_analyses": copy_analyses.get(ad["copy_hash"], []),
                    "creatives": creatives_by_ad.get(ad["ad_archive_id"], []),
                }
            )
            for ad in ads
        ]

    async def _analyses(
        self, table: Literal["creative_analyses", "copy_analyses"], items: list[str]
    ) -> dict[str, list[AnalysisTrace]]:
        key = _ANALYSED_BY[table]
        rows = await self._fetch(
            f"""
            SELECT {key} AS item, prompt_version, model, facts_status, semantic_status, semantic_reason,
                   run_id, updated_at
            FROM {table} WHERE {key} = ANY(%s) ORDER BY updated_at
            """,
            [items],
        )
        grouped: dict[str, list[AnalysisTrace]] = {}
        for row in rows:
            grouped.setdefault(row.pop("item"), []).append(AnalysisTrace.model_validate(row))
        return grouped
