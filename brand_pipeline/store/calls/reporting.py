"""Sensors, reporting and what was paid for: ads stored since a cursor, what the store holds for
a brand, paid source runs, and what model calls cost."""

from __future__ import annotations

from collections.abc import Sequence

from brand_pipeline.store.calls.base import FunctionCalls
from brand_pipeline.store.models import BrandSummary, ModelCost, NewAds


class ReportingCalls(FunctionCalls):
    async def new_ads_since(self, cursor: int) -> list[NewAds]:
        rows = await self._call_rows("bp_new_ads_since", {"p_cursor": cursor}, key=("brand_slug",))
        return [NewAds.model_validate(row) for row in rows]

    async def brand_summary(self, brand_slug: str) -> BrandSummary:
        row = await self._call_row("bp_brand_summary", {"p_brand": brand_slug})
        return BrandSummary.model_validate({key: int(value) for key, value in row.items()})

    async def record_source_run(
        self, brand_slug: str, run_key: str, source: str, external_run_id: str, dataset_id: str | None, tag: str
    ) -> None:
        await self._call_value(
            "bp_record_source_run",
            {
                "p_brand": brand_slug,
                "p_run_key": run_key,
                "p_source": source,
                "p_external_run_id": external_run_id,
                "p_dataset_id": dataset_id,
                "p_tag": tag,
            },
        )

    async def model_costs(
        self, brand_slug: str | None = None, *, run_ids: Sequence[str] | None = None
    ) -> list[ModelCost]:
        """Calls, tokens and cost per brand and model (optionally of one brand, or of some runs)."""
        rows = await self._call_rows(
            "bp_model_costs",
            {"p_brand": brand_slug, "p_run_ids": list(run_ids) if run_ids is not None else None},
            key=("brand_slug", "model"),
        )
        return [ModelCost.model_validate(row) for row in rows]
