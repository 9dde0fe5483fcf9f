-- Plans that cannot loop over a brand's rows for each row, whatever the statistics say. Seen in
-- brand_pipeline_tests/test_query_plans.py, which reads the plans of the statements inside these
-- functions: where the planner expected about one row (a brand whose 20,000 ads were stored after
-- the last ANALYZE; analyses not written yet), each was planned as a loop reading all of those rows
-- again for each row of the other side.

-- The lookups of one ad of a brand (brand_slug, ad_archive_id) in bp_upsert_ads and bp_sight_ads
-- were planned on this index, by brand_slug alone, reading the brand's ads until the one sought:
-- for a brand the statistics put at one row, it is as cheap as the primary key and smaller. No
-- query looks ads up by their last scrape; the primary key serves every scan by brand.
DROP INDEX brand_ads_last_scrape;

-- Close a scrape: its one join, of the brand's ads to those of them it did not see, is never a
-- nested loop. With the brand put at one row, it was one reading all the ads not seen once per ad
-- of the brand; a hash join reads each side once (both are the brand's ads, found by its index).
ALTER FUNCTION bp_finish_scrape(text, bigint, boolean, integer, integer, integer, integer) SET enable_nestloop = off;

-- What the store holds for one brand. As in 0005, but in one pass over the brand's creatives and
-- one over its copies, each item asking whether it was analysed (an EXISTS by its key, or one
-- hashed read of the analyses): as joins of the analyses to the brand's creatives, with the
-- analyses put at one row, they were planned as loops reading all the brand's creatives once per
-- analysis.
CREATE OR REPLACE FUNCTION bp_brand_summary(
    p_brand text, OUT ads bigint, OUT bad_items bigint, OUT videos bigint, OUT images bigint, OUT copies bigint,
    OUT videos_analysed bigint, OUT images_analysed bigint, OUT copies_analysed bigint, OUT copies_skipped bigint,
    OUT personas bigint
) LANGUAGE sql STABLE AS $$
    WITH shown AS MATERIALIZED (  -- each creative asks once
        SELECT c.kind, EXISTS (
            SELECT 1 FROM creative_analyses an
            WHERE an.sha256 = c.sha256 AND an.kind = c.kind AND an.facts_status = 'done'
        ) AS analysed
        FROM creatives c
        WHERE c.sha256 IN (
            SELECT ac.sha256 FROM brand_ads ba JOIN ad_creatives ac USING (ad_archive_id) WHERE ba.brand_slug = p_brand)
    ), written AS (
        SELECT EXISTS (SELECT 1 FROM copy_analyses ca WHERE ca.copy_hash = x.copy_hash AND ca.facts_status = 'done')
                   AS analysed,
               EXISTS (SELECT 1 FROM copy_analyses ca WHERE ca.copy_hash = x.copy_hash AND ca.facts_status = 'skipped')
                   AS skipped
        FROM (SELECT DISTINCT a.copy_hash FROM brand_ads ba JOIN ads a USING (ad_archive_id)
              WHERE ba.brand_slug = p_brand AND a.copy_hash IS NOT NULL) x
    ), creative_counts AS (
        SELECT count(*) FILTER (WHERE kind = 'video') AS videos, count(*) FILTER (WHERE kind = 'image') AS images,
               count(*) FILTER (WHERE kind = 'video' AND analysed) AS videos_analysed,
               count(*) FILTER (WHERE kind = 'image' AND analysed) AS images_analysed
        FROM shown
    ), copy_counts AS (
        SELECT count(*) AS copies, count(*) FILTER (WHERE analysed) AS analysed, count(*) FILTER (WHERE skipped) AS skipped
        FROM written
    )
    SELECT (SELECT count(*) FROM brand_ads WHERE brand_slug = p_brand),
           (SELECT count(*) FROM item_outcomes WHERE brand_slug = p_brand AND asset = 'scraped_ads'),
           cr.videos, cr.images, co.copies, cr.videos_analysed, cr.images_analysed, co.analysed, co.skipped,
           (SELECT count(*) FROM personas WHERE synthesis_id =
               (SELECT max(id) FROM persona_syntheses WHERE brand_slug = p_brand))
    FROM creative_counts cr, copy_counts co
$$;
