"""Scraping: which slots and creatives are stored already, the creatives ads show, and per-item
outcomes of a run."""

from __future__ import annotations

from collections.abc import Sequence

from brand_pipeline.store.calls.base import FunctionCalls, Json
from brand_pipeline.store.models import AdCreativeLink, Creative, ItemOutcome
from brand_pipeline.store.rows import BATCH_SIZE, batches, creative_rows, link_rows, outcome_rows


class ScrapeCalls(FunctionCalls):
    async def stored_slots(self, ad_ids: Sequence[str]) -> set[tuple[str, str]]:
        slots: set[tuple[str, str]] = set()
        for chunk in batches(sorted(set(ad_ids)), 10 * BATCH_SIZE):
            rows = await self._call_rows("bp_stored_slots", {"p_ad_ids": list(chunk)}, key=("ad_archive_id", "slot"))
            slots |= {(row["ad_archive_id"], row["slot"]) for row in rows}
        return slots

    async def known_creatives(self, sha256s: Sequence[str]) -> set[str]:
        known: set[str] = set()
        for chunk in batches(sorted(set(sha256s)), 10 * BATCH_SIZE):
            rows = await self._call_rows("bp_known_creatives", {"p_sha256s": list(chunk)}, key=("sha256",))
            known |= {row["sha256"] for row in rows}
        return known

    async def save_creatives(self, creatives: Sequence[Creative], links: Sequence[AdCreativeLink]) -> None:
        """Creatives before the slots that show them, so a link never points at a missing creative;
        the last batch of creatives and the first of links share a call (one, when both are small)."""
        creative_batches = list(batches(creative_rows(creatives))) or [[]]
        link_batches = list(batches(link_rows(links))) or [[]]
        calls = [(batch, []) for batch in creative_batches[:-1]]
        calls += [(creative_batches[-1], link_batches[0])] + [([], batch) for batch in link_batches[1:]]
        for creative_batch, link_batch in calls:
            if creative_batch or link_batch:
                await self._call_value(
                    "bp_save_creatives",
                    {"p_creatives": Json(list(creative_batch)), "p_links": Json(list(link_batch))},
                )

    async def replace_outcomes(self, brand_slug: str, asset: str, run_id: str, outcomes: Sequence[ItemOutcome]) -> None:
        """The run's outcomes replace the previous run's, in one transaction (one call)."""
        await self._call_value(
            "bp_replace_outcomes",
            {"p_brand": brand_slug, "p_asset": asset, "p_run_id": run_id, "p_outcomes": Json(outcome_rows(outcomes))},
        )
