"""What a marketer looks at: each brand's ads with their sighting history, copy facts and
creatives for its report, and the new-ads alerts owed to a brand (kept until delivered)."""

from __future__ import annotations

from datetime import datetime

from brand_pipeline.store.calls.base import FunctionCalls
from brand_pipeline.store.models import PendingAlert, ReportAdRow
from brand_pipeline.store.protocol import RowMissing


class ReportCalls(FunctionCalls):
    async def report_ads(self, brand_slug: str, copy_version: str) -> list[ReportAdRow]:
        rows = await self._call_rows(
            "bp_report_ads", {"p_brand": brand_slug, "p_copy_version": copy_version}, key=("ad_archive_id",)
        )
        return [ReportAdRow.model_validate(row) for row in rows]

    async def latest_scrape_at(self, brand_slug: str) -> datetime | None:
        value = await self._call_value("bp_latest_scrape_at", {"p_brand": brand_slug})
        return datetime.fromisoformat(value) if isinstance(value, str) else value

    async def record_alert(self, brand_slug: str, scrape_id: int, ads_started: int, run_url: str | None) -> None:
        await self._call_value(
            "bp_record_alert",
            {"p_brand": brand_slug, "p_scrape_id": scrape_id, "p_ads_started": ads_started, "p_run_url": run_url},
        )

    async def pending_alerts(self, brand_slug: str) -> list[PendingAlert]:
        rows = await self._call_rows("bp_pending_alerts", {"p_brand": brand_slug}, key=("id",))
        return [PendingAlert.model_validate(row) for row in rows]

    async def finish_alert(self, alert_id: int, *, sent: bool, reason: str | None) -> None:
        if not await self._call_value("bp_finish_alert", {"p_id": alert_id, "p_sent": sent, "p_reason": reason}):
            raise RowMissing(f"no alert {alert_id} to finish")
