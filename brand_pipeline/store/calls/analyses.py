"""Analyses: what is left to analyse for a brand, and the analysis rows of creatives and copy."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from brand_pipeline.domain.kinds import RETRYABLE_SEMANTIC, CreativeKind
from brand_pipeline.store.calls.base import Arguments, FunctionCalls, Json
from brand_pipeline.store.models import CopyAnalysis, CopyToAnalyse, CreativeAnalysis, CreativeToAnalyse
from brand_pipeline.store.rows import analysis_row, batches, dedupe


class AnalysisCalls(FunctionCalls):
    async def _to_analyse(
        self, function: str, subject: Arguments, prompt_version: str, retry_semantic: bool, key: str
    ) -> list[dict[str, Any]]:
        """The rows of one of the ``bp_*_to_analyse`` functions: ``subject`` names what is analysed
        (the brand, and the kind of creative); the version and the retry rule are passed alike."""
        args = {
            **subject,
            "p_prompt_version": prompt_version,
            "p_retry_semantic": retry_semantic,
            "p_retryable": list(RETRYABLE_SEMANTIC),
        }
        return await self._call_rows(function, args, key=(key,))

    async def creatives_to_analyse(
        self, brand_slug: str, kind: CreativeKind, prompt_version: str, *, retry_semantic: bool
    ) -> list[CreativeToAnalyse]:
        rows = await self._to_analyse(
            "bp_creatives_to_analyse", {"p_brand": brand_slug, "p_kind": kind}, prompt_version, retry_semantic, "sha256"
        )
        return [CreativeToAnalyse.model_validate(row) for row in rows]

    async def count_creatives(self, brand_slug: str, kind: CreativeKind) -> int:
        return int(await self._call_value("bp_count_creatives", {"p_brand": brand_slug, "p_kind": kind}))

    async def save_analyses(self, analyses: Sequence[CreativeAnalysis]) -> None:
        rows = dedupe((analysis_row(a) for a in analyses), "sha256", "kind", "prompt_version")
        for batch in batches(rows):
            await self._call_value("bp_save_creative_analyses", {"p_analyses": Json(list(batch))})

    async def copies_to_analyse(
        self, brand_slug: str, prompt_version: str, *, retry_semantic: bool
    ) -> list[CopyToAnalyse]:
        rows = await self._to_analyse(
            "bp_copies_to_analyse", {"p_brand": brand_slug}, prompt_version, retry_semantic, "copy_hash"
        )
        return [CopyToAnalyse.model_validate(row) for row in rows]

    async def count_copies(self, brand_slug: str) -> int:
        return int(await self._call_value("bp_count_copies", {"p_brand": brand_slug}))

    async def save_copy_analyses(self, analyses: Sequence[CopyAnalysis]) -> None:
        rows = dedupe((analysis_row(a) for a in analyses), "copy_hash", "prompt_version")
        for batch in batches(rows):
            await self._call_value("bp_save_copy_analyses", {"p_analyses": Json(list(batch))})
