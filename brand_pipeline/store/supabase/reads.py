"""Single-table reads: a brand's item outcomes, and its latest persona synthesis."""

from __future__ import annotations

from typing import Any

from brand_pipeline.domain.personas import Persona, PersonaSynthesis
from brand_pipeline.store.models import ItemOutcome
from brand_pipeline.store.supabase.base import SupabaseRows


class ReadRows(SupabaseRows):
    async def outcomes(self, brand_slug: str, asset: str | None = None) -> list[ItemOutcome]:
        def of_brand(request: Any) -> Any:
            request = request.eq("brand_slug", brand_slug)
            return request.eq("asset", asset) if asset is not None else request

        rows = await self._select("item_outcomes", ("asset", "item_key"), of_brand)
        return [ItemOutcome.model_validate(row) for row in rows]

    async def latest_persona_synthesis(self, brand_slug: str) -> PersonaSynthesis | None:
        request = (
            self._client.table("persona_syntheses")
            .select("*")
            .eq("brand_slug", brand_slug)
            .order("id", desc=True)
            .limit(1)
        )
        rows = (await self._execute(request, "read persona_syntheses")).data
        if not rows:
            return None
        synthesis = rows[0]
        personas = await self._select("personas", ("id",), lambda r: r.eq("synthesis_id", synthesis["id"]))
        return PersonaSynthesis.model_validate(
            synthesis
            | {"cost_usd": float(synthesis["cost_usd"]), "personas": [Persona.model_validate(p) for p in personas]}
        )
