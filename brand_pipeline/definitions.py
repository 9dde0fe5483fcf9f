"""The one place things are wired: assets, sensors, schedule and resources from the environment.

Secrets (``DATABASE_URL``, ``SUPABASE_SERVICE_ROLE_KEY``, ``GEMINI_API_KEY``) reach resources only
as ``dg.EnvVar``: the UI shows the variable's name, never its value. Every other scalar setting of
a resource can be set with an environment variable named after it: ``GEMINI_<FIELD>`` for
``GeminiResource`` (e.g. ``GEMINI_REQUESTS_PER_MINUTE``), ``BRAND_PIPELINE_<FIELD>`` for
``AdLibraryResource`` (e.g. ``BRAND_PIPELINE_SOURCE``) and ``SUPABASE_<FIELD>`` for
``SupabaseResource`` (e.g. ``SUPABASE_STORAGE_BUCKET``). See docs/configuration.md.
"""

from __future__ import annotations

import os

import dagster as dg

from brand_pipeline.assets import ALL_ASSETS
from brand_pipeline.checks import ALL_CHECKS
from brand_pipeline.resources.ad_library import AdLibraryResource
from brand_pipeline.resources.gemini import GeminiResource
from brand_pipeline.resources.supabase import KEY_ENV, URL_ENV, SupabaseResource, supabase_setting_errors
from brand_pipeline.schedules import daily_scrape, scrape_job
from brand_pipeline.sensors import brands_sensor, new_ads_sensor
from brand_pipeline.settings import pipeline_home, settings_from_env

SECRET_FIELDS = {"api_key", "database_url", "supabase_service_role_key"}
_NOT_FROM_ENV = SECRET_FIELDS | {"home", "setting_errors"}
# SupabaseResource fields read from SUPABASE_<FIELD>; the URL and key have names of their own.
_SUPABASE_NOT_FROM_ENV = _NOT_FROM_ENV | {"supabase_url", "blob_dir", "max_connections"}


def resources_from_env(*, strict: bool = False) -> dict[str, dg.ConfigurableResource]:
    """The resources as the environment configures them.

    A refused setting raises ``SettingError`` when ``strict`` (the CLI); otherwise it is recorded
    on its resource, whose ``open()`` then fails the step with the message (Dagster).
    """
    home = str(pipeline_home())
    database_url = dg.EnvVar("DATABASE_URL") if os.environ.get("DATABASE_URL") else None
    supabase_url = os.environ.get(URL_ENV) or None
    service_key = dg.EnvVar(KEY_ENV) if os.environ.get(KEY_ENV) else None
    api_key = dg.EnvVar("GEMINI_API_KEY") if os.environ.get("GEMINI_API_KEY") else None
    supabase, supabase_errors = settings_from_env(SupabaseResource, "SUPABASE_", skip=_SUPABASE_NOT_FROM_ENV)
    supabase_errors += supabase_setting_errors(supabase_url, os.environ.get(KEY_ENV) or None)
    gemini, gemini_errors = settings_from_env(GeminiResource, "GEMINI_", skip=_NOT_FROM_ENV)
    library, library_errors = settings_from_env(AdLibraryResource, "BRAND_PIPELINE_", skip=_NOT_FROM_ENV)
    if strict and (supabase_errors or gemini_errors or library_errors):
        raise (supabase_errors + gemini_errors + library_errors)[0]
    return {
        "supabase": SupabaseResource(
            database_url=database_url,
            supabase_url=supabase_url,
            supabase_service_role_key=service_key,
            home=home,
            setting_errors=[str(e) for e in supabase_errors],
            **supabase,
        ),
        "gemini": GeminiResource(api_key=api_key, setting_errors=[str(e) for e in gemini_errors], **gemini),
        "ad_library": AdLibraryResource(home=home, setting_errors=[str(e) for e in library_errors], **library),
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
