"""The one place things are wired: assets, sensors, schedule and resources from the environment.

Secrets reach resources only as ``dg.EnvVar`` (the UI shows the variable's name, never its value).
Which store or source to use is decided here, from which variables are set.
"""

from __future__ import annotations

import os

import dagster as dg

from brand_pipeline.assets import ALL_ASSETS
from brand_pipeline.resources.ad_library import AdLibraryResource
from brand_pipeline.resources.gemini import GeminiResource
from brand_pipeline.resources.supabase import SupabaseResource
from brand_pipeline.schedules import daily_scrape, scrape_job
from brand_pipeline.sensors import brands_sensor, new_ads_sensor
from brand_pipeline.settings import pipeline_home


def resources_from_env() -> dict[str, dg.ConfigurableResource]:
    home = str(pipeline_home())
    if os.environ.get("DATABASE_URL"):
        supabase = SupabaseResource(database_url=dg.EnvVar("DATABASE_URL"), home=home)
    else:
        supabase = SupabaseResource(home=home)
    gemini = GeminiResource(
        api_key=dg.EnvVar("GEMINI_API_KEY") if os.environ.get("GEMINI_API_KEY") else None,
        base_url=os.environ.get("GEMINI_BASE_URL") or None,
    )
    ad_library = AdLibraryResource(
        source=os.environ.get("BRAND_PIPELINE_SOURCE", "sample"),
        export_dir=os.environ.get("BRAND_PIPELINE_EXPORT_DIR"),
        home=home,
    )
    return {"supabase": supabase, "gemini": gemini, "ad_library": ad_library}


defs = dg.Definitions(
    assets=ALL_ASSETS,
    jobs=[scrape_job],
    sensors=[brands_sensor, new_ads_sensor],
    schedules=[daily_scrape],
    resources=resources_from_env(),
)
