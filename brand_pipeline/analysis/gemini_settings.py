"""Every setting of Gemini analysis, in one model: ``GeminiResource`` is this plus the key and
endpoint, and the analyser reads it as is. Each field can be set as ``GEMINI_<FIELD>``."""

from __future__ import annotations

from pydantic import BaseModel, Field

from brand_pipeline.domain.kinds import PromptKind

# Defaults current when written (Nov 2026); both are plain config, change them freely.
DEFAULT_MODELS: dict[PromptKind, str] = {
    "video": "gemini-3.8-flash",
    "image": "gemini-3.8-flash",
    "copy": "gemini-3.8-flash",
    "personas": "gemini-3.1-pro-preview",
}
# USD per million tokens (standard tier, prompts under 200k tokens). Used for cost estimates only.
DEFAULT_INPUT_PRICES = {"gemini-3.8-flash": 0.75, "gemini-3.1-pro-preview": 2.0, "gemini-3.5-flash": 1.5}
DEFAULT_OUTPUT_PRICES = {"gemini-3.8-flash": 3.75, "gemini-3.1-pro-preview": 12.0, "gemini-3.5-flash": 9.0}


class GeminiSettings(BaseModel):
    video_model: str = Field(default=DEFAULT_MODELS["video"])
    image_model: str = Field(default=DEFAULT_MODELS["image"])
    copy_model: str = Field(default=DEFAULT_MODELS["copy"])
    personas_model: str = Field(default=DEFAULT_MODELS["personas"])
    requests_per_minute: int = Field(default=60, ge=1, description="Token-bucket limit shared by a run's calls.")
    max_concurrency: int = Field(default=8, ge=1, description="Model calls in flight at once in a run.")
    timeout_s: float = Field(default=180.0, gt=0, description="Deadline of one model call.")
    max_inline_bytes: int = Field(
        default=15 * 1024 * 1024, ge=0, description="Media up to this size go inline; larger via the Files API."
    )
    max_attempts: int = Field(default=5, ge=1, description="Attempts per call on 429, 5xx and timeouts.")
    max_connect_failures: int = Field(
        default=3,
        ge=1,
        description="Connection failures in a row (refused, host not resolved) after which a run stops calling "
        "the endpoint and fails.",
    )
    backoff_initial_s: float = Field(default=2.0, ge=0)
    backoff_max_s: float = Field(default=60.0, ge=0)
    max_output_tokens: int = Field(default=8192, ge=256, description="Doubled once for a reply that was cut off.")
    file_active_timeout_s: float = Field(default=300.0, gt=0, description="Longest wait for an upload to be ACTIVE.")
    file_poll_interval_s: float = Field(default=2.0, gt=0)
    max_evidence_ads: int = Field(default=80, ge=1, description="Longest-running ads shown to persona synthesis.")
    max_failed_share: float = Field(
        default=0.2, ge=0, le=1, description="An analysis step fails only if more than this share of its items failed."
    )
    input_usd_per_million_tokens: dict[str, float] = Field(default=DEFAULT_INPUT_PRICES)
    output_usd_per_million_tokens: dict[str, float] = Field(default=DEFAULT_OUTPUT_PRICES)

    @property
    def models(self) -> dict[PromptKind, str]:
        return {
            "video": self.video_model,
            "image": self.image_model,
            "copy": self.copy_model,
            "personas": self.personas_model,
        }

    def cost(self, model: str, input_tokens: int, output_tokens: int) -> float:
        return round(
            input_tokens / 1e6 * self.input_usd_per_million_tokens.get(model, 0.0)
            + output_tokens / 1e6 * self.output_usd_per_million_tokens.get(model, 0.0),
            6,
        )
