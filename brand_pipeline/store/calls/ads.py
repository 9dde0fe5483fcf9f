"""Ads and their history: each batch of a scrape's ads, and closing the scrape.

``bp_upsert_ads`` rewrites an ad's row only when what the source says about it changed (its content
hash) and records every sighting; it says which ads were new to the brand, rewritten or unchanged,
and which started, stopped or kept running since the brand's previous sighting of them.
``bp_finish_scrape`` then marks the ads a complete scrape did not see as no longer running.
"""

from __future__ import annotations

from collections.abc import Sequence

from brand_pipeline.domain.ads import AdRecord
from brand_pipeline.store.calls.base import FunctionCalls, Json
from brand_pipeline.store.models import ScrapeChanges, StoredAds
from brand_pipeline.store.rows import BATCH_SIZE, ad_row, batches, dedupe


class AdCalls(FunctionCalls):
    ads_batch_size: int = BATCH_SIZE

    async def upsert_ads(
        self, brand_slug: str, ads: Sequence[AdRecord], run_id: str | None = None, *, scrape_id: int | None = None
    ) -> StoredAds:
        """Store what the source said (only changed ads are rewritten) and this sighting of each."""
        result = StoredAds()
        rows = dedupe((ad_row(ad) for ad in ads), "ad_archive_id")
        for batch in batches(rows, self.ads_batch_size):
            stored = await self._call_value(
                "bp_upsert_ads",
                {"p_brand": brand_slug, "p_run_id": run_id, "p_scrape_id": scrape_id, "p_ads": Json(list(batch))},
            )
            result.merge(StoredAds.model_validate(stored))
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
        return ScrapeChanges.model_validate(changes)
