"""The model ("semantic") part of every analysis, behind one small port.

``Analyser`` is what the analysis code calls: three symmetric calls, each returning a
``SemanticResult`` however it ended. ``GeminiResource.open()`` yields a Gemini-backed one when a
key is configured and a ``SkippingAnalyser`` otherwise, which records every model step as skipped
with the reason. The project's own rules (which evidence is shown, which citations are kept) live
in the use cases, not in an adapter, so any model adapter gets them for free.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol

from brand_pipeline.domain.analysis import SemanticResult
from brand_pipeline.domain.kinds import PromptKind
from brand_pipeline.store.models import CopyToAnalyse, CreativeToAnalyse


class Analyser(Protocol):
    @property
    def enabled(self) -> bool:
        """False when every call would be skipped; analysis then retries nothing."""
        ...

    def model_for(self, kind: PromptKind) -> str | None:
        """The model that answers ``kind`` calls (None when no model is configured)."""
        ...

    @property
    def outage(self) -> str | None:
        """Why no call of this run can succeed (the model endpoint cannot be reached), or None.
        Once set, the calls fail at once and the step using them should stop and fail with it."""
        ...

    async def analyse_creative(
        self, creative: CreativeToAnalyse, media: Path, facts: dict[str, Any]
    ) -> SemanticResult: ...

    async def analyse_copy(self, copy: CopyToAnalyse, facts: dict[str, Any]) -> SemanticResult: ...

    async def synthesise_personas(self, brand_slug: str, summary: dict[str, Any], evidence: str) -> SemanticResult:
        """Personas for ``brand_slug`` from the evidence ``summary`` and the ``evidence`` text
        (the ads shown, one block each); the result follows the ``personas`` schema."""
        ...


class ModelUnreachable(RuntimeError):
    """The model endpoint cannot be reached: a fault of the run, not of one item (``Analyser.outage``)."""


class SkippingAnalyser:
    """Stands in for the model when none is configured, saying why on every item."""

    def __init__(self, reason: str) -> None:
        self.reason = reason

    @property
    def enabled(self) -> bool:
        return False

    def model_for(self, kind: PromptKind) -> str | None:
        return None

    @property
    def outage(self) -> str | None:
        return None

    async def analyse_creative(self, creative: CreativeToAnalyse, media: Path, facts: dict[str, Any]) -> SemanticResult:
        return SemanticResult(status="skipped", reason=self.reason)

    async def analyse_copy(self, copy: CopyToAnalyse, facts: dict[str, Any]) -> SemanticResult:
        return SemanticResult(status="skipped", reason=self.reason)

    async def synthesise_personas(self, brand_slug: str, summary: dict[str, Any], evidence: str) -> SemanticResult:
        return SemanticResult(status="skipped", reason=self.reason)
