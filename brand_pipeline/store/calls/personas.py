"""Personas: the evidence a brand's synthesis reads, and storing a synthesis with its personas."""

from __future__ import annotations

from datetime import UTC, datetime

from brand_pipeline.domain.personas import EvidenceAd, PersonaSynthesis
from brand_pipeline.store.calls.base import Json
from brand_pipeline.store.calls.reports import ReportCalls
from brand_pipeline.store.rows import persona_rows, synthesis_row


class PersonaCalls(ReportCalls):  # reads the brand's latest sighting as the report does
    async def brand_evidence(
        self, brand_slug: str, *, video_version: str, image_version: str, copy_version: str
    ) -> list[EvidenceAd]:
        """Every ad of the brand with its copy's and creatives' analyses, longest-running first.

        Days run count to the brand's latest sighting (the scrape time), one moment for the whole
        read: a read in several pages measures every ad against it."""
        as_of = (await self.latest_scrape_at(brand_slug) or datetime.now(UTC)).isoformat()
        rows = await self._call_rows(
            "bp_brand_evidence",
            {
                "p_brand": brand_slug,
                "p_video_version": video_version,
                "p_image_version": image_version,
                "p_copy_version": copy_version,
                "p_as_of": as_of,
            },
            key=("ad_archive_id",),
        )
        ads = [EvidenceAd.model_validate(row | {"days_running": float(row["days_running"] or 0)}) for row in rows]
        return sorted(ads, key=lambda ad: (-ad.days_running, ad.ad_archive_id))

    async def save_persona_synthesis(self, synthesis: PersonaSynthesis) -> int:
        """The synthesis and its personas in one transaction; returns the synthesis id."""
        synthesis_id = await self._call_value(
            "bp_save_persona_synthesis",
            {"p_synthesis": Json(synthesis_row(synthesis)), "p_personas": Json(persona_rows(synthesis))},
        )
        return int(synthesis_id)
