"""Dagster run tags the project reads: how a user (or the CLI) asks a run for more than usual."""

# "true": start a new paid source run even if this run (or the one it re-executes) has one.
FRESH_SCRAPE_TAG = "brand_pipeline/fresh_scrape"
# "true": synthesise personas anew (a paid call) even when their inputs are unchanged.
FRESH_PERSONAS_TAG = "brand_pipeline/fresh_personas"
