"""A daily re-scrape of every brand, so new ads (and fresh media URLs) keep arriving."""

import dagster as dg

from brand_pipeline.assets import scraped_ads
from brand_pipeline.partitions import brands_partitions

scrape_job = dg.define_asset_job("scrape_all_brands", selection=[scraped_ads])

# Brands per run of the daily scrape (BRAND_PIPELINE_SCRAPE_BATCH_SIZE): one process, one store
# pool and one event loop for a hundred brands instead of a process each.
DAILY_SCRAPE_BATCH_SIZE = 100

# The tags Dagster itself puts on a run over a range of partitions (as a backfill launches it).
RANGE_START_TAG = "dagster/asset_partition_range_start"
RANGE_END_TAG = "dagster/asset_partition_range_end"


def daily_scrape_schedule(batch_size: int = DAILY_SCRAPE_BATCH_SIZE) -> dg.ScheduleDefinition:
    """The daily scrape, ``batch_size`` brands per run."""

    @dg.schedule(name="daily_scrape", cron_schedule="0 5 * * *", job=scrape_job, execution_timezone="UTC")
    def daily_scrape(context: dg.ScheduleEvaluationContext) -> list[dg.RunRequest] | dg.SkipReason:
        """One `scraped_ads` run per batch of consecutive brand partitions (each brand still its own
        partition), keyed by day and batch so a retried tick adds nothing."""
        brands = context.instance.get_dynamic_partitions(brands_partitions.name)
        if not brands:
            return dg.SkipReason("no brands yet: add one with `brand-pipeline brands add`")
        day = context.scheduled_execution_time.strftime("%Y-%m-%d")
        return [_batch_request(day, brands[i : i + batch_size]) for i in range(0, len(brands), batch_size)]

    return daily_scrape


def _batch_request(day: str, batch: list[str]) -> dg.RunRequest:
    if len(batch) == 1:  # a batch of one is the plain one-brand run
        return dg.RunRequest(partition_key=batch[0], run_key=f"daily-scrape:{day}:{batch[0]}")
    first, last = batch[0], batch[-1]
    # Dynamic partitions keep the order they were added in, so the range holds exactly this batch.
    return dg.RunRequest(
        run_key=f"daily-scrape:{day}:{first}..{last}", tags={RANGE_START_TAG: first, RANGE_END_TAG: last}
    )


daily_scrape = daily_scrape_schedule()
