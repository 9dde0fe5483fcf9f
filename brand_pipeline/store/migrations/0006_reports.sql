-- What a marketer looks at, as SQL functions both stores call: each brand's ads with their
-- sighting history, copy facts and creatives for its report, and the new-ads alerts owed.

CREATE FUNCTION bp_report_ads(p_brand text, p_copy_version text) RETURNS TABLE (
    ad_archive_id text, display_format text, is_active boolean, start_date timestamptz,
    end_date timestamptz, first_seen_at timestamptz, last_seen_at timestamptz, cta text, hook text,
    offers text[], angle text, creatives jsonb
) LANGUAGE sql STABLE AS $$
    SELECT a.ad_archive_id, a.display_format, ba.running, a.start_date, a.end_date,
           ba.first_seen_at, ba.last_seen_at, a.cta_text,
           ca.facts ->> 'hook',
           COALESCE(ARRAY(SELECT jsonb_array_elements_text(ca.facts -> 'offers')), '{}'),
           ca.semantic ->> 'angle',
           COALESCE((
               SELECT jsonb_agg(jsonb_build_object('slot', ac.slot, 'kind', c.kind, 'sha256', c.sha256,
                                                   'blob_path', c.blob_path) ORDER BY ac.slot)
               FROM ad_creatives ac JOIN creatives c ON c.sha256 = ac.sha256
               WHERE ac.ad_archive_id = a.ad_archive_id), '[]'::jsonb)
    FROM brand_ads ba
    JOIN ads a ON a.ad_archive_id = ba.ad_archive_id
    LEFT JOIN copy_analyses ca ON ca.copy_hash = a.copy_hash AND ca.prompt_version = p_copy_version
    WHERE ba.brand_slug = p_brand
$$;

-- When the brand's ads were last seen: the moment its report describes.
CREATE FUNCTION bp_latest_scrape_at(p_brand text) RETURNS timestamptz LANGUAGE sql STABLE AS $$
    SELECT max(last_seen_at) FROM brand_ads WHERE brand_slug = p_brand
$$;

CREATE FUNCTION bp_record_alert(p_brand text, p_scrape_id bigint, p_ads_started integer, p_run_url text)
RETURNS void LANGUAGE sql AS $$
    INSERT INTO alerts (brand_slug, scrape_id, ads_started, run_url)
    VALUES (p_brand, p_scrape_id, p_ads_started, p_run_url)
    ON CONFLICT (scrape_id) DO NOTHING;
$$;

CREATE FUNCTION bp_pending_alerts(p_brand text) RETURNS TABLE (
    id bigint, brand_slug text, scrape_id bigint, ads_started integer, run_url text, attempts integer
) LANGUAGE sql STABLE AS $$
    SELECT id, brand_slug, scrape_id, ads_started, run_url, attempts FROM alerts
    WHERE brand_slug = p_brand AND status <> 'sent'
$$;

-- Marks one alert sent or failed; answers whether the alert existed (a missing one is an error).
CREATE FUNCTION bp_finish_alert(p_id bigint, p_sent boolean, p_reason text) RETURNS boolean LANGUAGE sql AS $$
    WITH done AS (
        UPDATE alerts SET status = CASE WHEN p_sent THEN 'sent' ELSE 'failed' END, reason = p_reason,
            attempts = attempts + 1, sent_at = CASE WHEN p_sent THEN now() END
        WHERE id = p_id RETURNING id
    )
    SELECT EXISTS (SELECT 1 FROM done)
$$;

-- The brand's scrape before this one (NULL for its first: everything it found is new).
CREATE FUNCTION bp_previous_scrape(p_brand text, p_scrape_id bigint) RETURNS bigint LANGUAGE sql STABLE AS $$
    SELECT max(id) FROM scrapes WHERE brand_slug = p_brand AND id < p_scrape_id
$$;
