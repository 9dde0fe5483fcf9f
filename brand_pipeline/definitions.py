"""The one place things are wired: assets, sensors, schedule and resources from the environment.

Secrets (``DATABASE_URL``, ``GEMINI_API_KEY``) reach resources only as ``dg.EnvVar``: the UI shows
the variable's name, never its value. Every other scalar setting of a resource can be set with an
environment variable named after it: ``GEMINI_<FIELD>`` for ``GeminiResource`` (e.g.
``GEMINI_REQUESTS_PER_MINUTE``) and ``BRAND_PIPELINE_<FIELD>`` for ``AdLibraryResource`` (e.g.
``BRAND_PIPELINE_SOURCE``). See docs/configuration.md.
"""

from __future__ import annotations

import os
from typing import Any

import dagster as dg

from brand_pipeline.assets import ALL_ASSETS
from brand_pipeline.checks import ALL_CHECKS
from brand_pipeline.resources.ad_library import AdLibraryResource
from brand_pipeline.resources.gemini import GeminiResource
from brand_pipeline.resources.supabase import SupabaseResource
from brand_pipeline.schedules import daily_scrape, scrape_job
from brand_pipeline.sensors import brands_sensor, new_ads_sensor
from brand_pipeline.settings import pipeline_home

SECRET_FIELDS = {"api_key", "database_url"}


def settings_from_env(resource: type[dg.ConfigurableResource], prefix: str) -> dict[str, Any]:
    """``{field: value}`` for each non-secret field whose ``<PREFIX><FIELD>`` variable is set."""
    settings: dict[str, Any] = {}
    for name, field in resource.model_fields.items():
        value = os.environ.get(f"{prefix}{name.upper()}")
        if value is None or name in SECRET_FIELDS or name == "home":
            continue
        if field.annotation == list[str]:
            settings[name] = [item.strip() for item in value.split(",") if item.strip()]
        elif field.annotation is bool:
            settings[name] = value.strip().lower() in ("1", "true", "yes", "on")
        else:
            settings[name] = value  # pydantic converts to the field's type, or says why not
    return settings


def resources_from_env() -> dict[str, dg.ConfigurableResource]:
    home = str(pipeline_home())
    database_url = dg.EnvVar("DATABASE_URL") if os.environ.get("DATABASE_URL") else None
    api_key = dg.EnvVar("GEMINI_API_KEY") if os.environ.get("GEMINI_API_KEY") else None
    return {
        "supabase": SupabaseResource(database_url=database_url, home=home),
        "gemini": GeminiResource(api_key=api_key, **settings_from_env(GeminiResource, "GEMINI_")),
        "ad_library": AdLibraryResource(home=home, **settings_from_env(AdLibraryResource, "BRAND_PIPELINE_")),
    }


defs = dg.Definitions(
    assets=ALL_ASSETS,
    asset_checks=ALL_CHECKS,
    jobs=[scrape_job],
    sensors=[brands_sensor, new_ads_sensor],
    schedules=[daily_scrape],
    resources=resources_from_env(),
    # A run's steps share one process and one event loop: no per-step process start-up, and the
    # Gemini limiter is shared by all of a run's calls. Parallelism comes from runs (one per brand)
    # under the `gemini` pool; on Kubernetes the K8sRunLauncher gives each run its own pod.
    executor=dg.in_process_executor,
)
