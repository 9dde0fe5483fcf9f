-- Ads over time, the paid source runs of each scrape, what every model call cost, and personas
-- keyed by their inputs.

-- Every scrape of a brand: when, by which run, from which source, and what changed.
CREATE TABLE scrapes (
    id            bigserial PRIMARY KEY,
    brand_slug    text NOT NULL REFERENCES brands (slug),
    run_id        text,
    source        text NOT NULL,
    started_at    timestamptz NOT NULL DEFAULT now(),
    finished_at   timestamptz,
    complete      boolean NOT NULL DEFAULT false,
    ads_seen      integer NOT NULL DEFAULT 0,
    ads_started   integer NOT NULL DEFAULT 0,
    ads_stopped   integer NOT NULL DEFAULT 0,
    ads_running   integer NOT NULL DEFAULT 0
);
CREATE INDEX scrapes_brand ON scrapes (brand_slug, id DESC);

-- Per brand and ad: how often and until when it was seen, and whether it ran at the last sighting.
ALTER TABLE brand_ads ADD COLUMN times_seen integer NOT NULL DEFAULT 1;
ALTER TABLE brand_ads ADD COLUMN last_scrape_id bigint;
ALTER TABLE brand_ads ADD COLUMN running boolean;
ALTER TABLE brand_ads ADD COLUMN no_longer_seen_at timestamptz;
CREATE INDEX brand_ads_last_scrape ON brand_ads (brand_slug, last_scrape_id);

-- A hash of what the source said about an ad: an unchanged ad is recognised and not rewritten.
ALTER TABLE ads ADD COLUMN content_hash text;

-- Paid source runs (an Apify actor run): recorded before waiting, so a retried or re-executed step
-- (same root Dagster run) resumes the run it paid for instead of starting another.
CREATE TABLE source_runs (
    brand_slug      text NOT NULL REFERENCES brands (slug),
    run_key         text NOT NULL,
    source          text NOT NULL,
    external_run_id text NOT NULL,
    dataset_id      text,
    tag             text,
    status          text NOT NULL DEFAULT 'STARTED',
    cost_usd        numeric(12, 6) NOT NULL DEFAULT 0,
    items           integer NOT NULL DEFAULT 0,
    started_at      timestamptz NOT NULL DEFAULT now(),
    finished_at     timestamptz,
    PRIMARY KEY (brand_slug, run_key)
);

-- Every model call that returned usage, attributed to the brand and asset whose step paid for it:
-- counted even when the step then failed.
CREATE TABLE model_usage (
    id            bigserial PRIMARY KEY,
    brand_slug    text NOT NULL,
    asset         text NOT NULL,
    run_id        text,
    model         text NOT NULL,
    item_key      text NOT NULL,
    status        text NOT NULL,
    input_tokens  integer NOT NULL,
    output_tokens integer NOT NULL,
    cost_usd      numeric(12, 6) NOT NULL,
    attempts      integer NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX model_usage_brand ON model_usage (brand_slug, model);
CREATE INDEX model_usage_run ON model_usage (run_id);

-- A synthesis is keyed by its inputs (evidence shown, prompt version, model): unchanged inputs
-- make no new call. Older syntheses stay as history; the latest is what people read.
ALTER TABLE persona_syntheses ADD COLUMN inputs_hash text;
CREATE INDEX persona_syntheses_inputs ON persona_syntheses (brand_slug, inputs_hash);

-- Brands can be grouped (a brand and its competitors); comparisons run per group.
ALTER TABLE brands ADD COLUMN brand_group text;

-- New-ads alerts: one per scrape that started enough ads; one not yet delivered is retried by
-- the brand's next scrape.
CREATE TABLE alerts (
    id          bigserial PRIMARY KEY,
    brand_slug  text NOT NULL REFERENCES brands (slug),
    scrape_id   bigint NOT NULL REFERENCES scrapes (id),
    ads_started integer NOT NULL,
    run_url     text,
    status      text NOT NULL DEFAULT 'pending',
    reason      text,
    attempts    integer NOT NULL DEFAULT 0,
    created_at  timestamptz NOT NULL DEFAULT now(),
    sent_at     timestamptz,
    UNIQUE (scrape_id)
);
CREATE INDEX alerts_pending ON alerts (brand_slug) WHERE status <> 'sent';
