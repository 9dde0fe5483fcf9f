"""Single-table writes of a run: scrapes begun, paid source runs, and every model call's usage."""

from __future__ import annotations

from collections.abc import Sequence

from brand_pipeline.store.models import ModelUsage
from brand_pipeline.store.postgres.base import PostgresRows, json_rows
from brand_pipeline.store.protocol import RowMissing
from brand_pipeline.store.rows import batches


class RunRows(PostgresRows):
    async def begin_scrape(self, brand_slug: str, run_id: str | None, source: str) -> int:
        rows = await self._fetch(
            "INSERT INTO scrapes (brand_slug, run_id, source) VALUES (%s, %s, %s) RETURNING id",
            [brand_slug, run_id, source],
            what="begin_scrape",
        )
        return rows[0]["id"]

    async def source_run(self, brand_slug: str, run_key: str) -> str | None:
        rows = await self._fetch(
            "SELECT external_run_id FROM source_runs WHERE brand_slug = %s AND run_key = %s", [brand_slug, run_key]
        )
        return rows[0]["external_run_id"] if rows else None

    async def finish_source_run(
        self, brand_slug: str, run_key: str, external_run_id: str, status: str, cost_usd: float, items: int
    ) -> None:
        """Record how a paid run ended; a run that was never recorded is an error, not a no-op."""
        rows = await self._fetch(
            """
            UPDATE source_runs SET status = %s, cost_usd = %s, items = %s, finished_at = now()
            WHERE brand_slug = %s AND run_key = %s AND external_run_id = %s
            RETURNING run_key
            """,
            [status, cost_usd, items, brand_slug, run_key, external_run_id],
            what="finish_source_run",
        )
        if not rows:
            raise RowMissing(f"finish_source_run: no source run {run_key!r} ({external_run_id}) of brand {brand_slug}")

    async def record_model_usage(self, usage: Sequence[ModelUsage]) -> None:
        rows = [u.model_dump(mode="json") for u in usage]
        for batch in batches(rows):
            await self._fetch(
                """
                INSERT INTO model_usage (brand_slug, asset, run_id, model, item_key, status, input_tokens,
                                         output_tokens, cost_usd, attempts)
                SELECT brand_slug, asset, run_id, model, item_key, status, input_tokens, output_tokens,
                       cost_usd, attempts
                FROM jsonb_to_recordset(%s) AS x(brand_slug text, asset text, run_id text, model text,
                    item_key text, status text, input_tokens integer, output_tokens integer,
                    cost_usd numeric, attempts integer)
                """,
                [json_rows(list(batch))],
                what="record_model_usage",
            )
