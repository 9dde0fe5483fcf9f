-- The queries that need joins, set logic or a transaction, as SQL functions both stores call:
-- PostgresStore with SELECT, SupabaseStore through PostgREST's /rpc. Each exists once, here.
-- Every function is SECURITY INVOKER (the default): it runs with the caller's rights, so
-- row-level security decides what it may see. Arguments are named (p_...), as PostgREST passes
-- them by name. Functions that write return one value (never a set): PostgREST caps sets at its
-- max-rows, and a write's answer must not be cut.

-- Row-level security on every table, and no policy: a Supabase project's anon and authenticated
-- roles read and write nothing. The service role bypasses RLS; the tables' owner (the role that
-- ran these migrations) is not subject to it, as FORCE ROW LEVEL SECURITY is not set.
ALTER TABLE schema_migrations ENABLE ROW LEVEL SECURITY;
ALTER TABLE brands ENABLE ROW LEVEL SECURITY;
ALTER TABLE ads ENABLE ROW LEVEL SECURITY;
ALTER TABLE brand_ads ENABLE ROW LEVEL SECURITY;
ALTER TABLE creatives ENABLE ROW LEVEL SECURITY;
ALTER TABLE ad_creatives ENABLE ROW LEVEL SECURITY;
ALTER TABLE creative_analyses ENABLE ROW LEVEL SECURITY;
ALTER TABLE copy_analyses ENABLE ROW LEVEL SECURITY;
ALTER TABLE persona_syntheses ENABLE ROW LEVEL SECURITY;
ALTER TABLE personas ENABLE ROW LEVEL SECURITY;
ALTER TABLE item_outcomes ENABLE ROW LEVEL SECURITY;
ALTER TABLE scrapes ENABLE ROW LEVEL SECURITY;
ALTER TABLE source_runs ENABLE ROW LEVEL SECURITY;
ALTER TABLE model_usage ENABLE ROW LEVEL SECURITY;
ALTER TABLE alerts ENABLE ROW LEVEL SECURITY;

-- The newest migration applied: a store refuses a schema older than its code.
CREATE FUNCTION bp_schema_version() RETURNS text LANGUAGE sql STABLE AS $$
    SELECT max(version) FROM schema_migrations
$$;

-- One ad as the stores send it: the ads row, plus whether the source shows it running.
CREATE TYPE bp_ad_input AS (
    ad_archive_id text, page_id text, page_name text, is_active boolean, start_date timestamptz,
    end_date timestamptz, publisher_platforms text[], collation_id text, collation_count integer,
    title text, body text, caption text, cta_text text, cta_type text, link_url text,
    link_description text, display_format text, copy_text text, copy_hash text, snapshot jsonb,
    content_hash text, running boolean
);

-- Store one batch of a brand's ads and this sighting of each, in one statement.
-- An ad's row is rewritten only when its content hash changed; every sighting moves the brand's
-- last_seen_at and times_seen (once per scrape). Each ad is classified as new (to the brand),
-- updated or unchanged, and as started, stopped or still running against the brand's previous
-- sighting (not again when this scrape already saw it). One row per ad: the stores de-duplicate
-- each batch (the last one given wins); Postgres refuses an upsert touching a row twice.
-- Returns {"new": [ids], "updated": [...], "unchanged": [...], "started": [...], "stopped": [...],
-- "still_running": [...]}, each in the order given.
-- p_ads is json, not jsonb: each object is parsed once, straight into its row (a quarter less work
-- than building the whole batch as jsonb first).
CREATE FUNCTION bp_upsert_ads(p_brand text, p_run_id text, p_scrape_id bigint, p_ads json)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
    outcome jsonb;
