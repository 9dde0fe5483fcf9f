"""``GeminiResource``: the model behind the semantic part of every analysis.

Configuration plus a factory: ``open()`` creates a google-genai client inside the calling
coroutine and closes it before returning. Without an API key it opens a ``SkippingAnalyser``:
exact analysis still runs, and every model step is recorded as skipped with the reason.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import dagster as dg
from pydantic import Field

from brand_pipeline.analysis.gemini_settings import GeminiSettings
from brand_pipeline.analysis.semantic import Analyser, SkippingAnalyser
from brand_pipeline.resources.config import SettingsCheck

NO_KEY_REASON = "GEMINI_API_KEY is not set, so no model analysis was run"


class GeminiResource(dg.ConfigurableResource, GeminiSettings, SettingsCheck):
    """``GeminiSettings`` (every tuning knob) plus the key and the endpoint."""

    api_key: str | None = Field(default=None, description="Gemini API key (from GEMINI_API_KEY).")
    base_url: str | None = Field(default=None, description="API endpoint override (proxies, tests).")

    @property
    def configured(self) -> bool:
        return bool(self.api_key)

    def settings(self) -> GeminiSettings:
        return GeminiSettings.model_validate(self.model_dump(include=set(GeminiSettings.model_fields)))

    @asynccontextmanager
    async def open(self) -> AsyncIterator[Analyser]:
        self.raise_if_misconfigured()
        if not self.api_key:
            yield SkippingAnalyser(NO_KEY_REASON)
            return
        from google import genai
        from google.genai import types

        from brand_pipeline.analysis.gemini import GeminiAnalyser
        from brand_pipeline.analysis.gemini_breaker import endpoint_label

        # The SDK's own deadline sits just past ours, so ours (which we classify) fires first.
        http_options = types.HttpOptions(base_url=self.base_url, timeout=int((self.timeout_s + 5) * 1000))
        client = genai.Client(api_key=self.api_key, http_options=http_options)
        try:
            yield GeminiAnalyser(
                client.aio, self.settings(), secret=self.api_key, endpoint=endpoint_label(self.base_url)
            )
        finally:
            await client.aio.aclose()
            client.close()
