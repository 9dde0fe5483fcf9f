"""The new-ads alert, sent by the real httpx client to a local Slack-compatible webhook: once past
the threshold, never below it, never raising when the webhook fails, never showing its URL."""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import Iterator

import pytest
from pydantic import SecretStr

from brand_pipeline.report.alerts import AlertOutcome, NewAdsAlert, new_ads_message, send_new_ads_alert
from brand_pipeline_tests.fakes.webhook import FakeWebhook

RUN_URL = "http://127.0.0.1:3000/runs/0f1e2d3c"
REPORT_URL = "https://reports.example/cairnpeak.html"


@pytest.fixture
def webhook() -> Iterator[FakeWebhook]:
    with FakeWebhook() as fake:
        yield fake


def alert(started: int, **fields: object) -> NewAdsAlert:
    return NewAdsAlert(
        brand_slug="cairnpeak",
        brand_name="Cairnpeak Outfitters",
        started=started,
        run_url=RUN_URL,
        report_url=REPORT_URL,
        **fields,
    )


def send(new_ads: NewAdsAlert, url: str | None, timeout_s: float = 2.0) -> AlertOutcome:
    return asyncio.run(send_new_ads_alert(new_ads, SecretStr(url) if url else None, timeout_s=timeout_s))


def test_a_brand_reaching_the_threshold_is_announced_once_with_its_links(webhook: FakeWebhook) -> None:
    outcome = send(alert(started=3), webhook.url)

    assert outcome == AlertOutcome(status="sent", http_status=200)
    [message] = webhook.posts
    assert "Cairnpeak Outfitters" in message["text"] and "3 new ads" in message["text"]
    assert RUN_URL in message["text"] and REPORT_URL in message["text"]
    blocks = str(message["blocks"])
    assert f"<{RUN_URL}|Open the run>" in blocks and f"<{REPORT_URL}|Open the report>" in blocks
    assert "*3 new ads*" in blocks
    assert webhook.requests[0][1]["Content-Type"] == "application/json"


def test_below_the_threshold_nothing_is_posted(webhook: FakeWebhook) -> None:
    outcome = send(alert(started=4, threshold=5), webhook.url)

    assert outcome.status == "skipped_below_threshold"
    assert "4 new ads" in (outcome.reason or "")
    assert webhook.requests == []


def test_without_a_webhook_alerts_are_off() -> None:
    assert send(alert(started=10), None).status == "off"


def _refused_url() -> str:
    with socket.socket() as probe:  # a port nobody listens on once closed
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/services/T0FAKE/B0FAKE/fake-webhook-token-123"


FAULTS = {
    "server error": (lambda fake: fake.fail_with(500, "internal error"), "HTTP 500"),
    "unknown webhook": (lambda fake: fake.fail_with(404, "no_service"), "HTTP 404: no_service"),
    "timeout": (lambda fake: fake.delay(1.0), "did not answer within 0.3 s"),
    "dropped connection": (lambda fake: fake.drop(), "could not reach the webhook"),
}


@pytest.mark.parametrize("fault", list(FAULTS))
def test_a_failing_webhook_is_a_failed_outcome_not_an_exception(webhook: FakeWebhook, fault: str) -> None:
    switch_on, reason = FAULTS[fault]
    switch_on(webhook)

    outcome = send(alert(started=5), webhook.url, timeout_s=0.3)

    assert outcome.status == "failed"
    assert reason in (outcome.reason or "")
    assert webhook.posts == []


def test_a_refused_connection_is_a_failed_outcome() -> None:
    outcome = send(alert(started=5), _refused_url())

    assert outcome.status == "failed" and "ConnectError" in (outcome.reason or "")


def test_a_webhook_url_that_is_not_a_url_is_a_failed_outcome() -> None:
    outcome = send(alert(started=5), "hooks.slack.com/services/T0FAKE/B0FAKE/fake-webhook-token-123")

    assert outcome.status == "failed"
    assert "fake-webhook-token-123" not in outcome.model_dump_json()


@pytest.mark.parametrize("fault", [None, "echoing error", "timeout", "refused"])
def test_the_webhook_url_is_in_no_outcome_and_no_log_line(
    webhook: FakeWebhook, fault: str | None, caplog: pytest.LogCaptureFixture
) -> None:
    url = webhook.url
    if fault == "echoing error":  # a reply quoting the request back must not leak it either
        webhook.fail_with(403, f"invalid_token for {webhook.path}")
    elif fault == "timeout":
        webhook.delay(1.0)
    elif fault == "refused":
        url = _refused_url()
    caplog.set_level(logging.DEBUG)

    outcome = send(alert(started=5), url, timeout_s=0.3)

    assert outcome.status == ("sent" if fault is None else "failed")
    token = "fake-webhook-token-123"
    for text in (outcome.model_dump_json(), repr(outcome), str(outcome), caplog.text):
        assert token not in text and url not in text
    if fault is None:  # httpx did log the request: with the URL redacted
        assert "HTTP Request: POST <webhook>" in caplog.text


def test_brand_names_and_paths_are_escaped_for_slack_and_a_local_report_is_not_a_link() -> None:
    message = new_ads_message(
        NewAdsAlert(brand_slug="a-b", brand_name="A&B <Labs>", started=4, report_url="/reports/a-b.html")
    )

    summary = message["blocks"][1]["text"]["text"]
    assert "*A&amp;B &lt;Labs&gt;*" in summary and "<Labs>" not in summary
    assert message["blocks"][2]["elements"] == [{"type": "mrkdwn", "text": "Open the report: `/reports/a-b.html`"}]
