-- A re-scrape that recognises unchanged ads before parsing them: each brand keeps, per ad, a hash
-- of the raw item its source gave last time (the fields the parser reads, media URLs without their
-- signatures, the parser's version). An ad whose item hash is the same is only sighted again.
ALTER TABLE brand_ads ADD COLUMN item_hash text;

-- One ad as bp_sight_ads and bp_remember_items take it.
CREATE TYPE bp_sighting_input AS (ad_archive_id text, item_hash text);

-- Sight a batch of a brand's ads by item hash alone, in one statement. An ad is sighted here only
-- if nothing about it can have changed or be missing: the same item hash, seen by the brand's
-- previous finished scrape (an interrupted one may not have fetched its creatives) and not marked
-- no longer seen since, and no media of it failed then (a failed creative is tried again). Its
-- sighting moves last_seen_at and times_seen (once per scrape), as bp_upsert_ads does for an
-- unchanged ad; running is the stored one (what the source said is the same).
-- p_ads: [{"ad_archive_id", "item_hash"}], one per ad (the stores de-duplicate).
-- Returns {"unchanged": [ids], "still_running": [ids], "media_stored": n}: the ads sighted, in the
-- order given, and the creatives they show; every other ad is for the caller to store in full.
CREATE FUNCTION bp_sight_ads(p_brand text, p_run_id text, p_scrape_id bigint, p_ads jsonb)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
    outcome jsonb;
BEGIN
    WITH given AS (
        SELECT x.* FROM jsonb_populate_recordset(NULL::bp_sighting_input, p_ads) WITH ORDINALITY AS x
    ), same AS (
        -- Lookups by key whatever the statistics say: the ad's row of the brand, and a failed
        -- media of it.
        SELECT g.ad_archive_id, g.ordinality, b.running
        FROM given g CROSS JOIN LATERAL (
            SELECT * FROM brand_ads ba WHERE ba.brand_slug = p_brand AND ba.ad_archive_id = g.ad_archive_id LIMIT 1
        ) b
        LEFT JOIN LATERAL (
            SELECT true AS failed FROM item_outcomes o
            WHERE o.brand_slug = p_brand AND o.asset = 'scraped_ads' AND o.kind = 'media'
              AND o.ad_archive_id = g.ad_archive_id
            LIMIT 1
        ) media ON true
        WHERE b.item_hash = g.item_hash AND b.no_longer_seen_at IS NULL
          AND b.last_scrape_id IS DISTINCT FROM p_scrape_id
          AND EXISTS (SELECT 1 FROM scrapes s WHERE s.id = b.last_scrape_id AND s.finished_at IS NOT NULL)
          AND media.failed IS NULL
    ), sighted AS (
        -- An upsert that always finds its row: the update goes by the primary key.
        INSERT INTO brand_ads AS b (brand_slug, ad_archive_id, last_run_id, last_scrape_id, running)
        SELECT p_brand, same.ad_archive_id, p_run_id, p_scrape_id, same.running FROM same
        ON CONFLICT (brand_slug, ad_archive_id) DO UPDATE SET
            last_seen_at = now(), last_run_id = EXCLUDED.last_run_id, times_seen = b.times_seen + 1,
            last_scrape_id = EXCLUDED.last_scrape_id
        RETURNING b.ad_archive_id
    )
    SELECT jsonb_build_object(
        'unchanged', coalesce(jsonb_agg(same.ad_archive_id ORDER BY same.ordinality), '[]'),
        'still_running', coalesce(jsonb_agg(same.ad_archive_id ORDER BY same.ordinality)
            FILTER (WHERE same.running), '[]'),
        'media_stored', (SELECT count(*) FROM sighted JOIN ad_creatives ac ON ac.ad_archive_id = sighted.ad_archive_id)
    ) INTO outcome
    FROM same;
    RETURN outcome;
END
$$;

-- After a batch was stored in full (bp_upsert_ads made each ad's brand_ads row): the item hash
-- each ad was stored from, for the next sighting. An upsert, so it goes by the primary key.
CREATE FUNCTION bp_remember_items(p_brand text, p_ads jsonb) RETURNS integer LANGUAGE sql AS $$
    WITH remembered AS (
        INSERT INTO brand_ads AS b (brand_slug, ad_archive_id, item_hash)
        SELECT p_brand, x.ad_archive_id, x.item_hash FROM jsonb_populate_recordset(NULL::bp_sighting_input, p_ads) x
        ON CONFLICT (brand_slug, ad_archive_id) DO UPDATE SET item_hash = EXCLUDED.item_hash
        RETURNING 1
    )
    SELECT count(*)::integer FROM remembered
$$;
