"""``PostgresStore``: the ``BrandStore`` port over psycopg 3 (async) and a connection pool.

Bulk by default: each write sends one JSON array and lets Postgres expand it with
``jsonb_to_recordset``, so a batch of 500 rows is one round trip. Every batch is de-duplicated on
its conflict key first (last wins): Postgres refuses an upsert that touches a row twice.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from typing import Any

import psycopg
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb
from psycopg_pool import AsyncConnectionPool

from brand_pipeline.sources.records import AdRecord, CreativeKind
from brand_pipeline.store.migrate import apply_migrations
from brand_pipeline.store.models import (
    RETRYABLE_SEMANTIC,
    AdCreativeLink,
    Brand,
    CopyAnalysis,
    CopyToAnalyse,
    Creative,
    CreativeAnalysis,
    CreativeToAnalyse,
    EvidenceAd,
    ItemOutcome,
    NewAds,
    Persona,
    PersonaSynthesis,
    StoredAds,
)

BATCH_SIZE = 500

# Columns every analysis row has besides its key (one table each for creatives and copy).
_ANALYSIS_COLUMNS = {
    "prompt_version": "text", "facts": "jsonb", "facts_status": "text", "facts_error": "text",
    "semantic": "jsonb", "semantic_status": "text", "semantic_reason": "text", "raw_reply": "text",
    "model": "text", "input_tokens": "integer", "output_tokens": "integer", "cost_usd": "numeric",
    "attempts": "integer", "ad_ids": "text[]", "run_id": "text",
}

# DSNs whose schema this process has already brought up to date.
_migrated: set[str] = set()


class StoreError(RuntimeError):
    """The store refused an operation; the message says which and why."""


@asynccontextmanager
async def open_postgres_store(dsn: str, *, max_connections: int = 4) -> AsyncIterator[PostgresStore]:
    """Open a pool on ``dsn``, migrate once per process, yield the store, close the pool."""
    if dsn not in _migrated:
        async with await psycopg.AsyncConnection.connect(dsn) as conn:
            await apply_migrations(conn)
        _migrated.add(dsn)
    pool = AsyncConnectionPool(
        dsn, min_size=1, max_size=max_connections, open=False, kwargs={"row_factory": dict_row}
    )
    await pool.open(wait=True, timeout=30)
    try:
        yield PostgresStore(pool)
    finally:
        await pool.close()


def _batches(rows: Sequence[Any], size: int = BATCH_SIZE) -> Iterable[Sequence[Any]]:
    for start in range(0, len(rows), size):
        yield rows[start : start + size]


def _dedupe(rows: Iterable[dict[str, Any]], *key: str) -> list[dict[str, Any]]:
    latest: dict[tuple[Any, ...], dict[str, Any]] = {}
    for row in rows:
        latest[tuple(row[k] for k in key)] = row
    return list(latest.values())


def _json_rows(rows: Sequence[dict[str, Any]]) -> Jsonb:
    # Rows come from model_dump(mode="json"), so they are plain JSON already.
    return Jsonb(rows)


class PostgresStore:
    def __init__(self, pool: AsyncConnectionPool) -> None:
        self._pool = pool

    async def _fetch(self, query: str, params: Any = None) -> list[dict[str, Any]]:
        async with self._pool.connection() as conn:
            cursor = await conn.execute(query, params)
            return await cursor.fetchall()

    # -- brands -------------------------------------------------------------------------------

    async def upsert_brands(self, brands: Sequence[Brand]) -> None:
        rows = _dedupe((b.model_dump(mode="json", exclude={"archived_at"}) for b in brands), "slug")
        async with self._pool.connection() as conn:
            await conn.execute(
                """
                INSERT INTO brands (slug, name, facebook_page_id, ad_library_url, website)
                SELECT slug, name, facebook_page_id, ad_library_url, website
                FROM jsonb_to_recordset(%s) AS x(slug text, name text, facebook_page_id text,
                                                 ad_library_url text, website text)
                ON CONFLICT (slug) DO UPDATE SET
                    name = EXCLUDED.name,
                    facebook_page_id = COALESCE(EXCLUDED.facebook_page_id, brands.facebook_page_id),
                    ad_library_url = COALESCE(EXCLUDED.ad_library_url, brands.ad_library_url),
                    website = COALESCE(EXCLUDED.website, brands.website),
                    archived_at = NULL,
                    updated_at = now()
                """,
                [_json_rows(rows)],
            )

    async def ensure_brand(self, slug: str) -> Brand:
        """The brand row, creating a minimal one (name = slug) for a partition added in the UI."""
        brand = Brand(slug=slug, name=slug)  # validates the slug
        async with self._pool.connection() as conn:
            await conn.execute(
                "INSERT INTO brands (slug, name) VALUES (%s, %s) ON CONFLICT (slug) DO NOTHING",
                [brand.slug, brand.name],
            )
        stored = await self.get_brand(slug)
        assert stored is not None
        return stored

    async def get_brand(self, slug: str) -> Brand | None:
        rows = await self._fetch("SELECT * FROM brands WHERE slug = %s", [slug])
        return Brand.model_validate(rows[0]) if rows else None

    async def list_brands(self, *, include_archived: bool = False) -> list[Brand]:
        rows = await self._fetch(
            "SELECT * FROM brands WHERE %s OR archived_at IS NULL ORDER BY slug", [include_archived]
        )
        return [Brand.model_validate(row) for row in rows]

    async def archive_brand(self, slug: str) -> bool:
        rows = await self._fetch(
            "UPDATE brands SET archived_at = now(), updated_at = now() "
            "WHERE slug = %s AND archived_at IS NULL RETURNING slug",
            [slug],
        )
        return bool(rows)

    # -- scraping -----------------------------------------------------------------------------

    async def upsert_ads(self, brand_slug: str, ads: Sequence[AdRecord], run_id: str | None = None) -> StoredAds:
        result = StoredAds()
        rows = _dedupe((_ad_row(ad) for ad in ads), "ad_archive_id")
        for batch in _batches(rows):
            async with self._pool.connection() as conn, conn.transaction():
                await conn.execute(
                    """
                    INSERT INTO ads (ad_archive_id, page_id, page_name, is_active, start_date, end_date,
                        publisher_platforms, collation_id, collation_count, title, body, caption,
                        cta_text, cta_type, link_url, link_description, display_format,
                        copy_text, copy_hash, snapshot)
                    SELECT ad_archive_id, page_id, page_name, is_active, start_date, end_date,
                        publisher_platforms, collation_id, collation_count, title, body, caption,
                        cta_text, cta_type, link_url, link_description, display_format,
                        copy_text, copy_hash, snapshot
                    FROM jsonb_to_recordset(%s) AS x(ad_archive_id text, page_id text, page_name text,
                        is_active boolean, start_date timestamptz, end_date timestamptz,
                        publisher_platforms text[], collation_id text, collation_count integer,
                        title text, body text, caption text, cta_text text, cta_type text,
                        link_url text, link_description text, display_format text,
                        copy_text text, copy_hash text, snapshot jsonb)
                    ON CONFLICT (ad_archive_id) DO UPDATE SET
                        page_id = EXCLUDED.page_id, page_name = EXCLUDED.page_name,
                        is_active = EXCLUDED.is_active, start_date = EXCLUDED.start_date,
                        end_date = EXCLUDED.end_date, publisher_platforms = EXCLUDED.publisher_platforms,
                        collation_id = EXCLUDED.collation_id, collation_count = EXCLUDED.collation_count,
                        title = EXCLUDED.title, body = EXCLUDED.body, caption = EXCLUDED.caption,
                        cta_text = EXCLUDED.cta_text, cta_type = EXCLUDED.cta_type,
                        link_url = EXCLUDED.link_url, link_description = EXCLUDED.link_description,
                        display_format = EXCLUDED.display_format, copy_text = EXCLUDED.copy_text,
                        copy_hash = EXCLUDED.copy_hash, snapshot = EXCLUDED.snapshot,
                        last_seen_at = now()
                    """,
                    [_json_rows(batch)],
                )
                cursor = await conn.execute(
                    """
                    INSERT INTO brand_ads (brand_slug, ad_archive_id, last_run_id)
                    SELECT %s, ad_id, %s FROM unnest(%s::text[]) AS ad_id
                    ON CONFLICT (brand_slug, ad_archive_id) DO UPDATE SET
                        last_seen_at = now(), last_run_id = EXCLUDED.last_run_id
                    RETURNING ad_archive_id, (xmax = 0) AS inserted
                    """,
                    [brand_slug, run_id, [row["ad_archive_id"] for row in batch]],
                )
                for row in await cursor.fetchall():
                    (result.new if row["inserted"] else result.updated).append(row["ad_archive_id"])
        return result

    async def stored_slots(self, ad_ids: Sequence[str]) -> set[tuple[str, str]]:
        rows = await self._fetch(
            "SELECT ad_archive_id, slot FROM ad_creatives WHERE ad_archive_id = ANY(%s)", [list(ad_ids)]
        )
        return {(row["ad_archive_id"], row["slot"]) for row in rows}

    async def known_creatives(self, sha256s: Sequence[str]) -> set[str]:
        rows = await self._fetch("SELECT sha256 FROM creatives WHERE sha256 = ANY(%s)", [list(sha256s)])
        return {row["sha256"] for row in rows}

    async def save_creatives(self, creatives: Sequence[Creative], links: Sequence[AdCreativeLink]) -> None:
        creative_rows = _dedupe((c.model_dump(mode="json") for c in creatives), "sha256")
        link_rows = _dedupe((link.model_dump(mode="json") for link in links), "ad_archive_id", "slot")
        async with self._pool.connection() as conn, conn.transaction():
            for batch in _batches(creative_rows):
                await conn.execute(
                    """
                    INSERT INTO creatives (sha256, kind, mime_type, size_bytes, blob_path)
                    SELECT * FROM jsonb_to_recordset(%s) AS x(sha256 text, kind text, mime_type text,
                                                               size_bytes bigint, blob_path text)
                    ON CONFLICT (sha256) DO NOTHING
                    """,
                    [_json_rows(batch)],
                )
            for batch in _batches(link_rows):
                await conn.execute(
                    """
                    INSERT INTO ad_creatives (ad_archive_id, slot, sha256, source_url, run_id)
                    SELECT * FROM jsonb_to_recordset(%s) AS x(ad_archive_id text, slot text,
                                                               sha256 text, source_url text, run_id text)
                    ON CONFLICT (ad_archive_id, slot) DO UPDATE SET
                        sha256 = EXCLUDED.sha256, source_url = EXCLUDED.source_url,
                        run_id = EXCLUDED.run_id, stored_at = now()
                    """,
                    [_json_rows(batch)],
                )

    async def replace_outcomes(
        self, brand_slug: str, asset: str, run_id: str, outcomes: Sequence[ItemOutcome]
    ) -> None:
        rows = _dedupe(
            (o.model_dump(mode="json") | {"brand_slug": brand_slug, "asset": asset, "run_id": run_id} for o in outcomes),
            "item_key",
        )
        async with self._pool.connection() as conn, conn.transaction():
            for batch in _batches(rows):
                await conn.execute(
                    """
                    INSERT INTO item_outcomes (brand_slug, asset, item_key, status, reason, detail, run_id)
                    SELECT brand_slug, asset, item_key, status, reason, detail, run_id
                    FROM jsonb_to_recordset(%s) AS x(brand_slug text, asset text, item_key text,
                                                     status text, reason text, detail text, run_id text)
                    ON CONFLICT (brand_slug, asset, item_key) DO UPDATE SET
                        status = EXCLUDED.status, reason = EXCLUDED.reason, detail = EXCLUDED.detail,
                        run_id = EXCLUDED.run_id, updated_at = now()
                    """,
                    [_json_rows(batch)],
                )
            await conn.execute(
                "DELETE FROM item_outcomes WHERE brand_slug = %s AND asset = %s AND run_id IS DISTINCT FROM %s",
                [brand_slug, asset, run_id],
            )

    async def outcomes(self, brand_slug: str, asset: str | None = None) -> list[ItemOutcome]:
        rows = await self._fetch(
            "SELECT * FROM item_outcomes WHERE brand_slug = %s AND (%s::text IS NULL OR asset = %s) "
            "ORDER BY asset, item_key",
            [brand_slug, asset, asset],
        )
        return [ItemOutcome.model_validate(row) for row in rows]

    # -- analysis -----------------------------------------------------------------------------

    async def creatives_to_analyse(
        self, brand_slug: str, kind: CreativeKind, prompt_version: str, *, retry_semantic: bool
    ) -> list[CreativeToAnalyse]:
        rows = await self._fetch(
            """
            WITH brand_creatives AS (
                SELECT c.sha256, c.kind, c.mime_type, c.size_bytes, c.blob_path,
                       array_agg(DISTINCT ac.ad_archive_id ORDER BY ac.ad_archive_id) AS ad_ids,
                       min(a.copy_text) FILTER (WHERE a.copy_text <> '') AS copy_text
                FROM brand_ads ba
                JOIN ads a ON a.ad_archive_id = ba.ad_archive_id
                JOIN ad_creatives ac ON ac.ad_archive_id = ba.ad_archive_id
                JOIN creatives c ON c.sha256 = ac.sha256
                WHERE ba.brand_slug = %(brand)s AND c.kind = %(kind)s
                GROUP BY c.sha256
            )
            SELECT bc.*, a.facts
            FROM brand_creatives bc
            LEFT JOIN creative_analyses a
              ON a.sha256 = bc.sha256 AND a.kind = bc.kind AND a.prompt_version = %(version)s
            WHERE a.sha256 IS NULL
               OR (%(retry)s AND a.facts_status = 'done' AND a.semantic_status = ANY(%(retryable)s))
            ORDER BY bc.sha256
            """,
            {
                "brand": brand_slug,
                "kind": kind,
                "version": prompt_version,
                "retry": retry_semantic,
                "retryable": list(RETRYABLE_SEMANTIC),
            },
        )
        return [CreativeToAnalyse.model_validate(row) for row in rows]

    async def count_creatives(self, brand_slug: str, kind: CreativeKind) -> int:
        rows = await self._fetch(
            """
            SELECT count(DISTINCT c.sha256) AS n FROM brand_ads ba
            JOIN ad_creatives ac ON ac.ad_archive_id = ba.ad_archive_id
            JOIN creatives c ON c.sha256 = ac.sha256
            WHERE ba.brand_slug = %s AND c.kind = %s
            """,
            [brand_slug, kind],
        )
        return rows[0]["n"]

    async def save_analyses(self, analyses: Sequence[CreativeAnalysis]) -> None:
        rows = _dedupe((_analysis_row(a) for a in analyses), "sha256", "kind", "prompt_version")
        await self._upsert_analyses("creative_analyses", {"sha256": "text", "kind": "text"}, rows)

    async def copies_to_analyse(
        self, brand_slug: str, prompt_version: str, *, retry_semantic: bool
    ) -> list[CopyToAnalyse]:
        rows = await self._fetch(
            """
            WITH brand_copies AS (
                SELECT a.copy_hash, min(a.copy_text) AS copy_text,
                       array_agg(DISTINCT a.ad_archive_id ORDER BY a.ad_archive_id) AS ad_ids
                FROM brand_ads ba JOIN ads a ON a.ad_archive_id = ba.ad_archive_id
                WHERE ba.brand_slug = %(brand)s AND a.copy_hash IS NOT NULL
                GROUP BY a.copy_hash
            )
            SELECT bc.*, ca.facts
            FROM brand_copies bc
            LEFT JOIN copy_analyses ca ON ca.copy_hash = bc.copy_hash AND ca.prompt_version = %(version)s
            WHERE ca.copy_hash IS NULL
               OR (%(retry)s AND ca.facts_status = 'done' AND ca.semantic_status = ANY(%(retryable)s))
            ORDER BY bc.copy_hash
            """,
            {
                "brand": brand_slug,
                "version": prompt_version,
                "retry": retry_semantic,
                "retryable": list(RETRYABLE_SEMANTIC),
            },
        )
        return [CopyToAnalyse.model_validate(row) for row in rows]

    async def count_copies(self, brand_slug: str) -> int:
        rows = await self._fetch(
            """
            SELECT count(DISTINCT a.copy_hash) AS n
            FROM brand_ads ba JOIN ads a ON a.ad_archive_id = ba.ad_archive_id
            WHERE ba.brand_slug = %s AND a.copy_hash IS NOT NULL
            """,
            [brand_slug],
        )
        return rows[0]["n"]

    async def save_copy_analyses(self, analyses: Sequence[CopyAnalysis]) -> None:
        rows = _dedupe((_analysis_row(a) for a in analyses), "copy_hash", "prompt_version")
        await self._upsert_analyses("copy_analyses", {"copy_hash": "text"}, rows, extra={"copy_text": "text"})

    async def _upsert_analyses(
        self, table: str, key: dict[str, str], rows: list[dict[str, Any]], *, extra: dict[str, str] | None = None
    ) -> None:
        """Creative and copy analyses share every column but their key (and the copy's text)."""
        typed = key | (extra or {}) | _ANALYSIS_COLUMNS
        columns = ", ".join(typed)
        query = f"""
            INSERT INTO {table} ({columns})
            SELECT {columns}
            FROM jsonb_to_recordset(%s) AS x({", ".join(f"{name} {kind}" for name, kind in typed.items())})
            ON CONFLICT ({", ".join(key)}, prompt_version) DO UPDATE SET
                facts = EXCLUDED.facts, facts_status = EXCLUDED.facts_status,
                facts_error = EXCLUDED.facts_error, semantic = EXCLUDED.semantic,
                semantic_status = EXCLUDED.semantic_status, semantic_reason = EXCLUDED.semantic_reason,
                raw_reply = EXCLUDED.raw_reply, model = EXCLUDED.model,
                input_tokens = {table}.input_tokens + EXCLUDED.input_tokens,
                output_tokens = {table}.output_tokens + EXCLUDED.output_tokens,
                cost_usd = {table}.cost_usd + EXCLUDED.cost_usd,
                attempts = {table}.attempts + EXCLUDED.attempts,
                ad_ids = ARRAY(SELECT DISTINCT unnest({table}.ad_ids || EXCLUDED.ad_ids) ORDER BY 1),
                run_id = EXCLUDED.run_id, updated_at = now()
        """
        async with self._pool.connection() as conn, conn.transaction():
            for batch in _batches(rows):
                await conn.execute(query, [_json_rows(batch)])

    # -- personas -----------------------------------------------------------------------------

    async def brand_evidence(
        self, brand_slug: str, *, video_version: str, image_version: str, copy_version: str
    ) -> list[EvidenceAd]:
        async with self._pool.connection() as conn:
            cursor = await conn.execute(
                """
                SELECT a.ad_archive_id, a.display_format, a.is_active, a.start_date, a.end_date,
                       GREATEST(0, EXTRACT(EPOCH FROM (COALESCE(a.end_date, now()) - a.start_date)) / 86400.0)
                           AS days_running,
                       a.title, a.body, a.cta_text, a.copy_hash,
                       ca.facts AS copy_facts, ca.semantic AS copy_semantic
                FROM brand_ads ba
                JOIN ads a ON a.ad_archive_id = ba.ad_archive_id
                LEFT JOIN copy_analyses ca ON ca.copy_hash = a.copy_hash AND ca.prompt_version = %(copy)s
                WHERE ba.brand_slug = %(brand)s
                ORDER BY days_running DESC NULLS LAST, a.ad_archive_id
                """,
                {"brand": brand_slug, "copy": copy_version},
            )
            ads = await cursor.fetchall()
            cursor = await conn.execute(
                """
                SELECT ac.ad_archive_id, ac.slot, c.sha256, c.kind, an.facts, an.semantic
                FROM brand_ads ba
                JOIN ad_creatives ac ON ac.ad_archive_id = ba.ad_archive_id
                JOIN creatives c ON c.sha256 = ac.sha256
                LEFT JOIN creative_analyses an ON an.sha256 = c.sha256 AND an.kind = c.kind
                     AND an.prompt_version = CASE c.kind WHEN 'video' THEN %(video)s ELSE %(image)s END
                WHERE ba.brand_slug = %(brand)s
                ORDER BY ac.ad_archive_id, ac.slot
                """,
                {"brand": brand_slug, "video": video_version, "image": image_version},
            )
            creatives = await cursor.fetchall()
        by_ad: dict[str, list[dict[str, Any]]] = {}
        for row in creatives:
            by_ad.setdefault(row.pop("ad_archive_id"), []).append(row)
        return [
            EvidenceAd.model_validate(
                row | {"days_running": float(row["days_running"] or 0), "creatives": by_ad.get(row["ad_archive_id"], [])}
            )
            for row in ads
        ]

    async def save_persona_synthesis(self, synthesis: PersonaSynthesis) -> int:
        async with self._pool.connection() as conn, conn.transaction():
            cursor = await conn.execute(
                """
                INSERT INTO persona_syntheses (brand_slug, prompt_version, status, reason, evidence, model,
                    input_tokens, output_tokens, cost_usd, dropped_citations, run_id)
                VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) RETURNING id
                """,
                [
                    synthesis.brand_slug, synthesis.prompt_version, synthesis.status, synthesis.reason,
                    Jsonb(synthesis.evidence), synthesis.model, synthesis.input_tokens,
                    synthesis.output_tokens, synthesis.cost_usd, synthesis.dropped_citations, synthesis.run_id,
                ],
            )
            synthesis_id = (await cursor.fetchone())["id"]
            if synthesis.personas:
                rows = [
                    p.model_dump(mode="json") | {"synthesis_id": synthesis_id, "brand_slug": synthesis.brand_slug,
                                      "run_id": synthesis.run_id}
                    for p in synthesis.personas
                ]
                await conn.execute(
                    """
                    INSERT INTO personas (synthesis_id, brand_slug, name, profile, evidence_ad_ids,
                        evidence_creative_shas, evidence_copy_hashes, run_id)
                    SELECT synthesis_id, brand_slug, name, profile, evidence_ad_ids,
                           evidence_creative_shas, evidence_copy_hashes, run_id
                    FROM jsonb_to_recordset(%s) AS x(synthesis_id bigint, brand_slug text, name text,
                        profile jsonb, evidence_ad_ids text[], evidence_creative_shas text[],
                        evidence_copy_hashes text[], run_id text)
                    """,
                    [_json_rows(rows)],
                )
        return synthesis_id

    async def latest_persona_synthesis(self, brand_slug: str) -> PersonaSynthesis | None:
        rows = await self._fetch(
            "SELECT * FROM persona_syntheses WHERE brand_slug = %s ORDER BY id DESC LIMIT 1", [brand_slug]
        )
        if not rows:
            return None
        synthesis = rows[0]
        personas = await self._fetch("SELECT * FROM personas WHERE synthesis_id = %s ORDER BY id", [synthesis["id"]])
        return PersonaSynthesis.model_validate(
            synthesis | {"cost_usd": float(synthesis["cost_usd"]), "personas": [Persona.model_validate(p) for p in personas]}
        )

    # -- lineage and checks ---------------------------------------------------------------------

    async def persona_lineage(self, persona_id: int) -> dict[str, Any] | None:
        """The persona, the ads it cites, their copy and creatives with every analysis, and the runs."""
        personas = await self._fetch(
            """
            SELECT p.id, p.name, p.brand_slug, p.evidence_ad_ids, p.run_id, p.created_at,
                   s.prompt_version, s.model, s.status
            FROM personas p JOIN persona_syntheses s ON s.id = p.synthesis_id WHERE p.id = %s
            """,
            [persona_id],
        )
        if not personas:
            return None
        persona = personas[0]
        ads = await self._lineage_ads(persona["brand_slug"], persona.pop("evidence_ad_ids"))
        return {"persona": persona, "ads": ads}

    async def creative_lineage(self, sha256_prefix: str) -> dict[str, Any] | None:
        """The creative, its analyses, the ads (and brands) that show it, and personas citing it."""
        creatives = await self._fetch(
            "SELECT * FROM creatives WHERE sha256 LIKE %s ORDER BY sha256 LIMIT 2", [sha256_prefix.lower() + "%"]
        )
        if len(creatives) != 1:
            if creatives:
                raise StoreError(f"{sha256_prefix!r} matches more than one creative; give more characters")
            return None
        creative = creatives[0]
        analyses = await self._analyses("creative_analyses", "sha256", [creative["sha256"]])
        ads = await self._fetch(
            """
            SELECT ac.ad_archive_id, ac.slot, ac.run_id AS stored_in_run,
                   array_agg(ba.brand_slug ORDER BY ba.brand_slug) AS brands
            FROM ad_creatives ac JOIN brand_ads ba ON ba.ad_archive_id = ac.ad_archive_id
            WHERE ac.sha256 = %s GROUP BY ac.ad_archive_id, ac.slot, ac.run_id ORDER BY ac.ad_archive_id, ac.slot
            """,
            [creative["sha256"]],
        )
        personas = await self._fetch(
            "SELECT id, name, brand_slug, run_id FROM personas WHERE %s = ANY(evidence_creative_shas) ORDER BY id",
            [creative["sha256"]],
        )
        return {"creative": creative, "analyses": analyses.get(creative["sha256"], []), "ads": ads,
                "personas": personas}

    async def _lineage_ads(self, brand_slug: str, ad_ids: list[str]) -> list[dict[str, Any]]:
        ads = await self._fetch(
            """
            SELECT a.ad_archive_id, a.display_format, a.start_date, a.end_date, a.copy_hash,
                   ba.last_run_id AS scraped_in_run
            FROM ads a JOIN brand_ads ba ON ba.ad_archive_id = a.ad_archive_id AND ba.brand_slug = %s
            WHERE a.ad_archive_id = ANY(%s) ORDER BY a.ad_archive_id
            """,
            [brand_slug, ad_ids],
        )
        links = await self._fetch(
            """
            SELECT ac.ad_archive_id, ac.slot, ac.sha256, ac.run_id AS stored_in_run, c.kind
            FROM ad_creatives ac JOIN creatives c ON c.sha256 = ac.sha256
            WHERE ac.ad_archive_id = ANY(%s) ORDER BY ac.ad_archive_id, ac.slot
            """,
            [ad_ids],
        )
        creative_analyses = await self._analyses("creative_analyses", "sha256", [link["sha256"] for link in links])
        copy_analyses = await self._analyses("copy_analyses", "copy_hash", [ad["copy_hash"] for ad in ads])
        for ad in ads:
            ad["copy_analyses"] = copy_analyses.get(ad["copy_hash"], [])
            ad["creatives"] = [
                {k: v for k, v in link.items() if k != "ad_archive_id"} | {"analyses": creative_analyses.get(link["sha256"], [])}
                for link in links if link["ad_archive_id"] == ad["ad_archive_id"]
            ]
        return ads

    async def _analyses(self, table: str, key: str, values: list[str]) -> dict[str, list[dict[str, Any]]]:
        rows = await self._fetch(
            f"""
            SELECT {key} AS item, prompt_version, model, facts_status, semantic_status, semantic_reason, run_id, updated_at
            FROM {table} WHERE {key} = ANY(%s) ORDER BY updated_at
            """,
            [values],
        )
        grouped: dict[str, list[dict[str, Any]]] = {}
        for row in rows:
            grouped.setdefault(row.pop("item"), []).append(row)
        return grouped

    async def brand_creatives(self, brand_slug: str) -> list[Creative]:
        rows = await self._fetch(
            """
            SELECT DISTINCT c.sha256, c.kind, c.mime_type, c.size_bytes, c.blob_path
            FROM brand_ads ba JOIN ad_creatives ac ON ac.ad_archive_id = ba.ad_archive_id
            JOIN creatives c ON c.sha256 = ac.sha256 WHERE ba.brand_slug = %s ORDER BY c.sha256
            """,
            [brand_slug],
        )
        return [Creative.model_validate(row) for row in rows]

    async def ads_missing_creatives(self, brand_slug: str) -> list[str]:
        """Ads whose snapshot shows media but that have neither a stored creative nor a recorded
        reason (a media outcome) for lacking one."""
        rows = await self._fetch(
            """
            SELECT a.ad_archive_id FROM brand_ads ba JOIN ads a ON a.ad_archive_id = ba.ad_archive_id
            WHERE ba.brand_slug = %(brand)s
              AND EXISTS (
                  SELECT 1 FROM unnest(ARRAY['images', 'videos', 'cards', 'extra_images', 'extra_videos']) AS k
                  WHERE jsonb_typeof(a.snapshot -> k) = 'array' AND jsonb_array_length(a.snapshot -> k) > 0)
              AND NOT EXISTS (SELECT 1 FROM ad_creatives ac WHERE ac.ad_archive_id = a.ad_archive_id)
              AND NOT EXISTS (
                  SELECT 1 FROM item_outcomes o WHERE o.brand_slug = %(brand)s AND o.asset = 'scraped_ads'
                    AND o.item_key LIKE 'media:' || a.ad_archive_id || ':%%')
            ORDER BY a.ad_archive_id
            """,
            {"brand": brand_slug},
        )
        return [row["ad_archive_id"] for row in rows]

    async def dangling_analyses(self, brand_slug: str, kind: str) -> list[dict[str, Any]]:
        """Analysis rows of this brand's items that name a creative or an ad that does not exist."""
        if kind == "copy":
            query = """
                SELECT ca.copy_hash AS item, missing.ad_id FROM copy_analyses ca
                CROSS JOIN LATERAL unnest(ca.ad_ids) AS missing(ad_id)
                WHERE ca.copy_hash IN (SELECT a.copy_hash FROM brand_ads ba JOIN ads a USING (ad_archive_id)
                                       WHERE ba.brand_slug = %(brand)s)
                  AND NOT EXISTS (SELECT 1 FROM ads WHERE ads.ad_archive_id = missing.ad_id)
            """
        else:
            query = """
                SELECT an.sha256 AS item, missing.ad_id FROM creative_analyses an
                CROSS JOIN LATERAL unnest(an.ad_ids || ARRAY[NULL::text]) AS missing(ad_id)
                WHERE an.kind = %(kind)s
                  AND an.sha256 IN (SELECT ac.sha256 FROM brand_ads ba JOIN ad_creatives ac USING (ad_archive_id)
                                    WHERE ba.brand_slug = %(brand)s)
                  AND (NOT EXISTS (SELECT 1 FROM creatives c WHERE c.sha256 = an.sha256)
                       OR (missing.ad_id IS NOT NULL
                           AND NOT EXISTS (SELECT 1 FROM ads WHERE ads.ad_archive_id = missing.ad_id)))
            """
        return await self._fetch(query, {"brand": brand_slug, "kind": kind})

    # -- sensors and reporting ----------------------------------------------------------------

    async def new_ads_since(self, cursor: int) -> list[NewAds]:
        rows = await self._fetch(
            """
            SELECT ba.brand_slug, max(ba.stored_seq) AS newest_seq, count(*) AS count
            FROM brand_ads ba JOIN brands b ON b.slug = ba.brand_slug AND b.archived_at IS NULL
            WHERE ba.stored_seq > %s
            GROUP BY ba.brand_slug ORDER BY ba.brand_slug
            """,
            [cursor],
        )
        return [NewAds.model_validate(row) for row in rows]

    async def brand_summary(self, brand_slug: str) -> dict[str, int]:
        rows = await self._fetch(
            """
            WITH brand_creatives AS (
                SELECT DISTINCT c.sha256, c.kind FROM brand_ads ba
                JOIN ad_creatives ac ON ac.ad_archive_id = ba.ad_archive_id
                JOIN creatives c ON c.sha256 = ac.sha256 WHERE ba.brand_slug = %(b)s
            ), brand_copies AS (
                SELECT DISTINCT a.copy_hash FROM brand_ads ba JOIN ads a USING (ad_archive_id)
                WHERE ba.brand_slug = %(b)s AND a.copy_hash IS NOT NULL
            )
            SELECT
              (SELECT count(*) FROM brand_ads WHERE brand_slug = %(b)s) AS ads,
              (SELECT count(*) FROM item_outcomes WHERE brand_slug = %(b)s AND asset = 'scraped_ads') AS bad_items,
              (SELECT count(*) FROM brand_creatives WHERE kind = 'video') AS videos,
              (SELECT count(*) FROM brand_creatives WHERE kind = 'image') AS images,
              (SELECT count(*) FROM brand_copies) AS copies,
              (SELECT count(DISTINCT an.sha256) FROM creative_analyses an JOIN brand_creatives bc USING (sha256, kind)
                 WHERE an.kind = 'video' AND an.facts_status = 'done') AS videos_analysed,
              (SELECT count(DISTINCT an.sha256) FROM creative_analyses an JOIN brand_creatives bc USING (sha256, kind)
                 WHERE an.kind = 'image' AND an.facts_status = 'done') AS images_analysed,
              (SELECT count(DISTINCT ca.copy_hash) FROM copy_analyses ca JOIN brand_copies USING (copy_hash)
                 WHERE ca.facts_status = 'done') AS copies_analysed,
              (SELECT count(DISTINCT ca.copy_hash) FROM copy_analyses ca JOIN brand_copies USING (copy_hash)
                 WHERE ca.facts_status = 'skipped') AS copies_skipped,
              (SELECT count(*) FROM personas WHERE synthesis_id =
                 (SELECT max(id) FROM persona_syntheses WHERE brand_slug = %(b)s)) AS personas
            """,
            {"b": brand_slug},
        )
        return {key: int(value) for key, value in rows[0].items()}


def _ad_row(ad: AdRecord) -> dict[str, Any]:
    row = ad.model_dump(mode="json", exclude={"media"})
    row["copy_text"] = ad.copy_text
    row["copy_hash"] = ad.copy_hash
    return row


def _analysis_row(analysis: CreativeAnalysis | CopyAnalysis) -> dict[str, Any]:
    row = analysis.model_dump(mode="json", exclude={"semantic"})
    semantic = analysis.semantic
    row |= {
        "semantic": semantic.result,
        "semantic_status": semantic.status,
        "semantic_reason": semantic.reason,
        "raw_reply": semantic.raw_reply,
        "model": semantic.model,
        "input_tokens": semantic.input_tokens,
        "output_tokens": semantic.output_tokens,
        "cost_usd": semantic.cost_usd,
        "attempts": semantic.attempts,
    }
    return row
