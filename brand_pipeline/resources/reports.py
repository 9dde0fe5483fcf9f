"""``ReportsResource``: where brand reports and comparisons are written, where the Dagster UI is
(for links to runs), and the webhook that hears when a competitor launches ads."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
from pydantic import Field, SecretStr

from brand_pipeline.report.alerts import DEFAULT_THRESHOLD
from brand_pipeline.resources.config import SettingsCheck


class ReportsResource(dg.ConfigurableResource, SettingsCheck):
    home: str = Field(description="Pipeline home; reports go to <home>/reports unless reports_dir is set.")
    reports_dir: str | None = Field(default=None, description="Folder of the HTML reports and comparisons.")
    ui_url: str = Field(default="http://127.0.0.1:3000", description="The Dagster UI, for links to runs.")
    alert_webhook_url: str | None = Field(
        default=None, description="Slack-compatible incoming webhook (from BRAND_PIPELINE_ALERT_WEBHOOK_URL)."
    )
    alert_min_new_ads: int = Field(
        default=DEFAULT_THRESHOLD, ge=1, description="Alert when a scrape finds at least this many new ads started."
    )

    def __repr__(self) -> str:  # a webhook URL carries a token
        return f"ReportsResource(reports_dir={self.folder()!s})"

    def folder(self) -> Path:
        self.raise_if_misconfigured()
        return Path(self.reports_dir) if self.reports_dir else Path(self.home) / "reports"

    def run_url(self, run_id: str) -> str:
        return f"{self.ui_url.rstrip('/')}/runs/{run_id}"

    def webhook(self) -> SecretStr | None:
        return SecretStr(self.alert_webhook_url) if self.alert_webhook_url else None
