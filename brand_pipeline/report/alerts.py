"""The new-ads alert: when a scrape finds a brand launching ads, tell a Slack-compatible webhook.

An incoming webhook is a bare URL that takes one JSON POST (``{"text": …, "blocks": […]}``), so
httpx does it. dagster-slack does not fit: it wraps slack_sdk's ``chat.postMessage``, which needs
a bot token and a channel, not a webhook URL.

Sending never raises on the webhook's account (timeout, refused connection, 4xx/5xx): the outcome
says what happened and the caller records it, to try again after the next scrape. The webhook URL
carries a token, so it is a ``SecretStr``: it appears in no outcome, exception or log line (httpx
logs each request's URL at INFO; that line is redacted while we send).
"""

from __future__ import annotations

import logging
from typing import Literal

import httpx
from pydantic import BaseModel, Field, SecretStr

from brand_pipeline.redaction import redacted_logs

DEFAULT_THRESHOLD = 3
TIMEOUT_S = 10.0
REPLY_SHOWN = 200  # characters of an error reply kept in the outcome

AlertStatus = Literal["sent", "skipped_below_threshold", "off", "failed"]


class NewAdsAlert(BaseModel):
    """What one scrape found for one brand, and where to look at it."""

    brand_slug: str
    brand_name: str
    started: int = Field(ge=0, description="ads that started (were new) in this scrape")
    threshold: int = Field(default=DEFAULT_THRESHOLD, ge=1, description="alert from this many new ads on")
    run_url: str | None = None
    report_url: str | None = None  # a URL, or the path of the report file


class AlertOutcome(BaseModel):
    status: AlertStatus
    reason: str | None = None
    http_status: int | None = None


async def send_new_ads_alert(
    alert: NewAdsAlert, webhook_url: SecretStr | None, *, timeout_s: float = TIMEOUT_S
) -> AlertOutcome:
    """Post the alert once if ``alert.started`` reaches the threshold; never raises on a webhook failure."""
    if webhook_url is None or not webhook_url.get_secret_value().strip():
        return AlertOutcome(status="off", reason="no webhook URL is configured")
    if alert.started < alert.threshold:
        reason = f"{alert.started} new ads, below the threshold of {alert.threshold}"
        return AlertOutcome(status="skipped_below_threshold", reason=reason)
    secret = webhook_url.get_secret_value().strip()
    redaction = _WebhookRedaction(secret)
    try:
        with redacted_logs(logging.getLogger("httpx"), redaction.redact):
            async with httpx.AsyncClient(timeout=timeout_s, follow_redirects=False) as client:
                response = await client.post(secret, json=new_ads_message(alert))
    except httpx.TimeoutException:
        return AlertOutcome(status="failed", reason=f"the webhook did not answer within {timeout_s:g} s")
    except httpx.InvalidURL:
        return AlertOutcome(status="failed", reason="the webhook URL is not a valid http(s) URL")
    except httpx.HTTPError as error:  # refused, reset, DNS, TLS, unsupported scheme …
        return AlertOutcome(status="failed", reason=f"could not reach the webhook ({type(error).__name__})")
    if response.status_code != 200:
        reply = redaction.redact(response.text.strip())[:REPLY_SHOWN]
        return AlertOutcome(
            status="failed",
            reason=f"the webhook answered HTTP {response.status_code}" + (f": {reply}" if reply else ""),
            http_status=response.status_code,
        )
    return AlertOutcome(status="sent", http_status=200)


def new_ads_message(alert: NewAdsAlert) -> dict:
    """The Slack message: plain ``text`` for notifications, ``blocks`` for the channel."""
    ads = f"{alert.started} new ad{'s' if alert.started != 1 else ''}"
    links = [_link(alert.run_url, "Open the run"), _link(alert.report_url, "Open the report")]
    text = f"{alert.brand_name}: {ads} started in the latest scrape (alert from {alert.threshold})."
    for label, target in (("Run", alert.run_url), ("Report", alert.report_url)):
        text += f" {label}: {target}" if target else ""
    summary = (
        f"*{_mrkdwn(alert.brand_name)}* (`{_mrkdwn(alert.brand_slug)}`) started *{ads}* in the latest scrape "
        f"(alerts from {alert.threshold})."
    )
    blocks: list[dict] = [
        {"type": "header", "text": {"type": "plain_text", "text": f"{alert.brand_name}: {ads}"[:150]}},
        {"type": "section", "text": {"type": "mrkdwn", "text": summary}},
    ]
    if any(links):
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": link} for link in links if link]})
    return {"text": text, "blocks": blocks}


def _link(target: str | None, label: str) -> str | None:
    if not target:
        return None
    if target.startswith(("https://", "http://")):
        return f"<{target.replace('|', '%7C').replace('>', '%3E')}|{label}>"
    return f"{label}: `{_mrkdwn(target)}`"  # a local path: shown, not linked


def _mrkdwn(text: str) -> str:
    """Slack's three control characters, escaped as its docs ask."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


class _WebhookRedaction:
    """Replaces the webhook URL (and its path, which holds the token) in text."""

    def __init__(self, secret: str) -> None:
        self.secrets = [secret]
        try:
            path = httpx.URL(secret).path
        except httpx.InvalidURL:
            path = ""
        if len(path) > 1:
            self.secrets.append(path)

    def redact(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, "<webhook>")
        return text
