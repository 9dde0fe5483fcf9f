"""Ads and their history: each batch of a scrape's ads, and closing the scrape.

``bp_upsert_ads`` rewrites an ad's row only when what the source says about it changed (its content
hash) and records every sighting; it says which ads were new to the brand, rewritten or unchanged,
and which started, stopped or kept running since the brand's previous sighting of them.
``bp_sight_ads`` comes first: an ad whose raw item hashes the same as last time is only sighted
again (never parsed, encoded or sent whole); ``bp_remember_items`` keeps the item hashes of the ads
stored in full. ``bp_finish_scrape`` then marks the ads a complete scrape did not see as no longer
running.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from brand_pipeline.domain.ads import AdRecord
from brand_pipeline.store.calls.base import FunctionCalls, Json, JsonText
from brand_pipeline.store.models import AdSighting, ScrapeChanges, SightedAds, StoredAds
from brand_pipeline.store.rows import BATCH_SIZE, ad_json, batches, json_array


class AdCalls(FunctionCalls):
    ads_batch_size: int = BATCH_SIZE
    # Batches in flight at once: some are encoded while the database stores others (on more than
    # one core). They hold different ads (de-duplicated first), so they never touch the same rows;
    # with fewer connections than this they simply queue for one.
    write_concurrency: int = 4

    async def sight_ads(
        self, brand_slug: str, sightings: Sequence[AdSighting], run_id: str | None = None, *, scrape_id: int
    ) -> SightedAds:
        """Sight again the ads whose items are the same as at the brand's previous finished scrape."""
        unique = list({s.ad_archive_id: s for s in sightings}.values())
        result = SightedAds()
        args = {"p_brand": brand_slug, "p_run_id": run_id, "p_scrape_id": scrape_id}
        for batch in batches([s.model_dump() for s in unique], 10 * BATCH_SIZE):
            result.merge(
                SightedAds.model_validate(await self._call_value("bp_sight_ads", args | {"p_ads": Json(batch)}))
            )
        return result

    async def remember_items(self, brand_slug: str, sightings: Sequence[AdSighting]) -> None:
        """The item hashes the brand's ads were just stored from, for the next ``sight_ads``."""
        for batch in batches([s.model_dump() for s in sightings], 10 * BATCH_SIZE):
            await self._call_value("bp_remember_items", {"p_brand": brand_slug, "p_ads": Json(batch)})

    async def upsert_ads(
        self, brand_slug: str, ads: Sequence[AdRecord], run_id: str | None = None, *, scrape_id: int | None = None
    ) -> StoredAds:
        """Store what the source said (only changed ads are rewritten) and this sighting of each."""
        unique = list({ad.ad_archive_id: ad for ad in ads}.values())  # the last one given wins
        slots = asyncio.Semaphore(self.write_concurrency)

        async def store(batch: Sequence[AdRecord]) -> StoredAds:
            async with slots:
                args = {"p_brand": brand_slug, "p_run_id": run_id, "p_scrape_id": scrape_id}
                payload = JsonText(json_array(ad_json(ad) for ad in batch))
                return StoredAds.model_validate(await self._call_value("bp_upsert_ads", args | {"p_ads": payload}))

        try:
            async with asyncio.TaskGroup() as group:
                tasks = [group.create_task(store(batch)) for batch in batches(unique, self.ads_batch_size)]
        except ExceptionGroup as failed:  # the batches' first error, as a sequential loop would raise
            raise failed.exceptions[0] from None
        result = StoredAds()
        for task in tasks:  # in the order given
            result.merge(task.result())
        return result

    async def finish_scrape(self, brand_slug: str, scrape_id: int, *, complete: bool, seen: StoredAds) -> ScrapeChanges:
        """Close the scrape: after a complete one, ads of the brand it did not see stop running."""
        changes = await self._call_value(
            "bp_finish_scrape",
            {
                "p_brand": brand_slug,
                "p_scrape_id": scrape_id,
                "p_complete": complete,
                "p_seen": len(seen.new) + len(seen.updated) + len(seen.unchanged),
                "p_started": len(seen.started),
                "p_stopped": len(seen.stopped),
                "p_still_running": len(seen.still_running),
            },
        )
        previous = await self._call_value("bp_previous_scrape", {"p_brand": brand_slug, "p_scrape_id": scrape_id})
        return ScrapeChanges.model_validate(changes | {"previous_scrape_id": previous})
