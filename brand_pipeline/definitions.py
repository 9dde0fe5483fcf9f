"""The one place things are wired: assets, sensors, schedule and resources from the environment.

Secrets (``DATABASE_URL``, ``SUPABASE_SERVICE_ROLE_KEY``, ``GEMINI_API_KEY``, ``APIFY_TOKEN``,
``META_ACCESS_TOKEN``, ``BRAND_PIPELINE_ALERT_WEBHOOK_URL``) reach resources only as ``dg.EnvVar``:
the UI shows the variable's name, never its value. Every other
setting of a resource can be set with an environment variable named after it: ``GEMINI_<FIELD>``
for ``GeminiResource`` (e.g. ``GEMINI_REQUESTS_PER_MINUTE``), ``BRAND_PIPELINE_<FIELD>`` for
``AdLibraryResource`` (e.g. ``BRAND_PIPELINE_SOURCE``), ``BRAND_PIPELINE_APIFY_<FIELD>`` and
``BRAND_PIPELINE_META_<FIELD>`` for its sources, ``SUPABASE_<FIELD>`` for ``SupabaseResource``
(e.g. ``SUPABASE_STORAGE_BUCKET``). See docs/configuration.md.
"""

from __future__ import annotations

import os

import dagster as dg
from pydantic import BaseModel, Field

from brand_pipeline.assets import BRAND_ASSETS, brand_comparison, scraped_ads
from brand_pipeline.checks import ALL_CHECKS
from brand_pipeline.resources.ad_library import AdLibraryResource, ApifyConfig, MetaConfig
from brand_pipeline.resources.gemini import GeminiResource
from brand_pipeline.resources.reports import ReportsResource
from brand_pipeline.resources.supabase import KEY_ENV, URL_ENV, SupabaseResource, supabase_setting_errors
from brand_pipeline.schedules import DAILY_SCRAPE_BATCH_SIZE, daily_scrape_schedule, scrape_job
from brand_pipeline.sensors import brands_sensor, new_ads_sensor
from brand_pipeline.settings import SettingError, pipeline_home, settings_from_env

SECRET_FIELDS = {
    "api_key", "database_url", "apify_token", "meta_access_token", "alert_webhook_url", "supabase_service_role_key"
}  # fmt: skip
_NOT_FROM_ENV = SECRET_FIELDS | {"home", "setting_errors", "apify", "meta"}
# SupabaseResource fields read from SUPABASE_<FIELD>; the URL and key have names of their own.
_SUPABASE_NOT_FROM_ENV = _NOT_FROM_ENV | {"supabase_url", "blob_dir", "max_connections"}


class ScrapeBatching(BaseModel):
    scrape_batch_size: int = Field(
        default=DAILY_SCRAPE_BATCH_SIZE, ge=1, le=1000, description="Brands per `scraped_ads` run of the daily scrape."
    )
    # Off by default: Dagster runs a backfill that mixes a batched scrape with the per-brand assets
    # as one scrape run followed by the per-brand runs one after another.
    batch_scrape_backfills: bool = Field(
        default=False, description="Backfills of `scraped_ads` alone run in batches of scrape_batch_size too."
    )


def scrape_batching_from_env() -> tuple[ScrapeBatching, list[SettingError]]:
    """``BRAND_PIPELINE_SCRAPE_BATCH_SIZE`` and ``BRAND_PIPELINE_BATCH_SCRAPE_BACKFILLS``; a refused
    value keeps the default (and is reported)."""
    values, errors = settings_from_env(ScrapeBatching, "BRAND_PIPELINE_")
    return ScrapeBatching(**values), errors


def scrape_asset(batching: ScrapeBatching) -> dg.AssetsDefinition:
    """``scraped_ads`` as deployed: with a backfill policy of batches only when asked for. The daily
    scrape's runs over ranges of brands need none (a policy only tells backfills how to split)."""
    if batching.batch_scrape_backfills and batching.scrape_batch_size > 1:
        return scraped_ads.with_attributes(backfill_policy=dg.BackfillPolicy.multi_run(batching.scrape_batch_size))
    return scraped_ads


def _secret(variable: str) -> dg.EnvVar | None:
    """A secret reaches a resource only as a reference: the UI shows the name, never the value."""
    return dg.EnvVar(variable) if os.environ.get(variable) else None


def resources_from_env(*, strict: bool = False) -> dict[str, dg.ConfigurableResource]:
    """The resources as the environment configures them.

    A refused setting raises ``SettingError`` when ``strict`` (the CLI); otherwise it is recorded
    on its resource, whose ``open()`` then fails the step with the message (Dagster).
    """
    home = str(pipeline_home())
    database_url = _secret("DATABASE_URL")
    supabase_url = os.environ.get(URL_ENV) or None
    service_key = _secret(KEY_ENV)
    supabase, supabase_errors = settings_from_env(SupabaseResource, "SUPABASE_", skip=_SUPABASE_NOT_FROM_ENV)
    supabase_errors += supabase_setting_errors(supabase_url, os.environ.get(KEY_ENV) or None)
    api_key = _secret("GEMINI_API_KEY")
    gemini, gemini_errors = settings_from_env(GeminiResource, "GEMINI_", skip=_NOT_FROM_ENV)
    library, library_errors = settings_from_env(AdLibraryResource, "BRAND_PIPELINE_", skip=_NOT_FROM_ENV)
    apify, apify_errors = settings_from_env(ApifyConfig, "BRAND_PIPELINE_APIFY_")
    meta, meta_errors = settings_from_env(MetaConfig, "BRAND_PIPELINE_META_")
    library_errors += apify_errors + meta_errors + scrape_batching_from_env()[1]
    reports, report_errors = settings_from_env(ReportsResource, "BRAND_PIPELINE_", skip=_NOT_FROM_ENV)
    refused = supabase_errors + gemini_errors + library_errors + report_errors
    if strict and refused:
        raise refused[0]
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
        "ad_library": AdLibraryResource(
            home=home,
            apify_token=_secret("APIFY_TOKEN"),
            meta_access_token=_secret("META_ACCESS_TOKEN"),
            apify=ApifyConfig(**apify),
            meta=MetaConfig(**meta),
            setting_errors=[str(e) for e in library_errors],
            **library,
        ),
        "reports": ReportsResource(
            home=home,
            alert_webhook_url=_secret("BRAND_PIPELINE_ALERT_WEBHOOK_URL"),
            setting_errors=[str(e) for e in report_errors],
            **reports,
        ),
    }


# The daily scrape runs this many brands per run: one process, one store pool and one event loop
# for the batch, each brand still its own partition.
_batching = scrape_batching_from_env()[0]
_batch_size = _batching.scrape_batch_size
_batched_scrape = scrape_asset(_batching)

defs = dg.Definitions(
    assets=[_batched_scrape, *(a for a in BRAND_ASSETS if a is not scraped_ads), brand_comparison],
    asset_checks=ALL_CHECKS,
    jobs=[scrape_job],
    sensors=[brands_sensor, new_ads_sensor],
    schedules=[daily_scrape_schedule(_batch_size)],
    resources=resources_from_env(),
    # A run's steps share one process and one event loop: no per-step process start-up, and the
    # Gemini limiter is shared by all of a run's calls. Parallelism comes from runs (one per brand)
    # under the `gemini` pool; on Kubernetes the K8sRunLauncher gives each run its own pod.
    executor=dg.in_process_executor,
)
