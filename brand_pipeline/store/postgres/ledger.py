"""What was paid for: the source runs each scrape started, and every model call's usage."""

from __future__ import annotations

from collections.abc import Sequence

from brand_pipeline.store.models import ModelCost, ModelUsage
from brand_pipeline.store.postgres.base import PostgresRows, batches, json_rows


class LedgerRows(PostgresRows):
    async def source_run(self, brand_slug: str, run_key: str) -> str | None:
        rows = await self._fetch(
            "SELECT external_run_id FROM source_runs WHERE brand_slug = %s AND run_key = %s", [brand_slug, run_key]
        )
        return rows[0]["external_run_id"] if rows else None

    async def record_source_run(
        self, brand_slug: str, run_key: str, source: str, external_run_id: str, dataset_id: str | None, tag: str
    ) -> None:
        async with self._pool.connection() as conn:
            await conn.execute(
                """
                INSERT INTO source_runs (brand_slug, run_key, source, external_run_id, dataset_id, tag)
                VALUES (%s, %s, %s, %s, %s, %s)
                ON CONFLICT (brand_slug, run_key) DO UPDATE SET
                    source = EXCLUDED.source, external_run_id = EXCLUDED.external_run_id,
                    dataset_id = EXCLUDED.dataset_id, tag = EXCLUDED.tag, status = 'STARTED',
                    started_at = now(), finished_at = NULL
                """,
                [brand_slug, run_key, source, external_run_id, dataset_id, tag],
            )

    async def finish_source_run(
        self, brand_slug: str, run_key: str, external_run_id: str, status: str, cost_usd: float, items: int
    ) -> None:
        async with self._pool.connection() as conn:
            await conn.execute(
                """
                UPDATE source_runs SET status = %s, cost_usd = %s, items = %s, finished_at = now()
                WHERE brand_slug = %s AND run_key = %s AND external_run_id = %s
                """,
                [status, cost_usd, items, brand_slug, run_key, external_run_id],
            )

    async def record_model_usage(self, usage: Sequence[ModelUsage]) -> None:
        rows = [u.model_dump(mode="json") for u in usage]
        async with self._pool.connection() as conn, conn.transaction():
            for batch in batches(rows):
                await conn.execute(
                    """
                    INSERT INTO model_usage (brand_slug, asset, run_id, model, item_key, status, input_tokens,
                                             output_tokens, cost_usd, attempts)
                    SELECT brand_slug, asset, run_id, model, item_key, status, input_tokens, output_tokens,
                           cost_usd, attempts
                    FROM jsonb_to_recordset(%s) AS x(brand_slug text, asset text, run_id text, model text,
                        item_key text, status text, input_tokens integer, output_tokens integer,
                        cost_usd numeric, attempts integer)
                    """,
                    [json_rows(batch)],
                )

    async def model_costs(
        self, brand_slug: str | None = None, *, run_ids: Sequence[str] | None = None
    ) -> list[ModelCost]:
        """Calls, tokens and cost per brand and model (optionally of one brand, or of some runs)."""
        rows = await self._fetch(
            """
            SELECT brand_slug, model, count(*) AS calls, sum(attempts) AS attempts,
                   sum(input_tokens) AS input_tokens, sum(output_tokens) AS output_tokens,
                   sum(cost_usd)::float AS cost_usd
            FROM model_usage
            WHERE (%(brand)s::text IS NULL OR brand_slug = %(brand)s)
              AND (%(runs)s::text[] IS NULL OR run_id = ANY(%(runs)s))
            GROUP BY brand_slug, model ORDER BY brand_slug, model
            """,
            {"brand": brand_slug, "runs": list(run_ids) if run_ids is not None else None},
        )
        return [ModelCost.model_validate(row) for row in rows]
