-- An outcome's kind, ad and slot as columns of their own, so checks join on an index instead of
-- parsing item_key with LIKE (which no index serves and which grew quadratically with failures).
ALTER TABLE item_outcomes ADD COLUMN kind text;
ALTER TABLE item_outcomes ADD COLUMN ad_archive_id text;
ALTER TABLE item_outcomes ADD COLUMN slot text;
-- Slots never hold ':' (ad ids may), so the last ':' separates the ad from the slot.
UPDATE item_outcomes SET
    kind = CASE WHEN item_key LIKE 'media:%' THEN 'media' ELSE 'record' END,
    ad_archive_id = CASE WHEN item_key LIKE 'media:%'
                         THEN regexp_replace(item_key, '^media:(.*):[^:]*$', '\1') END,
    slot = CASE WHEN item_key LIKE 'media:%' THEN regexp_replace(item_key, '^media:.*:([^:]*)$', '\1') END;
ALTER TABLE item_outcomes ALTER COLUMN kind SET NOT NULL;
ALTER TABLE item_outcomes ADD CONSTRAINT item_outcomes_kind CHECK (kind IN ('record', 'media'));
ALTER TABLE item_outcomes ADD CONSTRAINT item_outcomes_media_names_slot
    CHECK (kind <> 'media' OR (ad_archive_id IS NOT NULL AND slot IS NOT NULL));
CREATE INDEX item_outcomes_media_ad ON item_outcomes (brand_slug, asset, ad_archive_id) WHERE kind = 'media';
