"""Personas: the evidence a brand's synthesis reads, and the syntheses with their personas."""

from __future__ import annotations

from typing import Any

from psycopg.types.json import Jsonb

from brand_pipeline.domain.ads import days_running
from brand_pipeline.domain.personas import EvidenceAd, Persona, PersonaSynthesis
from brand_pipeline.store.postgres.base import PostgresRows, json_rows


class PersonaRows(PostgresRows):
    async def brand_evidence(
        self, brand_slug: str, *, video_version: str, image_version: str, copy_version: str
    ) -> list[EvidenceAd]:
        async with self._pool.connection() as conn:
            cursor = await conn.execute(
                """
                SELECT a.ad_archive_id, a.display_format, a.is_active, a.start_date, a.end_date,
                       ba.last_seen_at, ba.running,
                       a.title, a.body, a.cta_text, a.copy_hash,
                       ca.facts AS copy_facts, ca.semantic AS copy_semantic
                FROM brand_ads ba
                JOIN ads a ON a.ad_archive_id = ba.ad_archive_id
                LEFT JOIN copy_analyses ca ON ca.copy_hash = a.copy_hash AND ca.prompt_version = %(copy)s
                WHERE ba.brand_slug = %(brand)s
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
        evidence = [
            EvidenceAd.model_validate(
                row
                | {
                    "days_running": days_running(
                        row["start_date"], row["end_date"], row["last_seen_at"], is_active=row["running"]
                    ),
                    "creatives": by_ad.get(row["ad_archive_id"], []),
                }
            )
            for row in ads
        ]
        return sorted(evidence, key=lambda ad: (-ad.days_running, ad.ad_archive_id))

    async def save_persona_synthesis(self, synthesis: PersonaSynthesis) -> int:
        async with self._pool.connection() as conn, conn.transaction():
            cursor = await conn.execute(
                """
                INSERT INTO persona_syntheses (brand_slug, prompt_version, status, reason, evidence, model,
                    input_tokens, output_tokens, cost_usd, dropped_citations, run_id, inputs_hash)
                VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) RETURNING id
                """,
                [
                    synthesis.brand_slug,
                    synthesis.prompt_version,
                    synthesis.status,
                    synthesis.reason,
                    Jsonb(synthesis.evidence),
                    synthesis.model,
                    synthesis.input_tokens,
                    synthesis.output_tokens,
                    synthesis.cost_usd,
                    synthesis.dropped_citations,
                    synthesis.run_id,
                    synthesis.inputs_hash,
                ],
            )
            synthesis_id = (await cursor.fetchone())["id"]
            if synthesis.personas:
                rows = [
                    p.model_dump(mode="json")
                    | {"synthesis_id": synthesis_id, "brand_slug": synthesis.brand_slug, "run_id": synthesis.run_id}
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
                    [json_rows(rows)],
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
            synthesis
            | {"cost_usd": float(synthesis["cost_usd"]), "personas": [Persona.model_validate(p) for p in personas]}
        )
