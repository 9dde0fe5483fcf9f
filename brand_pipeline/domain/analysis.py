"""What the model made of one item (a creative, a copy, a brand's evidence), however it ended."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from brand_pipeline.domain.kinds import SemanticStatus


class SemanticResult(BaseModel):
    """The model part of one analysis: its outcome, the validated result, and what it cost."""

    status: SemanticStatus
    reason: str | None = None
    result: dict[str, Any] | None = None
    raw_reply: str | None = None
    model: str | None = None
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0
    attempts: int = 0
