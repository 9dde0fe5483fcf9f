"""The model ("semantic") part of every analysis, behind one small port.

``Analyser`` is what the analysis code calls; ``GeminiResource.open()`` yields a Gemini-backed one
when a key is configured and a ``SkippingAnalyser`` otherwise, which records every model step as
skipped with the reason. Nothing here ever invents a result.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol

from brand_pipeline.analysis.versions import PROMPT_VERSIONS
from brand_pipeline.store.models import (
    CopyToAnalyse,
    CreativeToAnalyse,
    EvidenceAd,
    PersonaSynthesis,
    SemanticResult,
)


class Analyser(Protocol):
    @property
    def enabled(self) -> bool:
        """False when every call would be skipped; analysis then retries nothing."""
        ...

    async def analyse_creative(
        self, creative: CreativeToAnalyse, media: Path, facts: dict[str, Any]
    ) -> SemanticResult: ...

    async def analyse_copy(self, copy: CopyToAnalyse, facts: dict[str, Any]) -> SemanticResult: ...

    async def synthesise_personas(
        self, brand_slug: str, ads: list[EvidenceAd], summary: dict[str, Any]
    ) -> PersonaSynthesis: ...


class SkippingAnalyser:
    """Stands in for the model when none is configured, saying why on every item."""

    def __init__(self, reason: str) -> None:
        self.reason = reason

    @property
    def enabled(self) -> bool:
        return False

    async def analyse_creative(
        self, creative: CreativeToAnalyse, media: Path, facts: dict[str, Any]
    ) -> SemanticResult:
        return SemanticResult(status="skipped", reason=self.reason)

    async def analyse_copy(self, copy: CopyToAnalyse, facts: dict[str, Any]) -> SemanticResult:
        return SemanticResult(status="skipped", reason=self.reason)

    async def synthesise_personas(
        self, brand_slug: str, ads: list[EvidenceAd], summary: dict[str, Any]
    ) -> PersonaSynthesis:
        return PersonaSynthesis(
            brand_slug=brand_slug,
            prompt_version=PROMPT_VERSIONS["personas"],
            status="skipped",
            reason=self.reason,
            evidence=summary,
        )
