"""Lineage: persona → ads → creatives and copy → analyses → runs, and a creative's uses.

Each is one function answering one JSON document, read in one statement (one snapshot)."""

from __future__ import annotations

from brand_pipeline.store.calls.base import FunctionCalls
from brand_pipeline.store.models import CreativeLineage, PersonaLineage
from brand_pipeline.store.protocol import StoreError


class LineageCalls(FunctionCalls):
    async def persona_lineage(self, persona_id: int) -> PersonaLineage | None:
        """The persona, the ads it cites, their copy and creatives with every analysis, and the runs."""
        document = await self._call_value("bp_persona_lineage", {"p_persona_id": persona_id})
        return PersonaLineage.model_validate(document) if document else None

    async def creative_lineage(self, sha256_prefix: str) -> CreativeLineage | None:
        """The creative, its analyses, the ads (and brands) that show it, and personas citing it."""
        document = await self._call_value("bp_creative_lineage", {"p_sha256_prefix": sha256_prefix})
        if document["matches"] > 1:
            raise StoreError(f"{sha256_prefix!r} matches more than one creative; give more characters")
        return CreativeLineage.model_validate(document) if document["matches"] == 1 else None