BEGIN
    WITH given AS (
        SELECT x.* FROM json_populate_recordset(NULL::bp_ad_input, p_ads) WITH ORDINALITY AS x
    ), before AS (
        -- One primary-key lookup per ad, whatever the statistics say (LIMIT keeps the planner from
        -- turning it into a scan of all the brand's ads per batch, or worse, per ad).
        SELECT b.ad_archive_id, b.running, b.last_scrape_id, b.no_longer_seen_at
        FROM given g CROSS JOIN LATERAL (
            SELECT * FROM brand_ads ba WHERE ba.brand_slug = p_brand AND ba.ad_archive_id = g.ad_archive_id LIMIT 1
        ) b
    ), written AS (
        INSERT INTO ads AS a (ad_archive_id, page_id, page_name, is_active, start_date, end_date,
            publisher_platforms, collation_id, collation_count, title, body, caption, cta_text, cta_type,
            link_url, link_description, display_format, copy_text, copy_hash, snapshot, content_hash)
        SELECT g.ad_archive_id, g.page_id, g.page_name, g.is_active, g.start_date, g.end_date,
            coalesce(g.publisher_platforms, '{}'), g.collation_id, g.collation_count, g.title, g.body,
            g.caption, g.cta_text, g.cta_type, g.link_url, g.link_description, g.display_format,
            coalesce(g.copy_text, ''), g.copy_hash, g.snapshot, g.content_hash
        FROM given g
        ON CONFLICT (ad_archive_id) DO UPDATE SET
            page_id = EXCLUDED.page_id, page_name = EXCLUDED.page_name, is_active = EXCLUDED.is_active,
            start_date = EXCLUDED.start_date, end_date = EXCLUDED.end_date,
            publisher_platforms = EXCLUDED.publisher_platforms, collation_id = EXCLUDED.collation_id,
            collation_count = EXCLUDED.collation_count, title = EXCLUDED.title, body = EXCLUDED.body,
            caption = EXCLUDED.caption, cta_text = EXCLUDED.cta_text, cta_type = EXCLUDED.cta_type,
            link_url = EXCLUDED.link_url, link_description = EXCLUDED.link_description,
            display_format = EXCLUDED.display_format, copy_text = EXCLUDED.copy_text,
            copy_hash = EXCLUDED.copy_hash, snapshot = EXCLUDED.snapshot,
            content_hash = EXCLUDED.content_hash, last_seen_at = now()
        WHERE a.content_hash IS DISTINCT FROM EXCLUDED.content_hash
        RETURNING a.ad_archive_id
    ), sighted AS (
        INSERT INTO brand_ads AS b (brand_slug, ad_archive_id, last_run_id, last_scrape_id, running)
        SELECT p_brand, g.ad_archive_id, p_run_id, p_scrape_id, coalesce(g.running, false) FROM given g
        ON CONFLICT (brand_slug, ad_archive_id) DO UPDATE SET
            last_seen_at = now(), last_run_id = EXCLUDED.last_run_id, running = EXCLUDED.running,
            times_seen = b.times_seen
                + CASE WHEN b.last_scrape_id IS NOT DISTINCT FROM EXCLUDED.last_scrape_id
                            AND EXCLUDED.last_scrape_id IS NOT NULL THEN 0 ELSE 1 END,
            last_scrape_id = EXCLUDED.last_scrape_id, no_longer_seen_at = NULL
        RETURNING b.ad_archive_id, (b.xmax = 0) AS inserted
    ), classified AS (
        SELECT g.ad_archive_id, g.ordinality,
            CASE WHEN s.inserted THEN 'new' WHEN w.ad_archive_id IS NOT NULL THEN 'updated' ELSE 'unchanged' END
                AS stored,
            CASE
                WHEN p_scrape_id IS NOT NULL AND pre.last_scrape_id = p_scrape_id THEN NULL  -- counted already
                WHEN coalesce(g.running, false) AND NOT was.running THEN 'started'
                WHEN was.running AND NOT coalesce(g.running, false) THEN 'stopped'
                WHEN was.running THEN 'still_running'
            END AS change
        FROM given g
        LEFT JOIN before pre ON pre.ad_archive_id = g.ad_archive_id
        LEFT JOIN written w ON w.ad_archive_id = g.ad_archive_id
        LEFT JOIN sighted s ON s.ad_archive_id = g.ad_archive_id
        CROSS JOIN LATERAL (
            SELECT coalesce(pre.running AND pre.no_longer_seen_at IS NULL, false) AS running
        ) was
    )
    SELECT jsonb_build_object(
        'new', coalesce(jsonb_agg(c.ad_archive_id ORDER BY c.ordinality) FILTER (WHERE c.stored = 'new'), '[]'),
        'updated', coalesce(jsonb_agg(c.ad_archive_id ORDER BY c.ordinality) FILTER (WHERE c.stored = 'updated'), '[]'),
        'unchanged',
            coalesce(jsonb_agg(c.ad_archive_id ORDER BY c.ordinality) FILTER (WHERE c.stored = 'unchanged'), '[]'),
        'started', coalesce(jsonb_agg(c.ad_archive_id ORDER BY c.ordinality) FILTER (WHERE c.change = 'started'), '[]'),
        'stopped', coalesce(jsonb_agg(c.ad_archive_id ORDER BY c.ordinality) FILTER (WHERE c.change = 'stopped'), '[]'),
        'still_running',
            coalesce(jsonb_agg(c.ad_archive_id ORDER BY c.ordinality) FILTER (WHERE c.change = 'still_running'), '[]')
    ) INTO outcome
    FROM classified c;
    RETURN outcome;
END
$$;

-- Close a scrape: after a complete one, the brand's ads it did not see stop running. The counts
-- of what it saw come from the upserts; returns the scrape's changes. An unknown scrape is an error.
CREATE FUNCTION bp_finish_scrape(
    p_brand text, p_scrape_id bigint, p_complete boolean, p_seen integer, p_started integer,
    p_stopped integer, p_still_running integer
) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
    gone_running integer := 0;
BEGIN
    IF p_complete THEN
        WITH gone AS (
            SELECT b.ad_archive_id, b.running FROM brand_ads b
            WHERE b.brand_slug = p_brand AND b.no_longer_seen_at IS NULL
              AND b.last_scrape_id IS DISTINCT FROM p_scrape_id
            FOR UPDATE
        ), stopped AS (
            UPDATE brand_ads b SET running = false, no_longer_seen_at = now()
            FROM gone WHERE b.brand_slug = p_brand AND b.ad_archive_id = gone.ad_archive_id
            RETURNING gone.running AS was_running
        )
        SELECT count(*) FILTER (WHERE was_running) INTO gone_running FROM stopped;
    END IF;
    UPDATE scrapes SET finished_at = now(), complete = p_complete, ads_seen = p_seen, ads_started = p_started,
        ads_stopped = p_stopped + gone_running, ads_running = p_still_running
    WHERE id = p_scrape_id AND brand_slug = p_brand;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'no scrape % of brand %', p_scrape_id, p_brand USING ERRCODE = 'no_data_found';
    END IF;
    RETURN jsonb_build_object(
        'scrape_id', p_scrape_id, 'complete', p_complete, 'seen', p_seen, 'started', p_started,
        'stopped', p_stopped + gone_running, 'still_running', p_still_running, 'no_longer_seen', gone_running
    );
END
$$;

-- Which of these ads' slots already have a creative.
CREATE FUNCTION bp_stored_slots(p_ad_ids text[]) RETURNS TABLE (ad_archive_id text, slot text)
LANGUAGE sql STABLE AS $$
    SELECT ac.ad_archive_id, ac.slot FROM ad_creatives ac WHERE ac.ad_archive_id = ANY (p_ad_ids)
    ORDER BY ac.ad_archive_id, ac.slot
$$;

-- Which of these creatives are stored. (Paged reads need rows with named columns: a one-column
-- TABLE is a set of bare values to PostgREST, hence the kind.)
CREATE FUNCTION bp_known_creatives(p_sha256s text[]) RETURNS TABLE (sha256 text, kind text)
LANGUAGE sql STABLE AS $$
    SELECT c.sha256, c.kind FROM creatives c WHERE c.sha256 = ANY (p_sha256s) ORDER BY c.sha256
$$;

-- Rows as the stores send them to the functions below.
CREATE TYPE bp_creative_input AS (sha256 text, kind text, mime_type text, size_bytes bigint, blob_path text);
CREATE TYPE bp_link_input AS (ad_archive_id text, slot text, sha256 text, source_url text, run_id text);
CREATE TYPE bp_outcome_input AS (
    item_key text, kind text, ad_archive_id text, slot text, status text, reason text, detail text
);

-- Creatives (stored once: the same bytes are the same row) and the ad slots that show them, in
-- one transaction, so a link never exists without its creative.
CREATE FUNCTION bp_save_creatives(p_creatives jsonb, p_links jsonb) RETURNS void LANGUAGE sql AS $$
    INSERT INTO creatives (sha256, kind, mime_type, size_bytes, blob_path)
    SELECT DISTINCT ON (x.sha256) x.sha256, x.kind, x.mime_type, x.size_bytes, x.blob_path
    FROM jsonb_populate_recordset(NULL::bp_creative_input, p_creatives) WITH ORDINALITY AS x
    ORDER BY x.sha256, x.ordinality DESC
    ON CONFLICT (sha256) DO NOTHING;

    INSERT INTO ad_creatives AS ac (ad_archive_id, slot, sha256, source_url, run_id)
    SELECT DISTINCT ON (x.ad_archive_id, x.slot) x.ad_archive_id, x.slot, x.sha256, x.source_url, x.run_id
    FROM jsonb_populate_recordset(NULL::bp_link_input, p_links) WITH ORDINALITY AS x
    ORDER BY x.ad_archive_id, x.slot, x.ordinality DESC
    ON CONFLICT (ad_archive_id, slot) DO UPDATE SET
        sha256 = EXCLUDED.sha256, source_url = EXCLUDED.source_url, run_id = EXCLUDED.run_id, stored_at = now();
$$;

-- The outcomes of one run of (brand, asset) replace the previous set, in one transaction.
CREATE FUNCTION bp_replace_outcomes(p_brand text, p_asset text, p_run_id text, p_outcomes jsonb)
RETURNS void LANGUAGE sql AS $$
    INSERT INTO item_outcomes AS o (brand_slug, asset, item_key, kind, ad_archive_id, slot, status, reason,
                                    detail, run_id)
    SELECT DISTINCT ON (x.item_key) p_brand, p_asset, x.item_key, x.kind, x.ad_archive_id, x.slot, x.status,
           x.reason, x.detail, p_run_id
    FROM jsonb_populate_recordset(NULL::bp_outcome_input, p_outcomes) WITH ORDINALITY AS x
    ORDER BY x.item_key, x.ordinality DESC
    ON CONFLICT (brand_slug, asset, item_key) DO UPDATE SET
        kind = EXCLUDED.kind, ad_archive_id = EXCLUDED.ad_archive_id, slot = EXCLUDED.slot,
        status = EXCLUDED.status, reason = EXCLUDED.reason, detail = EXCLUDED.detail,
        run_id = EXCLUDED.run_id, updated_at = now();

    DELETE FROM item_outcomes
    WHERE brand_slug = p_brand AND asset = p_asset AND run_id IS DISTINCT FROM p_run_id;
$$;

-- What is left to analyse for a brand: each creative of a kind its ads show (with the ads and one
-- ad's copy as context) without an analysis under this prompt version, or, when retrying, one
-- whose model part ended in a retryable status (its facts are reused).
CREATE FUNCTION bp_creatives_to_analyse(
    p_brand text, p_kind text, p_prompt_version text, p_retry_semantic boolean, p_retryable text[]
) RETURNS TABLE (
    sha256 text, kind text, mime_type text, size_bytes bigint, blob_path text, ad_ids text[], copy_text text,
    facts jsonb
) LANGUAGE sql STABLE AS $$
    WITH brand_creatives AS (
        SELECT c.sha256, c.kind, c.mime_type, c.size_bytes, c.blob_path,
               array_agg(DISTINCT ac.ad_archive_id ORDER BY ac.ad_archive_id) AS ad_ids,
               min(a.copy_text) FILTER (WHERE a.copy_text <> '') AS copy_text
        FROM brand_ads ba
        JOIN ads a ON a.ad_archive_id = ba.ad_archive_id
        JOIN ad_creatives ac ON ac.ad_archive_id = ba.ad_archive_id
        JOIN creatives c ON c.sha256 = ac.sha256
        WHERE ba.brand_slug = p_brand AND c.kind = p_kind
        GROUP BY c.sha256
    )
    SELECT bc.sha256, bc.kind, bc.mime_type, bc.size_bytes, bc.blob_path, bc.ad_ids, bc.copy_text, an.facts
    FROM brand_creatives bc
    LEFT JOIN creative_analyses an
      ON an.sha256 = bc.sha256 AND an.kind = bc.kind AND an.prompt_version = p_prompt_version
    WHERE an.sha256 IS NULL
       OR (p_retry_semantic AND an.facts_status = 'done' AND an.semantic_status = ANY (p_retryable))
    ORDER BY bc.sha256
$$;

CREATE FUNCTION bp_count_creatives(p_brand text, p_kind text) RETURNS bigint LANGUAGE sql STABLE AS $$
    SELECT count(DISTINCT c.sha256) FROM brand_ads ba
    JOIN ad_creatives ac ON ac.ad_archive_id = ba.ad_archive_id
    JOIN creatives c ON c.sha256 = ac.sha256
    WHERE ba.brand_slug = p_brand AND c.kind = p_kind
$$;

-- The same for copy: each distinct copy of the brand's ads, by its normalised hash.
CREATE FUNCTION bp_copies_to_analyse(
    p_brand text, p_prompt_version text, p_retry_semantic boolean, p_retryable text[]
) RETURNS TABLE (copy_hash text, copy_text text, ad_ids text[], facts jsonb) LANGUAGE sql STABLE AS $$
    WITH brand_copies AS (
        SELECT a.copy_hash, min(a.copy_text) AS copy_text,
               array_agg(DISTINCT a.ad_archive_id ORDER BY a.ad_archive_id) AS ad_ids
        FROM brand_ads ba JOIN ads a ON a.ad_archive_id = ba.ad_archive_id
        WHERE ba.brand_slug = p_brand AND a.copy_hash IS NOT NULL
        GROUP BY a.copy_hash
    )
    SELECT bc.copy_hash, bc.copy_text, bc.ad_ids, ca.facts
    FROM brand_copies bc
    LEFT JOIN copy_analyses ca ON ca.copy_hash = bc.copy_hash AND ca.prompt_version = p_prompt_version
    WHERE ca.copy_hash IS NULL
       OR (p_retry_semantic AND ca.facts_status = 'done' AND ca.semantic_status = ANY (p_retryable))
    ORDER BY bc.copy_hash
$$;

CREATE FUNCTION bp_count_copies(p_brand text) RETURNS bigint LANGUAGE sql STABLE AS $$
    SELECT count(DISTINCT a.copy_hash)
    FROM brand_ads ba JOIN ads a ON a.ad_archive_id = ba.ad_archive_id
    WHERE ba.brand_slug = p_brand AND a.copy_hash IS NOT NULL
$$;

-- One analysis row as the stores send it (creative rows leave the copy's fields empty).
CREATE TYPE bp_analysis_input AS (
    sha256 text, kind text, copy_hash text, copy_text text, prompt_version text, facts jsonb, facts_status text,
    facts_error text, semantic jsonb, semantic_status text, semantic_reason text, raw_reply text, model text,
    input_tokens integer, output_tokens integer, cost_usd numeric, attempts integer, ad_ids text[], run_id text
);

-- Analyses are upserted by their key; a repeated analysis adds its tokens, cost and attempts to
-- what the row already counted, and its ads to the row's ads.
CREATE FUNCTION bp_save_creative_analyses(p_analyses jsonb) RETURNS void LANGUAGE sql AS $$
    INSERT INTO creative_analyses AS t (sha256, kind, prompt_version, facts, facts_status, facts_error, semantic,
        semantic_status, semantic_reason, raw_reply, model, input_tokens, output_tokens, cost_usd, attempts,
        ad_ids, run_id)
    SELECT DISTINCT ON (x.sha256, x.kind, x.prompt_version) x.sha256, x.kind, x.prompt_version, x.facts,
        x.facts_status, x.facts_error, x.semantic, x.semantic_status, x.semantic_reason, x.raw_reply, x.model,
        x.input_tokens, x.output_tokens, x.cost_usd, x.attempts, x.ad_ids, x.run_id
    FROM jsonb_populate_recordset(NULL::bp_analysis_input, p_analyses) WITH ORDINALITY AS x
    ORDER BY x.sha256, x.kind, x.prompt_version, x.ordinality DESC
    ON CONFLICT (sha256, kind, prompt_version) DO UPDATE SET
        facts = EXCLUDED.facts, facts_status = EXCLUDED.facts_status, facts_error = EXCLUDED.facts_error,
        semantic = EXCLUDED.semantic, semantic_status = EXCLUDED.semantic_status,
        semantic_reason = EXCLUDED.semantic_reason, raw_reply = EXCLUDED.raw_reply, model = EXCLUDED.model,
        input_tokens = t.input_tokens + EXCLUDED.input_tokens, output_tokens = t.output_tokens + EXCLUDED.output_tokens,
        cost_usd = t.cost_usd + EXCLUDED.cost_usd, attempts = t.attempts + EXCLUDED.attempts,
        ad_ids = ARRAY(SELECT DISTINCT unnest(t.ad_ids || EXCLUDED.ad_ids) ORDER BY 1),
        run_id = EXCLUDED.run_id, updated_at = now();
$$;

CREATE FUNCTION bp_save_copy_analyses(p_analyses jsonb) RETURNS void LANGUAGE sql AS $$
    INSERT INTO copy_analyses AS t (copy_hash, copy_text, prompt_version, facts, facts_status, facts_error, semantic,
        semantic_status, semantic_reason, raw_reply, model, input_tokens, output_tokens, cost_usd, attempts,
        ad_ids, run_id)
    SELECT DISTINCT ON (x.copy_hash, x.prompt_version) x.copy_hash, x.copy_text, x.prompt_version, x.facts,
        x.facts_status, x.facts_error, x.semantic, x.semantic_status, x.semantic_reason, x.raw_reply, x.model,
        x.input_tokens, x.output_tokens, x.cost_usd, x.attempts, x.ad_ids, x.run_id
    FROM jsonb_populate_recordset(NULL::bp_analysis_input, p_analyses) WITH ORDINALITY AS x
    ORDER BY x.copy_hash, x.prompt_version, x.ordinality DESC
    ON CONFLICT (copy_hash, prompt_version) DO UPDATE SET
        facts = EXCLUDED.facts, facts_status = EXCLUDED.facts_status, facts_error = EXCLUDED.facts_error,
        semantic = EXCLUDED.semantic, semantic_status = EXCLUDED.semantic_status,
        semantic_reason = EXCLUDED.semantic_reason, raw_reply = EXCLUDED.raw_reply, model = EXCLUDED.model,
        input_tokens = t.input_tokens + EXCLUDED.input_tokens, output_tokens = t.output_tokens + EXCLUDED.output_tokens,
        cost_usd = t.cost_usd + EXCLUDED.cost_usd, attempts = t.attempts + EXCLUDED.attempts,
        ad_ids = ARRAY(SELECT DISTINCT unnest(t.ad_ids || EXCLUDED.ad_ids) ORDER BY 1),
        run_id = EXCLUDED.run_id, updated_at = now();
$$;

-- Every ad of a brand with what was learnt of its copy and of each creative it shows (under the
-- given prompt versions), longest-running first. Days run count to p_as_of (default: now), so a
-- read in several pages measures every ad against the same moment.
CREATE FUNCTION bp_brand_evidence(
    p_brand text, p_video_version text, p_image_version text, p_copy_version text, p_as_of timestamptz DEFAULT NULL
) RETURNS TABLE (
    ad_archive_id text, display_format text, is_active boolean, start_date timestamptz, end_date timestamptz,
    days_running double precision, title text, body text, cta_text text, copy_hash text, copy_facts jsonb,
    copy_semantic jsonb, creatives jsonb
) LANGUAGE sql STABLE AS $$
    SELECT a.ad_archive_id, a.display_format, a.is_active, a.start_date, a.end_date,
           GREATEST(0, EXTRACT(EPOCH FROM (COALESCE(a.end_date, p_as_of, now()) - a.start_date)) / 86400.0)::float8,
           a.title, a.body, a.cta_text, a.copy_hash, ca.facts, ca.semantic,
           coalesce((
               SELECT jsonb_agg(jsonb_build_object('slot', ac.slot, 'sha256', c.sha256, 'kind', c.kind,
                                                   'facts', an.facts, 'semantic', an.semantic) ORDER BY ac.slot)
               FROM ad_creatives ac
               JOIN creatives c ON c.sha256 = ac.sha256
               LEFT JOIN creative_analyses an ON an.sha256 = c.sha256 AND an.kind = c.kind
                    AND an.prompt_version = CASE c.kind WHEN 'video' THEN p_video_version ELSE p_image_version END
               WHERE ac.ad_archive_id = a.ad_archive_id), '[]')
    FROM brand_ads ba
    JOIN ads a ON a.ad_archive_id = ba.ad_archive_id
    LEFT JOIN copy_analyses ca ON ca.copy_hash = a.copy_hash AND ca.prompt_version = p_copy_version
    WHERE ba.brand_slug = p_brand
    ORDER BY 6 DESC, a.ad_archive_id
$$;

-- A synthesis and its personas, in one transaction; returns the synthesis id.
CREATE FUNCTION bp_save_persona_synthesis(p_synthesis jsonb, p_personas jsonb) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    synthesis_id bigint;
BEGIN
    INSERT INTO persona_syntheses (brand_slug, prompt_version, status, reason, evidence, model, input_tokens,
        output_tokens, cost_usd, dropped_citations, run_id, inputs_hash)
    SELECT s.brand_slug, s.prompt_version, s.status, s.reason, s.evidence, s.model, s.input_tokens,
        s.output_tokens, s.cost_usd, s.dropped_citations, s.run_id, s.inputs_hash
    FROM jsonb_to_record(p_synthesis) AS s(brand_slug text, prompt_version text, status text, reason text,
        evidence jsonb, model text, input_tokens integer, output_tokens integer, cost_usd numeric,
        dropped_citations integer, run_id text, inputs_hash text)
    RETURNING id INTO synthesis_id;
    INSERT INTO personas (synthesis_id, brand_slug, name, profile, evidence_ad_ids, evidence_creative_shas,
        evidence_copy_hashes, run_id)
    SELECT synthesis_id, p_synthesis ->> 'brand_slug', x.name, x.profile, x.evidence_ad_ids,
        x.evidence_creative_shas, x.evidence_copy_hashes, p_synthesis ->> 'run_id'
    FROM jsonb_to_recordset(p_personas) AS x(name text, profile jsonb, evidence_ad_ids text[],
        evidence_creative_shas text[], evidence_copy_hashes text[]);
    RETURN synthesis_id;
END
$$;

-- Every analysis of an item, oldest first, as lineage shows it.
CREATE FUNCTION bp_creative_analysis_traces(p_sha256 text) RETURNS jsonb LANGUAGE sql STABLE AS $$
    SELECT coalesce(jsonb_agg(jsonb_build_object(
        'prompt_version', an.prompt_version, 'model', an.model, 'facts_status', an.facts_status,
        'semantic_status', an.semantic_status, 'semantic_reason', an.semantic_reason, 'run_id', an.run_id,
        'updated_at', an.updated_at) ORDER BY an.updated_at), '[]')
    FROM creative_analyses an WHERE an.sha256 = p_sha256
$$;

CREATE FUNCTION bp_copy_analysis_traces(p_copy_hash text) RETURNS jsonb LANGUAGE sql STABLE AS $$
    SELECT coalesce(jsonb_agg(jsonb_build_object(
        'prompt_version', ca.prompt_version, 'model', ca.model, 'facts_status', ca.facts_status,
        'semantic_status', ca.semantic_status, 'semantic_reason', ca.semantic_reason, 'run_id', ca.run_id,
        'updated_at', ca.updated_at) ORDER BY ca.updated_at), '[]')
    FROM copy_analyses ca WHERE ca.copy_hash = p_copy_hash
$$;

-- persona → the ads it cites → their copy and creatives → every analysis, each with its run.
-- NULL when there is no such persona.
CREATE FUNCTION bp_persona_lineage(p_persona_id bigint) RETURNS jsonb LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object(
        'persona', jsonb_build_object(
            'id', p.id, 'name', p.name, 'brand_slug', p.brand_slug, 'run_id', p.run_id, 'created_at', p.created_at,
            'prompt_version', s.prompt_version, 'model', s.model, 'status', s.status),
        'ads', coalesce((
            SELECT jsonb_agg(jsonb_build_object(
                'ad_archive_id', a.ad_archive_id, 'display_format', a.display_format, 'start_date', a.start_date,
                'end_date', a.end_date, 'copy_hash', a.copy_hash, 'scraped_in_run', ba.last_run_id,
                'copy_analyses', bp_copy_analysis_traces(a.copy_hash),
                'creatives', coalesce((
                    SELECT jsonb_agg(jsonb_build_object(
                        'slot', ac.slot, 'sha256', ac.sha256, 'kind', c.kind, 'stored_in_run', ac.run_id,
                        'analyses', bp_creative_analysis_traces(ac.sha256)) ORDER BY ac.slot)
                    FROM ad_creatives ac JOIN creatives c ON c.sha256 = ac.sha256
                    WHERE ac.ad_archive_id = a.ad_archive_id), '[]')
            ) ORDER BY a.ad_archive_id)
            FROM ads a JOIN brand_ads ba ON ba.ad_archive_id = a.ad_archive_id AND ba.brand_slug = p.brand_slug
            WHERE a.ad_archive_id = ANY (p.evidence_ad_ids)), '[]'))
    FROM personas p JOIN persona_syntheses s ON s.id = p.synthesis_id
    WHERE p.id = p_persona_id
$$;

-- creative → its analyses → the ads (and brands) that show it → personas citing it, for the one
-- creative whose sha256 starts with the prefix. {"matches": 0 or 2} when none or several do.
CREATE FUNCTION bp_creative_lineage(p_sha256_prefix text) RETURNS jsonb LANGUAGE sql STABLE AS $$
    WITH matches AS (
        SELECT * FROM creatives WHERE sha256 LIKE lower(p_sha256_prefix) || '%' ORDER BY sha256 LIMIT 2
    )
    SELECT CASE WHEN (SELECT count(*) FROM matches) <> 1
        THEN jsonb_build_object('matches', (SELECT count(*) FROM matches))
        ELSE (
            SELECT jsonb_build_object(
                'matches', 1,
                'creative', jsonb_build_object('sha256', c.sha256, 'kind', c.kind, 'mime_type', c.mime_type,
                                               'size_bytes', c.size_bytes, 'blob_path', c.blob_path),
                'analyses', bp_creative_analysis_traces(c.sha256),
                'ads', coalesce((
                    SELECT jsonb_agg(jsonb_build_object('ad_archive_id', x.ad_archive_id, 'slot', x.slot,
                                                        'stored_in_run', x.run_id, 'brands', x.brands)
                                     ORDER BY x.ad_archive_id, x.slot)
                    FROM (SELECT ac.ad_archive_id, ac.slot, ac.run_id,
                                 array_agg(ba.brand_slug ORDER BY ba.brand_slug) AS brands
                          FROM ad_creatives ac JOIN brand_ads ba ON ba.ad_archive_id = ac.ad_archive_id
                          WHERE ac.sha256 = c.sha256 GROUP BY ac.ad_archive_id, ac.slot, ac.run_id) x), '[]'),
                'personas', coalesce((
                    SELECT jsonb_agg(jsonb_build_object('id', p.id, 'name', p.name, 'brand_slug', p.brand_slug,
                                                        'run_id', p.run_id) ORDER BY p.id)
                    FROM personas p WHERE c.sha256 = ANY (p.evidence_creative_shas)), '[]'))
            FROM matches c)
        END
$$;

-- The creatives a brand's ads show.
CREATE FUNCTION bp_brand_creatives(p_brand text) RETURNS TABLE (
    sha256 text, kind text, mime_type text, size_bytes bigint, blob_path text
) LANGUAGE sql STABLE AS $$
    SELECT DISTINCT c.sha256, c.kind, c.mime_type, c.size_bytes, c.blob_path
    FROM brand_ads ba JOIN ad_creatives ac ON ac.ad_archive_id = ba.ad_archive_id
    JOIN creatives c ON c.sha256 = ac.sha256
    WHERE ba.brand_slug = p_brand
    ORDER BY c.sha256
$$;

-- Ads whose snapshot shows media but that have neither a stored creative nor a recorded reason
-- (a media outcome of scraped_ads) for lacking one.
CREATE FUNCTION bp_ads_missing_creatives(p_brand text) RETURNS TABLE (ad_archive_id text, display_format text)
LANGUAGE sql STABLE AS $$
    SELECT a.ad_archive_id, a.display_format FROM brand_ads ba JOIN ads a ON a.ad_archive_id = ba.ad_archive_id
    WHERE ba.brand_slug = p_brand
      AND EXISTS (
          SELECT 1 FROM unnest(ARRAY['images', 'videos', 'cards', 'extra_images', 'extra_videos']) AS k
          WHERE jsonb_typeof(a.snapshot -> k) = 'array' AND jsonb_array_length(a.snapshot -> k) > 0)
      AND NOT EXISTS (SELECT 1 FROM ad_creatives ac WHERE ac.ad_archive_id = a.ad_archive_id)
      AND NOT EXISTS (
          SELECT 1 FROM item_outcomes o
          WHERE o.brand_slug = p_brand AND o.asset = 'scraped_ads' AND o.kind = 'media'
            AND o.ad_archive_id = a.ad_archive_id)
    ORDER BY a.ad_archive_id
$$;

-- Analyses of the brand's items (of one kind: video, image or copy) that name an ad which does
-- not exist, or whose creative does not: one row per item, with the missing ads (a NULL among them
-- means the creative itself is missing).
CREATE FUNCTION bp_dangling_analyses(p_brand text, p_kind text) RETURNS TABLE (item text, ad_ids text[])
LANGUAGE sql STABLE AS $$
    SELECT d.item, array_agg(DISTINCT d.ad_id ORDER BY d.ad_id NULLS FIRST) FROM (
        SELECT ca.copy_hash AS item, missing.ad_id FROM copy_analyses ca
        CROSS JOIN LATERAL unnest(ca.ad_ids) AS missing(ad_id)
        WHERE p_kind = 'copy'
          AND ca.copy_hash IN (SELECT a.copy_hash FROM brand_ads ba JOIN ads a USING (ad_archive_id)
                               WHERE ba.brand_slug = p_brand)
          AND NOT EXISTS (SELECT 1 FROM ads WHERE ads.ad_archive_id = missing.ad_id)
        UNION ALL
        SELECT an.sha256, missing.ad_id FROM creative_analyses an
        CROSS JOIN LATERAL unnest(an.ad_ids || ARRAY[NULL::text]) AS missing(ad_id)
        WHERE p_kind <> 'copy' AND an.kind = p_kind
          AND an.sha256 IN (SELECT ac.sha256 FROM brand_ads ba JOIN ad_creatives ac USING (ad_archive_id)
                            WHERE ba.brand_slug = p_brand)
          AND (NOT EXISTS (SELECT 1 FROM creatives c WHERE c.sha256 = an.sha256)
               OR (missing.ad_id IS NOT NULL
                   AND NOT EXISTS (SELECT 1 FROM ads WHERE ads.ad_archive_id = missing.ad_id)))
    ) d
    GROUP BY d.item
    ORDER BY d.item
$$;

-- Ads stored after the sensor's cursor, per active brand.
CREATE FUNCTION bp_new_ads_since(p_cursor bigint) RETURNS TABLE (brand_slug text, newest_seq bigint, count bigint)
LANGUAGE sql STABLE AS $$
    SELECT ba.brand_slug, max(ba.stored_seq), count(*)
    FROM brand_ads ba JOIN brands b ON b.slug = ba.brand_slug AND b.archived_at IS NULL
    WHERE ba.stored_seq > p_cursor
    GROUP BY ba.brand_slug ORDER BY ba.brand_slug
$$;

-- What the store holds for one brand: items found and analysed, per kind.
CREATE FUNCTION bp_brand_summary(
    p_brand text, OUT ads bigint, OUT bad_items bigint, OUT videos bigint, OUT images bigint, OUT copies bigint,
    OUT videos_analysed bigint, OUT images_analysed bigint, OUT copies_analysed bigint, OUT copies_skipped bigint,
    OUT personas bigint
) LANGUAGE sql STABLE AS $$
    WITH brand_creatives AS (
        SELECT DISTINCT c.sha256, c.kind FROM brand_ads ba
        JOIN ad_creatives ac ON ac.ad_archive_id = ba.ad_archive_id
        JOIN creatives c ON c.sha256 = ac.sha256 WHERE ba.brand_slug = p_brand
    ), brand_copies AS (
        SELECT DISTINCT a.copy_hash FROM brand_ads ba JOIN ads a USING (ad_archive_id)
        WHERE ba.brand_slug = p_brand AND a.copy_hash IS NOT NULL
    )
    SELECT
      (SELECT count(*) FROM brand_ads WHERE brand_slug = p_brand),
      (SELECT count(*) FROM item_outcomes WHERE brand_slug = p_brand AND asset = 'scraped_ads'),
      (SELECT count(*) FROM brand_creatives WHERE kind = 'video'),
      (SELECT count(*) FROM brand_creatives WHERE kind = 'image'),
      (SELECT count(*) FROM brand_copies),
      (SELECT count(DISTINCT an.sha256) FROM creative_analyses an JOIN brand_creatives bc USING (sha256, kind)
         WHERE an.kind = 'video' AND an.facts_status = 'done'),
      (SELECT count(DISTINCT an.sha256) FROM creative_analyses an JOIN brand_creatives bc USING (sha256, kind)
         WHERE an.kind = 'image' AND an.facts_status = 'done'),
      (SELECT count(DISTINCT ca.copy_hash) FROM copy_analyses ca JOIN brand_copies USING (copy_hash)
         WHERE ca.facts_status = 'done'),
      (SELECT count(DISTINCT ca.copy_hash) FROM copy_analyses ca JOIN brand_copies USING (copy_hash)
         WHERE ca.facts_status = 'skipped'),
      (SELECT count(*) FROM personas WHERE synthesis_id =
         (SELECT max(id) FROM persona_syntheses WHERE brand_slug = p_brand))
$$;

-- A paid source run, recorded before waiting for it (a retried step then resumes it).
CREATE FUNCTION bp_record_source_run(
    p_brand text, p_run_key text, p_source text, p_external_run_id text, p_dataset_id text, p_tag text
) RETURNS void LANGUAGE sql AS $$
    INSERT INTO source_runs (brand_slug, run_key, source, external_run_id, dataset_id, tag)
    VALUES (p_brand, p_run_key, p_source, p_external_run_id, p_dataset_id, p_tag)
    ON CONFLICT (brand_slug, run_key) DO UPDATE SET
        source = EXCLUDED.source, external_run_id = EXCLUDED.external_run_id,
        dataset_id = EXCLUDED.dataset_id, tag = EXCLUDED.tag, status = 'STARTED',
        started_at = now(), finished_at = NULL;
$$;

-- Calls, tokens and cost per brand and model (optionally of one brand, or of some runs).
CREATE FUNCTION bp_model_costs(p_brand text DEFAULT NULL, p_run_ids text[] DEFAULT NULL) RETURNS TABLE (
    brand_slug text, model text, calls bigint, attempts bigint, input_tokens bigint, output_tokens bigint,
    cost_usd double precision
) LANGUAGE sql STABLE AS $$
    SELECT u.brand_slug, u.model, count(*), sum(u.attempts), sum(u.input_tokens), sum(u.output_tokens),
           sum(u.cost_usd)::float8
    FROM model_usage u
    WHERE (p_brand IS NULL OR u.brand_slug = p_brand)
      AND (p_run_ids IS NULL OR u.run_id = ANY (p_run_ids))
    GROUP BY u.brand_slug, u.model ORDER BY u.brand_slug, u.model
$$;

-- 1..p_count: a set as long as asked for, so a client can measure the most rows one answer of the
-- API holds (PostgREST's max-rows cuts it silently) and page by that.
CREATE FUNCTION bp_numbers(p_count integer) RETURNS TABLE (n integer) LANGUAGE sql IMMUTABLE AS $$
    SELECT generate_series(1, p_count)
$$;
