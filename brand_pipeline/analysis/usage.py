"""Every model call is money: each saved analysis row's usage is also recorded per brand and
asset (``model_usage``), so totals hold whatever the step did afterwards — failed or not."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import TypeVar

from brand_pipeline.store.models import CopyAnalysis, CreativeAnalysis, ModelUsage
from brand_pipeline.store.protocol import BrandStore

Row = TypeVar("Row", CreativeAnalysis, CopyAnalysis)


def saving_usage(
    store: BrandStore, save: Callable[[Sequence[Row]], Awaitable[None]], *, brand_slug: str, asset: str
) -> Callable[[Sequence[Row]], Awaitable[None]]:
    """``save`` that also records the usage of every row whose model part made a call."""

    async def save_rows(rows: Sequence[Row]) -> None:
        await save(rows)
        usage = [usage_of(row, brand_slug, asset) for row in rows if row.semantic.attempts and row.semantic.model]
        if usage:
            await store.record_model_usage(usage)

    return save_rows


def usage_of(row: CreativeAnalysis | CopyAnalysis, brand_slug: str, asset: str) -> ModelUsage:
    semantic = row.semantic
    return ModelUsage(
        brand_slug=brand_slug,
        asset=asset,
        run_id=row.run_id,
        model=semantic.model or "",
        item_key=row.sha256 if isinstance(row, CreativeAnalysis) else row.copy_hash,
        status=semantic.status,
        input_tokens=semantic.input_tokens,
        output_tokens=semantic.output_tokens,
        cost_usd=semantic.cost_usd,
        attempts=semantic.attempts,
    )
