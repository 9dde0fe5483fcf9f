"""Single-table writes of a run: scrapes begun, paid source runs, and every model call's usage."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from postgrest.types import ReturnMethod

from brand_pipeline.store.models import ModelUsage
from brand_pipeline.store.supabase.base import SupabaseRows


class RunRows(SupabaseRows):
    async def begin_scrape(self, brand_slug: str, run_id: str | None, source: str) -> int:
        request = self._client.table("scrapes").insert(
            {"brand_slug": brand_slug, "run_id": run_id, "source": source}, returning=ReturnMethod.representation
        )
        [row] = (await self._execute(request, "begin_scrape")).data
        return row["id"]

    async def source_run(self, brand_slug: str, run_key: str) -> str | None:
        rows = await self._select(
            "source_runs",
            ("run_key",),
            lambda r: r.eq("brand_slug", brand_slug).eq("run_key", run_key),
            "run_key,external_run_id",
        )
        return rows[0]["external_run_id"] if rows else None

    async def finish_source_run(
        self, brand_slug: str, run_key: str, external_run_id: str, status: str, cost_usd: float, items: int
    ) -> None:
        """Record how a paid run ended; a run that was never recorded is an error, not a no-op."""
        await self._update_one(
            "source_runs",
            {"status": status, "cost_usd": cost_usd, "items": items, "finished_at": datetime.now(UTC).isoformat()},
            {"brand_slug": brand_slug, "run_key": run_key, "external_run_id": external_run_id},
            "finish_source_run",
        )

    async def record_model_usage(self, usage: Sequence[ModelUsage]) -> None:
        await self._insert("model_usage", [u.model_dump(mode="json") for u in usage])
