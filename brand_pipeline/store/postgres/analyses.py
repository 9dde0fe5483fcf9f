"""Analyses: what is left to analyse for a brand, and the analysis rows of creatives and copy."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from brand_pipeline.domain.kinds import RETRYABLE_SEMANTIC, CreativeKind
from brand_pipeline.store.models import CopyAnalysis, CopyToAnalyse, CreativeAnalysis, CreativeToAnalyse
from brand_pipeline.store.postgres.base import PostgresRows, batches, dedupe, json_rows

# Columns every analysis row has besides its key (one table each for creatives and copy).
_ANALYSIS_COLUMNS = {
    "prompt_version": "text",
    "facts": "jsonb",
    "facts_status": "text",
    "facts_error": "text",
    "semantic": "jsonb",
    "semantic_status": "text",
    "semantic_reason": "text",
    "raw_reply": "text",
    "model": "text",
    "input_tokens": "integer",
    "output_tokens": "integer",
    "cost_usd": "numeric",
    "attempts": "integer",
    "ad_ids": "text[]",
    "run_id": "text",
}


class AnalysisRows(PostgresRows):
    async def creatives_to_analyse(
        self, brand_slug: str, kind: CreativeKind, prompt_version: str, *, retry_semantic: bool
    ) -> list[CreativeToAnalyse]:
        rows = await self._fetch(
            """
            WITH brand_creatives AS (
                SELECT c.sha256, c.kind, c.mime_type, c.size_bytes, c.blob_path,
                       array_agg(DISTINCT ac.ad_archive_id ORDER BY ac.ad_archive_id) AS ad_ids,
                       min(a.copy_text) FILTER (WHERE a.copy_text <> '') AS copy_text
                FROM brand_ads ba
                JOIN ads a ON a.ad_archive_id = ba.ad_archive_id
                JOIN ad_creatives ac ON ac.ad_archive_id = ba.ad_archive_id
                JOIN creatives c ON c.sha256 = ac.sha256
                WHERE ba.brand_slug = %(brand)s AND c.kind = %(kind)s
                GROUP BY c.sha256
            )
            SELECT bc.*, a.facts
            FROM brand_creatives bc
            LEFT JOIN creative_analyses a
              ON a.sha256 = bc.sha256 AND a.kind = bc.kind AND a.prompt_version = %(version)s
            WHERE a.sha256 IS NULL
               OR (%(retry)s AND a.facts_status = 'done' AND a.semantic_status = ANY(%(retryable)s))
            ORDER BY bc.sha256
            """,
            {
                "brand": brand_slug,
                "kind": kind,
                "version": prompt_version,
                "retry": retry_semantic,
                "retryable": list(RETRYABLE_SEMANTIC),
            },
        )
        return [CreativeToAnalyse.model_validate(row) for row in rows]

    async def count_creatives(self, brand_slug: str, kind: CreativeKind) -> int:
        rows = await self._fetch(
            """
            SELECT count(DISTINCT c.sha256) AS n FROM brand_ads ba
            JOIN ad_creatives ac ON ac.ad_archive_id = ba.ad_archive_id
            JOIN creatives c ON c.sha256 = ac.sha256
            WHERE ba.brand_slug = %s AND c.kind = %s
            """,
            [brand_slug, kind],
        )
        return rows[0]["n"]

    async def save_analyses(self, analyses: Sequence[CreativeAnalysis]) -> None:
        rows = dedupe((_analysis_row(a) for a in analyses), "sha256", "kind", "prompt_version")
        await self._upsert_analyses("creative_analyses", {"sha256": "text", "kind": "text"}, rows)

    async def copies_to_analyse(
        self, brand_slug: str, prompt_version: str, *, retry_semantic: bool
    ) -> list[CopyToAnalyse]:
        rows = await self._fetch(
            """
            WITH brand_copies AS (
                SELECT a.copy_hash, min(a.copy_text) AS copy_text,
                       array_agg(DISTINCT a.ad_archive_id ORDER BY a.ad_archive_id) AS ad_ids
                FROM brand_ads ba JOIN ads a ON a.ad_archive_id = ba.ad_archive_id
                WHERE ba.brand_slug = %(brand)s AND a.copy_hash IS NOT NULL
                GROUP BY a.copy_hash
            )
            SELECT bc.*, ca.facts
            FROM brand_copies bc
            LEFT JOIN copy_analyses ca ON ca.copy_hash = bc.copy_hash AND ca.prompt_version = %(version)s
            WHERE ca.copy_hash IS NULL
               OR (%(retry)s AND ca.facts_status = 'done' AND ca.semantic_status = ANY(%(retryable)s))
            ORDER BY bc.copy_hash
            """,
            {
                "brand": brand_slug,
                "version": prompt_version,
                "retry": retry_semantic,
                "retryable": list(RETRYABLE_SEMANTIC),
            },
        )
        return [CopyToAnalyse.model_validate(row) for row in rows]

    async def count_copies(self, brand_slug: str) -> int:
        rows = await self._fetch(
            """
            SELECT count(DISTINCT a.copy_hash) AS n
            FROM brand_ads ba JOIN ads a ON a.ad_archive_id = ba.ad_archive_id
            WHERE ba.brand_slug = %s AND a.copy_hash IS NOT NULL
            """,
            [brand_slug],
        )
        return rows[0]["n"]

    async def save_copy_analyses(self, analyses: Sequence[CopyAnalysis]) -> None:
        rows = dedupe((_analysis_row(a) for a in analyses), "copy_hash", "prompt_version")
        await self._upsert_analyses("copy_analyses", {"copy_hash": "text"}, rows, extra={"copy_text": "text"})

    async def _upsert_analyses(
        self, table: str, key: dict[str, str], rows: list[dict[str, Any]], *, extra: dict[str, str] | None = None
    ) -> None:
        """Creative and copy analyses share every column but their key (and the copy's text)."""
        typed = key | (extra or {}) | _ANALYSIS_COLUMNS
        columns = ", ".join(typed)
        query = f"""
            INSERT INTO {table} ({columns})
            SELECT {columns}
            FROM jsonb_to_recordset(%s) AS x({", ".join(f"{name} {kind}" for name, kind in typed.items())})
            ON CONFLICT ({", ".join(key)}, prompt_version) DO UPDATE SET
                facts = EXCLUDED.facts, facts_status = EXCLUDED.facts_status,
                facts_error = EXCLUDED.facts_error, semantic = EXCLUDED.semantic,
                semantic_status = EXCLUDED.semantic_status, semantic_reason = EXCLUDED.semantic_reason,
                raw_reply = EXCLUDED.raw_reply, model = EXCLUDED.model,
                input_tokens = {table}.input_tokens + EXCLUDED.input_tokens,
                output_tokens = {table}.output_tokens + EXCLUDED.output_tokens,
                cost_usd = {table}.cost_usd + EXCLUDED.cost_usd,
                attempts = {table}.attempts + EXCLUDED.attempts,
                ad_ids = ARRAY(SELECT DISTINCT unnest({table}.ad_ids || EXCLUDED.ad_ids) ORDER BY 1),
                run_id = EXCLUDED.run_id, updated_at = now()
        """
        async with self._pool.connection() as conn, conn.transaction():
            for batch in batches(rows):
                await conn.execute(query, [json_rows(batch)])


def _analysis_row(analysis: CreativeAnalysis | CopyAnalysis) -> dict[str, Any]:
    row = analysis.model_dump(mode="json", exclude={"semantic"})
    semantic = analysis.semantic
    row |= {
        "semantic": semantic.result,
        "semantic_status": semantic.status,
        "semantic_reason": semantic.reason,
        "raw_reply": semantic.raw_reply,
        "model": semantic.model,
        "input_tokens": semantic.input_tokens,
        "output_tokens": semantic.output_tokens,
        "cost_usd": semantic.cost_usd,
        "attempts": semantic.attempts,
    }
    return row
