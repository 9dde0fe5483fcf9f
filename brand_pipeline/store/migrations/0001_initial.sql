-- brand_pipeline schema, version 1. Shared by PostgresStore and SupabaseStore.
-- Every conflict target used by an upsert has a unique index behind it.

CREATE TABLE brands (
    slug             text PRIMARY KEY CHECK (slug ~ '^[a-z0-9][a-z0-9-]{0,62}$'),
    name             text NOT NULL,
    facebook_page_id text,
    ad_library_url   text,
    website          text,
    archived_at      timestamptz,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now()
);

-- One row per ad, whichever brand it was scraped for; snapshot keeps the source item.
CREATE TABLE ads (
    ad_archive_id       text PRIMARY KEY,
    page_id             text,
    page_name           text,
    is_active           boolean,
    start_date          timestamptz,
    end_date            timestamptz,
    publisher_platforms text[] NOT NULL DEFAULT '{}',
    collation_id        text,
    collation_count     integer,
    title               text,
    body                text,
    caption             text,
    cta_text            text,
    cta_type            text,
    link_url            text,
    link_description    text,
    display_format      text,
    copy_text           text NOT NULL DEFAULT '',
    copy_hash           text,
    snapshot            jsonb NOT NULL,
    first_seen_at       timestamptz NOT NULL DEFAULT now(),
    last_seen_at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX ads_copy_hash ON ads (copy_hash);

-- Which brand an ad was scraped for. stored_seq only grows: new_ads_sensor's cursor.
CREATE SEQUENCE brand_ads_stored_seq;
CREATE TABLE brand_ads (
    brand_slug    text NOT NULL REFERENCES brands (slug),
    ad_archive_id text NOT NULL REFERENCES ads (ad_archive_id),
    stored_seq    bigint NOT NULL DEFAULT nextval('brand_ads_stored_seq'),
    first_seen_at timestamptz NOT NULL DEFAULT now(),
    last_seen_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (brand_slug, ad_archive_id)
);
CREATE INDEX brand_ads_stored_seq_idx ON brand_ads (stored_seq);
CREATE INDEX brand_ads_ad ON brand_ads (ad_archive_id);

-- Creatives are content-addressed: the same bytes are stored and analysed once.
CREATE TABLE creatives (
    sha256     text PRIMARY KEY CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    kind       text NOT NULL CHECK (kind IN ('image', 'video')),
    mime_type  text NOT NULL,
    size_bytes bigint NOT NULL,
    blob_path  text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);

-- Which creative an ad shows at which slot (e.g. 'videos[0]', 'cards[2].image').
CREATE TABLE ad_creatives (
    ad_archive_id text NOT NULL REFERENCES ads (ad_archive_id),
    slot          text NOT NULL,
    sha256        text NOT NULL REFERENCES creatives (sha256),
    source_url    text,
    stored_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (ad_archive_id, slot)
);
CREATE INDEX ad_creatives_sha256 ON ad_creatives (sha256);

-- One analysis per (creative, kind, prompt version): exact facts plus the model's part.
CREATE TABLE creative_analyses (
    sha256          text NOT NULL REFERENCES creatives (sha256),
    kind            text NOT NULL CHECK (kind IN ('image', 'video')),
    prompt_version  text NOT NULL,
    facts           jsonb,
    facts_status    text NOT NULL,
    facts_error     text,
    semantic        jsonb,
    semantic_status text NOT NULL,
    semantic_reason text,
    raw_reply       text,
    model           text,
    input_tokens    integer NOT NULL DEFAULT 0,
    output_tokens   integer NOT NULL DEFAULT 0,
    cost_usd        numeric(12, 6) NOT NULL DEFAULT 0,
    attempts        integer NOT NULL DEFAULT 0,
    ad_ids          text[] NOT NULL DEFAULT '{}',
    run_id          text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (sha256, kind, prompt_version)
);

-- One analysis per (normalised copy text, prompt version).
CREATE TABLE copy_analyses (
    copy_hash       text NOT NULL,
    prompt_version  text NOT NULL,
    copy_text       text NOT NULL,
    facts           jsonb,
    facts_status    text NOT NULL,
    facts_error     text,
    semantic        jsonb,
    semantic_status text NOT NULL,
    semantic_reason text,
    raw_reply       text,
    model           text,
    input_tokens    integer NOT NULL DEFAULT 0,
    output_tokens   integer NOT NULL DEFAULT 0,
    cost_usd        numeric(12, 6) NOT NULL DEFAULT 0,
    attempts        integer NOT NULL DEFAULT 0,
    ad_ids          text[] NOT NULL DEFAULT '{}',
    run_id          text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (copy_hash, prompt_version)
);

-- Each materialisation of `personas` for a brand: the evidence it saw and what came of it.
CREATE TABLE persona_syntheses (
    id              bigserial PRIMARY KEY,
    brand_slug      text NOT NULL REFERENCES brands (slug),
    prompt_version  text NOT NULL,
    status          text NOT NULL,
    reason          text,
    evidence        jsonb NOT NULL,
    model           text,
    input_tokens    integer NOT NULL DEFAULT 0,
    output_tokens   integer NOT NULL DEFAULT 0,
    cost_usd        numeric(12, 6) NOT NULL DEFAULT 0,
    dropped_citations integer NOT NULL DEFAULT 0,
    run_id          text,
    created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX persona_syntheses_brand ON persona_syntheses (brand_slug, created_at DESC);

CREATE TABLE personas (
    id                    bigserial PRIMARY KEY,
    synthesis_id          bigint NOT NULL REFERENCES persona_syntheses (id),
    brand_slug            text NOT NULL REFERENCES brands (slug),
    name                  text NOT NULL,
    profile               jsonb NOT NULL,
    evidence_ad_ids       text[] NOT NULL DEFAULT '{}',
    evidence_creative_shas text[] NOT NULL DEFAULT '{}',
    evidence_copy_hashes  text[] NOT NULL DEFAULT '{}',
    run_id                text,
    created_at            timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX personas_synthesis ON personas (synthesis_id);

-- Items that produced no normal row: bad records, media that could not be fetched.
-- The latest run of (brand, asset) replaces the previous set.
CREATE TABLE item_outcomes (
    brand_slug text NOT NULL,
    asset      text NOT NULL,
    item_key   text NOT NULL,
    status     text NOT NULL,
    reason     text NOT NULL,
    detail     text,
    run_id     text,
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (brand_slug, asset, item_key)
);
