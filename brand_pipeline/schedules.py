"""A daily re-scrape of every brand, so new ads (and fresh media URLs) keep arriving."""

import dagster as dg

from brand_pipeline.assets import scraped_ads
from brand_pipeline.partitions import brands_partitions

scrape_job = dg.define_asset_job("scrape_all_brands", selection=[scraped_ads])


@dg.schedule(cron_schedule="0 5 * * *", job=scrape_job, execution_timezone="UTC")
def daily_scrape(context: dg.ScheduleEvaluationContext) -> list[dg.RunRequest] | dg.SkipReason:
    """One `scraped_ads` run per brand partition, keyed by day so a retried tick adds nothing."""
    brands = context.instance.get_dynamic_partitions(brands_partitions.name)
    if not brands:
        return dg.SkipReason("no brands yet: add one with `brand-pipeline brands add`")
    day = context.scheduled_execution_time.strftime("%Y-%m-%d")
    return [dg.RunRequest(partition_key=slug, run_key=f"daily-scrape:{day}:{slug}") for slug in brands]
