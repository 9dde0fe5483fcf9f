"""Integrity queries the asset checks run, one function each."""

from __future__ import annotations

from brand_pipeline.domain.kinds import AnalysisKind
from brand_pipeline.store.calls.base import FunctionCalls
from brand_pipeline.store.models import Creative, DanglingAnalysis


class CheckCalls(FunctionCalls):
    async def brand_creatives(self, brand_slug: str) -> list[Creative]:
        rows = await self._call_rows("bp_brand_creatives", {"p_brand": brand_slug}, key=("sha256",))
        return [Creative.model_validate(row) for row in rows]

    async def ads_missing_creatives(self, brand_slug: str) -> list[str]:
        """Ads whose snapshot shows media but that have neither a stored creative nor a recorded
        reason (a media outcome) for lacking one."""
        rows = await self._call_rows("bp_ads_missing_creatives", {"p_brand": brand_slug}, key=("ad_archive_id",))
        return [row["ad_archive_id"] for row in rows]

    async def dangling_analyses(self, brand_slug: str, kind: AnalysisKind) -> list[DanglingAnalysis]:
        """Analysis rows of this brand's items that name a creative or an ad that does not exist
        (``ad_id`` None: the creative itself is missing)."""
        rows = await self._call_rows("bp_dangling_analyses", {"p_brand": brand_slug, "p_kind": kind}, key=("item",))
        return [DanglingAnalysis(item=row["item"], ad_id=ad_id) for row in rows for ad_id in row["ad_ids"]]
