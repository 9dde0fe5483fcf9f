-- Row-level lineage for scraping: which run last saw an ad for a brand, and which run stored a
-- creative link, so a persona can be traced back to the scrape that brought its evidence in.
ALTER TABLE brand_ads ADD COLUMN last_run_id text;
ALTER TABLE ad_creatives ADD COLUMN run_id text;
