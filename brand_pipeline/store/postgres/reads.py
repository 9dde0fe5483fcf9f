"""Single-table reads: a brand's item outcomes, and its latest persona synthesis."""

from __future__ import annotations

from brand_pipeline.domain.personas import Persona, PersonaSynthesis
from brand_pipeline.store.models import ItemOutcome
from brand_pipeline.store.postgres.base import PostgresRows


class ReadRows(PostgresRows):
    async def outcomes(self, brand_slug: str, asset: str | None = None) -> list[ItemOutcome]:
        rows = await self._fetch(
            "SELECT * FROM item_outcomes WHERE brand_slug = %s AND (%s::text IS NULL OR asset = %s) "
            "ORDER BY asset, item_key",
            [brand_slug, asset, asset],
        )
        return [ItemOutcome.model_validate(row) for row in rows]

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
